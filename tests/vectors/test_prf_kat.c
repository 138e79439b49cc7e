/*
 * PRF and prf+ known answers: RFC 4868 2.7.1 (PRF-HMAC-SHA-256 test cases 1-6) and the
 * IKEv2 KDF of NIST SP 800-135 4.1.2 against NIST's vectors (SKEYSEED, DKM, DKM(Child SA),
 * DKM(Child SA D-H), SKEYSEED(Rekey)): two CAVP ikev2.rsp vectors with HMAC-SHA-1 (IKEv2
 * PRF 2) and the SHA2-256 vector of NIST's ACVP test suite (PRF 5, the one spinat uses).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/prf.h"
#include "vec_hex.h"

static size_t hx(const char *s, uint8_t *b, size_t cap)
{
	long n = vec_hex(s, b, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

static void prf_case(const uint8_t *key, size_t klen, const void *data, size_t dlen,
		     const char *want)
{
	uint8_t out[32], w[32];
	struct crypto_iov iov = { data, dlen };

	assert_int_equal(crypto_prf(CRYPTO_PRF_HMAC_SHA2_256, key, klen, &iov, 1, out), 0);
	assert_int_equal(hx(want, w, sizeof(w)), 32);
	assert_memory_equal(out, w, 32);
}

static void rfc4868_2_7_1_prf_hmac_sha256(void **state)
{
	uint8_t key[131], data[50];
	static const char big_key_data[] =
		"This is a test using a larger than block-size key and a larger than block-size "
		"data. The key needs to be hashed before being used by the HMAC algorithm.";

	(void)state;
	/* Test Case PRF-1 */
	memset(key, 0x0b, 20);
	prf_case(key, 20, "Hi There", 8,
		 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test Case PRF-2 */
	prf_case((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test Case PRF-3 */
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	prf_case(key, 20, data, 50,
		 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* Test Case PRF-4 */
	for (int i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	prf_case(key, 25, data, 50,
		 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	/* Test Case PRF-5 */
	memset(key, 0xaa, 131);
	prf_case(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* Test Case PRF-6 */
	prf_case(key, 131, big_key_data, strlen(big_key_data),
		 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Pieces of the input may be split anywhere. */
static void prf_iov_equals_concatenation(void **state)
{
	static const char msg[] = "what do ya want for nothing?";
	struct crypto_iov one = { msg, 28 };
	struct crypto_iov three[] = { { msg, 3 }, { msg + 3, 0 }, { msg + 3, 25 } };
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(
		crypto_prf(CRYPTO_PRF_HMAC_SHA2_256, (const uint8_t *)"Jefe", 4, &one, 1, a), 0);
	assert_int_equal(
		crypto_prf(CRYPTO_PRF_HMAC_SHA2_256, (const uint8_t *)"Jefe", 4, three, 3, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(crypto_prf(99, a, 1, &one, 1, b), SP_EUNSUPP);
}

struct kdf_vec {
	const char *ni, *nr, *gir, *gir_new, *spii, *spir;
	const char *skeyseed, *dkm, *dkm_child, *dkm_child_dh, *skeyseed_rekey;
};

/*
 * SP 800-135 4.1.2 with RFC 7296's names:
 *   SKEYSEED = prf(Ni | Nr, g^ir); DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 *   DKM(Child SA) = prf+(SK_d, Ni | Nr); DKM(Child SA D-H) = prf+(SK_d, g^ir(new) | Ni | Nr)
 *   SKEYSEED(Rekey) = prf(SK_d, g^ir(new) | Ni | Nr), SK_d = the first prf-length bytes of DKM
 */
static void kdf_check(uint16_t prf, const struct kdf_vec *v)
{
	uint8_t ni[256], nr[256], gir[256], gnew[256], spii[8], spir[8];
	uint8_t want[512], got[512], seed[CRYPTO_PRF_MAX], key[512];
	size_t lni = hx(v->ni, ni, 256), lnr = hx(v->nr, nr, 256), lg = hx(v->gir, gir, 256);
	size_t lgn = hx(v->gir_new, gnew, 256), bl = crypto_prf_len(prf), n;

	assert_int_equal(hx(v->spii, spii, 8), 8);
	assert_int_equal(hx(v->spir, spir, 8), 8);
	memcpy(key, ni, lni);
	memcpy(key + lni, nr, lnr);
	{
		struct crypto_iov in = { gir, lg };

		assert_int_equal(crypto_prf(prf, key, lni + lnr, &in, 1, seed), 0);
		assert_int_equal(hx(v->skeyseed, want, sizeof(want)), bl);
		assert_memory_equal(seed, want, bl);
	}
	{
		struct crypto_iov s[] = { { ni, lni }, { nr, lnr }, { spii, 8 }, { spir, 8 } };

		n = hx(v->dkm, want, sizeof(want));
		assert_int_equal(crypto_prf_plus(prf, seed, bl, s, 4, got, n), 0);
		assert_memory_equal(got, want, n);
	}
	memcpy(key, got, bl); /* SK_d */
	{
		struct crypto_iov s[] = { { ni, lni }, { nr, lnr } };

		n = hx(v->dkm_child, want, sizeof(want));
		assert_int_equal(crypto_prf_plus(prf, key, bl, s, 2, got, n), 0);
		assert_memory_equal(got, want, n);
	}
	{
		struct crypto_iov s[] = { { gnew, lgn }, { ni, lni }, { nr, lnr } };

		n = hx(v->dkm_child_dh, want, sizeof(want));
		assert_int_equal(crypto_prf_plus(prf, key, bl, s, 3, got, n), 0);
		assert_memory_equal(got, want, n);
		assert_int_equal(crypto_prf(prf, key, bl, s, 3, seed), 0);
		assert_int_equal(hx(v->skeyseed_rekey, want, sizeof(want)), bl);
		assert_memory_equal(seed, want, bl);
	}
}

/* CAVP ikev2.rsp, [SHA-1] [Ni length = 64] [Nr length = 64] [g^ir length = 256]
 * [DKM length = 1056] [Child SA DKM length = 1056]. */
static void cavp_ikev2_kdf_sha1_gir256(void **state)
{
	static const struct kdf_vec v = {
		.gir = "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52",
		.gir_new = "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330",
		.ni = "32b50d5f4a3763f3",
		.nr = "9206a04b26564cb1",
		.spii = "34c9e7c188868785",
		.spir = "3ff77d760d2b2199",
		.skeyseed = "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
		.dkm = "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e51"
		       "4a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a5c55b648a194ae587b00"
		       "88d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384bd275c5f594cf2"
		       "66b05ebadca855e4249520a441a81157435a7a56cc4",
		.dkm_child = "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7"
			     "b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8b"
			     "b51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524aea654"
			     "5b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4",
		.dkm_child_dh = "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d3730162"
				"8190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a10394d51e1c040005"
				"2f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a0"
				"5884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d"
				"56fd74c",
		.skeyseed_rekey = "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
	};

	(void)state;
	kdf_check(CRYPTO_PRF_HMAC_SHA1, &v);
}

/* CAVP ikev2.rsp, [SHA-1] [Ni length = 64] [Nr length = 64] [g^ir length = 1024]
 * [DKM length = 1056] [Child SA DKM length = 1056]. */
static void cavp_ikev2_kdf_sha1_gir1024(void **state)
{
	static const struct kdf_vec v = {
		.ni = "3651fef5c9c35e93",
		.nr = "c09a8b90a3f04d59",
		.gir = "d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e"
		       "3ca3eb4fa2fe2a28254e289cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce6554"
		       "7ff133b3f63d1ac4175eaa695033f3cedb026a6873a36455172a8540b8a5d23a0143bed039"
		       "0ee49b168269d75fffee9fb62be965993c",
		.gir_new = "52f00ab174c25d5b7139ae5ff4e8e9eddee5992d2e36adf8a559ffd90dab1442e4fbe4"
			   "29d320c0f33552a17d1557fa41ea70e8fb916c4fa27ed52b5f8ebd8461afa78f1159"
			   "159a64055ac5f6319e29c28eae58cbc6847770f32c3fed1d04750484f854790f95e9"
			   "ec01bc5bc461f24966462e359511329305038e94deb6dd42c2",
		.spii = "8e5c3ae507221684",
		.spir = "b1f201bb155c3acd",
		.skeyseed = "cd2e8050137832245f1dbacc6e4f0a92f94d45d6",
		.dkm = "6f1b12cad3cbe097b35430356d869d54cddb0198ec859174d53ceb92dddedbe2436db69f609"
		       "7"
		       "7c58fa63bbb667f8d36920b109baae8f6c61a9ac49feda01843225d080ec5539d5881a2552"
		       "1ffb2a0a91874a9c0a27fcc2d717eb8963a9e3a89c7ab264757284c28cf8c3ca40576f4220"
		       "b052b1fb8e9ad60ba3c80557323331a8cbb89f20",
		.dkm_child = "4727dc0ef94eb326ce131cf282fb652faa638ad0ddae3786a11bcc0309876009f8c48"
			     "5de011ad962c5b1ca8a41ff81454457490 79c5686e26ffebbc342f06981f3da745e"
			     "11ca0976424d1f8caec623d59dc7186deb20a27b411d1dcb70a365440bf7de905088"
			     "b0692e8addc094e18d1939bdb67e89798ca6b239e2ccb81c2409dac0106c",
		.dkm_child_dh = "b109c21ad4c0797768c1cec9e63554681e48f224bca7f23c20c4ea7041983451e"
				"9aa1d5408656c8a975ff1b9d9a12c75ffeb64bdecb30174664cccb4e14f1c377"
				"b7f6d1525af77c7092aac3e47f917ebae8297fb5539d2008ce830823a09cc197"
				"361d4a289c72745f6ce9fefe812be5bf55b3200fbb82e41a4a40877d3fe106db"
				"909707b",
		.skeyseed_rekey = "3b03bce748c96d5e8306918d2ff89b68f0648da3",
	};

	(void)state;
	kdf_check(CRYPTO_PRF_HMAC_SHA1, &v);
}

/* The SHA2-256 IKEv2 KDF vector of NIST's ACVP test suite (usnistgov/ACVP-Server,
 * IkeV2Tests "IKEv2 SHA2-256": Ni and Nr of 2048 bits, g^ir of 224, DKM of 3072). */
static void nist_ikev2_kdf_sha256(void **state)
{
	static const struct kdf_vec v = {
		.ni = "0a58fea9c1d4fee2e74e1aad6fb02dd5f318eb127465a112be8dc3c04d5dba62eae708f9"
		      "dc1b2362afd6ba4bda3cf5000f4979fbcbadbcfda9291593829c4e905c21db0c2ee15175"
		      "ce77a8a0dadf25c7f175bc53fd91b636a9b3c50b203de9b9d6dc463dcb4048f101e26498"
		      "ceaed3afbcd931394a7e099392dfff82e5d6fa85c2e8a8ab90ad363a66795dc32798847e"
		      "405acd87988140f973058917273a6b0bafb962c75e2b1a21e79c08beeb82168bf8b4b57f"
		      "3dce867bf7862a7b8acbc21be838021913daf64340c055ed17aaf7b6e1d0ca33ae890ddb"
		      "db83f4e615aad5e3bff58c3db70bac81a0dfbabe5391fc62bca4659e22a0741e01d8d06e"
		      "67d9bb41",
		.nr = "e4fdfa68df6171d9eaff8b7b5ad31e7c6098d259f3397c9854cbefe7449b0864c1df16dd"
		      "ece8b26567560f8d59182a44c19149c2d0d72606a160021ade3d23c7c6936c91a4b6bec3"
		      "7adf38cfc84b851c68dcee06f81306f63abbefc07e231e3058c49437a557df617eac0166"
		      "3593d2a3e594699284c0a35eae6931492ccb2a43db72a600a3899205d681d2b76b1280e4"
		      "56339bb10e0c584aecfdae31c77a4c40dbcb345f782ac32835d4c220c1e97254ded6a400"
		      "75dd717b00b69c86a49e801773026536ae02d58a649827f1ba67610ee936dffd11c9d5a9"
		      "156631916a0a0046ec0ba42f56f2a18de83d5d71a985b0cc9eec2c06b3d907ca58454419"
		      "f374069d",
		.gir = "9d469de41b4739c7dd01f19aa94f17e48150ae9dbede94832142db19",
		.gir_new = "c2987b0767006c3b9aea491bfed1646a3d7194639492b8d45b23b383",
		.spii = "c8de93111750e409",
		.spir = "32d51b33508997fa",
		.skeyseed = "eec13ac67c2e072abb684ab4e7b6ce3e7f400af8b96bed48e113497ed337f8d4",
		.dkm = "bc83518f63b762874ac57947cdfae33a8d9724df0b83ee4b6df38c23fc2ad829f4d70b5a"
		       "68dd1f5a52416f09758638aedf919c09a17c5298cdb703bb75b1005cba0109739aaa4efd"
		       "2fe7534c95ad05e546e4419931270eddcab68ac1589d7fde47f5b9e8d5b614cb24ec3caf"
		       "515497a9e99ee6f1b318ff153b539ef071dcaff9b41945dcb780700d69e5dc888a91de19"
		       "5c52825badfd0ab4c33cec71ab5c2b4badefe5455455ce5d8ae91721a2091bcccc1514e6"
		       "9482c9c8da1d9f0f187eedda916393570a8c0a8dfabc26d8ed31e8ea47662515972a22d1"
		       "1d692bc1fac6395aecd82a01ab78daafcd6f3070b1201f158a19331b5d21ceee66fccd2e"
		       "a37bc07648b9539a52dbf797af53e31a0e8706dd86cf5081ebabd095f281d23c222dd3bc"
		       "5abf06869017ca8f751cafcc85abea6ba88c139d1f32a12f7f486cf57eae5d85551b97f3"
		       "963616d8f597c70efa98c1e1fa369fb77a80b1ec5fe533890672c4551172eab1b7fd68ad"
		       "08c4d4c69f2a867302065ca730aa6915bc2cfb6d93820977",
		.dkm_child =
			"c725012285d56e53244a9baaaf95abfca543708d333a3f3a86ba660e00edd4d489bcd631"
			"819fda0413382edd9f53d1ed718e056c2ad91d38de90f06cd434de70141d051c021e7ddd"
			"6e4137946b4770dca59a4decabdd866852eb557fdd995646613ff2923f5f23aa58c8fbd5"
			"ad52cf2eac9bda97faad5596695f4a747a0f1cc6a1f78b2181138fb19ac24574d2e6b3a4"
			"0d6e688abb919a27d793b76568ec66bd099f6f476b705c1472d774a1516a11311b887688"
			"f36649e24227640ea8d8666b9f452217e7103b6f0a92b6adb8fbda650ba58d6ac13ac6f6"
			"b6361a5d1c44f1e9f22196c96295115c5d01a120e7265962d20353a049286908da776c21"
			"65f706a16f43d85fcd319f89c4386340bcb8ed10df38345cb68af719abaf997e9789a5f1"
			"9a392dcecd78168ba282f0b30555c7a47031a3156d12d7158aa41b863b8394d30fec6312"
			"0e89cbc5750eed7786f7d5961b1f2e6faca641ed776d2211bee757b68b77f94056172553"
			"715da9fbd1c9a8728f28a2f3c9714a4917490132562484cd",
		.dkm_child_dh =
			"140a1f2a3c94318ece6edfa8c63f37d8d45982de8b6cbfe34011150db0253e34de3796d4"
			"aa579954a0bbf234794eb6e7ece2a8f91100f5507df4ee8e66c7813d4c0ff64d484a3494"
			"c54b0d9c605ea24234a49a010ce5c352feb9e1060c8c787229466296cdc9d11bb9d221ed"
			"2bb39544572464254ec02a0fbe777b07402c775eb6d3e53cd16214c707f851942cc7da92"
			"a811b6c5c82f29d9fc3751b0ebff9898fb14372402a6989ffb9cc32dfe7e2cea32fd882e"
			"09804d7fea34ce3b5eb6f303e095c48a452b0a3eccada81af22195ebbaad289aeabdab07"
			"4c94e751496bde39d868ebf1d693f36d1c3c672bbb59c9f77aeb68de57d77da231b7f13d"
			"6d277f600c3d3086c4de7b3a59127f4cb9c118935574f30e1b7c88b52c8c3531fdbd38ee"
			"3d14c69e81803ced6e7501fa0180f6d110b648272002dc1ad5bf09dc83188011da1d4863"
			"2e0d2453c8abdd8e9fd32a576aeb9ddfb0a024f674441c20a950d9bd8cd7b30933cc0d8e"
			"87b55e8aa9d913579b410417b3acc13c14bf73c457327873",
		.skeyseed_rekey =
			"05f796c8df322a7e33283ae5fa2f376d8d5efa0ac3745fc548e430031424c121",
	};

	(void)state;
	kdf_check(CRYPTO_PRF_HMAC_SHA2_256, &v);
}

static void prf_plus_limits(void **state)
{
	uint8_t out[32 * 256], key[32] = { 1 };
	struct crypto_iov s = { "x", 1 };

	(void)state;
	assert_int_equal(crypto_prf_plus(CRYPTO_PRF_HMAC_SHA2_256, key, 32, &s, 1, out, 32 * 255),
			 0);
	assert_int_equal(
		crypto_prf_plus(CRYPTO_PRF_HMAC_SHA2_256, key, 32, &s, 1, out, 32 * 255 + 1),
		SP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4868_2_7_1_prf_hmac_sha256),
		cmocka_unit_test(prf_iov_equals_concatenation),
		cmocka_unit_test(cavp_ikev2_kdf_sha1_gir256),
		cmocka_unit_test(cavp_ikev2_kdf_sha1_gir1024),
		cmocka_unit_test(nist_ikev2_kdf_sha256),
		cmocka_unit_test(prf_plus_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
