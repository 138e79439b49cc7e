/* RFC 4231 section 4: HMAC-SHA-256, -384 and -512 test cases 1-7 (4.2-4.8). Test case 5
 * (4.6) gives only the first 128 bits of output: it checks truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/hmac.h"
#include "vec_hex.h"

static const char tc7_data[] = "This is a test using a larger than block-size key and a larger "
			       "than block-size data. The key needs to be hashed before being "
			       "used by the HMAC algorithm.";

struct tc {
	const char *section;
	const char *key_hex; /* NULL: "Jefe" (4.3) */
	uint8_t key_rep, key_len;
	const char *data_str; /* NULL: data_rep repeated 50 times */
	uint8_t data_rep;
	size_t trunc; /* 0: full output */
	const char *sha256, *sha384, *sha512;
};

static const struct tc cases[] = {
	{ "4.2", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", 0, 0, "Hi There", 0, 0,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "4.3", NULL, 0, 0, "what do ya want for nothing?", 0, 0,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "4.4", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0, NULL, 0xdd, 0,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	  "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	  "2a5ab39dc13814b94e3ab6e101a34f27",
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ "4.5", "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd, 0,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	  "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	  "6801dd23c4a7d679ccf8a386c674cffb",
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	{ "4.6", "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", 0, 0, "Test With Truncation", 0, 16,
	  "a3b6167473100ee06e0c796c2955552b", "3abf34c3503b2a23a46efc619baef897",
	  "415fad6271580a531d4179bc891d87a6" },
	{ "4.7", NULL, 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	  "0c2ef6ab4030fe8296248df163f44952",
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "4.8", NULL, 0xaa, 131, tc7_data, 0, 0,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
	  "a678cc31e799176d3860e6110c46523e",
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

static void one(const struct tc *t, enum crypto_hash h, const char *digest)
{
	uint8_t key[160], data[200], want[64], got[64];
	size_t klen, dlen, wlen;
	struct crypto_hmac *m;

	if (t->key_hex)
		klen = vec_hex_or_die(t->key_hex, key, sizeof(key));
	else if (t->key_len)
		memset(key, t->key_rep, klen = t->key_len);
	else
		memcpy(key, "Jefe", klen = 4);
	if (t->data_str)
		memcpy(data, t->data_str, dlen = strlen(t->data_str));
	else
		memset(data, t->data_rep, dlen = 50);
	wlen = vec_hex_or_die(digest, want, sizeof(want));
	assert_int_equal(crypto_hmac_new(&m, h, key, klen, t->trunc), 0);
	assert_int_equal(crypto_hmac_len(m), t->trunc ? t->trunc : crypto_hash_len(h));
	assert_int_equal(crypto_hmac_len(m), wlen);
	crypto_hmac(m, data, dlen, got);
	assert_memory_equal(got, want, wlen);
	crypto_hmac_free(m);
}

static void all_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(cases); i++) {
		one(&cases[i], CRYPTO_HASH_SHA256, cases[i].sha256);
		one(&cases[i], CRYPTO_HASH_SHA384, cases[i].sha384);
		one(&cases[i], CRYPTO_HASH_SHA512, cases[i].sha512);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
