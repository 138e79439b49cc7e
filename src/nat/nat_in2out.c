/*
 * Inside to outside: endpoint-independent mappings for TCP, UDP and ICMP echo (RFC 4787
 * REQ-1, RFC 5382 REQ-1, RFC 5508), port preservation when the port is free, paired
 * global addresses, hairpinning (RFC 4787 REQ-9), and dispatch of IKE, ICMP errors and
 * raw IPsec to their handlers.
 */
#include "nat/nat_priv.h"
#include "base/cursor.h"
#include "base/hash.h"
#include "proto/icmp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

const struct nat_l4_layout nat_lay_udp = { UDP_HDR_LEN, 0, 2, UDP_OFF_CSUM, true, true };
const struct nat_l4_layout nat_lay_tcp = { TCP_HDR_MIN, 0, 2, TCP_OFF_CSUM, false, true };
const struct nat_l4_layout nat_lay_icmp = { ICMP_HDR_LEN,  ICMP_OFF_ID, ICMP_OFF_ID,
					    ICMP_OFF_CSUM, false,	false };

void nat_tcp_track(struct nat_entry *e, uint8_t flags, bool outbound, bool created)
{
	uint8_t s = e->state;

	if (created)
		s = (flags & TCP_SYN) ? 0 : NAT_TCP_MIDSTREAM;
	else if (outbound && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
		 (s & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN | NAT_TCP_RST)))
		s = 0; /* a new connection reuses the mapping after the old one closed */
	if (flags & TCP_RST)
		s |= NAT_TCP_RST;
	if (flags & TCP_SYN)
		s |= outbound ? NAT_TCP_SYN_OUT : NAT_TCP_SYN_IN;
	if (flags & TCP_FIN)
		s |= outbound ? NAT_TCP_FIN_OUT : NAT_TCP_FIN_IN;
	if (!(s & NAT_TCP_EST) && (((s & NAT_TCP_SYN_OUT) && (s & NAT_TCP_SYN_IN)) ||
				   ((s & NAT_TCP_MIDSTREAM) && !outbound)))
		s |= NAT_TCP_EST;
	e->state = s;
}

sp_time nat_napt_timeout(const struct nat *n, const struct nat_entry *e)
{
	switch (e->k[0].proto) {
	case IPV4_PROTO_TCP:
		/* RFC 5382 REQ-5: established until a FIN or RST, else transitory */
		if ((e->state & NAT_TCP_EST) &&
		    !(e->state & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN | NAT_TCP_RST)))
			return n->cfg.t_tcp_est;
		return n->cfg.t_tcp_trans;
	case IPV4_PROTO_UDP:
		return n->cfg.t_udp;
	default:
		return n->cfg.t_icmp;
	}
}

static bool port_reserved(const struct nat *n, uint8_t proto, uint16_t port)
{
	/* Port 500 of every global address belongs to IKE demultiplexed by cookies. */
	return port == 0 || (proto == IPV4_PROTO_UDP && port == UDP_PORT_IKE &&
			     n->cfg.ike_mode == NAT_IKE_COOKIES);
}

static bool port_free(const struct nat *n, sp_time now, uint8_t proto, uint32_t g, uint16_t port)
{
	struct nat_key k;

	nat_key_set(&k, NAT_K_OUT, proto, g, 0, port);
	if (n->strat->port_taken != NULL && n->strat->port_taken(n, n->sctx, now, proto, g, port))
		return false;
	return nat_table_lookup(&n->tab, &k, now) == NAT_NIL;
}

/* The inside port if free (RFC 4787 REQ-3 port preservation), else one from the range. */
static uint16_t choose_port(struct nat *n, sp_time now, uint8_t proto, uint32_t src, uint32_t g,
			    uint16_t want)
{
	uint32_t range = (uint32_t)n->cfg.port_max - n->cfg.port_min + 1;
	uint32_t start;

	if (!port_reserved(n, proto, want) && port_free(n, now, proto, g, want)) {
		NAT_INC(n, PORT_PRESERVED);
		return want;
	}
	start = (uint32_t)(sp_hash_2u64((uint64_t)src << 16 | want, proto, n->tab.seed) % range);
	for (uint32_t i = 0; i < SP_MIN(range, 512u); i++) {
		uint16_t port = (uint16_t)(n->cfg.port_min + (start + i) % range);

		if (!port_reserved(n, proto, port) && port_free(n, now, proto, g, port))
			return port;
	}
	for (unsigned i = 0; i < 64; i++) {
		uint16_t port = (uint16_t)(n->cfg.port_min + sp_rng_below(n->env.rng, range));

		if (!port_reserved(n, proto, port) && port_free(n, now, proto, g, port))
			return port;
	}
	return 0;
}

static uint32_t create_mapping(struct nat *n, sp_time now, const struct nat_ip *ip, uint8_t proto,
			       uint32_t src, uint16_t sport)
{
	uint32_t g = nat_global_for(n, src), idx;
	enum nat_hk kind = proto == IPV4_PROTO_UDP   ? NAT_HK_UDP
			   : proto == IPV4_PROTO_TCP ? NAT_HK_TCP
						     : NAT_HK_ICMP;
	struct nat_entry *e;
	uint16_t gp;

	/* RFC 6888 REQ-4: the host's share of ports first, before any search for one. */
	if (!nat_host_admit(n, now, src, kind)) {
		nat_host_unreach_ip(n, now, ip); /* RFC 6888 REQ-11 b */
		return NAT_NIL;
	}
	if ((gp = choose_port(n, now, proto, src, g, sport)) == 0) {
		NAT_INC(n, DROP_NO_PORT);
		return NAT_NIL;
	}
	if ((idx = nat_alloc(n, NAT_O_NAPT, now, src)) == NAT_NIL)
		return NAT_NIL;
	e = nat_entry_at(&n->tab, idx);
	nat_key_set(&e->k[0], NAT_K_IN, proto, src, 0, sport);
	nat_key_set(&e->k[1], NAT_K_OUT, proto, g, 0, gp);
	nat_table_hash_add(&n->tab, idx, 0);
	nat_table_hash_add(&n->tab, idx, 1);
	nat_host_charge(n, src, kind);
	NAT_INC(n, MAPPINGS_CREATED);
	return idx;
}

static int napt_in2out(struct nat *n, sp_time now, struct nat_ip *ip, const struct nat_l4_layout *L)
{
	uint8_t *l4 = ip->l4;
	uint16_t sport = sp_load_be16(l4 + L->sport);
	uint16_t dport = sp_load_be16(l4 + L->dport);
	bool created = false;
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx, g;
	uint16_t gp;

	nat_key_set(&k, NAT_K_IN, ip->proto, ip->src, 0, sport);
	idx = nat_table_lookup_h(&n->tab, &k,
				 ip->hint != NAT_NIL ? ip->hint : nat_table_hint(&n->tab, &k), now);
	if (idx == NAT_NIL) {
		if ((idx = create_mapping(n, now, ip, ip->proto, ip->src, sport)) == NAT_NIL)
			return NAT_DROP;
		created = true;
	}
	e = nat_entry_at(&n->tab, idx);
	g = e->k[1].a;
	gp = (uint16_t)e->k[1].id;
	e->out_addr = ip->dst;
	e->out_port = dport;
	if (ip->proto == IPV4_PROTO_TCP)
		nat_tcp_track(e, l4[TCP_OFF_FLAGS], true, created);
	/* RFC 4787 REQ-6: outbound packets refresh the mapping. */
	nat_table_schedule(&n->tab, idx, now + nat_napt_timeout(n, e), now);
	if (SP_UNLIKELY(n->offl != NULL))
		nat_offload_napt(n, idx);

	if (L->pseudo)
		nat_l4_csum_fix32(l4 + L->csum, L->udp, ip->src, g);
	if (gp != sport) {
		sp_store_be16(l4 + L->sport, gp);
		nat_l4_csum_fix16(l4 + L->csum, L->udp, sport, gp);
	}
	nat_rewrite_src(ip, g);

	if (SP_UNLIKELY(nat_in_pool(n, ip->dst))) {
		/* Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): to another inside host through
		 * its mapping, from this host's global endpoint. */
		if (ip->proto == IPV4_PROTO_ICMP) {
			NAT_INC(n, DROP_NO_MAPPING);
			return NAT_DROP;
		}
		nat_key_set(&k, NAT_K_OUT, ip->proto, ip->dst, 0, dport);
		if ((idx = nat_table_lookup(&n->tab, &k, now)) == NAT_NIL) {
			NAT_INC(n, DROP_NO_MAPPING);
			return NAT_DROP;
		}
		e = nat_entry_at(&n->tab, idx);
		nat_l4_csum_fix32(l4 + L->csum, L->udp, ip->dst, e->k[0].a);
		if (e->k[0].id != dport) {
			sp_store_be16(l4 + L->dport, (uint16_t)e->k[0].id);
			nat_l4_csum_fix16(l4 + L->csum, L->udp, dport, (uint16_t)e->k[0].id);
		}
		nat_rewrite_dst(ip, e->k[0].a);
		NAT_INC(n, HAIRPIN);
		return NAT_TO_INSIDE;
	}
	NAT_INC(n, IN2OUT);
	return NAT_TO_OUTSIDE;
}

static int ipsec_in2out(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	struct nat_ipsec_pkt sp;
	int v;

	if (nat_in_pool(n, ip->dst)) {
		NAT_INC(n, DROP_HAIRPIN_IPSEC);
		return NAT_DROP;
	}
	sp.proto = ip->proto;
	sp.client = ip->src;
	sp.global = nat_global_for(n, ip->src);
	sp.server = ip->dst;
	/* The SPI: ESP's first word (RFC 4303 2), AH's second (RFC 4302 2). */
	sp.spi = sp_load_be32(ip->l4 + (ip->proto == IPV4_PROTO_AH ? 4 : 0));
	v = n->strat->in2out(n, n->sctx, now, &sp, p);
	if (v == NAT_TO_OUTSIDE) {
		nat_rewrite_src(ip, sp.global);
		NAT_INC(n, IPSEC_IN2OUT);
	}
	return v;
}

int nat_in2out(struct nat *n, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	if (SP_UNLIKELY(nat_in_pool(n, ip->src))) {
		NAT_INC(n, DROP_SRC_POOL);
		return NAT_DROP;
	}
	if (SP_UNLIKELY(ip->frag_later)) {
		/* No transport header: paired pooling gives the address without a lookup. */
		nat_rewrite_src(ip, nat_global_for(n, ip->src));
		NAT_INC(n, FRAG_IN2OUT);
		return NAT_TO_OUTSIDE;
	}
	if (n->strat->pre_in2out != NULL && ip->proto != IPV4_PROTO_ESP &&
	    ip->proto != IPV4_PROTO_AH) {
		int v = n->strat->pre_in2out(n, n->sctx, now, ip, p);

		if (v != NAT_CONTINUE)
			return v;
	}
	switch (ip->proto) {
	case IPV4_PROTO_UDP:
		if (ip->l4len < UDP_HDR_LEN)
			break;
		if (n->cfg.ike_mode == NAT_IKE_COOKIES &&
		    sp_load_be16(ip->l4 + UDP_OFF_SPORT) == UDP_PORT_IKE &&
		    sp_load_be16(ip->l4 + UDP_OFF_DPORT) == UDP_PORT_IKE)
			return nat_ike_in2out(n, now, ip);
		return napt_in2out(n, now, ip, &nat_lay_udp);
	case IPV4_PROTO_TCP:
		if (ip->l4len < TCP_HDR_MIN)
			break;
		return napt_in2out(n, now, ip, &nat_lay_tcp);
	case IPV4_PROTO_ICMP:
		if (ip->l4len < ICMP_HDR_LEN)
			break;
		if (icmp_is_echo(ip->l4[0]))
			return napt_in2out(n, now, ip, &nat_lay_icmp);
		if (icmp_is_error(ip->l4[0]))
			return nat_icmp_error(n, now, NAT_INSIDE, ip);
		NAT_INC(n, DROP_ICMP_TYPE);
		return NAT_DROP;
	case IPV4_PROTO_ESP:
		if (ip->l4len < 8)
			break;
		return ipsec_in2out(n, now, ip, p);
	case IPV4_PROTO_AH:
		if (ip->l4len < 12)
			break;
		return ipsec_in2out(n, now, ip, p);
	default:
		NAT_INC(n, DROP_PROTO);
		return NAT_DROP;
	}
	NAT_INC(n, DROP_MALFORMED);
	return NAT_DROP;
}
