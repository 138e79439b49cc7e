/*
 * PPP framing as L2TP data messages carry it (RFC 1661 2, RFC 1662 3.1, RFC 2661 4.4.5):
 * the optional Address and Control octets 0xFF 0x03, the Protocol field (one or two
 * octets), and the header of LCP-like control protocol packets with their options
 * (RFC 1661 5 and 6). LCP, CHAP and IPCP themselves are src/l2tp/'s.
 */
#ifndef SP_PROTO_PPP_H
#define SP_PROTO_PPP_H

#include "base/cursor.h"
#include "base/pkt.h"

#define PPP_ADDRESS 0xff /* All-Stations (RFC 1662 3.1) */
#define PPP_CONTROL 0x03 /* Unnumbered Information */
#define PPP_ACF_LEN 2

/* Protocol field values (RFC 1661 2; IANA "PPP DLL Protocol Numbers"). */
#define PPP_PROTO_IP	 0x0021
#define PPP_PROTO_IPV6	 0x0057
#define PPP_PROTO_IPCP	 0x8021
#define PPP_PROTO_IPV6CP 0x8057
#define PPP_PROTO_LCP	 0xc021
#define PPP_PROTO_PAP	 0xc023
#define PPP_PROTO_LQR	 0xc025
#define PPP_PROTO_CHAP	 0xc223

/* LCP/IPCP packet header (RFC 1661 5): Code, Identifier, Length (the whole packet). */
#define PPP_CP_HDR_LEN	   4
#define PPP_CP_CONF_REQ	   1
#define PPP_CP_CONF_ACK	   2
#define PPP_CP_CONF_NAK	   3
#define PPP_CP_CONF_REJ	   4
#define PPP_CP_TERM_REQ	   5
#define PPP_CP_TERM_ACK	   6
#define PPP_CP_CODE_REJ	   7
#define PPP_CP_PROTO_REJ   8 /* LCP only */
#define PPP_CP_ECHO_REQ	   9 /* LCP only */
#define PPP_CP_ECHO_REPLY  10
#define PPP_CP_DISCARD_REQ 11
#define PPP_OPT_HDR_LEN	   2 /* Type, Length (the whole option) */

/* LCP options (RFC 1661 6) and IPCP's address option (RFC 1332 3.3). */
#define PPP_LCP_OPT_MRU	  1
#define PPP_LCP_OPT_AUTH  3
#define PPP_LCP_OPT_MAGIC 5
#define PPP_LCP_OPT_PFC	  7
#define PPP_LCP_OPT_ACFC  8
#define PPP_IPCP_OPT_ADDR 3

struct ppp_hdr {
	bool ppp_acf; /* the frame began with 0xFF 0x03 */
	uint16_t ppp_proto;
	uint8_t ppp_hlen; /* octets consumed: 1 to 4 */
};

/*
 * Parse and consume the framing in front of a PPP packet: 0xFF 0x03 when present (a frame
 * starting 0xFF with another second octet is SP_EMALFORMED), then a Protocol field of one
 * octet (odd: compressed, RFC 1661 6.5) or two (first octet even, second odd, RFC 1661 2;
 * other values are SP_EMALFORMED).
 */
int ppp_parse(struct cur *c, struct ppp_hdr *h) SP_MUST_CHECK;

/* Push the framing in front of the packet's data: 0xFF 0x03 when acf, and the two-octet
 * Protocol field (never compressed). SP_EINVAL for a proto that breaks the rule above. */
int ppp_build(struct pkt *p, uint16_t proto, bool acf) SP_MUST_CHECK;

/* A control protocol packet (LCP, IPCP, ...). */
struct ppp_cp {
	uint8_t cp_code;
	uint8_t cp_id;
	uint16_t cp_len;    /* the whole packet, header included */
	struct cur cp_data; /* cp_len - 4 octets: options for Configure-*, else code data */
};

/* Parse and consume a control packet: 4 <= Length <= data (octets past Length are padding,
 * RFC 1661 5, and are consumed too). */
int ppp_cp_parse(struct cur *c, struct ppp_cp *cp) SP_MUST_CHECK;
/* Push a control packet header in front of the packet's data (its options or data). */
int ppp_cp_build(struct pkt *p, uint8_t code, uint8_t id) SP_MUST_CHECK;

struct ppp_opt {
	uint8_t opt_type;
	uint8_t opt_len;    /* the whole option, >= 2 */
	struct cur opt_val; /* opt_len - 2 octets */
};

/* Next option of a Configure-* packet's data: 0, SP_ENOTFOUND at the end, SP_EMALFORMED
 * for a Length under 2 or past the data (the cursor then stays put). */
int ppp_opt_next(struct cur *opts, struct ppp_opt *o) SP_MUST_CHECK;
/* Append an option at the tail. */
int ppp_opt_put(struct pkt *p, uint8_t type, const void *val, uint8_t len) SP_MUST_CHECK;

#endif
