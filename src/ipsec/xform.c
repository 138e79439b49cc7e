#include "ipsec/xform.h"
#include "ipsec/asif.h"
#include "base/cursor.h"
#include "proto/ipv4.h"

#include <string.h>

int xform_asif_out(const struct sa *sa, uint8_t *ip, size_t len)
{
	int r;

	if (sa->asif_src &&
	    (r = asif_l4_csum(ip, len, sp_load_be32(ip + IPV4_OFF_SRC), sa->asif_src)) != 0)
		return r;
	if (sa->asif_dst &&
	    (r = asif_l4_csum(ip, len, sp_load_be32(ip + IPV4_OFF_DST), sa->asif_dst)) != 0)
		return r;
	return 0;
}

int xform_asif_in(const struct sa *sa, uint8_t *ip, size_t len)
{
	int r;

	if (sa->asif_src &&
	    (r = asif_l4_csum(ip, len, sa->asif_src, sp_load_be32(ip + IPV4_OFF_SRC))) != 0)
		return r;
	if (sa->asif_dst &&
	    (r = asif_l4_csum(ip, len, sa->asif_dst, sp_load_be32(ip + IPV4_OFF_DST))) != 0)
		return r;
	return 0;
}

int xform_tunnel_push(const struct sa *sa, struct pkt *p, uint8_t proto, uint8_t in_tos,
		      uint16_t in_frag, uint16_t ip_id)
{
	struct ipv4_hdr h = {
		.ip_tos = (uint8_t)((sa->copy_dscp ? in_tos & 0xfc : 0) | (in_tos & 0x03)),
		.ip_id = ip_id,
		.ip_frag = in_frag & IPV4_FLAG_DF,
		.ip_ttl = sa->ttl,
		.ip_proto = proto,
		.ip_src = sa->src,
		.ip_dst = sa->dst,
	};

	return ipv4_build(p, &h, NULL, 0);
}

int xform_transport_push(struct pkt *p, const uint8_t *hdr, size_t hl, uint8_t proto)
{
	uint8_t *ip;

	if ((ip = pkt_push(p, (uint32_t)hl)) == NULL || p->len > 0xffff)
		return SP_ENOSPACE;
	memcpy(ip, hdr, hl);
	ip[IPV4_OFF_PROTO] = proto;
	sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
	ipv4_set_csum(ip, hl);
	return 0;
}

enum ipsec_ctr xform_inner_ipv4(struct pkt *p)
{
	struct ipv4_hdr h;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, &h) != 0 || !h.ip_csum_ok)
		return IPSEC_DROP_MALFORMED;
	return pkt_trim(p, h.ip_len) == 0 ? IPSEC_OK : IPSEC_DROP_MALFORMED;
}
