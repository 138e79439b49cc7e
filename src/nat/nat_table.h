/*
 * The NAT's one table: a preallocated pool of 64-byte entries referenced by index, one
 * keyed hash index over up to two keys per entry, and a timer wheel that reclaims expired
 * entries. The packet path allocates nothing: it looks up, writes an expiry, and on a miss
 * takes an entry from the free list.
 *
 * Every kind of state lives here: NAPT mappings, IKE items, fragment tracks and the
 * strategies' ESP items, each as entries whose keys carry a kind (a namespace), so that
 * `spinat show nat` walks one table and memory is counted in one place.
 */
#ifndef SP_NAT_TABLE_H
#define SP_NAT_TABLE_H

#include "base/sp.h"
#include "base/time.h"

#define NAT_NIL 0xffffffffu

/* Key namespaces. NONE marks a key slot used for data only (not indexed). */
enum nat_kind {
	NAT_K_NONE = 0,
	NAT_K_IN = 1,	  /* NAPT inside: proto, inside address, -, inside port/ICMP id */
	NAT_K_OUT = 2,	  /* NAPT outside: proto, global address, -, global port/ICMP id */
	NAT_K_FRAG = 3,	  /* inbound fragments: proto, remote, global, IP id */
	NAT_K_IKE = 4,	  /* IKE item: UDP, server, icookie high, icookie low */
	NAT_K_PEER = 5,	  /* IKE recency by global and server: -, global, server, - */
	NAT_K_PEERC = 6,  /* IKE recency by client and server: -, client, server, - */
	NAT_K_STRAT = 16, /* first of the strategies' own kinds (16..31) */
};

/* Who owns an entry: decides how it is shown and who hears of its expiry. */
enum nat_owner {
	NAT_O_FREE = 0,
	NAT_O_NAPT,
	NAT_O_FRAG,
	NAT_O_IKE,
	NAT_O_PEER,
	NAT_O_STRAT,
};

struct nat_key {
	uint32_t a;
	uint32_t b;
	uint32_t id;
	uint8_t proto;
	uint8_t kind;
	uint16_t zero; /* always 0: keys compare as two 64-bit words */
};

/* One cache line. Fields beyond the keys are interpreted by the owner. */
struct nat_entry {
	struct nat_key k[2]; /* k[0], k[1]: indexed when kind != NAT_K_NONE */
	uint32_t next[2];    /* hash chain links, see nat_table.c */
	uint32_t w_prev;     /* timer wheel links */
	uint32_t w_next;
	sp_time expire; /* the entry is dead from this time on */
	union {
		uint32_t out_addr; /* NAPT: last remote address */
		uint32_t aux;	   /* strategies: a peer entry, a sequence number */
	};
	uint16_t out_port; /* NAPT: last remote port */
	uint8_t owner;	   /* enum nat_owner */
	uint8_t state;	   /* owner-defined: TCP state, outstanding/established */
};

_Static_assert(sizeof(struct nat_entry) == 64, "one cache line per entry");

/* Timer wheel: 1 s slots, horizon NAT_WHEEL_SLOTS seconds; later expiries are re-checked. */
#define NAT_WHEEL_SLOTS 8192u
#define NAT_WHEEL_TICK	SP_SEC(1)

struct nat_table {
	struct nat_entry *e; /* max entries */
	uint32_t *bucket;    /* nbucket chain heads (link values) */
	uint32_t max;
	uint32_t nbucket_mask;
	uint32_t free_head;
	uint32_t used;
	uint64_t seed;
	uint32_t *wheel;		     /* NAT_WHEEL_SLOTS list heads */
	uint64_t wmap[NAT_WHEEL_SLOTS / 64]; /* non-empty slots */
	uint64_t wtick;			     /* last tick processed */
	uint32_t wcount;		     /* entries on the wheel */
	uint64_t bytes;			     /* memory held */
	/* Entries handed to a fast path (nat_offload.c): one bit each, NULL when offloading
	 * is off; offl_free hears of such an entry before it is freed. */
	uint64_t *offl_bits;
	void (*offl_free)(void *arg, uint32_t idx);
	void *offl_arg;
};

static inline void nat_key_set(struct nat_key *k, uint8_t kind, uint8_t proto, uint32_t a,
			       uint32_t b, uint32_t id)
{
	k->a = a;
	k->b = b;
	k->id = id;
	k->proto = proto;
	k->kind = kind;
	k->zero = 0;
}

static inline bool nat_key_eq(const struct nat_key *x, const struct nat_key *y)
{
	return x->a == y->a && x->b == y->b && x->id == y->id && x->proto == y->proto &&
	       x->kind == y->kind;
}

static inline uint64_t nat_key_hash(const struct nat_key *k, uint64_t seed)
{
	uint64_t w0 = (uint64_t)k->a << 32 | k->b;
	uint64_t w1 = (uint64_t)k->id << 16 | (uint64_t)k->proto << 8 | k->kind;
	uint64_t x = (w0 ^ seed) * 0x9e3779b97f4a7c15ull;

	/* Two rounds of multiply-xorshift over a seeded state: enough to spread tuples that
	 * differ in one field; the seed keeps outsiders from choosing a bucket. */
	x ^= x >> 32;
	x = (x ^ w1) * 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static inline struct nat_entry *nat_entry_at(const struct nat_table *t, uint32_t idx)
{
	return &t->e[idx];
}

static inline bool nat_entry_live(const struct nat_entry *e, sp_time now)
{
	return e->expire > now;
}

/* Bytes held for max entries (pool, buckets, wheel): what nat_table_init allocates. */
uint64_t nat_table_mem_for(uint32_t max);

int nat_table_init(struct nat_table *t, uint32_t max, uint64_t seed) SP_MUST_CHECK;
void nat_table_fini(struct nat_table *t);
/* Forget every entry, keeping the memory and the seed. */
void nat_table_clear(struct nat_table *t);

/* A zeroed entry with both key kinds NONE, not in the wheel; NAT_NIL when full. */
uint32_t nat_table_alloc(struct nat_table *t, uint8_t owner);
/* Unhook keys and wheel links and return the entry to the free list. */
void nat_table_free(struct nat_table *t, uint32_t idx);

/* Index k[slot] (its kind must not be NONE); remove it from the index. */
void nat_table_hash_add(struct nat_table *t, uint32_t idx, unsigned slot);
void nat_table_hash_del(struct nat_table *t, uint32_t idx, unsigned slot);
/* Replace k[slot] by key, moving it in the index. */
void nat_table_rekey(struct nat_table *t, uint32_t idx, unsigned slot, const struct nat_key *key);

/* The bucket a key hangs on. */
static inline uint32_t nat_table_bucket(const struct nat_table *t, const struct nat_key *k)
{
	return (uint32_t)(nat_key_hash(k, t->seed) & t->nbucket_mask);
}

/* Continue a walk of bucket chain links from link l: the next link whose key equals k. */
static inline uint32_t nat_table_scan(const struct nat_table *t, const struct nat_key *k,
				      uint32_t l)
{
	for (; l != NAT_NIL; l = t->e[l >> 1].next[l & 1u])
		if (nat_key_eq(&t->e[l >> 1].k[l & 1u], k))
			return l;
	return NAT_NIL;
}

/* Walk every indexed key equal to k, live or not: pass *it = NAT_NIL first; returns the
 * entry index or NAT_NIL at the end. The table must not change during the walk. */
static inline uint32_t nat_table_next_match(const struct nat_table *t, const struct nat_key *k,
					    uint32_t *it)
{
	uint32_t l =
		*it == NAT_NIL ? t->bucket[nat_table_bucket(t, k)] : t->e[*it >> 1].next[*it & 1u];

	*it = nat_table_scan(t, k, l);
	return *it == NAT_NIL ? NAT_NIL : *it >> 1;
}

/* The first live entry indexed under k in bucket b (from nat_table_bucket), or NAT_NIL. */
static inline uint32_t nat_table_lookup_b(const struct nat_table *t, const struct nat_key *k,
					  uint32_t b, sp_time now)
{
	uint32_t l = t->bucket[b];

	while ((l = nat_table_scan(t, k, l)) != NAT_NIL) {
		if (nat_entry_live(&t->e[l >> 1], now))
			return l >> 1;
		l = t->e[l >> 1].next[l & 1u];
	}
	return NAT_NIL;
}

/* The first live entry indexed under k, or NAT_NIL. */
static inline uint32_t nat_table_lookup(const struct nat_table *t, const struct nat_key *k,
					sp_time now)
{
	return nat_table_lookup_b(t, k, nat_table_bucket(t, k), now);
}

/* Set the expiry and put the entry on the wheel if it is not there yet. Refreshing an
 * entry already on the wheel is just a store to e->expire. */
void nat_table_schedule(struct nat_table *t, uint32_t idx, sp_time expire, sp_time now);

/*
 * Advance the wheel to now: every entry whose expiry has passed is handed to cb (which
 * must free it, possibly with others) and is then gone; the others are re-filed.
 * Returns the number handed to cb.
 */
typedef void (*nat_expire_fn)(void *arg, uint32_t idx);
uint32_t nat_table_advance(struct nat_table *t, sp_time now, nat_expire_fn cb, void *arg);
/* The time the wheel next has work, or SP_TIME_NEVER. */
sp_time nat_table_next_deadline(const struct nat_table *t);
/* The live entry that expires soonest-filed (eviction when full), or NAT_NIL. */
uint32_t nat_table_oldest(const struct nat_table *t);
/* The soonest-filed entry ok() accepts among the first budget entries in wheel order, or
 * NAT_NIL: eviction that may not take just any entry. */
uint32_t nat_table_oldest_if(const struct nat_table *t,
			     bool (*ok)(void *arg, const struct nat_entry *e), void *arg,
			     uint32_t budget);

#endif
