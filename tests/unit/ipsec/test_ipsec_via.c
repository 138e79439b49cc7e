/*
 * ipsec_output_via(): cleartext protected with a chosen outbound SA, whatever SA the
 * policy points at (003's epoch guard pings through a new epoch before switching to it).
 */
#include "harness.h"

static void via_chosen_sa(void **state)
{
	struct pair_cfg c = default_pair();
	struct sa_key old = { 0x1001, IPV4_PROTO_ESP, 0 }, neu = { 0x1003, IPV4_PROTO_ESP, 0 };
	const struct spd_policy *pol;
	struct harness h;
	struct sa_params p;
	struct pkt *q;

	(void)state;
	old.dst = neu.dst = c.b_addr;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	for (pol = ipsec_policy_next(h.a.e, NULL); pol->dir != SA_DIR_OUT;)
		pol = ipsec_policy_next(h.a.e, pol);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &old), 0);
	/* A new epoch in both engines; A's policy stays pinned on the old one. */
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.spi = 0x1003;
	assert_int_equal(ipsec_sa_add(h.a.e, 2, &p, NULL), 0);
	pair_params(&c, true, SA_DIR_IN, &p);
	p.spi = 0x1003;
	assert_int_equal(ipsec_sa_add(h.b.e, 2, &p, NULL), 0);
	assert_int_equal(pol->sa->spi, 0x1001);

	/* Through the new SA by name; B takes it on its new inbound SA. */
	assert_int_equal(ipsec_output_via(h.a.e, 3, mk_udp(&h, c.a_addr, c.b_addr, 7, 7, 12), &neu),
			 0);
	q = hq_pop(&h.a.net);
	assert_non_null(q);
	assert_int_equal(sp_load_be32(pkt_data(q) + 20), 0x1003);
	ipsec_input(h.b.e, 3, q);
	q = hq_pop(&h.b.local);
	assert_non_null(q);
	pkt_free(q);
	assert_true(ipsec_sa_lookup(h.a.e, &neu)->stats.packets == 1);
	/* Policy traffic still leaves on the old SA. */
	ipsec_output(h.a.e, 4, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	q = hq_pop(&h.a.net);
	assert_int_equal(sp_load_be32(pkt_data(q) + 20), 0x1001);
	pkt_free(q);

	/* Held on no SA: traffic waits (acquire) even when an SA with the reqid comes. */
	{
		struct sa_key none = { 0, IPV4_PROTO_ESP, 0 };

		assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &none), 0);
		assert_null(pol->sa);
		pair_params(&c, true, SA_DIR_OUT, &p);
		p.spi = 0x1004;
		assert_int_equal(ipsec_sa_add(h.a.e, 4, &p, NULL), 0);
		assert_null(pol->sa);
		ipsec_output(h.a.e, 4, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
		assert_int_equal(h.a.net.n, 0);
		assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_ACQUIRE), 1);
		assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &old), 0);
	}

	/* Unknown, inbound or malformed: consumed and counted, never sent. */
	neu.spi = 0x7777;
	assert_int_equal(ipsec_output_via(h.a.e, 5, mk_udp(&h, c.a_addr, c.b_addr, 7, 7, 12), &neu),
			 SP_ENOTFOUND);
	neu.spi = 0x2002;
	neu.dst = c.a_addr; /* A's inbound SA */
	assert_int_equal(ipsec_output_via(h.a.e, 5, mk_udp(&h, c.a_addr, c.b_addr, 7, 7, 12), &neu),
			 SP_ENOTFOUND);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_NO_SA), 2);
	q = mk_udp(&h, c.a_addr, c.b_addr, 7, 7, 12);
	pkt_data(q)[0] = 0x65; /* not IPv4 */
	assert_int_equal(ipsec_output_via(h.a.e, 5, q, &old), SP_EMALFORMED);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_MALFORMED), 1);
	assert_int_equal(h.a.net.n, 0);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(via_chosen_sa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
