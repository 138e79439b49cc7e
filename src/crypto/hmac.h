/*
 * HMAC (RFC 2104) keyed once per context, with the output truncated as IPsec uses it:
 * HMAC-MD5-96 (RFC 2403), HMAC-SHA1-96 (RFC 2404), HMAC-SHA-256-128, -384-192 and -512-256
 * (RFC 4868); untruncated for PRFs (IKEv2 prf, prf+). The inner and outer hash states are
 * computed from the key once; each message copies them, so nothing is allocated per
 * message.
 */
#ifndef SP_CRYPTO_HMAC_H
#define SP_CRYPTO_HMAC_H

#include "crypto/crypto.h"

#define CRYPTO_HMAC_MAX 64 /* SHA-512 output */

enum crypto_hash {
	CRYPTO_HASH_MD5,
	CRYPTO_HASH_SHA1,
	CRYPTO_HASH_SHA256,
	CRYPTO_HASH_SHA384,
	CRYPTO_HASH_SHA512,
};

struct crypto_hmac;

/* Output length of the hash in bytes. */
size_t crypto_hash_len(enum crypto_hash h);

/*
 * A context keyed with key (any length; longer than a block is hashed first, RFC 2104 2).
 * out_len is the truncated output length, 1 to the hash length; 0 means the full length.
 */
int crypto_hmac_new(struct crypto_hmac **out, enum crypto_hash h, const uint8_t *key, size_t keylen,
		    size_t out_len) SP_MUST_CHECK;
/* Wipes and frees; accepts NULL. */
void crypto_hmac_free(struct crypto_hmac *m);
/* Replace the key, keeping hash and output length (IKEv2 prf+ with changing keys). */
int crypto_hmac_rekey(struct crypto_hmac *m, const uint8_t *key, size_t keylen) SP_MUST_CHECK;

size_t crypto_hmac_len(const struct crypto_hmac *m);

/* Streaming over pieces that need not be contiguous. */
void crypto_hmac_begin(struct crypto_hmac *m);
void crypto_hmac_update(struct crypto_hmac *m, const void *data, size_t len);
/* Write crypto_hmac_len() bytes. */
void crypto_hmac_final(struct crypto_hmac *m, uint8_t *out);
/* Finish and compare with icv (crypto_hmac_len() bytes) in constant time: 0 or SP_EAUTH. */
int crypto_hmac_verify(struct crypto_hmac *m, const uint8_t *icv) SP_MUST_CHECK;

/* One message in one call. */
void crypto_hmac(struct crypto_hmac *m, const void *data, size_t len, uint8_t *out);

#endif
