/* Adapter from sim/engine.h's endpoint contract to struct ipsec, and through its hooks to
 * what runs beside the engine (IKE). The engine consumes every packet it is given
 * (passing it on through its callbacks or counting a drop), so every verdict here is
 * SIM_CONSUMED. */
#include "ipsec/ipsec_sim.h"
#include "ipsec/ipsec_conf.h"

#include <stdlib.h>
#include <string.h>

static const struct ipsec_sim_hooks no_hooks = { .mod = "ipsec" };

static void sim_net_out(void *arg, struct pkt *p)
{
	struct ipsec_sim *s = arg;

	s->env->send(s->env, s->now, p);
}

static void sim_local_out(void *arg, struct pkt *p)
{
	struct ipsec_sim *s = arg;

	if (s->hooks->local_in != NULL && s->hooks->local_in(s, p))
		return;
	s->env->deliver(s->env, s->now, p, s->ifi);
}

static void sim_event(void *arg, const struct ipsec_event *ev)
{
	struct ipsec_sim *s = arg;
	static const char *const names[] = { "acquire", "soft expire", "hard expire",
					     "reserved SPI expired", "peer moved" };

	SP_INFO(s->env->log, "ipsec", "%s%s%08x", names[ev->type], ev->sa ? " spi 0x" : "",
		ev->sa ? ev->sa->spi : 0);
}

/* Free what a build made; the context stays for a restart. */
static void teardown(struct ipsec_sim *s)
{
	if (s->hooks->stop != NULL)
		s->hooks->stop(s);
	ipsec_free(s->e);
	conf_free(s->conf);
	s->e = NULL;
	s->conf = NULL;
}

/* A fresh engine with the configured SAs and policies, and the extension beside it. */
static int build(struct ipsec_sim *s, sp_time now)
{
	const struct ipsec_sim_hooks *h = s->hooks;
	struct ipsec_cfg cfg = {
		.name = s->env->node->name,
		.rng = s->env->rng,
		.log = s->env->log,
		.ctrs = s->env->ctrs,
		.pool = s->env->pool,
		.bypass_unmatched = true, /* a node's other traffic passes */
		/* The simulator remembers a node's starts: the IV epoch of static keys. */
		.iv_epoch = (uint32_t)s->env->node->ctr[SIM_NODE_CTR_RESTARTS] + 1,
		.net_out = sim_net_out,
		.local_out = sim_local_out,
		.ike_in = h->ike_in,
		.event = h->event != NULL ? h->event : sim_event,
		.post_unprotect = h->post_unprotect,
		.arg = s,
	};
	int r;

	if ((r = conf_parse_string(s->text, s->env->node->name, &s->conf)) != 0 ||
	    (r = ipsec_conf_engine(s->conf, &cfg)) != 0 || (r = ipsec_new(&s->e, &cfg)) != 0 ||
	    (r = ipsec_conf_load(s->e, s->conf, now)) != 0 ||
	    (h->attach != NULL && (r = h->attach(s, now)) != 0) ||
	    (r = conf_check_unused(s->conf)) != 0) {
		SP_ERR(s->env->log, h->mod, "%s",
		       s->conf != NULL && conf_error(s->conf)[0] ? conf_error(s->conf)
								 : sp_strerror(r));
		teardown(s);
		return r;
	}
	if (h->start != NULL)
		h->start(s, now);
	return 0;
}

void ipsec_sim_destroy(void *ctx)
{
	struct ipsec_sim *s = ctx;

	if (s == NULL)
		return;
	teardown(s);
	free(s->text);
	free(s->ext);
	free(s);
}

int ipsec_sim_create_ext(void **ctx, struct sim_ep_env *env, sp_time now, const char *conf,
			 const struct ipsec_sim_hooks *hooks, void *ext)
{
	struct ipsec_sim *s;
	int r;

	*ctx = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		free(ext);
		return SP_ENOMEM;
	}
	s->env = env;
	s->now = now;
	s->hooks = hooks != NULL ? hooks : &no_hooks;
	s->ext = ext;
	if ((s->text = strdup(conf != NULL ? conf : "")) == NULL) {
		ipsec_sim_destroy(s);
		return SP_ENOMEM;
	}
	if ((r = build(s, now)) != 0) {
		ipsec_sim_destroy(s);
		return r;
	}
	*ctx = s;
	return 0;
}

static int create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ipsec_sim_cfg *c = cfg;

	return ipsec_sim_create_ext(ctx, env, now, c != NULL ? c->conf : NULL, NULL, NULL);
}

enum sim_verdict ipsec_sim_output(void *ctx, sp_time now, struct pkt *p,
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

enum sim_verdict ipsec_sim_input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct ipsec_sim *s = ctx;

	if (s->e == NULL)
		return SIM_DROP;
	s->now = now;
	s->ifi = ifi;
	if (s->hooks->input != NULL && s->hooks->input(s, now, p))
		return SIM_CONSUMED;
	ipsec_input(s->e, now, p);
	return SIM_CONSUMED;
}

sp_time ipsec_sim_next_deadline(void *ctx)
{
	struct ipsec_sim *s = ctx;
	sp_time t;

	if (s->e == NULL)
		return SP_TIME_NEVER;
	t = ipsec_next_deadline(s->e);
	if (s->hooks->next_deadline != NULL)
		t = sp_time_min(t, s->hooks->next_deadline(s));
	return t;
}

void ipsec_sim_tick(void *ctx, sp_time now)
{
	struct ipsec_sim *s = ctx;

	s->now = now;
	if (s->e == NULL)
		return;
	ipsec_tick(s->e, now);
	if (s->hooks->tick != NULL)
		s->hooks->tick(s, now);
}

/* A crash loses every SA (and the extension's sessions); manual keys come back from the
 * configuration at the restart (with sequence numbers from 1 again, which the peer's
 * window may refuse: that is why IKE exists). */
void ipsec_sim_reset(void *ctx, sp_time now)
{
	(void)now;
	teardown(ctx);
}

void ipsec_sim_restart(void *ctx, sp_time now)
{
	struct ipsec_sim *s = ctx;

	s->now = now;
	if (s->e == NULL && build(s, now) != 0)
		SP_ERR(s->env->log, s->hooks->mod, "restart: configuration no longer loads");
}

void ipsec_sim_report(void *ctx, struct sim_ep_report *r)
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
	/* ESP meant for another endpoint: an SPI it never chose, or its own SPI that another
	 * endpoint's peer chose too (003's incoming-SPI collision), refused by the window
	 * (RFC 4303 3.4.3: checked first) or by the ICV. Links here do not duplicate. */
	r->rx_foreign += ipsec_counter(s->e, IPSEC_DROP_NO_SA) +
			 ipsec_counter(s->e, IPSEC_DROP_REPLAY) +
			 ipsec_counter(s->e, IPSEC_DROP_ICV);
	r->ctl_pkts += ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE);
	/* IPv4 + UDP + the keepalive octet (RFC 3948 2.3). */
	r->ctl_bytes += ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE) * (20 + 8 + 1);
	if (s->hooks->report != NULL)
		s->hooks->report(s, r);
}

void ipsec_sim_show(void *ctx, FILE *f)
{
	struct ipsec_sim *s = ctx;

	if (s->e == NULL)
		return;
	if (s->hooks->show != NULL) {
		s->hooks->show(s, f);
		return;
	}
	ipsec_show_sa(s->e, s->now, f);
	ipsec_show_policy(s->e, f);
}

struct ipsec *ipsec_sim_engine(void *ctx)
{
	return ((struct ipsec_sim *)ctx)->e;
}

const struct sim_ep_ops ipsec_sim_ops = IPSEC_SIM_OPS("ipsec", create);
