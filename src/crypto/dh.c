/*
 * IKEv2 key exchange over OpenSSL: BIGNUM modular exponentiation for MODP-2048, EC_POINT
 * arithmetic for ECP-256, EVP raw keys for X25519. Private keys come from the caller's rng.
 */
#include "crypto/dh.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3526 3 gives 2048-bit MODP a strength of 110-160 bits; twice the upper figure. */
#define MODP_EXP_BYTES 40
#define ECP_MAX_LEN    66 /* P-521 coordinates */
#define X25519_LEN     32

struct crypto_dh {
	uint16_t group;
	BIGNUM *priv;	/* MODP exponent or ECP scalar */
	BIGNUM *p;	/* MODP prime */
	EC_GROUP *ecg;	/* ECP curve */
	EVP_PKEY *pkey; /* X25519 */
	uint8_t pub[CRYPTO_DH_PUB_MAX];
};

/* RFC 5903 2.1-2.3: the NIST curves and their field element lengths. */
static const struct ecp_curve {
	uint16_t group;
	int nid;
	size_t len;
} ecp_curves[] = {
	{ CRYPTO_DH_ECP256, NID_X9_62_prime256v1, 32 },
	{ CRYPTO_DH_ECP384, NID_secp384r1, 48 },
	{ CRYPTO_DH_ECP521, NID_secp521r1, 66 },
};
#define ECP_CURVES (sizeof(ecp_curves) / sizeof(ecp_curves[0]))

static const struct ecp_curve *ecp_curve(uint16_t group)
{
	for (size_t i = 0; i < ECP_CURVES; i++)
		if (ecp_curves[i].group == group)
			return &ecp_curves[i];
	return NULL;
}

bool crypto_dh_supported(uint16_t group)
{
	return group == CRYPTO_DH_MODP2048 || group == CRYPTO_DH_X25519 || ecp_curve(group) != NULL;
}

size_t crypto_dh_pub_len(uint16_t group)
{
	switch (group) {
	case CRYPTO_DH_MODP2048:
		return 256;
	case CRYPTO_DH_X25519:
		return X25519_LEN;
	default:
		/* RFC 5903 7: x | y without the SEC1 0x04 */
		return ecp_curve(group) != NULL ? 2 * ecp_curve(group)->len : 0;
	}
}

size_t crypto_dh_secret_len(uint16_t group)
{
	switch (group) {
	case CRYPTO_DH_MODP2048:
		return 256; /* RFC 7296 2.14: zero-padded to the modulus length */
	case CRYPTO_DH_X25519:
		return X25519_LEN;
	default:
		/* RFC 5903 7: the x coordinate only */
		return ecp_curve(group) != NULL ? ecp_curve(group)->len : 0;
	}
}

const char *crypto_dh_name(uint16_t group)
{
	switch (group) {
	case CRYPTO_DH_MODP2048:
		return "modp2048";
	case CRYPTO_DH_ECP256:
		return "ecp256";
	case CRYPTO_DH_ECP384:
		return "ecp384";
	case CRYPTO_DH_ECP521:
		return "ecp521";
	case CRYPTO_DH_X25519:
		return "curve25519";
	default:
		return "?";
	}
}

uint16_t crypto_dh_group(const struct crypto_dh *dh)
{
	return dh->group;
}

const uint8_t *crypto_dh_pub(const struct crypto_dh *dh)
{
	return dh->pub;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh == NULL)
		return;
	BN_clear_free(dh->priv);
	BN_free(dh->p);
	EVP_PKEY_free(dh->pkey);
	OPENSSL_cleanse(dh, sizeof(*dh));
	free(dh);
}

static int modp_init(struct crypto_dh *dh, const uint8_t *priv, size_t len)
{
	BN_CTX *ctx = NULL;
	BIGNUM *g = NULL, *y = NULL;
	int r = SP_ECRYPTO;

	if (len == 0 || len > 256)
		return SP_EINVAL;
	if ((dh->p = BN_get_rfc3526_prime_2048(NULL)) == NULL ||
	    (dh->priv = BN_bin2bn(priv, (int)len, NULL)) == NULL || (g = BN_new()) == NULL ||
	    (y = BN_new()) == NULL || (ctx = BN_CTX_new()) == NULL || !BN_set_word(g, 2))
		goto out;
	BN_set_flags(dh->priv, BN_FLG_CONSTTIME);
	if (BN_is_zero(dh->priv)) {
		r = SP_EINVAL;
		goto out;
	}
	if (!BN_mod_exp_mont_consttime(y, g, dh->priv, dh->p, ctx, NULL) ||
	    BN_bn2binpad(y, dh->pub, 256) != 256)
		goto out;
	r = 0;
out:
	BN_free(g);
	BN_free(y);
	BN_CTX_free(ctx);
	return r;
}

static int modp_derive(const struct crypto_dh *dh, const uint8_t *peer, uint8_t *secret)
{
	BN_CTX *ctx = NULL;
	BIGNUM *y = NULL, *pm1 = NULL, *z = NULL;
	int r = SP_ECRYPTO;

	if ((ctx = BN_CTX_new()) == NULL || (y = BN_bin2bn(peer, 256, NULL)) == NULL ||
	    (pm1 = BN_dup(dh->p)) == NULL || (z = BN_new()) == NULL || !BN_sub_word(pm1, 1))
		goto out;
	/* RFC 6989 2.1: 1 < y < p-1, which rules out the order-1 and order-2 elements of this
	 * safe-prime group. */
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
		r = SP_EINVAL;
		goto out;
	}
	if (!BN_mod_exp_mont_consttime(z, y, dh->priv, dh->p, ctx, NULL) ||
	    BN_bn2binpad(z, secret, 256) != 256)
		goto out;
	r = 0;
out:
	BN_clear_free(z);
	BN_free(y);
	BN_free(pm1);
	BN_CTX_free(ctx);
	return r;
}

static EC_GROUP *ecp_groups[ECP_CURVES];
static pthread_once_t ecp_once = PTHREAD_ONCE_INIT;

/* The curves are immutable once made and EC_POINT arithmetic only reads them, so one copy
 * serves every key pair (making one costs as much as a tenth of an exchange). */
static void ecp_make(void)
{
	for (size_t i = 0; i < ECP_CURVES; i++)
		ecp_groups[i] = EC_GROUP_new_by_curve_name(ecp_curves[i].nid);
}

static int ecp_init(struct crypto_dh *dh, const uint8_t *priv, size_t len)
{
	const struct ecp_curve *cv = ecp_curve(dh->group);
	uint8_t oct[1 + 2 * ECP_MAX_LEN];
	size_t olen = 1 + 2 * cv->len;
	BN_CTX *ctx = NULL;
	EC_POINT *q = NULL;
	int r = SP_ECRYPTO;

	if (len != cv->len)
		return SP_EINVAL;
	pthread_once(&ecp_once, ecp_make);
	if ((ctx = BN_CTX_new()) == NULL || (dh->ecg = ecp_groups[cv - ecp_curves]) == NULL ||
	    (dh->priv = BN_bin2bn(priv, (int)len, NULL)) == NULL ||
	    (q = EC_POINT_new(dh->ecg)) == NULL)
		goto out;
	BN_set_flags(dh->priv, BN_FLG_CONSTTIME);
	if (BN_is_zero(dh->priv) || BN_cmp(dh->priv, EC_GROUP_get0_order(dh->ecg)) >= 0) {
		r = SP_EINVAL;
		goto out;
	}
	if (!EC_POINT_mul(dh->ecg, q, dh->priv, NULL, NULL, ctx) ||
	    EC_POINT_point2oct(dh->ecg, q, POINT_CONVERSION_UNCOMPRESSED, oct, olen, ctx) != olen)
		goto out;
	memcpy(dh->pub, oct + 1, olen - 1);
	r = 0;
out:
	EC_POINT_free(q);
	BN_CTX_free(ctx);
	return r;
}

static int ecp_derive(const struct crypto_dh *dh, const uint8_t *peer, uint8_t *secret)
{
	size_t clen = ecp_curve(dh->group)->len, olen = 1 + 2 * clen;
	uint8_t oct[1 + 2 * ECP_MAX_LEN];
	BN_CTX *ctx = NULL;
	EC_POINT *p = NULL, *z = NULL;
	BIGNUM *x = NULL;
	int r = SP_ECRYPTO;

	oct[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(oct + 1, peer, 2 * clen);
	if ((ctx = BN_CTX_new()) == NULL || (p = EC_POINT_new(dh->ecg)) == NULL ||
	    (z = EC_POINT_new(dh->ecg)) == NULL || (x = BN_new()) == NULL)
		goto out;
	/* oct2point refuses coordinates >= p and points off the curve (RFC 6989 2.3). */
	if (!EC_POINT_oct2point(dh->ecg, p, oct, olen, ctx) ||
	    EC_POINT_is_at_infinity(dh->ecg, p) || EC_POINT_is_on_curve(dh->ecg, p, ctx) != 1) {
		r = SP_EINVAL;
		goto out;
	}
	if (!EC_POINT_mul(dh->ecg, z, NULL, p, dh->priv, ctx))
		goto out;
	if (EC_POINT_is_at_infinity(dh->ecg, z)) {
		r = SP_EINVAL;
		goto out;
	}
	if (!EC_POINT_get_affine_coordinates(dh->ecg, z, x, NULL, ctx) ||
	    BN_bn2binpad(x, secret, (int)clen) != (int)clen)
		goto out;
	r = 0;
out:
	BN_clear_free(x);
	EC_POINT_clear_free(z);
	EC_POINT_free(p);
	BN_CTX_free(ctx);
	return r;
}

static int x25519_init(struct crypto_dh *dh, const uint8_t *priv, size_t len)
{
	size_t plen = X25519_LEN;

	if (len != X25519_LEN)
		return SP_EINVAL;
	dh->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, len);
	if (dh->pkey == NULL || !EVP_PKEY_get_raw_public_key(dh->pkey, dh->pub, &plen) ||
	    plen != X25519_LEN)
		return SP_ECRYPTO;
	return 0;
}

static int x25519_derive(const struct crypto_dh *dh, const uint8_t *peer, uint8_t *secret)
{
	static const uint8_t zero[X25519_LEN];
	EVP_PKEY *pp = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t slen = X25519_LEN;
	int r = SP_ECRYPTO;

	if ((pp = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, X25519_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(dh->pkey, NULL)) == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, pp) <= 0)
		goto out;
	/* OpenSSL refuses an all-zero result itself; the check below does not rely on it. */
	if (EVP_PKEY_derive(ctx, secret, &slen) <= 0 || slen != X25519_LEN ||
	    CRYPTO_memcmp(secret, zero, X25519_LEN) == 0) {
		OPENSSL_cleanse(secret, X25519_LEN);
		r = SP_EINVAL;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pp);
	return r;
}

int crypto_dh_new_priv(uint16_t group, const uint8_t *priv, size_t len, struct crypto_dh **out)
{
	struct crypto_dh *dh;
	int r;

	*out = NULL;
	if (!crypto_dh_supported(group))
		return SP_EUNSUPP;
	if ((dh = calloc(1, sizeof(*dh))) == NULL)
		return SP_ENOMEM;
	dh->group = group;
	if (group == CRYPTO_DH_MODP2048)
		r = modp_init(dh, priv, len);
	else if (group == CRYPTO_DH_X25519)
		r = x25519_init(dh, priv, len);
	else
		r = ecp_init(dh, priv, len);
	if (r != 0) {
		crypto_dh_free(dh);
		return r;
	}
	*out = dh;
	return 0;
}

int crypto_dh_new(uint16_t group, struct sp_rng *rng, struct crypto_dh **out)
{
	uint8_t priv[SP_MAX(MODP_EXP_BYTES, ECP_MAX_LEN)];
	size_t len;
	int r, tries = 0;

	*out = NULL;
	if (!crypto_dh_supported(group))
		return SP_EUNSUPP;
	len = group == CRYPTO_DH_MODP2048 ? MODP_EXP_BYTES
	      : group == CRYPTO_DH_X25519 ? X25519_LEN
					  : ecp_curve(group)->len;
	/* ECP: rejection sampling for 1 <= d < n. For P-521 the top byte keeps only its low
	 * bit (n is just below 2^521), so a draw is rarely refused. */
	do {
		sp_rng_bytes(rng, priv, len);
		if (group == CRYPTO_DH_ECP521)
			priv[0] &= 0x01;
		r = crypto_dh_new_priv(group, priv, len, out);
	} while (r == SP_EINVAL && ++tries < 16);
	OPENSSL_cleanse(priv, sizeof(priv));
	return r;
}

int crypto_dh_derive(const struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *secret, size_t secret_len)
{
	if (peer_len != crypto_dh_pub_len(dh->group) ||
	    secret_len != crypto_dh_secret_len(dh->group))
		return SP_EINVAL;
	switch (dh->group) {
	case CRYPTO_DH_MODP2048:
		return modp_derive(dh, peer, secret);
	case CRYPTO_DH_X25519:
		return x25519_derive(dh, peer, secret);
	default:
		return ecp_derive(dh, peer, secret);
	}
}
