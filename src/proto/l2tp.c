#include "proto/l2tp.h"

#include <string.h>

/* RFC 2661 3.1: what a control message's first word must say. */
static bool ctrl_flags_ok(uint16_t flags)
{
	return (flags & (L2TP_F_L | L2TP_F_S | L2TP_F_O | L2TP_F_P)) == (L2TP_F_L | L2TP_F_S);
}

int l2tp_parse(struct cur *c, struct l2tp_hdr *h)
{
	struct l2tp_hdr t;
	struct cur r = *c;
	uint16_t word;
	int e;

	memset(&t, 0, sizeof(t));
	if ((e = cur_get_u16(&r, &word)) != 0)
		return e;
	t.l2tp_ver = word & L2TP_VER_MASK;
	/* "Packets received with an unknown Ver field MUST be discarded." */
	if (t.l2tp_ver != L2TP_VERSION)
		return SP_EUNSUPP;
	/* Reserved bits "MUST be ... ignored on incoming messages". */
	t.l2tp_flags = word & L2TP_F_KNOWN;
	if ((t.l2tp_flags & L2TP_F_T) != 0 && !ctrl_flags_ok(t.l2tp_flags))
		return SP_EMALFORMED;
	if ((t.l2tp_flags & L2TP_F_L) != 0 && (e = cur_get_u16(&r, &t.l2tp_len)) != 0)
		return e;
	if ((e = cur_get_u16(&r, &t.l2tp_tid)) != 0 || (e = cur_get_u16(&r, &t.l2tp_sid)) != 0)
		return e;
	if ((t.l2tp_flags & L2TP_F_S) != 0 &&
	    ((e = cur_get_u16(&r, &t.l2tp_ns)) != 0 || (e = cur_get_u16(&r, &t.l2tp_nr)) != 0))
		return e;
	/* "If the offset field is present, the L2TP header ends after the last octet of the
	 * offset padding." */
	if ((t.l2tp_flags & L2TP_F_O) != 0 && ((e = cur_get_u16(&r, &t.l2tp_off_size)) != 0 ||
					       (e = cur_skip(&r, t.l2tp_off_size)) != 0))
		return e;
	t.l2tp_hlen = (uint32_t)(cur_pos(&r) - cur_pos(c));
	if ((t.l2tp_flags & L2TP_F_L) != 0) {
		/* Length is the whole message: it covers the header and fits the data. */
		if (t.l2tp_len < t.l2tp_hlen)
			return SP_EMALFORMED;
		if (t.l2tp_len > cur_left(c))
			return SP_ESHORT;
		t.l2tp_plen = t.l2tp_len - t.l2tp_hlen;
	} else {
		t.l2tp_plen = (uint32_t)cur_left(&r);
	}
	*h = t;
	*c = r;
	return 0;
}

int l2tp_build(struct pkt *p, const struct l2tp_hdr *h)
{
	uint16_t flags = h->l2tp_flags & L2TP_F_KNOWN;
	uint32_t hlen = L2TP_HDR_MIN, total;
	uint8_t *b;

	if (h->l2tp_flags != flags || ((flags & L2TP_F_T) != 0 && !ctrl_flags_ok(flags)))
		return SP_EINVAL;
	if (flags & L2TP_F_L)
		hlen += 2;
	if (flags & L2TP_F_S)
		hlen += 4;
	if (flags & L2TP_F_O)
		hlen += 2 + (uint32_t)h->l2tp_off_size;
	total = hlen + p->len;
	if (total > L2TP_MSG_MAX)
		return SP_EINVAL;
	if ((b = pkt_push(p, hlen)) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b, flags | L2TP_VERSION);
	b += 2;
	if (flags & L2TP_F_L) {
		sp_store_be16(b, (uint16_t)total);
		b += 2;
	}
	sp_store_be16(b, h->l2tp_tid);
	sp_store_be16(b + 2, h->l2tp_sid);
	b += 4;
	if (flags & L2TP_F_S) {
		sp_store_be16(b, h->l2tp_ns);
		sp_store_be16(b + 2, h->l2tp_nr);
		b += 4;
	}
	if (flags & L2TP_F_O) {
		/* "Actual data within the offset padding is undefined": send zeros. */
		sp_store_be16(b, h->l2tp_off_size);
		memset(b + 2, 0, h->l2tp_off_size);
	}
	return 0;
}

int l2tp_build_ctrl(struct pkt *p, uint16_t tid, uint16_t sid, uint16_t ns, uint16_t nr)
{
	struct l2tp_hdr h = {
		.l2tp_flags = L2TP_F_T | L2TP_F_L | L2TP_F_S,
		.l2tp_tid = tid,
		.l2tp_sid = sid,
		.l2tp_ns = ns,
		.l2tp_nr = nr,
	};

	return l2tp_build(p, &h);
}

int l2tp_build_data(struct pkt *p, uint16_t tid, uint16_t sid)
{
	struct l2tp_hdr h = { .l2tp_tid = tid, .l2tp_sid = sid };

	return l2tp_build(p, &h);
}

void l2tp_avp_iter_init(struct l2tp_avp_iter *it, const struct cur *avps)
{
	it->it_c = *avps;
	it->it_end = 0;
}

int l2tp_avp_next(struct l2tp_avp_iter *it, struct l2tp_avp *a)
{
	struct cur r = it->it_c;
	struct l2tp_avp t;
	uint16_t word;

	if (it->it_end != 0)
		return it->it_end;
	if (cur_left(&r) == 0) {
		it->it_end = SP_ENOTFOUND;
		return SP_ENOTFOUND;
	}
	if (cur_get_u16(&r, &word) != 0 || cur_get_u16(&r, &t.avp_vendor) != 0 ||
	    cur_get_u16(&r, &t.avp_type) != 0)
		goto fail;
	t.avp_m = (word & L2TP_AVP_F_M) != 0;
	t.avp_h = (word & L2TP_AVP_F_H) != 0;
	t.avp_rsvd = (word & L2TP_AVP_F_RSVD) != 0;
	t.avp_len = word & L2TP_AVP_LEN_MASK;
	/* RFC 2661 4.1: "The minimum Length of an AVP is 6." */
	if (t.avp_len < L2TP_AVP_HDR_LEN ||
	    cur_get_sub(&r, t.avp_len - L2TP_AVP_HDR_LEN, &t.avp_val) != 0)
		goto fail;
	it->it_c = r;
	*a = t;
	return 0;
fail:
	it->it_end = SP_EMALFORMED;
	return SP_EMALFORMED;
}

int l2tp_avp_get_u16(const struct l2tp_avp *a, uint16_t *v)
{
	struct cur r = a->avp_val;

	if (a->avp_h)
		return SP_EUNSUPP;
	if (cur_left(&r) != 2)
		return SP_EMALFORMED;
	return cur_get_u16(&r, v);
}

int l2tp_avp_get_u32(const struct l2tp_avp *a, uint32_t *v)
{
	struct cur r = a->avp_val;

	if (a->avp_h)
		return SP_EUNSUPP;
	if (cur_left(&r) != 4)
		return SP_EMALFORMED;
	return cur_get_u32(&r, v);
}

int l2tp_ctrl_msg_type(const struct cur *avps, uint16_t *type)
{
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	int r;

	if (cur_left(avps) == 0) {
		*type = L2TP_MSG_ZLB;
		return 0;
	}
	l2tp_avp_iter_init(&it, avps);
	if ((r = l2tp_avp_next(&it, &a)) != 0)
		return SP_EMALFORMED;
	/* RFC 2661 4.4.1: first, IETF, type 0, not hidden; 4.1: reserved bits clear. */
	if (a.avp_vendor != L2TP_VENDOR_IETF || a.avp_type != L2TP_AVP_MSG_TYPE || a.avp_h ||
	    a.avp_rsvd)
		return SP_EMALFORMED;
	if ((r = l2tp_avp_get_u16(&a, type)) != 0)
		return r;
	return 0;
}

int l2tp_avp_put(struct pkt *p, uint16_t flags, uint16_t vendor, uint16_t type, const void *val,
		 size_t len)
{
	uint8_t *b;

	if ((flags & ~(L2TP_AVP_F_M | L2TP_AVP_F_H)) != 0 ||
	    len > L2TP_AVP_LEN_MAX - L2TP_AVP_HDR_LEN)
		return SP_EINVAL;
	if ((b = pkt_put(p, (uint32_t)(L2TP_AVP_HDR_LEN + len))) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b, (uint16_t)(flags | (L2TP_AVP_HDR_LEN + len)));
	sp_store_be16(b + 2, vendor);
	sp_store_be16(b + 4, type);
	if (len > 0)
		memcpy(b + L2TP_AVP_HDR_LEN, val, len);
	return 0;
}

int l2tp_avp_put_u16(struct pkt *p, uint16_t flags, uint16_t type, uint16_t v)
{
	uint8_t b[2];

	sp_store_be16(b, v);
	return l2tp_avp_put(p, flags, L2TP_VENDOR_IETF, type, b, sizeof(b));
}

int l2tp_avp_put_u32(struct pkt *p, uint16_t flags, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	sp_store_be32(b, v);
	return l2tp_avp_put(p, flags, L2TP_VENDOR_IETF, type, b, sizeof(b));
}

int l2tp_avp_put_msg_type(struct pkt *p, uint16_t type)
{
	/* RFC 2661 4.4.1: the M bit of the Message Type AVP is set. */
	return l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_MSG_TYPE, type);
}

const char *l2tp_msg_name(uint16_t type)
{
	static const char *const names[] = {
		[L2TP_MSG_ZLB] = "ZLB",		[L2TP_MSG_SCCRQ] = "SCCRQ",
		[L2TP_MSG_SCCRP] = "SCCRP",	[L2TP_MSG_SCCCN] = "SCCCN",
		[L2TP_MSG_STOPCCN] = "StopCCN", [L2TP_MSG_HELLO] = "HELLO",
		[L2TP_MSG_OCRQ] = "OCRQ",	[L2TP_MSG_OCRP] = "OCRP",
		[L2TP_MSG_OCCN] = "OCCN",	[L2TP_MSG_ICRQ] = "ICRQ",
		[L2TP_MSG_ICRP] = "ICRP",	[L2TP_MSG_ICCN] = "ICCN",
		[L2TP_MSG_CDN] = "CDN",		[L2TP_MSG_WEN] = "WEN",
		[L2TP_MSG_SLI] = "SLI",
	};

	if (type < SP_NELEM(names) && names[type] != NULL)
		return names[type];
	return "unknown";
}

const char *l2tp_avp_name(uint16_t type)
{
	static const char *const names[] = {
		[L2TP_AVP_MSG_TYPE] = "Message Type",
		[L2TP_AVP_RESULT_CODE] = "Result Code",
		[L2TP_AVP_PROTO_VERSION] = "Protocol Version",
		[L2TP_AVP_FRAMING_CAP] = "Framing Capabilities",
		[L2TP_AVP_BEARER_CAP] = "Bearer Capabilities",
		[L2TP_AVP_TIE_BREAKER] = "Tie Breaker",
		[L2TP_AVP_FIRMWARE_REV] = "Firmware Revision",
		[L2TP_AVP_HOST_NAME] = "Host Name",
		[L2TP_AVP_VENDOR_NAME] = "Vendor Name",
		[L2TP_AVP_ASSIGNED_TID] = "Assigned Tunnel ID",
		[L2TP_AVP_RECV_WINDOW] = "Receive Window Size",
		[L2TP_AVP_CHALLENGE] = "Challenge",
		[L2TP_AVP_Q931_CAUSE] = "Q.931 Cause Code",
		[L2TP_AVP_CHALLENGE_RESP] = "Challenge Response",
		[L2TP_AVP_ASSIGNED_SID] = "Assigned Session ID",
		[L2TP_AVP_CALL_SERIAL] = "Call Serial Number",
		[L2TP_AVP_MIN_BPS] = "Minimum BPS",
		[L2TP_AVP_MAX_BPS] = "Maximum BPS",
		[L2TP_AVP_BEARER_TYPE] = "Bearer Type",
		[L2TP_AVP_FRAMING_TYPE] = "Framing Type",
		[L2TP_AVP_CALLED_NUMBER] = "Called Number",
		[L2TP_AVP_CALLING_NUMBER] = "Calling Number",
		[L2TP_AVP_SUB_ADDRESS] = "Sub-Address",
		[L2TP_AVP_TX_CONNECT_SPEED] = "Tx Connect Speed",
		[L2TP_AVP_PHYS_CHANNEL] = "Physical Channel ID",
		[L2TP_AVP_INIT_RECV_CONFREQ] = "Initial Received LCP CONFREQ",
		[L2TP_AVP_LAST_SENT_CONFREQ] = "Last Sent LCP CONFREQ",
		[L2TP_AVP_LAST_RECV_CONFREQ] = "Last Received LCP CONFREQ",
		[L2TP_AVP_PROXY_AUTH_TYPE] = "Proxy Authen Type",
		[L2TP_AVP_PROXY_AUTH_NAME] = "Proxy Authen Name",
		[L2TP_AVP_PROXY_AUTH_CHAL] = "Proxy Authen Challenge",
		[L2TP_AVP_PROXY_AUTH_ID] = "Proxy Authen ID",
		[L2TP_AVP_PROXY_AUTH_RESP] = "Proxy Authen Response",
		[L2TP_AVP_CALL_ERRORS] = "Call Errors",
		[L2TP_AVP_ACCM] = "ACCM",
		[L2TP_AVP_RANDOM_VECTOR] = "Random Vector",
		[L2TP_AVP_PRIVATE_GROUP] = "Private Group ID",
		[L2TP_AVP_RX_CONNECT_SPEED] = "Rx Connect Speed",
		[L2TP_AVP_SEQ_REQUIRED] = "Sequencing Required",
	};

	if (type < SP_NELEM(names) && names[type] != NULL)
		return names[type];
	return "unknown";
}
