/*
 * spinat-sim: runs a built-in scenario under every technique in the deterministic simulator,
 * several times with seeds that follow --seed, and prints the comparison table (one run:
 * that run's table with its drop list). Same seed, same parameters: the same bytes on
 * stdout and in every pcap.
 */
#include "sim_report.h"
#include "sim/runs.h"
#include "sim/scenario.h"
#include "base/conf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_SCENARIO "conference"
#define MAX_SETS	 64

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

/* What the table becomes besides (or instead of) the text. */
struct out_opts {
	enum out_format format;
	const char *svg; /* chart file, or NULL */
	const struct sim_params *ps;
	uint64_t seed;
};

/* JSON or CSV on stdout, the SVG chart to its file; 1 when the file cannot be written. */
static int report(const struct out_opts *oo, const struct sim_scenario *scn,
		  const struct sim_agg *agg, unsigned ntech, unsigned runs)
{
	struct sim_report r = {
		.scn = scn, .ps = oo->ps, .agg = agg, .ntech = ntech, .runs = runs, .seed = oo->seed
	};
	FILE *f;

	if (oo->format == OUT_JSON)
		sim_report_json(stdout, &r);
	else if (oo->format == OUT_CSV)
		sim_report_csv(stdout, &r);
	if (oo->svg == NULL)
		return 0;
	if ((f = fopen(oo->svg, "w")) == NULL) {
		fprintf(stderr, "spinat-sim: --svg %s: %s\n", oo->svg, strerror(errno));
		return 1;
	}
	sim_report_svg(f, &r);
	if (fclose(f) != 0) {
		fprintf(stderr, "spinat-sim: --svg %s: %s\n", oo->svg, strerror(errno));
		return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: spinat-sim [OPTIONS] [SCENARIO]\n"
		"\n"
		"Runs SCENARIO (default: " DEFAULT_SCENARIO ") in spinat's deterministic network\n"
		"simulator under every technique and prints one table row per technique:\n"
		"tunnels up, flow packets sent, delivered, misdelivered, lost and duplicated, the\n"
		"time to recover from the scenario's faults, the bytes each packet costs on the\n"
		"access link beyond its payload, and the state the NAT holds. Every drop is\n"
		"listed by its counter name under the table.\n"
		"\n"
		"Who wins the races after a fault depends on chance (start times, jitter, SPIs),\n"
		"so a technique runs several times (--runs; the conference scenario: 10) with\n"
		"seeds S, S+1, ... from --seed S, and the row gives the shares of packets over "
		"all\n"
		"runs, how many runs recovered, and the median and slowest recovery. With\n"
		"--runs 1 the table is that one run's, in packets, with its drops one by one.\n"
		"\n"
		"Time is virtual: a run takes as long as the computer needs, not as long as the\n"
		"scenario lasts. The same seed and parameters give byte-identical output and\n"
		"pcap files; another seed changes what is random (jitter, loss, start times).\n"
		"\n"
		"Options:\n"
		"  -s, --seed N            seed of every random stream of the first run (default\n"
		"                          1); run k (from 0) uses N+k\n"
		"  -r, --runs N            runs per technique, 1-1000 (default: the scenario's,\n"
		"                          10 for conference, 1 for the staged races)\n"
		"  -S, --set KEY=VALUE     override a scenario parameter; repeatable. Durations\n"
		"                          take units (250ms, 10s, 5m); see --list for the keys\n"
		"  -t, --technique LIST    comma-separated techniques to run, in this order\n"
		"                          (default: all of them)\n"
		"  -p, --pcap DIR          write one pcap per link and technique into DIR, named\n"
		"                          SCENARIO-TECHNIQUE-LINK.pcap (several runs:\n"
		"                          SCENARIO-TECHNIQUE-seedN-LINK.pcap); packets are\n"
		"                          recorded as their receiver gets them, stamped with\n"
		"                          virtual time\n"
		"  -f, --format FMT        the table as text (default), json or csv on stdout\n"
		"                          (json and csv: the table only, no drop lists)\n"
		"      --svg FILE          also write an SVG chart of delivered, misdelivered and\n"
		"                          recovery time per technique to FILE\n"
		"  -l, --list              list scenarios, their parameters with defaults, and "
		"the\n"
		"                          techniques, then exit\n"
		"  -v, --verbose           log what happens (info) to stderr, and after each run\n"
		"                          print every counter and the NAT's table; -vv logs "
		"debug\n"
		"      --stats             print events run, wall-clock time and events per "
		"second\n"
		"                          to stderr (not part of the deterministic output)\n"
		"  -V, --version           print the version and exit\n"
		"  -h, --help              this text\n"
		"\n"
		"Faults are a parameter: --set fault=crash:nat@5s+1s crashes node nat at 5 s and\n"
		"restarts it 1 s later; cut:LINK@T+D cuts a link, unplug:NODE[/IF]@T+D unplugs a\n"
		"node; several are comma-separated; fault=none disables them.\n"
		"\n"
		"Examples:\n"
		"  spinat-sim                                   the conference centre, defaults\n"
		"  spinat-sim --set clients=20 --set fault=cut:access@4s+2s\n"
		"  spinat-sim --seed 7 --pcap /tmp/caps -t plain\n"
		"  spinat-sim --runs 100 -t serial,oldest       how often does each recover?\n"
		"  spinat-sim --seed 8 --runs 1 -t masq-guard   one run of the set, in detail\n"
		"\n"
		"Exit status: 0 the scenario ran, 1 a run failed, 2 bad usage or parameter.\n");
}

static void list(FILE *f)
{
	fprintf(f, "Scenarios (parameters with defaults; --set KEY=VALUE):\n");
	for (unsigned i = 0; sim_scenarios[i] != NULL; i++) {
		const struct sim_scenario *s = sim_scenarios[i];

		fprintf(f, "\n  %s: %s\n\n", s->name, s->descr);
		for (const char *p = s->doc; *p != '\0';) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);

			fprintf(f, "    %.*s\n", len, p);
			p += len + (nl ? 1 : 0);
		}
		fprintf(f, "    Runs per technique by default: %u.\n\n", s->runs > 0 ? s->runs : 1);
		sim_params_print_help(s->params, NULL, f);
	}
	fprintf(f, "\n  spinat's NAT engine on every NAT router, in every scenario (the [gateway]\n"
		   "  keys of docs/CONFIG.md; each technique's strategy keys are below):\n");
	sim_params_print_help(sim_nat_params, "nat", f);
	fprintf(f, "\nTechniques (one table row each):\n");
	for (unsigned i = 0; sim_techniques[i] != NULL; i++) {
		const struct sim_technique *t = sim_techniques[i];

		fprintf(f, "  %-10s %s\n", t->name, t->descr);
		sim_params_print_help(t->params, t->name, f);
	}
}

/* Split LIST at commas into known techniques. */
static int pick_techniques(const char *spec, const struct sim_technique **out, unsigned max,
			   unsigned *n)
{
	char buf[512], *save = NULL, *w;

	*n = 0;
	if (spec == NULL) {
		for (unsigned i = 0; sim_techniques[i] != NULL && *n < max; i++)
			out[(*n)++] = sim_techniques[i];
		return 0;
	}
	if (strlen(spec) >= sizeof(buf))
		return SP_EINVAL;
	strcpy(buf, spec);
	for (w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		const struct sim_technique *t = sim_technique_find(w);

		if (t == NULL) {
			fprintf(stderr, "spinat-sim: no technique '%s' (known:", w);
			for (unsigned i = 0; sim_techniques[i] != NULL; i++)
				fprintf(stderr, " %s", sim_techniques[i]->name);
			fprintf(stderr, ")\n");
			return SP_ENOTFOUND;
		}
		if (*n == max)
			return SP_EFULL;
		out[(*n)++] = t;
	}
	return *n > 0 ? 0 : SP_EINVAL;
}

static double wall_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_techniques(const struct sim_technique *const *techs, unsigned ntech)
{
	for (unsigned i = 0; i < ntech; i++)
		printf("  %-10s %s\n", techs[i]->name, techs[i]->descr);
	printf("\n");
}

static int run_failed(const struct sim_scenario *scn, const struct sim_technique *t,
		      const struct sim_params *ps, int r)
{
	fprintf(stderr, "spinat-sim: %s with %s: %s\n", scn->name, t->name,
		ps->err[0] ? ps->err : sp_strerror(r));
	return r == SP_ECONFIG ? 2 : 1;
}

/* One run per technique: its table in packets, and every drop counter of the run. */
static int table_one(const struct sim_scenario *scn, struct sim_params *ps,
		     const struct sim_technique *const *techs, unsigned ntech,
		     const struct sim_run_opts *ro, uint64_t *events, const struct out_opts *oo)
{
	struct sim_result *res = calloc(ntech, sizeof(*res));
	struct sim_agg *agg = NULL;
	int status = 0;

	if (res == NULL) {
		fprintf(stderr, "spinat-sim: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < ntech; i++) {
		int r = scn->run(ps, techs[i], ro, &res[i]);

		if (r != 0) {
			status = run_failed(scn, techs[i], ps, r);
			goto out;
		}
		*events += res[i].events;
		fflush(stdout);
	}
	if (oo->format != OUT_TEXT || oo->svg != NULL) {
		if ((agg = calloc(ntech, sizeof(*agg))) == NULL) {
			status = 1;
			goto out;
		}
		for (unsigned i = 0; i < ntech; i++) {
			sim_agg_init(&agg[i], res[i].technique, ro->seed);
			sim_agg_add(&agg[i], &res[i], ro->seed);
		}
		status = report(oo, scn, agg, ntech, 1);
		if (oo->format != OUT_TEXT)
			goto out;
	}
	if (ro->verbose)
		printf("\n");
	sim_result_header(stdout);
	for (unsigned i = 0; i < ntech; i++)
		sim_result_row(stdout, &res[i]);
	printf("\n");
	print_techniques(techs, ntech);
	sim_result_legend(stdout);
	printf("\ndrops (node module.counter=packets):\n");
	for (unsigned i = 0; i < ntech; i++)
		printf("  %-10s %s\n", res[i].technique,
		       res[i].drop_list[0] ? res[i].drop_list : "none");
out:
	free(agg);
	free(res);
	return status;
}

/* runs runs per technique: the aggregate table, the drops summed, the slowest runs. */
static int table_runs(const struct sim_scenario *scn, struct sim_params *ps,
		      const struct sim_technique *const *techs, unsigned ntech,
		      const struct sim_run_opts *ro, unsigned runs, uint64_t *events,
		      const struct out_opts *oo)
{
	struct sim_agg *agg = calloc(ntech, sizeof(*agg));
	bool faults = false;
	int status = 0;

	if (agg == NULL) {
		fprintf(stderr, "spinat-sim: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < ntech; i++) {
		int r = sim_scenario_run_many(scn, ps, techs[i], ro, runs, &agg[i]);

		if (r != 0) {
			status = run_failed(scn, techs[i], ps, r);
			goto out;
		}
		*events += agg[i].events;
		faults = faults || (agg[i].has_fault && agg[i].with_traffic > 0);
		fflush(stdout);
	}
	if (oo->format != OUT_TEXT || oo->svg != NULL) {
		status = report(oo, scn, agg, ntech, runs);
		if (oo->format != OUT_TEXT)
			goto out;
	}
	if (ro->verbose)
		printf("\n");
	sim_agg_header(stdout);
	for (unsigned i = 0; i < ntech; i++)
		sim_agg_row(stdout, &agg[i]);
	printf("\n");
	print_techniques(techs, ntech);
	sim_agg_legend(stdout, runs, ro->seed);
	printf("\ndrops, summed over the %u runs (node module.counter=packets):\n", runs);
	for (unsigned i = 0; i < ntech; i++)
		sim_agg_drops(stdout, &agg[i]);
	if (faults) {
		printf("\nslowest recovery of each technique (replay it: --seed S --runs 1 -t "
		       "TECHNIQUE):\n");
		for (unsigned i = 0; i < ntech; i++)
			sim_agg_slowest(stdout, &agg[i]);
	}
out:
	free(agg);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "set", required_argument, NULL, 'S' },
		{ "technique", required_argument, NULL, 't' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", no_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "svg", required_argument, NULL, 'G' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct out_opts oo = { .format = OUT_TEXT };
	const struct sim_technique *techs[32];
	const struct sim_scenario *scn;
	static struct sim_params ps;
	struct sim_run_opts ro = { .seed = 1, .log_level = SP_LOG_WARN, .out = stdout };
	const char *sets[MAX_SETS], *tech_spec = NULL;
	unsigned nsets = 0, ntech, verbose = 0, runs = 0;
	bool stats = false;
	uint64_t events = 0;
	double t0;
	int ch, status = 0;

	while ((ch = getopt_long(argc, argv, "s:r:S:t:p:f:lvVh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (conf_parse_u64(optarg, &ro.seed) != 0) {
				fprintf(stderr, "spinat-sim: --seed: '%s' is not a number\n",
					optarg);
				return 2;
			}
			break;
		case 'r': {
			uint64_t v;

			if (conf_parse_u64(optarg, &v) != 0 || v < 1 || v > SIM_RUNS_MAX) {
				fprintf(stderr,
					"spinat-sim: --runs: '%s' is not a number from 1 to %u\n",
					optarg, SIM_RUNS_MAX);
				return 2;
			}
			runs = (unsigned)v;
			break;
		}
		case 'S':
			if (nsets == MAX_SETS) {
				fprintf(stderr, "spinat-sim: more than %d --set\n", MAX_SETS);
				return 2;
			}
			sets[nsets++] = optarg;
			break;
		case 't':
			tech_spec = optarg;
			break;
		case 'p':
			ro.pcap_dir = optarg;
			break;
		case 'l':
			list(stdout);
			return 0;
		case 'v':
			verbose++;
			break;
		case 'T':
			stats = true;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0) {
				oo.format = OUT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				oo.format = OUT_JSON;
			} else if (strcmp(optarg, "csv") == 0) {
				oo.format = OUT_CSV;
			} else {
				fprintf(stderr,
					"spinat-sim: --format: '%s' is not text, json or csv\n",
					optarg);
				return 2;
			}
			break;
		case 'G':
			oo.svg = optarg;
			break;
		case 'V':
			printf("spinat-sim %s\n", SPINAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "spinat-sim: one scenario at a time\n");
		return 2;
	}
	if ((scn = sim_scenario_find(optind < argc ? argv[optind] : DEFAULT_SCENARIO)) == NULL) {
		fprintf(stderr, "spinat-sim: no scenario '%s' (spinat-sim --list shows them)\n",
			argv[optind]);
		return 2;
	}
	sim_params_init(&ps);
	if (sim_scenario_params(scn, &ps) != 0) {
		fprintf(stderr, "spinat-sim: %s\n", ps.err);
		return 1;
	}
	for (unsigned i = 0; i < nsets; i++) {
		if (sim_params_set(&ps, sets[i]) != 0) {
			fprintf(stderr, "spinat-sim: --set %s\n", ps.err);
			return 2;
		}
	}
	if (pick_techniques(tech_spec, techs, SP_NELEM(techs), &ntech) != 0) {
		if (tech_spec != NULL && ntech == 0)
			fprintf(stderr, "spinat-sim: --technique '%s': nothing to run\n",
				tech_spec);
		return 2;
	}
	if (ro.pcap_dir != NULL && mkdir(ro.pcap_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "spinat-sim: --pcap %s: %s\n", ro.pcap_dir, strerror(errno));
		return 2;
	}
	if (verbose > 0) {
		ro.log_level = verbose > 1 ? SP_LOG_DEBUG : SP_LOG_INFO;
		ro.verbose = true;
	}
	ro.logf = stderr;

	if (runs == 0)
		runs = scn->runs > 0 ? scn->runs : 1;
	oo.ps = &ps;
	oo.seed = ro.seed;
	if (oo.format == OUT_TEXT) {
		printf("spinat-sim: scenario %s: %s\n", scn->name, scn->descr);
		if (runs == 1)
			printf("seed %llu, parameters:\n", (unsigned long long)ro.seed);
		else
			printf("seed %llu, %u runs per technique (seeds %llu to %llu), "
			       "parameters:\n",
			       (unsigned long long)ro.seed, runs, (unsigned long long)ro.seed,
			       (unsigned long long)sim_run_seed(ro.seed, runs - 1));
		sim_params_print(&ps, stdout, NULL, 78);
		printf("\n");
	}
	fflush(stdout);

	t0 = wall_sec();
	status = runs == 1 ? table_one(scn, &ps, techs, ntech, &ro, &events, &oo)
			   : table_runs(scn, &ps, techs, ntech, &ro, runs, &events, &oo);
	fflush(stdout);
	if (stats && status == 0) {
		double dt = wall_sec() - t0;

		fprintf(stderr, "spinat-sim: %llu events in %.3f s wall clock: %.0f events/s\n",
			(unsigned long long)events, dt, dt > 0 ? (double)events / dt : 0.0);
	}
	return status;
}
