/*
 * 002's worked example end to end through the host (host_dnat) and the router (the NAT
 * engine with strategy dnat), octet by octet: Table 6 leaves the stack, Table 7 is the
 * SPTT row, Table 8 reaches the router, Table 2 leaves it; Table 4 arrives, Table 9 is the
 * IAPTT row, Table 11 reaches the host, Table 12 is what its stack gets. Then the PAP
 * client's own behaviour: asking at the first external packet, more when low, giving
 * blocks back, the router's restart invalidation, SPIs for IKE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "samples.h"
#include "base/addr.h"
#include "base/csum.h"
#include "base/rand.h"
#include "host/endpoint.h"
#include "host/host_dnat.h"
#include "host/host_dnat_ep.h"
#include "nat/nat.h"
#include "proto/ipv4.h"
#include "proto/pap.h"
#include "proto/udp.h"

#include <stdio.h>
#include <string.h>

#define GLOBAL 0xc60a141eu /* 198.10.20.30 */
#define SERVER 0xc0c81403u /* 192.200.20.3 */
#define ROUTER 0x0a000007u
#define HOST1  0x0a000001u

struct bed {
	struct host_dnat h;
	struct nat *n;
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct pkt *answer; /* the router's last PAP answer (its own packet, emitted) */
};

static void bed_emit(void *arg, enum nat_side side, struct pkt *p)
{
	struct bed *b = arg;

	assert_int_equal(side, NAT_INSIDE);
	pkt_free(b->answer);
	b->answer = p;
}

static void bed_init(struct bed *b)
{
	struct host_dnat_conf hc;
	struct nat_config cfg;
	struct nat_env env = { 0 };

	memset(b, 0, sizeof(*b));
	assert_int_equal(pkt_pool_init(&b->pool, 64, PKT_BUFSIZE), 0);
	sp_xoshiro_seed(&b->rng, 7);
	nat_config_defaults(&cfg);
	assert_int_equal(nat_config_add_pool(&cfg, GLOBAL), 0);
	assert_int_equal(nat_config_set_strategy(&cfg, "dnat"), 0);
	cfg.max_entries = 256;
	env.name = "router";
	env.rng = &b->rng.rng;
	env.pool = &b->pool;
	env.emit = bed_emit;
	env.emit_arg = b;
	assert_int_equal(nat_new(&b->n, &cfg, &env), 0);
	host_dnat_conf_defaults(&hc);
	host_dnat_init(&b->h, &hc);
}

static void bed_fini(struct bed *b)
{
	pkt_free(b->answer);
	nat_free(b->n);
	pkt_pool_destroy(&b->pool);
}

/* Run the host's PAP messages through the router and the answers back; returns how many
 * requests were answered. */
static unsigned pap_round(struct bed *b, sp_time now)
{
	unsigned answered = 0;
	struct pkt *p;

	while ((p = pkt_alloc(&b->pool)) != NULL && host_dnat_poll(&b->h, now, p) == 0) {
		int v = nat_translate(b->n, now, NAT_INSIDE, p);

		pkt_free(p);
		if (v == NAT_TAKEN && b->answer != NULL) {
			assert_int_equal(host_dnat_input(&b->h, now, b->answer),
					 HOST_DNAT_CONSUMED);
			pkt_free(b->answer);
			b->answer = NULL;
			answered++;
		}
	}
	pkt_free(p);
	return answered;
}

static struct pkt *bytes_pkt(struct bed *b, const uint8_t *d, size_t len)
{
	struct pkt *p = samples_bytes(&b->pool, d, len);

	assert_non_null(p);
	return p;
}

/* A UDP datagram from the host's stack: GLOBAL:sport -> SERVER:53. */
static struct pkt *udp_out(struct bed *b, uint16_t sport)
{
	struct ipv4_hdr ih = { 0 };
	struct pkt *p = pkt_alloc(&b->pool);

	assert_int_equal(pkt_append(p, "q", 1), 0);
	assert_int_equal(udp_build(p, sport, 53, GLOBAL, SERVER, true), 0);
	ih.ip_ttl = 64;
	ih.ip_proto = IPV4_PROTO_UDP;
	ih.ip_src = GLOBAL;
	ih.ip_dst = SERVER;
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	return p;
}

static void tables_6_to_12(void **state)
{
	const struct host_dnat_sptt *row;
	char shown[4096];
	struct bed b;
	struct pkt *p;
	FILE *f;

	(void)state;
	bed_init(&b);
	/* Boot: ask for ports (002 "a network device transmits a PAP request upon boot"). */
	host_dnat_want(&b.h, true, false);
	assert_int_equal(pap_round(&b, 0), 1);
	assert_int_equal(b.h.port_blk[0].lowest, 1026); /* FIG. 8 row 126 */
	assert_int_equal(b.h.port_blk[0].count, 32);

	/* Six earlier UDP flows take 1026-1031, so TCP's 1234 gets 1032 as in Table 7. */
	for (uint16_t i = 0; i < 6; i++) {
		p = udp_out(&b, (uint16_t)(5001 + i));
		assert_int_equal(host_dnat_output(&b.h, SP_MSEC(10000), p), HOST_DNAT_TO_ROUTER);
		assert_int_equal(nat_translate(b.n, SP_MSEC(10000), NAT_INSIDE, p), NAT_TO_OUTSIDE);
		pkt_free(p);
	}

	/* Table 6 -> Table 8 in the host's driver (FIG. 13), Table 7 its SPTT row. */
	p = bytes_pkt(&b, sample_002_table6, sizeof(sample_002_table6));
	assert_int_equal(host_dnat_output(&b.h, SP_MSEC(10023), p), HOST_DNAT_TO_ROUTER);
	assert_int_equal(p->len, sizeof(sample_002_outer_to_router) + sizeof(sample_002_table2));
	assert_memory_equal(pkt_data(p), sample_002_outer_to_router,
			    sizeof(sample_002_outer_to_router));
	assert_memory_equal(pkt_data(p) + sizeof(sample_002_outer_to_router), sample_002_table2,
			    sizeof(sample_002_table2));
	row = host_dnat_sptt_lookup(&b.h, IPV4_PROTO_TCP, 1234);
	assert_non_null(row);
	assert_int_equal(row->uniq_port, 1032);
	assert_int_equal(row->stamp, 10023);

	/* Table 8 -> Table 2 at the router, stripped and otherwise untouched. */
	assert_int_equal(nat_translate(b.n, SP_MSEC(10048), NAT_INSIDE, p), NAT_TO_OUTSIDE);
	assert_int_equal(p->len, sizeof(sample_002_table2));
	assert_memory_equal(pkt_data(p), sample_002_table2, sizeof(sample_002_table2));
	pkt_free(p);

	/* Table 9: the router's IAPTT row, port 1032 -> 10.0.0.1, TCP, 10048 ms. */
	f = fmemopen(shown, sizeof(shown), "w");
	nat_show(b.n, SP_MSEC(10048), f, NAT_SHOW_ALL, 0);
	fclose(f);
	assert_non_null(strstr(shown, "tcp   198.10.20.30:1032      10.0.0.1:1032"));
	assert_non_null(strstr(shown, "timestamp 10048 ms"));

	/* Table 10 -> Table 11 at the router. */
	p = bytes_pkt(&b, sample_002_table4, sizeof(sample_002_table4));
	assert_int_equal(nat_translate(b.n, SP_MSEC(10100), NAT_OUTSIDE, p), NAT_TO_INSIDE);
	assert_int_equal(p->len, sizeof(sample_002_outer_to_host) + sizeof(sample_002_table4));
	assert_memory_equal(pkt_data(p), sample_002_outer_to_host,
			    sizeof(sample_002_outer_to_host));
	assert_memory_equal(pkt_data(p) + sizeof(sample_002_outer_to_host), sample_002_table4,
			    sizeof(sample_002_table4));

	/* Table 11 -> Table 12 in the host's driver (FIG. 14). */
	assert_int_equal(host_dnat_input(&b.h, SP_MSEC(10101), p), HOST_DNAT_TO_STACK);
	assert_int_equal(p->len, sizeof(sample_002_table12));
	assert_memory_equal(pkt_data(p), sample_002_table12, sizeof(sample_002_table12));
	pkt_free(p);
	bed_fini(&b);
}

/* Internal destinations are neither tunnelled nor translated (FIG. 13 step 182). */
static void internal_traffic_untouched(void **state)
{
	struct ipv4_hdr ih = { 0 };
	struct bed b;
	struct pkt *p;

	(void)state;
	bed_init(&b);
	p = pkt_alloc(&b.pool);
	assert_int_equal(udp_build(p, 7, 7, HOST1, 0x0a000003u, true), 0);
	ih.ip_ttl = 64;
	ih.ip_proto = IPV4_PROTO_UDP;
	ih.ip_src = HOST1;
	ih.ip_dst = 0x0a000003u;
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	assert_int_equal(host_dnat_output(&b.h, 0, p), HOST_DNAT_LOCAL);
	assert_int_equal(p->len, 28);
	pkt_free(p);
	bed_fini(&b);
}

/* The first external packet without a block is dropped and makes the client ask; running
 * low asks for more; the router's restart invalidation empties the SPTT and asks again. */
static void pap_client_lifecycle(void **state)
{
	struct bed b;
	struct pkt *p;
	unsigned i;

	(void)state;
	bed_init(&b);
	b.h.c.ports = 8;
	p = udp_out(&b, 4000);
	assert_int_equal(host_dnat_output(&b.h, 0, p), HOST_DNAT_DROP);
	pkt_free(p);
	assert_int_equal(b.h.ctr[HOST_DNAT_CTR_DROP_NO_PORT], 1);
	assert_int_equal(host_dnat_next_deadline(&b.h), 0);
	assert_int_equal(pap_round(&b, 1), 1);
	assert_int_equal(host_dnat_ports_free(&b.h), 8);
	/* Five flows leave 3 < low water 4: the next poll asks for another block. */
	for (i = 0; i < 5; i++) {
		p = udp_out(&b, (uint16_t)(4000 + i));
		assert_int_equal(host_dnat_output(&b.h, 2, p), HOST_DNAT_TO_ROUTER);
		pkt_free(p);
	}
	assert_int_equal(pap_round(&b, 3), 1);
	assert_int_equal(host_dnat_ports_free(&b.h), 11);
	assert_int_equal(b.h.port_blk[1].lowest, 1034);

	/* The router restarts: its announcement reaches the host, which asks again. */
	nat_reset(b.n);
	p = pkt_alloc(&b.pool);
	{
		struct pap_msg m;
		struct ipv4_hdr ih = { 0 };
		uint8_t *d = pkt_put(p, PAP_LEN);
		struct wcur w;

		pap_port_invalidate(&m, 0);
		wcur_init(&w, d, PAP_LEN);
		assert_int_equal(pap_build(&w, &m), 0);
		ih.ip_ttl = 64;
		ih.ip_proto = IPV4_PROTO_ICMP;
		ih.ip_src = 0x0a000009u; /* not the router: refused */
		ih.ip_dst = HOST1;
		assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
		assert_int_equal(host_dnat_input(&b.h, 4, p), HOST_DNAT_DROP);
		assert_int_equal(b.h.ctr[HOST_DNAT_CTR_DROP_NOT_ROUTER], 1);
		assert_int_equal(host_dnat_ports_free(&b.h), 11);
		ipv4_set_src(pkt_data(p), ROUTER);
		assert_int_equal(host_dnat_input(&b.h, 4, p), HOST_DNAT_CONSUMED);
	}
	pkt_free(p);
	assert_int_equal(host_dnat_ports_free(&b.h), 0);
	assert_null(host_dnat_sptt_lookup(&b.h, IPV4_PROTO_UDP, 4000));
	assert_int_equal(pap_round(&b, 5), 1);
	assert_int_equal(b.h.port_blk[0].lowest, 1026);

	/* SPIs for IKE's inbound SAs (FIG. 21), then giving everything back. */
	host_dnat_want(&b.h, false, true);
	assert_int_equal(pap_round(&b, 6), 1);
	{
		uint32_t spi;
		uint16_t port;

		assert_int_equal(host_dnat_spi_take(&b.h, &spi), 0);
		assert_int_equal(spi, 280);
		assert_int_equal(host_dnat_spi_take(&b.h, &spi), 0);
		assert_int_equal(spi, 281);
		assert_int_equal(host_dnat_port_reserve(&b.h, IPV4_PROTO_UDP, &port), 0);
		assert_int_equal(port, 1026);
	}
	host_dnat_release(&b.h);
	assert_int_equal(pap_round(&b, 7), 0); /* invalidations have no answer */
	assert_int_equal(nat_counter(b.n, "dnat_pap_blocks_invalidated"), 2);
	bed_fini(&b);
}

/* The one's complement sum of RFC 1071 written out here, apart from base/csum. */
static uint16_t naive_sum(const uint8_t *a, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(a[i] << 8) + (i + 1 < n ? a[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A TCP segment src:sport -> dst:dport with "transport", both checksums from scratch. */
static size_t tcp_bytes(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	static const char data[] = "transport";
	size_t tl = 20 + sizeof(data) - 1, n = 20 + tl;
	uint32_t ph;
	uint16_t c;

	memset(b, 0, n);
	b[0] = 0x45;
	sp_store_be16(b + 2, (uint16_t)n);
	sp_store_be16(b + 4, 0x1234);
	b[8] = 64;
	b[9] = IPV4_PROTO_TCP;
	sp_store_be32(b + 12, src);
	sp_store_be32(b + 16, dst);
	sp_store_be16(b + 10, naive_sum(b, 20, 0));
	sp_store_be16(b + 20, sport);
	sp_store_be16(b + 22, dport);
	sp_store_be32(b + 24, 0x01020304);
	b[32] = 5 << 4;
	b[33] = 0x18; /* PSH ACK */
	sp_store_be16(b + 34, 65535);
	memcpy(b + 40, data, sizeof(data) - 1);
	ph = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPV4_PROTO_TCP +
	     (uint32_t)tl;
	c = naive_sum(b + 20, tl, ph);
	sp_store_be16(b + 36, c);
	return n;
}

/*
 * Transport mode: the application's packet from its private address 10.0.0.1 becomes the
 * one a transport-mode SA protects (global address, unique port 1026), octet for octet
 * the packet built from scratch with its checksums summed anew; the peer's answer to
 * 198.10.20.30:1026 becomes the application's again; a port with no row is dropped.
 */
static void transport_mode_translation(void **state)
{
	uint8_t want[128], got[128];
	struct bed b;
	struct pkt *p;
	size_t n;

	(void)state;
	bed_init(&b);
	assert_int_equal(b.h.c.priv, HOST1);
	host_dnat_want(&b.h, true, false);
	assert_int_equal(pap_round(&b, 0), 1);

	n = tcp_bytes(got, HOST1, 1234, SERVER, 80);
	p = bytes_pkt(&b, got, n);
	assert_int_equal(host_dnat_transport_out(&b.h, SP_MSEC(5), p), HOST_DNAT_TO_ROUTER);
	assert_int_equal(tcp_bytes(want, GLOBAL, 1026, SERVER, 80), n);
	assert_int_equal(p->len, n);
	assert_memory_equal(pkt_data(p), want, n);
	/* and with base/csum's full computation */
	assert_int_equal(csum_l4(GLOBAL, SERVER, IPV4_PROTO_TCP, pkt_data(p) + 20, n - 20), 0);
	assert_int_equal(csum_buf(pkt_data(p), 20), 0);
	/* the same flow again: the same row */
	pkt_free(p);
	p = bytes_pkt(&b, got, n);
	assert_int_equal(host_dnat_transport_out(&b.h, SP_MSEC(6), p), HOST_DNAT_TO_ROUTER);
	assert_memory_equal(pkt_data(p), want, n);
	pkt_free(p);

	/* The answer after ESP: back to 10.0.0.1:1234. */
	n = tcp_bytes(got, SERVER, 80, GLOBAL, 1026);
	p = bytes_pkt(&b, got, n);
	assert_int_equal(host_dnat_transport_in(&b.h, SP_MSEC(7), p), HOST_DNAT_TO_STACK);
	tcp_bytes(want, SERVER, 80, HOST1, 1234);
	assert_memory_equal(pkt_data(p), want, n);
	assert_int_equal(csum_l4(SERVER, HOST1, IPV4_PROTO_TCP, pkt_data(p) + 20, n - 20), 0);
	pkt_free(p);

	/* A port no row has: dropped and counted. */
	n = tcp_bytes(got, SERVER, 80, GLOBAL, 1027);
	p = bytes_pkt(&b, got, n);
	assert_int_equal(host_dnat_transport_in(&b.h, SP_MSEC(8), p), HOST_DNAT_DROP);
	assert_int_equal(b.h.ctr[HOST_DNAT_CTR_DROP_TRANSPORT_NO_SPTT], 1);
	pkt_free(p);

	/* Internal destinations and other sources are left alone. */
	n = tcp_bytes(got, 0xc0a80101u, 1234, SERVER, 80);
	p = bytes_pkt(&b, got, n);
	assert_int_equal(host_dnat_transport_out(&b.h, SP_MSEC(9), p), HOST_DNAT_LOCAL);
	assert_memory_equal(pkt_data(p), got, n);
	pkt_free(p);
	assert_int_equal(b.h.ctr[HOST_DNAT_CTR_TRANSPORT_OUT], 2);
	assert_int_equal(b.h.ctr[HOST_DNAT_CTR_TRANSPORT_IN], 1);
	bed_fini(&b);
}

/* The endpoint stack with the dnat module (ep) and a plain peer at SERVER (peer), a
 * manually keyed transport-mode ESP SA pair between the global address and SERVER. */
struct eb {
	struct pkt *out[4], *local[4];
	unsigned nout, nlocal;
};

static void eb_net(void *arg, sp_time now, struct pkt *p)
{
	struct eb *o = arg;

	(void)now;
	assert_true(o->nout < 4);
	o->out[o->nout++] = p;
}

static void eb_local(void *arg, sp_time now, struct pkt *p)
{
	struct eb *o = arg;

	(void)now;
	assert_true(o->nlocal < 4);
	o->local[o->nlocal++] = p;
}

static const struct endpoint_module_ops *const dnat_only[] = { &host_dnat_module };

static struct endpoint *eb_make(struct bed *b, struct sp_ctr_registry *ctrs, const char *name,
				const char *text, bool dnat, struct eb *o, struct conf **conf)
{
	struct endpoint_params p = {
		.name = name,
		.ctrs = ctrs,
		.rng = &b->rng.rng,
		.pool = &b->pool,
		.iv_epoch = 1,
		.modules = dnat_only,
		.nmodules = dnat ? 1 : 0,
		.io = { .net_out = eb_net, .local_out = eb_local, .arg = o },
	};
	struct endpoint *ep = NULL;

	if (!dnat)
		p.modules = NULL;
	assert_int_equal(conf_parse_string(text, name, conf), 0);
	assert_int_equal(endpoint_new(&p, *conf, 0, &ep), 0);
	return ep;
}

#define KEY_HS "0x101112131415161718191a1b1c1d1e1f20212223"
#define KEY_SH "0x303132333435363738393a3b3c3d3e3f40414243"
#define SA_PAIR(me, peer, k_out, k_in)                                                          \
	"[policy t]\nsrc = " me "\ndst = " peer "\naction = esp\nmode = transport\nreqid = 1\n" \
	"[sa out]\ndir = out\nspi = 4096\nsrc = " me "\ndst = " peer "\nmode = transport\n"     \
	"enc = aes-gcm-16\nenc_key = " k_out "\nreqid = 1\n"                                    \
	"[sa in]\ndir = in\nspi = 4096\nsrc = " peer "\ndst = " me "\nmode = transport\n"       \
	"enc = aes-gcm-16\nenc_key = " k_in "\nreqid = 1\n"

/*
 * Through the stack's hooks: the application at 192.168.1.1 sends TCP to the server; the
 * module translates it before the policy lookup, ESP protects it, out_wire tunnels it to
 * the router; the peer decrypts exactly the packet built from scratch with the global
 * address and port 1026. The peer's answer, ESP to the global address and tunnelled by
 * the router, reaches the application as 192.168.1.1:1234, checksums summed anew.
 */
static void transport_mode_through_the_stack(void **state)
{
	struct sp_ctr_registry ctrs;
	struct conf *c1 = NULL, *c2 = NULL;
	struct endpoint *ep, *peer;
	struct eb o1 = { 0 }, o2 = { 0 };
	uint8_t want[128], got[128];
	struct ipv4_hdr oh = { 0 };
	const uint8_t *d;
	struct bed b;
	struct pkt *p;
	size_t n;

	(void)state;
	bed_init(&b);
	sp_ctr_registry_init(&ctrs);
	ep = eb_make(&b, &ctrs, "host",
		     "[dnat]\nself = 10.0.0.1\nprivate = 192.168.1.1\n" SA_PAIR(
			     "198.10.20.30", "192.200.20.3", KEY_HS, KEY_SH),
		     true, &o1, &c1);
	peer = eb_make(&b, &ctrs, "server", SA_PAIR("192.200.20.3", "198.10.20.30", KEY_SH, KEY_HS),
		       false, &o2, &c2);

	/* PAP: the request through the router, its grant back. */
	endpoint_start(ep, 0);
	assert_int_equal(o1.nout, 1);
	assert_int_equal(nat_translate(b.n, 0, NAT_INSIDE, o1.out[0]), NAT_TAKEN);
	pkt_free(o1.out[0]);
	o1.nout = 0;
	assert_non_null(b.answer);
	endpoint_input(ep, 0, b.answer);
	b.answer = NULL;

	/* Out: cleartext from 192.168.1.1:1234 -> ESP in the tunnel to the router. */
	n = tcp_bytes(got, 0xc0a80101u, 1234, SERVER, 80);
	endpoint_output(ep, SP_MSEC(5), bytes_pkt(&b, got, n));
	assert_int_equal(o1.nout, 1);
	p = o1.out[0];
	o1.nout = 0;
	d = pkt_data(p);
	assert_int_equal(d[IPV4_OFF_PROTO], IPV4_PROTO_IPIP);
	assert_int_equal(sp_load_be32(d + IPV4_OFF_DST), ROUTER);
	assert_int_equal(d[20 + IPV4_OFF_PROTO], IPV4_PROTO_ESP);
	assert_int_equal(sp_load_be32(d + 20 + IPV4_OFF_SRC), GLOBAL);
	assert_non_null(pkt_pull(p, 20)); /* the router strips the tunnel header */
	endpoint_input(peer, SP_MSEC(6), p);
	assert_int_equal(o2.nlocal, 1);
	tcp_bytes(want, GLOBAL, 1026, SERVER, 80);
	assert_int_equal(o2.local[0]->len, n);
	/* ESP in transport mode keeps the header but for TTL-free fields: compare all */
	assert_memory_equal(pkt_data(o2.local[0]), want, n);
	assert_int_equal(naive_sum(pkt_data(o2.local[0]) + 20, n - 20,
				   (GLOBAL >> 16) + (GLOBAL & 0xffff) + (SERVER >> 16) +
					   (SERVER & 0xffff) + IPV4_PROTO_TCP + (uint32_t)(n - 20)),
			 0);
	pkt_free(o2.local[0]);
	o2.nlocal = 0;

	/* In: the answer to 198.10.20.30:1026, ESP, tunnelled by the router to 10.0.0.1. */
	n = tcp_bytes(got, SERVER, 80, GLOBAL, 1026);
	endpoint_output(peer, SP_MSEC(7), bytes_pkt(&b, got, n));
	assert_int_equal(o2.nout, 1);
	p = o2.out[0];
	o2.nout = 0;
	oh.ip_ttl = 64;
	oh.ip_proto = IPV4_PROTO_IPIP;
	oh.ip_src = ROUTER;
	oh.ip_dst = HOST1;
	assert_int_equal(ipv4_build(p, &oh, NULL, 0), 0);
	endpoint_input(ep, SP_MSEC(8), p);
	assert_int_equal(o1.nlocal, 1);
	tcp_bytes(want, SERVER, 80, 0xc0a80101u, 1234);
	assert_int_equal(o1.local[0]->len, n);
	assert_memory_equal(pkt_data(o1.local[0]), want, n);
	pkt_free(o1.local[0]);

	endpoint_free(ep);
	endpoint_free(peer);
	conf_free(c1);
	conf_free(c2);
	bed_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_6_to_12),
		cmocka_unit_test(internal_traffic_untouched),
		cmocka_unit_test(pap_client_lifecycle),
		cmocka_unit_test(transport_mode_translation),
		cmocka_unit_test(transport_mode_through_the_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
