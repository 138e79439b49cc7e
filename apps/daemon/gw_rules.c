/*
 * The gateway's own NFQUEUE rules (iptables, raw table, PREROUTING: before routing and
 * connection tracking, as docs/NAT.md explains). For each inside interface: everything
 * arriving on it that is not addressed to that interface itself; for each outside
 * interface and pool entry: everything addressed to the pool. Each rule carries the
 * comment "spinatd-qN" (N: the queue), by which a later start finds and deletes the rules a
 * crashed run left behind, and a clean stop deletes its own. With strategy lease also, per
 * inside interface, PCP (UDP 5351) addressed to the gateway there (lease_pcp_address when
 * set, else any of its own addresses on that interface): the lease protocol (001).
 */
#include "gw_rules.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RULE_ARGS 40

/* Run argv (argv[0] found in PATH); its output to *out when out is not NULL. 0 on exit 0. */
static int run(char *const *argv, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, st, r;
	size_t len = 0;
	pid_t pid;

	if (out != NULL && pipe(pfd) != 0)
		return SP_EIO;
	posix_spawn_file_actions_init(&fa);
	if (out != NULL) {
		posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
		posix_spawn_file_actions_addclose(&fa, pfd[0]);
	}
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out != NULL)
		close(pfd[1]);
	if (r != 0) {
		if (out != NULL)
			close(pfd[0]);
		return r == ENOENT ? SP_ENOTFOUND : SP_EIO;
	}
	if (out != NULL) {
		ssize_t n;

		while ((n = read(pfd[0], out + len, outlen - 1 - len)) > 0 && len + 1 < outlen)
			len += (size_t)n;
		out[len] = '\0';
		close(pfd[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return SP_EIO;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : SP_EIO;
}

static void tag_of(const struct gw_rules *gr, char *buf, size_t len)
{
	snprintf(buf, len, "spinatd-q%u", gr->queue);
}

/* Delete every rule carrying our comment, as `iptables -S` prints them. */
static unsigned remove_tagged(struct gw_rules *gr)
{
	char *argv[] = { (char *)gr->iptables, "-w", "-t", "raw", "-S", "PREROUTING", NULL };
	char tag[32], *text, *line, *save = NULL;
	unsigned n = 0;

	if ((text = malloc(GW_RULES_LIST_MAX)) == NULL)
		return 0;
	tag_of(gr, tag, sizeof(tag));
	if (run(argv, text, GW_RULES_LIST_MAX) != 0) {
		free(text);
		return 0;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *args[RULE_ARGS + 6], *w, *wsave = NULL;
		int k = 0;
		bool ours = false;

		if (strncmp(line, "-A PREROUTING ", 14) != 0)
			continue;
		args[k++] = (char *)gr->iptables;
		args[k++] = "-w";
		args[k++] = "-t";
		args[k++] = "raw";
		args[k++] = "-D";
		for (w = strtok_r(line + 3, " ", &wsave); w != NULL && k < RULE_ARGS + 5;
		     w = strtok_r(NULL, " ", &wsave)) {
			ours = ours || strcmp(w, tag) == 0;
			args[k++] = w;
		}
		args[k] = NULL;
		if (ours && w == NULL && run(args, NULL, 0) == 0)
			n++;
	}
	free(text);
	return n;
}

static int add_rule(struct gw_rules *gr, const char *in, const char *dst, bool not_local)
{
	char tag[32], q[12];
	char *argv[RULE_ARGS];
	int k = 0, r;

	tag_of(gr, tag, sizeof(tag));
	snprintf(q, sizeof(q), "%u", gr->queue);
	argv[k++] = (char *)gr->iptables;
	argv[k++] = "-w";
	argv[k++] = "-t";
	argv[k++] = "raw";
	argv[k++] = "-A";
	argv[k++] = "PREROUTING";
	argv[k++] = "-i";
	argv[k++] = (char *)in;
	if (dst != NULL) {
		argv[k++] = "-d";
		argv[k++] = (char *)dst;
	}
	if (not_local) {
		/* not for an address of the interface it came in on (the gateway itself) */
		argv[k++] = "-m";
		argv[k++] = "addrtype";
		argv[k++] = "!";
		argv[k++] = "--dst-type";
		argv[k++] = "LOCAL";
		argv[k++] = "--limit-iface-in";
	}
	argv[k++] = "-m";
	argv[k++] = "comment";
	argv[k++] = "--comment";
	argv[k++] = tag;
	argv[k++] = "-j";
	argv[k++] = "NFQUEUE";
	argv[k++] = "--queue-num";
	argv[k++] = q;
	if (gr->bypass)
		argv[k++] = "--queue-bypass";
	argv[k] = NULL;
	if ((r = run(argv, NULL, 0)) == 0)
		gr->installed++;
	return r;
}

/* PCP requests to the gateway itself (RFC 6887 8: UDP 5351 to the server's address). */
static int add_pcp_rule(struct gw_rules *gr, const char *in, const char *dst)
{
	char tag[32], q[12];
	char *argv[RULE_ARGS];
	int k = 0, r;

	tag_of(gr, tag, sizeof(tag));
	snprintf(q, sizeof(q), "%u", gr->queue);
	argv[k++] = (char *)gr->iptables;
	argv[k++] = "-w";
	argv[k++] = "-t";
	argv[k++] = "raw";
	argv[k++] = "-A";
	argv[k++] = "PREROUTING";
	argv[k++] = "-i";
	argv[k++] = (char *)in;
	if (dst != NULL) {
		argv[k++] = "-d";
		argv[k++] = (char *)dst;
	} else {
		argv[k++] = "-m";
		argv[k++] = "addrtype";
		argv[k++] = "--dst-type";
		argv[k++] = "LOCAL";
		argv[k++] = "--limit-iface-in";
	}
	argv[k++] = "-p";
	argv[k++] = "udp";
	argv[k++] = "--dport";
	argv[k++] = "5351";
	argv[k++] = "-m";
	argv[k++] = "comment";
	argv[k++] = "--comment";
	argv[k++] = tag;
	argv[k++] = "-j";
	argv[k++] = "NFQUEUE";
	argv[k++] = "--queue-num";
	argv[k++] = q;
	if (gr->bypass)
		argv[k++] = "--queue-bypass";
	argv[k] = NULL;
	if ((r = run(argv, NULL, 0)) == 0)
		gr->installed++;
	return r;
}

static int add_pcp_rules(struct gw_rules *gr, struct conf_sec *s)
{
	const char *strategy, *pcp;
	struct conf_kv *in = NULL;
	int r = 0;

	if ((r = conf_get_str(s, "strategy", "", &strategy)) != 0 ||
	    (r = conf_get_str(s, "lease_pcp_address", NULL, &pcp)) != 0)
		return r;
	if (strcmp(strategy, "lease") != 0)
		return 0;
	while (r == 0 && (in = conf_next_kv(s, "inside", in)) != NULL)
		r = add_pcp_rule(gr, in->val, pcp);
	return r;
}

int gw_rules_install(struct gw_rules *gr, struct conf_sec *s, struct sp_log *log)
{
	struct conf_kv *in = NULL, *out, *pool;
	unsigned stale;
	int r = 0;

	gr->installed = 0;
	if ((stale = remove_tagged(gr)) > 0)
		SP_WARN(log, "gateway",
			"removed %u NFQUEUE rule(s) of queue %u a previous run left", stale,
			gr->queue);
	while (r == 0 && (in = conf_next_kv(s, "inside", in)) != NULL)
		r = add_rule(gr, in->val, NULL, true);
	if (r == 0)
		r = add_pcp_rules(gr, s);
	for (out = NULL; r == 0 && (out = conf_next_kv(s, "outside", out)) != NULL;)
		for (pool = NULL; r == 0 && (pool = conf_next_kv(s, "pool", pool)) != NULL;)
			r = add_rule(gr, out->val, pool->val, false);
	if (r != 0) {
		SP_ERR(log, "gateway", "%s -t raw -A PREROUTING ... -j NFQUEUE: %s%s", gr->iptables,
		       r == SP_ENOTFOUND ? "not found" : "failed",
		       " (install iptables, or set rules = no and add them yourself: docs/NAT.md)");
		gr->installed = 1; /* whatever was added goes */
		gw_rules_remove(gr, log);
		return r;
	}
	SP_INFO(log, "gateway", "installed %u NFQUEUE rule(s) for queue %u%s", gr->installed,
		gr->queue, gr->bypass ? " with --queue-bypass" : "");
	return 0;
}

void gw_rules_remove(struct gw_rules *gr, struct sp_log *log)
{
	unsigned n = remove_tagged(gr);

	if (gr->installed > 0 || n > 0)
		SP_INFO(log, "gateway", "removed %u NFQUEUE rule(s) of queue %u", n, gr->queue);
	gr->installed = 0;
}
