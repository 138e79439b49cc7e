/*
 * spihash: 000's NAT. Inside hosts keep their SPIs; addresses are translated. An inbound
 * SPI with no association is matched against the SPIs inside hosts sent to that server,
 * in both directions ([0072]-[0075]), with the configured scheme (crypto/spihash_scheme.h).
 * A match stores the association as FIG. 5B does (a row with the responder SPI in the
 * outside column and the inside local address with SPI 0) and forwards; no match drops
 * ([0084], block 370); matches for two different hosts are a collision ([0104]) and drop.
 * A rekey brings new SPIs that are matched again the same way ([0079]).
 *
 * Entries:
 *   outbound row (FIG. 5A rows 504, 508): k[0] = (proto, client, server, SPI) indexed,
 *     k[1] = (proto, global, server, 0) data; aux = its candidate entry while unmatched.
 *   inbound row (FIG. 5B rows 506, 510): k[0] = (proto, client, server, 0) data,
 *     k[1] = (proto, global, server, SPI) indexed.
 *   candidate (not shown): k[0] = (global, server, result(SPI)) indexed for "stored is the
 *     originator", k[1] = (global, server, SPI & mask) indexed for "received is the
 *     originator"; aux = its outbound row. The result value is computed once, when the
 *     SPI is first seen (000 [0100], [0103]), so matching costs one hash of the received
 *     SPI and two lookups however many SAs wait.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"
#include "base/conf.h"
#include "crypto/spihash_scheme.h"

#define K_OUT (NAT_K_STRAT + 0)
#define K_IN  (NAT_K_STRAT + 1)
#define K_FWD (NAT_K_STRAT + 2)
#define K_REV (NAT_K_STRAT + 3)

#define ROW_OUT	    1
#define ROW_IN	    2
#define ROW_CAND    3
#define ROW_MATCHED 0x10

#define MATCH_MAX 8

#define foreach_spihash_ctr(_)                               \
	_(ROWS, "spihash_outbound_rows_created")             \
	_(MATCH_STORED, "spihash_matched_stored_originator") \
	_(MATCH_RECV, "spihash_matched_received_originator") \
	_(DROP_NO_MATCH, "spihash_drop_no_match")            \
	_(DROP_AMBIGUOUS, "spihash_drop_collision")

enum spihash_ctr {
#define _(sym, str) SPIHASH_CTR_##sym,
	foreach_spihash_ctr(_)
#undef _
		SPIHASH_CTR_N
};

static const char *const spihash_ctr_names[] = { SP_CTR_NAMES(foreach_spihash_ctr) };

struct spihash_params {
	int scheme;
	sp_time timeout;
};
_Static_assert(sizeof(struct spihash_params) <= NAT_SPARAMS_SIZE, "params fit");

struct spihash_ctx {
	const struct nat_spihash_scheme *s;
	bool told_no_match; /* the one log line about a scheme mismatch is out */
};

static void spihash_defaults(void *params)
{
	struct spihash_params *p = params;

	p->scheme = NAT_SPIHASH_DEFAULT; /* the worked example's scheme, [0101] */
	p->timeout = SP_SEC(1800);
}

static int spihash_conf(struct conf_sec *s, void *params)
{
	struct spihash_params *p = params;
	int r;

	if ((r = conf_get_enum(s, "spihash_scheme", nat_spihash_scheme_names, p->scheme,
			       &p->scheme)) != 0 ||
	    (r = nat_conf_time(s, "spihash_timeout", p->timeout, &p->timeout)) != 0)
		return r;
	if (p->timeout == 0)
		return conf_fail(s, "spihash_timeout must be positive");
	return 0;
}

static int spihash_init(struct nat *n, void *ctx)
{
	const struct spihash_params *par = nat_sparams(n);
	struct spihash_ctx *c = ctx;

	c->s = nat_spihash_scheme_get(par->scheme);
	return c->s == NULL ? SP_EINVAL : 0;
}

static void refresh_row(struct nat_table *t, uint32_t idx, sp_time expire, sp_time now)
{
	struct nat_entry *e = nat_entry_at(t, idx);

	nat_table_schedule(t, idx, expire, now);
	if (e->state == ROW_OUT && e->aux != NAT_NIL)
		nat_table_schedule(t, e->aux, expire, now);
}

static int spihash_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			  struct pkt *p)
{
	const struct spihash_params *par = nat_sparams(n);
	const struct spihash_ctx *c = ctx;
	struct nat_table *t = nat_table_of(n);
	struct nat_entry *row, *cand;
	uint32_t idx, cidx;
	struct nat_key k;

	(void)p;
	nat_key_set(&k, K_OUT, ip->proto, ip->client, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) != NAT_NIL) {
		refresh_row(t, idx, now + par->timeout, now);
		if (nat_entry_at(t, idx)->state & ROW_MATCHED)
			nat_offload_settle(n, idx);
		return NAT_TO_OUTSIDE;
	}
	/* A new SPI (a new SA or a rekey, [0079]): FIG. 5A's row and its candidate. Both are
	 * taken before either is scheduled, so making room cannot evict the first. */
	if ((idx = nat_strat_alloc_for(n, now, ip->client, p)) == NAT_NIL)
		return NAT_DROP;
	if ((cidx = nat_strat_alloc(n, now)) == NAT_NIL) {
		nat_table_free(t, idx);
		return NAT_DROP;
	}
	row = nat_entry_at(t, idx);
	row->k[0] = k;
	nat_key_set(&row->k[1], NAT_K_NONE, ip->proto, ip->global, ip->server, 0);
	row->state = ROW_OUT;
	row->aux = cidx;
	nat_table_hash_add(t, idx, 0);
	nat_strat_charge(n, idx); /* the row counts for the client; its candidate goes with it */
	cand = nat_entry_at(t, cidx);
	nat_key_set(&cand->k[0], K_FWD, ip->proto, ip->global, ip->server,
		    nat_spihash_result(c->s, ip->spi));
	nat_key_set(&cand->k[1], K_REV, ip->proto, ip->global, ip->server, ip->spi & c->s->mask);
	cand->state = ROW_CAND;
	cand->aux = idx;
	nat_table_hash_add(t, cidx, 0);
	nat_table_hash_add(t, cidx, 1);
	nat_table_schedule(t, idx, now + par->timeout, now);
	nat_table_schedule(t, cidx, now + par->timeout, now);
	nat_sctr_inc(n, SPIHASH_CTR_ROWS, 1);
	return NAT_TO_OUTSIDE;
}

/* Collect the live candidates under key k into rows[] (distinct), noting the direction. */
static unsigned collect(struct nat_table *t, sp_time now, const struct nat_key *k, uint32_t *rows,
			unsigned cnt, bool *any)
{
	uint32_t it = NAT_NIL, idx;

	while ((idx = nat_table_next_match(t, k, &it)) != NAT_NIL) {
		const struct nat_entry *ce = nat_entry_at(t, idx);
		unsigned j;

		if (!nat_entry_live(ce, now) || ce->state != ROW_CAND)
			continue;
		*any = true;
		for (j = 0; j < cnt && rows[j] != ce->aux; j++)
			;
		if (j == cnt && cnt < MATCH_MAX)
			rows[cnt++] = ce->aux;
	}
	return cnt;
}

static int spihash_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			  struct pkt *p)
{
	const struct spihash_params *par = nat_sparams(n);
	struct spihash_ctx *c = ctx;
	struct nat_table *t = nat_table_of(n);
	uint32_t rows[MATCH_MAX], idx, client;
	bool stored_orig = false, recv_orig = false;
	struct nat_entry *e;
	struct nat_key k;
	unsigned cnt;

	(void)p;
	/* FIG. 3 block 320/330: an existing association. */
	nat_key_set(&k, K_IN, ip->proto, ip->global, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) != NAT_NIL) {
		e = nat_entry_at(t, idx);
		nat_table_schedule(t, idx, now + par->timeout, now);
		nat_offload_settle(n, idx);
		ip->client = e->k[0].a;
		return NAT_TO_INSIDE;
	}
	/* Block 350: analyse the SPI against the stored ones, both directions ([0075]). */
	nat_key_set(&k, K_FWD, ip->proto, ip->global, ip->server, ip->spi & c->s->mask);
	cnt = collect(t, now, &k, rows, 0, &stored_orig);
	nat_key_set(&k, K_REV, ip->proto, ip->global, ip->server,
		    nat_spihash_result(c->s, ip->spi));
	cnt = collect(t, now, &k, rows, cnt, &recv_orig);
	if (cnt == 0) {
		nat_sctr_inc(n, SPIHASH_CTR_DROP_NO_MATCH, 1); /* block 370 */
		if (!c->told_no_match) {
			char a[SP_IP4_STRLEN];

			/* Once: either no inside host has sent to this server since the NAT
			 * started (a restart loses every item until the clients send again), or
			 * the responder derives with another scheme; the drops say nothing more. */
			c->told_no_match = true;
			SP_INFO(n->env.log, "nat",
				"%s: SPI 0x%08x from %s matches no outbound SPI under scheme %s "
				"(spihash_drop_no_match; logged once): no inside host has sent to "
				"this server since the NAT started, or the responder derives its "
				"SPIs with another scheme (it must use [conn] spihash = %s)",
				n->name, ip->spi, sp_ip4_fmt(ip->server, a), c->s->name,
				c->s->name);
		}
		return NAT_DROP;
	}
	client = nat_entry_at(t, rows[0])->k[0].a;
	for (unsigned i = 1; i < cnt; i++) {
		if (nat_entry_at(t, rows[i])->k[0].a != client) {
			nat_sctr_inc(n, SPIHASH_CTR_DROP_AMBIGUOUS, 1); /* [0104] */
			return NAT_DROP;
		}
	}
	/* Block 380 and [0055]: store the association (FIG. 5B), forward. */
	if ((idx = nat_strat_alloc(n, now)) == NAT_NIL)
		return NAT_DROP;
	e = nat_entry_at(t, idx);
	nat_key_set(&e->k[0], NAT_K_NONE, ip->proto, client, ip->server, 0);
	nat_key_set(&e->k[1], K_IN, ip->proto, ip->global, ip->server, ip->spi);
	e->state = ROW_IN;
	e->aux = rows[0];
	nat_table_hash_add(t, idx, 1);
	nat_table_schedule(t, idx, now + par->timeout, now);
	for (unsigned i = 0; i < cnt; i++) {
		struct nat_entry *row = nat_entry_at(t, rows[i]);

		/* Matched: its candidate is no longer needed ([0106]: collisions are only
		 * possible before the match). */
		if (row->aux != NAT_NIL) {
			nat_table_free(t, row->aux);
			row->aux = NAT_NIL;
		}
		row->state = ROW_OUT | ROW_MATCHED;
		nat_offload_settle(n, rows[i]);
	}
	nat_offload_settle(n, idx);
	nat_sctr_inc(n, stored_orig ? SPIHASH_CTR_MATCH_STORED : SPIHASH_CTR_MATCH_RECV, 1);
	(void)recv_orig;
	ip->client = client;
	return NAT_TO_INSIDE;
}

static void spihash_expire(struct nat *n, void *ctx, uint32_t idx)
{
	struct nat_table *t = nat_table_of(n);
	struct nat_entry *e = nat_entry_at(t, idx);

	(void)ctx;
	if (e->state == ROW_OUT && e->aux != NAT_NIL)
		nat_table_free(t, e->aux);
	else if (e->state == ROW_CAND && e->aux != NAT_NIL)
		nat_entry_at(t, e->aux)->aux = NAT_NIL;
	nat_strat_free(n, idx);
}

static bool spihash_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
			struct nat_row *r)
{
	(void)n;
	(void)ctx;
	if ((e->state & 0x0f) == ROW_CAND)
		return false;
	/* FIG. 5A rows 504/508: the SPI appended to the inside local address */
	if ((e->state & 0x0f) == ROW_OUT) {
		nat_strat_item_row(e, true, false,
				   (e->state & ROW_MATCHED) ? "matched" : "unmatched", r);
		return true;
	}
	/* FIG. 5B rows 506/510: the responder SPI in the outside columns */
	nat_strat_item_row(e, true, true, "association", r);
	r->in_local_id = 0;
	r->outbound = false;
	return true;
}

/* A matched outbound row carries the inside host's SPI out; an association carries the
 * server's SPI in. Unmatched rows still need the engine (their candidate, [0072]). */
static void spihash_offload(const struct nat *n, const void *ctx, const struct nat_entry *e,
			    struct nat_offload_desc *d)
{
	const struct spihash_params *par = nat_sparams(n);

	(void)ctx;
	d->n = 0;
	if (e->state == (ROW_OUT | ROW_MATCHED))
		nat_strat_item_offload(e, true, false, par->timeout, d);
	else if (e->state == ROW_IN)
		nat_strat_item_offload(e, false, true, par->timeout, d);
}

const struct nat_strategy nat_strategy_spihash = {
	.name = "spihash",
	.help = "SPI-hash matching (000): inbound SPIs matched to outbound ones by a scheme",
	.defaults = spihash_defaults,
	.conf = spihash_conf,
	.ctx_size = sizeof(struct spihash_ctx),
	.ctr_names = spihash_ctr_names,
	.n_ctrs = SPIHASH_CTR_N,
	.init = spihash_init,
	.in2out = spihash_in2out,
	.out2in = spihash_out2in,
	.expire = spihash_expire,
	.row = spihash_row,
	.offload = spihash_offload,
	.host_of = nat_strat_item_host,
};
