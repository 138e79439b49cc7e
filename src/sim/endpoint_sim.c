/*
 * Adapter from sim/engine.h's endpoint contract to the endpoint stack (host/endpoint.h):
 * ipsec_sim_ops (manual keys) and ike_sim_ops (IKEv2 and the host modules). The stack
 * consumes every packet it is given (passing it on through its callbacks or counting a
 * drop), so every verdict here is SIM_CONSUMED.
 */
#include "sim/ike_sim.h"
#include "sim/ipsec_sim.h"

#include "host/endpoint.h"

#include <stdlib.h>
#include <string.h>

/* One endpoint node. */
struct ep_sim {
	struct sim_ep_env *env;
	struct endpoint *ep; /* NULL after a crash until the restart */
	struct conf *conf;   /* the parsed text while the stack lives (IKE keeps pointers) */
	char *text;	     /* the configuration text */
	unsigned ifi;	     /* arrival interface of the packet in progress */
	const char *mod;     /* "ipsec" or "ike", in the adapter's log lines */
	bool need_ike;	     /* ike_sim_ops: a configuration without [conn] is refused */
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
};

static void sim_net_out(void *arg, sp_time now, struct pkt *p)
{
	struct ep_sim *s = arg;

	s->env->send(s->env, now, p);
}

static void sim_local_out(void *arg, sp_time now, struct pkt *p)
{
	struct ep_sim *s = arg;

	s->env->deliver(s->env, now, p, s->ifi);
}

/* Manual keys: IPsec's events have no IKE to act on them. */
static void sim_ipsec_event(void *arg, sp_time now, const struct ipsec_event *ev)
{
	struct ep_sim *s = arg;
	static const char *const names[] = { "acquire", "soft expire", "hard expire",
					     "reserved SPI expired", "peer moved" };

	(void)now;
	SP_INFO(s->env->log, "ipsec", "%s%s%08x", names[ev->type], ev->sa ? " spi 0x" : "",
		ev->sa ? ev->sa->spi : 0);
}

/* Free what a build made; the context stays for a restart. */
static void teardown(struct ep_sim *s)
{
	endpoint_free(s->ep);
	conf_free(s->conf);
	s->ep = NULL;
	s->conf = NULL;
}

/* A fresh stack from the configuration text. */
static int build(struct ep_sim *s, sp_time now)
{
	struct endpoint_params p = {
		.name = s->env->node->name,
		.log = s->env->log,
		.ctrs = s->env->ctrs,
		.rng = s->env->rng,
		.pool = s->env->pool,
		.bypass_unmatched = true, /* a node's other traffic passes */
		.masq_t_out = s->masq_t_out,
		.masq_t_ei = s->masq_t_ei,
		.masq_n_out = s->masq_n_out,
		.io = { .net_out = sim_net_out,
			.local_out = sim_local_out,
			.ipsec_event = sim_ipsec_event,
			.arg = s },
	};
	int r;

	if ((r = conf_parse_string(s->text, s->env->node->name, &s->conf)) == 0 && s->need_ike &&
	    conf_next(s->conf, NULL, "conn") == NULL)
		r = SP_ENOTFOUND; /* IKE without a connection */
	if (r != 0 || (r = endpoint_new(&p, s->conf, now, &s->ep)) != 0 ||
	    (r = conf_check_unused(s->conf)) != 0) {
		SP_ERR(s->env->log, s->mod, "%s",
		       s->conf != NULL && conf_error(s->conf)[0] ? conf_error(s->conf)
								 : sp_strerror(r));
		teardown(s);
		return r;
	}
	endpoint_start(s->ep, now);
	return 0;
}

static void destroy(void *ctx)
{
	struct ep_sim *s = ctx;

	if (s == NULL)
		return;
	teardown(s);
	free(s->text);
	free(s);
}

static int create(void **ctx, struct sim_ep_env *env, sp_time now, struct ep_sim *proto,
		  const char *conf)
{
	struct ep_sim *s;
	int r;

	*ctx = NULL;
	if ((s = malloc(sizeof(*s))) == NULL)
		return SP_ENOMEM;
	*s = *proto;
	s->env = env;
	if ((s->text = strdup(conf != NULL ? conf : "")) == NULL) {
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

static int create_ipsec(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ipsec_sim_cfg *c = cfg;
	struct ep_sim proto = { .mod = "ipsec" };

	return create(ctx, env, now, &proto, c != NULL ? c->conf : NULL);
}

static int create_ike(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ike_sim_cfg *c = cfg;
	struct ep_sim proto = { .mod = "ike", .need_ike = true };

	if (c != NULL) {
		proto.masq_t_out = c->masq_t_out;
		proto.masq_t_ei = c->masq_t_ei;
		proto.masq_n_out = c->masq_n_out;
	}
	return create(ctx, env, now, &proto, c != NULL ? c->conf : NULL);
}

static enum sim_verdict output(void *ctx, sp_time now, struct pkt *p,
			       const struct sim_route_hit *rt)
{
	struct ep_sim *s = ctx;

	(void)rt;
	if (s->ep == NULL)
		return SIM_DROP; /* the configuration did not load at the restart (logged) */
	endpoint_output(s->ep, now, p);
	return SIM_CONSUMED;
}

static enum sim_verdict input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct ep_sim *s = ctx;

	if (s->ep == NULL)
		return SIM_DROP;
	s->ifi = ifi;
	endpoint_input(s->ep, now, p);
	return SIM_CONSUMED;
}

static sp_time next_deadline(void *ctx)
{
	struct ep_sim *s = ctx;

	return s->ep != NULL ? endpoint_next_deadline(s->ep) : SP_TIME_NEVER;
}

static void tick(void *ctx, sp_time now)
{
	struct ep_sim *s = ctx;

	if (s->ep != NULL)
		endpoint_tick(s->ep, now);
}

/* A crash loses every SA (and IKE's sessions); manual keys come back from the
 * configuration at the restart (with sequence numbers from 1 again, which the peer's
 * window may refuse: that is why IKE exists). */
static void reset(void *ctx, sp_time now)
{
	(void)now;
	teardown(ctx);
}

static void restart(void *ctx, sp_time now)
{
	struct ep_sim *s = ctx;

	if (s->ep == NULL && build(s, now) != 0)
		SP_ERR(s->env->log, s->mod, "restart: configuration no longer loads");
}

static void report(void *ctx, struct sim_ep_report *r)
{
	struct ep_sim *s = ctx;
	struct ipsec *e;

	if (s->ep == NULL)
		return;
	e = endpoint_ipsec(s->ep);
	for (const struct spd_policy *p = ipsec_policy_next(e, NULL); p;
	     p = ipsec_policy_next(e, p)) {
		if (p->dir != SA_DIR_OUT || p->action != SPD_PROTECT)
			continue;
		r->tunnels_wanted++;
		r->tunnels_up += p->sa != NULL;
	}
	/* ESP meant for another endpoint: an SPI it never chose, or its own SPI that another
	 * endpoint's peer chose too (003's incoming-SPI collision), refused by the window
	 * (RFC 4303 3.4.3: checked first) or by the ICV. Links here do not duplicate. */
	r->rx_foreign += ipsec_counter(e, IPSEC_DROP_NO_SA) + ipsec_counter(e, IPSEC_DROP_REPLAY) +
			 ipsec_counter(e, IPSEC_DROP_ICV);
	r->ctl_pkts += ipsec_counter(e, IPSEC_CTR_TX_KEEPALIVE);
	/* IPv4 + UDP + the keepalive octet (RFC 3948 2.3). */
	r->ctl_bytes += ipsec_counter(e, IPSEC_CTR_TX_KEEPALIVE) * (20 + 8 + 1);
	if (endpoint_ike(s->ep) != NULL) {
		r->ctl_pkts += sp_ctr_get(s->env->ctrs, "ike", "tx");
		r->rekeys += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "child_sa_rekeyed");
		r->sessions += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "ike_sa_up");
	}
}

static void show(void *ctx, FILE *f)
{
	struct ep_sim *s = ctx;

	if (s->ep == NULL)
		return;
	if (endpoint_ike(s->ep) != NULL)
		ike_show(endpoint_ike(s->ep), endpoint_now(s->ep), f);
	ipsec_show_sa(endpoint_ipsec(s->ep), endpoint_now(s->ep), f);
	if (endpoint_ike(s->ep) == NULL)
		ipsec_show_policy(endpoint_ipsec(s->ep), f);
}

struct ipsec *ipsec_sim_engine(void *ctx)
{
	struct ep_sim *s = ctx;

	return s->ep != NULL ? endpoint_ipsec(s->ep) : NULL;
}

struct ike *ike_sim_ike(void *ctx)
{
	struct ep_sim *s = ctx;

	return s->ep != NULL ? endpoint_ike(s->ep) : NULL;
}

struct ipsec *ike_sim_ipsec(void *ctx)
{
	return ipsec_sim_engine(ctx);
}

#define EP_SIM_OPS(name_, create_)                                                                \
	{                                                                                         \
		.name = (name_), .create = (create_), .output = output, .input = input,           \
		.next_deadline = next_deadline, .tick = tick, .reset = reset, .restart = restart, \
		.report = report, .show = show, .destroy = destroy,                               \
	}

const struct sim_ep_ops ipsec_sim_ops = EP_SIM_OPS("ipsec", create_ipsec);
const struct sim_ep_ops ike_sim_ops = EP_SIM_OPS("ike", create_ike);
