/*
 * The NAT table: pool and free list, the two-key hash index with duplicate keys, rekeying,
 * the open-addressed index under churn (against a model), expiry to the millisecond
 * across the wrap of its 32-bit count, and the timer wheel (exact expiry, refresh by a
 * store, the horizon, deadlines).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat/nat_table.h"

#include <string.h>

struct reaped {
	struct nat_table *t;
	uint32_t idx[64];
	unsigned n;
};

static void reap(void *arg, uint32_t idx)
{
	struct reaped *r = arg;

	if (r->n < 64)
		r->idx[r->n++] = idx;
	nat_table_free(r->t, idx);
}

static uint32_t add(struct nat_table *t, uint32_t a, uint32_t b, sp_time exp, sp_time now)
{
	uint32_t idx = nat_table_alloc(t, 1);
	struct nat_entry *e = nat_entry_at(t, idx);

	nat_key_set(&e->k[0], 5, 17, a, 0, 1);
	nat_key_set(&e->k[1], 6, 17, b, 0, 2);
	nat_table_hash_add(t, idx, 0);
	nat_table_hash_add(t, idx, 1);
	nat_table_schedule(t, idx, exp, now);
	return idx;
}

static void keys_and_duplicates(void **state)
{
	struct nat_table t;
	struct nat_key k;
	uint32_t a, b, c, it = NAT_NIL, seen = 0, idx;

	(void)state;
	assert_int_equal(nat_table_init(&t, 8, 99), 0);
	a = add(&t, 1, 100, SP_SEC(10), 0);
	b = add(&t, 2, 100, SP_SEC(10), 0); /* same k[1] as a */
	c = add(&t, 3, 300, SP_SEC(10), 0);
	assert_int_equal(t.used, 3);
	nat_key_set(&k, 5, 17, 2, 0, 1);
	assert_int_equal(nat_table_lookup(&t, &k, 1), b);
	nat_key_set(&k, 6, 17, 100, 0, 2);
	while ((idx = nat_table_next_match(&t, &k, &it)) != NAT_NIL)
		seen |= 1u << idx;
	assert_int_equal(seen, (1u << a) | (1u << b));
	/* a different kind with the same numbers is another namespace */
	nat_key_set(&k, 7, 17, 100, 0, 2);
	assert_int_equal(nat_table_lookup(&t, &k, 1), NAT_NIL);
	/* rekey moves an entry in the index */
	nat_key_set(&k, 6, 17, 777, 0, 2);
	nat_table_rekey(&t, c, 1, &k);
	assert_int_equal(nat_table_lookup(&t, &k, 1), c);
	nat_key_set(&k, 6, 17, 300, 0, 2);
	assert_int_equal(nat_table_lookup(&t, &k, 1), NAT_NIL);
	/* dead entries are not found */
	nat_key_set(&k, 5, 17, 1, 0, 1);
	assert_int_equal(nat_table_lookup(&t, &k, SP_SEC(10)), NAT_NIL);
	/* freeing unhooks both keys */
	nat_table_free(&t, b);
	nat_key_set(&k, 5, 17, 2, 0, 1);
	assert_int_equal(nat_table_lookup(&t, &k, 1), NAT_NIL);
	assert_int_equal(t.used, 2);
	nat_table_fini(&t);
}

static void pool_runs_out(void **state)
{
	struct nat_table t;

	(void)state;
	assert_int_equal(nat_table_init(&t, 4, 1), 0);
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(nat_table_alloc(&t, 1), NAT_NIL);
	assert_int_equal(nat_table_alloc(&t, 1), NAT_NIL);
	nat_table_free(&t, 2);
	assert_int_equal(nat_table_alloc(&t, 1), 2);
	nat_table_clear(&t);
	assert_int_equal(t.used, 0);
	assert_int_equal(nat_table_alloc(&t, 1), 0);
	nat_table_fini(&t);
	assert_int_equal(nat_table_init(&t, 0, 1), SP_EINVAL);
	/* 48 bytes an entry and 2.5 index slots of 4 bytes */
	assert_true(nat_table_mem_for(1000000) >= 58000000ull);
}

static void wheel_expires_on_time(void **state)
{
	struct nat_table t;
	struct reaped r = { .t = &t };
	uint32_t a, b, c;

	(void)state;
	assert_int_equal(nat_table_init(&t, 16, 5), 0);
	assert_int_equal(nat_table_next_deadline(&t), SP_TIME_NEVER);
	a = add(&t, 1, 1, SP_SEC(100) + SP_MSEC(500), SP_SEC(100));
	b = add(&t, 2, 2, SP_SEC(105), SP_SEC(100));
	c = add(&t, 3, 3, SP_SEC(100) + SP_SEC(20000), SP_SEC(100)); /* beyond the horizon */
	assert_int_equal(nat_table_next_deadline(&t), SP_SEC(101));
	assert_int_equal(nat_table_advance(&t, SP_SEC(100) + SP_MSEC(400), reap, &r), 0);
	assert_int_equal(nat_table_advance(&t, SP_SEC(101), reap, &r), 1);
	assert_int_equal(r.idx[0], a);
	/* a refresh is a store: b now lives to 200 s */
	nat_table_schedule(&t, b, SP_SEC(200), SP_SEC(101));
	assert_int_equal(nat_table_advance(&t, SP_SEC(150), reap, &r), 0);
	assert_int_equal(nat_table_advance(&t, SP_SEC(200), reap, &r), 1);
	assert_int_equal(r.idx[1], b);
	/* an earlier expiry refiles at once */
	nat_table_schedule(&t, c, SP_SEC(210), SP_SEC(200));
	assert_int_equal(nat_table_next_deadline(&t), SP_SEC(210));
	assert_int_equal(nat_table_advance(&t, SP_SEC(210), reap, &r), 1);
	assert_int_equal(t.used, 0);
	/* past the horizon it is re-checked and kept */
	c = add(&t, 4, 4, SP_SEC(30000), SP_SEC(210));
	assert_int_equal(nat_table_advance(&t, SP_SEC(210 + 8200), reap, &r), 0);
	assert_int_equal(t.used, 1);
	assert_int_equal(nat_table_advance(&t, SP_SEC(30000), reap, &r), 1);
	assert_int_equal(r.idx[3], c);
	/* the entry filed to expire soonest, for eviction */
	a = add(&t, 5, 5, SP_SEC(30100), SP_SEC(30000));
	b = add(&t, 6, 6, SP_SEC(30050), SP_SEC(30000));
	assert_int_equal(nat_table_oldest(&t), b);
	nat_table_fini(&t);
}

/* Random adds, removals and rekeys in a full table (two keys an entry, the index 80 %
 * full) against a plain list of what should be found: the backward shift that closes a
 * gap must leave every remaining key reachable, across the end of the index too. */
static void index_churn_against_a_model(void **state)
{
	enum { MAX = 1000, ROUNDS = 40000 };
	static uint32_t key_of[MAX][2];
	static bool used[MAX];
	struct nat_table t;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct nat_key k;

	(void)state;
	assert_int_equal(nat_table_init(&t, MAX, 7), 0);
	memset(used, 0, sizeof(used));
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint32_t x, idx;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		x = (uint32_t)(rng >> 16);
		idx = x % MAX;
		if (!used[idx]) {
			/* a new entry: its keys repeat often (duplicates in the index) */
			uint32_t got = nat_table_alloc(&t, 1);
			struct nat_entry *e;

			assert_int_not_equal(got, NAT_NIL);
			e = nat_entry_at(&t, got);
			key_of[got][0] = (x >> 8) % 5000;
			key_of[got][1] = (x >> 4) % 5000;
			nat_key_set(&e->k[0], 5, 17, key_of[got][0], 0, 1);
			nat_key_set(&e->k[1], 6, 17, key_of[got][1], 0, 2);
			nat_table_hash_add(&t, got, 0);
			nat_table_hash_add(&t, got, 1);
			nat_table_schedule(&t, got, SP_SEC(100), 0);
			used[got] = true;
		} else if (x & 1) {
			nat_table_free(&t, idx);
			used[idx] = false;
		} else {
			key_of[idx][1] = (x >> 3) % 5000;
			nat_key_set(&k, 6, 17, key_of[idx][1], 0, 2);
			nat_table_rekey(&t, idx, 1, &k);
		}
		if (r % 997 != 0 && r != ROUNDS - 1)
			continue;
		/* every key of every entry is found by a walk over its matches */
		for (uint32_t i = 0; i < MAX; i++) {
			for (unsigned s = 0; s < 2 && used[i]; s++) {
				uint32_t it = NAT_NIL, m;
				bool found = false;

				nat_key_set(&k, (uint8_t)(5 + s), 17, key_of[i][s], 0, s + 1);
				while ((m = nat_table_next_match(&t, &k, &it)) != NAT_NIL) {
					assert_true(used[m]);
					assert_int_equal(key_of[m][s], key_of[i][s]);
					found |= m == i;
				}
				assert_true(found);
			}
		}
	}
	/* and nothing is left once everything is freed */
	for (uint32_t i = 0; i < MAX; i++)
		if (used[i])
			nat_table_free(&t, i);
	for (uint32_t i = 0; i < t.nix; i++)
		assert_int_equal(t.ix[i], NAT_NIL);
	nat_table_fini(&t);
}

/* An expiry is kept to the millisecond, rounded up, modulo 2^32 ms. */
static void expiry_to_the_millisecond_across_the_wrap(void **state)
{
	struct nat_table t;
	struct reaped r = { &t, { 0 }, 0 };
	/* 10 s before the 32-bit millisecond count wraps, at a time that is no whole ms */
	sp_time now = SP_MSEC(0xffffffffull) - SP_SEC(10) + 123;
	sp_time exp = now + SP_SEC(30);
	struct nat_key k;
	uint32_t a, b;

	(void)state;
	assert_int_equal(nat_table_init(&t, 8, 1), 0);
	a = add(&t, 1, 1, exp, now);
	/* rounded up: alive until the next whole millisecond, dead from then on */
	assert_true(nat_entry_live(nat_entry_at(&t, a), exp));
	assert_true(nat_entry_live(nat_entry_at(&t, a), exp - 123 + SP_MSEC(1) - 1));
	assert_false(nat_entry_live(nat_entry_at(&t, a), exp - 123 + SP_MSEC(1)));
	assert_int_equal(nat_entry_expiry(nat_entry_at(&t, a), now), exp - 123 + SP_MSEC(1));
	nat_key_set(&k, 5, 17, 1, 0, 1);
	assert_int_equal(nat_table_lookup(&t, &k, now + SP_SEC(29)), a);
	assert_int_equal(nat_table_lookup(&t, &k, now + SP_SEC(31)), NAT_NIL);
	/* an expiry further ahead than NAT_EXPIRE_MAX is cut to it */
	b = add(&t, 2, 2, now + SP_SEC(86400) * 30, now);
	assert_int_equal(nat_entry_expiry(nat_entry_at(&t, b), now),
			 now - 123 + SP_MSEC(1) + NAT_EXPIRE_MAX);
	/* the wheel reaps both on time, across the wrap */
	nat_table_advance(&t, now + SP_SEC(31), reap, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.idx[0], a);
	nat_table_advance(&t, now + NAT_EXPIRE_MAX - SP_SEC(1), reap, &r);
	assert_int_equal(r.n, 1);
	nat_table_advance(&t, now + NAT_EXPIRE_MAX + SP_SEC(1), reap, &r);
	assert_int_equal(r.n, 2);
	nat_table_fini(&t);
}

/* An advance after a gap longer than any expiry can reach takes every entry, where the
 * count modulo 2^32 ms alone could read a long-dead one as alive. */
static void advance_after_a_long_gap(void **state)
{
	struct nat_table t;
	struct reaped r = { &t, { 0 }, 0 };

	(void)state;
	assert_int_equal(nat_table_init(&t, 8, 1), 0);
	add(&t, 1, 1, SP_SEC(300), SP_SEC(1));
	nat_table_advance(&t, SP_SEC(2), reap, &r);
	assert_int_equal(r.n, 0);
	/* 2^32 ms + 100 s later: modulo 2^32 ms the entry would look 200 s from expiry */
	nat_table_advance(&t, SP_MSEC(1ull << 32) + SP_SEC(100), reap, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(t.used, 0);
	nat_table_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_and_duplicates),
		cmocka_unit_test(pool_runs_out),
		cmocka_unit_test(wheel_expires_on_time),
		cmocka_unit_test(index_churn_against_a_model),
		cmocka_unit_test(expiry_to_the_millisecond_across_the_wrap),
		cmocka_unit_test(advance_after_a_long_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
