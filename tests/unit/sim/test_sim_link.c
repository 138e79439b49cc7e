/* Links: delay, jitter, loss, duplication, reordering, rate, cuts, ports, pcaps; crashes. */
#include "simtest.h"

#include <unistd.h>

struct pair {
	struct sim *sim;
	struct sim_link *l;
	struct sim_node *a, *b;
};

static void pair_init(struct pair *p, uint64_t seed, const struct sim_link_params *prm)
{
	p->sim = world(seed);
	assert_int_equal(sim_link_new(p->sim, "l", prm, &p->l), 0);
	p->a = rec_node(p->sim, "a");
	p->b = rec_node(p->sim, "b");
	assert_int_equal(sim_iface_add(p->a, "eth0", ip4("10.0.0.1"), 24, p->l, NULL), 0);
	assert_int_equal(sim_iface_add(p->b, "eth0", ip4("10.0.0.2"), 24, p->l, NULL), 0);
}

/* Send from a to b at time u (ns), word = u as a sequence number. */
static void send_at(struct sim *sim, void *arg, uint64_t u)
{
	struct pair *p = arg;

	sim_node_xmit(p->a, 0, ip4("10.0.0.2"), word_pkt(sim, (uint32_t)(u >> 32), 100));
}

static void schedule_sends(struct pair *p, unsigned n, sp_time every)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sim_at(p->sim, (sp_time)i * every, send_at, p, (uint64_t)i << 32),
				 0);
}

static void loss_rate_within_tolerance(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1), .loss = 0.2 };
	struct pair p;
	struct rec *r;

	(void)state;
	pair_init(&p, 7, &prm);
	schedule_sends(&p, 10000, SP_USEC(10));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	/* Binomial(10000, 0.8): sd 40; 4 sd either way. */
	assert_in_range(r->n, 8000 - 160, 8000 + 160);
	assert_int_equal(sim_link_ctr(p.l, SIM_LINK_CTR_LOST) + r->n, 10000);
	assert_int_equal(sim_link_ctr(p.l, SIM_LINK_CTR_DELIVERED), r->n);
	sim_free(p.sim);
}

static void jitter_bounded_and_fifo(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(10), .jitter = SP_MSEC(2) };
	struct pair p;
	struct rec *r;
	double extra_sum = 0;
	sp_time extra_max = 0;

	(void)state;
	pair_init(&p, 7, &prm);
	schedule_sends(&p, 5000, SP_MSEC(1));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	assert_int_equal(r->n, 5000);
	for (unsigned i = 0; i < r->n; i++) {
		sp_time sent = (sp_time)r->word[i] * SP_MSEC(1);
		sp_time extra = r->t[i] - sent - SP_MSEC(10);

		assert_int_equal(r->word[i], i); /* jitter alone never reorders */
		assert_true(r->t[i] >= sent + SP_MSEC(10));
		assert_true(extra <= SP_MSEC(2));
		extra_sum += (double)extra;
		if (extra > extra_max)
			extra_max = extra;
	}
	/* Uniform on [0, 2 ms] (FIFO only lifts a few): mean near 1 ms, and it spreads. */
	assert_true(extra_sum / r->n > 0.9e6 && extra_sum / r->n < 1.2e6);
	assert_true(extra_max > SP_USEC(1900));
	sim_free(p.sim);
}

static void reorder_and_duplicate(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1), .reorder = 0.1, .dup = 0.05 };
	struct pair p;
	struct rec *r;
	unsigned inversions = 0;
	uint64_t reord, dups;

	(void)state;
	pair_init(&p, 11, &prm);
	schedule_sends(&p, 10000, SP_USEC(100));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	reord = sim_link_ctr(p.l, SIM_LINK_CTR_REORDERED);
	dups = sim_link_ctr(p.l, SIM_LINK_CTR_DUPLICATED);
	/* Binomial(10000, 0.1): sd 30; (10000, 0.05): sd 22. */
	assert_in_range(reord, 1000 - 120, 1000 + 120);
	assert_in_range(dups, 500 - 88, 500 + 88);
	assert_int_equal(r->n, 10000 + dups);
	for (unsigned i = 1; i < r->n; i++)
		if (r->word[i] < r->word[i - 1])
			inversions++;
	/* Every held-back packet (2 ms = 20 sends) is overtaken. */
	assert_true(inversions >= reord * 9 / 10);
	sim_free(p.sim);
}

static void cut(struct sim *sim, void *arg, uint64_t up)
{
	(void)sim;
	sim_link_set_up(arg, up != 0);
}

/* A cut drops what is sent while it lasts and what is in flight when it starts. */
static void cut_drops_in_flight_and_while_down(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(5) };
	struct pair p;
	struct rec *r;

	(void)state;
	pair_init(&p, 1, &prm);
	/* Queued before the sends, so at 30 ms and 60 ms the link changes first. */
	assert_int_equal(sim_at(p.sim, SP_MSEC(30), cut, p.l, 0), 0);
	assert_int_equal(sim_at(p.sim, SP_MSEC(60), cut, p.l, 1), 0);
	schedule_sends(&p, 100, SP_MSEC(1));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	/* Sent 0..24 arrive before the cut; 25..29 are in flight at 30; 30..59 meet the cut;
	 * 60..99 pass. */
	assert_int_equal(r->n, 25 + 40);
	assert_int_equal(sim_link_ctr(p.l, SIM_LINK_CTR_DROP_CUT), 35);
	assert_int_equal(r->word[24], 24);
	assert_int_equal(r->word[25], 60);
	sim_free(p.sim);
}

static void rate_and_queue(void **state)
{
	/* 8 Mbit/s: a 1000-byte packet takes 1 ms; 3000 bytes may wait. */
	struct sim_link_params prm = { .delay = SP_MSEC(2),
				       .rate_bps = 8000000,
				       .queue_bytes = 3000 };
	struct pair p;
	struct rec *r;

	(void)state;
	pair_init(&p, 1, &prm);
	for (unsigned i = 0; i < 10; i++)
		sim_node_xmit(p.a, 0, ip4("10.0.0.2"), word_pkt(p.sim, i, 1000));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	assert_int_equal(r->n, 4);
	assert_int_equal(sim_link_ctr(p.l, SIM_LINK_CTR_DROP_QUEUE), 6);
	for (unsigned i = 0; i < 4; i++)
		assert_true(r->t[i] == SP_MSEC(2) + (sp_time)(i + 1) * SP_MSEC(1));
	sim_free(p.sim);
}

/* A LAN: the next hop's address picks the port; unplugging one port spares the others. */
static void lan_resolution_and_unplug(void **state)
{
	struct sim *sim = world(1);
	struct sim_link *lan;
	struct sim_node *a, *b, *c;

	(void)state;
	assert_int_equal(sim_link_new(sim, "lan", NULL, &lan), 0);
	a = rec_node(sim, "a");
	b = rec_node(sim, "b");
	c = rec_node(sim, "c");
	assert_int_equal(sim_iface_add(a, "eth0", ip4("10.0.0.1"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(b, "eth0", ip4("10.0.0.2"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(c, "eth0", ip4("10.0.0.3"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_addr_add(c, 0, ip4("10.0.0.33")), 0);
	sim_node_xmit(a, 0, ip4("10.0.0.2"), word_pkt(sim, 1, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.3"), word_pkt(sim, 2, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.33"), word_pkt(sim, 3, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.9"), word_pkt(sim, 4, 64));
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(rec_of(b)->n, 1);
	assert_int_equal(rec_of(b)->word[0], 1);
	assert_int_equal(rec_of(c)->n, 2);
	assert_int_equal(sim_link_ctr(lan, SIM_LINK_CTR_DROP_NO_NEIGHBOR), 1);

	sim_link_port_set_up(lan, b->ifs[0].port, false);
	sim_node_xmit(a, 0, ip4("10.0.0.2"), word_pkt(sim, 5, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.3"), word_pkt(sim, 6, 64));
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(rec_of(b)->n, 1);
	assert_int_equal(rec_of(c)->n, 3);
	assert_int_equal(sim_link_ctr(lan, SIM_LINK_CTR_DROP_PORT_DOWN), 1);
	sim_free(sim);
}

/* Extra delay towards one port holds back only that port's packets. */
static void port_delay_is_per_receiver(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	struct sim *sim = world(1);
	struct sim_link *lan;
	struct sim_node *a, *b, *c;

	(void)state;
	assert_int_equal(sim_link_new(sim, "lan", &prm, &lan), 0);
	a = rec_node(sim, "a");
	b = rec_node(sim, "b");
	c = rec_node(sim, "c");
	assert_int_equal(sim_iface_add(a, "eth0", ip4("10.0.0.1"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(b, "eth0", ip4("10.0.0.2"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(c, "eth0", ip4("10.0.0.3"), 24, lan, NULL), 0);
	sim_link_port_delay(lan, c->ifs[0].port, SP_MSEC(10));
	sim_node_xmit(a, 0, ip4("10.0.0.3"), word_pkt(sim, 1, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.2"), word_pkt(sim, 2, 64));
	sim_node_xmit(a, 0, ip4("10.0.0.3"), word_pkt(sim, 3, 64));
	sim_run_until(sim, SP_TIME_NEVER);
	assert_int_equal(rec_of(b)->n, 1);
	assert_true(rec_of(b)->t[0] == SP_MSEC(1));
	assert_int_equal(rec_of(c)->n, 2);
	assert_true(rec_of(c)->t[0] == SP_MSEC(11) && rec_of(c)->t[1] == SP_MSEC(11));
	assert_int_equal(rec_of(c)->word[0], 1); /* and in order */
	sim_free(sim);
}

static void crash(struct sim *sim, void *arg, uint64_t up)
{
	(void)sim;
	if (up)
		sim_node_restart(arg);
	else
		sim_node_crash(arg);
}

static void crashed_node_drops_and_counts(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	struct pair p;
	struct rec *r;

	(void)state;
	pair_init(&p, 1, &prm);
	assert_int_equal(sim_at(p.sim, SP_MSEC(10) + 1, crash, p.b, 0), 0);
	assert_int_equal(sim_at(p.sim, SP_MSEC(20) + 1, crash, p.b, 1), 0);
	schedule_sends(&p, 30, SP_MSEC(1));
	sim_run_until(p.sim, SP_TIME_NEVER);
	r = rec_of(p.b);
	/* Arrivals at 1..10 ms before the crash, at 11..20 ms lost, 21..30 ms after restart. */
	assert_int_equal(r->n, 10 + 10);
	assert_int_equal(p.b->ctr[SIM_NODE_CTR_DROP_CRASHED], 10);
	assert_int_equal(p.b->ctr[SIM_NODE_CTR_CRASHES], 1);
	assert_int_equal(r->crashes, 1);
	assert_int_equal(r->restarts, 1);
	assert_false(!p.b->up);
	sim_free(p.sim);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static size_t pcap_run(uint64_t seed, const char *path, uint8_t *buf, size_t cap)
{
	struct sim_link_params prm = { .delay = SP_MSEC(3), .jitter = SP_MSEC(1), .loss = 0.1 };
	struct pair p;

	pair_init(&p, seed, &prm);
	assert_int_equal(sim_link_pcap(p.l, path), 0);
	schedule_sends(&p, 200, SP_MSEC(1));
	sim_run_until(p.sim, SP_TIME_NEVER);
	sim_free(p.sim); /* closes the file */
	return slurp(path, buf, cap);
}

static void pcap_same_seed_same_bytes(void **state)
{
	static uint8_t f1[65536], f2[65536], f3[65536];
	char path[] = "/tmp/spinat-simpcap-XXXXXX";
	int fd = mkstemp(path);
	size_t n1, n2, n3;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	n1 = pcap_run(5, path, f1, sizeof(f1));
	n2 = pcap_run(5, path, f2, sizeof(f2));
	n3 = pcap_run(6, path, f3, sizeof(f3));
	unlink(path);
	assert_true(n1 > 24 + 150 * (16 + 100));
	assert_int_equal(n1, n2);
	assert_memory_equal(f1, f2, n1);
	assert_true(n1 != n3 || memcmp(f1, f3, n1) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loss_rate_within_tolerance),
		cmocka_unit_test(jitter_bounded_and_fifo),
		cmocka_unit_test(reorder_and_duplicate),
		cmocka_unit_test(cut_drops_in_flight_and_while_down),
		cmocka_unit_test(rate_and_queue),
		cmocka_unit_test(lan_resolution_and_unplug),
		cmocka_unit_test(port_delay_is_per_receiver),
		cmocka_unit_test(crashed_node_drops_and_counts),
		cmocka_unit_test(pcap_same_seed_same_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
