#include "sim/ipnode.h"
#include "sim/flow.h"
#include "base/cursor.h"
#include "proto/icmp.h"

#include <stdlib.h>
#include <string.h>

#define SIM_UDP_APPS   8
#define IP_TTL_DEFAULT 64

static const char *const ip_ctr_names[] = { SP_CTR_NAMES(foreach_sim_ip_ctr) };

struct sim_ip {
	struct sim_node *node;
	struct sim_ip_cfg cfg;
	uint16_t ip_id; /* soft state: restarts at 0 after a crash */
	struct sp_ctrs ctr_blk;
	uint64_t ctr[SIM_IP_CTR_N];

	const struct sim_nat_ops *nat_ops;
	void *nat;
	struct sim_nat_env nat_env;
	struct sp_xoshiro nat_rng;
	uint32_t ext[SIM_IFACE_ADDRS];

	const struct sim_ep_ops *ep_ops;
	void *ep;
	struct sim_ep_env ep_env;
	struct sp_xoshiro ep_rng;

	struct {
		uint16_t port;
		struct sim_udp_app app;
	} udp[SIM_UDP_APPS];
	unsigned nudp;
};

static const struct sim_node_ops ip_ops;

static inline struct sim_ip *ip_of(const struct sim_node *n)
{
	return n->priv;
}

bool sim_is_ip(const struct sim_node *n)
{
	return n->ops == &ip_ops;
}

const uint64_t *sim_ip_ctrs(const struct sim_node *n)
{
	return sim_is_ip(n) ? ip_of(n)->ctr : NULL;
}

static void ip_drop(struct sim_ip *ip, struct pkt *p, enum sim_ip_ctr c)
{
	ip->ctr[c]++;
	pkt_free(p);
}

static void ip_dispatch(struct sim_node *n, sp_time now, struct pkt *p, unsigned ifi, bool from_ep);
static void ip_icmp_error(struct sim_node *n, sp_time now, const struct pkt *orig, uint8_t type,
			  uint8_t code, uint32_t rest);

/*
 * The last step of every path: the packet must fit the interface's MTU. Nothing is
 * fragmented; a forwarded packet with DF set earns its sender a "fragmentation needed"
 * carrying the MTU (RFC 1191), so path MTU discovery works through the simulated routers.
 */
static void ip_xmit(struct sim_node *n, sp_time now, const struct sim_route_hit *hit, struct pkt *p,
		    bool forwarded)
{
	uint32_t mtu = n->ifs[hit->ifi].mtu;

	if (SP_UNLIKELY(p->len > mtu)) {
		if (forwarded && (sp_load_be16(pkt_data(p) + IPV4_OFF_FRAG) & IPV4_FLAG_DF))
			ip_icmp_error(n, now, p, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu);
		ip_drop(n->priv, p, SIM_IP_CTR_DROP_TOO_BIG);
		return;
	}
	sim_node_xmit(n, hit->ifi, hit->nexthop, p);
}

/* ---- sending ------------------------------------------------------------------------ */

/* Route and transmit; with via_ep the endpoint output hook sees the packet first. */
static void ip_route_xmit(struct sim_node *n, sp_time now, struct pkt *p, bool via_ep)
{
	struct sim_ip *ip = ip_of(n);
	struct sim_route_hit hit;
	uint32_t dst;

	if (p->len < IPV4_HDR_MIN) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_MALFORMED);
		return;
	}
	dst = sp_load_be32(pkt_data(p) + IPV4_OFF_DST);
	if (sim_route_lookup(n, dst, &hit) != 0) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_NO_ROUTE_LOCAL);
		return;
	}
	if (via_ep && ip->ep != NULL) {
		enum sim_verdict v = ip->ep_ops->output(ip->ep, now, p, &hit);

		if (v == SIM_CONSUMED)
			return;
		if (v == SIM_DROP) {
			ip_drop(ip, p, SIM_IP_CTR_EP_DROPPED);
			return;
		}
	}
	ip_xmit(n, now, &hit, p, false);
}

void sim_ip_output(struct sim_node *n, sp_time now, struct pkt *p)
{
	ip_of(n)->ctr[SIM_IP_CTR_ORIGINATED]++;
	ip_route_xmit(n, now, p, true);
}

static int ip_push_hdr(struct sim_ip *ip, struct pkt *p, uint8_t proto, uint32_t src, uint32_t dst)
{
	struct ipv4_hdr h = {
		.ip_id = ip->ip_id++,
		.ip_ttl = ip->cfg.ttl ? ip->cfg.ttl : IP_TTL_DEFAULT,
		.ip_proto = proto,
		.ip_src = src,
		.ip_dst = dst,
	};

	return ipv4_build(p, &h, NULL, 0);
}

/* A buffer for an own packet, or NULL (counted). */
static struct pkt *ip_alloc(struct sim_node *n)
{
	struct pkt *p = pkt_alloc(sim_pool(n->sim));

	if (p == NULL)
		ip_of(n)->ctr[SIM_IP_CTR_DROP_POOL_EMPTY]++;
	return p;
}

int sim_ip_send_udp(struct sim_node *n, sp_time now, uint32_t dst, uint16_t sport, uint16_t dport,
		    const void *payload, size_t len)
{
	return sim_ip_send_udp_tag(n, now, dst, sport, dport, payload, len, 0);
}

/*
 * An own packet to dst, in two halves around the transport header the caller builds:
 * ip_begin finds the route and a buffer (both failures counted) and appends the payload;
 * ip_finish takes the caller's build result r, pushes the IP header and sends, or frees.
 */
static int ip_begin(struct sim_node *n, uint32_t dst, const void *payload, size_t len,
		    struct sim_route_hit *hit, struct pkt **pp)
{
	int r;

	if (sim_route_lookup(n, dst, hit) != 0) {
		ip_of(n)->ctr[SIM_IP_CTR_DROP_NO_ROUTE_LOCAL]++;
		return SP_ENOTFOUND;
	}
	if ((*pp = ip_alloc(n)) == NULL)
		return SP_ENOMEM;
	if ((r = pkt_append(*pp, payload, (uint32_t)len)) != 0)
		pkt_free(*pp);
	return r;
}

static int ip_finish(struct sim_node *n, sp_time now, struct pkt *p, int r, uint8_t proto,
		     const struct sim_route_hit *hit, uint32_t dst)
{
	if (r != 0 || (r = ip_push_hdr(ip_of(n), p, proto, hit->src, dst)) != 0) {
		pkt_free(p);
		return r;
	}
	sim_ip_output(n, now, p);
	return 0;
}

int sim_ip_send_udp_tag(struct sim_node *n, sp_time now, uint32_t dst, uint16_t sport,
			uint16_t dport, const void *payload, size_t len, uint32_t tag)
{
	struct sim_route_hit hit;
	struct pkt *p;
	int r;

	if ((r = ip_begin(n, dst, payload, len, &hit, &p)) != 0)
		return r;
	p->tag = tag;
	r = udp_build(p, sport, dport, hit.src, dst, true);
	return ip_finish(n, now, p, r, IPV4_PROTO_UDP, &hit, dst);
}

int sim_ip_send_echo(struct sim_node *n, sp_time now, uint32_t dst, uint16_t id, uint16_t seq,
		     const void *payload, size_t len)
{
	struct sim_route_hit hit;
	struct pkt *p;
	int r;

	if ((r = ip_begin(n, dst, payload, len, &hit, &p)) != 0)
		return r;
	r = icmp_build_echo(p, ICMP_ECHO_REQUEST, id, seq);
	return ip_finish(n, now, p, r, IPV4_PROTO_ICMP, &hit, dst);
}

/*
 * RFC 1812 4.3.2.7: no error about an ICMP error, a non-first fragment, or a packet whose
 * source is not a unicast host.
 */
static bool icmp_error_allowed(const uint8_t *b, size_t len)
{
	uint32_t src = sp_load_be32(b + IPV4_OFF_SRC);
	size_t hl = (size_t)(b[0] & 0x0f) * 4;

	if (src == 0 || src >= 0xe0000000u || (sp_load_be16(b + IPV4_OFF_FRAG) & IPV4_FRAG_MASK))
		return false;
	if (b[IPV4_OFF_PROTO] == IPV4_PROTO_ICMP && len > hl && icmp_is_error(b[hl]))
		return false;
	return true;
}

static void ip_icmp_error(struct sim_node *n, sp_time now, const struct pkt *orig, uint8_t type,
			  uint8_t code, uint32_t rest)
{
	struct sim_ip *ip = ip_of(n);
	const uint8_t *b = pkt_data(orig);
	struct sim_route_hit hit;
	uint32_t dst;
	struct pkt *p;

	if (ip->cfg.no_icmp_errors || !icmp_error_allowed(b, orig->len))
		return;
	dst = sp_load_be32(b + IPV4_OFF_SRC);
	if (ip_begin(n, dst, "", 0, &hit, &p) != 0)
		return;
	if (ip_finish(n, now, p, icmp_build_error(p, type, code, rest, b, orig->len),
		      IPV4_PROTO_ICMP, &hit, dst) == 0)
		ip->ctr[SIM_IP_CTR_ICMP_ERR_SENT]++;
}

/* ---- local delivery ----------------------------------------------------------------- */

static void ip_local_icmp(struct sim_node *n, sp_time now, struct pkt *p, const struct ipv4_hdr *h,
			  struct cur *c)
{
	struct sim_ip *ip = ip_of(n);
	const uint8_t *msg = cur_ptr(c);
	size_t len = cur_left(c);
	struct icmp_hdr ih;

	if (icmp_parse(c, &ih) != 0) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_MALFORMED);
		return;
	}
	if (!ih.icmp_csum_ok) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_BAD_L4_CSUM);
		return;
	}
	if (icmp_is_error(ih.icmp_type)) {
		/* Counted, not a drop: errors are information for the stack. */
		ip->ctr[SIM_IP_CTR_ICMP_ERR_RX]++;
		pkt_free(p);
		return;
	}
	if (ih.icmp_type == ICMP_ECHO_REPLY) {
		if (sim_ping_rx(n, now, ih.icmp_id, ih.icmp_seq, msg + ICMP_HDR_LEN,
				len - ICMP_HDR_LEN)) {
			pkt_free(p);
			return;
		}
		ip_drop(ip, p, SIM_IP_CTR_DROP_ICMP_OTHER);
		return;
	}
	if (ih.icmp_type != ICMP_ECHO_REQUEST || ip->cfg.no_echo_reply) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_ICMP_OTHER);
		return;
	}
	/* Answer in place: swap addresses, turn the type, fix both checksums. */
	{
		uint8_t *b = pkt_data(p);
		uint8_t *m = b + h->ip_hl;

		sp_store_be32(b + IPV4_OFF_SRC, h->ip_dst);
		sp_store_be32(b + IPV4_OFF_DST, h->ip_src);
		b[IPV4_OFF_TTL] = ip->cfg.ttl ? ip->cfg.ttl : IP_TTL_DEFAULT;
		ipv4_set_csum(b, h->ip_hl);
		m[0] = ICMP_ECHO_REPLY;
		icmp_set_csum(m, len);
	}
	ip->ctr[SIM_IP_CTR_ECHO_REPLIED]++;
	sim_ip_output(n, now, p);
}

static void ip_local_udp(struct sim_node *n, sp_time now, struct pkt *p, const struct ipv4_hdr *h,
			 struct cur *c)
{
	struct sim_ip *ip = ip_of(n);
	const uint8_t *dgram = cur_ptr(c);
	struct udp_hdr uh;
	const uint8_t *pl;
	size_t plen;

	if (udp_parse(c, &uh) != 0) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_MALFORMED);
		return;
	}
	if (!udp_csum_ok(dgram, uh.udp_len, h->ip_src, h->ip_dst)) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_BAD_L4_CSUM);
		return;
	}
	pl = dgram + UDP_HDR_LEN;
	plen = uh.udp_len - UDP_HDR_LEN;
	if (sim_flow_rx(n, now, pl, plen, h->ip_src, uh.udp_sport)) {
		pkt_free(p);
		return;
	}
	for (unsigned i = 0; i < ip->nudp; i++) {
		if (ip->udp[i].port == uh.udp_dport) {
			ip->udp[i].app.fn(n, now, p, h, &uh, pl, plen, ip->udp[i].app.arg);
			return;
		}
	}
	ip_icmp_error(n, now, p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0);
	ip_drop(ip, p, SIM_IP_CTR_DROP_NO_LISTENER);
}

static void ip_local(struct sim_node *n, sp_time now, struct pkt *p, const struct ipv4_hdr *h)
{
	struct sim_ip *ip = ip_of(n);
	struct cur c;

	ip->ctr[SIM_IP_CTR_LOCAL]++;
	if (ipv4_is_fragment(h)) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_FRAGMENT);
		return;
	}
	cur_init(&c, pkt_data(p) + h->ip_hl, h->ip_len - h->ip_hl);
	switch (h->ip_proto) {
	case IPV4_PROTO_ICMP:
		ip_local_icmp(n, now, p, h, &c);
		return;
	case IPV4_PROTO_UDP:
		ip_local_udp(n, now, p, h, &c);
		return;
	case IPV4_PROTO_TCP:
		/* No TCP here: a closed port answers with an unreachable, like a RST would. */
		ip_icmp_error(n, now, p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0);
		ip_drop(ip, p, SIM_IP_CTR_DROP_NO_LISTENER);
		return;
	default:
		ip_icmp_error(n, now, p, ICMP_DEST_UNREACH, 2 /* protocol unreachable */, 0);
		ip_drop(ip, p, SIM_IP_CTR_DROP_NO_PROTO);
		return;
	}
}

/* ---- forwarding --------------------------------------------------------------------- */

static void ip_forward(struct sim_node *n, sp_time now, struct pkt *p, unsigned in_ifi,
		       const struct ipv4_hdr *h)
{
	struct sim_ip *ip = ip_of(n);
	struct sim_route_hit hit;

	/* RFC 1812 5.3.1: a packet whose TTL would reach zero is not forwarded. */
	if (h->ip_ttl <= 1) {
		ip_icmp_error(n, now, p, ICMP_TIME_EXCEEDED, 0, 0);
		ip_drop(ip, p, SIM_IP_CTR_DROP_TTL);
		return;
	}
	if (sim_route_lookup(n, h->ip_dst, &hit) != 0) {
		ip_icmp_error(n, now, p, ICMP_DEST_UNREACH, 0 /* net unreachable */, 0);
		ip_drop(ip, p, SIM_IP_CTR_DROP_NO_ROUTE);
		return;
	}
	ipv4_dec_ttl(pkt_data(p));
	if (ip->nat != NULL && hit.ifi == ip->nat_env.outside_ifi &&
	    in_ifi != ip->nat_env.outside_ifi) {
		enum sim_verdict v = ip->nat_ops->input(ip->nat, now, p, SIM_NAT_IN2OUT);

		if (v == SIM_CONSUMED)
			return;
		if (v == SIM_DROP) {
			ip_drop(ip, p, SIM_IP_CTR_NAT_DROPPED);
			return;
		}
	}
	if (ip->ep != NULL) {
		enum sim_verdict v = ip->ep_ops->output(ip->ep, now, p, &hit);

		if (v == SIM_CONSUMED)
			return;
		if (v == SIM_DROP) {
			ip_drop(ip, p, SIM_IP_CTR_EP_DROPPED);
			return;
		}
	}
	ip->ctr[SIM_IP_CTR_FORWARDED]++;
	ip_xmit(n, now, &hit, p, true);
}

/* Validate the header in place; on success h describes the packet (trimmed to ip_len). */
static int ip_validate(struct sim_ip *ip, struct pkt *p, struct ipv4_hdr *h)
{
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, h) != 0) {
		ip->ctr[SIM_IP_CTR_DROP_MALFORMED]++;
		return SP_EMALFORMED;
	}
	if (!h->ip_csum_ok) {
		ip->ctr[SIM_IP_CTR_DROP_BAD_CSUM]++;
		return SP_EMALFORMED;
	}
	if (h->ip_len < p->len && pkt_trim(p, h->ip_len) != 0)
		return SP_EMALFORMED;
	return 0;
}

/* After arrival (and NAT): local delivery, the endpoint input hook, or forwarding. */
static void ip_dispatch(struct sim_node *n, sp_time now, struct pkt *p, unsigned ifi, bool from_ep)
{
	struct sim_ip *ip = ip_of(n);
	struct ipv4_hdr h;

	if (ip_validate(ip, p, &h) != 0) {
		pkt_free(p);
		return;
	}
	if (sim_node_has_addr(n, h.ip_dst)) {
		if (ip->nat != NULL && !from_ep && ifi != ip->nat_env.outside_ifi) {
			enum sim_verdict v = ip->nat_ops->input(ip->nat, now, p, SIM_NAT_LOCAL);

			if (v == SIM_CONSUMED)
				return;
			if (v == SIM_DROP) {
				ip_drop(ip, p, SIM_IP_CTR_NAT_DROPPED);
				return;
			}
			if (ip_validate(ip, p, &h) != 0) {
				pkt_free(p);
				return;
			}
			if (!sim_node_has_addr(n, h.ip_dst)) {
				/* Rewritten for someone else (a decapsulated tunnel packet). */
				if (ip->cfg.forward)
					ip_forward(n, now, p, ifi, &h);
				else
					ip_drop(ip, p, SIM_IP_CTR_DROP_NOT_LOCAL);
				return;
			}
		}
		if (ip->ep != NULL && !from_ep) {
			enum sim_verdict v = ip->ep_ops->input(ip->ep, now, p, ifi);

			if (v == SIM_CONSUMED)
				return;
			if (v == SIM_DROP) {
				ip_drop(ip, p, SIM_IP_CTR_EP_DROPPED);
				return;
			}
			/* The engine may have rewritten the packet in place. */
			if (ip_validate(ip, p, &h) != 0) {
				pkt_free(p);
				return;
			}
		}
		ip_local(n, now, p, &h);
		return;
	}
	if (!ip->cfg.forward) {
		ip_drop(ip, p, SIM_IP_CTR_DROP_NOT_LOCAL);
		return;
	}
	ip_forward(n, now, p, ifi, &h);
}

static void ip_input(struct sim_node *n, sp_time now, struct pkt *p, unsigned ifi)
{
	struct sim_ip *ip = ip_of(n);
	struct ipv4_hdr h;

	ip->ctr[SIM_IP_CTR_RX]++;
	if (ip->nat != NULL && ifi == ip->nat_env.outside_ifi) {
		enum sim_verdict v;

		if (ip_validate(ip, p, &h) != 0) {
			pkt_free(p);
			return;
		}
		v = ip->nat_ops->input(ip->nat, now, p, SIM_NAT_OUT2IN);
		if (v == SIM_CONSUMED)
			return;
		if (v == SIM_DROP) {
			ip_drop(ip, p, SIM_IP_CTR_NAT_DROPPED);
			return;
		}
	}
	ip_dispatch(n, now, p, ifi, false);
}

/* ---- engines' services -------------------------------------------------------------- */

static void ep_send(struct sim_ep_env *env, sp_time now, struct pkt *p)
{
	struct sim_node *n = env->node;

	ip_of(n)->ctr[SIM_IP_CTR_ORIGINATED]++;
	ip_route_xmit(n, now, p, false);
}

static void ep_deliver(struct sim_ep_env *env, sp_time now, struct pkt *p, unsigned ifi)
{
	ip_dispatch(env->node, now, p, ifi, true);
}

static int ep_addr_add(struct sim_ep_env *env, uint32_t addr)
{
	struct sim_node *n = env->node;

	if (n->nifs == 0)
		return SP_ESTATE;
	if (sim_node_has_addr(n, addr))
		return 0;
	return sim_iface_addr_add(n, 0, addr);
}

static void nat_send(struct sim_nat_env *env, sp_time now, struct pkt *p)
{
	ip_route_xmit(env->node, now, p, false);
}

int sim_ip_attach_nat(struct sim_node *n, const struct sim_nat_ops *ops, const void *cfg,
		      unsigned outside_ifi, const uint32_t *ext, unsigned next)
{
	struct sim_ip *ip;
	int r;

	if (!sim_is_ip(n) || outside_ifi >= n->nifs || next == 0 || next > SIM_IFACE_ADDRS)
		return SP_EINVAL;
	ip = ip_of(n);
	if (ip->nat != NULL)
		return SP_EEXIST;
	for (unsigned i = 0; i < next; i++) {
		ip->ext[i] = ext[i];
		if (!sim_node_has_addr(n, ext[i]) &&
		    (r = sim_iface_addr_add(n, outside_ifi, ext[i])) != 0)
			return r;
	}
	sim_node_rng(n, "nat", &ip->nat_rng);
	ip->nat_env = (struct sim_nat_env){
		.node = n,
		.rng = &ip->nat_rng.rng,
		.log = &n->log,
		.ctrs = &n->ctrs,
		.pool = sim_pool(n->sim),
		.outside_ifi = outside_ifi,
		.ext = ip->ext,
		.next = next,
		.send = nat_send,
		.priv = ip,
	};
	if ((r = ops->create(&ip->nat, &ip->nat_env, cfg, sim_now(n->sim))) != 0)
		return r;
	ip->nat_ops = ops;
	sim_node_resched(n);
	return 0;
}

int sim_ip_attach_ep(struct sim_node *n, const struct sim_ep_ops *ops, const void *cfg)
{
	struct sim_ip *ip;
	int r;

	if (!sim_is_ip(n))
		return SP_EINVAL;
	ip = ip_of(n);
	if (ip->ep != NULL)
		return SP_EEXIST;
	sim_node_rng(n, "ep", &ip->ep_rng);
	ip->ep_env = (struct sim_ep_env){
		.node = n,
		.rng = &ip->ep_rng.rng,
		.log = &n->log,
		.ctrs = &n->ctrs,
		.pool = sim_pool(n->sim),
		.send = ep_send,
		.deliver = ep_deliver,
		.addr_add = ep_addr_add,
		.priv = ip,
	};
	if ((r = ops->create(&ip->ep, &ip->ep_env, cfg, sim_now(n->sim))) != 0)
		return r;
	ip->ep_ops = ops;
	sim_node_resched(n);
	return 0;
}

void *sim_ip_nat_ctx(const struct sim_node *n)
{
	return sim_is_ip(n) ? ip_of(n)->nat : NULL;
}

void *sim_ip_ep_ctx(const struct sim_node *n)
{
	return sim_is_ip(n) ? ip_of(n)->ep : NULL;
}

bool sim_ip_nat_report(const struct sim_node *n, struct sim_nat_report *r)
{
	struct sim_ip *ip;

	memset(r, 0, sizeof(*r));
	if (!sim_is_ip(n) || (ip = ip_of(n))->nat == NULL)
		return false;
	ip->nat_ops->report(ip->nat, r);
	return true;
}

bool sim_ip_ep_report(const struct sim_node *n, struct sim_ep_report *r)
{
	struct sim_ip *ip;

	memset(r, 0, sizeof(*r));
	if (!sim_is_ip(n) || (ip = ip_of(n))->ep == NULL)
		return false;
	if (ip->ep_ops->report != NULL)
		ip->ep_ops->report(ip->ep, r);
	return true;
}

int sim_ip_udp_bind(struct sim_node *n, uint16_t port, const struct sim_udp_app *app)
{
	struct sim_ip *ip;

	if (!sim_is_ip(n) || app == NULL || app->fn == NULL)
		return SP_EINVAL;
	ip = ip_of(n);
	for (unsigned i = 0; i < ip->nudp; i++)
		if (ip->udp[i].port == port)
			return SP_EEXIST;
	if (ip->nudp == SIM_UDP_APPS)
		return SP_EFULL;
	ip->udp[ip->nudp].port = port;
	ip->udp[ip->nudp].app = *app;
	ip->nudp++;
	return 0;
}

/* ---- node type ---------------------------------------------------------------------- */

static sp_time ip_next_deadline(struct sim_node *n)
{
	struct sim_ip *ip = ip_of(n);
	sp_time t = SP_TIME_NEVER;

	if (ip->nat != NULL && ip->nat_ops->next_deadline != NULL)
		t = sp_time_min(t, ip->nat_ops->next_deadline(ip->nat));
	if (ip->ep != NULL && ip->ep_ops->next_deadline != NULL)
		t = sp_time_min(t, ip->ep_ops->next_deadline(ip->ep));
	return t;
}

static void ip_tick(struct sim_node *n, sp_time now)
{
	struct sim_ip *ip = ip_of(n);

	if (ip->nat != NULL && ip->nat_ops->next_deadline != NULL &&
	    ip->nat_ops->next_deadline(ip->nat) <= now)
		ip->nat_ops->tick(ip->nat, now);
	if (ip->ep != NULL && ip->ep_ops->next_deadline != NULL &&
	    ip->ep_ops->next_deadline(ip->ep) <= now)
		ip->ep_ops->tick(ip->ep, now);
}

static void ip_crash(struct sim_node *n, sp_time now)
{
	struct sim_ip *ip = ip_of(n);

	ip->ip_id = 0;
	if (ip->nat != NULL)
		ip->nat_ops->reset(ip->nat, now);
	if (ip->ep != NULL)
		ip->ep_ops->reset(ip->ep, now);
}

static void ip_restart(struct sim_node *n, sp_time now)
{
	struct sim_ip *ip = ip_of(n);

	if (ip->ep != NULL && ip->ep_ops->restart != NULL)
		ip->ep_ops->restart(ip->ep, now);
}

static void ip_show(struct sim_node *n, FILE *f)
{
	struct sim_ip *ip = ip_of(n);

	if (ip->nat != NULL && ip->nat_ops->show != NULL) {
		fprintf(f, "%s: NAT engine %s\n", n->name, ip->nat_ops->name);
		ip->nat_ops->show(ip->nat, f);
	}
	if (ip->ep != NULL && ip->ep_ops->show != NULL) {
		fprintf(f, "%s: endpoint engine %s\n", n->name, ip->ep_ops->name);
		ip->ep_ops->show(ip->ep, f);
	}
}

static void ip_destroy(struct sim_node *n)
{
	struct sim_ip *ip = ip_of(n);

	if (ip == NULL)
		return;
	if (ip->nat != NULL)
		ip->nat_ops->destroy(ip->nat);
	if (ip->ep != NULL)
		ip->ep_ops->destroy(ip->ep);
	free(ip);
}

static const struct sim_node_ops ip_ops = {
	.type = "ip",
	.input = ip_input,
	.next_deadline = ip_next_deadline,
	.tick = ip_tick,
	.crash = ip_crash,
	.restart = ip_restart,
	.show = ip_show,
	.destroy = ip_destroy,
};

int sim_ip_new(struct sim *sim, const char *name, const struct sim_ip_cfg *cfg,
	       struct sim_node **out)
{
	struct sim_ip *ip;
	struct sim_node *n;
	int r;

	*out = NULL;
	if ((ip = calloc(1, sizeof(*ip))) == NULL)
		return SP_ENOMEM;
	if (cfg != NULL)
		ip->cfg = *cfg;
	if ((r = sim_node_new(sim, name, &ip_ops, ip, &n)) != 0) {
		free(ip);
		return r;
	}
	ip->node = n;
	sp_ctrs_init(&ip->ctr_blk, "ip", n->name, ip_ctr_names, ip->ctr, SIM_IP_CTR_N);
	sp_ctr_register(&n->ctrs, &ip->ctr_blk);
	*out = n;
	return 0;
}

int sim_host_new(struct sim *sim, const char *name, struct sim_node **out)
{
	struct sim_ip_cfg cfg = { .forward = false };

	return sim_ip_new(sim, name, &cfg, out);
}

int sim_router_new(struct sim *sim, const char *name, struct sim_node **out)
{
	struct sim_ip_cfg cfg = { .forward = true };

	return sim_ip_new(sim, name, &cfg, out);
}
