/*
 * A NAT under test: one engine, a packet pool, a seeded generator, counters, and the
 * packets it emitted (multicast copies, released holds) kept in order.
 */
#ifndef NAT_FIXTURE_H
#define NAT_FIXTURE_H

#include "nat_test.h"
#include "base/counter.h"
#include "base/rand.h"
#include "nat/nat.h"

#define FX_EMIT_MAX 64

struct fx {
	struct nat *n;
	struct nat_config cfg;
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct pkt *emitted[FX_EMIT_MAX];
	enum nat_side side[FX_EMIT_MAX];
	unsigned nemitted;
};

static inline void fx_emit(void *arg, enum nat_side side, struct pkt *p)
{
	struct fx *f = arg;

	if (f->nemitted < FX_EMIT_MAX) {
		f->side[f->nemitted] = side;
		f->emitted[f->nemitted++] = p;
	} else {
		pkt_free(p);
	}
}

static inline void fx_clear_emitted(struct fx *f)
{
	for (unsigned i = 0; i < f->nemitted; i++)
		pkt_free(f->emitted[i]);
	f->nemitted = 0;
}

/* Defaults plus the 000 worked example's global address, strategy by name. */
static inline int fx_init(struct fx *f, const char *strategy, uint32_t max)
{
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = pkt_pool_init(&f->pool, 256, PKT_BUFSIZE)) != 0)
		return r;
	sp_xoshiro_seed(&f->rng, 42);
	sp_ctr_registry_init(&f->ctrs);
	nat_config_defaults(&f->cfg);
	if ((r = nat_config_add_pool(&f->cfg, IP(171, 69, 68, 10))) != 0)
		return r;
	if (strategy != NULL && (r = nat_config_set_strategy(&f->cfg, strategy)) != 0)
		return r;
	if (max != 0)
		f->cfg.max_entries = max;
	return 0;
}

static inline int fx_start(struct fx *f)
{
	struct nat_env env = { 0 };

	env.name = "gw";
	env.rng = &f->rng.rng;
	env.ctrs = &f->ctrs;
	env.pool = &f->pool;
	env.emit = fx_emit;
	env.emit_arg = f;
	return nat_new(&f->n, &f->cfg, &env);
}

static inline void fx_fini(struct fx *f)
{
	fx_clear_emitted(f);
	nat_free(f->n);
	pkt_pool_destroy(&f->pool);
}

/* Translate p; on a forwarding verdict *out = p (caller frees), else p is freed. */
static inline int fx_xlate(struct fx *f, sp_time now, enum nat_side from, struct pkt *p,
			   struct pkt **out)
{
	int v = nat_translate(f->n, now, from, p);

	*out = NULL;
	if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE)
		*out = p;
	else
		pkt_free(p);
	return v;
}

static inline uint64_t fx_ctr(struct fx *f, const char *name)
{
	return sp_ctr_get(&f->ctrs, "nat", name);
}

#endif
