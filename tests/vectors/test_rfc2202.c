/* RFC 2202 sections 2 and 3: HMAC-MD5 and HMAC-SHA-1 test cases 1-7, and the 96-bit
 * truncation of case 5 that HMAC-MD5-96 (RFC 2403) and HMAC-SHA1-96 (RFC 2404) use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/hmac.h"
#include "vec_hex.h"

struct tc {
	int n;
	const char *key_hex; /* NULL: see key_str or key_rep */
	const char *key_str;
	uint8_t key_rep, key_len;
	const char *data_str; /* NULL: data_rep repeated data_len times */
	uint8_t data_rep, data_len;
	const char *digest;
};

/* RFC 2202 section 2: HMAC-MD5. */
static const struct tc md5_cases[] = {
	{ 1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", NULL, 0, 0, "Hi There", 0, 0,
	  "9294727a3638bb1c13f48ef8158bfc9d" },
	{ 2, NULL, "Jefe", 0, 0, "what do ya want for nothing?", 0, 0,
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0, 0, NULL, 0xdd, 50,
	  "56be34521d144c88dbb8c733f0e8b3f6" },
	{ 4, "0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, 0, 0, NULL, 0xcd, 50,
	  "697eaf0aca3a3aea3a75164746ffaa79" },
	{ 5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", NULL, 0, 0, "Test With Truncation", 0, 0,
	  "56461ef2342edc00f9bab995690efd4c" },
	{ 6, NULL, NULL, 0xaa, 80, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ 7, NULL, NULL, 0xaa, 80,
	  "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", 0, 0,
	  "6f630fad67cda0ee1fb1f562db3aa53e" },
};

/* RFC 2202 section 3: HMAC-SHA-1. */
static const struct tc sha1_cases[] = {
	{ 1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", NULL, 0, 0, "Hi There", 0, 0,
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ 2, NULL, "Jefe", 0, 0, "what do ya want for nothing?", 0, 0,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0, 0, NULL, 0xdd, 50,
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ 4, "0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, 0, 0, NULL, 0xcd, 50,
	  "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ 5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", NULL, 0, 0, "Test With Truncation", 0, 0,
	  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ 6, NULL, NULL, 0xaa, 80, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ 7, NULL, NULL, 0xaa, 80,
	  "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", 0, 0,
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

static void run(const struct tc *t, enum crypto_hash h, size_t trunc)
{
	uint8_t key[128], data[128], want[64], got[64];
	size_t klen, dlen, wlen;
	struct crypto_hmac *m;

	if (t->key_hex)
		klen = vec_hex_or_die(t->key_hex, key, sizeof(key));
	else if (t->key_str)
		memcpy(key, t->key_str, klen = strlen(t->key_str));
	else
		memset(key, t->key_rep, klen = t->key_len);
	if (t->data_str)
		memcpy(data, t->data_str, dlen = strlen(t->data_str));
	else
		memset(data, t->data_rep, dlen = t->data_len);
	wlen = vec_hex_or_die(t->digest, want, sizeof(want));
	assert_int_equal(crypto_hmac_new(&m, h, key, klen, trunc), 0);
	assert_int_equal(crypto_hmac_len(m), trunc ? trunc : wlen);
	crypto_hmac(m, data, dlen, got);
	assert_memory_equal(got, want, crypto_hmac_len(m));
	/* The streaming form over two pieces gives the same. */
	crypto_hmac_begin(m);
	crypto_hmac_update(m, data, dlen / 2);
	crypto_hmac_update(m, data + dlen / 2, dlen - dlen / 2);
	assert_int_equal(crypto_hmac_verify(m, want), 0);
	want[0] ^= 1;
	crypto_hmac_begin(m);
	crypto_hmac_update(m, data, dlen);
	assert_int_equal(crypto_hmac_verify(m, want), SP_EAUTH);
	crypto_hmac_free(m);
}

static void hmac_md5(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(md5_cases); i++)
		run(&md5_cases[i], CRYPTO_HASH_MD5, 0);
}

static void hmac_sha1(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(sha1_cases); i++)
		run(&sha1_cases[i], CRYPTO_HASH_SHA1, 0);
}

/* RFC 2202 case 5 lists digest-96: the leftmost 12 bytes (RFC 2403, RFC 2404). */
static void truncated_96(void **state)
{
	(void)state;
	assert_int_equal(md5_cases[4].n, 5);
	assert_int_equal(sha1_cases[4].n, 5);
	run(&md5_cases[4], CRYPTO_HASH_MD5, 12);
	run(&sha1_cases[4], CRYPTO_HASH_SHA1, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_md5),
		cmocka_unit_test(hmac_sha1),
		cmocka_unit_test(truncated_96),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
