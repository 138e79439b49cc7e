/*
 * The NAT gateway engine: NAPT for TCP, UDP and ICMP (RFC 4787, RFC 5382, RFC 5508), IKE
 * on UDP 500 demultiplexed by cookies (003), and one IPsec strategy per instance for raw
 * ESP/AH (masq, spihash, serial, natt, ipaddr, oldest; nat_strategy.h). Sans-IO: the
 * simulator's NAT node, spinatd's gateway role and spinat-bench drive the same code.
 *
 * Two ways to drive it:
 *   nat_translate(): translate a packet in place and say where it goes (the daemon's
 *                    NFQUEUE verdict, the benchmark); the caller keeps the packet.
 *   nat_input():     consume the packet and emit it through the configured callback.
 * Extra packets the engine makes (masq multicast copies, packets the serial strategy held
 * back) always leave through the callback.
 */
#ifndef SP_NAT_NAT_H
#define SP_NAT_NAT_H

#include "base/conf.h"
#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"

#include <stdio.h>

#define NAT_POOL_MAX	 256
#define NAT_SPARAMS_SIZE 128

/* The side a packet arrived on or leaves by. */
enum nat_side {
	NAT_INSIDE = 0,
	NAT_OUTSIDE = 1,
};

/* What the caller does with a packet after nat_translate(). */
enum nat_verdict {
	NAT_DROP = 0,	    /* counted under a named drop counter; caller frees */
	NAT_TO_INSIDE = 1,  /* translated in place; send on the inside */
	NAT_TO_OUTSIDE = 2, /* translated in place; send on the outside */
	NAT_TAKEN = 3,	    /* the engine kept a copy to send later; caller frees its own */
};

/* How UDP 500 is handled (003 Background). */
enum nat_ike_mode {
	NAT_IKE_COOKIES = 0, /* addresses translated, port 500 kept, replies by IKE SPIs */
	NAT_IKE_NAPT = 1,    /* plain NAPT, the port may change */
};

/* When the table is full. */
enum nat_full_mode {
	NAT_FULL_DROP = 0,  /* refuse the new mapping (counter drop_table_full) */
	NAT_FULL_EVICT = 1, /* reuse the entry filed to expire soonest */
};

struct nat_strategy;

struct nat_config {
	uint32_t pool[NAT_POOL_MAX]; /* global addresses, sorted */
	unsigned npool;
	uint16_t port_min, port_max; /* allocated ports when the inside port is taken */
	uint32_t max_entries;	     /* table size: mappings + IPsec items + IKE items */
	sp_time t_udp;		     /* RFC 4787 REQ-5: at least 2 min */
	sp_time t_tcp_est;	     /* RFC 5382 REQ-5: at least 2 h 4 min */
	sp_time t_tcp_trans;	     /* RFC 5382 REQ-5: at least 4 min */
	sp_time t_icmp;		     /* RFC 5508 REQ-1: at least 60 s */
	sp_time t_frag;		     /* how long a first fragment's translation is kept */
	enum nat_ike_mode ike_mode;
	sp_time t_ike_out;    /* IKE items awaiting the responder cookie (003 T_out) */
	sp_time t_ike_est;    /* established IKE items after inactivity (003 T_ei) */
	sp_time t_ike_recent; /* "recently had an IKE negotiation" (003) */
	enum nat_full_mode full_mode;
	/* Fair share per inside host (RFC 6888 REQ-4, REQ-5; docs/SECURITY.md). */
	uint32_t host_max_ports;    /* NAPT mappings per protocol (global ports, ICMP ids) */
	uint32_t host_max_entries;  /* every table entry that names the host */
	uint32_t host_max_ike;	    /* IKE items and IKE peer entries */
	uint32_t host_max_frags;    /* inbound fragment entries to the host */
	uint32_t host_max_esp;	    /* the strategy's ESP/AH items naming the host */
	uint32_t host_unreach_rate; /* ICMP Host Unreachables per second per host; 0: none */
	uint32_t max_hosts; /* inside hosts with entries at once; 0: nat_config_max_hosts() */
	const struct nat_strategy *strategy;
	/* Parameters of the strategy, parsed by its conf() (nat_strategy.h). */
	_Alignas(8) uint8_t sparams[NAT_SPARAMS_SIZE];
};

/* Emit an engine-made packet on a side; consumes p. */
typedef void (*nat_emit_fn)(void *arg, enum nat_side side, struct pkt *p);

/* What the owner lends the engine. */
struct nat_env {
	const char *name;	      /* instance name in counters and logs */
	struct sp_rng *rng;	      /* hash seed, port choice, random SPI bytes */
	struct sp_log *log;	      /* may be NULL */
	struct sp_ctr_registry *ctrs; /* counters are linked here; may be NULL */
	struct pkt_pool *pool;	      /* copies (multicast, held packets); may be NULL */
	nat_emit_fn emit;	      /* may be NULL: engine-made packets are then dropped */
	void *emit_arg;
};

struct nat;

/* Defaults: the documents' values and RFC minimums; strategy masq; no pool. */
void nat_config_defaults(struct nat_config *c);
/* Host records the engine preallocates: max_hosts, or when 0 one per 4 table entries
 * (at least min(max_entries, 1024)); never more than max_entries. */
uint32_t nat_config_max_hosts(const struct nat_config *c);
/*
 * Read the engine's keys from a configuration section (docs/CONFIG.md [gateway]): pool,
 * ports, max_mappings, timeouts, ike, table_full, strategy and every strategy's own keys
 * (only the chosen strategy's values are kept). Starts from nat_config_defaults().
 */
int nat_config_read(struct nat_config *c, struct conf_sec *s) SP_MUST_CHECK;
/* Add a global address to the pool (kept sorted, duplicates refused). */
int nat_config_add_pool(struct nat_config *c, uint32_t addr) SP_MUST_CHECK;
/* Choose a strategy by name with its default parameters. */
int nat_config_set_strategy(struct nat_config *c, const char *name) SP_MUST_CHECK;

int nat_new(struct nat **out, const struct nat_config *c, const struct nat_env *env) SP_MUST_CHECK;
void nat_free(struct nat *n);

int nat_translate(struct nat *n, sp_time now, enum nat_side from, struct pkt *p);
/* Translate count packets (all from one side) with memory prefetching, NAT_BURST_MAX at
 * a time; verdicts[i] is what nat_translate() would have returned for p[i]. */
#define NAT_BURST_MAX 64
void nat_translate_burst(struct nat *n, sp_time now, enum nat_side from, struct pkt **p,
			 unsigned count, uint8_t *verdicts);
/* Translate and send through env->emit, or free; consumes p. */
void nat_input(struct nat *n, sp_time now, enum nat_side from, struct pkt *p);

/* Expire state and run strategy timers; call at nat_next_deadline() (or more often). */
void nat_tick(struct nat *n, sp_time now);
sp_time nat_next_deadline(const struct nat *n);

/* Forget every mapping and item, as a crashed and restarted NAT would (003). */
void nat_reset(struct nat *n);

/* Whether addr is one of the global addresses. */
bool nat_is_global(const struct nat *n, uint32_t addr);
/* Whether the strategy also takes inside packets addressed to the router itself (dnat's
 * tunnel packets and PAP): its owner hands those to nat_translate() too. */
bool nat_takes_local(const struct nat *n);

/* What is in the table. */
uint32_t nat_entries(const struct nat *n);
/* Memory per entry (the entry and its share of the hash buckets): a NAPT mapping is one
 * entry, an associated SPI-hash SA two, an IKE item one plus one per client and server. */
uint32_t nat_entry_bytes(const struct nat *n);
uint64_t nat_memory(const struct nat *n);
const struct nat_config *nat_config_of(const struct nat *n);
const char *nat_strategy_name(const struct nat *n);
/* Counter value by name ("drop_no_mapping", "masq_multicast", ...), 0 if unknown. */
uint64_t nat_counter(const struct nat *n, const char *name);

/* Flags for nat_show(). */
#define NAT_SHOW_NAPT  0x1u /* TCP, UDP, ICMP mappings */
#define NAT_SHOW_IPSEC 0x2u /* ESP/AH items and IKE items */
#define NAT_SHOW_ALL   (NAT_SHOW_NAPT | NAT_SHOW_IPSEC)
#define NAT_SHOW_JSON  0x4u /* one JSON object: {"rows": [...], "rows_total", ...} */

/*
 * Print the live table laid out like 000 FIG. 5A/5B: protocol, inside global, inside
 * local, outside local, outside global, then state and seconds left; at most limit rows
 * (0: all), in a stable order (inside local address, then outbound before inbound).
 */
void nat_show(const struct nat *n, sp_time now, FILE *f, unsigned flags, uint32_t limit);

#endif
