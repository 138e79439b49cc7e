/*
 * STUN wire format (RFC 8489 5, 14; classic RFC 3489 11.1): the 20-octet header, the
 * attribute iterator, (XOR-)MAPPED-ADDRESS for IPv4, and FINGERPRINT. A message whose
 * second word is not the magic cookie is a classic RFC 3489 message with a 128-bit
 * transaction ID. The Binding service built on it is src/l2tp/'s.
 */
#ifndef SP_PROTO_STUN_H
#define SP_PROTO_STUN_H

#include "base/cursor.h"
#include "base/pkt.h"

#define STUN_PORT     3478
#define STUN_HDR_LEN  20
#define STUN_MAGIC    0x2112a442u
#define STUN_TID_LEN  16 /* classic: all 16; RFC 8489: the cookie and 12 octets */
#define STUN_MSG_MAX  1500
#define STUN_ATTR_HDR 4
#define STUN_FP_XOR   0x5354554eu /* RFC 8489 14.7: "STUN" */

/* Message type (RFC 8489 5): method bits M0-M11 around the class bits C0 (0x0010) and C1
 * (0x0100). Binding is method 1. */
#define STUN_BINDING_REQ    0x0001
#define STUN_BINDING_IND    0x0011
#define STUN_BINDING_OK	    0x0101
#define STUN_BINDING_ERR    0x0111
#define STUN_CLASS_MASK	    0x0110
#define STUN_CLASS_REQUEST  0x0000
#define STUN_CLASS_INDICATE 0x0010
#define STUN_CLASS_OK	    0x0100
#define STUN_CLASS_ERR	    0x0110

/* Attributes (RFC 8489 18.3; RFC 3489 11.2 for the classic ones). */
#define STUN_A_MAPPED_ADDRESS	  0x0001
#define STUN_A_RESPONSE_ADDRESS	  0x0002 /* classic */
#define STUN_A_CHANGE_REQUEST	  0x0003 /* classic */
#define STUN_A_SOURCE_ADDRESS	  0x0004 /* classic */
#define STUN_A_CHANGED_ADDRESS	  0x0005 /* classic */
#define STUN_A_USERNAME		  0x0006
#define STUN_A_MESSAGE_INTEGRITY  0x0008
#define STUN_A_ERROR_CODE	  0x0009
#define STUN_A_UNKNOWN_ATTRIBUTES 0x000a
#define STUN_A_REALM		  0x0014
#define STUN_A_NONCE		  0x0015
#define STUN_A_MI_SHA256	  0x001c
#define STUN_A_PASSWORD_ALGORITHM 0x001d
#define STUN_A_USERHASH		  0x001e
#define STUN_A_XOR_MAPPED_ADDRESS 0x0020
#define STUN_A_PRIORITY		  0x0024 /* ICE, RFC 8445 */
#define STUN_A_USE_CANDIDATE	  0x0025
#define STUN_A_SOFTWARE		  0x8022
#define STUN_A_FINGERPRINT	  0x8028
#define STUN_A_ICE_CONTROLLED	  0x8029
#define STUN_A_ICE_CONTROLLING	  0x802a
#define STUN_FAMILY_IPV4	  0x01

struct stun_hdr {
	uint16_t stun_type;
	uint16_t stun_len;		/* octets of attributes */
	bool stun_classic;		/* no magic cookie: RFC 3489 */
	uint8_t stun_tid[STUN_TID_LEN]; /* octets 4..19 of the header, cookie included */
	struct cur stun_attrs;		/* stun_len octets */
};

/*
 * Parse and consume a message: the top two bits of the type are zero, Length is a
 * multiple of 4 and fits the data (SP_EMALFORMED / SP_ESHORT). Octets past Length are
 * left at the cursor.
 */
int stun_parse(struct cur *c, struct stun_hdr *h) SP_MUST_CHECK;

struct stun_attr {
	uint16_t sa_type;
	uint16_t sa_len; /* value octets, before padding */
	struct cur sa_val;
};

/* Next attribute and its padding to 4 octets: 0, SP_ENOTFOUND at the end, SP_EMALFORMED
 * when a value or its padding runs past the attributes. */
int stun_attr_next(struct cur *attrs, struct stun_attr *a) SP_MUST_CHECK;

/* MAPPED-ADDRESS and the classic address attributes (RFC 8489 14.1): IPv4 only
 * (SP_EUNSUPP for another family). */
int stun_get_addr(const struct stun_attr *a, uint32_t *addr, uint16_t *port) SP_MUST_CHECK;
/* XOR-MAPPED-ADDRESS (RFC 8489 14.2), IPv4. */
int stun_get_xor_addr(const struct stun_attr *a, uint32_t *addr, uint16_t *port) SP_MUST_CHECK;

/* Start a message at the tail of p: header with Length 0 (fixed by stun_finish). */
int stun_put_hdr(struct pkt *p, uint16_t type, const uint8_t tid[STUN_TID_LEN]) SP_MUST_CHECK;
/* Append an attribute with its padding (zeros). */
int stun_put_attr(struct pkt *p, uint16_t type, const void *val, uint16_t len) SP_MUST_CHECK;
int stun_put_addr(struct pkt *p, uint16_t type, uint32_t addr, uint16_t port) SP_MUST_CHECK;
int stun_put_xor_addr(struct pkt *p, uint32_t addr, uint16_t port) SP_MUST_CHECK;
/* ERROR-CODE (RFC 8489 14.8): class and number from code (e.g. 420), reason phrase. */
int stun_put_error(struct pkt *p, uint16_t code, const char *reason) SP_MUST_CHECK;
/* Set the header's Length from the packet (the message starts at pkt_data(p)). */
void stun_finish(struct pkt *p);
/* Append FINGERPRINT (RFC 8489 14.7) and set Length; must be the last attribute. */
int stun_put_fingerprint(struct pkt *p) SP_MUST_CHECK;
/* Whether the message ends with a correct FINGERPRINT (false when it has none). */
bool stun_fingerprint_ok(const uint8_t *msg, size_t len);

/* CRC-32 of ITU V.42 / RFC 1952 8. */
uint32_t stun_crc32(const uint8_t *p, size_t len);

const char *stun_attr_name(uint16_t type);

#endif
