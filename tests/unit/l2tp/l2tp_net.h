/*
 * A little network for the L2TP and PPP unit tests: node 0 is an LNS, nodes 1.. are LACs,
 * each a struct l2tp; datagrams queue in one FIFO and a filter may drop, duplicate or
 * hold back (reorder) any of them. Time is virtual: run_until() delivers what is queued,
 * then jumps to the next deadline.
 */
#ifndef TEST_L2TP_NET_H
#define TEST_L2TP_NET_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/cursor.h"
#include "l2tp/l2tp.h"
#include "proto/l2tp.h"

#define NET_NODES 8
#define NET_Q	  512

enum verdict { PASS, DROP, DUP, HOLD };

struct dgram {
	int from, to;
	uint8_t b[1600];
	size_t len;
};

struct net;

struct node {
	struct net *net;
	int id;
	uint32_t addr;
	struct l2tp *l;
	int tun_up, tun_down, sess_up, sess_down;
	uint16_t last_down_result;
	sp_time up_at, down_at;
	struct l2tp_sess *last_sess;
	uint8_t data[1600];
	size_t data_len;
	int data_n;
	/* Optional hook for the PPP tests: PPP frames of data messages. */
	void (*on_data)(struct node *n, sp_time now, struct l2tp_sess *s, const uint8_t *p,
			size_t len);
	void *user;
};

struct net {
	struct node n[NET_NODES];
	int nn;
	struct dgram *q;
	int qn;
	struct dgram held;
	bool holding;
	sp_time now;
	struct sp_xoshiro rng;
	enum verdict (*filter)(struct net *net, const struct dgram *d, uint16_t type);
	void *farg;
	int sent_ctrl[NET_NODES]; /* non-ZLB control messages each node sent */
	sp_time sent_at[64];	  /* times of node 1's control messages */
	int nsent_at;
};

/* The message type of a datagram: L2TP_MSG_* for control (ZLB 0), 0xffff for data. */
static inline uint16_t dgram_type(const struct dgram *d)
{
	struct l2tp_hdr h;
	struct cur c, body;
	uint16_t t;

	cur_init(&c, d->b, d->len);
	if (l2tp_parse(&c, &h) != 0 || !l2tp_is_control(&h))
		return 0xffff;
	if (cur_get_sub(&c, h.l2tp_plen, &body) != 0 || l2tp_ctrl_msg_type(&body, &t) != 0)
		return 0xfffe;
	return t;
}

static inline void net_deliver(struct net *net, const struct dgram *d)
{
	struct node *to = &net->n[d->to];

	l2tp_input(to->l, net->now, net->n[d->from].addr, L2TP_PORT, d->b, d->len);
}

static inline void n_send(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	struct node *me = arg;
	struct net *net = me->net;
	struct dgram *d;
	int to = -1;
	uint16_t type;

	assert_int_equal(port, L2TP_PORT);
	for (int i = 0; i < net->nn; i++)
		if (net->n[i].addr == addr)
			to = i;
	assert_true(to >= 0);
	assert_true(net->qn < NET_Q);
	assert_true(len <= sizeof(d->b));
	d = &net->q[net->qn];
	d->from = me->id;
	d->to = to;
	memcpy(d->b, buf, len);
	d->len = len;
	type = dgram_type(d);
	if (type != 0 && type < 0xfffe) {
		net->sent_ctrl[me->id]++;
		if (me->id == 1 && net->nsent_at < 64)
			net->sent_at[net->nsent_at++] = net->now;
	}
	switch (net->filter != NULL ? net->filter(net, d, type) : PASS) {
	case PASS:
		net->qn++;
		break;
	case DROP:
		break;
	case DUP:
		net->q[net->qn + 1] = *d;
		net->qn += 2;
		break;
	case HOLD:
		assert_false(net->holding);
		net->held = *d;
		net->holding = true;
		break;
	}
}

static inline void n_tup(void *arg, sp_time now, struct l2tp_tunnel *t)
{
	struct node *me = arg;

	(void)t;
	me->tun_up++;
	me->up_at = now;
}

static inline void n_tdown(void *arg, sp_time now, struct l2tp_tunnel *t, uint16_t result)
{
	struct node *me = arg;

	(void)t;
	me->tun_down++;
	me->down_at = now;
	me->last_down_result = result;
}

static inline void n_sup(void *arg, sp_time now, struct l2tp_sess *s)
{
	struct node *me = arg;

	(void)now;
	me->sess_up++;
	me->last_sess = s;
}

static inline void n_sdown(void *arg, sp_time now, struct l2tp_sess *s, uint16_t result)
{
	struct node *me = arg;

	(void)now;
	(void)s;
	(void)result;
	me->sess_down++;
}

static inline void n_data(void *arg, sp_time now, struct l2tp_sess *s, const uint8_t *p, size_t len)
{
	struct node *me = arg;

	me->data_n++;
	me->data_len = SP_MIN(len, sizeof(me->data));
	memcpy(me->data, p, me->data_len);
	if (me->on_data != NULL)
		me->on_data(me, now, s, p, len);
}

static inline void node_make(struct net *net, int id, const struct l2tp_cfg *cfg)
{
	struct node *n = &net->n[id];
	struct l2tp_ops ops = {
		.send = n_send,
		.tunnel_up = n_tup,
		.tunnel_down = n_tdown,
		.session_up = n_sup,
		.session_down = n_sdown,
		.data = n_data,
		.arg = n,
	};

	n->net = net;
	n->id = id;
	n->addr = 0x0a000001u + (uint32_t)id;
	assert_int_equal(l2tp_new(&n->l, cfg, &ops, &net->rng.rng, NULL), 0);
	if (id >= net->nn)
		net->nn = id + 1;
}

/* An LNS (node 0) and nlac LACs with the same secret ("" for none). */
static inline struct net *net_new(int nlac, const char *secret)
{
	struct net *net = calloc(1, sizeof(*net));
	struct l2tp_cfg c;

	assert_non_null(net);
	net->q = calloc(NET_Q, sizeof(*net->q));
	assert_non_null(net->q);
	sp_xoshiro_seed(&net->rng, 4);
	l2tp_cfg_defaults(&c);
	c.secret_len = strlen(secret);
	memcpy(c.secret, secret, c.secret_len);
	c.lns = true;
	snprintf(c.hostname, sizeof(c.hostname), "lns");
	node_make(net, 0, &c);
	c.lns = false;
	for (int i = 1; i <= nlac; i++) {
		snprintf(c.hostname, sizeof(c.hostname), "lac%d", i);
		node_make(net, i, &c);
	}
	return net;
}

static inline void net_free(struct net *net)
{
	for (int i = 0; i < net->nn; i++)
		l2tp_free(net->n[i].l);
	free(net->q);
	free(net);
}

/* Deliver everything queued (and what that sends), then advance to deadlines until t. */
static inline void run_until(struct net *net, sp_time t)
{
	for (;;) {
		while (net->qn > 0) {
			struct dgram d = net->q[0];

			memmove(net->q, net->q + 1, (size_t)(net->qn - 1) * sizeof(*net->q));
			net->qn--;
			net_deliver(net, &d);
			/* A held datagram goes after the one that overtook it. */
			if (net->holding && net->qn == 0) {
				net->holding = false;
				net_deliver(net, &net->held);
			}
		}
		if (net->holding) {
			net->holding = false;
			net_deliver(net, &net->held);
			continue;
		}
		sp_time d = SP_TIME_NEVER;

		for (int i = 0; i < net->nn; i++)
			d = sp_time_min(d, l2tp_next_deadline(net->n[i].l));
		if (d > t) {
			net->now = t;
			return;
		}
		if (d > net->now)
			net->now = d;
		for (int i = 0; i < net->nn; i++)
			l2tp_tick(net->n[i].l, net->now);
	}
}

static inline uint64_t ctr(const struct node *n, enum l2tp_ctr c)
{
	return l2tp_ctr(n->l, c);
}

#endif
