/*
 * Crypto lanes (ipsec.h): the ESP cryptography of a batch on two threads (io/lanes.h) must
 * change nothing a peer or an operator sees. Each test runs the same traffic through a
 * pair of engines with one lane and a pair with two, and compares: the bytes on the wire
 * (AES-GCM's IV is the sequence number and CBC's comes from the same generator in the same
 * order, so they are identical), what is delivered and in which order, every counter and
 * every SA's statistics, with duplicates, replays, forgeries and unknown SPIs in a batch.
 */
#include "harness.h"

#include "io/lanes.h"
#include "proto/esp.h"

#define NPKT 80 /* more than IPSEC_JOBS_MAX: the rest are sealed at once */

static const struct {
	uint16_t enc, auth;
	size_t ek, ak;
} transforms[] = {
	{ SA_ENC_AES_GCM_16, SA_AUTH_NONE, 36, 0 },
	{ SA_ENC_NULL_AUTH_AES_GMAC, SA_AUTH_NONE, 20, 0 },
	{ SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA2_256_128, 16, 32 },
	{ SA_ENC_NULL, SA_AUTH_HMAC_SHA1_96, 0, 20 },
};

static void lane_fn(void *arg, unsigned lane, unsigned from, unsigned to)
{
	ipsec_lane_run(arg, lane, from, to);
}

/* Two harnesses alike but for the lanes: [0] one, [1] two, and the other thread. */
struct twin {
	struct harness h[2];
	struct io_lanes *lanes[2]; /* A's and B's pools in h[1] */
	struct pair_cfg c;
};

static void twin_init(struct twin *t, size_t tf, bool encap, uint32_t replay)
{
	struct ipsec_cfg two = { .lanes = 2 };

	t->c = default_pair();
	t->c.mode = SA_MODE_TUNNEL;
	t->c.enc = transforms[tf].enc;
	t->c.auth = transforms[tf].auth;
	t->c.enc_key_len = transforms[tf].ek;
	t->c.auth_key_len = transforms[tf].ak;
	t->c.encap = encap;
	t->c.replay = replay;
	harness_init(&t->h[0], NULL);
	harness_init(&t->h[1], &two);
	pair_setup(&t->h[0], &t->c);
	pair_setup(&t->h[1], &t->c);
	assert_int_equal(io_lanes_new(&t->lanes[0], 1, lane_fn, t->h[1].a.e), 0);
	assert_int_equal(io_lanes_new(&t->lanes[1], 1, lane_fn, t->h[1].b.e), 0);
}

static void twin_free(struct twin *t)
{
	io_lanes_free(t->lanes[0]);
	io_lanes_free(t->lanes[1]);
	harness_free(&t->h[0]);
	harness_free(&t->h[1]);
}

/* Every counter of engine x in harness 0 equals its twin's in harness 1. */
static void same_counters(struct ipsec *x0, struct ipsec *x1)
{
	for (unsigned c = 1; c < IPSEC_CTR_N; c++)
		if (ipsec_counter(x0, c) != ipsec_counter(x1, c))
			fail_msg("counter %s: %llu with one lane, %llu with two",
				 ipsec_counter_name(c), (unsigned long long)ipsec_counter(x0, c),
				 (unsigned long long)ipsec_counter(x1, c));
	for (const struct sa *s0 = ipsec_sa_next(x0, NULL), *s1 = ipsec_sa_next(x1, NULL);
	     s0 != NULL || s1 != NULL; s0 = ipsec_sa_next(x0, s0), s1 = ipsec_sa_next(x1, s1)) {
		assert_non_null(s0);
		assert_non_null(s1);
		assert_int_equal(s0->spi, s1->spi);
		assert_int_equal(s0->seq, s1->seq);
		assert_int_equal(s0->win.top, s1->win.top);
		assert_int_equal(s0->stats.packets, s1->stats.packets);
		assert_int_equal(s0->stats.bytes, s1->stats.bytes);
		assert_int_equal(s0->stats.drop_replay, s1->stats.drop_replay);
		assert_int_equal(s0->stats.drop_icv, s1->stats.drop_icv);
		assert_int_equal(s0->stats.drop_other, s1->stats.drop_other);
	}
}

static struct pkt *cleartext(struct harness *h, int i)
{
	uint32_t s = SP_IP4(192, 168, 1, 5), d = SP_IP4(192, 168, 2, 9);

	return i % 3 == 2 ? mk_udp(h, s, d, 1000, 2000, (size_t)(i * 7 % 90))
			  : mk_tcp(h, s, d, 1000, 80, 1000 + (size_t)i * 5);
}

/*
 * A protects NPKT packets. Harness 0 seals each at once; harness 1 defers the seals, and
 * what A handed to the network is moved aside unread (the owner's queue), then the jobs run
 * on both lanes. Returns A's wire packets of harness 1 in out[], checked equal to harness
 * 0's byte for byte (which stay in h[0].a.net's place: wire0[]).
 */
static void seal_batch(struct twin *t, struct pkt **wire0, struct pkt **wire1)
{
	struct side *a0 = &t->h[0].a, *a1 = &t->h[1].a;
	int n1 = 0, n0 = 0;
	size_t bytes;

	ipsec_seal_defer(a1->e);
	for (int i = 0; i < NPKT; i++) {
		ipsec_output(a0->e, 10, cleartext(&t->h[0], i));
		ipsec_output(a1->e, 10, cleartext(&t->h[1], i));
		while (a0->net.n > 0)
			wire0[n0++] = hq_pop(&a0->net);
		while (a1->net.n > 0)
			wire1[n1++] = hq_pop(&a1->net);
	}
	assert_int_equal(n0, NPKT);
	assert_int_equal(n1, NPKT);
	assert_int_equal(ipsec_jobs(a1->e, &bytes), IPSEC_JOBS_MAX);
	assert_true(bytes > (size_t)IPSEC_JOBS_MAX * 40);
	/* Not sealed yet: the ICV is not there (the ciphertext still the cleartext). */
	assert_memory_not_equal(pkt_data(wire0[0]), pkt_data(wire1[0]), wire0[0]->len);
	io_lanes_run(t->lanes[0], IPSEC_JOBS_MAX);
	assert_int_equal(ipsec_seal_done(a1->e), 0);
	assert_int_equal(ipsec_jobs(a1->e, NULL), 0);
	for (int i = 0; i < NPKT; i++) {
		assert_int_equal(wire0[i]->len, wire1[i]->len);
		assert_memory_equal(pkt_data(wire0[i]), pkt_data(wire1[i]), wire0[i]->len);
	}
	same_counters(a0->e, a1->e);
}

/* B takes packets in batches: harness 0 one by one, harness 1 opened ahead on two lanes,
 * of which want are (the ESP packets for a known SA whose number the window takes). */
static void open_batch(struct twin *t, struct pkt **w0, struct pkt **w1, unsigned n, unsigned want)
{
	struct side *b0 = &t->h[0].b, *b1 = &t->h[1].b;
	unsigned jobs = ipsec_preopen(b1->e, w1, n);

	assert_int_equal(jobs, want);
	io_lanes_run(t->lanes[1], jobs);
	for (unsigned i = 0; i < n; i++) {
		ipsec_input(b0->e, 20, w0[i]);
		ipsec_input(b1->e, 20, w1[i]);
	}
	ipsec_preopen_done(b1->e);
	assert_int_equal(b0->local.n, b1->local.n);
	for (int i = 0; i < b0->local.n; i++) {
		assert_int_equal(b0->local.p[i]->len, b1->local.p[i]->len);
		assert_memory_equal(pkt_data(b0->local.p[i]), pkt_data(b1->local.p[i]),
				    b0->local.p[i]->len);
	}
	hq_clear(&b0->local);
	hq_clear(&b1->local);
	same_counters(b0->e, b1->e);
}

static struct pkt *clone(struct harness *h, const struct pkt *p)
{
	struct pkt *q = pkt_alloc(&h->pool);

	assert_non_null(q);
	memcpy(pkt_put(q, p->len), pkt_data(p), p->len);
	return q;
}

static void seal_and_open_on_two_lanes(void **state)
{
	(void)state;
	for (size_t tf = 0; tf < SP_NELEM(transforms); tf++)
		for (int encap = 0; encap < 2; encap++) {
			struct pkt *w0[NPKT], *w1[NPKT];
			struct twin t;

			twin_init(&t, tf, encap, 64);
			seal_batch(&t, w0, w1);
			open_batch(&t, w0, w1, 40, 40);
			open_batch(&t, w0 + 40, w1 + 40, NPKT - 40, NPKT - 40);
			assert_int_equal(ipsec_counter(t.h[1].b.e, IPSEC_CTR_RX_DECAP), NPKT);
			twin_free(&t);
		}
}

/*
 * One inbound batch with what an attacker or the network makes of a flow: a number twice
 * in the batch, a replay of a packet accepted in an earlier batch, a forged ICV, an
 * unknown SPI, reordering within the window, and a number below the window. The window
 * is checked again in order, so the duplicate passes once.
 */
static void replays_and_forgeries_in_one_batch(void **state)
{
	struct pkt *w0[NPKT], *w1[NPKT], *b0[16], *b1[16], *old[2][2];
	static const int order[] = { 44, 45, 47, 46, 45, -1, 48, 49, 50, 51, 52, 53 };
	struct twin t;
	unsigned n = 0;

	(void)state;
	twin_init(&t, 0, false, 32);
	seal_batch(&t, w0, w1);
	/* Copies of 11 and 21 to replay: the originals go in now. */
	for (int k = 0; k < 2; k++) {
		old[0][k] = clone(&t.h[0], w0[10 + 10 * k]);
		old[1][k] = clone(&t.h[1], w1[10 + 10 * k]);
	}
	open_batch(&t, w0, w1, 40, 40); /* 1 .. 40 accepted */
	for (size_t i = 0; i < SP_NELEM(order); i++) {
		/* Copies: a packet may appear twice. */
		b0[n] = order[i] < 0 ? old[0][0] : clone(&t.h[0], w0[order[i]]);
		b1[n++] = order[i] < 0 ? old[1][0] : clone(&t.h[1], w1[order[i]]);
	}
	/* Forged: the last byte of the ICV of 53's packet. */
	pkt_data(b0[n - 1])[b0[n - 1]->len - 1] ^= 1;
	pkt_data(b1[n - 1])[b1[n - 1]->len - 1] ^= 1;
	/* Unknown SPI. */
	b0[n] = clone(&t.h[0], w0[54]);
	b1[n] = clone(&t.h[1], w1[54]);
	sp_store_be32(pkt_data(b0[n]) + 20, 0x7777);
	sp_store_be32(pkt_data(b1[n++]) + 20, 0x7777);
	/* Far below the window after 70 is accepted. */
	b0[n] = clone(&t.h[0], w0[70]);
	b1[n++] = clone(&t.h[1], w1[70]);
	b0[n] = old[0][1];
	b1[n++] = old[1][1];
	/* Opened ahead: all but 11 and 21 (seen before) and the unknown SPI; 46 both times
	 * (the window at the start of the batch takes it twice). */
	open_batch(&t, b0, b1, n, n - 3);
	/* 46 twice: once a replay; 11 (old, seen): a replay; 21 below the window of 71. */
	assert_int_equal(ipsec_counter(t.h[1].b.e, IPSEC_DROP_REPLAY), 3);
	assert_int_equal(ipsec_counter(t.h[1].b.e, IPSEC_DROP_ICV), 1);
	assert_int_equal(ipsec_counter(t.h[1].b.e, IPSEC_DROP_NO_SA), 1);
	assert_int_equal(ipsec_counter(t.h[1].b.e, IPSEC_CTR_RX_DECAP), 40 + 10);
	for (int i = 40; i < NPKT; i++) {
		pkt_free(w0[i]);
		pkt_free(w1[i]);
	}
	twin_free(&t);
}

/* An SA replaced between the opening and the input: its packets are not delivered with the
 * new SA (their bytes are plaintext by then); an outbound SA deleted with seals pending:
 * they are sealed before it goes. ASan sees any use of a freed SA. */
static void sa_replaced_with_jobs_pending(void **state)
{
	struct pkt *w0[NPKT], *w1[NPKT], *o[4];
	struct harness *h;
	struct sa_params p;
	struct sa_key k;
	struct twin t;
	unsigned jobs;

	(void)state;
	twin_init(&t, 0, false, 64);
	h = &t.h[1];
	seal_batch(&t, w0, w1);
	jobs = ipsec_preopen(h->b.e, w1, 10);
	assert_int_equal(jobs, 10);
	io_lanes_run(t.lanes[1], jobs);
	pair_params(&t.c, true, SA_DIR_IN, &p);
	k = (struct sa_key){ p.spi, p.proto, p.dst, 0 };
	assert_int_equal(ipsec_sa_del(h->b.e, &k), 0);
	assert_int_equal(ipsec_sa_add(h->b.e, 2, &p, NULL), 0);
	for (int i = 0; i < 10; i++)
		ipsec_input(h->b.e, 20, w1[i]);
	ipsec_preopen_done(h->b.e);
	assert_int_equal(h->b.local.n, 0);
	assert_int_equal(ipsec_counter(h->b.e, IPSEC_DROP_NO_SA), 10);
	/* The same packets again, now for the new SA: delivered. */
	for (int i = 10; i < 14; i++)
		ipsec_input(h->b.e, 20, w1[i]);
	assert_int_equal(h->b.local.n, 4);
	hq_clear(&h->b.local);

	ipsec_seal_defer(h->a.e);
	for (int i = 0; i < 4; i++) {
		ipsec_output(h->a.e, 30, cleartext(h, i));
		o[i] = hq_pop(&h->a.net);
	}
	assert_int_equal(ipsec_jobs(h->a.e, NULL), 4);
	pair_params(&t.c, true, SA_DIR_OUT, &p);
	k = (struct sa_key){ p.spi, p.proto, p.dst, p.reqid };
	assert_int_equal(ipsec_sa_del(h->a.e, &k), 0);
	ipsec_lane_run(h->a.e, 1, 0, 4); /* nothing left to do: no freed SA touched */
	assert_int_equal(ipsec_seal_done(h->a.e), 0);
	for (int i = 0; i < 4; i++)
		ipsec_input(h->b.e, 40, o[i]);
	assert_int_equal(h->b.local.n, 4);
	for (int i = 0; i < NPKT; i++)
		pkt_free(w0[i]);
	for (int i = 14; i < NPKT; i++)
		pkt_free(w1[i]);
	twin_free(&t);
}

/* The owner ends a deferral without running the lanes: the seals are done then, and what
 * leaves is sealed (B delivers it), never the cleartext in place. */
static void seal_done_seals_what_no_lane_ran(void **state)
{
	struct twin t;
	struct harness *h;
	struct pkt *o[3];

	(void)state;
	twin_init(&t, 2, true, 64);
	h = &t.h[1];
	ipsec_seal_defer(h->a.e);
	for (int i = 0; i < 3; i++) {
		ipsec_output(h->a.e, 30, cleartext(h, i));
		o[i] = hq_pop(&h->a.net);
	}
	assert_int_equal(ipsec_jobs(h->a.e, NULL), 3);
	assert_int_equal(ipsec_seal_done(h->a.e), 0);
	for (int i = 0; i < 3; i++)
		ipsec_input(h->b.e, 40, o[i]);
	assert_int_equal(h->b.local.n, 3);
	assert_int_equal(ipsec_counter(h->b.e, IPSEC_DROP_ICV), 0);
	twin_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_and_open_on_two_lanes),
		cmocka_unit_test(replays_and_forgeries_in_one_batch),
		cmocka_unit_test(sa_replaced_with_jobs_pending),
		cmocka_unit_test(seal_done_seals_what_no_lane_ran),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
