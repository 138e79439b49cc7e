#include "sim/nat_basic.h"
#include "base/addr.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "base/hash.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

static const char *const nb_ctr_names[] = { SP_CTR_NAMES(foreach_nat_basic_ctr) };

/* Timeout classes; each keeps its entries in least-recently-used order, so expiry only
 * looks at list heads. */
enum { CLS_UDP, CLS_TCP, CLS_ICMP, CLS_OTHER, CLS_N };

struct nb_entry {
	uint32_t in_addr;
	uint32_t ext_addr;
	uint32_t remote; /* portless: the server, part of the key; else the last peer */
	uint16_t in_id;	 /* port or echo identifier; 0 for portless */
	uint16_t ext_id;
	uint8_t proto;
	uint8_t cls;
	bool used;
	sp_time last;
	uint32_t in_next, out_next; /* hash chains: index + 1, 0 ends */
	uint32_t prev, next;	    /* LRU: index + 1 */
};

struct nb {
	struct sim_nat_env *env;
	struct sim_nat_basic_cfg cfg;
	sp_time timeout[CLS_N];
	struct nb_entry *e;
	uint32_t max, used;
	uint32_t *in_head, *out_head, mask;
	uint32_t free_head; /* index + 1 */
	struct {
		uint32_t head, tail;
	} lru[CLS_N];
	uint16_t cursor;
	uint64_t seed;
	struct sp_ctrs blk;
	uint64_t ctr[NAT_BASIC_CTR_N];
};

/* ---- table -------------------------------------------------------------------------- */

static const char *proto_name(uint8_t proto);

static bool has_ports(uint8_t proto)
{
	return proto == IPV4_PROTO_UDP || proto == IPV4_PROTO_TCP || proto == IPV4_PROTO_ICMP;
}

static uint8_t proto_cls(uint8_t proto)
{
	switch (proto) {
	case IPV4_PROTO_UDP:
		return CLS_UDP;
	case IPV4_PROTO_TCP:
		return CLS_TCP;
	case IPV4_PROTO_ICMP:
		return CLS_ICMP;
	default:
		return CLS_OTHER;
	}
}

static uint32_t in_hash(const struct nb *nb, uint8_t proto, uint32_t addr, uint16_t id)
{
	return (uint32_t)sp_hash_2u64((uint64_t)proto << 32 | addr, id, nb->seed) & nb->mask;
}

/* Port protocols are keyed by the global port, portless ones by the server. */
static uint32_t out_hash(const struct nb *nb, uint8_t proto, uint32_t ext, uint64_t k2)
{
	return (uint32_t)sp_hash_2u64((uint64_t)proto << 32 | ext, k2, ~nb->seed) & nb->mask;
}

static uint64_t out_k2(uint8_t proto, uint16_t ext_id, uint32_t remote)
{
	return has_ports(proto) ? ext_id : (1ull << 32 | remote);
}

static uint32_t out_lookup(const struct nb *nb, uint8_t proto, uint32_t ext, uint64_t k2)
{
	for (uint32_t i = nb->out_head[out_hash(nb, proto, ext, k2)]; i != 0;
	     i = nb->e[i - 1].out_next) {
		const struct nb_entry *e = &nb->e[i - 1];

		if (e->proto == proto && e->ext_addr == ext &&
		    out_k2(proto, e->ext_id, e->remote) == k2)
			return i;
	}
	return 0;
}

static uint32_t in_lookup(const struct nb *nb, uint8_t proto, uint32_t addr, uint16_t id)
{
	for (uint32_t i = nb->in_head[in_hash(nb, proto, addr, id)]; i != 0;
	     i = nb->e[i - 1].in_next) {
		const struct nb_entry *e = &nb->e[i - 1];

		if (e->proto == proto && e->in_addr == addr && e->in_id == id)
			return i;
	}
	return 0;
}

static void lru_unlink(struct nb *nb, uint32_t i)
{
	struct nb_entry *e = &nb->e[i - 1];

	if (e->prev)
		nb->e[e->prev - 1].next = e->next;
	else
		nb->lru[e->cls].head = e->next;
	if (e->next)
		nb->e[e->next - 1].prev = e->prev;
	else
		nb->lru[e->cls].tail = e->prev;
	e->prev = e->next = 0;
}

static void lru_append(struct nb *nb, uint32_t i)
{
	struct nb_entry *e = &nb->e[i - 1];
	uint32_t t = nb->lru[e->cls].tail;

	e->prev = t;
	e->next = 0;
	if (t)
		nb->e[t - 1].next = i;
	else
		nb->lru[e->cls].head = i;
	nb->lru[e->cls].tail = i;
}

static void entry_touch(struct nb *nb, uint32_t i, sp_time now)
{
	nb->e[i - 1].last = now;
	if (nb->lru[nb->e[i - 1].cls].tail != i) {
		lru_unlink(nb, i);
		lru_append(nb, i);
	}
}

static void chain_remove(struct nb *nb, uint32_t *head, uint32_t i, bool out)
{
	uint32_t *pp = head;

	while (*pp != 0 && *pp != i)
		pp = out ? &nb->e[*pp - 1].out_next : &nb->e[*pp - 1].in_next;
	if (*pp == i)
		*pp = out ? nb->e[i - 1].out_next : nb->e[i - 1].in_next;
}

static void entry_del(struct nb *nb, uint32_t i)
{
	struct nb_entry *e = &nb->e[i - 1];

	if (has_ports(e->proto))
		chain_remove(nb, &nb->in_head[in_hash(nb, e->proto, e->in_addr, e->in_id)], i,
			     false);
	chain_remove(nb,
		     &nb->out_head[out_hash(nb, e->proto, e->ext_addr,
					    out_k2(e->proto, e->ext_id, e->remote))],
		     i, true);
	lru_unlink(nb, i);
	memset(e, 0, sizeof(*e));
	e->out_next = nb->free_head; /* free list reuses the out chain link */
	nb->free_head = i;
	nb->used--;
}

static uint32_t entry_new(struct nb *nb, sp_time now, uint8_t proto, uint32_t in_addr,
			  uint16_t in_id, uint32_t ext, uint16_t ext_id, uint32_t remote)
{
	uint32_t i = nb->free_head, h;
	struct nb_entry *e;

	if (i == 0) {
		nb->ctr[NAT_BASIC_CTR_DROP_TABLE_FULL]++;
		return 0;
	}
	e = &nb->e[i - 1];
	nb->free_head = e->out_next;
	*e = (struct nb_entry){ .in_addr = in_addr,
				.ext_addr = ext,
				.remote = remote,
				.in_id = in_id,
				.ext_id = ext_id,
				.proto = proto,
				.cls = proto_cls(proto),
				.used = true,
				.last = now };
	if (has_ports(proto)) {
		h = in_hash(nb, proto, in_addr, in_id);
		e->in_next = nb->in_head[h];
		nb->in_head[h] = i;
	}
	h = out_hash(nb, proto, ext, out_k2(proto, ext_id, remote));
	e->out_next = nb->out_head[h];
	nb->out_head[h] = i;
	lru_append(nb, i);
	nb->used++;
	nb->ctr[NAT_BASIC_CTR_CREATED]++;
	if (sp_log_enabled(nb->env->log, SP_LOG_DEBUG)) {
		char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN], c[SP_IP4_STRLEN];

		sp_logf(nb->env->log, SP_LOG_DEBUG, "nat", "new %s entry %s:%u -> %s:%u peer %s",
			proto_name(proto), sp_ip4_fmt(in_addr, a), in_id, sp_ip4_fmt(ext, b),
			ext_id, sp_ip4_fmt(remote, c));
	}
	return i;
}

static void nb_clear(struct nb *nb)
{
	memset(nb->e, 0, nb->max * sizeof(*nb->e));
	memset(nb->in_head, 0, (nb->mask + 1) * sizeof(*nb->in_head));
	memset(nb->out_head, 0, (nb->mask + 1) * sizeof(*nb->out_head));
	nb->free_head = 0;
	for (uint32_t i = nb->max; i > 0; i--) {
		nb->e[i - 1].out_next = nb->free_head;
		nb->free_head = i;
	}
	memset(nb->lru, 0, sizeof(nb->lru));
	nb->used = 0;
	nb->cursor = nb->cfg.port_min;
	nb->seed = sp_rng_u64(nb->env->rng);
}

/* The client's global address: a keyed hash keeps one client on one address. */
static uint32_t pick_ext(const struct nb *nb, uint32_t in_addr)
{
	return nb->env->ext[sp_hash_u64(in_addr, nb->seed) % nb->env->next];
}

/* A free global port (or echo id) for proto on ext; 0 when none is left. */
static uint16_t find_port(struct nb *nb, uint8_t proto, uint32_t ext, uint16_t want)
{
	uint32_t range = (uint32_t)nb->cfg.port_max - nb->cfg.port_min + 1;

	if (!nb->cfg.no_port_preserve && want != 0 &&
	    out_lookup(nb, proto, ext, out_k2(proto, want, 0)) == 0)
		return want;
	for (uint32_t n = 0; n < range; n++) {
		uint16_t p = nb->cursor;

		nb->cursor = p == nb->cfg.port_max ? nb->cfg.port_min : (uint16_t)(p + 1);
		if (out_lookup(nb, proto, ext, out_k2(proto, p, 0)) == 0)
			return p;
	}
	return 0;
}

/* ---- rewriting ---------------------------------------------------------------------- */

/*
 * Change the address (src or dst side) and the port or echo id of the transport header at
 * l4 (avail bytes of it present), updating its checksum incrementally (RFC 1624). A UDP
 * checksum of zero means none and stays so; a computed zero goes out as 0xffff (RFC 768).
 */
static void l4_rewrite(uint8_t *l4, size_t avail, uint8_t proto, bool src_side, uint32_t old_addr,
		       uint32_t new_addr, uint16_t new_id)
{
	unsigned idoff, csoff;
	uint16_t old_id, cs;

	switch (proto) {
	case IPV4_PROTO_UDP:
		idoff = src_side ? UDP_OFF_SPORT : UDP_OFF_DPORT;
		csoff = UDP_OFF_CSUM;
		break;
	case IPV4_PROTO_TCP:
		idoff = src_side ? TCP_OFF_SPORT : TCP_OFF_DPORT;
		csoff = TCP_OFF_CSUM;
		break;
	case IPV4_PROTO_ICMP:
		idoff = ICMP_OFF_ID;
		csoff = ICMP_OFF_CSUM;
		break;
	default:
		return;
	}
	if (avail < idoff + 2u)
		return;
	old_id = sp_load_be16(l4 + idoff);
	sp_store_be16(l4 + idoff, new_id);
	if (avail < csoff + 2u)
		return; /* an ICMP error quoting only 8 bytes of TCP: no checksum to fix */
	cs = sp_load_be16(l4 + csoff);
	if (proto == IPV4_PROTO_UDP && cs == 0)
		return;
	if (proto != IPV4_PROTO_ICMP) /* ICMP has no pseudo-header */
		cs = csum_update32(cs, old_addr, new_addr);
	cs = csum_update16(cs, old_id, new_id);
	if (proto == IPV4_PROTO_UDP && cs == 0)
		cs = 0xffff;
	sp_store_be16(l4 + csoff, cs);
}

/* Bytes of transport header a translation must see: ports/id and, for TCP, up to flags. */
static size_t l4_need(uint8_t proto)
{
	return proto == IPV4_PROTO_TCP ? 14 : 8;
}

/*
 * ICMP error (RFC 5508 REQ-3): find the entry of the embedded packet and translate it
 * together with the outer header. dir OUT2IN: the embedded packet is one we sent out
 * (its source is global); IN2OUT: one an inside host received (its destination is inside).
 */
static enum sim_verdict nb_icmp_error(struct nb *nb, sp_time now, uint8_t *b, size_t len, size_t hl,
				      enum sim_nat_dir dir)
{
	uint8_t *in = b + hl + ICMP_HDR_LEN, *l4;
	size_t inlen, ihl, l4avail;
	uint8_t proto;
	uint32_t isrc, idst, i = 0, ext;
	uint16_t id = 0;
	struct nb_entry *e;

	if (len < hl + ICMP_HDR_LEN + IPV4_HDR_MIN)
		goto malformed;
	inlen = len - hl - ICMP_HDR_LEN;
	ihl = (size_t)(in[0] & 0x0f) * 4;
	if (in[0] >> 4 != 4 || ihl < IPV4_HDR_MIN || inlen < ihl + 8)
		goto malformed;
	proto = in[IPV4_OFF_PROTO];
	isrc = sp_load_be32(in + IPV4_OFF_SRC);
	idst = sp_load_be32(in + IPV4_OFF_DST);
	l4 = in + ihl;
	l4avail = inlen - ihl;
	if (proto == IPV4_PROTO_ICMP)
		id = sp_load_be16(l4 + ICMP_OFF_ID);
	else if (has_ports(proto))
		id = sp_load_be16(l4 + (dir == SIM_NAT_OUT2IN ? 0 : 2));
	if (dir == SIM_NAT_OUT2IN) {
		i = out_lookup(nb, proto, isrc, out_k2(proto, id, idst));
		if (i == 0) {
			nb->ctr[NAT_BASIC_CTR_OUT2IN_NO_MAPPING]++;
			return SIM_PASS;
		}
		e = &nb->e[i - 1];
		if (has_ports(proto))
			l4_rewrite(l4, l4avail, proto, true, isrc, e->in_addr, e->in_id);
		ipv4_set_src(in, e->in_addr);
		ipv4_set_dst(b, e->in_addr);
	} else {
		if (has_ports(proto)) {
			i = in_lookup(nb, proto, idst, id);
		} else {
			ext = pick_ext(nb, idst);
			i = out_lookup(nb, proto, ext, out_k2(proto, 0, isrc));
			if (i != 0 && nb->e[i - 1].in_addr != idst)
				i = 0;
		}
		if (i == 0) {
			nb->ctr[NAT_BASIC_CTR_DROP_NO_MAPPING_IN]++;
			return SIM_DROP;
		}
		e = &nb->e[i - 1];
		if (has_ports(proto))
			l4_rewrite(l4, l4avail, proto, false, idst, e->ext_addr, e->ext_id);
		ipv4_set_dst(in, e->ext_addr);
		ipv4_set_src(b, e->ext_addr);
	}
	/* The embedded header changed under the ICMP checksum: recompute it whole. */
	icmp_set_csum(b + hl, len - hl);
	entry_touch(nb, i, now);
	nb->ctr[NAT_BASIC_CTR_ICMP_ERR]++;
	return SIM_PASS;
malformed:
	nb->ctr[NAT_BASIC_CTR_DROP_MALFORMED]++;
	return SIM_DROP;
}

static enum sim_verdict nb_in2out(struct nb *nb, sp_time now, uint8_t *b, size_t len, size_t hl)
{
	uint8_t proto = b[IPV4_OFF_PROTO];
	uint32_t src = sp_load_be32(b + IPV4_OFF_SRC);
	uint32_t dst = sp_load_be32(b + IPV4_OFF_DST);
	uint16_t frag = sp_load_be16(b + IPV4_OFF_FRAG) & IPV4_FRAG_MASK;
	uint16_t id = 0, ext_id;
	uint32_t i, ext;
	struct nb_entry *e;

	if (has_ports(proto)) {
		if (frag != 0) {
			nb->ctr[NAT_BASIC_CTR_DROP_FRAGMENT]++;
			return SIM_DROP;
		}
		if (len < hl + l4_need(proto)) {
			nb->ctr[NAT_BASIC_CTR_DROP_MALFORMED]++;
			return SIM_DROP;
		}
		if (proto == IPV4_PROTO_ICMP) {
			uint8_t type = b[hl];

			if (icmp_is_error(type))
				return nb_icmp_error(nb, now, b, len, hl, SIM_NAT_IN2OUT);
			if (type != ICMP_ECHO_REQUEST) {
				nb->ctr[NAT_BASIC_CTR_DROP_ICMP_TYPE]++;
				return SIM_DROP;
			}
			id = sp_load_be16(b + hl + ICMP_OFF_ID);
		} else {
			id = sp_load_be16(b + hl); /* source port */
		}
		if ((i = in_lookup(nb, proto, src, id)) == 0) {
			ext = pick_ext(nb, src);
			if ((ext_id = find_port(nb, proto, ext, id)) == 0) {
				nb->ctr[NAT_BASIC_CTR_DROP_PORTS_EXHAUSTED]++;
				return SIM_DROP;
			}
			if ((i = entry_new(nb, now, proto, src, id, ext, ext_id, dst)) == 0)
				return SIM_DROP;
		}
		e = &nb->e[i - 1];
		e->remote = dst;
		l4_rewrite(b + hl, len - hl, proto, true, src, e->ext_addr, e->ext_id);
	} else {
		/* No ports: (proto, server, global address) names one client (003 Background). */
		ext = pick_ext(nb, src);
		if ((i = out_lookup(nb, proto, ext, out_k2(proto, 0, dst))) != 0 &&
		    nb->e[i - 1].in_addr != src) {
			nb->ctr[NAT_BASIC_CTR_DROP_PROTO_BUSY]++;
			return SIM_DROP;
		}
		if (i == 0 && (i = entry_new(nb, now, proto, src, 0, ext, 0, dst)) == 0)
			return SIM_DROP;
		e = &nb->e[i - 1];
	}
	ipv4_set_src(b, e->ext_addr);
	entry_touch(nb, i, now);
	nb->ctr[NAT_BASIC_CTR_IN2OUT]++;
	return SIM_PASS;
}

static bool is_ext(const struct nb *nb, uint32_t addr)
{
	for (unsigned i = 0; i < nb->env->next; i++)
		if (nb->env->ext[i] == addr)
			return true;
	return false;
}

static enum sim_verdict nb_out2in(struct nb *nb, sp_time now, uint8_t *b, size_t len, size_t hl)
{
	uint8_t proto = b[IPV4_OFF_PROTO];
	uint32_t src = sp_load_be32(b + IPV4_OFF_SRC);
	uint32_t dst = sp_load_be32(b + IPV4_OFF_DST);
	uint16_t frag = sp_load_be16(b + IPV4_OFF_FRAG) & IPV4_FRAG_MASK;
	uint16_t id = 0;
	uint32_t i;
	struct nb_entry *e;

	if (!is_ext(nb, dst))
		return SIM_PASS; /* transit or for the router's other addresses */
	if (has_ports(proto)) {
		if (frag != 0) {
			nb->ctr[NAT_BASIC_CTR_DROP_FRAGMENT]++;
			return SIM_DROP;
		}
		if (len < hl + l4_need(proto)) {
			nb->ctr[NAT_BASIC_CTR_DROP_MALFORMED]++;
			return SIM_DROP;
		}
		if (proto == IPV4_PROTO_ICMP) {
			uint8_t type = b[hl];

			if (icmp_is_error(type))
				return nb_icmp_error(nb, now, b, len, hl, SIM_NAT_OUT2IN);
			if (type != ICMP_ECHO_REPLY) {
				/* An echo request to the router itself: its stack answers. */
				nb->ctr[NAT_BASIC_CTR_OUT2IN_NO_MAPPING]++;
				return SIM_PASS;
			}
			id = sp_load_be16(b + hl + ICMP_OFF_ID);
		} else {
			id = sp_load_be16(b + hl + 2); /* destination port */
		}
	}
	if ((i = out_lookup(nb, proto, dst, out_k2(proto, id, src))) == 0) {
		nb->ctr[NAT_BASIC_CTR_OUT2IN_NO_MAPPING]++;
		return SIM_PASS;
	}
	e = &nb->e[i - 1];
	if (has_ports(proto))
		l4_rewrite(b + hl, len - hl, proto, false, dst, e->in_addr, e->in_id);
	ipv4_set_dst(b, e->in_addr);
	entry_touch(nb, i, now);
	nb->ctr[NAT_BASIC_CTR_OUT2IN]++;
	return SIM_PASS;
}

/* ---- engine ops --------------------------------------------------------------------- */

static enum sim_verdict nb_input(void *ctx, sp_time now, struct pkt *p, enum sim_nat_dir dir)
{
	struct nb *nb = ctx;
	uint8_t *b = pkt_data(p);
	size_t hl;

	/* The node validated the IPv4 header; the transport header is checked here. */
	hl = (size_t)(b[0] & 0x0f) * 4;
	switch (dir) {
	case SIM_NAT_IN2OUT:
		return nb_in2out(nb, now, b, p->len, hl);
	case SIM_NAT_OUT2IN:
		return nb_out2in(nb, now, b, p->len, hl);
	default:
		return SIM_PASS; /* no protocol with the clients: the router's stack answers */
	}
}

static sp_time nb_next_deadline(void *ctx)
{
	const struct nb *nb = ctx;
	sp_time t = SP_TIME_NEVER;

	for (int c = 0; c < CLS_N; c++) {
		uint32_t h = nb->lru[c].head;

		if (h != 0)
			t = sp_time_min(t, nb->e[h - 1].last + nb->timeout[c]);
	}
	return t;
}

static void nb_tick(void *ctx, sp_time now)
{
	struct nb *nb = ctx;

	for (int c = 0; c < CLS_N; c++) {
		uint32_t h;

		while ((h = nb->lru[c].head) != 0 && nb->e[h - 1].last + nb->timeout[c] <= now) {
			SP_DEBUG(nb->env->log, "nat", "%s entry of port %u expired",
				 proto_name(nb->e[h - 1].proto), nb->e[h - 1].ext_id);
			entry_del(nb, h);
			nb->ctr[NAT_BASIC_CTR_EXPIRED]++;
		}
	}
}

static void nb_reset(void *ctx, sp_time now)
{
	(void)now;
	nb_clear(ctx);
}

static void nb_report(void *ctx, struct sim_nat_report *r)
{
	const struct nb *nb = ctx;

	r->entries = nb->used;
	r->bytes = (uint64_t)nb->used * sizeof(struct nb_entry);
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPV4_PROTO_UDP:
		return "udp";
	case IPV4_PROTO_TCP:
		return "tcp";
	case IPV4_PROTO_ICMP:
		return "icmp";
	case IPV4_PROTO_ESP:
		return "esp";
	case IPV4_PROTO_AH:
		return "ah";
	default:
		return "ip";
	}
}

static void nb_show(void *ctx, FILE *f)
{
	const struct nb *nb = ctx;
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN], c[SP_IP4_STRLEN];

	fprintf(f, "address-only NAT: %u entries\n", nb->used);
	/* LRU order per class: deterministic, oldest first. */
	for (int k = 0; k < CLS_N; k++) {
		for (uint32_t i = nb->lru[k].head; i != 0; i = nb->e[i - 1].next) {
			const struct nb_entry *e = &nb->e[i - 1];

			fprintf(f, "  %-4s %s:%u -> %s:%u  peer %s  last %.3fs\n",
				proto_name(e->proto), sp_ip4_fmt(e->in_addr, a), e->in_id,
				sp_ip4_fmt(e->ext_addr, b), e->ext_id, sp_ip4_fmt(e->remote, c),
				sp_time_sec(e->last));
		}
	}
}

static void nb_destroy(void *ctx)
{
	struct nb *nb = ctx;

	if (nb == NULL)
		return;
	sp_ctr_unregister(nb->env->ctrs, &nb->blk);
	free(nb->e);
	free(nb->in_head);
	free(nb->out_head);
	free(nb);
}

static int nb_create(void **ctx, struct sim_nat_env *env, const void *cfgp, sp_time now)
{
	const struct sim_nat_basic_cfg *cfg = cfgp;
	struct nb *nb;
	uint32_t nbuckets = 1;

	(void)now;
	*ctx = NULL;
	if (env->next == 0)
		return SP_EINVAL;
	if ((nb = calloc(1, sizeof(*nb))) == NULL)
		return SP_ENOMEM;
	nb->env = env;
	if (cfg != NULL)
		nb->cfg = *cfg;
	if (nb->cfg.max_entries == 0)
		nb->cfg.max_entries = 16384;
	if (nb->cfg.port_min == 0)
		nb->cfg.port_min = 1024;
	if (nb->cfg.port_max == 0)
		nb->cfg.port_max = 65535;
	if (nb->cfg.port_min > nb->cfg.port_max || nb->cfg.max_entries > (1u << 24)) {
		free(nb);
		return SP_EINVAL;
	}
	nb->timeout[CLS_UDP] = nb->cfg.udp_timeout ? nb->cfg.udp_timeout : SP_SEC(120);
	nb->timeout[CLS_TCP] = nb->cfg.tcp_timeout ? nb->cfg.tcp_timeout : SP_SEC(7440);
	nb->timeout[CLS_ICMP] = nb->cfg.icmp_timeout ? nb->cfg.icmp_timeout : SP_SEC(60);
	nb->timeout[CLS_OTHER] = nb->cfg.other_timeout ? nb->cfg.other_timeout : SP_SEC(600);
	nb->max = nb->cfg.max_entries;
	while (nbuckets < nb->max)
		nbuckets <<= 1;
	nb->mask = nbuckets - 1;
	nb->e = calloc(nb->max, sizeof(*nb->e));
	nb->in_head = calloc(nbuckets, sizeof(*nb->in_head));
	nb->out_head = calloc(nbuckets, sizeof(*nb->out_head));
	if (nb->e == NULL || nb->in_head == NULL || nb->out_head == NULL) {
		free(nb->e);
		free(nb->in_head);
		free(nb->out_head);
		free(nb);
		return SP_ENOMEM;
	}
	nb_clear(nb);
	sp_ctrs_init(&nb->blk, "nat", env->node->name, nb_ctr_names, nb->ctr, NAT_BASIC_CTR_N);
	sp_ctr_register(env->ctrs, &nb->blk);
	*ctx = nb;
	return 0;
}

uint64_t sim_nat_basic_ctr(const void *ctx, enum nat_basic_ctr c)
{
	const struct nb *nb = ctx;

	return nb != NULL && c < NAT_BASIC_CTR_N ? nb->ctr[c] : 0;
}

const struct sim_nat_ops sim_nat_basic_ops = {
	.name = "basic",
	.create = nb_create,
	.input = nb_input,
	.next_deadline = nb_next_deadline,
	.tick = nb_tick,
	.reset = nb_reset,
	.report = nb_report,
	.show = nb_show,
	.destroy = nb_destroy,
};
