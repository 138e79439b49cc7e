#include "ipsec/sa.h"
#include "base/hash.h"
#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/hmac.h"
#include "proto/ah.h"
#include "proto/esp.h"
#include "proto/ipv4.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	uint16_t num;
	const char *name;
} enc_names[] = {
#define _(sym, num, name, help) { num, name },
	foreach_sa_enc(_)
#undef _
};

static const struct {
	uint16_t num;
	const char *name;
} auth_names[] = {
#define _(sym, num, name, help) { num, name },
	foreach_sa_auth(_)
#undef _
};

const char *sa_enc_name(uint16_t enc)
{
	for (size_t i = 0; i < SP_NELEM(enc_names); i++)
		if (enc_names[i].num == enc)
			return enc_names[i].name;
	return NULL;
}

const char *sa_auth_name(uint16_t auth)
{
	for (size_t i = 0; i < SP_NELEM(auth_names); i++)
		if (auth_names[i].num == auth)
			return auth_names[i].name;
	return NULL;
}

int sa_enc_parse(const char *s, uint16_t *enc)
{
	for (size_t i = 0; i < SP_NELEM(enc_names); i++)
		if (strcmp(enc_names[i].name, s) == 0) {
			*enc = enc_names[i].num;
			return 0;
		}
	return SP_EINVAL;
}

int sa_auth_parse(const char *s, uint16_t *auth)
{
	for (size_t i = 0; i < SP_NELEM(auth_names); i++)
		if (strcmp(auth_names[i].name, s) == 0) {
			*auth = auth_names[i].num;
			return 0;
		}
	return SP_EINVAL;
}

/* Hash and truncated ICV length of each integrity transform. */
static bool auth_info(uint16_t auth, enum crypto_hash *h, size_t *icv)
{
	switch (auth) {
	case SA_AUTH_HMAC_MD5_96:
		*h = CRYPTO_HASH_MD5;
		*icv = 12;
		return true;
	case SA_AUTH_HMAC_SHA1_96:
		*h = CRYPTO_HASH_SHA1;
		*icv = 12;
		return true;
	case SA_AUTH_HMAC_SHA2_256_128:
		*h = CRYPTO_HASH_SHA256;
		*icv = 16;
		return true;
	case SA_AUTH_HMAC_SHA2_384_192:
		*h = CRYPTO_HASH_SHA384;
		*icv = 24;
		return true;
	case SA_AUTH_HMAC_SHA2_512_256:
		*h = CRYPTO_HASH_SHA512;
		*icv = 32;
		return true;
	}
	return false;
}

size_t sa_auth_key_len(uint16_t auth)
{
	enum crypto_hash h;
	size_t icv;

	return auth_info(auth, &h, &icv) ? crypto_hash_len(h) : 0;
}

static void xf_free(struct sa_xf *x)
{
	crypto_aead_free(x->aead);
	crypto_cipher_free(x->cipher);
	crypto_hmac_free(x->hmac);
	memset(x, 0, sizeof(*x));
}

static void sa_free_crypto(struct sa *sa)
{
	xf_free(&sa->xf);
	for (unsigned i = 0; sa->lanes != NULL && i + 1u < sa->nlanes; i++)
		xf_free(&sa->lanes[i]);
	free(sa->lanes);
	sa->lanes = NULL;
	sa->nlanes = 1;
}

/* The gcm tag length of an AEAD transform, 0 for the others. */
static size_t aead_tag(uint16_t enc)
{
	switch (enc) {
	case SA_ENC_AES_GCM_8:
		return 8;
	case SA_ENC_AES_GCM_12:
		return 12;
	case SA_ENC_AES_GCM_16:
	case SA_ENC_NULL_AUTH_AES_GMAC:
		return 16;
	}
	return 0;
}

/* Key x for p's transform, which sa_setup_crypto() validated. */
static int xf_new(struct sa_xf *x, const struct sa_params *p)
{
	unsigned dirs = p->dir == SA_DIR_OUT ? CRYPTO_ENC : CRYPTO_DEC;
	enum crypto_hash h = CRYPTO_HASH_SHA256;
	size_t icv = 0, tag = aead_tag(p->enc);
	int r;

	if (p->auth != SA_AUTH_NONE && !auth_info(p->auth, &h, &icv))
		return SP_EINVAL;
	if (p->proto == IPV4_PROTO_AH)
		return crypto_hmac_new(&x->hmac, h, p->auth_key, p->auth_key_len, icv);
	if (tag != 0)
		return crypto_aead_new(&x->aead,
				       p->enc == SA_ENC_NULL_AUTH_AES_GMAC ? CRYPTO_AEAD_AES_GMAC
									   : CRYPTO_AEAD_AES_GCM,
				       p->enc_key, p->enc_key_len, tag, dirs);
	if (p->enc == SA_ENC_NULL)
		r = crypto_cipher_new(&x->cipher, CRYPTO_CIPHER_NULL, NULL, 0, dirs);
	else
		r = crypto_cipher_new(&x->cipher, CRYPTO_CIPHER_AES_CBC, p->enc_key, p->enc_key_len,
				      dirs);
	if (r == 0 && p->auth != SA_AUTH_NONE)
		r = crypto_hmac_new(&x->hmac, h, p->auth_key, p->auth_key_len, icv);
	return r;
}

/* Validate the transform combination and key the crypto contexts. */
static int sa_setup_crypto(struct sa *sa, const struct sa_params *p, const char **why)
{
	enum crypto_hash h = CRYPTO_HASH_SHA256; /* set with the ICV; gcc -O3 cannot see it */
	size_t icv = 0;
	int r;

#define FAIL(msg)                 \
	do {                      \
		*why = msg;       \
		return SP_EINVAL; \
	} while (0)

	if (p->auth != SA_AUTH_NONE) {
		if (!auth_info(p->auth, &h, &icv))
			FAIL("unknown integrity transform");
		/* RFC 2403, 2404, 4868 2.1.1: the key is exactly this long. */
		if (p->auth_key_len != crypto_hash_len(h))
			FAIL("integrity key has the wrong length for the transform");
	} else if (p->auth_key_len != 0) {
		FAIL("integrity key given without an integrity transform");
	}
	if (p->proto == IPV4_PROTO_AH) {
		if (p->enc != SA_ENC_NONE || p->enc_key_len != 0)
			FAIL("AH takes no encryption transform");
		if (p->auth == SA_AUTH_NONE)
			FAIL("AH needs an integrity transform");
		sa->icv_len = (uint8_t)icv;
		return xf_new(&sa->xf, p);
	}
	if (p->proto != IPV4_PROTO_ESP)
		FAIL("protocol must be ESP or AH");
	switch (p->enc) {
	case SA_ENC_NULL:
		if (p->enc_key_len != 0)
			FAIL("NULL encryption takes no key");
		/* RFC 4303 3.2: not both NULL encryption and no integrity. */
		if (p->auth == SA_AUTH_NONE)
			FAIL("ESP with NULL encryption needs an integrity transform");
		break;
	case SA_ENC_AES_CBC:
		if (p->enc_key_len != 16 && p->enc_key_len != 24 && p->enc_key_len != 32)
			FAIL("AES-CBC needs a 16, 24 or 32-byte key");
		break;
	case SA_ENC_AES_GCM_8:
	case SA_ENC_AES_GCM_12:
	case SA_ENC_AES_GCM_16:
	case SA_ENC_NULL_AUTH_AES_GMAC:
		if (p->enc_key_len != 20 && p->enc_key_len != 28 && p->enc_key_len != 36)
			FAIL("AES-GCM/GMAC need a 16, 24 or 32-byte key followed by a 4-byte salt");
		/* RFC 4106 and 4543: combined mode, no separate integrity transform. */
		if (p->auth != SA_AUTH_NONE)
			FAIL("AES-GCM/GMAC take no separate integrity transform");
		icv = aead_tag(p->enc);
		break;
	default:
		FAIL("unknown encryption transform");
	}
	if ((r = xf_new(&sa->xf, p)) != 0)
		return r;
	if (sa->xf.aead != NULL) {
		sa->iv_len = CRYPTO_AEAD_IV_LEN;
		sa->align = 4; /* RFC 4303 2.4: 4-byte alignment of the trailer */
	} else {
		sa->iv_len = (uint8_t)crypto_cipher_iv_len(sa->xf.cipher);
		sa->align = (uint8_t)SP_MAX(crypto_cipher_block_len(sa->xf.cipher), (size_t)4);
	}
	sa->icv_len = (uint8_t)icv;
	return 0;
#undef FAIL
}

int sa_add_lanes(struct sa *sa, const struct sa_params *p, unsigned lanes)
{
	int r;

	if (lanes <= sa->nlanes)
		return 0;
	if (lanes > SA_LANES_MAX || sa->nlanes != 1)
		return SP_EINVAL;
	if ((sa->lanes = calloc(lanes - 1, sizeof(*sa->lanes))) == NULL)
		return SP_ENOMEM;
	sa->nlanes = (uint8_t)lanes; /* sa_free() frees what a failure below leaves */
	for (unsigned i = 0; i + 1 < lanes; i++)
		if ((r = xf_new(&sa->lanes[i], p)) != 0)
			return r;
	return 0;
}

static int check_ids(const struct sa_params *p, const char **why)
{
	if (p->spi < ESP_SPI_MIN) {
		*why = "SPI below 256 (RFC 4303 2.1 reserves 0-255)";
		return SP_EINVAL;
	}
	if (p->mode > SA_MODE_TUNNEL || p->dir > SA_DIR_OUT) {
		*why = "bad mode or direction";
		return SP_EINVAL;
	}
	if (p->replay_window > REPLAY_MAX) {
		*why = "replay window larger than 65536";
		return SP_EINVAL;
	}
	if ((p->encap_sport == 0) != (p->encap_dport == 0) ||
	    (p->encap_sport != 0 && p->proto != IPV4_PROTO_ESP)) {
		*why = "UDP encapsulation needs both ports, and ESP";
		return SP_EINVAL;
	}
	return 0;
}

static void set_ids(struct sa *sa, const struct sa_params *p)
{
	sa->spi = p->spi;
	sa->proto = p->proto;
	sa->mode = p->mode;
	sa->dir = p->dir;
	sa->src = p->src;
	sa->dst = p->dst;
	sa->reqid = p->reqid;
	sa->encap_sport = p->encap_sport;
	sa->encap_dport = p->encap_dport;
	sa->natt_follow = p->natt_follow && p->encap_sport != 0;
	sa->asif_src = p->asif_src;
	sa->asif_dst = p->asif_dst;
	sa->copy_dscp = p->copy_dscp;
	sa->iv_epoch = p->iv_epoch;
	sa->ttl = p->ttl ? p->ttl : 64;
	sa->enc = p->enc;
	sa->auth = p->auth;
	sa->esn = p->esn;
	sa->soft = p->soft;
	sa->hard = p->hard;
}

int sa_new(struct sa **out, const struct sa_params *p, sp_time now, const char **why)
{
	const char *dummy;
	struct sa *sa;
	int r;

	*out = NULL;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if ((r = check_ids(p, why)) != 0)
		return r;
	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return SP_ENOMEM;
	set_ids(sa, p);
	sa->nlanes = 1;
	if ((r = sa_setup_crypto(sa, p, why)) != 0)
		goto fail;
	if (p->dir == SA_DIR_IN && (r = replay_init(&sa->win, p->replay_window, p->seq)) != 0)
		goto fail;
	if (p->dir == SA_DIR_OUT)
		sa->seq = p->seq;
	sa->state = SA_STATE_MATURE;
	sa->stats.installed = now;
	*out = sa;
	return 0;
fail:
	if (*why == NULL)
		*why = sp_strerror(r);
	sa_free(sa);
	return r;
}

void sa_free(struct sa *sa)
{
	if (sa == NULL)
		return;
	sa_free_crypto(sa);
	replay_destroy(&sa->win);
	free(sa);
}

int sadb_init(struct sadb *db, uint32_t max, uint64_t seed)
{
	uint32_t nb = 16;

	memset(db, 0, sizeof(*db));
	if (max == 0)
		return SP_EINVAL;
	while (nb < max && nb < (1u << 20))
		nb <<= 1;
	if ((db->buckets = calloc(nb, sizeof(*db->buckets))) == NULL)
		return SP_ENOMEM;
	db->bucket_mask = nb - 1;
	db->max = max;
	db->seed = seed;
	return 0;
}

void sadb_destroy(struct sadb *db)
{
	for (uint32_t i = 0; i < db->nslots; i++)
		sa_free(db->slots[i]);
	free(db->slots);
	free(db->buckets);
	memset(db, 0, sizeof(*db));
}

static uint32_t bucket(const struct sadb *db, uint32_t spi)
{
	return (uint32_t)sp_hash_u64(spi, db->seed) & db->bucket_mask;
}

struct sa *sadb_lookup_in(const struct sadb *db, uint32_t spi, uint8_t proto, uint32_t dst)
{
	for (uint32_t i = db->buckets[bucket(db, spi)]; i != 0;) {
		struct sa *sa = db->slots[i - 1];

		if (sa->spi == spi && sa->proto == proto && sa->dst == dst && sa->dir == SA_DIR_IN)
			return sa;
		i = sa->hnext;
	}
	return NULL;
}

int sadb_find(const struct sadb *db, const struct sa_key *k, struct sa **out)
{
	struct sa *found = NULL;

	*out = NULL;
	for (uint32_t i = db->buckets[bucket(db, k->spi)]; i != 0;) {
		struct sa *sa = db->slots[i - 1];

		i = sa->hnext;
		if (sa->spi != k->spi || sa->proto != k->proto || sa->dst != k->dst ||
		    (k->reqid != 0 && sa->reqid != k->reqid))
			continue;
		if (found != NULL)
			return SP_EINVAL; /* several outbound SAs: the key must name the reqid */
		found = sa;
	}
	if (found == NULL)
		return SP_ENOTFOUND;
	*out = found;
	return 0;
}

bool sadb_taken(const struct sadb *db, const struct sa *sa, uint32_t dst)
{
	for (uint32_t i = db->buckets[bucket(db, sa->spi)]; i != 0;) {
		const struct sa *o = db->slots[i - 1];

		i = o->hnext;
		if (o == sa || o->spi != sa->spi || o->proto != sa->proto || o->dst != dst)
			continue;
		/* RFC 4301 4.4.2, RFC 4303 2.1: outbound SAs of different CHILD SAs may share
		 * what the receivers chose; everything else is one SA per identity. */
		if (sa->dir == SA_DIR_OUT && o->dir == SA_DIR_OUT && sa->reqid != 0 &&
		    o->reqid != 0 && sa->reqid != o->reqid)
			continue;
		return true;
	}
	return false;
}

struct sa *sadb_lookup_spi(const struct sadb *db, uint32_t spi)
{
	for (uint32_t i = db->buckets[bucket(db, spi)]; i != 0;) {
		struct sa *sa = db->slots[i - 1];

		if (sa->spi == spi)
			return sa;
		i = sa->hnext;
	}
	return NULL;
}

int sadb_insert(struct sadb *db, struct sa *sa)
{
	uint32_t slot, b;

	if (sadb_taken(db, sa, sa->dst))
		return SP_EEXIST;
	if (db->count == db->max)
		return SP_EFULL;
	for (slot = 0; slot < db->nslots; slot++)
		if (db->slots[slot] == NULL)
			break;
	if (slot == db->nslots) {
		uint32_t n = db->nslots ? 2 * db->nslots : 16;
		struct sa **s = realloc(db->slots, n * sizeof(*s));

		if (s == NULL)
			return SP_ENOMEM;
		memset(s + db->nslots, 0, (n - db->nslots) * sizeof(*s));
		db->slots = s;
		db->nslots = n;
	}
	db->slots[slot] = sa;
	sa->idx = slot;
	b = bucket(db, sa->spi);
	sa->hnext = db->buckets[b];
	db->buckets[b] = slot + 1;
	db->count++;
	return 0;
}

void sadb_remove(struct sadb *db, struct sa *sa)
{
	uint32_t *pp = &db->buckets[bucket(db, sa->spi)];

	while (*pp != 0) {
		if (*pp == sa->idx + 1) {
			*pp = sa->hnext;
			break;
		}
		pp = &db->slots[*pp - 1]->hnext;
	}
	db->slots[sa->idx] = NULL;
	sa->hnext = 0;
	db->count--;
}

void sadb_replace(struct sadb *db, struct sa *old, struct sa *sa)
{
	/* Chains link slots, so the new SA in the old one's slot is in its chain too. */
	sa->idx = old->idx;
	sa->hnext = old->hnext;
	db->slots[old->idx] = sa;
	old->hnext = 0;
}

struct sa *sadb_next(const struct sadb *db, const struct sa *prev)
{
	for (uint32_t i = prev ? prev->idx + 1 : 0; i < db->nslots; i++)
		if (db->slots[i] != NULL)
			return db->slots[i];
	return NULL;
}

int sa_new_larval(struct sa **out, uint32_t spi, uint8_t proto, uint32_t src, uint32_t dst,
		  sp_time expires)
{
	struct sa *sa;

	*out = NULL;
	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return SP_ENOMEM;
	sa->spi = spi;
	sa->proto = proto;
	sa->dir = SA_DIR_IN;
	sa->src = src;
	sa->dst = dst;
	sa->state = SA_STATE_LARVAL;
	sa->nlanes = 1;
	sa->larval_expires = expires;
	*out = sa;
	return 0;
}
