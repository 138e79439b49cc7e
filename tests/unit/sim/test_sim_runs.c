/* Several seeded runs of a technique and their aggregate row (sim/runs.h): sums, shares,
 * recovered k/N, median and slowest recovery, the slowest run's seed, overhead weighted by
 * packets, the largest NAT peak, drops summed by name; and the seeds run_many uses. */
#include "simtest.h"
#include "sim/runs.h"

#define MS(x) SP_MSEC(x)

/* A run: sent/delivered/lost/misdelivered, recovery (0: did not recover). */
static void result(struct sim_result *r, uint64_t sent, uint64_t lost, uint64_t mis,
		   sp_time recovery)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->technique, sizeof(r->technique), "tech");
	r->has_tunnels = true;
	r->tunnels_up = 3;
	r->tunnels_wanted = 4;
	r->flows.sent = sent;
	r->flows.lost = lost;
	r->flows.misdelivered = mis;
	r->flows.delivered = sent - lost;
	r->has_fault = true;
	r->flows.flows_after_mark = 8;
	r->flows.recovered = recovery != 0;
	r->flows.recovery = recovery;
	r->has_nat = true;
}

static void drop(struct sim_result *r, const char *name, uint64_t n)
{
	snprintf(r->drop[r->ndrops].name, sizeof(r->drop[0].name), "%s", name);
	r->drop[r->ndrops++].n = n;
}

static char *row(const struct sim_agg *a)
{
	static char buf[512];
	FILE *m = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(m);
	sim_agg_row(m, a);
	fclose(m);
	return buf;
}

static void sums_shares_and_recovery(void **state)
{
	static struct sim_agg a;
	struct sim_result r;

	(void)state;
	sim_agg_init(&a, "tech", 7);
	/* seed 7: recovered in 40 ms; 2 misdelivered and 3 foreign; 28 bytes on 100 pkts */
	result(&r, 1000, 100, 2, MS(40));
	r.rx_foreign = 3;
	r.flows.duplicated = 1;
	r.ovh_per_pkt = 28.0;
	r.access_data_pkts = 100;
	r.nat_entries_peak = 4;
	r.nat_bytes_peak = 288;
	drop(&r, "nat node.drop_crashed", 8);
	drop(&r, "c1 ipsec.drop_no_sa", 3);
	sim_agg_add(&a, &r, 7);
	/* seed 8: never recovered; 30 bytes on 300 pkts; a larger NAT peak */
	result(&r, 1000, 300, 0, 0);
	r.ovh_per_pkt = 30.0;
	r.access_data_pkts = 300;
	r.nat_entries_peak = 6;
	r.nat_bytes_peak = 432;
	drop(&r, "nat node.drop_crashed", 10);
	drop(&r, "nat nat.drop_no_mapping", 2);
	sim_agg_add(&a, &r, 8);
	/* seed 9: 20 ms; seed 10: no traffic after the repair, not counted in recovered */
	result(&r, 1000, 0, 0, MS(20));
	sim_agg_add(&a, &r, 9);
	result(&r, 1000, 0, 0, 0);
	r.flows.flows_after_mark = 0;
	sim_agg_add(&a, &r, 10);

	assert_int_equal(a.runs, 4);
	assert_true(a.has_tunnels);
	assert_int_equal(a.tunnels_up, 12);
	assert_int_equal(a.tunnels_wanted, 16);
	assert_int_equal(a.sent, 4000);
	assert_int_equal(a.delivered, 3600);
	assert_int_equal(a.misdelivered, 5);
	assert_int_equal(a.dropped, 98 + 300);
	assert_int_equal(a.duplicated, 1);
	assert_int_equal(a.with_traffic, 3);
	assert_int_equal(a.recovered, 2);
	/* 20 ms, 40 ms, never: the middle one, and the slowest is seed 8's never */
	assert_int_equal(sim_agg_median(&a), MS(40));
	assert_int_equal(sim_agg_worst(&a), SP_TIME_NEVER);
	assert_int_equal(a.worst_seed, 8);
	assert_true(a.ovh_pkts == 400 && a.ovh_bytes == 28.0 * 100 + 30.0 * 300);
	assert_int_equal(a.nat_entries_peak, 6);
	assert_int_equal(a.nat_bytes_peak, 432);
	assert_int_equal(a.ndrops, 3);
	assert_string_equal(a.drop[0].name, "nat node.drop_crashed");
	assert_int_equal(a.drop[0].n, 18);
	assert_string_equal(a.drop[2].name, "nat nat.drop_no_mapping");
	assert_int_equal(a.drop[2].n, 2);

	/* tunnels, sent, shares of sent, dup, recovered, median, worst, ovh, NAT */
	assert_non_null(strstr(row(&a), "tech         12/16     4000    90.00%    0.12%    9.95%"
					"      1       2/3   0.040s    never    29.5  6 entries, "
					"432 B"));
}

static void median_of_even_and_slowest_seed(void **state)
{
	static struct sim_agg a;
	static const unsigned ms[] = { 60, 20, 80, 40 };
	struct sim_result r;

	(void)state;
	sim_agg_init(&a, "tech", 100);
	for (unsigned i = 0; i < SP_NELEM(ms); i++) {
		result(&r, 10, 0, 0, MS(ms[i]));
		sim_agg_add(&a, &r, 100 + i);
	}
	/* 20 40 60 80: the faster of the two middle ones */
	assert_int_equal(sim_agg_median(&a), MS(40));
	assert_int_equal(sim_agg_worst(&a), MS(80));
	assert_int_equal(a.worst_seed, 102);
	assert_non_null(strstr(row(&a), "4/4   0.040s   0.080s"));
	/* runs that never recovered count as the slowest: with half of them never, the
	 * lower middle is still a time; with more than half, never */
	result(&r, 10, 10, 0, 0);
	for (unsigned i = 0; i < 4; i++)
		sim_agg_add(&a, &r, 104 + i);
	assert_int_equal(sim_agg_median(&a), MS(80));
	assert_non_null(strstr(row(&a), "4/8   0.080s    never"));
	sim_agg_add(&a, &r, 108);
	assert_int_equal(sim_agg_median(&a), SP_TIME_NEVER);
	assert_int_equal(a.worst_seed, 104); /* the first of the never */
}

static void no_fault_no_traffic_and_many_drops(void **state)
{
	static struct sim_agg a;
	struct sim_result r;

	(void)state;
	sim_agg_init(&a, "tech", 1);
	result(&r, 10, 0, 0, 0);
	r.has_fault = false;
	r.has_tunnels = false;
	r.has_nat = false;
	sim_agg_add(&a, &r, 1);
	assert_non_null(strstr(row(&a), "tech             -       10   100.00%    0.00%    0.00%"
					"      0         -        -        -       -  -"));
	/* a fault but nothing sent after the repair in any run */
	sim_agg_init(&a, "tech", 1);
	result(&r, 10, 0, 0, 0);
	r.flows.flows_after_mark = 0;
	sim_agg_add(&a, &r, 1);
	assert_non_null(strstr(row(&a), "n/a      n/a      n/a"));
	/* more distinct drop counters than the aggregate keeps: the rest summed, not lost */
	sim_agg_init(&a, "tech", 1);
	for (unsigned k = 0; k < 2; k++) {
		result(&r, 10, 0, 0, 0);
		for (unsigned i = 0; i < SIM_RESULT_DROPS; i++) {
			char name[32];

			snprintf(name, sizeof(name), "n%u m.drop_x", k * SIM_RESULT_DROPS + i);
			drop(&r, name, 1);
		}
		r.drops_other = 5;
		sim_agg_add(&a, &r, 1 + k);
	}
	assert_int_equal(a.ndrops, SIM_AGG_DROPS);
	assert_int_equal(a.drops_other, 2 * SIM_RESULT_DROPS - SIM_AGG_DROPS + 10);
}

/* A scenario that records the seeds and options it was run with. */
static uint64_t seen_seed[16];
static bool seen_pcap_seed[16];
static unsigned nseen;
static uint64_t fail_seed;

static int fake_run(struct sim_params *ps, const struct sim_technique *t,
		    const struct sim_run_opts *o, struct sim_result *res)
{
	(void)t;
	if (o->seed == fail_seed) {
		snprintf(ps->err, sizeof(ps->err), "the sky fell");
		return SP_ECONFIG;
	}
	seen_seed[nseen] = o->seed;
	seen_pcap_seed[nseen++] = o->pcap_seed;
	result(res, 100, 0, 0, MS(o->seed));
	return 0;
}

static void run_many_seeds_follow(void **state)
{
	static const struct sim_scenario scn = { .name = "fake", .run = fake_run };
	static const struct sim_technique t = { .name = "tech" };
	static struct sim_params ps;
	static struct sim_agg a;
	struct sim_run_opts o = { .seed = 40 };

	(void)state;
	sim_params_init(&ps);
	fail_seed = 0;
	assert_int_equal(sim_scenario_run_many(&scn, &ps, &t, &o, 3, &a), 0);
	assert_int_equal(nseen, 3);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(seen_seed[k], sim_run_seed(40, k));
		assert_int_equal(seen_seed[k], 40 + k);
		assert_true(seen_pcap_seed[k]); /* pcaps of several runs are named by seed */
	}
	assert_int_equal(a.runs, 3);
	assert_int_equal(a.first_seed, 40);
	assert_int_equal(a.worst_seed, 42);
	assert_int_equal(sim_agg_worst(&a), MS(42));
	/* one run: the seed itself, pcaps named as always */
	nseen = 0;
	assert_int_equal(sim_scenario_run_many(&scn, &ps, &t, &o, 1, &a), 0);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen_seed[0], 40);
	assert_false(seen_pcap_seed[0]);
	/* a failing run stops the set and says which seed */
	nseen = 0;
	fail_seed = 41;
	assert_int_equal(sim_scenario_run_many(&scn, &ps, &t, &o, 3, &a), SP_ECONFIG);
	assert_int_equal(nseen, 1);
	assert_non_null(strstr(ps.err, "seed 41: the sky fell"));
	assert_int_equal(sim_scenario_run_many(&scn, &ps, &t, &o, 0, &a), SP_ECONFIG);
	assert_int_equal(sim_scenario_run_many(&scn, &ps, &t, &o, SIM_RUNS_MAX + 1, &a),
			 SP_ECONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sums_shares_and_recovery),
		cmocka_unit_test(median_of_even_and_slowest_seed),
		cmocka_unit_test(no_fault_no_traffic_and_many_drops),
		cmocka_unit_test(run_many_seeds_follow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
