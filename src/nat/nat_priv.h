/*
 * Inside the NAT engine: the instance struct, the core counters and the functions the
 * nat_*.c files share. Not for users of the engine (they include nat/nat.h).
 */
#ifndef SP_NAT_PRIV_H
#define SP_NAT_PRIV_H

#include "nat/nat.h"
#include "nat/nat_offload.h"
#include "nat/nat_strategy.h"
#include "nat/nat_table.h"
#include "proto/ipv4.h"
#include "base/csum.h"
#include "base/cursor.h"

/* Core counters; every drop has one (strategies add theirs, prefixed by their name). */
#define foreach_nat_ctr(_)                                          \
	_(IN2OUT, "in2out")                                         \
	_(OUT2IN, "out2in")                                         \
	_(HAIRPIN, "hairpin")                                       \
	_(IKE_IN2OUT, "ike_in2out")                                 \
	_(IKE_OUT2IN, "ike_out2in")                                 \
	_(IKE_ESTABLISHED, "ike_items_established")                 \
	_(IPSEC_IN2OUT, "ipsec_in2out")                             \
	_(IPSEC_OUT2IN, "ipsec_out2in")                             \
	_(ICMP_ERR_IN2OUT, "icmp_error_in2out")                     \
	_(ICMP_ERR_OUT2IN, "icmp_error_out2in")                     \
	_(FRAG_IN2OUT, "frag_in2out")                               \
	_(FRAG_OUT2IN, "frag_out2in")                               \
	_(MAPPINGS_CREATED, "mappings_created")                     \
	_(PORT_PRESERVED, "port_preserved")                         \
	_(EXPIRED, "entries_expired")                               \
	_(EVICTED, "entries_evicted")                               \
	_(COPIES, "copies_emitted")                                 \
	_(DROP_MALFORMED, "drop_malformed")                         \
	_(DROP_IP_CSUM, "drop_ip_checksum")                         \
	_(DROP_PROTO, "drop_protocol_unsupported")                  \
	_(DROP_NO_MAPPING, "drop_no_mapping")                       \
	_(DROP_NOT_POOL, "drop_dst_not_in_pool")                    \
	_(DROP_SRC_POOL, "drop_src_in_pool")                        \
	_(DROP_TABLE_FULL, "drop_table_full")                       \
	_(DROP_NO_PORT, "drop_no_port")                             \
	_(DROP_FRAG_UNKNOWN, "drop_fragment_unknown")               \
	_(DROP_ICMP_TYPE, "drop_icmp_type")                         \
	_(DROP_ICMP_ERR_NO_MAPPING, "drop_icmp_error_no_mapping")   \
	_(DROP_ICMP_ERR_INNER, "drop_icmp_error_inner_unsupported") \
	_(DROP_IKE_MALFORMED, "drop_ike_malformed")                 \
	_(DROP_IKE_COLLISION, "drop_ike_icookie_outstanding")       \
	_(DROP_IKE_NO_ITEM, "drop_ike_no_item")                     \
	_(DROP_HAIRPIN_IPSEC, "drop_hairpin_ipsec")                 \
	_(DROP_NO_BUFFER, "drop_no_buffer")                         \
	_(DROP_NO_EMIT, "drop_no_emit")                             \
	_(DROP_HOST_PORTS, "drop_host_ports")                       \
	_(DROP_HOST_ENTRIES, "drop_host_entries")                   \
	_(DROP_HOST_IKE, "drop_host_ike")                           \
	_(HOST_FRAGS_REFUSED, "host_fragments_refused")             \
	_(DROP_HOST_ESP, "drop_host_esp")                           \
	_(DROP_HOST_TABLE_FULL, "drop_host_table_full")             \
	_(HOST_EVICTED, "host_records_evicted")                     \
	_(HOST_UNREACH_SENT, "host_unreachable_sent")               \
	_(HOST_UNREACH_LIMITED, "host_unreachable_rate_limited")    \
	_(HOST_LOG_SUPPRESSED, "host_log_cells_busy")               \
	_(EVICT_NONE_FREE, "evict_only_established")

enum nat_ctr {
#define _(sym, str) NAT_CTR_##sym,
	foreach_nat_ctr(_)
#undef _
		NAT_CTR_N
};

/* What a host record counts (nat_host.c). */
enum nat_hk {
	NAT_HK_UDP = 0, /* NAPT mappings: one global port or ICMP identifier each */
	NAT_HK_TCP,
	NAT_HK_ICMP,
	NAT_HK_IKE,  /* IKE items and IKE peer entries */
	NAT_HK_FRAG, /* inbound fragment entries to the host */
	NAT_HK_ESP,  /* the strategy's ESP/AH items (nat_strategy.h host_of) */
	NAT_HK_N
};

/* One inside host's share of the table. */
struct nat_host {
	uint32_t addr; /* on the free list: the next free record */
	uint16_t cnt[NAT_HK_N];
};

_Static_assert(sizeof(struct nat_host) == 16, "a quarter of a cache line per host record");

/* The rate state of a host being refused (nat_host.c): a few of them, not one per host. */
struct nat_host_rate {
	uint32_t addr;
	uint16_t unreach_at; /* second of the last Host Unreachable to it, plus one, mod 2^16 */
	uint16_t unreach_n;  /* Host Unreachables sent to it in that second */
	uint32_t logged;     /* second of the last log line about it, plus one; 0: never */
};

struct nat_hosts {
	struct nat_host *h; /* max records: nat_config_max_hosts() */
	uint32_t *ix;	    /* open-addressed index of records: nix slots */
	uint32_t max, nix;
	uint32_t free_head;
	uint32_t used;
	struct nat_host_rate *rate; /* rate_mask + 1 sets of NAT_RATE_WAYS */
	uint32_t rate_mask;
};

#define NAT_RATE_WAYS 4

/* Entries looked at for a victim when the table is full and full_mode is evict. */
#define NAT_EVICT_SCAN 256

/* Slots of the pool membership set: at least twice NAT_POOL_MAX, a power of two. */
#define NAT_POOL_SET 512

struct nat {
	struct nat_config cfg;
	uint32_t pool_set[NAT_POOL_SET];
	struct nat_env env;
	struct nat_table tab;
	struct nat_hosts hosts;
	struct sp_ratelimit host_rl; /* log lines about hosts at a limit */
	const struct nat_strategy *strat;
	void *sctx;
	uint64_t ctr[NAT_CTR_N];
	uint64_t *sctr;
	struct sp_ctrs ctrs;
	struct sp_ctrs sctrs;
	bool registered;
	char name[32];
	struct nat_offload *offl; /* NULL unless a fast path is lent (nat_offload.h) */
	sp_time advance_now;	  /* now of the nat_table_advance() running */
};

#define NAT_INC(n, c) ((n)->ctr[NAT_CTR_##c]++)

/* A parsed IPv4 packet in a struct pkt (header already validated). */
struct nat_ip {
	uint8_t *h;	/* IPv4 header in the packet */
	uint8_t *l4;	/* payload start */
	uint32_t l4len; /* payload bytes (ip_len - hl) */
	uint8_t proto;
	uint32_t src, dst;
	bool frag_first; /* MF set, offset 0 */
	bool frag_later; /* offset != 0 */
	uint16_t ip_id;
	uint32_t hint; /* hint of the NAPT key (nat_table_hint), from the burst path; or NAT_NIL */
};

/* Where a protocol keeps what NAPT rewrites; ICMP echo uses its identifier as both ports. */
struct nat_l4_layout {
	uint8_t min;
	uint8_t sport, dport, csum;
	bool udp;    /* a zero checksum means none (RFC 768) */
	bool pseudo; /* the checksum covers the IPv4 pseudo-header */
};
extern const struct nat_l4_layout nat_lay_udp, nat_lay_tcp, nat_lay_icmp;

/* TCP state of a mapping (entry state byte), enough for RFC 5382 REQ-5's timers. */
#define NAT_TCP_SYN_OUT	  0x01
#define NAT_TCP_SYN_IN	  0x02
#define NAT_TCP_FIN_OUT	  0x04
#define NAT_TCP_FIN_IN	  0x08
#define NAT_TCP_RST	  0x10
#define NAT_TCP_EST	  0x20
#define NAT_TCP_MIDSTREAM 0x40 /* the mapping was made by a segment without SYN */

void nat_tcp_track(struct nat_entry *e, uint8_t flags, bool outbound, bool created);
/* The idle timeout of a NAPT mapping in its current state. */
sp_time nat_napt_timeout(const struct nat *n, const struct nat_entry *e);

/* A time from the configuration that the table can keep as an expiry: conf_get_time()
 * and at most NAT_EXPIRE_MAX (about 12.4 days). */
struct conf_sec;
int nat_conf_time(struct conf_sec *s, const char *key, sp_time def, sp_time *out) SP_MUST_CHECK;

/* Whether addr is one of the global addresses (one probe of a hash set). */
bool nat_in_pool(const struct nat *n, uint32_t addr);

/* Entry allocation with the full_mode policy, for inside host (0: not known); NAT_NIL
 * counted as drop_table_full. Eviction never takes another host's entry in use. */
uint32_t nat_alloc(struct nat *n, uint8_t owner, sp_time now, uint32_t host);

/* A UDP or ICMP mapping that has seen a packet from outside (entry state byte). */
#define NAT_NAPT_REPLIED 0x80

/* Per inside host accounting (nat_host.c). */
int nat_hosts_init(struct nat *n) SP_MUST_CHECK;
void nat_hosts_fini(struct nat *n);
void nat_hosts_clear(struct nat *n);
uint64_t nat_hosts_mem(const struct nat *n);
struct nat_host *nat_host_lookup(const struct nat *n, uint32_t addr);
/* The inside host and kind an entry is counted under; false for strategies' items. */
bool nat_host_of(const struct nat *n, const struct nat_entry *e, uint32_t *addr, enum nat_hk *kind);
/* Whether the host may have one more entry of kind; a refusal is counted and logged. */
bool nat_host_admit(struct nat *n, sp_time now, uint32_t addr, enum nat_hk kind);
/* RFC 6888 REQ-11 b: an ICMP Host Unreachable to the sender of an outbound packet (orig,
 * len bytes from its IPv4 header on) that a per-host limit refused; at most
 * host_unreachable_rate a second per host. */
void nat_host_unreach(struct nat *n, sp_time now, uint32_t host, const uint8_t *orig, size_t len);
static inline void nat_host_unreach_ip(struct nat *n, sp_time now, const struct nat_ip *ip)
{
	nat_host_unreach(n, now, ip->src, ip->h, (size_t)(ip->l4 - ip->h) + ip->l4len);
}
/* Count a new entry (after its keys are set) and uncount a freed one. */
void nat_host_charge(struct nat *n, uint32_t addr, enum nat_hk kind);
void nat_host_uncharge(struct nat *n, const struct nat_entry *e);
/* An entry that may go to make room for host's new one, or NAT_NIL. */
uint32_t nat_host_victim(const struct nat *n, uint32_t host);
/* Free every entry whose time has passed (what nat_tick() does first). */
void nat_reclaim(struct nat *n, sp_time now);
/* Free an entry through its owner (strategy entries through the strategy). */
void nat_entry_expire(struct nat *n, uint32_t idx);

int nat_in2out(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p);
int nat_out2in(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p);
int nat_icmp_error(struct nat *n, sp_time now, enum nat_side from, struct nat_ip *ip);

/* IKE on UDP 500 with cookies (nat_ike.c): ip->l4 points at the UDP header. */
int nat_ike_in2out(struct nat *n, sp_time now, struct nat_ip *ip);
int nat_ike_out2in(struct nat *n, sp_time now, struct nat_ip *ip);
bool nat_ike_row(const struct nat *n, const struct nat_entry *e, struct nat_row *r);

/* Rewrite an address, fixing the IPv4 header checksum (RFC 1624). */
static inline void nat_rewrite_addr(struct nat_ip *ip, unsigned off, uint32_t addr)
{
	uint32_t old = sp_load_be32(ip->h + off);

	sp_store_be32(ip->h + off, addr);
	sp_store_be16(ip->h + IPV4_OFF_CSUM,
		      csum_update32(sp_load_be16(ip->h + IPV4_OFF_CSUM), old, addr));
}

static inline void nat_rewrite_src(struct nat_ip *ip, uint32_t addr)
{
	nat_rewrite_addr(ip, IPV4_OFF_SRC, addr);
	ip->src = addr;
}

static inline void nat_rewrite_dst(struct nat_ip *ip, uint32_t addr)
{
	nat_rewrite_addr(ip, IPV4_OFF_DST, addr);
	ip->dst = addr;
}

/* Fix an L4 checksum that covers the pseudo-header or a field (udp: zero means absent
 * and a result of 0 is written as 0xffff, RFC 768). */
static inline void nat_l4_csum_fix32(uint8_t *f, bool udp, uint32_t old, uint32_t new_)
{
	uint16_t c = sp_load_be16(f);

	if (udp && c == 0)
		return; /* RFC 768: no checksum */
	c = csum_update32(c, old, new_);
	if (udp && c == 0)
		c = 0xffff;
	sp_store_be16(f, c);
}

static inline void nat_l4_csum_fix16(uint8_t *f, bool udp, uint16_t old, uint16_t new_)
{
	uint16_t c = sp_load_be16(f);

	if (udp && c == 0)
		return;
	c = csum_update16(c, old, new_);
	if (udp && c == 0)
		c = 0xffff;
	sp_store_be16(f, c);
}

/* The fast path (nat_offload.c): a NAPT mapping the engine just translated a packet of;
 * an expiring entry the fast path may have used since (true: rescheduled, not expired);
 * nat_reset; the offload counters by name. */
void nat_offload_napt(struct nat *n, uint32_t idx);
bool nat_offload_keep(struct nat *n, uint32_t idx, sp_time now);
void nat_offload_reset(struct nat *n);
uint64_t nat_offload_counter(const struct nat *n, const char *name);

/* Record a first fragment's translation so later fragments follow it (inbound). */
void nat_frag_note(struct nat *n, sp_time now, const struct nat_ip *ip, uint32_t inside);

#endif
