/*
 * Security associations (RFC 4301 4.4.2): what one SA is, how it is described when
 * installed (struct sa_params, filled by IKEv2 or by manual keying), and the SA database
 * that finds it by (SPI, protocol, destination), with the reqid for outbound SAs that
 * share those, or by SPI alone. An SA owns its keyed crypto contexts, its sequence counter
 * or anti-replay window, lifetimes and statistics.
 */
#ifndef SP_IPSEC_SA_H
#define SP_IPSEC_SA_H

#include "base/rand.h"
#include "base/time.h"
#include "ipsec/replay.h"

struct crypto_aead;
struct crypto_cipher;
struct crypto_hmac;

/* Crypto lanes an SA can be keyed for: the engine's own thread and up to 7 others. */
#define SA_LANES_MAX 8

enum sa_mode {
	SA_MODE_TRANSPORT = 0,
	SA_MODE_TUNNEL = 1,
};

enum sa_dir {
	SA_DIR_IN = 0,
	SA_DIR_OUT = 1,
};

/* Encryption transforms, numbered as IKEv2 transform type 1 (IANA). */
#define foreach_sa_enc(_)                                                   \
	_(NONE, 0, "none", "no ESP encryption transform (AH)")              \
	_(NULL, 11, "null", "NULL encryption (RFC 2410)")                   \
	_(AES_CBC, 12, "aes-cbc", "AES-CBC, key 16/24/32 bytes (RFC 3602)") \
	_(AES_GCM_8, 18, "aes-gcm-8", "AES-GCM, 8-byte ICV (RFC 4106)")     \
	_(AES_GCM_12, 19, "aes-gcm-12", "AES-GCM, 12-byte ICV (RFC 4106)")  \
	_(AES_GCM_16, 20, "aes-gcm-16", "AES-GCM, 16-byte ICV (RFC 4106)")  \
	_(NULL_AUTH_AES_GMAC, 21, "aes-gmac", "AES-GMAC, integrity only (RFC 4543)")

enum sa_enc {
#define _(sym, num, name, help) SA_ENC_##sym = num,
	foreach_sa_enc(_)
#undef _
};

/* Integrity transforms, numbered as IKEv2 transform type 3 (IANA). */
#define foreach_sa_auth(_)                                                         \
	_(NONE, 0, "none", "no separate integrity transform")                      \
	_(HMAC_MD5_96, 1, "hmac-md5-96", "HMAC-MD5-96 (RFC 2403)")                 \
	_(HMAC_SHA1_96, 2, "hmac-sha1-96", "HMAC-SHA1-96 (RFC 2404)")              \
	_(HMAC_SHA2_256_128, 12, "hmac-sha256-128", "HMAC-SHA-256-128 (RFC 4868)") \
	_(HMAC_SHA2_384_192, 13, "hmac-sha384-192", "HMAC-SHA-384-192 (RFC 4868)") \
	_(HMAC_SHA2_512_256, 14, "hmac-sha512-256", "HMAC-SHA-512-256 (RFC 4868)")

enum sa_auth {
#define _(sym, num, name, help) SA_AUTH_##sym = num,
	foreach_sa_auth(_)
#undef _
};

/* Text names ("aes-gcm-16") and back; NULL / SP_EINVAL when unknown. */
const char *sa_enc_name(uint16_t enc);
const char *sa_auth_name(uint16_t auth);
int sa_enc_parse(const char *s, uint16_t *enc) SP_MUST_CHECK;
int sa_auth_parse(const char *s, uint16_t *auth) SP_MUST_CHECK;
/* Key length an integrity transform takes: 16 for HMAC-MD5-96 (RFC 2403), 20 for
 * HMAC-SHA1-96 (RFC 2404), the hash length for RFC 4868; 0 for none or unknown. */
size_t sa_auth_key_len(uint16_t auth);

/* Lifetime limits (RFC 4301 4.4.2.1); 0 means no limit. */
struct sa_lifetime {
	uint64_t bytes;	  /* protected payload bytes */
	uint64_t packets; /* packets */
	sp_time add_time; /* after installation */
	sp_time use_time; /* after first use */
};

/*
 * The identity of an SA: on the wire (RFC 4301 4.1: SPI, protocol, destination), and the
 * reqid, which tells apart outbound SAs that share those. The receiver picks the SPI of
 * an SA and finds its inbound SAs by it (RFC 4303 2.1, RFC 4301 4.4.2), so only they must
 * be unique; outbound SAs are reached through the SPD. Two peers behind one NAT address
 * may pick the same SPI, and a gateway then has two outbound SAs with the same (SPI,
 * protocol, destination), of different CHILD SAs (003 Background, the incoming-SPI
 * collision). reqid 0 in a key: any (an error where that names several SAs).
 */
struct sa_key {
	uint32_t spi;
	uint8_t proto;	/* IPV4_PROTO_ESP or IPV4_PROTO_AH */
	uint32_t dst;	/* outer destination, host order */
	uint32_t reqid; /* 0: any */
};

/* Everything needed to install an SA. Keys are copied; the caller may wipe its own. */
struct sa_params {
	uint32_t spi;
	uint8_t proto; /* IPV4_PROTO_ESP or IPV4_PROTO_AH */
	uint8_t mode;  /* enum sa_mode */
	uint8_t dir;   /* enum sa_dir */
	uint32_t src;  /* outer source: this host outbound, the peer inbound */
	uint32_t dst;  /* outer destination */
	uint16_t enc;  /* enum sa_enc (SA_ENC_NONE for AH) */
	uint16_t auth; /* enum sa_auth (SA_AUTH_NONE with AEAD transforms) */
	/* Encryption keying material: for AES-GCM/GMAC the key followed by the 4-byte salt
	 * (RFC 4106 8.1, RFC 4543 3.2). */
	const uint8_t *enc_key;
	size_t enc_key_len;
	const uint8_t *auth_key;
	size_t auth_key_len;
	bool esn;		/* 64-bit extended sequence numbers (RFC 4303 2.2.1) */
	uint32_t replay_window; /* inbound: window size; 0 disables the check */
	uint64_t seq;		/* outbound: last number used (next sent is seq + 1);
				* inbound: highest already seen. Normally 0. */
	struct sa_lifetime soft, hard;
	/* UDP encapsulation (RFC 3948): both ports non-zero. */
	uint16_t encap_sport, encap_dport;
	/*
	 * Dynamic address update (RFC 7296 2.23, RFC 3948): an inbound UDP-encapsulated SA
	 * with this set moves its peer, and the SAs with its reqid that have the same peer,
	 * to the source address and port of an authenticated new packet (one that advances
	 * the anti-replay window). Only for an end that is not behind a NAT.
	 */
	bool natt_follow;
	/* Ties this SA to policies with the same reqid (RFC 4301 "SA bundle" id); 0 none. */
	uint32_t reqid;
	/*
	 * "As if" addresses (001, procedure steps 3, 4, 3', 4'; RFC 3948 3.1.2 with NAT-OA):
	 * outbound, the AH ICV is computed, and a transport-mode TCP/UDP checksum adjusted,
	 * as if the outer source (asif_src) or destination (asif_dst) were this address;
	 * inbound, the AH ICV is verified as if the addresses were these, and the checksum
	 * the sender computed over them is corrected to the addresses actually received.
	 * 0 means "as it stands".
	 */
	uint32_t asif_src, asif_dst;
	/* Copied to the outer header in tunnel mode when true, else 0 (RFC 4301 5.1.2.1). */
	bool copy_dscp;
	uint8_t ttl; /* tunnel mode outer TTL; 0: 64 */
	/* AES-GCM/GMAC with a static key: the high half of every IV (the low half is the
	 * 32-bit sequence number), a count of the owner's starts kept across restarts so an
	 * IV never repeats under the key (RFC 4106 3.1). 0: the IV is the sequence number. */
	uint32_t iv_epoch;
};

enum sa_state {
	SA_STATE_LARVAL = 0, /* SPI reserved (getspi), keys not yet installed */
	SA_STATE_MATURE = 1,
	SA_STATE_DYING = 2, /* soft lifetime passed: still usable, being replaced */
	SA_STATE_DEAD = 3,  /* hard lifetime passed or deleted */
};

/* Per-SA counters; the epoch guard (003) reads last_used to switch epochs. */
struct sa_stats {
	uint64_t packets;      /* authenticated in / protected out */
	uint64_t bytes;	       /* of inner payload */
	sp_time installed;     /* when the keys were installed */
	sp_time first_used;    /* 0 before the first packet */
	sp_time last_used;     /* last packet authenticated (in) or sent (out) */
	uint64_t drop_replay;  /* inbound */
	uint64_t drop_icv;     /* inbound */
	uint64_t drop_padding; /* inbound */
	uint64_t drop_other;   /* malformed, policy mismatch, expired */
};

/* The keyed contexts of an SA's transform. A context holds one message at a time, so each
 * crypto lane (a thread that seals or opens for the engine, ipsec.h) has a set of its own,
 * keyed alike. */
struct sa_xf {
	struct crypto_aead *aead;     /* GCM/GMAC */
	struct crypto_cipher *cipher; /* CBC/NULL */
	struct crypto_hmac *hmac;     /* separate integrity */
};

struct sa {
	/* Identity */
	uint32_t spi;
	uint8_t proto, mode, dir, state;
	uint32_t src, dst;
	uint32_t reqid;
	uint16_t encap_sport, encap_dport;
	bool natt_follow;
	uint32_t asif_src, asif_dst;
	bool copy_dscp;
	uint8_t ttl;
	uint32_t iv_epoch;
	/* Transform */
	uint16_t enc, auth;
	uint8_t iv_len;	 /* explicit IV in each ESP packet */
	uint8_t icv_len; /* ESP or AH ICV */
	uint8_t align;	 /* ESP: payload + trailer is a multiple of this */
	bool esn;
	struct sa_xf xf;     /* the keyed contexts the engine's own thread uses */
	struct sa_xf *lanes; /* crypto lanes 1 .. nlanes - 1: a set each (sa_add_lanes) */
	uint8_t nlanes;	     /* 1 when the SA has only xf */
	/* Sequence numbers */
	uint64_t seq;	   /* outbound: last sent */
	struct replay win; /* inbound */
	/* Lifetimes */
	struct sa_lifetime soft, hard;
	bool soft_fired;
	sp_time larval_expires; /* LARVAL only */
	sp_time keepalive_sent; /* outbound UDP-encapsulated: last NAT-T keepalive */
	struct sa_stats stats;
	/* Database */
	uint32_t gen;	/* the engine's count of SAs installed when this one was: never reused */
	uint32_t idx;	/* slot in the database */
	uint32_t hnext; /* next in hash chain (slot + 1, 0 ends) */
};

/* The SPI policy: how inbound SPIs are chosen (random by default; 001 leases them from the
 * NAT, 000 derives them from the peer's SPI). Colleague modules supply their own. */
struct sa_spi_req {
	uint8_t proto;
	uint32_t src, dst; /* the future inbound SA's outer addresses (dst is this host) */
	uint32_t peer_spi; /* the peer's SPI of the pair, 0 when not known yet */
	uint32_t attempt;  /* 0, then counts proposals that collided */
};

struct sa_spi_policy {
	const char *name;
	/* Propose an SPI >= 256. An error stops the allocation and is returned. */
	int (*alloc)(void *arg, const struct sa_spi_req *req, uint32_t *spi);
	/* The SPI is free again (SA deleted, reservation expired); may be NULL. */
	void (*release)(void *arg, uint8_t proto, uint32_t dst, uint32_t spi);
	void *arg;
};

/* The SA database. */
struct sadb {
	struct sa **slots; /* NULL for a free slot */
	uint32_t nslots, count, max;
	uint32_t *buckets; /* slot + 1, 0 empty; chained through sa->hnext */
	uint32_t bucket_mask;
	uint64_t seed;
};

int sadb_init(struct sadb *db, uint32_t max, uint64_t seed) SP_MUST_CHECK;
/* Frees every SA (wiping keys). */
void sadb_destroy(struct sadb *db);

/*
 * Check p and build an SA (keyed crypto contexts, window); SP_EINVAL with a reason in why
 * (may be NULL) for impossible combinations: unknown transform, wrong key length, AEAD
 * with an integrity transform, ESP with neither confidentiality nor integrity, AH with
 * an encryption transform, SPI below 256.
 */
int sa_new(struct sa **out, const struct sa_params *p, sp_time now, const char **why) SP_MUST_CHECK;
void sa_free(struct sa *sa);
/* Key lanes 1 .. lanes - 1 of sa (made by sa_new from p) alike: lanes <= SA_LANES_MAX. */
int sa_add_lanes(struct sa *sa, const struct sa_params *p, unsigned lanes) SP_MUST_CHECK;
/* The contexts of lane (< sa->nlanes; 0 is sa->xf). */
static inline struct sa_xf *sa_xf(struct sa *sa, unsigned lane)
{
	return lane == 0 ? &sa->xf : &sa->lanes[lane - 1];
}
/* A keyless inbound SA that only reserves its SPI until `expires` (PF_KEY's GETSPI). */
int sa_new_larval(struct sa **out, uint32_t spi, uint8_t proto, uint32_t src, uint32_t dst,
		  sp_time expires) SP_MUST_CHECK;

/*
 * Insert (the database takes ownership). SP_EEXIST when (spi, proto, dst) is taken: by any
 * SA for an inbound one; for an outbound one, by an inbound SA, or an outbound SA of the
 * same reqid, or either reqid 0 (manual keys have nothing else to tell them apart).
 */
int sadb_insert(struct sadb *db, struct sa *sa) SP_MUST_CHECK;
/* Would sa, with outer destination dst, break those rules (sa itself not counted)? */
bool sadb_taken(const struct sadb *db, const struct sa *sa, uint32_t dst);
/* Unlink and return ownership to the caller. */
void sadb_remove(struct sadb *db, struct sa *sa);
/* Put sa (same SPI, proto and dst) where old is; the caller gets old back. */
void sadb_replace(struct sadb *db, struct sa *old, struct sa *sa);
/* The inbound (or reserved) SA of a received packet's (spi, proto, dst). */
struct sa *sadb_lookup_in(const struct sadb *db, uint32_t spi, uint8_t proto, uint32_t dst);
/* The SA k names: SP_ENOTFOUND, or SP_EINVAL when k's reqid is 0 and several outbound SAs
 * share its (spi, proto, dst). */
int sadb_find(const struct sadb *db, const struct sa_key *k, struct sa **out) SP_MUST_CHECK;
/* The first SA with this SPI whatever its protocol and destination (NAT-T peers whose
 * address changed, and demultiplexers that see only the SPI). */
struct sa *sadb_lookup_spi(const struct sadb *db, uint32_t spi);
/* Iterate: pass NULL first. */
struct sa *sadb_next(const struct sadb *db, const struct sa *prev);

#endif
