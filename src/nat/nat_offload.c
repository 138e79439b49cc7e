/*
 * The engine's side of the fast path (nat_offload.h): which entries are offloaded (one
 * bit per table entry, only while offloading is on), installing and removing their items
 * through the owner's ops, and postponing an offloaded entry's expiry by the fast path's
 * last use of it.
 */
#include "nat/nat_offload.h"
#include "nat/nat_priv.h"

#include <stdlib.h>
#include <string.h>

static const char *const offload_ctr_names[] = { SP_CTR_NAMES(foreach_nat_offload_ctr) };

struct nat_offload {
	struct nat_offload_ops ops;
	uint64_t ctr[NAT_OFFLOAD_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
};

#define OINC(o, c) ((o)->ctr[NAT_OFFLOAD_CTR_##c]++)

static inline bool bit_get(const struct nat_table *t, uint32_t idx)
{
	return t->offl_bits != NULL && (t->offl_bits[idx / 64] >> (idx % 64) & 1u) != 0;
}

static inline void bit_put(struct nat_table *t, uint32_t idx, bool on)
{
	if (on)
		t->offl_bits[idx / 64] |= 1ull << (idx % 64);
	else
		t->offl_bits[idx / 64] &= ~(1ull << (idx % 64));
}

/* A NAPT mapping: from inside (inside address, port) becomes (global, global port), from
 * outside the reverse. */
static void napt_describe(const struct nat *n, const struct nat_entry *e,
			  struct nat_offload_desc *d)
{
	struct nat_offload_item *in = &d->item[0], *out = &d->item[1];

	in->from = NAT_INSIDE;
	in->proto = e->k[0].proto;
	in->rewrite_port = true;
	in->a = e->k[0].a;
	in->id = e->k[0].id;
	in->addr = e->k[1].a;
	in->port = (uint16_t)e->k[1].id;
	out->from = NAT_OUTSIDE;
	out->proto = e->k[1].proto;
	out->rewrite_port = true;
	out->a = e->k[1].a;
	out->id = e->k[1].id;
	out->addr = e->k[0].a;
	out->port = (uint16_t)e->k[0].id;
	d->n = 2;
	d->idle = nat_napt_timeout(n, e);
}

void nat_offload_describe(const struct nat *n, uint32_t idx, struct nat_offload_desc *d)
{
	const struct nat_entry *e = nat_entry_at(&n->tab, idx);

	memset(d, 0, sizeof(*d));
	if (e->owner == NAT_O_NAPT)
		napt_describe(n, e, d);
	else if (e->owner == NAT_O_STRAT && n->strat->offload != NULL)
		n->strat->offload(n, n->sctx, e, d);
}

/* The table frees an offloaded entry: its items go too (keys still intact here). */
static void on_free(void *arg, uint32_t idx)
{
	struct nat *n = arg;
	struct nat_offload *o = n->offl;
	struct nat_offload_desc d;

	nat_offload_describe(n, idx, &d);
	if (d.n > 0)
		o->ops.remove(o->ops.arg, idx, &d);
	bit_put(&n->tab, idx, false);
	OINC(o, REMOVED);
}

int nat_offload_enable(struct nat *n, const struct nat_offload_ops *ops)
{
	struct nat_offload *o;

	if (n->offl != NULL)
		return SP_EEXIST;
	if (ops->install == NULL || ops->remove == NULL || ops->use == NULL || ops->flush == NULL)
		return SP_EINVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return SP_ENOMEM;
	if ((n->tab.offl_bits = calloc((n->tab.max + 63) / 64, sizeof(uint64_t))) == NULL) {
		free(o);
		return SP_ENOMEM;
	}
	o->ops = *ops;
	n->tab.offl_free = on_free;
	n->tab.offl_arg = n;
	sp_ctrs_init(&o->ctrs, "nat", n->name, offload_ctr_names, o->ctr, NAT_OFFLOAD_CTR_N);
	if (n->env.ctrs != NULL) {
		sp_ctr_register(n->env.ctrs, &o->ctrs);
		o->registered = true;
	}
	n->offl = o;
	return 0;
}

void nat_offload_disable(struct nat *n)
{
	struct nat_offload *o = n->offl;

	if (o == NULL)
		return;
	o->ops.flush(o->ops.arg);
	if (o->registered)
		sp_ctr_unregister(n->env.ctrs, &o->ctrs);
	free(n->tab.offl_bits);
	n->tab.offl_bits = NULL;
	n->tab.offl_free = NULL;
	n->offl = NULL;
	free(o);
}

bool nat_offload_enabled(const struct nat *n)
{
	return n->offl != NULL;
}

bool nat_offload_is(const struct nat *n, uint32_t idx)
{
	return bit_get(&n->tab, idx);
}

void nat_offload_settle(struct nat *n, uint32_t idx)
{
	struct nat_offload *o = n->offl;
	struct nat_offload_desc d;

	if (o == NULL || bit_get(&n->tab, idx))
		return;
	nat_offload_describe(n, idx, &d);
	if (d.n == 0)
		return;
	if (o->ops.install(o->ops.arg, idx, &d) != 0) {
		OINC(o, INSTALL_FAILED);
		return;
	}
	bit_put(&n->tab, idx, true);
	OINC(o, INSTALLED);
}

void nat_offload_unsettle(struct nat *n, uint32_t idx)
{
	if (n->offl != NULL && bit_get(&n->tab, idx))
		on_free(n, idx);
}

void nat_offload_napt(struct nat *n, uint32_t idx)
{
	const struct nat_entry *e = nat_entry_at(&n->tab, idx);

	/* TCP once established (SYN seen both ways, or a mid-stream mapping answered); UDP
	 * and ICMP echo at once. */
	if (e->k[0].proto == IPV4_PROTO_TCP && !(e->state & NAT_TCP_EST))
		return;
	nat_offload_settle(n, idx);
}

void nat_offload_use_of(const struct nat *n, uint32_t idx, struct nat_offload_use *u)
{
	struct nat_offload_desc d;

	memset(u, 0, sizeof(*u));
	if (!bit_get(&n->tab, idx))
		return;
	nat_offload_describe(n, idx, &d);
	if (d.n > 0 && n->offl->ops.use(n->offl->ops.arg, idx, &d, u) != 0)
		memset(u, 0, sizeof(*u));
}

bool nat_offload_keep(struct nat *n, uint32_t idx, sp_time now)
{
	struct nat_offload_use u;
	struct nat_offload_desc d;

	if (!bit_get(&n->tab, idx))
		return false;
	nat_offload_describe(n, idx, &d);
	if (d.n > 0 && n->offl->ops.use(n->offl->ops.arg, idx, &d, &u) == 0 && u.last != 0 &&
	    u.last + d.idle > now) {
		nat_table_schedule(&n->tab, idx, u.last + d.idle, now);
		OINC(n->offl, KEPT);
		return true;
	}
	OINC(n->offl, EXPIRED);
	return false;
}

void nat_offload_reset(struct nat *n)
{
	if (n->offl == NULL)
		return;
	n->offl->ops.flush(n->offl->ops.arg);
	memset(n->tab.offl_bits, 0, (n->tab.max + 63) / 64 * sizeof(uint64_t));
}

uint64_t nat_offload_counter(const struct nat *n, const char *name)
{
	if (n->offl == NULL)
		return 0;
	for (unsigned i = 0; i < NAT_OFFLOAD_CTR_N; i++)
		if (strcmp(offload_ctr_names[i], name) == 0)
			return n->offl->ctr[i];
	return 0;
}
