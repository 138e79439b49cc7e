/*
 * The fast path's tc program (io/bpf/nat_tc.bpf.c) run by the kernel on frames in memory
 * (BPF_PROG_TEST_RUN) against elements put in its maps the way spinatd puts them: the
 * map layout both sides share, NAPT rewrites both ways with valid IPv4, UDP, TCP and ICMP
 * checksums (a UDP checksum of zero stays zero), ESP by SPI and by any SPI, the per-element
 * counts and last-use time, the mark, and every case it must leave to the engine
 * untouched: a miss, TCP SYN/FIN/RST, fragments, IKE, frames not sent to the router,
 * packets to the gateway itself (through the filter in front of them), a stale heartbeat. Needs root (CAP_BPF, CAP_NET_ADMIN)
 * and a build with the fast path; skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_test.h"
#include "io/bpf_nat.h"

#include <linux/pkt_cls.h>
#include <time.h>

#define IN   IP(10, 0, 0, 2)
#define GW   IP(10, 0, 0, 1)
#define G    IP(203, 0, 113, 1)
#define S    IP(203, 0, 113, 2)
#define MARK 0x5350u
#define LO   1 /* the test runs as if frames arrived on the loopback interface */

static const uint8_t router_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct ctx {
	struct io_bpf_nat *b;
	struct pkt_pool pool;
	uint8_t frame[2048];
	uint32_t len;
	int action;
	uint32_t mark;
	struct pkt ip; /* the IPv4 packet inside frame, after a run */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct fp_cfg cfg = { .stale_ns = 3000000000ull, .mark = MARK, .ike_cookies = 1 };
	char why[160];

	assert_non_null(c);
	*state = c;
	if (!io_bpf_nat_built || io_bpf_nat_open(&c->b, 1024, false, why, sizeof(why)) != 0)
		return 0; /* each test skips */
	assert_int_equal(pkt_pool_init(&c->pool, 16, PKT_BUFSIZE), 0);
	cfg.heartbeat_ns = mono_ns();
	assert_int_equal(io_bpf_nat_set_cfg(c->b, &cfg), 0);
	assert_int_equal(io_bpf_nat_set_ifmac(c->b, LO, router_mac), 0);
	assert_int_equal(io_bpf_nat_add_local(c->b, GW), 0);
	assert_int_equal(io_bpf_nat_add_local(c->b, G), 0);
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	if (c->b != NULL) {
		io_bpf_nat_close(c->b);
		pkt_pool_destroy(&c->pool);
	}
	free(c);
	return 0;
}

static struct ctx *need(void **state)
{
	struct ctx *c = *state;

	if (c->b == NULL)
		skip(); /* not root, no BPF in the kernel, or a build without the fast path */
	return c;
}

static void put(struct ctx *c, uint8_t proto, int dir, uint32_t a, uint32_t b, uint32_t id,
		uint32_t addr, uint16_t port, uint16_t flags, uint32_t handle)
{
	struct fp_key k = { .a = a, .b = b, .id = id, .proto = proto, .dir = (uint8_t)dir };
	struct fp_val v = { .addr = addr, .port = port, .flags = flags, .handle = handle };

	assert_int_equal(io_bpf_nat_put(c->b, &k, &v), 0);
}

static struct fp_val get(struct ctx *c, uint8_t proto, int dir, uint32_t a, uint32_t b, uint32_t id)
{
	struct fp_key k = { .a = a, .b = b, .id = id, .proto = proto, .dir = (uint8_t)dir };
	struct fp_val v;

	assert_int_equal(io_bpf_nat_get(c->b, &k, &v), 0);
	return v;
}

/* Run packet p (consumed) in a frame to dst_mac through the inside or outside program. */
static void run(struct ctx *c, bool inside, struct pkt *p, const uint8_t *dst_mac)
{
	assert_non_null(p);
	memcpy(c->frame, dst_mac, 6);
	memset(c->frame + 6, 0x04, 6);
	c->frame[12] = 0x08;
	c->frame[13] = 0x00;
	memcpy(c->frame + 14, pkt_data(p), p->len);
	c->len = 14 + p->len;
	pkt_free(p);
	assert_int_equal(io_bpf_nat_run(c->b, inside, LO, c->frame, &c->len, sizeof(c->frame),
					&c->action, &c->mark),
			 0);
	pkt_init(&c->ip, c->frame + 14, c->len - 14, 0);
	c->ip.len = c->len - 14;
}

static uint64_t ctr(struct ctx *c, enum fp_ctr i)
{
	uint64_t v[FP_CTR_N] = { 0 };

	assert_int_equal(io_bpf_nat_counters(c->b, v), 0);
	return v[i];
}

/* NAPT from inside: source address and port, checksums, mark, counts. */
static void udp_in2out(void **state)
{
	struct ctx *c = need(state);
	uint64_t before = ctr(c, FP_CTR_IN2OUT);
	struct fp_val v;

	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 4000, G, 40000, FP_F_PORT, 7);
	run(c, true, tp_udp(&c->pool, IN, 4000, S, 53, "hello", 5), router_mac);
	assert_int_equal(c->action, TC_ACT_OK);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(tp_dst(&c->ip), S);
	assert_int_equal(tp_sport(&c->ip), 40000);
	assert_int_equal(tp_dport(&c->ip), 53);
	assert_true(tp_csum_ok(&c->ip));
	assert_int_equal(ctr(c, FP_CTR_IN2OUT), before + 1);
	v = get(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 4000);
	assert_int_equal(v.packets, 1);
	assert_int_equal(v.bytes, 20 + 8 + 5);
	assert_true(v.last_ns != 0 && v.last_ns <= mono_ns());
	assert_int_equal(v.handle, 7);
}

/* NAPT from outside; a UDP checksum of zero (none, RFC 768) stays zero. */
static void udp_out2in_and_zero_checksum(void **state)
{
	struct ctx *c = need(state);
	struct pkt *p;

	put(c, IPV4_PROTO_UDP, FP_OUT2IN, G, 0, 40000, IN, 4000, FP_F_PORT, 7);
	run(c, false, tp_udp(&c->pool, S, 53, G, 40000, "answer", 6), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_dst(&c->ip), IN);
	assert_int_equal(tp_dport(&c->ip), 4000);
	assert_true(tp_csum_ok(&c->ip));
	p = tp_udp(&c->pool, S, 53, G, 40000, "answer", 6);
	assert_non_null(p);
	sp_store_be16(pkt_data(p) + 20 + UDP_OFF_CSUM, 0);
	run(c, false, p, router_mac);
	assert_int_equal(tp_dst(&c->ip), IN);
	assert_int_equal(sp_load_be16(pkt_data(&c->ip) + 20 + UDP_OFF_CSUM), 0);
	assert_int_equal(csum_buf(pkt_data(&c->ip), 20), 0);
}

/* TCP: segments without SYN, FIN or RST are translated; with them, the engine's. */
static void tcp_flags(void **state)
{
	struct ctx *c = need(state);
	uint64_t flags = ctr(c, FP_CTR_TCP_FLAGS);

	put(c, IPV4_PROTO_TCP, FP_IN2OUT, IN, 0, 5000, G, 5001, FP_F_PORT, 8);
	run(c, true, tp_tcp(&c->pool, IN, 5000, S, 80, TCP_ACK), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(tp_sport(&c->ip), 5001);
	assert_true(tp_csum_ok(&c->ip));
	for (unsigned i = 0; i < 3; i++) {
		static const uint8_t f[3] = { TCP_SYN, TCP_FIN | TCP_ACK, TCP_RST };

		run(c, true, tp_tcp(&c->pool, IN, 5000, S, 80, f[i]), router_mac);
		assert_int_equal(c->mark, 0);
		assert_int_equal(tp_src(&c->ip), IN);
	}
	assert_int_equal(ctr(c, FP_CTR_TCP_FLAGS), flags + 3);
}

/* ICMP echo: the identifier is the port; the ICMP checksum covers no addresses. */
static void icmp_echo(void **state)
{
	struct ctx *c = need(state);

	put(c, IPV4_PROTO_ICMP, FP_IN2OUT, IN, 0, 0x1234, G, 0x4321, FP_F_PORT, 9);
	run(c, true, tp_echo(&c->pool, IN, S, ICMP_ECHO_REQUEST, 0x1234, 1), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(tp_icmp_id(&c->ip), 0x4321);
	assert_true(tp_csum_ok(&c->ip));
}

/* ESP: by (global, server, SPI) from outside; an item with SPI 0 takes any SPI. */
static void esp_by_spi(void **state)
{
	struct ctx *c = need(state);

	put(c, IPV4_PROTO_ESP, FP_OUT2IN, G, S, 0xC3ADA079u, IN, 0, 0, 10);
	run(c, false, tp_esp(&c->pool, S, G, 0xC3ADA079u, 1), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_dst(&c->ip), IN);
	assert_int_equal(sp_load_be32(pkt_data(&c->ip) + 20), 0xC3ADA079u);
	assert_int_equal(csum_buf(pkt_data(&c->ip), 20), 0);
	/* another SPI: a miss */
	run(c, false, tp_esp(&c->pool, S, G, 0x11111111u, 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(tp_dst(&c->ip), G);
	/* from inside, an item for any SPI between the two */
	put(c, IPV4_PROTO_ESP, FP_IN2OUT, IN, S, 0, G, 0, 0, 11);
	run(c, true, tp_esp(&c->pool, IN, S, 0x22222222u, 1), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(csum_buf(pkt_data(&c->ip), 20), 0);
}

/* What the program must leave to the engine, unchanged and unmarked, each counted. */
static void left_to_the_engine(void **state)
{
	struct ctx *c = need(state);
	static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct fp_cfg cfg = { .stale_ns = 3000000000ull, .mark = MARK, .ike_cookies = 1 };
	struct pkt *p;
	uint64_t miss = ctr(c, FP_CTR_MISS), nr = ctr(c, FP_CTR_NOT_ROUTED);
	uint64_t local = ctr(c, FP_CTR_LOCAL), ike = ctr(c, FP_CTR_IKE);
	uint64_t frag = ctr(c, FP_CTR_FRAGMENT), stale = ctr(c, FP_CTR_STALE);

	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 4000, G, 40000, FP_F_PORT, 7);
	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 500, G, 500, FP_F_PORT, 12);
	/* no element */
	run(c, true, tp_udp(&c->pool, IN, 4001, S, 53, "x", 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(ctr(c, FP_CTR_MISS), miss + 1);
	/* a frame between inside hosts on a bridge port */
	run(c, true, tp_udp(&c->pool, IN, 4000, S, 53, "x", 1), other_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(tp_src(&c->ip), IN);
	assert_int_equal(ctr(c, FP_CTR_NOT_ROUTED), nr + 1);
	/* to the gateway itself, and to a global address (hairpinning) */
	run(c, true, tp_udp(&c->pool, IN, 4000, GW, 53, "x", 1), router_mac);
	run(c, true, tp_udp(&c->pool, IN, 4000, G, 53, "x", 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(ctr(c, FP_CTR_LOCAL), local + 2);
	/* IKE on UDP 500 with cookies */
	run(c, true, tp_udp(&c->pool, IN, 500, S, 500, "x", 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(ctr(c, FP_CTR_IKE), ike + 1);
	/* a fragment */
	p = tp_udp(&c->pool, IN, 4000, S, 53, "x", 1);
	assert_non_null(p);
	sp_store_be16(pkt_data(p) + IPV4_OFF_FRAG, IPV4_FLAG_MF);
	run(c, true, p, router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(ctr(c, FP_CTR_FRAGMENT), frag + 1);
	/* the daemon stopped beating */
	cfg.heartbeat_ns = mono_ns() - 4000000000ull;
	assert_int_equal(io_bpf_nat_set_cfg(c->b, &cfg), 0);
	run(c, true, tp_udp(&c->pool, IN, 4000, S, 53, "x", 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(tp_src(&c->ip), IN);
	assert_int_equal(ctr(c, FP_CTR_STALE), stale + 1);
	cfg.heartbeat_ns = mono_ns();
	assert_int_equal(io_bpf_nat_set_cfg(c->b, &cfg), 0);
}

/* A frame to the interface's own address (the kernel's PACKET_HOST) is the router's
 * without fp_ifmac; the filter in front of the local addresses sends an address sharing
 * a local one's bit on to the exact lookup, and one added later is local at once. */
static void own_address_and_local_filter(void **state)
{
	struct ctx *c = need(state);
	static const uint8_t lo_mac[6] = { 0 }; /* the loopback interface's own address */
	uint64_t in = ctr(c, FP_CTR_IN2OUT), local = ctr(c, FP_CTR_LOCAL);
	uint32_t later = IP(198, 51, 100, 7);

	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 4000, G, 40000, FP_F_PORT, 7);
	run(c, true, tp_udp(&c->pool, IN, 4000, S, 53, "x", 1), lo_mac);
	assert_int_equal(c->action, TC_ACT_OK);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(ctr(c, FP_CTR_IN2OUT), in + 1);
	/* 10.9.0.1 shares 10.0.0.1's (GW's) low 16 bits: not local, translated */
	run(c, true, tp_udp(&c->pool, IN, 4000, IP(10, 9, 0, 1), 53, "x", 1), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(tp_src(&c->ip), G);
	assert_int_equal(ctr(c, FP_CTR_IN2OUT), in + 2);
	run(c, true, tp_udp(&c->pool, IN, 4000, later, 53, "x", 1), router_mac);
	assert_int_equal(c->mark, MARK);
	assert_int_equal(io_bpf_nat_add_local(c->b, later), 0);
	run(c, true, tp_udp(&c->pool, IN, 4000, later, 53, "x", 1), router_mac);
	assert_int_equal(c->mark, 0);
	assert_int_equal(tp_src(&c->ip), IN);
	assert_int_equal(ctr(c, FP_CTR_LOCAL), local + 1);
}

/* Removal belongs to the handle that installed the element; flush empties the map. */
static void del_by_handle_and_flush(void **state)
{
	struct ctx *c = need(state);
	struct fp_key k = { .a = IN, .id = 6000, .proto = IPV4_PROTO_UDP, .dir = FP_IN2OUT };
	struct fp_val v;

	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 6000, G, 6000, FP_F_PORT, 20);
	io_bpf_nat_del(c->b, &k, 21); /* an older entry's removal: not ours to take */
	assert_int_equal(io_bpf_nat_get(c->b, &k, &v), 0);
	io_bpf_nat_del(c->b, &k, 20);
	assert_int_equal(io_bpf_nat_get(c->b, &k, &v), SP_ENOTFOUND);
	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 6000, G, 6000, FP_F_PORT, 20);
	put(c, IPV4_PROTO_UDP, FP_IN2OUT, IN, 0, 6001, G, 6001, FP_F_PORT, 21);
	io_bpf_nat_flush(c->b);
	assert_int_equal(io_bpf_nat_get(c->b, &k, &v), SP_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(udp_in2out, setup, teardown),
		cmocka_unit_test_setup_teardown(udp_out2in_and_zero_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(tcp_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(icmp_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(esp_by_spi, setup, teardown),
		cmocka_unit_test_setup_teardown(left_to_the_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(del_by_handle_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(own_address_and_local_filter, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
