/*
 * The engine's frame: instances, the entry point that parses the IPv4 header and hands the
 * packet to nat_in2out() or nat_out2in(), expiry, and the services strategies use.
 */
#include "nat/nat_priv.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

static const char *const nat_ctr_names[] = { SP_CTR_NAMES(foreach_nat_ctr) };

/* The pool as a small open-addressing set, so membership is one probe on the packet path.
 * A multiplicative hash is enough: the set holds at most NAT_POOL_MAX of NAT_POOL_SET
 * slots, so no input makes a probe longer than that. */
static inline uint32_t pool_slot(uint32_t addr)
{
	return (addr * 0x9e3779b1u) >> 23;
}

static void pool_set_build(struct nat *n)
{
	memset(n->pool_set, 0, sizeof(n->pool_set));
	for (unsigned i = 0; i < n->cfg.npool; i++) {
		uint32_t a = n->cfg.pool[i], h = pool_slot(a);

		while (n->pool_set[h & (NAT_POOL_SET - 1)] != 0)
			h++;
		n->pool_set[h & (NAT_POOL_SET - 1)] = a;
	}
}

bool nat_in_pool(const struct nat *n, uint32_t addr)
{
	uint32_t h = pool_slot(addr);

	if (n->cfg.npool == 1)
		return addr == n->cfg.pool[0];
	if (addr == 0)
		return false;
	for (;; h++) {
		uint32_t v = n->pool_set[h & (NAT_POOL_SET - 1)];

		if (v == addr)
			return true;
		if (v == 0)
			return false;
	}
}

uint32_t nat_global_for(const struct nat *n, uint32_t inside)
{
	if (n->cfg.npool == 1)
		return n->cfg.pool[0];
	/* Paired pooling (RFC 4787 REQ-2): one global address per inside address. */
	return n->cfg.pool[sp_hash_u64(inside, n->tab.seed) % n->cfg.npool];
}

struct nat_table *nat_table_of(struct nat *n)
{
	return &n->tab;
}

const void *nat_sparams(const struct nat *n)
{
	return n->cfg.sparams;
}

struct sp_rng *nat_rng(struct nat *n)
{
	return n->env.rng;
}

void nat_sctr_inc(struct nat *n, unsigned i, uint64_t by)
{
	if (i < n->strat->n_ctrs)
		n->sctr[i] += by;
}

void nat_entry_expire(struct nat *n, uint32_t idx)
{
	struct nat_entry *e = nat_entry_at(&n->tab, idx);

	if (e->owner == NAT_O_STRAT) {
		n->strat->expire(n, n->sctx, idx);
	} else {
		nat_host_uncharge(n, e);
		nat_table_free(&n->tab, idx);
	}
}

static void expire_cb(void *arg, uint32_t idx)
{
	struct nat *n = arg;

	/* A strategy's expire() may free a companion entry; it is then already gone. */
	if (nat_entry_at(&n->tab, idx)->owner == NAT_O_FREE)
		return;
	if (SP_UNLIKELY(n->offl != NULL) && nat_offload_keep(n, idx, n->advance_now))
		return;
	nat_entry_expire(n, idx);
	NAT_INC(n, EXPIRED);
}

void nat_reclaim(struct nat *n, sp_time now)
{
	nat_table_advance(&n->tab, now, expire_cb, n);
}

/* The table reads expiries modulo 2^32 ms and needs advancing at least every NAT_ADV_GAP
 * (nat_table.h); a caller that translates without nat_tick() for days still gets it. */
static inline void keep_wheel(struct nat *n, sp_time now)
{
	if (SP_UNLIKELY(now > n->tab.adv_time && now - n->tab.adv_time > NAT_ADV_GAP)) {
		n->advance_now = now;
		nat_table_advance(&n->tab, now, expire_cb, n);
	}
}

uint32_t nat_alloc(struct nat *n, uint8_t owner, sp_time now, uint32_t host)
{
	uint32_t idx = nat_table_alloc(&n->tab, owner);

	if (SP_LIKELY(idx != NAT_NIL))
		return idx;
	/* Full: first reclaim what has expired, then (if allowed) the entry filed to expire
	 * soonest that is the host's own or not in use (nat_host_victim()). Entries not yet
	 * scheduled are never chosen. */
	n->advance_now = now;
	nat_table_advance(&n->tab, now, expire_cb, n);
	idx = nat_table_alloc(&n->tab, owner);
	if (idx == NAT_NIL && n->cfg.full_mode == NAT_FULL_EVICT) {
		uint32_t victim = nat_host_victim(n, host);

		if (victim == NAT_NIL)
			NAT_INC(n, EVICT_NONE_FREE);
		if (victim != NAT_NIL) {
			nat_entry_expire(n, victim);
			NAT_INC(n, EVICTED);
			idx = nat_table_alloc(&n->tab, owner);
		}
	}
	if (idx == NAT_NIL)
		NAT_INC(n, DROP_TABLE_FULL);
	return idx;
}

uint32_t nat_strat_alloc(struct nat *n, sp_time now)
{
	return nat_alloc(n, NAT_O_STRAT, now, 0);
}

/* Instances. */

int nat_new(struct nat **out, const struct nat_config *c, const struct nat_env *env)
{
	struct nat *n = NULL;
	int r;

	*out = NULL;
	if (c->npool == 0 || c->strategy == NULL || env->rng == NULL || c->port_min > c->port_max ||
	    c->port_min == 0)
		return SP_EINVAL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return SP_ENOMEM;
	n->cfg = *c;
	n->env = *env;
	n->strat = c->strategy;
	snprintf(n->name, sizeof(n->name), "%s", env->name ? env->name : "nat");
	n->env.name = n->name;
	if ((r = nat_table_init(&n->tab, c->max_entries, sp_rng_u64(env->rng))) != 0 ||
	    (r = nat_hosts_init(n)) != 0)
		goto out;
	n->sctx = calloc(1, n->strat->ctx_size ? n->strat->ctx_size : 1);
	n->sctr = calloc(n->strat->n_ctrs ? n->strat->n_ctrs : 1, sizeof(uint64_t));
	if (n->sctx == NULL || n->sctr == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	pool_set_build(n);
	if (n->strat->init != NULL && (r = n->strat->init(n, n->sctx)) != 0)
		goto out;
	sp_ctrs_init(&n->ctrs, "nat", n->name, nat_ctr_names, n->ctr, NAT_CTR_N);
	sp_ctrs_init(&n->sctrs, "nat", n->name, n->strat->ctr_names, n->sctr, n->strat->n_ctrs);
	if (env->ctrs != NULL) {
		sp_ctr_register(env->ctrs, &n->ctrs);
		sp_ctr_register(env->ctrs, &n->sctrs);
		n->registered = true;
	}
	SP_INFO(env->log, "nat", "%s: strategy %s, %u global address(es), %u entries (%llu bytes)",
		n->name, n->strat->name, c->npool, c->max_entries,
		(unsigned long long)n->tab.bytes);
	*out = n;
	n = NULL;
	r = 0;
out:
	nat_free(n);
	return r;
}

void nat_free(struct nat *n)
{
	if (n == NULL)
		return;
	if (n->registered) {
		sp_ctr_unregister(n->env.ctrs, &n->ctrs);
		sp_ctr_unregister(n->env.ctrs, &n->sctrs);
	}
	nat_offload_disable(n);
	if (n->sctx != NULL && n->strat->fini != NULL)
		n->strat->fini(n, n->sctx);
	free(n->sctx);
	free(n->sctr);
	nat_hosts_fini(n);
	nat_table_fini(&n->tab);
	free(n);
}

void nat_reset(struct nat *n)
{
	if (n->strat->reset != NULL)
		n->strat->reset(n, n->sctx);
	nat_offload_reset(n);
	nat_table_clear(&n->tab);
	nat_hosts_clear(n);
	SP_INFO(n->env.log, "nat", "%s: reset, all mappings and items forgotten", n->name);
}

/* The packet path. */

/* One's-complement sum of an IPv4 header of hl bytes (a multiple of 4, validated). */
static inline uint16_t hdr_sum(const uint8_t *h, size_t hl)
{
	uint64_t s = 0;

	for (size_t i = 0; i < hl; i += 4)
		s += sp_load_be32(h + i);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * The IPv4 header as ipv4_parse() checks it (version 4, 20 <= header <= total length <=
 * bytes present, header checksum), written for the packet path: the cursor bounds the
 * header once, then the validated bytes are read with the byte-order getters.
 */
static inline int parse_ip(struct nat *n, struct pkt *p, struct nat_ip *ip)
{
	const uint8_t *h;
	uint16_t tot, frag;
	size_t hl;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	if (SP_UNLIKELY(cur_need(&c, IPV4_HDR_MIN) != 0))
		goto malformed;
	h = cur_ptr(&c);
	hl = (size_t)(h[0] & 0x0f) * 4;
	tot = sp_load_be16(h + IPV4_OFF_LEN);
	if (SP_UNLIKELY((h[0] >> 4) != 4 || hl < IPV4_HDR_MIN || tot < hl || tot > cur_left(&c)))
		goto malformed;
	if (SP_UNLIKELY(hdr_sum(h, hl) != 0xffff)) {
		NAT_INC(n, DROP_IP_CSUM);
		return SP_EMALFORMED;
	}
	frag = sp_load_be16(h + IPV4_OFF_FRAG);
	ip->h = pkt_data(p);
	ip->l4 = ip->h + hl;
	ip->l4len = (uint32_t)(tot - hl);
	ip->proto = h[IPV4_OFF_PROTO];
	ip->src = sp_load_be32(h + IPV4_OFF_SRC);
	ip->dst = sp_load_be32(h + IPV4_OFF_DST);
	ip->ip_id = sp_load_be16(h + IPV4_OFF_ID);
	ip->frag_later = (frag & IPV4_FRAG_MASK) != 0;
	ip->frag_first = !ip->frag_later && (frag & IPV4_FLAG_MF) != 0;
	ip->hint = NAT_NIL;
	return 0;
malformed:
	NAT_INC(n, DROP_MALFORMED);
	return SP_EMALFORMED;
}

static inline int translate(struct nat *n, sp_time now, enum nat_side from, struct pkt *p,
			    uint32_t hint)
{
	struct nat_ip ip;

	if (parse_ip(n, p, &ip) != 0)
		return NAT_DROP;
	ip.hint = hint;
	if (n->strat->packet != NULL) {
		int v = n->strat->packet(n, n->sctx, now, from, &ip, p);

		if (v != NAT_STRAT_PASS)
			return v;
	}
	if (from == NAT_INSIDE)
		return nat_in2out(n, now, &ip, p);
	return nat_out2in(n, now, &ip, p);
}

int nat_translate(struct nat *n, sp_time now, enum nat_side from, struct pkt *p)
{
	keep_wheel(n, now);
	return translate(n, now, from, p, NAT_NIL);
}

void nat_input(struct nat *n, sp_time now, enum nat_side from, struct pkt *p)
{
	int v = nat_translate(n, now, from, p);

	if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
		if (n->env.emit != NULL) {
			n->env.emit(n->env.emit_arg, v == NAT_TO_INSIDE ? NAT_INSIDE : NAT_OUTSIDE,
				    p);
			return;
		}
		NAT_INC(n, DROP_NO_EMIT);
	}
	pkt_free(p);
}

void nat_reinject(struct nat *n, sp_time now, struct pkt *p)
{
	nat_input(n, now, NAT_INSIDE, p);
}

struct pkt *nat_clone(struct nat *n, const struct pkt *p)
{
	struct pkt *c = n->env.pool != NULL ? pkt_clone(n->env.pool, p) : NULL;

	if (c == NULL)
		NAT_INC(n, DROP_NO_BUFFER);
	return c;
}

struct pkt *nat_pkt_new(struct nat *n)
{
	struct pkt *p = n->env.pool != NULL ? pkt_alloc(n->env.pool) : NULL;

	if (p == NULL)
		NAT_INC(n, DROP_NO_BUFFER);
	return p;
}

int nat_emit(struct nat *n, enum nat_side side, struct pkt *p)
{
	if (n->env.emit == NULL) {
		NAT_INC(n, DROP_NO_EMIT);
		pkt_free(p);
		return SP_EINVAL;
	}
	n->env.emit(n->env.emit_arg, side, p);
	return 0;
}

int nat_emit_copy(struct nat *n, const struct pkt *p, uint32_t client)
{
	struct pkt *c;

	if (n->env.emit == NULL) {
		NAT_INC(n, DROP_NO_EMIT);
		return SP_EINVAL;
	}
	if ((c = nat_clone(n, p)) == NULL)
		return SP_ENOMEM;
	/* The copy is an IPv4 packet parsed once already: its header is in place. */
	ipv4_set_dst(pkt_data(c), client);
	NAT_INC(n, COPIES);
	n->env.emit(n->env.emit_arg, NAT_INSIDE, c);
	return 0;
}

void nat_tick(struct nat *n, sp_time now)
{
	n->advance_now = now;
	nat_table_advance(&n->tab, now, expire_cb, n);
	if (n->strat->tick != NULL)
		n->strat->tick(n, n->sctx, now);
}

sp_time nat_next_deadline(const struct nat *n)
{
	sp_time t = nat_table_next_deadline(&n->tab);

	if (n->strat->next_deadline != NULL)
		t = sp_time_min(t, n->strat->next_deadline(n, n->sctx));
	return t;
}

bool nat_is_global(const struct nat *n, uint32_t addr)
{
	return nat_in_pool(n, addr);
}

bool nat_takes_local(const struct nat *n)
{
	return n->strat->packet != NULL;
}

uint32_t nat_entry_bytes(const struct nat *n)
{
	return (uint32_t)(sizeof(struct nat_entry) + (uint64_t)n->tab.nix * 4 / n->tab.max);
}

uint32_t nat_entries(const struct nat *n)
{
	return n->tab.used;
}

uint64_t nat_memory(const struct nat *n)
{
	return n->tab.bytes + nat_hosts_mem(n) + sizeof(*n) + n->strat->ctx_size;
}

const struct nat_config *nat_config_of(const struct nat *n)
{
	return &n->cfg;
}

const char *nat_strategy_name(const struct nat *n)
{
	return n->strat->name;
}

uint64_t nat_counter(const struct nat *n, const char *name)
{
	for (unsigned i = 0; i < NAT_CTR_N; i++)
		if (strcmp(nat_ctr_names[i], name) == 0)
			return n->ctr[i];
	for (unsigned i = 0; i < n->strat->n_ctrs; i++)
		if (strcmp(n->strat->ctr_names[i], name) == 0)
			return n->sctr[i];
	return nat_offload_counter(n, name);
}

/*
 * The hint (nat_table_hint) of a TCP or UDP packet's mapping, from a quick look at its
 * headers, or NAT_NIL. Only a prefetch hint: nat_translate() validates everything again.
 */
static uint32_t burst_hint(const struct nat *n, enum nat_side from, const struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	struct nat_key k;
	size_t hl;

	if (p->len < IPV4_HDR_MIN + 8 || (d[0] >> 4) != 4)
		return NAT_NIL;
	hl = (size_t)(d[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_MIN || p->len < hl + 8 ||
	    (d[IPV4_OFF_PROTO] != IPV4_PROTO_UDP && d[IPV4_OFF_PROTO] != IPV4_PROTO_TCP))
		return NAT_NIL;
	if (from == NAT_INSIDE)
		nat_key_set(&k, NAT_K_IN, d[IPV4_OFF_PROTO], sp_load_be32(d + IPV4_OFF_SRC), 0,
			    sp_load_be16(d + hl));
	else
		nat_key_set(&k, NAT_K_OUT, d[IPV4_OFF_PROTO], sp_load_be32(d + IPV4_OFF_DST), 0,
			    sp_load_be16(d + hl + 2));
	return nat_table_hint(&n->tab, &k);
}

/* Packets between the prefetch of index slots, of the entry, and the work (VPP's
 * pipelines). */
#define BURST_DIST 16

void nat_translate_burst(struct nat *n, sp_time now, enum nat_side from, struct pkt **p,
			 unsigned count, uint8_t *verdicts)
{
	uint32_t b[NAT_BURST_MAX];

	keep_wheel(n, now);
	while (count > 0) {
		unsigned m = SP_MIN(count, (unsigned)NAT_BURST_MAX);

		/* Stage 1 hashes packet i and prefetches its index slots; stage 2 reads the
		 * slots of packet i - D and prefetches the entry whose tag matches; stage 3
		 * translates packet i - 2D, whose lines should have arrived by then. */
		for (unsigned i = 0; i < m + 2 * BURST_DIST; i++) {
			if (i < m && n->strat->burst_hint != NULL) {
				b[i] = n->strat->burst_hint(n, n->sctx, from, p[i]);
			} else if (i < m) {
				b[i] = burst_hint(n, from, p[i]);
				if (b[i] != NAT_NIL)
					nat_table_prefetch_ix(&n->tab, b[i]);
			}
			if (i >= BURST_DIST && i - BURST_DIST < m) {
				unsigned j = i - BURST_DIST;
				const struct nat_entry *e;

				if (b[j] != NAT_NIL && n->strat->burst_prefetch != NULL) {
					n->strat->burst_prefetch(n, n->sctx, b[j]);
				} else if (b[j] != NAT_NIL &&
					   (e = nat_table_entry_guess(&n->tab, b[j])) != NULL) {
					/* half the entries straddle two cache lines */
					__builtin_prefetch(e);
					__builtin_prefetch((const uint8_t *)(e + 1) - 1);
				}
			}
			if (i >= 2 * BURST_DIST) {
				unsigned j = i - 2 * BURST_DIST;

				/* A strategy's cookie is no hint of the table. */
				uint32_t h = n->strat->burst_hint != NULL ? NAT_NIL : b[j];

				verdicts[j] = (uint8_t)translate(n, now, from, p[j], h);
			}
		}
		p += m;
		verdicts += m;
		count -= m;
	}
}
