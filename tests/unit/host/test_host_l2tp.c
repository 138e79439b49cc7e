/*
 * 004's client as a module of the endpoint stack (host/host_l2tp.h), end to end in one
 * process: a client endpoint (ESP transport mode from its LNS-assigned address) behind a
 * NAPT, the LNS engine (l2tp/l2tp_lns.h) with its discovery service, and the IPsec gateway
 * (a plain endpoint) on the LNS's net side (004 FIG. 1). The client discovers the NAT,
 * brings up L2TP and PPP, and its ESP reaches the gateway and back untouched; without a
 * NAT it goes direct; after the LNS restarts it comes back by itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "host/endpoint.h"
#include "l2tp/l2tp_lns.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#define CLI   SP_IP4(10, 0, 0, 2)
#define NATO  SP_IP4(203, 0, 113, 1)
#define NATP  40001
#define LNS   SP_IP4(198, 51, 100, 1)
#define GW    SP_IP4(192, 0, 2, 10)
#define ADDR  SP_IP4(10, 99, 0, 11)
#define QN    64
#define KEY_A "0x101112131415161718191a1b1c1d1e1f20212223"
#define KEY_B "0x303132333435363738393a3b3c3d3e3f40414243"

enum dest { TO_CLIENT, TO_LNS_UDP, TO_DISC, TO_GW, TO_LNS_NET };

struct msg {
	enum dest to;
	uint32_t src;
	uint16_t sport;
	uint16_t len;
	uint8_t b[1600];
};

struct world {
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct conf *cc, *gc;
	struct endpoint *cli, *gw;
	struct l2tp_lns *lns;
	struct msg q[QN];
	int qn;
	sp_time now;
	bool natted, lns_dead;
	int direct;   /* packets the client sent outside the tunnel to the gateway */
	int gw_clear; /* cleartext the gateway's host got */
	int cli_clear;
	uint8_t gw_last[1600];
};

static struct world *W;

static void push(enum dest to, uint32_t src, uint16_t sport, const uint8_t *b, size_t len)
{
	struct msg *m;

	assert_true(W->qn < QN);
	assert_true(len <= sizeof(m->b));
	m = &W->q[W->qn++];
	m->to = to;
	m->src = src;
	m->sport = sport;
	m->len = (uint16_t)len;
	memcpy(m->b, b, len);
}

/* The client's packets: UDP to the LNS crosses the NAPT; anything else would go direct. */
static void cli_net_out(void *arg, sp_time now, struct pkt *p)
{
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	(void)arg;
	(void)now;
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ipv4_parse(&c, &h), 0);
	if (h.ip_dst == LNS && h.ip_proto == IPV4_PROTO_UDP) {
		assert_int_equal(udp_parse(&c, &u), 0);
		assert_int_equal(h.ip_src, CLI);
		push(u.udp_dport == STUN_PORT ? TO_DISC : TO_LNS_UDP, W->natted ? NATO : CLI,
		     W->natted ? NATP : u.udp_sport, cur_ptr(&c), u.udp_len - UDP_HDR_LEN);
	} else {
		W->direct++;
		if (h.ip_dst == GW)
			push(TO_GW, 0, 0, pkt_data(p), p->len);
	}
	pkt_free(p);
}

static void cli_local_out(void *arg, sp_time now, struct pkt *p)
{
	(void)arg;
	(void)now;
	W->cli_clear++;
	pkt_free(p);
}

static void gw_net_out(void *arg, sp_time now, struct pkt *p)
{
	(void)arg;
	(void)now;
	push(TO_LNS_NET, 0, 0, pkt_data(p), p->len);
	pkt_free(p);
}

static void gw_local_out(void *arg, sp_time now, struct pkt *p)
{
	(void)arg;
	(void)now;
	W->gw_clear++;
	memcpy(W->gw_last, pkt_data(p), SP_MIN(p->len, sizeof(W->gw_last)));
	pkt_free(p);
}

/* The LNS's datagrams back through the NAPT to the client, as whole packets. */
static void lns_send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *b, size_t len)
{
	(void)arg;
	assert_int_equal(addr, W->natted ? NATO : CLI);
	(void)port;
	push(TO_CLIENT, LNS, L2TP_PORT, b, len);
}

static void lns_send_net(void *arg, const uint8_t *b, size_t len)
{
	(void)arg;
	push(TO_GW, 0, 0, b, len);
}

static struct pkt *whole_udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			     const uint8_t *b, size_t len)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pkt *p = pkt_alloc(&W->pool);

	assert_non_null(p);
	h.ip_src = src;
	h.ip_dst = dst;
	assert_int_equal(pkt_append(p, b, (uint32_t)len), 0);
	assert_int_equal(udp_build(p, sport, dport, src, dst, true), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	return p;
}

static struct pkt *copy(const uint8_t *b, size_t len)
{
	struct pkt *p = pkt_alloc(&W->pool);

	assert_non_null(p);
	assert_int_equal(pkt_append(p, b, (uint32_t)len), 0);
	return p;
}

static void deliver(struct msg *m)
{
	uint8_t ob[PKT_HEADROOM + 512];
	struct pkt out;

	switch (m->to) {
	case TO_CLIENT:
		endpoint_input(W->cli, W->now,
			       whole_udp(m->src, m->sport, CLI, L2TP_PORT, m->b, m->len));
		return;
	case TO_DISC:
		if (W->lns_dead)
			return;
		pkt_init(&out, ob, sizeof(ob), PKT_HEADROOM);
		if (l2tp_lns_disc_input(W->lns, W->now, LNS, STUN_PORT, m->src, m->sport, m->b,
					m->len, &out) == 0)
			endpoint_input(
				W->cli, W->now,
				whole_udp(LNS, STUN_PORT, CLI, L2TP_PORT, pkt_data(&out), out.len));
		return;
	case TO_LNS_UDP:
		if (!W->lns_dead)
			l2tp_lns_udp_input(W->lns, W->now, m->src, m->sport, m->b, m->len);
		return;
	case TO_GW:
		endpoint_input(W->gw, W->now, copy(m->b, m->len));
		return;
	case TO_LNS_NET:
		if (!W->lns_dead)
			l2tp_lns_net_input(W->lns, W->now, m->b, m->len);
		return;
	}
}

static void run(sp_time until)
{
	for (;;) {
		while (W->qn > 0) {
			struct msg m = W->q[0];

			memmove(W->q, W->q + 1, (size_t)(W->qn - 1) * sizeof(W->q[0]));
			W->qn--;
			deliver(&m);
		}
		sp_time d = sp_time_min(
			endpoint_next_deadline(W->cli),
			sp_time_min(endpoint_next_deadline(W->gw), l2tp_lns_next_deadline(W->lns)));
		if (d > until) {
			W->now = until;
			return;
		}
		if (d > W->now)
			W->now = d;
		endpoint_tick(W->cli, W->now);
		endpoint_tick(W->gw, W->now);
		l2tp_lns_tick(W->lns, W->now);
	}
}

static void sa_conf(char *buf, size_t len, const char *me, const char *peer, uint32_t so,
		    uint32_t si, const char *ko, const char *ki, const char *extra)
{
	snprintf(buf, len,
		 "[policy t]\nsrc = %s\ndst = %s\naction = esp\nmode = transport\nreqid = 1\n"
		 "[sa out]\ndir = out\nspi = %u\nsrc = %s\ndst = %s\nmode = transport\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n"
		 "[sa in]\ndir = in\nspi = %u\nsrc = %s\ndst = %s\nmode = transport\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n%s",
		 me, peer, so, me, peer, ko, si, peer, me, ki, extra);
}

static void world_new(bool natted)
{
	struct l2tp_lns_cfg lc;
	struct l2tp_lns_ops lo = { .send_udp = lns_send_udp, .send_net = lns_send_net };
	struct endpoint_params p = { .name = "cli" };
	char c1[2048], c2[1024];

	W = calloc(1, sizeof(*W));
	assert_non_null(W);
	W->natted = natted;
	assert_int_equal(pkt_pool_init(&W->pool, 256, 2048), 0);
	sp_xoshiro_seed(&W->rng, 5);
	sp_ctr_registry_init(&W->ctrs);
	l2tp_lns_cfg_defaults(&lc);
	memcpy(lc.l2tp.secret, "tunnel", 6);
	lc.l2tp.secret_len = 6;
	snprintf(lc.users[0].name, PPP_NAME_MAX, "c1");
	memcpy(lc.users[0].secret, "ppp-1", 5);
	lc.users[0].secret_len = 5;
	lc.users[0].addr = ADDR;
	lc.nusers = 1;
	lc.gw[0] = GW;
	lc.gw_plen[0] = 32;
	lc.ngw = 1;
	assert_int_equal(l2tp_lns_new(&W->lns, &lc, &lo, &W->rng.rng, NULL), 0);

	sa_conf(c1, sizeof(c1), "10.99.0.11", "192.0.2.10", 0x1001, 0x2002, KEY_A, KEY_B,
		"[l2tp]\nlns = 198.51.100.1\nlocal = 10.0.0.2\naddress = 10.99.0.11\n"
		"secret = tunnel\nuser = c1\npassword = ppp-1\nhello = 5s\necho_interval = 3s\n"
		"retry = 2s\n");
	sa_conf(c2, sizeof(c2), "192.0.2.10", "10.99.0.11", 0x2002, 0x1001, KEY_B, KEY_A, "");
	p.ctrs = &W->ctrs;
	p.rng = &W->rng.rng;
	p.pool = &W->pool;
	p.iv_epoch = 1; /* static AES-GCM keys need one (RFC 4106 3.1) */
	p.io = (struct endpoint_io){ .net_out = cli_net_out, .local_out = cli_local_out };
	assert_int_equal(conf_parse_string(c1, "cli", &W->cc), 0);
	assert_int_equal(endpoint_new(&p, W->cc, 0, &W->cli), 0);
	p.name = "gw";
	p.io = (struct endpoint_io){ .net_out = gw_net_out, .local_out = gw_local_out };
	assert_int_equal(conf_parse_string(c2, "gw", &W->gc), 0);
	assert_int_equal(endpoint_new(&p, W->gc, 0, &W->gw), 0);
	endpoint_start(W->cli, 0);
	endpoint_start(W->gw, 0);
}

static void world_free(void)
{
	endpoint_free(W->cli);
	endpoint_free(W->gw);
	conf_free(W->cc);
	conf_free(W->gc);
	l2tp_lns_free(W->lns);
	pkt_pool_destroy(&W->pool);
	free(W);
}

static struct pkt *cleartext(uint32_t src, uint32_t dst)
{
	const uint8_t b[5] = "hello";

	return whole_udp(src, 1234, dst, 5678, b, sizeof(b));
}

static uint64_t ctr(const char *mod, const char *name)
{
	return sp_ctr_get(&W->ctrs, mod, name);
}

static char *show(void)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_int_equal(endpoint_module_show(W->cli, "l2tp", W->now, f), 0);
	fclose(f);
	return buf;
}

static void nat_means_tunnel_and_esp_goes_through(void **state)
{
	(void)state;
	world_new(true);
	/* Cleartext before the path is up is protected, then dropped by the module. */
	endpoint_output(W->cli, W->now, cleartext(ADDR, GW));
	assert_int_equal(ctr("host_l2tp", "drop_path_not_up"), 1);
	run(SP_SEC(10));
	assert_non_null(strstr(show(), "client state up address 10.99.0.11"));
	assert_non_null(strstr(show(), "decision tunnel: NAT seen"));
	/* ESP from the assigned address travels inside the session, the gateway decrypts. */
	endpoint_output(W->cli, W->now, cleartext(ADDR, GW));
	run(W->now);
	assert_int_equal(W->gw_clear, 1);
	assert_int_equal(sp_load_be32(W->gw_last + 12), ADDR);
	assert_int_equal(W->direct, 0);
	assert_int_equal(ctr("host_l2tp", "wrapped"), 1);
	assert_int_equal(l2tp_lns_ctr(W->lns, L2TP_LNS_CTR_TO_NET), 1);
	/* And the gateway's ESP back, through the LNS and the session. */
	endpoint_output(W->gw, W->now, cleartext(GW, ADDR));
	run(W->now);
	assert_int_equal(W->cli_clear, 1);
	assert_int_equal(ctr("host_l2tp", "unwrapped"), 1);
	assert_int_equal(ctr("ipsec", "drop_icv_mismatch"), 0);
	world_free();
}

static void no_nat_goes_direct(void **state)
{
	(void)state;
	world_new(false);
	run(SP_SEC(10));
	assert_non_null(strstr(show(), "decision direct: no NAT seen"));
	assert_int_equal(l2tp_ctr(l2tp_lns_l2tp(W->lns), L2TP_CTR_RX_CTRL), 0);
	endpoint_output(W->cli, W->now, cleartext(ADDR, GW));
	run(W->now);
	assert_int_equal(W->direct, 1);
	assert_int_equal(ctr("host_l2tp", "passed_direct"), 1);
	world_free();
}

static void lns_restart_and_back(void **state)
{
	int before;

	(void)state;
	world_new(true);
	run(SP_SEC(10));
	assert_non_null(strstr(show(), "client state up"));
	W->lns_dead = true;
	l2tp_lns_reset(W->lns, W->now);
	run(W->now + SP_SEC(5));
	W->lns_dead = false;
	run(W->now + SP_SEC(60));
	assert_non_null(strstr(show(), "client state up"));
	assert_true(ctr("lac", "reconnect") >= 1);
	before = W->gw_clear;
	endpoint_output(W->cli, W->now, cleartext(ADDR, GW));
	run(W->now);
	assert_int_equal(W->gw_clear, before + 1);
	world_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nat_means_tunnel_and_esp_goes_through),
		cmocka_unit_test(no_nat_goes_direct),
		cmocka_unit_test(lns_restart_and_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
