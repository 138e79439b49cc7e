/* AH outbound processing (RFC 4302 3.1-3.3). */
#include "ipsec/ah.h"
#include "ipsec/xform.h"
#include "proto/ah.h"
#include "proto/ipv4.h"

#include <string.h>

size_t ah_overhead(const struct sa *sa)
{
	return AH_HDR_FIXED + sa->icv_len + (sa->mode == SA_MODE_TUNNEL ? IPV4_HDR_MIN : 0);
}

enum ipsec_ctr ah_output(struct sa *sa, struct pkt *p, uint16_t ip_id)
{
	uint8_t hdr[IPV4_HDR_MAX], *ip = pkt_data(p), *icv;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	bool tunnel = sa->mode == SA_MODE_TUNNEL;
	uint16_t frag = sp_load_be16(ip + IPV4_OFF_FRAG);
	uint8_t nh, tos = ip[IPV4_OFF_TOS];
	enum ipsec_ctr r;
	uint64_t seq;

	if (sa->seq == (sa->esn ? UINT64_MAX : UINT32_MAX))
		return IPSEC_DROP_SEQ_OVERFLOW;
	if (!tunnel && (frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0)
		return IPSEC_DROP_FRAGMENT;
	if (pkt_headroom(p) < ah_overhead(sa))
		return IPSEC_DROP_NO_SPACE;
	if (tunnel) {
		nh = IPV4_PROTO_IPIP;
	} else {
		nh = ip[IPV4_OFF_PROTO];
		/* 001 step 3(iii): the transport checksum as it will be after the NAT. */
		if (xform_asif_out(sa, ip, p->len) != 0)
			return IPSEC_DROP_MALFORMED;
		memcpy(hdr, ip, hl);
		if (pkt_pull(p, (uint32_t)hl) == NULL)
			return IPSEC_DROP_MALFORMED;
	}
	seq = sa->seq + 1;
	if (ah_build_hdr(p, nh, sa->spi, (uint32_t)seq, sa->icv_len, &icv) != 0)
		return IPSEC_DROP_NO_SPACE;
	/* The outer header, built or put back, is covered by the ICV. */
	if ((tunnel ? xform_tunnel_push(sa, p, IPV4_PROTO_AH, tos, frag, ip_id)
		    : xform_transport_push(p, hdr, hl, IPV4_PROTO_AH)) != 0)
		return IPSEC_DROP_NO_SPACE;
	/* The ICV field is zero (ah_build_hdr) while the ICV is computed. */
	if ((r = ah_icv(sa, p, seq, icv)) != IPSEC_OK)
		return r;
	sa->seq = seq;
	return IPSEC_OK;
}
