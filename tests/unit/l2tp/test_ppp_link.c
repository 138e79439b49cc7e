/*
 * The userspace PPP link: CHAP-MD5 and L2TP challenge-response vectors, a server and a
 * client negotiating LCP, CHAP or PAP and IPCP over a virtual wire (losses included), IPv4
 * both ways with the server refusing spoofed sources, a scripted peer that asks for
 * compression (PFC, ACFC, Van Jacobson, CCP) and is refused each time, the magic-number
 * loop check, and the echo keepalive taking a silent link down.
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
#include "l2tp/l2tp.h"
#include "l2tp/ppp_link.h"
#include "proto/ppp.h"

#define QN 256

struct frame {
	int to;
	uint8_t b[1600];
	size_t len;
};

struct end {
	struct ppp_link k;
	int id;
	int up, down;
	uint32_t local, peer;
	int ip_n;
	uint8_t ip[1600];
	size_t ip_len;
	const char *why;
};

struct wire {
	struct end e[2]; /* 0 server, 1 client */
	struct frame q[QN];
	int qn;
	sp_time now;
	struct sp_xoshiro rng;
	struct ppp_stats st;
	struct ppp_user users[2];
	int drop_to[2]; /* frames to drop towards each end, in a row */
	bool cut[2];	/* drop everything towards the end */
	struct frame last[2];
};

static void w_send(void *arg, struct pkt *p)
{
	struct end *me = arg;
	struct wire *w = (struct wire *)((char *)(me - me->id) - offsetof(struct wire, e));
	int to = 1 - me->id;

	assert_true(p->len <= sizeof(w->q[0].b));
	w->last[to].to = to;
	memcpy(w->last[to].b, pkt_data(p), p->len);
	w->last[to].len = p->len;
	if (w->cut[to])
		return;
	if (w->drop_to[to] > 0) {
		w->drop_to[to]--;
		return;
	}
	assert_true(w->qn < QN);
	w->q[w->qn].to = to;
	memcpy(w->q[w->qn].b, pkt_data(p), p->len);
	w->q[w->qn].len = p->len;
	w->qn++;
}

static void w_up(void *arg, sp_time now, uint32_t local, uint32_t peer)
{
	struct end *me = arg;

	(void)now;
	me->up++;
	me->local = local;
	me->peer = peer;
}

static void w_down(void *arg, sp_time now, const char *why)
{
	struct end *me = arg;

	(void)now;
	me->down++;
	me->why = why;
}

static void w_ip(void *arg, sp_time now, const uint8_t *b, size_t len)
{
	struct end *me = arg;

	(void)now;
	me->ip_n++;
	me->ip_len = SP_MIN(len, sizeof(me->ip));
	memcpy(me->ip, b, me->ip_len);
}

static struct wire *wire_new(enum ppp_auth auth, const char *client_pw)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct ppp_cfg c;
	struct ppp_ops ops = { .send = w_send, .up = w_up, .down = w_down, .ip = w_ip };

	assert_non_null(w);
	sp_xoshiro_seed(&w->rng, 7);
	ppp_stats_init(&w->st, NULL);
	snprintf(w->users[0].name, PPP_NAME_MAX, "alice");
	memcpy(w->users[0].secret, "wonderland", 10);
	w->users[0].secret_len = 10;
	snprintf(w->users[1].name, PPP_NAME_MAX, "bob");
	memcpy(w->users[1].secret, "builder", 7);
	w->users[1].secret_len = 7;

	ppp_cfg_defaults(&c);
	c.server = true;
	c.auth = auth;
	c.users = w->users;
	c.nusers = 2;
	c.local_addr = SP_IP4(10, 99, 0, 1);
	c.peer_addr = SP_IP4(10, 99, 0, 23);
	w->e[0].id = 0;
	ops.arg = &w->e[0];
	ppp_link_init(&w->e[0].k, &c, &ops, &w->rng.rng, NULL, &w->st);

	ppp_cfg_defaults(&c);
	snprintf(c.user, PPP_NAME_MAX, "alice");
	c.password_len = strlen(client_pw);
	memcpy(c.password, client_pw, c.password_len);
	w->e[1].id = 1;
	ops.arg = &w->e[1];
	ppp_link_init(&w->e[1].k, &c, &ops, &w->rng.rng, NULL, &w->st);
	return w;
}

static void run(struct wire *w, sp_time until)
{
	for (;;) {
		while (w->qn > 0) {
			struct frame f = w->q[0];

			memmove(w->q, w->q + 1, (size_t)(w->qn - 1) * sizeof(w->q[0]));
			w->qn--;
			ppp_link_input(&w->e[f.to].k, w->now, f.b, f.len);
		}
		sp_time d = sp_time_min(ppp_link_next_deadline(&w->e[0].k),
					ppp_link_next_deadline(&w->e[1].k));
		if (d > until) {
			w->now = until;
			return;
		}
		if (d > w->now)
			w->now = d;
		ppp_link_tick(&w->e[0].k, w->now);
		ppp_link_tick(&w->e[1].k, w->now);
	}
}

static void open_both(struct wire *w)
{
	ppp_link_open(&w->e[0].k, w->now);
	ppp_link_open(&w->e[1].k, w->now);
	run(w, w->now + SP_SEC(30));
}

static uint64_t pc(const struct wire *w, enum ppp_ctr c)
{
	return w->st.v[c];
}

/* Hash values computed independently (Python hashlib) over the RFC 1994 4.1 and RFC 2661
 * 5.1.1 concatenations. */
static void chap_vectors(void **state)
{
	uint8_t chal[16], out[16];
	const uint8_t want_chap[16] = { 0x51, 0xb4, 0xc7, 0x5f, 0x26, 0x14, 0x78, 0xf6,
					0x7e, 0x37, 0xe4, 0x29, 0x44, 0x0e, 0x29, 0x4d };
	const uint8_t want_l2tp[16] = { 0xda, 0x2d, 0x24, 0x8d, 0x28, 0x6f, 0xc3, 0xc6,
					0x0a, 0x0c, 0x6e, 0x50, 0xd2, 0xa3, 0x9f, 0x6f };

	(void)state;
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	ppp_chap_md5(1, (const uint8_t *)"password", 8, chal, 16, out);
	assert_memory_equal(out, want_chap, 16);
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)(16 + i);
	l2tp_chal_response(2, (const uint8_t *)"tunnelsecret", 12, chal, 16, out);
	assert_memory_equal(out, want_l2tp, 16);
}

static void send_ip(struct wire *w, int from, uint32_t src, uint32_t dst)
{
	uint8_t buf[PKT_HEADROOM + 64];
	struct pkt p;
	uint8_t *b;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	assert_non_null(b = pkt_put(&p, 20));
	memset(b, 0, 20);
	b[0] = 0x45;
	sp_store_be16(b + 2, 20);
	sp_store_be32(b + 12, src);
	sp_store_be32(b + 16, dst);
	assert_int_equal(ppp_link_send_ip(&w->e[from].k, &p), 0);
	run(w, w->now);
}

static void chap_negotiation_assigns_address(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_CHAP, "wonderland");

	(void)state;
	open_both(w);
	assert_int_equal(w->e[0].up, 1);
	assert_int_equal(w->e[1].up, 1);
	assert_int_equal(w->e[1].local, SP_IP4(10, 99, 0, 23));
	assert_int_equal(w->e[1].peer, SP_IP4(10, 99, 0, 1));
	assert_int_equal(w->e[0].peer, SP_IP4(10, 99, 0, 23));
	assert_string_equal(w->e[0].k.peer_name, "alice");
	assert_int_equal(pc(w, PPP_CTR_AUTH_OK), 2); /* server and client each */
	assert_int_equal(w->e[1].k.peer_mru, PPP_MRU_DEFAULT);
	/* IPv4 both ways; the server refuses a source it did not assign. */
	send_ip(w, 1, SP_IP4(10, 99, 0, 23), SP_IP4(192, 0, 2, 1));
	assert_int_equal(w->e[0].ip_n, 1);
	assert_int_equal(sp_load_be32(w->e[0].ip + 16), SP_IP4(192, 0, 2, 1));
	send_ip(w, 0, SP_IP4(192, 0, 2, 1), SP_IP4(10, 99, 0, 23));
	assert_int_equal(w->e[1].ip_n, 1);
	send_ip(w, 1, SP_IP4(10, 99, 0, 99), SP_IP4(192, 0, 2, 1));
	assert_int_equal(w->e[0].ip_n, 1);
	assert_int_equal(pc(w, PPP_CTR_DROP_IP_SPOOFED), 1);
	/* Echo keeps it up while both answer. */
	run(w, w->now + SP_SEC(120));
	assert_true(pc(w, PPP_CTR_ECHO_TX) >= 20);
	assert_int_equal(w->e[0].down + w->e[1].down, 0);
	free(w);
}

static void pap_and_losses(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_PAP, "wonderland");

	(void)state;
	w->drop_to[0] = 2; /* the client's first Configure-Request and Ack are lost */
	w->drop_to[1] = 1;
	open_both(w);
	assert_int_equal(w->e[0].up, 1);
	assert_int_equal(w->e[1].up, 1);
	assert_int_equal(w->e[1].local, SP_IP4(10, 99, 0, 23));
	assert_int_equal(w->e[1].k.auth_them, PPP_AUTH_PAP);
	free(w);
}

static void wrong_password_fails(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_CHAP, "guess");

	(void)state;
	open_both(w);
	assert_int_equal(w->e[0].up + w->e[1].up, 0);
	assert_int_equal(w->e[0].down, 1);
	assert_int_equal(w->e[1].down, 1);
	assert_int_equal(pc(w, PPP_CTR_AUTH_FAILED), 2);
	assert_string_equal(w->e[0].why, "peer failed authentication");
	free(w);

	w = wire_new(PPP_AUTH_PAP, "guess");
	open_both(w);
	assert_int_equal(w->e[0].up + w->e[1].up, 0);
	assert_int_equal(pc(w, PPP_CTR_AUTH_FAILED), 2);
	free(w);
}

/* Frames to the server from a scripted client. */
static void to_server(struct wire *w, uint16_t proto, uint8_t code, uint8_t id, const uint8_t *data,
		      uint16_t len)
{
	uint8_t buf[PKT_HEADROOM + 256];
	struct pkt p;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	assert_int_equal(pkt_append(&p, data, len), 0);
	assert_int_equal(ppp_cp_build(&p, code, id), 0);
	assert_int_equal(ppp_build(&p, proto, true), 0);
	ppp_link_input(&w->e[0].k, w->now, pkt_data(&p), p.len);
}

/* The server's last frame: protocol, code, id and data. */
static void last_from_server(struct wire *w, uint16_t *proto, struct ppp_cp *cp)
{
	struct ppp_hdr h;
	struct cur c;

	cur_init(&c, w->last[1].b, w->last[1].len);
	assert_int_equal(ppp_parse(&c, &h), 0);
	*proto = h.ppp_proto;
	assert_int_equal(ppp_cp_parse(&c, cp), 0);
}

static void peer_asking_for_compression_is_refused(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_CHAP, "x");
	const uint8_t lcp_comp[] = { 1, 4, 0x05, 0xdc, 5, 6, 0x11, 0x22, 0x33, 0x44, 7, 2, 8, 2 };
	const uint8_t lcp_ok[] = { 1, 4, 0x05, 0xdc, 5, 6, 0x11, 0x22, 0x33, 0x44 };
	const uint8_t ipcp_vj[] = { 2, 6, 0x00, 0x2d, 0x0f, 0x01, 3, 6, 0, 0, 0, 0 };
	const uint8_t ipcp_zero[] = { 3, 6, 0, 0, 0, 0 };
	const uint8_t ipcp_asg[] = { 3, 6, 10, 99, 0, 23 };
	const uint8_t ccp_req[] = { 0x11, 6, 0, 0, 0, 4 }; /* Stac LZS, say */
	uint8_t resp[1 + 16 + 5], srv_id;
	struct ppp_cp cp;
	uint16_t proto;

	(void)state;
	w->cut[1] = true; /* the scripted client reads w->last[1] instead */
	ppp_link_open(&w->e[0].k, w->now);
	last_from_server(w, &proto, &cp);
	assert_int_equal(proto, PPP_PROTO_LCP);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_REQ);
	srv_id = cp.cp_id;
	uint8_t srv_opts[64];
	uint16_t srv_len = (uint16_t)cur_left(&cp.cp_data);

	memcpy(srv_opts, cur_ptr(&cp.cp_data), srv_len);

	/* LCP: PFC and ACFC are rejected, the rest of the request is not in the reject. */
	to_server(w, PPP_PROTO_LCP, PPP_CP_CONF_REQ, 1, lcp_comp, sizeof(lcp_comp));
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_REJ);
	assert_int_equal(cp.cp_id, 1);
	assert_int_equal(cur_left(&cp.cp_data), 4);
	assert_memory_equal(cur_ptr(&cp.cp_data), "\x07\x02\x08\x02", 4);
	to_server(w, PPP_PROTO_LCP, PPP_CP_CONF_REQ, 2, lcp_ok, sizeof(lcp_ok));
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_ACK);
	/* An Ack that is not exactly the request is refused (RFC 1661 5.2). */
	to_server(w, PPP_PROTO_LCP, PPP_CP_CONF_ACK, srv_id, (const uint8_t *)"", 0);
	assert_int_equal(pc(w, PPP_CTR_DROP_MALFORMED), 1);
	/* Ack the server's request (its options: MRU, CHAP-MD5, magic). */
	to_server(w, PPP_PROTO_LCP, PPP_CP_CONF_ACK, srv_id, srv_opts, srv_len);
	last_from_server(w, &proto, &cp);
	assert_int_equal(proto, PPP_PROTO_CHAP);
	assert_int_equal(cp.cp_code, 1);
	/* Answer the challenge as bob. */
	resp[0] = 16;
	{
		struct cur c = cp.cp_data;
		uint8_t vs;
		const uint8_t *val;

		assert_int_equal(cur_get_u8(&c, &vs), 0);
		assert_int_equal(vs, 16);
		assert_int_equal(cur_get_ptr(&c, 16, &val), 0);
		ppp_chap_md5(cp.cp_id, (const uint8_t *)"builder", 7, val, 16, resp + 1);
		memcpy(resp + 17, "bob", 3);
	}
	to_server(w, PPP_PROTO_CHAP, 2, cp.cp_id, resp, 20);
	/* Success, then the server's IPCP request. */
	last_from_server(w, &proto, &cp);
	assert_int_equal(proto, PPP_PROTO_IPCP);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_REQ);
	srv_id = cp.cp_id;
	srv_len = (uint16_t)cur_left(&cp.cp_data);
	memcpy(srv_opts, cur_ptr(&cp.cp_data), srv_len);

	/* IPCP: Van Jacobson compression is rejected, alone. */
	to_server(w, PPP_PROTO_IPCP, PPP_CP_CONF_REQ, 1, ipcp_vj, sizeof(ipcp_vj));
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_REJ);
	assert_int_equal(cur_left(&cp.cp_data), 6);
	assert_int_equal(cur_ptr(&cp.cp_data)[0], 2);
	/* CCP: not spoken here at all, LCP Protocol-Reject. */
	to_server(w, 0x80fd, PPP_CP_CONF_REQ, 1, ccp_req, sizeof(ccp_req));
	last_from_server(w, &proto, &cp);
	assert_int_equal(proto, PPP_PROTO_LCP);
	assert_int_equal(cp.cp_code, PPP_CP_PROTO_REJ);
	assert_int_equal(sp_load_be16(cur_ptr(&cp.cp_data)), 0x80fd);
	assert_int_equal(pc(w, PPP_CTR_REJ_COMPRESSION), 4);
	/* IP-Address 0.0.0.0 is Nak'ed with the assigned address, which is then acked. */
	to_server(w, PPP_PROTO_IPCP, PPP_CP_CONF_REQ, 2, ipcp_zero, sizeof(ipcp_zero));
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_NAK);
	assert_memory_equal(cur_ptr(&cp.cp_data), ipcp_asg, 6);
	to_server(w, PPP_PROTO_IPCP, PPP_CP_CONF_REQ, 3, ipcp_asg, sizeof(ipcp_asg));
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_ACK);
	to_server(w, PPP_PROTO_IPCP, PPP_CP_CONF_ACK, srv_id, srv_opts, srv_len);
	assert_int_equal(w->e[0].up, 1);
	assert_string_equal(w->e[0].k.peer_name, "bob");
	free(w);
}

static void looped_magic_is_naked(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_CHAP, "x");
	uint8_t req[6] = { 5, 6 };
	struct ppp_cp cp;
	uint16_t proto;

	(void)state;
	w->cut[1] = true;
	ppp_link_open(&w->e[0].k, w->now);
	sp_store_be32(req + 2, w->e[0].k.magic);
	to_server(w, PPP_PROTO_LCP, PPP_CP_CONF_REQ, 9, req, 6);
	last_from_server(w, &proto, &cp);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_NAK);
	assert_int_not_equal(sp_load_be32(cur_ptr(&cp.cp_data) + 2), w->e[0].k.magic);
	assert_int_equal(pc(w, PPP_CTR_DROP_LOOPED), 1);
	/* Never answered: LCP gives up after Max-Configure requests. */
	run(w, SP_SEC(60));
	assert_int_equal(w->e[0].down, 1);
	assert_string_equal(w->e[0].why, "LCP negotiation timed out");
	free(w);
}

static void silent_peer_is_found_by_echo(void **state)
{
	struct wire *w = wire_new(PPP_AUTH_CHAP, "wonderland");
	sp_time t0;

	(void)state;
	open_both(w);
	assert_int_equal(w->e[0].up, 1);
	t0 = w->now;
	w->cut[1] = true; /* the client vanishes */
	w->cut[0] = true;
	run(w, w->now + SP_SEC(60));
	assert_int_equal(w->e[0].down, 1);
	assert_string_equal(w->e[0].why, "peer does not answer LCP echo");
	assert_true(pc(w, PPP_CTR_ECHO_LOST) >= 1);
	/* Three unanswered echoes 10 s apart, noticed at the fourth interval. */
	assert_true(w->now - t0 >= SP_SEC(30));
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chap_vectors),
		cmocka_unit_test(chap_negotiation_assigns_address),
		cmocka_unit_test(pap_and_losses),
		cmocka_unit_test(wrong_password_fails),
		cmocka_unit_test(peer_asking_for_compression_is_refused),
		cmocka_unit_test(looped_magic_is_naked),
		cmocka_unit_test(silent_peer_is_found_by_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
