/*
 * Block ciphers without integrity, keyed once per context, run in place with an explicit
 * IV: AES-CBC (RFC 3602 for ESP, RFC 7296 ENCR_AES_CBC for IKEv2) and the NULL cipher
 * (RFC 2410), which lets ESP treat "no encryption" like any other cipher. The caller pads:
 * lengths are whole blocks.
 */
#ifndef SP_CRYPTO_CIPHER_H
#define SP_CRYPTO_CIPHER_H

#include "crypto/crypto.h"

#define CRYPTO_CIPHER_IV_MAX	16
#define CRYPTO_CIPHER_BLOCK_MAX 16

enum crypto_cipher_alg {
	CRYPTO_CIPHER_NULL,    /* RFC 2410: no key, no IV, block size 1 */
	CRYPTO_CIPHER_AES_CBC, /* RFC 3602: key 16, 24 or 32 bytes, IV and block 16 */
};

struct crypto_cipher;

/* SP_EINVAL for a key of the wrong length; dirs as for crypto_aead_new(). */
int crypto_cipher_new(struct crypto_cipher **out, enum crypto_cipher_alg alg, const uint8_t *key,
		      size_t keylen, unsigned dirs) SP_MUST_CHECK;
/* Wipes and frees; accepts NULL. */
void crypto_cipher_free(struct crypto_cipher *c);

size_t crypto_cipher_iv_len(const struct crypto_cipher *c);
size_t crypto_cipher_block_len(const struct crypto_cipher *c);

/* In place; len a multiple of the block length (SP_EINVAL otherwise). */
int crypto_cipher_encrypt(struct crypto_cipher *c, const uint8_t *iv, uint8_t *buf,
			  size_t len) SP_MUST_CHECK;
int crypto_cipher_decrypt(struct crypto_cipher *c, const uint8_t *iv, uint8_t *buf,
			  size_t len) SP_MUST_CHECK;

#endif
