/*
 * natt: the baseline of RFC 3947/3948. Endpoints put ESP in UDP 4500, which the engine's
 * NAPT carries like any UDP (refreshed by NAT-T keepalives, RFC 3948 4); raw ESP and AH
 * are not translated at all, as on a gateway with "IPsec passthrough" off.
 */
#include "nat/nat_priv.h"

#define foreach_natt_ctr(_) _(DROP_RAW, "natt_drop_raw_ipsec")

enum natt_ctr {
#define _(sym, str) NATT_CTR_##sym,
	foreach_natt_ctr(_)
#undef _
		NATT_CTR_N
};

static const char *const natt_ctr_names[] = { SP_CTR_NAMES(foreach_natt_ctr) };

static void natt_defaults(void *params)
{
	(void)params;
}

static int natt_conf(struct conf_sec *s, void *params)
{
	(void)s;
	(void)params;
	return 0;
}

static int natt_drop(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip, struct pkt *p)
{
	(void)ctx;
	(void)now;
	(void)ip;
	(void)p;
	nat_sctr_inc(n, NATT_CTR_DROP_RAW, 1);
	return NAT_DROP;
}

static bool natt_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		     struct nat_row *r)
{
	(void)n;
	(void)ctx;
	(void)e;
	(void)r;
	return false;
}

const struct nat_strategy nat_strategy_natt = {
	.name = "natt",
	.help = "NAT-T baseline: ESP in UDP 4500 through NAPT; raw ESP/AH dropped",
	.defaults = natt_defaults,
	.conf = natt_conf,
	.ctx_size = 0,
	.ctr_names = natt_ctr_names,
	.n_ctrs = NATT_CTR_N,
	.in2out = natt_drop,
	.out2in = natt_drop,
	.expire = nat_strat_expire_entry,
	.row = natt_row,
};
