/*
 * ICMP for IPv4 (RFC 792): echo request/reply, and the error messages that carry the
 * offending packet's IP header and at least 8 bytes of its payload (RFC 1812 4.3.2.3).
 */
#ifndef SP_PROTO_ICMP_H
#define SP_PROTO_ICMP_H

#include "base/cursor.h"
#include "base/pkt.h"

#define ICMP_HDR_LEN  8
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_ID   4
#define ICMP_OFF_SEQ  6

#define ICMP_ECHO_REPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT	   5
#define ICMP_ECHO_REQUEST  8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define ICMP_UNREACH_HOST     1
#define ICMP_UNREACH_PORT     3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_ADMIN    13

struct icmp_hdr {
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_csum;
	uint16_t icmp_id;   /* echo: identifier */
	uint16_t icmp_seq;  /* echo: sequence */
	uint32_t icmp_rest; /* the second word as a whole (unused / next-hop MTU / pointer) */
	/* Errors: the embedded packet (IP header + at least 8 bytes), else NULL. */
	const uint8_t *icmp_inner;
	size_t icmp_inner_len;
	bool icmp_csum_ok; /* over the len bytes given to icmp_parse */
};

static inline bool icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM;
}

static inline bool icmp_is_echo(uint8_t type)
{
	return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
}

/*
 * Parse the message that fills the cursor (the IP payload) and consume it all. For error
 * types the embedded datagram must hold an IPv4 header whose length fits and 8 bytes
 * after it, else SP_EMALFORMED.
 */
int icmp_parse(struct cur *c, struct icmp_hdr *h) SP_MUST_CHECK;

/* Push an echo header (type ICMP_ECHO_REQUEST or _REPLY) over the data and checksum it. */
int icmp_build_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq) SP_MUST_CHECK;

/*
 * Build an error into an empty packet: header, then orig (the offending IP packet) cut to
 * its IP header + 8 bytes, or to 576 - 28 bytes at most when longer is available.
 */
int icmp_build_error(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *orig,
		     size_t orig_len) SP_MUST_CHECK;

/* Recompute the checksum of a message of len bytes in place. */
void icmp_set_csum(uint8_t *msg, size_t len);

#endif
