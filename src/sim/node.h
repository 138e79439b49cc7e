/*
 * Nodes: a named box with interfaces (each with IPv4 addresses, attached to a link port), a
 * routing table (longest prefix match, then lowest metric), its own random stream, log and
 * counters registry, and a type given by a struct sim_node_ops. The core here knows nothing
 * of IP processing; sim/ipnode.h is the IP stack (host, router, NAT router) most scenarios
 * use. A node can crash (its type forgets all state; packets to it are dropped and
 * counted) and restart.
 */
#ifndef SP_SIM_NODE_H
#define SP_SIM_NODE_H

#include "sim/sim.h"

#define SIM_IFACE_MAX	8
#define SIM_IFACE_ADDRS 8 /* primary + secondary addresses (e.g. a NAT's global pool) */
#define SIM_ROUTE_MAX	32
#define SIM_IFNAME_MAX	16

struct sim_iface {
	char name[SIM_IFNAME_MAX];
	uint32_t addr[SIM_IFACE_ADDRS]; /* addr[0] is the primary, the source of packets */
	uint8_t plen;			/* prefix length of the primary: the connected route */
	unsigned naddr;
	struct sim_link *link;
	unsigned port; /* on link */
	uint32_t mtu;  /* largest IPv4 packet it sends; SIM_MTU_DEFAULT unless set */
};

#define SIM_MTU_DEFAULT 1500

/* Skip the route while its next hop cannot be reached: link or port cut, or the neighbour
 * crashed. An oracle standing in for dead-gateway detection, so a multi-homed LAN fails
 * over to its second router (003 FIG. 3, routers 303 and 311). */
#define SIM_RT_CHECK_NH 0x1

struct sim_route {
	uint32_t net;
	uint8_t plen;
	uint32_t gw; /* 0: destination on-link (connected route) */
	unsigned ifi;
	uint32_t metric;
	unsigned flags; /* SIM_RT_* */
};

/* The result of a lookup: leave by ifi towards nexthop; src is ifi's primary address. */
struct sim_route_hit {
	unsigned ifi;
	uint32_t nexthop;
	uint32_t src;
	const struct sim_route *rt;
};

/*
 * What a node type implements. Every function gets the node; the type's state hangs off
 * n->priv. The core calls next_deadline() after every input, tick, crash and restart and
 * arms the node's timer; tick() runs when that deadline arrives.
 */
struct sim_node_ops {
	const char *type; /* "host", "router", ... */
	/* A packet arrived on interface ifi (p->ifindex == ifi). Consumes p. */
	void (*input)(struct sim_node *n, sp_time now, struct pkt *p, unsigned ifi);
	/* When tick() is next due, SP_TIME_NEVER if never. May be NULL. */
	sp_time (*next_deadline)(struct sim_node *n);
	void (*tick)(struct sim_node *n, sp_time now);
	/* The node crashed: forget every piece of soft state (tables, SAs, timers). */
	void (*crash)(struct sim_node *n, sp_time now);
	/* The node is back, with empty state; start over (e.g. a new IKE session). */
	void (*restart)(struct sim_node *n, sp_time now);
	/* Human-readable state for --verbose and tests; may be NULL. */
	void (*show)(struct sim_node *n, FILE *f);
	/* Free n->priv at the end of the world; may be NULL. */
	void (*destroy)(struct sim_node *n);
};

#define foreach_sim_node_ctr(_)                                                   \
	_(RX, "rx")			/* packets received from links */         \
	_(TX, "tx")			/* packets handed to links */             \
	_(DROP_CRASHED, "drop_crashed") /* arrived while the node was down */     \
	_(DROP_NO_LINK, "drop_no_link") /* sent on an interface without a link */ \
	_(CRASHES, "crashes")                                                     \
	_(RESTARTS, "restarts")

enum sim_node_ctr {
#define _(sym, str) SIM_NODE_CTR_##sym,
	foreach_sim_node_ctr(_)
#undef _
		SIM_NODE_CTR_N
};

struct sim_node {
	struct sim *sim;
	char name[SIM_NAME_MAX];
	uint32_t id; /* 1, 2, ... in creation order */
	const struct sim_node_ops *ops;
	void *priv;
	bool up;
	struct sim_iface ifs[SIM_IFACE_MAX];
	unsigned nifs;
	struct sim_route routes[SIM_ROUTE_MAX]; /* longest prefix first, then lowest metric */
	unsigned nroutes;
	struct sp_xoshiro rng; /* "node:<name>"; engines derive their own, see sim_node_rng() */
	struct sp_log log;     /* lines "[t] <name> level module: msg" */
	struct sim_logctx logctx;
	struct sp_ctr_registry ctrs; /* this node's counters; engines register theirs here */
	struct sp_ctrs ctr_blk;
	uint64_t ctr[SIM_NODE_CTR_N];
	struct sim_timer timer; /* drives ops->tick at ops->next_deadline */
	struct sim_node *next;
};

/* A node of the given type; priv belongs to the type (freed by ops->destroy). */
int sim_node_new(struct sim *sim, const char *name, const struct sim_node_ops *ops, void *priv,
		 struct sim_node **out) SP_MUST_CHECK;

/*
 * Add an interface with primary address addr/plen attached to link (NULL: unattached), and
 * its connected route. *ifi (may be NULL) receives its index.
 */
int sim_iface_add(struct sim_node *n, const char *name, uint32_t addr, uint8_t plen,
		  struct sim_link *link, unsigned *ifi) SP_MUST_CHECK;
/* A secondary address on an interface (no route added). */
int sim_iface_addr_add(struct sim_node *n, unsigned ifi, uint32_t addr) SP_MUST_CHECK;
/* Set an interface's MTU (68 .. PKT_BUFSIZE - PKT_HEADROOM). */
int sim_iface_set_mtu(struct sim_node *n, unsigned ifi, uint32_t mtu) SP_MUST_CHECK;
/* The interface holding addr, or -1. */
int sim_node_addr_ifi(const struct sim_node *n, uint32_t addr);
static inline bool sim_node_has_addr(const struct sim_node *n, uint32_t addr)
{
	return sim_node_addr_ifi(n, addr) >= 0;
}
/* The primary address of the first interface (0 if none). */
uint32_t sim_node_addr(const struct sim_node *n);

/*
 * Add a route. gw 0 means on-link; ifi < 0 means the interface whose connected prefix
 * holds gw. SP_EINVAL for a gateway no interface reaches, SP_EFULL past SIM_ROUTE_MAX.
 */
int sim_route_add(struct sim_node *n, uint32_t net, uint8_t plen, uint32_t gw, int ifi,
		  uint32_t metric, unsigned flags) SP_MUST_CHECK;
/* Remove the routes for exactly net/plen (all gateways when gw is 0); the count removed. */
unsigned sim_route_del(struct sim_node *n, uint32_t net, uint8_t plen, uint32_t gw);
/* Longest prefix match, lowest metric among equals, SIM_RT_CHECK_NH honoured. */
int sim_route_lookup(const struct sim_node *n, uint32_t dst,
		     struct sim_route_hit *hit) SP_MUST_CHECK;

/* Hand a packet to interface ifi's link towards nexthop. Consumes p. */
void sim_node_xmit(struct sim_node *n, unsigned ifi, uint32_t nexthop, struct pkt *p);

/* Crash: ops->crash, the node drops everything that arrives until sim_node_restart(). */
void sim_node_crash(struct sim_node *n);
void sim_node_restart(struct sim_node *n);
/* Re-arm the node's timer from ops->next_deadline (after work done outside input/tick). */
void sim_node_resched(struct sim_node *n);

/* A random stream private to (node, purpose), e.g. an engine attached to the node. */
void sim_node_rng(const struct sim_node *n, const char *purpose, struct sp_xoshiro *out);

static inline void sim_node_count(struct sim_node *n, enum sim_node_ctr c)
{
	n->ctr[c]++;
}

#endif
