/* Bounded cursor: reads and writes past the end are errors and leave the cursor put. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cursor.h"

static void reads_in_network_order(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct cur c;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(cur_get_u8(&c, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(cur_get_u16(&c, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(cur_get_u32(&c, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(cur_get_u64(&c, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0full);
	assert_int_equal(cur_left(&c), 0);
}

static void short_read_is_error_and_does_not_move(void **state)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct cur c;
	uint32_t u32 = 0x12345678;
	uint16_t u16;
	const uint8_t *p = (const uint8_t *)1;
	struct cur sub;

	(void)state;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(cur_get_u32(&c, &u32), SP_ESHORT);
	assert_int_equal(u32, 0x12345678); /* untouched */
	assert_int_equal(cur_pos(&c), 0);
	assert_int_equal(cur_get_u16(&c, &u16), 0);
	assert_int_equal(cur_get_u16(&c, &u16), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 2);
	assert_int_equal(cur_get_ptr(&c, 2, &p), SP_ESHORT);
	assert_null(p);
	assert_int_equal(cur_skip(&c, 2), SP_ESHORT);
	assert_int_equal(cur_get_sub(&c, 1, &sub), 0);
	assert_int_equal(cur_left(&sub), 1);
	assert_int_equal(cur_left(&c), 0);
	/* huge lengths cannot wrap around */
	assert_int_equal(cur_skip(&c, SIZE_MAX), SP_ESHORT);
}

static void peeks_do_not_consume(void **state)
{
	static const uint8_t b[] = { 0, 1, 2, 3, 4, 5 };
	struct cur c;
	uint8_t v;
	uint32_t w;

	(void)state;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(cur_skip(&c, 1), 0);
	assert_int_equal(cur_peek_u8(&c, 4, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(cur_peek_u8(&c, 5, &v), SP_ESHORT);
	assert_int_equal(cur_peek_u32(&c, 1, &w), 0);
	assert_int_equal(w, 0x02030405);
	assert_int_equal(cur_peek_u32(&c, 2, &w), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 1);
}

static void writer_bounds(void **state)
{
	uint8_t b[7];
	struct wcur w;
	uint8_t *res;

	(void)state;
	wcur_init(&w, b, sizeof(b));
	assert_int_equal(cur_put_u16(&w, 0xa1b2), 0);
	assert_int_equal(cur_put_reserve(&w, 2, &res), 0);
	assert_int_equal(cur_put_u32(&w, 1), SP_ENOSPACE);
	assert_int_equal(w.off, 4);
	assert_int_equal(cur_put_u8(&w, 0x55), 0);
	assert_int_equal(cur_put_zero(&w, 3), SP_ENOSPACE);
	assert_int_equal(cur_put_zero(&w, 2), 0);
	assert_int_equal(wcur_left(&w), 0);
	sp_store_be16(res, 0xc3d4);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[1], 0xb2);
	assert_int_equal(b[2], 0xc3);
	assert_int_equal(b[3], 0xd4);
	assert_int_equal(b[4], 0x55);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_in_network_order),
		cmocka_unit_test(short_read_is_error_and_does_not_move),
		cmocka_unit_test(peeks_do_not_consume),
		cmocka_unit_test(writer_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
