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
#include "lnsnet.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#define CLI   SP_IP4(10, 0, 0, 2)
#define NATO  SP_IP4(203, 0, 113, 1)
#define NATP  40001
#define LNS   LNSNET_LNS
#define GW    LNSNET_GW
#define ADDR  SP_IP4(10, 99, 0, 11)
#define KEY_A "0x101112131415161718191a1b1c1d1e1f20212223"
#define KEY_B "0x303132333435363738393a3b3c3d3e3f40414243"

struct world {
	struct lnsnet ln; /* the LNS, the queue, the time */
	struct pkt_pool pool;
	struct sp_ctr_registry ctrs;
	struct conf *cc, *gc;
	struct endpoint *cli, *gw;
	bool natted;
	int direct;   /* packets the client sent outside the tunnel to the gateway */
	int gw_clear; /* cleartext the gateway's host got */
	int cli_clear;
	uint8_t gw_last[1600];
};

static struct world *W;

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
		lnsnet_send(&W->ln, LNSNET_TO_LNS, W->natted ? NATO : CLI,
			    W->natted ? NATP : u.udp_sport, LNS, u.udp_dport, cur_ptr(&c),
			    u.udp_len - UDP_HDR_LEN);
	} else {
		W->direct++;
		if (h.ip_dst == GW)
			lnsnet_send(&W->ln, LNSNET_TO_TEST, h.ip_src, 0, GW, 0, pkt_data(p),
				    p->len);
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
	lnsnet_send(&W->ln, LNSNET_TO_LNS_NET, GW, 0, ADDR, 0, pkt_data(p), p->len);
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

static void lns_net_out(void *arg, const uint8_t *b, size_t len)
{
	(void)arg;
	lnsnet_send(&W->ln, LNSNET_TO_TEST, LNS, 0, GW, 0, b, len);
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

/* To the gateway, whole packets; to the client, the LNS's datagrams back through the
 * NAPT, as whole packets. */
static void deliver(void *arg, const struct lnsnet_dg *d)
{
	(void)arg;
	if (d->dst == GW) {
		endpoint_input(W->gw, W->ln.now, copy(d->b, d->len));
		return;
	}
	assert_int_equal(d->dst, W->natted ? NATO : CLI);
	endpoint_input(W->cli, W->ln.now,
		       whole_udp(d->src, d->sport, CLI, L2TP_PORT, d->b, d->len));
}

static sp_time endpoints_deadline(void *arg)
{
	(void)arg;
	return sp_time_min(endpoint_next_deadline(W->cli), endpoint_next_deadline(W->gw));
}

static void endpoints_tick(void *arg, sp_time now)
{
	(void)arg;
	endpoint_tick(W->cli, now);
	endpoint_tick(W->gw, now);
}

static void run(sp_time until)
{
	lnsnet_run(&W->ln, until);
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
	const struct lnsnet_ops ops = { .deliver = deliver,
					.net_out = lns_net_out,
					.next_deadline = endpoints_deadline,
					.tick = endpoints_tick };
	struct endpoint_params p = { .name = "cli" };
	char c1[2048], c2[1024];

	W = calloc(1, sizeof(*W));
	assert_non_null(W);
	W->natted = natted;
	assert_int_equal(pkt_pool_init(&W->pool, 256, 2048), 0);
	sp_ctr_registry_init(&W->ctrs);
	lnsnet_cfg(&lc, "c1", "ppp-1", ADDR);
	lnsnet_init(&W->ln, &lc, 5, &ops);

	sa_conf(c1, sizeof(c1), "10.99.0.11", "192.0.2.10", 0x1001, 0x2002, KEY_A, KEY_B,
		"[l2tp]\nlns = 198.51.100.1\nlocal = 10.0.0.2\naddress = 10.99.0.11\n"
		"secret = tunnel\nuser = c1\npassword = ppp-1\nhello = 5s\necho_interval = 3s\n"
		"retry = 2s\n");
	sa_conf(c2, sizeof(c2), "192.0.2.10", "10.99.0.11", 0x2002, 0x1001, KEY_B, KEY_A, "");
	p.ctrs = &W->ctrs;
	p.rng = &W->ln.rng.rng;
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
	lnsnet_fini(&W->ln);
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

	assert_int_equal(endpoint_module_show(W->cli, "l2tp", W->ln.now, f), 0);
	fclose(f);
	return buf;
}

static void nat_means_tunnel_and_esp_goes_through(void **state)
{
	(void)state;
	world_new(true);
	/* Cleartext before the path is up is protected, then dropped by the module. */
	endpoint_output(W->cli, W->ln.now, cleartext(ADDR, GW));
	assert_int_equal(ctr("host_l2tp", "drop_path_not_up"), 1);
	run(SP_SEC(10));
	assert_non_null(strstr(show(), "client state up address 10.99.0.11"));
	assert_non_null(strstr(show(), "decision tunnel: NAT seen"));
	/* ESP from the assigned address travels inside the session, the gateway decrypts. */
	endpoint_output(W->cli, W->ln.now, cleartext(ADDR, GW));
	run(W->ln.now);
	assert_int_equal(W->gw_clear, 1);
	assert_int_equal(sp_load_be32(W->gw_last + 12), ADDR);
	assert_int_equal(W->direct, 0);
	assert_int_equal(ctr("host_l2tp", "wrapped"), 1);
	assert_int_equal(l2tp_lns_ctr(W->ln.lns, L2TP_LNS_CTR_TO_NET), 1);
	/* And the gateway's ESP back, through the LNS and the session. */
	endpoint_output(W->gw, W->ln.now, cleartext(GW, ADDR));
	run(W->ln.now);
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
	assert_int_equal(l2tp_ctr(l2tp_lns_l2tp(W->ln.lns), L2TP_CTR_RX_CTRL), 0);
	endpoint_output(W->cli, W->ln.now, cleartext(ADDR, GW));
	run(W->ln.now);
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
	W->ln.lns_dead = true;
	l2tp_lns_reset(W->ln.lns, W->ln.now);
	run(W->ln.now + SP_SEC(5));
	W->ln.lns_dead = false;
	run(W->ln.now + SP_SEC(60));
	assert_non_null(strstr(show(), "client state up"));
	assert_true(ctr("lac", "reconnect") >= 1);
	before = W->gw_clear;
	endpoint_output(W->cli, W->ln.now, cleartext(ADDR, GW));
	run(W->ln.now);
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
