/*
 * ICMP error messages through the NAT (RFC 5508 4.2, REQ-3 and REQ-4): the embedded packet
 * is translated with the mapping it belongs to, its header checksum and (where quoted) its
 * transport checksum fixed, and the outer ICMP checksum updated for every changed word.
 */
#include "nat/nat_priv.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "proto/icmp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <string.h>

/* The inner header plus the transport bytes that may change: at most 60 + 20. */
#define SNAP_MAX (IPV4_HDR_MAX + TCP_HDR_MIN)

static uint16_t sum16(const uint8_t *b, size_t len)
{
	return (uint16_t)~csum_fold(csum_partial(b, len, 0));
}

int nat_icmp_error(struct nat *n, sp_time now, enum nat_side from, struct nat_ip *ip)
{
	const struct nat_l4_layout *L;
	uint8_t snap[SNAP_MAX], *inner, *il4;
	uint32_t iaddr, new_addr, idx;
	uint16_t iport, new_port, s;
	size_t ihl, ilen, snaplen;
	struct icmp_hdr ih;
	struct nat_entry *e;
	struct nat_key k;
	struct cur c;
	uint8_t iproto;

	cur_init(&c, ip->l4, ip->l4len);
	if (icmp_parse(&c, &ih) != 0) {
		NAT_INC(n, DROP_MALFORMED);
		return NAT_DROP;
	}
	if (ih.icmp_type == ICMP_REDIRECT) {
		NAT_INC(n, DROP_ICMP_TYPE); /* a redirect across a NAT points nowhere useful */
		return NAT_DROP;
	}
	/* icmp_parse checked: an IPv4 header of ihl bytes and 8 more follow. */
	inner = ip->l4 + (ih.icmp_inner - ip->l4);
	ilen = ih.icmp_inner_len;
	ihl = (size_t)(inner[0] & 0x0f) * 4;
	iproto = inner[IPV4_OFF_PROTO];
	il4 = inner + ihl;
	switch (iproto) {
	case IPV4_PROTO_UDP:
		L = &nat_lay_udp;
		break;
	case IPV4_PROTO_TCP:
		L = &nat_lay_tcp;
		break;
	case IPV4_PROTO_ICMP:
		L = icmp_is_echo(il4[0]) ? &nat_lay_icmp : NULL;
		break;
	default:
		L = NULL;
	}
	if (L == NULL || (sp_load_be16(inner + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0) {
		NAT_INC(n, DROP_ICMP_ERR_INNER);
		return NAT_DROP;
	}
	/* Outside: the quoted packet is one we sent out, from the global endpoint. Inside: it
	 * is one we delivered, to the inside endpoint. */
	if (from == NAT_OUTSIDE) {
		iaddr = sp_load_be32(inner + IPV4_OFF_SRC);
		iport = sp_load_be16(il4 + L->sport);
		nat_key_set(&k, NAT_K_OUT, iproto, iaddr, 0, iport);
	} else {
		iaddr = sp_load_be32(inner + IPV4_OFF_DST);
		iport = sp_load_be16(il4 + L->dport);
		nat_key_set(&k, NAT_K_IN, iproto, iaddr, 0, iport);
	}
	if ((idx = nat_table_lookup(&n->tab, &k, now)) == NAT_NIL ||
	    (from == NAT_OUTSIDE && nat_entry_at(&n->tab, idx)->k[1].a != ip->dst)) {
		NAT_INC(n, DROP_ICMP_ERR_NO_MAPPING);
		return NAT_DROP;
	}
	e = nat_entry_at(&n->tab, idx);
	new_addr = e->k[from == NAT_OUTSIDE ? 0 : 1].a;
	new_port = (uint16_t)e->k[from == NAT_OUTSIDE ? 0 : 1].id;

	snaplen = SP_MIN(ilen, ihl + (size_t)(L == &nat_lay_tcp ? TCP_HDR_MIN : 8));
	memcpy(snap, inner, snaplen);

	/* The quoted header: address and its checksum. */
	if (from == NAT_OUTSIDE)
		ipv4_set_src(inner, new_addr);
	else
		ipv4_set_dst(inner, new_addr);
	/* The quoted transport header, where its checksum was quoted too. */
	if (ihl + L->csum + 2 <= ilen) {
		if (L->pseudo)
			nat_l4_csum_fix32(il4 + L->csum, L->udp, iaddr, new_addr);
		nat_l4_csum_fix16(il4 + L->csum, L->udp, iport, new_port);
	}
	sp_store_be16(il4 + (from == NAT_OUTSIDE ? L->sport : L->dport), new_port);

	/* Outer ICMP checksum: HC' = ~(~HC + ~old + new) over the changed region, which
	 * starts at an even offset (8) of the message (RFC 1624). */
	s = csum_update16(sp_load_be16(ip->l4 + ICMP_OFF_CSUM), sum16(snap, snaplen),
			  sum16(inner, snaplen));
	sp_store_be16(ip->l4 + ICMP_OFF_CSUM, s);

	if (from == NAT_OUTSIDE) {
		nat_rewrite_dst(ip, new_addr);
		NAT_INC(n, ICMP_ERR_OUT2IN);
		return NAT_TO_INSIDE;
	}
	nat_rewrite_src(ip, new_addr);
	NAT_INC(n, ICMP_ERR_IN2OUT);
	return NAT_TO_OUTSIDE;
}
