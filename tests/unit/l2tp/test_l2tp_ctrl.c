/*
 * L2TPv2 control connections (RFC 2661) between an LNS and LACs on a lossy virtual
 * network: establishment with tunnel authentication (5.1.1), reliable delivery under loss,
 * duplication and reordering (5.8), the retransmission schedule, peer restarts, HELLO,
 * CDN and StopCCN, unknown mandatory AVPs (4.1), many tunnels and sessions.
 */
#include "l2tp_net.h"

#include "crypto/digest.h"

/* LAC lac dials the LNS (node 0). */
static void open_tunnel(struct net *net, int lac, struct l2tp_tunnel **t)
{
	assert_int_equal(l2tp_tunnel_open(net->n[lac].l, net->now, net->n[0].addr, L2TP_PORT, t),
			 0);
}

static void up_one(struct net *net, int lac, struct l2tp_tunnel **t, struct l2tp_sess **s)
{
	open_tunnel(net, lac, t);
	assert_int_equal(l2tp_session_open(net->n[lac].l, net->now, *t, s), 0);
	run_until(net, net->now + SP_SEC(40));
}

/* Node id starts again from configuration c (a restart with other settings). */
static void node_remake(struct net *net, int id, const struct l2tp_cfg *c)
{
	l2tp_free(net->n[id].l);
	node_make(net, id, c);
}

/*
 * Most tests start here: an LNS with the secret and one LAC (lac: its own configuration;
 * NULL: the defaults with the LNS's secret) on a wire with filter f (NULL passes all); the
 * LAC opens a tunnel and a session in it, and 40 s pass.
 */
static struct net *lac_up(const char *secret, const struct l2tp_cfg *lac,
			  enum verdict (*f)(struct net *net, const struct dgram *d, uint16_t type),
			  struct l2tp_tunnel **t, struct l2tp_sess **s)
{
	struct net *net = net_new(1, secret);

	if (lac != NULL)
		node_remake(net, 1, lac);
	net->filter = f;
	up_one(net, 1, t, s);
	return net;
}

/* Both ends count one tunnel and one session up. */
static void assert_one_up(const struct net *net)
{
	assert_int_equal(net->n[0].tun_up, 1);
	assert_int_equal(net->n[1].tun_up, 1);
	assert_int_equal(net->n[0].sess_up, 1);
	assert_int_equal(net->n[1].sess_up, 1);
}

static void send_ppp(struct net *net, struct node *n, struct l2tp_sess *s, const char *txt)
{
	uint8_t buf[512];
	struct pkt p;

	pkt_init(&p, buf, sizeof(buf), 64);
	assert_int_equal(pkt_append(&p, txt, (uint32_t)strlen(txt)), 0);
	assert_int_equal(l2tp_send_data(n->l, s, &p), 0);
	run_until(net, net->now);
}

/* RFC 2661 5.1.1 builds the response as CHAP does (RFC 1994 4.1): MD5 over the one-octet
 * type, the secret and the challenge. Cross-checked with crypto_md5 over the same bytes. */
static void chal_response_is_chap_md5(void **state)
{
	const uint8_t chal[4] = { 1, 2, 3, 4 };
	uint8_t a[16], b[16], buf[1 + 6 + 4] = { 2, 's', 'e', 'c', 'r', 'e', 't', 1, 2, 3, 4 };
	struct crypto_piece pc = { buf, sizeof(buf) };

	(void)state;
	/* RFC 1321 A.5: MD5("abc"). */
	struct crypto_piece abc[2] = { { "a", 1 }, { "bc", 2 } };
	const uint8_t md5_abc[16] = { 0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
				      0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72 };

	crypto_md5(abc, 2, a);
	assert_memory_equal(a, md5_abc, 16);
	l2tp_chal_response(2, (const uint8_t *)"secret", 6, chal, 4, a);
	crypto_md5(&pc, 1, b);
	assert_memory_equal(a, b, 16);
	l2tp_chal_response(3, (const uint8_t *)"secret", 6, chal, 4, b);
	assert_memory_not_equal(a, b, 16);
}

static void establish_with_auth_and_data(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("s3cret", NULL, NULL, &t, &s);

	(void)state;
	assert_one_up(net);
	assert_int_equal(t->t_state, L2TP_T_UP);
	/* SCCRQ, SCCCN, ICRQ, ICCN from the LAC; SCCRP, ICRP from the LNS. */
	assert_int_equal(net->sent_ctrl[1], 4);
	assert_int_equal(net->sent_ctrl[0], 2);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_RETRANSMIT), 0);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_AUTH), 0);
	/* Data both ways, each on its peer's IDs. */
	send_ppp(net, &net->n[1], s, "\xff\x03\xc0\x21hello");
	assert_int_equal(net->n[0].data_n, 1);
	assert_memory_equal(net->n[0].data, "\xff\x03\xc0\x21hello", 9);
	send_ppp(net, &net->n[0], net->n[0].last_sess, "back");
	assert_int_equal(net->n[1].data_n, 1);
	assert_memory_equal(net->n[1].data, "back", 4);
	net_free(net);
}

static void wrong_secret_is_refused(void **state)
{
	struct net *net;
	struct l2tp_cfg c;
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;

	(void)state;
	l2tp_cfg_defaults(&c);
	memcpy(c.secret, "wrong", 5);
	c.secret_len = 5;
	net = lac_up("right", &c, NULL, &t, &s);
	/* The LAC checks the LNS's response first and stops with "not authorized". */
	assert_int_equal(net->n[1].tun_up, 0);
	assert_int_equal(net->n[0].tun_up, 0);
	assert_int_equal(ctr(&net->n[1], L2TP_CTR_DROP_AUTH), 1);
	assert_int_equal(net->n[1].last_down_result, L2TP_STOP_NOT_AUTH);

	/* A LAC without a secret cannot answer the LNS's challenge either. */
	l2tp_cfg_defaults(&c);
	node_remake(net, 1, &c);
	up_one(net, 1, &t, &s);
	assert_int_equal(net->n[0].tun_up, 0);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_AUTH), 1);
	assert_int_equal(net->n[1].sess_up, 0);
	net_free(net);
}

/* Drop the first SCCRP and the first ICCN. */
static enum verdict lose_some(struct net *net, const struct dgram *d, uint16_t type)
{
	static int sccrp, iccn;

	(void)net;
	(void)d;
	if (net->farg == NULL) {
		sccrp = iccn = 0;
		net->farg = &sccrp;
	}
	if (type == L2TP_MSG_SCCRP && sccrp++ == 0)
		return DROP;
	if (type == L2TP_MSG_ICCN && iccn++ == 0)
		return DROP;
	return PASS;
}

static void lost_messages_are_retransmitted(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("k", NULL, lose_some, &t, &s);

	(void)state;
	assert_one_up(net);
	/* SCCRP, and ICRP, which only the lost ICCN would have acknowledged. */
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_RETRANSMIT), 2);
	assert_int_equal(ctr(&net->n[1], L2TP_CTR_RETRANSMIT), 2); /* SCCRQ, ICCN */
	/* The SCCRQ repeated (its SCCRP was lost) is acknowledged, not a second tunnel. */
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_DUPLICATE), 1);
	assert_int_equal(net->n[0].tun_up, 1);
	net_free(net);
}

static enum verdict dup_all(struct net *net, const struct dgram *d, uint16_t type)
{
	(void)net;
	(void)d;
	return type < 0xfffe ? DUP : PASS;
}

static void duplicates_act_once(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("k", NULL, dup_all, &t, &s);

	(void)state;
	assert_one_up(net);
	assert_true(ctr(&net->n[0], L2TP_CTR_DROP_DUPLICATE) >= 3);
	assert_true(ctr(&net->n[1], L2TP_CTR_DROP_DUPLICATE) >= 2);
	for (uint32_t i = 0, n = 0; i < l2tp_max_tunnels(net->n[0].l); i++) {
		n += l2tp_tunnel_at(net->n[0].l, i)->t_state != L2TP_T_FREE;
		assert_true(n <= 1);
	}
	net_free(net);
}

/* Hold the first ICRQ back until the second one has passed it. */
static enum verdict swap_icrq(struct net *net, const struct dgram *d, uint16_t type)
{
	(void)d;
	if (type == L2TP_MSG_ICRQ && net->farg == NULL) {
		net->farg = net;
		return HOLD;
	}
	return PASS;
}

static void reordered_messages_are_delivered_in_order(void **state)
{
	struct net *net = net_new(1, "");
	struct l2tp_tunnel *t;
	struct l2tp_sess *s1, *s2;

	(void)state;
	open_tunnel(net, 1, &t);
	run_until(net, net->now + SP_SEC(5));
	assert_int_equal(net->n[1].tun_up, 1);
	net->filter = swap_icrq;
	assert_int_equal(l2tp_session_open(net->n[1].l, net->now, t, &s1), 0);
	assert_int_equal(l2tp_session_open(net->n[1].l, net->now, t, &s2), 0);
	run_until(net, net->now + SP_SEC(10));
	/* The second ICRQ arrived first and was discarded (5.8), and so was the first call's
	 * ICCN, which came after the gap; both were retransmitted. */
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_OUT_OF_ORDER), 2);
	assert_int_equal(net->n[0].sess_up, 2);
	assert_int_equal(net->n[1].sess_up, 2);
	assert_int_equal(s1->s_state, L2TP_S_UP);
	assert_int_equal(s2->s_state, L2TP_S_UP);
	assert_int_not_equal(s1->s_peer_sid, s2->s_peer_sid);
	net_free(net);
}

static enum verdict black_hole(struct net *net, const struct dgram *d, uint16_t type)
{
	(void)net;
	(void)type;
	return d->to == 0 ? DROP : PASS;
}

static void retransmission_schedule_and_give_up(void **state)
{
	struct net *net = net_new(1, "");
	struct l2tp_tunnel *t;
	struct l2tp_cfg c;
	const sp_time want[] = { 0, 1, 3, 7, 15, 23 }; /* 1 s doubling, capped at 8 s */

	(void)state;
	net->filter = black_hole;
	open_tunnel(net, 1, &t);
	run_until(net, SP_SEC(100));
	assert_int_equal(net->nsent_at, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(net->sent_at[i], SP_SEC(want[i]));
	assert_int_equal(net->n[1].tun_down, 1);
	assert_int_equal(net->n[1].last_down_result, L2TP_DOWN_SILENT);
	assert_int_equal(net->n[1].down_at, SP_SEC(31));
	assert_int_equal(ctr(&net->n[1], L2TP_CTR_TUNNEL_SILENT), 1);

	/* Configurable: two tries, 500 ms first, capped at 1 s. */
	l2tp_cfg_defaults(&c);
	c.rtx_tries = 2;
	c.rtx_initial = SP_MSEC(500);
	c.rtx_cap = SP_SEC(1);
	node_remake(net, 1, &c);
	net->n[1].tun_down = 0;
	net->nsent_at = 0;
	net->now = 0;
	open_tunnel(net, 1, &t);
	run_until(net, SP_SEC(100));
	assert_int_equal(net->nsent_at, 3);
	assert_int_equal(net->sent_at[1], SP_MSEC(500));
	assert_int_equal(net->sent_at[2], SP_MSEC(1500));
	assert_int_equal(net->n[1].down_at, SP_MSEC(2500));
	net_free(net);
}

static void lac_restart_replaces_its_tunnel(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("k", NULL, NULL, &t, &s);

	(void)state;
	assert_one_up(net);
	/* The LAC loses everything and dials again from the same address and port. */
	l2tp_reset(net->n[1].l, net->now);
	up_one(net, 1, &t, &s);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_PEER_RESTART), 1);
	assert_int_equal(net->n[0].sess_down, 1);
	assert_int_equal(net->n[0].tun_down, 1);
	assert_int_equal(net->n[0].tun_up, 2);
	assert_int_equal(net->n[0].sess_up, 2);
	assert_int_equal(s->s_state, L2TP_S_UP);
	net_free(net);
}

static void lns_restart_is_noticed_by_hello(void **state)
{
	struct net *net;
	struct l2tp_cfg c;
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;

	(void)state;
	l2tp_cfg_defaults(&c);
	c.hello = SP_SEC(10);
	net = lac_up("", &c, NULL, &t, &s);
	assert_one_up(net);
	/* Quiet for a while: HELLOs keep the tunnel; the LNS acknowledges them. */
	run_until(net, net->now + SP_SEC(60));
	assert_true(ctr(&net->n[1], L2TP_CTR_HELLO) >= 5);
	assert_int_equal(net->n[1].tun_down, 0);
	/* The LNS restarts: it knows the tunnel no more; the next HELLO goes unanswered. */
	l2tp_reset(net->n[0].l, net->now);
	sp_time t0 = net->now;
	run_until(net, net->now + SP_SEC(60));
	assert_int_equal(net->n[1].tun_down, 1);
	assert_int_equal(net->n[1].sess_down, 1);
	assert_int_equal(net->n[1].last_down_result, L2TP_DOWN_SILENT);
	assert_true(net->n[1].down_at - t0 <= SP_SEC(10 + 31));
	assert_true(ctr(&net->n[0], L2TP_CTR_DROP_UNKNOWN_TUNNEL) >= 1);
	net_free(net);
}

static void cdn_and_stopccn(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("k", NULL, NULL, &t, &s);

	(void)state;
	l2tp_session_close(net->n[1].l, net->now, s, L2TP_CDN_ADMIN);
	run_until(net, net->now + SP_SEC(2));
	assert_int_equal(net->n[0].sess_down, 1);
	assert_int_equal(net->n[1].sess_down, 1);
	l2tp_tunnel_close(net->n[1].l, net->now, t, L2TP_STOP_CLEAR);
	run_until(net, net->now + SP_SEC(2));
	assert_int_equal(net->n[0].tun_down, 1);
	assert_int_equal(net->n[0].last_down_result, L2TP_STOP_CLEAR);
	assert_int_equal(ctr(&net->n[1], L2TP_CTR_RETRANSMIT), 0); /* the StopCCN was acked */
	/* Both ends forget the tunnel after the linger time. */
	run_until(net, net->now + SP_SEC(60));
	for (uint32_t i = 0; i < l2tp_max_tunnels(net->n[0].l); i++)
		assert_int_equal(l2tp_tunnel_at(net->n[0].l, i)->t_state, L2TP_T_FREE);
	net_free(net);
}

static void unknown_mandatory_avp_clears_tunnel(void **state)
{
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	struct net *net = lac_up("", NULL, NULL, &t, &s);
	uint8_t buf[256];
	struct pkt p;

	(void)state;
	/* A HELLO with a vendor AVP marked mandatory, in sequence from the LAC. */
	pkt_init(&p, buf, sizeof(buf), 64);
	assert_int_equal(l2tp_avp_put_msg_type(&p, L2TP_MSG_HELLO), 0);
	assert_int_equal(l2tp_avp_put(&p, L2TP_AVP_F_M, 9, 1, "x", 1), 0);
	assert_int_equal(l2tp_build_ctrl(&p, t->t_peer_tid, 0, t->t_ns, t->t_nr), 0);
	l2tp_input(net->n[0].l, net->now, net->n[1].addr, L2TP_PORT, pkt_data(&p), p.len);
	run_until(net, net->now + SP_SEC(2));
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_UNKNOWN_MANDATORY), 1);
	assert_int_equal(net->n[0].tun_down, 1);
	assert_int_equal(net->n[1].tun_down, 1);
	assert_int_equal(net->n[1].last_down_result, L2TP_STOP_ERROR);
	net_free(net);
}

static void many_tunnels_and_limits(void **state)
{
	struct net *net = net_new(NET_NODES - 1, "");
	struct l2tp_cfg c;
	struct l2tp_tunnel *t[NET_NODES];
	struct l2tp_sess *s;

	(void)state;
	l2tp_cfg_defaults(&c);
	c.lns = true;
	c.max_tunnels = 5;
	c.max_sessions = 12;
	node_remake(net, 0, &c);
	/* Seven LACs, two sessions each: five tunnels fit, twelve sessions at most. */
	for (int i = 1; i < NET_NODES; i++) {
		open_tunnel(net, i, &t[i]);
		assert_int_equal(l2tp_session_open(net->n[i].l, 0, t[i], &s), 0);
		assert_int_equal(l2tp_session_open(net->n[i].l, 0, t[i], &s), 0);
	}
	run_until(net, SP_SEC(60));
	assert_int_equal(net->n[0].tun_up, 5);
	assert_true(ctr(&net->n[0], L2TP_CTR_DROP_NO_TUNNEL_SLOT) >= 2);
	assert_int_equal(net->n[0].sess_up, 10);
	/* Tunnel and session IDs are unique and data finds its session. */
	for (int i = 1; i < NET_NODES; i++) {
		if (net->n[i].sess_up == 0)
			continue;
		assert_int_equal(net->n[i].sess_up, 2);
		send_ppp(net, &net->n[i], net->n[i].last_sess, "x");
	}
	assert_int_equal(net->n[0].data_n, 5);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_UNKNOWN_SESSION), 0);
	/* Garbage and a wrong version are counted. */
	l2tp_input(net->n[0].l, net->now, 1, 1, (const uint8_t *)"\x00\x03\x00\x01\x00\x01", 6);
	l2tp_input(net->n[0].l, net->now, 1, 1, (const uint8_t *)"\xc8", 1);
	l2tp_input(net->n[0].l, net->now, 1, 1, (const uint8_t *)"\x00\x02\x77\x77\x00\x01", 6);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_VERSION), 1);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_MALFORMED), 1);
	assert_int_equal(ctr(&net->n[0], L2TP_CTR_DROP_UNKNOWN_TUNNEL), 1);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chal_response_is_chap_md5),
		cmocka_unit_test(establish_with_auth_and_data),
		cmocka_unit_test(wrong_secret_is_refused),
		cmocka_unit_test(lost_messages_are_retransmitted),
		cmocka_unit_test(duplicates_act_once),
		cmocka_unit_test(reordered_messages_are_delivered_in_order),
		cmocka_unit_test(retransmission_schedule_and_give_up),
		cmocka_unit_test(lac_restart_replaces_its_tunnel),
		cmocka_unit_test(lns_restart_is_noticed_by_hello),
		cmocka_unit_test(cdn_and_stopccn),
		cmocka_unit_test(unknown_mandatory_avp_clears_tunnel),
		cmocka_unit_test(many_tunnels_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
