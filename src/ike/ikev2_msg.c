/*
 * IKEv2 messages on the wire: building (header, payload chain, SK payload), the SK
 * payload's protection (RFC 7296 3.14 with AES-CBC + HMAC-SHA2-256-128, RFC 5282 with
 * AES-GCM-16), sending with the non-ESP marker on the NAT-T port (RFC 3948 2.2), and the
 * request/response bookkeeping of 2.1 and 2.3: retransmission with exponential back-off,
 * cached responses for retransmitted requests.
 */
#include "ike/ike_priv.h"

#include "crypto/crypto.h"
#include "proto/natt.h"

#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/hmac.h"

#include <stdlib.h>
#include <string.h>

#define IKE_BUILD_MAX (16 * 1024) /* largest message spinat builds */

/* Protect an outgoing SK or SKF payload: ct (len bytes, padded) is encrypted in place, the
 * ICV written; msg..ct is the header and everything before the ciphertext. */
int ike_sk_seal(struct ike_keys *k, int dir, uint8_t *msg, size_t iv_off, uint8_t *ct, size_t len,
		uint8_t *icv)
{
	int r;

	if (k->encr == IKEV2_ENCR_AES_GCM_16)
		/* RFC 5282 5.1: AAD is the IKE header through the SK payload header. */
		return crypto_aead_seal(k->aead[dir], msg + iv_off, msg, iv_off, ct, len, icv);
	if ((r = crypto_cipher_encrypt(k->cbc[dir], msg + iv_off, ct, len)) != 0)
		return r;
	/* 3.14: the ICV covers the message from the header to the pad length. */
	crypto_hmac(k->mac[dir], msg, (size_t)(icv - msg), icv);
	return 0;
}

int ike_sk_open(struct ike_keys *k, int dir, uint8_t *msg, size_t iv_off, uint8_t *ct, size_t len,
		const uint8_t *icv)
{
	int r;

	if (k->encr == IKEV2_ENCR_AES_GCM_16)
		return crypto_aead_open(k->aead[dir], msg + iv_off, msg, iv_off, ct, len, icv);
	/* Integrity first (3.14), then decryption. */
	crypto_hmac_begin(k->mac[dir]);
	crypto_hmac_update(k->mac[dir], msg, (size_t)(icv - msg));
	if ((r = crypto_hmac_verify(k->mac[dir], icv)) != 0)
		return r;
	if (len % 16 != 0)
		return SP_EMALFORMED;
	return crypto_cipher_decrypt(k->cbc[dir], msg + iv_off, ct, len);
}

/* The IKE header in front of p's payload chain, which starts with payload type np. */
static int put_hdr(struct pkt *p, const struct ike_sa *sa, uint8_t exch, bool response,
		   uint32_t msgid, uint8_t np)
{
	struct ikev2_hdr h = {
		.ike_ispi = sa->spi_i,
		.ike_rspi = sa->spi_r,
		.ike_np = np,
		.ike_exch = exch,
		.ike_flags = (sa->initiator ? IKEV2_FLAG_I : 0) | (response ? IKEV2_FLAG_R : 0),
		.ike_msgid = msgid,
	};

	return ikev2_build(p, &h);
}

int ike_msg_build(struct ike *ike, struct ike_sa *sa, uint8_t exch, bool response, uint32_t msgid,
		  bool encrypt, ike_build_fn fn, void *arg, struct ike_wire *out)
{
	struct ike_keys *k = &sa->keys;
	struct ikev2_pld_writer w, iw;
	struct pkt p, inner;
	uint8_t *ibuf = NULL, *obuf = NULL, *b;
	int r;

	memset(out, 0, sizeof(*out));
	if ((obuf = malloc(IKE_BUILD_MAX + PKT_HEADROOM)) == NULL)
		return SP_ENOMEM;
	pkt_init(&p, obuf, IKE_BUILD_MAX + PKT_HEADROOM, PKT_HEADROOM);
	ikev2_pw_init(&w, &p);
	if (!encrypt) {
		if ((r = fn(sa, &w, arg)) != 0 ||
		    (r = put_hdr(&p, sa, exch, response, msgid, ikev2_pw_first(&w))) != 0)
			goto out;
	} else {
		size_t plen, pad, sk_start;
		uint8_t iv[16], *ct, *icv;

		if ((ibuf = malloc(IKE_BUILD_MAX)) == NULL) {
			r = SP_ENOMEM;
			goto out;
		}
		pkt_init(&inner, ibuf, IKE_BUILD_MAX, 0);
		ikev2_pw_init(&iw, &inner);
		if ((r = fn(sa, &iw, arg)) != 0)
			goto out;
		if (ike_frag_needed(ike, sa, exch, inner.len)) {
			r = ike_frag_build(ike, sa, exch, response, msgid, inner.buf + inner.off,
					   inner.len, ikev2_pw_first(&iw), ike_frag_size(ike, sa),
					   out);
			goto out;
		}
		/* 3.14: IV | encrypted (payloads | padding | pad length) | ICV. */
		plen = inner.len + 1;
		pad = k->encr == IKEV2_ENCR_AES_CBC ? (16 - plen % 16) % 16 : 0;
		if (k->encr == IKEV2_ENCR_AES_GCM_16) {
			/* RFC 5282 3.1: the IV must not repeat under a key; a counter does it. */
			sp_store_be64(iv, ++k->iv_ctr);
		} else {
			sp_rng_bytes(ike->p.rng, iv, 16);
		}
		if ((r = ikev2_pw_begin(&w, IKEV2_PLD_SK, false)) != 0)
			goto out;
		sk_start = p.len; /* body starts here; AAD ends here (RFC 5282 5.1) */
		if ((r = pkt_append(&p, iv, (uint32_t)k->iv_len)) != 0 ||
		    (r = pkt_append(&p, inner.buf + inner.off, inner.len)) != 0)
			goto out;
		if ((b = pkt_put(&p, (uint32_t)(pad + 1 + k->icv_len))) == NULL) {
			r = SP_ENOSPACE;
			goto out;
		}
		memset(b, 0, pad);
		b[pad] = (uint8_t)pad;
		if ((r = ikev2_pw_end(&w)) != 0 ||
		    (r = ikev2_pw_set_next(&w, ikev2_pw_first(&iw))) != 0)
			goto out;
		if ((r = put_hdr(&p, sa, exch, response, msgid, ikev2_pw_first(&w))) != 0)
			goto out;
		b = pkt_data(&p);
		sk_start += IKEV2_HDR_LEN;
		ct = b + sk_start + k->iv_len;
		icv = b + p.len - k->icv_len;
		if ((r = ike_sk_seal(k, sa->initiator ? 0 : 1, b, sk_start, ct, (size_t)(icv - ct),
				     icv)) != 0)
			goto out;
	}
	if ((out->buf = malloc(p.len)) == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	memcpy(out->buf, pkt_data(&p), p.len);
	out->len = p.len;
	r = 0;
out:
	if (ibuf != NULL) {
		crypto_wipe(ibuf, IKE_BUILD_MAX);
		free(ibuf);
	}
	free(obuf);
	return r;
}

int ike_sk_unseal(struct ike_sa *sa, uint8_t *msg, size_t len, size_t iv_off, struct cur *content)
{
	struct ike_keys *k = &sa->keys;
	size_t ctlen;
	uint8_t *ct, *icv, padlen;
	int r;

	if (iv_off > len || len - iv_off < k->iv_len + k->icv_len + 1)
		return SP_EMALFORMED;
	ct = msg + iv_off + k->iv_len;
	icv = msg + len - k->icv_len;
	ctlen = (size_t)(icv - ct);
	/* Messages from the other end: responder to initiator if we initiated. */
	if ((r = ike_sk_open(k, sa->initiator ? 1 : 0, msg, iv_off, ct, ctlen, icv)) != 0)
		return r;
	padlen = ct[ctlen - 1];
	if ((size_t)padlen + 1 > ctlen)
		return SP_EMALFORMED;
	cur_init(content, ct, ctlen - padlen - 1);
	return 0;
}

int ike_msg_decrypt(struct ike_sa *sa, uint8_t *msg, size_t len, const struct ikev2_pld *sk,
		    struct cur *chain)
{
	size_t body = IKEV2_HDR_LEN + sk->pld_off + IKEV2_PLD_HDR_LEN;

	if (sa->keys.prf_len == 0)
		return SP_ESTATE; /* no keys yet */
	/* The SK payload is the last one, so it ends the message (proto/ikev2.h checks). */
	if (body + (sk->pld_len - IKEV2_PLD_HDR_LEN) != len)
		return SP_EMALFORMED;
	return ike_sk_unseal(sa, msg, len, body, chain);
}

void ike_send(struct ike *ike, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	ike_ctr(ike, IKE_CTR_TX);
	if (path->local_port != ike->port) {
		/* RFC 3948 2.2 / RFC 7296 2.23: IKE on the NAT-T port follows the non-ESP marker. */
		uint8_t *b = malloc(len + NATT_MARKER_LEN);

		if (b == NULL)
			return;
		memset(b, 0, NATT_MARKER_LEN);
		memcpy(b + NATT_MARKER_LEN, msg, len);
		ike->p.output(ike->p.output_arg, path, b, len + NATT_MARKER_LEN);
		free(b);
		return;
	}
	ike->p.output(ike->p.output_arg, path, msg, len);
}

void ike_wire_free(struct ike_wire *w)
{
	if (w->plain != NULL) {
		crypto_wipe(w->plain, w->plain_len);
		free(w->plain);
	}
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void ike_send_wire(struct ike *ike, const struct ike_path *path, const struct ike_wire *w)
{
	size_t off = 0;

	if (w->nfrag == 0) {
		ike_send(ike, path, w->buf, w->len);
		return;
	}
	/* RFC 7383 2.6.1: a message goes whole, every fragment of it, each time. */
	for (uint16_t i = 0; i < w->nfrag && off + 2 <= w->len; i++) {
		size_t flen = sp_load_be16(w->buf + off);

		if (off + 2 + flen > w->len)
			break;
		ike_ctr(ike, IKE_CTR_FRAG_TX);
		ike_send(ike, path, w->buf + off + 2, flen);
		off += 2 + flen;
	}
}

static sp_time retransmit_delay(const struct ike_conn *c, unsigned tries)
{
	/* Exponential back-off (RFC 7296 2.1): timeout * 2^tries, capped at 2^6. */
	return c->retransmit_timeout << SP_MIN(tries, 6u);
}

void ike_req_clear(struct ike_sa *sa)
{
	ike_wire_free(&sa->req.msg);
	ike_frag_reset(sa, 1); /* an answer in pieces to a request we no longer wait for */
	crypto_dh_free(sa->req.dh);
	memset(&sa->req, 0, sizeof(sa->req));
	sa->req.kind = IKE_X_NONE;
}

void ike_req_send(struct ike_sa *sa, sp_time now, enum ike_xchg_kind kind, struct ike_wire *w)
{
	ike_wire_free(&sa->req.msg);
	ike_frag_reset(sa, 1);
	sa->req.kind = kind;
	sa->req.msg = *w;
	memset(w, 0, sizeof(*w));
	sa->req.tries = 0;
	sa->req.next = now + retransmit_delay(sa->conn, 0);
	ike_send_wire(sa->ike, &sa->path, &sa->req.msg);
}

void ike_resp_send(struct ike_sa *sa, uint32_t msgid, struct ike_wire *w)
{
	ike_wire_free(&sa->resp);
	sa->resp = *w;
	memset(w, 0, sizeof(*w));
	sa->resp_msgid = msgid;
	sa->have_resp = true;
	ike_send_wire(sa->ike, &sa->path, &sa->resp);
}
