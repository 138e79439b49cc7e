/*
 * spinat-bench sim: how fast the simulator runs the conference scenario at scale, in events
 * and packet hops per second of wall-clock time, next to the rate of the bare event queue
 * (one-off calls that do nothing) measured in the same run.
 */
#include "bench.h"
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

struct chain {
	uint64_t left;
};

static void hop(struct sim *sim, void *arg, uint64_t u)
{
	struct chain *c = arg;

	if (c->left-- > 0 && sim_at(sim, sim_now(sim) + 1000 + u % 7, hop, c, u + 1) != 0)
		c->left = 0;
}

/* The bare queue: 64 chains of calls, each scheduling the next. */
static void bare(void *arg, uint64_t batch)
{
	struct sim_cfg cfg = { .seed = 1, .pool_pkts = 16, .log_level = SP_LOG_ERR };
	struct chain c[64];
	struct sim *sim;

	(void)arg;
	if (sim_new(&sim, &cfg) != 0)
		return;
	for (int i = 0; i < 64; i++) {
		c[i].left = batch / 64;
		if (sim_at(sim, (sp_time)i, hop, &c[i], (uint64_t)i) != 0)
			break;
	}
	sim_run_until(sim, SP_TIME_NEVER);
	sim_free(sim);
}

static int run_conference(const struct bench_opts *o, unsigned clients, struct sim_result *res,
			  double *secs)
{
	const struct sim_scenario *scn = sim_scenario_find("conference");
	static struct sim_params ps;
	struct sim_run_opts ro = { .seed = 1, .log_level = SP_LOG_ERR };
	char set[64];
	uint64_t t0;
	int r;

	sim_params_init(&ps);
	if ((r = sim_scenario_params(scn, &ps)) != 0)
		return r;
	snprintf(set, sizeof(set), "clients=%u", clients);
	if ((r = sim_params_set(&ps, set)) != 0 || (r = sim_params_set(&ps, "rate=500")) != 0 ||
	    (r = sim_params_set(&ps, o->quick ? "duration=2s" : "duration=10s")) != 0 ||
	    (r = sim_params_set(&ps, "pool=65536")) != 0)
		return r;
	t0 = bench_now();
	r = scn->run(&ps, sim_technique_find("plain"), &ro, res);
	*secs = (double)(bench_now() - t0) / 1e9;
	if (r != 0)
		fprintf(stderr, "bench sim: %s\n", ps.err);
	return r;
}

int bench_sim_main(const struct bench_opts *o, int argc, char **argv)
{
	static const unsigned sizes[] = { 4, 50, 200 };
	double ref = bench_rate(o, bare, NULL, 1u << 20);

	(void)argc;
	(void)argv;
	printf("sim: conference scenario, technique plain, 500 packets/s per flow, both ways\n");
	printf("  reference: bare event queue %.2f M events/s\n", ref / 1e6);
	printf("  %8s %12s %10s %12s %14s %8s\n", "clients", "events", "wall s", "M events/s",
	       "M pkt hops/s", "ratio");
	for (size_t i = 0; i < SP_NELEM(sizes); i++) {
		struct sim_result res;
		double secs, rate;

		if (o->quick && sizes[i] > 50)
			break;
		if (run_conference(o, sizes[i], &res, &secs) != 0)
			return 1;
		rate = (double)res.events / secs;
		printf("  %8u %12llu %10.3f %12.2f %14.2f %8.2f\n", sizes[i],
		       (unsigned long long)res.events, secs, rate / 1e6,
		       (double)res.link_pkts / secs / 1e6, rate / ref);
	}
	return 0;
}
