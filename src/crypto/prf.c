/* IKEv2 PRF and prf+ on crypto/hmac.h (untruncated HMAC). */
#include "crypto/prf.h"

#include "crypto/hmac.h"

#include <string.h>

static int prf_hash(uint16_t prf, enum crypto_hash *h)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_SHA1:
		*h = CRYPTO_HASH_SHA1;
		return 0;
	case CRYPTO_PRF_HMAC_SHA2_256:
		*h = CRYPTO_HASH_SHA256;
		return 0;
	case CRYPTO_PRF_HMAC_SHA2_384:
		*h = CRYPTO_HASH_SHA384;
		return 0;
	case CRYPTO_PRF_HMAC_SHA2_512:
		*h = CRYPTO_HASH_SHA512;
		return 0;
	default:
		return SP_EUNSUPP;
	}
}

size_t crypto_prf_len(uint16_t prf)
{
	enum crypto_hash h;

	return prf_hash(prf, &h) == 0 ? crypto_hash_len(h) : 0;
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

static int prf_new(uint16_t prf, const uint8_t *key, size_t klen, struct crypto_hmac **m)
{
	static const uint8_t nokey[1];
	enum crypto_hash h;
	int r;

	if ((r = prf_hash(prf, &h)) != 0)
		return r;
	/* An empty key is legal HMAC input; the layer below wants a pointer for it. */
	return crypto_hmac_new(m, h, klen > 0 ? key : nokey, klen, 0);
}

int crypto_prf(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *in, size_t n,
	       uint8_t *out)
{
	struct crypto_hmac *m;
	int r;

	if ((r = prf_new(prf, key, klen, &m)) != 0)
		return r;
	crypto_hmac_begin(m);
	for (size_t i = 0; i < n; i++)
		if (in[i].len > 0)
			crypto_hmac_update(m, in[i].p, in[i].len);
	crypto_hmac_final(m, out);
	crypto_hmac_free(m);
	return 0;
}

int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t klen, const struct crypto_iov *seed,
		    size_t n, uint8_t *out, size_t outlen)
{
	size_t bl = crypto_prf_len(prf), done = 0;
	uint8_t t[CRYPTO_PRF_MAX];
	struct crypto_hmac *m;
	int r;

	if (bl == 0)
		return SP_EUNSUPP;
	if (outlen > bl * CRYPTO_PRF_PLUS_MAX_BLOCKS)
		return SP_EINVAL;
	if ((r = prf_new(prf, key, klen, &m)) != 0)
		return r;
	for (unsigned i = 1; done < outlen; i++) {
		uint8_t cnt = (uint8_t)i;
		size_t take = SP_MIN(bl, outlen - done);

		/* T(i) = prf(K, T(i-1) | S | i), T(0) empty */
		crypto_hmac_begin(m);
		if (i > 1)
			crypto_hmac_update(m, t, bl);
		for (size_t j = 0; j < n; j++)
			if (seed[j].len > 0)
				crypto_hmac_update(m, seed[j].p, seed[j].len);
		crypto_hmac_update(m, &cnt, 1);
		crypto_hmac_final(m, t);
		memcpy(out + done, t, take);
		done += take;
	}
	crypto_wipe(t, sizeof(t));
	crypto_hmac_free(m);
	return 0;
}
