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

/* Option kinds (RFC 9293 3.2; RFC 7323 for window scale and timestamps, RFC 2018 SACK). */
#define TCP_OPT_EOL	  0
#define TCP_OPT_NOP	  1
#define TCP_OPT_MSS	  2 /* length 4: a NAT in front of a tunnel clamps it */
#define TCP_OPT_WSCALE	  3 /* length 3 */
#define TCP_OPT_SACK_PERM 4 /* length 2 */
#define TCP_OPT_SACK	  5
#define TCP_OPT_TS	  8  /* length 10 */
#define TCP_OPT_MAX	  40 /* options fill at most 60 - 20 octets */

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

/* One option. */
struct tcp_opt {
	uint8_t topt_kind;
	uint8_t topt_len;    /* the whole option: 1 for NOP, else the Length octet (>= 2) */
	struct cur topt_val; /* topt_len - 2 octets (none for NOP) */
};

/*
 * Next option from a cursor over the options (tcp_opts, tcp_hl - 20 octets): 0, or
 * SP_ENOTFOUND at the end of the list (no octets left, or End of Option List). NOP is
 * returned as an option of length 1. SP_EMALFORMED when a Length octet is missing, under
 * 2 or past the options (RFC 9293 3.2); the cursor then stays put.
 */
int tcp_opt_next(struct cur *opts, struct tcp_opt *o) SP_MUST_CHECK;

/* Push a header (h->tcp_hl ignored: 20 + optlen) over the payload and compute the
 * checksum for src/dst. optlen is a multiple of 4, at most 40. */
int tcp_build(struct pkt *p, const struct tcp_hdr *h, const uint8_t *opts, uint8_t optlen,
	      uint32_t src, uint32_t dst) SP_MUST_CHECK;

/* Verify the checksum of a whole segment of len bytes. */
bool tcp_csum_ok(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

#endif
