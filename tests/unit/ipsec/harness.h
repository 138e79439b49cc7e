/* Two IPsec engines, A and B, joined back to back for the unit tests: what A sends to the
 * network is queued for B and the other way round; what each delivers locally is queued
 * for the test to look at. An optional "middlebox" function edits packets in flight (a
 * NAT, a router changing mutable fields). */
#ifndef SP_TESTS_IPSEC_HARNESS_H
#define SP_TESTS_IPSEC_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "base/cursor.h"
#include "ipsec/ipsec.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#define HQ 64

struct hq {
	struct pkt *p[HQ];
	int n;
};

struct side {
	struct ipsec *e;
	struct hq net, local;
	struct ipsec_event ev[16];
	int nev;
	struct hq ike;
	int released;
};

struct harness {
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct side a, b;
};

static inline void hq_push(struct hq *q, struct pkt *p)
{
	assert_true(q->n < HQ);
	q->p[q->n++] = p;
}

static inline struct pkt *hq_pop(struct hq *q)
{
	struct pkt *p;

	if (q->n == 0)
		return NULL;
	p = q->p[0];
	memmove(q->p, q->p + 1, (size_t)(q->n - 1) * sizeof(*q->p));
	q->n--;
	return p;
}

static inline void hq_clear(struct hq *q)
{
	struct pkt *p;

	while ((p = hq_pop(q)) != NULL)
		pkt_free(p);
}

static inline void h_net(void *arg, struct pkt *p)
{
	hq_push(&((struct side *)arg)->net, p);
}

static inline void h_local(void *arg, struct pkt *p)
{
	hq_push(&((struct side *)arg)->local, p);
}

static inline void h_event(void *arg, const struct ipsec_event *ev)
{
	struct side *s = arg;

	assert_true(s->nev < 16);
	s->ev[s->nev++] = *ev;
}

static inline void h_ike(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
			 uint16_t dport)
{
	(void)src;
	(void)dst;
	(void)sport;
	(void)dport;
	hq_push(&((struct side *)arg)->ike, p);
}

static inline void side_init(struct harness *h, struct side *s, const char *name,
			     const struct ipsec_cfg *extra)
{
	struct ipsec_cfg c = { 0 };

	if (extra != NULL)
		c = *extra;
	c.name = name;
	c.rng = &h->rng.rng;
	c.ctrs = &h->ctrs;
	c.pool = &h->pool;
	c.net_out = h_net;
	c.local_out = h_local;
	c.event = h_event;
	c.ike_in = h_ike;
	c.arg = s;
	memset(s, 0, sizeof(*s));
	assert_int_equal(ipsec_new(&s->e, &c), 0);
}

static inline void harness_init(struct harness *h, const struct ipsec_cfg *extra)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(pkt_pool_init(&h->pool, 256, PKT_BUFSIZE), 0);
	sp_xoshiro_seed(&h->rng, 7);
	sp_ctr_registry_init(&h->ctrs);
	side_init(h, &h->a, "A", extra);
	side_init(h, &h->b, "B", extra);
}

static inline void side_clear(struct side *s)
{
	hq_clear(&s->net);
	hq_clear(&s->local);
	hq_clear(&s->ike);
	s->nev = 0;
}

static inline void harness_free(struct harness *h)
{
	side_clear(&h->a);
	side_clear(&h->b);
	ipsec_free(h->a.e);
	ipsec_free(h->b.e);
	assert_int_equal(h->pool.nfree, h->pool.n); /* every packet came back */
	pkt_pool_destroy(&h->pool);
}

/* Move everything `from` sent to the network into `to`'s input, through mb if set. */
static inline int deliver(struct harness *h, struct side *from, struct side *to, sp_time now,
			  void (*mb)(struct pkt *p))
{
	struct pkt *p;
	int n = 0;

	(void)h;
	while ((p = hq_pop(&from->net)) != NULL) {
		if (mb != NULL)
			mb(p);
		ipsec_input(to->e, now, p);
		n++;
	}
	return n;
}

/* An IPv4/UDP packet with a checksum and len bytes of patterned payload. */
static inline struct pkt *mk_udp(struct harness *h, uint32_t src, uint32_t dst, uint16_t sport,
				 uint16_t dport, size_t len)
{
	struct ipv4_hdr ih = { .ip_ttl = 64,
			       .ip_proto = IPV4_PROTO_UDP,
			       .ip_id = 0x1234,
			       .ip_frag = IPV4_FLAG_DF,
			       .ip_src = src,
			       .ip_dst = dst };
	struct pkt *p = pkt_alloc(&h->pool);
	uint8_t *d;

	assert_non_null(p);
	assert_non_null(d = pkt_put(p, (uint32_t)len));
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(udp_build(p, sport, dport, src, dst, true), 0);
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	return p;
}

static inline struct pkt *mk_tcp(struct harness *h, uint32_t src, uint32_t dst, uint16_t sport,
				 uint16_t dport, size_t len)
{
	struct ipv4_hdr ih = { .ip_ttl = 64,
			       .ip_proto = IPV4_PROTO_TCP,
			       .ip_id = 0x4321,
			       .ip_src = src,
			       .ip_dst = dst };
	struct tcp_hdr th = { .tcp_sport = sport,
			      .tcp_dport = dport,
			      .tcp_seq = 1000,
			      .tcp_flags = TCP_ACK | TCP_PSH,
			      .tcp_win = 5000 };
	struct pkt *p = pkt_alloc(&h->pool);
	uint8_t *d;

	assert_non_null(p);
	assert_non_null(d = pkt_put(p, (uint32_t)len));
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(tcp_build(p, &th, NULL, 0, src, dst), 0);
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
	return p;
}

/* A pair of SAs (A->B and B->A) and matching policies, with the given transform. */
struct pair_cfg {
	uint8_t proto, mode;
	uint16_t enc, auth;
	size_t enc_key_len, auth_key_len;
	bool esn, encap;
	uint32_t replay;
	uint32_t a_addr, b_addr; /* outer addresses */
	uint32_t a_net, b_net;	 /* inner networks (/24) in tunnel mode */
	uint32_t spi_ab, spi_ba;
	uint32_t reqid;
	bool follow_a, follow_b; /* natt_follow on that side's SAs (RFC 7296 2.23) */
};

static const uint8_t test_key[64] = { 0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9,
				      0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x11, 0x22, 0x33, 0x44,
				      0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
				      0xff, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x89 };

static inline void pair_params(const struct pair_cfg *c, bool ab, uint8_t dir, struct sa_params *p)
{
	memset(p, 0, sizeof(*p));
	p->spi = ab ? c->spi_ab : c->spi_ba;
	p->proto = c->proto;
	p->mode = c->mode;
	p->dir = dir;
	p->src = ab ? c->a_addr : c->b_addr;
	p->dst = ab ? c->b_addr : c->a_addr;
	p->enc = c->enc;
	p->auth = c->auth;
	p->enc_key = test_key;
	p->enc_key_len = c->enc_key_len;
	p->auth_key = test_key + 24;
	p->auth_key_len = c->auth_key_len;
	p->esn = c->esn;
	p->replay_window = c->replay;
	if (c->encap) {
		p->encap_sport = 4500;
		p->encap_dport = 4500;
	}
	/* A's SAs are A->B outbound and B->A inbound; B has the other two. */
	p->natt_follow = (ab == (dir == SA_DIR_IN)) ? c->follow_b : c->follow_a;
	p->reqid = c->reqid;
}

static inline void side_policies(struct side *s, const struct pair_cfg *c, bool is_a)
{
	struct spd_policy_params pp = { .action = SPD_PROTECT,
					.proto = c->proto,
					.mode = c->mode,
					.reqid = c->reqid,
					.priority = 100 };
	uint32_t me = is_a ? c->a_addr : c->b_addr, peer = is_a ? c->b_addr : c->a_addr;
	uint8_t len = 32;

	if (c->mode == SA_MODE_TUNNEL) {
		me = is_a ? c->a_net : c->b_net;
		peer = is_a ? c->b_net : c->a_net;
		len = 24;
	}
	pp.sel.sport_hi = pp.sel.dport_hi = 65535;
	pp.dir = SA_DIR_OUT;
	pp.sel.src = me;
	pp.sel.dst = peer;
	pp.sel.src_len = pp.sel.dst_len = len;
	assert_int_equal(ipsec_policy_add(s->e, &pp, NULL), 0);
	pp.dir = SA_DIR_IN;
	pp.sel.src = peer;
	pp.sel.dst = me;
	assert_int_equal(ipsec_policy_add(s->e, &pp, NULL), 0);
}

static inline void pair_setup(struct harness *h, const struct pair_cfg *c)
{
	struct sa_params p;
	const char *why = NULL;

	side_policies(&h->a, c, true);
	side_policies(&h->b, c, false);
	pair_params(c, true, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h->a.e, 1, &p, &why), 0);
	pair_params(c, true, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_add(h->b.e, 1, &p, &why), 0);
	pair_params(c, false, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_add(h->b.e, 1, &p, &why), 0);
	pair_params(c, false, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_add(h->a.e, 1, &p, &why), 0);
}

static inline struct pair_cfg default_pair(void)
{
	struct pair_cfg c = { .proto = IPV4_PROTO_ESP,
			      .mode = SA_MODE_TRANSPORT,
			      .enc = SA_ENC_AES_GCM_16,
			      .enc_key_len = 20,
			      .replay = 64,
			      .a_addr = SP_IP4(10, 0, 0, 1),
			      .b_addr = SP_IP4(10, 0, 0, 2),
			      .a_net = SP_IP4(192, 168, 1, 0),
			      .b_net = SP_IP4(192, 168, 2, 0),
			      .spi_ab = 0x1001,
			      .spi_ba = 0x2002,
			      .reqid = 1 };

	return c;
}

#endif
