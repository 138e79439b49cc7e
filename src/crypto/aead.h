/*
 * AEAD transforms keyed once per context: AES-GCM (RFC 4106 for ESP, RFC 5282 for IKEv2's
 * SK payload) and AES-GMAC (RFC 4543, authentication only). The nonce is the 4-byte salt
 * from the keying material followed by an explicit 8-byte IV; text is processed in place.
 *
 *   crypto_aead_begin(a, CRYPTO_ENC, iv);       one message at a time per context
 *   crypto_aead_aad(a, hdr, hdrlen);             any number of AAD pieces first
 *   crypto_aead_update(a, buf, len);             encrypt (or decrypt) in place
 *   crypto_aead_seal_final(a, icv);              or crypto_aead_open_final(a, icv)
 *
 * For GMAC, update() authenticates its bytes and leaves them as they are.
 */
#ifndef SP_CRYPTO_AEAD_H
#define SP_CRYPTO_AEAD_H

#include "crypto/crypto.h"

#define CRYPTO_AEAD_SALT_LEN 4	/* RFC 4106 8.1: the last 4 bytes of the keying material */
#define CRYPTO_AEAD_IV_LEN   8	/* RFC 4106 3.1: explicit, carried in each message */
#define CRYPTO_AEAD_ICV_MAX  16 /* full GCM tag */

enum crypto_aead_alg {
	CRYPTO_AEAD_AES_GCM,  /* ICV 8, 12 or 16 bytes (RFC 4106 / RFC 5282) */
	CRYPTO_AEAD_AES_GMAC, /* ICV 16 bytes (RFC 4543) */
};

struct crypto_aead;

/*
 * A context for alg keyed with keymat: an AES key of 16, 24 or 32 bytes followed by the
 * 4-byte salt (keymat_len 20, 28 or 36). dirs says which of CRYPTO_ENC and CRYPTO_DEC will
 * be used. SP_EINVAL for a bad key or ICV length, SP_ECRYPTO if libcrypto refuses.
 */
int crypto_aead_new(struct crypto_aead **out, enum crypto_aead_alg alg, const uint8_t *keymat,
		    size_t keymat_len, size_t icv_len, unsigned dirs) SP_MUST_CHECK;
/* Wipes and frees; accepts NULL. */
void crypto_aead_free(struct crypto_aead *a);

size_t crypto_aead_icv_len(const struct crypto_aead *a);
enum crypto_aead_alg crypto_aead_alg(const struct crypto_aead *a);

/* Start a message in direction dir (CRYPTO_ENC or CRYPTO_DEC) with the explicit IV. */
int crypto_aead_begin(struct crypto_aead *a, enum crypto_dir dir,
		      const uint8_t iv[CRYPTO_AEAD_IV_LEN]) SP_MUST_CHECK;
/* Authenticated-only data; all of it before the first update(). */
int crypto_aead_aad(struct crypto_aead *a, const void *aad, size_t len) SP_MUST_CHECK;
/* Encrypt or decrypt len bytes in place (GMAC: authenticate them unchanged). */
int crypto_aead_update(struct crypto_aead *a, uint8_t *buf, size_t len) SP_MUST_CHECK;
/* Finish an encryption: icv_len bytes of ICV to icv. */
int crypto_aead_seal_final(struct crypto_aead *a, uint8_t *icv) SP_MUST_CHECK;
/* Finish a decryption: 0 when icv (icv_len bytes) matches, SP_EAUTH otherwise. */
int crypto_aead_open_final(struct crypto_aead *a, const uint8_t *icv) SP_MUST_CHECK;

/* One message in one call: begin, aad (may be NULL), update over buf, final. */
int crypto_aead_seal(struct crypto_aead *a, const uint8_t iv[CRYPTO_AEAD_IV_LEN], const void *aad,
		     size_t aad_len, uint8_t *buf, size_t len, uint8_t *icv) SP_MUST_CHECK;
int crypto_aead_open(struct crypto_aead *a, const uint8_t iv[CRYPTO_AEAD_IV_LEN], const void *aad,
		     size_t aad_len, uint8_t *buf, size_t len, const uint8_t *icv) SP_MUST_CHECK;

#endif
