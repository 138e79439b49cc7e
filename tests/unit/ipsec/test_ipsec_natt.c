/*
 * Dynamic address update of UDP-encapsulated SAs (RFC 7296 2.23, RFC 3948): B is the end
 * not behind a NAT (its SAs have natt_follow), A sits behind a NAT that restarts and maps
 * it to another port or address. After the first authenticated new packet from there, B
 * sends to the new place; nothing else moves B's peer: a packet that fails its ICV, an
 * old packet replayed from the old place, an SA without the flag (the end behind the NAT),
 * an SA without anti-replay, raw ESP.
 */
#include "harness.h"

#define GLOBAL	 SP_IP4(192, 0, 2, 1)
#define GLOBAL_2 SP_IP4(192, 0, 2, 77)

/* What the restarted NAT makes of A's packets: this source address and port. */
static uint32_t nat_addr;
static uint16_t nat_port;

static void nat_restarted(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);

	ipv4_set_src(ip, nat_addr);
	if (ip[IPV4_OFF_PROTO] == IPV4_PROTO_UDP)
		sp_store_be16(ip + 20, nat_port); /* the UDP checksum of ESP-in-UDP is 0 */
}

static void flip_icv(struct pkt *p)
{
	nat_restarted(p);
	pkt_data(p)[p->len - 1] ^= 1;
}

static struct pkt *mk_inner(struct harness *h, const struct pair_cfg *c)
{
	return mk_udp(h, c->a_net + 5, c->b_net + 9, 1000, 2000, 40);
}

/* B answers: the outer destination and UDP port its packet goes to. */
static void b_sends_to(struct harness *h, const struct pair_cfg *c, sp_time now, uint32_t *addr,
		       uint16_t *port)
{
	struct pkt *p;
	uint8_t *ip;

	ipsec_output(h->b.e, now, mk_udp(h, c->b_net + 9, c->a_net + 5, 2000, 1000, 40));
	assert_int_equal(h->b.net.n, 1);
	p = hq_pop(&h->b.net);
	ip = pkt_data(p);
	assert_int_equal(ip[IPV4_OFF_PROTO], IPV4_PROTO_UDP);
	*addr = sp_load_be32(ip + IPV4_OFF_DST);
	*port = sp_load_be16(ip + 22);
	pkt_free(p);
}

static struct pair_cfg natt_pair(void)
{
	struct pair_cfg c = default_pair();

	c.mode = SA_MODE_TUNNEL;
	c.encap = true;
	c.follow_b = true;
	return c;
}

static void follows_after_nat_restart(void **state)
{
	struct pair_cfg c = natt_pair();
	struct harness h;
	uint32_t addr;
	uint16_t port;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	/* Before: A as B knows it. */
	nat_addr = c.a_addr;
	nat_port = 4500;
	ipsec_output(h.a.e, 10, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 10, nat_restarted), 1);
	assert_int_equal(h.b.local.n, 1);
	b_sends_to(&h, &c, 11, &addr, &port);
	assert_int_equal(addr, c.a_addr);
	assert_int_equal(port, 4500);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 0);

	/* The NAT restarts and maps A to another port: B follows at the first packet. */
	nat_port = 31648;
	ipsec_output(h.a.e, 20, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 20, nat_restarted), 1);
	assert_int_equal(h.b.local.n, 2);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 1);
	assert_int_equal(h.b.nev, 1);
	assert_int_equal(h.b.ev[0].type, IPSEC_EV_PEER_MOVED);
	assert_int_equal(h.b.ev[0].sa->spi, c.spi_ab);
	assert_int_equal(h.b.ev[0].old_addr, c.a_addr);
	assert_int_equal(h.b.ev[0].old_port, 4500);
	assert_int_equal(h.b.ev[0].addr, c.a_addr);
	assert_int_equal(h.b.ev[0].port, 31648);
	b_sends_to(&h, &c, 21, &addr, &port);
	assert_int_equal(addr, c.a_addr);
	assert_int_equal(port, 31648);
	/* More packets from there change nothing. */
	ipsec_output(h.a.e, 22, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 22, nat_restarted), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 1);

	/* Another address too (a NAT with a pool, or a new NAT): B's outbound SA changes
	 * its destination, found under its new wire identity. */
	nat_addr = GLOBAL;
	nat_port = 4500;
	ipsec_output(h.a.e, 30, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 30, nat_restarted), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 2);
	b_sends_to(&h, &c, 31, &addr, &port);
	assert_int_equal(addr, GLOBAL);
	assert_int_equal(port, 4500);
	assert_non_null(
		ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ba, IPV4_PROTO_ESP, GLOBAL }));
	assert_null(ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ba, IPV4_PROTO_ESP, c.a_addr }));
	assert_int_equal(
		ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP, c.b_addr })->src,
		GLOBAL);
	harness_free(&h);
}

/* Only an authenticated, new packet moves the peer (2.23: "dynamic address update should
 * only be done in response to a new packet"). */
static void only_new_authentic_packets(void **state)
{
	struct pair_cfg c = natt_pair();
	struct harness h;
	struct pkt *old;
	uint32_t addr;
	uint16_t port;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	/* A forged or corrupted packet from elsewhere: dropped, B stays. */
	nat_addr = GLOBAL_2;
	nat_port = 999;
	ipsec_output(h.a.e, 10, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 10, flip_icv), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_ICV), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 0);
	b_sends_to(&h, &c, 11, &addr, &port);
	assert_int_equal(addr, c.a_addr);
	assert_int_equal(port, 4500);

	/* A packet captured at the old place, held back; A moves on. */
	ipsec_output(h.a.e, 12, mk_inner(&h, &c));
	old = hq_pop(&h.a.net);
	nat_addr = c.a_addr;
	nat_port = 14500;
	ipsec_output(h.a.e, 13, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 13, nat_restarted), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 1);
	/* The old packet now: inside the window and authentic, so delivered, but older than
	 * the newest: the peer is not moved back (an attacker could replay it). */
	hq_push(&h.a.net, old);
	nat_port = 4500;
	assert_int_equal(deliver(&h, &h.a, &h.b, 14, nat_restarted), 1);
	assert_int_equal(h.b.local.n, 2);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 1);
	b_sends_to(&h, &c, 15, &addr, &port);
	assert_int_equal(port, 14500);
	harness_free(&h);
}

/* The end behind the NAT (no natt_follow), an SA without anti-replay, and raw ESP stay
 * where IKE put them. */
static void who_does_not_follow(void **state)
{
	for (int k = 0; k < 3; k++) {
		struct pair_cfg c = natt_pair();
		struct harness h;
		uint32_t addr;
		uint16_t port;

		(void)state;
		if (k == 0)
			c.follow_b = false; /* 2.23: "A host behind a NAT SHOULD NOT" */
		else if (k == 1)
			c.replay = 0; /* "only ... safely if replay protection is enabled" */
		else
			c.encap = false; /* natt_follow needs UDP encapsulation */
		harness_init(&h, NULL);
		pair_setup(&h, &c);
		nat_addr = GLOBAL;
		nat_port = 31648;
		ipsec_output(h.a.e, 10, mk_inner(&h, &c));
		assert_int_equal(deliver(&h, &h.a, &h.b, 10, nat_restarted), 1);
		assert_int_equal(h.b.local.n, 1);
		assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 0);
		assert_int_equal(h.b.nev, 0);
		ipsec_output(h.b.e, 11, mk_udp(&h, c.b_net + 9, c.a_net + 5, 2000, 1000, 40));
		assert_int_equal(h.b.net.n, 1);
		addr = sp_load_be32(pkt_data(h.b.net.p[0]) + IPV4_OFF_DST);
		port = c.encap ? sp_load_be16(pkt_data(h.b.net.p[0]) + 22) : 4500;
		assert_int_equal(addr, c.a_addr);
		assert_int_equal(port, 4500);
		harness_free(&h);
	}
}

/* The SAs that follow are those of the reqid that had the old peer: another tunnel's SAs
 * to the same NAT address (another client behind it) stay. */
static void follows_by_reqid_and_old_peer(void **state)
{
	struct pair_cfg c = natt_pair(), d = natt_pair();
	struct harness h;
	struct sa_params p;
	const struct sa *other;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	/* A second client behind the same address, its own SPIs and reqid, port 31000. */
	d.spi_ab = 0x3003;
	d.spi_ba = 0x4004;
	d.reqid = 2;
	pair_params(&d, false, SA_DIR_OUT, &p);
	p.encap_dport = 31000;
	assert_int_equal(ipsec_sa_add(h.b.e, 1, &p, NULL), 0);
	nat_addr = c.a_addr;
	nat_port = 31000; /* the restarted NAT gave A the other client's old port */
	ipsec_output(h.a.e, 10, mk_inner(&h, &c));
	assert_int_equal(deliver(&h, &h.a, &h.b, 10, nat_restarted), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 1);
	other = ipsec_sa_lookup(h.b.e, &(struct sa_key){ 0x4004, IPV4_PROTO_ESP, c.a_addr });
	assert_non_null(other);
	assert_int_equal(other->encap_dport, 31000); /* unchanged: not A's */
	assert_int_equal(
		ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ba, IPV4_PROTO_ESP, c.a_addr })
			->encap_dport,
		31000);
	harness_free(&h);
}

/* ipsec_sa_move(), what IKE calls when an IKE message showed the peer's new place. */
static void sa_move_api(void **state)
{
	struct pair_cfg c = natt_pair();
	struct harness h;
	uint32_t addr;
	uint16_t port;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	assert_int_equal(ipsec_sa_move(h.b.e,
				       &(struct sa_key){ c.spi_ba, IPV4_PROTO_ESP, c.a_addr },
				       GLOBAL, 4501),
			 0);
	b_sends_to(&h, &c, 5, &addr, &port);
	assert_int_equal(addr, GLOBAL);
	assert_int_equal(port, 4501);
	assert_int_equal(ipsec_sa_move(h.b.e,
				       &(struct sa_key){ c.spi_ba, IPV4_PROTO_ESP, c.a_addr },
				       GLOBAL, 4501),
			 SP_ENOTFOUND);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_PEER_MOVED), 0); /* not the data plane's */
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(follows_after_nat_restart),
		cmocka_unit_test(only_new_authentic_packets),
		cmocka_unit_test(who_does_not_follow),
		cmocka_unit_test(follows_by_reqid_and_old_peer),
		cmocka_unit_test(sa_move_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
