/* UDP header (RFC 768) with the IPv4 pseudo-header checksum; checksum 0 means none. */
#ifndef SP_PROTO_UDP_H
#define SP_PROTO_UDP_H

#include "base/cursor.h"
#include "base/pkt.h"

#define UDP_HDR_LEN   8
#define UDP_OFF_SPORT 0
#define UDP_OFF_DPORT 2
#define UDP_OFF_LEN   4
#define UDP_OFF_CSUM  6

#define UDP_PORT_IKE	  500
#define UDP_PORT_IKE_NATT 4500
#define UDP_PORT_L2TP	  1701

struct udp_hdr {
	uint16_t udp_sport;
	uint16_t udp_dport;
	uint16_t udp_len; /* header + payload */
	uint16_t udp_csum;
};

/* Consume the header; 8 <= udp_len <= bytes available, else SP_EMALFORMED/SP_ESHORT. The
 * payload is the next udp_len - 8 bytes. */
int udp_parse(struct cur *c, struct udp_hdr *h) SP_MUST_CHECK;

/* Push a header over the packet's data (the payload). With csum true the checksum is
 * computed over the pseudo-header for src/dst (host order); else it is 0. */
int udp_build(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t src, uint32_t dst,
	      bool csum) SP_MUST_CHECK;

/* Verify the checksum of a whole datagram (header + payload) of len bytes; a zero
 * checksum field verifies (no checksum). */
bool udp_csum_ok(const uint8_t *dgram, size_t len, uint32_t src, uint32_t dst);

#endif
