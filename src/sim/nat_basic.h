/*
 * The address-only NAT: what a plain home or hotel router does, as the baseline every
 * spinat technique is compared with, and the NAT engine of the simulator until the src/nat/
 * engine takes over through the same struct sim_nat_ops.
 *
 * - TCP and UDP: NAPT. A mapping (inside address, port) -> (global address, port) is made
 *   by the first outbound packet (endpoint-independent mapping, RFC 4787 REQ-1); the inside
 *   port is kept when free, else the next free port of the range is used.
 * - ICMP echo: the identifier is mapped like a port (RFC 5508 REQ-1).
 * - ICMP errors: the embedded packet and the outer header are translated back (RFC 5508
 *   REQ-3), in both directions.
 * - Every other protocol (ESP, AH, GRE, ...): no ports, so one inside client per (protocol,
 *   server, global address): the entry maps the server back to that client, and a second
 *   client's packets to the same server are dropped and counted (drop_proto_busy) until
 *   the entry times out: the limit the 003 Background describes for VPN Masquerade.
 * The global address of a client is chosen by a keyed hash of its inside address, so a
 * client keeps one address (RFC 4787 REQ-2, "paired").
 */
#ifndef SP_SIM_NAT_BASIC_H
#define SP_SIM_NAT_BASIC_H

#include "sim/engine.h"

#define foreach_nat_basic_ctr(_)                                                                   \
	_(IN2OUT, "in2out")				/* packets translated outbound */          \
	_(OUT2IN, "out2in")				/* packets translated inbound */           \
	_(CREATED, "created")				/* entries made */                         \
	_(EXPIRED, "expired")				/* entries timed out */                    \
	_(ICMP_ERR, "icmp_err_translated")		/* ICMP errors translated */               \
	_(OUT2IN_NO_MAPPING, "out2in_no_mapping")	/* left to the router's own stack */       \
	_(DROP_PROTO_BUSY, "drop_proto_busy")		/* another client holds (proto, server) */ \
	_(DROP_TABLE_FULL, "drop_table_full")		/* no free entry */                        \
	_(DROP_PORTS_EXHAUSTED, "drop_ports_exhausted") /* no free global port */                  \
	_(DROP_FRAGMENT, "drop_fragment")		/* non-first fragment, no ports to map */  \
	_(DROP_MALFORMED, "drop_malformed")		/* transport header cut short */           \
	_(DROP_ICMP_TYPE, "drop_icmp_type")		/* ICMP type that makes no mapping */      \
	_(DROP_NO_MAPPING_IN, "drop_no_mapping_in2out") /* inbound-only ICMP sent outward */

enum nat_basic_ctr {
#define _(sym, str) NAT_BASIC_CTR_##sym,
	foreach_nat_basic_ctr(_)
#undef _
		NAT_BASIC_CTR_N
};

/* Zero fields take the defaults in brackets. */
struct sim_nat_basic_cfg {
	uint32_t max_entries;  /* [16384] */
	uint16_t port_min;     /* [1024] first port handed out when the inside port is taken */
	uint16_t port_max;     /* [65535] */
	bool no_port_preserve; /* always allocate from the range [keep the inside port] */
	sp_time udp_timeout;   /* [120s] RFC 4787 REQ-5 asks at least 2 min */
	sp_time tcp_timeout;   /* [2h4m] RFC 5382 REQ-5 (established idle) */
	sp_time icmp_timeout;  /* [60s] RFC 5508 REQ-2 */
	sp_time other_timeout; /* [600s] protocols without ports, Linux's generic timeout */
};

extern const struct sim_nat_ops sim_nat_basic_ops;

/* Counter value of an engine created by sim_nat_basic_ops (tests). */
uint64_t sim_nat_basic_ctr(const void *ctx, enum nat_basic_ctr c);

#endif
