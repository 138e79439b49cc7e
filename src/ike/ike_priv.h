/*
 * Inside the IKE module: connections, IKE and CHILD SAs, the exchange in flight, keys.
 * Shared by ike.c (instance, dispatch, timers, control), ikev2_conf.c (configuration),
 * ikev2_msg.c (framing, SK payload, retransmission), ikev2_keys.c (key derivation, AUTH),
 * ikev2_sa.c (the IKE SA: dispatch, timers, the exchange queue), ikev2_sa_init.c
 * (IKE_SA_INIT), ikev2_sa_auth.c (IKE_AUTH), ikev2_sa_move.c (address moves), ikev2_xchg.c
 * (CREATE_CHILD_SA, INFORMATIONAL, IKE SA rekey), ikev2_child.c (CHILD SAs: proposals,
 * selectors, rekey, delete, lifetimes) and ikev2_spi.c.
 */
#ifndef SP_IKE_IKE_PRIV_H
#define SP_IKE_IKE_PRIV_H

#include "crypto/dh.h"
#include "crypto/prf.h"
#include "ike/ike.h"
#include "ike/ikev2_pld.h"

#define IKE_MOD "ike"

#define foreach_ike_ctr(_)                                      \
	_(RX, "rx")                                             \
	_(TX, "tx")                                             \
	_(RETRANSMIT, "retransmit")                             \
	_(RESPONSE_RESENT, "response_resent")                   \
	_(DROP_MALFORMED, "drop_malformed")                     \
	_(DROP_NO_MARKER, "drop_no_marker")                     \
	_(DROP_VERSION, "drop_version")                         \
	_(DROP_UNKNOWN_SPI, "drop_unknown_spi")                 \
	_(DROP_MSGID, "drop_msgid")                             \
	_(DROP_INTEGRITY, "drop_integrity")                     \
	_(DROP_STATE, "drop_state")                             \
	_(DROP_CRITICAL, "drop_unsupported_critical")           \
	_(DROP_NO_CONN, "drop_no_conn")                         \
	_(DROP_COOKIE, "drop_bad_cookie")                       \
	_(DROP_HALF_OPEN, "drop_half_open_limit")               \
	_(DROP_RESPONSE_UNEXPECTED, "drop_unexpected_response") \
	_(COOKIE_SENT, "cookie_sent")                           \
	_(NO_PROPOSAL, "no_proposal_chosen")                    \
	_(INVALID_KE, "invalid_ke_payload")                     \
	_(AUTH_FAILED, "auth_failed")                           \
	_(TS_UNACCEPTABLE, "ts_unacceptable")                   \
	_(IKE_UP, "ike_sa_up")                                  \
	_(IKE_REKEYED, "ike_sa_rekeyed")                        \
	_(IKE_DOWN, "ike_sa_down")                              \
	_(CHILD_UP, "child_sa_up")                              \
	_(CHILD_REKEYED, "child_sa_rekeyed")                    \
	_(CHILD_DELETED, "child_sa_deleted")                    \
	_(REKEY_COLLISION, "rekey_collision")                   \
	_(REKEY_REFUSED, "rekey_refused")                       \
	_(DPD_SENT, "liveness_sent")                            \
	_(PEER_SILENT, "peer_silent")                           \
	_(KERNEL_FAIL, "kernel_fail")                           \
	_(SPI_EXHAUSTED, "spi_exhausted")                       \
	_(PEER_MOVED, "peer_moved")                             \
	_(PEER_MOVE_IGNORED, "peer_move_ignored")               \
	_(INITIAL_CONTACT, "initial_contact")                   \
	_(IKE_REPLACED, "ike_sa_replaced")                      \
	_(IKE_DUPLICATE_REFUSED, "ike_sa_duplicate_refused")    \
	_(RETRY, "retry")                                       \
	_(LOG_SUPPRESSED, "log_suppressed")                     \
	_(FRAG_TX, "frag_tx")                                   \
	_(FRAG_RX, "frag_rx")                                   \
	_(FRAG_REASSEMBLED, "frag_reassembled")                 \
	_(FRAG_RESTARTED, "frag_reassembly_restarted")          \
	_(DROP_FRAG_MALFORMED, "drop_frag_malformed")           \
	_(DROP_FRAG_UNNEGOTIATED, "drop_frag_not_negotiated")   \
	_(DROP_FRAG_INTEGRITY, "drop_frag_integrity")           \
	_(DROP_FRAG_DUPLICATE, "drop_frag_duplicate")           \
	_(DROP_FRAG_TOTAL, "drop_frag_total_changed")           \
	_(DROP_FRAG_TOO_MANY, "drop_frag_too_many")             \
	_(DROP_FRAG_OVERFLOW, "drop_frag_overflow")             \
	_(DROP_FRAG_MEMORY, "drop_frag_memory")                 \
	_(DROP_FRAG_RETRANSMIT, "drop_frag_retransmit")         \
	_(FRAG_TOO_BIG, "frag_send_too_big")                    \
	_(FRAG_SHRUNK, "frag_size_reduced")

enum ike_ctr {
#define _(sym, str) IKE_CTR_##sym,
	foreach_ike_ctr(_)
#undef _
		IKE_CTR_N
};

#define IKE_PROPS_MAX	  16
/* Reqids of connections are their index + 1; per-CHILD SA ones start here. */
#define IKE_REQID_DYNAMIC 0x10000u
/* How long a replaced IKE SA waits for the delete its replacement promised. */
#define IKE_REKEYED_GRACE SP_SEC(60)

/*
 * IKE fragmentation (RFC 7383). Reassembly is bounded per message (IKE_FRAG_MAX fragments,
 * IKE_FRAG_BYTES_MAX octets of content) and per instance (IKE_FRAG_HELD_MAX octets held in
 * all unfinished reassemblies), since anyone who completed an IKE_SA_INIT can send
 * fragments. [ike] fragment_size is the whole IP datagram of one fragment (2.5.1);
 * IPv4 header and UDP header are counted as 20 and 8 octets.
 */
#define IKE_FRAG_MAX	      128
#define IKE_FRAG_BYTES_MAX    IKEV2_MSG_MAX
#define IKE_FRAG_HELD_MAX     (1024 * 1024)
#define IKE_FRAG_SIZE_DEFAULT 1280
#define IKE_FRAG_SIZE_MIN     576 /* RFC 7383 2.5.1: the IPv4 minimum datagram size */
#define IKE_FRAG_IP_UDP	      (20 + 8)
/* After this many transmissions of a fragmented request without an answer, the next go in
 * fragments of IKE_FRAG_SIZE_MIN (RFC 7383 2.5.2: the path may not take the size). */
#define IKE_FRAG_SHRINK_AFTER 2

enum ike_auto { IKE_AUTO_ADD, IKE_AUTO_START };
enum ike_encap { IKE_ENCAP_AUTO, IKE_ENCAP_NO, IKE_ENCAP_FORCE };
/* What a new IKE SA with the identities of an established one does (strongSwan's
 * uniqueids): replace deletes the old one, keep deletes the new one, no keeps both; all
 * three let an INITIAL_CONTACT (RFC 7296 2.4) remove the old ones, never does not. */
enum ike_unique { IKE_UNIQUE_REPLACE, IKE_UNIQUE_KEEP, IKE_UNIQUE_NO, IKE_UNIQUE_NEVER };

struct ike_id {
	uint8_t type; /* 0: any (remote_id not configured) */
	uint8_t len;
	uint8_t data[IKEV2_ID_MAX];
};

struct nat_spihash_scheme;
struct crypto_cred; /* certificate, key and trust anchor: crypto/x509.h */

struct ike_conn {
	char *name;
	uint32_t local, remote; /* remote 0: any peer (responder only) */
	uint16_t remote_port;
	enum ike_auto autostart;
	uint8_t auth; /* IKEV2_AUTH_PSK or IKEV2_AUTH_SIG */
	uint8_t *psk;
	size_t psk_len;
	struct ike_id local_id, remote_id;
	struct crypto_cred *cred;
	struct ikev2_algs ike_props[IKE_PROPS_MAX];
	size_t n_ike_props;
	struct ikev2_algs child_props[IKE_PROPS_MAX];
	size_t n_child_props;
	uint8_t child_proto;
	bool tunnel;
	struct ike_ts local_ts[IKE_TS_MAX], remote_ts[IKE_TS_MAX];
	uint8_t n_local_ts, n_remote_ts;
	/* local_ts as the peer sees them (ike_conn_set_public); n_public_ts 0: as they are */
	struct ike_ts public_ts[IKE_TS_MAX];
	uint8_t n_public_ts;
	sp_time keylife, rekeymargin, ikelifetime;
	uint32_t rekeyfuzz; /* percent */
	bool rekey;	    /* initiate rekeys at all */
	bool accept_rekey;  /* answer peer-initiated CHILD SA rekeys (003 FIG. 6A step 620) */
	bool epoch_guard;   /* leave the switch to a new outbound SA to the epoch guard */
	enum ike_encap encap;
	bool fragmentation;  /* announce and use IKE fragmentation (RFC 7383) */
	bool dynamic_update; /* follow a peer behind a NAT to its new address (2.23) */
	sp_time dpd_delay;
	bool dpd_restart;
	bool close_restart; /* close_action = restart: set up again after the peer's delete */
	enum ike_unique unique;
	uint32_t keyingtries;	       /* attempts to set up or restart; 0: %forever */
	sp_time retry_base, retry_max; /* backoff between attempts: base, doubling, up to max */
	uint32_t retry_jitter;	       /* percent of each wait, either way */
	sp_time retransmit_timeout;
	uint32_t retransmit_tries;
	enum ike_spi_mode spi_mode;
	const struct nat_spihash_scheme *spihash; /* spi = derived */
	uint32_t reqid;
};

/* Keys of one IKE SA (RFC 7296 2.14). */
struct ike_keys {
	uint16_t prf, encr, encr_keylen, integ;
	size_t prf_len, ekey_len, akey_len, icv_len, iv_len;
	uint8_t sk_d[CRYPTO_PRF_MAX];
	uint8_t sk_ai[64], sk_ar[64];
	uint8_t sk_ei[36], sk_er[36];
	uint8_t sk_pi[CRYPTO_PRF_MAX], sk_pr[CRYPTO_PRF_MAX];
	uint64_t iv_ctr; /* GCM: unique explicit IVs per key (RFC 5282 3.1) */
	/* SK payload contexts, [0] initiator to responder, [1] the other way. */
	struct crypto_aead *aead[2];
	struct crypto_cipher *cbc[2];
	struct crypto_hmac *mac[2];
};

enum ike_child_state {
	IKE_CHILD_INSTALLED,
	IKE_CHILD_REKEYING, /* our rekey in flight */
	IKE_CHILD_REKEYED,  /* replaced; waiting for the delete */
	IKE_CHILD_DELETING, /* our delete in flight */
};

struct ike_child {
	struct ike_child *next;
	const struct ike_conn *conn;
	enum ike_child_state state;
	uint8_t proto;
	bool tunnel;
	bool encap;
	uint32_t spi_in, spi_out;
	uint32_t reqid;
	struct ikev2_algs algs;
	struct ike_ts ts_local[IKE_TS_MAX], ts_remote[IKE_TS_MAX];
	uint8_t n_ts_local, n_ts_remote;
	sp_time installed, rekey_at, expire_at;
	bool want_rekey, want_delete;
	bool installed_kernel;
	/* Simultaneous rekey (2.8.1): the child the peer made for this one while ours was in
	 * flight, and the nonces of its exchange (initiator's, responder's). */
	struct ike_child *peer_rekey;
	uint8_t peer_ni[IKEV2_NONCE_MAX], peer_nr[IKEV2_NONCE_MAX];
	size_t peer_ni_len, peer_nr_len;
	struct ike_child *replaced_by;
};

enum ike_sa_state {
	IKE_SA_INIT_SENT, /* initiator: IKE_SA_INIT request out */
	IKE_SA_INIT_DONE, /* responder: answered IKE_SA_INIT, waiting for IKE_AUTH */
	IKE_SA_AUTH_SENT, /* initiator: IKE_AUTH request out */
	IKE_SA_ESTABLISHED,
	IKE_SA_REKEYED,	 /* replaced by a new IKE SA; waiting for its delete */
	IKE_SA_DELETING, /* our delete in flight */
	IKE_SA_DEAD,	 /* to be freed */
};

enum ike_xchg_kind {
	IKE_X_NONE,
	IKE_X_INIT,
	IKE_X_AUTH,
	IKE_X_CHILD_CREATE,
	IKE_X_CHILD_REKEY,
	IKE_X_IKE_REKEY,
	IKE_X_CHILD_DELETE,
	IKE_X_IKE_DELETE,
	IKE_X_DPD,
};

/*
 * A message as it goes on the wire: one datagram, or its RFC 7383 fragments, each a
 * datagram of its own, which buf then holds one after the other, each behind a 2-octet
 * big-endian length.
 */
struct ike_wire {
	uint8_t *buf;
	size_t len;
	uint16_t nfrag; /* 0: buf is one whole message */
	/* Fragments: the datagram size they were cut for, and of a request its protected
	 * payloads (first type plain_np; wiped when freed), so that a retransmission can cut
	 * them smaller (RFC 7383 2.5.2). */
	uint32_t frag_size;
	uint8_t *plain;
	size_t plain_len;
	uint8_t plain_np, exch;
};

/*
 * One message being reassembled from its fragments (RFC 7383 2.6): the decrypted content
 * of each fragment as it arrived, in buf at off[n - 1] for Fragment Number n.
 */
struct ike_reasm {
	uint32_t msgid;
	uint8_t exch;
	uint8_t first_np; /* Next Payload of fragment 1: the first inner payload */
	uint16_t total;	  /* Total Fragments of the fragments held */
	uint16_t count;	  /* fragments held */
	uint8_t *buf;
	size_t used, cap;
	uint32_t off[IKE_FRAG_MAX];
	uint16_t len[IKE_FRAG_MAX];
	bool have[IKE_FRAG_MAX];
};

/* Our request in flight (window size 1, RFC 7296 2.3). */
struct ike_req {
	enum ike_xchg_kind kind;
	uint32_t msgid;
	struct ike_wire msg;
	unsigned tries;
	sp_time next;
	struct ike_child *child; /* the child being rekeyed or deleted */
	struct crypto_dh *dh;	 /* CREATE_CHILD_SA with PFS, IKE rekey */
	uint8_t nonce[32];
	size_t nonce_len;
	uint32_t new_spi;      /* our inbound SPI offered for the new child */
	uint64_t new_ike_spi;  /* our SPI offered for the new IKE SA */
	struct ike_sa *new_sa; /* IKE rekey collision bookkeeping */
};

struct ike_sa {
	struct ike_sa *next;
	struct ike *ike;
	const struct ike_conn *conn;
	enum ike_sa_state state;
	bool initiator; /* original initiator of this IKE SA */
	uint64_t spi_i, spi_r;
	struct ike_path path;
	bool nat_local, nat_remote, natt; /* natt: moved to the NAT-T port */
	struct ikev2_algs algs;
	struct ike_keys keys;
	struct crypto_dh *dh;
	uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t *init_req, *init_resp; /* IKE_SA_INIT messages for AUTH (2.15) */
	size_t init_req_len, init_resp_len;
	uint8_t *cookie;
	size_t cookie_len;
	uint32_t msgid_next;   /* our next request */
	uint32_t msgid_expect; /* the peer's next request */
	struct ike_req req;
	struct ike_wire resp; /* our last response, resent for a retransmitted request */
	uint32_t resp_msgid;
	bool have_resp;
	struct ike_child *children;
	uint32_t child_in_auth; /* inbound SPI offered in IKE_AUTH */
	/* A CHILD SA the peer made in answer to us that we could not use: its SPI at the
	 * peer's side is our inbound orphan_spi, sent in the next DELETE (1.4.1). */
	uint8_t orphan_proto;
	uint32_t orphan_spi;
	sp_time created, established, rekey_at, expire_at, last_rx, dpd_at, half_open_until;
	bool want_rekey, want_delete, want_dpd, want_child;
	struct ike_sa *rekeyed_to; /* the IKE SA that replaced this one */
	/* Simultaneous IKE SA rekey (2.8.2): the peer's new SA and its nonces. */
	struct ike_sa *peer_rekey;
	uint8_t peer_ni[IKEV2_NONCE_MAX], peer_nr[IKEV2_NONCE_MAX];
	size_t peer_ni_len, peer_nr_len;
	bool sha_sig; /* peer sent SIGNATURE_HASH_ALGORITHMS with SHA2-256 */
	/* Both ends announced IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT (RFC 7383 2.3). */
	bool frag;
	struct ike_reasm *reasm[2]; /* [0] the peer's request, [1] its response */
	/* The largest fragment datagram that reached us from the peer: our own fragments
	 * are cut no larger (a path that took the peer's fragments takes ours). 0: none yet. */
	uint32_t frag_peer_max;
	const char *fail_reason;
	struct ike_id peer_id; /* as authenticated in IKE_AUTH */
	bool initial_contact;  /* the peer's IKE_AUTH carried INITIAL_CONTACT (2.4) */
	bool no_retry;	       /* a failure the connection's retries must not repeat */
	char why[160];	       /* room for a failure's explanation */
};

/* The retries of one connection (keyingtries): attempts so far and when the next is due. */
struct ike_retry {
	uint32_t tries;
	sp_time at; /* SP_TIME_NEVER: none pending */
};

struct ike {
	struct ike_params p;
	char *name;
	struct ike_conn *conns;
	size_t n_conns;
	struct ike_sa *sas;
	uint64_t ctr[IKE_CTR_N];
	struct sp_ctrs ctrs;
	uint16_t port, natt_port;
	uint32_t cookie_threshold;
	uint8_t cookie_secret[2][32];
	uint32_t cookie_ver;
	sp_time cookie_rotate_at;
	sp_time half_open_timeout;
	/* Leased SPIs (001, 002). */
	uint32_t *lease_spi;
	size_t n_lease_spi, cap_lease_spi;
	uint64_t *lease_ike_spi;
	size_t n_lease_ike_spi, cap_lease_ike_spi;
	uint32_t next_reqid; /* for CHILD SAs of connections open to any peer */
	uint8_t *scratch;    /* message building */
	uint32_t frag_size;  /* [ike] fragment_size: IP datagram of one fragment */
	size_t frag_held;    /* octets in all unfinished reassemblies (IKE_FRAG_HELD_MAX) */
	size_t scratch_len;
	struct ike_retry *retry; /* one per connection */
	/* Lines an unauthenticated sender can cause (IKE_LOG_RL, ike_log_ok): a token bucket
	 * for the instance; what it refuses counts as log_suppressed. */
	struct sp_ratelimit log_rl;
	bool shut_down; /* ike_shutdown() ran: nothing is initiated any more */
};

#define IKE_LOG(ike, lvl, ...) sp_logf((ike)->p.log, (lvl), IKE_MOD, __VA_ARGS__)
/* A line an unauthenticated sender can cause: through the instance's bucket. */
#define IKE_LOG_RL(ike, now, lvl, ...)                              \
	do {                                                        \
		if (ike_log_ok((ike), (now)))                       \
			ike_log_limited((ike), (lvl), __VA_ARGS__); \
	} while (0)
/* Count; a drop also gets a log line at debug level (none per packet by default). */
void ike_ctr(struct ike *ike, enum ike_ctr c);

/* ike.c: hand the SA's keys to the owner's keylog callback, if any. */
void ike_keylog(const struct ike_sa *sa);
/* May a line caused by an unauthenticated message be logged now (a token of log_rl;
 * what is left out is counted as log_suppressed)? Before work that only the line needs. */
bool ike_log_ok(struct ike *ike, sp_time now);
/* The line ike_log_ok() let through; it says how many similar lines were left out before. */
void ike_log_limited(struct ike *ike, int level, const char *fmt, ...) SP_PRINTF(3, 4);
/* Keyingtries: schedule the next attempt to set up c after a failure (soon: the first
 * one without waiting), or forget the attempts once it is up. why goes into the log. */
void ike_retry_schedule(struct ike *ike, const struct ike_conn *c, sp_time now, bool soon,
			const char *why);
void ike_retry_reset(struct ike *ike, const struct ike_conn *c);
/* The peer's identity as a log-friendly string ("10.0.0.2", "b.example", "C=CH, CN=b"). */
void ike_id_fmt(uint8_t type, const uint8_t *data, size_t len, char *out, size_t cap);
/* A configured identity matches one received (DNs compared as names, RFC 4945 3.1.5). */
bool ike_id_match(const struct ike_id *want, uint8_t type, const uint8_t *data, size_t len);

/* ikev2_conf.c */
int ike_conf_read(struct ike *ike, struct conf *conf) SP_MUST_CHECK;
void ike_conf_free(struct ike *ike);
const struct ike_conn *ike_conn_find(const struct ike *ike, const char *name);
/* A connection for an IKE_SA_INIT from remote to local (remote 0 matches any). */
const struct ike_conn *ike_conn_match(const struct ike *ike, uint32_t local, uint32_t remote);

/* ikev2_spi.c */
int ike_spi_child_in(struct ike *ike, const struct ike_conn *c, uint8_t proto, uint32_t peer_spi,
		     bool responder, uint32_t *out) SP_MUST_CHECK;
int ike_spi_ike(struct ike *ike, const struct ike_conn *c, uint64_t peer_spi, bool responder,
		uint64_t *out) SP_MUST_CHECK;

/* ikev2_keys.c */
int ike_keys_lengths(struct ike_keys *k, const struct ikev2_algs *a) SP_MUST_CHECK;
/* SKEYSEED and SK_* for a new IKE SA; old_skd non-NULL for a rekey (2.18). */
int ike_keys_derive(struct ike_keys *k, const struct ikev2_algs *a, const uint8_t *gir,
		    size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		    size_t nr_len, uint64_t spi_i, uint64_t spi_r, uint16_t old_prf,
		    const uint8_t *old_skd, size_t old_skd_len) SP_MUST_CHECK;
/* Free the SK contexts and wipe the keys. */
void ike_keys_free(struct ike_keys *k);
/* KEYMAT for a CHILD SA (2.17): out gets encr_i | integ_i | encr_r | integ_r. */
int ike_keys_child(const struct ike_keys *k, const struct ikev2_algs *a, const uint8_t *gir,
		   size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		   size_t nr_len, uint8_t *out, size_t *ekey, size_t *akey) SP_MUST_CHECK;
/* Octets to sign or MAC (2.15) into a malloc'd buffer. */
int ike_auth_octets(const struct ike_sa *sa, bool for_initiator, const uint8_t *id_body,
		    size_t id_body_len, uint8_t **out, size_t *out_len) SP_MUST_CHECK;
int ike_auth_psk(uint16_t prf, const uint8_t *psk, size_t psk_len, const uint8_t *octets,
		 size_t len, uint8_t *out) SP_MUST_CHECK;

/* ikev2_msg.c */
struct ikev2_msg_out;
/* Build a message: header fields, then the payload callback writes into the writer; with
 * encrypt the payloads go inside an SK payload. The result is in ike->scratch. */
typedef int (*ike_build_fn)(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg);
/* An encrypted message after IKE_SA_INIT whose datagram would exceed [ike] fragment_size
 * goes as RFC 7383 fragments when the SA negotiated them (out->nfrag > 0). */
int ike_msg_build(struct ike *ike, struct ike_sa *sa, uint8_t exch, bool response, uint32_t msgid,
		  bool encrypt, ike_build_fn fn, void *arg, struct ike_wire *out) SP_MUST_CHECK;
void ike_wire_free(struct ike_wire *w);
/* Protect or check and decrypt the encrypted part of an SK or SKF payload: msg..iv_off is
 * the associated data (header through the payload's fixed fields), ct the ciphertext
 * (len octets, padded), icv the ICV after it; dir 0: initiator to responder. */
int ike_sk_seal(struct ike_keys *k, int dir, uint8_t *msg, size_t iv_off, uint8_t *ct, size_t len,
		uint8_t *icv) SP_MUST_CHECK;
int ike_sk_open(struct ike_keys *k, int dir, uint8_t *msg, size_t iv_off, uint8_t *ct, size_t len,
		const uint8_t *icv) SP_MUST_CHECK;
/* Check and decrypt in place the encrypted part that starts at iv_off (the IV) and ends the
 * message, from the other end of sa; *content gets the plaintext without its padding. */
int ike_sk_unseal(struct ike_sa *sa, uint8_t *msg, size_t len, size_t iv_off,
		  struct cur *content) SP_MUST_CHECK;
/* Decrypt and verify an SK payload in place; *chain gets the inner payloads. */
int ike_msg_decrypt(struct ike_sa *sa, uint8_t *msg, size_t len, const struct ikev2_pld *sk,
		    struct cur *chain) SP_MUST_CHECK;
void ike_send(struct ike *ike, const struct ike_path *path, const uint8_t *msg, size_t len);
/* Send a message: its one datagram or all its fragments (RFC 7383 2.6.1: all of them on
 * every retransmission). */
void ike_send_wire(struct ike *ike, const struct ike_path *path, const struct ike_wire *w);
/* Send our request (takes ownership of w's buffer) and arm retransmission. */
void ike_req_send(struct ike_sa *sa, sp_time now, enum ike_xchg_kind kind, struct ike_wire *w);
void ike_req_clear(struct ike_sa *sa);
/* Send a response (takes ownership) and keep it for retransmitted requests. */
void ike_resp_send(struct ike_sa *sa, uint32_t msgid, struct ike_wire *w);

/* ikev2_frag.c: RFC 7383 */
/* Split the inner payload chain (first payload type np) of a message into fragments for
 * datagrams of size octets; a request keeps the chain (out->plain) for ike_frag_shrink(). */
int ike_frag_build(struct ike *ike, struct ike_sa *sa, uint8_t exch, bool response, uint32_t msgid,
		   const uint8_t *inner, size_t inner_len, uint8_t np, uint32_t size,
		   struct ike_wire *out) SP_MUST_CHECK;
/* The datagram size this SA's fragments are cut for: [ike] fragment_size, or less when the
 * peer's fragments were smaller. */
uint32_t ike_frag_size(const struct ike *ike, const struct ike_sa *sa);
/* Would this encrypted message (inner chain of inner_len octets) exceed the fragment size
 * on the SA's path, so that it goes in fragments? */
bool ike_frag_needed(const struct ike *ike, const struct ike_sa *sa, uint8_t exch,
		     size_t inner_len);
/* Our fragmented request went unanswered IKE_FRAG_SHRINK_AFTER times: cut it again in
 * fragments of IKE_FRAG_SIZE_MIN (RFC 7383 2.5.2). */
void ike_frag_shrink(struct ike_sa *sa);
/* The Fragment Number of a message whose first payload is SKF, 0 if unreadable. */
uint16_t ike_frag_number(const uint8_t *msg, size_t len);
/*
 * One message whose first payload is SKF, after the window checks (msg is ours to
 * decrypt in place). 0 with *whole set (malloc'd, the caller frees and wipes) when it
 * completed a message: *chain is its inner payloads, *np the first one's type; 0 with
 * *whole NULL when more fragments are needed; an error when it was dropped (counted).
 */
int ike_frag_input(struct ike_sa *sa, uint8_t *msg, size_t len, const struct ikev2_hdr *h,
		   uint8_t **whole, size_t *whole_len, struct cur *chain, uint8_t *np);
/* Forget a reassembly (slot 0: requests, 1: responses). */
void ike_frag_reset(struct ike_sa *sa, int slot);

/* ikev2_sa.c */
struct ike_notify_arg {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};
/* An ike_build_fn writing one notify (arg: struct ike_notify_arg). */
int ike_build_notify(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg);
struct ike_sa *ike_sa_new(struct ike *ike, const struct ike_conn *c, bool initiator, sp_time now);
void ike_sa_free(struct ike_sa *sa);
struct ike_sa *ike_sa_lookup(const struct ike *ike, uint64_t spi_i, uint64_t spi_r,
			     bool from_initiator);
int ike_sa_initiate(struct ike *ike, const struct ike_conn *c, sp_time now) SP_MUST_CHECK;
void ike_sa_input(struct ike_sa *sa, sp_time now, const struct ike_path *path, uint8_t *msg,
		  size_t len, struct ikev2_msg *m, struct ikev2_pld_iter *it);
void ike_sa_tick(struct ike_sa *sa, sp_time now);
sp_time ike_sa_deadline(const struct ike_sa *sa);
/* Start the next queued exchange if the window is free. */
void ike_sa_kick(struct ike_sa *sa, sp_time now);
void ike_sa_fail(struct ike_sa *sa, sp_time now, enum ike_event_type ev, const char *why);
/*
 * Remove an IKE SA now, its CHILD SAs first: with tell_peer, its DELETE is sent once
 * without waiting for the answer (shutdown, a replaced duplicate); why goes into the log.
 */
void ike_sa_delete_now(struct ike_sa *sa, sp_time now, bool tell_peer, const char *why);
void ike_event(struct ike *ike, const struct ike_sa *sa, const struct ike_child *ch,
	       enum ike_event_type type, bool initiator, const char *reason);

/* ikev2_sa_init.c: IKE_SA_INIT */
void ike_sa_input_init_request(struct ike *ike, sp_time now, const struct ike_path *path,
			       uint8_t *msg, size_t len, struct ikev2_msg *m);
void ike_sa_input_init_response(struct ike_sa *sa, sp_time now, const uint8_t *msg, size_t len,
				const struct ikev2_msg *m);

/* ikev2_sa_auth.c: IKE_AUTH */
int ike_sa_send_auth_request(struct ike_sa *sa, sp_time now) SP_MUST_CHECK;
void ike_sa_input_auth_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m);
void ike_sa_input_auth_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m);

/* ikev2_sa_move.c: the peer's address moves (2.23) */
/* An authenticated new message (a request we had not seen, or the answer to ours) came
 * on path. */
void ike_sa_update_path(struct ike_sa *sa, const struct ike_path *path);
/* The peer is at addr:port now (2.23): the IKE SA and its CHILD SAs follow. */
void ike_sa_move_peer(struct ike_sa *sa, uint32_t addr, uint16_t port, const char *seen_in);
/* May this IKE SA follow its peer to a new address and port (2.23)? */
bool ike_sa_may_follow(const struct ike_sa *sa);

/* ikev2_xchg.c: CREATE_CHILD_SA and INFORMATIONAL */
void ike_xchg_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m);
void ike_xchg_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m);
/* Start the most urgent queued exchange (the window is free). */
void ike_xchg_start(struct ike_sa *sa, sp_time now);
/* Answer the request m with one error notify (encrypted). */
void ike_xchg_reply_error(struct ike_sa *sa, const struct ikev2_msg *m, uint16_t type,
			  const void *data, size_t len);
void ike_sa_schedule_ike(struct ike_sa *sa, sp_time now);

/* ikev2_child.c */
/* Our proposals for a new CHILD SA with our inbound SPI; dh: the PFS group or 0. */
size_t ike_child_props(const struct ike_conn *c, uint32_t spi, bool pfs, struct ikev2_algs *out);
/* Choose among the peer's proposals: SP_ENOTFOUND for none. */
/* Proposals as text for the log lines of failures: ours, and those of a peer's SA payload
 * ("aes256gcm16-prfsha256-x25519, aes128-sha256-modp2048"). */
void ike_props_fmt(const struct ikev2_algs *p, size_t n, char *out, size_t cap);
void ike_props_fmt_peer(struct cur sa, char *out, size_t cap);
int ike_child_select(const struct ike_conn *c, const struct ikev2_msg *m, bool pfs_allowed,
		     struct ikev2_algs *out) SP_MUST_CHECK;
int ike_ike_select(const struct ike_conn *c, struct cur sa, bool rekey,
		   struct ikev2_algs *out) SP_MUST_CHECK;
/* Narrow the peer's selectors to ours (2.9); SP_ENOTFOUND: TS_UNACCEPTABLE. */
int ike_ts_narrow(const struct ike_conn *c, const struct ikev2_msg *m, bool responder,
		  struct ike_child *ch) SP_MUST_CHECK;
/* Check the responder's selectors lie within what we proposed. */
/* Our selectors (in) as the peer sees them (ike_conn_set_public): out, n entries. */
void ike_ts_public(const struct ike_conn *c, const struct ike_ts *in, uint8_t n,
		   struct ike_ts *out);
int ike_ts_accept(const struct ike_conn *c, const struct ikev2_msg *m,
		  struct ike_child *ch) SP_MUST_CHECK;
struct ike_child *ike_child_new(struct ike_sa *sa, const struct ike_conn *c);
/* Derive keys and install both directions; we_initiated: we sent the request. */
int ike_child_install(struct ike_sa *sa, struct ike_child *ch, sp_time now, bool we_initiated,
		      const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
		      const uint8_t *nr, size_t nr_len) SP_MUST_CHECK;
void ike_child_remove(struct ike_sa *sa, struct ike_child *ch, bool notify);
struct ike_child *ike_child_by_spi(struct ike_sa *sa, uint8_t proto, uint32_t spi, bool inbound);
/* Tell the data plane the CHILD SA's outer addresses and ports are the IKE SA's path now. */
void ike_child_move(struct ike_sa *sa, struct ike_child *ch);
void ike_child_schedule(struct ike_sa *sa, struct ike_child *ch, sp_time now);
void ike_child_tick(struct ike_sa *sa, sp_time now);
sp_time ike_child_deadline(const struct ike_sa *sa);
/* A randomised rekey time (003: [t0 + keylife - (1 + fuzz) margin, t0 + keylife - margin]). */
sp_time ike_rekey_time(struct ike *ike, sp_time t0, sp_time life, sp_time margin, uint32_t fuzz);

#endif
