/*
 * spinat: the control CLI. Each verb is a row of a static table dispatching to *_main();
 * the words are sent to spinatd's control socket, which answers from its live state.
 */
#include "io/ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ctl_path = IO_CTL_DEFAULT_PATH;

static int forward(int argc, char **argv)
{
	return io_ctl_request(ctl_path, argc, argv, stdout, stderr) == 0 ? 0 : 1;
}

static int show_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spinat show WHAT   (nat, counters, sa, ... ; "
				"'spinat commands' lists what this daemon answers)\n");
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

static const struct {
	const char *verb;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "show", show_main, "show tables and counters: nat, counters, sa, leases, ..." },
	{ "up", name_main, "bring up the connection NAME" },
	{ "down", name_main, "take down the connection NAME" },
	{ "rekey", name_main,
	  "rekey the CHILD SAs of NAME now ('rekey NAME ike': the IKE SA too)" },
	{ "lease", any_main, "request, renew or release a NAT lease (role-specific)" },
	{ "lca", any_main, "issue or revoke a dnat host's certificate (gateway with an LCA)" },
	{ "commands", any_main, "list the commands the running daemon answers" },
	{ "help", help_main, "this text" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: spinat [--socket PATH] COMMAND [ARGS...]\n\n"
		   "Controls a running spinatd through its control socket\n"
		   "(default " IO_CTL_DEFAULT_PATH ").\n\nCommands:\n");
	for (size_t i = 0; i < SP_NELEM(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].verb, cmds[i].help);
	fprintf(f, "\nExit status: 0 success, 1 the daemon refused or is unreachable, 2 usage.\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl_path = optarg;
			break;
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
	for (size_t i = 0; i < SP_NELEM(cmds); i++)
		if (strcmp(argv[0], cmds[i].verb) == 0)
			return cmds[i].fn(argc, argv);
	fprintf(stderr, "spinat: unknown command '%s'\n\n", argv[0]);
	usage(stderr);
	return 2;
}
