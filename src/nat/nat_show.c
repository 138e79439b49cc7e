/*
 * `spinat show nat`: the live table in the columns of 000 FIG. 5A/5B (protocol, inside
 * global, inside local, outside local, outside global; SPIs appended to addresses as the
 * figure does), then state and seconds left.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"

#include <stdlib.h>
#include <string.h>

struct show_item {
	struct nat_row r;
	uint32_t idx;
	sp_time expire;
};

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPV4_PROTO_TCP:
		return "tcp";
	case IPV4_PROTO_UDP:
		return "udp";
	case IPV4_PROTO_ICMP:
		return "icmp";
	case IPV4_PROTO_ESP:
		return "esp";
	case IPV4_PROTO_AH:
		return "ah";
	case IPV4_PROTO_IPIP:
		return "ipip";
	default:
		return "?";
	}
}

static const char *tcp_state(uint8_t s)
{
	if (s & NAT_TCP_RST)
		return "reset";
	if (s & (NAT_TCP_FIN_OUT | NAT_TCP_FIN_IN))
		return "closing";
	if (s & NAT_TCP_EST)
		return "established";
	return "opening";
}

static void napt_row(const struct nat_entry *e, struct nat_row *r)
{
	memset(r, 0, sizeof(*r));
	r->proto = e->k[0].proto;
	r->in_local = e->k[0].a;
	r->in_local_id = e->k[0].id;
	r->in_global = e->k[1].a;
	r->in_global_id = e->k[1].id;
	r->outside = e->out_addr;
	r->outside_id = e->out_port;
	r->has_in_local_id = r->has_in_global_id = r->has_outside_id = true;
	r->outbound = true;
	r->state = r->proto == IPV4_PROTO_TCP ? tcp_state(e->state) : "-";
}

static bool entry_row(const struct nat *n, const struct nat_entry *e, unsigned flags,
		      struct nat_row *r)
{
	memset(r, 0, sizeof(*r));
	switch (e->owner) {
	case NAT_O_NAPT:
		if (!(flags & NAT_SHOW_NAPT))
			return false;
		napt_row(e, r);
		return true;
	case NAT_O_IKE:
		return (flags & NAT_SHOW_IPSEC) && nat_ike_row(n, e, r);
	case NAT_O_STRAT:
		return (flags & NAT_SHOW_IPSEC) && n->strat->row(n, n->sctx, e, r);
	default:
		return false; /* fragment tracks and IKE recency are internal */
	}
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct show_item *a = pa, *b = pb;

	if (a->r.in_local != b->r.in_local)
		return a->r.in_local < b->r.in_local ? -1 : 1;
	if (a->r.proto != b->r.proto)
		return a->r.proto < b->r.proto ? -1 : 1;
	if (a->r.outbound != b->r.outbound)
		return a->r.outbound ? -1 : 1;
	if (a->r.in_local_id != b->r.in_local_id)
		return a->r.in_local_id < b->r.in_local_id ? -1 : 1;
	if (a->r.outside_id != b->r.outside_id)
		return a->r.outside_id < b->r.outside_id ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static const char *endpoint(char *buf, size_t len, uint32_t addr, bool has_id, uint32_t id,
			    bool spi)
{
	char a[SP_IP4_STRLEN];

	sp_ip4_fmt(addr, a);
	if (!has_id)
		snprintf(buf, len, "%s", a);
	else if (spi && id != 0)
		snprintf(buf, len, "%s:0x%08X", a, id);
	else
		snprintf(buf, len, "%s:%u", a, id);
	return buf;
}

/* An offloaded entry: the fast path's packets and bytes, and the expiry its last packet
 * implies (the engine refreshes its own when the old time comes, nat_offload.h). */
static void offload_info(const struct nat *n, uint32_t idx, struct show_item *it)
{
	struct nat_offload_desc d;
	struct nat_offload_use u;
	size_t len = strlen(it->r.info);

	nat_offload_describe(n, idx, &d);
	nat_offload_use_of(n, idx, &u);
	if (u.last != 0 && u.last + d.idle > it->expire)
		it->expire = u.last + d.idle;
	snprintf(it->r.info + len, sizeof(it->r.info) - len, "%sfast %llu pkts %llu B",
		 len ? " " : "", (unsigned long long)u.packets, (unsigned long long)u.bytes);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The same rows as JSON, with the columns named as in the text's header. */
static void show_json(const struct nat *n, sp_time now, FILE *f, const struct show_item *items,
		      uint32_t cnt, uint32_t limit)
{
	fputs("{\"rows\": [", f);
	for (uint32_t i = 0; i < cnt && (limit == 0 || i < limit); i++) {
		const struct nat_row *r = &items[i].r;
		char ig[40], il[40], out[40];
		sp_time left = items[i].expire - now;

		endpoint(ig, sizeof(ig), r->in_global, r->has_in_global_id, r->in_global_id,
			 r->spi_ids);
		endpoint(il, sizeof(il), r->in_local, r->has_in_local_id, r->in_local_id,
			 r->spi_ids);
		endpoint(out, sizeof(out), r->outside, r->has_outside_id, r->outside_id,
			 r->spi_ids);
		fprintf(f,
			"%s\n  {\"proto\": \"%s\", \"inside_global\": \"%s\", "
			"\"inside_local\": \"%s\", \"outside_local\": \"%s\", "
			"\"outside_global\": \"%s\", \"state\": ",
			i ? "," : "", proto_name(r->proto), ig, il, out, out);
		json_str(f, r->state ? r->state : "-");
		fprintf(f, ", \"expires_s\": %llu, \"info\": ",
			(unsigned long long)((left + SP_SEC(1) - 1) / SP_SEC(1)));
		json_str(f, r->info);
		fputc('}', f);
	}
	fprintf(f,
		"],\n \"rows_total\": %u, \"entries_used\": %u, \"entries_max\": %u, "
		"\"bytes\": %llu, \"strategy\": \"%s\"}\n",
		cnt, n->tab.used, n->tab.max, (unsigned long long)n->tab.bytes, n->strat->name);
}

void nat_show(const struct nat *n, sp_time now, FILE *f, unsigned flags, uint32_t limit)
{
	struct show_item *items;
	uint32_t cnt = 0;

	if ((items = calloc(n->tab.used ? n->tab.used : 1, sizeof(*items))) == NULL) {
		fprintf(f, "(out of memory)\n");
		return;
	}
	for (uint32_t i = 0; i < n->tab.max && cnt < n->tab.used; i++) {
		const struct nat_entry *e = nat_entry_at(&n->tab, i);

		bool offl = nat_offload_is(n, i);

		/* an offloaded entry lives by the kernel's use until the wheel next looks */
		if (e->owner == NAT_O_FREE || (!offl && !nat_entry_live(e, now)))
			continue;
		if (entry_row(n, e, flags, &items[cnt].r)) {
			items[cnt].idx = i;
			items[cnt].expire = nat_entry_expiry(e, now);
			if (offl)
				offload_info(n, i, &items[cnt]);
			if (items[cnt].expire > now)
				cnt++;
		}
	}
	qsort(items, cnt, sizeof(*items), cmp_item);
	if (flags & NAT_SHOW_JSON) {
		show_json(n, now, f, items, cnt, limit);
		free(items);
		return;
	}
	fprintf(f, "%-5s %-22s %-22s %-24s %-24s %-16s %7s\n", "Pro", "Inside global",
		"Inside local", "Outside local", "Outside global", "State", "Expires");
	for (uint32_t i = 0; i < cnt && (limit == 0 || i < limit); i++) {
		const struct nat_row *r = &items[i].r;
		char ig[40], il[40], out[40];
		sp_time left = items[i].expire - now;

		endpoint(ig, sizeof(ig), r->in_global, r->has_in_global_id, r->in_global_id,
			 r->spi_ids);
		endpoint(il, sizeof(il), r->in_local, r->has_in_local_id, r->in_local_id,
			 r->spi_ids);
		endpoint(out, sizeof(out), r->outside, r->has_outside_id, r->outside_id,
			 r->spi_ids);
		fprintf(f, "%-5s %-22s %-22s %-24s %-24s %-16s %7llu%s%s\n", proto_name(r->proto),
			ig, il, out, out, r->state ? r->state : "-",
			(unsigned long long)((left + SP_SEC(1) - 1) / SP_SEC(1)),
			r->info[0] ? "  " : "", r->info);
	}
	if (limit != 0 && cnt > limit)
		fprintf(f, "... %u more\n", cnt - limit);
	fprintf(f, "%u rows; %u entries in use of %u (%llu bytes); strategy %s\n", cnt, n->tab.used,
		n->tab.max, (unsigned long long)n->tab.bytes, n->strat->name);
	if ((flags & NAT_SHOW_IPSEC) && n->strat->show != NULL)
		n->strat->show(n, n->sctx, now, f);
	free(items);
}
