/*
 * A deterministic random bit generator behind struct sp_rng: NIST SP 800-90A CTR_DRBG with
 * AES-256 and no derivation function (10.2.1). The same seed gives the same bytes on every
 * host, which is what the simulator needs for keys, SPIs, nonces and IVs; the daemons seed
 * it from the kernel (io_rng) and so need no system call per packet.
 */
#ifndef SP_CRYPTO_DRBG_H
#define SP_CRYPTO_DRBG_H

#include "base/rand.h"
#include "crypto/crypto.h"

#define CRYPTO_DRBG_SEED_LEN 48	   /* seedlen: key (32) + V (16) */
#define CRYPTO_DRBG_MAX_REQ  65536 /* max_number_of_bits_per_request / 8 */

struct crypto_drbg;

/*
 * Instantiate from seed (CRYPTO_DRBG_SEED_LEN bytes of entropy input) and an optional
 * personalization string (at most CRYPTO_DRBG_SEED_LEN bytes, may be NULL).
 */
int crypto_drbg_new(struct crypto_drbg **out, const uint8_t *seed, const uint8_t *pers,
		    size_t pers_len) SP_MUST_CHECK;
/* Seed from a 64-bit number and a label ("node7", "ike"): the simulator's way. */
int crypto_drbg_new_u64(struct crypto_drbg **out, uint64_t seed, const char *label) SP_MUST_CHECK;
/* Seed from another generator (io_rng in the daemons). */
int crypto_drbg_new_from(struct crypto_drbg **out, struct sp_rng *src) SP_MUST_CHECK;
/* Wipes and frees; accepts NULL. */
void crypto_drbg_free(struct crypto_drbg *d);

/* The struct sp_rng to hand to modules; valid as long as d. */
struct sp_rng *crypto_drbg_rng(struct crypto_drbg *d);

/* SP 800-90A Generate: len <= CRYPTO_DRBG_MAX_REQ bytes, optional additional input. */
int crypto_drbg_generate(struct crypto_drbg *d, uint8_t *out, size_t len, const uint8_t *addl,
			 size_t addl_len) SP_MUST_CHECK;
/* SP 800-90A Reseed with CRYPTO_DRBG_SEED_LEN bytes of entropy input. */
int crypto_drbg_reseed(struct crypto_drbg *d, const uint8_t *entropy, const uint8_t *addl,
		       size_t addl_len) SP_MUST_CHECK;

#endif
