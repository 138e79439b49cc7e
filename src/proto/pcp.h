/*
 * The Port Control Protocol (RFC 6887) as the frame of 001's lease requests: the common
 * request and response headers (7.1, 7.2), the MAP and PEER opcodes (11.1, 12.1), the
 * options of 7.3 and 13, and spinat's GPN option (docs/LEASE.md), which carries 001's GPN
 * definition (step 701: offsets from the end of the underlying header, length, range, the
 * "unspecified" value) and 16-, 32- or 64-bit private and global GPN values. IPv4 only:
 * addresses travel as IPv4-mapped IPv6 addresses (RFC 6887 5).
 */
#ifndef SP_PROTO_PCP_H
#define SP_PROTO_PCP_H

#include "base/cursor.h"

#define PCP_PORT      5351 /* RFC 6887 19.1: the server listens here, clients send from any */
#define PCP_VERSION   2
#define PCP_HDR_LEN   24   /* RFC 6887 7.1, 7.2 */
#define PCP_MAP_LEN   36   /* RFC 6887 11.1 */
#define PCP_PEER_LEN  56   /* RFC 6887 12.1 */
#define PCP_MSG_MAX   1100 /* RFC 6887 7: at most 1100 octets, a multiple of 4 */
#define PCP_NONCE_LEN 12
#define PCP_R_BIT     0x80 /* RFC 6887 7.1: set in responses */

#define PCP_OP_ANNOUNCE 0
#define PCP_OP_MAP	1
#define PCP_OP_PEER	2

/* Option codes (RFC 6887 7.3, 13; 19.4: codes below 128 are mandatory to process). */
#define PCP_OPT_THIRD_PARTY    1
#define PCP_OPT_PREFER_FAILURE 2
#define PCP_OPT_FILTER	       3
#define PCP_OPT_OPTIONAL       0x80 /* the high bit: optional to process */
/* spinat's GPN option: in 96-127, mandatory to process, Private Use (RFC 6887 19.4), so a
 * server that does not know it refuses the request (UNSUPP_OPTION) instead of installing
 * an ordinary port mapping the client would mistake for a lease. */
#define PCP_OPT_SPINAT_GPN     100
#define PCP_GPN_OPT_LEN	       48 /* the option's data (docs/LEASE.md) */

/* GPN option flags. */
#define PCP_GPN_F_TRANSPORT \
	0x80 /* offsets count from the end of the transport header the
				  * opcode's protocol and internal port name (ISAKMP over UDP
				  * 500), not from the end of the IP header */
#define PCP_GPN_F_RECEIVER \
	0x40				/* the field names the receiver (an SPI, RFC 4301 4.1):
				  * outgoing packets carry the foreign end's value, so they
				  * match by protocol, private address and foreign address */
#define PCP_GPN_F_DEFAULT_LIFETIME 0x20 /* expiry unspecified: the NAT's default (001) */
#define PCP_GPN_F_KNOWN		   0xe0

/* Result codes (RFC 6887 7.4). */
#define foreach_pcp_result(_)                                     \
	_(SUCCESS, 0, "SUCCESS")                                  \
	_(UNSUPP_VERSION, 1, "UNSUPP_VERSION")                    \
	_(NOT_AUTHORIZED, 2, "NOT_AUTHORIZED")                    \
	_(MALFORMED_REQUEST, 3, "MALFORMED_REQUEST")              \
	_(UNSUPP_OPCODE, 4, "UNSUPP_OPCODE")                      \
	_(UNSUPP_OPTION, 5, "UNSUPP_OPTION")                      \
	_(MALFORMED_OPTION, 6, "MALFORMED_OPTION")                \
	_(NETWORK_FAILURE, 7, "NETWORK_FAILURE")                  \
	_(NO_RESOURCES, 8, "NO_RESOURCES")                        \
	_(UNSUPP_PROTOCOL, 9, "UNSUPP_PROTOCOL")                  \
	_(USER_EX_QUOTA, 10, "USER_EX_QUOTA")                     \
	_(CANNOT_PROVIDE_EXTERNAL, 11, "CANNOT_PROVIDE_EXTERNAL") \
	_(ADDRESS_MISMATCH, 12, "ADDRESS_MISMATCH")               \
	_(EXCESSIVE_REMOTE_PEERS, 13, "EXCESSIVE_REMOTE_PEERS")

enum pcp_result {
#define _(sym, num, str) PCP_R_##sym = num,
	foreach_pcp_result(_)
#undef _
		PCP_R_NONE = 255, /* no answer at all: the message is dropped (RFC 6887 8.3) */
};

const char *pcp_result_name(uint8_t r);

/* 001 step 701: where the GPN of a protocol is and what values it takes. */
struct pcp_gpn {
	uint8_t pcp_gpn_bits;	  /* 16, 32 or 64 */
	uint8_t pcp_gpn_flags;	  /* PCP_GPN_F_* */
	uint16_t pcp_gpn_src_off; /* bits after the underlying header: source field */
	uint16_t pcp_gpn_dst_off; /* ... destination field */
	uint64_t pcp_gpn_min;	  /* the value range */
	uint64_t pcp_gpn_max;
	uint64_t pcp_gpn_unspec;  /* the value meaning "unspecified" */
	uint64_t pcp_gpn_private; /* 603 */
	uint64_t pcp_gpn_global;  /* 605: suggested (request) or assigned (response) */
};

/* A MAP or PEER request or response (ANNOUNCE has no opcode data). */
struct pcp_msg {
	uint8_t pcp_opcode;
	bool pcp_response;
	uint8_t pcp_result;    /* response */
	uint32_t pcp_lifetime; /* requested (request) or granted (response), seconds */
	uint32_t pcp_epoch;    /* response: seconds since the server's state began */
	uint32_t pcp_client;   /* request: the PCP client's address */
	bool pcp_client_v4;    /* the client address was IPv4-mapped */
	/* MAP and PEER */
	uint8_t pcp_nonce[PCP_NONCE_LEN];
	uint8_t pcp_proto; /* IANA protocol number, 0 all */
	uint16_t pcp_int_port;
	uint16_t pcp_ext_port; /* suggested (request) or assigned (response) */
	uint32_t pcp_ext_ip;   /* 0: unspecified */
	/* PEER */
	uint16_t pcp_peer_port;
	uint32_t pcp_peer_ip;
	/* Options */
	bool pcp_prefer_failure;
	bool pcp_third_party;
	uint32_t pcp_third_party_ip;
	bool pcp_has_gpn;
	struct pcp_gpn pcp_gpn;
};

/*
 * Parse a whole PCP message (one UDP payload) into m. 0 when it is a well-formed MAP or
 * PEER message (or an ANNOUNCE), else SP_EMALFORMED with *result the code a server answers
 * a request with (RFC 6887 8.3, 7.3): PCP_R_NONE when it must not answer (shorter than 4
 * octets, a response where a request was expected or the other way round), UNSUPP_VERSION,
 * UNSUPP_OPCODE, MALFORMED_REQUEST, UNSUPP_OPTION (a mandatory option it does not know),
 * MALFORMED_OPTION. want_response says which kind the caller expects.
 */
int pcp_parse(struct cur *c, bool want_response, struct pcp_msg *m, uint8_t *result) SP_MUST_CHECK;

/* Build m (a request unless m->pcp_response) with its options into w: 24 + opcode data +
 * options octets. The GPN option is written when pcp_has_gpn. */
int pcp_build(struct wcur *w, const struct pcp_msg *m) SP_MUST_CHECK;

/*
 * An error response to the request req (len octets): the request copied (RFC 6887 8.3:
 * "copies the request", up to 1100 octets, cut to a multiple of 4) with the R bit, result
 * code, lifetime and epoch set, the request-only client address field zeroed.
 * SP_EINVAL when len < 2 (RFC 6887 8.3: such a message is dropped unanswered).
 */
int pcp_build_error(struct wcur *w, const uint8_t *req, size_t len, uint8_t result,
		    uint32_t lifetime, uint32_t epoch) SP_MUST_CHECK;

#endif
