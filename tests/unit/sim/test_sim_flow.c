/* Flow accounting: delivered, lost, duplicated, misdelivered, not sent, learned replies,
 * recovery after a fault. */
#include "simtest.h"
#include "sim/fault.h"
#include "sim/flow.h"

/* a, b, x on one LAN; the link's impairments are the test's. */
struct lan {
	struct sim *sim;
	struct sim_link *l;
	struct sim_node *a, *b, *x;
};

#define A SP_IP4(10, 0, 0, 1)
#define B SP_IP4(10, 0, 0, 2)
#define X SP_IP4(10, 0, 0, 3)

static void lan_init(struct lan *n, uint64_t seed, const struct sim_link_params *prm)
{
	n->sim = world(seed);
	assert_int_equal(sim_link_new(n->sim, "l", prm, &n->l), 0);
	assert_int_equal(sim_host_new(n->sim, "a", &n->a), 0);
	assert_int_equal(sim_host_new(n->sim, "b", &n->b), 0);
	assert_int_equal(sim_host_new(n->sim, "x", &n->x), 0);
	assert_int_equal(sim_iface_add(n->a, "eth0", A, 24, n->l, NULL), 0);
	assert_int_equal(sim_iface_add(n->b, "eth0", B, 24, n->l, NULL), 0);
	assert_int_equal(sim_iface_add(n->x, "eth0", X, 24, n->l, NULL), 0);
}

static uint32_t flow(struct lan *n, struct sim_node *src, struct sim_node *dst, uint32_t addr,
		     uint32_t count)
{
	struct sim_flow_spec f = { .name = "f",
				   .src = src,
				   .dst = dst,
				   .dst_addr = addr,
				   .reply_to = SIM_FLOW_NONE,
				   .sport = 5001,
				   .size = 64,
				   .start = SP_MSEC(1),
				   .interval = SP_MSEC(1),
				   .count = count };
	uint32_t id;

	assert_int_equal(sim_flow_add(n->sim, &f, &id), 0);
	return id;
}

static void loss_and_duplicates(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1), .loss = 0.1, .dup = 0.1 };
	const struct sim_flow_stats *st;
	struct sim_flow_totals t;
	struct lan n;
	uint32_t id;

	(void)state;
	lan_init(&n, 5, &prm);
	id = flow(&n, n.a, n.b, B, 4000);
	sim_run_until(n.sim, SP_TIME_NEVER);
	sim_flows_finish(n.sim, &t);
	st = sim_flow_stats(n.sim, id);
	assert_int_equal(st->sent, 4000);
	assert_int_equal(st->delivered + st->lost, st->sent);
	/* Binomial(4000, 0.1): sd 19. A lost packet is never duplicated here (the loss draw
	 * comes first); a delivered one is, one time in ten. */
	assert_in_range(st->lost, 400 - 76, 400 + 76);
	assert_in_range(st->duplicated, 360 - 76, 360 + 76);
	assert_int_equal(st->duplicated, sim_link_ctr(n.l, SIM_LINK_CTR_DUPLICATED));
	assert_int_equal(st->misdelivered, 0);
	assert_true(st->delay_max == SP_MSEC(1));
	assert_int_equal(t.sent, 4000);
	assert_int_equal(t.lost, st->lost);
	sim_free(n.sim);
}

/* Addressed to x, meant for b: every packet is misdelivered and b's count is lost. */
static void misdelivery(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	const struct sim_flow_stats *st;
	struct sim_flow_totals t;
	struct lan n;
	uint32_t id;

	(void)state;
	lan_init(&n, 5, &prm);
	id = flow(&n, n.a, n.b, X, 50);
	sim_run_until(n.sim, SP_TIME_NEVER);
	sim_flows_finish(n.sim, &t);
	st = sim_flow_stats(n.sim, id);
	assert_int_equal(st->misdelivered, 50);
	assert_int_equal(st->delivered, 0);
	assert_int_equal(st->lost, 50);
	assert_int_equal(sim_ip_ctr(n.x, SIM_IP_CTR_DROP_NO_LISTENER), 0); /* accounted */
	assert_int_equal(t.misdelivered, 50);
	sim_free(n.sim);
}

/* A reply flow goes wherever its peer flow came from, once it has come. */
static void learned_reply_address(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(5) };
	struct sim_flow_spec f = { .name = "b>a",
				   .dst_addr = 0,
				   .sport = 7000,
				   .size = 64,
				   .start = SP_MSEC(1),
				   .interval = SP_MSEC(1),
				   .count = 20 };
	const struct sim_flow_stats *st;
	struct lan n;
	uint32_t up, down;

	(void)state;
	lan_init(&n, 5, &prm);
	up = flow(&n, n.a, n.b, B, 20);
	f.src = n.b;
	f.dst = n.a;
	f.reply_to = up;
	assert_int_equal(sim_flow_add(n.sim, &f, &down), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	st = sim_flow_stats(n.sim, down);
	/* Due at 1..20 ms; a's first packet reaches b at 6 ms. */
	assert_int_equal(st->not_sent, 5);
	assert_int_equal(st->sent, 15);
	assert_int_equal(st->delivered, 15);
	assert_true(sim_flow_stats(n.sim, up)->learned_addr == A);
	assert_int_equal(sim_flow_stats(n.sim, up)->learned_port, 5001);
	/* A reply flow needs a peer flow that exists. */
	f.reply_to = 99;
	assert_int_equal(sim_flow_add(n.sim, &f, NULL), SP_EINVAL);
	sim_free(n.sim);
}

/* Sender down: nothing is sent, and it is not counted as lost. Recovery after a cut. */
static void not_sent_and_recovery(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(3) };
	struct sim_faults fs;
	struct sim_flow_totals t;
	const struct sim_flow_stats *st;
	char err[128];
	struct lan n;
	uint32_t ab, ba;

	(void)state;
	lan_init(&n, 5, &prm);
	ab = flow(&n, n.a, n.b, B, 1000); /* 1 ms .. 1 s */
	ba = flow(&n, n.b, n.a, A, 1000);
	assert_int_equal(
		sim_fault_parse("crash:a@200ms+100ms,cut:l@500ms+250ms", &fs, err, sizeof(err)), 0);
	assert_int_equal(sim_fault_schedule(n.sim, &fs, err, sizeof(err)), 0);
	assert_true(sim_fault_repair(&fs) == SP_MSEC(750));
	sim_flows_mark(n.sim, sim_fault_repair(&fs));
	sim_run_until(n.sim, SP_TIME_NEVER);
	sim_flows_finish(n.sim, &t);
	st = sim_flow_stats(n.sim, ab);
	/* a is down for 100 ms: 100 packets not sent. The cut eats 250 ms of sending and
	 * 3 ms in flight. */
	assert_in_range(st->not_sent, 99, 101);
	assert_int_equal(st->sent + st->not_sent, 1000);
	assert_in_range(st->lost, 250, 254);
	st = sim_flow_stats(n.sim, ba);
	assert_int_equal(st->not_sent, 0);
	/* b's packets to the crashed a: 100 dropped there, plus the cut's. */
	assert_in_range(st->lost, 350, 354);
	assert_int_equal(n.a->ctr[SIM_NODE_CTR_DROP_CRASHED], 100);
	/* The first packet sent after the repair arrives one delay later. */
	assert_true(t.recovered);
	assert_int_equal(t.flows_after_mark, 2);
	assert_in_range(t.recovery, SP_MSEC(3), SP_MSEC(4));
	sim_free(n.sim);
}

static void fault_syntax(void **state)
{
	struct sim_faults fs;
	char err[256], buf[256];

	(void)state;
	assert_int_equal(sim_fault_parse("none", &fs, err, sizeof(err)), 0);
	assert_int_equal(fs.n, 0);
	assert_true(sim_fault_repair(&fs) == SP_TIME_NEVER);
	assert_int_equal(
		sim_fault_parse("crash:nat@5s+1s,unplug:c2/eth0@3s", &fs, err, sizeof(err)), 0);
	assert_int_equal(fs.n, 2);
	assert_int_equal(fs.f[1].kind, SIM_FAULT_UNPLUG);
	assert_true(fs.f[1].dur == 0);
	sim_fault_fmt(&fs, buf, sizeof(buf));
	assert_string_equal(buf, "crash:nat@5s+1s,unplug:c2/eth0@3s");
	assert_int_equal(sim_fault_parse("explode:nat@5s", &fs, err, sizeof(err)), SP_EINVAL);
	assert_non_null(strstr(err, "unknown kind"));
	assert_int_equal(sim_fault_parse("crash:nat", &fs, err, sizeof(err)), SP_EINVAL);
	assert_int_equal(sim_fault_parse("crash:nat@soon", &fs, err, sizeof(err)), SP_EINVAL);
	assert_int_equal(sim_fault_parse("cut:a/b@1s", &fs, err, sizeof(err)), SP_EINVAL);
	/* Targets are checked against the world. */
	{
		struct sim_link_params prm = { 0 };
		struct lan n;

		lan_init(&n, 1, &prm);
		assert_int_equal(sim_fault_parse("crash:ghost@1s", &fs, err, sizeof(err)), 0);
		assert_int_equal(sim_fault_schedule(n.sim, &fs, err, sizeof(err)), SP_ENOTFOUND);
		assert_non_null(strstr(err, "ghost"));
		assert_int_equal(sim_fault_parse("unplug:a/eth9@1s", &fs, err, sizeof(err)), 0);
		assert_int_equal(sim_fault_schedule(n.sim, &fs, err, sizeof(err)), SP_ENOTFOUND);
		sim_free(n.sim);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loss_and_duplicates),	 cmocka_unit_test(misdelivery),
		cmocka_unit_test(learned_reply_address), cmocka_unit_test(not_sent_and_recovery),
		cmocka_unit_test(fault_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
