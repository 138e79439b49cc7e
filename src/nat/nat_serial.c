/*
 * serial: the serialisation baseline of 000 [0019]. At most one IPsec originator per
 * responder is outstanding; the NAT associates the responder's SPI with it when the
 * responder answers, and only then lets the next originator's traffic through. Packets of
 * the others are held back (mode hold) and sent when the responder is free, or dropped
 * (mode drop), each with its counter.
 *
 * Entries: k[0] = (proto, client, server, outgoing SPI) indexed; k[1] = (proto, global,
 * server, 0) while outstanding, (proto, global, server, incoming SPI) once associated.
 */
#include "nat/nat_priv.h"
#include "base/conf.h"

#define K_OUT  (NAT_K_STRAT + 0)
#define K_PEND (NAT_K_STRAT + 1)
#define K_EST  (NAT_K_STRAT + 2)

#define ST_ESTABLISHED 0x01

#define SERIAL_HOLD_CAP 1024

#define foreach_serial_ctr(_)                            \
	_(OUTSTANDING, "serial_outstanding_created")     \
	_(ESTABLISHED, "serial_associated")              \
	_(HELD, "serial_held")                           \
	_(RELEASED, "serial_released")                   \
	_(DROP_BUSY, "serial_drop_responder_busy")       \
	_(DROP_HOLD_FULL, "serial_drop_hold_full")       \
	_(DROP_HOLD_TIMEOUT, "serial_drop_hold_timeout") \
	_(DROP_NO_OUTSTANDING, "serial_drop_no_outstanding")

enum serial_ctr {
#define _(sym, str) SERIAL_CTR_##sym,
	foreach_serial_ctr(_)
#undef _
		SERIAL_CTR_N
};

static const char *const serial_ctr_names[] = { SP_CTR_NAMES(foreach_serial_ctr) };

enum { SERIAL_HOLD = 0, SERIAL_DROP = 1 };

struct serial_params {
	int mode;
	sp_time t_out;	/* outstanding originator gives up */
	sp_time t_idle; /* associated SPIs after inactivity */
	uint32_t hold_max;
	sp_time hold_timeout;
};
_Static_assert(sizeof(struct serial_params) <= NAT_SPARAMS_SIZE, "params fit");

struct held {
	struct pkt *p; /* the inside packet, untranslated */
	sp_time until;
	sp_time blocker_exp;
	uint32_t global, server;
	uint8_t proto;
};

struct serial_ctx {
	struct held q[SERIAL_HOLD_CAP];
	unsigned head, cnt;
	bool release_due;
};

static void serial_defaults(void *params)
{
	struct serial_params *p = params;

	p->mode = SERIAL_HOLD;
	p->t_out = SP_SEC(10);
	p->t_idle = SP_SEC(1800);
	p->hold_max = 64;
	p->hold_timeout = SP_SEC(20); /* outlives one blocker's serial_timeout */
}

static int serial_conf(struct conf_sec *s, void *params)
{
	static const char *const modes[] = { "hold", "drop", NULL };
	struct serial_params *p = params;
	int r;

	if ((r = conf_get_enum(s, "serial_mode", modes, p->mode, &p->mode)) != 0 ||
	    (r = nat_conf_time(s, "serial_timeout", p->t_out, &p->t_out)) != 0 ||
	    (r = nat_conf_time(s, "serial_idle_timeout", p->t_idle, &p->t_idle)) != 0 ||
	    (r = conf_get_u32(s, "serial_hold_max", p->hold_max, 1, SERIAL_HOLD_CAP,
			      &p->hold_max)) != 0 ||
	    (r = nat_conf_time(s, "serial_hold_timeout", p->hold_timeout, &p->hold_timeout)) != 0)
		return r;
	if (p->t_out == 0 || p->t_idle == 0)
		return conf_fail(s, "serial_timeout and serial_idle_timeout must be positive");
	return 0;
}

static void drop_all(struct serial_ctx *c)
{
	for (unsigned i = 0; i < c->cnt; i++)
		pkt_free(c->q[(c->head + i) % SERIAL_HOLD_CAP].p);
	c->head = c->cnt = 0;
	c->release_due = false;
}

static void serial_fini(struct nat *n, void *ctx)
{
	(void)n;
	drop_all(ctx);
}

static uint32_t pending_for(struct nat_table *t, sp_time now, uint8_t proto, uint32_t global,
			    uint32_t server)
{
	struct nat_key k;

	nat_key_set(&k, K_PEND, proto, global, server, 0);
	return nat_table_lookup(t, &k, now);
}

static int hold(struct nat *n, struct serial_ctx *c, sp_time now, const struct nat_ipsec_pkt *ip,
		struct pkt *p, sp_time blocker_exp)
{
	const struct serial_params *par = nat_sparams(n);
	struct held *h;
	struct pkt *copy;

	if (c->cnt >= par->hold_max || (copy = nat_clone(n, p)) == NULL) {
		nat_sctr_inc(n, SERIAL_CTR_DROP_HOLD_FULL, 1);
		return NAT_DROP;
	}
	h = &c->q[(c->head + c->cnt++) % SERIAL_HOLD_CAP];
	h->p = copy;
	h->until = now + par->hold_timeout;
	h->blocker_exp = blocker_exp;
	h->global = ip->global;
	h->server = ip->server;
	h->proto = ip->proto;
	nat_sctr_inc(n, SERIAL_CTR_HELD, 1);
	return NAT_TAKEN;
}

static int serial_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct serial_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx, pend;

	nat_key_set(&k, K_OUT, ip->proto, ip->client, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) != NAT_NIL) {
		if (nat_entry_at(t, idx)->state & ST_ESTABLISHED) {
			nat_table_schedule(t, idx, now + par->t_idle, now);
			nat_offload_settle(n, idx);
		}
		return NAT_TO_OUTSIDE;
	}
	if ((pend = pending_for(t, now, ip->proto, ip->global, ip->server)) != NAT_NIL) {
		/* [0019]: another originator is still being answered */
		if (par->mode == SERIAL_HOLD)
			return hold(n, ctx, now, ip, p,
				    nat_entry_expiry(nat_entry_at(t, pend), now));
		nat_sctr_inc(n, SERIAL_CTR_DROP_BUSY, 1);
		return NAT_DROP;
	}
	if ((idx = nat_strat_alloc_for(n, now, ip->client, p)) == NAT_NIL)
		return NAT_DROP;
	e = nat_entry_at(t, idx);
	e->k[0] = k;
	nat_key_set(&e->k[1], K_PEND, ip->proto, ip->global, ip->server, 0);
	nat_table_hash_add(t, idx, 0);
	nat_table_hash_add(t, idx, 1);
	nat_strat_charge(n, idx);
	nat_table_schedule(t, idx, now + par->t_out, now);
	nat_sctr_inc(n, SERIAL_CTR_OUTSTANDING, 1);
	return NAT_TO_OUTSIDE;
}

static int serial_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			 struct pkt *p)
{
	const struct serial_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct serial_ctx *c = ctx;
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	(void)p;
	nat_key_set(&k, K_EST, ip->proto, ip->global, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		if ((idx = pending_for(t, now, ip->proto, ip->global, ip->server)) == NAT_NIL) {
			nat_sctr_inc(n, SERIAL_CTR_DROP_NO_OUTSTANDING, 1);
			return NAT_DROP;
		}
		/* [0019]: the responder answered the one outstanding originator. */
		e = nat_entry_at(t, idx);
		nat_table_rekey(t, idx, 1, &k);
		e->state = ST_ESTABLISHED;
		nat_sctr_inc(n, SERIAL_CTR_ESTABLISHED, 1);
		if (c->cnt > 0)
			c->release_due = true;
	}
	e = nat_entry_at(t, idx);
	nat_table_schedule(t, idx, now + par->t_idle, now);
	nat_offload_settle(n, idx);
	ip->client = e->k[0].a;
	return NAT_TO_INSIDE;
}

static void serial_expire(struct nat *n, void *ctx, uint32_t idx)
{
	struct serial_ctx *c = ctx;

	nat_strat_free(n, idx);
	if (c->cnt > 0)
		c->release_due = true;
}

/* Associated items only: the outstanding one still decides who waits. */
static void serial_offload(const struct nat *n, const void *ctx, const struct nat_entry *e,
			   struct nat_offload_desc *d)
{
	const struct serial_params *par = nat_sparams(n);

	(void)ctx;
	nat_strat_item_offload(e, true, true, par->t_idle, d);
}

static void serial_tick(struct nat *n, void *ctx, sp_time now)
{
	struct nat_table *t = nat_table_of(n);
	struct serial_ctx *c = ctx;
	unsigned todo = c->cnt;

	c->release_due = false;
	while (todo-- > 0) {
		struct held h = c->q[c->head];
		uint32_t pend;

		c->head = (c->head + 1) % SERIAL_HOLD_CAP;
		c->cnt--;
		if ((pend = pending_for(t, now, h.proto, h.global, h.server)) == NAT_NIL) {
			nat_sctr_inc(n, SERIAL_CTR_RELEASED, 1);
			nat_reinject(n, now, h.p); /* becomes the outstanding originator */
			continue;
		}
		if (h.until <= now) {
			pkt_free(h.p);
			nat_sctr_inc(n, SERIAL_CTR_DROP_HOLD_TIMEOUT, 1);
			continue;
		}
		h.blocker_exp = nat_entry_expiry(nat_entry_at(t, pend), now);
		c->q[(c->head + c->cnt++) % SERIAL_HOLD_CAP] = h;
	}
}

static sp_time serial_next_deadline(const struct nat *n, const void *ctx)
{
	const struct serial_ctx *c = ctx;
	sp_time t = SP_TIME_NEVER;

	(void)n;
	if (c->cnt == 0)
		return SP_TIME_NEVER;
	if (c->release_due)
		return 0;
	for (unsigned i = 0; i < c->cnt; i++) {
		const struct held *h = &c->q[(c->head + i) % SERIAL_HOLD_CAP];

		t = sp_time_min(t, sp_time_min(h->until, h->blocker_exp));
	}
	return t;
}

static void serial_reset(struct nat *n, void *ctx)
{
	(void)n;
	drop_all(ctx);
}

static bool serial_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		       struct nat_row *r)
{
	bool assoc = (e->state & ST_ESTABLISHED) != 0;

	(void)n;
	(void)ctx;
	nat_strat_item_row(e, true, assoc, assoc ? "associated" : "outstanding", r);
	return true;
}

const struct nat_strategy nat_strategy_serial = {
	.name = "serial",
	.help = "serialisation (000 [0019]): one outstanding originator per responder, others "
		"held or dropped",
	.defaults = serial_defaults,
	.conf = serial_conf,
	.ctx_size = sizeof(struct serial_ctx),
	.ctr_names = serial_ctr_names,
	.n_ctrs = SERIAL_CTR_N,
	.fini = serial_fini,
	.in2out = serial_in2out,
	.out2in = serial_out2in,
	.expire = serial_expire,
	.row = serial_row,
	.offload = serial_offload,
	.tick = serial_tick,
	.next_deadline = serial_next_deadline,
	.reset = serial_reset,
	.host_of = nat_strat_item_host,
};
