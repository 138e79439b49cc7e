/*
 * ipaddr: what routers ship for protocols without ports (Linux's generic conntrack,
 * FreeBSD libalias, pf): an entry keyed by protocol and the two addresses, so one inside
 * client per server and protocol. Another client's packet to a server that already has
 * one is refused, as Linux refuses a clashing conntrack tuple.
 *
 * Entries: k[0] = (proto, client, server) indexed, k[1] = (proto, global, server) indexed.
 */
#include "nat/nat_priv.h"
#include "base/conf.h"

#define K_CLIENT (NAT_K_STRAT + 0)
#define K_GLOBAL (NAT_K_STRAT + 1)

#define foreach_ipaddr_ctr(_)                   \
	_(CREATED, "ipaddr_entries_created")    \
	_(DROP_BUSY, "ipaddr_drop_server_busy") \
	_(DROP_NO_ENTRY, "ipaddr_drop_no_entry")

enum ipaddr_ctr {
#define _(sym, str) IPADDR_CTR_##sym,
	foreach_ipaddr_ctr(_)
#undef _
		IPADDR_CTR_N
};

static const char *const ipaddr_ctr_names[] = { SP_CTR_NAMES(foreach_ipaddr_ctr) };

struct ipaddr_params {
	sp_time timeout;
};

static void ipaddr_defaults(void *params)
{
	struct ipaddr_params *p = params;

	p->timeout = SP_SEC(600); /* nf_conntrack_generic_timeout */
}

static int ipaddr_conf(struct conf_sec *s, void *params)
{
	struct ipaddr_params *p = params;

	return nat_conf_time(s, "ipaddr_timeout", p->timeout, &p->timeout);
}

static int ipaddr_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct ipaddr_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	(void)ctx;
	(void)p;
	nat_key_set(&k, K_CLIENT, ip->proto, ip->client, ip->server, 0);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		struct nat_key kg;

		nat_key_set(&kg, K_GLOBAL, ip->proto, ip->global, ip->server, 0);
		if (nat_table_lookup(t, &kg, now) != NAT_NIL) {
			nat_sctr_inc(n, IPADDR_CTR_DROP_BUSY, 1);
			return NAT_DROP;
		}
		if ((idx = nat_strat_alloc_for(n, now, ip->client, p)) == NAT_NIL)
			return NAT_DROP;
		e = nat_entry_at(t, idx);
		e->k[0] = k;
		e->k[1] = kg;
		nat_table_hash_add(t, idx, 0);
		nat_table_hash_add(t, idx, 1);
		nat_strat_charge(n, idx);
		nat_sctr_inc(n, IPADDR_CTR_CREATED, 1);
	}
	nat_table_schedule(t, idx, now + par->timeout, now);
	nat_offload_settle(n, idx);
	return NAT_TO_OUTSIDE;
}

static int ipaddr_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct ipaddr_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct nat_key k;
	uint32_t idx;

	(void)ctx;
	(void)p;
	nat_key_set(&k, K_GLOBAL, ip->proto, ip->global, ip->server, 0);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		nat_sctr_inc(n, IPADDR_CTR_DROP_NO_ENTRY, 1);
		return NAT_DROP;
	}
	ip->client = nat_entry_at(t, idx)->k[0].a;
	nat_table_schedule(t, idx, now + par->timeout, now);
	nat_offload_settle(n, idx);
	return NAT_TO_INSIDE;
}

/* Every entry at once: (client, server) and (global, server), any SPI. */
static void ipaddr_offload(const struct nat *n, const void *ctx, const struct nat_entry *e,
			   struct nat_offload_desc *d)
{
	const struct ipaddr_params *par = nat_sparams(n);

	(void)ctx;
	nat_strat_item_offload(e, true, true, par->timeout, d);
}

static bool ipaddr_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		       struct nat_row *r)
{
	(void)n;
	(void)ctx;
	nat_strat_item_row(e, false, false, "by-address", r);
	return true;
}

const struct nat_strategy nat_strategy_ipaddr = {
	.name = "ipaddr",
	.help = "addresses only, one client per server (Linux generic conntrack, libalias, pf)",
	.defaults = ipaddr_defaults,
	.conf = ipaddr_conf,
	.ctx_size = 0,
	.ctr_names = ipaddr_ctr_names,
	.n_ctrs = IPADDR_CTR_N,
	.in2out = ipaddr_in2out,
	.out2in = ipaddr_out2in,
	.expire = nat_strat_expire_entry,
	.row = ipaddr_row,
	.offload = ipaddr_offload,
	.host_of = nat_strat_item_host,
};
