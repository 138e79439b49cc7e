/*
 * spinatd main: options, configuration, the role table, the event loop and shutdown.
 */
#include "spinatd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPINATD_POOL_PKTS 4096

static void usage(FILE *f)
{
	fprintf(f, "NAME\n"
		   "    spinatd - spinat gateway and endpoint daemon\n\n"
		   "SYNOPSIS\n"
		   "    spinatd -c FILE [--socket PATH] [--log LEVEL] [--check]\n\n"
		   "DESCRIPTION\n"
		   "    Runs one spinat role, chosen by 'role' in the [spinatd] section of FILE.\n"
		   "    The daemon stays in the foreground, logs to standard error, and answers\n"
		   "    the spinat(1) control CLI on a Unix socket. SIGINT or SIGTERM stop it\n"
		   "    cleanly.\n\n"
		   "OPTIONS\n"
		   "    -c, --config FILE   configuration file (see docs/CONFIG.md)\n"
		   "    -s, --socket PATH   control socket (default " IO_CTL_DEFAULT_PATH ";\n"
		   "                        [spinatd] socket = PATH sets it too)\n"
		   "    -l, --log LEVEL     err, warn, info (default) or debug\n"
		   "    -n, --check         read and validate the configuration, then exit\n"
		   "    -h, --help          this text\n\n"
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
		   "    log = LEVEL         log level, overridden by --log\n");
	for (const struct spinatd_role *r = spinatd_roles; r->name != NULL; r++)
		if (r->usage != NULL)
			fprintf(f, "\nROLE %s\n%s", r->name, r->usage);
	fprintf(f,
		"\n"
		"EXIT STATUS\n"
		"    0 after a clean stop or a valid --check, 1 on a configuration or\n"
		"    runtime error (the message names file, line and key), 2 on usage errors.\n");
}

static int ctl_counters(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;
	bool all = argc == 1 && strcmp(argv[0], "all") == 0;

	if (argc > 1 || (argc == 1 && !all)) {
		fprintf(err, "usage: show counters [all]");
		return SP_EINVAL;
	}
	sp_ctr_dump(&d->ctrs, out, all);
	return 0;
}

static int ctl_version(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct spinatd *d = arg;

	(void)argc;
	(void)argv;
	(void)err;
	fprintf(out, "spinatd %s role %s\n", "0.1.0", d->name);
	return 0;
}

static const struct spinatd_role *find_role(const char *name)
{
	for (const struct spinatd_role *r = spinatd_roles; r->name != NULL; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cfg = NULL, *sock = NULL, *loglevel = NULL, *rolename, *conf_sock, *conf_log;
	const struct spinatd_role *role = NULL;
	struct spinatd d = { 0 };
	struct conf_sec *sec;
	bool check = false, started = false;
	int ch, r, status = 1;

	while ((ch = getopt_long(argc, argv, "c:s:l:nh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfg = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'l':
			loglevel = optarg;
			break;
		case 'n':
			check = true;
			break;
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
	d.log.sink = sp_log_sink_file;
	d.log.arg = stderr;
	d.log.level = SP_LOG_INFO;
	sp_ctr_registry_init(&d.ctrs);

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
	    (r = conf_get_str(sec, "log", "info", &conf_log)) != 0) {
		fprintf(stderr, "spinatd: %s\n", conf_error(d.conf));
		goto out;
	}
	if (sp_log_level_parse(loglevel ? loglevel : conf_log, &d.log.level) != 0) {
		fprintf(stderr, "spinatd: unknown log level '%s'\n",
			loglevel ? loglevel : conf_log);
		goto out;
	}
	if ((role = find_role(rolename)) == NULL) {
		fprintf(stderr, "spinatd: %s: unknown role '%s' (spinatd --help lists them)\n", cfg,
			rolename);
		goto out;
	}
	if ((r = io_loop_new(&d.loop)) != 0 ||
	    (r = pkt_pool_init(&d.pool, SPINATD_POOL_PKTS, PKT_BUFSIZE)) != 0) {
		fprintf(stderr, "spinatd: %s\n", sp_strerror(r));
		goto out;
	}
	if (!check) {
		if ((r = io_ctl_open(&d.ctl, d.loop, sock ? sock : conf_sock)) != 0) {
			fprintf(stderr, "spinatd: control socket %s: %s\n", sock ? sock : conf_sock,
				sp_strerror(r));
			goto out;
		}
		if ((r = io_ctl_add(d.ctl, "show counters", ctl_counters, &d,
				    "named counters (every drop has one); 'all' shows zeros")) !=
			    0 ||
		    (r = io_ctl_add(d.ctl, "version", ctl_version, &d,
				    "daemon version and role")) != 0) {
			fprintf(stderr, "spinatd: %s\n", sp_strerror(r));
			goto out;
		}
	}
	started = true;
	d.check = check;
	if ((r = role->start(&d)) != 0) {
		fprintf(stderr, "spinatd: %s\n",
			r == SP_ECONFIG ? conf_error(d.conf) : sp_strerror(r));
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
	SP_INFO(&d.log, "spinatd", "%s started (role %s)", d.name, role->name);
	if ((r = io_loop_run(d.loop)) != 0) {
		fprintf(stderr, "spinatd: event loop: %s\n", sp_strerror(r));
		goto out;
	}
	SP_INFO(&d.log, "spinatd", "%s stopping (signal %d)", d.name, io_loop_stop_signal(d.loop));
	status = 0;
out:
	if (started)
		role->stop(&d);
	io_ctl_close(d.ctl);
	io_loop_free(d.loop);
	pkt_pool_destroy(&d.pool);
	conf_free(d.conf);
	return status;
}
