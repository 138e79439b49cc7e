#include "crypto/aead.h"

#include <openssl/evp.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct crypto_aead {
	EVP_CIPHER_CTX *ctx[2]; /* [0] encrypts, [1] decrypts; NULL when not prepared */
	EVP_CIPHER_CTX *cur;	/* the message in progress */
	enum crypto_aead_alg alg;
	uint8_t salt[CRYPTO_AEAD_SALT_LEN];
	uint8_t icv_len;
	bool enc; /* direction of the message in progress */
};

static const char *gcm_name(size_t keylen)
{
	switch (keylen) {
	case 16:
		return "AES-128-GCM";
	case 24:
		return "AES-192-GCM";
	case 32:
		return "AES-256-GCM";
	}
	return NULL;
}

void crypto_aead_free(struct crypto_aead *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->ctx[0]);
	EVP_CIPHER_CTX_free(a->ctx[1]);
	crypto_wipe(a, sizeof(*a));
	free(a);
}

int crypto_aead_new(struct crypto_aead **out, enum crypto_aead_alg alg, const uint8_t *keymat,
		    size_t keymat_len, size_t icv_len, unsigned dirs)
{
	size_t keylen = keymat_len - CRYPTO_AEAD_SALT_LEN;
	struct crypto_aead *a = NULL;
	EVP_CIPHER *ciph = NULL;
	const char *name;
	int r = SP_EINVAL;

	*out = NULL;
	if (keymat_len < CRYPTO_AEAD_SALT_LEN || (name = gcm_name(keylen)) == NULL ||
	    (dirs & CRYPTO_BOTH) == 0)
		return SP_EINVAL;
	if (alg == CRYPTO_AEAD_AES_GCM ? (icv_len != 8 && icv_len != 12 && icv_len != 16)
				       : icv_len != 16)
		return SP_EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SP_ENOMEM;
	a->alg = alg;
	a->icv_len = (uint8_t)icv_len;
	memcpy(a->salt, keymat + keylen, CRYPTO_AEAD_SALT_LEN);
	r = SP_ECRYPTO;
	if ((ciph = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL)
		goto out;
	for (int i = 0; i < 2; i++) {
		if ((dirs & (1u << i)) == 0)
			continue;
		if ((a->ctx[i] = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_CipherInit_ex2(a->ctx[i], ciph, keymat, NULL, i == 0, NULL) != 1) {
			r = a->ctx[i] == NULL ? SP_ENOMEM : SP_ECRYPTO;
			goto out;
		}
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	EVP_CIPHER_free(ciph);
	crypto_aead_free(a);
	return r;
}

size_t crypto_aead_icv_len(const struct crypto_aead *a)
{
	return a->icv_len;
}

enum crypto_aead_alg crypto_aead_alg(const struct crypto_aead *a)
{
	return a->alg;
}

int crypto_aead_begin(struct crypto_aead *a, enum crypto_dir dir,
		      const uint8_t iv[CRYPTO_AEAD_IV_LEN])
{
	uint8_t nonce[CRYPTO_AEAD_SALT_LEN + CRYPTO_AEAD_IV_LEN];
	EVP_CIPHER_CTX *c;

	if (dir != CRYPTO_ENC && dir != CRYPTO_DEC)
		return SP_EINVAL;
	if ((c = a->ctx[dir == CRYPTO_ENC ? 0 : 1]) == NULL)
		return SP_ESTATE;
	/* RFC 4106 4: nonce = salt || IV; the key schedule stays, only the IV is set. */
	memcpy(nonce, a->salt, CRYPTO_AEAD_SALT_LEN);
	memcpy(nonce + CRYPTO_AEAD_SALT_LEN, iv, CRYPTO_AEAD_IV_LEN);
	if (EVP_CipherInit_ex2(c, NULL, NULL, nonce, dir == CRYPTO_ENC, NULL) != 1)
		return SP_ECRYPTO;
	a->cur = c;
	a->enc = dir == CRYPTO_ENC;
	return 0;
}

int crypto_aead_aad(struct crypto_aead *a, const void *aad, size_t len)
{
	int outl;

	if (a->cur == NULL || len > INT_MAX)
		return SP_EINVAL;
	if (len == 0)
		return 0;
	return EVP_CipherUpdate(a->cur, NULL, &outl, aad, (int)len) == 1 ? 0 : SP_ECRYPTO;
}

int crypto_aead_update(struct crypto_aead *a, uint8_t *buf, size_t len)
{
	int outl;

	if (a->alg == CRYPTO_AEAD_AES_GMAC)
		return crypto_aead_aad(a, buf, len); /* RFC 4543 3.1: all of it is AAD */
	if (a->cur == NULL || len > INT_MAX)
		return SP_EINVAL;
	if (len == 0)
		return 0;
	if (EVP_CipherUpdate(a->cur, buf, &outl, buf, (int)len) != 1 || (size_t)outl != len)
		return SP_ECRYPTO;
	return 0;
}

int crypto_aead_seal_final(struct crypto_aead *a, uint8_t *icv)
{
	EVP_CIPHER_CTX *c = a->cur;
	uint8_t tag[CRYPTO_AEAD_ICV_MAX];
	int outl;

	if (c == NULL || !a->enc)
		return SP_ESTATE;
	a->cur = NULL;
	if (EVP_CipherFinal_ex(c, tag, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_ICV_MAX, tag) != 1)
		return SP_ECRYPTO;
	/* RFC 4106 6: a shorter ICV is the leading bytes of the full tag. */
	memcpy(icv, tag, a->icv_len);
	return 0;
}

int crypto_aead_open_final(struct crypto_aead *a, const uint8_t *icv)
{
	EVP_CIPHER_CTX *c = a->cur;
	uint8_t scratch[16];
	int outl;

	if (c == NULL || a->enc)
		return SP_ESTATE;
	a->cur = NULL;
	/* OpenSSL compares the leading icv_len bytes of the tag in constant time. */
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, a->icv_len, (void *)icv) != 1)
		return SP_ECRYPTO;
	return EVP_CipherFinal_ex(c, scratch, &outl) == 1 ? 0 : SP_EAUTH;
}

int crypto_aead_seal(struct crypto_aead *a, const uint8_t iv[CRYPTO_AEAD_IV_LEN], const void *aad,
		     size_t aad_len, uint8_t *buf, size_t len, uint8_t *icv)
{
	int r;

	if ((r = crypto_aead_begin(a, CRYPTO_ENC, iv)) != 0 ||
	    (r = crypto_aead_aad(a, aad, aad_len)) != 0 ||
	    (r = crypto_aead_update(a, buf, len)) != 0)
		goto fail;
	return crypto_aead_seal_final(a, icv);
fail:
	a->cur = NULL;
	return r;
}

int crypto_aead_open(struct crypto_aead *a, const uint8_t iv[CRYPTO_AEAD_IV_LEN], const void *aad,
		     size_t aad_len, uint8_t *buf, size_t len, const uint8_t *icv)
{
	int r;

	if ((r = crypto_aead_begin(a, CRYPTO_DEC, iv)) != 0 ||
	    (r = crypto_aead_aad(a, aad, aad_len)) != 0 ||
	    (r = crypto_aead_update(a, buf, len)) != 0)
		goto fail;
	return crypto_aead_open_final(a, icv);
fail:
	a->cur = NULL;
	return r;
}
