/*
 * Key exchange known answers: RFC 5903 8.1, 8.2 and 8.3 (the 256-, 384- and 521-bit random
 * ECP groups, IKEv2 groups 19, 20, 21),
 * RFC 7748 5.2 and 6.1 (X25519, IKEv2 group 31 per RFC 8031), and the checks on hostile
 * public values of RFC 6989 and RFC 8031 2.3. MODP-2048 (RFC 3526 3) has no published
 * exchange, so both sides must agree and out-of-range values must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/rand.h"
#include "crypto/dh.h"
#include "vec_hex.h"

#include <openssl/bn.h>

static struct crypto_dh *from_hex(uint16_t group, const char *priv)
{
	uint8_t b[256];
	long n = vec_hex(priv, b, sizeof(b));
	struct crypto_dh *dh = NULL;

	assert_true(n > 0);
	assert_int_equal(crypto_dh_new_priv(group, b, (size_t)n, &dh), 0);
	return dh;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t b[256];
	long n = vec_hex(want, b, sizeof(b));

	assert_int_equal(n, (long)len);
	assert_memory_equal(got, b, len);
}

/* RFC 5903 8.1: i, g^i = (gix, giy), r, g^r = (grx, gry), g^ir = (girx, giry); IKEv2
 * carries x | y and uses girx as the shared secret. */
static void rfc5903_8_1_ecp256(void **state)
{
	struct crypto_dh *i, *r;
	uint8_t s1[32], s2[32];

	(void)state;
	i = from_hex(CRYPTO_DH_ECP256,
		     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433");
	r = from_hex(CRYPTO_DH_ECP256,
		     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53");
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_ECP256), 64);
	assert_hex(crypto_dh_pub(i), 64,
		   "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
		   "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3");
	assert_hex(crypto_dh_pub(r), 64,
		   "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
		   "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB");
	assert_int_equal(crypto_dh_derive(i, crypto_dh_pub(r), 64, s1, 32), 0);
	assert_int_equal(crypto_dh_derive(r, crypto_dh_pub(i), 64, s2, 32), 0);
	assert_hex(s1, 32,
		   "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE");
	assert_memory_equal(s1, s2, 32);
	crypto_dh_free(i);
	crypto_dh_free(r);
}

/* RFC 5903 8.2 (384-bit random ECP group, IKEv2 group 20) and 8.3 (521-bit, group 21). */
static void rfc5903_ecp(uint16_t group, size_t len, const char *i_hex, const char *r_hex,
			const char *gi, const char *gr, const char *girx)
{
	struct crypto_dh *i = from_hex(group, i_hex), *r = from_hex(group, r_hex);
	uint8_t s1[66], s2[66];

	assert_int_equal(crypto_dh_pub_len(group), 2 * len);
	assert_hex(crypto_dh_pub(i), 2 * len, gi);
	assert_hex(crypto_dh_pub(r), 2 * len, gr);
	assert_int_equal(crypto_dh_derive(i, crypto_dh_pub(r), 2 * len, s1, len), 0);
	assert_int_equal(crypto_dh_derive(r, crypto_dh_pub(i), 2 * len, s2, len), 0);
	assert_hex(s1, len, girx);
	assert_memory_equal(s1, s2, len);
	crypto_dh_free(i);
	crypto_dh_free(r);
}

static void rfc5903_8_2_ecp384(void **state)
{
	(void)state;
	rfc5903_ecp(CRYPTO_DH_ECP384, 48,
		    "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655"
		    "E35B538041E649EE3FAEF896783AB194",
		    "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942"
		    "E0308312916B8ED2960E4BD55A7448FC",
		    "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6"
		    "DE3AC808ACB4BDB4C88732AEE95F41AA"
		    "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E"
		    "EB9FCFF3C2C947DAE69B4C634573A81C",
		    "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D"
		    "0D1AC43A0336DEF96FDA41D0774A3571"
		    "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FF"
		    "F83FA40142209DFF5EAAD96DB9E6386C",
		    "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4"
		    "D603135569B9E9D09CF5D4A270F59746");
}

static void rfc5903_8_3_ecp521(void **state)
{
	(void)state;
	rfc5903_ecp(CRYPTO_DH_ECP521, 66,
		    "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A0"
		    "95AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D"
		    "4A52",
		    "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E"
		    "9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB15168"
		    "5EB9",
		    "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBE"
		    "E1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7F4601723C4195D176C"
		    "ED3E"
		    "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10A"
		    "D8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507438BF01BEB6CA3926F"
		    "9582",
		    "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A21"
		    "9B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D0433CED2B6171640012D9"
		    "460F"
		    "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87"
		    "220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732296579AB44FCD17F0F"
		    "C56A",
		    "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04"
		    "D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3"
		    "DDEA");
}

static void ecp256_refuses_points_off_the_curve(void **state)
{
	struct crypto_dh *i, *r;
	uint8_t bad[64], s[32];

	(void)state;
	i = from_hex(CRYPTO_DH_ECP256,
		     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433");
	r = from_hex(CRYPTO_DH_ECP256,
		     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53");
	memcpy(bad, crypto_dh_pub(r), 64);
	bad[63] ^= 1;
	assert_int_equal(crypto_dh_derive(i, bad, 64, s, 32), SP_EINVAL);
	memset(bad, 0, sizeof(bad));
	assert_int_equal(crypto_dh_derive(i, bad, 64, s, 32), SP_EINVAL);
	memset(bad, 0xff, sizeof(bad)); /* coordinates >= p */
	assert_int_equal(crypto_dh_derive(i, bad, 64, s, 32), SP_EINVAL);
	assert_int_equal(crypto_dh_derive(i, crypto_dh_pub(r), 63, s, 32), SP_EINVAL);
	/* the zero scalar and scalars >= n are not private keys */
	crypto_dh_free(r);
	assert_int_equal(crypto_dh_new_priv(CRYPTO_DH_ECP256, bad, 32, &r), SP_EINVAL);
	assert_null(r);
	memset(bad, 0, 32);
	assert_int_equal(crypto_dh_new_priv(CRYPTO_DH_ECP256, bad, 32, &r), SP_EINVAL);
	crypto_dh_free(i);
}

static void x25519_fn(const char *k, const char *u, uint8_t *out)
{
	struct crypto_dh *dh = from_hex(CRYPTO_DH_X25519, k);
	uint8_t ub[32];

	assert_int_equal(vec_hex(u, ub, 32), 32);
	assert_int_equal(crypto_dh_derive(dh, ub, 32, out, 32), 0);
	crypto_dh_free(dh);
}

/* RFC 7748 5.2: the two single-shot vectors of the X25519 function. */
static void rfc7748_5_2_x25519(void **state)
{
	uint8_t out[32];

	(void)state;
	x25519_fn("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", out);
	assert_hex(out, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	x25519_fn("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", out);
	assert_hex(out, 32, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

/* RFC 7748 5.2: k = u = 9, then k <- X25519(k, u), u <- old k; after 1 and 1,000
 * iterations (the 1,000,000 iteration figure is left to the RFC: minutes of CPU). */
static void rfc7748_5_2_x25519_iterated(void **state)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, out[32];
	struct crypto_dh *dh;

	(void)state;
	for (int i = 1; i <= 1000; i++) {
		assert_int_equal(crypto_dh_new_priv(CRYPTO_DH_X25519, k, 32, &dh), 0);
		assert_int_equal(crypto_dh_derive(dh, u, 32, out, 32), 0);
		crypto_dh_free(dh);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			assert_hex(
				k, 32,
				"422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	}
	assert_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

/* RFC 7748 6.1: Alice's and Bob's key pairs and their shared secret. */
static void rfc7748_6_1_x25519_exchange(void **state)
{
	struct crypto_dh *a, *b;
	uint8_t s1[32], s2[32];

	(void)state;
	a = from_hex(CRYPTO_DH_X25519,
		     "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	b = from_hex(CRYPTO_DH_X25519,
		     "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_hex(crypto_dh_pub(a), 32,
		   "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_hex(crypto_dh_pub(b), 32,
		   "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(crypto_dh_derive(a, crypto_dh_pub(b), 32, s1, 32), 0);
	assert_int_equal(crypto_dh_derive(b, crypto_dh_pub(a), 32, s2, 32), 0);
	assert_hex(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(s1, s2, 32);
	crypto_dh_free(a);
	crypto_dh_free(b);
}

/* RFC 8031 2.3: a small-order point gives an all-zero secret, which must be refused. */
static void x25519_refuses_all_zero_result(void **state)
{
	struct crypto_dh *a;
	uint8_t zero[32] = { 0 }, one[32] = { 1 }, s[32];

	(void)state;
	a = from_hex(CRYPTO_DH_X25519,
		     "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	assert_int_equal(crypto_dh_derive(a, zero, 32, s, 32), SP_EINVAL);
	assert_int_equal(crypto_dh_derive(a, one, 32, s, 32), SP_EINVAL);
	crypto_dh_free(a);
}

static void modp2048_agrees_and_refuses_out_of_range(void **state)
{
	struct sp_xoshiro x1, x2;
	struct crypto_dh *a, *b, *c;
	uint8_t s1[256], s2[256], bad[256];

	(void)state;
	sp_xoshiro_seed(&x1, 1);
	sp_xoshiro_seed(&x2, 2);
	assert_int_equal(crypto_dh_new(CRYPTO_DH_MODP2048, &x1.rng, &a), 0);
	assert_int_equal(crypto_dh_new(CRYPTO_DH_MODP2048, &x2.rng, &b), 0);
	assert_int_equal(crypto_dh_derive(a, crypto_dh_pub(b), 256, s1, 256), 0);
	assert_int_equal(crypto_dh_derive(b, crypto_dh_pub(a), 256, s2, 256), 0);
	assert_memory_equal(s1, s2, 256);
	assert_memory_not_equal(crypto_dh_pub(a), crypto_dh_pub(b), 256);
	/* same seed, same key: the simulator's runs repeat */
	sp_xoshiro_seed(&x1, 1);
	assert_int_equal(crypto_dh_new(CRYPTO_DH_MODP2048, &x1.rng, &c), 0);
	assert_memory_equal(crypto_dh_pub(a), crypto_dh_pub(c), 256);
	crypto_dh_free(c);
	memset(bad, 0, sizeof(bad));
	assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), SP_EINVAL);
	bad[255] = 1;
	assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), SP_EINVAL);
	memset(bad, 0xff, sizeof(bad)); /* > p (p has its top 64 bits set) */
	assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), SP_EINVAL);
	/* p - 1 (order 2) and p itself */
	{
		BIGNUM *p = BN_get_rfc3526_prime_2048(NULL);

		assert_non_null(p);
		assert_int_equal(BN_bn2binpad(p, bad, 256), 256);
		assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), SP_EINVAL);
		bad[255] -= 1;
		assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), SP_EINVAL);
		bad[255] -= 1; /* p - 2 is a legal public value */
		assert_int_equal(crypto_dh_derive(a, bad, 256, s1, 256), 0);
		BN_free(p);
	}
	crypto_dh_free(a);
	crypto_dh_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5903_8_1_ecp256),
		cmocka_unit_test(rfc5903_8_2_ecp384),
		cmocka_unit_test(rfc5903_8_3_ecp521),
		cmocka_unit_test(ecp256_refuses_points_off_the_curve),
		cmocka_unit_test(rfc7748_5_2_x25519),
		cmocka_unit_test(rfc7748_5_2_x25519_iterated),
		cmocka_unit_test(rfc7748_6_1_x25519_exchange),
		cmocka_unit_test(x25519_refuses_all_zero_result),
		cmocka_unit_test(modp2048_agrees_and_refuses_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
