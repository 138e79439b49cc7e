#include "sim/sim_int.h"
#include "sim/link.h"
#include "sim/node.h"
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

/* Stream names are hashed under the seed mixed with this tag, so stream seeds do not
 * coincide with the plain seed a user might also hand to sp_xoshiro_seed(). */
#define SIM_RNG_TAG 0x73696d2d726e6721ull

int sim_new(struct sim **out, const struct sim_cfg *cfg)
{
	struct sim *sim;
	int r;

	*out = NULL;
	if ((sim = calloc(1, sizeof(*sim))) == NULL)
		return SP_ENOMEM;
	sim->seed = cfg->seed;
	sim->log_level = cfg->log_level;
	sim->logf = cfg->logf != NULL ? cfg->logf : stderr;
	sim->nodes_tail = &sim->nodes;
	sim->links_tail = &sim->links;
	sp_ctr_registry_init(&sim->link_ctrs);
	sim->logctx.sim = sim;
	sim->logctx.who = "sim";
	sim->log.sink = sim_log_sink;
	sim->log.arg = &sim->logctx;
	sim->log.level = cfg->log_level;
	if (cfg->pcap_prefix != NULL && (sim->pcap_prefix = strdup(cfg->pcap_prefix)) == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	if ((r = pkt_pool_init(&sim->pool, cfg->pool_pkts ? cfg->pool_pkts : SIM_POOL_DEFAULT,
			       PKT_BUFSIZE)) != 0)
		goto fail;
	sim->capheap = 1024;
	if ((sim->heap = malloc(sim->capheap * sizeof(*sim->heap))) == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	*out = sim;
	return 0;
fail:
	sim_free(sim);
	return r;
}

void sim_free(struct sim *sim)
{
	struct sim_node *n, *nn;
	struct sim_link *l, *ln;

	if (sim == NULL)
		return;
	for (size_t i = 0; i < sim->nheap; i++)
		if (sim->heap[i].kind == SIM_EV_DELIVER)
			pkt_free(sim->heap[i].b);
	for (n = sim->nodes; n != NULL; n = nn) {
		nn = n->next;
		sim_node_destroy(n);
	}
	for (l = sim->links; l != NULL; l = ln) {
		ln = l->next;
		sim_link_destroy(l);
	}
	sim_flows_free(sim->flows);
	free(sim->heap);
	pkt_pool_destroy(&sim->pool);
	free(sim->pcap_prefix);
	free(sim);
}

sp_time sim_now(const struct sim *sim)
{
	return sim->now;
}

uint64_t sim_seed(const struct sim *sim)
{
	return sim->seed;
}

struct pkt_pool *sim_pool(struct sim *sim)
{
	return &sim->pool;
}

const struct sp_log *sim_log(const struct sim *sim)
{
	return &sim->log;
}

int sim_log_level(const struct sim *sim)
{
	return sim->log_level;
}

struct sp_ctr_registry *sim_link_ctrs(struct sim *sim)
{
	return &sim->link_ctrs;
}

uint64_t sim_events(const struct sim *sim)
{
	return sim->nevents;
}

size_t sim_pending(const struct sim *sim)
{
	return sim->nheap;
}

/* The queue: a binary min-heap on (t, seq). seq is unique, so the order is total and a run
 * does not depend on how the heap happens to break ties. */

static inline bool ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int sim_ev_push(struct sim *sim, const struct sim_ev *ev)
{
	struct sim_ev *h;
	size_t i;

	if (SP_UNLIKELY(sim->nheap == sim->capheap)) {
		/* Grows by doubling: amortised, and steady state allocates nothing. */
		size_t cap = sim->capheap * 2;

		if ((h = realloc(sim->heap, cap * sizeof(*h))) == NULL)
			return SP_ENOMEM;
		sim->heap = h;
		sim->capheap = cap;
	}
	h = sim->heap;
	i = sim->nheap++;
	h[i] = *ev;
	h[i].seq = sim->seq++;
	if (h[i].t < sim->now)
		h[i].t = sim->now;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct sim_ev tmp;

		if (!ev_before(&h[i], &h[p]))
			break;
		tmp = h[p];
		h[p] = h[i];
		h[i] = tmp;
		i = p;
	}
	return 0;
}

static void ev_pop(struct sim *sim, struct sim_ev *out)
{
	struct sim_ev *h = sim->heap;
	size_t n = --sim->nheap, i = 0;
	struct sim_ev last = h[n];

	*out = h[0];
	if (n == 0)
		return;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(&h[c + 1], &h[c]))
			c++;
		if (!ev_before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = last;
}

int sim_at(struct sim *sim, sp_time t, sim_call_fn fn, void *arg, uint64_t u)
{
	struct sim_ev ev = { .t = t, .kind = SIM_EV_CALL, .a = (void *)fn, .b = arg, .u64 = u };

	return sim_ev_push(sim, &ev);
}

void sim_timer_init(struct sim_timer *t, sim_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->when = SP_TIME_NEVER;
	t->queued = SP_TIME_NEVER;
	t->fn = fn;
	t->arg = arg;
}

int sim_timer_arm(struct sim *sim, struct sim_timer *t, sp_time when)
{
	struct sim_ev ev;
	int r;

	if (when != SP_TIME_NEVER && when < sim->now)
		when = sim->now;
	t->when = when;
	if (when >= t->queued)
		return 0;
	/* Earlier than the queued event (or none queued): queue a new generation; the
	 * older event becomes stale and is skipped when it comes up. */
	ev = (struct sim_ev){ .t = when, .kind = SIM_EV_TIMER, .a = t, .u32 = t->gen + 1 };
	if ((r = sim_ev_push(sim, &ev)) != 0)
		return r;
	t->gen++;
	t->queued = when;
	return 0;
}

void sim_timer_cancel(struct sim_timer *t)
{
	t->when = SP_TIME_NEVER;
}

static void timer_fire(struct sim *sim, struct sim_timer *t, uint32_t gen)
{
	struct sim_ev ev;

	if (gen != t->gen)
		return;
	t->queued = SP_TIME_NEVER;
	if (t->when == SP_TIME_NEVER)
		return;
	if (t->when > sim->now) {
		/* The deadline moved later since this event was queued. */
		ev = (struct sim_ev){ .t = t->when, .kind = SIM_EV_TIMER, .a = t, .u32 = gen };
		if (sim_ev_push(sim, &ev) == 0)
			t->queued = t->when;
		else
			SP_ERR(&sim->log, "sim", "event queue full: a timer is lost");
		return;
	}
	t->when = SP_TIME_NEVER;
	t->fn(sim, t, sim->now);
}

uint64_t sim_run_until(struct sim *sim, sp_time until)
{
	uint64_t n = 0;
	struct sim_ev ev;

	sim->stop = false;
	while (!sim->stop && sim->nheap > 0 && sim->heap[0].t <= until) {
		ev_pop(sim, &ev);
		sim->now = ev.t;
		n++;
		switch (ev.kind) {
		case SIM_EV_CALL:
			((sim_call_fn)ev.a)(sim, ev.b, ev.u64);
			break;
		case SIM_EV_TIMER:
			timer_fire(sim, ev.a, ev.u32);
			break;
		case SIM_EV_DELIVER:
			sim_link_deliver(sim, ev.a, ev.u32, ev.b, ev.u64);
			break;
		}
	}
	if (!sim->stop && until != SP_TIME_NEVER && sim->now < until)
		sim->now = until;
	sim->nevents += n;
	return n;
}

void sim_stop(struct sim *sim)
{
	sim->stop = true;
}

void sim_rng_derive(const struct sim *sim, const char *name, struct sp_xoshiro *out)
{
	sp_xoshiro_seed(out, sp_hash_bytes(name, strlen(name), sim->seed ^ SIM_RNG_TAG));
}

struct sim_node *sim_node_find(struct sim *sim, const char *name)
{
	for (struct sim_node *n = sim->nodes; n != NULL; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

struct sim_link *sim_link_find(struct sim *sim, const char *name)
{
	for (struct sim_link *l = sim->links; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

struct sim_node *sim_node_first(struct sim *sim)
{
	return sim->nodes;
}

struct sim_link *sim_link_first(struct sim *sim)
{
	return sim->links;
}

uint64_t sim_ctr_total(struct sim *sim, const char *module, const char *name)
{
	uint64_t sum = sp_ctr_get(&sim->link_ctrs, module, name);

	for (struct sim_node *n = sim->nodes; n != NULL; n = n->next)
		sum += sp_ctr_get(&n->ctrs, module, name);
	return sum;
}

void sim_ctr_dump(struct sim *sim, FILE *f, bool all)
{
	for (struct sim_node *n = sim->nodes; n != NULL; n = n->next)
		sp_ctr_dump(&n->ctrs, f, all);
	sp_ctr_dump(&sim->link_ctrs, f, all);
}

/*
 * A drop reason: "drop_*" (every module's X-macro list), "<part>_drop_*" (a NAT strategy's
 * own, masq_drop_n_out) or a link's "lost". Verdict totals like "nat_dropped" or a
 * daemon's "dropped" only say that a reason was counted elsewhere.
 */
bool sim_ctr_is_drop(const char *name)
{
	return strncmp(name, "drop_", 5) == 0 || strstr(name, "_drop_") != NULL ||
	       strcmp(name, "lost") == 0;
}

static void each_drop(const struct sp_ctr_registry *reg,
		      void (*fn)(void *, const char *, const char *, const char *, uint64_t),
		      void *arg)
{
	for (const struct sp_ctrs *c = reg->head; c != NULL; c = c->next)
		for (unsigned i = 0; i < c->n; i++)
			if (c->vals[i] != 0 && sim_ctr_is_drop(c->names[i]))
				fn(arg, c->instance ? c->instance : "-", c->module, c->names[i],
				   c->vals[i]);
}

void sim_ctr_each_drop(struct sim *sim,
		       void (*fn)(void *arg, const char *inst, const char *mod, const char *name,
				  uint64_t v),
		       void *arg)
{
	for (struct sim_node *n = sim->nodes; n != NULL; n = n->next)
		each_drop(&n->ctrs, fn, arg);
	each_drop(&sim->link_ctrs, fn, arg);
}

void sim_log_sink(void *arg, int level, const char *module, const char *msg)
{
	const struct sim_logctx *lc = arg;
	sp_time t = lc->sim->now;

	fprintf(lc->sim->logf, "[%4llu.%09llu] %-8s %-5s %s: %s\n",
		(unsigned long long)(t / 1000000000ull), (unsigned long long)(t % 1000000000ull),
		lc->who, sp_log_level_name(level), module, msg);
}
