/*
 * spinat: the control CLI. Each verb is a row of a static table dispatching to *_main();
 * the words are sent to spinatd's control socket, which answers from its live state.
 */
#include "io/ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SPINAT_VERSION
#define SPINAT_VERSION "unknown"
#endif

static const char *ctl_path = IO_CTL_DEFAULT_PATH;
static bool json;

static int forward(int argc, char **argv)
{
	char *words[IO_CTL_MAX_ARGS + 1];

	if (argc > IO_CTL_MAX_ARGS) {
		fprintf(stderr, "spinat: at most %d words\n", IO_CTL_MAX_ARGS);
		return 2;
	}
	/* --json travels as the first word; the daemon answers the command's JSON form. */
	words[0] = "--json";
	for (int i = 0; i < argc; i++)
		words[i + 1] = argv[i];
	return io_ctl_request(ctl_path, json ? argc + 1 : argc, json ? words : argv, stdout,
			      stderr) == 0
		       ? 0
		       : 1;
}

static int show_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spinat show WHAT   ('spinat commands' lists what this "
				"daemon shows)\n");
		return 2;
	}
	return forward(argc, argv);
}

static int name_main(int argc, char **argv)
{
	/* rekey NAME ike: the IKE SA too (RFC 7296 2.18) */
	bool ike = strcmp(argv[0], "rekey") == 0 && argc == 3 && strcmp(argv[2], "ike") == 0;

	if (argc != 2 && !ike) {
		fprintf(stderr, "usage: spinat %s NAME%s\n", argv[0],
			strcmp(argv[0], "rekey") == 0 ? " [ike]" : "");
		return 2;
	}
	return forward(argc, argv);
}

static int any_main(int argc, char **argv)
{
	return forward(argc, argv);
}

static int help_main(int argc, char **argv);

/* The verbs every daemon or every role answers; any other word is sent as it is (the
 * daemon names what it answers when it does not know it). */
static const struct {
	const char *verb;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "show", show_main, "show counters | nat | sa | policy | guard (what the role serves)" },
	{ "up", name_main, "bring up the IKE connection NAME (endpoint)" },
	{ "down", name_main, "delete the IKE SA of NAME (endpoint)" },
	{ "rekey", name_main,
	  "rekey the CHILD SAs of NAME now ('rekey NAME ike': the IKE SA too)" },
	{ "log", any_main, "show or set the daemon's log level: log [err|warn|info|debug]" },
	{ "reload", any_main, "re-read the daemon's configuration file (as SIGHUP)" },
	{ "version", any_main, "the running daemon's version, name and role" },
	{ "lca", any_main, "issue or revoke a dnat host's certificate (gateway with an LCA)" },
	{ "commands", any_main, "list the commands the running daemon answers" },
	{ "help", help_main, "this text" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: spinat [-j|--json] [-s|--socket PATH] COMMAND [ARGS...]\n"
		   "       spinat --version | --help\n\n"
		   "Controls a running spinatd through its control socket\n"
		   "(default " IO_CTL_DEFAULT_PATH "). -j asks for JSON.\n\nCommands:\n");
	for (size_t i = 0; i < SP_NELEM(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].verb, cmds[i].help);
	fprintf(f, "\nOther words go to the daemon as they are. See spinat(8).\n"
		   "Exit status: 0 success, 1 the daemon refused or is unreachable, 2 usage.\n");
}

static int help_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:jVh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			printf("spinat %s\n", SPINAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return 2;
	}
	if (argv[0][0] == '-') {
		fprintf(stderr, "spinat: options go before the command\n\n");
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < SP_NELEM(cmds); i++)
		if (strcmp(argv[0], cmds[i].verb) == 0)
			return cmds[i].fn(argc, argv);
	return forward(argc, argv);
}
