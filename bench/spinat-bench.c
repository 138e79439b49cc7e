/*
 * spinat-bench: throughput and scale figures for spinat's hot paths, each measured in the
 * same run against a reference (OpenSSL's own EVP speed, the Linux kernel's NAT), so the
 * report is a ratio that means something on any machine.
 */
#include "bench.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Subcommands: add a row and a file. */
extern const struct bench_cmd bench_cmds[];

uint64_t bench_clock(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

double bench_rate(const struct bench_opts *o, void (*fn)(void *arg, uint64_t batch), void *arg,
		  uint64_t batch)
{
	uint64_t start, now, ops = 0;
	uint64_t limit = (uint64_t)(o->seconds * 1e9);

	fn(arg, batch); /* warm up caches and lazy initialisation */
	start = bench_now();
	do {
		fn(arg, batch);
		ops += batch;
		now = bench_now();
	} while (now - start < limit);
	return (double)ops * 1e9 / (double)(now - start);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: spinat-bench [--seconds S] [--quick | --smoke] WHAT [ARGS]\n\n"
		   "Prints throughput figures for spinat's hot paths next to a reference\n"
		   "measured in the same run, and their ratio.\n\n"
		   "Options:\n"
		   "  --seconds S   measuring time per figure (default 1.0)\n"
		   "  --quick       fewer sizes and smaller tables (smoke run)\n"
		   "  --smoke       tiny sizes, 1 ms per figure unless --seconds, no kernel\n"
		   "                reference: checks that every figure is made, in well\n"
		   "                under a second (the test suite runs it)\n"
		   "  --version     print the version and exit\n\nWHAT:\n");
	for (const struct bench_cmd *c = bench_cmds; c->name != NULL; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "  all      every benchmark above in turn\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' }, { "quick", no_argument, NULL, 'q' },
		{ "smoke", no_argument, NULL, 'k' },	     { "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },	     { 0 },
	};
	struct bench_opts o = { .seconds = 1.0 };
	bool seconds_given = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:qkVh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.seconds = atof(optarg);
			if (o.seconds <= 0) {
				fprintf(stderr, "spinat-bench: --seconds must be positive\n");
				return 2;
			}
			seconds_given = true;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'k':
			o.quick = o.smoke = true;
			break;
		case 'V':
			printf("spinat-bench %s\n", SPINAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.smoke && !seconds_given)
		o.seconds = 0.001;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "all") == 0) {
		int rc = 0;

		for (const struct bench_cmd *c = bench_cmds; c->name != NULL; c++)
			rc |= c->fn(&o, 0, NULL);
		return rc;
	}
	for (const struct bench_cmd *c = bench_cmds; c->name != NULL; c++)
		if (strcmp(argv[optind], c->name) == 0)
			return c->fn(&o, argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "spinat-bench: unknown benchmark '%s'\n\n", argv[optind]);
	usage(stderr);
	return 2;
}
