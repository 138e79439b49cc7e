/*
 * Offloading settled translations to a fast path. The engine stays the decider: it makes
 * every mapping and item, runs every strategy and timer, and sees every first packet. An
 * entry is *settled* when the packets that follow need no decision, only the rewrite the
 * entry already implies: a UDP or ICMP echo mapping once made, a TCP mapping once
 * established (segments with SYN, FIN or RST still come to the engine, which tracks the
 * state, RFC 5382 REQ-5), an ESP/AH item once its strategy has associated both SPIs. A
 * settled entry is handed to the owner's fast path (spinatd's tc program, io/bpf_nat.h)
 * as up to two items, one per direction, each a match and a rewrite; the engine no longer
 * sees those packets, so
 *   - when the entry's time comes, the engine asks the fast path when it last used it and
 *     postpones the expiry to that time plus the entry's idle timeout instead of expiring
 *     it (RFC 4787 REQ-6's refresh, applied late and exactly);
 *   - when the entry goes (expired, evicted, reset, freed by its strategy) or stops being
 *     settled, its items are removed;
 *   - `show nat` adds the fast path's packet and byte counts and the refreshed expiry.
 * The engine knows nothing of BPF: the owner lends struct nat_offload_ops. Without it
 * (the simulator, spinat-bench) nothing changes and the packet path pays one branch.
 *
 * For strategies: call nat_offload_settle() when an entry becomes settled and
 * nat_offload_unsettle() before it stops being so (and before changing an indexed key of
 * a settled entry); describe entries in nat_strategy.offload. An entry's items must not
 * depend on anything but its keys, so that what was installed is what gets removed.
 */
#ifndef SP_NAT_OFFLOAD_H
#define SP_NAT_OFFLOAD_H

#include "nat/nat.h"

/* One direction of a settled translation. Match: NAPT from inside (source, 0, source
 * port or ICMP id), from outside (destination, 0, destination port or ICMP id); ESP/AH
 * from inside (client, server, SPI), from outside (global, server, SPI), SPI 0 matching
 * any SPI. Host byte order. */
struct nat_offload_item {
	uint8_t from; /* enum nat_side the packets arrive on */
	uint8_t proto;
	bool rewrite_port; /* NAPT: the port (or ICMP id) changes too */
	uint32_t a, b, id;
	uint32_t addr; /* the new source (from inside) or destination (from outside) */
	uint16_t port;
};

#define NAT_OFFLOAD_ITEMS 2

struct nat_offload_desc {
	struct nat_offload_item item[NAT_OFFLOAD_ITEMS];
	unsigned n;
	sp_time idle; /* the entry's timeout after its last packet, in its current state */
};

/* What the fast path did with an entry's items. */
struct nat_offload_use {
	sp_time last; /* its last packet (the daemon's clock), 0 if none */
	uint64_t packets;
	uint64_t bytes;
};

struct nat_offload_ops {
	/* Install entry idx's items (replacing items under the same matches). */
	int (*install)(void *arg, uint32_t idx, const struct nat_offload_desc *d);
	/* Remove entry idx's items (leaving matches another entry has taken over). */
	void (*remove)(void *arg, uint32_t idx, const struct nat_offload_desc *d);
	/* The use of entry idx's items, summed (last: the latest). */
	int (*use)(void *arg, uint32_t idx, const struct nat_offload_desc *d,
		   struct nat_offload_use *u);
	/* Remove every item (nat_reset). */
	void (*flush)(void *arg);
	void *arg;
};

#define foreach_nat_offload_ctr(_)                                                               \
	_(INSTALLED, "offload_installed")	    /* entries handed to the fast path */        \
	_(REMOVED, "offload_removed")		    /* entries taken back (gone or unsettled) */ \
	_(KEPT, "offload_expiry_postponed")	    /* expiries the fast path's use postponed */ \
	_(EXPIRED, "offload_expired")		    /* offloaded entries that did expire */      \
	_(INSTALL_FAILED, "offload_install_failed") /* the fast path refused: the engine keeps \
						       translating the entry's packets */

enum nat_offload_ctr {
#define _(sym, str) NAT_OFFLOAD_CTR_##sym,
	foreach_nat_offload_ctr(_)
#undef _
		NAT_OFFLOAD_CTR_N
};

/* Start offloading (ops is copied); entries already settled are offloaded as their next
 * packet reaches the engine. SP_ENOMEM, or SP_EEXIST when already on. */
int nat_offload_enable(struct nat *n, const struct nat_offload_ops *ops) SP_MUST_CHECK;
/* Stop: every offloaded entry's items are removed, the engine translates all again. */
void nat_offload_disable(struct nat *n);
bool nat_offload_enabled(const struct nat *n);

/* For strategies and the engine: entry idx has become settled; install it unless it is. */
void nat_offload_settle(struct nat *n, uint32_t idx);
/* Entry idx is no longer settled: remove its items. */
void nat_offload_unsettle(struct nat *n, uint32_t idx);
/* Whether entry idx is offloaded now. */
bool nat_offload_is(const struct nat *n, uint32_t idx);
/* The fast path's use of entry idx (zeros when not offloaded). */
void nat_offload_use_of(const struct nat *n, uint32_t idx, struct nat_offload_use *u);

/* The items of entry idx as its owner describes them (n = 0: none). */
void nat_offload_describe(const struct nat *n, uint32_t idx, struct nat_offload_desc *d);

#endif
