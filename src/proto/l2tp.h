/*
 * L2TPv2 wire format (RFC 2661): the header of control and data messages (3.1) and the
 * control-message AVPs (4.1) with an iterator and builders, plus the message and attribute
 * type numbers (3.2, 4.4). Tunnels, sessions and their state machines are src/l2tp/'s.
 */
#ifndef SP_PROTO_L2TP_H
#define SP_PROTO_L2TP_H

#include "base/cursor.h"
#include "base/pkt.h"

/*
 * RFC 2661 3.1, the first word: |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |. The x bits are sent as
 * zero and ignored on receipt.
 */
#define L2TP_F_T      0x8000 /* control message (else data) */
#define L2TP_F_L      0x4000 /* Length field present */
#define L2TP_F_S      0x0800 /* Ns and Nr present */
#define L2TP_F_O      0x0200 /* Offset Size present */
#define L2TP_F_P      0x0100 /* priority (data messages only) */
#define L2TP_F_KNOWN  (L2TP_F_T | L2TP_F_L | L2TP_F_S | L2TP_F_O | L2TP_F_P)
#define L2TP_VER_MASK 0x000f
#define L2TP_VERSION  2	    /* "Ver MUST be 2"; 1 is L2F, 3 is L2TPv3 */
#define L2TP_HDR_MIN  6	    /* flags, tunnel ID, session ID */
#define L2TP_HDR_CTRL 12    /* flags, Length, tunnel ID, session ID, Ns, Nr */
#define L2TP_MSG_MAX  65535 /* the Length field's range */

/* Control message types (RFC 2661 3.2), the value of the Message Type AVP. */
#define L2TP_MSG_SCCRQ	 1 /* Start-Control-Connection-Request */
#define L2TP_MSG_SCCRP	 2 /* Start-Control-Connection-Reply */
#define L2TP_MSG_SCCCN	 3 /* Start-Control-Connection-Connected */
#define L2TP_MSG_STOPCCN 4 /* Stop-Control-Connection-Notification */
#define L2TP_MSG_HELLO	 6
#define L2TP_MSG_OCRQ	 7 /* Outgoing-Call-Request */
#define L2TP_MSG_OCRP	 8
#define L2TP_MSG_OCCN	 9
#define L2TP_MSG_ICRQ	 10 /* Incoming-Call-Request */
#define L2TP_MSG_ICRP	 11
#define L2TP_MSG_ICCN	 12
#define L2TP_MSG_CDN	 14 /* Call-Disconnect-Notify */
#define L2TP_MSG_WEN	 15 /* WAN-Error-Notify */
#define L2TP_MSG_SLI	 16 /* Set-Link-Info */
#define L2TP_MSG_ZLB	 0  /* not a type: l2tp_ctrl_msg_type()'s answer for a bare ack (5.8) */

/* AVP header (RFC 2661 4.1): |M|H| rsvd  |      Length       |  Vendor ID  | Attribute Type | */
#define L2TP_AVP_HDR_LEN  6
#define L2TP_AVP_LEN_MAX  1023 /* 10-bit Length, header included */
#define L2TP_AVP_F_M	  0x8000
#define L2TP_AVP_F_H	  0x4000
#define L2TP_AVP_F_RSVD	  0x3c00
#define L2TP_AVP_LEN_MASK 0x03ff
#define L2TP_VENDOR_IETF  0

/* Attribute types with Vendor ID 0 (RFC 2661 4.4). */
#define L2TP_AVP_MSG_TYPE	   0
#define L2TP_AVP_RESULT_CODE	   1
#define L2TP_AVP_PROTO_VERSION	   2
#define L2TP_AVP_FRAMING_CAP	   3
#define L2TP_AVP_BEARER_CAP	   4
#define L2TP_AVP_TIE_BREAKER	   5
#define L2TP_AVP_FIRMWARE_REV	   6
#define L2TP_AVP_HOST_NAME	   7
#define L2TP_AVP_VENDOR_NAME	   8
#define L2TP_AVP_ASSIGNED_TID	   9
#define L2TP_AVP_RECV_WINDOW	   10
#define L2TP_AVP_CHALLENGE	   11
#define L2TP_AVP_Q931_CAUSE	   12
#define L2TP_AVP_CHALLENGE_RESP	   13
#define L2TP_AVP_ASSIGNED_SID	   14
#define L2TP_AVP_CALL_SERIAL	   15
#define L2TP_AVP_MIN_BPS	   16
#define L2TP_AVP_MAX_BPS	   17
#define L2TP_AVP_BEARER_TYPE	   18
#define L2TP_AVP_FRAMING_TYPE	   19
#define L2TP_AVP_CALLED_NUMBER	   21
#define L2TP_AVP_CALLING_NUMBER	   22
#define L2TP_AVP_SUB_ADDRESS	   23
#define L2TP_AVP_TX_CONNECT_SPEED  24
#define L2TP_AVP_PHYS_CHANNEL	   25
#define L2TP_AVP_INIT_RECV_CONFREQ 26
#define L2TP_AVP_LAST_SENT_CONFREQ 27
#define L2TP_AVP_LAST_RECV_CONFREQ 28
#define L2TP_AVP_PROXY_AUTH_TYPE   29
#define L2TP_AVP_PROXY_AUTH_NAME   30
#define L2TP_AVP_PROXY_AUTH_CHAL   31
#define L2TP_AVP_PROXY_AUTH_ID	   32
#define L2TP_AVP_PROXY_AUTH_RESP   33
#define L2TP_AVP_CALL_ERRORS	   34
#define L2TP_AVP_ACCM		   35
#define L2TP_AVP_RANDOM_VECTOR	   36
#define L2TP_AVP_PRIVATE_GROUP	   37
#define L2TP_AVP_RX_CONNECT_SPEED  38
#define L2TP_AVP_SEQ_REQUIRED	   39

/* Values the SCCRQ carries (RFC 2661 4.4.2, 4.4.3). */
#define L2TP_PROTO_VERSION  0x0100 /* Ver 1, Rev 0 */
#define L2TP_FRAMING_SYNC   0x00000001
#define L2TP_FRAMING_ASYNC  0x00000002
#define L2TP_BEARER_DIGITAL 0x00000001
#define L2TP_BEARER_ANALOG  0x00000002

/* A header, host order. */
struct l2tp_hdr {
	uint16_t l2tp_flags; /* L2TP_F_* bits as on the wire; x bits and Ver masked off */
	uint8_t l2tp_ver;
	uint16_t l2tp_len; /* the Length field when L, else 0 */
	uint16_t l2tp_tid;
	uint16_t l2tp_sid;
	uint16_t l2tp_ns;	/* when S */
	uint16_t l2tp_nr;	/* when S; reserved and to be ignored in data messages */
	uint16_t l2tp_off_size; /* when O: octets of padding after the Offset Size field */
	uint32_t l2tp_hlen;	/* header octets, padding included */
	uint32_t l2tp_plen;	/* payload octets after the header */
};

static inline bool l2tp_is_control(const struct l2tp_hdr *h)
{
	return (h->l2tp_flags & L2TP_F_T) != 0;
}

/*
 * Parse and consume the header at the cursor, offset padding included, leaving the cursor
 * at the payload (the next l2tp_plen octets: up to Length when L is set, else the rest).
 * SP_EUNSUPP for a Ver other than 2 ("MUST be discarded", RFC 2661 3.1). SP_EMALFORMED for
 * a control message without L and S or with O or P set, or a Length shorter than the
 * header. SP_ESHORT when the header, its padding or Length runs past the data.
 */
int l2tp_parse(struct cur *c, struct l2tp_hdr *h) SP_MUST_CHECK;

/*
 * Push a header in front of the packet's data (AVPs for control, a PPP frame for data).
 * h->l2tp_flags selects the optional fields; the Length value, l2tp_hlen and l2tp_plen are
 * computed (h's are ignored); with O, l2tp_off_size zero octets of padding are pushed.
 * SP_EINVAL for a control header that breaks RFC 2661 3.1 (L and S set, O and P clear) or
 * for a message over 65535 octets.
 */
int l2tp_build(struct pkt *p, const struct l2tp_hdr *h) SP_MUST_CHECK;

/* The control header (T, L, S set) in front of the AVPs in the packet. */
int l2tp_build_ctrl(struct pkt *p, uint16_t tid, uint16_t sid, uint16_t ns,
		    uint16_t nr) SP_MUST_CHECK;

/* A data header with no optional fields (the smallest, 6 octets) in front of a PPP frame. */
int l2tp_build_data(struct pkt *p, uint16_t tid, uint16_t sid) SP_MUST_CHECK;

/* One AVP. */
struct l2tp_avp {
	bool avp_m; /* mandatory: an unrecognised one clears the session or tunnel (4.1) */
	bool avp_h; /* hidden value (4.3): avp_val is the obscured form */
	/* A reserved bit is set: the AVP "MUST be treated as an unrecognized AVP" (4.1). */
	bool avp_rsvd;
	uint16_t avp_len; /* including the 6-octet header */
	uint16_t avp_vendor;
	uint16_t avp_type;
	struct cur avp_val; /* avp_len - 6 octets */
};

struct l2tp_avp_iter {
	struct cur it_c;
	int it_end; /* 0 while walking, then what every further call returns */
};

/* Walk the AVPs of a control message body (the l2tp_plen octets after the header). */
void l2tp_avp_iter_init(struct l2tp_avp_iter *it, const struct cur *avps);
/* Next AVP: 0, SP_ENOTFOUND at the end, SP_EMALFORMED for a Length under 6 or past the
 * body (then every further call fails too). */
int l2tp_avp_next(struct l2tp_avp_iter *it, struct l2tp_avp *a) SP_MUST_CHECK;

/* Fixed-size values: SP_EMALFORMED unless the value has exactly that size (and H clear:
 * hidden values must be revealed first, SP_EUNSUPP). */
int l2tp_avp_get_u16(const struct l2tp_avp *a, uint16_t *v) SP_MUST_CHECK;
int l2tp_avp_get_u32(const struct l2tp_avp *a, uint32_t *v) SP_MUST_CHECK;

/*
 * The message type of a control body: its first AVP must be the Message Type AVP (IETF
 * vendor, type 0, two octets, not hidden; RFC 2661 4.4.1). A body without AVPs is a
 * Zero-Length Body acknowledgement (5.8): *type = L2TP_MSG_ZLB.
 */
int l2tp_ctrl_msg_type(const struct cur *avps, uint16_t *type) SP_MUST_CHECK;

/* Append an AVP at the tail. flags: L2TP_AVP_F_M and/or L2TP_AVP_F_H. SP_EINVAL when the
 * AVP would exceed 1023 octets or flags has other bits. */
int l2tp_avp_put(struct pkt *p, uint16_t flags, uint16_t vendor, uint16_t type, const void *val,
		 size_t len) SP_MUST_CHECK;
int l2tp_avp_put_u16(struct pkt *p, uint16_t flags, uint16_t type, uint16_t v) SP_MUST_CHECK;
int l2tp_avp_put_u32(struct pkt *p, uint16_t flags, uint16_t type, uint32_t v) SP_MUST_CHECK;
/* The Message Type AVP (M set), which must come first. */
int l2tp_avp_put_msg_type(struct pkt *p, uint16_t type) SP_MUST_CHECK;

const char *l2tp_msg_name(uint16_t type);
const char *l2tp_avp_name(uint16_t type);

#endif
