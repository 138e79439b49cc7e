#include "crypto/drbg.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

#define KEY_LEN	  32
#define BLOCK_LEN 16
#define SERVE_LEN 256 /* bytes generated at once for sp_rng users */

struct crypto_drbg {
	struct sp_rng rng; /* must be first: the sp_rng callback casts back */
	EVP_CIPHER_CTX *ecb;
	EVP_CIPHER *aes;
	uint8_t key[KEY_LEN];
	uint8_t v[BLOCK_LEN];
	uint64_t reseed_counter;
	uint8_t buf[SERVE_LEN]; /* generated, not yet served */
	size_t buf_off;
};

static void v_inc(uint8_t *v)
{
	for (int i = BLOCK_LEN - 1; i >= 0; i--)
		if (++v[i] != 0)
			break;
}

/* Key := new key; the ECB context is rekeyed in place (no allocation). */
static int set_key(struct crypto_drbg *d)
{
	return EVP_EncryptInit_ex2(d->ecb, NULL, d->key, NULL, NULL) == 1 ? 0 : SP_ECRYPTO;
}

static int block(struct crypto_drbg *d, uint8_t *out)
{
	int outl;

	v_inc(d->v);
	if (EVP_EncryptUpdate(d->ecb, out, &outl, d->v, BLOCK_LEN) != 1 || outl != BLOCK_LEN)
		return SP_ECRYPTO;
	return 0;
}

/* SP 800-90A 10.2.1.2 CTR_DRBG_Update; provided is seedlen bytes or NULL (zeros). */
static int update(struct crypto_drbg *d, const uint8_t *provided)
{
	uint8_t temp[CRYPTO_DRBG_SEED_LEN];
	int r = 0;

	for (size_t off = 0; off < sizeof(temp) && r == 0; off += BLOCK_LEN)
		r = block(d, temp + off);
	if (r == 0) {
		if (provided != NULL)
			for (size_t i = 0; i < sizeof(temp); i++)
				temp[i] ^= provided[i];
		memcpy(d->key, temp, KEY_LEN);
		memcpy(d->v, temp + KEY_LEN, BLOCK_LEN);
		r = set_key(d);
	}
	crypto_wipe(temp, sizeof(temp));
	return r;
}

/* Additional input or personalization padded with zeros to seedlen (no df: 10.2.1.3.1). */
static const uint8_t *pad_input(uint8_t *buf, const uint8_t *in, size_t len)
{
	if (in == NULL || len == 0)
		return NULL;
	memset(buf, 0, CRYPTO_DRBG_SEED_LEN);
	memcpy(buf, in, len);
	return buf;
}

int crypto_drbg_generate(struct crypto_drbg *d, uint8_t *out, size_t len, const uint8_t *addl,
			 size_t addl_len)
{
	uint8_t a[CRYPTO_DRBG_SEED_LEN], tmp[BLOCK_LEN];
	const uint8_t *ap;
	int r = 0;

	if (len > CRYPTO_DRBG_MAX_REQ || addl_len > CRYPTO_DRBG_SEED_LEN)
		return SP_EINVAL;
	/* 10.2.1.5.1 step 2: additional input updates the state first. */
	if ((ap = pad_input(a, addl, addl_len)) != NULL && (r = update(d, ap)) != 0)
		return r;
	while (len > 0 && r == 0) {
		size_t n = SP_MIN(len, (size_t)BLOCK_LEN);

		if ((r = block(d, tmp)) == 0) {
			memcpy(out, tmp, n);
			out += n;
			len -= n;
		}
	}
	if (r == 0)
		r = update(d, ap);
	d->reseed_counter++;
	crypto_wipe(tmp, sizeof(tmp));
	return r;
}

int crypto_drbg_reseed(struct crypto_drbg *d, const uint8_t *entropy, const uint8_t *addl,
		       size_t addl_len)
{
	uint8_t seed[CRYPTO_DRBG_SEED_LEN];
	int r;

	if (addl_len > CRYPTO_DRBG_SEED_LEN)
		return SP_EINVAL;
	/* 10.2.1.4.1: seed_material = entropy_input XOR additional_input. */
	memcpy(seed, entropy, sizeof(seed));
	for (size_t i = 0; addl != NULL && i < addl_len; i++)
		seed[i] ^= addl[i];
	r = update(d, seed);
	d->reseed_counter = 1;
	d->buf_off = SERVE_LEN;
	crypto_wipe(seed, sizeof(seed));
	return r;
}

/* sp_rng interface: served from a buffer refilled SERVE_LEN bytes at a time. */
static void drbg_fill(struct sp_rng *rng, void *buf, size_t len)
{
	struct crypto_drbg *d = (struct crypto_drbg *)rng;
	uint8_t *b = buf;

	while (len > 0) {
		size_t n;

		if (d->buf_off == SERVE_LEN) {
			if (crypto_drbg_generate(d, d->buf, SERVE_LEN, NULL, 0) != 0)
				abort(); /* AES failed on memory we own: nothing safe remains */
			d->buf_off = 0;
		}
		n = SP_MIN(len, SERVE_LEN - d->buf_off);
		memcpy(b, d->buf + d->buf_off, n);
		crypto_wipe(d->buf + d->buf_off, n);
		d->buf_off += n;
		b += n;
		len -= n;
	}
}

void crypto_drbg_free(struct crypto_drbg *d)
{
	if (d == NULL)
		return;
	EVP_CIPHER_CTX_free(d->ecb);
	EVP_CIPHER_free(d->aes);
	crypto_wipe(d, sizeof(*d));
	free(d);
}

int crypto_drbg_new(struct crypto_drbg **out, const uint8_t *seed, const uint8_t *pers,
		    size_t pers_len)
{
	struct crypto_drbg *d;
	uint8_t p[CRYPTO_DRBG_SEED_LEN];
	int r;

	*out = NULL;
	if (pers_len > CRYPTO_DRBG_SEED_LEN)
		return SP_EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return SP_ENOMEM;
	d->rng.fill = drbg_fill;
	d->buf_off = SERVE_LEN;
	/* 10.2.1.3.1: Key = 0, V = 0, then Update(entropy_input XOR personalization). */
	r = SP_ECRYPTO;
	if ((d->aes = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL)) == NULL ||
	    (d->ecb = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(d->ecb, d->aes, d->key, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(d->ecb, 0) != 1)
		goto fail;
	memcpy(p, seed, sizeof(p));
	for (size_t i = 0; pers != NULL && i < pers_len; i++)
		p[i] ^= pers[i];
	r = update(d, p);
	crypto_wipe(p, sizeof(p));
	if (r != 0)
		goto fail;
	d->reseed_counter = 1;
	*out = d;
	return 0;
fail:
	crypto_drbg_free(d);
	return r;
}

int crypto_drbg_new_u64(struct crypto_drbg **out, uint64_t seed, const char *label)
{
	uint8_t in[8], material[CRYPTO_DRBG_SEED_LEN];
	unsigned int mlen = 0;
	EVP_MD_CTX *md;
	int r = SP_ECRYPTO;

	*out = NULL;
	/* Seed material = SHA-384(seed as 8 big-endian bytes || label). */
	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(seed >> (56 - 8 * i));
	if ((md = EVP_MD_CTX_new()) == NULL)
		return SP_ENOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1 &&
	    EVP_DigestUpdate(md, in, sizeof(in)) == 1 &&
	    EVP_DigestUpdate(md, label ? label : "", label ? strlen(label) : 0) == 1 &&
	    EVP_DigestFinal_ex(md, material, &mlen) == 1 && mlen == sizeof(material))
		r = crypto_drbg_new(out, material, NULL, 0);
	EVP_MD_CTX_free(md);
	crypto_wipe(material, sizeof(material));
	return r;
}

int crypto_drbg_new_from(struct crypto_drbg **out, struct sp_rng *src)
{
	uint8_t seed[CRYPTO_DRBG_SEED_LEN];
	int r;

	sp_rng_bytes(src, seed, sizeof(seed));
	r = crypto_drbg_new(out, seed, NULL, 0);
	crypto_wipe(seed, sizeof(seed));
	return r;
}

struct sp_rng *crypto_drbg_rng(struct crypto_drbg *d)
{
	return &d->rng;
}
