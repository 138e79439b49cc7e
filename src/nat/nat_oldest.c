/*
 * oldest: the ESP connection tracking many router kernels ship. Each outbound SPI towards
 * a server is an unanswered entry; an inbound SPI nobody claims goes to the oldest
 * unanswered entry towards that server, which then counts as answered. Unanswered entries
 * live 60 s, answered ones 3600 s, refreshed by traffic.
 *
 * Entries: k[0] = (proto, client, server, outgoing SPI) indexed; k[1] = (proto, global,
 * server, 0) while unanswered, (proto, global, server, incoming SPI) once answered;
 * aux = creation order.
 */
#include "nat/nat_priv.h"
#include "base/conf.h"

#define K_OUT	(NAT_K_STRAT + 0)
#define K_UNANS (NAT_K_STRAT + 1)
#define K_ANS	(NAT_K_STRAT + 2)

#define ST_ANSWERED 0x01

#define foreach_oldest_ctr(_)                   \
	_(CREATED, "oldest_unanswered_created") \
	_(ANSWERED, "oldest_answered")          \
	_(DROP_NO_UNANSWERED, "oldest_drop_no_unanswered")

enum oldest_ctr {
#define _(sym, str) OLDEST_CTR_##sym,
	foreach_oldest_ctr(_)
#undef _
		OLDEST_CTR_N
};

static const char *const oldest_ctr_names[] = { SP_CTR_NAMES(foreach_oldest_ctr) };

struct oldest_params {
	sp_time t_unans;
	sp_time t_ans;
};
_Static_assert(sizeof(struct oldest_params) <= NAT_SPARAMS_SIZE, "params fit");

struct oldest_ctx {
	uint32_t seq;
};

static void oldest_defaults(void *params)
{
	struct oldest_params *p = params;

	p->t_unans = SP_SEC(60);
	p->t_ans = SP_SEC(3600);
}

static int oldest_conf(struct conf_sec *s, void *params)
{
	struct oldest_params *p = params;
	int r;

	if ((r = nat_conf_time(s, "oldest_unanswered_timeout", p->t_unans, &p->t_unans)) != 0 ||
	    (r = nat_conf_time(s, "oldest_answered_timeout", p->t_ans, &p->t_ans)) != 0)
		return r;
	if (p->t_unans == 0 || p->t_ans == 0)
		return conf_fail(s, "oldest timeouts must be positive");
	return 0;
}

static int oldest_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct oldest_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct oldest_ctx *c = ctx;
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	(void)p;
	nat_key_set(&k, K_OUT, ip->proto, ip->client, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		if ((idx = nat_strat_alloc_for(n, now, ip->client, p)) == NAT_NIL)
			return NAT_DROP;
		e = nat_entry_at(t, idx);
		e->k[0] = k;
		nat_key_set(&e->k[1], K_UNANS, ip->proto, ip->global, ip->server, 0);
		e->aux = c->seq++;
		nat_table_hash_add(t, idx, 0);
		nat_table_hash_add(t, idx, 1);
		nat_strat_charge(n, idx);
		nat_sctr_inc(n, OLDEST_CTR_CREATED, 1);
	}
	e = nat_entry_at(t, idx);
	nat_table_schedule(t, idx, now + ((e->state & ST_ANSWERED) ? par->t_ans : par->t_unans),
			   now);
	if (e->state & ST_ANSWERED)
		nat_offload_settle(n, idx);
	return NAT_TO_OUTSIDE;
}

static int oldest_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct oldest_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	uint32_t it = NAT_NIL, idx, best = NAT_NIL;
	struct nat_entry *e;
	struct nat_key k, ku;

	(void)ctx;
	(void)p;
	nat_key_set(&k, K_ANS, ip->proto, ip->global, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		nat_key_set(&ku, K_UNANS, ip->proto, ip->global, ip->server, 0);
		while ((idx = nat_table_next_match(t, &ku, &it)) != NAT_NIL) {
			e = nat_entry_at(t, idx);
			/* creation order survives the counter wrapping */
			if (nat_entry_live(e, now) &&
			    (best == NAT_NIL || (int32_t)(e->aux - nat_entry_at(t, best)->aux) < 0))
				best = idx;
		}
		if ((idx = best) == NAT_NIL) {
			nat_sctr_inc(n, OLDEST_CTR_DROP_NO_UNANSWERED, 1);
			return NAT_DROP;
		}
		e = nat_entry_at(t, idx);
		nat_table_rekey(t, idx, 1, &k);
		e->state |= ST_ANSWERED;
		nat_sctr_inc(n, OLDEST_CTR_ANSWERED, 1);
	}
	e = nat_entry_at(t, idx);
	nat_table_schedule(t, idx, now + par->t_ans, now);
	nat_offload_settle(n, idx);
	ip->client = e->k[0].a;
	return NAT_TO_INSIDE;
}

/* Answered entries only: an unanswered one may still be given an unknown SPI. */
static void oldest_offload(const struct nat *n, const void *ctx, const struct nat_entry *e,
			   struct nat_offload_desc *d)
{
	const struct oldest_params *par = nat_sparams(n);

	(void)ctx;
	nat_strat_item_offload(e, true, true, par->t_ans, d);
}

static bool oldest_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		       struct nat_row *r)
{
	bool answered = (e->state & ST_ANSWERED) != 0;

	(void)n;
	(void)ctx;
	nat_strat_item_row(e, true, answered, answered ? "answered" : "unanswered", r);
	return true;
}

const struct nat_strategy nat_strategy_oldest = {
	.name = "oldest",
	.help = "router ESP conntrack: unknown inbound SPI to the oldest unanswered SA (60 s / "
		"3600 s)",
	.defaults = oldest_defaults,
	.conf = oldest_conf,
	.ctx_size = sizeof(struct oldest_ctx),
	.ctr_names = oldest_ctr_names,
	.n_ctrs = OLDEST_CTR_N,
	.in2out = oldest_in2out,
	.out2in = oldest_out2in,
	.expire = nat_strat_expire_entry,
	.row = oldest_row,
	.offload = oldest_offload,
	.host_of = nat_strat_item_host,
};
