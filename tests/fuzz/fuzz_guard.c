/*
 * 003's epoch guard reading what comes out of a tunnel (host_guard_rx): whatever bytes an
 * authenticated peer sends, on a current or a new epoch, to a client or a FIG. 7 server.
 * The first input byte chooses the guard and the epoch; the rest is the inner packet.
 * A packet the guard does not take must come back untouched; one it answers must leave as
 * a well-formed IPv4 packet of the same length with the addresses swapped; nothing leaks.
 */
#include "fuzz.h"

#include "host/host_guard.h"
#include "proto/ipv4.h"

#include <string.h>

#define CLI  0x0a060102u /* 10.6.1.2 */
#define GWIN 0x0a090001u /* 10.9.0.1 */

static uint32_t in_src, in_dst;
static size_t in_len;
static unsigned sent;

static int op_send(void *arg, sp_time now, uint32_t spi_in, uint32_t spi, struct pkt *p)
{
	struct ipv4_hdr h;
	struct cur c;

	(void)arg;
	(void)now;
	(void)spi_in;
	(void)spi;
	cur_init(&c, pkt_data(p), p->len);
	if (in_len != 0) { /* an answer to the input, not one of the guard's own pings */
		FUZZ_CHECK(ipv4_parse(&c, &h) == 0 && h.ip_csum_ok);
		FUZZ_CHECK(p->len == in_len);
		FUZZ_CHECK(h.ip_src == in_dst && h.ip_dst == in_src);
	}
	sent++;
	pkt_free(p);
	return 0;
}

static int op_use(void *arg, sp_time now, const char *conn, uint32_t spi_in, uint32_t spi_out)
{
	(void)arg;
	(void)now;
	(void)conn;
	(void)spi_in;
	(void)spi_out;
	return 0;
}

static void op_retire(void *arg, sp_time now, const char *conn, uint32_t spi_in)
{
	(void)arg;
	(void)now;
	(void)conn;
	(void)spi_in;
}

static int op_conn(void *arg, sp_time now, const char *conn)
{
	(void)arg;
	(void)now;
	(void)conn;
	return 0;
}

static void event(struct host_guard *g, enum ike_event_type type, uint32_t in, uint32_t out,
		  uint32_t old_in)
{
	struct ike_event ev = { .type = type,
				.conn = "vpn",
				.ike_spi_i = 7,
				.spi_in = in,
				.spi_out = out,
				.old_spi_in = old_in };

	host_guard_ike_event(g, 0, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool pool;
	static struct sp_xoshiro rng;
	static bool init;
	struct host_guard_params gp = {
		.name = "fuzz",
		.rng = &rng.rng,
		.pool = &pool,
		.ops = { op_send, op_use, op_retire, op_conn, op_conn, NULL },
	};
	struct host_guard_cfg cfg;
	struct host_guard *g;
	struct pkt *p;
	uint8_t copy[PKT_BUFSIZE];
	bool server, pend, taken;

	if (!init) {
		FUZZ_CHECK(pkt_pool_init(&pool, 64, PKT_BUFSIZE) == 0);
		init = true;
	}
	if (size < 1 || size - 1 > PKT_BUFSIZE - PKT_HEADROOM)
		return 0;
	server = data[0] & 1;
	pend = data[0] & 2;
	sp_xoshiro_seed(&rng, 1);
	host_guard_cfg_defaults(&cfg);
	cfg.mode = server ? HOST_GUARD_SERVER : HOST_GUARD_CLIENT;
	cfg.ping_src = CLI;
	cfg.ping_dst = GWIN;
	cfg.probe = (data[0] & 4) ? HOST_GUARD_PROBE_UDP : HOST_GUARD_PROBE_ICMP;
	FUZZ_CHECK(host_guard_new(&gp, &g) == 0);
	FUZZ_CHECK(host_guard_add(g, "vpn", &cfg) == 0);
	in_len = 0;
	/* A current epoch 0x100 (confirmed), and a new one 0x101 being tried. */
	event(g, IKE_EV_IKE_UP, 0, 0, 0);
	event(g, IKE_EV_CHILD_UP, 0x100, 0x200, 0);
	FUZZ_CHECK(!host_guard_rx(g, 0, 0x100, NULL));
	event(g, IKE_EV_CHILD_REKEYED, 0x101, 0x201, 0x100);

	p = pkt_alloc(&pool);
	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(pkt_append(p, data + 1, (uint32_t)(size - 1)) == 0);
	if (p->len >= IPV4_HDR_MIN) {
		/* Consistent lengths and checksum, so the input reaches the ICMP and UDP code. */
		uint8_t *ip = pkt_data(p);
		size_t hl = (size_t)(ip[0] & 0x0f) * 4;

		if ((ip[0] >> 4) == 4 && hl >= IPV4_HDR_MIN && hl <= p->len) {
			sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
			ipv4_set_csum(ip, hl);
		}
		in_src = sp_load_be32(ip + IPV4_OFF_SRC);
		in_dst = sp_load_be32(ip + IPV4_OFF_DST);
	}
	memcpy(copy, pkt_data(p), p->len);
	in_len = p->len;
	sent = 0;
	taken = host_guard_rx(g, 1, pend ? 0x101 : 0x100, p);
	if (!taken) {
		FUZZ_CHECK(memcmp(copy, pkt_data(p), p->len) == 0);
		FUZZ_CHECK(sent == 0);
		pkt_free(p);
	}
	in_len = 0;
	host_guard_tick(g, SP_SEC(30)); /* the timers run on whatever state is left */
	host_guard_free(g);
	FUZZ_CHECK(pool.nfree == pool.n);
	return 0;
}
