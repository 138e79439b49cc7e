/*
 * NIST CAVP SP 800-90A DRBG vectors (drbgvectors_no_reseed, CTR_DRBG.rsp), section
 * [AES-256 no df] [PredictionResistance = False] [EntropyInputLen = 384] [NonceLen = 0]
 * [PersonalizationStringLen = 0] [AdditionalInputLen = 0] [ReturnedBitsLen = 512],
 * COUNT = 0: instantiate, generate 512 bits and discard them, generate 512 bits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/drbg.h"
#include "vec_hex.h"

static void cavp_count0(void **state)
{
	uint8_t entropy[48], want[64], got[64];
	struct crypto_drbg *d;

	(void)state;
	vec_hex_or_die("df5d73faa468649edda33b5cca79b0b05600419ccb7a879ddfec9db32ee494e5"
		       "531b51de16a30f769262474c73bec010",
		       entropy, sizeof(entropy));
	vec_hex_or_die("d1c07cd95af8a7f11012c84ce48bb8cb87189e99d40fccb1771c619bdf82ab22"
		       "80b1dc2f2581f39164f7ac0c510494b3a43c41b7db17514c87b107ae793e01c5",
		       want, sizeof(want));
	assert_int_equal(crypto_drbg_new(&d, entropy, NULL, 0), 0);
	assert_int_equal(crypto_drbg_generate(d, got, sizeof(got), NULL, 0), 0);
	assert_int_equal(crypto_drbg_generate(d, got, sizeof(got), NULL, 0), 0);
	assert_memory_equal(got, want, sizeof(want));
	crypto_drbg_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cavp_count0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
