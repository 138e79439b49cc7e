/* AH outbound processing (RFC 4302 3.1-3.3). */
#include "ipsec/ah.h"
#include "ipsec/asif.h"
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
		if (sa->asif_src &&
		    asif_l4_csum(ip, p->len, sp_load_be32(ip + IPV4_OFF_SRC), sa->asif_src) != 0)
			return IPSEC_DROP_MALFORMED;
		if (sa->asif_dst &&
		    asif_l4_csum(ip, p->len, sp_load_be32(ip + IPV4_OFF_DST), sa->asif_dst) != 0)
			return IPSEC_DROP_MALFORMED;
		memcpy(hdr, ip, hl);
		if (pkt_pull(p, (uint32_t)hl) == NULL)
			return IPSEC_DROP_MALFORMED;
	}
	seq = sa->seq + 1;
	if (ah_build_hdr(p, nh, sa->spi, (uint32_t)seq, sa->icv_len, &icv) != 0)
		return IPSEC_DROP_NO_SPACE;
	if (tunnel) {
		/* RFC 4301 5.1.2.1 as for ESP; the outer header is covered by the ICV. */
		struct ipv4_hdr h = {
			.ip_tos = (uint8_t)((sa->copy_dscp ? tos & 0xfc : 0) | (tos & 0x03)),
			.ip_id = ip_id,
			.ip_frag = frag & IPV4_FLAG_DF,
			.ip_ttl = sa->ttl,
			.ip_proto = IPV4_PROTO_AH,
			.ip_src = sa->src,
			.ip_dst = sa->dst,
		};

		if (ipv4_build(p, &h, NULL, 0) != 0)
			return IPSEC_DROP_NO_SPACE;
	} else {
		if ((ip = pkt_push(p, (uint32_t)hl)) == NULL || p->len > 0xffff)
			return IPSEC_DROP_NO_SPACE;
		memcpy(ip, hdr, hl);
		ip[IPV4_OFF_PROTO] = IPV4_PROTO_AH;
		sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
		ipv4_set_csum(ip, hl);
	}
	/* The ICV field is zero (ah_build_hdr) while the ICV is computed. */
	if ((r = ah_icv(sa, p, seq, icv)) != IPSEC_OK)
		return r;
	sa->seq = seq;
	return IPSEC_OK;
}
