/*
 * Outside to inside: packets to a global address follow the mapping their destination
 * port (or ICMP identifier) names, IKE on port 500 follows its cookies, raw IPsec is the
 * strategy's to demultiplex. Later fragments follow their first fragment.
 */
#include "nat/nat_priv.h"
#include "base/cursor.h"
#include "proto/icmp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

void nat_frag_note(struct nat *n, sp_time now, const struct nat_ip *ip, uint32_t inside)
{
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	/* ip->src, ip->dst as received: the key later fragments carry. */
	nat_key_set(&k, NAT_K_FRAG, ip->proto, ip->src, ip->dst, ip->ip_id);
	if ((idx = nat_table_lookup(&n->tab, &k, now)) != NAT_NIL &&
	    nat_entry_at(&n->tab, idx)->k[1].a != inside) {
		/* The same (remote, global, IP id) now for another host: start over. */
		nat_entry_expire(n, idx);
		idx = NAT_NIL;
	}
	if (idx == NAT_NIL) {
		/* Anyone outside can send first fragments to a mapped port: each host has a
		 * bounded number of these entries (later fragments will be counted as
		 * unknown), and they live t_frag from the first fragment, never refreshed by
		 * the later ones. */
		if (!nat_host_admit(n, now, inside, NAT_HK_FRAG) ||
		    (idx = nat_alloc(n, NAT_O_FRAG, now, inside)) == NAT_NIL)
			return;
		e = nat_entry_at(&n->tab, idx);
		e->k[0] = k;
		nat_key_set(&e->k[1], NAT_K_NONE, ip->proto, inside, 0, 0);
		nat_table_hash_add(&n->tab, idx, 0);
		nat_host_charge(n, inside, NAT_HK_FRAG);
	}
	nat_table_schedule(&n->tab, idx, now + n->cfg.t_frag, now);
}

static int frag_out2in(struct nat *n, sp_time now, struct nat_ip *ip)
{
	struct nat_key k;
	uint32_t idx;

	nat_key_set(&k, NAT_K_FRAG, ip->proto, ip->src, ip->dst, ip->ip_id);
	if ((idx = nat_table_lookup(&n->tab, &k, now)) == NAT_NIL) {
		NAT_INC(n, DROP_FRAG_UNKNOWN);
		return NAT_DROP;
	}
	nat_rewrite_dst(ip, nat_entry_at(&n->tab, idx)->k[1].a);
	NAT_INC(n, FRAG_OUT2IN);
	return NAT_TO_INSIDE;
}

static int napt_out2in(struct nat *n, sp_time now, struct nat_ip *ip, const struct nat_l4_layout *L)
{
	uint8_t *l4 = ip->l4;
	uint16_t dport = sp_load_be16(l4 + L->dport);
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx, in;
	uint16_t inport;

	nat_key_set(&k, NAT_K_OUT, ip->proto, ip->dst, 0, dport);
	idx = nat_table_lookup_h(&n->tab, &k,
				 ip->hint != NAT_NIL ? ip->hint : nat_table_hint(&n->tab, &k), now);
	if (idx == NAT_NIL) {
		NAT_INC(n, DROP_NO_MAPPING);
		return NAT_DROP;
	}
	/* Endpoint-independent filtering (RFC 4787 REQ-8): any remote may use a mapping. */
	e = nat_entry_at(&n->tab, idx);
	in = e->k[0].a;
	inport = (uint16_t)e->k[0].id;
	if (ip->proto == IPV4_PROTO_TCP)
		nat_tcp_track(e, l4[TCP_OFF_FLAGS], false, false);
	else
		e->state |= NAT_NAPT_REPLIED; /* in use: not another host's to evict */
	nat_table_schedule(&n->tab, idx, now + nat_napt_timeout(n, e), now);
	if (SP_UNLIKELY(n->offl != NULL))
		nat_offload_napt(n, idx);

	if (L->pseudo)
		nat_l4_csum_fix32(l4 + L->csum, L->udp, ip->dst, in);
	if (inport != dport) {
		sp_store_be16(l4 + L->dport, inport);
		nat_l4_csum_fix16(l4 + L->csum, L->udp, dport, inport);
	}
	nat_rewrite_dst(ip, in);
	NAT_INC(n, OUT2IN);
	return NAT_TO_INSIDE;
}

static int ipsec_out2in(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	struct nat_ipsec_pkt sp;
	int v;

	sp.proto = ip->proto;
	sp.client = 0;
	sp.global = ip->dst;
	sp.server = ip->src;
	sp.spi = sp_load_be32(ip->l4 + (ip->proto == IPV4_PROTO_AH ? 4 : 0));
	v = n->strat->out2in(n, n->sctx, now, &sp, p);
	if (v == NAT_TO_INSIDE) {
		nat_rewrite_dst(ip, sp.client);
		NAT_INC(n, IPSEC_OUT2IN);
	}
	return v;
}

static int dispatch(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	if (n->strat->pre_out2in != NULL && ip->proto != IPV4_PROTO_ESP &&
	    ip->proto != IPV4_PROTO_AH) {
		int v = n->strat->pre_out2in(n, n->sctx, now, ip, p);

		if (v != NAT_CONTINUE)
			return v;
	}
	switch (ip->proto) {
	case IPV4_PROTO_UDP:
		if (ip->l4len < UDP_HDR_LEN)
			break;
		if (n->cfg.ike_mode == NAT_IKE_COOKIES &&
		    sp_load_be16(ip->l4 + UDP_OFF_DPORT) == UDP_PORT_IKE)
			return nat_ike_out2in(n, now, ip);
		return napt_out2in(n, now, ip, &nat_lay_udp);
	case IPV4_PROTO_TCP:
		if (ip->l4len < TCP_HDR_MIN)
			break;
		return napt_out2in(n, now, ip, &nat_lay_tcp);
	case IPV4_PROTO_ICMP:
		if (ip->l4len < ICMP_HDR_LEN)
			break;
		if (icmp_is_echo(ip->l4[0]))
			return napt_out2in(n, now, ip, &nat_lay_icmp);
		if (icmp_is_error(ip->l4[0]))
			return nat_icmp_error(n, now, NAT_OUTSIDE, ip);
		NAT_INC(n, DROP_ICMP_TYPE);
		return NAT_DROP;
	case IPV4_PROTO_ESP:
		if (ip->l4len < 8)
			break;
		return ipsec_out2in(n, now, ip, p);
	case IPV4_PROTO_AH:
		if (ip->l4len < 12)
			break;
		return ipsec_out2in(n, now, ip, p);
	default:
		NAT_INC(n, DROP_PROTO);
		return NAT_DROP;
	}
	NAT_INC(n, DROP_MALFORMED);
	return NAT_DROP;
}

int nat_out2in(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	struct nat_ip orig;
	int v;

	if (SP_UNLIKELY(!nat_in_pool(n, ip->dst))) {
		NAT_INC(n, DROP_NOT_POOL);
		return NAT_DROP;
	}
	if (SP_UNLIKELY(ip->frag_later))
		return frag_out2in(n, now, ip);
	if (SP_LIKELY(!ip->frag_first))
		return dispatch(n, now, ip, p);
	orig = *ip;
	v = dispatch(n, now, ip, p);
	if (v == NAT_TO_INSIDE)
		nat_frag_note(n, now, &orig, ip->dst);
	return v;
}
