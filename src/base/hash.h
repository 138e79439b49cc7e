/*
 * Keyed hashing for the hash tables of the packet path. Keys are small fixed-size tuples;
 * the seed comes from the table's owner (random in the daemons) so an outsider cannot
 * aim packets at one bucket.
 */
#ifndef SP_BASE_HASH_H
#define SP_BASE_HASH_H

#include "base/sp.h"

#include <string.h>

/* 64-bit finaliser (splitmix64 / Stafford variant 13): full avalanche. */
static inline uint64_t sp_hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t sp_hash_u64(uint64_t key, uint64_t seed)
{
	return sp_hash_mix64(key ^ seed);
}

static inline uint64_t sp_hash_2u64(uint64_t a, uint64_t b, uint64_t seed)
{
	return sp_hash_mix64(sp_hash_mix64(a ^ seed) ^ b);
}

/* Any byte string; reads by memcpy so alignment does not matter. */
static inline uint64_t sp_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = sp_hash_mix64(h ^ w);
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = sp_hash_mix64(h ^ w ^ 0xff);
	}
	return h;
}

/*
 * Open addressing with linear probing over n 4-byte slots, 0xffffffff for empty (the NAT
 * table's index and its host records' index): the next slot, the distance from a to b
 * going forward, and removal by shifting the rest of the run back (Knuth's Algorithm R),
 * which leaves no tombstones. home(arg, v) is the first slot of the value v.
 */
#define SP_PROBE_EMPTY 0xffffffffu

static inline uint32_t sp_probe_next(uint32_t i, uint32_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

static inline uint32_t sp_probe_dist(uint32_t a, uint32_t b, uint32_t n)
{
	return b >= a ? b - a : b + n - a;
}

static inline void sp_probe_remove(uint32_t *slot, uint32_t n, uint32_t i,
				   uint32_t (*home)(const void *arg, uint32_t v), const void *arg)
{
	/* A later slot of the run moves back into the gap at i when i lies on its way from
	 * its home, and leaves its own gap behind. */
	for (uint32_t j = sp_probe_next(i, n); slot[j] != SP_PROBE_EMPTY; j = sp_probe_next(j, n)) {
		uint32_t h = home(arg, slot[j]);

		if (sp_probe_dist(h, i, n) < sp_probe_dist(h, j, n)) {
			slot[i] = slot[j];
			i = j;
		}
	}
	slot[i] = SP_PROBE_EMPTY;
}

#endif
