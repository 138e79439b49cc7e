/* The event queue: order by time then scheduling order, the clock, timers, rng streams. */
#include "simtest.h"

struct log_ev {
	unsigned n;
	uint64_t tag[64];
	sp_time t[64];
};

static void note(struct sim *sim, void *arg, uint64_t u)
{
	struct log_ev *l = arg;

	l->tag[l->n] = u;
	l->t[l->n] = sim_now(sim);
	l->n++;
}

static void order_time_then_insertion(void **state)
{
	struct sim *sim = world(1);
	struct log_ev l = { 0 };
	/* Scheduled out of order, with ties at 20 and 30. */
	static const struct {
		sp_time t;
		uint64_t tag;
	} evs[] = { { 30, 1 }, { 10, 2 }, { 20, 3 }, { 30, 4 }, { 20, 5 }, { 0, 6 }, { 20, 7 } };
	static const uint64_t want[] = { 6, 2, 3, 5, 7, 1, 4 };

	(void)state;
	for (size_t i = 0; i < SP_NELEM(evs); i++)
		assert_int_equal(sim_at(sim, evs[i].t, note, &l, evs[i].tag), 0);
	assert_int_equal(sim_run_until(sim, SP_TIME_NEVER), SP_NELEM(evs));
	assert_int_equal(l.n, SP_NELEM(want));
	for (size_t i = 0; i < SP_NELEM(want); i++) {
		assert_int_equal(l.tag[i], want[i]);
		if (i > 0)
			assert_true(l.t[i] >= l.t[i - 1]);
	}
	sim_free(sim);
}

/* Many equal times: the heap must not reorder them (a heap is not stable by itself). */
static void ties_are_fifo_at_scale(void **state)
{
	struct sim *sim = world(1);
	struct log_ev l = { 0 };
	uint64_t next = 0;

	(void)state;
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal(sim_at(sim, (i % 3) * 100, note, &l, i), 0);
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(l.n, 60);
	/* All with t=0 in insertion order, then t=100, then t=200. */
	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = k; i < 60; i += 3)
			assert_int_equal(l.tag[next++], i);
	sim_free(sim);
}

static void run_until_stops_and_sets_clock(void **state)
{
	struct sim *sim = world(1);
	struct log_ev l = { 0 };

	(void)state;
	assert_int_equal(sim_at(sim, SP_SEC(1), note, &l, 1), 0);
	assert_int_equal(sim_at(sim, SP_SEC(3), note, &l, 2), 0);
	assert_int_equal(sim_run_until(sim, SP_SEC(2)), 1);
	assert_true(sim_now(sim) == SP_SEC(2));
	assert_int_equal(l.n, 1);
	/* An event in the past runs now, not back in time. */
	assert_int_equal(sim_at(sim, SP_SEC(1), note, &l, 3), 0);
	assert_int_equal(sim_run_until(sim, SP_TIME_NEVER), 2);
	assert_int_equal(l.tag[1], 3);
	assert_true(l.t[1] == SP_SEC(2));
	assert_true(l.t[2] == SP_SEC(3));
	sim_free(sim);
}

struct tm_state {
	unsigned fired;
	sp_time at[16];
};

static void tm_fn(struct sim *sim, struct sim_timer *t, sp_time now)
{
	struct tm_state *s = t->arg;

	(void)sim;
	s->at[s->fired++] = now;
}

static void timers_rearm_and_cancel(void **state)
{
	struct sim *sim = world(1);
	struct tm_state s = { 0 };
	struct sim_timer t;
	size_t before;

	(void)state;
	sim_timer_init(&t, tm_fn, &s);
	/* Later: no new queue entry; fires at the later time only. */
	assert_int_equal(sim_timer_arm(sim, &t, 100), 0);
	before = sim_pending(sim);
	for (sp_time x = 200; x <= 10000; x += 100)
		assert_int_equal(sim_timer_arm(sim, &t, x), 0);
	assert_int_equal(sim_pending(sim), before);
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(s.fired, 1);
	assert_true(s.at[0] == 10000);
	/* Earlier: fires at the earlier time, the stale event is ignored. */
	assert_int_equal(sim_timer_arm(sim, &t, 20000), 0);
	assert_int_equal(sim_timer_arm(sim, &t, 15000), 0);
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(s.fired, 2);
	assert_true(s.at[1] == 15000);
	/* Cancelled: nothing fires. */
	assert_int_equal(sim_timer_arm(sim, &t, 30000), 0);
	sim_timer_cancel(&t);
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(s.fired, 2);
	/* Cancelled and re-armed to the same time: fires once. */
	assert_int_equal(sim_timer_arm(sim, &t, 40000), 0);
	sim_timer_cancel(&t);
	assert_int_equal(sim_timer_arm(sim, &t, 40000), 0);
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(s.fired, 3);
	assert_true(s.at[2] == 40000);
	sim_free(sim);
}

/* Streams depend on (seed, name) only: creating other entities does not shift them. */
static void rng_streams_independent(void **state)
{
	struct sp_xoshiro a1, a2, b, c;
	struct sim *s1 = world(42), *s2 = world(42), *s3 = world(43);
	struct sim_link *l;

	(void)state;
	sim_rng_derive(s1, "link:x", &a1);
	assert_int_equal(sim_link_new(s2, "other", NULL, &l), 0);
	sim_rng_derive(s2, "link:x", &a2);
	sim_rng_derive(s2, "link:y", &b);
	sim_rng_derive(s3, "link:x", &c);
	for (int i = 0; i < 8; i++) {
		uint64_t v = sp_xoshiro_next(&a1);

		assert_true(v == sp_xoshiro_next(&a2));
		assert_true(v != sp_xoshiro_next(&b));
		assert_true(v != sp_xoshiro_next(&c));
	}
	sim_free(s1);
	sim_free(s2);
	sim_free(s3);
}

/* The drop list: every module's drop reasons, a NAT strategy's own, a link's losses; not
 * the verdict totals that only say a reason was counted elsewhere. */
static const char *const drop_names[] = {
	"rx",	       "drop_cut", "masq_drop_n_out", "lost",
	"nat_dropped", "dropped",  "drop_x",	      "ipaddr_drop_server_busy"
};
static uint64_t drop_vals[SP_NELEM(drop_names)] = { 1, 2, 3, 4, 5, 6, 0, 7 };

static void sum_drop(void *arg, const char *inst, const char *mod, const char *name, uint64_t v)
{
	uint64_t *sum = arg;

	assert_string_equal(inst, "n1");
	assert_string_equal(mod, "t");
	assert_true(sim_ctr_is_drop(name));
	*sum += v;
}

static void drop_reasons_listed(void **state)
{
	struct sim *sim = world(1);
	struct sim_node *n = rec_node(sim, "n1");
	struct sp_ctrs blk;
	uint64_t sum = 0;

	(void)state;
	sp_ctrs_init(&blk, "t", "n1", drop_names, drop_vals, SP_NELEM(drop_names));
	sp_ctr_register(&n->ctrs, &blk);
	sim_ctr_each_drop(sim, sum_drop, &sum);
	assert_int_equal(sum, 2 + 3 + 4 + 7); /* drop_x is zero */
	assert_false(sim_ctr_is_drop("nat_dropped"));
	assert_false(sim_ctr_is_drop("dropped"));
	assert_true(sim_ctr_is_drop("serial_drop_hold_full"));
	sp_ctr_unregister(&n->ctrs, &blk);
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_time_then_insertion),
		cmocka_unit_test(ties_are_fifo_at_scale),
		cmocka_unit_test(run_until_stops_and_sets_clock),
		cmocka_unit_test(timers_rearm_and_cancel),
		cmocka_unit_test(rng_streams_independent),
		cmocka_unit_test(drop_reasons_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
