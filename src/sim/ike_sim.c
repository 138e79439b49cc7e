/* IKE (and 003's epoch guard) beside struct ipsec: the IPsec adapter (sim/ipsec_sim.h)
 * with hooks, so the simulator endpoint contract is implemented once. */
#include "sim/ike_sim.h"

#include "host/host_guard_ep.h"
#include "ike/ike_ipsec.h"
#include "sim/ipsec_sim.h"
#include "proto/ipv4.h"
#include "proto/natt.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

/* What runs beside the engine: the extension state of the adapter's context. */
struct ike_sim {
	struct ike *ike;
	struct host_guard_ep *guard; /* 003's epoch guard, when a connection asks for it */
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
};

static struct ike_sim *ext(const struct ipsec_sim *s)
{
	return s->ext;
}

static bool local_in(struct ipsec_sim *s, struct pkt *p)
{
	struct ike_sim *x = ext(s);

	/* the guard's ping reply, or a ping it answered */
	return x->guard != NULL && host_guard_ep_local(x->guard, s->now, p);
}

static int post_unprotect(void *arg, const struct sa *sa, struct pkt *p)
{
	struct ike_sim *x = ext(arg);

	(void)p;
	if (x->guard != NULL)
		host_guard_ep_note_rx(x->guard, sa);
	return 0;
}

static void ike_ev(void *arg, const struct ike_event *ev)
{
	struct ipsec_sim *s = arg;
	struct ike_sim *x = ext(s);

	if (x->guard != NULL)
		host_guard_ep_event(x->guard, s->now, ev);
}

static void ipsec_ev(void *arg, const struct ipsec_event *ev)
{
	struct ipsec_sim *s = arg;
	struct ike_sim *x = ext(s);

	if (x->ike != NULL)
		ike_ipsec_event(x->ike, s->now, ev);
}

/* IKE on the NAT-T port, handed over by the engine after the non-ESP marker. */
static void ike_in(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		   uint16_t dport)
{
	struct ipsec_sim *s = arg;
	struct ike_sim *x = ext(s);
	struct ike_path path = { dst, src, dport, sport };
	uint8_t *marked;

	/* ike_input() takes the UDP payload as it arrived, marker included: the engine pulled
	 * the marker, so it is still in the headroom. */
	if (x->ike != NULL && (marked = pkt_push(p, NATT_MARKER_LEN)) != NULL) {
		memset(marked, 0, NATT_MARKER_LEN);
		ike_input(x->ike, s->now, &path, marked, p->len);
	}
	pkt_free(p);
}

static void ike_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct ipsec_sim *s = arg;
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

/* IKE and the guard over the engine just built, from the same configuration. */
static int attach(struct ipsec_sim *s, sp_time now)
{
	struct ike_sim *x = ext(s);
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
		.masq_t_out = x->masq_t_out,
		.masq_n_out = x->masq_n_out,
		.masq_t_ei = x->masq_t_ei,
	};
	int r;

	(void)now;
	ike_ipsec_ops(s->e, &p.kernel);
	if ((r = ike_new(&p, s->conf, &x->ike)) != 0)
		return r;
	return host_guard_ep_new(&gp, s->conf, x->ike, s->e, &x->guard);
}

static void start(struct ipsec_sim *s, sp_time now)
{
	ike_start(ext(s)->ike, now);
}

static void stop(struct ipsec_sim *s)
{
	struct ike_sim *x = ext(s);

	host_guard_ep_free(x->guard);
	x->guard = NULL;
	ike_free(x->ike);
	x->ike = NULL;
}

static bool input(struct ipsec_sim *s, sp_time now, struct pkt *p)
{
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	/* IKE on its own port comes here; the NAT-T port goes through the engine, which
	 * tells IKE from ESP-in-UDP (RFC 3948 2.2). */
	if (ipv4_parse(&c, &h) == 0 && h.ip_proto == IPV4_PROTO_UDP && !ipv4_is_fragment(&h) &&
	    udp_parse(&c, &u) == 0 && u.udp_dport == UDP_PORT_IKE) {
		struct ike_path path = { h.ip_dst, h.ip_src, u.udp_dport, u.udp_sport };

		ike_input(ext(s)->ike, now, &path, cur_ptr(&c), u.udp_len - UDP_HDR_LEN);
		pkt_free(p);
		return true;
	}
	return false;
}

static sp_time next_deadline(const struct ipsec_sim *s)
{
	const struct ike_sim *x = ext(s);
	sp_time t = ike_next_deadline(x->ike);

	if (x->guard != NULL)
		t = sp_time_min(t, host_guard_ep_next_deadline(x->guard));
	return t;
}

static void tick(struct ipsec_sim *s, sp_time now)
{
	struct ike_sim *x = ext(s);

	ike_tick(x->ike, now);
	if (x->guard != NULL)
		host_guard_ep_tick(x->guard, now);
}

static void report(struct ipsec_sim *s, struct sim_ep_report *r)
{
	r->ctl_pkts += sp_ctr_get(s->env->ctrs, "ike", "tx");
	r->rekeys += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "child_sa_rekeyed");
	r->sessions += (uint32_t)sp_ctr_get(s->env->ctrs, "ike", "ike_sa_up");
}

static void show(struct ipsec_sim *s, FILE *f)
{
	ike_show(ext(s)->ike, s->now, f);
	ipsec_show_sa(s->e, s->now, f);
}

static const struct ipsec_sim_hooks hooks = {
	.mod = "ike",
	.ike_in = ike_in,
	.event = ipsec_ev,
	.post_unprotect = post_unprotect,
	.local_in = local_in,
	.attach = attach,
	.start = start,
	.stop = stop,
	.input = input,
	.next_deadline = next_deadline,
	.tick = tick,
	.report = report,
	.show = show,
};

static int create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	const struct ike_sim_cfg *c = cfg;
	struct ike_sim *x;

	*ctx = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	if (c != NULL) {
		x->masq_t_out = c->masq_t_out;
		x->masq_t_ei = c->masq_t_ei;
		x->masq_n_out = c->masq_n_out;
	}
	return ipsec_sim_create_ext(ctx, env, now, c != NULL ? c->conf : NULL, &hooks, x);
}

struct ike *ike_sim_ike(void *ctx)
{
	return ext(ctx)->ike;
}

struct ipsec *ike_sim_ipsec(void *ctx)
{
	return ipsec_sim_engine(ctx);
}

const struct sim_ep_ops ike_sim_ops = IPSEC_SIM_OPS("ike", create);
