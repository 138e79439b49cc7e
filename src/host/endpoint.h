/*
 * The endpoint stack: one IPsec engine (ipsec/ipsec.h), IKEv2 when the configuration has
 * [conn NAME] sections (ike/ike.h), and an ordered list of host modules beside them (003's
 * epoch guard first; 001's lease client, 002's tunnel client, 004's discovery and L2TP
 * client plug in the same way). Sans-IO: its owner (spinatd's endpoint role, the
 * simulator's endpoint adapter, a test) hands it whole IPv4 packets and the time and gets
 * whole IPv4 packets back through struct endpoint_io; it never opens a socket or reads a
 * clock. docs/HOST.md has the picture and "how to write a host module".
 *
 * The packet path. Modules are listed from the host towards the wire, so outbound packets
 * meet them first to last and inbound packets last to first:
 *
 *   endpoint_output(cleartext)
 *     -> out_clear (m0 .. mn)          before the policy lookup: hold, rewrite, answer
 *     -> IPsec: policy, SA -> pre_protect (m0 .. mn) -> ESP/AH
 *     -> out_wire (m0 .. mn)           whole packets for the network: wrap, rewrite
 *     -> io.net_out
 *   endpoint_input(packet)
 *     -> in_wire (mn .. m0)            unwrap, take the module's own control replies
 *     -> IKE (UDP to the IKE port) or IPsec -> post_unprotect (mn .. m0)
 *     -> in_clear (mn .. m0)           decapsulated cleartext: take, rewrite
 *     -> io.local_out
 *
 * IKE's own messages are built into whole UDP/IPv4 packets here and go down the same
 * out_wire path (so a module that wraps ESP wraps IKE too); IKE on the NAT-T port comes up
 * through IPsec (RFC 3948 2.2) after in_wire. An IKE message too long for a packet buffer
 * goes whole to and from the owner's own sockets (io.ike_send, endpoint_ike_input()).
 */
#ifndef SP_HOST_ENDPOINT_H
#define SP_HOST_ENDPOINT_H

#include "base/conf.h"
#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"
#include "ike/ike.h"
#include "ipsec/ipsec.h"

#include <stdio.h>

struct endpoint;

/* What a packet hook decided; who owns p afterwards. */
enum endpoint_verdict {
	EP_PASS = 0,	 /* the stack keeps p and carries on (p may be rewritten in place) */
	EP_CONSUMED = 1, /* the module owns p: freed, kept (held) or re-injected */
	EP_DROP = 2,	 /* the stack frees p; the module has counted why */
};

/* Where a packet is on its way, for endpoint_resume(). */
enum endpoint_stage {
	EP_STAGE_OUT_CLEAR = 0, /* outbound cleartext, before IPsec */
	EP_STAGE_OUT_WIRE = 1,	/* outbound, after IPsec */
	EP_STAGE_IN_WIRE = 2,	/* inbound, before IKE and IPsec */
	EP_STAGE_IN_CLEAR = 3,	/* inbound cleartext, after IPsec */
};

/*
 * One host module. Every hook may be NULL. ctx is what create() made. Packet hooks get a
 * whole IPv4 packet (data starts at the IP header) and answer with a verdict; a module
 * that holds a packet (EP_CONSUMED) sends it on later with endpoint_resume(). Hooks run
 * inside the stack's calls; they may call back into the stack (endpoint_send,
 * endpoint_resume, IKE's control functions) but must not free it.
 */
struct endpoint_module_ops {
	const char *name; /* "guard"; in logs and endpoint_module_show() */
	/*
	 * Make the module from the configuration (its keys inside [conn NAME] sections or its
	 * own section), after IPsec and IKE exist. *ctx NULL: not used by this configuration,
	 * no other hook is called. SP_ECONFIG with conf_fail() on bad keys.
	 */
	int (*create)(struct endpoint *ep, struct conf *conf, void **ctx);
	void (*destroy)(void *ctx);
	/* The configuration is complete and the owner runs: may send (endpoint_send). */
	void (*start)(void *ctx, sp_time now);
	/* An orderly stop (endpoint_shutdown), after IKE's deletes, while the owner can still
	 * send: give back what the module holds (002's blocks). */
	void (*stop)(void *ctx, sp_time now);

	/* Packets (see the path above). */
	enum endpoint_verdict (*out_clear)(void *ctx, sp_time now, struct pkt *p);
	/* Cleartext that policy sends through sa, right before protection (001's
	 * compensation, FIG. 9 steps 810-813); nonzero drops it (IPsec's drop_hook). */
	int (*pre_protect)(void *ctx, sp_time now, const struct sa *sa, struct pkt *p);
	enum endpoint_verdict (*out_wire)(void *ctx, sp_time now, struct pkt *p);
	enum endpoint_verdict (*in_wire)(void *ctx, sp_time now, struct pkt *p);
	/* Cleartext that came through sa (inbound), right after its protection was removed
	 * (001 FIG. 10 steps 822-826; 003: which epoch it came through); nonzero drops it. */
	int (*post_unprotect)(void *ctx, sp_time now, const struct sa *sa, struct pkt *p);
	enum endpoint_verdict (*in_clear)(void *ctx, sp_time now, struct pkt *p);

	/* Events: IKE's (IKE SA up/down, CHILD SA up/rekeyed/down, failures) and IPsec's
	 * (acquire, soft/hard expiry, peer moved), in module order. */
	void (*ike_event)(void *ctx, sp_time now, const struct ike_event *ev);
	void (*ipsec_event)(void *ctx, sp_time now, const struct ipsec_event *ev);
	/*
	 * SPI policy: IKE is about to choose an SPI (req). 0 with *spi set: use it (a leased
	 * SPI, 001 steps 801-802); SP_ENOTFOUND: not this module's (the next module, then the
	 * connection's own `spi` policy, decides); any other error fails the allocation
	 * (SP_EAGAIN: not yet, e.g. while a lease is requested; the module brings the
	 * connection up again with ike_up() when it has one).
	 */
	int (*spi)(void *ctx, sp_time now, const struct ike_spi_req *req, uint64_t *spi);

	/* Timers: the earliest time tick() is due (SP_TIME_NEVER: idle). */
	sp_time (*next_deadline)(const void *ctx);
	void (*tick)(void *ctx, sp_time now);
	/* `spinat show NAME` (the daemon's control command of the module), may be NULL. */
	void (*show)(void *ctx, sp_time now, FILE *out);
};

/* The owner's side. now is the time of the stack call in progress. */
struct endpoint_io {
	/* A whole IPv4 packet for the network (ESP, AH, IKE, keepalives, modules' own).
	 * Consumes p. */
	void (*net_out)(void *arg, sp_time now, struct pkt *p);
	/* A whole IPv4 cleartext packet for the host (TUN, the node's stack). Consumes p. */
	void (*local_out)(void *arg, sp_time now, struct pkt *p);
	/* Optional: IKE's events, before the modules have them (the daemon warns on
	 * failures); IPsec's events when there is no IKE to take them (manual keys), after
	 * the modules; IKE's keys (a key log). */
	void (*ike_event)(void *arg, sp_time now, const struct ike_event *ev);
	void (*ipsec_event)(void *arg, sp_time now, const struct ipsec_event *ev);
	void (*keylog)(void *arg, const struct ike_keylog *k);
	/*
	 * Optional: an IKE message too long for a packet buffer (IKE_AUTH with a certificate
	 * chain), on either IKE port: the UDP payload as it is (on the NAT-T port with its
	 * non-ESP marker), for the owner's own UDP socket of path->local_port; it skips the
	 * out_wire hooks. 0: the owner took it (and counts its own send failures); nonzero
	 * (no socket for the port), or NULL: counted as host.drop_ike_too_long.
	 */
	int (*ike_send)(void *arg, sp_time now, const struct ike_path *path, const uint8_t *msg,
			size_t len);
	/*
	 * Optional: fetch a CRL from a certificate's http: distribution point for connections
	 * with crl_fetch = yes (crypto/x509.h crypto_crl_fetch_fn: 0 with a malloc'd DER or PEM
	 * CRL, or an SP_E* code). The owner's I/O; it may block for as long as the owner allows.
	 * NULL: no fetching.
	 */
	int (*crl_fetch)(void *arg, const char *uri, uint8_t **crl, size_t *len);
	void *arg;
};

struct endpoint_params {
	const char *name; /* instance name in logs and counters */
	const struct sp_log *log;
	struct sp_ctr_registry *ctrs; /* may be NULL */
	struct sp_rng *rng;	      /* keys, SPIs, nonces, IVs, the modules' jitter */
	struct pkt_pool *pool;
	/* IPsec engine defaults the configuration's [ipsec] keys may change. */
	bool bypass_unmatched;
	/*
	 * What the owner knows of the heuristic NAT in front (the simulator's masq NAT):
	 * its T_out, N_out and T_ei replace the epoch guard's masq_* keys (003). 0: the keys.
	 */
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
	/*
	 * The IV epoch of manually keyed AES-GCM/GMAC SAs (ipsec_cfg.iv_epoch, RFC 4106 3.1):
	 * iv_epoch when nonzero (the simulator counts a node's starts), else what boot_count()
	 * answers for the configuration's [ipsec] boot_counter_file (the daemon persists a
	 * count of its starts there; called with io.arg). Neither: such SAs are refused.
	 */
	uint32_t iv_epoch;
	int (*boot_count)(void *arg, const char *file, uint32_t *epoch);
	/* The IPsec engine's crypto lanes (ipsec_cfg.lanes); 0 or 1: none. */
	unsigned lanes;
	/* The modules to offer the configuration, from the host towards the wire (at most
	 * ENDPOINT_MODULES_MAX); NULL: the table in endpoint.c (what the daemon and the
	 * simulator run). A test passes its own. */
	const struct endpoint_module_ops *const *modules;
	unsigned nmodules;
	struct endpoint_io io;
};

#define ENDPOINT_MODULES_MAX 8

/*
 * Make the stack from conf: the IPsec engine ([ipsec], [sa], [policy]), IKE when there is
 * a [conn NAME], then every module of the table in endpoint.c that the configuration
 * asks for. SP_ECONFIG with conf_error() on bad keys. Nothing is sent before
 * endpoint_start().
 */
int endpoint_new(const struct endpoint_params *p, struct conf *conf, sp_time now,
		 struct endpoint **out) SP_MUST_CHECK;
void endpoint_free(struct endpoint *ep); /* accepts NULL; keys wiped */
/* IKE initiates its auto = start connections; modules start. */
void endpoint_start(struct endpoint *ep, sp_time now);
/*
 * An orderly stop, while the owner can still send: IKE deletes every established IKE SA
 * and sends its DELETE once without waiting for the answer (ike_shutdown(), RFC 7296
 * 1.4.1), so peers drop the tunnels at once; then every module's stop(). Call before
 * endpoint_free().
 */
void endpoint_shutdown(struct endpoint *ep, sp_time now);

/* Cleartext from the host. Consumes p. */
void endpoint_output(struct endpoint *ep, sp_time now, struct pkt *p);
/* A packet from the network. Consumes p. */
void endpoint_input(struct endpoint *ep, sp_time now, struct pkt *p);
/*
 * An IKE datagram's UDP payload the owner received on its own socket (path->local_port):
 * to IKE directly. For the daemon's UDP 500 socket, and for a datagram on the NAT-T port
 * too long for a packet buffer (IKE_AUTH with a certificate chain; its non-ESP marker
 * included, IKE checks it). Packets the owner has whole go to endpoint_input().
 */
void endpoint_ike_input(struct endpoint *ep, sp_time now, const struct ike_path *path,
			const uint8_t *msg, size_t len);

/*
 * The first configured module with a hook on the wire side of IPsec (out_wire, in_wire),
 * or NULL. Such a hook reads or rewrites protected packets between the engine and the
 * owner's sockets, so the engine's crypto lanes (ipsec.h: ESP sealed after net_out,
 * opened before ipsec_input()) are not for such a configuration.
 */
const char *endpoint_wire_module(const struct endpoint *ep);

sp_time endpoint_next_deadline(const struct endpoint *ep);
/* IPsec's timers, IKE's, then every module's, in that order. */
void endpoint_tick(struct endpoint *ep, sp_time now);

/* ---- for modules -------------------------------------------------------------------- */

/*
 * Send a packet the module made (a lease request, a PAP frame, a STUN binding request, an
 * L2TP control message) towards the network: it meets the out_wire hooks of the modules
 * after self (towards the wire), then io.net_out. Consumes p.
 */
void endpoint_send(struct endpoint *ep, const void *self, sp_time now, struct pkt *p);
/*
 * Let a held packet go on from stage after module self (NULL: from the start of the
 * stage): released cleartext after a lease arrived, an inbound packet after unwrapping.
 * Consumes p.
 */
void endpoint_resume(struct endpoint *ep, const void *self, enum endpoint_stage stage, sp_time now,
		     struct pkt *p);

struct ike *endpoint_ike(const struct endpoint *ep); /* NULL without [conn] */
sp_time endpoint_now(const struct endpoint *ep);     /* of the last call into the stack */
struct ipsec *endpoint_ipsec(const struct endpoint *ep);
const struct endpoint_params *endpoint_params(const struct endpoint *ep);

/* The named module's show(); SP_ENOTFOUND when this configuration has none. */
int endpoint_module_show(struct endpoint *ep, const char *name, sp_time now, FILE *out);

#endif
