/* ESP inbound processing (RFC 4303 3.4). */
#include "ipsec/esp.h"
#include "ipsec/xform.h"
#include "proto/esp.h"
#include "proto/ipv4.h"

#include <string.h>

/* RFC 4303 2.4: the default padding is 1, 2, 3, ...; anything else was not our peer's. */
static bool padding_ok(const uint8_t *pad, size_t n)
{
	uint8_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad |= (uint8_t)(pad[i] ^ (uint8_t)(i + 1));
	return bad == 0;
}

enum ipsec_ctr esp_input(struct sa *sa, struct pkt *p, size_t esp_off, uint64_t *seq,
			 const struct esp_job *pre)
{
	uint8_t hdr[IPV4_HDR_MAX], *esp, *pt, nh, padlen;
	size_t hl = (size_t)(pkt_data(p)[0] & 0x0f) * 4, n, hlen = ESP_HDR_LEN + sa->iv_len;
	size_t ptlen, dlen;
	enum ipsec_ctr r;
	uint64_t s;

	if (esp_off > p->len || p->len - esp_off < hlen + sa->icv_len + ESP_TRAILER_MIN)
		return IPSEC_DROP_MALFORMED;
	esp = pkt_data(p) + esp_off;
	n = p->len - esp_off;
	/* RFC 4303 3.4.3: the window is checked before the ICV, updated after. */
	if (replay_check(&sa->win, sp_load_be32(esp + 4), sa->esn, &s) != 0)
		return IPSEC_DROP_REPLAY;
	/* Opened ahead with the number the window gave then: with another now (ESN across a
	 * 2^32 boundary within the batch) its ICV would not have verified. */
	if (pre != NULL)
		r = pre->seq == s && pre->n == n ? pre->r : IPSEC_DROP_ICV;
	else
		r = esp_open(sa, esp, n, s);
	if (r != IPSEC_OK)
		return r;
	replay_accept(&sa->win, s);
	*seq = s;
	pt = esp + hlen;
	ptlen = n - hlen - sa->icv_len;
	nh = pt[ptlen - 1];
	padlen = pt[ptlen - 2];
	if ((size_t)padlen + ESP_TRAILER_MIN > ptlen ||
	    !padding_ok(pt + ptlen - ESP_TRAILER_MIN - padlen, padlen))
		return IPSEC_DROP_PADDING;
	dlen = ptlen - ESP_TRAILER_MIN - padlen;
	if (nh == IPV4_PROTO_NONE)
		return IPSEC_DROP_DUMMY; /* RFC 4303 2.6: discard silently (counted) */
	if (sa->mode == SA_MODE_TUNNEL) {
		if (nh != IPV4_PROTO_IPIP)
			return nh == 41 ? IPSEC_DROP_UNSUPPORTED : IPSEC_DROP_POLICY;
		if (pkt_trim(p, (uint32_t)(esp_off + hlen + dlen)) != 0 ||
		    pkt_pull(p, (uint32_t)(esp_off + hlen)) == NULL)
			return IPSEC_DROP_MALFORMED;
		return xform_inner_ipv4(p);
	}
	/* Transport: the outer header, with ESP (and UDP) taken out, carries the payload. */
	memcpy(hdr, pkt_data(p), hl);
	if (pkt_trim(p, (uint32_t)(esp_off + hlen + dlen)) != 0 ||
	    pkt_pull(p, (uint32_t)(esp_off + hlen)) == NULL ||
	    xform_transport_push(p, hdr, hl, nh) != 0)
		return IPSEC_DROP_MALFORMED;
	/* The checksum was computed over the "as if" addresses (RFC 3948 3.1.2 with NAT-OA). */
	if (xform_asif_in(sa, pkt_data(p), p->len) != 0)
		return IPSEC_DROP_MALFORMED;
	return IPSEC_OK;
}
