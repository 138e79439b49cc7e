/* IKEv2 keying: SKEYSEED and SK_* (RFC 7296 2.14, 2.18), CHILD SA KEYMAT (2.17), AUTH (2.15). */
#include "ike/ike_priv.h"

#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/hmac.h"

#include <stdlib.h>
#include <string.h>

int ike_keys_lengths(struct ike_keys *k, const struct ikev2_algs *a)
{
	k->prf = a->prf;
	k->encr = a->encr;
	k->encr_keylen = a->encr_keylen;
	k->integ = a->integ;
	if ((k->prf_len = crypto_prf_len(a->prf)) == 0)
		return SP_EUNSUPP;
	if (a->encr_keylen != 128 && a->encr_keylen != 256)
		return SP_EUNSUPP;
	switch (a->encr) {
	case IKEV2_ENCR_AES_GCM_16:
		/* RFC 5282 7.1: each key is followed by a 4-octet salt; no integrity key. */
		if (a->integ != IKEV2_INTEG_NONE)
			return SP_EUNSUPP;
		k->ekey_len = a->encr_keylen / 8 + 4;
		k->akey_len = 0;
		k->iv_len = 8;
		k->icv_len = 16;
		return 0;
	case IKEV2_ENCR_AES_CBC:
		if (a->integ != IKEV2_INTEG_HMAC_SHA2_256_128)
			return SP_EUNSUPP;
		k->ekey_len = a->encr_keylen / 8;
		k->akey_len = 32; /* RFC 4868 2.1.1: key length = output length */
		k->iv_len = 16;
		k->icv_len = 16;
		return 0;
	default:
		return SP_EUNSUPP;
	}
}

void ike_keys_free(struct ike_keys *k)
{
	for (int i = 0; i < 2; i++) {
		crypto_aead_free(k->aead[i]);
		crypto_cipher_free(k->cbc[i]);
		crypto_hmac_free(k->mac[i]);
	}
	crypto_wipe(k, sizeof(*k));
}

/* Key the SK payload's transforms once per IKE SA (3.14, RFC 5282). */
static int sk_contexts(struct ike_keys *k)
{
	const uint8_t *ek[2] = { k->sk_ei, k->sk_er }, *ak[2] = { k->sk_ai, k->sk_ar };
	int r;

	for (int i = 0; i < 2; i++) {
		if (k->encr == IKEV2_ENCR_AES_GCM_16) {
			r = crypto_aead_new(&k->aead[i], CRYPTO_AEAD_AES_GCM, ek[i], k->ekey_len,
					    k->icv_len, CRYPTO_BOTH);
		} else if ((r = crypto_cipher_new(&k->cbc[i], CRYPTO_CIPHER_AES_CBC, ek[i],
						  k->ekey_len, CRYPTO_BOTH)) == 0) {
			r = crypto_hmac_new(&k->mac[i], CRYPTO_HASH_SHA256, ak[i], k->akey_len,
					    k->icv_len);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

int ike_keys_derive(struct ike_keys *k, const struct ikev2_algs *a, const uint8_t *gir,
		    size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		    size_t nr_len, uint64_t spi_i, uint64_t spi_r, uint16_t old_prf,
		    const uint8_t *old_skd, size_t old_skd_len)
{
	uint8_t skeyseed[CRYPTO_PRF_MAX], spis[16], km[2 * CRYPTO_PRF_MAX * 2 + 2 * 64 + 2 * 36];
	size_t total, o = 0;
	int r;

	if ((r = ike_keys_lengths(k, a)) != 0)
		return r;
	if (old_skd != NULL) {
		/* 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the old SA's PRF. */
		struct crypto_iov in[] = { { gir, gir_len }, { ni, ni_len }, { nr, nr_len } };

		if (crypto_prf_len(old_prf) > sizeof(skeyseed) ||
		    crypto_prf_len(old_prf) != k->prf_len)
			return SP_EUNSUPP;
		r = crypto_prf(old_prf, old_skd, old_skd_len, in, 3, skeyseed);
	} else {
		/* 2.14: SKEYSEED = prf(Ni | Nr, g^ir). */
		uint8_t key[2 * IKEV2_NONCE_MAX];
		struct crypto_iov in = { gir, gir_len };

		memcpy(key, ni, ni_len);
		memcpy(key + ni_len, nr, nr_len);
		r = crypto_prf(a->prf, key, ni_len + nr_len, &in, 1, skeyseed);
		crypto_wipe(key, sizeof(key));
	}
	if (r != 0)
		goto out;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr |
	 * SPIi | SPIr) */
	sp_store_be64(spis, spi_i);
	sp_store_be64(spis + 8, spi_r);
	{
		struct crypto_iov s[] = { { ni, ni_len }, { nr, nr_len }, { spis, 16 } };

		total = 3 * k->prf_len + 2 * k->akey_len + 2 * k->ekey_len;
		if ((r = crypto_prf_plus(a->prf, skeyseed, k->prf_len, s, 3, km, total)) != 0)
			goto out;
	}
	memcpy(k->sk_d, km + o, k->prf_len);
	o += k->prf_len;
	memcpy(k->sk_ai, km + o, k->akey_len);
	o += k->akey_len;
	memcpy(k->sk_ar, km + o, k->akey_len);
	o += k->akey_len;
	memcpy(k->sk_ei, km + o, k->ekey_len);
	o += k->ekey_len;
	memcpy(k->sk_er, km + o, k->ekey_len);
	o += k->ekey_len;
	memcpy(k->sk_pi, km + o, k->prf_len);
	o += k->prf_len;
	memcpy(k->sk_pr, km + o, k->prf_len);
	k->iv_ctr = 0;
	r = sk_contexts(k);
out:
	crypto_wipe(skeyseed, sizeof(skeyseed));
	crypto_wipe(km, sizeof(km));
	return r;
}

/* Key sizes of a CHILD SA's algorithms (ESP: RFC 4106 8.1 salt for GCM; AH: integ only). */
static int child_key_sizes(const struct ikev2_algs *a, size_t *ekey, size_t *akey)
{
	*ekey = 0;
	*akey = 0;
	if (a->proto == IKE_PROTO_ESP) {
		if (a->encr_keylen != 128 && a->encr_keylen != 256)
			return SP_EUNSUPP;
		if (a->encr == IKEV2_ENCR_AES_GCM_16) {
			if (a->integ != IKEV2_INTEG_NONE)
				return SP_EUNSUPP;
			*ekey = a->encr_keylen / 8 + 4;
			return 0;
		}
		if (a->encr != IKEV2_ENCR_AES_CBC)
			return SP_EUNSUPP;
		*ekey = a->encr_keylen / 8;
	} else if (a->encr != 0) {
		return SP_EUNSUPP; /* AH has no encryption */
	}
	if (a->integ != IKEV2_INTEG_HMAC_SHA2_256_128)
		return SP_EUNSUPP;
	*akey = 32;
	return 0;
}

int ike_keys_child(const struct ike_keys *k, const struct ikev2_algs *a, const uint8_t *gir,
		   size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		   size_t nr_len, uint8_t *out, size_t *ekey, size_t *akey)
{
	/* 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), taken as encryption then
	 * integrity key for initiator to responder, then for responder to initiator. */
	struct crypto_iov s[] = { { gir, gir_len }, { ni, ni_len }, { nr, nr_len } };
	int r;

	if ((r = child_key_sizes(a, ekey, akey)) != 0)
		return r;
	return crypto_prf_plus(k->prf, k->sk_d, k->prf_len, gir != NULL ? s : s + 1,
			       gir != NULL ? 3 : 2, out, 2 * (*ekey + *akey));
}

int ike_auth_octets(const struct ike_sa *sa, bool for_initiator, const uint8_t *id_body,
		    size_t id_body_len, uint8_t **out, size_t *out_len)
{
	/* 2.15: InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI,
	 *       ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR,
	 * MACedIDFor* = prf(SK_p*, RestOf*IDPayload). */
	const uint8_t *msg = for_initiator ? sa->init_req : sa->init_resp;
	size_t mlen = for_initiator ? sa->init_req_len : sa->init_resp_len;
	const uint8_t *nonce = for_initiator ? sa->nr : sa->ni;
	size_t nlen = for_initiator ? sa->nr_len : sa->ni_len;
	const uint8_t *skp = for_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
	struct crypto_iov id = { id_body, id_body_len };
	uint8_t *b;
	int r;

	*out = NULL;
	if (msg == NULL)
		return SP_ESTATE;
	if ((b = malloc(mlen + nlen + sa->keys.prf_len)) == NULL)
		return SP_ENOMEM;
	memcpy(b, msg, mlen);
	memcpy(b + mlen, nonce, nlen);
	if ((r = crypto_prf(sa->keys.prf, skp, sa->keys.prf_len, &id, 1, b + mlen + nlen)) != 0) {
		free(b);
		return r;
	}
	*out = b;
	*out_len = mlen + nlen + sa->keys.prf_len;
	return 0;
}

int ike_auth_psk(uint16_t prf, const uint8_t *psk, size_t psk_len, const uint8_t *octets,
		 size_t len, uint8_t *out)
{
	/* 2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <*SignedOctets>) */
	static const char pad[] = "Key Pad for IKEv2";
	struct crypto_iov p = { pad, sizeof(pad) - 1 }, o = { octets, len };
	uint8_t k[CRYPTO_PRF_MAX];
	int r;

	if ((r = crypto_prf(prf, psk, psk_len, &p, 1, k)) == 0)
		r = crypto_prf(prf, k, crypto_prf_len(prf), &o, 1, out);
	crypto_wipe(k, sizeof(k));
	return r;
}
