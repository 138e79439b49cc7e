/* TCP header (RFC 9293): ports, sequence numbers, flags, options and checksum. */
#ifndef SP_PROTO_TCP_H
#define SP_PROTO_TCP_H

#include "base/cursor.h"
#include "base/pkt.h"

#define TCP_HDR_MIN   20
#define TCP_OFF_SPORT 0
#define TCP_OFF_DPORT 2
#define TCP_OFF_SEQ   4
#define TCP_OFF_ACK   8
#define TCP_OFF_FLAGS 13
#define TCP_OFF_CSUM  16

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

struct tcp_hdr {
	uint16_t tcp_sport;
	uint16_t tcp_dport;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t tcp_hl; /* header length in bytes (20..60) */
	uint8_t tcp_flags;
	uint16_t tcp_win;
	uint16_t tcp_csum;
	uint16_t tcp_urp;
	const uint8_t *tcp_opts; /* tcp_hl - 20 bytes */
};

/* Consume the header (data offset checked against the bytes available). */
int tcp_parse(struct cur *c, struct tcp_hdr *h) SP_MUST_CHECK;

/* Push a header (h->tcp_hl ignored: 20 + optlen) over the payload and compute the
 * checksum for src/dst. optlen is a multiple of 4, at most 40. */
int tcp_build(struct pkt *p, const struct tcp_hdr *h, const uint8_t *opts, uint8_t optlen,
	      uint32_t src, uint32_t dst) SP_MUST_CHECK;

/* Verify the checksum of a whole segment of len bytes. */
bool tcp_csum_ok(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

#endif
