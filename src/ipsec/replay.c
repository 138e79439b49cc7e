#include "ipsec/replay.h"

#include <stdlib.h>

int replay_init(struct replay *r, uint32_t size, uint64_t initial_top)
{
	r->top = initial_top;
	r->size = size;
	r->words = 0;
	r->bits = NULL;
	if (size > REPLAY_MAX)
		return SP_EINVAL;
	if (size == 0)
		return 0;
	r->words = (size + 63) / 64;
	if ((r->bits = calloc(r->words, sizeof(*r->bits))) == NULL)
		return SP_ENOMEM;
	/* The initial top counts as seen, so the window starts where it stands. */
	if (initial_top != 0)
		r->bits[(initial_top / 64) % r->words] |= 1ull << (initial_top % 64);
	return 0;
}

void replay_destroy(struct replay *r)
{
	free(r->bits);
	r->bits = NULL;
}

static bool bit_get(const struct replay *r, uint64_t seq)
{
	return (r->bits[(seq / 64) % r->words] >> (seq % 64)) & 1;
}

/* RFC 4303 A2.2: the high-order 32 bits Seqh for a received low half Seql. */
static uint32_t infer_hi(uint64_t top, uint32_t w, uint32_t seql)
{
	uint32_t tl = (uint32_t)top, th = (uint32_t)(top >> 32);

	if (tl >= w - 1) {
		/* Case A: the window lies within one sequence number subspace. */
		return seql >= tl - w + 1 ? th : th + 1;
	}
	/* Case B: the window spans two subspaces (bottom wraps below 0). */
	return seql >= tl - w + 1 ? th - 1 : th;
}

int replay_check(const struct replay *r, uint32_t seq_lo, bool esn, uint64_t *seq)
{
	uint64_t s = seq_lo;

	if (esn) {
		uint32_t hi = infer_hi(r->top, r->size ? r->size : REPLAY_ESN_WIND, seq_lo);

		/* Before the first packet Th = 0 and case B would guess Th - 1: not possible. */
		if (r->top >> 32 == 0 && hi == UINT32_MAX)
			hi = 0;
		s |= (uint64_t)hi << 32;
	}
	if (s == 0)
		return SP_EREPLAY; /* 3.3.3: the first packet sent has sequence number 1 */
	if (r->size != 0 && s <= r->top) {
		if (r->top - s >= r->size || bit_get(r, s))
			return SP_EREPLAY;
	}
	*seq = s;
	return 0;
}

void replay_accept(struct replay *r, uint64_t seq)
{
	if (r->size == 0) {
		if (seq > r->top)
			r->top = seq;
		return;
	}
	if (seq > r->top) {
		uint64_t ring = (uint64_t)r->words * 64;

		if (seq - r->top >= ring) {
			for (uint32_t i = 0; i < r->words; i++)
				r->bits[i] = 0;
		} else {
			/* Forget the slots that the new numbers reuse. */
			for (uint64_t s = r->top + 1; s <= seq; s++)
				r->bits[(s / 64) % r->words] &= ~(1ull << (s % 64));
		}
		r->top = seq;
	}
	r->bits[(seq / 64) % r->words] |= 1ull << (seq % 64);
}
