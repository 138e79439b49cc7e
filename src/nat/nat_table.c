/*
 * The index: linear probing over nix slots. A slot holds NAT_NIL (empty) or
 * tag | link, where a link is (entry index << 1 | key slot) in the low lbits bits, so one
 * index covers both keys of every entry. Removal shifts later slots of the run back
 * (sp_probe_remove), so there are no tombstones and a probe stops at the first empty
 * slot. Wheel lists are doubly linked; a w_prev with the top bit set names the slot whose
 * head the entry is, so removal is O(1) without storing the slot.
 */
#include "nat/nat_table.h"
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LINK(idx, slot) ((idx) << 1 | (slot))
#define WHEAD(slot)	(0x80000000u | (slot))
#define IS_WHEAD(v)	((v) != NAT_NIL && ((v)&0x80000000u) != 0)

/* Two keys per entry at most: 2.5 slots an entry keeps a full index 80 % full. Whole
 * cache lines of slots. */
static uint32_t nix_for(uint32_t max)
{
	uint64_t n = (uint64_t)max * 5 / 2;

	return (uint32_t)((n + 15) / 16 * 16);
}

uint64_t nat_table_mem_for(uint32_t max)
{
	return (uint64_t)max * sizeof(struct nat_entry) + (uint64_t)nix_for(max) * 4 +
	       NAT_WHEEL_SLOTS * 4ull;
}

/*
 * Large arrays on 2 MiB boundaries, with transparent huge pages asked for: a lookup in a
 * table of a million entries then costs a cache miss and no TLB miss (VPP uses hugepages
 * for the same reason). Without THP it is an ordinary allocation.
 */
#define HUGE_ALIGN (2u << 20)

static void *table_alloc(size_t bytes)
{
	size_t size = (bytes + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
	void *p;

	if (bytes < HUGE_ALIGN)
		return aligned_alloc(64, (bytes + 63) / 64 * 64);
	if ((p = aligned_alloc(HUGE_ALIGN, size)) != NULL)
		(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

int nat_table_init(struct nat_table *t, uint32_t max, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	if (max == 0 || max > (1u << 30))
		return SP_EINVAL;
	t->nix = nix_for(max);
	t->e = table_alloc((size_t)max * sizeof(struct nat_entry));
	t->ix = table_alloc((size_t)t->nix * sizeof(uint32_t));
	t->wheel = malloc(NAT_WHEEL_SLOTS * sizeof(uint32_t));
	if (t->e == NULL || t->ix == NULL || t->wheel == NULL) {
		nat_table_fini(t);
		return SP_ENOMEM;
	}
	t->max = max;
	/* Links go up to 2 max - 1; the all-ones link must stay free for NAT_NIL. */
	t->lbits = 2;
	while (t->lbits < 32 && (1ull << t->lbits) <= 2ull * max)
		t->lbits++;
	t->lmask = t->lbits >= 32 ? NAT_NIL : (1u << t->lbits) - 1;
	t->seed = seed;
	nat_table_clear(t);
	t->bytes = nat_table_mem_for(max);
	return 0;
}

void nat_table_clear(struct nat_table *t)
{
	memset(t->e, 0, (size_t)t->max * sizeof(struct nat_entry));
	memset(t->ix, 0xff, (size_t)t->nix * sizeof(uint32_t));
	memset(t->wheel, 0xff, NAT_WHEEL_SLOTS * sizeof(uint32_t));
	memset(t->wmap, 0, sizeof(t->wmap));
	/* Free list in index order, so a fresh table hands out 0, 1, 2 ... */
	for (uint32_t i = 0; i < t->max; i++)
		t->e[i].w_next = i + 1 < t->max ? i + 1 : NAT_NIL;
	t->free_head = 0;
	t->used = 0;
	t->wcount = 0;
	t->wtick = 0;
	t->adv_time = 0;
}

void nat_table_fini(struct nat_table *t)
{
	free(t->offl_bits);
	free(t->e);
	free(t->ix);
	free(t->wheel);
	memset(t, 0, sizeof(*t));
}

/* The home slot of an index slot's value: from its key's hash. */
static uint32_t ix_home(const void *arg, uint32_t v)
{
	const struct nat_table *t = arg;
	uint32_t l = v & t->lmask;

	return nat_table_home(t, nat_table_hint(t, &t->e[l >> 1].k[l & 1u]));
}

void nat_table_hash_add(struct nat_table *t, uint32_t idx, unsigned slot)
{
	uint32_t hint = nat_table_hint(t, &t->e[idx].k[slot]);
	uint32_t i = nat_table_home(t, hint);

	/* Never full: at most 2 max keys in 2.5 max slots. */
	while (t->ix[i] != NAT_NIL)
		i = sp_probe_next(i, t->nix);
	t->ix[i] = nat_table_tag(t, hint) | LINK(idx, slot);
}

void nat_table_hash_del(struct nat_table *t, uint32_t idx, unsigned slot)
{
	uint32_t hint = nat_table_hint(t, &t->e[idx].k[slot]);
	uint32_t want = nat_table_tag(t, hint) | LINK(idx, slot);
	uint32_t i = nat_table_home(t, hint);

	while (t->ix[i] != want) {
		if (t->ix[i] == NAT_NIL)
			return; /* not indexed */
		i = sp_probe_next(i, t->nix);
	}
	sp_probe_remove(t->ix, t->nix, i, ix_home, t);
}

void nat_table_rekey(struct nat_table *t, uint32_t idx, unsigned slot, const struct nat_key *key)
{
	struct nat_entry *e = &t->e[idx];

	if (e->k[slot].kind != NAT_K_NONE)
		nat_table_hash_del(t, idx, slot);
	e->k[slot] = *key;
	if (key->kind != NAT_K_NONE)
		nat_table_hash_add(t, idx, slot);
}

/* Timer wheel. */

static void wheel_unlink(struct nat_table *t, uint32_t idx)
{
	struct nat_entry *e = &t->e[idx];

	if (e->w_prev == NAT_NIL)
		return;
	t->wcount--;
	if (IS_WHEAD(e->w_prev)) {
		uint32_t slot = e->w_prev & 0x7fffffffu;

		t->wheel[slot] = e->w_next;
		if (e->w_next == NAT_NIL)
			t->wmap[slot / 64] &= ~(1ull << (slot % 64));
	} else {
		t->e[e->w_prev].w_next = e->w_next;
	}
	if (e->w_next != NAT_NIL)
		t->e[e->w_next].w_prev = e->w_prev;
	e->w_prev = e->w_next = NAT_NIL;
}

static void wheel_file(struct nat_table *t, uint32_t idx, sp_time expire)
{
	struct nat_entry *e = &t->e[idx];
	uint64_t tick = expire / NAT_WHEEL_TICK + (expire % NAT_WHEEL_TICK != 0);
	uint32_t slot;

	if (tick <= t->wtick)
		tick = t->wtick + 1;
	/* Beyond the horizon: look again then. The last slot before the one being processed,
	 * never that one, or advance() would meet the entry again in the same turn. */
	if (tick >= t->wtick + NAT_WHEEL_SLOTS)
		tick = t->wtick + NAT_WHEEL_SLOTS - 1;
	slot = (uint32_t)(tick % NAT_WHEEL_SLOTS);
	e->w_prev = WHEAD(slot);
	e->w_next = t->wheel[slot];
	if (e->w_next != NAT_NIL)
		t->e[e->w_next].w_prev = idx;
	t->wheel[slot] = idx;
	t->wmap[slot / 64] |= 1ull << (slot % 64);
	t->wcount++;
}

uint32_t nat_table_alloc(struct nat_table *t, uint8_t owner)
{
	uint32_t idx = t->free_head;
	struct nat_entry *e;

	if (SP_UNLIKELY(idx == NAT_NIL))
		return NAT_NIL;
	e = &t->e[idx];
	t->free_head = e->w_next;
	memset(e, 0, sizeof(*e));
	e->w_prev = e->w_next = NAT_NIL;
	e->exp_ms = nat_ms(t->adv_time); /* dead until scheduled */
	e->owner = owner;
	t->used++;
	return idx;
}

void nat_table_free(struct nat_table *t, uint32_t idx)
{
	struct nat_entry *e = &t->e[idx];

	if (e->owner == NAT_O_FREE)
		return;
	if (SP_UNLIKELY(t->offl_bits != NULL) && (t->offl_bits[idx / 64] >> (idx % 64) & 1u))
		t->offl_free(t->offl_arg, idx);
	for (unsigned s = 0; s < 2; s++)
		if (e->k[s].kind != NAT_K_NONE)
			nat_table_hash_del(t, idx, s);
	wheel_unlink(t, idx);
	e->owner = NAT_O_FREE;
	e->k[0].kind = e->k[1].kind = NAT_K_NONE;
	e->w_next = t->free_head;
	t->free_head = idx;
	t->used--;
}

void nat_table_schedule(struct nat_table *t, uint32_t idx, sp_time expire, sp_time now)
{
	struct nat_entry *e = &t->e[idx];
	uint32_t enc;

	if (expire != SP_TIME_NEVER && expire > now + NAT_EXPIRE_MAX)
		expire = now + NAT_EXPIRE_MAX;
	enc = nat_exp_enc(expire);
	if (e->w_prev != NAT_NIL && enc != NAT_EXP_NEVER && e->exp_ms != NAT_EXP_NEVER &&
	    (int32_t)(enc - e->exp_ms) >= 0) {
		e->exp_ms = enc; /* later: the wheel finds out when the old time comes */
		return;
	}
	wheel_unlink(t, idx);
	/* An idle wheel may lag far behind: restart it at now so filing is exact, and count
	 * the gap to the next advance from now (it holds no expiry to misread). */
	if (t->wcount == 0 && now / NAT_WHEEL_TICK > t->wtick)
		t->wtick = now / NAT_WHEEL_TICK;
	if (t->wcount == 0 && now > t->adv_time)
		t->adv_time = now;
	e->exp_ms = enc;
	if (enc != NAT_EXP_NEVER)
		wheel_file(t, idx, expire);
}

uint32_t nat_table_advance(struct nat_table *t, sp_time now, nat_expire_fn cb, void *arg)
{
	uint64_t target = now / NAT_WHEEL_TICK;
	/* Expiries are read modulo 2^32 ms. Every one was set at most NAT_ADV_GAP after the
	 * last advance and lies at most NAT_EXPIRE_MAX after that: past both, all are dead. */
	bool all = now > t->adv_time && now - t->adv_time > NAT_ADV_GAP + NAT_EXPIRE_MAX;
	uint64_t steps;
	uint32_t n = 0;

	if (now > t->adv_time)
		t->adv_time = now;
	if (target <= t->wtick)
		return 0;
	steps = target - t->wtick;
	if (steps > NAT_WHEEL_SLOTS)
		steps = NAT_WHEEL_SLOTS; /* one full turn visits every slot */
	for (uint64_t s = 0; s < steps; s++) {
		uint64_t tick = target - steps + 1 + s;
		uint32_t slot = (uint32_t)(tick % NAT_WHEEL_SLOTS);
		uint32_t idx;

		t->wtick = tick;
		while ((idx = t->wheel[slot]) != NAT_NIL) {
			wheel_unlink(t, idx);
			if (all || !nat_entry_live(&t->e[idx], now)) {
				cb(arg, idx);
				n++;
			} else if (t->e[idx].exp_ms != NAT_EXP_NEVER) {
				wheel_file(t, idx, nat_entry_expiry(&t->e[idx], now));
			}
		}
	}
	t->wtick = target;
	return n;
}

sp_time nat_table_next_deadline(const struct nat_table *t)
{
	uint32_t start = (uint32_t)((t->wtick + 1) % NAT_WHEEL_SLOTS);

	if (t->used == 0)
		return SP_TIME_NEVER;
	for (uint32_t k = 0; k <= NAT_WHEEL_SLOTS / 64; k++) {
		uint32_t w = (start / 64 + k) % (NAT_WHEEL_SLOTS / 64);
		uint64_t bits = t->wmap[w];

		if (k == 0)
			bits &= ~0ull << (start % 64);
		else if (k == NAT_WHEEL_SLOTS / 64)
			bits &= (start % 64) ? ~(~0ull << (start % 64)) : 0;
		if (bits != 0) {
			uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(bits);
			uint32_t dist = (slot + NAT_WHEEL_SLOTS - start) % NAT_WHEEL_SLOTS;

			return (t->wtick + 1 + dist) * NAT_WHEEL_TICK;
		}
	}
	return SP_TIME_NEVER;
}

uint32_t nat_table_oldest(const struct nat_table *t)
{
	for (uint32_t d = 1; d <= NAT_WHEEL_SLOTS; d++) {
		uint32_t slot = (uint32_t)((t->wtick + d) % NAT_WHEEL_SLOTS);

		if (t->wheel[slot] != NAT_NIL)
			return t->wheel[slot];
	}
	return NAT_NIL;
}

uint32_t nat_table_oldest_if(const struct nat_table *t,
			     bool (*ok)(void *arg, const struct nat_entry *e), void *arg,
			     uint32_t budget)
{
	for (uint32_t d = 1; d <= NAT_WHEEL_SLOTS && budget > 0; d++) {
		uint32_t slot = (uint32_t)((t->wtick + d) % NAT_WHEEL_SLOTS);

		for (uint32_t i = t->wheel[slot]; i != NAT_NIL && budget > 0;
		     i = t->e[i].w_next, budget--)
			if (ok(arg, &t->e[i]))
				return i;
	}
	return NAT_NIL;
}
