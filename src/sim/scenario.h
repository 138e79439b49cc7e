/*
 * Built-in scenarios and their result rows. A scenario is a C function that builds a world
 * from its parameters, lets a technique attach its engines, runs traffic and a fault
 * schedule, and fills a struct sim_result: one row of the comparison table spinat-sim
 * prints. Scenarios are listed in sim_scenarios[] (scenario.c), one file scn_<name>.c each.
 */
#ifndef SP_SIM_SCENARIO_H
#define SP_SIM_SCENARIO_H

#include "sim/flow.h"
#include "sim/technique.h"

#include <stdio.h>

struct sim_run_opts {
	uint64_t seed;
	FILE *logf;	      /* log lines; NULL: stderr */
	int log_level;	      /* SP_LOG_* */
	const char *pcap_dir; /* NULL: no pcaps; else <dir>/<scenario>-<technique>-<link>.pcap */
	bool pcap_seed;	      /* name them <scenario>-<technique>-seed<N>-<link>.pcap (runs) */
	bool verbose;	      /* after the run, print counters and node state to out */
	FILE *out;
	uint32_t pool_pkts; /* 0: SIM_POOL_DEFAULT */
};

/* One named drop counter of a run: "node module.name" and its value. */
#define SIM_DROP_NAME	 64
#define SIM_RESULT_DROPS 48
struct sim_drop {
	char name[SIM_DROP_NAME];
	uint64_t n;
};

struct sim_result {
	char technique[24];
	bool has_tunnels; /* some endpoint reported tunnels */
	uint32_t tunnels_up, tunnels_wanted;
	struct sim_flow_totals flows;
	uint64_t rx_foreign; /* endpoints' count of packets meant for another endpoint */
	bool has_fault;
	sp_time repair;	    /* when the last fault was repaired */
	double ovh_per_pkt; /* bytes on the access link per flow packet beyond its payload */
	uint64_t access_bytes;
	uint64_t access_data_pkts; /* flow packets on the access link (ovh_per_pkt's divisor) */
	bool has_nat;
	uint64_t nat_entries_peak, nat_entries_end, nat_bytes_peak;
	uint64_t drops;	      /* sum of every named drop counter (link losses included) */
	char drop_list[1024]; /* "node module.name=value ..." of the non-zero ones */
	struct sim_drop drop[SIM_RESULT_DROPS]; /* the same, one by one (the first ones) */
	unsigned ndrops;
	uint64_t drops_other; /* the values of those beyond SIM_RESULT_DROPS */
	uint64_t events;      /* simulator events run */
	uint64_t link_pkts;   /* packets handed to links (every hop counts) */
};

struct sim_scenario {
	const char *name;
	const char *descr; /* one line */
	const char *doc;   /* a paragraph for --list */
	const struct sim_param *params;
	/* Runs per technique spinat-sim makes by default (0: 1): a scenario whose outcome
	 * depends on chance needs several (sim/runs.h); a staged one, one. */
	unsigned runs;
	/* One run with technique t; ps holds this scenario's parameters (and "nat.*", and
	 * every technique's). Errors leave a message in ps->err. */
	int (*run)(struct sim_params *ps, const struct sim_technique *t,
		   const struct sim_run_opts *o, struct sim_result *res);
};

extern const struct sim_scenario *const sim_scenarios[];
const struct sim_scenario *sim_scenario_find(const char *name);

/* Declare every parameter scn runs with: its own, "nat.*", and each technique's. */
int sim_scenario_params(const struct sim_scenario *scn, struct sim_params *ps) SP_MUST_CHECK;

/* The comparison table. */
void sim_result_header(FILE *f);
void sim_result_row(FILE *f, const struct sim_result *r);
/* What the columns mean, for under the table. */
void sim_result_legend(FILE *f);
/* Cells shared by the tables: "12 entries, 864 B"; "0.044s" or "never" (SP_TIME_NEVER). */
void sim_fmt_nat_state(uint64_t entries, uint64_t bytes, char *buf, size_t len);
void sim_fmt_recovery(sp_time t, char *buf, size_t len);

/* ---- helpers for scenario implementations ------------------------------------------ */

/* A world for one run: seed, log, and pcap prefix "<dir>/<scn>-<tech>-". */
int sim_scn_world(const struct sim_run_opts *o, const char *scn, const char *tech,
		  struct sim **out) SP_MUST_CHECK;
/* Samples the NAT reports of tc's NAT routers every `every` until `until` into
 * res->nat_*_peak. Lives (on the caller's stack) as long as the run. */
struct sim_scn_sampler {
	struct sim_tech_ctx *tc;
	struct sim_result *res;
	sp_time every, until;
};
int sim_scn_sample_nat(struct sim_scn_sampler *s) SP_MUST_CHECK;
/* Fill the flow, endpoint, NAT and drop columns of res after the run. */
void sim_scn_collect(struct sim_tech_ctx *tc, struct sim_result *res);
/* Counters of every node and link, and each node's state, for --verbose. */
void sim_scn_dump(struct sim *sim, FILE *f);

#endif
