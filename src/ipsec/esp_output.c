/* ESP outbound processing (RFC 4303 3.1-3.3) and the cryptographic core shared with input. */
#include "ipsec/esp.h"
#include "ipsec/xform.h"
#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/hmac.h"
#include "proto/esp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <string.h>

static size_t pad_len(const struct sa *sa, size_t len)
{
	/* RFC 4303 2.4: payload + pad + 2 fills whole cipher blocks, 4-byte aligned. */
	return (sa->align - (len + ESP_TRAILER_MIN) % sa->align) % sa->align;
}

size_t esp_overhead(const struct sa *sa, size_t len)
{
	size_t n = ESP_HDR_LEN + sa->iv_len + pad_len(sa, len) + ESP_TRAILER_MIN + sa->icv_len;

	if (sa->mode == SA_MODE_TUNNEL)
		n += IPV4_HDR_MIN;
	if (sa->encap_sport != 0)
		n += UDP_HDR_LEN;
	return n;
}

/* AAD of RFC 4106 5 / RFC 4543 3.3: SPI || [seq high] || seq low, 8 or 12 bytes. */
static size_t make_aad(const struct sa *sa, const uint8_t *esp, uint64_t seq, uint8_t *aad)
{
	memcpy(aad, esp, 4);
	if (!sa->esn) {
		memcpy(aad + 4, esp + 4, 4);
		return 8;
	}
	sp_store_be32(aad + 4, (uint32_t)(seq >> 32));
	memcpy(aad + 8, esp + 4, 4);
	return 12;
}

/* RFC 4303 2.2.1, 3.3.2.1: with ESN the high half is appended to the ICV input. */
static void hmac_esp(const struct sa *sa, struct crypto_hmac *h, const uint8_t *esp, size_t len,
		     uint64_t seq)
{
	crypto_hmac_begin(h);
	crypto_hmac_update(h, esp, len);
	if (sa->esn) {
		uint8_t hi[4];

		sp_store_be32(hi, (uint32_t)(seq >> 32));
		crypto_hmac_update(h, hi, sizeof(hi));
	}
}

/* SPI, sequence number and IV of the message at esp: what sealing then reads. */
static void seal_header(const struct sa *sa, uint8_t *esp, uint64_t seq, const uint8_t *iv,
			struct sp_rng *rng)
{
	uint8_t *ivp = esp + ESP_HDR_LEN;

	sp_store_be32(esp, sa->spi);
	sp_store_be32(esp + 4, (uint32_t)seq);
	if (sa->xf.aead != NULL) {
		/* RFC 4106 3.1: the IV must not repeat under a key; the 64-bit sequence
		 * number never does within an SA, and a static key's IVs carry the count of
		 * starts in their high half (sa_params.iv_epoch). */
		if (iv != NULL)
			memcpy(ivp, iv, CRYPTO_AEAD_IV_LEN);
		else if (sa->iv_epoch != 0)
			sp_store_be64(ivp, (uint64_t)sa->iv_epoch << 32 | (uint32_t)seq);
		else
			sp_store_be64(ivp, seq);
	} else if (sa->iv_len > 0) {
		/* RFC 3602 3: the CBC IV must be unpredictable. */
		if (iv != NULL)
			memcpy(ivp, iv, sa->iv_len);
		else
			sp_rng_bytes(rng, ivp, sa->iv_len);
	}
}

enum ipsec_ctr esp_seal_lane(struct sa *sa, unsigned lane, uint8_t *esp, size_t n, uint64_t seq)
{
	const struct sa_xf *x = sa_xf(sa, lane);
	size_t hdr = ESP_HDR_LEN + sa->iv_len;
	uint8_t *ivp = esp + ESP_HDR_LEN, *icv = esp + n, aad[12];

	if (x->aead != NULL) {
		size_t alen = make_aad(sa, esp, seq, aad);

		if (crypto_aead_begin(x->aead, CRYPTO_ENC, ivp) != 0 ||
		    crypto_aead_aad(x->aead, aad, alen) != 0)
			return IPSEC_DROP_CRYPTO;
		/* GMAC (RFC 4543 3.3): the IV and the payload are AAD too, in order. */
		if (sa->enc == SA_ENC_NULL_AUTH_AES_GMAC &&
		    crypto_aead_aad(x->aead, ivp, CRYPTO_AEAD_IV_LEN) != 0)
			return IPSEC_DROP_CRYPTO;
		if (crypto_aead_update(x->aead, esp + hdr, n - hdr) != 0 ||
		    crypto_aead_seal_final(x->aead, icv) != 0)
			return IPSEC_DROP_CRYPTO;
		return IPSEC_OK;
	}
	if (crypto_cipher_encrypt(x->cipher, ivp, esp + hdr, n - hdr) != 0)
		return IPSEC_DROP_CRYPTO;
	if (x->hmac != NULL) {
		/* RFC 4303 3.3.2: encrypt first, then the ICV over header, IV and ciphertext. */
		hmac_esp(sa, x->hmac, esp, n, seq);
		crypto_hmac_final(x->hmac, icv);
	}
	return IPSEC_OK;
}

enum ipsec_ctr esp_seal(struct sa *sa, uint8_t *esp, size_t n, uint64_t seq, const uint8_t *iv,
			struct sp_rng *rng)
{
	seal_header(sa, esp, seq, iv, rng);
	return esp_seal_lane(sa, 0, esp, n, seq);
}

enum ipsec_ctr esp_open_lane(struct sa *sa, unsigned lane, uint8_t *esp, size_t n, uint64_t seq)
{
	const struct sa_xf *x = sa_xf(sa, lane);
	size_t hdr = ESP_HDR_LEN + sa->iv_len, clen;
	uint8_t *ivp = esp + ESP_HDR_LEN, *icv, aad[12];

	if (n < hdr + sa->icv_len + ESP_TRAILER_MIN)
		return IPSEC_DROP_MALFORMED;
	clen = n - hdr - sa->icv_len;
	icv = esp + hdr + clen;
	if (x->aead != NULL) {
		size_t alen = make_aad(sa, esp, seq, aad);

		if (crypto_aead_begin(x->aead, CRYPTO_DEC, ivp) != 0 ||
		    crypto_aead_aad(x->aead, aad, alen) != 0 ||
		    (sa->enc == SA_ENC_NULL_AUTH_AES_GMAC &&
		     crypto_aead_aad(x->aead, ivp, CRYPTO_AEAD_IV_LEN) != 0) ||
		    crypto_aead_update(x->aead, esp + hdr, clen) != 0)
			return IPSEC_DROP_CRYPTO;
		return crypto_aead_open_final(x->aead, icv) == 0 ? IPSEC_OK : IPSEC_DROP_ICV;
	}
	if (clen % sa->align != 0)
		return IPSEC_DROP_MALFORMED; /* RFC 3602 2.4: whole blocks */
	if (x->hmac != NULL) {
		/* RFC 4303 3.4.4.1: integrity before decryption. */
		hmac_esp(sa, x->hmac, esp, hdr + clen, seq);
		if (crypto_hmac_verify(x->hmac, icv) != 0)
			return IPSEC_DROP_ICV;
	}
	if (crypto_cipher_decrypt(x->cipher, ivp, esp + hdr, clen) != 0)
		return IPSEC_DROP_CRYPTO;
	return IPSEC_OK;
}

enum ipsec_ctr esp_open(struct sa *sa, uint8_t *esp, size_t n, uint64_t seq)
{
	return esp_open_lane(sa, 0, esp, n, seq);
}

enum ipsec_ctr esp_output(struct sa *sa, struct pkt *p, struct sp_rng *rng, uint16_t ip_id,
			  struct esp_job *defer)
{
	uint8_t hdr[IPV4_HDR_MAX], *ip = pkt_data(p), *esp, *t, nh;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, plen, pad, n;
	bool tunnel = sa->mode == SA_MODE_TUNNEL, encap = sa->encap_sport != 0;
	uint16_t frag = sp_load_be16(ip + IPV4_OFF_FRAG);
	uint8_t tos = ip[IPV4_OFF_TOS], proto;
	uint64_t seq;

	/* RFC 4303 3.3.3: without ESN the counter must not cycle; rekey first. */
	if (sa->seq == (sa->esn ? UINT64_MAX : UINT32_MAX))
		return IPSEC_DROP_SEQ_OVERFLOW;
	if (!tunnel && (frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0)
		return IPSEC_DROP_FRAGMENT; /* transport mode protects whole datagrams */
	plen = tunnel ? p->len : p->len - hl;
	pad = pad_len(sa, plen);
	if (pkt_headroom(p) < (size_t)ESP_HDR_LEN + sa->iv_len + (encap ? UDP_HDR_LEN : 0) +
				      (tunnel ? IPV4_HDR_MIN : 0) ||
	    pkt_tailroom(p) < pad + ESP_TRAILER_MIN + sa->icv_len)
		return IPSEC_DROP_NO_SPACE;
	if (tunnel) {
		nh = IPV4_PROTO_IPIP;
	} else {
		nh = ip[IPV4_OFF_PROTO];
		/* 001 step 3(iii): the checksum as the receiver will see it after NAT. */
		if (xform_asif_out(sa, ip, p->len) != 0)
			return IPSEC_DROP_MALFORMED;
		memcpy(hdr, ip, hl);
		if (pkt_pull(p, (uint32_t)hl) == NULL)
			return IPSEC_DROP_MALFORMED;
	}
	/* Trailer (RFC 4303 2.4, 2.5, 2.6): 1, 2, 3, ... then pad length and next header. */
	if ((t = pkt_put(p, (uint32_t)(pad + ESP_TRAILER_MIN))) == NULL)
		return IPSEC_DROP_NO_SPACE;
	for (size_t i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;
	if ((esp = pkt_push(p, ESP_HDR_LEN + sa->iv_len)) == NULL)
		return IPSEC_DROP_NO_SPACE;
	n = p->len;
	if (pkt_put(p, sa->icv_len) == NULL)
		return IPSEC_DROP_NO_SPACE;
	seq = sa->seq + 1;
	if (defer != NULL) {
		/* Sealed later on a crypto lane: the header and IV now, in order. */
		seal_header(sa, esp, seq, NULL, rng);
		*defer = (struct esp_job){
			.sa = sa, .p = p, .esp = esp, .n = (uint32_t)n, .seq = seq
		};
	} else {
		enum ipsec_ctr r = esp_seal(sa, esp, n, seq, NULL, rng);

		if (r != IPSEC_OK)
			return r;
	}
	sa->seq = seq;
	if (encap) {
		/* RFC 3948 2.1: source and destination port, checksum zero. */
		uint8_t *u = pkt_push(p, UDP_HDR_LEN);

		if (u == NULL)
			return IPSEC_DROP_NO_SPACE;
		sp_store_be16(u + UDP_OFF_SPORT, sa->encap_sport);
		sp_store_be16(u + UDP_OFF_DPORT, sa->encap_dport);
		sp_store_be16(u + UDP_OFF_LEN, (uint16_t)p->len);
		sp_store_be16(u + UDP_OFF_CSUM, 0);
	}
	proto = encap ? IPV4_PROTO_UDP : IPV4_PROTO_ESP;
	if ((tunnel ? xform_tunnel_push(sa, p, proto, tos, frag, ip_id)
		    : xform_transport_push(p, hdr, hl, proto)) != 0)
		return IPSEC_DROP_NO_SPACE;
	return IPSEC_OK;
}
