/*
 * Fair share of the NAT: what each inside host holds, so that one host cannot take the
 * ports, the table or the IKE and fragment state from the others (RFC 6888 REQ-4: a limit
 * on external ports per subscriber; REQ-5: a limit on state per subscriber).
 *
 * A host record counts the core entries that name an inside address: NAPT mappings by
 * protocol, IKE items and IKE peer entries, inbound fragment entries, and the ESP/AH items
 * of strategies that say whose they are (nat_strategy.h host_of). Records live in a
 * preallocated pool of max_hosts records (by default one per 4 table entries,
 * nat_config_max_hosts()), so addresses spoofed from inside cannot make the engine
 * allocate; a record exists only while it counts at least one entry. When every record
 * is taken, a host that holds none is refused its first entry (drop_host_table_full):
 * never admitted without a record, which would let it past its limits. Before refusing,
 * expired entries are reclaimed and, with table_full = evict, one entry not in use of a
 * host that holds only that entry may go, freeing its record (host_records_evicted).
 * The counts are kept
 * from the entries themselves: an entry is charged when it is made and uncharged when it
 * is freed (nat_entry_expire, nat_strat_free), with its host and kind read back from its
 * keys.
 *
 * A packet refused for a host's limit is answered with an ICMP Host Unreachable (RFC 6888
 * REQ-11 b), at most host_unreachable_rate a second per host: the host learns at once
 * that its new flow failed instead of retrying into silence, and a flooding host gets at
 * most that many packets back, never more than it sent.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"
#include "base/hash.h"
#include "proto/icmp.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

/* A host at a limit is named in the log at most this often (and all hosts together at
 * most as often as the engine's bucket allows). */
#define HOST_LOG_EVERY 10 /* seconds */

static const char *const hk_what[NAT_HK_N] = {
	[NAT_HK_UDP] = "UDP ports",	    [NAT_HK_TCP] = "TCP ports",
	[NAT_HK_ICMP] = "ICMP identifiers", [NAT_HK_IKE] = "IKE items and peers",
	[NAT_HK_FRAG] = "fragment entries", [NAT_HK_ESP] = "ESP/AH items",
};

/* Rate cells: one per 64 records, in sets of NAT_RATE_WAYS (at least 64 sets, at most
 * 16384). A host needs one only while it is refused; when every way of its set is busy
 * in this second, it gets neither an ICMP error nor a log line (bounded either way). */
static uint32_t rate_sets_for(uint32_t max)
{
	uint32_t n = 64;

	while (n < max / (64 * NAT_RATE_WAYS) && n < 16384)
		n <<= 1;
	return n;
}

int nat_hosts_init(struct nat *n)
{
	struct nat_hosts *hs = &n->hosts;
	uint32_t max = nat_config_max_hosts(&n->cfg), nr = rate_sets_for(max);
	/* the index at most 80 % full */
	uint32_t nb = (uint32_t)(((uint64_t)max * 5 / 4 + 15) / 16 * 16);

	hs->h = calloc(max, sizeof(*hs->h));
	hs->ix = malloc((size_t)nb * sizeof(uint32_t));
	hs->rate = calloc((size_t)nr * NAT_RATE_WAYS, sizeof(*hs->rate));
	if (hs->h == NULL || hs->ix == NULL || hs->rate == NULL)
		return SP_ENOMEM;
	hs->max = max;
	hs->nix = nb;
	hs->rate_mask = nr - 1;
	nat_hosts_clear(n);
	return 0;
}

void nat_hosts_fini(struct nat *n)
{
	free(n->hosts.h);
	free(n->hosts.ix);
	free(n->hosts.rate);
	memset(&n->hosts, 0, sizeof(n->hosts));
}

void nat_hosts_clear(struct nat *n)
{
	struct nat_hosts *hs = &n->hosts;

	memset(hs->h, 0, (size_t)hs->max * sizeof(*hs->h));
	memset(hs->ix, 0xff, (size_t)hs->nix * sizeof(uint32_t));
	memset(hs->rate, 0, ((size_t)hs->rate_mask + 1) * NAT_RATE_WAYS * sizeof(*hs->rate));
	for (uint32_t i = 0; i < hs->max; i++)
		hs->h[i].addr = i + 1 < hs->max ? i + 1 : NAT_NIL;
	hs->free_head = 0;
	hs->used = 0;
}

uint64_t nat_hosts_mem(const struct nat *n)
{
	return (uint64_t)n->hosts.max * sizeof(struct nat_host) +
	       (uint64_t)n->hosts.nix * sizeof(uint32_t) +
	       ((uint64_t)n->hosts.rate_mask + 1) * NAT_RATE_WAYS * sizeof(struct nat_host_rate);
}

static inline uint64_t host_hash(const struct nat *n, uint32_t addr)
{
	return sp_hash_u64(addr, n->tab.seed ^ 0x686f7374u);
}

/* The record index is open addressed too (linear probing, slots hold record numbers). */
static inline uint32_t host_home(const struct nat *n, uint32_t addr)
{
	return (uint32_t)(((host_hash(n, addr) & 0xffffffffu) * n->hosts.nix) >> 32);
}

/* The index slot of addr's record, or the empty slot where it would go. */
static uint32_t host_slot(const struct nat *n, uint32_t addr)
{
	const struct nat_hosts *hs = &n->hosts;
	uint32_t i = host_home(n, addr);

	while (hs->ix[i] != NAT_NIL && hs->h[hs->ix[i]].addr != addr)
		i = sp_probe_next(i, hs->nix);
	return i;
}

struct nat_host *nat_host_lookup(const struct nat *n, uint32_t addr)
{
	uint32_t r = n->hosts.ix[host_slot(n, addr)];

	return r == NAT_NIL ? NULL : &n->hosts.h[r];
}

/* Entries naming the host. */
static uint32_t host_total(const struct nat_host *h)
{
	uint32_t t = 0;

	for (unsigned k = 0; k < NAT_HK_N; k++)
		t += h->cnt[k];
	return t;
}

/* The home slot of a record number in the index. */
static uint32_t host_ix_home(const void *arg, uint32_t r)
{
	const struct nat *n = arg;

	return host_home(n, n->hosts.h[r].addr);
}

/* The rate cell of a host being refused at now (second sec, plus one), or NULL when its
 * set is busy with others. */
static struct nat_host_rate *host_rate(struct nat *n, uint32_t addr, uint32_t sec)
{
	struct nat_host_rate *set =
		&n->hosts.rate[((host_hash(n, addr) >> 32) & n->hosts.rate_mask) * NAT_RATE_WAYS];
	struct nat_host_rate *free = NULL;

	for (unsigned w = 0; w < NAT_RATE_WAYS; w++) {
		struct nat_host_rate *r = &set[w];

		if (r->addr == addr)
			return r;
		/* idle: nothing sent to its host this second, no line in HOST_LOG_EVERY */
		if (free == NULL && r->unreach_at != (uint16_t)sec &&
		    (r->logged == 0 || sec - r->logged >= HOST_LOG_EVERY))
			free = r;
	}
	if (free != NULL) {
		memset(free, 0, sizeof(*free));
		free->addr = addr;
	}
	return free;
}

bool nat_host_of(const struct nat *n, const struct nat_entry *e, uint32_t *addr, enum nat_hk *kind)
{
	switch (e->owner) {
	case NAT_O_NAPT:
		*addr = e->k[0].a;
		*kind = e->k[0].proto == IPV4_PROTO_UDP	  ? NAT_HK_UDP
			: e->k[0].proto == IPV4_PROTO_TCP ? NAT_HK_TCP
							  : NAT_HK_ICMP;
		return true;
	case NAT_O_IKE:
		*addr = e->k[1].a;
		*kind = NAT_HK_IKE;
		return true;
	case NAT_O_PEER:
		*addr = e->k[0].a;
		*kind = NAT_HK_IKE;
		return true;
	case NAT_O_FRAG:
		*addr = e->k[1].a;
		*kind = NAT_HK_FRAG;
		return true;
	case NAT_O_STRAT:
		*kind = NAT_HK_ESP;
		return n->strat->host_of != NULL && n->strat->host_of(n, n->sctx, e, addr);
	default:
		return false;
	}
}

static uint32_t kind_limit(const struct nat *n, enum nat_hk kind)
{
	switch (kind) {
	case NAT_HK_IKE:
		return n->cfg.host_max_ike;
	case NAT_HK_FRAG:
		return n->cfg.host_max_frags;
	case NAT_HK_ESP:
		return n->cfg.host_max_esp;
	default:
		return n->cfg.host_max_ports;
	}
}

static const char *limit_key(enum nat_hk kind, bool total)
{
	if (total)
		return "host_max_entries";
	return kind == NAT_HK_IKE    ? "host_max_ike"
	       : kind == NAT_HK_FRAG ? "host_max_fragments"
	       : kind == NAT_HK_ESP  ? "host_max_esp"
				     : "host_max_ports";
}

static void host_log(struct nat *n, sp_time now, struct nat_host *h, enum nat_hk kind, bool total)
{
	uint32_t sec = (uint32_t)(now / SP_SEC(1)) + 1;
	struct nat_host_rate *r = host_rate(n, h->addr, sec);
	char a[SP_IP4_STRLEN];

	if (r == NULL) {
		NAT_INC(n, HOST_LOG_SUPPRESSED);
		return;
	}
	if (r->logged != 0 && sec - r->logged < HOST_LOG_EVERY)
		return;
	r->logged = sec;
	sp_logf_rl(n->env.log, &n->host_rl, now, SP_LOG_WARN, "nat",
		   "%s: inside host %s reached %s = %u; new %s refused", n->name,
		   sp_ip4_fmt(h->addr, a), limit_key(kind, total),
		   total ? n->cfg.host_max_entries : kind_limit(n, kind),
		   total ? "entries" : hk_what[kind]);
}

struct victim_arg {
	const struct nat *n;
	uint32_t host;
};

static bool evictable(void *arg, const struct nat_entry *e);

/* An entry not in use whose host holds nothing else: evicting it frees a record. */
static bool lone_evictable(void *arg, const struct nat_entry *e)
{
	const struct victim_arg *va = arg;
	const struct nat_host *h;
	enum nat_hk kind;
	uint32_t addr;

	return evictable(arg, e) && nat_host_of(va->n, e, &addr, &kind) &&
	       (h = nat_host_lookup(va->n, addr)) != NULL && host_total(h) == 1;
}

/* A host without a record asks for its first entry: is there a record for it? */
static bool record_free(struct nat *n, sp_time now)
{
	struct victim_arg va = { n, 0 };
	uint32_t victim;

	if (n->hosts.used < n->hosts.max)
		return true;
	nat_reclaim(n, now);
	if (n->hosts.used < n->hosts.max)
		return true;
	if (n->cfg.full_mode == NAT_FULL_EVICT &&
	    (victim = nat_table_oldest_if(&n->tab, lone_evictable, &va, NAT_EVICT_SCAN)) !=
		    NAT_NIL) {
		nat_entry_expire(n, victim);
		NAT_INC(n, EVICTED);
		NAT_INC(n, HOST_EVICTED);
		if (n->hosts.used < n->hosts.max)
			return true;
	}
	NAT_INC(n, DROP_HOST_TABLE_FULL);
	sp_logf_rl(n->env.log, &n->host_rl, now, SP_LOG_WARN, "nat",
		   "%s: all max_hosts = %u host records in use; new inside hosts refused", n->name,
		   n->hosts.max);
	return false;
}

bool nat_host_admit(struct nat *n, sp_time now, uint32_t addr, enum nat_hk kind)
{
	struct nat_host *h = nat_host_lookup(n, addr);

	if (h == NULL) /* holds nothing: every limit is at least 1, but it needs a record */
		return record_free(n, now);
	if (h->cnt[kind] >= kind_limit(n, kind) || host_total(h) >= n->cfg.host_max_entries) {
		/* Expired entries are counted until the wheel reclaims them: do that now. */
		nat_reclaim(n, now);
		if ((h = nat_host_lookup(n, addr)) == NULL)
			return true;
	}
	if (h->cnt[kind] >= kind_limit(n, kind)) {
		switch (kind) {
		case NAT_HK_IKE:
			NAT_INC(n, DROP_HOST_IKE);
			break;
		case NAT_HK_FRAG:
			NAT_INC(n, HOST_FRAGS_REFUSED);
			break;
		case NAT_HK_ESP:
			NAT_INC(n, DROP_HOST_ESP);
			break;
		default:
			NAT_INC(n, DROP_HOST_PORTS);
			break;
		}
		host_log(n, now, h, kind, false);
		return false;
	}
	if (host_total(h) >= n->cfg.host_max_entries) {
		NAT_INC(n, DROP_HOST_ENTRIES);
		host_log(n, now, h, kind, true);
		return false;
	}
	return true;
}

void nat_host_charge(struct nat *n, uint32_t addr, enum nat_hk kind)
{
	struct nat_hosts *hs = &n->hosts;
	uint32_t slot = host_slot(n, addr), r = hs->ix[slot];

	if (r == NAT_NIL) {
		r = hs->free_head;
		/* Cannot happen: nat_host_admit() found a free record just before. */
		if (SP_UNLIKELY(r == NAT_NIL))
			return;
		hs->free_head = hs->h[r].addr;
		memset(&hs->h[r], 0, sizeof(hs->h[r]));
		hs->h[r].addr = addr;
		hs->ix[slot] = r;
		hs->used++;
	}
	hs->h[r].cnt[kind]++;
}

void nat_host_uncharge(struct nat *n, const struct nat_entry *e)
{
	struct nat_hosts *hs = &n->hosts;
	enum nat_hk kind;
	uint32_t addr, slot, r;

	if (!nat_host_of(n, e, &addr, &kind))
		return;
	slot = host_slot(n, addr);
	if ((r = hs->ix[slot]) == NAT_NIL)
		return;
	if (hs->h[r].cnt[kind] > 0)
		hs->h[r].cnt[kind]--;
	if (host_total(&hs->h[r]) == 0) {
		sp_probe_remove(hs->ix, hs->nix, slot, host_ix_home, n);
		hs->h[r].addr = hs->free_head;
		hs->free_head = r;
		hs->used--;
	}
}

/* RFC 6888 REQ-11 d: an established mapping is not deleted to make room for a new one.
 * A host may give up its own entries; another host's only while they are not in use
 * yet (unanswered mappings, outstanding IKE items, unanswered IKE peers, fragments). */

static bool evictable(void *arg, const struct nat_entry *e)
{
	const struct victim_arg *va = arg;
	enum nat_hk kind;
	uint32_t addr;

	if (e->owner == NAT_O_STRAT || !nat_host_of(va->n, e, &addr, &kind))
		return false; /* a strategy's item: its state is the strategy's */
	if (va->host != 0 && addr == va->host)
		return true;
	switch (e->owner) {
	case NAT_O_NAPT:
		if (e->k[0].proto == IPV4_PROTO_TCP)
			return !(e->state & NAT_TCP_EST) ||
			       (e->state & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN | NAT_TCP_RST));
		return !(e->state & NAT_NAPT_REPLIED);
	case NAT_O_IKE:
	case NAT_O_PEER:
		return e->state == 0; /* outstanding item, peer never answered */
	default:
		return true; /* fragments */
	}
}

uint32_t nat_host_victim(const struct nat *n, uint32_t host)
{
	struct victim_arg va = { n, host };

	return nat_table_oldest_if(&n->tab, evictable, &va, NAT_EVICT_SCAN);
}

/* RFC 1122 3.2.2 and RFC 1812 4.3.2.7: no ICMP error about an ICMP error, a fragment
 * other than the first, or a packet to or from a multicast or broadcast address (a host
 * whose address is 0 has none to be told at). */
static bool unreach_allowed(const uint8_t *orig, size_t len)
{
	size_t hl;
	uint32_t src, dst;

	if (len < IPV4_HDR_MIN)
		return false;
	hl = (size_t)(orig[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_MIN || hl + 8 > len)
		return false;
	if ((sp_load_be16(orig + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0)
		return false;
	src = sp_load_be32(orig + IPV4_OFF_SRC);
	dst = sp_load_be32(orig + IPV4_OFF_DST);
	if (src == 0 || src >= 0xe0000000u || dst >= 0xe0000000u)
		return false;
	if (orig[9] == IPV4_PROTO_ICMP && icmp_is_error(orig[hl]))
		return false;
	return true;
}

void nat_host_unreach(struct nat *n, sp_time now, uint32_t host, const uint8_t *orig, size_t len)
{
	uint32_t sec32 = (uint32_t)(now / SP_SEC(1)) + 1;
	uint16_t sec = (uint16_t)sec32;
	struct nat_host_rate *h;
	struct ipv4_hdr ih = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_ICMP };
	struct pkt *p;

	if (n->cfg.host_unreach_rate == 0 || !unreach_allowed(orig, len))
		return;
	if (nat_host_lookup(n, host) == NULL)
		return; /* a refusal is for a host that holds entries */
	if ((h = host_rate(n, host, sec32)) == NULL) {
		NAT_INC(n, HOST_UNREACH_LIMITED);
		return;
	}
	if (h->unreach_at != sec) {
		h->unreach_at = sec;
		h->unreach_n = 0;
	}
	if (h->unreach_n >= n->cfg.host_unreach_rate) {
		NAT_INC(n, HOST_UNREACH_LIMITED);
		return;
	}
	if ((p = nat_pkt_new(n)) == NULL)
		return;
	/* From the global address the host's packets leave by: the NAT's own address. */
	ih.ip_src = nat_global_for(n, host);
	ih.ip_dst = host;
	if (icmp_build_error(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, orig, len) != 0 ||
	    ipv4_build(p, &ih, NULL, 0) != 0) {
		pkt_free(p);
		NAT_INC(n, DROP_NO_BUFFER);
		return;
	}
	h->unreach_n++;
	if (nat_emit(n, NAT_INSIDE, p) == 0)
		NAT_INC(n, HOST_UNREACH_SENT);
}

uint32_t nat_strat_alloc_for(struct nat *n, sp_time now, uint32_t client, const struct pkt *p)
{
	if (!nat_host_admit(n, now, client, NAT_HK_ESP)) {
		if (p != NULL)
			nat_host_unreach(n, now, client, pkt_data(p), p->len);
		return NAT_NIL;
	}
	return nat_alloc(n, NAT_O_STRAT, now, client);
}

void nat_strat_charge(struct nat *n, uint32_t idx)
{
	const struct nat_entry *e = nat_entry_at(&n->tab, idx);
	enum nat_hk kind;
	uint32_t addr;

	if (nat_host_of(n, e, &addr, &kind))
		nat_host_charge(n, addr, kind);
}

void nat_strat_free(struct nat *n, uint32_t idx)
{
	struct nat_entry *e = nat_entry_at(&n->tab, idx);

	if (e->owner == NAT_O_STRAT)
		nat_host_uncharge(n, e);
	nat_table_free(&n->tab, idx);
}

bool nat_strat_item_host(const struct nat *n, const void *ctx, const struct nat_entry *e,
			 uint32_t *host)
{
	(void)n;
	(void)ctx;
	if (e->k[0].kind != NAT_K_STRAT)
		return false;
	*host = e->k[0].a;
	return true;
}
