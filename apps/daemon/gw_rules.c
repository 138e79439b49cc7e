/*
 * The gateway's own iptables rules, all of them (raw table, PREROUTING: before routing and
 * connection tracking, as docs/NAT.md explains). First the rule letting packets with the
 * gateway's mark pass (what the engine's verdicts and the fast path translated); then the
 * NFQUEUE rules: for each inside interface everything arriving on it that is not addressed
 * to that interface itself, for each outside interface and pool entry everything
 * addressed to the pool. Each rule carries the comment "spinatd-qN" (N: the queue), by
 * which a later start finds and deletes the rules a crashed run left behind, and a clean
 * stop deletes its own. With strategy lease also, per inside interface, PCP (UDP 5351)
 * addressed to the gateway there (lease_pcp_address when set, else any of its own
 * addresses on that interface): the lease protocol (001). A new rule is one queue_rule()
 * line in gw_rules_install().
 */
#include "gw_rules.h"

#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
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

/* iptables -w -t raw {-I PREROUTING 1 | -A PREROUTING} WORDS... with our comment put
 * before the words' "-j". 0 when iptables took it. */
static int rule(struct gw_rules *gr, bool first, const char *const *words)
{
	char tag[32];
	const char *argv[RULE_ARGS];
	int k = 0, r;

	tag_of(gr, tag, sizeof(tag));
	argv[k++] = gr->iptables;
	argv[k++] = "-w";
	argv[k++] = "-t";
	argv[k++] = "raw";
	argv[k++] = first ? "-I" : "-A";
	argv[k++] = "PREROUTING";
	if (first)
		argv[k++] = "1";
	for (; *words != NULL && k < RULE_ARGS - 6; words++) {
		if (strcmp(*words, "-j") == 0) {
			argv[k++] = "-m";
			argv[k++] = "comment";
			argv[k++] = "--comment";
			argv[k++] = tag;
		}
		argv[k++] = *words;
	}
	if (*words != NULL)
		return SP_EINVAL;
	argv[k] = NULL;
	if ((r = run((char *const *)argv, NULL, 0)) == 0)
		gr->installed++;
	return r;
}

/* An NFQUEUE rule to our queue for the packets the match words (NULL-terminated) select:
 * adding one is one line, e.g. queue_rule(gr, "-i", IF, "-p", "udp", "--dport", "5351",
 * NULL). */
static int queue_rule(struct gw_rules *gr, ...)
{
	const char *words[RULE_ARGS];
	char q[24];
	va_list ap;
	int k = 0;

	va_start(ap, gr);
	for (const char *w; (w = va_arg(ap, const char *)) != NULL && k < RULE_ARGS - 6;)
		words[k++] = w;
	va_end(ap);
	words[k++] = "-j";
	words[k++] = "NFQUEUE";
	if (gr->nqueues > 1) {
		snprintf(q, sizeof(q), "%u:%u", gr->queue, gr->queue + gr->nqueues - 1);
		words[k++] = "--queue-balance";
	} else {
		snprintf(q, sizeof(q), "%u", gr->queue);
		words[k++] = "--queue-num";
	}
	words[k++] = q;
	if (gr->bypass)
		words[k++] = "--queue-bypass";
	words[k] = NULL;
	return rule(gr, false, words);
}

/* Packets with the mark went through the engine or the fast path already: they pass the
 * NFQUEUE rules (the operator's too: it is inserted first), so none is queued twice
 * (br_netfilter runs PREROUTING at the bridge and again for the routed packet). */
static int mark_rule(struct gw_rules *gr)
{
	char m[16];
	const char *words[] = { "-m", "mark", "--mark", m, "-j", "ACCEPT", NULL };

	snprintf(m, sizeof(m), "0x%x", gr->mark);
	return rule(gr, true, words);
}

/* PCP requests to the gateway itself (RFC 6887 8: UDP 5351 to the server's address), with
 * strategy lease. */
static int pcp_rules(struct gw_rules *gr, struct conf_sec *s)
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
		r = pcp != NULL
			    ? queue_rule(gr, "-i", in->val, "-d", pcp, "-p", "udp", "--dport",
					 "5351", NULL)
			    : queue_rule(gr, "-i", in->val, "-m", "addrtype", "--dst-type", "LOCAL",
					 "--limit-iface-in", "-p", "udp", "--dport", "5351", NULL);
	return r;
}

int gw_rules_install(struct gw_rules *gr, struct conf_sec *s, struct sp_log *log)
{
	struct conf_kv *in = NULL, *out, *pool;
	unsigned stale;
	int r = 0;

	gr->installed = 0;
	if ((stale = remove_tagged(gr)) > 0)
		SP_WARN(log, "gateway", "removed %u rule(s) of queue %u a previous run left", stale,
			gr->queue);
	if (gr->mark != 0)
		r = mark_rule(gr);
	/* Inside: everything not for an address of the interface it came in on (the
	 * gateway itself). Outside: everything for the pool. */
	while (gr->nfqueue && r == 0 && (in = conf_next_kv(s, "inside", in)) != NULL)
		r = queue_rule(gr, "-i", in->val, "-m", "addrtype", "!", "--dst-type", "LOCAL",
			       "--limit-iface-in", NULL);
	if (gr->nfqueue && r == 0)
		r = pcp_rules(gr, s);
	for (out = NULL; gr->nfqueue && r == 0 && (out = conf_next_kv(s, "outside", out)) != NULL;)
		for (pool = NULL; r == 0 && (pool = conf_next_kv(s, "pool", pool)) != NULL;)
			r = queue_rule(gr, "-i", out->val, "-d", pool->val, NULL);
	if (r != 0) {
		SP_ERR(log, "gateway", "%s -t raw ... PREROUTING ...: %s%s", gr->iptables,
		       r == SP_ENOTFOUND ? "not found" : "failed",
		       " (install iptables, or set rules = no and fastpath_rule = no and add "
		       "them yourself: docs/NAT.md)");
		gr->installed = 1; /* whatever was added goes */
		gw_rules_remove(gr, log);
		return r;
	}
	if (gr->installed > 0)
		SP_INFO(log, "gateway", "installed %u rule(s) for queue %u%s%s", gr->installed,
			gr->queue, gr->mark != 0 ? ", marked packets passing" : "",
			gr->bypass && gr->nfqueue ? ", with --queue-bypass" : "");
	return 0;
}

void gw_rules_remove(struct gw_rules *gr, struct sp_log *log)
{
	unsigned n = remove_tagged(gr);

	if (gr->installed > 0 || n > 0)
		SP_INFO(log, "gateway", "removed %u rule(s) of queue %u", n, gr->queue);
	gr->installed = 0;
}
