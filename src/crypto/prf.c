/* IKEv2 PRF and prf+ over OpenSSL's EVP_MAC HMAC. */
#include "crypto/prf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <pthread.h>
#include <string.h>

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

/* The algorithm handle is fetched once: it is immutable and shared by every context. */
static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const char *prf_digest(uint16_t prf)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_SHA1:
		return "SHA1";
	case CRYPTO_PRF_HMAC_SHA2_256:
		return "SHA256";
	case CRYPTO_PRF_HMAC_SHA2_384:
		return "SHA384";
	case CRYPTO_PRF_HMAC_SHA2_512:
		return "SHA512";
	default:
		return NULL;
	}
}

size_t crypto_prf_len(uint16_t prf)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_SHA1:
		return 20;
	case CRYPTO_PRF_HMAC_SHA2_256:
		return 32;
	case CRYPTO_PRF_HMAC_SHA2_384:
		return 48;
	case CRYPTO_PRF_HMAC_SHA2_512:
		return 64;
	default:
		return 0;
	}
}

const char *crypto_prf_name(uint16_t prf)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_SHA1:
		return "prfsha1";
	case CRYPTO_PRF_HMAC_SHA2_256:
		return "prfsha256";
	case CRYPTO_PRF_HMAC_SHA2_384:
		return "prfsha384";
	case CRYPTO_PRF_HMAC_SHA2_512:
		return "prfsha512";
	default:
		return "?";
	}
}

static int mac_ctx(uint16_t prf, EVP_MAC_CTX **out)
{
	const char *md = prf_digest(prf);
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;

	*out = NULL;
	if (md == NULL)
		return SP_EUNSUPP;
	pthread_once(&hmac_once, hmac_fetch);
	if (hmac_alg == NULL || (ctx = EVP_MAC_CTX_new(hmac_alg)) == NULL)
		return SP_ECRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		return SP_ECRYPTO;
	}
	*out = ctx;
	return 0;
}

/* One block: key, then the pieces; an empty key is legal HMAC input (OpenSSL wants a
 * non-NULL pointer for it). */
static int mac_block(EVP_MAC_CTX *ctx, const uint8_t *key, size_t klen,
		     const struct crypto_iov *pre, size_t npre, const struct crypto_iov *in,
		     size_t n, const uint8_t *post, size_t npost, uint8_t *out, size_t outlen)
{
	static const uint8_t nokey[1];
	size_t got = 0;

	if (!EVP_MAC_init(ctx, klen > 0 ? key : nokey, klen, NULL))
		return SP_ECRYPTO;
	for (size_t i = 0; i < npre; i++)
		if (pre[i].len > 0 && !EVP_MAC_update(ctx, pre[i].p, pre[i].len))
			return SP_ECRYPTO;
	for (size_t i = 0; i < n; i++)
		if (in[i].len > 0 && !EVP_MAC_update(ctx, in[i].p, in[i].len))
			return SP_ECRYPTO;
	if (npost > 0 && !EVP_MAC_update(ctx, post, npost))
		return SP_ECRYPTO;
	if (!EVP_MAC_final(ctx, out, &got, outlen) || got != outlen)
		return SP_ECRYPTO;
	return 0;
}

int crypto_prf(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *in, size_t n,
	       uint8_t *out)
{
	EVP_MAC_CTX *ctx;
	int r;

	if ((r = mac_ctx(prf, &ctx)) != 0)
		return r;
	r = mac_block(ctx, key, klen, NULL, 0, in, n, NULL, 0, out, crypto_prf_len(prf));
	EVP_MAC_CTX_free(ctx);
	return r;
}

int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *seed,
		    size_t n, uint8_t *out, size_t outlen)
{
	size_t bl = crypto_prf_len(prf), done = 0;
	uint8_t t[CRYPTO_PRF_MAX];
	struct crypto_iov prev;
	EVP_MAC_CTX *ctx;
	int r;

	if (bl == 0)
		return SP_EUNSUPP;
	if (outlen > bl * CRYPTO_PRF_PLUS_MAX_BLOCKS)
		return SP_EINVAL;
	if ((r = mac_ctx(prf, &ctx)) != 0)
		return r;
	for (unsigned i = 1; done < outlen; i++) {
		uint8_t cnt = (uint8_t)i;
		size_t take = SP_MIN(bl, outlen - done);

		prev.p = t;
		prev.len = bl;
		if ((r = mac_block(ctx, key, klen, &prev, i > 1 ? 1 : 0, seed, n, &cnt, 1, t,
				   bl)) != 0)
			goto out;
		memcpy(out + done, t, take);
		done += take;
	}
	r = 0;
out:
	OPENSSL_cleanse(t, sizeof(t));
	EVP_MAC_CTX_free(ctx);
	return r;
}
