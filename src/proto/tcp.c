#include "proto/tcp.h"
#include "base/csum.h"

#include <string.h>

int tcp_parse(struct cur *c, struct tcp_hdr *h)
{
	struct cur t = *c;
	uint8_t off;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = cur_get_u16(&t, &h->tcp_sport)) != 0 ||
	    (r = cur_get_u16(&t, &h->tcp_dport)) != 0 || (r = cur_get_u32(&t, &h->tcp_seq)) != 0 ||
	    (r = cur_get_u32(&t, &h->tcp_ack)) != 0 || (r = cur_get_u8(&t, &off)) != 0 ||
	    (r = cur_get_u8(&t, &h->tcp_flags)) != 0 || (r = cur_get_u16(&t, &h->tcp_win)) != 0 ||
	    (r = cur_get_u16(&t, &h->tcp_csum)) != 0 || (r = cur_get_u16(&t, &h->tcp_urp)) != 0)
		return r;
	h->tcp_hl = (uint8_t)((off >> 4) * 4);
	if (h->tcp_hl < TCP_HDR_MIN)
		return SP_EMALFORMED;
	if ((r = cur_get_ptr(&t, h->tcp_hl - TCP_HDR_MIN, &h->tcp_opts)) != 0)
		return r;
	*c = t;
	return 0;
}

int tcp_opt_next(struct cur *opts, struct tcp_opt *o)
{
	struct cur r = *opts;
	struct tcp_opt t;

	if (cur_get_u8(&r, &t.topt_kind) != 0 || t.topt_kind == TCP_OPT_EOL)
		return SP_ENOTFOUND;
	if (t.topt_kind == TCP_OPT_NOP) {
		t.topt_len = 1;
		cur_init(&t.topt_val, cur_ptr(&r), 0);
	} else if (cur_get_u8(&r, &t.topt_len) != 0 || t.topt_len < 2 ||
		   cur_get_sub(&r, t.topt_len - 2U, &t.topt_val) != 0) {
		return SP_EMALFORMED;
	}
	*o = t;
	*opts = r;
	return 0;
}

int tcp_build(struct pkt *p, const struct tcp_hdr *h, const uint8_t *opts, uint8_t optlen,
	      uint32_t src, uint32_t dst)
{
	uint32_t hl = TCP_HDR_MIN + optlen;
	uint32_t len = p->len + hl;
	uint8_t *b;

	if (optlen > TCP_OPT_MAX || optlen % 4 != 0 || len > 0xffff)
		return SP_EINVAL;
	if ((b = pkt_push(p, hl)) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b + TCP_OFF_SPORT, h->tcp_sport);
	sp_store_be16(b + TCP_OFF_DPORT, h->tcp_dport);
	sp_store_be32(b + TCP_OFF_SEQ, h->tcp_seq);
	sp_store_be32(b + TCP_OFF_ACK, h->tcp_ack);
	b[12] = (uint8_t)(hl / 4 << 4);
	b[TCP_OFF_FLAGS] = h->tcp_flags;
	sp_store_be16(b + 14, h->tcp_win);
	sp_store_be16(b + TCP_OFF_CSUM, 0);
	sp_store_be16(b + 18, h->tcp_urp);
	if (optlen > 0)
		memcpy(b + TCP_HDR_MIN, opts, optlen);
	sp_store_be16(b + TCP_OFF_CSUM, csum_l4(src, dst, 6, b, len));
	return 0;
}

bool tcp_csum_ok(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	return len >= TCP_HDR_MIN && csum_l4(src, dst, 6, seg, len) == 0;
}
