#include "ipsec/spd.h"
#include "base/addr.h"
#include "base/cursor.h"
#include "proto/ipv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void spd_init(struct spd *spd)
{
	memset(spd, 0, sizeof(*spd));
	spd->next_id = 1;
}

void spd_destroy(struct spd *spd)
{
	for (uint32_t i = 0; i < spd->n; i++)
		free(spd->pol[i]);
	free(spd->pol);
	memset(spd, 0, sizeof(*spd));
}

static bool before(const struct spd_policy *a, const struct spd_policy *b)
{
	if (a->dir != b->dir)
		return a->dir < b->dir;
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->id < b->id;
}

int spd_add(struct spd *spd, const struct spd_policy_params *p, uint32_t *id)
{
	struct spd_policy *pol;
	uint32_t at;

	if (p->dir > SA_DIR_OUT || p->action > SPD_DISCARD || p->sel.src_len > 32 ||
	    p->sel.dst_len > 32 || p->sel.sport_lo > p->sel.sport_hi ||
	    p->sel.dport_lo > p->sel.dport_hi)
		return SP_EINVAL;
	if (p->action == SPD_PROTECT &&
	    ((p->proto != IPV4_PROTO_ESP && p->proto != IPV4_PROTO_AH) || p->mode > SA_MODE_TUNNEL))
		return SP_EINVAL;
	if (spd->n == spd->cap) {
		uint32_t cap = spd->cap ? 2 * spd->cap : 8;
		struct spd_policy **n = realloc(spd->pol, cap * sizeof(*n));

		if (n == NULL)
			return SP_ENOMEM;
		spd->pol = n;
		spd->cap = cap;
	}
	if ((pol = calloc(1, sizeof(*pol))) == NULL)
		return SP_ENOMEM;
	pol->id = spd->next_id++;
	pol->dir = p->dir;
	pol->priority = p->priority;
	pol->sel = p->sel;
	/* Keep only the network part of the selector addresses. */
	pol->sel.src &= sp_ip4_mask(p->sel.src_len);
	pol->sel.dst &= sp_ip4_mask(p->sel.dst_len);
	pol->action = p->action;
	pol->proto = p->proto;
	pol->mode = p->mode;
	pol->reqid = p->reqid;
	pol->tun_src = p->tun_src;
	pol->tun_dst = p->tun_dst;
	snprintf(pol->name, sizeof(pol->name), "%s", p->name ? p->name : "");
	for (at = spd->n; at > 0 && before(pol, spd->pol[at - 1]); at--)
		spd->pol[at] = spd->pol[at - 1];
	spd->pol[at] = pol;
	spd->n++;
	if (id != NULL)
		*id = pol->id;
	return 0;
}

int spd_del(struct spd *spd, uint32_t id)
{
	for (uint32_t i = 0; i < spd->n; i++) {
		if (spd->pol[i]->id != id)
			continue;
		free(spd->pol[i]);
		memmove(&spd->pol[i], &spd->pol[i + 1], (spd->n - i - 1) * sizeof(*spd->pol));
		spd->n--;
		return 0;
	}
	return SP_ENOTFOUND;
}

struct spd_policy *spd_get(const struct spd *spd, uint32_t id)
{
	for (uint32_t i = 0; i < spd->n; i++)
		if (spd->pol[i]->id == id)
			return spd->pol[i];
	return NULL;
}

bool spd_sel_match(const struct spd_sel *s, const struct spd_tuple *t)
{
	return sp_ip4_in_prefix(t->src, s->src, s->src_len) &&
	       sp_ip4_in_prefix(t->dst, s->dst, s->dst_len) &&
	       (s->proto == 0 || s->proto == t->proto) && t->sport >= s->sport_lo &&
	       t->sport <= s->sport_hi && t->dport >= s->dport_lo && t->dport <= s->dport_hi;
}

struct spd_policy *spd_lookup(const struct spd *spd, uint8_t dir, const struct spd_tuple *t)
{
	for (uint32_t i = 0; i < spd->n; i++) {
		struct spd_policy *p = spd->pol[i];

		if (p->dir == dir && spd_sel_match(&p->sel, t))
			return p;
	}
	return NULL;
}

struct spd_policy *spd_next(const struct spd *spd, const struct spd_policy *prev)
{
	uint32_t i = 0;

	if (prev != NULL) {
		while (i < spd->n && spd->pol[i] != prev)
			i++;
		i++;
	}
	return i < spd->n ? spd->pol[i] : NULL;
}

void spd_tuple_of(const uint8_t *ip, size_t len, struct spd_tuple *t)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t frag = sp_load_be16(ip + IPV4_OFF_FRAG);

	t->src = sp_load_be32(ip + IPV4_OFF_SRC);
	t->dst = sp_load_be32(ip + IPV4_OFF_DST);
	t->proto = ip[IPV4_OFF_PROTO];
	t->sport = t->dport = 0;
	if ((frag & IPV4_FRAG_MASK) != 0 || hl > len)
		return;
	switch (t->proto) {
	case IPV4_PROTO_TCP:
	case IPV4_PROTO_UDP:
		if (len - hl >= 4) {
			t->sport = sp_load_be16(ip + hl);
			t->dport = sp_load_be16(ip + hl + 2);
		}
		break;
	case IPV4_PROTO_ICMP:
		if (len - hl >= 2) {
			t->sport = ip[hl];
			t->dport = ip[hl + 1];
		}
		break;
	}
}
