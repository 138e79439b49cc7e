#include "proto/ppp.h"

#include <string.h>

/* RFC 1661 2: the most significant octet's low bit is 0, the least significant's is 1. */
static bool proto_ok(uint16_t proto)
{
	return (proto & 0x0100) == 0 && (proto & 0x0001) != 0;
}

int ppp_parse(struct cur *c, struct ppp_hdr *h)
{
	struct cur r = *c;
	struct ppp_hdr t = { 0 };
	uint8_t b0, b1;
	int e;

	if ((e = cur_get_u8(&r, &b0)) != 0)
		return e;
	if (b0 == PPP_ADDRESS) {
		/* RFC 1662 3.1: Address 0xFF is always followed by Control 0x03. */
		if ((e = cur_get_u8(&r, &b1)) != 0)
			return e;
		if (b1 != PPP_CONTROL)
			return SP_EMALFORMED;
		t.ppp_acf = true;
		if ((e = cur_get_u8(&r, &b0)) != 0)
			return e;
	}
	if ((b0 & 0x01) != 0) {
		/* Protocol-Field-Compression: the one octet is the low half (RFC 1661 6.5). */
		t.ppp_proto = b0;
	} else {
		if ((e = cur_get_u8(&r, &b1)) != 0)
			return e;
		t.ppp_proto = (uint16_t)(b0 << 8 | b1);
		if (!proto_ok(t.ppp_proto))
			return SP_EMALFORMED;
	}
	t.ppp_hlen = (uint8_t)(cur_pos(&r) - cur_pos(c));
	*h = t;
	*c = r;
	return 0;
}

int ppp_build(struct pkt *p, uint16_t proto, bool acf)
{
	uint32_t n = acf ? PPP_ACF_LEN + 2 : 2;
	uint8_t *b;

	if (!proto_ok(proto))
		return SP_EINVAL;
	if ((b = pkt_push(p, n)) == NULL)
		return SP_ENOSPACE;
	if (acf) {
		*b++ = PPP_ADDRESS;
		*b++ = PPP_CONTROL;
	}
	sp_store_be16(b, proto);
	return 0;
}

int ppp_cp_parse(struct cur *c, struct ppp_cp *cp)
{
	struct cur r = *c;
	struct ppp_cp t;
	int e;

	if ((e = cur_get_u8(&r, &t.cp_code)) != 0 || (e = cur_get_u8(&r, &t.cp_id)) != 0 ||
	    (e = cur_get_u16(&r, &t.cp_len)) != 0)
		return e;
	if (t.cp_len < PPP_CP_HDR_LEN)
		return SP_EMALFORMED;
	if ((e = cur_get_sub(&r, t.cp_len - PPP_CP_HDR_LEN, &t.cp_data)) != 0)
		return e;
	/* RFC 1661 5: "Octets outside the range of the Length field are treated as padding". */
	cur_skip_all(&r);
	*cp = t;
	*c = r;
	return 0;
}

int ppp_cp_build(struct pkt *p, uint8_t code, uint8_t id)
{
	uint32_t len = p->len + PPP_CP_HDR_LEN;
	uint8_t *b;

	if (len > UINT16_MAX)
		return SP_EINVAL;
	if ((b = pkt_push(p, PPP_CP_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	b[0] = code;
	b[1] = id;
	sp_store_be16(b + 2, (uint16_t)len);
	return 0;
}

int ppp_opt_next(struct cur *opts, struct ppp_opt *o)
{
	struct cur r = *opts;
	struct ppp_opt t;

	if (cur_left(&r) == 0)
		return SP_ENOTFOUND;
	if (cur_get_u8(&r, &t.opt_type) != 0 || cur_get_u8(&r, &t.opt_len) != 0)
		return SP_EMALFORMED;
	/* RFC 1661 6: Length counts Type, Length and Data. */
	if (t.opt_len < PPP_OPT_HDR_LEN ||
	    cur_get_sub(&r, t.opt_len - PPP_OPT_HDR_LEN, &t.opt_val) != 0)
		return SP_EMALFORMED;
	*o = t;
	*opts = r;
	return 0;
}

int ppp_opt_put(struct pkt *p, uint8_t type, const void *val, uint8_t len)
{
	uint8_t *b;

	if (len > UINT8_MAX - PPP_OPT_HDR_LEN)
		return SP_EINVAL;
	if ((b = pkt_put(p, (uint32_t)len + PPP_OPT_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	b[0] = type;
	b[1] = (uint8_t)(len + PPP_OPT_HDR_LEN);
	if (len > 0)
		memcpy(b + PPP_OPT_HDR_LEN, val, len);
	return 0;
}
