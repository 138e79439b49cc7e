/* Internet checksum: RFC 1071 example, RFC 1624 worked example, incremental == full. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/csum.h"
#include "base/cursor.h"
#include "base/rand.h"

/* RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (before complement). */
static void rfc1071_example(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), (uint16_t)~0xddf2);
}

/*
 * RFC 1624 section 4: the other header words sum to 0xCD7A, a field m = 0x5555 changes to
 * m' = 0x3285. The old checksum is 0xDD2F; the correct new one is 0x0000, which eqn. 3
 * gives and eqn. 2 of RFC 1141 gets wrong (0xFFFF).
 */
static void rfc1624_example(void **state)
{
	uint8_t hdr[4] = { 0xcd, 0x7a, 0x55, 0x55 };
	uint16_t hc, hc_new;

	(void)state;
	hc = csum_buf(hdr, sizeof(hdr));
	assert_int_equal(hc, 0xdd2f);
	hc_new = csum_update16(hc, 0x5555, 0x3285);
	assert_int_equal(hc_new, 0x0000);
	/* recomputation from scratch agrees */
	hdr[2] = 0x32;
	hdr[3] = 0x85;
	assert_int_equal(csum_buf(hdr, sizeof(hdr)), 0x0000);
	/* the RFC 1141 formula HC + m + ~m' yields -0 */
	{
		uint32_t s = 0xdd2f + 0x5555 + (uint16_t)~0x3285;

		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		assert_int_equal(s, 0xffff);
		assert_int_not_equal(s, hc_new);
	}
}

static void odd_length_and_chunks(void **state)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	uint32_t s;

	(void)state;
	/* odd byte is the high half of a zero-padded word: 0x1234 + 0x5678 + 0x9a00 */
	assert_int_equal(csum_buf(b, 5), (uint16_t) ~(0x1234 + 0x5678 + 0x9a00 - 0x10000 + 1));
	s = csum_add(csum_partial(b, 2, 0), csum_partial(b + 2, 3, 0));
	assert_int_equal(csum_fold(s), csum_buf(b, 5));
}

/* Incremental updates of 16- and 32-bit fields agree with recomputation, randomised. */
static void incremental_matches_full(void **state)
{
	struct sp_xoshiro x;
	uint8_t buf[64];

	(void)state;
	sp_xoshiro_seed(&x, 1624);
	for (int iter = 0; iter < 20000; iter++) {
		size_t off = 2 * sp_rng_below(&x.rng, 30);
		uint16_t old_c, new_c;

		sp_rng_bytes(&x.rng, buf, sizeof(buf));
		if (iter % 7 == 0)
			buf[off] = buf[off + 1] = 0; /* hit the zero edge cases */
		old_c = csum_buf(buf, sizeof(buf));
		if (iter & 1) {
			uint16_t m = sp_load_be16(buf + off), m2 = (uint16_t)sp_rng_u32(&x.rng);

			sp_store_be16(buf + off, m2);
			new_c = csum_update16(old_c, m, m2);
		} else {
			uint32_t m = sp_load_be32(buf + off), m2 = sp_rng_u32(&x.rng);

			sp_store_be32(buf + off, m2);
			new_c = csum_update32(old_c, m, m2);
		}
		/* Equal as one's-complement numbers: both zeroes are the same value. */
		if (new_c == 0xffff)
			new_c = 0;
		uint16_t full = csum_buf(buf, sizeof(buf));

		if (full == 0xffff)
			full = 0;
		assert_int_equal(new_c, full);
	}
}

/* UDP pseudo-header: a known datagram from a capture (10.0.0.1:1234 -> 10.0.0.2:5678). */
static void udp_pseudo_header(void **state)
{
	uint8_t d[12] = { 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd' };
	uint32_t src = 0x0a000001, dst = 0x0a000002;
	uint16_t c;

	(void)state;
	c = csum_udp(src, dst, d, sizeof(d));
	sp_store_be16(d + 6, c);
	/* verifying over the datagram with its checksum gives 0 */
	assert_int_equal(csum_l4(src, dst, 17, d, sizeof(d)), 0);
	/* hand computation: pseudo 0a00+0001+0a00+0002+0011+000c, header, data */
	{
		uint32_t s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000c + 0x04d2 + 0x162e +
			     0x000c + 0x6162 + 0x6364;

		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		assert_int_equal(c, (uint16_t)~s);
	}
}

static void udp_zero_becomes_ffff(void **state)
{
	/* Find data whose checksum is 0 and confirm csum_udp sends 0xffff (RFC 768). */
	uint8_t d[10] = { 0, 1, 0, 2, 0, 10, 0, 0, 0, 0 };
	uint32_t src = 0x01020304, dst = 0x05060708;

	(void)state;
	for (uint32_t v = 0; v < 0x10000; v++) {
		sp_store_be16(d + 8, (uint16_t)v);
		sp_store_be16(d + 6, 0);
		if (csum_l4(src, dst, 17, d, sizeof(d)) == 0) {
			assert_int_equal(csum_udp(src, dst, d, sizeof(d)), 0xffff);
			return;
		}
	}
	fail_msg("no datagram with checksum 0 found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example),	 cmocka_unit_test(rfc1624_example),
		cmocka_unit_test(odd_length_and_chunks), cmocka_unit_test(incremental_matches_full),
		cmocka_unit_test(udp_pseudo_header),	 cmocka_unit_test(udp_zero_becomes_ffff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
