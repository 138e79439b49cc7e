/*
 * The NAT's one table: a preallocated pool of 48-byte entries referenced by index, one
 * keyed hash index over up to two keys per entry, and a timer wheel that reclaims expired
 * entries. The packet path allocates nothing: it looks up, writes an expiry, and on a miss
 * takes an entry from the free list.
 *
 * Every kind of state lives here: NAPT mappings, IKE items, fragment tracks and the
 * strategies' ESP items, each as entries whose keys carry a kind (a namespace), so that
 * `spinat show nat` walks one table and memory is counted in one place.
 *
 * The index is open addressed (linear probing) over 4-byte slots, each holding a link to
 * one key (entry index and key slot) and, in the bits the link does not need, a tag from
 * the key's hash: a probe reads one run of slots in one or two cache lines and looks at
 * an entry only when its tag matches. It has 2.5 slots per entry (at most 80 % full when
 * every entry has two keys). Expiry times are kept to the millisecond, 32 bits modulo
 * 2^32 ms: every expiry is at most NAT_EXPIRE_MAX ahead, and the wheel reclaims the dead
 * long before the count wraps (nat_table_advance).
 */
#ifndef SP_NAT_TABLE_H
#define SP_NAT_TABLE_H

#include "base/hash.h"
#include "base/sp.h"
#include "base/time.h"

#define NAT_NIL 0xffffffffu
_Static_assert(NAT_NIL == SP_PROBE_EMPTY, "an empty index slot is NAT_NIL");

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

/* 14 bytes, packed: two of them and the rest of an entry fill 48 bytes. */
struct nat_key {
	uint32_t a;
	uint32_t b;
	uint32_t id;
	uint8_t proto;
	uint8_t kind;
} __attribute__((packed));

/* Fields beyond the keys are interpreted by the owner. */
struct nat_entry {
	struct nat_key k[2]; /* k[0], k[1]: indexed when kind != NAT_K_NONE */
	uint32_t w_prev;     /* timer wheel links; w_next also links the free list */
	uint32_t w_next;
	union {
		uint32_t out_addr; /* NAPT: last remote address */
		uint32_t aux;	   /* strategies: a peer entry, a sequence number */
	};
	uint32_t exp_ms;   /* dead from this millisecond on (mod 2^32), or NAT_EXP_NEVER */
	uint16_t out_port; /* NAPT: last remote port */
	uint8_t owner;	   /* enum nat_owner */
	uint8_t state;	   /* owner-defined: TCP state, outstanding/established */
};

_Static_assert(sizeof(struct nat_key) == 14, "packed keys");
_Static_assert(sizeof(struct nat_entry) == 48, "48 bytes per entry");

/* An entry that never expires (not on the wheel). */
#define NAT_EXP_NEVER  0xffffffffu
/* The furthest ahead an expiry may lie; later ones are cut to it (about 12.4 days). */
#define NAT_EXPIRE_MAX SP_MSEC(1ull << 30)
/* The longest a table may go without nat_table_advance() while it is used (about 6.2
 * days): nat.c advances before translating when this much time has passed. Together with
 * NAT_EXPIRE_MAX it keeps every expiry read within 2^31 ms of now. */
#define NAT_ADV_GAP    SP_MSEC(1ull << 29)

/* Timer wheel: 1 s slots, horizon NAT_WHEEL_SLOTS seconds; later expiries are re-checked. */
#define NAT_WHEEL_SLOTS 8192u
#define NAT_WHEEL_TICK	SP_SEC(1)

struct nat_table {
	struct nat_entry *e; /* max entries */
	uint32_t *ix;	     /* nix index slots: tag | link, or NAT_NIL */
	uint32_t nix;
	uint32_t lmask; /* the link bits of a slot; the others hold the tag */
	uint32_t lbits; /* how many: enough for every link and NAT_NIL's, 2 to 32 */
	uint32_t max;
	uint32_t free_head;
	uint32_t used;
	uint64_t seed;
	uint32_t *wheel;		     /* NAT_WHEEL_SLOTS list heads */
	uint64_t wmap[NAT_WHEEL_SLOTS / 64]; /* non-empty slots */
	uint64_t wtick;			     /* last tick processed */
	sp_time adv_time;		     /* now at the last advance */
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
	 * differ in one field; the seed keeps outsiders from choosing a slot. */
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

/* Milliseconds, rounded down, modulo 2^32. */
static inline uint32_t nat_ms(sp_time t)
{
	return (uint32_t)(t / SP_MSEC(1));
}

/* An expiry as an entry keeps it: rounded up to the millisecond, so an entry never dies
 * before its time (RFC 4787 REQ-5's minimum holds) and at most 1 ms after. */
static inline uint32_t nat_exp_enc(sp_time expire)
{
	uint32_t v;

	if (expire == SP_TIME_NEVER)
		return NAT_EXP_NEVER;
	v = (uint32_t)((expire + SP_MSEC(1) - 1) / SP_MSEC(1));
	return v == NAT_EXP_NEVER ? 0 : v; /* one millisecond later, modulo 2^32 */
}

/* Alive at now: its expiry, rounded up to the millisecond, is later than now. */
static inline bool nat_entry_live(const struct nat_entry *e, sp_time now)
{
	return e->exp_ms == NAT_EXP_NEVER || (int32_t)(e->exp_ms - nat_ms(now)) > 0;
}

/* The entry's expiry as a time, read against now (SP_TIME_NEVER if it has none). */
static inline sp_time nat_entry_expiry(const struct nat_entry *e, sp_time now)
{
	int64_t ms;

	if (e->exp_ms == NAT_EXP_NEVER)
		return SP_TIME_NEVER;
	ms = (int64_t)(now / SP_MSEC(1)) + (int32_t)(e->exp_ms - nat_ms(now));
	return ms <= 0 ? 0 : (sp_time)ms * SP_MSEC(1);
}

/* Bytes held for max entries (pool, index, wheel): what nat_table_init allocates. */
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

/* A key's hint: the 32 bits of its hash that choose its first index slot and its tag.
 * Computed once per packet (nat_translate_burst() prefetches with it). */
static inline uint32_t nat_table_hint(const struct nat_table *t, const struct nat_key *k)
{
	return (uint32_t)(nat_key_hash(k, t->seed) >> 32);
}

/* The first index slot of a hint (multiply-shift onto nix slots). */
static inline uint32_t nat_table_home(const struct nat_table *t, uint32_t hint)
{
	return (uint32_t)(((uint64_t)hint * t->nix) >> 32);
}

/* The tag bits of a hint, where a slot keeps them: the hint's low bits, which the home
 * slot hardly depends on. */
static inline uint32_t nat_table_tag(const struct nat_table *t, uint32_t hint)
{
	return t->lbits >= 32 ? 0 : hint << t->lbits;
}

/* Walk the index from slot i (the home slot, or one past the last match) to the next
 * slot whose key equals k; NAT_NIL at the first empty slot. */
static inline uint32_t nat_table_scan(const struct nat_table *t, const struct nat_key *k,
				      uint32_t tag, uint32_t i)
{
	for (;;) {
		uint32_t v = t->ix[i];

		if (v == NAT_NIL)
			return NAT_NIL;
		if ((v & ~t->lmask) == tag) {
			uint32_t l = v & t->lmask;

			if (nat_key_eq(&t->e[l >> 1].k[l & 1u], k))
				return i;
		}
		i = sp_probe_next(i, t->nix);
	}
}

/* Walk every indexed key equal to k, live or not: pass *it = NAT_NIL first; returns the
 * entry index or NAT_NIL at the end. The table must not change during the walk. */
static inline uint32_t nat_table_next_match(const struct nat_table *t, const struct nat_key *k,
					    uint32_t *it)
{
	uint32_t hint = nat_table_hint(t, k), i;

	if (*it == NAT_NIL)
		i = nat_table_home(t, hint);
	else
		i = sp_probe_next(*it, t->nix);
	*it = nat_table_scan(t, k, nat_table_tag(t, hint), i);
	return *it == NAT_NIL ? NAT_NIL : (t->ix[*it] & t->lmask) >> 1;
}

/* The first live entry indexed under k, whose hint (nat_table_hint) is given, or NAT_NIL. */
static inline uint32_t nat_table_lookup_h(const struct nat_table *t, const struct nat_key *k,
					  uint32_t hint, sp_time now)
{
	uint32_t tag = nat_table_tag(t, hint), i = nat_table_home(t, hint);

	while ((i = nat_table_scan(t, k, tag, i)) != NAT_NIL) {
		uint32_t idx = (t->ix[i] & t->lmask) >> 1;

		if (nat_entry_live(&t->e[idx], now))
			return idx;
		i = sp_probe_next(i, t->nix);
	}
	return NAT_NIL;
}

/* The first live entry indexed under k, or NAT_NIL. */
static inline uint32_t nat_table_lookup(const struct nat_table *t, const struct nat_key *k,
					sp_time now)
{
	return nat_table_lookup_h(t, k, nat_table_hint(t, k), now);
}

/* What nat_translate_burst() prefetches ahead of the lookups: the index slots of a hint,
 * then, once they have arrived, the entry of the first slot whose tag matches (NULL: none
 * in the first few slots). The caller prefetches that entry itself: a compiler may drop
 * a call whose only effect is a prefetch. */
static inline void nat_table_prefetch_ix(const struct nat_table *t, uint32_t hint)
{
	__builtin_prefetch(&t->ix[nat_table_home(t, hint)]);
}

static inline const struct nat_entry *nat_table_entry_guess(const struct nat_table *t,
							    uint32_t hint)
{
	uint32_t tag = nat_table_tag(t, hint), i = nat_table_home(t, hint);

	for (unsigned k = 0; k < 8; k++) {
		uint32_t v = t->ix[i];

		if (v == NAT_NIL)
			return NULL;
		if ((v & ~t->lmask) == tag)
			return &t->e[(v & t->lmask) >> 1];
		i = sp_probe_next(i, t->nix);
	}
	return NULL;
}

/* Set the expiry (at most NAT_EXPIRE_MAX after now; SP_TIME_NEVER: none, off the wheel)
 * and put the entry on the wheel if it is not there yet. Refreshing an entry already on
 * the wheel is just a store to e->exp_ms. */
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
