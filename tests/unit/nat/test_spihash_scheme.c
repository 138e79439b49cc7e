/*
 * SPI-hash schemes of 000: known answers for the worked example's originator SPIs (FIG. 5A),
 * derivation for every scheme, and matching in both directions ([0072]-[0075]).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/rand.h"
#include "crypto/spihash_scheme.h"

/*
 * 000 FIG. 5A: originator SPIs 0xD4560CA1 (10.6.1.2) and 0xB7285662 (10.6.1.3).
 * MD5(d4 56 0c a1) = 46e0ecc1 6ef79529 75a9faee efb29617
 * MD5(b7 28 56 62) = ca0d0306 2ab23d92 df99458d 1d8068b0
 * (RFC 1321 MD5 over the four SPI bytes in network order.) The document's [0101] quotes
 * 0xB3511368 and 0xC3ADA079 as "the first four bytes of an MD5 hash"; those are
 * illustrative and not what MD5 yields, so the scenario of FIG. 5B shows the real values.
 */
#define SPI_410 0xD4560CA1u
#define SPI_420 0xB7285662u

static void md5_known_answers(void **state)
{
	const struct nat_spihash_scheme *s = nat_spihash_scheme_by_name("md5");
	uint32_t r = 0;

	(void)state;
	assert_non_null(s);
	assert_int_equal(nat_spihash_result(s, SPI_410), 0x46E0ECC1u);
	assert_int_equal(nat_spihash_result(s, SPI_420), 0xCA0D0306u);
	assert_int_equal(nat_spihash_derive(s, SPI_410, NULL, &r), 0);
	assert_int_equal(r, 0x46E0ECC1u);
	assert_true(nat_spihash_answers(s, SPI_410, 0x46E0ECC1u));
	assert_false(nat_spihash_answers(s, SPI_420, 0x46E0ECC1u));
	/* the document's illustrative value does not match real MD5 */
	assert_false(nat_spihash_answers(s, SPI_410, 0xB3511368u));
}

static void md5_rand_keeps_hash_in_last_two_bytes(void **state)
{
	const struct nat_spihash_scheme *s = nat_spihash_scheme_by_name("md5-rand");
	struct sp_xoshiro x;
	uint32_t r = 0, first = 0;
	bool differ = false;

	(void)state;
	assert_non_null(s);
	sp_xoshiro_seed(&x, 1);
	assert_int_equal(s->mask, 0x0000ffffu);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(nat_spihash_derive(s, SPI_410, &x.rng, &r), 0);
		/* [0049]: last two bytes are the first two of MD5 (46 e0) */
		assert_int_equal(r & 0xffff, 0x46E0);
		assert_true(r >= 256);
		if (i == 0)
			first = r;
		else if (r != first)
			differ = true;
	}
	assert_true(differ); /* the first two bytes are random */
	/* [0076]: the NAT compares the last two bytes only */
	assert_true(nat_spihash_answers(s, SPI_410, 0x123446E0u));
	assert_false(nat_spihash_answers(s, SPI_410, 0x46E01234u));
	/* random bytes need a generator */
	assert_int_equal(nat_spihash_derive(s, SPI_410, NULL, &r), SP_EINVAL);
}

static void md5_byte9(void **state)
{
	const struct nat_spihash_scheme *s = nat_spihash_scheme_by_name("md5-byte9");
	struct sp_xoshiro x;
	uint32_t r = 0;

	(void)state;
	assert_non_null(s);
	sp_xoshiro_seed(&x, 2);
	assert_int_equal(nat_spihash_derive(s, SPI_410, &x.rng, &r), 0);
	/* [0050]: the ninth MD5 byte (0x75) as the SPI's second byte */
	assert_int_equal((r >> 16) & 0xff, 0x75);
	assert_int_equal(nat_spihash_derive(s, SPI_420, &x.rng, &r), 0);
	assert_int_equal((r >> 16) & 0xff, 0xdf);
}

static void reverse_and_plus1(void **state)
{
	const struct nat_spihash_scheme *rev = nat_spihash_scheme_by_name("reverse");
	const struct nat_spihash_scheme *p1 = nat_spihash_scheme_by_name("plus1");
	uint32_t r = 0;

	(void)state;
	assert_int_equal(nat_spihash_derive(rev, SPI_410, NULL, &r), 0);
	assert_int_equal(r, 0xA10C56D4u);
	assert_int_equal(nat_spihash_derive(p1, SPI_410, NULL, &r), 0);
	assert_int_equal(r, 0xD4560CA2u);
	/* results in the reserved range 0-255 (RFC 4303 2.1) are refused, r untouched */
	r = 7;
	assert_int_equal(nat_spihash_derive(rev, 0x12000000u, NULL, &r), SP_EINVAL);
	assert_int_equal(nat_spihash_derive(p1, 0xffffffffu, NULL, &r), SP_EINVAL);
	assert_int_equal(nat_spihash_derive(p1, 0x000000feu, NULL, &r), SP_EINVAL);
	assert_int_equal(r, 7);
	assert_int_equal(nat_spihash_derive(p1, 0x000000ffu, NULL, &r), 0);
	assert_int_equal(r, 0x100);
}

/* [0073]-[0075]: whichever side originated, the NAT finds the pair. */
static void match_both_directions(void **state)
{
	struct sp_xoshiro x;

	(void)state;
	sp_xoshiro_seed(&x, 3);
	for (int id = 0; id < NAT_SPIHASH_N; id++) {
		const struct nat_spihash_scheme *s = nat_spihash_scheme_get(id);

		assert_non_null(s);
		assert_ptr_equal(nat_spihash_scheme_by_name(nat_spihash_scheme_names[id]), s);
		for (int i = 0; i < 200; i++) {
			uint32_t orig = sp_rng_u32(&x.rng) | 0x01000000u, resp = 0;
			int m;

			if (nat_spihash_derive(s, orig, &x.rng, &resp) != 0)
				continue;
			/* the inside host originated: its SPI is stored, the server's arrives */
			assert_int_equal(nat_spihash_match(s, orig, resp), NAT_SPIHASH_STORED_ORIG);
			/* the server originated: the host's derived SPI is stored */
			m = nat_spihash_match(s, resp, orig);
			assert_true(m == NAT_SPIHASH_RECV_ORIG || m == NAT_SPIHASH_STORED_ORIG);
			if (s->mask == 0xffffffffu && s->id != NAT_SPIHASH_REVERSE)
				assert_int_equal(m, NAT_SPIHASH_RECV_ORIG);
		}
	}
	/* unrelated SPIs do not match under a full-width scheme */
	assert_int_equal(
		nat_spihash_match(nat_spihash_scheme_get(NAT_SPIHASH_MD5), SPI_410, SPI_420),
		NAT_SPIHASH_NO_MATCH);
	/* server originated with md5: stored = MD5(received) */
	assert_int_equal(
		nat_spihash_match(nat_spihash_scheme_get(NAT_SPIHASH_MD5), 0x46E0ECC1u, SPI_410),
		NAT_SPIHASH_RECV_ORIG);
}

static void names(void **state)
{
	(void)state;
	assert_null(nat_spihash_scheme_by_name("sha1"));
	assert_null(nat_spihash_scheme_get(NAT_SPIHASH_N));
	assert_string_equal(nat_spihash_scheme_names[NAT_SPIHASH_MD5_RAND], "md5-rand");
	assert_null(nat_spihash_scheme_names[NAT_SPIHASH_N]);
	for (int id = 0; id < NAT_SPIHASH_N; id++)
		assert_non_null(nat_spihash_scheme_get(id)->help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(md5_known_answers),
		cmocka_unit_test(md5_rand_keeps_hash_in_last_two_bytes),
		cmocka_unit_test(md5_byte9),
		cmocka_unit_test(reverse_and_plus1),
		cmocka_unit_test(match_both_directions),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
