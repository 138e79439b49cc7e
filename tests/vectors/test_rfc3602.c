/*
 * RFC 3602 section 4: AES-CBC test cases 1-4 (the cipher alone) and 5-8 (complete ESP
 * packets, encryption without integrity; 5 and 6 transport mode, 7 and 8 tunnel mode):
 * first through crypto/cipher.h (the payload with its default padding, pad length and
 * next header encrypts to the RFC's bytes), then through ipsec/esp.h, which must build
 * the RFC's packets from the original ones and recover the originals from them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/cipher.h"
#include "base/addr.h"
#include "ipsec/esp.h"
#include "proto/ipv4.h"
#include "vec_hex.h"

static const struct {
	int n;
	const char *key, *iv, *pt_str, *pt_hex, *ct;
} cbc[] = {
	{ 1, "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
	  "Single block msg", NULL, "e353779c1079aeb82708942dbe77181a" },
	{ 2, "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58", NULL,
	  "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f",
	  "d296cd94c2cccf8a3a863028b5e1dc0a 7586602d253cfff91b8266bea6d61ab1" },
	{ 3, "6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
	  "This is a 48-byte message (exactly 3 AES blocks)", NULL,
	  "d0a02b3836451753d493665d33f0e886 2dea54cdb293abc7506939276772f8d5"
	  "021c19216bad525c8579695d83ba2684" },
	{ 4, "56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9", NULL,
	  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
	  "c30e32ffedc0774e6aff6af0869f71aa 0f3af07a9a31a9c684db207eb0ef8e4e"
	  "35907aa632c3ffdf868bb7b29d3d46ad 83ce9f9a102ee99d49a53e87f4c3da55" },
};

static void cases_1_to_4(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(cbc); i++) {
		uint8_t key[16], iv[16], pt[64], ct[64], buf[64];
		size_t n, ctlen;
		struct crypto_cipher *c;

		vec_hex_or_die(cbc[i].key, key, sizeof(key));
		vec_hex_or_die(cbc[i].iv, iv, sizeof(iv));
		if (cbc[i].pt_str)
			memcpy(pt, cbc[i].pt_str, n = strlen(cbc[i].pt_str));
		else
			n = vec_hex_or_die(cbc[i].pt_hex, pt, sizeof(pt));
		ctlen = vec_hex_or_die(cbc[i].ct, ct, sizeof(ct));
		assert_int_equal(n, ctlen);
		assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_AES_CBC, key, 16, CRYPTO_BOTH),
				 0);
		assert_int_equal(crypto_cipher_iv_len(c), 16);
		memcpy(buf, pt, n);
		assert_int_equal(crypto_cipher_encrypt(c, iv, buf, n), 0);
		assert_memory_equal(buf, ct, n);
		assert_int_equal(crypto_cipher_decrypt(c, iv, buf, n), 0);
		assert_memory_equal(buf, pt, n);
		/* Whole blocks only: the caller pads. */
		assert_int_equal(crypto_cipher_encrypt(c, iv, buf, n - 1), SP_EINVAL);
		crypto_cipher_free(c);
	}
}

/* Cases 5-8: the ESP payload data and the encrypted data as the RFC prints them. */
static const struct {
	int n;
	const char *key, *iv, *payload, *trailer, *encrypted;
} esp[] = {
	{ 5, "90d382b4 10eeba7a d938c46c ec1a82bf", "e96e8c08 ab465763 fd098d45 dd3ff893",
	  "08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617"
	  "18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637",
	  "01020304 05060708 090a0b0c 0d0e 0e 01",
	  "f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856"
	  "a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a"
	  "a269add0 47ad2d59 13ac19b7 cfbad4a6" },
	{ 6, "90d382b4 10eeba7a d938c46c ec1a82bf", "69d08df7 d203329d b093fc49 24e5bd80",
	  "0800b5e8 a80a0500 a69c083d 0b660e00 77777777 77777777 77777777", "0102 02 01",
	  "f5199588 1ec4e0c4 488987ce 742e8109 689bb379 d2d750c0 d915dca3 46a89f75" },
	{ 7, "01234567 89abcdef 01234567 89abcdef", "f4e76524 4f6407ad f13dc138 0f673f37",
	  "45000054 09040000 4001f988 c0a87b03 c0a87bc8 08009f76 a90a0100 b49c083d"
	  "02a20400 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f 20212223"
	  "24252627 28292a2b 2c2d2e2f 30313233 34353637",
	  "01020304 05060708 090a 0a 04",
	  "773b5241 a4c44922 5e4f3ce5 ed611b0c 237ca96c f74a9301 3c1b0ea1 a0cf70f8"
	  "e4ecaec7 8ac53aad 7a0f022b 859243c6 47752e94 a859352b 8a4d4d2d ecd136e5"
	  "c177f132 ad3fbfb2 201ac990 4c74ee0a 109e0ca1 e4dfe9d5 a100b842 f1c22f0d" },
	{ 8, "01234567 89abcdef 01234567 89abcdef", "85d47224 b5f3dd5d 2101d4ea 8dffab22",
	  "45000044 090c0000 4001f990 c0a87b03 c0a87bc8 0800d63c aa0a0200 c69c083d"
	  "a3de0300 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff"
	  "ffffffff",
	  "01020304 05060708 090a 0a 04",
	  "15b92683 819596a8 047232cc 00f7048f e45318e1 1f8a0f62 ede3c3fc 61203bb5"
	  "0f980a08 c9843fd3 a1b06d5c 07ff9639 b7eb7dfb 3512e5de 435e7207 ed971ef3"
	  "d2726d9b 5ef6affc 6d17a0de cbb13892" },
};

static void cases_5_to_8_payloads(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(esp); i++) {
		uint8_t key[16], iv[16], pt[128], ct[128];
		size_t n, tl, ctlen;
		struct crypto_cipher *c;

		vec_hex_or_die(esp[i].key, key, sizeof(key));
		vec_hex_or_die(esp[i].iv, iv, sizeof(iv));
		n = vec_hex_or_die(esp[i].payload, pt, sizeof(pt));
		tl = vec_hex_or_die(esp[i].trailer, pt + n, sizeof(pt) - n);
		ctlen = vec_hex_or_die(esp[i].encrypted, ct, sizeof(ct));
		assert_int_equal(n + tl, ctlen);
		assert_int_equal(crypto_cipher_new(&c, CRYPTO_CIPHER_AES_CBC, key, 16, CRYPTO_BOTH),
				 0);
		assert_int_equal(crypto_cipher_encrypt(c, iv, pt, ctlen), 0);
		assert_memory_equal(pt, ct, ctlen);
		crypto_cipher_free(c);
	}
}

/* A random source that returns the RFC's IV. */
struct fixed_rng {
	struct sp_rng rng;
	uint8_t iv[16];
};

static void fixed_fill(struct sp_rng *rng, void *buf, size_t len)
{
	assert_int_equal(len, 16);
	memcpy(buf, ((struct fixed_rng *)rng)->iv, len);
}

/* The complete packets: SPI, sequence number, addresses and outer headers as printed. */
static const struct {
	int n;
	uint32_t spi, seq;
	bool tunnel;
	const char *orig_ip, *outer_ip; /* outer_ip NULL: only the ESP part is compared */
	uint16_t outer_id;
} pkts[] = {
	{ 5, 0x4321, 1, false, "45000054 08f20000 4001f9fe c0a87b03 c0a87b64",
	  "4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64", 0 },
	{ 6, 0x4321, 8, false, NULL, NULL, 0 },
	{ 7, 0x8765, 2, true, NULL, "4500008c 09050000 4032f91e c0a87b03 c0a87bc8", 0x0905 },
	{ 8, 0x8765, 5, true, NULL, NULL, 0x090d },
};

static void cases_5_to_8_packets(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(pkts); i++) {
		uint8_t key[16], inner[128], ct[128], esp_want[160], outer[20], buf[PKT_BUFSIZE];
		size_t ilen, ctlen, elen;
		struct sa_params sp = { .spi = pkts[i].spi,
					.proto = IPV4_PROTO_ESP,
					.mode = pkts[i].tunnel ? SA_MODE_TUNNEL : SA_MODE_TRANSPORT,
					.src = SP_IP4(192, 168, 123, 3),
					.enc = SA_ENC_AES_CBC,
					.enc_key = key,
					.enc_key_len = 16,
					.seq = pkts[i].seq - 1 };
		struct fixed_rng rng = { .rng.fill = fixed_fill };
		struct sa *out, *in;
		struct pkt p;
		uint64_t seq;
		size_t hl;

		assert_int_equal(esp[i].n, pkts[i].n);
		vec_hex_or_die(esp[i].key, key, sizeof(key));
		vec_hex_or_die(esp[i].iv, rng.iv, sizeof(rng.iv));
		ctlen = vec_hex_or_die(esp[i].encrypted, ct, sizeof(ct));
		/* The original packet: the payload is the whole inner packet in tunnel mode,
		 * or follows the original header in transport mode (cases 5 and 6 ping
		 * 192.168.123.100 from .3; case 6's header is rebuilt from its payload). */
		if (pkts[i].tunnel) {
			ilen = vec_hex_or_die(esp[i].payload, inner, sizeof(inner));
			hl = 0;
		} else {
			const char *h = pkts[i].orig_ip
						? pkts[i].orig_ip
						: "4500003c 08fe0000 4001fa12 c0a87b03 c0a87b64";

			hl = vec_hex_or_die(h, inner, sizeof(inner));
			ilen = hl + vec_hex_or_die(esp[i].payload, inner + hl, sizeof(inner) - hl);
			sp_store_be16(inner + IPV4_OFF_LEN, (uint16_t)ilen);
			ipv4_set_csum(inner, hl);
		}
		sp.dst = pkts[i].tunnel ? SP_IP4(192, 168, 123, 200) : SP_IP4(192, 168, 123, 100);
		sp.dir = SA_DIR_OUT;
		assert_int_equal(sa_new(&out, &sp, 1, NULL), 0);
		sp.dir = SA_DIR_IN;
		sp.replay_window = 64;
		sp.seq = 0;
		assert_int_equal(sa_new(&in, &sp, 1, NULL), 0);

		pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
		assert_int_equal(pkt_append(&p, inner, (uint32_t)ilen), 0);
		assert_int_equal(esp_output(out, &p, &rng.rng, pkts[i].outer_id, NULL), IPSEC_OK);
		/* SPI, sequence number, IV, then the RFC's encrypted data; no ICV. */
		elen = p.len - (pkts[i].tunnel ? 20 : hl);
		assert_int_equal(elen, 8 + 16 + ctlen);
		sp_store_be32(esp_want, pkts[i].spi);
		sp_store_be32(esp_want + 4, pkts[i].seq);
		memcpy(esp_want + 8, rng.iv, 16);
		memcpy(esp_want + 24, ct, ctlen);
		assert_memory_equal(pkt_data(&p) + p.len - elen, esp_want, elen);
		if (pkts[i].outer_ip) {
			vec_hex_or_die(pkts[i].outer_ip, outer, sizeof(outer));
			assert_memory_equal(pkt_data(&p), outer, 20);
		}
		/* And back: the receiver recovers the original packet exactly. */
		assert_int_equal(esp_input(in, &p, 20, &seq, NULL), IPSEC_OK);
		assert_int_equal(seq, pkts[i].seq);
		if (pkts[i].tunnel) {
			assert_int_equal(p.len, ilen);
			assert_memory_equal(pkt_data(&p), inner, ilen);
		} else {
			assert_int_equal(p.len, ilen);
			assert_memory_equal(pkt_data(&p), inner, ilen);
		}
		sa_free(out);
		sa_free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cases_1_to_4),
		cmocka_unit_test(cases_5_to_8_payloads),
		cmocka_unit_test(cases_5_to_8_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
