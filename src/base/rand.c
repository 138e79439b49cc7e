#include "base/rand.h"

#include <string.h>

uint32_t sp_rng_u32(struct sp_rng *rng)
{
	uint32_t v;

	rng->fill(rng, &v, sizeof(v));
	return v;
}

uint64_t sp_rng_u64(struct sp_rng *rng)
{
	uint64_t v;

	rng->fill(rng, &v, sizeof(v));
	return v;
}

uint32_t sp_rng_below(struct sp_rng *rng, uint32_t n)
{
	/* Lemire's multiply-shift with rejection. */
	uint64_t m = (uint64_t)sp_rng_u32(rng) * n;
	uint32_t l = (uint32_t)m;

	if (l < n) {
		uint32_t t = -n % n;

		while (l < t) {
			m = (uint64_t)sp_rng_u32(rng) * n;
			l = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

double sp_rng_unit(struct sp_rng *rng)
{
	return (double)(sp_rng_u64(rng) >> 11) * 0x1.0p-53;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sp_xoshiro_next(struct sp_xoshiro *x)
{
	uint64_t *s = x->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Bytes are taken little-endian from each word so output is the same on every host. */
static void xoshiro_fill(struct sp_rng *rng, void *buf, size_t len)
{
	struct sp_xoshiro *x = (struct sp_xoshiro *)rng;
	uint8_t *b = buf;

	while (len > 0) {
		uint64_t v = sp_xoshiro_next(x);

		for (int i = 0; i < 8 && len > 0; i++, len--)
			*b++ = (uint8_t)(v >> (8 * i));
	}
}

void sp_xoshiro_seed(struct sp_xoshiro *x, uint64_t seed)
{
	x->rng.fill = xoshiro_fill;
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		x->s[i] = z ^ (z >> 31);
	}
}
