#include "proto/udp.h"
#include "base/csum.h"

int udp_parse(struct cur *c, struct udp_hdr *h)
{
	struct cur t = *c;
	int r;

	if ((r = cur_get_u16(&t, &h->udp_sport)) != 0 ||
	    (r = cur_get_u16(&t, &h->udp_dport)) != 0 || (r = cur_get_u16(&t, &h->udp_len)) != 0 ||
	    (r = cur_get_u16(&t, &h->udp_csum)) != 0)
		return r;
	if (h->udp_len < UDP_HDR_LEN)
		return SP_EMALFORMED;
	if ((size_t)(h->udp_len - UDP_HDR_LEN) > cur_left(&t))
		return SP_ESHORT;
	*c = t;
	return 0;
}

int udp_build(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t src, uint32_t dst, bool csum)
{
	uint32_t len = p->len + UDP_HDR_LEN;
	uint8_t *b;

	if (len > 0xffff)
		return SP_EINVAL;
	if ((b = pkt_push(p, UDP_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b + UDP_OFF_SPORT, sport);
	sp_store_be16(b + UDP_OFF_DPORT, dport);
	sp_store_be16(b + UDP_OFF_LEN, (uint16_t)len);
	sp_store_be16(b + UDP_OFF_CSUM, 0);
	if (csum)
		sp_store_be16(b + UDP_OFF_CSUM, csum_udp(src, dst, b, len));
	return 0;
}

bool udp_csum_ok(const uint8_t *dgram, size_t len, uint32_t src, uint32_t dst)
{
	if (len < UDP_HDR_LEN)
		return false;
	if (sp_load_be16(dgram + UDP_OFF_CSUM) == 0)
		return true;
	return csum_l4(src, dst, 17, dgram, len) == 0;
}
