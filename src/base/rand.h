/*
 * Randomness as an interface: modules take a struct sp_rng and never call getrandom. The
 * simulator hands them a seeded generator (deterministic runs); the daemons hand them one
 * seeded from the kernel. sp_xoshiro is the fast non-cryptographic generator for simulator
 * decisions (loss, jitter); key material comes from crypto_drbg (crypto/drbg.h).
 */
#ifndef SP_BASE_RAND_H
#define SP_BASE_RAND_H

#include "base/sp.h"

struct sp_rng {
	void (*fill)(struct sp_rng *rng, void *buf, size_t len);
};

static inline void sp_rng_bytes(struct sp_rng *rng, void *buf, size_t len)
{
	rng->fill(rng, buf, len);
}

uint32_t sp_rng_u32(struct sp_rng *rng);
uint64_t sp_rng_u64(struct sp_rng *rng);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint32_t sp_rng_below(struct sp_rng *rng, uint32_t n);
/* Uniform in [0, 1). */
double sp_rng_unit(struct sp_rng *rng);

/* xoshiro256** seeded through splitmix64: same seed, same sequence, on every host. */
struct sp_xoshiro {
	struct sp_rng rng; /* must be first */
	uint64_t s[4];
};

void sp_xoshiro_seed(struct sp_xoshiro *x, uint64_t seed);
uint64_t sp_xoshiro_next(struct sp_xoshiro *x);

#endif
