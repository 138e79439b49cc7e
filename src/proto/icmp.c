#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "base/csum.h"

#include <string.h>

/* Error messages quote at most this much of the original, RFC 1812 4.3.2.3. */
#define ICMP_ERR_QUOTE_MAX (576 - IPV4_HDR_MIN - ICMP_HDR_LEN)

int icmp_parse(struct cur *c, struct icmp_hdr *h)
{
	struct cur t = *c;
	const uint8_t *start = cur_ptr(c);
	size_t len = cur_left(c);
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = cur_get_u8(&t, &h->icmp_type)) != 0 || (r = cur_get_u8(&t, &h->icmp_code)) != 0 ||
	    (r = cur_get_u16(&t, &h->icmp_csum)) != 0 ||
	    (r = cur_peek_u32(&t, 0, &h->icmp_rest)) != 0 ||
	    (r = cur_get_u16(&t, &h->icmp_id)) != 0 || (r = cur_get_u16(&t, &h->icmp_seq)) != 0)
		return r;
	h->icmp_csum_ok = csum_buf(start, len) == 0;
	if (icmp_is_error(h->icmp_type)) {
		struct cur in = t;
		uint8_t vhl;

		if ((r = cur_peek_u8(&in, 0, &vhl)) != 0)
			return SP_EMALFORMED;
		if (vhl >> 4 != 4 || (vhl & 0x0f) < 5 ||
		    cur_left(&in) < (size_t)(vhl & 0x0f) * 4 + 8)
			return SP_EMALFORMED;
		h->icmp_inner = cur_ptr(&in);
		h->icmp_inner_len = cur_left(&in);
	}
	cur_skip_all(&t);
	*c = t;
	return 0;
}

void icmp_set_csum(uint8_t *msg, size_t len)
{
	sp_store_be16(msg + ICMP_OFF_CSUM, 0);
	sp_store_be16(msg + ICMP_OFF_CSUM, csum_buf(msg, len));
}

int icmp_build_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq)
{
	uint8_t *b;

	if (!icmp_is_echo(type))
		return SP_EINVAL;
	if ((b = pkt_push(p, ICMP_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	b[0] = type;
	b[1] = 0;
	sp_store_be16(b + ICMP_OFF_ID, id);
	sp_store_be16(b + ICMP_OFF_SEQ, seq);
	icmp_set_csum(b, p->len);
	return 0;
}

int icmp_build_error(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *orig,
		     size_t orig_len)
{
	size_t ihl, quote;
	uint8_t *b;

	if (!icmp_is_error(type) || orig_len < IPV4_HDR_MIN)
		return SP_EINVAL;
	ihl = (size_t)(orig[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN || ihl + 8 > orig_len)
		return SP_EINVAL;
	quote = SP_MIN(orig_len, (size_t)ICMP_ERR_QUOTE_MAX);
	if ((b = pkt_put(p, (uint32_t)(ICMP_HDR_LEN + quote))) == NULL)
		return SP_ENOSPACE;
	b[0] = type;
	b[1] = code;
	sp_store_be32(b + 4, rest);
	memcpy(b + ICMP_HDR_LEN, orig, quote);
	icmp_set_csum(b, ICMP_HDR_LEN + quote);
	return 0;
}
