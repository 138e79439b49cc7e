/* An LNS on a virtual network for the unit tests (lnsnet.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lnsnet.h"

void lnsnet_cfg(struct l2tp_lns_cfg *cfg, const char *user, const char *password, uint32_t addr)
{
	l2tp_lns_cfg_defaults(cfg);
	memcpy(cfg->l2tp.secret, "tunnel", 6);
	cfg->l2tp.secret_len = 6;
	snprintf(cfg->users[0].name, PPP_NAME_MAX, "%s", user);
	assert_true(strlen(password) <= sizeof(cfg->users[0].secret));
	memcpy(cfg->users[0].secret, password, strlen(password));
	cfg->users[0].secret_len = strlen(password);
	cfg->users[0].addr = addr;
	cfg->nusers = 1;
	cfg->gw[0] = LNSNET_GW;
	cfg->gw_plen[0] = 32;
	cfg->ngw = 1;
}

void lnsnet_send(struct lnsnet *n, enum lnsnet_to to, uint32_t src, uint16_t sport, uint32_t dst,
		 uint16_t dport, const uint8_t *b, size_t len)
{
	struct lnsnet_dg *d;

	assert_true(n->qn < LNSNET_QN);
	d = &n->q[n->qn++];
	assert_true(len <= sizeof(d->b));
	d->to = to;
	d->src = src;
	d->sport = sport;
	d->dst = dst;
	d->dport = dport;
	d->len = (uint16_t)len;
	memcpy(d->b, b, len);
}

static void lns_send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *b, size_t len)
{
	lnsnet_send(arg, LNSNET_TO_TEST, LNSNET_LNS, L2TP_PORT, addr, port, b, len);
}

static void lns_send_net(void *arg, const uint8_t *b, size_t len)
{
	struct lnsnet *n = arg;

	n->ops.net_out(n->ops.arg, b, len);
}

void lnsnet_init(struct lnsnet *n, const struct l2tp_lns_cfg *cfg, uint64_t seed,
		 const struct lnsnet_ops *ops)
{
	struct l2tp_lns_ops lo = { .send_udp = lns_send_udp, .send_net = lns_send_net, .arg = n };

	n->ops = *ops;
	sp_xoshiro_seed(&n->rng, seed);
	assert_int_equal(l2tp_lns_new(&n->lns, cfg, &lo, &n->rng.rng, NULL), 0);
}

void lnsnet_fini(struct lnsnet *n)
{
	l2tp_lns_free(n->lns);
	n->lns = NULL;
}

/* What the LNS gets on its UDP side: L2TP, or discovery answered from STUN_PORT. */
static void lns_input(struct lnsnet *n, const struct lnsnet_dg *d)
{
	uint8_t ob[PKT_HEADROOM + 1600];
	struct pkt out;

	if (d->dport != STUN_PORT) {
		l2tp_lns_udp_input(n->lns, n->now, d->src, d->sport, d->b, d->len);
		return;
	}
	if (n->block_stun)
		return;
	pkt_init(&out, ob, sizeof(ob), PKT_HEADROOM);
	if (l2tp_lns_disc_input(n->lns, n->now, LNSNET_LNS, STUN_PORT, d->src, d->sport, d->b,
				d->len, &out) == 0)
		lnsnet_send(n, LNSNET_TO_TEST, LNSNET_LNS, STUN_PORT, d->src, d->sport,
			    pkt_data(&out), out.len);
}

static void deliver(struct lnsnet *n, const struct lnsnet_dg *d)
{
	switch (d->to) {
	case LNSNET_TO_LNS:
		if (!n->lns_dead)
			lns_input(n, d);
		return;
	case LNSNET_TO_LNS_NET:
		if (!n->lns_dead)
			l2tp_lns_net_input(n->lns, n->now, d->b, d->len);
		return;
	case LNSNET_TO_TEST:
		n->ops.deliver(n->ops.arg, d);
		return;
	}
	fail_msg("datagram to nowhere");
}

void lnsnet_run(struct lnsnet *n, sp_time until)
{
	for (;;) {
		while (n->qn > 0) {
			struct lnsnet_dg d = n->q[0];

			memmove(n->q, n->q + 1, (size_t)(n->qn - 1) * sizeof(n->q[0]));
			n->qn--;
			deliver(n, &d);
		}
		sp_time t = sp_time_min(l2tp_lns_next_deadline(n->lns),
					n->ops.next_deadline(n->ops.arg));

		if (t > until) {
			n->now = until;
			return;
		}
		if (t > n->now)
			n->now = t;
		l2tp_lns_tick(n->lns, n->now);
		n->ops.tick(n->ops.arg, n->now);
	}
}
