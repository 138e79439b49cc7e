/*
 * IKE message fragmentation (RFC 7383): a protected message too large for one datagram of
 * [ike] fragment_size goes as several IKE Fragment messages, each with one Encrypted
 * Fragment payload (SKF, type 53) encrypted and integrity protected on its own (2.5); the
 * receiver checks each fragment, keeps the decrypted content, and hands the message on
 * when all are there (2.6). Reassembly is bounded per message and per instance, and every
 * fragment dropped is counted by its reason.
 */
#include "ike/ike_priv.h"

#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

/* SKF payload: generic header, then Fragment Number and Total Fragments (2 octets each). */
#define SKF_FIXED_LEN (IKEV2_PLD_HDR_LEN + 4)

static size_t natt_marker(const struct ike *ike, const struct ike_sa *sa)
{
	return sa->path.local_port != ike->port ? 4 : 0; /* RFC 3948 2.2: non-ESP marker */
}

/* Padding for content of len octets plus the Pad Length octet (RFC 7296 3.14). */
static size_t sk_pad(const struct ike_keys *k, size_t len)
{
	return k->encr == IKEV2_ENCR_AES_CBC ? (16 - (len + 1) % 16) % 16 : 0;
}

uint32_t ike_frag_size(const struct ike *ike, const struct ike_sa *sa)
{
	/* The peer's fragments are full but for the last one, and CBC's blocks may make them
	 * a little smaller than its size: never below the minimum every path takes. */
	if (sa->frag_peer_max != 0 && sa->frag_peer_max < ike->frag_size)
		return SP_MAX(sa->frag_peer_max, (uint32_t)IKE_FRAG_SIZE_MIN);
	return ike->frag_size;
}

bool ike_frag_needed(const struct ike *ike, const struct ike_sa *sa, uint8_t exch, size_t inner_len)
{
	const struct ike_keys *k = &sa->keys;
	size_t dgram;

	/* 2.3, 2.5: only when both ends announced support, never in IKE_SA_INIT. */
	if (!sa->frag || exch == IKEV2_EXCH_IKE_SA_INIT || k->prf_len == 0)
		return false;
	dgram = IKE_FRAG_IP_UDP + natt_marker(ike, sa) + IKEV2_HDR_LEN + IKEV2_PLD_HDR_LEN +
		k->iv_len + inner_len + sk_pad(k, inner_len) + 1 + k->icv_len;
	return dgram > ike_frag_size(ike, sa);
}

/* Most content octets one fragment of size octets can carry on this SA's path (2.5.1). */
static size_t frag_room(const struct ike *ike, const struct ike_sa *sa, uint32_t size)
{
	const struct ike_keys *k = &sa->keys;
	size_t fixed = IKE_FRAG_IP_UDP + natt_marker(ike, sa) + IKEV2_HDR_LEN + SKF_FIXED_LEN +
		       k->iv_len + k->icv_len;
	size_t avail;

	if (size <= fixed + 16)
		return 0;
	avail = size - fixed; /* content | padding | pad length */
	if (k->encr == IKEV2_ENCR_AES_CBC)
		avail -= avail % 16;
	return avail - 1;
}

/* One IKE Fragment message into p (empty, with headroom). */
static int frag_one(struct ike *ike, struct ike_sa *sa, const struct ikev2_hdr *h, uint16_t num,
		    uint16_t total, uint8_t np, const uint8_t *chunk, size_t clen, struct pkt *p)
{
	struct ike_keys *k = &sa->keys;
	struct ikev2_pld_writer w;
	size_t pad = sk_pad(k, clen), iv_off;
	uint8_t iv[16], nums[4], *b, *ct, *icv;
	int r;

	ikev2_pw_init(&w, p);
	if (k->encr == IKEV2_ENCR_AES_GCM_16)
		sp_store_be64(iv, ++k->iv_ctr); /* RFC 5282 3.1: never twice under a key */
	else
		sp_rng_bytes(ike->p.rng, iv, 16);
	sp_store_be16(nums, num);
	sp_store_be16(nums + 2, total);
	if ((r = ikev2_pw_begin(&w, IKEV2_PLD_SKF, false)) != 0 ||
	    (r = pkt_append(p, nums, 4)) != 0 ||
	    (r = pkt_append(p, iv, (uint32_t)k->iv_len)) != 0 ||
	    (r = pkt_append(p, chunk, (uint32_t)clen)) != 0)
		return r;
	if ((b = pkt_put(p, (uint32_t)(pad + 1 + k->icv_len))) == NULL)
		return SP_ENOSPACE;
	memset(b, 0, pad);
	b[pad] = (uint8_t)pad;
	/* 2.5: Next Payload is the first inner payload's type in fragment 1, else zero. */
	if ((r = ikev2_pw_end(&w)) != 0 ||
	    (r = ikev2_pw_set_next(&w, num == 1 ? np : IKEV2_PLD_NONE)) != 0 ||
	    (r = ikev2_build(p, h)) != 0)
		return r;
	b = pkt_data(p);
	/* 2.5: the associated data runs from the IKE header through Total Fragments. */
	iv_off = IKEV2_HDR_LEN + SKF_FIXED_LEN;
	ct = b + iv_off + k->iv_len;
	icv = b + p->len - k->icv_len;
	return ike_sk_seal(k, sa->initiator ? 0 : 1, b, iv_off, ct, (size_t)(icv - ct), icv);
}

int ike_frag_build(struct ike *ike, struct ike_sa *sa, uint8_t exch, bool response, uint32_t msgid,
		   const uint8_t *inner, size_t inner_len, uint8_t np, uint32_t size,
		   struct ike_wire *out)
{
	struct ikev2_hdr h = {
		.ike_ispi = sa->spi_i,
		.ike_rspi = sa->spi_r,
		.ike_np = IKEV2_PLD_SKF,
		.ike_exch = exch,
		.ike_flags = (sa->initiator ? IKEV2_FLAG_I : 0) | (response ? IKEV2_FLAG_R : 0),
		.ike_msgid = msgid,
	};
	size_t room = frag_room(ike, sa, size), n, cap, off = 0;
	uint8_t *fbuf = NULL, *wbuf = NULL, *plain = NULL;
	struct pkt p;
	int r;

	memset(out, 0, sizeof(*out));
	if (room == 0 || inner_len == 0) {
		ike_ctr(ike, IKE_CTR_FRAG_TOO_BIG);
		return SP_ENOSPACE;
	}
	/* Full fragments and the rest in the last: the size of the others tells the peer
	 * what reached it (ike_frag_size()). */
	n = (inner_len + room - 1) / room;
	if (n > IKE_FRAG_MAX) {
		ike_ctr(ike, IKE_CTR_FRAG_TOO_BIG);
		return SP_ENOSPACE;
	}
	cap = size + PKT_HEADROOM;
	if ((fbuf = malloc(cap)) == NULL || (wbuf = malloc(n * (2 + (size_t)size))) == NULL ||
	    (!response && (plain = malloc(inner_len)) == NULL)) {
		r = SP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t clen = SP_MIN(room, inner_len - i * room);

		pkt_init(&p, fbuf, (uint32_t)cap, PKT_HEADROOM);
		if ((r = frag_one(ike, sa, &h, (uint16_t)(i + 1), (uint16_t)n, np, inner + i * room,
				  clen, &p)) != 0)
			goto out;
		if (p.len > size) {
			r = SP_ENOSPACE; /* the arithmetic of frag_room() is wrong */
			goto out;
		}
		sp_store_be16(wbuf + off, (uint16_t)p.len);
		memcpy(wbuf + off + 2, pkt_data(&p), p.len);
		off += 2 + p.len;
	}
	out->buf = wbuf;
	out->len = off;
	out->nfrag = (uint16_t)n;
	out->frag_size = size;
	if (plain != NULL) {
		memcpy(plain, inner, inner_len);
		out->plain = plain;
		out->plain_len = inner_len;
		out->plain_np = np;
		out->exch = exch;
		plain = NULL;
	}
	wbuf = NULL;
	r = 0;
out:
	if (fbuf != NULL) {
		crypto_wipe(fbuf, cap);
		free(fbuf);
	}
	free(wbuf);
	free(plain);
	return r;
}

void ike_frag_shrink(struct ike_sa *sa)
{
	struct ike *ike = sa->ike;
	struct ike_wire *w = &sa->req.msg, nw;

	if (w->nfrag == 0 || w->plain == NULL || w->frag_size <= IKE_FRAG_SIZE_MIN)
		return;
	/* 2.5.2: the path may not take fragments of this size; the minimum every IPv4 path
	 * takes. More fragments: the receiver starts its reassembly over (2.6). */
	if (ike_frag_build(ike, sa, w->exch, false, sa->req.msgid, w->plain, w->plain_len,
			   w->plain_np, IKE_FRAG_SIZE_MIN, &nw) != 0)
		return;
	if (nw.nfrag <= w->nfrag) {
		/* As many as before: the receiver could not tell the two cuts apart (2.6 tells
		 * them by Total Fragments) and might mix them. */
		ike_wire_free(&nw);
		return;
	}
	ike_ctr(ike, IKE_CTR_FRAG_SHRUNK);
	IKE_LOG(ike, SP_LOG_INFO,
		"%s: IKE SA %016llx: no answer to %u fragments of %u octets; sending them in "
		"%u of %u (RFC 7383 2.5.2)",
		sa->conn->name, (unsigned long long)sa->spi_i, w->nfrag, w->frag_size, nw.nfrag,
		nw.frag_size);
	ike_wire_free(w);
	*w = nw;
}

uint16_t ike_frag_number(const uint8_t *msg, size_t len)
{
	if (len < IKEV2_HDR_LEN + SKF_FIXED_LEN)
		return 0;
	return sp_load_be16(msg + IKEV2_HDR_LEN + IKEV2_PLD_HDR_LEN);
}

void ike_frag_reset(struct ike_sa *sa, int slot)
{
	struct ike_reasm *rs = sa->reasm[slot];

	if (rs == NULL)
		return;
	sa->ike->frag_held -= rs->used;
	if (rs->buf != NULL) {
		crypto_wipe(rs->buf, rs->cap);
		free(rs->buf);
	}
	free(rs);
	sa->reasm[slot] = NULL;
}

/* Room for more content in rs->buf; the old buffer (decrypted content) is wiped. */
static int reasm_grow(struct ike_reasm *rs, size_t need)
{
	size_t cap = SP_MAX(SP_MAX(rs->cap * 2, need), (size_t)4096);
	uint8_t *b;

	cap = SP_MIN(cap, (size_t)IKE_FRAG_BYTES_MAX);
	if ((b = malloc(cap)) == NULL)
		return SP_ENOMEM;
	if (rs->buf != NULL) {
		memcpy(b, rs->buf, rs->used);
		crypto_wipe(rs->buf, rs->cap);
		free(rs->buf);
	}
	rs->buf = b;
	rs->cap = cap;
	return 0;
}

/* Check and decrypt the fragment in place: its content into *content, *clen. */
static int frag_open(struct ike_sa *sa, uint8_t *msg, size_t len, const struct ikev2_pld *pl,
		     const uint8_t **content, size_t *clen)
{
	size_t iv_off = IKEV2_HDR_LEN + pl->pld_off + SKF_FIXED_LEN;
	struct cur c;
	int r;

	/* The SKF payload is the only one and the last (2.5), so it ends the message. */
	if (pl->pld_len < SKF_FIXED_LEN || iv_off + (pl->pld_len - SKF_FIXED_LEN) != len)
		return SP_EMALFORMED;
	/* 2.6: each fragment's integrity is checked before it is kept. */
	if ((r = ike_sk_unseal(sa, msg, len, iv_off, &c)) != 0)
		return r;
	*content = c.p;
	*clen = c.len;
	return 0;
}

static int drop(struct ike *ike, enum ike_ctr c, int r)
{
	ike_ctr(ike, c);
	return r;
}

int ike_frag_input(struct ike_sa *sa, uint8_t *msg, size_t len, const struct ikev2_hdr *h,
		   uint8_t **whole, size_t *whole_len, struct cur *chain, uint8_t *np)
{
	struct ike *ike = sa->ike;
	int slot = ikev2_is_response(h) ? 1 : 0;
	struct ike_reasm *rs;
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	const uint8_t *content;
	uint16_t num, total;
	size_t clen;
	struct cur c;
	int r;

	*whole = NULL;
	*whole_len = 0;
	/* 2.3, 2.5: fragments only after IKE_SA_INIT, and only when both ends said so. */
	if (!sa->frag || h->ike_exch == IKEV2_EXCH_IKE_SA_INIT || sa->keys.prf_len == 0)
		return drop(ike, IKE_CTR_DROP_FRAG_UNNEGOTIATED, SP_ESTATE);
	/* 2.5.3: no exchange defines unprotected payloads beside the protected ones, so the
	 * SKF payload is the message's only payload (the header's Next Payload). */
	cur_init(&c, msg + IKEV2_HDR_LEN, len - IKEV2_HDR_LEN);
	ikev2_pld_iter_init_chain(&it, &c, h->ike_np);
	if (h->ike_np != IKEV2_PLD_SKF || ikev2_pld_next(&it, &pl) != 0 ||
	    cur_get_u16(&pl.pld_body, &num) != 0 || cur_get_u16(&pl.pld_body, &total) != 0)
		return drop(ike, IKE_CTR_DROP_FRAG_MALFORMED, SP_EMALFORMED);
	/* 2.5: numbers count from 1 up to Total Fragments; only fragment 1 names the first
	 * inner payload, the others carry zero. */
	if (num == 0 || total == 0 || num > total || (num == 1) != (pl.pld_np != IKEV2_PLD_NONE))
		return drop(ike, IKE_CTR_DROP_FRAG_MALFORMED, SP_EMALFORMED);
	if (total > IKE_FRAG_MAX)
		return drop(ike, IKE_CTR_DROP_FRAG_TOO_MANY, SP_ENOSPACE);
	if ((r = frag_open(sa, msg, len, &pl, &content, &clen)) != 0)
		return drop(ike,
			    r == SP_EAUTH ? IKE_CTR_DROP_FRAG_INTEGRITY
					  : IKE_CTR_DROP_FRAG_MALFORMED,
			    r);
	rs = sa->reasm[slot];
	if (rs != NULL && rs->msgid != h->ike_msgid) {
		ike_frag_reset(sa, slot); /* pieces of an older message that never completed */
		rs = NULL;
	}
	if (rs != NULL && rs->exch != h->ike_exch)
		return drop(ike, IKE_CTR_DROP_FRAG_MALFORMED, SP_EMALFORMED);
	if (rs != NULL && total > rs->total) {
		/* 2.6: the sender chose smaller fragments (after retransmissions): what was
		 * held is discarded and reassembly starts over with this fragment. */
		ike_ctr(ike, IKE_CTR_FRAG_RESTARTED);
		ike_frag_reset(sa, slot);
		rs = NULL;
	} else if (rs != NULL && total < rs->total) {
		/* An older, larger fragmentation of the same message: not mixed in. */
		return drop(ike, IKE_CTR_DROP_FRAG_TOTAL, SP_EINVAL);
	}
	if (rs != NULL && rs->have[num - 1])
		return drop(ike, IKE_CTR_DROP_FRAG_DUPLICATE, SP_EEXIST);
	if (ike->frag_held + clen > IKE_FRAG_HELD_MAX)
		return drop(ike, IKE_CTR_DROP_FRAG_MEMORY, SP_ENOSPACE);
	if (rs == NULL) {
		if ((rs = calloc(1, sizeof(*rs))) == NULL)
			return drop(ike, IKE_CTR_DROP_FRAG_MEMORY, SP_ENOMEM);
		rs->msgid = h->ike_msgid;
		rs->exch = h->ike_exch;
		rs->total = total;
		sa->reasm[slot] = rs;
	}
	if (rs->used + clen > IKE_FRAG_BYTES_MAX) {
		/* More than any message may hold: the whole message is given up. */
		ike_frag_reset(sa, slot);
		return drop(ike, IKE_CTR_DROP_FRAG_OVERFLOW, SP_ENOSPACE);
	}
	if (rs->used + clen > rs->cap && (r = reasm_grow(rs, rs->used + clen)) != 0)
		return drop(ike, IKE_CTR_DROP_FRAG_MEMORY, r);
	if (clen > 0)
		memcpy(rs->buf + rs->used, content, clen);
	rs->off[num - 1] = (uint32_t)rs->used;
	rs->len[num - 1] = (uint16_t)clen;
	rs->have[num - 1] = true;
	rs->count++;
	rs->used += clen;
	ike->frag_held += clen;
	if (num == 1)
		rs->first_np = pl.pld_np;
	ike_ctr(ike, IKE_CTR_FRAG_RX);
	/* What reached us from the peer bounds what we send it (ike_frag_size()). */
	if (len + IKE_FRAG_IP_UDP + natt_marker(ike, sa) > sa->frag_peer_max)
		sa->frag_peer_max = (uint32_t)(len + IKE_FRAG_IP_UDP + natt_marker(ike, sa));
	if (rs->count < rs->total)
		return 0;
	/* 2.6: all there: the contents in the order of their numbers are the message's
	 * protected payloads. */
	if ((*whole = malloc(rs->used > 0 ? rs->used : 1)) == NULL) {
		ike_frag_reset(sa, slot);
		return drop(ike, IKE_CTR_DROP_FRAG_MEMORY, SP_ENOMEM);
	}
	for (uint16_t i = 0; i < rs->total; i++) {
		memcpy(*whole + *whole_len, rs->buf + rs->off[i], rs->len[i]);
		*whole_len += rs->len[i];
	}
	*np = rs->first_np;
	cur_init(chain, *whole, *whole_len);
	ike_ctr(ike, IKE_CTR_FRAG_REASSEMBLED);
	ike_frag_reset(sa, slot);
	return 0;
}
