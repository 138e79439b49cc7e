/* struct pkt: push/pull without copying, bounds, and the pool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/pkt.h"

static void push_pull_put_trim(void **state)
{
	uint8_t storage[64];
	struct pkt p;
	uint8_t *d, *data_before;

	(void)state;
	pkt_init(&p, storage, sizeof(storage), 16);
	assert_int_equal(pkt_headroom(&p), 16);
	assert_int_equal(pkt_tailroom(&p), 48);
	assert_int_equal(pkt_append(&p, "payload", 7), 0);
	data_before = pkt_data(&p);
	assert_non_null(d = pkt_push(&p, 8));
	assert_ptr_equal(d, data_before - 8); /* no copy: the head moved */
	memset(d, 0xee, 8);
	assert_int_equal(p.len, 15);
	assert_null(pkt_push(&p, 9)); /* only 8 bytes of headroom left */
	assert_int_equal(p.len, 15);
	assert_non_null(pkt_pull(&p, 8));
	assert_memory_equal(pkt_data(&p), "payload", 7);
	assert_null(pkt_pull(&p, 8));
	assert_null(pkt_put(&p, pkt_tailroom(&p) + 1));
	assert_int_equal(pkt_trim(&p, 3), 0);
	assert_int_equal(pkt_trim(&p, 4), SP_EINVAL);
	assert_memory_equal(pkt_data(&p), "pay", 3);
}

static void pool_exhaustion_and_reuse(void **state)
{
	struct pkt_pool pool;
	struct pkt *a, *b, *c, *cl;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 2, PKT_BUFSIZE), 0);
	assert_non_null(a = pkt_alloc(&pool));
	assert_non_null(b = pkt_alloc(&pool));
	assert_null(c = pkt_alloc(&pool));
	assert_int_equal(pool.alloc_fail, 1);
	assert_int_equal(pkt_headroom(a), PKT_HEADROOM);
	assert_int_equal(pkt_append(a, "abc", 3), 0);
	a->mark = 7;
	a->tag = 9;
	pkt_free(b);
	assert_non_null(cl = pkt_clone(&pool, a));
	assert_int_equal(cl->len, 3);
	assert_int_equal(cl->mark, 7);
	assert_int_equal(cl->tag, 9);
	assert_memory_equal(pkt_data(cl), "abc", 3);
	assert_ptr_not_equal(pkt_data(cl), pkt_data(a));
	pkt_free(a);
	pkt_free(cl);
	pkt_free(NULL);
	assert_non_null(a = pkt_alloc(&pool));
	assert_int_equal(a->tag, 0); /* a reused packet starts untagged */
	pkt_free(a);
	assert_int_equal(pool.nfree, 2);
	pkt_pool_destroy(&pool);
	assert_int_equal(pkt_pool_init(&pool, 0, PKT_BUFSIZE), SP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(push_pull_put_trim),
		cmocka_unit_test(pool_exhaustion_and_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
