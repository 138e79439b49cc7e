/* ESP header (RFC 4303 2): SPI and sequence number in front of the protected payload. */
#ifndef SP_PROTO_ESP_H
#define SP_PROTO_ESP_H

#include "base/cursor.h"
#include "base/pkt.h"

#define ESP_HDR_LEN	8
#define ESP_TRAILER_MIN 2 /* pad length + next header */
/* SPIs 1-255 are reserved by IANA, 0 for local use: never on the wire (RFC 4303 2.1). */
#define ESP_SPI_MIN	256

struct esp_hdr {
	uint32_t esp_spi;
	uint32_t esp_seq;
};

/* Consume the 8-byte header; SPI 0 (the NAT-T non-ESP marker) is SP_EMALFORMED. */
int esp_parse(struct cur *c, struct esp_hdr *h) SP_MUST_CHECK;
/* Push the header over the packet's data. */
int esp_build_hdr(struct pkt *p, uint32_t spi, uint32_t seq) SP_MUST_CHECK;

#endif
