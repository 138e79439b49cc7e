/* crypto/: argument checks, directions, in-place round trips, the DRBG as an sp_rng, and
 * the promise that the per-message path allocates nothing (counted through libcrypto's
 * allocator hook). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/drbg.h"
#include "crypto/hmac.h"

static const uint8_t key36[36] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
				   13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
				   25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36 };

static void aead_rejects_bad_arguments(void **state)
{
	struct crypto_aead *a = (void *)1;

	(void)state;
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, 19, 16, CRYPTO_BOTH),
			 SP_EINVAL);
	assert_null(a);
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, 20, 10, CRYPTO_BOTH),
			 SP_EINVAL);
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GMAC, key36, 20, 8, CRYPTO_BOTH),
			 SP_EINVAL);
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, 20, 16, 0), SP_EINVAL);
	for (size_t len = 20; len <= 36; len += 8) {
		assert_int_equal(
			crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, len, 12, CRYPTO_DEC), 0);
		assert_int_equal(crypto_aead_icv_len(a), 12);
		assert_int_equal(crypto_aead_begin(a, CRYPTO_ENC, key36), SP_ESTATE);
		crypto_aead_free(a);
	}
	crypto_aead_free(NULL);
}

static void aead_roundtrip_and_tamper(void **state)
{
	uint8_t iv[8] = { 9 }, buf[100], orig[100], icv[16], aad[8] = { 1, 2 };
	struct crypto_aead *a;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		orig[i] = (uint8_t)i;
	memcpy(buf, orig, sizeof(buf));
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, 36, 16, CRYPTO_BOTH), 0);
	assert_int_equal(crypto_aead_seal(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	assert_memory_not_equal(buf, orig, sizeof(buf));
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	assert_memory_equal(buf, orig, sizeof(buf));
	assert_int_equal(crypto_aead_seal(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	buf[50] ^= 1;
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv),
			 SP_EAUTH);
	/* Finishing without a message in progress is refused. */
	assert_int_equal(crypto_aead_seal_final(a, icv), SP_ESTATE);
	crypto_aead_free(a);
}

static void cipher_null_and_cbc(void **state)
{
	uint8_t key[32] = { 7 }, iv[16] = { 3 }, buf[64], orig[64];
	struct crypto_cipher *c;

	(void)state;
	assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_NULL, NULL, 0, CRYPTO_BOTH), 0);
	assert_int_equal(crypto_cipher_iv_len(c), 0);
	assert_int_equal(crypto_cipher_block_len(c), 1);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(crypto_cipher_encrypt(c, NULL, buf, 3), 0);
	assert_int_equal(buf[0], 0x5a);
	crypto_cipher_free(c);
	assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_AES_CBC, key, 20, CRYPTO_BOTH),
			 SP_EINVAL);
	assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_AES_CBC, key, 32, CRYPTO_ENC), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		orig[i] = buf[i] = (uint8_t)(i * 7);
	assert_int_equal(crypto_cipher_encrypt(c, iv, buf, sizeof(buf)), 0);
	assert_memory_not_equal(buf, orig, sizeof(buf));
	assert_int_equal(crypto_cipher_decrypt(c, iv, buf, sizeof(buf)), SP_ESTATE);
	crypto_cipher_free(c);
}

static void hmac_rekey_and_limits(void **state)
{
	uint8_t k1[20] = { 1 }, k2[20] = { 2 }, a[20], b[20], c[20];
	struct crypto_hmac *m;

	(void)state;
	assert_int_equal(crypto_hmac_new(&m, CRYPTO_HASH_SHA1, k1, 20, 21), SP_EINVAL);
	assert_int_equal(crypto_hmac_new(&m, CRYPTO_HASH_SHA1, k1, 20, 0), 0);
	assert_int_equal(crypto_hmac_len(m), 20);
	crypto_hmac(m, "x", 1, a);
	assert_int_equal(crypto_hmac_rekey(m, k2, 20), 0);
	crypto_hmac(m, "x", 1, b);
	assert_memory_not_equal(a, b, 20);
	assert_int_equal(crypto_hmac_rekey(m, k1, 20), 0);
	crypto_hmac(m, "x", 1, c);
	assert_memory_equal(a, c, 20);
	crypto_hmac_free(m);
}

static void drbg_deterministic(void **state)
{
	struct crypto_drbg *a, *b, *c;
	uint8_t x[300], y[300], z[300];

	(void)state;
	assert_int_equal(crypto_drbg_new_u64(&a, 42, "node1"), 0);
	assert_int_equal(crypto_drbg_new_u64(&b, 42, "node1"), 0);
	assert_int_equal(crypto_drbg_new_u64(&c, 42, "node2"), 0);
	/* Uneven pieces through the sp_rng interface give the same stream. */
	sp_rng_bytes(crypto_drbg_rng(a), x, 7);
	sp_rng_bytes(crypto_drbg_rng(a), x + 7, 293);
	sp_rng_bytes(crypto_drbg_rng(b), y, 300);
	sp_rng_bytes(crypto_drbg_rng(c), z, 300);
	assert_memory_equal(x, y, sizeof(x));
	assert_memory_not_equal(x, z, sizeof(x));
	/* The served stream is the SP 800-90A output, 256 bytes per request. */
	crypto_drbg_free(b);
	assert_int_equal(crypto_drbg_new_u64(&b, 42, "node1"), 0);
	assert_int_equal(crypto_drbg_generate(b, y, 256, NULL, 0), 0);
	assert_memory_equal(x, y, 256);
	assert_int_equal(crypto_drbg_generate(b, y, CRYPTO_DRBG_MAX_REQ + 1, NULL, 0), SP_EINVAL);
	crypto_drbg_free(a);
	crypto_drbg_free(b);
	crypto_drbg_free(c);
}

/* The per-message path allocates nothing: keyed contexts are reused. */
static void no_allocation_per_message(void **state)
{
	uint8_t key[32] = { 1 }, iv[16] = { 2 }, buf[1408], icv[16], out[64];
	struct crypto_aead *a;
	struct crypto_cipher *c;
	struct crypto_hmac *m;
	struct crypto_drbg *d;
	long before;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key36, 20, 16, CRYPTO_BOTH), 0);
	assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_AES_CBC, key, 16, CRYPTO_BOTH), 0);
	assert_int_equal(crypto_hmac_new(&m, CRYPTO_HASH_SHA256, key, 32, 16), 0);
	assert_int_equal(crypto_drbg_new_u64(&d, 1, "x"), 0);
	before = crypto_alloc_count();
	for (int i = 0; i < 100; i++) {
		assert_int_equal(crypto_aead_seal(a, iv, key, 8, buf, sizeof(buf), icv), 0);
		assert_int_equal(crypto_aead_open(a, iv, key, 8, buf, sizeof(buf), icv), 0);
		assert_int_equal(crypto_cipher_encrypt(c, iv, buf, sizeof(buf)), 0);
		assert_int_equal(crypto_cipher_decrypt(c, iv, buf, sizeof(buf)), 0);
		crypto_hmac(m, buf, sizeof(buf), out);
		sp_rng_bytes(crypto_drbg_rng(d), out, 16);
	}
	assert_int_equal(crypto_alloc_count() - before, 0);
	crypto_aead_free(a);
	crypto_cipher_free(c);
	crypto_hmac_free(m);
	crypto_drbg_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aead_rejects_bad_arguments),
		cmocka_unit_test(aead_roundtrip_and_tamper),
		cmocka_unit_test(cipher_null_and_cbc),
		cmocka_unit_test(hmac_rekey_and_limits),
		cmocka_unit_test(drbg_deterministic),
		cmocka_unit_test(no_allocation_per_message),
	};

	/* Before libcrypto allocates anything. */
	if (!crypto_alloc_count_start())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
