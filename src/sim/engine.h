/*
 * The two attachment contracts of the simulator's IP nodes (sim/ipnode.h): an endpoint
 * engine on a host (IPsec/IKE endpoint, 001 compensation, 002 port translation, 003 epoch
 * guard, ...) and a NAT engine on a router (spinat's NAT engine, sim/nat_sim.h, or a test's
 * own). Engines are sans-IO: the node hands them `now`, a private random stream, its log,
 * its counters registry and the packet pool, and they answer through verdicts, the env's
 * callbacks and next_deadline(). An engine never sees the event queue or the links.
 *
 * Ownership: every hook receives a complete IPv4 packet (p's data starts at the IP header,
 * header validated by the node: version, lengths, header checksum). The verdict says who
 * owns p afterwards:
 *   SIM_PASS      the node keeps p and carries on (the engine may have rewritten it in
 *                 place, pushing or pulling headers, as long as it is still one IPv4 packet);
 *   SIM_CONSUMED  the engine owns p: it freed it, keeps it, or re-emitted it through
 *                 env->send / env->deliver;
 *   SIM_DROP      the node frees p; the engine has counted the reason in its own counters
 *                 (the node counts the verdict as "ep_dropped" / "nat_dropped", which are not
 *                 drop reasons themselves).
 * Flow packets carry p->tag != 0 for the links' overhead accounting: an engine that moves
 * a packet into another buffer copies the tag (pkt_clone() does).
 */
#ifndef SP_SIM_ENGINE_H
#define SP_SIM_ENGINE_H

#include "sim/node.h"

enum sim_verdict {
	SIM_PASS = 0,
	SIM_CONSUMED = 1,
	SIM_DROP = 2,
};

/* ---- Endpoint engines ------------------------------------------------------------ */

/* What a host gives its endpoint engine. Valid from create() until destroy(). */
struct sim_ep_env {
	struct sim_node *node;	      /* read its name, addresses (node->ifs), routes */
	struct sp_rng *rng;	      /* private stream "node:<name>/ep" */
	const struct sp_log *log;     /* the node's log: lines carry virtual time and name */
	struct sp_ctr_registry *ctrs; /* register the engine's counter blocks here */
	struct pkt_pool *pool;	      /* allocate the engine's own packets here */
	/*
	 * Send a complete IPv4 packet the engine built or transformed (ESP, IKE, keepalive,
	 * ping through a tunnel): the node routes it by its destination and transmits it. It
	 * does not pass the engine's output hook again. Consumes p.
	 */
	void (*send)(struct sim_ep_env *env, sp_time now, struct pkt *p);
	/*
	 * Re-inject a cleartext IPv4 packet (decapsulated) as if it had arrived on ifi: the
	 * node delivers it locally or, when it forwards, routes it on (a tunnel-mode
	 * gateway). It does not pass the engine's input hook again; forwarded, it does pass
	 * the output hook like every forwarded packet. Consumes p.
	 */
	void (*deliver)(struct sim_ep_env *env, sp_time now, struct pkt *p, unsigned ifi);
	/* Make addr local to the node (an inner or virtual address a tunnel assigns). */
	int (*addr_add)(struct sim_ep_env *env, uint32_t addr);
	void *priv; /* the node's */
};

/* Figures a technique's endpoints contribute to the comparison table. */
struct sim_ep_report {
	uint32_t tunnels_up;	 /* tunnels usable now (both directions keyed) */
	uint32_t tunnels_wanted; /* tunnels this endpoint is configured to keep up */
	uint64_t rx_foreign;	 /* packets that were meant for another endpoint (misdelivered
				    by a NAT), e.g. ESP with an SPI it never allocated */
	uint64_t ctl_pkts;	 /* control packets sent (IKE, keepalives, epoch pings) */
	uint64_t ctl_bytes;
	uint32_t rekeys;   /* child SA rekeys done */
	uint32_t sessions; /* IKE sessions started (a new session is a recovery step) */
};

struct sim_ep_ops {
	const char *name;
	/* Create on a node; cfg is engine-specific (the technique knows its type). */
	int (*create)(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now);
	/*
	 * Outbound: a packet the node is about to send, locally originated or forwarded,
	 * after the routing decision rt (interface, next hop). Protect it (encapsulate and
	 * env->send the result, return SIM_CONSUMED), drop it, or pass it unchanged.
	 */
	enum sim_verdict (*output)(void *ctx, sp_time now, struct pkt *p,
				   const struct sim_route_hit *rt);
	/*
	 * Inbound: a packet addressed to one of the node's addresses arrived on ifi (ESP,
	 * AH, UDP 500/4500/1701 or anything else). Consume it (and env->deliver the
	 * cleartext), drop it, or pass it to the node's stack.
	 */
	enum sim_verdict (*input)(void *ctx, sp_time now, struct pkt *p, unsigned ifi);
	/* When tick() is next due; SP_TIME_NEVER when idle. Asked after every call. */
	sp_time (*next_deadline)(void *ctx);
	void (*tick)(void *ctx, sp_time now);
	/* The node crashed: forget every SA, key, session and timer. Must not send. */
	void (*reset)(void *ctx, sp_time now);
	/* The node came back (after reset): start over, e.g. a new IKE session. May send. */
	void (*restart)(void *ctx, sp_time now);
	void (*report)(void *ctx, struct sim_ep_report *r); /* may be NULL */
	void (*show)(void *ctx, FILE *f);		    /* may be NULL */
	void (*destroy)(void *ctx);
};

/* ---- NAT engines ------------------------------------------------------------------ */

enum sim_nat_dir {
	SIM_NAT_IN2OUT = 0, /* forwarded from an inside interface out of the outside one */
	SIM_NAT_OUT2IN = 1, /* arrived on the outside interface */
	SIM_NAT_LOCAL = 2,  /* arrived on an inside interface for the router itself: lease
			       requests (001), port allocation and host-to-router tunnels
			       (002), NAT discovery (004) */
};

struct sim_nat_env {
	struct sim_node *node;
	struct sp_rng *rng; /* private stream "node:<name>/nat" */
	const struct sp_log *log;
	struct sp_ctr_registry *ctrs;
	struct pkt_pool *pool;
	unsigned outside_ifi;
	const uint32_t *ext; /* global addresses, local to the outside interface */
	unsigned next;
	/*
	 * Emit a packet of the engine's own (a multicast copy to each candidate client, 003;
	 * an ICMP error): routed by its destination and transmitted as it is, without
	 * passing the NAT again. Consumes p.
	 */
	void (*send)(struct sim_nat_env *env, sp_time now, struct pkt *p);
	void *priv; /* the node's */
};

/* NAT state for the table (the "state held by the NAT" column). */
struct sim_nat_report {
	uint64_t entries; /* translation entries held now */
	uint64_t bytes;	  /* memory those entries take */
};

struct sim_nat_ops {
	const char *name;
	int (*create)(void **ctx, struct sim_nat_env *env, const void *cfg, sp_time now);
	/*
	 * A packet crossing the NAT. IN2OUT: after routing chose the outside interface and
	 * TTL was decremented. OUT2IN: on arrival, before the node decides between local
	 * delivery and forwarding. LOCAL: from inside, addressed to one of the router's
	 * own addresses, before its stack sees it; the engine may answer through
	 * env->send, or decapsulate and env->send the inner packet on its way out.
	 * SIM_PASS means translated in place, or not the NAT's business (a packet for the
	 * router itself, which the node then delivers locally and, if nobody listens, drops
	 * with its own named reason). A packet rewritten in place for another destination
	 * is forwarded by that destination; a LOCAL one that then leaves by the outside
	 * meets IN2OUT like any packet from inside (decapsulate in LOCAL, translate in
	 * IN2OUT).
	 */
	enum sim_verdict (*input)(void *ctx, sp_time now, struct pkt *p, enum sim_nat_dir dir);
	sp_time (*next_deadline)(void *ctx);
	void (*tick)(void *ctx, sp_time now);
	/* The router crashed: empty every table. */
	void (*reset)(void *ctx, sp_time now);
	void (*report)(void *ctx, struct sim_nat_report *r);
	void (*show)(void *ctx, FILE *f); /* may be NULL */
	void (*destroy)(void *ctx);
};

#endif
