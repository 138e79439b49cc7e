/* Adapter from sim/engine.h's endpoint contract to IKE plus struct ipsec. */
#include "ike/ike_sim.h"

#include "host/host_guard_ep.h"
#include "ike/ike_ipsec.h"
#include "ipsec/ipsec_conf.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

struct ike_sim {
	struct sim_ep_env *env;
	struct ipsec *e;
	struct ike *ike;
	struct conf *conf; /* IKE keeps pointers into it */
	char *text;
	struct host_guard_ep *guard; /* 003's epoch guard, when a connection asks for it */
	sp_time now;		     /* of the call in progress, for the callbacks */
	unsigned ifi;		     /* arrival interface of the packet in progress */
	uint64_t sessions;
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
};

static void net_out(void *arg, struct pkt *p)
{
	struct ike_sim *s = arg;

	s->env->send(s->env, s->now, p);
}

static void local_out(void *arg, struct pkt *p)
{
	struct ike_sim *s = arg;

	if (s->guard != NULL && host_guard_ep_local(s->guard, s->now, p))
		return; /* the guard's ping reply, or a ping it answered */
	s->env->deliver(s->env, s->now, p, s->ifi);
}

static int post_unprotect(void *arg, const struct sa *sa, struct pkt *p)
{
	struct ike_sim *s = arg;

	(void)p;
	if (s->guard != NULL)
		host_guard_ep_note_rx(s->guard, sa);
	return 0;
}

static void ike_ev(void *arg, const struct ike_event *ev)
{
	struct ike_sim *s = arg;

	if (s->guard != NULL)
		host_guard_ep_event(s->guard, s->now, ev);
}

static void ipsec_ev(void *arg, const struct ipsec_event *ev)
{
	struct ike_sim *s = arg;

	if (s->ike != NULL)
		ike_ipsec_event(s->ike, s->now, ev);
}

/* IKE on the NAT-T port, handed over by the engine after the non-ESP marker. */
static void ike_in(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		   uint16_t dport)
{
	struct ike_sim *s = arg;
	struct ike_path path = { dst, src, dport, sport };
	uint8_t marked[4 + 2048];

	/* ike_input() takes the UDP payload as it arrived, marker included. */
	if (s->ike != NULL && p->len <= sizeof(marked) - 4) {
		memset(marked, 0, 4);
		memcpy(marked + 4, pkt_data(p), p->len);
		ike_input(s->ike, s->now, &path, marked, p->len + 4);
	}
	pkt_free(p);
}

static void ike_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct ike_sim *s = arg;
	struct ipv4_hdr h = { 0 };
	struct pkt *p = pkt_alloc(s->env->pool);

	if (p == NULL)
		return;
	if (pkt_append(p, msg, (uint32_t)len) != 0 ||
	    udp_build(p, path->local_port, path->remote_port, path->local_addr, path->remote_addr,
		      true) != 0) {
		pkt_free(p);
		return;
	}
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = path->local_addr;
	h.ip_dst = path->remote_addr;
	if (ipv4_build(p, &h, NULL, 0) != 0) {
		pkt_free(p);
		return;
	}
	s->env->send(s->env, s->now, p);
}

static void teardown(struct ike_sim *s)
{
	host_guard_ep_free(s->guard);
	s->guard = NULL;
	ike_free(s->ike);
	ipsec_free(s->e);
	conf_free(s->conf);
	s->ike = NULL;
	s->e = NULL;
	s->conf = NULL;
}

static int build(struct ike_sim *s, sp_time now)
{
	struct ipsec_cfg cfg = {
		.name = s->env->node->name,
		.rng = s->env->rng,
		.log = s->env->log,
		.ctrs = s->env->ctrs,
		.pool = s->env->pool,
		.bypass_unmatched = true, /* a node's other traffic passes */
		.net_out = net_out,
		.local_out = local_out,
		.ike_in = ike_in,
		.event = ipsec_ev,
		.post_unprotect = post_unprotect,
		.arg = s,
	};
	struct ike_params p = {
		.name = s->env->node->name,
		.log = (struct sp_log *)s->env->log,
		.ctrs = s->env->ctrs,
		.rng = s->env->rng,
		.output = ike_out,
		.output_arg = s,
		.event = ike_ev,
		.event_arg = s,
	};
	struct host_guard_ep_params gp = {
		.name = s->env->node->name,
		.log = s->env->log,
		.ctrs = s->env->ctrs,
		.rng = s->env->rng,
		.pool = s->env->pool,
		.masq_t_out = s->masq_t_out,
		.masq_n_out = s->masq_n_out,
		.masq_t_ei = s->masq_t_ei,
	};
	int r;

	if ((r = conf_parse_string(s->text, s->env->node->name, &s->conf)) != 0 ||
	    (r = ipsec_conf_engine(s->conf, &cfg)) != 0 || (r = ipsec_new(&s->e, &cfg)) != 0 ||
	    (r = ipsec_conf_load(s->e, s->conf, now)) != 0)
		goto fail;
	ike_ipsec_ops(s->e, &p.kernel);
	if ((r = ike_new(&p, s->conf, &s->ike)) != 0 ||
	    (r = host_guard_ep_new(&gp, s->conf, s->ike, s->e, &s->guard)) != 0 ||
	    (r = conf_check_unused(s->conf)) != 0)
		goto fail;
	ike_start(s->ike, now);
	return 0;
fail:
	SP_ERR(s->env->log, "ike", "%s",
	       s->conf != NULL && conf_error(s->conf)[0] ? conf_error(s->conf) : sp_strerror(r));
	teardown(s);
	return r;
}

static void destroy(void *ctx)
{
	struct ike_sim *s = ctx;

	if (s == NULL)
		return;
	teardown(s);
	free(s->text);
	free(s);
}

static int create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ike_sim_cfg *c = cfg;
	struct ike_sim *s;
	int r;

	*ctx = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SP_ENOMEM;
	s->env = env;
	s->now = now;
	if ((s->text = strdup(c != NULL && c->conf != NULL ? c->conf : "")) == NULL) {
		destroy(s);
		return SP_ENOMEM;
	}
	if (c != NULL) {
		s->masq_t_out = c->masq_t_out;
		s->masq_t_ei = c->masq_t_ei;
		s->masq_n_out = c->masq_n_out;
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
	struct ike_sim *s = ctx;

	(void)rt;
	if (s->e == NULL)
		return SIM_DROP;
	s->now = now;
	ipsec_output(s->e, now, p);
	return SIM_CONSUMED;
}

static enum sim_verdict input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct ike_sim *s = ctx;
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	if (s->e == NULL)
		return SIM_DROP;
	s->now = now;
	s->ifi = ifi;
	cur_init(&c, pkt_data(p), p->len);
	/* IKE on its own port comes here; the NAT-T port goes through the engine, which
	 * tells IKE from ESP-in-UDP (RFC 3948 2.2). */
	if (ipv4_parse(&c, &h) == 0 && h.ip_proto == IPV4_PROTO_UDP && !ipv4_is_fragment(&h) &&
	    udp_parse(&c, &u) == 0 && u.udp_dport == UDP_PORT_IKE) {
		struct ike_path path = { h.ip_dst, h.ip_src, u.udp_dport, u.udp_sport };

		ike_input(s->ike, now, &path, cur_ptr(&c), u.udp_len - UDP_HDR_LEN);
		pkt_free(p);
		return SIM_CONSUMED;
	}
	ipsec_input(s->e, now, p);
	return SIM_CONSUMED;
}

static sp_time next_deadline(void *ctx)
{
	struct ike_sim *s = ctx;

	sp_time t;

	if (s->e == NULL)
		return SP_TIME_NEVER;
	t = sp_time_min(ipsec_next_deadline(s->e), ike_next_deadline(s->ike));
	if (s->guard != NULL)
		t = sp_time_min(t, host_guard_ep_next_deadline(s->guard));
	return t;
}

static void tick(void *ctx, sp_time now)
{
	struct ike_sim *s = ctx;

	s->now = now;
	if (s->e == NULL)
		return;
	ipsec_tick(s->e, now);
	ike_tick(s->ike, now);
	if (s->guard != NULL)
		host_guard_ep_tick(s->guard, now);
}

/* A crash loses every SA and IKE session; the restart negotiates afresh. */
static void reset(void *ctx, sp_time now)
{
	(void)now;
	teardown(ctx);
}

static void restart(void *ctx, sp_time now)
{
	struct ike_sim *s = ctx;

	s->now = now;
	if (s->e == NULL && build(s, now) != 0)
		SP_ERR(s->env->log, "ike", "restart: configuration no longer loads");
}

static void report(void *ctx, struct sim_ep_report *r)
{
	struct ike_sim *s = ctx;

	if (s->e == NULL)
		return;
	for (const struct spd_policy *p = ipsec_policy_next(s->e, NULL); p != NULL;
	     p = ipsec_policy_next(s->e, p)) {
		if (p->dir != SA_DIR_OUT || p->action != SPD_PROTECT)
			continue;
		r->tunnels_wanted++;
		r->tunnels_up += p->sa != NULL;
	}
	r->rx_foreign += ipsec_counter(s->e, IPSEC_DROP_NO_SA);
	r->ctl_pkts +=
		sp_ctr_get(s->env->ctrs, "ike", "tx") + ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE);
	r->ctl_bytes += ipsec_counter(s->e, IPSEC_CTR_TX_KEEPALIVE) * (20 + 8 + 1);
	r->rekeys += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "child_sa_rekeyed");
	r->sessions += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "ike_sa_up");
}

static void show(void *ctx, FILE *f)
{
	struct ike_sim *s = ctx;

	if (s->e == NULL)
		return;
	ike_show(s->ike, s->now, f);
	ipsec_show_sa(s->e, s->now, f);
}

struct ike *ike_sim_ike(void *ctx)
{
	return ((struct ike_sim *)ctx)->ike;
}

struct ipsec *ike_sim_ipsec(void *ctx)
{
	return ((struct ike_sim *)ctx)->e;
}

const struct sim_ep_ops ike_sim_ops = {
	.name = "ike",
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
