/*
 * The NAT table: pool and free list, the two-key hash index with duplicate keys, rekeying,
 * and the timer wheel (exact expiry, refresh by a store, the horizon, deadlines).
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
	assert_true(nat_table_mem_for(1000000) >= 64000000ull);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_and_duplicates),
		cmocka_unit_test(pool_runs_out),
		cmocka_unit_test(wheel_expires_on_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
