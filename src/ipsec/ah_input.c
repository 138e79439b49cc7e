/* AH inbound processing (RFC 4302 3.4). */
#include "ipsec/ah.h"
#include "ipsec/xform.h"
#include "base/cursor.h"
#include "crypto/crypto.h"
#include "proto/ah.h"
#include "proto/ipv4.h"

#include <string.h>

enum ipsec_ctr ah_input(struct sa *sa, struct pkt *p, uint64_t *seq)
{
	uint8_t hdr[IPV4_HDR_MAX], want[AH_ICV_MAX], got[AH_ICV_MAX], *ip = pkt_data(p);
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, ahlen;
	struct ah_hdr ah;
	enum ipsec_ctr r;
	struct cur c;
	uint64_t s;

	/* 3.4.1: AH is verified on whole datagrams only. */
	if ((sp_load_be16(ip + IPV4_OFF_FRAG) & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0)
		return IPSEC_DROP_FRAGMENT;
	cur_init(&c, ip + hl, p->len - hl);
	if (ah_parse(&c, &ah) != 0)
		return IPSEC_DROP_MALFORMED;
	ahlen = ah_total_len(ah.ah_len);
	if (ah.ah_icvlen != sa->icv_len)
		return IPSEC_DROP_MALFORMED; /* 2.6: the transform fixes the ICV length */
	if (replay_check(&sa->win, ah.ah_seq, sa->esn, &s) != 0)
		return IPSEC_DROP_REPLAY;
	/* 3.4.3: the ICV field counts as zero; keep the received one aside. */
	memcpy(want, ip + hl + AH_OFF_ICV, sa->icv_len);
	memset(ip + hl + AH_OFF_ICV, 0, sa->icv_len);
	if ((r = ah_icv(sa, p, s, got)) != IPSEC_OK)
		return r;
	if (!crypto_memeq(want, got, sa->icv_len))
		return IPSEC_DROP_ICV;
	replay_accept(&sa->win, s);
	*seq = s;
	if (sa->mode == SA_MODE_TUNNEL) {
		if (ah.ah_nh != IPV4_PROTO_IPIP)
			return ah.ah_nh == 41 ? IPSEC_DROP_UNSUPPORTED : IPSEC_DROP_POLICY;
		if (pkt_pull(p, (uint32_t)(hl + ahlen)) == NULL)
			return IPSEC_DROP_MALFORMED;
		return xform_inner_ipv4(p);
	}
	memcpy(hdr, ip, hl);
	if (pkt_pull(p, (uint32_t)(hl + ahlen)) == NULL ||
	    xform_transport_push(p, hdr, hl, ah.ah_nh) != 0)
		return IPSEC_DROP_MALFORMED;
	/* 001 step 4'(iv'): the checksum was computed over the "as if" addresses. */
	if (xform_asif_in(sa, pkt_data(p), p->len) != 0)
		return IPSEC_DROP_MALFORMED;
	return IPSEC_OK;
}
