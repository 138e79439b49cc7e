/*
 * dnat: 002's distributed NAT router. Hosts ask the router for blocks of locally unique
 * ports and SPIs with PAP (proto/pap.h), send with the router's global address and those
 * ports themselves, and reach the router through virtual IP-in-IP tunnels (RFC 2003
 * framing, 002 Tables 3, 5, 8, 11). The router translates nothing:
 *   outbound  a tunnel packet to the router's inside address: the inner source must be the
 *             global address and its port (TCP/UDP, ICMP echo id) one of the outer
 *             source's blocks (002 "examines the source port and the outer IP source
 *             address to ensure a network device is using a valid locally unique port");
 *             the outer header is stripped and the inner packet forwarded unchanged.
 *   inbound   the destination port (FIG. 12's IAPTT, then FIG. 8's blocks) or the SPI of
 *             the outermost ESP/AH header (FIG. 21) names the host; a tunnel header from
 *             the router to it is prepended. Unknown ports and SPIs are dropped, counted.
 *   PAP       requests are answered in place (a smaller block when no block of the asked
 *             size is free, 002 FIG. 5 text); a host invalidates only its own blocks; a
 *             started or reset router announces to every address of dnat_hosts that all
 *             blocks are invalid (002 "invalidate all locally unique ports in use upon
 *             reboot"), paced per tick.
 * Outbound ESP/AH carry the peer's SPI, which the router cannot check (002 "for outgoing
 * SAs, a SPI is selected by the remote network device"): only their inner source is.
 *
 * State: blocks in a fixed array (dnat_max_blocks), a port -> block map, the SPI blocks
 * sorted by lowest SPI for a binary search, and one table entry per block (shown by
 * `spinat show nat`, never expiring) and per IAPTT row (FIG. 12: port, internal address,
 * protocol, a millisecond timestamp refreshed on every use; expires after
 * dnat_iaptt_timeout of disuse), found through a flat (protocol, port) array so the
 * packet path never hashes.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"
#include "base/conf.h"
#include "proto/icmp.h"
#include "proto/pap.h"

#include <stdlib.h>
#include <string.h>

#define ROW_PORTS 1
#define ROW_SPIS  2
#define ROW_IAPTT 3

#define NO_BLOCK	  0xffffu
#define IAPTT_PROTOS	  3	 /* TCP, UDP, ICMP echo */
#define SPI_MAP		  65536u /* SPIs from spi_min found by a flat array */
#define MAX_BLOCKS_LIMIT  0xfff0u
#define HOSTS_PREFIX_MIN  20 /* at most 4094 hosts get restart announcements */
#define ANNOUNCE_PER_TICK 64
#define TUNNEL_TTL	  64

#define foreach_dnat_ctr(_)                                                 \
	_(OUT, "dnat_tunnel_out")                                           \
	_(IN, "dnat_tunnel_in")                                             \
	_(OUT_IPSEC, "dnat_tunnel_out_ipsec")                               \
	_(IN_IPSEC, "dnat_tunnel_in_ipsec")                                 \
	_(IAPTT_CREATED, "dnat_iaptt_created")                              \
	_(PAP_PORTS_GRANTED, "dnat_pap_port_blocks_granted")                \
	_(PAP_PORTS_SMALLER, "dnat_pap_port_blocks_smaller")                \
	_(PAP_SPIS_GRANTED, "dnat_pap_spi_blocks_granted")                  \
	_(PAP_SPIS_SMALLER, "dnat_pap_spi_blocks_smaller")                  \
	_(PAP_INVALIDATED, "dnat_pap_blocks_invalidated")                   \
	_(PAP_ANNOUNCED, "dnat_pap_restart_invalidations_sent")             \
	_(PAP_REFUSED_EXHAUSTED, "dnat_pap_refused_exhausted")              \
	_(PAP_REFUSED_HOST_LIMIT, "dnat_pap_refused_host_limit")            \
	_(PAP_REFUSED_TABLE, "dnat_pap_refused_table_full")                 \
	_(PAP_REFUSED_ZERO, "dnat_pap_refused_zero_count")                  \
	_(DROP_PAP_MALFORMED, "dnat_drop_pap_malformed")                    \
	_(DROP_PAP_CSUM, "dnat_drop_pap_checksum")                          \
	_(DROP_PAP_NOT_HOST, "dnat_drop_pap_not_a_host")                    \
	_(DROP_PAP_FORGED_INVALIDATE, "dnat_drop_pap_invalidate_not_owner") \
	_(DROP_PAP_UNKNOWN_INVALIDATE, "dnat_drop_pap_invalidate_unknown")  \
	_(DROP_PAP_CERTIFIED, "dnat_drop_pap_invalidate_certified")         \
	_(PAP_REGRANTED, "dnat_pap_certified_block_regranted")              \
	_(PAP_REVOKED, "dnat_pap_revocation_invalidations_sent")            \
	_(DROP_NOT_TUNNELLED, "dnat_drop_not_tunnelled")                    \
	_(DROP_TO_ROUTER, "dnat_drop_to_router_other")                      \
	_(DROP_INNER_MALFORMED, "dnat_drop_inner_malformed")                \
	_(DROP_INNER_SRC, "dnat_drop_inner_src_not_global")                 \
	_(DROP_INNER_DST, "dnat_drop_inner_dst_inside")                     \
	_(DROP_PORT_NOT_OWNED, "dnat_drop_port_not_owned")                  \
	_(DROP_UNKNOWN_PORT, "dnat_drop_unknown_port")                      \
	_(DROP_UNKNOWN_SPI, "dnat_drop_unknown_spi")                        \
	_(DROP_NOT_GLOBAL, "dnat_drop_dst_not_global")                      \
	_(DROP_FRAGMENT, "dnat_drop_fragment")                              \
	_(DROP_PROTO, "dnat_drop_protocol")                                 \
	_(DROP_ICMP, "dnat_drop_icmp_type")                                 \
	_(DROP_HEADROOM, "dnat_drop_no_headroom")                           \
	_(DROP_TOO_BIG, "dnat_drop_too_big")

enum dnat_ctr {
#define _(sym, str) DNAT_CTR_##sym,
	foreach_dnat_ctr(_)
#undef _
		DNAT_CTR_N
};

static const char *const dnat_ctr_names[] = { SP_CTR_NAMES(foreach_dnat_ctr) };

struct dnat_params {
	uint32_t router;      /* the router's inside address: tunnel end, PAP server */
	uint32_t hosts_net;   /* who may ask; who hears the restart announcement */
	uint8_t hosts_len;    /* prefix length */
	bool announce;	      /* invalidate every block on start and reset */
	bool iaptt;	      /* keep FIG. 12's per-use rows (else FIG. 8 blocks only) */
	uint16_t low_min;     /* code 0 blocks: [low_min, low_max] */
	uint16_t low_max;     /* below PAP_PORT_SPLIT */
	uint16_t high_min;    /* code 1 blocks: [high_min, high_max] */
	uint16_t high_max;    /* from PAP_PORT_SPLIT */
	uint32_t spi_min;     /* SPI blocks: [spi_min, spi_max] */
	uint32_t spi_max;     /* */
	uint32_t spi_block;   /* most SPIs one request is granted */
	uint32_t max_blocks;  /* port and SPI blocks together */
	uint32_t host_blocks; /* per host */
	sp_time iaptt_timeout;
};
_Static_assert(sizeof(struct dnat_params) <= NAT_SPARAMS_SIZE, "params fit");

struct dnat_block {
	uint32_t host;
	uint32_t lowest;
	uint32_t count; /* 0: slot free */
	uint32_t entry; /* the table entry that shows it */
	bool spi;
	bool certified; /* bound to a valid certificate: kept (nat_dnat_certify) */
	bool released;	/* certified, and its host gave it back: its next request gets it */
};

struct dnat_ctx {
	struct dnat_block *blk;	  /* max_blocks slots */
	uint32_t nblk;		  /* slots in use */
	uint16_t *port_blk;	  /* 65536: block slot of each port, NO_BLOCK */
	uint16_t *spi_sorted;	  /* slots of the SPI blocks, by lowest SPI */
	uint32_t (*iaptt)[65536]; /* IAPTT row of (protocol slot, port), NAT_NIL */
	uint32_t nspi;
	uint16_t *spi_map; /* SPI_MAP: block slot of spi_base + i, NO_BLOCK */
	uint32_t spi_base; /* spi_min */
	bool announcing;   /* restart invalidations still to send */
	uint32_t announce_next;
};

static void dnat_defaults(void *params)
{
	struct dnat_params *p = params;

	/* 002 FIG. 1: router 10.0.0.7 on 10.0.0.x; FIG. 8's first block starts at 1026,
	 * FIG. 21's at SPI 280. */
	p->router = 0x0a000007u;
	p->hosts_net = 0x0a000000u;
	p->hosts_len = 24;
	p->announce = true;
	p->iaptt = true;
	p->low_min = 1026;
	p->low_max = PAP_PORT_SPLIT - 1;
	p->high_min = PAP_PORT_SPLIT;
	p->high_max = 65535;
	p->spi_min = 280;
	p->spi_max = 0xffffffffu;
	p->spi_block = 256;
	p->max_blocks = 1024;
	p->host_blocks = 8;
	p->iaptt_timeout = SP_SEC(300);
}

static int read_range(struct conf_sec *s, const char *key, uint32_t min, uint32_t max, uint32_t *lo,
		      uint32_t *hi)
{
	unsigned long long a, b;
	const char *v;
	char tail;
	int r;

	if ((r = conf_get_str(s, key, NULL, &v)) != 0 || v == NULL)
		return r;
	if (sscanf(v, "%llu-%llu%c", &a, &b, &tail) != 2 || a < min || a > b || b > max)
		return conf_fail(s, "%s: expected LOW-HIGH within %u-%u, got '%s'", key, min, max,
				 v);
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

static int dnat_conf(struct conf_sec *s, void *params)
{
	struct dnat_params *p = params;
	uint32_t lo = p->low_min, hi = p->low_max, hlo = p->high_min, hhi = p->high_max;
	const char *hosts;
	int r;

	if ((r = conf_get_ip4(s, "dnat_router", p->router, &p->router)) != 0 ||
	    (r = conf_get_str(s, "dnat_hosts", NULL, &hosts)) != 0 ||
	    (r = conf_get_bool(s, "dnat_restart_invalidate", p->announce, &p->announce)) != 0 ||
	    (r = conf_get_bool(s, "dnat_iaptt", p->iaptt, &p->iaptt)) != 0 ||
	    (r = read_range(s, "dnat_ports_low", 1, PAP_PORT_SPLIT - 1, &lo, &hi)) != 0 ||
	    (r = read_range(s, "dnat_ports_high", PAP_PORT_SPLIT, 65535, &hlo, &hhi)) != 0 ||
	    (r = read_range(s, "dnat_spis", PAP_SPI_MIN, 0xffffffffu, &p->spi_min, &p->spi_max)) !=
		    0 ||
	    (r = conf_get_u32(s, "dnat_spi_block_max", p->spi_block, 1, 65535, &p->spi_block)) !=
		    0 ||
	    (r = conf_get_u32(s, "dnat_max_blocks", p->max_blocks, 1, MAX_BLOCKS_LIMIT,
			      &p->max_blocks)) != 0 ||
	    (r = conf_get_u32(s, "dnat_host_blocks", p->host_blocks, 1, MAX_BLOCKS_LIMIT,
			      &p->host_blocks)) != 0 ||
	    (r = nat_conf_time(s, "dnat_iaptt_timeout", p->iaptt_timeout, &p->iaptt_timeout)) != 0)
		return r;
	p->low_min = (uint16_t)lo;
	p->low_max = (uint16_t)hi;
	p->high_min = (uint16_t)hlo;
	p->high_max = (uint16_t)hhi;
	if (hosts != NULL) {
		if (sp_ip4_prefix_parse(hosts, &p->hosts_net, &p->hosts_len, true) != 0 ||
		    p->hosts_len < HOSTS_PREFIX_MIN || p->hosts_len > 30)
			return conf_fail(s, "dnat_hosts: expected a prefix /%d to /30, got '%s'",
					 HOSTS_PREFIX_MIN, hosts);
	}
	if (p->iaptt_timeout == 0)
		return conf_fail(s, "dnat_iaptt_timeout must be positive");
	return 0;
}

static void clear_maps(const struct dnat_params *par, struct dnat_ctx *c)
{
	memset(c->blk, 0, sizeof(*c->blk) * par->max_blocks);
	memset(c->port_blk, 0xff, sizeof(*c->port_blk) * 65536);
	memset(c->iaptt, 0xff, sizeof(*c->iaptt) * IAPTT_PROTOS);
	memset(c->spi_map, 0xff, sizeof(*c->spi_map) * SPI_MAP);
	c->spi_base = par->spi_min;
	c->nblk = 0;
	c->nspi = 0;
	c->announcing = par->announce;
	c->announce_next = 0;
}

static int dnat_init(struct nat *n, void *ctx)
{
	const struct dnat_params *par = nat_sparams(n);
	struct dnat_ctx *c = ctx;

	c->blk = calloc(par->max_blocks, sizeof(*c->blk));
	c->port_blk = calloc(65536, sizeof(*c->port_blk));
	c->spi_sorted = calloc(par->max_blocks, sizeof(*c->spi_sorted));
	c->iaptt = calloc(IAPTT_PROTOS, sizeof(*c->iaptt));
	c->spi_map = calloc(SPI_MAP, sizeof(*c->spi_map));
	if (c->blk == NULL || c->port_blk == NULL || c->spi_sorted == NULL || c->iaptt == NULL ||
	    c->spi_map == NULL)
		return SP_ENOMEM;
	clear_maps(par, c);
	return 0;
}

static void dnat_fini(struct nat *n, void *ctx)
{
	struct dnat_ctx *c = ctx;

	(void)n;
	free(c->blk);
	free(c->port_blk);
	free(c->spi_sorted);
	free(c->iaptt);
	free(c->spi_map);
}

/* Mark [first, first + count) in the SPI map as slot (or NO_BLOCK). */
static void spi_map_set(struct dnat_ctx *c, uint32_t first, uint32_t count, uint16_t slot)
{
	for (uint64_t v = first; v < (uint64_t)first + count; v++)
		if (v - c->spi_base < SPI_MAP)
			c->spi_map[v - c->spi_base] = slot;
}

static void dnat_reset(struct nat *n, void *ctx)
{
	clear_maps(nat_sparams(n), ctx);
}

static bool is_host(const struct dnat_params *par, uint32_t a)
{
	uint32_t m = sp_ip4_mask(par->hosts_len);

	return sp_ip4_in_prefix(a, par->hosts_net, par->hosts_len) && a != par->router &&
	       (a & ~m) != 0 && (a & ~m) != ~m;
}

/* Blocks. */

static uint32_t host_blocks(const struct dnat_ctx *c, const struct dnat_params *par, uint32_t h)
{
	uint32_t cnt = 0;

	for (uint32_t i = 0; i < par->max_blocks; i++)
		cnt += c->blk[i].count != 0 && c->blk[i].host == h;
	return cnt;
}

/* The SPI block holding spi, or NO_BLOCK (binary search of the sorted blocks). */
static uint32_t spi_lookup(const struct dnat_ctx *c, uint32_t spi)
{
	uint32_t lo = 0, hi = c->nspi;

	/* First fit keeps blocks near spi_min: the first SPI_MAP SPIs are one load. */
	if (spi - c->spi_base < SPI_MAP)
		return c->spi_map[spi - c->spi_base];
	if (spi < c->spi_base)
		return NO_BLOCK;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct dnat_block *b = &c->blk[c->spi_sorted[mid]];

		if (spi < b->lowest)
			hi = mid;
		else if (spi - b->lowest >= b->count)
			lo = mid + 1;
		else
			return c->spi_sorted[mid];
	}
	return NO_BLOCK;
}

static uint32_t port_lookup(const struct dnat_ctx *c, uint16_t port)
{
	return c->port_blk[port];
}

/*
 * The first run of want free ports in [lo, hi], or else the longest shorter one (002: "it
 * may send a PAP response with a success code, but allocate fewer"); false when none.
 */
static bool find_ports(const struct dnat_ctx *c, uint32_t lo, uint32_t hi, uint32_t want,
		       uint32_t *first, uint32_t *got)
{
	uint32_t best = 0, best_at = 0, run = 0;

	for (uint32_t p = lo; p <= hi; p++) {
		if (c->port_blk[p] != NO_BLOCK) {
			run = 0;
			continue;
		}
		if (++run > best) {
			best = run;
			best_at = p + 1 - run;
			if (best == want)
				break;
		}
	}
	*first = best_at;
	*got = best;
	return best > 0;
}

/* The same over the gaps between the sorted SPI blocks. */
static bool find_spis(const struct dnat_ctx *c, uint32_t lo, uint32_t hi, uint32_t want,
		      uint32_t *first, uint32_t *got)
{
	uint64_t at = lo, best = 0, best_at = 0;

	for (uint32_t i = 0; i <= c->nspi; i++) {
		uint64_t end = i < c->nspi ? c->blk[c->spi_sorted[i]].lowest : (uint64_t)hi + 1;
		uint64_t gap = end > at ? end - at : 0;

		if (gap > best) {
			best = gap;
			best_at = at;
		}
		if (best >= want) {
			best = want;
			break;
		}
		if (i < c->nspi)
			at = SP_MAX(at, (uint64_t)c->blk[c->spi_sorted[i]].lowest +
						c->blk[c->spi_sorted[i]].count);
	}
	*first = (uint32_t)best_at;
	*got = (uint32_t)best;
	return best > 0;
}

static uint32_t free_slot(const struct dnat_ctx *c, const struct dnat_params *par)
{
	for (uint32_t i = 0; i < par->max_blocks; i++)
		if (c->blk[i].count == 0)
			return i;
	return NO_BLOCK;
}

/* Record a granted block: its slot, the port map or the sorted SPI list, a show entry. */
static int add_block(struct nat *n, struct dnat_ctx *c, sp_time now, uint32_t slot, uint32_t host,
		     bool spi, uint32_t first, uint32_t count)
{
	struct nat_table *t = nat_table_of(n);
	struct dnat_block *b = &c->blk[slot];
	struct nat_entry *e;
	uint32_t idx;

	/* Blocks are never put on the timer wheel, so a full table never evicts one. */
	if ((idx = nat_strat_alloc(n, now)) == NAT_NIL)
		return SP_EFULL;
	e = nat_entry_at(t, idx);
	nat_key_set(&e->k[0], NAT_K_NONE, IPV4_PROTO_IPIP, host, 0, first);
	nat_key_set(&e->k[1], NAT_K_NONE, 0, nat_config_of(n)->pool[0], 0, count);
	e->state = spi ? ROW_SPIS : ROW_PORTS;
	e->aux = slot;
	e->exp_ms = NAT_EXP_NEVER;
	*b = (struct dnat_block){ host, first, count, idx, spi, false };
	c->nblk++;
	if (spi) {
		uint32_t i = c->nspi;

		while (i > 0 && c->blk[c->spi_sorted[i - 1]].lowest > first) {
			c->spi_sorted[i] = c->spi_sorted[i - 1];
			i--;
		}
		c->spi_sorted[i] = (uint16_t)slot;
		c->nspi++;
		spi_map_set(c, first, count, (uint16_t)slot);
	} else {
		for (uint32_t p = first; p < first + count; p++)
			c->port_blk[p] = (uint16_t)slot;
	}
	return 0;
}

/* The IAPTT rows are indexed by a flat array per protocol: one load on the packet path. */
static int iaptt_slot(uint8_t proto)
{
	switch (proto) {
	case IPV4_PROTO_TCP:
		return 0;
	case IPV4_PROTO_UDP:
		return 1;
	case IPV4_PROTO_ICMP:
		return 2;
	default:
		return -1;
	}
}

static void iaptt_forget(struct nat *n, struct dnat_ctx *c, uint16_t port)
{
	for (int s = 0; s < IAPTT_PROTOS; s++) {
		if (c->iaptt[s][port] != NAT_NIL)
			nat_table_free(nat_table_of(n), c->iaptt[s][port]);
		c->iaptt[s][port] = NAT_NIL;
	}
}

static void del_block(struct nat *n, struct dnat_ctx *c, uint32_t slot)
{
	struct dnat_block *b = &c->blk[slot];

	if (b->spi) {
		uint32_t i = 0;

		while (i < c->nspi && c->spi_sorted[i] != slot)
			i++;
		for (; i + 1 < c->nspi; i++)
			c->spi_sorted[i] = c->spi_sorted[i + 1];
		c->nspi--;
		spi_map_set(c, b->lowest, b->count, NO_BLOCK);
	} else {
		for (uint32_t p = b->lowest; p < b->lowest + b->count; p++) {
			c->port_blk[p] = NO_BLOCK;
			iaptt_forget(n, c, (uint16_t)p);
		}
	}
	nat_table_free(nat_table_of(n), b->entry);
	memset(b, 0, sizeof(*b));
	c->nblk--;
}

/* PAP server. */

/* Turn the request packet into the router's answer to its sender, in place. */
static int answer(struct nat *n, struct nat_ip *ip, struct pkt *p, const struct pap_msg *m)
{
	uint32_t hl = (uint32_t)(ip->l4 - ip->h), len = (uint32_t)pap_len(m->pap_kind);
	uint32_t host = ip->src;
	struct wcur w;

	(void)n;
	if (pkt_trim(p, hl) != 0 || pkt_put(p, len) == NULL)
		return SP_ENOSPACE;
	wcur_init(&w, pkt_data(p) + hl, len);
	if (pap_build(&w, m) != 0)
		return SP_EINVAL;
	sp_store_be16(ip->h + IPV4_OFF_LEN, (uint16_t)(hl + len));
	sp_store_be16(ip->h + IPV4_OFF_FRAG, 0);
	ip->h[IPV4_OFF_TTL] = TUNNEL_TTL;
	sp_store_be32(ip->h + IPV4_OFF_SRC, ip->dst);
	sp_store_be32(ip->h + IPV4_OFF_DST, host);
	ipv4_set_csum(ip->h, hl);
	return 0;
}

static void grant(struct nat *n, struct dnat_ctx *c, sp_time now, uint32_t host,
		  const struct pap_msg *req, struct pap_msg *resp)
{
	const struct dnat_params *par = nat_sparams(n);
	bool spi = req->pap_kind == PAP_SPI_REQUEST;
	uint32_t want = req->pap_count, first = 0, got = 0, slot;
	bool ok;

	if (spi)
		pap_spi_response(resp, false, 0, 0);
	else
		pap_port_response(resp, false, 0, 0);
	if (want == 0) {
		nat_sctr_inc(n, DNAT_CTR_PAP_REFUSED_ZERO, 1);
		return;
	}
	/* A certified block its host gave back (a restarted host) is what the host gets
	 * when it asks again: the certificate still binds it (002 [0683]). */
	for (uint32_t i = 0; !spi && i < par->max_blocks; i++) {
		struct dnat_block *b = &c->blk[i];

		if (b->count == 0 || b->host != host || b->spi || !b->released ||
		    (b->lowest >= PAP_PORT_SPLIT) != (req->pap_code == PAP_CODE_HIGH))
			continue;
		b->released = false;
		pap_port_response(resp, true, (uint16_t)b->lowest, (uint8_t)b->count);
		nat_sctr_inc(n, DNAT_CTR_PAP_REGRANTED, 1);
		return;
	}
	if (host_blocks(c, par, host) >= par->host_blocks) {
		nat_sctr_inc(n, DNAT_CTR_PAP_REFUSED_HOST_LIMIT, 1);
		return;
	}
	if ((slot = free_slot(c, par)) == NO_BLOCK) {
		nat_sctr_inc(n, DNAT_CTR_PAP_REFUSED_TABLE, 1);
		return;
	}
	if (spi)
		ok = find_spis(c, par->spi_min, par->spi_max, SP_MIN(want, par->spi_block), &first,
			       &got);
	else if (req->pap_code == PAP_CODE_HIGH)
		ok = find_ports(c, par->high_min, par->high_max, want, &first, &got);
	else
		ok = find_ports(c, par->low_min, par->low_max, want, &first, &got);
	if (!ok) {
		nat_sctr_inc(n, DNAT_CTR_PAP_REFUSED_EXHAUSTED, 1);
		return;
	}
	if (add_block(n, c, now, slot, host, spi, first, got) != 0) {
		nat_sctr_inc(n, DNAT_CTR_PAP_REFUSED_TABLE, 1);
		return;
	}
	if (spi) {
		pap_spi_response(resp, true, first, (uint16_t)got);
		nat_sctr_inc(n, got < want ? DNAT_CTR_PAP_SPIS_SMALLER : DNAT_CTR_PAP_SPIS_GRANTED,
			     1);
	} else {
		pap_port_response(resp, true, (uint16_t)first, (uint8_t)got);
		nat_sctr_inc(
			n, got < want ? DNAT_CTR_PAP_PORTS_SMALLER : DNAT_CTR_PAP_PORTS_GRANTED, 1);
	}
}

/* A host's invalidation: its own block holding the value, or with value 0 all its blocks
 * of that kind; never another host's, never a certified one (002: ports bound to a valid
 * certificate are not de-allocated). */
static int invalidate(struct nat *n, struct dnat_ctx *c, uint32_t host, bool spi, uint32_t value)
{
	const struct dnat_params *par = nat_sparams(n);
	uint32_t slot;

	if (value == 0) {
		for (uint32_t i = 0; i < par->max_blocks; i++) {
			struct dnat_block *b = &c->blk[i];

			if (b->count == 0 || b->host != host || b->spi != spi)
				continue;
			if (b->certified) {
				b->released = true;
				nat_sctr_inc(n, DNAT_CTR_DROP_PAP_CERTIFIED, 1);
				continue;
			}
			del_block(n, c, i);
			nat_sctr_inc(n, DNAT_CTR_PAP_INVALIDATED, 1);
		}
		return NAT_TAKEN;
	}
	slot = spi		 ? spi_lookup(c, value)
	       : value <= 0xffff ? port_lookup(c, (uint16_t)value)
				 : NO_BLOCK;
	if (slot == NO_BLOCK) {
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_UNKNOWN_INVALIDATE, 1);
		return NAT_DROP;
	}
	if (c->blk[slot].host != host) {
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_FORGED_INVALIDATE, 1);
		return NAT_DROP;
	}
	if (c->blk[slot].certified) {
		c->blk[slot].released = true;
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_CERTIFIED, 1);
		return NAT_DROP;
	}
	del_block(n, c, slot);
	nat_sctr_inc(n, DNAT_CTR_PAP_INVALIDATED, 1);
	return NAT_TAKEN;
}

static int pap_server(struct nat *n, struct dnat_ctx *c, sp_time now, struct nat_ip *ip,
		      struct pkt *p)
{
	const struct dnat_params *par = nat_sparams(n);
	struct pap_msg m, resp;
	struct cur cu;

	if (!is_host(par, ip->src)) {
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_NOT_HOST, 1);
		return NAT_DROP;
	}
	cur_init(&cu, ip->l4, ip->l4len);
	if (pap_parse(&cu, PAP_FROM_HOST, &m) != 0) {
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_MALFORMED, 1);
		return NAT_DROP;
	}
	if (!m.pap_csum_ok) {
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_CSUM, 1);
		return NAT_DROP;
	}
	switch (m.pap_kind) {
	case PAP_PORT_REQUEST:
	case PAP_SPI_REQUEST: {
		struct pkt *reply;

		grant(n, c, now, ip->src, &m, &resp);
		if (answer(n, ip, p, &resp) != 0) {
			nat_sctr_inc(n, DNAT_CTR_DROP_PAP_MALFORMED, 1);
			return NAT_DROP;
		}
		/* The answer leaves as the router's own packet, in a copy; the request ends
		 * here. Handed back in place it would still be the frame the host sent (its
		 * source MAC the host's own): a bridge with netfilter (br_netfilter) takes the
		 * rewritten destination for bridged DNAT and sends it back to the port it
		 * came in by, which a bridge never does. */
		if ((reply = nat_clone(n, p)) == NULL)
			return NAT_DROP; /* counted as drop_no_buffer */
		if (nat_emit(n, NAT_INSIDE, reply) != 0)
			return NAT_DROP;
		return NAT_TAKEN;
	}
	case PAP_PORT_INVALIDATE:
		return invalidate(n, c, ip->src, false, m.pap_port);
	case PAP_SPI_INVALIDATE:
		return invalidate(n, c, ip->src, true, m.pap_spi);
	default:
		nat_sctr_inc(n, DNAT_CTR_DROP_PAP_MALFORMED, 1);
		return NAT_DROP;
	}
}

/* IAPTT (FIG. 12). */

static uint32_t ms_stamp(sp_time now)
{
	return (uint32_t)(now / SP_MSEC(1));
}

/* Note a use of (proto, port) by host: refresh or make its row (an expired row not yet
 * reclaimed is reused in place). */
static void iaptt_touch(struct nat *n, struct dnat_ctx *c, sp_time now, uint8_t proto,
			uint16_t port, uint32_t host, uint32_t remote)
{
	const struct dnat_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	int s = iaptt_slot(proto);
	struct nat_entry *e;
	uint32_t idx;

	if (s < 0 || !par->iaptt)
		return;
	if ((idx = c->iaptt[s][port]) == NAT_NIL) {
		if ((idx = nat_strat_alloc(n, now)) == NAT_NIL)
			return; /* the blocks still route; counted as drop_table_full */
		e = nat_entry_at(t, idx);
		nat_key_set(&e->k[0], NAT_K_NONE, proto, 0, 0, port);
		e->state = ROW_IAPTT;
		c->iaptt[s][port] = idx;
		nat_sctr_inc(n, DNAT_CTR_IAPTT_CREATED, 1);
	}
	e = nat_entry_at(t, idx);
	if (e->k[1].a != host || e->k[1].b != remote)
		nat_key_set(&e->k[1], NAT_K_NONE, proto, host, remote, port);
	e->aux = ms_stamp(now);
	nat_table_schedule(t, idx, now + par->iaptt_timeout, now);
}

/* The port a TCP/UDP segment or ICMP echo is demultiplexed by (source outbound,
 * destination inbound); false when the packet has none. */
static bool l4_port(const uint8_t *l4, uint32_t len, uint8_t proto, bool outbound, uint16_t *port)
{
	switch (proto) {
	case IPV4_PROTO_TCP:
	case IPV4_PROTO_UDP:
		if (len < 4)
			return false;
		*port = sp_load_be16(l4 + (outbound ? 0 : 2));
		return true;
	case IPV4_PROTO_ICMP:
		if (len < ICMP_HDR_LEN || !icmp_is_echo(l4[0]))
			return false;
		*port = sp_load_be16(l4 + ICMP_OFF_ID);
		return true;
	default:
		return false;
	}
}

/* Outbound: a tunnel packet from a host (Tables 3 and 8) leaves as its inner packet. */
static int tunnel_out(struct nat *n, struct dnat_ctx *c, sp_time now, struct nat_ip *ip,
		      struct pkt *p)
{
	const struct dnat_params *par = nat_sparams(n);
	const uint8_t *in = ip->l4;
	uint32_t hl = (uint32_t)(ip->l4 - ip->h), ihl, itot, slot;
	uint8_t iproto;
	uint16_t port;

	if (ip->l4len < IPV4_HDR_MIN || in[0] >> 4 != 4)
		goto malformed;
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	itot = sp_load_be16(in + IPV4_OFF_LEN);
	if (ihl < IPV4_HDR_MIN || itot < ihl || itot > ip->l4len || csum_buf(in, ihl) != 0)
		goto malformed;
	if (!nat_in_pool(n, sp_load_be32(in + IPV4_OFF_SRC))) {
		nat_sctr_inc(n, DNAT_CTR_DROP_INNER_SRC, 1);
		return NAT_DROP;
	}
	if (nat_in_pool(n, sp_load_be32(in + IPV4_OFF_DST)) ||
	    sp_ip4_in_prefix(sp_load_be32(in + IPV4_OFF_DST), par->hosts_net, par->hosts_len)) {
		nat_sctr_inc(n, DNAT_CTR_DROP_INNER_DST, 1);
		return NAT_DROP;
	}
	iproto = in[IPV4_OFF_PROTO];
	if (iproto == IPV4_PROTO_ESP || iproto == IPV4_PROTO_AH) {
		nat_sctr_inc(n, DNAT_CTR_OUT_IPSEC, 1);
	} else {
		/* A later fragment carries no port to check: the host sends whole packets. */
		if ((sp_load_be16(in + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0) {
			nat_sctr_inc(n, DNAT_CTR_DROP_FRAGMENT, 1);
			return NAT_DROP;
		}
		if (!l4_port(in + ihl, itot - ihl, iproto, true, &port)) {
			nat_sctr_inc(n,
				     iproto == IPV4_PROTO_ICMP ? DNAT_CTR_DROP_ICMP
							       : DNAT_CTR_DROP_PROTO,
				     1);
			return NAT_DROP;
		}
		slot = port_lookup(c, port);
		if (slot == NO_BLOCK || c->blk[slot].host != ip->src) {
			nat_sctr_inc(n, DNAT_CTR_DROP_PORT_NOT_OWNED, 1);
			return NAT_DROP;
		}
		iaptt_touch(n, c, now, iproto, port, ip->src, sp_load_be32(in + IPV4_OFF_DST));
	}
	if (pkt_pull(p, hl) == NULL || pkt_trim(p, itot) != 0)
		goto malformed;
	nat_sctr_inc(n, DNAT_CTR_OUT, 1);
	return NAT_TO_OUTSIDE;
malformed:
	nat_sctr_inc(n, DNAT_CTR_DROP_INNER_MALFORMED, 1);
	return NAT_DROP;
}

static int dnat_from_inside(struct nat *n, struct dnat_ctx *c, sp_time now, struct nat_ip *ip,
			    struct pkt *p)
{
	const struct dnat_params *par = nat_sparams(n);

	if (ip->dst != par->router) {
		nat_sctr_inc(n, DNAT_CTR_DROP_NOT_TUNNELLED, 1);
		return NAT_DROP;
	}
	if (ip->frag_first || ip->frag_later) {
		nat_sctr_inc(n, DNAT_CTR_DROP_FRAGMENT, 1);
		return NAT_DROP;
	}
	if (ip->proto == IPV4_PROTO_IPIP)
		return tunnel_out(n, c, now, ip, p);
	if (ip->proto == IPV4_PROTO_ICMP && ip->l4len >= 1 &&
	    (ip->l4[0] == PAP_TYPE_PORTS || ip->l4[0] == PAP_TYPE_SPIS))
		return pap_server(n, c, now, ip, p);
	nat_sctr_inc(n, DNAT_CTR_DROP_TO_ROUTER, 1);
	return NAT_DROP;
}

/* Inbound: find the host, prepend the tunnel header (Tables 5 and 11). */
static int dnat_from_outside(struct nat *n, struct dnat_ctx *c, sp_time now, struct nat_ip *ip,
			     struct pkt *p)
{
	const struct dnat_params *par = nat_sparams(n);
	uint32_t host, slot, tot;
	uint8_t *h;
	uint16_t port;

	if (!nat_in_pool(n, ip->dst)) {
		nat_sctr_inc(n, DNAT_CTR_DROP_NOT_GLOBAL, 1);
		return NAT_DROP;
	}
	if (ip->proto == IPV4_PROTO_ESP || ip->proto == IPV4_PROTO_AH) {
		/* The outermost header's SPI (002 "the router 26 examines a SPI value in an
		 * IPsec packet's outermost header"): ESP's first word, AH's second. */
		uint32_t off = ip->proto == IPV4_PROTO_ESP ? 0 : 4;

		if (ip->frag_later || ip->l4len < off + 4) {
			nat_sctr_inc(n, DNAT_CTR_DROP_FRAGMENT, 1);
			return NAT_DROP;
		}
		if ((slot = spi_lookup(c, sp_load_be32(ip->l4 + off))) == NO_BLOCK) {
			nat_sctr_inc(n, DNAT_CTR_DROP_UNKNOWN_SPI, 1);
			return NAT_DROP;
		}
		host = c->blk[slot].host;
		nat_sctr_inc(n, DNAT_CTR_IN_IPSEC, 1);
	} else {
		uint32_t idx;

		if (ip->frag_later) {
			nat_sctr_inc(n, DNAT_CTR_DROP_FRAGMENT, 1);
			return NAT_DROP;
		}
		if (!l4_port(ip->l4, ip->l4len, ip->proto, false, &port)) {
			nat_sctr_inc(n,
				     ip->proto == IPV4_PROTO_ICMP ? DNAT_CTR_DROP_ICMP
								  : DNAT_CTR_DROP_PROTO,
				     1);
			return NAT_DROP;
		}
		/* FIG. 12 first (Table 9's row), then the blocks of FIG. 8. */
		idx = c->iaptt[iaptt_slot(ip->proto)][port];
		if (idx != NAT_NIL && nat_entry_live(nat_entry_at(nat_table_of(n), idx), now)) {
			host = nat_entry_at(nat_table_of(n), idx)->k[1].a;
		} else if ((slot = port_lookup(c, port)) != NO_BLOCK) {
			host = c->blk[slot].host;
		} else {
			nat_sctr_inc(n, DNAT_CTR_DROP_UNKNOWN_PORT, 1);
			return NAT_DROP;
		}
		iaptt_touch(n, c, now, ip->proto, port, host, ip->src);
	}
	tot = p->len + IPV4_HDR_MIN;
	if (tot > 0xffff) {
		nat_sctr_inc(n, DNAT_CTR_DROP_TOO_BIG, 1);
		return NAT_DROP;
	}
	if ((h = pkt_push(p, IPV4_HDR_MIN)) == NULL) {
		nat_sctr_inc(n, DNAT_CTR_DROP_HEADROOM, 1);
		return NAT_DROP;
	}
	memset(h, 0, IPV4_HDR_MIN);
	h[0] = 0x45;
	h[IPV4_OFF_TOS] = h[IPV4_HDR_MIN + IPV4_OFF_TOS];
	sp_store_be16(h + IPV4_OFF_LEN, (uint16_t)tot);
	h[IPV4_OFF_TTL] = TUNNEL_TTL;
	h[IPV4_OFF_PROTO] = IPV4_PROTO_IPIP;
	sp_store_be32(h + IPV4_OFF_SRC, par->router);
	sp_store_be32(h + IPV4_OFF_DST, host);
	ipv4_set_csum(h, IPV4_HDR_MIN);
	nat_sctr_inc(n, DNAT_CTR_IN, 1);
	return NAT_TO_INSIDE;
}

static int dnat_packet(struct nat *n, void *ctx, sp_time now, enum nat_side from, struct nat_ip *ip,
		       struct pkt *p)
{
	if (from == NAT_INSIDE)
		return dnat_from_inside(n, ctx, now, ip, p);
	return dnat_from_outside(n, ctx, now, ip, p);
}

/* The burst pipeline: the IAPTT slot of a packet's port, then its row. */
static uint32_t dnat_burst_hint(const struct nat *n, const void *ctx, enum nat_side from,
				const struct pkt *p)
{
	const struct dnat_ctx *c = ctx;
	const uint8_t *d = pkt_data(p);
	uint32_t hl, off = 0, at = 0;
	int s;

	(void)n;
	if (p->len < IPV4_HDR_MIN || (d[0] >> 4) != 4)
		return NAT_NIL;
	hl = (uint32_t)(d[0] & 0x0f) * 4;
	if (from == NAT_INSIDE) {
		/* the inner header of a tunnel packet, then its source port */
		if (d[IPV4_OFF_PROTO] != IPV4_PROTO_IPIP || p->len < hl + IPV4_HDR_MIN)
			return NAT_NIL;
		at = hl;
		hl = (uint32_t)(d[at] & 0x0f) * 4;
	} else {
		off = 2;
	}
	if (p->len < at + hl + 4 || (s = iaptt_slot(d[at + IPV4_OFF_PROTO])) < 0 || s == 2)
		return NAT_NIL;
	__builtin_prefetch(&c->iaptt[s][sp_load_be16(d + at + hl + off)]);
	return (uint32_t)s << 16 | sp_load_be16(d + at + hl + off);
}

static void dnat_burst_prefetch(const struct nat *n, const void *ctx, uint32_t hint)
{
	const struct dnat_ctx *c = ctx;
	uint32_t idx = c->iaptt[hint >> 16][hint & 0xffff];

	if (idx != NAT_NIL)
		__builtin_prefetch(nat_entry_at(&n->tab, idx), 1);
}

/* ESP and AH never reach the engine's IPsec path: dnat_packet() takes every packet. */
static int dnat_ipsec_unused(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			     struct pkt *p)
{
	(void)n;
	(void)ctx;
	(void)now;
	(void)ip;
	(void)p;
	return NAT_DROP;
}

/* Restart announcements: port 0 and SPI 0 invalidations to every host address. */

/* A FIG. 6 / 6A invalidation from the router to host: value 0 for every block. */
static bool send_invalidate(struct nat *n, const struct dnat_params *par, uint32_t host, bool spi,
			    uint32_t value)
{
	struct pap_msg m;
	struct wcur w;
	struct pkt *p;
	uint8_t *h;

	if ((p = nat_pkt_new(n)) == NULL)
		return false;
	if ((h = pkt_put(p, IPV4_HDR_MIN + PAP_LEN)) == NULL) {
		pkt_free(p);
		return false;
	}
	memset(h, 0, IPV4_HDR_MIN);
	h[0] = 0x45;
	sp_store_be16(h + IPV4_OFF_LEN, IPV4_HDR_MIN + PAP_LEN);
	h[IPV4_OFF_TTL] = TUNNEL_TTL;
	h[IPV4_OFF_PROTO] = IPV4_PROTO_ICMP;
	sp_store_be32(h + IPV4_OFF_SRC, par->router);
	sp_store_be32(h + IPV4_OFF_DST, host);
	ipv4_set_csum(h, IPV4_HDR_MIN);
	if (spi)
		pap_spi_invalidate(&m, value);
	else
		pap_port_invalidate(&m, (uint16_t)value);
	wcur_init(&w, h + IPV4_HDR_MIN, PAP_LEN);
	if (pap_build(&w, &m) != 0) {
		pkt_free(p);
		return false;
	}
	nat_emit(n, NAT_INSIDE, p);
	return true;
}

static bool announce_one(struct nat *n, const struct dnat_params *par, uint32_t host, bool spi)
{
	if (!send_invalidate(n, par, host, spi, 0))
		return false;
	nat_sctr_inc(n, DNAT_CTR_PAP_ANNOUNCED, 1);
	return true;
}

static void dnat_tick(struct nat *n, void *ctx, sp_time now)
{
	const struct dnat_params *par = nat_sparams(n);
	struct dnat_ctx *c = ctx;
	uint32_t size = 1u << (32 - par->hosts_len);

	(void)now;
	for (unsigned sent = 0; c->announcing && sent < ANNOUNCE_PER_TICK; c->announce_next++) {
		uint32_t a = par->hosts_net + c->announce_next;

		if (c->announce_next >= size) {
			c->announcing = false;
			break;
		}
		if (!is_host(par, a))
			continue;
		if (!announce_one(n, par, a, false) || !announce_one(n, par, a, true))
			break; /* out of buffers: the next tick goes on from here */
		sent += 2;
	}
}

static sp_time dnat_next_deadline(const struct nat *n, const void *ctx)
{
	const struct dnat_ctx *c = ctx;

	(void)n;
	return c->announcing ? 0 : SP_TIME_NEVER;
}

static void dnat_expire(struct nat *n, void *ctx, uint32_t idx)
{
	struct dnat_ctx *c = ctx;
	const struct nat_entry *e = nat_entry_at(nat_table_of(n), idx);
	int s = iaptt_slot(e->k[0].proto);

	/* Only IAPTT rows are on the wheel (blocks never expire). */
	if (e->state == ROW_IAPTT && s >= 0 && c->iaptt[s][e->k[0].id] == idx)
		c->iaptt[s][e->k[0].id] = NAT_NIL;
	nat_table_free(nat_table_of(n), idx);
}

static bool dnat_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		     struct nat_row *r)
{
	(void)n;
	(void)ctx;
	if (e->state == ROW_IAPTT) {
		/* FIG. 12: port, internal address, protocol, timestamp. */
		r->proto = e->k[1].proto;
		r->in_local = e->k[1].a;
		r->in_local_id = e->k[1].id;
		r->in_global = nat_config_of(n)->pool[0];
		r->in_global_id = e->k[1].id;
		r->outside = e->k[1].b;
		r->has_in_local_id = r->has_in_global_id = true;
		r->outbound = true;
		r->state = "iaptt";
		snprintf(r->info, sizeof(r->info), "timestamp %u ms", e->aux);
		return true;
	}
	/* FIG. 8 and FIG. 21: internal address, lowest port (SPI), number. */
	r->proto = IPV4_PROTO_IPIP;
	r->in_local = e->k[0].a;
	r->in_global = e->k[1].a;
	r->outbound = false;
	r->state = e->state == ROW_SPIS ? "spi-block" : "port-block";
	if (e->state == ROW_SPIS)
		snprintf(r->info, sizeof(r->info), "spis %u-%u (%u)", e->k[0].id,
			 e->k[0].id + e->k[1].id - 1, e->k[1].id);
	else
		snprintf(r->info, sizeof(r->info), "ports %u-%u (%u)", e->k[0].id,
			 e->k[0].id + e->k[1].id - 1, e->k[1].id);
	return true;
}

const struct nat_strategy nat_strategy_dnat = {
	.name = "dnat",
	.help = "distributed NAT (002): PAP port and SPI blocks, IP-in-IP tunnels, no rewriting",
	.defaults = dnat_defaults,
	.conf = dnat_conf,
	.ctx_size = sizeof(struct dnat_ctx),
	.ctr_names = dnat_ctr_names,
	.n_ctrs = DNAT_CTR_N,
	.init = dnat_init,
	.fini = dnat_fini,
	.packet = dnat_packet,
	.burst_hint = dnat_burst_hint,
	.burst_prefetch = dnat_burst_prefetch,
	.in2out = dnat_ipsec_unused,
	.out2in = dnat_ipsec_unused,
	.expire = dnat_expire,
	.row = dnat_row,
	.tick = dnat_tick,
	.next_deadline = dnat_next_deadline,
	.reset = dnat_reset,
};

/* The LCA's hold on blocks (nat_strategy.h). */

static struct dnat_ctx *dnat_ctx_of(struct nat *n)
{
	return n->strat == &nat_strategy_dnat ? n->sctx : NULL;
}

int nat_dnat_certify(struct nat *n, uint32_t host, uint16_t port, bool certified)
{
	struct dnat_ctx *c = dnat_ctx_of(n);
	uint32_t slot;

	if (c == NULL)
		return SP_EINVAL;
	if ((slot = port_lookup(c, port)) == NO_BLOCK || c->blk[slot].host != host)
		return SP_ENOTFOUND;
	c->blk[slot].certified = certified;
	c->blk[slot].released = false;
	return 0;
}

int nat_dnat_revoke(struct nat *n, uint32_t host, uint16_t port)
{
	struct dnat_ctx *c = dnat_ctx_of(n);
	uint32_t slot, lowest;

	if (c == NULL)
		return SP_EINVAL;
	if ((slot = port_lookup(c, port)) == NO_BLOCK || c->blk[slot].host != host)
		return SP_ENOTFOUND;
	lowest = c->blk[slot].lowest;
	del_block(n, c, slot);
	nat_sctr_inc(n, DNAT_CTR_PAP_INVALIDATED, 1);
	if (!send_invalidate(n, nat_sparams(n), host, false, lowest))
		return SP_ENOMEM;
	nat_sctr_inc(n, DNAT_CTR_PAP_REVOKED, 1);
	return 0;
}

int nat_dnat_port_block(struct nat *n, uint32_t host, uint16_t port, uint16_t *lowest,
			uint16_t *count)
{
	struct dnat_ctx *c = dnat_ctx_of(n);
	uint32_t slot;

	if (c == NULL)
		return SP_EINVAL;
	if ((slot = port_lookup(c, port)) == NO_BLOCK || c->blk[slot].host != host)
		return SP_ENOTFOUND;
	*lowest = (uint16_t)c->blk[slot].lowest;
	*count = (uint16_t)c->blk[slot].count;
	return 0;
}
