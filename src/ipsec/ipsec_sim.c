/* Adapter from sim/engine.h's endpoint contract to struct ipsec. The engine consumes every
 * packet it is given (passing it on through its callbacks or counting a drop), so every
 * verdict here is SIM_CONSUMED. */
#include "ipsec/ipsec_sim.h"
#include "ipsec/ipsec.h"
#include "ipsec/ipsec_conf.h"

#include <stdlib.h>
#include <string.h>

struct ipsec_sim {
	struct sim_ep_env *env;
	struct ipsec *e;
	char *conf;
	sp_time now;  /* of the call in progress, for the callbacks */
	unsigned ifi; /* arrival interface of the packet in progress */
};

static void sim_net_out(void *arg, struct pkt *p)
{
	struct ipsec_sim *s = arg;

	s->env->send(s->env, s->now, p);
}

static void sim_local_out(void *arg, struct pkt *p)
{
	struct ipsec_sim *s = arg;

	s->env->deliver(s->env, s->now, p, s->ifi);
}

static void sim_event(void *arg, const struct ipsec_event *ev)
{
	struct ipsec_sim *s = arg;
	static const char *const names[] = { "acquire", "soft expire", "hard expire",
					     "reserved SPI expired" };

	SP_INFO(s->env->log, "ipsec", "%s%s%08x", names[ev->type], ev->sa ? " spi 0x" : "",
		ev->sa ? ev->sa->spi : 0);
}

/* A fresh engine with the configured SAs and policies. */
static int build(struct ipsec_sim *s, sp_time now)
{
	struct ipsec_cfg cfg = {
		.name = s->env->node->name,
		.rng = s->env->rng,
		.log = s->env->log,
		.ctrs = s->env->ctrs,
		.pool = s->env->pool,
		.bypass_unmatched = true, /* a node's other traffic passes */
		.net_out = sim_net_out,
		.local_out = sim_local_out,
		.event = sim_event,
		.arg = s,
	};
	struct conf *c = NULL;
	int r;

	if ((r = conf_parse_string(s->conf, s->env->node->name, &c)) != 0 ||
	    (r = ipsec_conf_engine(c, &cfg)) != 0 || (r = ipsec_new(&s->e, &cfg)) != 0 ||
	    (r = ipsec_conf_load(s->e, c, now)) != 0 || (r = conf_check_unused(c)) != 0) {
		SP_ERR(s->env->log, "ipsec", "%s",
		       c && conf_error(c)[0] ? conf_error(c) : sp_strerror(r));
		ipsec_free(s->e);
		s->e = NULL;
	}
	conf_free(c);
	return r;
}

static void destroy(void *ctx)
{
	struct ipsec_sim *s = ctx;

	if (s == NULL)
		return;
	ipsec_free(s->e);
	free(s->conf);
	free(s);
}

static int create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ipsec_sim_cfg *c = cfg;
	struct ipsec_sim *s;
	int r;

	*ctx = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SP_ENOMEM;
	s->env = env;
	s->now = now;
	if ((s->conf = strdup(c && c->conf ? c->conf : "")) == NULL) {
		destroy(s);
		return SP_ENOMEM;
	}
	if ((r = build(s, now)) != 0) {
		destroy(s);
		return r;
	}
	*ctx = s;
	return 0;
}

static enum sim_verdict output(void *ctx, sp_time now, struct pkt *p,
			       const struct sim_route_hit *rt)
{
	struct ipsec_sim *s = ctx;

	(void)rt;
	if (s->e == NULL)
		return SIM_DROP; /* the configuration did not load at the restart (logged) */
	s->now = now;
	ipsec_output(s->e, now, p);
	return SIM_CONSUMED;
}

static enum sim_verdict input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct ipsec_sim *s = ctx;

	if (s->e == NULL)
		return SIM_DROP;
	s->now = now;
	s->ifi = ifi;
	ipsec_input(s->e, now, p);
	return SIM_CONSUMED;
}

static sp_time next_deadline(void *ctx)
{
	struct ipsec_sim *s = ctx;

	return s->e != NULL ? ipsec_next_deadline(s->e) : SP_TIME_NEVER;
}

static void tick(void *ctx, sp_time now)
{
	struct ipsec_sim *s = ctx;

	s->now = now;
	if (s->e != NULL)
		ipsec_tick(s->e, now);
}

/* A crash loses every SA; manual keys come back from the configuration at the restart
 * (with sequence numbers from 1 again, which the peer's window may refuse: that is why
 * IKE exists). */
static void reset(void *ctx, sp_time now)
{
	struct ipsec_sim *s = ctx;

	(void)now;
	ipsec_free(s->e);
	s->e = NULL;
}

static void restart(void *ctx, sp_time now)
{
	struct ipsec_sim *s = ctx;

	s->now = now;
	if (s->e == NULL && build(s, now) != 0)
		SP_ERR(s->env->log, "ipsec", "restart: configuration no longer loads");
}

static void report(void *ctx, struct sim_ep_report *r)
{
	struct ipsec_sim *s = ctx;

	if (s->e == NULL)
		return;
	for (const struct spd_policy *p = ipsec_policy_next(s->e, NULL); p;
	     p = ipsec_policy_next(s->e, p)) {
		if (p->dir != SA_DIR_OUT || p->action != SPD_PROTECT)
			continue;
		r->tunnels_wanted++;
		r->tunnels_up += p->sa != NULL;
	}
	r->rx_foreign += ipsec_counter(s->e, IPSEC_DROP_NO_SA);
	r->ctl_pkts += ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE);
	/* IPv4 + UDP + the keepalive octet (RFC 3948 2.3). */
	r->ctl_bytes += ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE) * (20 + 8 + 1);
}

static void show(void *ctx, FILE *f)
{
	struct ipsec_sim *s = ctx;

	if (s->e == NULL)
		return;
	ipsec_show_sa(s->e, s->now, f);
	ipsec_show_policy(s->e, f);
}

struct ipsec *ipsec_sim_engine(void *ctx)
{
	return ((struct ipsec_sim *)ctx)->e;
}

const struct sim_ep_ops ipsec_sim_ops = {
	.name = "ipsec",
	.create = create,
	.output = output,
	.input = input,
	.next_deadline = next_deadline,
	.tick = tick,
	.reset = reset,
	.restart = restart,
	.report = report,
	.show = show,
	.destroy = destroy,
};
