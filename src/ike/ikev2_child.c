/*
 * CHILD SAs: proposal choice (RFC 7296 2.7, 3.3.6), traffic selector narrowing (2.9),
 * KEYMAT and installation through the kernel ops (2.17), lifetimes with rekey margin and
 * fuzz (003: rekey at a random time in [t0 + keylife - (1 + rekeyfuzz) * rekeymargin,
 * t0 + keylife - rekeymargin], expiry at t0 + keylife).
 */
#include "ike/ike_priv.h"

#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

size_t ike_child_props(const struct ike_conn *c, uint32_t spi, bool pfs, struct ikev2_algs *out)
{
	for (size_t i = 0; i < c->n_child_props; i++) {
		out[i] = c->child_props[i];
		out[i].spi = spi;
		out[i].num = 0;
		/* 1.2: IKE_AUTH carries no KE payload, so its CHILD SA has no PFS group. */
		if (!pfs)
			out[i].dh = 0;
	}
	return c->n_child_props;
}

static bool has_xf(const struct ikev2_prop *p, uint8_t type, uint16_t id, uint16_t keylen)
{
	for (unsigned i = 0; i < p->nxf[type - 1]; i++)
		if (p->xf[type - 1][i].id == id &&
		    (type != IKEV2_XF_ENCR || p->xf[type - 1][i].keylen == keylen))
			return true;
	return false;
}

/* A peer proposal matches one of ours: every transform type the peer lists has our choice
 * among its IDs, and every type we need is listed. */
static bool prop_matches(const struct ikev2_prop *p, const struct ikev2_algs *m, bool dh_used)
{
	if (m->encr != 0 ? !has_xf(p, IKEV2_XF_ENCR, m->encr, m->encr_keylen)
			 : p->nxf[IKEV2_XF_ENCR - 1] > 0)
		return false;
	if (m->prf != 0 ? !has_xf(p, IKEV2_XF_PRF, m->prf, 0) : p->nxf[IKEV2_XF_PRF - 1] > 0)
		return false;
	/* An AEAD proposal may list INTEG NONE (3.3.3); otherwise none at all. */
	if (m->integ != 0) {
		if (!has_xf(p, IKEV2_XF_INTEG, m->integ, 0))
			return false;
	} else if (p->nxf[IKEV2_XF_INTEG - 1] > 0 && !has_xf(p, IKEV2_XF_INTEG, 0, 0)) {
		return false;
	}
	if (dh_used) {
		if (m->dh != 0 ? !has_xf(p, IKEV2_XF_DH, m->dh, 0)
			       : (p->nxf[IKEV2_XF_DH - 1] > 0 && !has_xf(p, IKEV2_XF_DH, 0, 0)))
			return false;
	}
	if (m->proto != IKE_PROTO_IKE && p->nxf[IKEV2_XF_ESN - 1] > 0 &&
	    !has_xf(p, IKEV2_XF_ESN, m->esn, 0))
		return false;
	return true;
}

static int select_from(const struct ikev2_algs *mine, size_t n_mine, struct cur sa, uint8_t proto,
		       uint8_t spi_size, bool dh_used, struct ikev2_algs *out)
{
	struct ikev2_prop props[IKEV2_PROP_MAX];
	size_t n;
	int r;

	if ((r = ikev2_sa_parse(sa, props, IKEV2_PROP_MAX, &n)) != 0)
		return r;
	/* 2.7: the responder picks one of the initiator's proposals; spinat takes the first
	 * of the peer's (in the peer's order of preference) that one of ours matches. */
	for (size_t i = 0; i < n; i++) {
		const struct ikev2_prop *p = &props[i];

		if (p->unusable || p->proto != proto || p->spi_size != spi_size)
			continue;
		if (spi_size == 4 && p->spi < 256)
			continue;
		for (size_t j = 0; j < n_mine; j++) {
			if (!prop_matches(p, &mine[j], dh_used))
				continue;
			*out = mine[j];
			if (!dh_used)
				out->dh = 0;
			out->spi = p->spi;
			out->num = p->num;
			return 0;
		}
	}
	return SP_ENOTFOUND;
}

int ike_child_select(const struct ike_conn *c, const struct ikev2_msg *m, bool pfs_allowed,
		     struct ikev2_algs *out)
{
	if (!ikev2_msg_has(m, IKEV2_PLD_SA))
		return SP_EMALFORMED;
	return select_from(c->child_props, c->n_child_props, m->sa, c->child_proto, 4, pfs_allowed,
			   out);
}

int ike_ike_select(const struct ike_conn *c, struct cur sa, bool rekey, struct ikev2_algs *out)
{
	return select_from(c->ike_props, c->n_ike_props, sa, IKE_PROTO_IKE, rekey ? 8 : 0, true,
			   out);
}

/* Intersection of two selectors (2.9); false when empty. */
static bool ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out)
{
	if (a->ts_proto != 0 && b->ts_proto != 0 && a->ts_proto != b->ts_proto)
		return false;
	out->ts_proto = a->ts_proto != 0 ? a->ts_proto : b->ts_proto;
	out->ts_start = SP_MAX(a->ts_start, b->ts_start);
	out->ts_end = SP_MIN(a->ts_end, b->ts_end);
	out->ts_port_start = SP_MAX(a->ts_port_start, b->ts_port_start);
	out->ts_port_end = SP_MIN(a->ts_port_end, b->ts_port_end);
	return out->ts_start <= out->ts_end && out->ts_port_start <= out->ts_port_end;
}

static uint8_t ts_narrow_list(const struct ike_ts *peer, uint8_t np, const struct ike_ts *mine,
			      uint8_t nm, struct ike_ts *out)
{
	uint8_t n = 0;

	for (uint8_t i = 0; i < np; i++)
		for (uint8_t j = 0; j < nm && n < IKE_TS_MAX; j++)
			if (ts_intersect(&peer[i], &mine[j], &out[n]))
				n++;
	return n;
}

static bool ts_equal(const struct ike_ts *a, const struct ike_ts *b)
{
	return a->ts_start == b->ts_start && a->ts_end == b->ts_end &&
	       a->ts_port_start == b->ts_port_start && a->ts_port_end == b->ts_port_end &&
	       a->ts_proto == b->ts_proto;
}

/* Each entry equal to one of from[] becomes the matching to[] (ike_conn_set_public). */
static void ts_map(const struct ike_ts *from, const struct ike_ts *to, uint8_t nmap,
		   const struct ike_ts *in, uint8_t n, struct ike_ts *out)
{
	for (uint8_t i = 0; i < n; i++) {
		out[i] = in[i];
		for (uint8_t k = 0; k < nmap; k++)
			if (ts_equal(&in[i], &from[k])) {
				out[i] = to[k];
				break;
			}
	}
}

void ike_ts_public(const struct ike_conn *c, const struct ike_ts *in, uint8_t n, struct ike_ts *out)
{
	ts_map(c->local_ts, c->public_ts, c->n_public_ts, in, n, out);
}

int ike_ts_narrow(const struct ike_conn *c, const struct ikev2_msg *m, bool responder,
		  struct ike_child *ch)
{
	struct ike_ts ours[IKE_TS_MAX];

	if (!ikev2_msg_has(m, IKEV2_PLD_TSI) || !ikev2_msg_has(m, IKEV2_PLD_TSR))
		return SP_EMALFORMED;
	(void)responder;
	/* The initiator's TSi is its side: our remote; its TSr is ours, as the peer sees it. */
	ts_map(c->public_ts, c->local_ts, c->n_public_ts, m->tsr, m->ntsr, ours);
	ch->n_ts_remote =
		ts_narrow_list(m->tsi, m->ntsi, c->remote_ts, c->n_remote_ts, ch->ts_remote);
	ch->n_ts_local = ts_narrow_list(ours, m->ntsr, c->local_ts, c->n_local_ts, ch->ts_local);
	return ch->n_ts_remote > 0 && ch->n_ts_local > 0 ? 0 : SP_ENOTFOUND;
}

static bool ts_within(const struct ike_ts *t, const struct ike_ts *set, uint8_t n)
{
	struct ike_ts x;

	for (uint8_t i = 0; i < n; i++)
		if (ts_intersect(t, &set[i], &x) && x.ts_start == t->ts_start &&
		    x.ts_end == t->ts_end && x.ts_port_start == t->ts_port_start &&
		    x.ts_port_end == t->ts_port_end && x.ts_proto == t->ts_proto)
			return true;
	return false;
}

int ike_ts_accept(const struct ike_conn *c, const struct ikev2_msg *m, struct ike_child *ch)
{
	struct ike_ts ours[IKE_TS_MAX];

	if (!ikev2_msg_has(m, IKEV2_PLD_TSI) || !ikev2_msg_has(m, IKEV2_PLD_TSR))
		return SP_EMALFORMED;
	/* TSi is our side as the peer sees it; our policies keep the selectors as they are. */
	ts_map(c->public_ts, c->local_ts, c->n_public_ts, m->tsi, m->ntsi, ours);
	/* The responder may narrow, never widen (2.9). */
	for (uint8_t i = 0; i < m->ntsi; i++)
		if (!ts_within(&ours[i], c->local_ts, c->n_local_ts))
			return SP_ENOTFOUND;
	for (uint8_t i = 0; i < m->ntsr; i++)
		if (!ts_within(&m->tsr[i], c->remote_ts, c->n_remote_ts))
			return SP_ENOTFOUND;
	memcpy(ch->ts_local, ours, m->ntsi * sizeof(struct ike_ts));
	memcpy(ch->ts_remote, m->tsr, m->ntsr * sizeof(struct ike_ts));
	ch->n_ts_local = m->ntsi;
	ch->n_ts_remote = m->ntsr;
	return 0;
}

struct ike_child *ike_child_new(struct ike_sa *sa, const struct ike_conn *c)
{
	struct ike_child *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	ch->conn = c;
	ch->proto = c->child_proto;
	ch->tunnel = c->tunnel;
	/* A connection open to any peer serves many, each with its own selectors: every
	 * CHILD SA it makes gets a reqid of its own (a rekey then takes over the old one's),
	 * so the data plane keeps one set of policies per peer. */
	ch->reqid = c->remote != 0 ? c->reqid : sa->ike->next_reqid++;
	return ch;
}

sp_time ike_rekey_time(struct ike *ike, sp_time t0, sp_time life, sp_time margin, uint32_t fuzz)
{
	/* 003: at a random time in [t0 + life - (1 + fuzz) * margin, t0 + life - margin]. */
	sp_time span = margin * fuzz / 100, off = 0;

	if (span > 0)
		off = (sp_time)(sp_rng_unit(ike->p.rng) * (double)span);
	return t0 + life - margin - off;
}

void ike_child_schedule(struct ike_sa *sa, struct ike_child *ch, sp_time now)
{
	const struct ike_conn *c = ch->conn;

	ch->installed = now;
	ch->expire_at = now + c->keylife;
	ch->rekey_at =
		c->rekey ? ike_rekey_time(sa->ike, now, c->keylife, c->rekeymargin, c->rekeyfuzz)
			 : SP_TIME_NEVER;
}

static void fill_sa(const struct ike_sa *sa, const struct ike_child *ch, bool inbound,
		    struct ike_child_sa *k)
{
	memset(k, 0, sizeof(*k));
	k->conn = ch->conn->name;
	k->reqid = ch->reqid;
	k->proto = ch->proto;
	k->inbound = inbound;
	k->tunnel = ch->tunnel;
	k->spi = inbound ? ch->spi_in : ch->spi_out;
	k->src = inbound ? sa->path.remote_addr : sa->path.local_addr;
	k->dst = inbound ? sa->path.local_addr : sa->path.remote_addr;
	k->encap = ch->encap;
	k->encap_sport = inbound ? sa->path.remote_port : sa->path.local_port;
	k->encap_dport = inbound ? sa->path.local_port : sa->path.remote_port;
	k->follow = ch->encap && ike_sa_may_follow(sa);
	k->encr = ch->algs.encr;
	k->encr_keylen = ch->algs.encr_keylen;
	k->integ = ch->algs.integ;
	k->esn = ch->algs.esn == IKEV2_ESN_YES;
	k->ts_local = ch->ts_local;
	k->ts_remote = ch->ts_remote;
	k->n_ts_local = ch->n_ts_local;
	k->n_ts_remote = ch->n_ts_remote;
}

int ike_child_install(struct ike_sa *sa, struct ike_child *ch, sp_time now, bool we_initiated,
		      const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
		      const uint8_t *nr, size_t nr_len)
{
	struct ike *ike = sa->ike;
	uint8_t km[2 * (36 + 64)];
	struct ike_child_sa in, out;
	size_t ekey, akey;
	const uint8_t *i2r, *r2i;
	int r;

	if ((r = ike_keys_child(&sa->keys, &ch->algs, gir, gir_len, ni, ni_len, nr, nr_len, km,
				&ekey, &akey)) != 0)
		return r;
	/* 2.17: the first keys protect initiator -> responder of this exchange. */
	i2r = km;
	r2i = km + ekey + akey;
	ch->encap = ch->conn->encap == IKE_ENCAP_FORCE ||
		    (ch->conn->encap == IKE_ENCAP_AUTO && (sa->nat_local || sa->nat_remote));
	fill_sa(sa, ch, true, &in);
	fill_sa(sa, ch, false, &out);
	in.encr_key = we_initiated ? r2i : i2r;
	out.encr_key = we_initiated ? i2r : r2i;
	in.encr_key_len = out.encr_key_len = ekey;
	in.integ_key = in.encr_key + ekey;
	out.integ_key = out.encr_key + ekey;
	in.integ_key_len = out.integ_key_len = akey;
	r = 0;
	if (ike->p.kernel.sa_add != NULL) {
		if ((r = ike->p.kernel.sa_add(ike->p.kernel.arg, now, &in, false)) == 0 &&
		    (r = ike->p.kernel.sa_add(ike->p.kernel.arg, now, &out,
					      !ch->conn->epoch_guard)) != 0)
			ike->p.kernel.sa_del(ike->p.kernel.arg, ch->proto, ch->spi_in, true, in.dst,
					     ch->reqid);
	}
	crypto_wipe(km, sizeof(km));
	if (r != 0) {
		ike_ctr(ike, IKE_CTR_KERNEL_FAIL);
		IKE_LOG(ike, SP_LOG_ERR, "%s: installing CHILD SA %08x/%08x failed: %s",
			ch->conn->name, ch->spi_in, ch->spi_out, sp_strerror(r));
		return r;
	}
	ch->installed_kernel = ike->p.kernel.sa_add != NULL;
	ch->state = IKE_CHILD_INSTALLED;
	ike_child_schedule(sa, ch, now);
	ch->next = sa->children;
	sa->children = ch;
	return 0;
}

void ike_child_remove(struct ike_sa *sa, struct ike_child *ch, bool notify)
{
	struct ike *ike = sa->ike;

	for (struct ike_child **pp = &sa->children; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	}
	for (struct ike_child *o = sa->children; o != NULL; o = o->next) {
		if (o->peer_rekey == ch)
			o->peer_rekey = NULL;
		if (o->replaced_by == ch)
			o->replaced_by = NULL;
	}
	if (sa->req.child == ch)
		sa->req.child = NULL;
	if (ch->installed_kernel && ike->p.kernel.sa_del != NULL) {
		ike->p.kernel.sa_del(ike->p.kernel.arg, ch->proto, ch->spi_in, true,
				     sa->path.local_addr, ch->reqid);
		ike->p.kernel.sa_del(ike->p.kernel.arg, ch->proto, ch->spi_out, false,
				     sa->path.remote_addr, ch->reqid);
	}
	if (notify) {
		ike_ctr(ike, IKE_CTR_CHILD_DELETED);
		ike_event(ike, sa, ch, IKE_EV_CHILD_DELETED, false, NULL);
	}
	free(ch);
}

void ike_child_move(struct ike_sa *sa, struct ike_child *ch)
{
	struct ike *ike = sa->ike;
	struct ike_child_sa k;

	if (!ch->installed_kernel || ike->p.kernel.sa_move == NULL)
		return;
	for (int in = 0; in < 2; in++) {
		int r;

		fill_sa(sa, ch, in != 0, &k);
		if ((r = ike->p.kernel.sa_move(ike->p.kernel.arg, &k)) != 0) {
			ike_ctr(ike, IKE_CTR_KERNEL_FAIL);
			IKE_LOG(ike, SP_LOG_ERR, "%s: moving CHILD SA %08x_%s failed: %s",
				ch->conn->name, k.spi, in ? "i" : "o", sp_strerror(r));
		}
	}
}

struct ike_child *ike_child_by_spi(struct ike_sa *sa, uint8_t proto, uint32_t spi, bool inbound)
{
	for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
		if (ch->proto == proto && (inbound ? ch->spi_in : ch->spi_out) == spi)
			return ch;
	return NULL;
}

void ike_child_tick(struct ike_sa *sa, sp_time now)
{
	struct ike_child *ch, *next;

	for (ch = sa->children; ch != NULL; ch = next) {
		next = ch->next;
		if (now >= ch->expire_at) {
			/* Hard expiry: the SA must not be used any more; tell the peer. */
			IKE_LOG(sa->ike, SP_LOG_INFO, "%s: CHILD SA %08x/%08x expired",
				ch->conn->name, ch->spi_in, ch->spi_out);
			if (ch->state != IKE_CHILD_DELETING)
				ch->want_delete = true;
			continue;
		}
		if (ch->state == IKE_CHILD_INSTALLED && now >= ch->rekey_at && !ch->want_rekey) {
			ch->want_rekey = true;
			ch->rekey_at = SP_TIME_NEVER;
		}
	}
}

sp_time ike_child_deadline(const struct ike_sa *sa)
{
	sp_time t = SP_TIME_NEVER;

	for (const struct ike_child *ch = sa->children; ch != NULL; ch = ch->next) {
		if (!ch->want_delete)
			t = sp_time_min(t, ch->expire_at);
		if (ch->state == IKE_CHILD_INSTALLED && !ch->want_rekey)
			t = sp_time_min(t, ch->rekey_at);
	}
	return t;
}

/* ---- proposals as text, for the log lines of failures ---- */

static size_t xf_name(uint8_t type, uint16_t id, uint16_t keylen, char *out, size_t cap)
{
	const char *n = NULL;
	int len;

	switch (type) {
	case IKEV2_XF_ENCR:
		if (id == IKEV2_ENCR_AES_GCM_16)
			len = snprintf(out, cap, "aes%ugcm16", keylen);
		else if (id == IKEV2_ENCR_AES_CBC)
			len = snprintf(out, cap, "aes%u", keylen);
		else
			len = snprintf(out, cap, "encr%u", id);
		return len > 0 ? SP_MIN((size_t)len, cap - 1) : 0;
	case IKEV2_XF_INTEG:
		n = id == IKEV2_INTEG_HMAC_SHA2_256_128 ? "sha256" : NULL;
		break;
	case IKEV2_XF_PRF:
		n = strcmp(crypto_prf_name(id), "?") != 0 ? crypto_prf_name(id) : NULL;
		break;
	case IKEV2_XF_DH:
		n = strncmp(crypto_dh_name(id), "modp", 4) == 0 ||
				    strncmp(crypto_dh_name(id), "ecp", 3) == 0 ||
				    strcmp(crypto_dh_name(id), "curve25519") == 0
			    ? crypto_dh_name(id)
			    : NULL;
		break;
	case IKEV2_XF_ESN:
		n = id == IKEV2_ESN_YES ? "esn" : "noesn";
		break;
	default:
		break;
	}
	len = n != NULL ? snprintf(out, cap, "%s", n)
			: snprintf(out, cap, "%s%u",
				   type == IKEV2_XF_INTEG ? "integ"
				   : type == IKEV2_XF_PRF ? "prf"
				   : type == IKEV2_XF_DH  ? "dh"
							  : "xf",
				   id);
	return len > 0 ? SP_MIN((size_t)len, cap - 1) : 0;
}

/* Append "-name" (or "name" at the start of a proposal) to out. */
static void fmt_add(char *out, size_t cap, size_t *used, bool first, uint8_t type, uint16_t id,
		    uint16_t keylen)
{
	if (*used + 2 >= cap)
		return;
	if (!first)
		out[(*used)++] = '-';
	*used += xf_name(type, id, keylen, out + *used, cap - *used);
	out[*used] = 0;
}

static void fmt_sep(char *out, size_t cap, size_t *used)
{
	if (*used > 0 && *used + 3 < cap) {
		memcpy(out + *used, ", ", 3);
		*used += 2;
	}
}

void ike_props_fmt(const struct ikev2_algs *p, size_t n, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		bool first = true;

		fmt_sep(out, cap, &used);
		if (p[i].encr != 0) {
			fmt_add(out, cap, &used, first, IKEV2_XF_ENCR, p[i].encr, p[i].encr_keylen);
			first = false;
		}
		if (p[i].integ != 0) {
			fmt_add(out, cap, &used, first, IKEV2_XF_INTEG, p[i].integ, 0);
			first = false;
		}
		if (p[i].prf != 0) {
			fmt_add(out, cap, &used, first, IKEV2_XF_PRF, p[i].prf, 0);
			first = false;
		}
		if (p[i].dh != 0)
			fmt_add(out, cap, &used, first, IKEV2_XF_DH, p[i].dh, 0);
	}
	if (used == 0)
		snprintf(out, cap, "none");
}

void ike_props_fmt_peer(struct cur sa, char *out, size_t cap)
{
	struct ikev2_prop *p = calloc(IKEV2_PROP_MAX, sizeof(*p));
	size_t n = 0, used = 0;

	out[0] = 0;
	if (p == NULL || ikev2_sa_parse(sa, p, IKEV2_PROP_MAX, &n) != 0) {
		snprintf(out, cap, "(unreadable SA payload)");
		free(p);
		return;
	}
	/* The order of configurations: encryption, integrity, PRF, group, ESN; several of
	 * one type are each listed. */
	static const uint8_t order[] = { IKEV2_XF_ENCR, IKEV2_XF_INTEG, IKEV2_XF_PRF, IKEV2_XF_DH,
					 IKEV2_XF_ESN };

	for (size_t i = 0; i < n; i++) {
		bool first = true;

		fmt_sep(out, cap, &used);
		for (size_t t = 0; t < sizeof(order); t++) {
			uint8_t type = order[t];

			for (uint8_t k = 0; k < p[i].nxf[type - 1]; k++) {
				fmt_add(out, cap, &used, first, type, p[i].xf[type - 1][k].id,
					p[i].xf[type - 1][k].keylen);
				first = false;
			}
		}
		if (p[i].unusable && used + 12 < cap) {
			memcpy(out + used, " (unusable)", 12);
			used += 11;
		}
	}
	if (used == 0)
		snprintf(out, cap, "none");
	free(p);
}
