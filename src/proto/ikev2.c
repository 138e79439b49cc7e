#include "proto/ikev2.h"

#include <string.h>

int ikev2_parse_anyver(struct cur *c, struct ikev2_hdr *h)
{
	struct ikev2_hdr t;
	struct cur r = *c;
	uint8_t ver;
	int e;

	if ((e = cur_get_u64(&r, &t.ike_ispi)) != 0 || (e = cur_get_u64(&r, &t.ike_rspi)) != 0 ||
	    (e = cur_get_u8(&r, &t.ike_np)) != 0 || (e = cur_get_u8(&r, &ver)) != 0 ||
	    (e = cur_get_u8(&r, &t.ike_exch)) != 0 || (e = cur_get_u8(&r, &t.ike_flags)) != 0 ||
	    (e = cur_get_u32(&r, &t.ike_msgid)) != 0 || (e = cur_get_u32(&r, &t.ike_len)) != 0)
		return e;
	t.ike_mjver = ver >> 4;
	t.ike_mnver = ver & 0x0f;
	/* RFC 7296 3.1: Length covers the header and the payloads; one message per datagram. */
	if (t.ike_len < IKEV2_HDR_LEN || t.ike_len > IKEV2_MSG_MAX)
		return SP_EMALFORMED;
	if (t.ike_len > cur_left(c))
		return SP_ESHORT;
	/* RFC 7296 3.1: the initiator's SPI "MUST NOT be zero". */
	if (t.ike_ispi == 0)
		return SP_EMALFORMED;
	*h = t;
	*c = r;
	return 0;
}

int ikev2_parse(struct cur *c, struct ikev2_hdr *h)
{
	struct ikev2_hdr t;
	struct cur r = *c;
	int e;

	if ((e = ikev2_parse_anyver(&r, &t)) != 0)
		return e;
	/* RFC 7296 3.1 and 2.5: other major versions are rejected; the minor one is ignored. */
	if (t.ike_mjver != IKEV2_MJVER)
		return SP_EUNSUPP;
	*h = t;
	*c = r;
	return 0;
}

int ikev2_build(struct pkt *p, const struct ikev2_hdr *h)
{
	uint32_t len = p->len + IKEV2_HDR_LEN;
	uint8_t *b;

	if (h->ike_ispi == 0 || p->len > IKEV2_MSG_MAX - IKEV2_HDR_LEN)
		return SP_EINVAL;
	if ((b = pkt_push(p, IKEV2_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	sp_store_be64(b + IKEV2_OFF_ISPI, h->ike_ispi);
	sp_store_be64(b + IKEV2_OFF_RSPI, h->ike_rspi);
	b[IKEV2_OFF_NP] = h->ike_np;
	b[IKEV2_OFF_VER] = IKEV2_MJVER << 4 | IKEV2_MNVER;
	b[IKEV2_OFF_EXCH] = h->ike_exch;
	b[IKEV2_OFF_FLAGS] = h->ike_flags & (IKEV2_FLAG_I | IKEV2_FLAG_R);
	sp_store_be32(b + IKEV2_OFF_MSGID, h->ike_msgid);
	sp_store_be32(b + IKEV2_OFF_LEN, len);
	return 0;
}

int ikev2_pld_iter_init(struct ikev2_pld_iter *it, struct cur *c, const struct ikev2_hdr *h)
{
	struct cur chain;
	int e;

	if (h->ike_len < IKEV2_HDR_LEN)
		return SP_EINVAL;
	if ((e = cur_get_sub(c, h->ike_len - IKEV2_HDR_LEN, &chain)) != 0)
		return e;
	ikev2_pld_iter_init_chain(it, &chain, h->ike_np);
	return 0;
}

void ikev2_pld_iter_init_chain(struct ikev2_pld_iter *it, const struct cur *chain,
			       uint8_t first_type)
{
	it->it_c = *chain;
	it->it_np = first_type;
	it->it_end = 0;
}

static bool pld_ends_chain(uint8_t type)
{
	return type == IKEV2_PLD_SK || type == IKEV2_PLD_SKF;
}

int ikev2_pld_next(struct ikev2_pld_iter *it, struct ikev2_pld *pl)
{
	struct cur r = it->it_c;
	struct ikev2_pld t;
	uint8_t flags;

	if (it->it_end != 0)
		return it->it_end;
	if (it->it_np == IKEV2_PLD_NONE) {
		/* No Next Payload: the chain must end here, without trailing octets. */
		it->it_end = cur_left(&r) == 0 ? SP_ENOTFOUND : SP_EMALFORMED;
		return it->it_end;
	}
	t.pld_type = it->it_np;
	t.pld_off = cur_pos(&r);
	/* A Next Payload field promised a payload: its header must be there ... */
	if (cur_get_u8(&r, &t.pld_np) != 0 || cur_get_u8(&r, &flags) != 0 ||
	    cur_get_u16(&r, &t.pld_len) != 0)
		goto fail;
	/* RFC 7296 3.2: C is the top bit; RESERVED is sent as zero and ignored. */
	t.pld_critical = (flags & IKEV2_PLD_CRITICAL) != 0;
	/* ... and its length covers the generic header and fits the chain. */
	if (t.pld_len < IKEV2_PLD_HDR_LEN ||
	    cur_get_sub(&r, t.pld_len - IKEV2_PLD_HDR_LEN, &t.pld_body) != 0)
		goto fail;
	if (pld_ends_chain(t.pld_type)) {
		/* RFC 7296 3.14: SK's Next Payload names its first inner payload and SK is last. */
		if (cur_left(&r) != 0)
			goto fail;
		it->it_end = SP_ENOTFOUND;
	}
	it->it_np = t.pld_np;
	it->it_c = r;
	*pl = t;
	return 0;
fail:
	it->it_end = SP_EMALFORMED;
	return SP_EMALFORMED;
}

bool ikev2_pld_type_known(uint8_t type)
{
	return (type >= IKEV2_PLD_SA && type <= IKEV2_PLD_EAP) || type == IKEV2_PLD_SKF;
}

const char *ikev2_pld_type_name(uint8_t type)
{
	static const char *const names[] = {
		[IKEV2_PLD_SA] = "SA",
		[IKEV2_PLD_KE] = "KE",
		[IKEV2_PLD_IDI] = "IDi",
		[IKEV2_PLD_IDR] = "IDr",
		[IKEV2_PLD_CERT] = "CERT",
		[IKEV2_PLD_CERTREQ] = "CERTREQ",
		[IKEV2_PLD_AUTH] = "AUTH",
		[IKEV2_PLD_NONCE] = "Nonce",
		[IKEV2_PLD_NOTIFY] = "Notify",
		[IKEV2_PLD_DELETE] = "Delete",
		[IKEV2_PLD_VENDOR] = "Vendor ID",
		[IKEV2_PLD_TSI] = "TSi",
		[IKEV2_PLD_TSR] = "TSr",
		[IKEV2_PLD_SK] = "SK",
		[IKEV2_PLD_CP] = "CP",
		[IKEV2_PLD_EAP] = "EAP",
		[IKEV2_PLD_SKF] = "SKF",
	};

	if (type == IKEV2_PLD_NONE)
		return "none";
	if (type < SP_NELEM(names) && names[type] != NULL)
		return names[type];
	return "unknown";
}

const char *ikev2_exch_name(uint8_t exch)
{
	switch (exch) {
	case IKEV2_EXCH_IKE_SA_INIT:
		return "IKE_SA_INIT";
	case IKEV2_EXCH_IKE_AUTH:
		return "IKE_AUTH";
	case IKEV2_EXCH_CREATE_CHILD_SA:
		return "CREATE_CHILD_SA";
	case IKEV2_EXCH_INFORMATIONAL:
		return "INFORMATIONAL";
	case IKEV2_EXCH_IKE_SESSION_RESUME:
		return "IKE_SESSION_RESUME";
	case IKEV2_EXCH_IKE_INTERMEDIATE:
		return "IKE_INTERMEDIATE";
	}
	return "unknown";
}

void ikev2_pw_init(struct ikev2_pld_writer *w, struct pkt *p)
{
	w->pw_p = p;
	w->pw_first = IKEV2_PLD_NONE;
	w->pw_last_type = IKEV2_PLD_NONE;
	w->pw_open = IKEV2_PW_NONE;
	w->pw_last = IKEV2_PW_NONE;
}

int ikev2_pw_begin(struct ikev2_pld_writer *w, uint8_t type, bool critical)
{
	struct pkt *p = w->pw_p;
	uint32_t at = p->off + p->len;
	uint8_t *b;

	if (w->pw_open != IKEV2_PW_NONE || type == IKEV2_PLD_NONE)
		return SP_ESTATE;
	if (w->pw_last != IKEV2_PW_NONE && pld_ends_chain(w->pw_last_type))
		return SP_ESTATE;
	if ((b = pkt_put(p, IKEV2_PLD_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	b[0] = IKEV2_PLD_NONE;
	b[1] = critical ? IKEV2_PLD_CRITICAL : 0;
	sp_store_be16(b + 2, IKEV2_PLD_HDR_LEN);
	if (w->pw_last != IKEV2_PW_NONE)
		p->buf[w->pw_last] = type;
	else
		w->pw_first = type;
	w->pw_open = at;
	w->pw_open_type = type;
	return 0;
}

int ikev2_pw_end(struct ikev2_pld_writer *w)
{
	struct pkt *p = w->pw_p;
	uint32_t end = p->off + p->len;
	uint32_t len;

	if (w->pw_open == IKEV2_PW_NONE || end < w->pw_open + IKEV2_PLD_HDR_LEN)
		return SP_ESTATE;
	len = end - w->pw_open;
	if (len > UINT16_MAX)
		return SP_EINVAL;
	sp_store_be16(p->buf + w->pw_open + 2, (uint16_t)len);
	w->pw_last = w->pw_open;
	w->pw_last_type = w->pw_open_type;
	w->pw_open = IKEV2_PW_NONE;
	return 0;
}

int ikev2_pw_set_next(struct ikev2_pld_writer *w, uint8_t np)
{
	if (w->pw_last == IKEV2_PW_NONE || w->pw_open != IKEV2_PW_NONE ||
	    !pld_ends_chain(w->pw_last_type))
		return SP_ESTATE;
	w->pw_p->buf[w->pw_last] = np;
	return 0;
}
