/*
 * The IKEv2 pseudorandom function and prf+ (RFC 7296 2.13): HMAC with SHA-1, SHA2-256,
 * SHA2-384 or SHA2-512 (RFC 4868 2.1.2), keyed with any length. Inputs are lists of byte
 * strings so callers never concatenate Ni | Nr | SPIi | SPIr into scratch buffers.
 */
#ifndef SP_CRYPTO_PRF_H
#define SP_CRYPTO_PRF_H

#include "base/sp.h"

/* Transform Type 2 IDs (RFC 7296 3.3.2, RFC 4868). */
#define CRYPTO_PRF_HMAC_SHA1	 2
#define CRYPTO_PRF_HMAC_SHA2_256 5
#define CRYPTO_PRF_HMAC_SHA2_384 6
#define CRYPTO_PRF_HMAC_SHA2_512 7

#define CRYPTO_PRF_MAX		   64 /* output bytes of the largest PRF */
/* prf+ stops after 255 blocks (RFC 7296 2.13). */
#define CRYPTO_PRF_PLUS_MAX_BLOCKS 255

struct crypto_iov {
	const void *p;
	size_t len;
};

/* Output length in bytes, 0 for an unsupported PRF. It is also the preferred key length
 * (RFC 7296 2.13: SK_d, SK_pi, SK_pr are this long). */
size_t crypto_prf_len(uint16_t prf);
const char *crypto_prf_name(uint16_t prf);

/* out (crypto_prf_len() bytes) = prf(key, in[0] | in[1] | ... ). */
int crypto_prf(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *in, size_t n,
	       uint8_t *out) SP_MUST_CHECK;

/*
 * prf+ (RFC 7296 2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output the first
 * outlen bytes of T1 | T2 | ... ; S is seed[0] | seed[1] | ... . More than 255 blocks is
 * SP_EINVAL.
 */
int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *seed,
		    size_t n, uint8_t *out, size_t outlen) SP_MUST_CHECK;

#endif
