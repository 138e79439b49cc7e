/*
 * The simulator's IP node: one small IPv4 stack that is a host (ICMP echo responder, UDP
 * ports, flow sink, ping and traffic generators in sim/flow.h), a router (forwarding with TTL
 * decrement, ICMP time exceeded and unreachable, RFC 1812), or both, and carries the two
 * attachment points of sim/engine.h: an endpoint engine and a NAT engine.
 *
 * Packet path (see docs/SIMULATOR.md for the picture):
 *   arrival on ifi -> validate -> [NAT OUT2IN if ifi is the NAT's outside] ->
 *     local address: [NAT LOCAL if from inside] -> [endpoint input] -> stack (ICMP, UDP
 *       apps and flows, else unreachable)
 *     otherwise, forwarding on: TTL check -> route -> TTL-1 -> [NAT IN2OUT if leaving by
 *       the outside from an inside interface] -> [endpoint output] -> link
 *   locally originated: route (source = outgoing interface) -> [endpoint output] -> link
 */
#ifndef SP_SIM_IPNODE_H
#define SP_SIM_IPNODE_H

#include "sim/engine.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#define foreach_sim_ip_ctr(_)                                                                      \
	_(RX, "rx")				/* IPv4 packets handed to the stack */             \
	_(LOCAL, "local")			/* delivered to this node's stack */               \
	_(FORWARDED, "forwarded")		/* routed on */                                    \
	_(ORIGINATED, "originated")		/* built here (apps, ICMP) */                      \
	_(ECHO_REPLIED, "echo_replied")		/* ICMP echo requests answered */                  \
	_(ICMP_ERR_SENT, "icmp_err_sent")	/* time exceeded, unreachable sent */              \
	_(ICMP_ERR_RX, "icmp_err_rx")		/* ICMP errors received */                         \
	_(EP_DROPPED, "ep_dropped")		/* endpoint verdict DROP (engine counts why) */    \
	_(NAT_DROPPED, "nat_dropped")		/* NAT verdict DROP (engine counts why) */         \
	_(DROP_MALFORMED, "drop_malformed")	/* not a valid IPv4 packet */                      \
	_(DROP_BAD_CSUM, "drop_bad_csum")	/* IPv4 header checksum wrong */                   \
	_(DROP_BAD_L4_CSUM, "drop_bad_l4_csum") /* UDP/ICMP checksum wrong */                      \
	_(DROP_TTL, "drop_ttl_expired")		/* TTL ran out here (time exceeded sent) */        \
	_(DROP_NO_ROUTE, "drop_no_route")	/* forwarding found no route (unreachable sent) */ \
	_(DROP_NO_ROUTE_LOCAL, "drop_no_route_local") /* own packet without a route */             \
	_(DROP_NOT_LOCAL, "drop_not_local")	      /* not ours and we do not forward */         \
	_(DROP_FRAGMENT, "drop_fragment")	      /* fragments are not reassembled */          \
	_(DROP_NO_LISTENER, "drop_no_listener")	      /* UDP/TCP port closed (unreachable sent) */ \
	_(DROP_NO_PROTO, "drop_no_proto")     /* protocol not handled (unreachable sent) */        \
	_(DROP_ICMP_OTHER, "drop_icmp_other") /* ICMP type the stack does not handle */            \
	_(DROP_POOL_EMPTY, "drop_pool_empty") /* no packet buffer for a reply or an app */         \
	_(DROP_TOO_BIG, "drop_too_big")	      /* over the MTU; nothing is fragmented */

enum sim_ip_ctr {
#define _(sym, str) SIM_IP_CTR_##sym,
	foreach_sim_ip_ctr(_)
#undef _
		SIM_IP_CTR_N
};

struct sim_ip_cfg {
	bool forward;	     /* a router: forward packets that are not for it */
	bool no_icmp_errors; /* never send time exceeded / unreachable */
	bool no_echo_reply;  /* ignore echo requests (counted as drop_icmp_other) */
	uint8_t ttl;	     /* TTL of packets it originates; 0: 64 */
};

int sim_ip_new(struct sim *sim, const char *name, const struct sim_ip_cfg *cfg,
	       struct sim_node **out) SP_MUST_CHECK;
/* A host (no forwarding) and a router (forwarding), with the defaults otherwise. */
int sim_host_new(struct sim *sim, const char *name, struct sim_node **out) SP_MUST_CHECK;
int sim_router_new(struct sim *sim, const char *name, struct sim_node **out) SP_MUST_CHECK;
bool sim_is_ip(const struct sim_node *n);

/*
 * Attach a NAT engine: outside_ifi is the outside interface, ext[0..next) the global
 * addresses (added to the outside interface as local addresses); every other interface
 * is inside. One NAT per node; SP_EEXIST for a second.
 */
int sim_ip_attach_nat(struct sim_node *n, const struct sim_nat_ops *ops, const void *cfg,
		      unsigned outside_ifi, const uint32_t *ext, unsigned next) SP_MUST_CHECK;
/* Attach an endpoint engine; one per node. */
int sim_ip_attach_ep(struct sim_node *n, const struct sim_ep_ops *ops,
		     const void *cfg) SP_MUST_CHECK;
/* The attached engines' contexts and reports (false when none is attached). */
void *sim_ip_nat_ctx(const struct sim_node *n);
void *sim_ip_ep_ctx(const struct sim_node *n);
bool sim_ip_nat_report(const struct sim_node *n, struct sim_nat_report *r);
bool sim_ip_ep_report(const struct sim_node *n, struct sim_ep_report *r);

/*
 * Send a locally originated, complete IPv4 packet: route by destination (a zero source
 * address is not filled in: build with the source from sim_route_lookup), pass the
 * endpoint output hook, transmit. Consumes p; counts drop_no_route_local on failure.
 */
void sim_ip_output(struct sim_node *n, sp_time now, struct pkt *p);

/*
 * Build and send a UDP datagram with payload from this node; the source address is the
 * outgoing interface's. SP_ENOTFOUND without a route, SP_ENOMEM when the pool is empty
 * (both counted).
 */
int sim_ip_send_udp(struct sim_node *n, sp_time now, uint32_t dst, uint16_t sport, uint16_t dport,
		    const void *payload, size_t len) SP_MUST_CHECK;
/* The same with pkt.tag set (flows tag their packets for the links' data counters). */
int sim_ip_send_udp_tag(struct sim_node *n, sp_time now, uint32_t dst, uint16_t sport,
			uint16_t dport, const void *payload, size_t len,
			uint32_t tag) SP_MUST_CHECK;
/* An ICMP echo request (id, seq) with payload. */
int sim_ip_send_echo(struct sim_node *n, sp_time now, uint32_t dst, uint16_t id, uint16_t seq,
		     const void *payload, size_t len) SP_MUST_CHECK;

/*
 * A UDP application bound to a local port (e.g. 004's NAT discovery echo service). fn gets
 * the packet (data at the IP header), the parsed headers and the payload; it consumes p.
 */
struct sim_udp_app {
	void (*fn)(struct sim_node *n, sp_time now, struct pkt *p, const struct ipv4_hdr *ip,
		   const struct udp_hdr *udp, const uint8_t *payload, size_t len, void *arg);
	void *arg;
};
int sim_ip_udp_bind(struct sim_node *n, uint16_t port, const struct sim_udp_app *app) SP_MUST_CHECK;

static inline uint64_t sim_ip_ctr(const struct sim_node *n, enum sim_ip_ctr c);

/* Internal view for sim_ip_ctr(); node types other than IP have no such counters. */
struct sim_ip;
const uint64_t *sim_ip_ctrs(const struct sim_node *n);

static inline uint64_t sim_ip_ctr(const struct sim_node *n, enum sim_ip_ctr c)
{
	const uint64_t *v = sim_ip_ctrs(n);

	return v != NULL ? v[c] : 0;
}

#endif
