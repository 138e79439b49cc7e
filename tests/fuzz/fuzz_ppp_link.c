/*
 * PPP negotiation (src/l2tp/ppp_link.c, ppp_auth.c), server and client together: the
 * input is a script against a live negotiation. Op bytes deliver, drop, duplicate or
 * corrupt the next frame in flight, advance the clock, or inject raw frames at either
 * end. Every frame either end sends parses as PPP; the server reports up only with the
 * address it assigns, the client never without one, and neither twice without a down.
 */
#include "fuzz.h"

#include "base/rand.h"
#include "l2tp/ppp_link.h"
#include "proto/ppp.h"

#include <string.h>

#define QMAX 64
#define PEER 0x0a630017u

struct fr {
	uint8_t to;
	uint16_t len;
	uint8_t b[1600];
};

struct end {
	struct ppp_link k;
	int id;
	int up;
};

static struct fr q[QMAX];
static unsigned qn;
static struct end ends[2];
static struct ppp_stats st;
static struct ppp_user users[1];

static void op_send(void *arg, struct pkt *p)
{
	struct end *e = arg;
	struct ppp_hdr h;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	FUZZ_CHECK(ppp_parse(&c, &h) == 0);
	if (qn == QMAX || p->len > sizeof(q[0].b))
		return;
	q[qn].to = (uint8_t)(1 - e->id);
	q[qn].len = (uint16_t)p->len;
	memcpy(q[qn].b, pkt_data(p), p->len);
	qn++;
}

static void op_up(void *arg, sp_time now, uint32_t local, uint32_t peer)
{
	struct end *e = arg;

	(void)now;
	FUZZ_CHECK(e->up == 0);
	e->up = 1;
	/* The client takes what it is given (a corrupted Nak may give another address), but
	 * never comes up without one; the server only ever hands out its own. */
	if (e->id == 1)
		FUZZ_CHECK(local != 0);
	else
		FUZZ_CHECK(peer == PEER);
}

static void op_down(void *arg, sp_time now, const char *why)
{
	struct end *e = arg;

	(void)now;
	FUZZ_CHECK(why != NULL);
	e->up = 0;
}

static struct fr pop(void)
{
	struct fr f = q[0];

	memmove(q, q + 1, (qn - 1) * sizeof(q[0]));
	qn--;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_xoshiro rng;
	struct ppp_cfg c;
	struct ppp_ops ops = { .send = op_send, .up = op_up, .down = op_down };
	struct cur in;
	sp_time now = 0;
	uint8_t op, a, b;

	sp_xoshiro_seed(&rng, 2);
	ppp_stats_init(&st, NULL);
	qn = 0;
	snprintf(users[0].name, sizeof(users[0].name), "u");
	memcpy(users[0].secret, "pw", 2);
	users[0].secret_len = 2;
	for (int i = 0; i < 2; i++) {
		ppp_cfg_defaults(&c);
		c.server = i == 0;
		c.auth = size > 0 && (data[0] & 0x80) ? PPP_AUTH_PAP : PPP_AUTH_CHAP;
		c.users = users;
		c.nusers = 1;
		c.local_addr = i == 0 ? 0x0a630001u : 0;
		c.peer_addr = PEER;
		snprintf(c.user, sizeof(c.user), "u");
		memcpy(c.password, "pw", 2);
		c.password_len = 2;
		ends[i].id = i;
		ends[i].up = 0;
		ops.arg = &ends[i];
		ppp_link_init(&ends[i].k, &c, &ops, &rng.rng, NULL, &st);
		ppp_link_open(&ends[i].k, now);
	}
	cur_init(&in, data, size);
	while (cur_get_u8(&in, &op) == 0) {
		struct fr f;

		switch (op % 7) {
		case 0:
		case 1:
			if (qn > 0) {
				f = pop();
				ppp_link_input(&ends[f.to].k, now, f.b, f.len);
			}
			break;
		case 2:
			if (qn > 0)
				(void)pop();
			break;
		case 3:
			if (qn > 0) {
				f = q[0];
				ppp_link_input(&ends[f.to].k, now, f.b, f.len);
			}
			break;
		case 4:
			if (qn > 0 && cur_get_u8(&in, &a) == 0 && cur_get_u8(&in, &b) == 0) {
				f = pop();
				f.b[a % f.len] ^= b;
				ppp_link_input(&ends[f.to].k, now, f.b, f.len);
			}
			break;
		case 5:
			if (cur_get_u8(&in, &a) == 0) {
				now += SP_MSEC(250) * (a + 1u);
				ppp_link_tick(&ends[0].k, now);
				ppp_link_tick(&ends[1].k, now);
			}
			break;
		default:
			if (cur_get_u8(&in, &a) == 0) {
				const uint8_t *p;
				size_t n = SP_MIN((size_t)(a >> 1), cur_left(&in));

				if (cur_get_ptr(&in, n, &p) == 0)
					ppp_link_input(&ends[a & 1].k, now, p, n);
			}
			break;
		}
	}
	FUZZ_CHECK(st.v[PPP_CTR_LINK_DOWN] <= st.v[PPP_CTR_LINK_UP]);
	return 0;
}
