#include "crypto/cipher.h"

#include <openssl/evp.h>

#include <limits.h>
#include <stdlib.h>

struct crypto_cipher {
	EVP_CIPHER_CTX *ctx[2]; /* [0] encrypts, [1] decrypts; NULL when not prepared */
	enum crypto_cipher_alg alg;
	uint8_t iv_len;
	uint8_t block_len;
};

static const char *cbc_name(size_t keylen)
{
	switch (keylen) {
	case 16:
		return "AES-128-CBC";
	case 24:
		return "AES-192-CBC";
	case 32:
		return "AES-256-CBC";
	}
	return NULL;
}

void crypto_cipher_free(struct crypto_cipher *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->ctx[0]);
	EVP_CIPHER_CTX_free(c->ctx[1]);
	free(c);
}

int crypto_cipher_new(struct crypto_cipher **out, enum crypto_cipher_alg alg, const uint8_t *key,
		      size_t keylen, unsigned dirs)
{
	struct crypto_cipher *c = NULL;
	EVP_CIPHER *ciph = NULL;
	const char *name = NULL;
	int r;

	*out = NULL;
	if ((dirs & CRYPTO_BOTH) == 0)
		return SP_EINVAL;
	if (alg == CRYPTO_CIPHER_NULL ? keylen != 0 : (name = cbc_name(keylen)) == NULL)
		return SP_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SP_ENOMEM;
	c->alg = alg;
	c->block_len = 1;
	if (alg == CRYPTO_CIPHER_NULL)
		goto done;
	c->iv_len = 16;
	c->block_len = 16;
	r = SP_ECRYPTO;
	if ((ciph = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL)
		goto out;
	for (int i = 0; i < 2; i++) {
		if ((dirs & (1u << i)) == 0)
			continue;
		if ((c->ctx[i] = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_CipherInit_ex2(c->ctx[i], ciph, key, NULL, i == 0, NULL) != 1 ||
		    EVP_CIPHER_CTX_set_padding(c->ctx[i], 0) != 1)
			goto out;
	}
done:
	*out = c;
	c = NULL;
	r = 0;
out:
	EVP_CIPHER_free(ciph);
	crypto_cipher_free(c);
	return r;
}

size_t crypto_cipher_iv_len(const struct crypto_cipher *c)
{
	return c->iv_len;
}

size_t crypto_cipher_block_len(const struct crypto_cipher *c)
{
	return c->block_len;
}

static int run(struct crypto_cipher *c, int i, const uint8_t *iv, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x = c->ctx[i];
	int outl, finl;

	if (c->alg == CRYPTO_CIPHER_NULL)
		return 0;
	if (x == NULL)
		return SP_ESTATE;
	if (len % c->block_len != 0 || len > INT_MAX)
		return SP_EINVAL;
	/* Only the IV changes per message; the key schedule was made once. */
	if (EVP_CipherInit_ex2(x, NULL, NULL, iv, i == 0, NULL) != 1 ||
	    EVP_CipherUpdate(x, buf, &outl, buf, (int)len) != 1 ||
	    EVP_CipherFinal_ex(x, buf + outl, &finl) != 1 || (size_t)outl + (size_t)finl != len)
		return SP_ECRYPTO;
	return 0;
}

int crypto_cipher_encrypt(struct crypto_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return run(c, 0, iv, buf, len);
}

int crypto_cipher_decrypt(struct crypto_cipher *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
	return run(c, 1, iv, buf, len);
}
