/* Adapter from sim/engine.h's NAT contract to the engine's sans-IO API. */
#include "sim/nat_sim.h"
#include "base/cursor.h"
#include "nat/nat_strategy.h"
#include "proto/ipv4.h"
#include "proto/pcp.h"

#include <stdlib.h>
#include <string.h>

struct nat_sim {
	struct sim_nat_env *env;
	struct nat *n;
	sp_time now; /* of the call in progress: emitted packets leave at this time */
};

static void emit(void *arg, enum nat_side side, struct pkt *p)
{
	struct nat_sim *s = arg;

	(void)side; /* the router routes an emitted packet by its destination */
	s->env->send(s->env, s->now, p);
}

static int create(void **ctx, struct sim_nat_env *env, const void *cfg, sp_time now)
{
	const struct nat_sim_cfg *c = cfg;
	struct nat_config nc = c->nat;
	struct nat_env ne = { 0 };
	struct nat_sim *s;
	int r;

	(void)now;
	*ctx = NULL;
	nc.npool = 0;
	for (unsigned i = 0; i < env->next; i++)
		if ((r = nat_config_add_pool(&nc, env->ext[i])) != 0)
			return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SP_ENOMEM;
	s->env = env;
	ne.name = env->node->name;
	ne.rng = env->rng;
	ne.log = (struct sp_log *)env->log;
	ne.ctrs = env->ctrs;
	ne.pool = env->pool;
	ne.emit = emit;
	ne.emit_arg = s;
	if ((r = nat_new(&s->n, &nc, &ne)) != 0) {
		free(s);
		return r;
	}
	*ctx = s;
	return 0;
}

/* A PCP request (UDP to port 5351) and a strategy that answers packets to the gateway. */
static bool is_pcp(const struct nat_sim *s, const struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	size_t hl;

	if (nat_config_of(s->n)->strategy->pre_in2out == NULL || p->len < IPV4_HDR_MIN + 8 ||
	    d[IPV4_OFF_PROTO] != IPV4_PROTO_UDP)
		return false;
	hl = (size_t)(d[0] & 0x0f) * 4;
	return p->len >= hl + 8 && sp_load_be16(d + hl + 2) == PCP_PORT;
}

static enum sim_verdict input(void *ctx, sp_time now, struct pkt *p, enum sim_nat_dir dir)
{
	struct nat_sim *s = ctx;
	uint32_t dst = p->len >= IPV4_HDR_MIN ? sp_load_be32(pkt_data(p) + IPV4_OFF_DST) : 0;
	int v;

	s->now = now;
	switch (dir) {
	case SIM_NAT_IN2OUT:
		v = nat_translate(s->n, now, NAT_INSIDE, p);
		break;
	case SIM_NAT_OUT2IN:
		/* Not for a global address: the router's own business. */
		if (!nat_is_global(s->n, dst))
			return SIM_PASS;
		v = nat_translate(s->n, now, NAT_OUTSIDE, p);
		break;
	case SIM_NAT_LOCAL:
	default:
		/* From inside to a global address: hairpinning (RFC 4787 REQ-9). Other
		 * packets for the router are its stack's, unless the strategy takes them
		 * (dnat's tunnels and PAP; PCP to the router is the lease strategy's, 001
		 * module 110). */
		if (!nat_is_global(s->n, dst) && !nat_takes_local(s->n) && !is_pcp(s, p))
			return SIM_PASS;
		v = nat_translate(s->n, now, NAT_INSIDE, p);
		break;
	}
	switch (v) {
	case NAT_TO_OUTSIDE:
		if (dir == SIM_NAT_IN2OUT)
			return SIM_PASS;
		s->env->send(s->env, now, p);
		return SIM_CONSUMED;
	case NAT_TO_INSIDE:
		if (dir != SIM_NAT_IN2OUT)
			return SIM_PASS; /* the router forwards it to the new destination */
		s->env->send(s->env, now, p);
		return SIM_CONSUMED;
	case NAT_TAKEN:
		pkt_free(p); /* the engine keeps a copy (serial's held packets) */
		return SIM_CONSUMED;
	default:
		return SIM_DROP; /* counted by the engine under its drop reason */
	}
}

static sp_time next_deadline(void *ctx)
{
	struct nat_sim *s = ctx;

	return nat_next_deadline(s->n);
}

static void tick(void *ctx, sp_time now)
{
	struct nat_sim *s = ctx;

	s->now = now;
	nat_tick(s->n, now);
}

static void reset(void *ctx, sp_time now)
{
	struct nat_sim *s = ctx;

	s->now = now;
	nat_reset(s->n);
}

static void report(void *ctx, struct sim_nat_report *r)
{
	struct nat_sim *s = ctx;

	r->entries = nat_entries(s->n);
	r->bytes = (uint64_t)nat_entries(s->n) * nat_entry_bytes(s->n);
}

static void show(void *ctx, FILE *f)
{
	struct nat_sim *s = ctx;

	nat_show(s->n, s->now, f, NAT_SHOW_ALL, 0);
}

static void destroy(void *ctx)
{
	struct nat_sim *s = ctx;

	if (s == NULL)
		return;
	nat_free(s->n);
	free(s);
}

struct nat *nat_sim_engine(void *ctx)
{
	return ctx != NULL ? ((struct nat_sim *)ctx)->n : NULL;
}

const struct sim_nat_ops nat_sim_ops = {
	.name = "nat",
	.create = create,
	.input = input,
	.next_deadline = next_deadline,
	.tick = tick,
	.reset = reset,
	.report = report,
	.show = show,
	.destroy = destroy,
};
