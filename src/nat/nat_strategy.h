/*
 * The IPsec strategy interface: how a NAT demultiplexes raw ESP and AH, which carry no
 * ports. Each strategy is one file implementing struct nat_strategy (nat_masq.c,
 * nat_spihash.c, ...) and one row in nat_strategies[] (nat_strategy.c); adding one is
 * adding a file and a row. The engine parses the IP header, picks the client's global
 * address, rewrites addresses and checksums; a strategy only decides, keeping its items
 * as entries of the shared table under its own key kinds (NAT_K_STRAT + n).
 */
#ifndef SP_NAT_STRATEGY_H
#define SP_NAT_STRATEGY_H

#include "nat/nat.h"
#include "nat/nat_offload.h"
#include "nat/nat_table.h"

/* A pre-hook's answer when the packet is not the strategy's: the engine goes on. */
#define NAT_CONTINUE (-1)

struct nat_ip; /* a parsed IPv4 packet (nat_priv.h) */

/* An ESP or AH packet as a strategy sees it. */
struct nat_ipsec_pkt {
	uint8_t proto;	 /* IPV4_PROTO_ESP or IPV4_PROTO_AH */
	uint32_t client; /* inside address: set by the engine in2out, by the strategy out2in */
	uint32_t global; /* the client's global address (in2out) or the destination (out2in) */
	uint32_t server; /* the outside peer */
	uint32_t spi;
};

/* A row of `show nat` (000 FIG. 5A/5B columns); ids are shown when has_*_id. */
struct nat_row {
	uint8_t proto;
	uint32_t in_local, in_global, outside;
	uint32_t in_local_id, in_global_id, outside_id;
	bool has_in_local_id, has_in_global_id, has_outside_id;
	bool spi_ids;  /* ids are SPIs: shown as 0x%08X */
	bool outbound; /* sorts before the inbound row of the same inside address */
	const char *state;
	char info[48]; /* more state, e.g. IKE cookies */
};

struct nat_ip;

/* packet() answers NAT_STRAT_PASS to leave a packet to the engine. */
#define NAT_STRAT_PASS (-1)

struct nat_strategy {
	const char *name;
	const char *help;
	/* Configuration: defaults() fills params, conf() reads this strategy's keys (prefixed
	 * with its name) over them; both into NAT_SPARAMS_SIZE bytes. */
	void (*defaults)(void *params);
	int (*conf)(struct conf_sec *s, void *params);
	/* Per-instance state of ctx_size bytes (zeroed); counters named in ctr_names. */
	size_t ctx_size;
	const char *const *ctr_names;
	unsigned n_ctrs;
	int (*init)(struct nat *n, void *ctx); /* may be NULL */
	/* Optional: sees every packet whose IPv4 header the engine validated, before NAPT,
	 * and returns a verdict or NAT_STRAT_PASS. A strategy that routes rather than
	 * translates (dnat: tunnels and PAP) takes every packet here; it may push or pull
	 * headers of p. */
	int (*packet)(struct nat *n, void *ctx, sp_time now, enum nat_side from, struct nat_ip *ip,
		      struct pkt *p);
	/* Optional, with packet(): nat_translate_burst()'s prefetch pipeline for the
	 * strategy's own state. burst_hint() looks at p's headers (unvalidated: a hint
	 * only), prefetches what it can and returns a cookie or NAT_NIL; some packets later
	 * burst_prefetch() follows the cookie to the next line. */
	uint32_t (*burst_hint)(const struct nat *n, const void *ctx, enum nat_side from,
			       const struct pkt *p);
	void (*burst_prefetch)(const struct nat *n, const void *ctx, uint32_t hint);
	void (*fini)(struct nat *n, void *ctx); /* may be NULL */
	/* Outbound packet from ip->client to ip->server with global ip->global: returns a
	 * verdict; on NAT_TO_OUTSIDE the engine rewrites the source to ip->global. */
	int (*in2out)(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
		      struct pkt *p);
	/* Inbound packet from ip->server to ip->global: on NAT_TO_INSIDE set ip->client and
	 * the engine rewrites the destination. Extra copies go through nat_emit_copy(). */
	int (*out2in)(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
		      struct pkt *p);
	/* One of this strategy's entries has expired: free it (and whatever hangs on it). */
	void (*expire)(struct nat *n, void *ctx, uint32_t idx);
	/* Fill a show row for an entry; false hides it (internal index entries). */
	bool (*row)(const struct nat *n, const void *ctx, const struct nat_entry *e,
		    struct nat_row *r);
	/* Optional timers (serial's held packets). */
	void (*tick)(struct nat *n, void *ctx, sp_time now);
	sp_time (*next_deadline)(const struct nat *n, const void *ctx);
	/* Forget everything (nat_reset); the table itself is cleared by the engine. */
	void (*reset)(struct nat *n, void *ctx);
	/* The fast path (nat_offload.h): the items of one of this strategy's entries, from
	 * its keys alone; the strategy calls nat_offload_settle() when the entry is settled.
	 * NULL: the strategy's packets always come to the engine. */
	void (*offload)(const struct nat *n, const void *ctx, const struct nat_entry *e,
			struct nat_offload_desc *d);
	/*
	 * Optional (lease, 001): a TCP, UDP or ICMP packet before the engine's own handling
	 * (NAPT, IKE cookies): a verdict, or NAT_CONTINUE. in2out may take a packet
	 * addressed to the gateway itself, emit its answer (nat_emit) and return NAT_TAKEN.
	 */
	int (*pre_in2out)(struct nat *n, void *ctx, sp_time now, struct nat_ip *ip, struct pkt *p);
	int (*pre_out2in)(struct nat *n, void *ctx, sp_time now, struct nat_ip *ip, struct pkt *p);
	/* Optional: whether the strategy holds port of proto on global, so NAPT must not
	 * hand it out. */
	bool (*port_taken)(const struct nat *n, const void *ctx, sp_time now, uint8_t proto,
			   uint32_t global, uint16_t port);
	/* Optional: more of `show nat` after the table (the lease table in 001 FIG. 6's
	 * columns). */
	void (*show)(const struct nat *n, const void *ctx, sp_time now, FILE *f);
	/* Optional: the inside host an entry is counted for (host_max_esp), from its keys
	 * alone and the same from nat_strat_charge() to nat_strat_free(); false for entries
	 * not counted (index entries, buckets). NULL: nothing is counted per host. Such a
	 * strategy makes its items with nat_strat_alloc_for() and nat_strat_charge() and
	 * frees them with nat_strat_free(). nat_strat_item_host is the usual one. */
	bool (*host_of)(const struct nat *n, const void *ctx, const struct nat_entry *e,
			uint32_t *host);
};

/* The strategies (one file each), and the table of them, NULL-terminated. */
extern const struct nat_strategy nat_strategy_masq;
extern const struct nat_strategy nat_strategy_spihash;
extern const struct nat_strategy nat_strategy_serial;
extern const struct nat_strategy nat_strategy_natt;
extern const struct nat_strategy nat_strategy_ipaddr;
extern const struct nat_strategy nat_strategy_oldest;
extern const struct nat_strategy nat_strategy_dnat;
extern const struct nat_strategy nat_strategy_lease;
extern const struct nat_strategy *const nat_strategies[];
const struct nat_strategy *nat_strategy_find(const char *name);

/* Services the engine offers to strategies. */
struct nat_table *nat_table_of(struct nat *n);
const void *nat_sparams(const struct nat *n);
struct sp_rng *nat_rng(struct nat *n);
/* The strategy's counter i. */
void nat_sctr_inc(struct nat *n, unsigned i, uint64_t by);
/* The global address an inside address always uses (paired pooling, RFC 4787 REQ-2). */
uint32_t nat_global_for(const struct nat *n, uint32_t inside);
/* A copy of p from the engine's packet pool, or NULL (counted as drop_no_buffer). */
struct pkt *nat_clone(struct nat *n, const struct pkt *p);
/* An empty packet from the engine's pool, or NULL (counted as drop_no_buffer). */
struct pkt *nat_pkt_new(struct nat *n);
/* Emit a packet the strategy made (PCP answers of lease, PAP and tunnelled packets of
 * dnat) on a side; consumes p. SP_EINVAL (counted as drop_no_emit) without an emit
 * callback. */
int nat_emit(struct nat *n, enum nat_side side, struct pkt *p);
/* Copy p, rewrite the copy's destination to client, and emit it on the inside. */
int nat_emit_copy(struct nat *n, const struct pkt *p, uint32_t client);
/* Send a packet the strategy held back (the untranslated inside packet) through the
 * translation path again; consumes p. */
void nat_reinject(struct nat *n, sp_time now, struct pkt *p);
/* Inside clients that had IKE traffic with server via global within t_ike_recent:
 * up to max addresses into out, returns how many. */
unsigned nat_ike_recent_clients(const struct nat *n, sp_time now, uint32_t global, uint32_t server,
				uint32_t *out, unsigned max);
/* Allocate an entry for the strategy, making room per full_mode; NAT_NIL when full
 * (counted as drop_table_full by the engine). */
uint32_t nat_strat_alloc(struct nat *n, sp_time now);
/*
 * Per inside host fair share of ESP/AH items (RFC 6888 REQ-5; docs/SECURITY.md): as
 * nat_strat_alloc() for an item of client, first refusing it when the client holds
 * host_max_esp items already (counted as drop_host_esp, logged per host at most every
 * 10 s, and answered with an ICMP Host Unreachable built from p, the client's packet);
 * then, once the item's keys are set and indexed, nat_strat_charge() counts it, and
 * nat_strat_free() uncounts and frees it (any entry of the strategy).
 */
uint32_t nat_strat_alloc_for(struct nat *n, sp_time now, uint32_t client, const struct pkt *p);
void nat_strat_charge(struct nat *n, uint32_t idx);
void nat_strat_free(struct nat *n, uint32_t idx);
/* host_of for items whose k[0] is (proto, client, ...) under the strategy's first kind
 * (NAT_K_STRAT + 0): masq, serial, oldest, ipaddr, spihash's outbound rows. */
bool nat_strat_item_host(const struct nat *n, const void *ctx, const struct nat_entry *e,
			 uint32_t *host);
/* expire() of a strategy whose entries own nothing else: frees the entry. */
void nat_strat_expire_entry(struct nat *n, void *ctx, uint32_t idx);
/*
 * The show row of an ESP/AH item kept the way most strategies keep it: k[0] = (proto,
 * client, server, outgoing SPI), k[1].a = the client's global address and, once the item
 * is associated with the server's SPI, k[1].id = that incoming SPI. With spis the
 * outgoing SPI is appended to the inside local address and the incoming one (0 until
 * associated) to the outside, as in 000 FIG. 5A/5B; without, addresses only.
 */
void nat_strat_item_row(const struct nat_entry *e, bool spis, bool associated, const char *state,
			struct nat_row *r);
/* The fast-path items of such an item: with out, (proto, client, server, outgoing SPI)
 * from inside to the global address; with in, (proto, global, server, incoming SPI) from
 * outside to the client (an SPI of 0 matches any: ipaddr's items). */
void nat_strat_item_offload(const struct nat_entry *e, bool out, bool in, sp_time idle,
			    struct nat_offload_desc *d);

/*
 * dnat (002): the Local Certificate Authority's hold on a host's port block. A certified
 * block is not de-allocated by the host's invalidations until it is uncertified (the
 * certificate revoked first, 002 "ensures that the associated DNAT ports are never
 * de-allocated as long as the security certificates ... are still valid"). Both take any
 * port of the block and fail with SP_ENOTFOUND unless host holds it, SP_EINVAL when the
 * NAT runs another strategy.
 */
int nat_dnat_certify(struct nat *n, uint32_t host, uint16_t port, bool certified);
int nat_dnat_port_block(struct nat *n, uint32_t host, uint16_t port, uint16_t *lowest,
			uint16_t *count);
/*
 * The certificate bound to host's block that holds port was revoked and no other valid
 * one binds it: the router de-allocates the block (002 [0685]) and tells the host with a
 * FIG. 6 invalidation naming it (002: the router "can also render an allocated range of
 * DNAT ports ... invalid"); the host deletes the IKE SAs that used the certificate.
 * SP_ENOMEM when no packet buffer was free for the invalidation (the block is gone).
 */
int nat_dnat_revoke(struct nat *n, uint32_t host, uint16_t port);

#endif
