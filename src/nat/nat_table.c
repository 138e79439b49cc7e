/*
 * Hash chains: a link is (entry index << 1 | key slot), so one bucket array indexes both
 * keys of every entry and a chain can pass through k[0] of one entry and k[1] of another.
 * Wheel lists are doubly linked; a w_prev with the top bit set names the slot whose head
 * the entry is, so removal is O(1) without storing the slot.
 */
#include "nat/nat_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LINK(idx, slot) ((idx) << 1 | (slot))
#define LINK_IDX(l)	((l) >> 1)
#define LINK_SLOT(l)	((l)&1u)
#define WHEAD(slot)	(0x80000000u | (slot))
#define IS_WHEAD(v)	((v) != NAT_NIL && ((v)&0x80000000u) != 0)

static uint32_t nbuckets_for(uint32_t max)
{
	uint64_t n = 2;

	/* Two keys per entry at most, one bucket per key on average when full. */
	while (n < 2ull * max)
		n <<= 1;
	return (uint32_t)n;
}

uint64_t nat_table_mem_for(uint32_t max)
{
	return (uint64_t)max * sizeof(struct nat_entry) + (uint64_t)nbuckets_for(max) * 4 +
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
	uint32_t nb;

	memset(t, 0, sizeof(*t));
	if (max == 0 || max > (1u << 30))
		return SP_EINVAL;
	nb = nbuckets_for(max);
	t->e = table_alloc((size_t)max * sizeof(struct nat_entry));
	t->bucket = table_alloc((size_t)nb * sizeof(uint32_t));
	t->wheel = malloc(NAT_WHEEL_SLOTS * sizeof(uint32_t));
	if (t->e == NULL || t->bucket == NULL || t->wheel == NULL) {
		nat_table_fini(t);
		return SP_ENOMEM;
	}
	t->max = max;
	t->nbucket_mask = nb - 1;
	t->seed = seed;
	nat_table_clear(t);
	t->bytes = nat_table_mem_for(max);
	return 0;
}

void nat_table_clear(struct nat_table *t)
{
	memset(t->e, 0, (size_t)t->max * sizeof(struct nat_entry));
	memset(t->bucket, 0xff, ((size_t)t->nbucket_mask + 1) * sizeof(uint32_t));
	memset(t->wheel, 0xff, NAT_WHEEL_SLOTS * sizeof(uint32_t));
	memset(t->wmap, 0, sizeof(t->wmap));
	/* Free list in index order, so a fresh table hands out 0, 1, 2 ... */
	for (uint32_t i = 0; i < t->max; i++)
		t->e[i].next[0] = i + 1 < t->max ? i + 1 : NAT_NIL;
	t->free_head = 0;
	t->used = 0;
	t->wcount = 0;
	t->wtick = 0;
}

void nat_table_fini(struct nat_table *t)
{
	free(t->offl_bits);
	free(t->e);
	free(t->bucket);
	free(t->wheel);
	memset(t, 0, sizeof(*t));
}

static inline uint32_t *bucket_of(const struct nat_table *t, const struct nat_key *k)
{
	return &t->bucket[nat_table_bucket(t, k)];
}

void nat_table_hash_add(struct nat_table *t, uint32_t idx, unsigned slot)
{
	struct nat_entry *e = &t->e[idx];
	uint32_t *b = bucket_of(t, &e->k[slot]);

	e->next[slot] = *b;
	*b = LINK(idx, slot);
}

void nat_table_hash_del(struct nat_table *t, uint32_t idx, unsigned slot)
{
	struct nat_entry *e = &t->e[idx];
	uint32_t *pl = bucket_of(t, &e->k[slot]);
	uint32_t want = LINK(idx, slot);

	while (*pl != NAT_NIL) {
		if (*pl == want) {
			*pl = e->next[slot];
			e->next[slot] = NAT_NIL;
			return;
		}
		pl = &t->e[LINK_IDX(*pl)].next[LINK_SLOT(*pl)];
	}
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

static void wheel_file(struct nat_table *t, uint32_t idx)
{
	struct nat_entry *e = &t->e[idx];
	uint64_t tick = e->expire / NAT_WHEEL_TICK + (e->expire % NAT_WHEEL_TICK != 0);
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
	t->free_head = e->next[0];
	memset(e, 0, sizeof(*e));
	e->next[0] = e->next[1] = NAT_NIL;
	e->w_prev = e->w_next = NAT_NIL;
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
	e->next[0] = t->free_head;
	t->free_head = idx;
	t->used--;
}

void nat_table_schedule(struct nat_table *t, uint32_t idx, sp_time expire, sp_time now)
{
	struct nat_entry *e = &t->e[idx];

	if (e->w_prev != NAT_NIL && expire >= e->expire) {
		e->expire = expire; /* later: the wheel finds out when the old time comes */
		return;
	}
	wheel_unlink(t, idx);
	/* An idle wheel may lag far behind: restart it at now so filing is exact. */
	if (t->wcount == 0 && now / NAT_WHEEL_TICK > t->wtick)
		t->wtick = now / NAT_WHEEL_TICK;
	e->expire = expire;
	wheel_file(t, idx);
}

uint32_t nat_table_advance(struct nat_table *t, sp_time now, nat_expire_fn cb, void *arg)
{
	uint64_t target = now / NAT_WHEEL_TICK;
	uint64_t steps;
	uint32_t n = 0;

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
			if (t->e[idx].expire <= now) {
				cb(arg, idx);
				n++;
			} else {
				wheel_file(t, idx);
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
