/*
 * IKEv2 (RFC 7296) key management, sans-IO. A struct ike holds the connections of one
 * endpoint and their IKE and CHILD SAs. It is handed UDP payloads with their addresses
 * (ike_input), the time, and a struct sp_rng; it answers with messages through the output
 * callback, installs CHILD SAs through struct ike_kernel_ops, reports what happened through
 * the event callback, and says when it next needs attention (ike_next_deadline, ike_tick).
 * It never opens a socket, reads a clock or asks the kernel for randomness, so the same
 * code runs in spinatd, in the simulator and in spinat-bench.
 */
#ifndef SP_IKE_IKE_H
#define SP_IKE_IKE_H

#include "base/conf.h"
#include "base/counter.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/time.h"

#include <stdio.h>

struct ike;
struct ike_conn;

/* Addresses of one IKE message or SA, host order. */
struct ike_path {
	uint32_t local_addr;
	uint32_t remote_addr;
	uint16_t local_port;
	uint16_t remote_port;
};

/* A traffic selector (RFC 7296 3.13.1), IPv4 only: ranges, protocol 0 = any. */
struct ike_ts {
	uint32_t ts_start;
	uint32_t ts_end;
	uint16_t ts_port_start;
	uint16_t ts_port_end;
	uint8_t ts_proto;
};

#define IKE_TS_MAX 8

/* Security protocols (RFC 7296 3.3.1). */
#define IKE_PROTO_IKE 1
#define IKE_PROTO_AH  2
#define IKE_PROTO_ESP 3

/*
 * One CHILD SA direction as handed to the data plane. Keys point into the IKE module's
 * memory and are valid only during the call. For AES-GCM, encr_key holds key | 4-byte salt
 * (RFC 4106 8.1) and there is no integrity key.
 */
struct ike_child_sa {
	const char *conn;
	uint32_t reqid; /* same for both directions and across rekeys of one CHILD SA */
	uint8_t proto;	/* IKE_PROTO_ESP or IKE_PROTO_AH */
	bool inbound;
	bool tunnel; /* tunnel mode, else transport */
	uint32_t spi;
	uint32_t src, dst; /* outer addresses */
	bool encap;	   /* UDP encapsulation (RFC 3948) with these ports */
	uint16_t encap_sport, encap_dport;
	/* The data plane may follow the peer to the source of an authenticated new packet
	 * (RFC 7296 2.23: this end is not behind a NAT, the peer is, dynamic_update). */
	bool follow;
	uint16_t encr;	      /* IKEv2 transform ID; 0 for AH */
	uint16_t encr_keylen; /* bits */
	uint16_t integ;	      /* IKEv2 transform ID; 0 for AEAD */
	bool esn;
	const uint8_t *encr_key;
	size_t encr_key_len;
	const uint8_t *integ_key;
	size_t integ_key_len;
	const struct ike_ts *ts_local; /* selectors as negotiated */
	const struct ike_ts *ts_remote;
	uint8_t n_ts_local, n_ts_remote;
};

/*
 * The data plane as IKE needs it (the IPsec SA and policy databases). sa_add installs one
 * direction; for an outbound SA, `current` says whether the policy should point at it now
 * (false while an epoch guard decides when to switch, 003). sa_del removes one direction
 * (the reqid tells apart outbound SAs of different peers that chose the same SPI).
 * spi_in_use tells whether an inbound SPI is taken (so a derived or leased SPI can be
 * checked). last_used, when set, gives the time an inbound SA last passed a packet, which
 * keeps the liveness check quiet while traffic flows (RFC 7296 2.4). sa_move gives one
 * direction (by SPI, protocol, direction and reqid; no keys) the outer addresses and ports
 * in sa: the peer moved (RFC 7296 2.23). Any may be NULL.
 */
struct ike_kernel_ops {
	int (*sa_add)(void *arg, sp_time now, const struct ike_child_sa *sa, bool current);
	int (*sa_del)(void *arg, uint8_t proto, uint32_t spi, bool inbound, uint32_t dst,
		      uint32_t reqid);
	int (*sa_move)(void *arg, const struct ike_child_sa *sa);
	bool (*spi_in_use)(void *arg, uint8_t proto, uint32_t spi);
	sp_time (*last_used)(void *arg, uint8_t proto, uint32_t spi_in);
	void *arg;
};

/* What other modules (the endpoint's epoch guard, 003; scenarios) act on. */
enum ike_event_type {
	IKE_EV_IKE_UP,	       /* IKE SA established */
	IKE_EV_IKE_REKEYED,    /* IKE SA replaced by a new one (spi_*: the new one) */
	IKE_EV_IKE_DOWN,       /* IKE SA gone (deleted, failed, expired) */
	IKE_EV_CHILD_UP,       /* CHILD SA installed */
	IKE_EV_CHILD_REKEYED,  /* new CHILD SA installed for an old one (old_*: the old SPIs) */
	IKE_EV_CHILD_DELETED,  /* CHILD SA removed */
	IKE_EV_PEER_SILENT,    /* retransmissions exhausted: peer unreachable (2.4) */
	IKE_EV_AUTH_FAILED,    /* the peer's or our authentication was refused */
	IKE_EV_CONNECT_FAILED, /* setting up failed (no proposal, TS, timeout) */
};

struct ike_event {
	enum ike_event_type type;
	const char *conn;
	uint64_t ike_spi_i, ike_spi_r;
	uint32_t peer; /* remote address */
	uint8_t proto;
	uint32_t spi_in, spi_out;
	uint32_t old_spi_in, old_spi_out;
	uint32_t reqid;
	bool initiator; /* we started the exchange that caused this */
	const char *reason;
};

/* Which inbound SPIs this endpoint picks (config key spi). */
enum ike_spi_mode {
	IKE_SPI_RANDOM,	 /* default */
	IKE_SPI_LEASED,	 /* from a list leased from the NAT (001, 002) */
	IKE_SPI_DERIVED, /* from the peer's SPI with a crypto/spihash_scheme.h scheme (000) */
};

/*
 * The keys of an IKE SA as derived (for a debugger's decryption table, like strongSwan's
 * save-keys): only when the owner asks for them with ike_params.keylog.
 */
struct ike_keylog {
	uint64_t spi_i, spi_r;
	uint16_t encr, encr_keylen, integ;
	const uint8_t *sk_ei, *sk_er, *sk_ai, *sk_ar;
	size_t ekey_len, akey_len; /* for AES-GCM, ekey_len includes the 4-byte salt */
};

/* One row of Wireshark's ikev2_decryption_table for k. */
void ike_keylog_wireshark(FILE *f, const struct ike_keylog *k);

/* An SPI IKE is about to choose for this end (ike_params.spi). */
struct ike_spi_req {
	const char *conn;
	uint8_t proto; /* IKE_PROTO_IKE: an IKE SPI; IKE_PROTO_ESP, _AH: an inbound CHILD SA SPI */
	bool responder;
	uint64_t peer_spi; /* the peer's SPI for the same SA, 0 when not known yet */
};

struct ike_params {
	const char *name; /* instance name in logs and counters */
	struct sp_log *log;
	struct sp_ctr_registry *ctrs;
	struct sp_rng *rng;
	/* Sends one UDP payload (non-ESP marker included on the NAT-T port) on path. */
	void (*output)(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len);
	void *output_arg;
	void (*event)(void *arg, const struct ike_event *ev);
	void *event_arg;
	struct ike_kernel_ops kernel;
	void (*keylog)(void *arg, const struct ike_keylog *k); /* may be NULL */
	void *keylog_arg;
	/*
	 * The owner's SPI policy, asked before the connection's own (config key spi); may be
	 * NULL. 0 with *spi set: that SPI (refused with SP_EEXIST when taken or, for a CHILD
	 * SA, not in 256..2^32-1); SP_ENOTFOUND: the connection's policy decides; any other
	 * error fails the allocation, and with it the exchange that needed the SPI.
	 */
	int (*spi)(void *arg, const struct ike_spi_req *req, uint64_t *spi);
	void *spi_arg;
	/* Fetches a CRL from a certificate's http: distribution point for connections with
	 * crl_fetch = yes: the owner's I/O (crypto/x509.h crypto_crl_fetch_fn: 0 and a
	 * malloc'd DER or PEM CRL, or an SP_E* code). May be NULL. */
	int (*crl_fetch)(void *arg, const char *uri, uint8_t **crl, size_t *len);
	void *crl_fetch_arg;
	/* The largest IP datagram the owner's path for IKE carries (its packet buffers, a
	 * tunnel), 0: no limit: [ike] fragment_size is lowered to it, not below 576
	 * (RFC 7383 2.5.1). */
	uint32_t frag_max;
};

/*
 * Read [ike] and every [conn NAME] section (docs/IKE.md lists the keys) and make the
 * instance. Configuration errors are SP_ECONFIG with conf_error() naming file, line and key.
 */
int ike_new(const struct ike_params *p, struct conf *conf, struct ike **out) SP_MUST_CHECK;
void ike_free(struct ike *ike);

/* Initiate connections whose auto = start. */
void ike_start(struct ike *ike, sp_time now);

/*
 * An orderly stop: every established IKE SA is deleted, its DELETE sent once without
 * waiting for the answer (RFC 7296 1.4.1), so peers drop its CHILD SAs at once instead of
 * after their liveness checks; everything else is forgotten, and nothing is initiated
 * afterwards (ike_up() is SP_ESTATE). Call before ike_free().
 */
void ike_shutdown(struct ike *ike, sp_time now);

/*
 * One received UDP datagram's payload on path (path->local_* is where it arrived). On the
 * NAT-T port the 4-byte non-ESP marker must be present (RFC 3948 2.2) and is checked here;
 * the caller hands ESP-in-UDP to the data plane itself. Whatever is wrong is dropped with a
 * counter, never a crash.
 */
void ike_input(struct ike *ike, sp_time now, const struct ike_path *path, const uint8_t *msg,
	       size_t len);

sp_time ike_next_deadline(const struct ike *ike);
/* The UDP port IKE listens on besides the NAT-T port ([ike] port, 500). */
uint16_t ike_port(const struct ike *ike);
void ike_tick(struct ike *ike, sp_time now);

/* Control (spinat up|down|rekey NAME): SP_ENOTFOUND for an unknown connection. */
int ike_up(struct ike *ike, sp_time now, const char *conn) SP_MUST_CHECK;
int ike_down(struct ike *ike, sp_time now, const char *conn) SP_MUST_CHECK;
/* Rekey the CHILD SAs of conn (and with ike true its IKE SA). */
int ike_rekey(struct ike *ike, sp_time now, const char *conn, bool ike_sa) SP_MUST_CHECK;

/* The data plane reports a lifetime event of one direction of a CHILD SA (by its SPI, and
 * for an outbound one its reqid, 0: any): soft rekeys it, hard deletes it (RFC 4301
 * 4.4.2.1). */
void ike_child_expire(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi, bool inbound,
		      uint32_t reqid, bool hard);
/*
 * Delete the CHILD SA whose inbound SPI is spi_in now and tell the peer (RFC 7296 1.4.1):
 * 003's epoch guard retires the epoch it switched away from. SP_ENOTFOUND if unknown.
 */
int ike_child_delete(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi_in) SP_MUST_CHECK;
/* Traffic matched a policy of conn that has no CHILD SA yet (an acquire): bring it up. */
void ike_acquire(struct ike *ike, sp_time now, const char *conn);
/*
 * The data plane followed the peer of the CHILD SA with inbound SPI spi_in to addr:port
 * after an authenticated new packet from there (RFC 7296 2.23, RFC 3948): the IKE SA and
 * its other CHILD SAs follow too, where this end may (not behind a NAT, dynamic_update).
 */
void ike_peer_moved(struct ike *ike, sp_time now, uint8_t proto, uint32_t spi_in, uint32_t addr,
		    uint16_t port);

/* Leased SPIs (001, 002): the lease client hands IKE what the NAT granted. */
int ike_spi_lease_add(struct ike *ike, uint32_t first, uint32_t count) SP_MUST_CHECK;
int ike_spi_lease_add_ike(struct ike *ike, uint64_t spi) SP_MUST_CHECK;

/* `spinat show sa`: one block per IKE SA with its CHILD SAs. */
void ike_show(const struct ike *ike, sp_time now, FILE *out);

/* What a connection was configured with, for modules that act beside IKE (003's guard). */
struct ike_conn_info {
	uint32_t local, remote; /* remote 0: any peer */
	uint32_t reqid;		/* of its CHILD SAs */
	sp_time keylife, rekeymargin;
	uint32_t rekeyfuzz; /* percent */
	bool accept_rekey, epoch_guard;
	struct ike_ts local_ts[IKE_TS_MAX], remote_ts[IKE_TS_MAX];
	uint8_t n_local_ts, n_remote_ts;
	/* auth = pubkey: our certificate (DER, the connection's, valid while IKE lives);
	 * NULL with a PSK. 002's host finds the port block it binds. */
	const uint8_t *cert;
	size_t cert_len;
};
int ike_conn_info(const struct ike *ike, const char *conn, struct ike_conn_info *out) SP_MUST_CHECK;

/*
 * The connection's local selectors as its peer sees them: pub[k] stands for local_ts[k]
 * (n equals n_local_ts; 0 goes back to the selectors as configured). A host behind a NAT
 * that leased it a global address and ports (001, host/host_lease.h) proposes them in TSi
 * and keeps its own policies on the private ones: an initiator's TSi (IKE_AUTH,
 * CREATE_CHILD_SA) carries pub[k] for local_ts[k], a responder's TSr likewise, and the
 * peer's TSi/TSr equal to pub[k] are read as local_ts[k] (RFC 7296 2.9 compares them with
 * local_ts). Without it the peer, seeing only the global address, finds nothing in common
 * with the private one (the problem RFC 7296 2.23.1 solves for NAT-T on the responder).
 */
int ike_conn_set_public(struct ike *ike, const char *conn, const struct ike_ts *pub,
			uint8_t n) SP_MUST_CHECK;

/* The IP datagram size IKE fragments are cut for (RFC 7383): [ike] fragment_size, or
 * ike_params.frag_max when that is less. */
uint32_t ike_fragment_size(const struct ike *ike);

/* Counts, for scenarios and tests. */
unsigned ike_sa_count(const struct ike *ike, bool established_only);
unsigned ike_child_count(const struct ike *ike);

#endif
