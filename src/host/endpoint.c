/* The endpoint stack (endpoint.h): IPsec, IKE and the host modules joined once. */
#include "host/endpoint.h"

#include "host/host_dnat_ep.h"
#include "host/host_guard_ep.h"
#include "host/host_l2tp.h"
#include "host/host_lns.h"
#include "host/host_lease.h"
#include "ike/ike_ipsec.h"
#include "ipsec/ipsec_conf.h"
#include "proto/ipv4.h"
#include "proto/natt.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

/* The host modules, from the host towards the wire. A new endpoint technique adds its
 * line here (docs/HOST.md, "How to write a host module"). */
static const struct endpoint_module_ops *const modules[] = {
	&host_guard_module, /* 003's epoch guard */
	&host_lease_module, /* 001's lease client and compensation */
	&host_dnat_module,  /* 002's PAP client, port translation, tunnel to the router */
	&host_l2tp_module,  /* 004's discovery and L2TP client: nearest the wire */
	&host_lns_module,   /* 004's LNS on an IPsec gateway: nearest the wire */
};

#define foreach_endpoint_ctr(_)                                                          \
	_(DROP_IKE_NO_BUFFER, "drop_ike_no_buffer") /* an IKE message found no buffer */ \
	_(DROP_IKE_TOO_LONG, "drop_ike_too_long")   /* an IKE message did not fit one */ \
	_(DROP_MODULE, "drop_module")		    /* a module's hook dropped a packet */

enum endpoint_ctr {
#define _(sym, str) ENDPOINT_CTR_##sym,
	foreach_endpoint_ctr(_)
#undef _
		ENDPOINT_CTR_N
};

static const char *const endpoint_ctr_names[] = { SP_CTR_NAMES(foreach_endpoint_ctr) };

struct ep_mod {
	const struct endpoint_module_ops *ops;
	void *ctx;
};

struct endpoint {
	struct endpoint_params p;
	struct ipsec *e;
	struct ike *ike;
	sp_time now; /* of the call in progress, for the engines' callbacks */
	struct ep_mod mods[ENDPOINT_MODULES_MAX];
	unsigned nmods;
	uint64_t ctr[ENDPOINT_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
};

/* ---- the packet path ---- */

/* The index after module self in path order; 0 for NULL (the start). */
static unsigned after(const struct endpoint *ep, const void *self)
{
	for (unsigned i = 0; self != NULL && i < ep->nmods; i++)
		if (ep->mods[i].ctx == self)
			return i + 1;
	return 0;
}

/* Run one stage's hooks from module index i on (outbound: up the list; inbound: down it
 * from nmods - i). true: p goes on to what follows the stage. */
static bool run_stage(struct endpoint *ep, enum endpoint_stage st, unsigned i, struct pkt *p)
{
	for (; i < ep->nmods; i++) {
		bool in = st == EP_STAGE_IN_WIRE || st == EP_STAGE_IN_CLEAR;
		const struct ep_mod *m = &ep->mods[in ? ep->nmods - 1 - i : i];
		enum endpoint_verdict (*hook)(void *, sp_time, struct pkt *) =
			st == EP_STAGE_OUT_CLEAR  ? m->ops->out_clear
			: st == EP_STAGE_OUT_WIRE ? m->ops->out_wire
			: st == EP_STAGE_IN_WIRE  ? m->ops->in_wire
						  : m->ops->in_clear;
		enum endpoint_verdict v;

		if (hook == NULL || (v = hook(m->ctx, ep->now, p)) == EP_PASS)
			continue;
		if (v == EP_DROP) {
			ep->ctr[ENDPOINT_CTR_DROP_MODULE]++;
			pkt_free(p);
		}
		return false;
	}
	return true;
}

/* Stage st's hooks from index i, then what comes after the stage. */
static void go(struct endpoint *ep, enum endpoint_stage st, unsigned i, struct pkt *p);

static void ike_payload_in(struct endpoint *ep, struct pkt *p)
{
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	/* IKE on its own port comes here; the NAT-T port goes through the engine, which
	 * tells IKE from ESP-in-UDP (RFC 3948 2.2). */
	if (ep->ike != NULL && ipv4_parse(&c, &h) == 0 && h.ip_proto == IPV4_PROTO_UDP &&
	    !ipv4_is_fragment(&h) && udp_parse(&c, &u) == 0 && u.udp_dport == ike_port(ep->ike)) {
		struct ike_path path = { h.ip_dst, h.ip_src, u.udp_dport, u.udp_sport };

		ike_input(ep->ike, ep->now, &path, cur_ptr(&c), u.udp_len - UDP_HDR_LEN);
		pkt_free(p);
		return;
	}
	ipsec_input(ep->e, ep->now, p);
}

static void go(struct endpoint *ep, enum endpoint_stage st, unsigned i, struct pkt *p)
{
	if (!run_stage(ep, st, i, p))
		return;
	switch (st) {
	case EP_STAGE_OUT_CLEAR:
		ipsec_output(ep->e, ep->now, p);
		break;
	case EP_STAGE_OUT_WIRE:
		ep->p.io.net_out(ep->p.io.arg, ep->now, p);
		break;
	case EP_STAGE_IN_WIRE:
		ike_payload_in(ep, p);
		break;
	case EP_STAGE_IN_CLEAR:
		ep->p.io.local_out(ep->p.io.arg, ep->now, p);
		break;
	}
}

void endpoint_output(struct endpoint *ep, sp_time now, struct pkt *p)
{
	ep->now = now;
	go(ep, EP_STAGE_OUT_CLEAR, 0, p);
}

void endpoint_input(struct endpoint *ep, sp_time now, struct pkt *p)
{
	ep->now = now;
	go(ep, EP_STAGE_IN_WIRE, 0, p);
}

void endpoint_ike_input(struct endpoint *ep, sp_time now, const struct ike_path *path,
			const uint8_t *msg, size_t len)
{
	ep->now = now;
	if (ep->ike != NULL)
		ike_input(ep->ike, now, path, msg, len);
}

void endpoint_send(struct endpoint *ep, const void *self, sp_time now, struct pkt *p)
{
	ep->now = now;
	go(ep, EP_STAGE_OUT_WIRE, after(ep, self), p);
}

void endpoint_resume(struct endpoint *ep, const void *self, enum endpoint_stage stage, sp_time now,
		     struct pkt *p)
{
	unsigned i = after(ep, self);

	ep->now = now;
	/* Inbound stages count from the wire: after self is nearer the host. */
	if (self != NULL && (stage == EP_STAGE_IN_WIRE || stage == EP_STAGE_IN_CLEAR))
		i = ep->nmods - (i - 1);
	go(ep, stage, i, p);
}

/* ---- IPsec's callbacks ---- */

static void on_net_out(void *arg, struct pkt *p)
{
	struct endpoint *ep = arg;

	go(ep, EP_STAGE_OUT_WIRE, 0, p);
}

static void on_local_out(void *arg, struct pkt *p)
{
	struct endpoint *ep = arg;

	go(ep, EP_STAGE_IN_CLEAR, 0, p);
}

static int on_pre_protect(void *arg, const struct sa *sa, struct pkt *p)
{
	struct endpoint *ep = arg;
	int r;

	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->pre_protect != NULL &&
		    (r = ep->mods[i].ops->pre_protect(ep->mods[i].ctx, ep->now, sa, p)) != 0)
			return r;
	return 0;
}

static int on_post_unprotect(void *arg, const struct sa *sa, struct pkt *p)
{
	struct endpoint *ep = arg;
	int r;

	for (unsigned i = ep->nmods; i-- > 0;)
		if (ep->mods[i].ops->post_unprotect != NULL &&
		    (r = ep->mods[i].ops->post_unprotect(ep->mods[i].ctx, ep->now, sa, p)) != 0)
			return r;
	return 0;
}

static void on_ipsec_event(void *arg, const struct ipsec_event *ev)
{
	struct endpoint *ep = arg;

	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->ipsec_event != NULL)
			ep->mods[i].ops->ipsec_event(ep->mods[i].ctx, ep->now, ev);
	if (ep->ike != NULL)
		ike_ipsec_event(ep->ike, ep->now, ev); /* rekeys, deletes, brings tunnels up */
	else if (ep->p.io.ipsec_event != NULL)
		ep->p.io.ipsec_event(ep->p.io.arg, ep->now, ev);
}

/* IKE on the NAT-T port, handed over by the engine after the non-ESP marker. */
static void on_ike_in(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		      uint16_t dport)
{
	struct endpoint *ep = arg;
	struct ike_path path = { dst, src, dport, sport };
	uint8_t *marked;

	/* ike_input() takes the UDP payload as it arrived, marker included: the engine pulled
	 * the marker, so it is still in the headroom. */
	if ((marked = pkt_push(p, NATT_MARKER_LEN)) != NULL) {
		memset(marked, 0, NATT_MARKER_LEN);
		ike_input(ep->ike, ep->now, &path, marked, p->len);
	}
	pkt_free(p);
}

/* ---- IKE's callbacks ---- */

static void on_ike_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct endpoint *ep = arg;
	struct ipv4_hdr h = { 0 };
	struct pkt *p = pkt_alloc(ep->p.pool);

	if (p == NULL) {
		ep->ctr[ENDPOINT_CTR_DROP_IKE_NO_BUFFER]++;
		return;
	}
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = path->local_addr;
	h.ip_dst = path->remote_addr;
	if (pkt_append(p, msg, (uint32_t)len) != 0 ||
	    udp_build(p, path->local_port, path->remote_port, h.ip_src, h.ip_dst, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0) {
		pkt_free(p);
		/* Larger than a packet buffer (IKE_AUTH with a certificate chain): the owner's
		 * own socket for the port takes the payload as it is. */
		if (ep->p.io.ike_send == NULL ||
		    ep->p.io.ike_send(ep->p.io.arg, ep->now, path, msg, len) != 0)
			ep->ctr[ENDPOINT_CTR_DROP_IKE_TOO_LONG]++;
		return;
	}
	go(ep, EP_STAGE_OUT_WIRE, 0, p);
}

static void on_ike_event(void *arg, const struct ike_event *ev)
{
	struct endpoint *ep = arg;

	if (ep->p.io.ike_event != NULL)
		ep->p.io.ike_event(ep->p.io.arg, ep->now, ev);
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->ike_event != NULL)
			ep->mods[i].ops->ike_event(ep->mods[i].ctx, ep->now, ev);
}

static int on_ike_spi(void *arg, const struct ike_spi_req *req, uint64_t *spi)
{
	struct endpoint *ep = arg;
	int r;

	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->spi != NULL &&
		    (r = ep->mods[i].ops->spi(ep->mods[i].ctx, ep->now, req, spi)) != SP_ENOTFOUND)
			return r;
	return SP_ENOTFOUND;
}

static void on_keylog(void *arg, const struct ike_keylog *k)
{
	struct endpoint *ep = arg;

	ep->p.io.keylog(ep->p.io.arg, k);
}

/* ---- making and running ---- */

static int make_ike(struct endpoint *ep, struct conf *conf)
{
	struct ike_params ip = {
		.name = ep->p.name,
		.log = (struct sp_log *)ep->p.log,
		.ctrs = ep->p.ctrs,
		.rng = ep->p.rng,
		.output = on_ike_out,
		.output_arg = ep,
		.event = on_ike_event,
		.event_arg = ep,
		.spi = on_ike_spi,
		.spi_arg = ep,
		.keylog = ep->p.io.keylog != NULL ? on_keylog : NULL,
		.keylog_arg = ep,
		.crl_fetch = ep->p.io.crl_fetch,
		.crl_fetch_arg = ep->p.io.arg,
		/* IKE fragments (RFC 7383) go through the stack like any packet: no larger
		 * than a packet buffer holds, so that a tunnel on the way (002's IP-in-IP
		 * to the router) takes them too. */
		.frag_max =
			ep->p.pool->bufsize > PKT_HEADROOM ? ep->p.pool->bufsize - PKT_HEADROOM : 0,
	};

	if (conf_next(conf, NULL, "conn") == NULL)
		return 0; /* manual keys only */
	ike_ipsec_ops(ep->e, &ip.kernel);
	return ike_new(&ip, conf, &ep->ike);
}

int endpoint_new(const struct endpoint_params *p, struct conf *conf, sp_time now,
		 struct endpoint **out)
{
	struct ipsec_cfg cfg = {
		.name = p->name,
		.rng = p->rng,
		.log = p->log,
		.ctrs = p->ctrs,
		.pool = p->pool,
		.bypass_unmatched = p->bypass_unmatched,
		.lanes = p->lanes,
		.net_out = on_net_out,
		.local_out = on_local_out,
		.event = on_ipsec_event,
		.pre_protect = on_pre_protect,
		.post_unprotect = on_post_unprotect,
	};
	const struct endpoint_module_ops *const *mt = p->modules != NULL ? p->modules : modules;
	unsigned nmt = p->modules != NULL ? p->nmodules : sizeof(modules) / sizeof(modules[0]);
	struct endpoint *ep;
	int r;

	*out = NULL;
	if (nmt > ENDPOINT_MODULES_MAX)
		return SP_EINVAL;
	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return SP_ENOMEM;
	ep->p = *p;
	ep->now = now;
	cfg.arg = ep;
	if (conf_next(conf, NULL, "conn") != NULL)
		cfg.ike_in = on_ike_in; /* else counted as drop_ike_no_handler */
	if ((r = ipsec_conf_engine(conf, &cfg)) != 0)
		goto fail;
	if (p->iv_epoch != 0)
		cfg.iv_epoch = p->iv_epoch;
	else if (cfg.boot_counter_file != NULL && p->boot_count != NULL &&
		 (r = p->boot_count(p->io.arg, cfg.boot_counter_file, &cfg.iv_epoch)) != 0)
		goto fail;
	if ((r = ipsec_new(&ep->e, &cfg)) != 0 || (r = ipsec_conf_load(ep->e, conf, now)) != 0 ||
	    (r = make_ike(ep, conf)) != 0)
		goto fail;
	for (unsigned i = 0; i < nmt; i++) {
		void *ctx = NULL;

		if ((r = mt[i]->create(ep, conf, &ctx)) != 0)
			goto fail;
		if (ctx != NULL)
			ep->mods[ep->nmods++] = (struct ep_mod){ mt[i], ctx };
	}
	if (p->ctrs != NULL) {
		sp_ctrs_init(&ep->ctrs, "host", p->name, endpoint_ctr_names, ep->ctr,
			     ENDPOINT_CTR_N);
		sp_ctr_register(p->ctrs, &ep->ctrs);
		ep->registered = true;
	}
	*out = ep;
	return 0;
fail:
	endpoint_free(ep);
	return r;
}

const char *endpoint_wire_module(const struct endpoint *ep)
{
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->out_wire != NULL || ep->mods[i].ops->in_wire != NULL)
			return ep->mods[i].ops->name;
	return NULL;
}

void endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	for (unsigned i = ep->nmods; i-- > 0;)
		if (ep->mods[i].ops->destroy != NULL)
			ep->mods[i].ops->destroy(ep->mods[i].ctx);
	if (ep->registered)
		sp_ctr_unregister(ep->p.ctrs, &ep->ctrs);
	ike_free(ep->ike);
	ipsec_free(ep->e);
	free(ep);
}

void endpoint_start(struct endpoint *ep, sp_time now)
{
	ep->now = now;
	if (ep->ike != NULL)
		ike_start(ep->ike, now);
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->start != NULL)
			ep->mods[i].ops->start(ep->mods[i].ctx, now);
}

void endpoint_shutdown(struct endpoint *ep, sp_time now)
{
	ep->now = now;
	if (ep->ike != NULL)
		ike_shutdown(ep->ike, now);
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->stop != NULL)
			ep->mods[i].ops->stop(ep->mods[i].ctx, now);
}

sp_time endpoint_next_deadline(const struct endpoint *ep)
{
	sp_time t = ipsec_next_deadline(ep->e);

	if (ep->ike != NULL)
		t = sp_time_min(t, ike_next_deadline(ep->ike));
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->next_deadline != NULL)
			t = sp_time_min(t, ep->mods[i].ops->next_deadline(ep->mods[i].ctx));
	return t;
}

void endpoint_tick(struct endpoint *ep, sp_time now)
{
	ep->now = now;
	ipsec_tick(ep->e, now);
	if (ep->ike != NULL)
		ike_tick(ep->ike, now);
	for (unsigned i = 0; i < ep->nmods; i++)
		if (ep->mods[i].ops->tick != NULL)
			ep->mods[i].ops->tick(ep->mods[i].ctx, now);
}

struct ike *endpoint_ike(const struct endpoint *ep)
{
	return ep->ike;
}

sp_time endpoint_now(const struct endpoint *ep)
{
	return ep->now;
}

struct ipsec *endpoint_ipsec(const struct endpoint *ep)
{
	return ep->e;
}

const struct endpoint_params *endpoint_params(const struct endpoint *ep)
{
	return &ep->p;
}

int endpoint_module_show(struct endpoint *ep, const char *name, sp_time now, FILE *out)
{
	for (unsigned i = 0; i < ep->nmods; i++)
		if (strcmp(ep->mods[i].ops->name, name) == 0 && ep->mods[i].ops->show != NULL) {
			ep->mods[i].ops->show(ep->mods[i].ctx, now, out);
			return 0;
		}
	return SP_ENOTFOUND;
}
