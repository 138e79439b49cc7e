/* The IPsec engine end to end between two instances: every transform in both modes, with
 * and without ESN and UDP encapsulation, and every drop reason, event and policy rule. */
#include "harness.h"

#include "crypto/crypto.h"
#include "ipsec/esp.h"
#include "proto/esp.h"
#include "../../fuzz/ipsec_fuzz.h"

#include <stdlib.h>

/* Send one packet A -> B and expect B to deliver exactly the same bytes. */
static void roundtrip(struct harness *h, struct pkt *p, uint64_t now)
{
	uint8_t orig[PKT_BUFSIZE];
	uint32_t len = p->len;
	struct pkt *q;

	memcpy(orig, pkt_data(p), len);
	ipsec_output(h->a.e, now, p);
	assert_int_equal(h->a.net.n, 1);
	/* Protected: the payload bytes must not appear in the clear (except AH, NULL). */
	assert_int_equal(deliver(h, &h->a, &h->b, now, NULL), 1);
	assert_int_equal(h->b.local.n, 1);
	q = hq_pop(&h->b.local);
	assert_int_equal(q->len, len);
	assert_memory_equal(pkt_data(q), orig, len);
	pkt_free(q);
}

static const struct {
	uint16_t enc, auth;
	size_t ek, ak;
} transforms[] = {
	{ SA_ENC_AES_GCM_8, SA_AUTH_NONE, 20, 0 },
	{ SA_ENC_AES_GCM_12, SA_AUTH_NONE, 28, 0 },
	{ SA_ENC_AES_GCM_16, SA_AUTH_NONE, 36, 0 },
	{ SA_ENC_NULL_AUTH_AES_GMAC, SA_AUTH_NONE, 20, 0 },
	{ SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA1_96, 16, 20 },
	{ SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA2_256_128, 32, 32 },
	{ SA_ENC_AES_CBC, SA_AUTH_NONE, 24, 0 },
	{ SA_ENC_NULL, SA_AUTH_HMAC_SHA1_96, 0, 20 },
	{ SA_ENC_NULL, SA_AUTH_HMAC_SHA2_256_128, 0, 32 },
	{ SA_ENC_NULL, SA_AUTH_HMAC_MD5_96, 0, 16 },
};

static void esp_all_transforms(void **state)
{
	(void)state;
	for (size_t t = 0; t < SP_NELEM(transforms); t++)
		for (int mode = 0; mode < 2; mode++)
			for (int esn = 0; esn < 2; esn++)
				for (int encap = 0; encap < 2; encap++) {
					struct pair_cfg c = default_pair();
					struct harness h;

					c.mode = (uint8_t)mode;
					c.enc = transforms[t].enc;
					c.auth = transforms[t].auth;
					c.enc_key_len = transforms[t].ek;
					c.auth_key_len = transforms[t].ak;
					c.esn = esn;
					c.encap = encap;
					harness_init(&h, NULL);
					pair_setup(&h, &c);
					for (size_t len = 0; len < 40; len += 7) {
						uint32_t s =
							mode ? SP_IP4(192, 168, 1, 5) : c.a_addr;
						uint32_t d =
							mode ? SP_IP4(192, 168, 2, 9) : c.b_addr;

						roundtrip(&h, mk_udp(&h, s, d, 1000, 2000, len),
							  10);
						roundtrip(&h, mk_tcp(&h, s, d, 1000, 80, 1400), 10);
					}
					assert_int_equal(
						ipsec_counter(h.a.e, encap ? IPSEC_CTR_TX_ESP_UDP
									   : IPSEC_CTR_TX_ESP),
						12);
					assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_RX_DECAP),
							 12);
					harness_free(&h);
				}
}

static void ah_all_transforms(void **state)
{
	static const struct {
		uint16_t auth;
		size_t ak;
	} a[] = { { SA_AUTH_HMAC_SHA1_96, 20 },
		  { SA_AUTH_HMAC_SHA2_256_128, 32 },
		  { SA_AUTH_HMAC_MD5_96, 16 } };

	(void)state;
	for (size_t t = 0; t < SP_NELEM(a); t++)
		for (int mode = 0; mode < 2; mode++)
			for (int esn = 0; esn < 2; esn++) {
				struct pair_cfg c = default_pair();
				struct harness h;
				uint32_t s = mode ? SP_IP4(192, 168, 1, 5) : c.a_addr;
				uint32_t d = mode ? SP_IP4(192, 168, 2, 9) : c.b_addr;

				c.proto = IPV4_PROTO_AH;
				c.mode = (uint8_t)mode;
				c.enc = SA_ENC_NONE;
				c.enc_key_len = 0;
				c.auth = a[t].auth;
				c.auth_key_len = a[t].ak;
				c.esn = esn;
				harness_init(&h, NULL);
				pair_setup(&h, &c);
				roundtrip(&h, mk_udp(&h, s, d, 1, 2, 100), 1);
				roundtrip(&h, mk_tcp(&h, s, d, 3, 4, 1000), 1);
				assert_int_equal(ipsec_counter(h.a.e, IPSEC_CTR_TX_AH), 2);
				harness_free(&h);
			}
}

/* The wire format of what ESP sends, seen from outside. */
static void esp_wire_format(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct pkt *p;
	uint8_t *ip;

	(void)state;
	c.mode = SA_MODE_TUNNEL;
	c.encap = true;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	ipsec_output(h.a.e, 5,
		     mk_udp(&h, SP_IP4(192, 168, 1, 5), SP_IP4(192, 168, 2, 9), 7, 8, 33));
	p = hq_pop(&h.a.net);
	ip = pkt_data(p);
	assert_int_equal(ip[IPV4_OFF_PROTO], IPV4_PROTO_UDP);
	assert_int_equal(sp_load_be32(ip + IPV4_OFF_SRC), c.a_addr);
	assert_int_equal(sp_load_be32(ip + IPV4_OFF_DST), c.b_addr);
	assert_int_equal(sp_load_be16(ip + IPV4_OFF_FRAG), IPV4_FLAG_DF); /* copied */
	assert_int_equal(sp_load_be16(ip + 20), 4500);
	assert_int_equal(sp_load_be16(ip + 22), 4500);
	assert_int_equal(sp_load_be16(ip + 24), p->len - 20);
	assert_int_equal(sp_load_be16(ip + 26), 0); /* RFC 3948 2.1 */
	assert_int_equal(sp_load_be32(ip + 28), c.spi_ab);
	assert_int_equal(sp_load_be32(ip + 32), 1);
	assert_int_equal(sp_load_be64(ip + 36), 1); /* GCM IV = sequence number */
	/* 20 + 8 + 8 + 8 + (61 inner + 1 pad + 2 trailer) + 16 */
	assert_int_equal(p->len, 20 + 8 + 8 + 8 + 61 + 1 + 2 + 16);
	assert_int_equal(
		p->len,
		61 + esp_overhead(ipsec_sa_lookup(h.a.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP,
									   c.b_addr }),
				  61));
	pkt_free(p);
	harness_free(&h);
}

static void replay_icv_and_no_sa(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct pkt *p, *dup;
	const struct sa *in;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	in = ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP, c.b_addr });
	ipsec_output(h.a.e, 1, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50));
	p = hq_pop(&h.a.net);
	dup = pkt_clone(&h.pool, p);
	assert_null(ipsec_last_drop(h.b.e));
	ipsec_input(h.b.e, 2, p);
	ipsec_input(h.b.e, 3, dup);
	assert_int_equal(h.b.local.n, 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_REPLAY), 1);
	assert_int_equal(in->stats.drop_replay, 1);
	assert_int_equal(in->stats.last_used, 2);
	/* A flipped ciphertext bit: ICV mismatch, the window does not move. */
	ipsec_output(h.a.e, 4, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50));
	p = hq_pop(&h.a.net);
	dup = pkt_clone(&h.pool, p);
	pkt_data(p)[40] ^= 0x01;
	ipsec_input(h.b.e, 5, p);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_ICV), 1);
	assert_int_equal(in->stats.drop_icv, 1);
	ipsec_input(h.b.e, 6, dup); /* the genuine one still passes */
	assert_int_equal(h.b.local.n, 2);
	/* Unknown SPI. */
	ipsec_output(h.a.e, 7, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50));
	p = hq_pop(&h.a.net);
	sp_store_be32(pkt_data(p) + 20, 0x7777);
	ipsec_input(h.b.e, 8, p);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_NO_SA), 1);
	/* The last drop names the packet's outer addresses, as it arrived. */
	assert_non_null(ipsec_last_drop(h.b.e));
	assert_int_equal(ipsec_last_drop(h.b.e)->why, IPSEC_DROP_NO_SA);
	assert_true(ipsec_last_drop(h.b.e)->inbound);
	assert_int_equal(ipsec_last_drop(h.b.e)->t.src, c.a_addr);
	assert_int_equal(ipsec_last_drop(h.b.e)->t.dst, c.b_addr);
	assert_int_equal(ipsec_last_drop(h.b.e)->t.proto, IPV4_PROTO_ESP);
	/* Truncated: malformed. */
	ipsec_output(h.a.e, 9, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50));
	p = hq_pop(&h.a.net);
	assert_int_equal(pkt_trim(p, 30), 0);
	sp_store_be16(pkt_data(p) + IPV4_OFF_LEN, 30);
	ipv4_set_csum(pkt_data(p), 20);
	ipsec_input(h.b.e, 10, p);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_MALFORMED), 1);
	harness_free(&h);
}

/* Dummy packets (next header 59) are authenticated, counted and discarded; bad padding
 * with a good ICV is caught by the padding check. Built by hand with esp_seal(). */
static void dummy_and_bad_padding(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa *out;
	struct sa_params sp;
	const struct sa *in;

	(void)state;
	c.enc = SA_ENC_AES_CBC;
	c.auth = SA_AUTH_HMAC_SHA2_256_128;
	c.enc_key_len = 16;
	c.auth_key_len = 32;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	in = ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP, c.b_addr });
	pair_params(&c, true, SA_DIR_OUT, &sp);
	assert_int_equal(sa_new(&out, &sp, 1, NULL), 0);
	for (int k = 0; k < 2; k++) {
		struct pkt *p = pkt_alloc(&h.pool);
		struct ipv4_hdr ih = { .ip_ttl = 9,
				       .ip_proto = IPV4_PROTO_ESP,
				       .ip_src = c.a_addr,
				       .ip_dst = c.b_addr };
		uint8_t *e = pkt_put(p, 8 + 16 + 16 + 16);

		/* 16 bytes of plaintext: 12 data, pad 1 2, pad length 2, next header. */
		for (int i = 0; i < 12; i++)
			e[24 + i] = (uint8_t)i;
		e[24 + 12] = 1;
		e[24 + 13] = k == 0 ? 2 : 7; /* k = 1: not the default padding */
		e[24 + 14] = 2;
		e[24 + 15] = k == 0 ? IPV4_PROTO_NONE : IPV4_PROTO_UDP;
		assert_int_equal(esp_seal(out, e, 8 + 16 + 16, (uint64_t)k + 1, NULL, &h.rng.rng),
				 IPSEC_OK);
		assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
		ipsec_input(h.b.e, 20 + (uint64_t)k, p);
	}
	assert_int_equal(h.b.local.n, 0);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_DUMMY), 1);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_PADDING), 1);
	assert_int_equal(in->stats.drop_padding, 1);
	assert_int_equal(in->stats.last_used, 20); /* the dummy proved the peer alive */
	sa_free(out);
	harness_free(&h);
}

/* Transport-mode ESP of a packet whose protocol is 59 is how a dummy packet is sent. */
static void dummy_via_output(void **state)
{
	struct pair_cfg c = default_pair();
	struct ipv4_hdr ih = { .ip_ttl = 9, .ip_proto = IPV4_PROTO_NONE };
	struct spd_policy_params pp = {
		.dir = SA_DIR_OUT, .action = SPD_PROTECT, .proto = IPV4_PROTO_ESP, .reqid = 1
	};
	struct harness h;
	struct pkt *p;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	ih.ip_src = c.a_addr;
	ih.ip_dst = c.b_addr;
	pp.sel.src = c.a_addr;
	pp.sel.dst = c.b_addr;
	pp.sel.src_len = pp.sel.dst_len = 32;
	pp.sel.sport_hi = pp.sel.dport_hi = 65535;
	p = pkt_alloc(&h.pool);
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	ipsec_output(h.a.e, 1, p);
	deliver(&h, &h.a, &h.b, 2, NULL);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_DUMMY), 1);
	assert_int_equal(h.b.local.n, 0);
	harness_free(&h);
}

static void policy_mismatch_and_cleartext(void **state)
{
	struct pair_cfg c = default_pair();
	struct spd_policy_params pp = { .dir = SA_DIR_OUT,
					.action = SPD_PROTECT,
					.proto = IPV4_PROTO_ESP,
					.reqid = 1,
					.priority = 10 };
	struct harness h;

	(void)state;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	/* A protects UDP to port 9 like everything else, but B lets port 9 through in the
	 * clear with a policy before its PROTECT policy: port 9 arriving under ESP does not
	 * match a PROTECT policy at B. */
	pp.dir = SA_DIR_IN;
	pp.action = SPD_BYPASS;
	pp.sel.src = c.a_addr;
	pp.sel.dst = c.b_addr;
	pp.sel.src_len = pp.sel.dst_len = 32;
	pp.sel.proto = IPV4_PROTO_UDP;
	pp.sel.sport_hi = 65535;
	pp.sel.dport_lo = pp.sel.dport_hi = 9;
	assert_int_equal(ipsec_policy_add(h.b.e, &pp, NULL), 0);
	ipsec_output(h.a.e, 1, mk_udp(&h, c.a_addr, c.b_addr, 1, 9, 10));
	deliver(&h, &h.a, &h.b, 1, NULL);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_POLICY), 1);
	/* Cleartext from A to B where B's policy wants protection: dropped. */
	ipsec_input(h.b.e, 2, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_POLICY), 2);
	/* Cleartext port 9 is bypassed: delivered. */
	ipsec_input(h.b.e, 3, mk_udp(&h, c.a_addr, c.b_addr, 1, 9, 10));
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_RX_BYPASS), 1);
	assert_int_equal(h.b.local.n, 1);
	/* Traffic to elsewhere is not covered by any policy: sent in the clear only when
	 * bypass_unmatched is set (it is not here). */
	ipsec_output(h.a.e, 4, mk_udp(&h, c.a_addr, SP_IP4(8, 8, 8, 8), 1, 2, 10));
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_NO_POLICY), 1);
	harness_free(&h);
}

static void lifetimes(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;

	(void)state;
	harness_init(&h, NULL);
	side_policies(&h.a, &c, true);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.soft.packets = 3;
	p.hard.packets = 5;
	p.soft.add_time = SP_SEC(100);
	p.hard.add_time = SP_SEC(200);
	assert_int_equal(ipsec_sa_add(h.a.e, SP_SEC(1), &p, NULL), 0);
	for (int i = 0; i < 6; i++)
		ipsec_output(h.a.e, SP_SEC(2), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	assert_int_equal(h.a.net.n, 5);
	assert_int_equal(h.a.nev, 2);
	assert_int_equal(h.a.ev[0].type, IPSEC_EV_SOFT_EXPIRE);
	assert_int_equal(h.a.ev[0].limit, IPSEC_LIMIT_PACKETS);
	assert_int_equal(h.a.ev[1].type, IPSEC_EV_HARD_EXPIRE);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_EXPIRED), 1);
	assert_null(ipsec_sa_lookup(h.a.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP, c.b_addr }));
	/* The policy has no SA now: acquire, once per retry interval. */
	ipsec_output(h.a.e, SP_SEC(3), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	ipsec_output(h.a.e, SP_SEC(3), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	assert_int_equal(h.a.nev, 3);
	assert_int_equal(h.a.ev[2].type, IPSEC_EV_ACQUIRE);
	assert_int_equal(h.a.ev[2].tuple.dport, 2);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_ACQUIRE), 2);
	/* Time limits: soft at 101 s, hard at 201 s after installation at 1 s. */
	side_clear(&h.a);
	assert_int_equal(ipsec_sa_add(h.a.e, SP_SEC(1), &p, NULL), 0);
	assert_int_equal(ipsec_next_deadline(h.a.e), SP_SEC(101));
	ipsec_tick(h.a.e, SP_SEC(100));
	assert_int_equal(h.a.nev, 0);
	ipsec_tick(h.a.e, SP_SEC(101));
	assert_int_equal(h.a.nev, 1);
	assert_int_equal(h.a.ev[0].limit, IPSEC_LIMIT_ADD_TIME);
	assert_int_equal(ipsec_next_deadline(h.a.e), SP_SEC(201));
	ipsec_tick(h.a.e, SP_SEC(201));
	assert_int_equal(h.a.nev, 2);
	assert_int_equal(h.a.ev[1].type, IPSEC_EV_HARD_EXPIRE);
	assert_int_equal(ipsec_next_deadline(h.a.e), SP_TIME_NEVER);
	/* Byte limits count the inner packet. */
	side_clear(&h.a);
	memset(&p.soft, 0, sizeof(p.soft));
	memset(&p.hard, 0, sizeof(p.hard));
	p.hard.bytes = 100;
	assert_int_equal(ipsec_sa_add(h.a.e, SP_SEC(1), &p, NULL), 0);
	ipsec_output(h.a.e, SP_SEC(2), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50)); /* 78 */
	ipsec_output(h.a.e, SP_SEC(2), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 50)); /* > 100 */
	assert_int_equal(h.a.net.n, 1);
	assert_int_equal(h.a.ev[0].limit, IPSEC_LIMIT_BYTES);
	harness_free(&h);
}

/* 003's epoch guard switches the outbound SA of a policy; the newest SA with the reqid
 * takes over by default, and a deleted SA hands over to the remaining one. */
static void outbound_sa_selection(void **state)
{
	struct pair_cfg c = default_pair();
	const struct spd_policy *pol = NULL;
	struct sa_key k1 = { 0x1001, IPV4_PROTO_ESP, 0 }, k2 = { 0x1002, IPV4_PROTO_ESP, 0 };
	struct harness h;
	struct sa_params p;
	struct pkt *q;

	(void)state;
	k1.dst = k2.dst = c.b_addr;
	harness_init(&h, NULL);
	side_policies(&h.a, &c, true);
	for (pol = ipsec_policy_next(h.a.e, NULL); pol->dir != SA_DIR_OUT;)
		pol = ipsec_policy_next(h.a.e, pol);
	assert_null(pol->sa);
	pair_params(&c, true, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	assert_int_equal(pol->sa->spi, 0x1001);
	p.spi = 0x1002;
	assert_int_equal(ipsec_sa_add(h.a.e, 2, &p, NULL), 0);
	assert_int_equal(pol->sa->spi, 0x1002); /* newest wins */
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &k1), 0);
	assert_int_equal(pol->sa->spi, 0x1001);
	assert_true(pol->sa_pinned);
	ipsec_output(h.a.e, 3, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	q = hq_pop(&h.a.net);
	assert_int_equal(sp_load_be32(pkt_data(q) + 20), 0x1001);
	pkt_free(q);
	p.spi = 0x1003;
	assert_int_equal(ipsec_sa_add(h.a.e, 4, &p, NULL), 0);
	assert_int_equal(pol->sa->spi, 0x1001); /* pinned: stays */
	assert_int_equal(ipsec_sa_del(h.a.e, &k1), 0);
	assert_int_equal(pol->sa->spi, 0x1003); /* gone: the newest takes over, unpinned */
	assert_false(pol->sa_pinned);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &k2), 0);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, NULL), 0);
	assert_int_equal(pol->sa->spi, 0x1003);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol->id, &k1), SP_ENOTFOUND);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, 999, &k2), SP_ENOTFOUND);
	harness_free(&h);
}

/*
 * 003's incoming-SPI collision at a gateway: two clients behind one NAT address chose the
 * same inbound SPI, so the gateway has two outbound SAs with the same (SPI, ESP,
 * destination), one per CHILD SA (reqid). Only inbound SAs must be unique (the receiver
 * picks the SPI, RFC 4303 2.1, RFC 4301 4.1); outbound ones are reached through the
 * policies. Each policy sends on its own; management names them by reqid.
 */
static void outbound_spi_shared_by_reqid(void **state)
{
	struct pair_cfg c = default_pair();
	const struct spd_policy *pol1 = NULL, *pol2 = NULL;
	struct sa_key any = { 0x5000, IPV4_PROTO_ESP, 0, 0 }, k1, k2;
	struct harness h;
	struct sa_params p;
	struct pkt *q;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c.mode = SA_MODE_TUNNEL;
	c.spi_ab = 0x5000;
	any.dst = c.b_addr;
	k1 = k2 = any;
	k1.reqid = 1;
	k2.reqid = 2;
	harness_init(&h, NULL);
	/* A is the gateway: client 1 (reqid 1) is 192.168.2.0/24, client 2 (reqid 2)
	 * 192.168.3.0/24, both at b_addr (the NAT). */
	side_policies(&h.a, &c, true);
	c.reqid = 2;
	c.b_net = SP_IP4(192, 168, 3, 0);
	side_policies(&h.a, &c, true);
	for (const struct spd_policy *pp = ipsec_policy_next(h.a.e, NULL); pp;
	     pp = ipsec_policy_next(h.a.e, pp))
		if (pp->dir == SA_DIR_OUT)
			*(pp->reqid == 1 ? &pol1 : &pol2) = pp;
	c.reqid = 1;
	pair_params(&c, true, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	p.reqid = 2;
	p.enc_key = test_key + 8; /* client 2's keys */
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	assert_ptr_not_equal(pol1->sa, pol2->sa);
	assert_int_equal(pol1->sa->reqid, 1);
	assert_int_equal(pol2->sa->reqid, 2);
	/* The same CHILD SA twice, or a manual one without a reqid: refused. */
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), SP_EEXIST);
	p.reqid = 0;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), SP_EEXIST);
	/* Inbound SAs stay unique whatever their reqid. */
	pair_params(&c, false, SA_DIR_IN, &p);
	p.spi = 0x6000;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	p.reqid = 2;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), SP_EEXIST);

	/* Each policy's traffic leaves with its own SA's keys, both as SPI 0x5000. Client 1
	 * (B) unwraps its own and refuses client 2's: the collision a NAT that forwards
	 * both to one client makes. */
	pair_params(&c, true, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_add(h.b.e, 1, &p, NULL), 0);
	side_policies(&h.b,
		      &(struct pair_cfg){ .proto = IPV4_PROTO_ESP,
					  .mode = SA_MODE_TUNNEL,
					  .a_net = c.a_net,
					  .b_net = SP_IP4(192, 168, 2, 0),
					  .reqid = 1 },
		      false);
	ipsec_output(h.a.e, 2, mk_udp(&h, c.a_net + 5, SP_IP4(192, 168, 2, 9), 1, 2, 10));
	ipsec_output(h.a.e, 2, mk_udp(&h, c.a_net + 5, SP_IP4(192, 168, 3, 9), 1, 2, 10));
	assert_int_equal(h.a.net.n, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sp_load_be32(pkt_data(h.a.net.p[i]) + 20), 0x5000);
	assert_int_equal(ipsec_sa_lookup(h.a.e, &k1)->stats.packets, 1);
	assert_int_equal(ipsec_sa_lookup(h.a.e, &k2)->stats.packets, 1);
	assert_int_equal(deliver(&h, &h.a, &h.b, 3, NULL), 2);
	assert_int_equal(h.b.local.n, 1);
	q = hq_pop(&h.b.local);
	assert_int_equal(sp_load_be32(pkt_data(q) + IPV4_OFF_DST), SP_IP4(192, 168, 2, 9));
	pkt_free(q);
	assert_int_equal(
		ipsec_counter(h.b.e, IPSEC_DROP_REPLAY) + ipsec_counter(h.b.e, IPSEC_DROP_ICV), 1);

	/* Management names one by reqid; without it the key is ambiguous. */
	assert_null(ipsec_sa_lookup(h.a.e, &any));
	assert_int_equal(ipsec_sa_lookup(h.a.e, &k2)->reqid, 2);
	assert_int_equal(ipsec_sa_del(h.a.e, &any), SP_EINVAL);
	assert_int_equal(ipsec_policy_set_sa(h.a.e, pol1->id, &any), SP_EINVAL);
	/* spinat show sa tells them apart by reqid. */
	assert_non_null(f = open_memstream(&buf, &len));
	ipsec_show_sa(h.a.e, 4, f);
	fclose(f);
	assert_non_null(strstr(buf, "esp spi 0x00005000 out 10.0.0.1->10.0.0.2 tunnel reqid 1 "));
	assert_non_null(strstr(buf, "esp spi 0x00005000 out 10.0.0.1->10.0.0.2 tunnel reqid 2 "));
	free(buf);
	/* Client 2's CHILD SA goes; client 1's stays, and is the only one with the key. */
	assert_int_equal(ipsec_sa_del(h.a.e, &k2), 0);
	assert_null(pol2->sa);
	assert_int_equal(pol1->sa->reqid, 1);
	assert_int_equal(ipsec_sa_lookup(h.a.e, &any)->reqid, 1);
	assert_int_equal(ipsec_sa_del(h.a.e, &k2), SP_ENOTFOUND);
	harness_free(&h);
}

/* The SPI policy hook and reserved (larval) SPIs. */
struct spi_pol {
	uint32_t next[4];
	int n;
	uint32_t peer_seen, released;
};

static int spi_alloc(void *arg, const struct sa_spi_req *req, uint32_t *spi)
{
	struct spi_pol *s = arg;

	s->peer_seen = req->peer_spi;
	if (s->n == 4)
		return SP_EFULL;
	*spi = s->next[s->n++];
	return 0;
}

static void spi_release(void *arg, uint8_t proto, uint32_t dst, uint32_t spi)
{
	(void)proto;
	(void)dst;
	((struct spi_pol *)arg)->released = spi;
}

static void getspi_and_spi_policy(void **state)
{
	struct spi_pol sp = { .next = { 0x5000, 0x5000, 0x6000, 0x7000 } };
	struct ipsec_cfg cfg = { .spi_policy = { "test", spi_alloc, spi_release, &sp } };
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;
	uint32_t spi;

	(void)state;
	harness_init(&h, &cfg);
	assert_int_equal(
		ipsec_sa_getspi(h.b.e, SP_SEC(1), IPV4_PROTO_ESP, c.a_addr, c.b_addr, 0xabcd, &spi),
		0);
	assert_int_equal(spi, 0x5000);
	assert_int_equal(sp.peer_seen, 0xabcd);
	/* The policy proposes 0x5000 again: taken, so it is asked once more. */
	assert_int_equal(
		ipsec_sa_getspi(h.b.e, SP_SEC(1), IPV4_PROTO_ESP, c.a_addr, c.b_addr, 0, &spi), 0);
	assert_int_equal(spi, 0x6000);
	/* Packets to a reserved SPI find no usable SA. */
	side_policies(&h.a, &c, true);
	side_policies(&h.b, &c, false);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.spi = 0x5000;
	assert_int_equal(ipsec_sa_add(h.a.e, SP_SEC(1), &p, NULL), 0);
	ipsec_output(h.a.e, SP_SEC(1), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	deliver(&h, &h.a, &h.b, SP_SEC(1), NULL);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_NO_SA), 1);
	/* IKE's update gives it keys. */
	p.dir = SA_DIR_IN;
	p.replay_window = 64;
	assert_int_equal(ipsec_sa_update(h.b.e, SP_SEC(2), &p, NULL), 0);
	ipsec_output(h.a.e, SP_SEC(2), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	deliver(&h, &h.a, &h.b, SP_SEC(2), NULL);
	assert_int_equal(h.b.local.n, 1);
	/* The other reservation expires after 30 s: event, and the SPI is released. */
	assert_int_equal(ipsec_next_deadline(h.b.e), SP_SEC(31));
	ipsec_tick(h.b.e, SP_SEC(31));
	assert_int_equal(h.b.nev, 1);
	assert_int_equal(h.b.ev[0].type, IPSEC_EV_LARVAL_EXPIRE);
	assert_int_equal(sp.released, 0x6000);
	/* Errors of the policy are passed on. */
	sp.n = 4;
	assert_int_equal(ipsec_sa_getspi(h.b.e, SP_SEC(40), IPV4_PROTO_ESP, 1, 2, 0, &spi),
			 SP_EFULL);
	harness_free(&h);
}

static void random_spis(void **state)
{
	struct harness h;
	uint32_t spi, prev = 0;

	(void)state;
	harness_init(&h, NULL);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(ipsec_sa_getspi(h.a.e, 1, IPV4_PROTO_ESP, 1, 2, 0, &spi), 0);
		assert_true(spi >= 256);
		assert_int_not_equal(spi, prev);
		prev = spi;
	}
	harness_free(&h);
}

static void natt_keepalive_and_ike(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct pkt *p;
	uint8_t *ip;

	(void)state;
	c.encap = true;
	harness_init(&h, NULL);
	pair_setup(&h, &c);
	/* Installed at 1 ns: the first keepalive is due 20 s later unless traffic flows. */
	assert_int_equal(ipsec_next_deadline(h.a.e), 1 + SP_SEC(20));
	ipsec_output(h.a.e, SP_SEC(10), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	hq_clear(&h.a.net);
	assert_int_equal(ipsec_next_deadline(h.a.e), SP_SEC(30));
	ipsec_tick(h.a.e, SP_SEC(30));
	assert_int_equal(h.a.net.n, 1);
	ip = pkt_data(h.a.net.p[0]);
	assert_int_equal(h.a.net.p[0]->len, 20 + 8 + 1);
	assert_int_equal(ip[28], 0xff);
	assert_int_equal(sp_load_be16(ip + 20), 4500);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_CTR_TX_KEEPALIVE), 1);
	deliver(&h, &h.a, &h.b, SP_SEC(30), NULL);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_RX_KEEPALIVE), 1);
	assert_int_equal(h.b.local.n, 0);
	/* IKE behind the non-ESP marker goes to ike_in without the marker. */
	/* (The message only has to be long enough for an IKE header, RFC 7296 3.1.) */
	p = pkt_alloc(&h.pool);
	assert_int_equal(pkt_append(p, "\0\0\0\0IKEMSG-IKEMSG-IKEMSG-IKEMSG!", 32), 0);
	assert_int_equal(udp_build(p, 4500, 4500, c.a_addr, c.b_addr, true), 0);
	{
		struct ipv4_hdr ih = { .ip_ttl = 64,
				       .ip_proto = IPV4_PROTO_UDP,
				       .ip_src = c.a_addr,
				       .ip_dst = c.b_addr };

		assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	}
	ipsec_input(h.b.e, SP_SEC(31), p);
	assert_int_equal(h.b.ike.n, 1);
	assert_int_equal(h.b.ike.p[0]->len, 28);
	assert_memory_equal(pkt_data(h.b.ike.p[0]), "IKEMSG-IKEMSG", 13);
	/* ESP without UDP to an SA that expects UDP encapsulation: refused. */
	ipsec_output(h.a.e, SP_SEC(32), mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	p = hq_pop(&h.a.net);
	ip = pkt_data(p);
	memmove(ip + 20, ip + 28, p->len - 28);
	assert_int_equal(pkt_trim(p, p->len - 8), 0);
	ip[IPV4_OFF_PROTO] = IPV4_PROTO_ESP;
	sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
	ipv4_set_csum(ip, 20);
	ipsec_input(h.b.e, SP_SEC(32), p);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_POLICY), 1);
	harness_free(&h);
}

static void rejects_bad_sas(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;
	const char *why;

	(void)state;
	harness_init(&h, NULL);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.enc_key_len = 16; /* GCM needs the salt too */
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), SP_EINVAL);
	assert_non_null(strstr(why, "salt"));
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.auth = SA_AUTH_HMAC_SHA1_96;
	p.auth_key_len = 20;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), SP_EINVAL);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.enc = SA_ENC_NULL;
	p.enc_key_len = 0;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), SP_EINVAL); /* neither */
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.spi = 255;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), SP_EINVAL);
	pair_params(&c, true, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), 0);
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, &why), SP_EEXIST);
	harness_free(&h);
}

/* Sequence numbers: without ESN the counter may not cycle (RFC 4303 3.3.3). */
static void seq_overflow(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;

	(void)state;
	harness_init(&h, NULL);
	side_policies(&h.a, &c, true);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.seq = UINT32_MAX - 1;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	ipsec_output(h.a.e, 2, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	ipsec_output(h.a.e, 2, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 10));
	assert_int_equal(h.a.net.n, 1);
	assert_int_equal(sp_load_be32(pkt_data(h.a.net.p[0]) + 24), UINT32_MAX);
	assert_int_equal(ipsec_counter(h.a.e, IPSEC_DROP_SEQ_OVERFLOW), 1);
	assert_int_equal(h.a.ev[0].type, IPSEC_EV_SOFT_EXPIRE);
	assert_int_equal(h.a.ev[1].type, IPSEC_EV_HARD_EXPIRE);
	assert_int_equal(h.a.ev[1].limit, IPSEC_LIMIT_SEQ);
	harness_free(&h);
}

/* ESN end to end: the sender crosses 2^32, the receiver follows. */
static void esn_across_wrap(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;

	(void)state;
	c.esn = true;
	c.enc = SA_ENC_AES_CBC;
	c.auth = SA_AUTH_HMAC_SHA1_96;
	c.enc_key_len = 16;
	c.auth_key_len = 20;
	harness_init(&h, NULL);
	side_policies(&h.a, &c, true);
	side_policies(&h.b, &c, false);
	pair_params(&c, true, SA_DIR_OUT, &p);
	p.seq = UINT32_MAX - 3;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	pair_params(&c, true, SA_DIR_IN, &p);
	p.seq = UINT32_MAX - 3;
	assert_int_equal(ipsec_sa_add(h.b.e, 1, &p, NULL), 0);
	for (int i = 0; i < 8; i++)
		roundtrip(&h, mk_udp(&h, c.a_addr, c.b_addr, 1, 2, 20), 1);
	assert_int_equal(
		ipsec_sa_lookup(h.b.e, &(struct sa_key){ c.spi_ab, IPV4_PROTO_ESP, c.b_addr })
			->win.top,
		(uint64_t)UINT32_MAX + 5);
	harness_free(&h);
}

static void counters_registered(void **state)
{
	struct harness h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	harness_init(&h, NULL);
	ipsec_input(h.b.e, 1, mk_udp(&h, 1, 2, 3, 4, 5)); /* bypassed */
	f = open_memstream(&buf, &len);
	sp_ctr_dump(&h.ctrs, f, true);
	fclose(f);
	assert_non_null(strstr(buf, "B            ipsec.rx_bypass"));
	assert_non_null(strstr(buf, "ipsec.drop_replay"));
	assert_non_null(strstr(buf, "ipsec.drop_icv_mismatch"));
	free(buf);
	assert_int_equal(sp_ctr_get(&h.ctrs, "ipsec", "rx_bypass"), 1);
	harness_free(&h);
}

/* The fuzz target's seeds are packets its receiving engine accepts (so mutations start
 * from the deep end): every protected seed is delivered, the NAT-T ones consumed. */
struct seed_ctx {
	struct harness *h;
	int delivered, other;
};

static int feed_seed(const char *name, const void *data, size_t len, void *arg)
{
	struct seed_ctx *c = arg;
	struct pkt *p = pkt_alloc(&c->h->pool);
	int before = c->h->b.local.n;

	assert_int_equal(pkt_append(p, data, (uint32_t)len), 0);
	ipsec_input(c->h->b.e, SP_SEC(1), p);
	if (strncmp(name, "sa", 2) == 0) {
		assert_int_equal(c->h->b.local.n, before + 1);
		c->delivered++;
	} else {
		c->other++;
	}
	return 0;
}

static void fuzz_seeds_are_valid(void **state)
{
	struct harness h;
	struct seed_ctx c = { &h, 0, 0 };

	(void)state;
	harness_init(&h, NULL);
	for (unsigned i = 0; i < SP_NELEM(ipsec_fuzz_sas); i++)
		assert_int_equal(ipsec_fuzz_install(h.b.e, i, SA_DIR_IN), 0);
	assert_int_equal(ipsec_fuzz_write_seeds(feed_seed, &c), 0);
	assert_int_equal(c.delivered, 2 * (int)SP_NELEM(ipsec_fuzz_sas));
	assert_int_equal(c.other, 2);
	assert_int_equal(ipsec_counter(h.b.e, IPSEC_CTR_RX_KEEPALIVE), 1);
	assert_int_equal(h.b.ike.n, 1);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_all_transforms),
		cmocka_unit_test(ah_all_transforms),
		cmocka_unit_test(esp_wire_format),
		cmocka_unit_test(replay_icv_and_no_sa),
		cmocka_unit_test(dummy_and_bad_padding),
		cmocka_unit_test(dummy_via_output),
		cmocka_unit_test(policy_mismatch_and_cleartext),
		cmocka_unit_test(lifetimes),
		cmocka_unit_test(outbound_sa_selection),
		cmocka_unit_test(outbound_spi_shared_by_reqid),
		cmocka_unit_test(getspi_and_spi_policy),
		cmocka_unit_test(random_spis),
		cmocka_unit_test(natt_keepalive_and_ike),
		cmocka_unit_test(rejects_bad_sas),
		cmocka_unit_test(seq_overflow),
		cmocka_unit_test(esn_across_wrap),
		cmocka_unit_test(counters_registered),
		cmocka_unit_test(fuzz_seeds_are_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
