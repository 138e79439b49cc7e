/*
 * Fair share of the NAT (RFC 6888 REQ-4, REQ-5, REQ-11): per inside host limits on ports,
 * table entries, IKE items and peers, fragment entries and the strategies' ESP/AH items;
 * unanswered IKE peers that live only T_out; eviction that never takes another host's
 * entry in use; one log line per host at a limit, not one per packet; an ICMP Host
 * Unreachable, rate-limited, to a host whose packet a limit refused; a bounded pool of host
 * records (max_hosts) that refuses new hosts when full instead of letting them past.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "base/csum.h"
#include "nat/nat_strategy.h"

#define G   IP(171, 69, 68, 10)
#define H1  IP(10, 6, 1, 2)
#define H2  IP(10, 6, 1, 3)
#define H3  IP(10, 6, 1, 4)
#define H4  IP(10, 6, 1, 5)
#define SRV IP(204, 71, 200, 69)
#define T0  SP_SEC(1000)

struct lines {
	unsigned n;
	char last[512];
};

static void sink(void *arg, int level, const char *module, const char *msg)
{
	struct lines *l = arg;

	(void)level;
	(void)module;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

/* fx_start() with a log. */
static void start(struct fx *f, struct sp_log *lg)
{
	struct nat_env env = { 0 };

	env.name = "gw";
	env.rng = &f->rng.rng;
	env.ctrs = &f->ctrs;
	env.pool = &f->pool;
	env.emit = fx_emit;
	env.emit_arg = f;
	env.log = lg;
	assert_int_equal(nat_new(&f->n, &f->cfg, &env), 0);
}

static uint16_t udp_out(struct fx *f, sp_time now, uint32_t src, uint16_t sport)
{
	struct pkt *out;
	uint16_t gp = 0;

	if (fx_xlate(f, now, NAT_INSIDE, tp_udp(&f->pool, src, sport, SRV, 53, "q", 1), &out) ==
	    NAT_TO_OUTSIDE) {
		gp = tp_sport(out);
		pkt_free(out);
	}
	return gp;
}

static uint32_t udp_in(struct fx *f, sp_time now, uint16_t gp)
{
	struct pkt *out;
	uint32_t a = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_udp(&f->pool, SRV, 53, G, gp, "r", 1), &out) ==
	    NAT_TO_INSIDE) {
		a = tp_dst(out);
		pkt_free(out);
	}
	return a;
}

static bool echo_out(struct fx *f, sp_time now, uint32_t src, uint16_t id)
{
	struct pkt *out;

	if (fx_xlate(f, now, NAT_INSIDE, tp_echo(&f->pool, src, SRV, ICMP_ECHO_REQUEST, id, 1),
		     &out) != NAT_TO_OUTSIDE)
		return false;
	pkt_free(out);
	return true;
}

static bool ike_out(struct fx *f, sp_time now, uint32_t c, uint32_t server, uint64_t ic)
{
	struct pkt *out;

	if (fx_xlate(f, now, NAT_INSIDE, tp_ike(&f->pool, c, server, ic, 0), &out) !=
	    NAT_TO_OUTSIDE)
		return false;
	pkt_free(out);
	return true;
}

static uint32_t ike_in(struct fx *f, sp_time now, uint32_t server, uint64_t ic, uint64_t rc)
{
	struct pkt *out;
	uint32_t to = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_ike(&f->pool, server, G, ic, rc), &out) ==
	    NAT_TO_INSIDE) {
		to = tp_dst(out);
		pkt_free(out);
	}
	return to;
}

/* A first fragment (MF, offset 0) or a later one (offset 24 bytes) from SRV to G:gp. */
static uint32_t frag_in(struct fx *f, sp_time now, uint16_t gp, uint16_t id, bool first)
{
	struct pkt *p = tp_udp(&f->pool, SRV, 53, G, gp, "0123456789abcdef", 16), *out;
	uint32_t to = 0;

	sp_store_be16(pkt_data(p) + IPV4_OFF_ID, id);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, first ? IPV4_FLAG_MF : 3);
	ipv4_set_csum(pkt_data(p), 20);
	if (fx_xlate(f, now, NAT_OUTSIDE, p, &out) == NAT_TO_INSIDE) {
		to = tp_dst(out);
		pkt_free(out);
	}
	return to;
}

/* RFC 6888 REQ-4: one host's ports are bounded per protocol; the others keep theirs. */
static void ports_per_host_and_protocol(void **state)
{
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_ports = 8;
	assert_int_equal(fx_start(&fx), 0);
	for (uint16_t i = 0; i < 8; i++)
		assert_int_not_equal(udp_out(&fx, T0, H1, (uint16_t)(2000 + i)), 0);
	assert_int_equal(udp_out(&fx, T0, H1, 3000), 0);
	assert_int_equal(udp_out(&fx, T0, H1, 3001), 0);
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 2);
	/* its existing mappings still work, another host and another protocol are free */
	assert_int_not_equal(udp_out(&fx, T0, H1, 2000), 0);
	assert_int_not_equal(udp_out(&fx, T0, H2, 3000), 0);
	assert_true(echo_out(&fx, T0, H1, 77));
	/* the share comes back as the mappings expire */
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(400), H1, 3000), 0);
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 2);
	fx_fini(&fx);
}

/* RFC 6888 REQ-5: all the entries that name a host, whatever their kind. */
static void entries_per_host(void **state)
{
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_ports = 8;
	fx.cfg.host_max_entries = 10;
	assert_int_equal(fx_start(&fx), 0);
	for (uint16_t i = 0; i < 8; i++)
		assert_int_not_equal(udp_out(&fx, T0, H1, (uint16_t)(2000 + i)), 0);
	assert_true(echo_out(&fx, T0, H1, 1));
	assert_true(echo_out(&fx, T0, H1, 2));
	assert_false(echo_out(&fx, T0, H1, 3));
	assert_false(ike_out(&fx, T0, H1, SRV, 0x1111));
	assert_int_equal(fx_ctr(&fx, "drop_host_entries"), 2);
	assert_int_equal(nat_entries(fx.n), 10);
	assert_true(echo_out(&fx, T0, H2, 3));
	fx_fini(&fx);
}

/* IKE to many servers: items and peer entries are bounded per host, and a peer entry
 * whose server never answered goes with its item after T_out, not after ike_recent. */
static void ike_per_host_and_short_life(void **state)
{
	uint32_t clients[4];
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_ike = 6;
	assert_int_equal(fx_start(&fx), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(ike_out(&fx, T0, H1, SRV + 1 + i, 0x100 + i));
	assert_false(ike_out(&fx, T0, H1, SRV + 10, 0x200));
	assert_false(ike_out(&fx, T0, H1, SRV + 11, 0x201));
	assert_int_equal(fx_ctr(&fx, "drop_host_ike"), 2);
	assert_int_equal(nat_entries(fx.n), 6);
	/* another host negotiates with SRV, which answers */
	assert_true(ike_out(&fx, T0, H2, SRV, 0xabc));
	assert_int_equal(ike_in(&fx, T0, SRV, 0xabc, 0xdef), H2);
	/* after T_out (10 s) the unanswered items and peers are gone; H2's peer entry still
	 * counts it as recently running IKE with SRV (ike_recent, 5 min) */
	nat_tick(fx.n, T0 + SP_SEC(12));
	assert_int_equal(nat_entries(fx.n), 2);
	assert_int_equal(nat_ike_recent_clients(fx.n, T0 + SP_SEC(12), G, SRV + 1, clients, 4), 0);
	assert_int_equal(nat_ike_recent_clients(fx.n, T0 + SP_SEC(12), G, SRV, clients, 4), 1);
	assert_int_equal(clients[0], H2);
	assert_int_equal(nat_ike_recent_clients(fx.n, T0 + SP_SEC(200), G, SRV, clients, 4), 1);
	/* and H1 has its share back */
	assert_true(ike_out(&fx, T0 + SP_SEC(12), H1, SRV + 10, 0x200));
	fx_fini(&fx);
}

/* First fragments from outside to a mapped port: the first fragment itself always goes
 * through, but the host holds at most host_max_fragments entries, for t_frag. */
static void fragments_per_host(void **state)
{
	struct fx fx;
	uint16_t gp;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_frags = 4;
	assert_int_equal(fx_start(&fx), 0);
	gp = udp_out(&fx, T0, H1, 4500);
	for (uint16_t id = 1; id <= 10; id++)
		assert_int_equal(frag_in(&fx, T0, gp, id, true), H1);
	assert_int_equal(fx_ctr(&fx, "host_fragments_refused"), 6);
	assert_int_equal(nat_entries(fx.n), 1 + 4);
	assert_int_equal(frag_in(&fx, T0, gp, 2, false), H1);
	assert_int_equal(frag_in(&fx, T0, gp, 8, false), 0);
	assert_int_equal(fx_ctr(&fx, "drop_fragment_unknown"), 1);
	/* t_frag (2 s) later the entries are gone and the share is back */
	assert_int_equal(frag_in(&fx, T0 + SP_SEC(3), gp, 2, false), 0);
	assert_int_equal(frag_in(&fx, T0 + SP_SEC(3), gp, 20, true), H1);
	assert_int_equal(frag_in(&fx, T0 + SP_SEC(3), gp, 20, false), H1);
	assert_int_equal(fx_ctr(&fx, "host_fragments_refused"), 6);
	fx_fini(&fx);
}

/* RFC 6888 REQ-11 d: with table_full = evict, a new mapping takes the host's own entries
 * or another host's unanswered ones, never another host's mapping in use. */
static void eviction_spares_others_in_use(void **state)
{
	uint16_t g1, g2[15];
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 16), 0);
	fx.cfg.full_mode = NAT_FULL_EVICT;
	assert_int_equal(fx_start(&fx), 0);
	/* H1's mapping is the oldest, and answered */
	g1 = udp_out(&fx, T0, H1, 1000);
	assert_int_equal(udp_in(&fx, T0, g1), H1);
	for (uint16_t i = 0; i < 15; i++)
		g2[i] = udp_out(&fx, T0 + SP_SEC(1 + i), H2, (uint16_t)(2000 + i));
	/* H3 takes H2's oldest unanswered mapping */
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(20), H3, 3000), 0);
	assert_int_equal(fx_ctr(&fx, "entries_evicted"), 1);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(20), g1), H1);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(20), g2[0]), 0);
	/* once every other mapping is answered, H3 gets no more room */
	for (uint16_t i = 1; i < 15; i++)
		assert_int_equal(udp_in(&fx, T0 + SP_SEC(20), g2[i]), H2);
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(21), H3, 3001), 3001);
	assert_int_equal(fx_ctr(&fx, "entries_evicted"), 2); /* its own */
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(21), g1), H1);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(21), 3001), H3);
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(21), IP(10, 6, 1, 9), 3002), 0);
	assert_int_equal(fx_ctr(&fx, "drop_table_full"), 1);
	assert_int_equal(fx_ctr(&fx, "evict_only_established"), 1);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(21), g1), H1);
	/* a host may always give up its own oldest mapping */
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(22), H2, 4000), 0);
	assert_int_equal(fx_ctr(&fx, "entries_evicted"), 3);
	assert_int_equal(udp_in(&fx, T0 + SP_SEC(22), g1), H1);
	fx_fini(&fx);
}

/* A host flooding new ports is named once, not once per packet; again after 10 s. */
static void one_log_line_per_host(void **state)
{
	struct lines l = { 0 };
	struct sp_log lg = { sink, &l, SP_LOG_INFO };
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 4096), 0);
	fx.cfg.host_max_ports = 2;
	start(&fx, &lg);
	l.n = 0;
	for (uint16_t i = 0; i < 500; i++)
		(void)udp_out(&fx, T0 + SP_MSEC(i), H1, (uint16_t)(2000 + i));
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 498);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "10.6.1.2"));
	assert_non_null(strstr(l.last, "host_max_ports"));
	for (uint16_t i = 0; i < 500; i++)
		(void)udp_out(&fx, T0 + SP_SEC(11) + SP_MSEC(i), H1, (uint16_t)(3000 + i));
	assert_int_equal(l.n, 2);
	/* many hosts at their limits at once: the engine's bucket bounds the lines */
	for (uint32_t h = 0; h < 1000; h++)
		for (uint16_t i = 0; i < 3; i++)
			(void)udp_out(&fx, T0 + SP_SEC(30), IP(10, 7, 0, 0) + h,
				      (uint16_t)(5000 + i));
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 998 + 1000);
	assert_true(l.n <= 2 + SP_RL_BURST);
	fx_fini(&fx);
}

static uint32_t esp_in(struct fx *f, sp_time now, uint32_t spi)
{
	struct pkt *out;
	uint32_t to = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_esp(&f->pool, SRV, G, spi, 1), &out) ==
	    NAT_TO_INSIDE) {
		to = tp_dst(out);
		pkt_free(out);
	}
	return to;
}

static bool esp_out(struct fx *f, sp_time now, uint32_t c, uint32_t spi)
{
	struct pkt *out;

	if (fx_xlate(f, now, NAT_INSIDE, tp_esp(&f->pool, c, SRV, spi, 1), &out) != NAT_TO_OUTSIDE)
		return false;
	pkt_free(out);
	return true;
}

/* ESP spoofed as the server, matching no item: masq multicasts it (003), but to at most
 * masq_multicast_max clients and masq_multicast_rate times a second per server. */
static void masq_multicast_bounded(void **state)
{
	struct fx fx;
	unsigned delivered = 0;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	assert_int_equal(fx_start(&fx), 0);
	for (uint32_t c = 0; c < 70; c++)
		assert_true(ike_out(&fx, T0, IP(10, 6, 2, 1) + c, SRV, 0x5000 + c));
	/* C1's own SA is established and keeps working through the flood */
	assert_true(esp_out(&fx, T0, H1, 0xc1));
	assert_int_equal(esp_in(&fx, T0, 0x1c), H1);
	for (uint32_t i = 0; i < 1000; i++) {
		delivered += esp_in(&fx, T0 + 1, 0x70000000 + i) != 0;
		fx_clear_emitted(&fx);
	}
	assert_int_equal(esp_in(&fx, T0 + 2, 0x1c), H1);
	assert_int_equal(delivered, 100);
	assert_int_equal(fx_ctr(&fx, "masq_drop_multicast_rate"), 900);
	assert_int_equal(fx_ctr(&fx, "masq_multicast_clients_capped"), 100);
	assert_int_equal(fx_ctr(&fx, "copies_emitted"), 100 * 63);
	/* the bucket refills at 100 per second */
	delivered = 0;
	for (uint32_t i = 0; i < 200; i++) {
		delivered += esp_in(&fx, T0 + 1 + SP_MSEC(500), 0x71000000 + i) != 0;
		fx_clear_emitted(&fx);
	}
	assert_int_equal(delivered, 50);
	fx_fini(&fx);
}

/* The one packet emitted: an ICMP Host Unreachable (RFC 792 type 3 code 1; RFC 6888
 * REQ-11 b) from the global address to h about the refused packet from h to dst. */
static void assert_unreach(struct fx *f, unsigned i, uint32_t h, uint32_t dst, uint8_t proto)
{
	const uint8_t *d;
	struct pkt *p;

	assert_true(i < f->nemitted);
	p = f->emitted[i];
	d = pkt_data(p);
	assert_int_equal(f->side[i], NAT_INSIDE);
	assert_true(p->len >= 20 + 8 + 20 + 8);
	assert_int_equal(d[0], 0x45);
	assert_int_equal(csum_buf(d, 20), 0);
	assert_int_equal(d[9], IPV4_PROTO_ICMP);
	assert_int_equal(sp_load_be32(d + IPV4_OFF_SRC), G);
	assert_int_equal(sp_load_be32(d + IPV4_OFF_DST), h);
	assert_int_equal(d[20], ICMP_DEST_UNREACH);
	assert_int_equal(d[21], 1);
	assert_int_equal(csum_buf(d + 20, p->len - 20), 0);
	/* the quote: the refused packet's header, untranslated, and its first 8 bytes */
	assert_int_equal(d[28 + 9], proto);
	assert_int_equal(sp_load_be32(d + 28 + IPV4_OFF_SRC), h);
	assert_int_equal(sp_load_be32(d + 28 + IPV4_OFF_DST), dst);
}

/* RFC 6888 REQ-11 b: a packet refused for a per-host limit is answered with an ICMP
 * Host Unreachable to its sender, at most host_unreachable_rate a second per host. */
static void unreachable_on_host_limit(void **state)
{
	struct pkt *out;
	struct fx fx;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_ports = 2;
	fx.cfg.host_max_ike = 2;
	assert_int_equal(fx_start(&fx), 0);
	assert_int_not_equal(udp_out(&fx, T0, H1, 2000), 0);
	assert_int_not_equal(udp_out(&fx, T0, H1, 2001), 0);
	assert_int_equal(fx.nemitted, 0);
	assert_int_equal(udp_out(&fx, T0, H1, 2002), 0);
	assert_int_equal(fx.nemitted, 1);
	assert_unreach(&fx, 0, H1, SRV, IPV4_PROTO_UDP);
	assert_int_equal(sp_load_be16(pkt_data(fx.emitted[0]) + 48), 2002); /* its port */
	assert_int_equal(fx_ctr(&fx, "host_unreachable_sent"), 1);
	fx_clear_emitted(&fx);
	/* a flood in one second: 10 answers, the rest counted only */
	for (uint16_t i = 0; i < 50; i++)
		(void)udp_out(&fx, T0 + SP_MSEC(10), H1, (uint16_t)(3000 + i));
	assert_int_equal(fx.nemitted, 9);
	assert_int_equal(fx_ctr(&fx, "host_unreachable_sent"), 10);
	assert_int_equal(fx_ctr(&fx, "host_unreachable_rate_limited"), 41);
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 51);
	fx_clear_emitted(&fx);
	/* the next second: again; another host at its own limit has its own budget */
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(1), H1, 4000), 0);
	assert_int_equal(fx.nemitted, 1);
	fx_clear_emitted(&fx);
	/* IKE beyond host_max_ike (an item and a peer entry per server) */
	assert_true(ike_out(&fx, T0 + SP_SEC(1), H2, SRV, 0x77));
	assert_false(ike_out(&fx, T0 + SP_SEC(1), H2, SRV + 1, 0x78));
	assert_int_equal(fx.nemitted, 1);
	assert_unreach(&fx, 0, H2, SRV + 1, IPV4_PROTO_UDP);
	fx_clear_emitted(&fx);
	/* ICMP identifiers are ports too; nothing is sent about a multicast packet */
	assert_int_not_equal(fx_xlate(&fx, T0 + SP_SEC(1), NAT_INSIDE,
				      tp_echo(&fx.pool, H1, SRV, ICMP_ECHO_REQUEST, 1, 1), &out),
			     NAT_DROP);
	pkt_free(out);
	assert_int_not_equal(fx_xlate(&fx, T0 + SP_SEC(1), NAT_INSIDE,
				      tp_echo(&fx.pool, H1, SRV, ICMP_ECHO_REQUEST, 2, 1), &out),
			     NAT_DROP);
	pkt_free(out);
	assert_int_equal(fx_xlate(&fx, T0 + SP_SEC(1), NAT_INSIDE,
				  tp_echo(&fx.pool, H1, SRV, ICMP_ECHO_REQUEST, 3, 1), &out),
			 NAT_DROP);
	assert_int_equal(fx.nemitted, 1);
	assert_unreach(&fx, 0, H1, SRV, IPV4_PROTO_ICMP);
	fx_clear_emitted(&fx);
	assert_int_equal(fx_xlate(&fx, T0 + SP_SEC(1), NAT_INSIDE,
				  tp_udp(&fx.pool, H1, 5353, IP(224, 0, 0, 251), 5353, "m", 1),
				  &out),
			 NAT_DROP);
	assert_int_equal(fx.nemitted, 0);
	fx_fini(&fx);

	/* host_unreachable_rate = 0: refusals are counted only */
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.host_max_ports = 1;
	fx.cfg.host_unreach_rate = 0;
	assert_int_equal(fx_start(&fx), 0);
	assert_int_not_equal(udp_out(&fx, T0, H1, 2000), 0);
	assert_int_equal(udp_out(&fx, T0, H1, 2001), 0);
	assert_int_equal(fx.nemitted, 0);
	assert_int_equal(fx_ctr(&fx, "host_unreachable_sent"), 0);
	fx_fini(&fx);
}

static bool esp_to(struct fx *f, sp_time now, uint32_t c, uint32_t server, uint32_t spi)
{
	struct pkt *out;

	if (fx_xlate(f, now, NAT_INSIDE, tp_esp(&f->pool, c, server, spi, 1), &out) !=
	    NAT_TO_OUTSIDE)
		return false;
	pkt_free(out);
	return true;
}

/* An inside host sending ESP with random SPIs to many servers holds at most host_max_esp
 * items, under every strategy that keeps items per host; the table (sized so the flood
 * alone would fill it) keeps room for another host's SA, which works both ways; the
 * flooder is named once in the log and told by ICMP; its share comes back as its items
 * expire. */
static void esp_items_per_host(void **state)
{
	static const char *const strats[] = { "masq", "serial", "oldest", "ipaddr", "spihash" };

	(void)state;
	for (unsigned s = 0; s < sizeof(strats) / sizeof(strats[0]); s++) {
		struct lines l = { 0 };
		struct sp_log lg = { sink, &l, SP_LOG_INFO };
		struct fx fx;
		unsigned ok = 0;

		assert_int_equal(fx_init(&fx, strats[s], 64), 0);
		fx.cfg.host_max_esp = 4;
		start(&fx, &lg);
		l.n = 0;
		for (uint32_t i = 0; i < 200; i++) {
			ok += esp_to(&fx, T0, H1, IP(198, 51, 100, 0) + i, 0x9000 + i * 7919);
			fx_clear_emitted(&fx);
		}
		print_message("%s: %u of 200 admitted, %zu entries\n", strats[s], ok,
			      (size_t)nat_entries(fx.n));
		assert_int_equal(ok, 4);
		assert_int_equal(fx_ctr(&fx, "drop_host_esp"), 196);
		assert_int_equal(fx_ctr(&fx, "drop_table_full"), 0);
		assert_int_equal(fx_ctr(&fx, "host_unreachable_sent"), 10);
		assert_int_equal(l.n, 1);
		assert_non_null(strstr(l.last, "10.6.1.2"));
		assert_non_null(strstr(l.last, "host_max_esp"));
		/* H2's SA: out, the server's answer in, and out again */
		assert_true(esp_to(&fx, T0, H2, SRV, 0xc2));
		if (strcmp(strats[s], "spihash") != 0) /* its SPIs must match by scheme */
			assert_int_equal(esp_in(&fx, T0, 0x2c), H2);
		assert_true(esp_to(&fx, T0, H2, SRV, 0xc2));
		/* H1's items expire (none was answered); its share is back */
		nat_tick(fx.n, T0 + SP_SEC(4000));
		assert_true(esp_to(&fx, T0 + SP_SEC(4000), H1, IP(198, 51, 100, 250), 0x4242));
		fx_clear_emitted(&fx);
		fx_fini(&fx);
	}
}

/* max_hosts: with every record taken a new host is refused, counted, and told nothing
 * (no record to rate-limit by); hosts holding records go on; a record comes back when its
 * host's last entry expires. */
static void host_table_full(void **state)
{
	struct fx fx;
	uint16_t gp;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.max_hosts = 3;
	assert_int_equal(fx_start(&fx), 0);
	assert_int_not_equal(udp_out(&fx, T0, H1, 2000), 0);
	assert_int_not_equal(udp_out(&fx, T0, H2, 2000), 0);
	assert_int_not_equal(gp = udp_out(&fx, T0, H3, 2000), 0);
	assert_int_equal(udp_out(&fx, T0, H4, 2000), 0);
	assert_false(echo_out(&fx, T0, H4, 7));
	assert_int_equal(fx_ctr(&fx, "drop_host_table_full"), 2);
	assert_int_equal(fx_ctr(&fx, "host_unreachable_sent"), 0);
	assert_int_equal(fx.nemitted, 0);
	/* the three hosts keep their mappings and may make more */
	assert_int_not_equal(udp_out(&fx, T0, H1, 2001), 0);
	assert_true(echo_out(&fx, T0, H3, 7));
	assert_int_equal(udp_in(&fx, T0, gp), H3);
	/* H2's only mapping expires: its record is H4's */
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(200), H1, 2000), 0);
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(200), H3, 2000), 0);
	assert_true(echo_out(&fx, T0 + SP_SEC(200), H3, 7));
	assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(400), H4, 2000), 0);
	assert_int_equal(udp_out(&fx, T0 + SP_SEC(400), H2, 2000), 0);
	assert_int_equal(fx_ctr(&fx, "drop_host_table_full"), 3);
	fx_fini(&fx);
}

/* Many hosts' records come and go: the open-addressed record index must keep every
 * remaining host's counts reachable after records are taken out around it, and the rate
 * cells bound the ICMP errors when more hosts are refused at once than there are cells. */
static void host_records_churn(void **state)
{
	enum { NH = 1500 };
	struct fx fx;
	uint64_t sent, limited;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 8192), 0);
	fx.cfg.host_max_ports = 2;
	assert_int_equal(fx_start(&fx), 0);
	for (uint32_t h = 0; h < NH; h++) {
		assert_int_not_equal(udp_out(&fx, T0, IP(10, 8, 0, 0) + h, 2000), 0);
		assert_int_not_equal(udp_out(&fx, T0, IP(10, 8, 0, 0) + h, 2001), 0);
		assert_int_equal(udp_out(&fx, T0, IP(10, 8, 0, 0) + h, 2002), 0);
	}
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), NH);
	sent = fx_ctr(&fx, "host_unreachable_sent");
	limited = fx_ctr(&fx, "host_unreachable_rate_limited");
	assert_int_equal(sent + limited, NH);
	/* max_hosts 2048: 64 sets of 4 rate cells, at least one host per set served */
	assert_true(sent >= 64 && sent <= 256);
	fx_clear_emitted(&fx);
	/* the even hosts keep their mappings; the odd hosts' expire and their records go */
	for (uint32_t h = 0; h < NH; h += 2) {
		assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(200), IP(10, 8, 0, 0) + h, 2000), 0);
		assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(200), IP(10, 8, 0, 0) + h, 2001), 0);
	}
	nat_tick(fx.n, T0 + SP_SEC(301));
	assert_int_equal(nat_entries(fx.n), NH);
	for (uint32_t h = 0; h < NH; h++) {
		uint32_t a = IP(10, 8, 0, 0) + h;

		if (h % 2 == 0) {
			assert_int_equal(udp_out(&fx, T0 + SP_SEC(302), a, 3000), 0);
		} else {
			assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(302), a, 3000), 0);
			assert_int_not_equal(udp_out(&fx, T0 + SP_SEC(302), a, 3001), 0);
			assert_int_equal(udp_out(&fx, T0 + SP_SEC(302), a, 3002), 0);
		}
	}
	assert_int_equal(fx_ctr(&fx, "drop_host_ports"), 2 * NH);
	fx_fini(&fx);
}

/* table_full = evict: a full host table gives up one entry not in use of a host that
 * holds nothing else, never a host's answered mapping. */
static void host_table_full_evict(void **state)
{
	struct fx fx;
	uint16_t gp;

	(void)state;
	assert_int_equal(fx_init(&fx, "masq", 1024), 0);
	fx.cfg.max_hosts = 2;
	fx.cfg.full_mode = NAT_FULL_EVICT;
	assert_int_equal(fx_start(&fx), 0);
	assert_int_not_equal(udp_out(&fx, T0, H1, 2000), 0); /* never answered */
	assert_int_not_equal(gp = udp_out(&fx, T0, H2, 2000), 0);
	assert_int_equal(udp_in(&fx, T0, gp), H2);
	assert_int_not_equal(gp = udp_out(&fx, T0, H3, 2000), 0);
	assert_int_equal(fx_ctr(&fx, "host_records_evicted"), 1);
	assert_int_equal(udp_in(&fx, T0, gp), H3);
	/* H2 and H3 hold answered mappings: nothing may go */
	assert_int_equal(udp_out(&fx, T0, H4, 2000), 0);
	assert_int_equal(fx_ctr(&fx, "drop_host_table_full"), 1);
	assert_int_equal(fx_ctr(&fx, "host_records_evicted"), 1);
	assert_int_not_equal(udp_out(&fx, T0, H2, 2000), 0);
	fx_fini(&fx);
}

/* The default number of host records follows the table size. */
static void host_records_default(void **state)
{
	struct nat_config c;

	(void)state;
	nat_config_defaults(&c);
	assert_int_equal(c.max_hosts, 0);
	assert_int_equal(nat_config_max_hosts(&c), 262144 / 4);
	c.max_entries = 1250016;
	assert_int_equal(nat_config_max_hosts(&c), 1250016 / 4);
	c.max_entries = 3000;
	assert_int_equal(nat_config_max_hosts(&c), 1024);
	c.max_entries = 100;
	assert_int_equal(nat_config_max_hosts(&c), 100);
	c.max_hosts = 7;
	assert_int_equal(nat_config_max_hosts(&c), 7);
	c.max_hosts = 1000;
	assert_int_equal(nat_config_max_hosts(&c), 100);
}

/* The keys, their defaults and their bounds. */
static void keys(void **state)
{
	struct nat_config c;
	struct conf *conf;

	(void)state;
	nat_config_defaults(&c);
	assert_int_equal(c.host_max_ports, 4096);
	assert_int_equal(c.host_max_entries, 16384);
	assert_int_equal(c.host_max_ike, 64);
	assert_int_equal(c.host_max_frags, 64);
	assert_int_equal(c.host_max_esp, 256);
	assert_int_equal(c.host_unreach_rate, 10);
	assert_int_equal(c.t_frag, SP_SEC(2));
	assert_int_equal(conf_parse_string("[gateway]\npool = 192.0.2.1\nhost_max_ports = 100\n"
					   "host_max_entries = 300\nhost_max_ike = 8\n"
					   "host_max_fragments = 3\nhost_max_esp = 9\n"
					   "host_unreachable_rate = 0\nmax_hosts = 77\n",
					   "t", &conf),
			 0);
	assert_int_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), 0);
	assert_int_equal(c.host_max_ports, 100);
	assert_int_equal(c.host_max_entries, 300);
	assert_int_equal(c.host_max_ike, 8);
	assert_int_equal(c.host_max_frags, 3);
	assert_int_equal(c.host_max_esp, 9);
	assert_int_equal(c.host_unreach_rate, 0);
	assert_int_equal(c.max_hosts, 77);
	conf_free(conf);
	assert_int_equal(
		conf_parse_string("[gateway]\npool = 192.0.2.1\nhost_max_ports = 0\n", "t", &conf),
		0);
	assert_int_not_equal(nat_config_read(&c, conf_find(conf, "gateway", NULL)), 0);
	assert_non_null(strstr(conf_error(conf), "host_max_ports"));
	conf_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ports_per_host_and_protocol),
		cmocka_unit_test(entries_per_host),
		cmocka_unit_test(ike_per_host_and_short_life),
		cmocka_unit_test(fragments_per_host),
		cmocka_unit_test(eviction_spares_others_in_use),
		cmocka_unit_test(one_log_line_per_host),
		cmocka_unit_test(masq_multicast_bounded),
		cmocka_unit_test(unreachable_on_host_limit),
		cmocka_unit_test(esp_items_per_host),
		cmocka_unit_test(host_table_full),
		cmocka_unit_test(host_records_churn),
		cmocka_unit_test(host_table_full_evict),
		cmocka_unit_test(host_records_default),
		cmocka_unit_test(keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
