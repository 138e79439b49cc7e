/*
 * NAPT core: endpoint-independent mappings with port preservation (RFC 4787 REQ-1, REQ-3),
 * TCP state-aware timeouts (RFC 5382 REQ-5), UDP timeout (RFC 4787 REQ-5), ICMP echo
 * identifiers and ICMP errors with their embedded header (RFC 5508), hairpinning
 * (RFC 4787 REQ-9), fragments, pools, full tables, and checksums that stay right.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "nat/nat_strategy.h"

#define G    IP(171, 69, 68, 10)
#define H1   IP(10, 6, 1, 2)
#define H2   IP(10, 6, 1, 3)
#define SRV  IP(204, 71, 200, 69)
#define SRV2 IP(198, 51, 100, 7)
#define T0   SP_SEC(1000)

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || fx_init(f, "masq", 1024) != 0 || fx_start(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fx_fini(f);
	free(f);
	return 0;
}

/* Send an outbound UDP packet and return the global port it got (0 if dropped). */
static uint16_t udp_out(struct fx *f, sp_time now, uint32_t src, uint16_t sport, uint32_t dst,
			uint16_t dport)
{
	struct pkt *out;
	uint16_t gp = 0;

	if (fx_xlate(f, now, NAT_INSIDE, tp_udp(&f->pool, src, sport, dst, dport, "hello", 5),
		     &out) == NAT_TO_OUTSIDE) {
		assert_int_equal(tp_src(out), G);
		assert_int_equal(tp_dst(out), dst);
		assert_int_equal(tp_dport(out), dport);
		assert_true(tp_csum_ok(out));
		gp = tp_sport(out);
		pkt_free(out);
	}
	return gp;
}

/* An inbound UDP packet to G:gp; returns the inside address it went to, 0 if dropped. */
static uint32_t udp_in(struct fx *f, sp_time now, uint32_t src, uint16_t sport, uint16_t gp,
		       uint16_t *inport)
{
	struct pkt *out;
	uint32_t a = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_udp(&f->pool, src, sport, G, gp, "reply", 5), &out) ==
	    NAT_TO_INSIDE) {
		assert_true(tp_csum_ok(out));
		assert_int_equal(tp_src(out), src);
		a = tp_dst(out);
		if (inport)
			*inport = tp_dport(out);
		pkt_free(out);
	}
	return a;
}

static void udp_port_preserved_and_endpoint_independent(void **state)
{
	struct fx *f = *state;
	uint16_t port = 0;

	assert_int_equal(udp_out(f, T0, H1, 40000, SRV, 53), 40000);
	assert_int_equal(fx_ctr(f, "port_preserved"), 1);
	/* REQ-1: the same inside endpoint keeps its mapping towards another server */
	assert_int_equal(udp_out(f, T0, H1, 40000, SRV2, 123), 40000);
	assert_int_equal(fx_ctr(f, "mappings_created"), 1);
	/* the reply comes back; and any remote may use the mapping (REQ-8, independent) */
	assert_int_equal(udp_in(f, T0, SRV, 53, 40000, &port), H1);
	assert_int_equal(port, 40000);
	assert_int_equal(udp_in(f, T0, IP(192, 0, 2, 1), 9, 40000, NULL), H1);
	/* another host with the same port gets a different one from the range */
	port = udp_out(f, T0, H2, 40000, SRV, 53);
	assert_true(port >= 1024 && port != 40000);
	assert_int_equal(udp_in(f, T0, SRV, 53, port, NULL), H2);
	/* nothing is mapped on other ports */
	assert_int_equal(udp_in(f, T0, SRV, 53, 40001, NULL), 0);
	assert_int_equal(fx_ctr(f, "drop_no_mapping"), 1);
}

static void udp_timeout_two_minutes_at_least(void **state)
{
	struct fx *f = *state;

	assert_int_equal(nat_config_of(f->n)->t_udp, SP_SEC(300));
	assert_int_equal(udp_out(f, T0, H1, 5000, SRV, 53), 5000);
	/* REQ-6: outbound refreshes; inbound too */
	assert_int_equal(udp_in(f, T0 + SP_SEC(299), SRV, 53, 5000, NULL), H1);
	assert_int_equal(udp_in(f, T0 + SP_SEC(598), SRV, 53, 5000, NULL), H1);
	assert_int_equal(udp_in(f, T0 + SP_SEC(899), SRV, 53, 5000, NULL), 0);
	nat_tick(f->n, T0 + SP_SEC(900));
	assert_int_equal(nat_entries(f->n), 0);
	assert_true(fx_ctr(f, "entries_expired") >= 1);
}

/* Expiries are kept modulo 2^32 ms (49.7 days): a caller that translates after weeks
 * without nat_tick() must still find the old mapping dead, not alive again. */
static void timeouts_hold_across_weeks_without_ticks(void **state)
{
	struct fx *f = *state;
	sp_time later = T0 + SP_SEC(86400) * 40;

	assert_int_equal(udp_out(f, T0, H1, 5000, SRV, 53), 5000);
	assert_int_equal(nat_entries(f->n), 1);
	/* 40 days on (2^32 ms plus about 9 hours after the mapping's expiry): dead */
	assert_int_equal(udp_in(f, later, SRV, 53, 5000, NULL), 0);
	assert_int_equal(fx_ctr(f, "entries_expired"), 1);
	assert_int_equal(nat_entries(f->n), 0);
	/* and a new mapping then lives its full timeout across the wrap of the count */
	assert_int_equal(udp_out(f, later, H1, 5000, SRV, 53), 5000);
	assert_int_equal(udp_in(f, later + SP_SEC(299), SRV, 53, 5000, NULL), H1);
	assert_int_equal(udp_in(f, later + SP_SEC(299) + SP_SEC(300), SRV, 53, 5000, NULL), 0);
}

static int tcp(struct fx *f, sp_time now, enum nat_side from, uint8_t flags)
{
	struct pkt *out, *p;
	int v;

	if (from == NAT_INSIDE)
		p = tp_tcp(&f->pool, H1, 33000, SRV, 443, flags);
	else
		p = tp_tcp(&f->pool, SRV, 443, G, 33000, flags);
	v = fx_xlate(f, now, from, p, &out);
	if (out != NULL) {
		assert_true(tp_csum_ok(out));
		pkt_free(out);
	}
	return v;
}

static void tcp_state_timeouts(void **state)
{
	struct fx *f = *state;
	sp_time t = T0;

	/* a SYN alone: transitory, 4 min (RFC 5382 REQ-5) */
	assert_int_equal(tcp(f, t, NAT_INSIDE, TCP_SYN), NAT_TO_OUTSIDE);
	assert_int_equal(tcp(f, t + SP_SEC(241), NAT_OUTSIDE, TCP_SYN | TCP_ACK), NAT_DROP);
	/* a handshake: established, at least 2 h 4 min of silence survive */
	t += SP_SEC(300);
	assert_int_equal(tcp(f, t, NAT_INSIDE, TCP_SYN), NAT_TO_OUTSIDE);
	assert_int_equal(tcp(f, t + SP_SEC(1), NAT_OUTSIDE, TCP_SYN | TCP_ACK), NAT_TO_INSIDE);
	assert_int_equal(tcp(f, t + SP_SEC(2), NAT_INSIDE, TCP_ACK), NAT_TO_OUTSIDE);
	t += SP_SEC(2) + SP_SEC(7439);
	assert_int_equal(tcp(f, t, NAT_OUTSIDE, TCP_ACK), NAT_TO_INSIDE);
	/* a FIN makes it transitory again */
	assert_int_equal(tcp(f, t, NAT_INSIDE, TCP_FIN | TCP_ACK), NAT_TO_OUTSIDE);
	assert_int_equal(tcp(f, t + SP_SEC(239), NAT_OUTSIDE, TCP_FIN | TCP_ACK), NAT_TO_INSIDE);
	assert_int_equal(tcp(f, t + SP_SEC(239 + 241), NAT_OUTSIDE, TCP_ACK), NAT_DROP);
}

static void icmp_echo_identifiers(void **state)
{
	struct fx *f = *state;
	struct pkt *out;
	uint16_t id1, id2;

	/* two hosts ping the same server with the same identifier */
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE,
				  tp_echo(&f->pool, H1, SRV, ICMP_ECHO_REQUEST, 77, 1), &out),
			 NAT_TO_OUTSIDE);
	assert_true(tp_csum_ok(out));
	id1 = tp_icmp_id(out);
	pkt_free(out);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE,
				  tp_echo(&f->pool, H2, SRV, ICMP_ECHO_REQUEST, 77, 1), &out),
			 NAT_TO_OUTSIDE);
	id2 = tp_icmp_id(out);
	pkt_free(out);
	assert_int_equal(id1, 77);
	assert_int_not_equal(id2, 77);
	/* replies go back to the right host with the original identifier */
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE,
				  tp_echo(&f->pool, SRV, G, ICMP_ECHO_REPLY, id2, 1), &out),
			 NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), H2);
	assert_int_equal(tp_icmp_id(out), 77);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
	/* RFC 5508 REQ-1: 60 s */
	assert_int_equal(fx_xlate(f, T0 + SP_SEC(61), NAT_OUTSIDE,
				  tp_echo(&f->pool, SRV, G, ICMP_ECHO_REPLY, id1, 2), &out),
			 NAT_DROP);
}

/* RFC 5508 4.2: an error about a translated packet reaches the host, translated. */
static void icmp_error_out2in(void **state)
{
	struct fx *f = *state;
	struct pkt *orig, *out;
	const uint8_t *in;
	size_t hl;
	uint16_t gp;

	assert_int_equal(udp_out(f, T0, H1, 40000, SRV, 53), 40000);
	gp = udp_out(f, T0, H2, 40000, SRV, 53);
	/* what the server saw from H2, quoted in a port unreachable */
	orig = tp_udp(&f->pool, G, gp, SRV, 53, "hello", 5);
	assert_int_equal(
		fx_xlate(f, T0, NAT_OUTSIDE,
			 tp_icmp_err(&f->pool, SRV, G, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, orig),
			 &out),
		NAT_TO_INSIDE);
	pkt_free(orig);
	assert_int_equal(tp_dst(out), H2);
	assert_true(tp_csum_ok(out)); /* outer ICMP checksum after the inner rewrite */
	hl = tp_hl(out);
	in = pkt_data(out) + hl + ICMP_HDR_LEN;
	assert_int_equal(sp_load_be32(in + IPV4_OFF_SRC), H2);
	assert_int_equal(csum_buf(in, 20), 0); /* inner header checksum */
	assert_int_equal(sp_load_be16(in + 20), 40000);
	/* the inner UDP checksum is what H2's own packet carried */
	orig = tp_udp(&f->pool, H2, 40000, SRV, 53, "hello", 5);
	assert_int_equal(sp_load_be16(in + 20 + UDP_OFF_CSUM),
			 sp_load_be16(pkt_data(orig) + 20 + UDP_OFF_CSUM));
	pkt_free(orig);
	pkt_free(out);
	assert_int_equal(fx_ctr(f, "icmp_error_out2in"), 1);
	/* an error quoting a packet nobody sent is dropped and counted */
	orig = tp_udp(&f->pool, G, 999, SRV, 53, "x", 1);
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE,
				  tp_icmp_err(&f->pool, SRV, G, ICMP_DEST_UNREACH, 3, orig), &out),
			 NAT_DROP);
	pkt_free(orig);
	assert_int_equal(fx_ctr(f, "drop_icmp_error_no_mapping"), 1);
}

static void icmp_error_in2out(void **state)
{
	struct fx *f = *state;
	struct pkt *delivered, *out;
	const uint8_t *in;
	uint16_t gp = udp_out(f, T0, H1, 7000, SRV, 53);

	/* the server's packet reaches H1, which answers with a port unreachable */
	assert_int_equal(
		fx_xlate(f, T0, NAT_OUTSIDE, tp_udp(&f->pool, SRV, 53, G, gp, "q", 1), &delivered),
		NAT_TO_INSIDE);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE,
				  tp_icmp_err(&f->pool, H1, SRV, ICMP_DEST_UNREACH, 3, delivered),
				  &out),
			 NAT_TO_OUTSIDE);
	pkt_free(delivered);
	assert_int_equal(tp_src(out), G);
	assert_true(tp_csum_ok(out));
	in = pkt_data(out) + tp_hl(out) + ICMP_HDR_LEN;
	assert_int_equal(sp_load_be32(in + IPV4_OFF_DST), G);
	assert_int_equal(sp_load_be16(in + 22), gp);
	pkt_free(out);
}

static void hairpin(void **state)
{
	struct fx *f = *state;
	uint16_t g1 = udp_out(f, T0, H1, 6000, SRV, 53);
	uint16_t g2 = udp_out(f, T0, H2, 6001, SRV, 53);
	struct pkt *out;

	/* H2 sends to H1's global endpoint: it arrives at H1 from H2's global endpoint */
	assert_int_equal(
		fx_xlate(f, T0, NAT_INSIDE, tp_udp(&f->pool, H2, 6001, G, g1, "hp", 2), &out),
		NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), H1);
	assert_int_equal(tp_dport(out), 6000);
	assert_int_equal(tp_src(out), G);
	assert_int_equal(tp_sport(out), g2);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
	assert_int_equal(fx_ctr(f, "hairpin"), 1);
}

static void fragments_follow_the_first(void **state)
{
	struct fx *f = *state;
	uint16_t gp = udp_out(f, T0, H1, 4500, SRV, 4500);
	struct pkt *p, *out;

	/* first fragment (MF) then a later one with the same IP id */
	p = tp_udp(&f->pool, SRV, 4500, G, gp, "0123456789abcdef", 16);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, IPV4_FLAG_MF);
	ipv4_set_csum(pkt_data(p), 20);
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	pkt_free(out);
	p = tp_udp(&f->pool, SRV, 1, G, 2, "rest", 4);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, 3); /* offset 24 bytes */
	ipv4_set_csum(pkt_data(p), 20);
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), H1);
	pkt_free(out);
	/* a later fragment of an unknown datagram */
	p = tp_udp(&f->pool, SRV, 1, G, 2, "rest", 4);
	sp_store_be16(pkt_data(p) + IPV4_OFF_ID, 0x9999);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, 3);
	ipv4_set_csum(pkt_data(p), 20);
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE, p, &out), NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_fragment_unknown"), 1);
	/* outbound later fragments take the paired address */
	p = tp_udp(&f->pool, H1, 1, SRV, 2, "rest", 4);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, 3);
	ipv4_set_csum(pkt_data(p), 20);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_equal(tp_src(out), G);
	assert_int_equal(csum_buf(pkt_data(out), 20), 0);
	pkt_free(out);
}

static void malformed_and_unsupported(void **state)
{
	struct fx *f = *state;
	struct pkt *p = pkt_alloc(&f->pool), *out;
	static const uint8_t junk[10] = { 0x45, 0, 0, 10 };

	assert_int_equal(pkt_append(p, junk, sizeof(junk)), 0);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE, p, &out), NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_malformed"), 1);
	p = tp_udp(&f->pool, H1, 1, SRV, 2, "x", 1);
	pkt_data(p)[IPV4_OFF_CSUM] ^= 0x55;
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE, p, &out), NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_ip_checksum"), 1);
	p = tp_udp(&f->pool, H1, 1, SRV, 2, "x", 1);
	pkt_data(p)[IPV4_OFF_PROTO] = 47; /* GRE */
	ipv4_set_csum(pkt_data(p), 20);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE, p, &out), NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_protocol_unsupported"), 1);
	/* not for a global address */
	assert_int_equal(fx_xlate(f, T0, NAT_OUTSIDE,
				  tp_udp(&f->pool, SRV, 1, IP(171, 69, 68, 11), 2, "x", 1), &out),
			 NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_dst_not_in_pool"), 1);
	/* UDP without checksum stays without */
	p = tp_udp(&f->pool, H1, 2222, SRV, 2, "x", 1);
	sp_store_be16(pkt_data(p) + 20 + UDP_OFF_CSUM, 0);
	assert_int_equal(fx_xlate(f, T0, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_equal(sp_load_be16(pkt_data(out) + 20 + UDP_OFF_CSUM), 0);
	pkt_free(out);
}

static void table_full_drop_or_evict(void **state)
{
	struct fx fx;
	unsigned i;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 16), 0);
	assert_int_equal(fx_start(&fx), 0);
	for (i = 0; i < 16; i++)
		assert_int_not_equal(udp_out(&fx, T0 + i, H1, (uint16_t)(2000 + i), SRV, 53), 0);
	assert_int_equal(udp_out(&fx, T0 + 20, H1, 3000, SRV, 53), 0);
	assert_int_equal(fx_ctr(&fx, "drop_table_full"), 1);
	/* expired entries are reclaimed on demand */
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(400), H1, 3000, SRV, 53), 0);
	fx_fini(&fx);

	assert_int_equal(fx_init(&fx, "masq", 16), 0);
	fx.cfg.full_mode = NAT_FULL_EVICT;
	assert_int_equal(fx_start(&fx), 0);
	for (i = 0; i < 16; i++)
		assert_int_not_equal(
			udp_out(&fx, T0 + SP_SEC(i), H1, (uint16_t)(2000 + i), SRV, 53), 0);
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(20), H1, 3000, SRV, 53), 3000);
	assert_int_equal(fx_ctr(&fx, "entries_evicted"), 1);
	/* the first mapping (filed to expire soonest) went */
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(20), SRV, 53, 2000, NULL), 0);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(20), SRV, 53, 2001, NULL), H1);
	fx_fini(&fx);
}

/* Every port of the range in use: a mapping that cannot keep its port is refused by name,
 * and the range is free again once the mappings expire. */
static void ports_exhausted(void **state)
{
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 64), 0);
	fx.cfg.port_min = 2000;
	fx.cfg.port_max = 2003;
	assert_int_equal(fx_start(&fx), 0);
	/* H1 keeps 2000-2003, the whole range; H2 wants 2000 and there is none to give */
	for (uint16_t p = 2000; p <= 2003; p++)
		assert_int_equal(udp_out(&fx, T0, H1, p, SRV, 53), p);
	assert_int_equal(udp_out(&fx, T0, H2, 2000, SRV, 53), 0);
	assert_int_equal(fx_ctr(&fx, "drop_no_port"), 1);
	/* a port outside the range is still kept when free */
	assert_int_equal(udp_out(&fx, T0, H2, 40000, SRV, 53), 40000);
	/* after timeout_udp the range is free again */
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(301), H2, 2000, SRV, 53), 2000);
	assert_int_equal(fx_ctr(&fx, "drop_no_port"), 1);
	fx_fini(&fx);
}

static void pool_is_paired(void **state)
{
	struct fx fx;
	struct pkt *out;
	uint32_t first[8];

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	for (uint32_t a = 11; a <= 14; a++)
		assert_int_equal(nat_config_add_pool(&fx.cfg, IP(171, 69, 68, a)), 0);
	assert_int_equal(nat_config_add_pool(&fx.cfg, IP(171, 69, 68, 12)), SP_EEXIST);
	assert_int_equal(fx_start(&fx), 0);
	for (uint32_t h = 0; h < 8; h++) {
		for (int rep = 0; rep < 3; rep++) {
			assert_int_equal(fx_xlate(&fx, T0, NAT_INSIDE,
						  tp_udp(&fx.pool, IP(10, 0, 0, 10 + h),
							 (uint16_t)(1000 + rep), SRV, 53, "p", 1),
						  &out),
					 NAT_TO_OUTSIDE);
			/* RFC 4787 REQ-2: one global address per inside address */
			if (rep == 0)
				first[h] = tp_src(out);
			assert_int_equal(tp_src(out), first[h]);
			assert_true(first[h] >= IP(171, 69, 68, 10) &&
				    first[h] <= IP(171, 69, 68, 14));
			pkt_free(out);
		}
	}
	fx_fini(&fx);
}

static void config_keys(void **state)
{
	struct nat_config c;
	struct conf *conf = NULL;

	(void)state;
	assert_int_equal(conf_parse_string("[gateway]\n"
					   "pool = 171.69.68.8/30\n"
					   "pool = 171.69.68.20\n"
					   "ports = 20000-30000\n"
					   "max_mappings = 1M\n"
					   "timeout_udp = 5m\n"
					   "strategy = spihash\n"
					   "spihash_scheme = md5-rand\n"
					   "masq_t_out = 20s\n",
					   "t.conf", &conf),
			 0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), 0);
	assert_int_equal(conf_check_unused(conf), 0);
	assert_int_equal(c.npool, 3); /* .9 and .10 of the /30, and .20 */
	assert_int_equal(c.pool[0], IP(171, 69, 68, 9));
	assert_int_equal(c.port_min, 20000);
	assert_int_equal(c.max_entries, 1u << 20);
	assert_string_equal(c.strategy->name, "spihash");
	conf_free(conf);

	/* below RFC 4787's two minutes: refused with the RFC named */
	assert_int_equal(conf_parse_string("[gateway]\npool = 1.2.3.4\ntimeout_udp = 30s\n",
					   "t.conf", &conf),
			 0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), SP_ECONFIG);
	assert_non_null(strstr(conf_error(conf), "RFC 4787"));
	conf_free(conf);
	/* beyond what the table keeps as an expiry (2^30 ms): refused with the maximum */
	assert_int_equal(conf_parse_string("[gateway]\npool = 1.2.3.4\ntimeout_tcp_established = "
					   "1073742s\n",
					   "t.conf", &conf),
			 0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), SP_ECONFIG);
	assert_non_null(strstr(conf_error(conf), "maximum of 1073741 s"));
	conf_free(conf);
	assert_int_equal(
		conf_parse_string("[gateway]\npool = 1.2.3.4\nstrategy = magic\n", "t.conf", &conf),
		0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), SP_ECONFIG);
	assert_non_null(strstr(conf_error(conf), "spihash"));
	conf_free(conf);
	assert_int_equal(conf_parse_string("[gateway]\nstrategy = natt\n", "t.conf", &conf), 0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), SP_ECONFIG);
	assert_non_null(strstr(conf_error(conf), "pool"));
	conf_free(conf);
}

static void show_lists_mappings(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_int_equal(udp_out(f, T0, H1, 40000, SRV, 53), 40000);
	nat_show(f->n, T0, m, NAT_SHOW_ALL, 0);
	fclose(m);
	assert_non_null(strstr(buf, "Inside global"));
	assert_non_null(strstr(buf, "udp   171.69.68.10:40000     10.6.1.2:40000"));
	assert_non_null(strstr(buf, "204.71.200.69:53"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(udp_port_preserved_and_endpoint_independent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(udp_timeout_two_minutes_at_least, setup, teardown),
		cmocka_unit_test_setup_teardown(timeouts_hold_across_weeks_without_ticks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tcp_state_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_echo_identifiers, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_error_out2in, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_error_in2out, setup, teardown),
		cmocka_unit_test_setup_teardown(hairpin, setup, teardown),
		cmocka_unit_test_setup_teardown(fragments_follow_the_first, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_and_unsupported, setup, teardown),
		cmocka_unit_test(table_full_drop_or_evict),
		cmocka_unit_test(ports_exhausted),
		cmocka_unit_test(pool_is_paired),
		cmocka_unit_test(config_keys),
		cmocka_unit_test_setup_teardown(show_lists_mappings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
