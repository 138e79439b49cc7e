/*
 * The epoch guard (003 FIGS. 6A/6B, 7) against a scripted environment: IKE events and
 * inbound packets are fed in at chosen virtual times, and every action the guard takes
 * (pings through an SA, switches, retirements, rekeys, new sessions) is recorded with its
 * time, so the flow chart's steps and their timing are asserted one by one.
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
#include "host/host_guard.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#define ACT_MAX 4096

enum act_kind { A_PING, A_USE, A_RETIRE, A_REKEY, A_SESSION };

struct act {
	enum act_kind kind;
	sp_time at;
	uint32_t spi;
	uint32_t spi_in;   /* A_PING, A_USE: the epoch's inbound SPI, beside spi (outbound) */
	uint8_t icmp_type; /* A_PING: what was sent (request, or a reply the server made) */
	uint8_t proto;
	uint32_t src, dst;
	uint16_t id, seq, sport, dport;
};

struct env {
	struct host_guard *g;
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct sp_log log;
	struct act a[ACT_MAX];
	unsigned n;
	sp_time now;
	int fail_send; /* nonzero: send_via refuses */
	char logbuf[64][200];
	unsigned nlog;
};

static void sink(void *arg, int level, const char *module, const char *msg)
{
	struct env *e = arg;

	(void)level;
	(void)module;
	if (getenv("GUARD_TEST_LOG") != NULL)
		fprintf(stderr, "[%9.3f] %s\n", sp_time_sec(e->now), msg);
	snprintf(e->logbuf[e->nlog % 64], sizeof(e->logbuf[0]), "%s", msg);
	e->nlog++;
}

static struct act *rec(struct env *e, enum act_kind k, sp_time now, uint32_t spi)
{
	struct act *a;

	assert_true(e->n < ACT_MAX);
	a = &e->a[e->n++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->at = now;
	a->spi = spi;
	return a;
}

static int op_send(void *arg, sp_time now, uint32_t spi_in, uint32_t spi, struct pkt *p)
{
	struct env *e = arg;
	struct act *a = rec(e, A_PING, now, spi);
	struct ipv4_hdr h;
	struct cur c;

	a->spi_in = spi_in;
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ipv4_parse(&c, &h), 0);
	assert_true(h.ip_csum_ok);
	a->proto = h.ip_proto;
	a->src = h.ip_src;
	a->dst = h.ip_dst;
	if (h.ip_proto == IPV4_PROTO_ICMP) {
		struct icmp_hdr ih;

		assert_int_equal(icmp_parse(&c, &ih), 0);
		assert_true(ih.icmp_csum_ok);
		a->icmp_type = ih.icmp_type;
		a->id = ih.icmp_id;
		a->seq = ih.icmp_seq;
	} else {
		struct udp_hdr uh;

		assert_int_equal(h.ip_proto, IPV4_PROTO_UDP);
		assert_int_equal(udp_parse(&c, &uh), 0);
		assert_true(udp_csum_ok(pkt_data(p) + h.ip_hl, uh.udp_len, h.ip_src, h.ip_dst));
		a->sport = uh.udp_sport;
		a->dport = uh.udp_dport;
	}
	pkt_free(p);
	return e->fail_send;
}

static int op_use(void *arg, sp_time now, const char *conn, uint32_t spi_in, uint32_t spi_out)
{
	(void)conn;
	rec(arg, A_USE, now, spi_out)->spi_in = spi_in;
	return 0;
}

static void op_retire(void *arg, sp_time now, const char *conn, uint32_t spi_in)
{
	(void)conn;
	rec(arg, A_RETIRE, now, spi_in);
}

static int op_rekey(void *arg, sp_time now, const char *conn)
{
	(void)conn;
	rec(arg, A_REKEY, now, 0);
	return 0;
}

static int op_session(void *arg, sp_time now, const char *conn)
{
	(void)conn;
	rec(arg, A_SESSION, now, 0);
	return 0;
}

#define CLI   SP_IP4(10, 6, 1, 2)
#define GWIN  SP_IP4(10, 9, 0, 1)
#define IKE_A 0x1111000000000001ull
#define IKE_B 0x2222000000000002ull

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	struct host_guard_params p;

	assert_non_null(e);
	assert_int_equal(pkt_pool_init(&e->pool, 64, PKT_BUFSIZE), 0);
	sp_xoshiro_seed(&e->rng, 3);
	sp_ctr_registry_init(&e->ctrs);
	e->log = (struct sp_log){ .sink = sink, .arg = e, .level = SP_LOG_DEBUG };
	p = (struct host_guard_params){
		.name = "t",
		.log = &e->log,
		.ctrs = &e->ctrs,
		.rng = &e->rng.rng,
		.pool = &e->pool,
		.ops = { op_send, op_use, op_retire, op_rekey, op_session, e },
	};
	assert_int_equal(host_guard_new(&p, &e->g), 0);
	return e;
}

static void env_free(struct env *e)
{
	host_guard_free(e->g);
	assert_int_equal(e->pool.nfree, e->pool.n); /* every packet came back */
	pkt_pool_destroy(&e->pool);
	free(e);
}

static struct host_guard_cfg client_cfg(void)
{
	struct host_guard_cfg c;

	host_guard_cfg_defaults(&c);
	c.mode = HOST_GUARD_CLIENT;
	c.ping_src = CLI;
	c.ping_dst = GWIN;
	c.pingtime = SP_SEC(1);
	c.pingtries = 3;
	c.ping_jitter = 0; /* exact times below; ping_jitter_spreads_waits tests it */
	c.maxidle = SP_SEC(20);
	c.epoch_timeout = SP_SEC(5);
	c.elimit = 2;
	c.keylife = SP_SEC(3600);
	c.rekeymargin = SP_SEC(540);
	c.masq_t_out = SP_SEC(1);
	c.masq_n_out = 5;
	return c;
}

/* Run the guard's timers up to t. */
static void run_to(struct env *e, sp_time t)
{
	for (;;) {
		sp_time d = host_guard_next_deadline(e->g);

		if (d > t)
			break;
		if (d < e->now)
			fprintf(stderr, "d %llu now %llu\n", (unsigned long long)d,
				(unsigned long long)e->now);
		assert_true(d >= e->now);
		e->now = d;
		host_guard_tick(e->g, d);
	}
	e->now = t;
}

static void ev(struct env *e, enum ike_event_type type, uint64_t ike_spi, uint32_t in, uint32_t out,
	       uint32_t old_in, uint32_t old_out)
{
	struct ike_event x = {
		.type = type,
		.conn = "gw",
		.ike_spi_i = ike_spi,
		.proto = IKE_PROTO_ESP,
		.spi_in = in,
		.spi_out = out,
		.old_spi_in = old_in,
		.old_spi_out = old_out,
		.initiator = true,
	};

	host_guard_ike_event(e->g, e->now, &x);
}

/* An inner packet: an echo (request or reply) or a UDP datagram. */
static struct pkt *inner(struct env *e, uint8_t proto, uint8_t type, uint32_t src, uint32_t dst,
			 uint16_t id, uint16_t port)
{
	struct pkt *p = pkt_alloc(&e->pool);
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = proto, .ip_src = src, .ip_dst = dst };
	uint8_t *d;

	assert_non_null(p);
	assert_non_null(d = pkt_put(p, 8));
	sp_store_be32(d, 0x53504733u);
	sp_store_be32(d + 4, 0);
	if (proto == IPV4_PROTO_ICMP)
		assert_int_equal(icmp_build_echo(p, type, id, 1), 0);
	else
		assert_int_equal(udp_build(p, port, port, src, dst, true), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	return p;
}

static bool rx(struct env *e, uint32_t spi, struct pkt *p)
{
	bool consumed = host_guard_rx(e->g, e->now, spi, p);

	if (!consumed && p != NULL)
		pkt_free(p);
	return consumed;
}

static unsigned count(const struct env *e, enum act_kind k, unsigned from)
{
	unsigned n = 0;

	for (unsigned i = from; i < e->n; i++)
		n += e->a[i].kind == k;
	return n;
}

static const struct act *last(const struct env *e, enum act_kind k)
{
	for (unsigned i = e->n; i-- > 0;)
		if (e->a[i].kind == k)
			return &e->a[i];
	return NULL;
}

static uint64_t ctrv(const struct env *e, const char *name)
{
	return sp_ctr_get(&e->ctrs, "guard", name);
}

/* The last ping request the guard sent, as a reply from the gateway's side. */
static struct pkt *reply_to_last(struct env *e)
{
	const struct act *a = last(e, A_PING);

	assert_non_null(a);
	return inner(e, IPV4_PROTO_ICMP, ICMP_ECHO_REPLY, a->dst, a->src, a->id, 0);
}

/* 601-609 done: "gw" guarded with c, IKE_A up, its first epoch 0x1000_i/0x2000_o tried and
 * answered, so data uses it. */
static void client_up(struct env *e, const struct host_guard_cfg *c)
{
	assert_int_equal(host_guard_add(e->g, "gw", c), 0);
	ev(e, IKE_EV_IKE_UP, IKE_A, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_UP, IKE_A, 0x1000, 0x2000, 0, 0);
	assert_true(rx(e, 0x1000, reply_to_last(e)));
}

/* ---- configuration ------------------------------------------------------------------- */

static void cfg_inequalities_name_the_numbers(void **state)
{
	struct host_guard_cfg c;
	char err[256];

	(void)state;
	host_guard_cfg_defaults(&c);
	c.mode = HOST_GUARD_CLIENT;
	c.ping_dst = GWIN;
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), 0);

	c.pingtime = SP_SEC(1); /* T_out / N_out = 10s / 5 = 2s */
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), SP_ECONFIG);
	assert_string_equal(err, "pingtime 1s is below T_out / N_out = 10s / 5 = 2s (003: "
				 "pingtime >= T_out / N_out)");

	c.pingtime = SP_MSEC(2500);
	c.pingtries = 8; /* 2.5 * 8 / 10 = 2.00, not above N = 2 */
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), SP_ECONFIG);
	assert_string_equal(err, "pingtime 2500ms * pingtries 8 / T_out 10s = 2.00 is not above "
				 "N = 2 (003: pingtime * pingtries / T_out > N)");
	c.pingtries = 9;
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), 0);

	c.maxidle = SP_SEC(1800);
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), SP_ECONFIG);
	assert_string_equal(err, "maxidle 1800s is not below T_ei 1800s (003: maxidle < T_ei)");

	c.maxidle = SP_SEC(60);
	c.ping_dst = 0;
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), SP_ECONFIG);
	assert_non_null(strstr(err, "ping_dst"));

	/* A server does not ping: only the lifetime matters. */
	c.mode = HOST_GUARD_SERVER;
	c.pingtime = SP_MSEC(1);
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), 0);
	c.rekeymargin = c.keylife;
	assert_int_equal(host_guard_cfg_check(&c, err, sizeof(err)), SP_ECONFIG);
}

static void cfg_read_keys_and_errors(void **state)
{
	static const char *const good = "[conn gw]\n"
					"epoch_guard = client\n"
					"maxidle = 30s\n"
					"pingtime = 500ms\n"
					"pingtries = 7\n"
					"epoch_timeout = 4s\n"
					"elimit = 3\n"
					"ping = udp:4000\n"
					"ping_dst = 10.9.0.1\n"
					"masq_t_out = 1s\n"
					"masq_n_out = 2\n"
					"masq_t_ei = 60s\n"
					"ping_collisions = 3\n";
	static const char *const bad = "[conn gw]\n"
				       "epoch_guard = client\n"
				       "ping_dst = 10.9.0.1\n"
				       "pingtime = 1s\n";
	static const char *const badping = "[conn gw]\n"
					   "ping = tcp\n";
	struct host_guard_cfg c;
	struct conf *cf;

	(void)state;
	assert_int_equal(conf_parse_string(good, "good.conf", &cf), 0);
	host_guard_cfg_defaults(&c);
	assert_int_equal(host_guard_cfg_read(conf_find(cf, "conn", "gw"), &c), 0);
	assert_int_equal(c.mode, HOST_GUARD_CLIENT);
	assert_true(c.maxidle == SP_SEC(30) && c.pingtime == SP_MSEC(500));
	assert_int_equal(c.pingtries, 7);
	assert_true(c.epoch_timeout == SP_SEC(4));
	assert_int_equal(c.elimit, 3);
	assert_int_equal(c.probe, HOST_GUARD_PROBE_UDP);
	assert_int_equal(c.probe_port, 4000);
	assert_int_equal(c.ping_dst, GWIN);
	assert_int_equal(c.ping_collisions, 3);
	assert_int_equal(conf_check_unused(cf), 0);
	conf_free(cf);

	/* Defaults T_out 10s, N_out 5: 1s is too short, and the message says where. */
	assert_int_equal(conf_parse_string(bad, "bad.conf", &cf), 0);
	host_guard_cfg_defaults(&c);
	assert_int_equal(host_guard_cfg_read(conf_find(cf, "conn", "gw"), &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(cf), "bad.conf"));
	assert_non_null(strstr(conf_error(cf), "T_out / N_out = 10s / 5 = 2s"));
	conf_free(cf);

	assert_int_equal(conf_parse_string(badping, "p.conf", &cf), 0);
	host_guard_cfg_defaults(&c);
	assert_int_equal(host_guard_cfg_read(conf_find(cf, "conn", "gw"), &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(cf), "icmp, udp or udp:PORT"));
	conf_free(cf);
}

/* ---- client, FIG. 6A/6B ------------------------------------------------------------------ */

/* 602 + 607: the first epoch is pinged before data uses it; the reply switches (609). */
static void client_first_epoch_waits_for_reply(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	const struct act *a;

	(void)state;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	assert_int_equal(host_guard_mode_of(e->g, "gw"), HOST_GUARD_CLIENT);
	e->now = SP_SEC(1);
	ev(e, IKE_EV_IKE_UP, IKE_A, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_UP, IKE_A, 0x1000, 0x2000, 0, 0);
	assert_int_equal(count(e, A_PING, 0), 1);
	a = last(e, A_PING);
	assert_int_equal(a->spi, 0x2000);
	assert_int_equal(a->icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(a->src, CLI);
	assert_int_equal(a->dst, GWIN);
	assert_int_equal(count(e, A_USE, 0), 0); /* no data on an unconfirmed epoch */

	/* Something on another SPI changes nothing; the reply is consumed and switches. */
	assert_false(rx(e, 0x9999, NULL));
	e->now = SP_MSEC(1050);
	assert_true(rx(e, 0x1000, reply_to_last(e)));
	a = last(e, A_USE);
	assert_non_null(a);
	assert_int_equal(a->spi, 0x2000);
	assert_true(a->at == SP_MSEC(1050));
	assert_int_equal(ctrv(e, "switches"), 1);
	assert_int_equal(ctrv(e, "ping_replies"), 1);
	/* A reply of somebody else's ping is not ours to consume. */
	assert_false(
		rx(e, 0x1000, inner(e, IPV4_PROTO_ICMP, ICMP_ECHO_REPLY, GWIN, CLI, 0x4242, 0)));
	/* Quiet from now on: no more pings before maxidle. */
	run_to(e, SP_SEC(10));
	assert_int_equal(count(e, A_PING, 0), 1);
	env_free(e);
}

/* 605-609: after a rekey data stays on the old epoch until the new one has answered. */
static void client_rekey_switches_on_new_inbound(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	unsigned mark;

	(void)state;
	client_up(e, &c);

	e->now = SP_SEC(100);
	mark = e->n;
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	assert_int_equal(count(e, A_PING, mark), 1);
	assert_int_equal(last(e, A_PING)->spi, 0x2001);
	assert_int_equal(count(e, A_USE, mark), 0);
	/* Data on the old epoch keeps flowing and switches nothing. */
	e->now = SP_MSEC(100200);
	assert_false(rx(e, 0x1000, NULL));
	assert_int_equal(count(e, A_USE, mark), 0);
	/* Any packet on the new inbound SA switches, not only the reply (003). */
	e->now = SP_MSEC(100300);
	assert_false(
		rx(e, 0x1001, inner(e, IPV4_PROTO_UDP, 0, SP_IP4(10, 9, 0, 10), CLI, 0, 5001)));
	assert_int_equal(count(e, A_USE, mark), 1);
	assert_int_equal(last(e, A_USE)->spi, 0x2001);
	/* The previous epoch is retired pingtime later. */
	assert_int_equal(count(e, A_RETIRE, mark), 0);
	run_to(e, SP_MSEC(101300));
	assert_int_equal(count(e, A_RETIRE, mark), 1);
	assert_int_equal(last(e, A_RETIRE)->spi, 0x1000);
	assert_true(last(e, A_RETIRE)->at == SP_MSEC(101300));
	/* The late reply to our ping is still ours. */
	assert_true(rx(e, 0x1001, reply_to_last(e)));
	assert_int_equal(ctrv(e, "switches"), 2);
	ev(e, IKE_EV_CHILD_DELETED, IKE_A, 0x1000, 0x2000, 0, 0); /* the retirement done */
	env_free(e);
}

/* 608-611, 605: pingtries unanswered retries, then a rekey; timing exact. */
static void client_unanswered_pings_rekey(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	unsigned mark;

	(void)state;
	c.pingtries = 4;
	client_up(e, &c);
	e->now = SP_SEC(50);
	mark = e->n;
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	run_to(e, SP_SEC(54) + SP_MSEC(999));
	assert_int_equal(count(e, A_PING, mark), 5); /* 607 + 4 retries */
	for (unsigned i = mark, k = 0; i < e->n; i++)
		if (e->a[i].kind == A_PING) {
			assert_true(e->a[i].at == SP_SEC(50 + k));
			assert_int_equal(e->a[i].spi, 0x2001);
			k++;
		}
	assert_int_equal(count(e, A_REKEY, mark), 0);
	run_to(e, SP_SEC(55));
	assert_int_equal(count(e, A_REKEY, mark), 1); /* (pingtries + 1) * pingtime */
	assert_true(last(e, A_REKEY)->at == SP_SEC(55));
	assert_int_equal(ctrv(e, "ping_retries"), 4);

	/* The rekey of the failed epoch: it is retired at once and the new one tried. */
	e->now = SP_MSEC(55100);
	mark = e->n;
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1002, 0x2002, 0x1001, 0x2001);
	assert_int_equal(count(e, A_RETIRE, mark), 1);
	assert_int_equal(last(e, A_RETIRE)->spi, 0x1001);
	assert_int_equal(last(e, A_PING)->spi, 0x2002);
	assert_true(rx(e, 0x1002, reply_to_last(e)));
	assert_int_equal(last(e, A_USE)->spi, 0x2002);
	env_free(e);
}

/* Waits are pingtime plus up to ping_jitter percent: never shorter, spread out. */
static void ping_jitter_spreads_waits(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	sp_time prev = 0;
	unsigned n = 0, exact = 0;

	(void)state;
	c.ping_jitter = 25;
	c.pingtries = 8;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	ev(e, IKE_EV_CHILD_UP, IKE_A, 0x1000, 0x2000, 0, 0);
	run_to(e, SP_SEC(12)); /* 9 waits of at most 1.25 s; the next rekey is 5 s later */
	for (unsigned i = 0; i < e->n; i++) {
		if (e->a[i].kind != A_PING)
			continue;
		if (n++ > 0) {
			assert_true(e->a[i].at - prev >= c.pingtime);
			assert_true(e->a[i].at - prev <= c.pingtime + c.pingtime / 4);
			exact += e->a[i].at - prev == c.pingtime;
		}
		prev = e->a[i].at;
	}
	assert_int_equal(n, 9);
	assert_true(exact < 8);
	assert_int_equal(count(e, A_REKEY, 0), 1);
	env_free(e);
}

/* 606, 612-614: TIMEOUT per negotiation, ELIMIT of them, then a new IKE session (601). */
static void client_negotiation_timeouts_new_session(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	unsigned mark;

	(void)state;
	c.pingtries = 0;
	c.masq_n_out = 1;
	c.ping_collisions = 0;
	client_up(e, &c);
	e->now = SP_SEC(10);
	mark = e->n;
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	run_to(e, SP_SEC(11)); /* one ping, no retries: rekey at 11 s */
	assert_int_equal(count(e, A_REKEY, mark), 1);
	/* No epoch comes: a new try every epoch_timeout, ELIMIT = 2 of them. */
	run_to(e, SP_SEC(25) + SP_MSEC(999));
	assert_int_equal(count(e, A_REKEY, mark), 3);
	assert_int_equal(count(e, A_SESSION, mark), 0);
	run_to(e, SP_SEC(26));
	assert_int_equal(count(e, A_SESSION, mark), 1);
	assert_true(last(e, A_SESSION)->at == SP_SEC(26));
	assert_int_equal(ctrv(e, "negotiation_timeouts"), 3);
	/* 614 drops the session's epochs: data is held until the new session's is tried. */
	assert_int_equal(last(e, A_USE)->spi, 0);
	assert_true(last(e, A_USE)->at == SP_SEC(26));

	/* The dropped session's own teardown events are stale; the new session's epoch is
	 * tried, and used once it answers. */
	mark = e->n;
	ev(e, IKE_EV_IKE_UP, IKE_B, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_DELETED, IKE_A, 0x1001, 0x2001, 0, 0);
	ev(e, IKE_EV_IKE_DOWN, IKE_A, 0, 0, 0, 0);
	assert_int_equal(count(e, A_SESSION, mark), 0);
	ev(e, IKE_EV_CHILD_UP, IKE_B, 0x3000, 0x4000, 0, 0);
	assert_int_equal(last(e, A_PING)->spi, 0x4000);
	assert_true(rx(e, 0x3000, reply_to_last(e)));
	assert_int_equal(last(e, A_USE)->spi, 0x4000);
	/* The new session dies: 601 again at once. */
	mark = e->n;
	ev(e, IKE_EV_PEER_SILENT, IKE_B, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_DELETED, IKE_B, 0x3000, 0x4000, 0, 0);
	ev(e, IKE_EV_IKE_DOWN, IKE_B, 0, 0, 0, 0);
	assert_int_equal(count(e, A_SESSION, mark), 1);
	assert_int_equal(ctrv(e, "sessions_lost"), 1);
	/* A session that cannot even be set up is retried when IKE gives up on it. */
	ev(e, IKE_EV_CONNECT_FAILED, 0x3333, 0, 0, 0, 0);
	assert_int_equal(count(e, A_SESSION, mark), 2);
	/* And after epoch_timeout without an epoch. */
	mark = e->n;
	run_to(e, e->now + c.epoch_timeout);
	assert_int_equal(count(e, A_SESSION, mark), 1);
	env_free(e);
}

/* 621, 615-617: maxidle of silence, a keepalive ping, answered; unanswered: 619 -> 605. */
static void client_keepalive(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	unsigned mark;

	(void)state;
	client_up(e, &c); /* answered at 0 */
	e->now = SP_SEC(15);
	assert_false(rx(e, 0x1000, NULL)); /* traffic pushes maxidle back */
	mark = e->n;
	run_to(e, SP_SEC(34) + SP_MSEC(999));
	assert_int_equal(count(e, A_PING, mark), 0);
	run_to(e, SP_SEC(35));
	assert_int_equal(count(e, A_PING, mark), 1);
	assert_int_equal(last(e, A_PING)->spi, 0x2000);
	assert_int_equal(ctrv(e, "keepalives"), 1);
	e->now = SP_MSEC(35040);
	assert_true(rx(e, 0x1000, reply_to_last(e)));
	assert_int_equal(ctrv(e, "keepalives_answered"), 1);
	run_to(e, SP_SEC(55));
	assert_int_equal(count(e, A_REKEY, mark), 0);
	/* Next silence: the keepalive goes unanswered (the NAT misdelivers, 003 race 4). */
	mark = e->n;
	run_to(e, SP_SEC(55) + SP_MSEC(40) + 4 * SP_SEC(1));
	assert_int_equal(count(e, A_PING, mark), 4);
	assert_int_equal(count(e, A_REKEY, mark), 1);
	assert_true(last(e, A_REKEY)->at == SP_MSEC(55040) + 4 * SP_SEC(1));
	/* The rekeyed epoch answers: switch, and the quiet one is retired. */
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	assert_true(rx(e, 0x1001, reply_to_last(e)));
	assert_int_equal(last(e, A_USE)->spi, 0x2001);
	run_to(e, e->now + SP_SEC(2));
	assert_int_equal(last(e, A_RETIRE)->spi, 0x1000);
	env_free(e);
}

/* The previous epoch carries data until t0 + keylife - rekeymargin at the latest. */
static void client_switch_at_deadline(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	sp_time t0 = SP_SEC(5), dl;

	(void)state;
	c.pingtries = 1000;
	c.keylife = SP_SEC(600);
	c.rekeymargin = SP_SEC(60);
	c.maxidle = SP_SEC(1000);
	c.masq_t_ei = SP_SEC(2000);
	e->now = t0;
	client_up(e, &c);
	e->now = SP_SEC(480);
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	dl = t0 + c.keylife - c.rekeymargin;
	run_to(e, dl - 1);
	assert_int_equal(count(e, A_USE, 0), 1);
	run_to(e, dl);
	assert_int_equal(count(e, A_USE, 0), 2);
	assert_int_equal(last(e, A_USE)->spi, 0x2001);
	assert_true(last(e, A_USE)->at == dl);
	assert_int_equal(ctrv(e, "switches_at_deadline"), 1);
	/* It is still tried: the answer comes and pinging stops. */
	assert_true(rx(e, 0x1001, reply_to_last(e)));
	{
		unsigned mark = e->n;

		run_to(e, dl + SP_SEC(30));
		assert_int_equal(count(e, A_PING, mark), 0);
	}
	env_free(e);
}

/* The current epoch deleted under us: the pending one takes over at once. */
static void client_current_deleted(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	unsigned mark;

	(void)state;
	client_up(e, &c);
	ev(e, IKE_EV_CHILD_REKEYED, IKE_A, 0x1001, 0x2001, 0x1000, 0x2000);
	ev(e, IKE_EV_CHILD_DELETED, IKE_A, 0x1000, 0x2000, 0, 0);
	assert_int_equal(last(e, A_USE)->spi, 0x2001);
	assert_int_equal(ctrv(e, "switches_forced"), 1);
	/* Then that one goes too: a new epoch is asked for. */
	mark = e->n;
	ev(e, IKE_EV_CHILD_DELETED, IKE_A, 0x1001, 0x2001, 0, 0);
	run_to(e, e->now);
	assert_int_equal(count(e, A_REKEY, mark), 1);
	env_free(e);
}

/* 620 is IKE's accept_rekey; a peer's rekey that IKE accepted is tried like ours. */
static void client_peer_rekey_is_tried(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	struct ike_event x = { .type = IKE_EV_CHILD_REKEYED,
			       .conn = "gw",
			       .ike_spi_i = IKE_A,
			       .spi_in = 0x1001,
			       .spi_out = 0x2001,
			       .old_spi_in = 0x1000,
			       .old_spi_out = 0x2000 };

	(void)state;
	client_up(e, &c);
	host_guard_ike_event(e->g, e->now, &x);
	assert_int_equal(last(e, A_PING)->spi, 0x2001);
	assert_int_equal(count(e, A_USE, 0), 1);
	/* Unguarded connections are none of the guard's business. */
	x.conn = "other";
	x.type = IKE_EV_CHILD_UP;
	x.spi_in = 0x7000;
	host_guard_ike_event(e->g, e->now, &x);
	assert_int_equal(host_guard_mode_of(e->g, "other"), HOST_GUARD_OFF);
	assert_int_equal(last(e, A_PING)->spi, 0x2001);
	env_free(e);
}

/* ---- server, FIG. 7 ----------------------------------------------------------------------- */

static struct host_guard_cfg server_cfg(void)
{
	struct host_guard_cfg c;

	host_guard_cfg_defaults(&c);
	c.mode = HOST_GUARD_SERVER;
	c.ping_dst = GWIN;
	c.keylife = SP_SEC(3600);
	c.rekeymargin = SP_SEC(540);
	return c;
}

static void server_switches_on_ping_and_answers(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = server_cfg();
	const struct act *a;
	struct ike_event x = { .type = IKE_EV_CHILD_UP, .conn = "gw", .initiator = false };

	(void)state;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	/* 702-703: two clients' tunnels under one connection. */
	x.spi_in = 0x5000;
	x.spi_out = 0x6000;
	host_guard_ike_event(e->g, e->now, &x);
	x.spi_in = 0x5100;
	x.spi_out = 0x6100;
	host_guard_ike_event(e->g, e->now, &x);
	assert_int_equal(e->n, 0); /* a server neither pings nor switches by itself */
	/* 705-707: the ping arrives on the new epoch: switch, then answer through it. */
	e->now = SP_MSEC(30);
	assert_true(rx(e, 0x5000, inner(e, IPV4_PROTO_ICMP, ICMP_ECHO_REQUEST, CLI, GWIN, 77, 0)));
	assert_int_equal(e->n, 2);
	assert_int_equal(e->a[0].kind, A_USE);
	assert_int_equal(e->a[0].spi, 0x6000);
	/* The epoch is named by its inbound SPI too: another client's may share 0x6000. */
	assert_int_equal(e->a[0].spi_in, 0x5000);
	a = &e->a[1];
	assert_int_equal(a->kind, A_PING);
	assert_int_equal(a->spi, 0x6000);
	assert_int_equal(a->spi_in, 0x5000);
	assert_int_equal(a->icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(a->src, GWIN);
	assert_int_equal(a->dst, CLI);
	assert_int_equal(a->id, 77);
	assert_int_equal(ctrv(e, "pings_answered"), 1);
	/* A ping that is not a guard's probe is the stack's, even to ping_dst. */
	{
		struct pkt *q = inner(e, IPV4_PROTO_ICMP, ICMP_ECHO_REQUEST, CLI, GWIN, 77, 0);

		pkt_data(q)[IPV4_HDR_MIN + ICMP_HDR_LEN] ^= 0xff;
		icmp_set_csum(pkt_data(q) + IPV4_HDR_MIN, q->len - IPV4_HDR_MIN);
		assert_false(rx(e, 0x5000, q));
	}
	/* A ping to another address is the stack's. */
	assert_false(
		rx(e, 0x5000,
		   inner(e, IPV4_PROTO_ICMP, ICMP_ECHO_REQUEST, CLI, SP_IP4(10, 9, 0, 10), 77, 0)));
	/* The rekey: the old epoch carries data until the client's ping shows up. */
	x.type = IKE_EV_CHILD_REKEYED;
	x.old_spi_in = 0x5000;
	x.old_spi_out = 0x6000;
	x.spi_in = 0x5001;
	x.spi_out = 0x6001;
	host_guard_ike_event(e->g, e->now, &x);
	assert_int_equal(count(e, A_USE, 0), 1);
	assert_false(rx(e, 0x5000, NULL));
	assert_int_equal(count(e, A_USE, 0), 1);
	assert_false(rx(e, 0x5001, NULL)); /* an ESP dummy is a packet too */
	assert_int_equal(count(e, A_USE, 0), 2);
	assert_int_equal(last(e, A_USE)->spi, 0x6001);
	assert_int_equal(count(e, A_RETIRE, 0), 0); /* the client deletes the old one */
	/* The other tunnel is untouched; its deletion frees it. */
	x.type = IKE_EV_CHILD_DELETED;
	x.spi_in = 0x5100;
	host_guard_ike_event(e->g, e->now, &x);
	{
		struct host_guard_stats st;

		host_guard_stats(e->g, &st);
		assert_int_equal(st.tunnels, 1);
		assert_int_equal(st.tunnels_up, 1);
	}
	/* The deadline applies to a server too. */
	x.type = IKE_EV_CHILD_REKEYED;
	x.old_spi_in = 0x5001;
	x.spi_in = 0x5002;
	x.spi_out = 0x6002;
	host_guard_ike_event(e->g, e->now, &x);
	run_to(e, e->now + c.keylife - c.rekeymargin);
	assert_int_equal(last(e, A_USE)->spi, 0x6002);
	env_free(e);
}

static void udp_probe_both_ends(void **state)
{
	struct env *e = env_new(), *s = env_new();
	struct host_guard_cfg c = client_cfg(), sc = server_cfg();
	const struct act *a;
	struct pkt *p;

	(void)state;
	c.probe = sc.probe = HOST_GUARD_PROBE_UDP;
	c.probe_port = sc.probe_port = 7;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	assert_int_equal(host_guard_add(s->g, "gw", &sc), 0);
	ev(e, IKE_EV_CHILD_UP, IKE_A, 0x1000, 0x2000, 0, 0);
	ev(s, IKE_EV_CHILD_UP, IKE_A, 0x2000, 0x1000, 0, 0);
	a = last(e, A_PING);
	assert_int_equal(a->proto, IPV4_PROTO_UDP);
	assert_int_equal(a->dport, 7);
	/* The server answers the datagram through the epoch it arrived on. */
	p = inner(s, IPV4_PROTO_UDP, 0, a->src, a->dst, 0, 7);
	assert_true(rx(s, 0x2000, p));
	a = last(s, A_PING);
	assert_int_equal(a->spi, 0x1000);
	assert_int_equal(a->src, GWIN);
	assert_int_equal(a->dst, CLI);
	/* And the client takes the echo as its reply. */
	assert_true(rx(e, 0x1000, inner(e, IPV4_PROTO_UDP, 0, GWIN, CLI, 0, 7)));
	assert_int_equal(last(e, A_USE)->spi, 0x2000);
	env_free(e);
	env_free(s);
}

/* Hundreds of server tunnels: lookups stay right while they come and go. */
static void server_many_tunnels(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = server_cfg();
	struct ike_event x = { .conn = "gw" };
	struct host_guard_stats st;

	(void)state;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	for (uint32_t i = 0; i < 300; i++) {
		x.type = IKE_EV_CHILD_UP;
		x.spi_in = 0x10000 + i;
		x.spi_out = 0x20000 + i;
		host_guard_ike_event(e->g, e->now, &x);
	}
	for (uint32_t i = 0; i < 300; i += 2) {
		x.type = IKE_EV_CHILD_DELETED;
		x.spi_in = 0x10000 + i;
		host_guard_ike_event(e->g, e->now, &x);
	}
	host_guard_stats(e->g, &st);
	assert_int_equal(st.tunnels, 150);
	assert_int_equal(st.tunnels_up, 0);
	for (uint32_t i = 1; i < 300; i += 2) {
		unsigned mark = e->n;

		assert_false(rx(e, 0x10000 + i, NULL));
		assert_int_equal(count(e, A_USE, mark), 1);
		assert_int_equal(last(e, A_USE)->spi, 0x20000 + i);
	}
	for (uint32_t i = 0; i < 300; i += 2) {
		unsigned mark = e->n;

		assert_false(rx(e, 0x10000 + i, NULL));
		assert_int_equal(count(e, A_USE, mark), 0);
	}
	host_guard_stats(e->g, &st);
	assert_int_equal(st.tunnels_up, 150);
	host_guard_reset(e->g);
	host_guard_stats(e->g, &st);
	assert_int_equal(st.tunnels, 0);
	env_free(e);
}

/* A crash forgets everything; the pool never runs dry silently. */
static void reset_and_no_buffer(void **state)
{
	struct env *e = env_new();
	struct host_guard_cfg c = client_cfg();
	struct pkt *hold[65];
	unsigned n = 0;
	struct host_guard_stats st;
	FILE *f;
	char buf[512];

	(void)state;
	assert_int_equal(host_guard_add(e->g, "gw", &c), 0);
	assert_int_equal(host_guard_add(e->g, "gw", &c), SP_EEXIST);
	ev(e, IKE_EV_IKE_UP, IKE_A, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_UP, IKE_A, 0x1000, 0x2000, 0, 0);
	f = fmemopen(buf, sizeof(buf), "w");
	host_guard_show(e->g, e->now, f);
	fclose(f);
	assert_non_null(strstr(buf, "gw: guard client, probing, trying 00001000_i 00002000_o"));
	while ((hold[n] = pkt_alloc(&e->pool)) != NULL)
		n++;
	run_to(e, SP_SEC(1));
	assert_int_equal(ctrv(e, "drop_ping_no_buffer"), 1);
	while (n > 0)
		pkt_free(hold[--n]);
	host_guard_reset(e->g);
	host_guard_stats(e->g, &st);
	assert_int_equal(st.tunnels, 1);
	assert_int_equal(st.tunnels_up, 0);
	assert_true(host_guard_next_deadline(e->g) == SP_TIME_NEVER);
	/* After the restart IKE brings the tunnel up again and it is tried as new. */
	ev(e, IKE_EV_IKE_UP, IKE_B, 0, 0, 0, 0);
	ev(e, IKE_EV_CHILD_UP, IKE_B, 0x1000, 0x2000, 0, 0);
	assert_int_equal(last(e, A_PING)->spi, 0x2000);
	/* A send refused by the data plane is counted. */
	e->fail_send = SP_EINVAL;
	run_to(e, e->now + c.pingtime);
	assert_int_equal(ctrv(e, "drop_ping_send_failed"), 1);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cfg_inequalities_name_the_numbers),
		cmocka_unit_test(cfg_read_keys_and_errors),
		cmocka_unit_test(client_first_epoch_waits_for_reply),
		cmocka_unit_test(client_rekey_switches_on_new_inbound),
		cmocka_unit_test(client_unanswered_pings_rekey),
		cmocka_unit_test(ping_jitter_spreads_waits),
		cmocka_unit_test(client_negotiation_timeouts_new_session),
		cmocka_unit_test(client_keepalive),
		cmocka_unit_test(client_switch_at_deadline),
		cmocka_unit_test(client_current_deleted),
		cmocka_unit_test(client_peer_rekey_is_tried),
		cmocka_unit_test(server_switches_on_ping_and_answers),
		cmocka_unit_test(udp_probe_both_ends),
		cmocka_unit_test(server_many_tunnels),
		cmocka_unit_test(reset_and_no_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
