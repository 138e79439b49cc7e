/*
 * One IPsec instance, sans-IO: its SA database and policy database, and the processing of
 * cleartext going out (policy lookup, then ESP or AH with the policy's current SA) and of
 * packets coming in (SA lookup by SPI, anti-replay, ICV, decapsulation, inbound policy
 * check). The owner hands it packets, `now` and a random source, and gets packets back
 * through callbacks: spinatd's endpoint role wires them to a TUN device and raw sockets,
 * the simulator to its links. IKEv2 (ike/) drives the databases through the ipsec_sa_*
 * and ipsec_policy_* calls and receives acquire and expiry events.
 *
 * Ownership: ipsec_output() and ipsec_input() consume the packet: they pass it to exactly
 * one callback or count a drop and free it.
 */
#ifndef SP_IPSEC_IPSEC_H
#define SP_IPSEC_IPSEC_H

#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "ipsec/ipsec_ctr.h"
#include "ipsec/sa.h"
#include "ipsec/spd.h"

#include <stdio.h>

#define IPSEC_DEFAULT_MAX_SA	      1024
#define IPSEC_DEFAULT_NATT_PORT	      4500
#define IPSEC_DEFAULT_NATT_KEEPALIVE  SP_SEC(20) /* RFC 3948 4: 20 seconds */
#define IPSEC_DEFAULT_ACQUIRE_RETRY   SP_SEC(1)
#define IPSEC_DEFAULT_LARVAL_LIFETIME SP_SEC(30)

enum ipsec_event_type {
	IPSEC_EV_ACQUIRE,	/* outbound traffic matched a PROTECT policy without SA */
	IPSEC_EV_SOFT_EXPIRE,	/* an SA reached a soft limit: rekey */
	IPSEC_EV_HARD_EXPIRE,	/* an SA reached a hard limit: it is deleted after the event */
	IPSEC_EV_LARVAL_EXPIRE, /* a reserved SPI was never given keys: released */
	IPSEC_EV_PEER_MOVED,	/* an SA's peer was followed to a new address or port */
};

enum ipsec_limit {
	IPSEC_LIMIT_BYTES,
	IPSEC_LIMIT_PACKETS,
	IPSEC_LIMIT_ADD_TIME,
	IPSEC_LIMIT_USE_TIME,
	IPSEC_LIMIT_SEQ, /* sequence number space exhausted (RFC 4303 3.3.3) */
};

struct ipsec_event {
	enum ipsec_event_type type;
	/* Expiries: the SA (do not delete it from the callback; a hard expiry deletes it). */
	const struct sa *sa;
	enum ipsec_limit limit;
	/* Acquire: the policy and the packet that found no SA. */
	const struct spd_policy *policy;
	struct spd_tuple tuple;
	/* Peer moved (RFC 7296 2.23): sa is the inbound SA whose authenticated packet came
	 * from addr:port; the SAs of its reqid that had the peer at old_addr:old_port now
	 * have it there. */
	uint32_t addr, old_addr;
	uint16_t port, old_port;
};

struct ipsec_cfg {
	const char *name;	      /* instance name in counters and logs */
	struct sp_rng *rng;	      /* SPIs, CBC IVs, IP identifications */
	const struct sp_log *log;     /* may be NULL */
	struct sp_ctr_registry *ctrs; /* the counters are registered here; may be NULL */
	struct pkt_pool *pool;	      /* for packets the engine originates (keepalives) */
	uint32_t max_sa;	      /* 0: IPSEC_DEFAULT_MAX_SA */
	uint16_t natt_port;	      /* 0: 4500 */
	sp_time natt_keepalive;	      /* 0: 20 s; SP_TIME_NEVER: none */
	sp_time acquire_retry;	      /* 0: 1 s between acquires per policy */
	sp_time larval_lifetime;      /* 0: 30 s for a reserved SPI */
	/* Outbound packets that match no policy: passed in the clear (false: dropped). */
	bool bypass_unmatched;
	/* Crypto lanes (below): 0 or 1 none, at most SA_LANES_MAX. */
	unsigned lanes;
	/* How many times the owner has started, persisted ([ipsec] boot_counter_file): the
	 * IV epoch of manually keyed AES-GCM/GMAC SAs (sa_params.iv_epoch); 0: none, and
	 * such SAs are refused by ipsec_conf_load(). */
	uint32_t iv_epoch;
	const char *boot_counter_file; /* the key's value, borrowed from the configuration */
	/* The SPI policy; alloc NULL: uniformly random SPIs >= 256. */
	struct sa_spi_policy spi_policy;

	/* Protected (or bypassed) whole IPv4 packets for the network. */
	void (*net_out)(void *arg, struct pkt *p);
	/* Decapsulated (or bypassed) packets for the local stack. */
	void (*local_out)(void *arg, struct pkt *p);
	/* IKE on the NAT-T port (RFC 3948 2.2): p holds the UDP payload after the non-ESP
	 * marker; NULL: such packets are counted as drop_ike_no_handler. */
	void (*ike_in)(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		       uint16_t dport);
	void (*event)(void *arg, const struct ipsec_event *ev); /* may be NULL */
	/*
	 * Pre- and post-compensation hooks (001 FIG. 9 steps 810-813, FIG. 10 steps 822-826):
	 * called with the cleartext packet right before it is protected (after the outbound
	 * policy lookup) and right after protection is removed (before the inbound policy
	 * check, which passes the packet as the hook left it or as the SA delivered it).
	 * They may rewrite addresses and ports,
	 * keeping checksums right (asif.h);
	 * nonzero drops the packet as drop_hook. May be NULL.
	 */
	int (*pre_protect)(void *arg, const struct sa *sa, struct pkt *p);
	int (*post_unprotect)(void *arg, const struct sa *sa, struct pkt *p);
	void *arg;
};

struct ipsec;

int ipsec_new(struct ipsec **out, const struct ipsec_cfg *cfg) SP_MUST_CHECK;
/* Frees all SAs (keys wiped) and policies, unregisters the counters; accepts NULL. */
void ipsec_free(struct ipsec *e);
/* The cfg's iv_epoch: nonzero when the owner persists a count of its starts. */
uint32_t ipsec_iv_epoch(const struct ipsec *e);

/* Cleartext from the local stack (a whole IPv4 packet). Consumes p. */
void ipsec_output(struct ipsec *e, sp_time now, struct pkt *p);
/*
 * Cleartext protected with the outbound SA k whatever the policies say (003's epoch guard
 * pings through a new epoch before the policies use it). Consumes p; SP_ENOTFOUND (counted
 * as drop_no_sa) when k is no usable outbound SA.
 */
int ipsec_output_via(struct ipsec *e, sp_time now, struct pkt *p, const struct sa_key *k);
/* A packet from the network (a whole IPv4 packet). Consumes p. */
void ipsec_input(struct ipsec *e, sp_time now, struct pkt *p);

/*
 * Crypto lanes: the ESP cryptography of a batch of packets on several threads, while the
 * engine's own thread keeps everything else (policies, sequence numbers, anti-replay
 * windows, lifetimes, counters, the order of packets). Every SA is keyed once per lane;
 * lane 0 is the engine's thread. Between the calls below the engine's thread runs
 * nothing else of the engine, and each lane's thread runs ipsec_lane_run() on its share of
 * the jobs: jobs are independent, and a lane touches only its own contexts and the bytes
 * of its jobs' packets.
 *
 * Outbound: after ipsec_seal_defer(e), ESP packets are handed to net_out complete but for
 * their ciphertext and ICV (AH, and ESP once IPSEC_JOBS_MAX wait, are sealed at once);
 * the owner keeps them unread and unsent until the jobs (ipsec_jobs()) ran, then
 * ipsec_seal_done() seals any job no lane ran, counts what failed (drop_crypto), sets those
 * packets' length to 0 (not to be sent) and ends the deferral. Sequence numbers are given in order, so packets
 * leave as they would have.
 *
 * Inbound: ipsec_preopen(e, p, n) looks at a batch of packets about to enter
 * ipsec_input() in that order (unchanged: the owner's path hands them over as they are)
 * and makes a job of each ESP packet for a usable SA whose number the window accepts now;
 * after the jobs ran, ipsec_input() takes each packet's result instead of opening it, and
 * checks the window again (a number twice in one batch passes once); the jobs end with
 * ipsec_preopen_done(). A packet whose SA was replaced in between is dropped as
 * drop_no_sa (its bytes were decrypted in place).
 */
#define IPSEC_JOBS_MAX 64
void ipsec_seal_defer(struct ipsec *e);
unsigned ipsec_seal_done(struct ipsec *e);
unsigned ipsec_preopen(struct ipsec *e, struct pkt *const *p, unsigned n);
void ipsec_preopen_done(struct ipsec *e);
/* The jobs waiting, and their bytes. */
unsigned ipsec_jobs(const struct ipsec *e, size_t *bytes);
/* Run jobs [from, to) with the contexts of lane (< cfg.lanes), on that lane's thread. */
void ipsec_lane_run(struct ipsec *e, unsigned lane, unsigned from, unsigned to);

/* Time-driven work: lifetimes, reserved SPIs, NAT-T keepalives. */
sp_time ipsec_next_deadline(const struct ipsec *e);
/* The UDP port of ESP-in-UDP (RFC 3948) and IKE behind the non-ESP marker. */
uint16_t ipsec_natt_port(const struct ipsec *e);
void ipsec_tick(struct ipsec *e, sp_time now);

/*
 * SAs. ipsec_sa_add() installs a complete SA; an outbound SA with a reqid becomes the
 * current SA of every unpinned outbound policy with that reqid. SP_EINVAL leaves a
 * reason in *why (may be NULL); SP_EEXIST when (SPI, proto, dst) is taken (inbound SAs
 * are unique by it; outbound ones of different non-zero reqids may share it, sa.h).
 * Where a struct sa_key names an SA, its reqid tells apart outbound SAs that share (SPI,
 * proto, dst): 0 is any, and SP_EINVAL (a NULL lookup) when that names several.
 */
int ipsec_sa_add(struct ipsec *e, sp_time now, const struct sa_params *p,
		 const char **why) SP_MUST_CHECK;
/* Reserve an inbound SPI through the SPI policy (PF_KEY GETSPI): a LARVAL SA that
 * expires after larval_lifetime unless ipsec_sa_update() gives it keys. */
int ipsec_sa_getspi(struct ipsec *e, sp_time now, uint8_t proto, uint32_t src, uint32_t dst,
		    uint32_t peer_spi, uint32_t *spi) SP_MUST_CHECK;
/* Give keys to a reserved SPI (same SPI, proto, dst), or replace an SA's parameters (an
 * outbound SA found by p's reqid too). */
int ipsec_sa_update(struct ipsec *e, sp_time now, const struct sa_params *p,
		    const char **why) SP_MUST_CHECK;
int ipsec_sa_del(struct ipsec *e, const struct sa_key *k) SP_MUST_CHECK;
/*
 * The peer of an SA is now at addr (RFC 7296 2.23 dynamic address update, decided by the
 * caller, e.g. IKE on an authenticated message from there): an outbound SA sends to it, an
 * inbound one records it; port is the peer's UDP encapsulation port (ignored without UDP
 * encapsulation). SP_EEXIST when an outbound SA with the new (SPI, proto, dst) exists.
 */
int ipsec_sa_move(struct ipsec *e, const struct sa_key *k, uint32_t addr,
		  uint16_t port) SP_MUST_CHECK;
const struct sa *ipsec_sa_lookup(const struct ipsec *e, const struct sa_key *k);
/* Set an installed SA's "as if" addresses (sa_params.asif_src/asif_dst, 001): a lease
 * client learns its global address after IKE installed the SA. */
int ipsec_sa_set_asif(struct ipsec *e, const struct sa_key *k, uint32_t asif_src,
		      uint32_t asif_dst) SP_MUST_CHECK;
const struct sa *ipsec_sa_next(const struct ipsec *e, const struct sa *prev);

/* Policies. */
int ipsec_policy_add(struct ipsec *e, const struct spd_policy_params *p,
		     uint32_t *id) SP_MUST_CHECK;
int ipsec_policy_del(struct ipsec *e, uint32_t id) SP_MUST_CHECK;
/*
 * Choose the outbound SA of policy id (003's epoch guard switching epochs): key names an
 * installed outbound SA; the choice is pinned (later SAs with the reqid do not replace
 * it). A key with SPI 0 pins the policy to no SA: its packets wait (acquire) until one is
 * chosen. key NULL unpins: the newest outbound SA with the policy's reqid is used.
 */
int ipsec_policy_set_sa(struct ipsec *e, uint32_t id, const struct sa_key *key) SP_MUST_CHECK;
const struct spd_policy *ipsec_policy_get(const struct ipsec *e, uint32_t id);
const struct spd_policy *ipsec_policy_next(const struct ipsec *e, const struct spd_policy *prev);

/* Send a NAT-T keepalive (RFC 3948 2.3) on an outbound UDP-encapsulated SA now. */
int ipsec_send_keepalive(struct ipsec *e, sp_time now, const struct sa_key *k) SP_MUST_CHECK;

uint64_t ipsec_counter(const struct ipsec *e, enum ipsec_ctr c);
const char *ipsec_counter_name(enum ipsec_ctr c);

/* The last packet the engine dropped, as its outer header named it when it entered
 * (inbound: the peer is src; outbound: the cleartext's addresses), for a log line that
 * names the peer of a drop. Overwritten by every drop; NULL before the first. */
struct ipsec_drop {
	struct spd_tuple t;
	bool inbound;
	enum ipsec_ctr why;
};
const struct ipsec_drop *ipsec_last_drop(const struct ipsec *e);

/* Human-readable tables for `spinat show sa` / `show policy`. */
void ipsec_show_sa(const struct ipsec *e, sp_time now, FILE *f);
void ipsec_show_policy(const struct ipsec *e, FILE *f);

#endif
