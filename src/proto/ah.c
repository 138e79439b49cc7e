#include "proto/ah.h"

#include <string.h>

int ah_parse(struct cur *c, struct ah_hdr *h)
{
	struct cur t = *c;
	size_t total;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = cur_get_u8(&t, &h->ah_nh)) != 0 || (r = cur_get_u8(&t, &h->ah_len)) != 0 ||
	    (r = cur_get_u16(&t, &h->ah_rsv)) != 0 || (r = cur_get_u32(&t, &h->ah_spi)) != 0 ||
	    (r = cur_get_u32(&t, &h->ah_seq)) != 0)
		return r;
	total = ah_total_len(h->ah_len);
	if (total < AH_HDR_FIXED || total - AH_HDR_FIXED > AH_ICV_MAX)
		return SP_EMALFORMED;
	if (h->ah_spi == 0)
		return SP_EMALFORMED;
	h->ah_icvlen = (uint8_t)(total - AH_HDR_FIXED);
	if ((r = cur_get_ptr(&t, h->ah_icvlen, &h->ah_icv)) != 0)
		return r;
	*c = t;
	return 0;
}

int ah_build_hdr(struct pkt *p, uint8_t nh, uint32_t spi, uint32_t seq, uint8_t icvlen,
		 uint8_t **icv)
{
	size_t total = AH_HDR_FIXED + (size_t)icvlen;
	uint8_t *b;

	*icv = NULL;
	if (icvlen % 4 != 0 || icvlen > AH_ICV_MAX)
		return SP_EINVAL;
	if ((b = pkt_push(p, (uint32_t)total)) == NULL)
		return SP_ENOSPACE;
	b[AH_OFF_NH] = nh;
	b[AH_OFF_LEN] = (uint8_t)(total / 4 - 2);
	sp_store_be16(b + 2, 0);
	sp_store_be32(b + AH_OFF_SPI, spi);
	sp_store_be32(b + AH_OFF_SEQ, seq);
	memset(b + AH_OFF_ICV, 0, icvlen);
	*icv = b + AH_OFF_ICV;
	return 0;
}
