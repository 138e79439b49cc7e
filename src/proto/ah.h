/*
 * AH header (RFC 4302 2): next header, payload length in 32-bit words minus 2, SPI,
 * sequence number, ICV. For IPv4 the header is a multiple of 4 bytes.
 */
#ifndef SP_PROTO_AH_H
#define SP_PROTO_AH_H

#include "base/cursor.h"
#include "base/pkt.h"

#define AH_HDR_FIXED 12 /* without the ICV */
#define AH_ICV_MAX   64
#define AH_OFF_NH    0
#define AH_OFF_LEN   1
#define AH_OFF_SPI   4
#define AH_OFF_SEQ   8
#define AH_OFF_ICV   12

struct ah_hdr {
	uint8_t ah_nh;
	uint8_t ah_len; /* as on the wire: (total bytes / 4) - 2 */
	uint16_t ah_rsv;
	uint32_t ah_spi;
	uint32_t ah_seq;
	const uint8_t *ah_icv; /* into the parsed buffer */
	uint8_t ah_icvlen;     /* total - 12 */
};

/* Total header length in bytes for a payload-length field value. */
static inline size_t ah_total_len(uint8_t ah_len)
{
	return ((size_t)ah_len + 2) * 4;
}

/* Consume the header; length must cover the fixed part, fit the data, and ICV <= 64. */
int ah_parse(struct cur *c, struct ah_hdr *h) SP_MUST_CHECK;

/* Push a header with a zeroed ICV of icvlen bytes (icvlen % 4 == 0); *icv points at it. */
int ah_build_hdr(struct pkt *p, uint8_t nh, uint32_t spi, uint32_t seq, uint8_t icvlen,
		 uint8_t **icv) SP_MUST_CHECK;

#endif
