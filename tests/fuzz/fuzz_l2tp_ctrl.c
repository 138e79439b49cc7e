/*
 * The L2TP control engine (src/l2tp/l2tp.c), LNS and LAC together: the input is a script
 * run against a live exchange between them. Each op byte delivers, drops, duplicates or
 * corrupts the next datagram in flight, advances the clock, injects raw bytes at the LNS,
 * or has the LAC open or close sessions or restart. Whatever happens, every datagram
 * either end sends is a well-formed L2TPv2 message, tables stay within their limits and
 * nothing leaks.
 */
#include "fuzz.h"

#include "base/rand.h"
#include "l2tp/l2tp.h"
#include "proto/l2tp.h"

#include <string.h>

#define LNS_ADDR 0x0a000001u
#define LAC_ADDR 0x0a000002u
#define QMAX	 64

struct dg {
	uint8_t to; /* 0 LNS, 1 LAC */
	uint16_t len;
	uint8_t b[1100];
};

static struct dg q[QMAX];
static unsigned qn;
static struct l2tp *ends[2];

static void check_sent(const uint8_t *buf, size_t len)
{
	struct l2tp_hdr h;
	struct cur c, body;
	uint16_t type;

	cur_init(&c, buf, len);
	FUZZ_CHECK(l2tp_parse(&c, &h) == 0 && h.l2tp_hlen + h.l2tp_plen == len);
	if (l2tp_is_control(&h)) {
		FUZZ_CHECK(cur_get_sub(&c, h.l2tp_plen, &body) == 0);
		FUZZ_CHECK(l2tp_ctrl_msg_type(&body, &type) == 0);
	}
}

static void op_send(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	(void)arg;
	FUZZ_CHECK(port == L2TP_PORT && (addr == LNS_ADDR || addr == LAC_ADDR));
	check_sent(buf, len);
	if (qn == QMAX || len > sizeof(q[0].b))
		return;
	q[qn].to = addr == LNS_ADDR ? 0 : 1;
	q[qn].len = (uint16_t)len;
	memcpy(q[qn].b, buf, len);
	qn++;
}

static void deliver(sp_time now, const struct dg *d)
{
	l2tp_input(ends[d->to], now, d->to == 0 ? LAC_ADDR : LNS_ADDR, L2TP_PORT, d->b, d->len);
}

static struct dg pop(void)
{
	struct dg d = q[0];

	memmove(q, q + 1, (qn - 1) * sizeof(q[0]));
	qn--;
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_xoshiro rng;
	struct l2tp_cfg c;
	struct l2tp_ops ops = { .send = op_send };
	struct l2tp_tunnel *t = NULL;
	struct l2tp_sess *s;
	struct cur in;
	sp_time now = 0;
	uint8_t op, a, b;

	sp_xoshiro_seed(&rng, 1);
	qn = 0;
	l2tp_cfg_defaults(&c);
	c.lns = true;
	c.max_tunnels = 4;
	c.max_sessions = 8;
	memcpy(c.secret, "fuzz", 4);
	c.secret_len = 4;
	FUZZ_CHECK(l2tp_new(&ends[0], &c, &ops, &rng.rng, NULL) == 0);
	c.lns = false;
	FUZZ_CHECK(l2tp_new(&ends[1], &c, &ops, &rng.rng, NULL) == 0);
	FUZZ_CHECK(l2tp_tunnel_open(ends[1], now, LNS_ADDR, L2TP_PORT, &t) == 0);
	FUZZ_CHECK(l2tp_session_open(ends[1], now, t, &s) == 0);

	cur_init(&in, data, size);
	while (cur_get_u8(&in, &op) == 0) {
		struct dg d;

		switch (op % 10) {
		case 0: /* deliver */
		case 1:
			if (qn > 0) {
				d = pop();
				deliver(now, &d);
			}
			break;
		case 2: /* drop */
			if (qn > 0)
				(void)pop();
			break;
		case 3: /* duplicate */
			if (qn > 0) {
				d = q[0];
				deliver(now, &d);
			}
			break;
		case 4: /* corrupt one octet, then deliver */
			if (qn > 0 && cur_get_u8(&in, &a) == 0 && cur_get_u8(&in, &b) == 0) {
				d = pop();
				d.b[a % d.len] ^= b;
				deliver(now, &d);
			}
			break;
		case 5: /* time passes */
			if (cur_get_u8(&in, &a) == 0) {
				now += SP_MSEC(100) * (a + 1u);
				l2tp_tick(ends[0], now);
				l2tp_tick(ends[1], now);
			}
			break;
		case 6: /* raw bytes at the LNS */
			if (cur_get_u8(&in, &a) == 0) {
				const uint8_t *p;
				size_t n = SP_MIN((size_t)a, cur_left(&in));

				if (cur_get_ptr(&in, n, &p) == 0)
					l2tp_input(ends[0], now, LAC_ADDR, L2TP_PORT, p, n);
			}
			break;
		case 7:
			for (uint32_t i = 0; i < l2tp_max_tunnels(ends[1]); i++) {
				struct l2tp_tunnel *u = l2tp_tunnel_at(ends[1], i);

				if (u->t_state == L2TP_T_UP || u->t_state == L2TP_T_WAIT_REPLY)
					(void)l2tp_session_open(ends[1], now, u, &s);
			}
			break;
		case 8:
			for (uint32_t i = 0; i < l2tp_max_sessions(ends[1]); i++)
				if (l2tp_sess_at(ends[1], i)->s_state == L2TP_S_UP) {
					l2tp_session_close(ends[1], now, l2tp_sess_at(ends[1], i),
							   L2TP_CDN_ADMIN);
					break;
				}
			break;
		default: /* the LAC restarts and dials again */
			l2tp_reset(ends[1], now);
			(void)l2tp_tunnel_open(ends[1], now, LNS_ADDR, L2TP_PORT, &t);
			break;
		}
	}
	for (int e = 0; e < 2; e++) {
		uint32_t up = 0;

		for (uint32_t i = 0; i < l2tp_max_sessions(ends[e]); i++)
			up += l2tp_sess_at(ends[e], i)->s_state != L2TP_S_FREE;
		FUZZ_CHECK(up <= l2tp_max_sessions(ends[e]));
		FUZZ_CHECK(l2tp_ctr(ends[e], L2TP_CTR_SESSION_DOWN) <=
			   l2tp_ctr(ends[e], L2TP_CTR_SESSION_UP));
		l2tp_free(ends[e]);
	}
	return 0;
}
