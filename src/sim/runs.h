/*
 * A technique judged over several runs instead of one run's luck: run k (0-based) of a set
 * started from seed S uses seed S + k, so the set is a function of S and any one run can
 * be replayed alone with --seed S+k --runs 1. struct sim_agg sums and summarises what the
 * runs' struct sim_result rows say; spinat-sim prints one aggregate row per technique, and
 * tests assert on the same struct.
 */
#ifndef SP_SIM_RUNS_H
#define SP_SIM_RUNS_H

#include "sim/scenario.h"

#include <stdio.h>

#define SIM_RUNS_MAX  1000
#define SIM_AGG_DROPS 64

struct sim_agg {
	char technique[24];
	unsigned runs;
	uint64_t first_seed;
	bool has_tunnels;
	uint64_t tunnels_up, tunnels_wanted; /* summed over the runs */
	/* Flow packets summed over the runs; misdelivered includes the endpoints' foreign
	 * packets and dropped is lost minus misdelivered, as in one run's row. */
	uint64_t sent, delivered, misdelivered, dropped, duplicated;
	bool has_fault;
	unsigned with_traffic; /* runs with flows sending after the repair */
	unsigned recovered;    /* of those, runs where every flow got through again */
	/* Recovery time of each run with traffic after the repair, in run order;
	 * SP_TIME_NEVER for a run that did not recover. */
	sp_time rec[SIM_RUNS_MAX];
	uint64_t worst_seed; /* the run with the longest recovery (the first of equals) */
	double ovh_bytes;    /* overhead bytes on the access link, summed */
	uint64_t ovh_pkts;   /* flow packets on the access link, summed */
	bool has_nat;
	uint64_t nat_entries_peak, nat_bytes_peak; /* the largest peak of any run */
	struct sim_drop drop[SIM_AGG_DROPS];	   /* each drop counter summed over the runs */
	unsigned ndrops;
	uint64_t drops_other; /* counters beyond SIM_AGG_DROPS, summed */
	uint64_t events;
};

/* The seed of run k of a set started from seed. */
static inline uint64_t sim_run_seed(uint64_t seed, unsigned k)
{
	return seed + k;
}

void sim_agg_init(struct sim_agg *a, const char *technique, uint64_t first_seed);
/* Add run r, made with seed. At most SIM_RUNS_MAX runs. */
void sim_agg_add(struct sim_agg *a, const struct sim_result *r, uint64_t seed);
/* The median and the longest recovery over the runs with traffic after the repair (a run
 * that did not recover counts as infinitely long: SP_TIME_NEVER); the median of an even
 * number is the lower middle one. SP_TIME_NEVER too when there is no such run. */
sp_time sim_agg_median(const struct sim_agg *a);
sp_time sim_agg_worst(const struct sim_agg *a);

/*
 * Run scenario scn with technique t `runs` times (1..SIM_RUNS_MAX), run k with seed
 * sim_run_seed(o->seed, k) and, when there is more than one, pcaps named by seed; a is
 * initialised and filled. On error ps->err says which seed failed and why.
 */
int sim_scenario_run_many(const struct sim_scenario *scn, struct sim_params *ps,
			  const struct sim_technique *t, const struct sim_run_opts *o,
			  unsigned runs, struct sim_agg *a) SP_MUST_CHECK;

/* The aggregate table: header, one row per technique, the legend, the summed drops and
 * each technique's slowest run. */
void sim_agg_header(FILE *f);
void sim_agg_row(FILE *f, const struct sim_agg *a);
void sim_agg_legend(FILE *f, unsigned runs, uint64_t first_seed);
void sim_agg_drops(FILE *f, const struct sim_agg *a);
void sim_agg_slowest(FILE *f, const struct sim_agg *a);

#endif
