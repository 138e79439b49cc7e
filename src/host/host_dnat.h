/*
 * The host side of 002's distributed NAT: the PAP client (port and SPI blocks from the
 * router), the source port translation table (SPTT, FIG. 11) with the outbound and inbound
 * methods of FIGS. 13 and 14, so applications keep their own ports, and the virtual
 * IP-in-IP tunnel to the router (002 Tables 3, 8, 11). Sans-IO: it is handed the packets
 * the host's stack sends (inner source the router's global address, 002 Table 6) and the
 * packets that arrive from the router, and the time; it answers what to do with them and
 * makes its own PAP messages in host_dnat_poll(). It owns its blocks and the SPTT only.
 *
 * The endpoint stack's IKE takes inbound SPIs from host_dnat_spi_take() (002: an SPI from
 * the allocated list for every inbound SA, outermost only) and its own UDP port from
 * host_dnat_port_reserve(), which maps a port to itself.
 */
#ifndef SP_HOST_HOST_DNAT_H
#define SP_HOST_HOST_DNAT_H

#include "base/counter.h"
#include "base/pkt.h"
#include "base/time.h"

#define HOST_DNAT_BLOCKS   8   /* port and SPI blocks held at once, each kind */
#define HOST_DNAT_SPTT_MAX 512 /* SPTT rows */

struct host_dnat_conf {
	uint32_t self;	     /* the host's internal address (10.0.0.1) */
	uint32_t router;     /* the router's internal address (10.0.0.7) */
	uint32_t global;     /* the common external address (198.10.20.30) */
	uint32_t priv;	     /* the applications' own address for transport-mode peers */
	uint32_t inside_net; /* internal destinations: no tunnel, no translation */
	uint8_t inside_len;
	uint8_t ports;	    /* per request: FIG. 4 "by default 16 or 32" */
	bool ports_high;    /* ask for ports from 10,000 (FIG. 4 code 1) */
	uint16_t spis;	    /* per request (FIG. 4A) */
	uint16_t low_water; /* ask for more when fewer unique ports are free */
	sp_time retry;	    /* resend an unanswered request after */
	sp_time idle;	    /* SPTT rows unused this long are removed */
};

struct host_dnat_block {
	uint32_t lowest;
	uint32_t count; /* 0: none */
	uint32_t taken; /* SPIs handed out of it, in order */
};

/* A block to give back: its kind and a value in it. */
struct host_dnat_inval {
	bool spi;
	uint32_t value;
};

/* FIG. 11: default port, translated (locally unique) port, protocol, timestamp (ms). */
struct host_dnat_sptt {
	uint16_t def_port;
	uint16_t uniq_port;
	uint8_t proto; /* the IP protocol number (002 Table 7 shows TCP) */
	bool used;
	bool fixed;	   /* reserved for the host itself (IKE): never expires */
	uint32_t def_addr; /* transport mode: the application's own source address */
	uint32_t stamp;
	sp_time last;
};

#define foreach_host_dnat_ctr(_)                             \
	_(OUT, "dnat_tunnelled_out")                         \
	_(IN, "dnat_tunnelled_in")                           \
	_(LOCAL, "dnat_local")                               \
	_(SPTT_CREATED, "dnat_sptt_created")                 \
	_(SPTT_EXPIRED, "dnat_sptt_expired")                 \
	_(PAP_SENT, "dnat_pap_sent")                         \
	_(PAP_GRANTED, "dnat_pap_granted")                   \
	_(PAP_REFUSED, "dnat_pap_refused")                   \
	_(PAP_INVALIDATED, "dnat_pap_invalidated_by_router") \
	_(DROP_NO_PORT, "dnat_drop_no_unique_port")          \
	_(DROP_SRC, "dnat_drop_src_not_global")              \
	_(DROP_NO_SPTT, "dnat_drop_no_sptt_row")             \
	_(DROP_MALFORMED, "dnat_drop_malformed")             \
	_(DROP_NOT_ROUTER, "dnat_drop_not_from_router")      \
	_(DROP_PAP_BAD, "dnat_drop_pap_bad")                 \
	_(DROP_PAP_UNEXPECTED, "dnat_drop_pap_unexpected")   \
	_(DROP_NO_SPACE, "dnat_drop_no_space")               \
	_(TRANSPORT_OUT, "dnat_transport_translated_out")    \
	_(TRANSPORT_IN, "dnat_transport_translated_in")      \
	_(DROP_TRANSPORT_NO_SPTT, "dnat_drop_transport_no_sptt_row")

enum host_dnat_ctr {
#define _(sym, str) HOST_DNAT_CTR_##sym,
	foreach_host_dnat_ctr(_)
#undef _
		HOST_DNAT_CTR_N
};
extern const char *const host_dnat_ctr_names[];

struct host_dnat {
	struct host_dnat_conf c;
	struct host_dnat_block port_blk[HOST_DNAT_BLOCKS];
	struct host_dnat_block spi_blk[HOST_DNAT_BLOCKS];
	struct host_dnat_sptt sptt[HOST_DNAT_SPTT_MAX];
	bool want_ports, want_spis;
	uint32_t spi_epoch; /* SPI blocks the router took back, counted */
	/* The last port block the router took back by name (not a restart's port 0: the
	 * router revoked the certificate bound to it, 002 [0685]), and how many so far. */
	struct host_dnat_block port_lost;
	uint32_t port_lost_epoch;
	bool port_pending, spi_pending; /* a request is outstanding */
	sp_time port_sent, spi_sent;
	struct host_dnat_inval inval[2 * HOST_DNAT_BLOCKS]; /* blocks to give back */
	unsigned ninval;
	uint64_t ctr[HOST_DNAT_CTR_N];
};

/* What to do with a packet after host_dnat_output() or host_dnat_input(). */
enum host_dnat_verdict {
	HOST_DNAT_DROP = 0,	 /* counted; caller frees */
	HOST_DNAT_TO_ROUTER = 1, /* tunnelled in place: send to the router */
	HOST_DNAT_LOCAL = 2,	 /* untouched: an internal destination (FIG. 13 step 182) */
	HOST_DNAT_TO_STACK = 3,	 /* tunnel header stripped, ports restored: deliver */
	HOST_DNAT_CONSUMED = 4,	 /* a PAP message for this module; caller frees */
};

/* The documented defaults (002's example host 10.0.0.1 behind 10.0.0.7, 198.10.20.30). */
void host_dnat_conf_defaults(struct host_dnat_conf *c);
void host_dnat_init(struct host_dnat *h, const struct host_dnat_conf *c);

/* Ask for blocks at the next poll (at start, or at the first external packet). */
void host_dnat_want(struct host_dnat *h, bool ports, bool spis);
/*
 * A PAP message to send, built into the empty packet p as a whole IPv4 packet to the
 * router: requests (wanted, running low, or unanswered for conf.retry) and invalidations
 * of given-back blocks. SP_EAGAIN when nothing is due.
 */
int host_dnat_poll(struct host_dnat *h, sp_time now, struct pkt *p) SP_MUST_CHECK;
sp_time host_dnat_next_deadline(const struct host_dnat *h);

/* FIG. 13: an IPv4 packet from the host's stack; translated and tunnelled in place. */
enum host_dnat_verdict host_dnat_output(struct host_dnat *h, sp_time now, struct pkt *p);
/* FIG. 14: an IPv4 packet from the network (the router's tunnel packets, PAP). */
enum host_dnat_verdict host_dnat_input(struct host_dnat *h, sp_time now, struct pkt *p);

/* The steps of the two above, for a stack that runs them at different points: */
/* FIG. 13 steps 174-178: internal destinations LOCAL, else the source port translated
 * (TO_ROUTER: carry on with host_dnat_encap()). */
enum host_dnat_verdict host_dnat_translate_out(struct host_dnat *h, sp_time now, struct pkt *p);
/* Step 176: push the tunnel header to the router. */
enum host_dnat_verdict host_dnat_encap(struct host_dnat *h, struct pkt *p);
/* FIG. 14 steps 186-192 and 196: PAP (CONSUMED), the router's tunnel stripped (TO_STACK),
 * anything else LOCAL. */
enum host_dnat_verdict host_dnat_decap(struct host_dnat *h, sp_time now, struct pkt *p);
/* Step 190: the destination port of a packet to the global address restored. */
enum host_dnat_verdict host_dnat_translate_in(struct host_dnat *h, sp_time now, struct pkt *p);

/*
 * Transport mode (docs/DNAT.md): cleartext that a transport-mode SA protects carries the
 * global address and a unique port inside ESP, so the peer's TCP/UDP checksum is right.
 * transport_out: a TCP/UDP packet from conf.priv (or the global address) to an external
 * destination gets the global source and its SPTT port, checksums following (RFC 1624);
 * TO_ROUTER when translated, LOCAL when not such a packet (untouched), DROP (counted)
 * without a unique port. transport_in: a packet to the global address after its
 * protection was removed gets the application's address and port back from the SPTT row;
 * TO_STACK, or DROP (counted) when no row has the port.
 */
enum host_dnat_verdict host_dnat_transport_out(struct host_dnat *h, sp_time now, struct pkt *p);
enum host_dnat_verdict host_dnat_transport_in(struct host_dnat *h, sp_time now, struct pkt *p);

/* A unique port mapped to itself (IKE's own port); SP_EFULL without one. */
int host_dnat_port_reserve(struct host_dnat *h, uint8_t proto, uint16_t *port) SP_MUST_CHECK;
/* The next unused SPI of the blocks for an inbound SA; SP_EFULL without one. */
int host_dnat_spi_take(struct host_dnat *h, uint32_t *spi) SP_MUST_CHECK;
/* Give every block back (host_dnat_poll sends the invalidations). */
void host_dnat_release(struct host_dnat *h);

/* Free unique ports left in the blocks; whether any port block is held; SPIs left. */
unsigned host_dnat_ports_free(const struct host_dnat *h);
bool host_dnat_has_ports(const struct host_dnat *h);
unsigned host_dnat_spis_free(const struct host_dnat *h);
/* The SPTT row translating (proto, default port), or NULL. */
const struct host_dnat_sptt *host_dnat_sptt_lookup(const struct host_dnat *h, uint8_t proto,
						   uint16_t def_port);

#endif
