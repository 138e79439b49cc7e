/* RFC 4868 section 2.7.2.1: the HMAC-SHA-256-128 authenticator test cases AUTH256-1 to
 * AUTH256-4, with the 32-byte keys ESP uses; the ICV is the leftmost 128 bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/hmac.h"
#include "vec_hex.h"

static const struct {
	const char *name, *key, *data, *prf, *auth;
} cases[] = {
	{ "AUTH256-1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b 0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  "4869205468657265", "198a607eb44bfbc69903a0f1cf2bbdc5 ba0aa3f3d9ae3c1c7a3b1696a0b68cf7",
	  "198a607eb44bfbc69903a0f1cf2bbdc5" },
	{ "AUTH256-2", "4a6566654a6566654a6566654a656665 4a6566654a6566654a6566654a656665",
	  "7768617420646f2079612077616e7420 666f72206e6f7468696e673f",
	  "167f928588c5cc2eef8e3093caa0e87c 9ff566a14794aa61648d81621a2a40c6",
	  "167f928588c5cc2eef8e3093caa0e87c" },
	{ "AUTH256-3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "dddddddddddddddddddddddddddddddd dddddddddddddddddddddddddddddddd"
	  "dddddddddddddddddddddddddddddddd dddd",
	  "cdcb1220d1ecccea91e53aba3092f962 e549fe6ce9ed7fdc43191fbde45c30b0",
	  "cdcb1220d1ecccea91e53aba3092f962" },
	{ "AUTH256-4", "0102030405060708090a0b0c0d0e0f10 1112131415161718191a1b1c1d1e1f20",
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd cdcd",
	  "372efcf9b40b35c2115b1346903d2ef4 2fced46f0846e7257bb156d3d7b30d3f",
	  "372efcf9b40b35c2115b1346903d2ef4" },
};

static void auth256(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(cases); i++) {
		uint8_t key[32], data[64], prf[32], auth[16], got[32];
		size_t klen = vec_hex_or_die(cases[i].key, key, sizeof(key));
		size_t dlen = vec_hex_or_die(cases[i].data, data, sizeof(data));
		struct crypto_hmac *full, *trunc;

		assert_int_equal(klen, 32);
		vec_hex_or_die(cases[i].prf, prf, sizeof(prf));
		vec_hex_or_die(cases[i].auth, auth, sizeof(auth));
		assert_int_equal(crypto_hmac_new(&full, CRYPTO_HASH_SHA256, key, klen, 0), 0);
		assert_int_equal(crypto_hmac_new(&trunc, CRYPTO_HASH_SHA256, key, klen, 16), 0);
		crypto_hmac(full, data, dlen, got);
		assert_memory_equal(got, prf, 32);
		crypto_hmac(trunc, data, dlen, got);
		assert_memory_equal(got, auth, 16);
		crypto_hmac_begin(trunc);
		crypto_hmac_update(trunc, data, dlen);
		assert_int_equal(crypto_hmac_verify(trunc, auth), 0);
		crypto_hmac_free(full);
		crypto_hmac_free(trunc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auth256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
