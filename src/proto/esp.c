#include "proto/esp.h"

int esp_parse(struct cur *c, struct esp_hdr *h)
{
	struct cur t = *c;
	int r;

	if ((r = cur_get_u32(&t, &h->esp_spi)) != 0 || (r = cur_get_u32(&t, &h->esp_seq)) != 0)
		return r;
	if (h->esp_spi == 0)
		return SP_EMALFORMED;
	*c = t;
	return 0;
}

int esp_build_hdr(struct pkt *p, uint32_t spi, uint32_t seq)
{
	uint8_t *b = pkt_push(p, ESP_HDR_LEN);

	if (b == NULL)
		return SP_ENOSPACE;
	sp_store_be32(b, spi);
	sp_store_be32(b + 4, seq);
	return 0;
}
