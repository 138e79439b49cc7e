/* The epoch guard as a module of the endpoint stack: its actions on IKE and the IPsec
 * engine (host_guard_ep.h). */
#include "host/host_guard_ep.h"

#include "base/addr.h"
#include "proto/ipv4.h"

#include <stdlib.h>
#include <string.h>

struct host_guard_ep {
	struct host_guard *g;
	struct ike *ike;
	struct ipsec *e;
	const struct sp_log *log;
	uint32_t rx_spi; /* inbound SA of the packet being delivered; 0: none */
	unsigned nguarded;
};

/*
 * The outbound SA of the epoch (spi_in, spi_out). Outbound SPIs are the peers' choice:
 * two peers behind one NAT address may have chosen the same one (003's incoming-SPI
 * collision), so the epoch's inbound SA, unique, tells by its reqid which is ours.
 */
static const struct sa *out_sa(const struct host_guard_ep *x, uint32_t spi_in, uint32_t spi_out)
{
	uint32_t reqid = 0;

	for (const struct sa *s = ipsec_sa_next(x->e, NULL); s != NULL; s = ipsec_sa_next(x->e, s))
		if (s->dir == SA_DIR_IN && s->spi == spi_in && s->state != SA_STATE_LARVAL)
			reqid = s->reqid;
	for (const struct sa *s = ipsec_sa_next(x->e, NULL); s != NULL; s = ipsec_sa_next(x->e, s))
		if (s->dir == SA_DIR_OUT && s->spi == spi_out && s->state != SA_STATE_DEAD &&
		    s->state != SA_STATE_LARVAL && (reqid == 0 || s->reqid == reqid))
			return s;
	return NULL;
}

static int op_send_via(void *arg, sp_time now, uint32_t spi_in, uint32_t spi_out, struct pkt *p)
{
	struct host_guard_ep *x = arg;
	const struct sa *s = out_sa(x, spi_in, spi_out);
	struct sa_key k;

	if (s == NULL) {
		pkt_free(p);
		return SP_ENOTFOUND;
	}
	k = (struct sa_key){ s->spi, s->proto, s->dst, s->reqid };
	return ipsec_output_via(x->e, now, p, &k);
}

/* Every outbound policy of the SA's connection (its reqid) now sends on it. */
static int op_use_out(void *arg, sp_time now, const char *conn, uint32_t spi_in, uint32_t spi_out)
{
	struct host_guard_ep *x = arg;
	const struct sa *s = out_sa(x, spi_in, spi_out);
	struct ike_conn_info ci;
	struct sa_key k;
	uint32_t reqid;
	int r, n = 0;

	(void)now;
	if (spi_out == 0) {
		/* Hold: the connection's policies on no SA (a client's: its own reqid). */
		if ((r = ike_conn_info(x->ike, conn, &ci)) != 0)
			return r;
		reqid = ci.reqid;
		k = (struct sa_key){ 0, 0, 0, 0 };
	} else if (s == NULL) {
		return SP_ENOTFOUND;
	} else {
		reqid = s->reqid;
		k = (struct sa_key){ s->spi, s->proto, s->dst, s->reqid };
	}
	for (const struct spd_policy *p = ipsec_policy_next(x->e, NULL); p != NULL;
	     p = ipsec_policy_next(x->e, p)) {
		if (p->dir != SA_DIR_OUT || p->action != SPD_PROTECT || p->reqid != reqid)
			continue;
		if ((r = ipsec_policy_set_sa(x->e, p->id, &k)) != 0)
			return r;
		n++;
	}
	return n > 0 || spi_out == 0 ? 0 : SP_ENOTFOUND;
}

static void op_retire(void *arg, sp_time now, const char *conn, uint32_t spi_in)
{
	struct host_guard_ep *x = arg;

	if (ike_child_delete(x->ike, now, IKE_PROTO_ESP, spi_in) != 0 &&
	    ike_child_delete(x->ike, now, IKE_PROTO_AH, spi_in) != 0)
		SP_DEBUG(x->log, "guard", "%s: epoch %08x_i already gone", conn, spi_in);
}

/* 605: rekey the CHILD SA; with none (or no IKE SA) ike_up() makes one. */
static int op_rekey(void *arg, sp_time now, const char *conn)
{
	struct host_guard_ep *x = arg;
	int r = ike_rekey(x->ike, now, conn, false);

	if (r != 0 && r != SP_ESTATE)
		return r;
	return ike_up(x->ike, now, conn);
}

/* 614 -> 601: the old session says goodbye (best effort) while a new one starts. */
static int op_new_session(void *arg, sp_time now, const char *conn)
{
	struct host_guard_ep *x = arg;
	int r;

	if ((r = ike_down(x->ike, now, conn)) != 0)
		return r;
	return ike_up(x->ike, now, conn);
}

/* The only address of a selector list, or 0. */
static uint32_t single(const struct ike_ts *ts, uint8_t n)
{
	return n == 1 && ts[0].ts_start == ts[0].ts_end ? ts[0].ts_start : 0;
}

static bool inside(uint32_t a, const struct ike_ts *ts, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		if (a != 0 && a >= ts[i].ts_start && a <= ts[i].ts_end)
			return true;
	return false;
}

/* Defaults from IKE: a selector of one address, else the endpoint's own when inside. */
static void cfg_from_ike(const struct ike_conn_info *ci, struct host_guard_cfg *c)
{
	host_guard_cfg_defaults(c);
	c->keylife = ci->keylife;
	c->rekeymargin = ci->rekeymargin;
	c->ping_src = single(ci->local_ts, ci->n_local_ts);
	if (c->ping_src == 0 && inside(ci->local, ci->local_ts, ci->n_local_ts))
		c->ping_src = ci->local;
	if (c->ping_src == 0)
		c->ping_src = ci->local;
	/* The client pings into the peer's selector; the server is pinged inside its own. */
	c->ping_dst = single(ci->remote_ts, ci->n_remote_ts);
	if (c->ping_dst == 0 && inside(ci->remote, ci->remote_ts, ci->n_remote_ts))
		c->ping_dst = ci->remote;
}

static int read_conn(struct host_guard_ep *x, const struct endpoint_params *p, struct conf_sec *s)
{
	struct host_guard_cfg c;
	struct ike_conn_info ci;
	char err[256];
	int r;

	if (s->name == NULL || (r = ike_conn_info(x->ike, s->name, &ci)) != 0)
		return 0; /* IKE has refused or skipped it already */
	cfg_from_ike(&ci, &c);
	if (ci.remote == 0) { /* a responder: pinged at its own address */
		c.ping_dst = single(ci.local_ts, ci.n_local_ts);
		if (c.ping_dst == 0 && inside(ci.local, ci.local_ts, ci.n_local_ts))
			c.ping_dst = ci.local;
	}
	if (p->masq_t_out != 0) {
		c.masq_t_out = p->masq_t_out;
		c.masq_n_out = p->masq_n_out;
		c.masq_t_ei = p->masq_t_ei;
	}
	if ((r = host_guard_cfg_read(s, &c)) != 0)
		return r;
	if (p->masq_t_out != 0) {
		/* The NAT's own values win over the keys: check again with them. */
		c.masq_t_out = p->masq_t_out;
		c.masq_n_out = p->masq_n_out;
		c.masq_t_ei = p->masq_t_ei;
		if (host_guard_cfg_check(&c, err, sizeof(err)) != 0)
			return conf_fail(s, "epoch_guard with the NAT's T_out, N_out, T_ei: %s",
					 err);
	}
	if (c.mode == HOST_GUARD_OFF)
		return 0;
	if (!ci.epoch_guard)
		return conf_fail(s, "epoch_guard: IKE did not take it");
	if ((r = host_guard_add(x->g, s->name, &c)) != 0)
		return conf_fail(s, "epoch_guard: %s", sp_strerror(r));
	x->nguarded++;
	return 0;
}

static void guard_free(void *ctx);

static int guard_new(const struct endpoint_params *p, struct conf *conf, struct ike *ike,
		     struct ipsec *e, struct host_guard_ep **out)
{
	struct host_guard_params gp = {
		.name = p->name,
		.log = p->log,
		.ctrs = p->ctrs,
		.rng = p->rng,
		.pool = p->pool,
		.ops = { op_send_via, op_use_out, op_retire, op_rekey, op_new_session, NULL },
	};
	struct host_guard_ep *x;
	int r;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	x->ike = ike;
	x->e = e;
	x->log = p->log;
	gp.ops.arg = x;
	if ((r = host_guard_new(&gp, &x->g)) != 0) {
		free(x);
		return r;
	}
	for (struct conf_sec *s = conf_next(conf, NULL, "conn"); s != NULL;
	     s = conf_next(conf, s, "conn"))
		if ((r = read_conn(x, p, s)) != 0)
			goto fail;
	if (x->nguarded == 0) {
		guard_free(x);
		return 0;
	}
	*out = x;
	return 0;
fail:
	guard_free(x);
	return r;
}

static void guard_free(void *ctx)
{
	struct host_guard_ep *x = ctx;

	if (x == NULL)
		return;
	host_guard_free(x->g);
	free(x);
}

/* ---- the module (endpoint.h) ---- */

static int guard_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	struct host_guard_ep *x = NULL;
	int r;

	*ctx = NULL;
	if (endpoint_ike(ep) == NULL)
		return 0; /* the guard's keys live in [conn NAME] */
	r = guard_new(endpoint_params(ep), conf, endpoint_ike(ep), endpoint_ipsec(ep), &x);
	*ctx = x;
	return r;
}

static void guard_ike_event(void *ctx, sp_time now, const struct ike_event *ev)
{
	struct host_guard_ep *x = ctx;

	host_guard_ike_event(x->g, now, ev);
}

/* Which inbound SA the packet about to be delivered came through. */
static int guard_post_unprotect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	struct host_guard_ep *x = ctx;

	(void)now;
	(void)p;
	x->rx_spi = sa->dir == SA_DIR_IN ? sa->spi : 0;
	return 0;
}

/* The guard's ping replies, and pings it answers, stop here. */
static enum endpoint_verdict guard_in_clear(void *ctx, sp_time now, struct pkt *p)
{
	struct host_guard_ep *x = ctx;
	uint32_t spi = x->rx_spi;

	x->rx_spi = 0;
	return spi != 0 && host_guard_rx(x->g, now, spi, p) ? EP_CONSUMED : EP_PASS;
}

static sp_time guard_next_deadline(const void *ctx)
{
	const struct host_guard_ep *x = ctx;

	return host_guard_next_deadline(x->g);
}

static void guard_tick(void *ctx, sp_time now)
{
	struct host_guard_ep *x = ctx;

	host_guard_tick(x->g, now);
}

/* `spinat show guard`: each tunnel's epochs and phase, then the counters. */
static void guard_show(void *ctx, sp_time now, FILE *out)
{
	struct host_guard_ep *x = ctx;
	struct host_guard_stats st;

	host_guard_show(x->g, now, out);
	host_guard_stats(x->g, &st);
	for (unsigned i = 0; i < HOST_GUARD_CTR_N; i++)
		fprintf(out, "  %s %llu\n", host_guard_ctr_name((enum host_guard_ctr)i),
			(unsigned long long)st.ctr[i]);
}

const struct endpoint_module_ops host_guard_module = {
	.name = "guard",
	.create = guard_create,
	.destroy = guard_free,
	.post_unprotect = guard_post_unprotect,
	.in_clear = guard_in_clear,
	.ike_event = guard_ike_event,
	.next_deadline = guard_next_deadline,
	.tick = guard_tick,
	.show = guard_show,
};
