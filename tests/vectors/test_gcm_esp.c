/*
 * draft-mcgrew-gcm-test-01 section 4 (RFC 4106 and RFC 4543 carry no packets of their
 * own): every AES-GCM-ESP and AES-GMAC-ESP case through crypto/aead.h, the 8- and 12-byte
 * ICVs of RFC 4106 as the leading bytes of the same tags, and the complete ESP packets
 * through ipsec/esp.h: SPI, low sequence number, IV, ciphertext and ICV where the draft
 * puts them, with the extended sequence number's high half inferred by the receiver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/aead.h"
#include "ipsec/esp.h"
#include "proto/ipv4.h"
#include "gcm_vectors.h"
#include "vec_hex.h"

struct dec {
	uint8_t keymat[36], nonce[12], pt[128], aad[128], ct[160];
	size_t keymat_len, pt_len, aad_len, ct_len;
};

static void decode(const struct gcm_vec *v, struct dec *d)
{
	size_t keylen = vec_hex_or_die(v->key, d->keymat, 32);

	assert_int_equal(vec_hex_or_die(v->nonce, d->nonce, sizeof(d->nonce)), 12);
	/* RFC 4106 8.1: keying material = key || salt; the salt is the nonce's first 4. */
	memcpy(d->keymat + keylen, d->nonce, 4);
	d->keymat_len = keylen + 4;
	d->pt_len = vec_hex_or_die(v->plaintext, d->pt, sizeof(d->pt));
	d->aad_len = vec_hex_or_die(v->aad, d->aad, sizeof(d->aad));
	d->ct_len = vec_hex_or_die(v->ctext_tag, d->ct, sizeof(d->ct));
	assert_int_equal(d->ct_len, d->pt_len + 16);
}

static void seal_and_open(void **state)
{
	(void)state;
	for (size_t i = 0; i < SP_NELEM(gcm_vecs); i++) {
		const struct gcm_vec *v = &gcm_vecs[i];
		enum crypto_aead_alg alg = v->gmac ? CRYPTO_AEAD_AES_GMAC : CRYPTO_AEAD_AES_GCM;
		struct crypto_aead *a;
		uint8_t buf[128], icv[16];
		struct dec d;

		decode(v, &d);
		assert_int_equal(crypto_aead_new(&a, alg, d.keymat, d.keymat_len, 16, CRYPTO_BOTH),
				 0);
		memcpy(buf, d.pt, d.pt_len);
		assert_int_equal(
			crypto_aead_seal(a, d.nonce + 4, d.aad, d.aad_len, buf, d.pt_len, icv), 0);
		assert_memory_equal(buf, d.ct, d.pt_len);
		assert_memory_equal(icv, d.ct + d.pt_len, 16);
		assert_int_equal(
			crypto_aead_open(a, d.nonce + 4, d.aad, d.aad_len, buf, d.pt_len, icv), 0);
		if (d.pt_len > 0)
			assert_memory_equal(buf, d.pt, d.pt_len);
		/* A flipped AAD bit fails the ICV. */
		d.aad[d.aad_len - 1] ^= 0x80;
		memcpy(buf, d.ct, d.pt_len);
		assert_int_equal(
			crypto_aead_open(a, d.nonce + 4, d.aad, d.aad_len, buf, d.pt_len, icv),
			SP_EAUTH);
		crypto_aead_free(a);
	}
}

/* RFC 4106 6: the 8- and 12-byte ICVs are the leading bytes of the 16-byte tag. */
static void short_icvs(void **state)
{
	static const size_t lens[] = { 8, 12 };

	(void)state;
	for (size_t i = 0; i < SP_NELEM(gcm_vecs); i++) {
		const struct gcm_vec *v = &gcm_vecs[i];
		struct dec d;

		if (v->gmac)
			continue;
		decode(v, &d);
		for (size_t j = 0; j < SP_NELEM(lens); j++) {
			struct crypto_aead *a;
			uint8_t buf[128], icv[16];

			assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, d.keymat,
							 d.keymat_len, lens[j], CRYPTO_BOTH),
					 0);
			memcpy(buf, d.pt, d.pt_len);
			assert_int_equal(crypto_aead_seal(a, d.nonce + 4, d.aad, d.aad_len, buf,
							  d.pt_len, icv),
					 0);
			assert_memory_equal(buf, d.ct, d.pt_len);
			assert_memory_equal(icv, d.ct + d.pt_len, lens[j]);
			assert_int_equal(crypto_aead_open(a, d.nonce + 4, d.aad, d.aad_len, buf,
							  d.pt_len, d.ct + d.pt_len),
					 0);
			crypto_aead_free(a);
		}
	}
}

/* GMAC authenticates without encrypting: the streaming form with AAD in pieces and the
 * payload through update() gives the draft's tag (page 19). */
static void gmac_streaming(void **state)
{
	const struct gcm_vec *v = NULL;
	struct crypto_aead *a;
	uint8_t icv[16];
	struct dec d;

	(void)state;
	for (size_t i = 0; i < SP_NELEM(gcm_vecs); i++)
		if (gcm_vecs[i].gmac)
			v = &gcm_vecs[i];
	assert_non_null(v);
	decode(v, &d);
	assert_int_equal(
		crypto_aead_new(&a, CRYPTO_AEAD_AES_GMAC, d.keymat, d.keymat_len, 16, CRYPTO_ENC),
		0);
	assert_int_equal(crypto_aead_begin(a, CRYPTO_ENC, d.nonce + 4), 0);
	assert_int_equal(crypto_aead_aad(a, d.aad, 8), 0);
	assert_int_equal(crypto_aead_aad(a, d.aad + 8, 8), 0);
	assert_int_equal(crypto_aead_update(a, d.aad + 16, d.aad_len - 16), 0);
	assert_int_equal(crypto_aead_seal_final(a, icv), 0);
	assert_memory_equal(icv, d.ct, 16);
	/* Only the encrypt direction was prepared. */
	assert_int_equal(crypto_aead_begin(a, CRYPTO_DEC, d.nonce + 4), SP_ESTATE);
	crypto_aead_free(a);
}

static void esp_packets(void **state)
{
	int done = 0;

	(void)state;
	for (size_t i = 0; i < SP_NELEM(gcm_vecs); i++) {
		const struct gcm_vec *v = &gcm_vecs[i];
		uint8_t spi[4], seqb[8], packet[200], buf[200];
		size_t seqlen, plen, body;
		struct sa *out, *in;
		uint64_t seq = 0, got;
		struct dec d;
		struct sa_params sp = {
			.proto = IPV4_PROTO_ESP, .mode = SA_MODE_TUNNEL, .src = 1, .dst = 2
		};

		decode(v, &d);
		vec_hex_or_die(v->spi, spi, sizeof(spi));
		seqlen = vec_hex_or_die(v->seq, seqb, sizeof(seqb));
		for (size_t j = 0; j < seqlen; j++)
			seq = seq << 8 | seqb[j];
		plen = vec_hex_or_die(v->packet, packet, sizeof(packet));
		sp.spi = sp_load_be32(spi);
		if (sp.spi < 256)
			continue; /* page 10 uses SPI 0, which RFC 4303 2.1 keeps off the wire */
		sp.enc = v->gmac ? SA_ENC_NULL_AUTH_AES_GMAC : SA_ENC_AES_GCM_16;
		sp.enc_key = d.keymat;
		sp.enc_key_len = d.keymat_len;
		sp.esn = seqlen == 8;
		sp.dir = SA_DIR_OUT;
		assert_int_equal(sa_new(&out, &sp, 1, NULL), 0);
		sp.dir = SA_DIR_IN;
		sp.replay_window = 64;
		sp.seq = seq - 1;
		assert_int_equal(sa_new(&in, &sp, 1, NULL), 0);
		/* Sender: header and IV room, the plaintext (or GMAC's authenticated data
		 * after SPI, sequence number and IV), ICV room. */
		body = v->gmac ? d.aad_len - 16 : d.pt_len;
		memcpy(buf + 16, v->gmac ? d.aad + 16 : d.pt, body);
		assert_int_equal(esp_seal(out, buf, 16 + body, seq, d.nonce + 4, NULL), IPSEC_OK);
		assert_int_equal(16 + body + 16, plen);
		assert_memory_equal(buf, packet, plen);
		/* Receiver: only the low half travels; the window infers the rest. */
		assert_int_equal(replay_check(&in->win, sp_load_be32(packet + 4), in->esn, &got),
				 0);
		assert_int_equal(got, seq);
		memcpy(buf, packet, plen);
		assert_int_equal(esp_open(in, buf, plen, got), IPSEC_OK);
		assert_memory_equal(buf + 16, v->gmac ? d.aad + 16 : d.pt, body);
		buf[plen - 1] ^= 1;
		assert_int_equal(esp_open(in, buf, plen, got), IPSEC_DROP_ICV);
		sa_free(out);
		sa_free(in);
		done++;
	}
	assert_int_equal(done, (int)SP_NELEM(gcm_vecs) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_and_open),
		cmocka_unit_test(short_icvs),
		cmocka_unit_test(gmac_streaming),
		cmocka_unit_test(esp_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
