/*
 * 004 end to end on a virtual network: an LNS with its discovery service, clients
 * (struct l2tp_lac) behind NATs that each rewrite the client's address and port, and an
 * IPsec gateway on the LNS's net side. NAT discovery decides tunnel or direct (004
 * [0025]); FIG. 1/2: a client's IPsec reaches the permitted gateway and back; FIG. 3:
 * two clients behind two NATs reach each other only through the LNS; the firewall of
 * [0015]/[0017] drops everything else by name; the LNS restarting and clients coming back.
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
#include "base/cursor.h"
#include "l2tp/l2tp_lac.h"
#include "lnsnet.h"
#include "proto/ipv4.h"

#define LNS  LNSNET_LNS
#define GW   LNSNET_GW
#define NOGW SP_IP4(192, 0, 2, 99)
#define NC   4

struct cli {
	struct l2tp_lac *c;
	uint32_t inside, outside; /* address before and after its NAT */
	uint16_t port, nat_port;
	bool natted;
	int up, down, ip_n, decided;
	enum l2tp_lac_decision decision;
	uint8_t last_ip[1600];
	size_t last_len;
	sp_time up_at;
};

struct world {
	struct lnsnet ln; /* the LNS, the queue, the time */
	struct cli c[NC];
	int nc;
	int net_n;
	uint8_t net_last[1600];
	size_t net_len;
};

static struct world *W;

static void lns_net_out(void *arg, const uint8_t *b, size_t len)
{
	(void)arg;
	W->net_n++;
	W->net_len = len;
	memcpy(W->net_last, b, len);
}

static void cli_send(void *arg, uint32_t addr, uint16_t port, const uint8_t *b, size_t len)
{
	struct cli *c = arg;

	/* Out through the client's NAT. */
	lnsnet_send(&W->ln, addr == LNS ? LNSNET_TO_LNS : LNSNET_TO_TEST,
		    c->natted ? c->outside : c->inside, c->natted ? c->nat_port : c->port, addr,
		    port, b, len);
}

static void cli_decided(void *arg, sp_time now, enum l2tp_lac_decision d, uint32_t a, uint16_t p)
{
	struct cli *c = arg;

	(void)now;
	(void)a;
	(void)p;
	c->decided++;
	c->decision = d;
}

static void cli_up(void *arg, sp_time now, uint32_t local, uint32_t lns)
{
	struct cli *c = arg;

	(void)local;
	(void)lns;
	c->up++;
	c->up_at = now;
}

static void cli_down(void *arg, sp_time now, const char *why)
{
	struct cli *c = arg;

	(void)now;
	(void)why;
	c->down++;
}

static void cli_ip(void *arg, sp_time now, const uint8_t *b, size_t len)
{
	struct cli *c = arg;

	(void)now;
	c->ip_n++;
	c->last_len = len;
	memcpy(c->last_ip, b, len);
}

/* To a client, through its NAT. */
static void deliver(void *arg, const struct lnsnet_dg *d)
{
	(void)arg;
	for (int i = 0; i < W->nc; i++) {
		struct cli *c = &W->c[i];

		if (c->natted ? (d->dst == c->outside && d->dport == c->nat_port)
			      : (d->dst == c->inside && d->dport == c->port)) {
			l2tp_lac_udp_input(c->c, W->ln.now, d->src, d->sport, d->b, d->len);
			return;
		}
	}
	fail_msg("datagram to nowhere");
}

static sp_time clients_deadline(void *arg)
{
	sp_time t = SP_TIME_NEVER;

	(void)arg;
	for (int i = 0; i < W->nc; i++)
		t = sp_time_min(t, l2tp_lac_next_deadline(W->c[i].c));
	return t;
}

static void clients_tick(void *arg, sp_time now)
{
	(void)arg;
	for (int i = 0; i < W->nc; i++)
		l2tp_lac_tick(W->c[i].c, now);
}

static void run(sp_time until)
{
	lnsnet_run(&W->ln, until);
}

static uint32_t fixed_addr; /* for user "client" when set */
static bool gw_any;	    /* FIG. 2: IPsec to and from any address */

static void world_new(int nc, uint32_t pool_n)
{
	struct l2tp_lns_cfg cfg;
	const struct lnsnet_ops ops = { .deliver = deliver,
					.net_out = lns_net_out,
					.next_deadline = clients_deadline,
					.tick = clients_tick };

	W = calloc(1, sizeof(*W));
	assert_non_null(W);
	lnsnet_cfg(&cfg, "client", "pppsecret", fixed_addr);
	cfg.gw_any = gw_any;
	cfg.pool_n = pool_n;
	lnsnet_init(&W->ln, &cfg, 11, &ops);
	W->nc = nc;
	for (int i = 0; i < nc; i++) {
		struct cli *c = &W->c[i];
		struct l2tp_lac_cfg lc;
		struct l2tp_lac_ops lo = { .send_udp = cli_send,
					   .decided = cli_decided,
					   .up = cli_up,
					   .down = cli_down,
					   .ip = cli_ip,
					   .arg = c };

		c->inside = SP_IP4(10, 0, 0, 2);
		c->port = L2TP_PORT;
		c->natted = true;
		c->outside = SP_IP4(203, 0, 113, 1 + i); /* one NAT per client */
		c->nat_port = (uint16_t)(40000 + i);
		l2tp_lac_cfg_defaults(&lc);
		memcpy(lc.l2tp.secret, "tunnel", 6);
		lc.l2tp.secret_len = 6;
		snprintf(lc.ppp.user, PPP_NAME_MAX, "client");
		memcpy(lc.ppp.password, "pppsecret", 9);
		lc.ppp.password_len = 9;
		lc.lns_addr = LNS;
		lc.local_addr = c->inside;
		lc.local_port = c->port;
		assert_int_equal(l2tp_lac_new(&c->c, &lc, &lo, &W->ln.rng.rng, NULL), 0);
	}
}

static void world_free(void)
{
	for (int i = 0; i < W->nc; i++)
		l2tp_lac_free(W->c[i].c);
	lnsnet_fini(&W->ln);
	free(W);
}

/* An IPv4 packet of protocol proto (UDP: ports) from src to dst. */
static size_t mk_ip(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
		    uint16_t dport)
{
	uint8_t buf[PKT_HEADROOM + 64];
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = proto, .ip_src = src, .ip_dst = dst };
	struct pkt p;
	uint8_t *l4;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	assert_non_null(l4 = pkt_put(&p, 16));
	memset(l4, 0x5a, 16);
	if (proto == IPV4_PROTO_UDP) {
		sp_store_be16(l4, sport);
		sp_store_be16(l4 + 2, dport);
		sp_store_be16(l4 + 4, 16);
		sp_store_be16(l4 + 6, 0);
	}
	assert_int_equal(ipv4_build(&p, &h, NULL, 0), 0);
	memcpy(b, pkt_data(&p), p.len);
	return p.len;
}

static void cli_send_ip(struct cli *c, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	uint8_t b[128], buf[PKT_HEADROOM + 128];
	size_t n = mk_ip(b, l2tp_lac_addr(c->c), dst, proto, sport, dport);
	struct pkt p;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	assert_int_equal(pkt_append(&p, b, (uint32_t)n), 0);
	assert_int_equal(l2tp_lac_send_ip(c->c, &p), 0);
	run(W->ln.now);
}

static uint64_t lc(enum l2tp_lns_ctr k)
{
	return l2tp_lns_ctr(W->ln.lns, k);
}

static void start_all(void)
{
	for (int i = 0; i < W->nc; i++)
		l2tp_lac_start(W->c[i].c, W->ln.now);
	run(W->ln.now + SP_SEC(20));
}

static void fig1_client_behind_nat_reaches_gateway(void **state)
{
	struct cli *c;
	uint8_t b[128];
	size_t n;

	(void)state;
	world_new(1, 253);
	c = &W->c[0];
	start_all();
	assert_int_equal(c->decided, 1);
	assert_int_equal(c->decision, L2TP_LAC_DECIDE_TUNNEL);
	assert_int_equal(c->up, 1);
	assert_int_equal(l2tp_lac_state(c->c), L2TP_LAC_UP);
	assert_int_equal(l2tp_lac_addr(c->c), SP_IP4(10, 99, 0, 2));
	/* IPsec to the permitted gateway leaves on the net side, untouched. */
	cli_send_ip(c, GW, IPV4_PROTO_ESP, 0, 0);
	cli_send_ip(c, GW, IPV4_PROTO_AH, 0, 0);
	cli_send_ip(c, GW, IPV4_PROTO_UDP, 500, 500);
	cli_send_ip(c, GW, IPV4_PROTO_UDP, 4500, 4500);
	assert_int_equal(W->net_n, 4);
	assert_int_equal(sp_load_be32(W->net_last + 16), GW);
	assert_int_equal(sp_load_be32(W->net_last + 12), SP_IP4(10, 99, 0, 2));
	/* Everything else is dropped by name. */
	cli_send_ip(c, GW, IPV4_PROTO_TCP, 1234, 80);
	cli_send_ip(c, GW, IPV4_PROTO_UDP, 5353, 53);
	cli_send_ip(c, GW, IPV4_PROTO_ICMP, 0, 0);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_PROTOCOL), 3);
	cli_send_ip(c, NOGW, IPV4_PROTO_ESP, 0, 0);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_GATEWAY), 1);
	assert_int_equal(W->net_n, 4);
	/* The gateway's answer comes back into the session; a stranger's does not. */
	n = mk_ip(b, GW, SP_IP4(10, 99, 0, 2), IPV4_PROTO_ESP, 0, 0);
	l2tp_lns_net_input(W->ln.lns, W->ln.now, b, n);
	run(W->ln.now);
	assert_int_equal(c->ip_n, 1);
	assert_memory_equal(c->last_ip, b, n);
	n = mk_ip(b, NOGW, SP_IP4(10, 99, 0, 2), IPV4_PROTO_ESP, 0, 0);
	l2tp_lns_net_input(W->ln.lns, W->ln.now, b, n);
	n = mk_ip(b, GW, SP_IP4(10, 99, 0, 2), IPV4_PROTO_TCP, 80, 1234);
	l2tp_lns_net_input(W->ln.lns, W->ln.now, b, n);
	n = mk_ip(b, GW, SP_IP4(10, 99, 0, 77), IPV4_PROTO_ESP, 0, 0);
	l2tp_lns_net_input(W->ln.lns, W->ln.now, b, n);
	run(W->ln.now);
	assert_int_equal(c->ip_n, 1);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_GATEWAY), 2);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_PROTOCOL), 4);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_NO_SESSION), 1);
	/* Both authentications ran: L2TP's tunnel challenge and PPP's CHAP. */
	assert_int_equal(l2tp_lns_ppp_stats(W->ln.lns)->v[PPP_CTR_AUTH_OK], 1);
	world_free();
}

static void fig3_two_clients_behind_two_nats(void **state)
{
	struct cli *a, *b;

	(void)state;
	world_new(2, 253);
	a = &W->c[0];
	b = &W->c[1];
	start_all();
	assert_int_equal(a->up + b->up, 2);
	assert_int_not_equal(l2tp_lac_addr(a->c), l2tp_lac_addr(b->c));
	/* ESP and IKE from A to B's assigned address are relayed into B's session. */
	cli_send_ip(a, l2tp_lac_addr(b->c), IPV4_PROTO_ESP, 0, 0);
	cli_send_ip(a, l2tp_lac_addr(b->c), IPV4_PROTO_UDP, 500, 500);
	assert_int_equal(b->ip_n, 2);
	assert_int_equal(sp_load_be32(b->last_ip + 12), l2tp_lac_addr(a->c));
	assert_int_equal(b->last_ip[8], 63); /* the LNS routed it: TTL one less */
	cli_send_ip(b, l2tp_lac_addr(a->c), IPV4_PROTO_AH, 0, 0);
	assert_int_equal(a->ip_n, 1);
	assert_int_equal(lc(L2TP_LNS_CTR_RELAYED), 3);
	assert_int_equal(W->net_n, 0);
	/* Not IPsec: dropped even between clients. */
	cli_send_ip(a, l2tp_lac_addr(b->c), IPV4_PROTO_TCP, 1, 2);
	assert_int_equal(b->ip_n, 2);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_PROTOCOL), 1);
	world_free();
}

static void no_nat_goes_direct(void **state)
{
	struct cli *c;

	(void)state;
	world_new(1, 253);
	c = &W->c[0];
	c->natted = false;
	c->inside = SP_IP4(203, 0, 113, 50); /* a public address, no NAT */
	l2tp_lac_free(c->c);
	{
		struct l2tp_lac_cfg cfg;
		struct l2tp_lac_ops lo = { .send_udp = cli_send, .decided = cli_decided, .arg = c };

		l2tp_lac_cfg_defaults(&cfg);
		cfg.lns_addr = LNS;
		cfg.local_addr = c->inside;
		cfg.local_port = c->port;
		assert_int_equal(l2tp_lac_new(&c->c, &cfg, &lo, &W->ln.rng.rng, NULL), 0);
	}
	start_all();
	assert_int_equal(c->decision, L2TP_LAC_DECIDE_DIRECT);
	assert_int_equal(l2tp_lac_state(c->c), L2TP_LAC_DIRECT);
	assert_int_equal(l2tp_ctr(l2tp_lns_l2tp(W->ln.lns), L2TP_CTR_RX_CTRL), 0);
	/* Discovery blocked: after three tries the client assumes a NAT and tunnels. */
	W->ln.block_stun = true;
	l2tp_lac_start(c->c, W->ln.now);
	run(W->ln.now + SP_SEC(10));
	assert_int_equal(c->decision, L2TP_LAC_DECIDE_TUNNEL_NO_ANSWER);
	assert_true(l2tp_lac_ctr(c->c, L2TP_LAC_CTR_DISCOVER) >= 1 + 3);
	world_free();
}

static void lns_restart_and_clients_return(void **state)
{
	sp_time t0;

	(void)state;
	world_new(2, 253);
	start_all();
	assert_int_equal(W->c[0].up + W->c[1].up, 2);
	/* The LNS dies for 20 s and comes back with no memory of anyone. */
	W->ln.lns_dead = true;
	l2tp_lns_reset(W->ln.lns, W->ln.now);
	t0 = W->ln.now;
	run(W->ln.now + SP_SEC(20));
	W->ln.lns_dead = false;
	run(W->ln.now + SP_SEC(120));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(W->c[i].down, 1);
		assert_int_equal(W->c[i].up, 2);
		assert_int_equal(l2tp_lac_state(W->c[i].c), L2TP_LAC_UP);
		assert_true(l2tp_lac_ctr(W->c[i].c, L2TP_LAC_CTR_RECONNECT) >= 1);
		/* Noticed by LCP echo (3 x 10 s) or HELLO, back within the retry pause after
		 * the LNS returned. */
		assert_true(W->c[i].up_at - t0 <= SP_SEC(60));
		print_message("client %d back %.1f s after the LNS died (it was away 20 s)\n", i,
			      sp_time_sec(W->c[i].up_at - t0));
	}
	/* And the path works again: FIG. 3 through the new LNS. */
	cli_send_ip(&W->c[0], l2tp_lac_addr(W->c[1].c), IPV4_PROTO_ESP, 0, 0);
	assert_int_equal(W->c[1].ip_n, 1);
	world_free();
}

static void pool_exhaustion_is_counted(void **state)
{
	(void)state;
	world_new(2, 1);
	start_all();
	assert_int_equal(W->c[0].up + W->c[1].up, 1);
	assert_true(lc(L2TP_LNS_CTR_DROP_POOL_EXHAUSTED) >= 1);
	world_free();
}

static void fixed_address_per_user(void **state)
{
	(void)state;
	fixed_addr = SP_IP4(10, 99, 0, 50);
	world_new(2, 253);
	fixed_addr = 0;
	start_all();
	/* The first to authenticate gets the user's fixed address, the second (same user
	 * name here) one from the pool, never the fixed one. */
	assert_int_equal(W->c[0].up + W->c[1].up, 2);
	assert_true(l2tp_lac_addr(W->c[0].c) == SP_IP4(10, 99, 0, 50) ||
		    l2tp_lac_addr(W->c[1].c) == SP_IP4(10, 99, 0, 50));
	assert_int_not_equal(l2tp_lac_addr(W->c[0].c), l2tp_lac_addr(W->c[1].c));
	world_free();
}

/* FIG. 2 (004 [0017]): a public LNS lets IPsec through to and from any gateway, and still
 * nothing else. */
static void fig2_any_gateway(void **state)
{
	struct cli *c;
	uint8_t b[128];
	size_t n;

	(void)state;
	gw_any = true;
	world_new(1, 253);
	gw_any = false;
	c = &W->c[0];
	start_all();
	cli_send_ip(c, NOGW, IPV4_PROTO_ESP, 0, 0);
	cli_send_ip(c, SP_IP4(198, 18, 0, 1), IPV4_PROTO_UDP, 4500, 4500);
	assert_int_equal(W->net_n, 2);
	cli_send_ip(c, NOGW, IPV4_PROTO_TCP, 1, 80);
	assert_int_equal(W->net_n, 2);
	assert_int_equal(lc(L2TP_LNS_CTR_DROP_FW_PROTOCOL), 1);
	n = mk_ip(b, NOGW, l2tp_lac_addr(c->c), IPV4_PROTO_AH, 0, 0);
	l2tp_lns_net_input(W->ln.lns, W->ln.now, b, n);
	run(W->ln.now);
	assert_int_equal(c->ip_n, 1);
	world_free();
}

static void show_and_nft(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	world_new(1, 253);
	start_all();
	f = open_memstream(&buf, &len);
	l2tp_lns_show(W->ln.lns, W->ln.now, f);
	l2tp_lns_nft(W->ln.lns, "l2tp0", f);
	fclose(f);
	assert_non_null(strstr(buf, "user client address 10.99.0.2"));
	assert_non_null(strstr(buf, "peer 203.0.113.1:40000"));
	assert_non_null(strstr(buf, "1 tunnel(s), 1 session(s)"));
	assert_non_null(
		strstr(buf, "iifname \"l2tp0\" ip daddr { 192.0.2.10/32 } jump ipsec_only"));
	assert_non_null(strstr(buf, "meta l4proto esp accept"));
	free(buf);
	world_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fig1_client_behind_nat_reaches_gateway),
		cmocka_unit_test(fig3_two_clients_behind_two_nats),
		cmocka_unit_test(no_nat_goes_direct),
		cmocka_unit_test(lns_restart_and_clients_return),
		cmocka_unit_test(pool_exhaustion_is_counted),
		cmocka_unit_test(fixed_address_per_user),
		cmocka_unit_test(fig2_any_gateway),
		cmocka_unit_test(show_and_nft),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
