/*
 * AH's ICV rules (RFC 4302 3.3.3.1: mutable fields and options) and the "as if" hook of
 * 001: the client's AH ICV and transport checksums computed as if its address were the
 * NAT's global one (procedure steps 3, 4, 3', 4'; FIGS. 9-10), so packets survive a NAT
 * that rewrites the address but cannot touch the protected payload.
 */
#include "harness.h"

#include "base/csum.h"
#include "ipsec/asif.h"

#define P_ADDR SP_IP4(10, 1, 0, 5)     /* the client's private address */
#define G_ADDR SP_IP4(198, 51, 100, 7) /* the NAT's global address */
#define S_ADDR SP_IP4(203, 0, 113, 9)  /* the server */

/* The NAT between client (A) and server (B): it rewrites addresses in the outer IPv4
 * header only (with its header checksum), as 001's NAT does for client-ALG entries. */
static void nat_out(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);

	if (sp_load_be32(ip + IPV4_OFF_SRC) == P_ADDR)
		ipv4_set_src(ip, G_ADDR);
}

static void nat_in(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);

	if (sp_load_be32(ip + IPV4_OFF_DST) == G_ADDR)
		ipv4_set_dst(ip, P_ADDR);
}

static bool l4_ok(const struct pkt *p)
{
	const uint8_t *ip = pkt_data(p);
	uint32_t s = sp_load_be32(ip + IPV4_OFF_SRC), d = sp_load_be32(ip + IPV4_OFF_DST);

	if (ip[IPV4_OFF_PROTO] == IPV4_PROTO_TCP)
		return tcp_csum_ok(ip + 20, p->len - 20, s, d);
	return udp_csum_ok(ip + 20, p->len - 20, s, d);
}

/*
 * Client A (private P) and server B behind and beyond a NAT that maps P to G. The server
 * knows the client as G. With asif, A's outbound SA computes as if its source were G and
 * its inbound SA verifies as if the destination were G.
 */
static void through_nat(uint8_t proto, bool asif, int *delivered_b, int *delivered_a, bool *csum_b,
			bool *csum_a)
{
	struct pair_cfg c = default_pair();
	struct harness h;
	struct sa_params p;

	c.proto = proto;
	if (proto == IPV4_PROTO_AH) {
		c.enc = SA_ENC_NONE;
		c.enc_key_len = 0;
		c.auth = SA_AUTH_HMAC_SHA1_96;
		c.auth_key_len = 20;
	}
	harness_init(&h, NULL);
	/* A's view: itself P, the server S. B's view: the client G, itself S. */
	c.a_addr = P_ADDR;
	c.b_addr = S_ADDR;
	side_policies(&h.a, &c, true);
	pair_params(&c, true, SA_DIR_OUT, &p);
	if (asif)
		p.asif_src = G_ADDR;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	pair_params(&c, false, SA_DIR_IN, &p);
	if (asif)
		p.asif_dst = G_ADDR;
	assert_int_equal(ipsec_sa_add(h.a.e, 1, &p, NULL), 0);
	c.a_addr = G_ADDR;
	side_policies(&h.b, &c, false);
	pair_params(&c, true, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_add(h.b.e, 1, &p, NULL), 0);
	pair_params(&c, false, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h.b.e, 1, &p, NULL), 0);

	ipsec_output(h.a.e, 1, mk_tcp(&h, P_ADDR, S_ADDR, 40000, 80, 300));
	deliver(&h, &h.a, &h.b, 1, nat_out);
	*delivered_b = h.b.local.n;
	*csum_b = h.b.local.n == 1 && l4_ok(h.b.local.p[0]);
	ipsec_output(h.b.e, 2, mk_udp(&h, S_ADDR, G_ADDR, 53, 40000, 100));
	deliver(&h, &h.b, &h.a, 2, nat_in);
	*delivered_a = h.a.local.n;
	*csum_a = h.a.local.n == 1 && l4_ok(h.a.local.p[0]);
	harness_free(&h);
}

static void esp_transport_through_nat(void **state)
{
	int b, a;
	bool cb, ca;

	(void)state;
	/* Without the hook ESP arrives but the TCP/UDP checksums are wrong (the pseudo
	 * header changed under an encrypted checksum). */
	through_nat(IPV4_PROTO_ESP, false, &b, &a, &cb, &ca);
	assert_int_equal(b, 1);
	assert_int_equal(a, 1);
	assert_false(cb);
	assert_false(ca);
	/* With it (step 3(iii) outbound, 4'(iv') inbound) both are right. */
	through_nat(IPV4_PROTO_ESP, true, &b, &a, &cb, &ca);
	assert_true(cb);
	assert_true(ca);
}

static void ah_transport_through_nat(void **state)
{
	int b, a;
	bool cb, ca;

	(void)state;
	/* Without the hook the NAT's rewrite breaks the ICV in both directions. */
	through_nat(IPV4_PROTO_AH, false, &b, &a, &cb, &ca);
	assert_int_equal(b, 0);
	assert_int_equal(a, 0);
	/* Step 4 / 815 outbound and 3' / 820 inbound: verified, checksums right. */
	through_nat(IPV4_PROTO_AH, true, &b, &a, &cb, &ca);
	assert_int_equal(b, 1);
	assert_int_equal(a, 1);
	assert_true(cb);
	assert_true(ca);
}

/* Build an IPv4/UDP packet with options: Router Alert (immutable) and Record Route
 * (mutable, routers fill it in). */
static struct pkt *mk_with_options(struct harness *h, uint32_t src, uint32_t dst)
{
	static const uint8_t opts[12] = { 148, 4, 0, 0,		      /* router alert */
					  7,   7, 4, 0, 0, 0, 0, 0 }; /* RR, 1 slot + EOL */
	struct ipv4_hdr ih = { .ip_ttl = 64,
			       .ip_proto = IPV4_PROTO_UDP,
			       .ip_tos = 0x10,
			       .ip_src = src,
			       .ip_dst = dst };
	struct pkt *p = pkt_alloc(&h->pool);

	assert_int_equal(pkt_append(p, "hello, options", 14), 0);
	assert_int_equal(udp_build(p, 1, 2, src, dst, true), 0);
	assert_int_equal(ipv4_build(p, &ih, opts, sizeof(opts)), 0);
	return p;
}

static int router_edit; /* 0: mutable fields only, 1: an immutable option byte too */

static void router(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);

	ip[IPV4_OFF_TOS] = 0x2e;			     /* DSCP rewritten */
	ip[IPV4_OFF_TTL] -= 3;				     /* three hops */
	sp_store_be16(ip + IPV4_OFF_FRAG, IPV4_FLAG_DF);     /* DF set on the way */
	sp_store_be32(ip + 20 + 4 + 3, SP_IP4(10, 9, 9, 9)); /* RR slot filled */
	ip[20 + 4 + 2] = 8;				     /* RR pointer advanced */
	if (router_edit)
		ip[20 + 2] ^= 1; /* the router alert's value: immutable */
	ipv4_set_csum(ip, (size_t)(ip[0] & 0x0f) * 4);
}

static void ah_mutable_fields_and_options(void **state)
{
	struct pair_cfg c = default_pair();
	struct harness h;

	(void)state;
	c.proto = IPV4_PROTO_AH;
	c.enc = SA_ENC_NONE;
	c.enc_key_len = 0;
	c.auth = SA_AUTH_HMAC_SHA2_256_128;
	c.auth_key_len = 32;
	for (router_edit = 0; router_edit < 2; router_edit++) {
		harness_init(&h, NULL);
		pair_setup(&h, &c);
		ipsec_output(h.a.e, 1, mk_with_options(&h, c.a_addr, c.b_addr));
		/* AH went between the header (with options) and UDP. */
		assert_int_equal(pkt_data(h.a.net.p[0])[0], 0x48);
		assert_int_equal(pkt_data(h.a.net.p[0])[IPV4_OFF_PROTO], IPV4_PROTO_AH);
		deliver(&h, &h.a, &h.b, 1, router);
		assert_int_equal(h.b.local.n, router_edit ? 0 : 1);
		assert_int_equal(ipsec_counter(h.b.e, IPSEC_DROP_ICV), router_edit ? 1 : 0);
		if (!router_edit) {
			/* Delivered with the options as they arrived, UDP intact. */
			uint8_t *ip = pkt_data(h.b.local.p[0]);

			assert_int_equal(ip[IPV4_OFF_PROTO], IPV4_PROTO_UDP);
			assert_int_equal(sp_load_be32(ip + 27), SP_IP4(10, 9, 9, 9));
			assert_true(
				udp_csum_ok(ip + 32, h.b.local.p[0]->len - 32, c.a_addr, c.b_addr));
		}
		harness_free(&h);
	}
}

/* The checksum helper on its own: RFC 1624 against a full recomputation. */
static void l4_checksum_adjust(void **state)
{
	struct harness h;
	struct pkt *p;
	uint8_t *ip;

	(void)state;
	harness_init(&h, NULL);
	p = mk_udp(&h, P_ADDR, S_ADDR, 1, 2, 77);
	ip = pkt_data(p);
	assert_int_equal(asif_l4_csum(ip, p->len, P_ADDR, G_ADDR), 0);
	assert_true(udp_csum_ok(ip + 20, p->len - 20, G_ADDR, S_ADDR));
	assert_false(udp_csum_ok(ip + 20, p->len - 20, P_ADDR, S_ADDR));
	assert_int_equal(asif_l4_csum16(ip, p->len, 1, 4444), 0);
	sp_store_be16(ip + 20, 4444);
	assert_true(udp_csum_ok(ip + 20, p->len - 20, G_ADDR, S_ADDR));
	/* UDP without checksum stays without. */
	sp_store_be16(ip + 26, 0);
	assert_int_equal(asif_l4_csum(ip, p->len, G_ADDR, P_ADDR), 0);
	assert_int_equal(sp_load_be16(ip + 26), 0);
	/* Cut short: an error, not a silent write. */
	assert_int_equal(asif_l4_csum(ip, 24, G_ADDR, P_ADDR), SP_ESHORT);
	pkt_free(p);
	p = mk_tcp(&h, P_ADDR, S_ADDR, 1, 2, 10);
	ip = pkt_data(p);
	assert_int_equal(asif_l4_csum(ip, p->len, S_ADDR, G_ADDR), 0);
	assert_true(tcp_csum_ok(ip + 20, p->len - 20, P_ADDR, G_ADDR));
	pkt_free(p);
	harness_free(&h);
}

/* RFC 1071 the slow way, word by word: the independent check of every adjusted sum. */
static uint16_t ref_l4_csum(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, l4 = len - hl;
	uint32_t sum = 0;

	for (unsigned i = 0; i < 8; i += 2)
		sum += (uint32_t)(ip[IPV4_OFF_SRC + i] << 8 | ip[IPV4_OFF_SRC + i + 1]);
	sum += ip[IPV4_OFF_PROTO] + (uint32_t)l4;
	for (size_t i = 0; i < l4; i += 2)
		sum += (uint32_t)(ip[hl + i] << 8 | (i + 1 < l4 ? ip[hl + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum; /* 0xffff when the stored checksum is right */
}

#define GP_PORT 41000 /* the leased global port */
#define PP_PORT 40000 /* the client's private port */

/*
 * 001 steps 810 and 812 (procedure 3(i), 3(iii)): transport mode, before protection the
 * source port becomes the global one and the checksum gets the address and port
 * differences; after the NAT rewrote the outer source, the packet is byte for byte the
 * one a host at G:41000 would have sent. Steps 824 and 826 (4'(ii'), 4'(iv')) undo it for
 * the answer.
 */
static void transport_ports(void **state)
{
	struct harness h;
	struct pkt *p, *want;
	uint8_t *ip;

	(void)state;
	harness_init(&h, NULL);
	for (int tcp = 0; tcp < 2; tcp++) {
		p = tcp ? mk_tcp(&h, P_ADDR, S_ADDR, PP_PORT, 80, 301)
			: mk_udp(&h, P_ADDR, S_ADDR, PP_PORT, 80, 301);
		want = tcp ? mk_tcp(&h, G_ADDR, S_ADDR, GP_PORT, 80, 301)
			   : mk_udp(&h, G_ADDR, S_ADDR, GP_PORT, 80, 301);
		ip = pkt_data(p);
		assert_int_equal(asif_l4_csum(ip, p->len, P_ADDR, G_ADDR), 0); /* 812 (a) */
		assert_int_equal(asif_port(ip, p->len, false, PP_PORT, GP_PORT), 0);
		/* another port is left alone */
		assert_int_equal(asif_port(ip, p->len, false, 1234, 4321), 0);
		nat_out(p); /* 707: the NAT rewrites the outer source only */
		assert_int_equal(p->len, want->len);
		assert_memory_equal(ip, pkt_data(want), p->len);
		assert_int_equal(ref_l4_csum(ip, p->len), 0xffff);
		pkt_free(p);
		pkt_free(want);

		/* The answer: S:80 -> G:41000, the NAT maps G to P (709); after it is
		 * unprotected the client subtracts the differences (826). */
		p = tcp ? mk_tcp(&h, S_ADDR, G_ADDR, 80, GP_PORT, 99)
			: mk_udp(&h, S_ADDR, G_ADDR, 80, GP_PORT, 99);
		want = tcp ? mk_tcp(&h, S_ADDR, P_ADDR, 80, PP_PORT, 99)
			   : mk_udp(&h, S_ADDR, P_ADDR, 80, PP_PORT, 99);
		nat_in(p);
		ip = pkt_data(p);
		assert_int_not_equal(ref_l4_csum(ip, p->len), 0xffff); /* wrong until 826 */
		assert_int_equal(asif_l4_csum(ip, p->len, G_ADDR, P_ADDR), 0);
		assert_int_equal(asif_port(ip, p->len, true, GP_PORT, PP_PORT), 0);
		assert_memory_equal(ip, pkt_data(want), p->len);
		assert_int_equal(ref_l4_csum(ip, p->len), 0xffff);
		pkt_free(p);
		pkt_free(want);
	}
	harness_free(&h);
}

/* A UDP datagram sent without a checksum keeps none (RFC 768) through every step. */
static void zero_udp_checksum(void **state)
{
	struct harness h;
	struct pkt *p;
	uint8_t *ip;

	(void)state;
	harness_init(&h, NULL);
	p = mk_udp(&h, P_ADDR, S_ADDR, PP_PORT, 53, 40);
	ip = pkt_data(p);
	sp_store_be16(ip + 20 + UDP_OFF_CSUM, 0);
	assert_int_equal(asif_l4_csum(ip, p->len, P_ADDR, G_ADDR), 0);
	assert_int_equal(asif_port(ip, p->len, false, PP_PORT, GP_PORT), 0);
	assert_int_equal(sp_load_be16(ip + 20), GP_PORT);
	assert_int_equal(sp_load_be16(ip + 20 + UDP_OFF_CSUM), 0);
	assert_int_equal(asif_addr(ip, p->len, false, P_ADDR, G_ADDR), 0);
	assert_int_equal(sp_load_be16(ip + 20 + UDP_OFF_CSUM), 0);
	assert_int_equal(csum_buf(ip, 20), 0);
	/* cut inside the header: an error, nothing written */
	assert_int_equal(asif_port(ip, 22, false, GP_PORT, 1), SP_ESHORT);
	assert_int_equal(sp_load_be16(ip + 20), GP_PORT);
	pkt_free(p);
	harness_free(&h);
}

/*
 * Tunnel mode, steps 811-812 (3(ii)): the inner packet's source address and port become
 * the global ones before encapsulation, so the far end answers G:41000; 825-826 (4'(iii'))
 * put the private ones back in the decapsulated answer. Byte for byte against packets
 * built with those addresses, IPv4 header checksum included.
 */
static void tunnel_inner(void **state)
{
	struct harness h;
	struct pkt *p, *want;
	uint8_t *ip;

	(void)state;
	harness_init(&h, NULL);
	p = mk_tcp(&h, P_ADDR, S_ADDR, PP_PORT, 443, 200);
	want = mk_tcp(&h, G_ADDR, S_ADDR, GP_PORT, 443, 200);
	ip = pkt_data(p);
	assert_int_equal(asif_addr(ip, p->len, false, P_ADDR, G_ADDR), 0);
	assert_int_equal(asif_port(ip, p->len, false, PP_PORT, GP_PORT), 0);
	assert_memory_equal(ip, pkt_data(want), p->len);
	assert_int_equal(csum_buf(ip, 20), 0);
	assert_int_equal(ref_l4_csum(ip, p->len), 0xffff);
	pkt_free(p);
	pkt_free(want);

	p = mk_udp(&h, S_ADDR, G_ADDR, 53, GP_PORT, 64);
	want = mk_udp(&h, S_ADDR, P_ADDR, 53, PP_PORT, 64);
	ip = pkt_data(p);
	assert_int_equal(asif_addr(ip, p->len, true, G_ADDR, P_ADDR), 0);
	assert_int_equal(asif_port(ip, p->len, true, GP_PORT, PP_PORT), 0);
	assert_memory_equal(ip, pkt_data(want), p->len);
	assert_int_equal(ref_l4_csum(ip, p->len), 0xffff);
	/* ICMP has no ports: asif_port leaves it, asif_l4_ports says so */
	{
		uint8_t proto;
		uint16_t sp, dp;

		ip[IPV4_OFF_PROTO] = IPV4_PROTO_ICMP;
		assert_int_equal(asif_l4_ports(ip, p->len, &proto, &sp, &dp), SP_ENOTFOUND);
		assert_int_equal(asif_port(ip, p->len, true, PP_PORT, 1), 0);
	}
	pkt_free(p);
	pkt_free(want);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_transport_through_nat),
		cmocka_unit_test(ah_transport_through_nat),
		cmocka_unit_test(ah_mutable_fields_and_options),
		cmocka_unit_test(l4_checksum_adjust),
		cmocka_unit_test(transport_ports),
		cmocka_unit_test(zero_udp_checksum),
		cmocka_unit_test(tunnel_inner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
