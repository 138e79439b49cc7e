/*
 * The low-level digest API is deprecated in OpenSSL 3.0 but still part of libcrypto. It is
 * used here on purpose: its state is a plain struct, so the precomputed inner and outer
 * states are copied per message without allocation. EVP_MAC re-initialisation and
 * EVP_MD_CTX_copy_ex() both allocate a provider context per call (measured: two and one
 * allocations per message), which the packet path must not do.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/hmac.h"

#include <openssl/md5.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

#define HMAC_BLOCK_MAX 128 /* SHA-384/512 block */

union hash_state {
	MD5_CTX md5;
	SHA_CTX sha1;
	SHA256_CTX sha256;
	SHA512_CTX sha512;
};

struct crypto_hmac {
	union hash_state inner; /* after hashing key ^ ipad */
	union hash_state outer; /* after hashing key ^ opad */
	union hash_state work;
	enum crypto_hash hash;
	uint8_t out_len;
};

static const struct {
	uint8_t len;
	uint8_t block;
} hash_info[] = {
	[CRYPTO_HASH_MD5] = { 16, 64 },	    [CRYPTO_HASH_SHA1] = { 20, 64 },
	[CRYPTO_HASH_SHA256] = { 32, 64 },  [CRYPTO_HASH_SHA384] = { 48, 128 },
	[CRYPTO_HASH_SHA512] = { 64, 128 },
};

size_t crypto_hash_len(enum crypto_hash h)
{
	return (unsigned)h < SP_NELEM(hash_info) ? hash_info[h].len : 0;
}

static void h_init(enum crypto_hash h, union hash_state *s)
{
	switch (h) {
	case CRYPTO_HASH_MD5:
		MD5_Init(&s->md5);
		break;
	case CRYPTO_HASH_SHA1:
		SHA1_Init(&s->sha1);
		break;
	case CRYPTO_HASH_SHA256:
		SHA256_Init(&s->sha256);
		break;
	case CRYPTO_HASH_SHA384:
		SHA384_Init(&s->sha512);
		break;
	case CRYPTO_HASH_SHA512:
		SHA512_Init(&s->sha512);
		break;
	}
}

static void h_update(enum crypto_hash h, union hash_state *s, const void *p, size_t n)
{
	switch (h) {
	case CRYPTO_HASH_MD5:
		MD5_Update(&s->md5, p, n);
		break;
	case CRYPTO_HASH_SHA1:
		SHA1_Update(&s->sha1, p, n);
		break;
	case CRYPTO_HASH_SHA256:
		SHA256_Update(&s->sha256, p, n);
		break;
	case CRYPTO_HASH_SHA384:
		SHA384_Update(&s->sha512, p, n);
		break;
	case CRYPTO_HASH_SHA512:
		SHA512_Update(&s->sha512, p, n);
		break;
	}
}

static void h_final(enum crypto_hash h, union hash_state *s, uint8_t *out)
{
	switch (h) {
	case CRYPTO_HASH_MD5:
		MD5_Final(out, &s->md5);
		break;
	case CRYPTO_HASH_SHA1:
		SHA1_Final(out, &s->sha1);
		break;
	case CRYPTO_HASH_SHA256:
		SHA256_Final(out, &s->sha256);
		break;
	case CRYPTO_HASH_SHA384:
		SHA384_Final(out, &s->sha512);
		break;
	case CRYPTO_HASH_SHA512:
		SHA512_Final(out, &s->sha512);
		break;
	}
}

int crypto_hmac_rekey(struct crypto_hmac *m, const uint8_t *key, size_t keylen)
{
	size_t block = hash_info[m->hash].block;
	uint8_t k[HMAC_BLOCK_MAX], pad[HMAC_BLOCK_MAX];

	if (key == NULL && keylen > 0)
		return SP_EINVAL;
	/* RFC 2104 2: a key longer than the block is replaced by its hash; then zero-fill. */
	memset(k, 0, sizeof(k));
	if (keylen > block) {
		h_init(m->hash, &m->work);
		h_update(m->hash, &m->work, key, keylen);
		h_final(m->hash, &m->work, k);
	} else if (keylen > 0) {
		memcpy(k, key, keylen);
	}
	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x36;
	h_init(m->hash, &m->inner);
	h_update(m->hash, &m->inner, pad, block);
	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x5c;
	h_init(m->hash, &m->outer);
	h_update(m->hash, &m->outer, pad, block);
	crypto_wipe(k, sizeof(k));
	crypto_wipe(pad, sizeof(pad));
	crypto_wipe(&m->work, sizeof(m->work));
	return 0;
}

int crypto_hmac_new(struct crypto_hmac **out, enum crypto_hash h, const uint8_t *key, size_t keylen,
		    size_t out_len)
{
	struct crypto_hmac *m;
	int r;

	*out = NULL;
	if ((unsigned)h >= SP_NELEM(hash_info) || out_len > hash_info[h].len)
		return SP_EINVAL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return SP_ENOMEM;
	m->hash = h;
	m->out_len = (uint8_t)(out_len == 0 ? hash_info[h].len : out_len);
	if ((r = crypto_hmac_rekey(m, key, keylen)) != 0) {
		crypto_hmac_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void crypto_hmac_free(struct crypto_hmac *m)
{
	if (m == NULL)
		return;
	crypto_wipe(m, sizeof(*m));
	free(m);
}

size_t crypto_hmac_len(const struct crypto_hmac *m)
{
	return m->out_len;
}

void crypto_hmac_begin(struct crypto_hmac *m)
{
	m->work = m->inner;
}

void crypto_hmac_update(struct crypto_hmac *m, const void *data, size_t len)
{
	if (len > 0)
		h_update(m->hash, &m->work, data, len);
}

static void finish(struct crypto_hmac *m, uint8_t *full)
{
	uint8_t ihash[CRYPTO_HMAC_MAX];
	size_t n = hash_info[m->hash].len;

	h_final(m->hash, &m->work, ihash);
	m->work = m->outer;
	h_update(m->hash, &m->work, ihash, n);
	h_final(m->hash, &m->work, full);
}

void crypto_hmac_final(struct crypto_hmac *m, uint8_t *out)
{
	uint8_t full[CRYPTO_HMAC_MAX];

	finish(m, full);
	/* RFC 2104 5: a truncated output keeps the leftmost bytes. */
	memcpy(out, full, m->out_len);
}

int crypto_hmac_verify(struct crypto_hmac *m, const uint8_t *icv)
{
	uint8_t full[CRYPTO_HMAC_MAX];

	finish(m, full);
	return crypto_memeq(full, icv, m->out_len) ? 0 : SP_EAUTH;
}

void crypto_hmac(struct crypto_hmac *m, const void *data, size_t len, uint8_t *out)
{
	crypto_hmac_begin(m);
	crypto_hmac_update(m, data, len);
	crypto_hmac_final(m, out);
}
