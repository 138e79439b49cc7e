/*
 * spinatd main: options, configuration, the PID file and control socket, signals (SIGHUP
 * reloads, SIGUSR1 toggles debug logging), the role table, the event loop and shutdown.
 */
#include "spinatd.h"
#include "base/addr.h"

#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPINATD_POOL_PKTS	4096
/* A reload checks the new file with a role started in check mode on a small pool. */
#define SPINATD_CHECK_POOL_PKTS 64

#ifndef SPINAT_VERSION
#define SPINAT_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f, "NAME\n"
		   "    spinatd - spinat gateway and endpoint daemon\n\n"
		   "SYNOPSIS\n"
		   "    spinatd -c FILE [--socket PATH] [--pidfile PATH] [--log LEVEL] [--check]\n"
		   "    spinatd --version | --help\n\n"
		   "DESCRIPTION\n"
		   "    Runs one spinat role, chosen by 'role' in the [spinatd] section of FILE.\n"
		   "    The daemon stays in the foreground, logs to standard error, and answers\n"
		   "    the spinat(8) control CLI on a Unix socket (mode 0600).\n\n"
		   "OPTIONS\n"
		   "    -c, --config FILE   configuration file (spinat.conf(5))\n"
		   "    -s, --socket PATH   control socket (default " IO_CTL_DEFAULT_PATH ";\n"
		   "                        [spinatd] socket = PATH sets it too)\n"
		   "    -p, --pidfile PATH  PID file and lock (default: the socket path with .pid\n"
		   "                        for .sock; [spinatd] pidfile = PATH sets it too)\n"
		   "    -l, --log LEVEL     err, warn, info (default) or debug\n"
		   "    -n, --check, --check-config\n"
		   "                        read and validate the configuration, then exit\n"
		   "        --no-rules      gateway: leave the NFQUEUE rules to the operator\n"
		   "        --queue-bypass  gateway: install the rules with --queue-bypass\n"
		   "    -V, --version       print the version and exit\n"
		   "    -h, --help          this text\n\n"
		   "SIGNALS\n"
		   "    SIGTERM, SIGINT, SIGQUIT  stop cleanly (socket and PID file removed)\n"
		   "    SIGHUP    re-read FILE: a valid file's log level applies at once, other\n"
		   "              changes are logged as needing a restart; an invalid file is\n"
		   "              logged and the running configuration kept\n"
		   "    SIGUSR1   toggle the log level between debug and the configured one\n"
		   "    SIGUSR2   ignored\n\n"
		   "ROLES\n");
	for (const struct spinatd_role *r = spinatd_roles; r->name != NULL; r++)
		fprintf(f, "    %-12s %s\n", r->name, r->help);

	if (spinatd_roles[0].name == NULL)
		fprintf(f, "    (none in this build)\n");
	fprintf(f, "\n"
		   "[spinatd] KEYS\n"
		   "    role = NAME         one of the roles above (required)\n"
		   "    name = TEXT         instance name in logs and counters (default: role)\n"
		   "    socket = PATH       control socket path\n"
		   "    socket_group = GRP  group that may use the control socket (mode 0660)\n"
		   "    pidfile = PATH      PID file, also the lock against a second daemon\n"
		   "    log = LEVEL         log level, overridden by --log\n");
	for (const struct spinatd_role *r = spinatd_roles; r->name != NULL; r++)
		if (r->usage != NULL)
			fprintf(f, "\nROLE %s\n%s", r->name, r->usage);
	fprintf(f, "\n"
		   "EXIT STATUS\n"
		   "    0 after a clean stop or a valid --check, 1 on a configuration or\n"
		   "    runtime error (the message names file, line and key), 2 on usage errors,\n"
		   "    3 when another daemon holds the PID file, the control socket or a port.\n");
}

static int ctl_counters(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;
	bool all = argc == 1 && strcmp(argv[0], "all") == 0;

	if (argc > 1 || (argc == 1 && !all)) {
		fprintf(err, "usage: show counters [all]");
		return SP_EINVAL;
	}
	sp_ctr_dump_table(&d->ctrs, out, all);
	return 0;
}

static int ctl_counters_json(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;
	bool all = argc == 1 && strcmp(argv[0], "all") == 0, first = true;

	if (argc > 1 || (argc == 1 && !all)) {
		fprintf(err, "usage: show counters [all]");
		return SP_EINVAL;
	}
	fputs("[", out);
	for (const struct sp_ctrs *c = d->ctrs.head; c != NULL; c = c->next) {
		for (unsigned i = 0; i < c->n; i++) {
			if (!all && c->vals[i] == 0)
				continue;
			fputs(first ? "{\"instance\": " : ",\n {\"instance\": ", out);
			io_ctl_json_str(out, c->instance ? c->instance : "-");
			fputs(", \"module\": ", out);
			io_ctl_json_str(out, c->module);
			fputs(", \"counter\": ", out);
			io_ctl_json_str(out, c->names[i]);
			fprintf(out, ", \"value\": %llu}", (unsigned long long)c->vals[i]);
			first = false;
		}
	}
	fputs("]\n", out);
	return 0;
}

static const char *role_name(const struct spinatd *d);
static int check_files(struct conf *c);

static int ctl_version(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: version");
		return SP_EINVAL;
	}
	fprintf(out, "spinatd %s name %s role %s\n", SPINAT_VERSION, d->name, role_name(d));
	return 0;
}

static int ctl_version_json(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: version");
		return SP_EINVAL;
	}
	fprintf(out, "{\"program\": \"spinatd\", \"version\": ");
	io_ctl_json_str(out, SPINAT_VERSION);
	fputs(", \"name\": ", out);
	io_ctl_json_str(out, d->name);
	fputs(", \"role\": ", out);
	io_ctl_json_str(out, role_name(d));
	fprintf(out, ", \"pid\": %ld}\n", (long)getpid());
	return 0;
}

static int ctl_log(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;
	int level;

	if (argc > 1 || (argc == 1 && sp_log_level_parse(argv[0], &level) != 0)) {
		fprintf(err, "usage: log [err|warn|info|debug]");
		return SP_EINVAL;
	}
	if (argc == 1 && level != d->log.level) {
		SP_INFO(&d->log, "spinatd", "log level %s -> %s (control socket)",
			sp_log_level_name(d->log.level), sp_log_level_name(level));
		d->log.level = level;
	}
	fprintf(out, "log level %s (configured %s)\n", sp_log_level_name(d->log.level),
		sp_log_level_name(d->conf_level));
	return 0;
}

/*
 * Reload. The running roles keep pointers into the configuration they started with, and
 * replacing an IKE or NAT engine would drop every tunnel and mapping; so a reload
 * validates the new file completely (a role started on it in check mode), applies the log
 * level of [spinatd], and names every other difference as one that takes a restart. A file
 * that does not validate changes nothing.
 */
struct reload_report {
	FILE *out; /* control client's answer, or NULL */
	struct spinatd *d;
	unsigned restart;
};

static void report(struct reload_report *rr, int level, const char *fmt, ...) SP_PRINTF(3, 4);
static void report(struct reload_report *rr, int level, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sp_logf(&rr->d->log, level, "spinatd", "reload: %s", msg);
	if (rr->out != NULL)
		fprintf(rr->out, "%s\n", msg);
}

static bool same_name(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct conf_sec *find_sec(struct conf *c, const struct conf_sec *like)
{
	for (struct conf_sec *s = c->secs; s != NULL; s = s->next)
		if (strcmp(s->type, like->type) == 0 && same_name(s->name, like->name))
			return s;
	return NULL;
}

/* The values of key in s, in order, joined by ", " (to compare lists). */
static void values_of(const struct conf_sec *s, const char *key, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct conf_kv *kv = s ? s->kv : NULL; kv != NULL && off < len; kv = kv->next)
		if (strcmp(kv->key, key) == 0)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						kv->val);
}

static void diff_sec(struct reload_report *rr, const struct conf_sec *o, const struct conf_sec *n)
{
	const struct conf_sec *both[2] = { o, n };
	char label[96], a[CONF_MAX_LINE], b[CONF_MAX_LINE];

	snprintf(label, sizeof(label), "[%s%s%s]", (o ? o : n)->type, (o ? o : n)->name ? " " : "",
		 (o ? o : n)->name ? (o ? o : n)->name : "");
	if (o == NULL || n == NULL) {
		rr->restart++;
		report(rr, SP_LOG_WARN, "section %s %s (line %u): takes effect at restart", label,
		       o == NULL ? "added" : "removed", (o ? o : n)->line);
		return;
	}
	for (int side = 0; side < 2; side++) {
		for (const struct conf_kv *kv = both[side]->kv; kv != NULL; kv = kv->next) {
			bool seen = false;

			/* Each key once: the first of its name on this side. */
			for (const struct conf_kv *p = both[side]->kv; p != kv; p = p->next)
				seen = seen || strcmp(p->key, kv->key) == 0;
			if (seen)
				continue;
			if (side == 1) {
				bool in_old = false;

				for (const struct conf_kv *p = o->kv; p != NULL; p = p->next)
					in_old = in_old || strcmp(p->key, kv->key) == 0;
				if (in_old)
					continue; /* compared from the old side */
			}
			values_of(o, kv->key, a, sizeof(a));
			values_of(n, kv->key, b, sizeof(b));
			if (strcmp(a, b) == 0)
				continue;
			if (strcmp(o->type, "spinatd") == 0 && strcmp(kv->key, "log") == 0)
				continue; /* applied */
			rr->restart++;
			report(rr, SP_LOG_WARN,
			       "%s %s = '%s' -> '%s' (line %u): takes effect at restart", label,
			       kv->key, a, b, kv->line);
		}
	}
}

static const struct spinatd_role *find_role(const char *name)
{
	for (const struct spinatd_role *r = spinatd_roles; r->name != NULL; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static const char *role_name(const struct spinatd *d)
{
	struct conf_sec *s = conf_find(d->conf, "spinatd", NULL);
	const char *v = s ? conf_get(s, "role") : NULL;

	return v ? v : "?";
}

/* Validate path as spinatd would start it, with a role in check mode; 0 or SP_ECONFIG
 * with the reason in msg. */
static int check_with_role(struct spinatd *d, struct conf *nc, const struct spinatd_role *role,
			   char *msg, size_t len)
{
	struct spinatd s = { 0 };
	int r;

	s.name = d->name;
	s.conf = nc;
	s.log = d->log;
	s.check = true;
	sp_ctr_registry_init(&s.ctrs);
	if ((r = pkt_pool_init(&s.pool, SPINATD_CHECK_POOL_PKTS, PKT_BUFSIZE)) != 0) {
		snprintf(msg, len, "%s", sp_strerror(r));
		return r;
	}
	r = role->start(&s);
	if (r != 0)
		snprintf(msg, len, "%s", r == SP_ECONFIG ? conf_error(nc) : sp_strerror(r));
	role->stop(&s);
	pkt_pool_destroy(&s.pool);
	if (r == 0 && (r = conf_check_unused(nc)) != 0)
		snprintf(msg, len, "%s", conf_error(nc));
	return r;
}

static int reload(struct spinatd *d, FILE *out)
{
	struct reload_report rr = { .out = out, .d = d };
	struct conf *nc = NULL;
	struct conf_sec *sec;
	const char *rolename, *lv, *ignored;
	const struct spinatd_role *role;
	char msg[400];
	int r, level;

	if ((r = conf_parse_file(d->cfg_path, &nc)) != 0) {
		report(&rr, SP_LOG_ERR, "%s; keeping the running configuration", conf_error(nc));
		goto out;
	}
	if ((sec = conf_find(nc, "spinatd", NULL)) == NULL ||
	    (r = conf_get_str(sec, "role", "", &rolename)) != 0 ||
	    (r = conf_get_str(sec, "log", "info", &lv)) != 0 ||
	    /* compared below like every other key: a change takes a restart */
	    (r = conf_get_str(sec, "name", NULL, &ignored)) != 0 ||
	    (r = conf_get_str(sec, "socket", NULL, &ignored)) != 0 ||
	    (r = conf_get_str(sec, "pidfile", NULL, &ignored)) != 0 ||
	    (r = conf_get_str(sec, "socket_group", NULL, &ignored)) != 0) {
		r = SP_ECONFIG;
		report(&rr, SP_LOG_ERR,
		       "%s: no [spinatd] section; keeping the running configuration", d->cfg_path);
		goto out;
	}
	if ((role = find_role(rolename)) == NULL || strcmp(rolename, role_name(d)) != 0) {
		r = SP_ECONFIG;
		report(&rr, SP_LOG_ERR,
		       "%s: role '%s' is not the running role '%s' (a restart changes roles); "
		       "keeping the running configuration",
		       d->cfg_path, rolename, role_name(d));
		goto out;
	}
	if (sp_log_level_parse(lv, &level) != 0) {
		r = SP_ECONFIG;
		report(&rr, SP_LOG_ERR,
		       "%s: unknown log level '%s'; keeping the running configuration", d->cfg_path,
		       lv);
		goto out;
	}
	if ((r = check_files(nc)) != 0) {
		report(&rr, SP_LOG_ERR, "%s; keeping the running configuration", conf_error(nc));
		goto out;
	}
	if ((r = check_with_role(d, nc, role, msg, sizeof(msg))) != 0) {
		report(&rr, SP_LOG_ERR, "%s; keeping the running configuration", msg);
		goto out;
	}
	for (struct conf_sec *o = d->conf->secs; o != NULL; o = o->next)
		diff_sec(&rr, o, find_sec(nc, o));
	for (struct conf_sec *n = nc->secs; n != NULL; n = n->next)
		if (find_sec(d->conf, n) == NULL)
			diff_sec(&rr, NULL, n);
	if (level != d->conf_level) {
		report(&rr, SP_LOG_INFO, "log level %s -> %s", sp_log_level_name(d->conf_level),
		       sp_log_level_name(level));
		d->conf_level = level;
		d->log.level = level;
	}
	report(&rr, SP_LOG_INFO, "%s valid; %u change(s) wait for a restart", d->cfg_path,
	       rr.restart);
out:
	conf_free(nc);
	return r;
}

static int ctl_reload(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: reload");
		return SP_EINVAL;
	}
	if (reload(arg, out) != 0) {
		fprintf(err, "the new configuration is invalid; the running one is kept");
		return SP_ECONFIG;
	}
	return 0;
}

static void on_signal(struct io_loop *loop, int signo, void *arg)
{
	struct spinatd *d = arg;

	(void)loop;
	if (signo == SIGHUP) {
		SP_INFO(&d->log, "spinatd", "SIGHUP: reloading %s", d->cfg_path);
		(void)reload(d, NULL);
	} else if (signo == SIGUSR1) {
		int from = d->log.level, to = from == SP_LOG_DEBUG ? d->conf_level : SP_LOG_DEBUG;

		d->log.level = SP_MAX(SP_MAX(from, to), SP_LOG_INFO); /* the line itself shows */
		SP_INFO(&d->log, "spinatd", "SIGUSR1: log level %s -> %s", sp_log_level_name(from),
			sp_log_level_name(to));
		d->log.level = to;
	}
}

/*
 * The first drop of each kind: one line naming the counter and what to check, then one
 * summary line a minute at most while drops go on. The peer is in the lines the modules
 * log themselves at debug level (SIGUSR1).
 */
#define DROPWATCH_PERIOD  SP_SEC(1)
#define DROPWATCH_SUMMARY SP_SEC(60)
#define DROPWATCH_MAX	  512
#define DROPWATCH_NEW	  4 /* first-drop lines per period at most */

struct dropwatch {
	struct spinatd *d;
	struct io_timer timer;
	sp_time last_summary;
	unsigned n;
	struct {
		const struct sp_ctrs *c;
		unsigned i;
		uint64_t reported;
	} seen[DROPWATCH_MAX];
};

static const struct {
	const char *part;
	const char *hint;
} drop_hints[] = {
	{ "policy", "selectors match no policy, or the wrong one: compare [policy] or the "
		    "connections' traffic selectors on both ends (spinat show policy)" },
	{ "no_sa", "no SA for the packet: keys or SPIs differ between the ends, or an SA "
		   "expired (spinat show sa)" },
	{ "unknown_spi", "an SPI this end does not know: the peer keeps an old SA, or the "
			 "ends' SPI schemes differ (spihash on both sides)" },
	{ "icv", "integrity check failed: keys or algorithms differ between the ends" },
	{ "integrity", "integrity check failed: keys or algorithms differ between the ends" },
	{ "replay", "replayed or reordered beyond the window (replay_window)" },
	{ "table_full", "the NAT table is full: raise max_mappings or lower the timeouts" },
	{ "pool_empty", "no packet buffer free: the daemon cannot keep up" },
	{ "truncated", "a datagram larger than a packet buffer: lower the MTU on the path" },
	{ "too_big", "a packet over the MTU with DF set: lower the inner MTU" },
	{ "no_mapping", "no NAT mapping: unsolicited outside traffic, or inside hosts have not "
			"sent since a restart" },
	{ "read_error", "a socket read failed: see dmesg; for NFQUEUE raise queue_maxlen" },
	{ "verdict", "NFQUEUE verdicts failed: see dmesg" },
	{ "tun_write", "the kernel refused a cleartext packet: is the TUN device up?" },
	{ "net_send", "sending failed: check the route to the peer and the socket mark" },
	{ "no_route", "no route for the packet: check the routing table" },
	{ "half_open", "too many half-open IKE SAs: a flood, or peers that never finish" },
	{ "cookie", "IKE COOKIE missing or wrong: normal under load (cookie_threshold)" },
	{ "malformed", "malformed packets: a broken or hostile sender" },
};

static const char *drop_hint(const char *name)
{
	for (size_t i = 0; i < SP_NELEM(drop_hints); i++)
		if (strstr(name, drop_hints[i].part) != NULL)
			return drop_hints[i].hint;
	return "docs/OPERATIONS.md says what the counters mean";
}

/* "; last dropped packet: ..." when the role noted one, else "". */
static const char *peer_text(const struct spinatd_peer *p, char *buf, size_t len)
{
	char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

	if (!p->set)
		return "";
	if (p->sport || p->dport)
		snprintf(buf, len, "; last dropped packet %s %s:%u -> %s:%u proto %u%s%s", p->way,
			 sp_ip4_fmt(p->src, s), p->sport, sp_ip4_fmt(p->dst, d), p->dport, p->proto,
			 p->why ? " as " : "", p->why ? p->why : "");
	else
		snprintf(buf, len, "; last dropped packet %s %s -> %s proto %u%s%s", p->way,
			 sp_ip4_fmt(p->src, s), sp_ip4_fmt(p->dst, d), p->proto,
			 p->why ? " as " : "", p->why ? p->why : "");
	return buf;
}

static void dropwatch_tick(struct io_loop *loop, void *arg)
{
	struct dropwatch *w = arg;
	struct spinatd *d = w->d;
	sp_time now = io_now();
	unsigned fresh = 0;
	char sum[400], peer[192];
	size_t off = 0;

	if (d->peek_drop != NULL)
		d->peek_drop(d);

	for (const struct sp_ctrs *c = d->ctrs.head; c != NULL; c = c->next) {
		for (unsigned i = 0; i < c->n; i++) {
			unsigned k;

			if (c->vals[i] == 0 || strncmp(c->names[i], "drop_", 5) != 0)
				continue;
			for (k = 0; k < w->n; k++)
				if (w->seen[k].c == c && w->seen[k].i == i)
					break;
			if (k < w->n || w->n == DROPWATCH_MAX || fresh == DROPWATCH_NEW)
				continue;
			w->seen[w->n].c = c;
			w->seen[w->n].i = i;
			w->seen[w->n].reported = c->vals[i];
			w->n++;
			fresh++;
			SP_WARN(&d->log, "spinatd", "first drop: %s %s.%s = %llu: %s%s",
				c->instance ? c->instance : "-", c->module, c->names[i],
				(unsigned long long)c->vals[i], drop_hint(c->names[i]),
				peer_text(&d->last_drop, peer, sizeof(peer)));
		}
	}
	if (now - w->last_summary >= DROPWATCH_SUMMARY) {
		unsigned more = 0;

		sum[0] = '\0';
		for (unsigned k = 0; k < w->n; k++) {
			uint64_t v = w->seen[k].c->vals[w->seen[k].i];

			if (v == w->seen[k].reported)
				continue;
			if (off < sizeof(sum) - 64)
				off += (size_t)snprintf(
					sum + off, sizeof(sum) - off, "%s%s.%s +%llu",
					off ? ", " : "", w->seen[k].c->module,
					w->seen[k].c->names[w->seen[k].i],
					(unsigned long long)(v - w->seen[k].reported));
			else
				more++;
			w->seen[k].reported = v;
		}
		if (off > 0)
			SP_INFO(&d->log, "spinatd", "drops since the last summary: %s%s", sum,
				more ? " and more (spinat show counters)" : "");
		w->last_summary = now;
	}
	if (io_timer_arm(loop, &w->timer, now + DROPWATCH_PERIOD) != 0)
		SP_ERR(&d->log, "spinatd", "cannot arm the drop watch timer");
}

/*
 * Files the configuration names ([conn] cert, key, ca; psk_file): each is opened before
 * the role starts, so an unreadable or malformed one is reported as what it is (not found,
 * permission denied, a directory, empty, not PEM) with its line, not as a failed handshake.
 * ca may name a folder of trust anchors; IKE reads it and names a file in it that is wrong.
 */
static int check_files(struct conf *c)
{
	static const struct {
		const char *key;
		bool pem, folder;
	} keys[] = { { "cert", true, false },
		     { "key", true, false },
		     { "ca", true, true },
		     { "psk_file", false, false } };
	struct stat st;

	for (struct conf_sec *s = c->secs; s != NULL; s = s->next)
		for (struct conf_kv *kv = s->kv; kv != NULL; kv = kv->next)
			for (size_t i = 0; i < SP_NELEM(keys); i++)
				if (strcmp(kv->key, keys[i].key) == 0 &&
				    !(keys[i].folder && stat(kv->val, &st) == 0 &&
				      S_ISDIR(st.st_mode)) &&
				    conf_check_file(s, kv, keys[i].pem) != 0)
					return SP_ECONFIG;
	return 0;
}

/* The PID file defaults to the socket path with .pid for .sock (or .pid appended). */
static void default_pidfile(const char *sock, char *buf, size_t len)
{
	size_t n = strlen(sock);

	if (n > 5 && strcmp(sock + n - 5, ".sock") == 0)
		snprintf(buf, len, "%.*s.pid", (int)(n - 5), sock);
	else
		snprintf(buf, len, "%s.pid", sock);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'n' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-rules", no_argument, NULL, 'R' },
		{ "queue-bypass", no_argument, NULL, 'B' },
		{ 0 },
	};
	const char *cfg = NULL, *sock = NULL, *pidpath = NULL, *loglevel = NULL, *rolename;
	const char *conf_sock, *conf_log, *conf_pid, *group;
	const struct spinatd_role *role = NULL;
	static struct dropwatch watch;
	struct spinatd d = { 0 };
	struct io_ctl_cfg ccfg = { .group = (gid_t)-1, .log = &d.log };
	struct conf_sec *sec;
	char pidbuf[256];
	bool check = false, started = false;
	int ch, r, status = 1, pidfd = -1;
	long holder;

	io_timer_init(&watch.timer, dropwatch_tick, &watch);
	while ((ch = getopt_long(argc, argv, "c:s:p:l:nVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfg = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'p':
			pidpath = optarg;
			break;
		case 'l':
			loglevel = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'R':
			d.no_rules = true;
			break;
		case 'B':
			d.queue_bypass = true;
			break;
		case 'V':
			printf("spinatd %s\n", SPINAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cfg == NULL || optind != argc) {
		fprintf(stderr, "spinatd: %s\n\n",
			cfg == NULL ? "-c FILE is required" : "unexpected argument");
		usage(stderr);
		return 2;
	}
	d.cfg_path = cfg;
	d.log.sink = sp_log_sink_file;
	d.log.arg = stderr;
	d.log.level = SP_LOG_INFO;
	sp_ctr_registry_init(&d.ctrs);
	/* First: from here on the signals the loop reads are blocked, so none of them can
	 * end the process before the loop reads them. */
	if ((r = io_loop_new(&d.loop)) != 0) {
		fprintf(stderr, "spinatd: event loop: %s\n", sp_strerror(r));
		goto out;
	}

	if ((r = conf_parse_file(cfg, &d.conf)) != 0) {
		fprintf(stderr, "spinatd: %s\n", conf_error(d.conf));
		goto out;
	}
	if ((sec = conf_find(d.conf, "spinatd", NULL)) == NULL) {
		fprintf(stderr, "spinatd: %s: no [spinatd] section\n", cfg);
		goto out;
	}
	if ((r = conf_require(sec, "role")) != 0 ||
	    (r = conf_get_str(sec, "role", NULL, &rolename)) != 0 ||
	    (r = conf_get_str(sec, "name", rolename, &d.name)) != 0 ||
	    (r = conf_get_str(sec, "socket", IO_CTL_DEFAULT_PATH, &conf_sock)) != 0 ||
	    (r = conf_get_str(sec, "pidfile", NULL, &conf_pid)) != 0 ||
	    (r = conf_get_str(sec, "socket_group", NULL, &group)) != 0 ||
	    (r = conf_get_str(sec, "log", "info", &conf_log)) != 0) {
		fprintf(stderr, "spinatd: %s\n", conf_error(d.conf));
		goto out;
	}
	if (sp_log_level_parse(loglevel ? loglevel : conf_log, &d.log.level) != 0) {
		fprintf(stderr, "spinatd: unknown log level '%s' (err, warn, info or debug)\n",
			loglevel ? loglevel : conf_log);
		goto out;
	}
	d.conf_level = d.log.level;
	if ((role = find_role(rolename)) == NULL) {
		fprintf(stderr, "spinatd: %s: unknown role '%s' (spinatd --help lists them)\n", cfg,
			rolename);
		goto out;
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			fprintf(stderr, "spinatd: %s: socket_group = %s: no such group\n", cfg,
				group);
			goto out;
		}
		ccfg.group = gr->gr_gid;
	}
	sock = sock ? sock : conf_sock;
	if (pidpath == NULL && conf_pid == NULL)
		default_pidfile(sock, pidbuf, sizeof(pidbuf));
	else
		snprintf(pidbuf, sizeof(pidbuf), "%s", pidpath ? pidpath : conf_pid);
	if ((r = pkt_pool_init(&d.pool, check ? SPINATD_CHECK_POOL_PKTS : SPINATD_POOL_PKTS,
			       PKT_BUFSIZE)) != 0) {
		fprintf(stderr, "spinatd: %s\n", sp_strerror(r));
		goto out;
	}
	if (!check) {
		if ((r = io_pidfile_lock(pidbuf, &pidfd, &holder)) != 0) {
			if (r == SP_EBUSY) {
				fprintf(stderr,
					"spinatd: another spinatd (pid %ld) holds %s: stop it, or "
					"give "
					"this one its own --socket and --pidfile\n",
					holder, pidbuf);
				status = 3;
			} else {
				fprintf(stderr, "spinatd: PID file %s: %s\n", pidbuf,
					r == SP_EEXIST ? "exists and is not a regular file"
						       : sp_strerror(r));
			}
			goto out;
		}
		if ((r = io_ctl_open(&d.ctl, d.loop, sock, &ccfg)) != 0) {
			fprintf(stderr, "spinatd: control socket %s: %s\n", sock,
				r == SP_EBUSY	 ? "another daemon answers on it"
				: r == SP_EEXIST ? "the path exists and is not a socket; "
						   "not replacing it"
						 : sp_strerror(r));
			status = r == SP_EBUSY ? 3 : 1;
			goto out;
		}
		if ((r = io_ctl_add(d.ctl, "show counters", ctl_counters, &d,
				    "named counters (every drop has one); 'all' shows zeros")) !=
			    0 ||
		    (r = io_ctl_add_json(d.ctl, "show counters", ctl_counters_json)) != 0 ||
		    (r = io_ctl_add(d.ctl, "version", ctl_version, &d,
				    "daemon version, name and role")) != 0 ||
		    (r = io_ctl_add_json(d.ctl, "version", ctl_version_json)) != 0 ||
		    (r = io_ctl_add(d.ctl, "log", ctl_log, &d,
				    "show or set the log level: log [err|warn|info|debug]")) != 0 ||
		    (r = io_ctl_add(d.ctl, "reload", ctl_reload, &d,
				    "re-read the configuration file (as SIGHUP does)")) != 0 ||
		    (r = io_loop_on_signal(d.loop, SIGHUP, on_signal, &d)) != 0 ||
		    (r = io_loop_on_signal(d.loop, SIGUSR1, on_signal, &d)) != 0) {
			fprintf(stderr, "spinatd: %s\n", sp_strerror(r));
			goto out;
		}
	}
	if (check_files(d.conf) != 0) {
		fprintf(stderr, "spinatd: %s\n", conf_error(d.conf));
		goto out;
	}
	started = true;
	d.check = check;
	if ((r = role->start(&d)) != 0) {
		fprintf(stderr, "spinatd: %s\n",
			r == SP_ECONFIG ? conf_error(d.conf) : sp_strerror(r));
		if (r == SP_EBUSY)
			status = 3;
		goto out;
	}
	if ((r = conf_check_unused(d.conf)) != 0) {
		fprintf(stderr, "spinatd: %s\n", conf_error(d.conf));
		goto out;
	}
	if (check) {
		printf("%s: configuration valid (role %s)\n", cfg, role->name);
		status = 0;
		goto out;
	}
	watch.d = &d;
	watch.last_summary = io_now();
	if (io_timer_arm(d.loop, &watch.timer, io_now() + DROPWATCH_PERIOD) != 0)
		goto out;
	SP_INFO(&d.log, "spinatd", "%s %s started (role %s, pid %ld, control %s)", d.name,
		SPINAT_VERSION, role->name, (long)getpid(), sock);
	if ((r = io_loop_run(d.loop)) != 0) {
		fprintf(stderr, "spinatd: event loop: %s\n", sp_strerror(r));
		goto out;
	}
	SP_INFO(&d.log, "spinatd", "%s stopping (signal %d)", d.name, io_loop_stop_signal(d.loop));
	status = 0;
out:
	if (d.loop != NULL)
		io_timer_cancel(d.loop, &watch.timer);
	if (started)
		role->stop(&d);
	io_ctl_close(d.ctl);
	io_pidfile_release(pidbuf, pidfd);
	io_loop_free(d.loop);
	pkt_pool_destroy(&d.pool);
	conf_free(d.conf);
	return status;
}
