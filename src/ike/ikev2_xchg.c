/*
 * Exchanges on an established IKE SA: CREATE_CHILD_SA to create or rekey a CHILD SA and to
 * rekey the IKE SA (RFC 7296 1.3, 2.8, 2.17, 2.18) with the simultaneous-rekey rules of
 * 2.8.1 and 2.8.2, and INFORMATIONAL for deletes and liveness (1.4, 2.4). Requests we
 * start come from the queue of wants in struct ike_sa and struct ike_child.
 */
#include "ike/ike_priv.h"

#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#define IKE_NONCE_LEN 32
#define DELETE_SPIS   16

/* ---- builders ---- */

struct ccs_arg {
	struct ikev2_algs props[IKE_PROPS_MAX];
	size_t nprops;
	uint8_t spi_size;
	const uint8_t *nonce;
	size_t nonce_len;
	const struct crypto_dh *dh;
	uint8_t rekey_proto;
	uint32_t rekey_spi;
	const struct ike_ts *tsi, *tsr;
	uint8_t ntsi, ntsr;
	bool transport;
};

static int build_ccs(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct ccs_arg *a = arg;
	struct ike_ts tsi[IKE_TS_MAX], tsr[IKE_TS_MAX];
	int r;

	/* 1.3.1 / 1.3.3: [N(REKEY_SA)], [N(USE_TRANSPORT_MODE)], SA, Nonce, [KE], [TSi, TSr] */
	if (a->rekey_proto != 0 && (r = ikev2_put_notify(w, a->rekey_proto, a->rekey_spi, 4,
							 IKEV2_N_REKEY_SA, NULL, 0)) != 0)
		return r;
	if (a->transport &&
	    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0)) != 0)
		return r;
	if ((r = ikev2_put_sa(w, a->props, a->nprops, a->spi_size)) != 0 ||
	    (r = ikev2_put_nonce(w, a->nonce, a->nonce_len)) != 0)
		return r;
	if (a->dh != NULL) {
		uint16_t g = crypto_dh_group(a->dh);

		if ((r = ikev2_put_ke(w, g, crypto_dh_pub(a->dh), crypto_dh_pub_len(g))) != 0)
			return r;
	}
	/* Our side as the peer sees it (ike_conn_set_public): TSi when we ask, TSr when we
	 * answer; the peer's side never equals one of our local_ts. */
	ike_ts_public(sa->conn, a->tsi, a->ntsi, tsi);
	ike_ts_public(sa->conn, a->tsr, a->ntsr, tsr);
	if (a->ntsi > 0 && ((r = ikev2_put_ts(w, IKEV2_PLD_TSI, tsi, a->ntsi)) != 0 ||
			    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, tsr, a->ntsr)) != 0))
		return r;
	return 0;
}

struct info_arg {
	bool del_ike;
	uint8_t proto;
	uint32_t spis[DELETE_SPIS];
	size_t n;
	uint16_t notify;
	const void *ndata;
	size_t nlen;
};

static int build_info(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct info_arg *a = arg;
	int r;

	(void)sa;
	if (a->notify != 0 && (r = ikev2_put_notify(w, 0, 0, 0, a->notify, a->ndata, a->nlen)) != 0)
		return r;
	if (a->del_ike)
		return ikev2_put_delete(w, IKE_PROTO_IKE, 0, NULL, 0);
	if (a->n > 0)
		return ikev2_put_delete(w, a->proto, 4, a->spis, a->n);
	return 0;
}

static void respond(struct ike_sa *sa, const struct ikev2_msg *m, ike_build_fn fn, void *arg)
{
	struct ike_wire msg;

	if (ike_msg_build(sa->ike, sa, m->hdr.ike_exch, true, m->hdr.ike_msgid, true, fn, arg,
			  &msg) == 0)
		ike_resp_send(sa, m->hdr.ike_msgid, &msg);
}

void ike_xchg_reply_error(struct ike_sa *sa, const struct ikev2_msg *m, uint16_t type,
			  const void *data, size_t len)
{
	struct info_arg a = { .notify = type, .ndata = data, .nlen = len };

	sa->msgid_expect = m->hdr.ike_msgid + 1;
	respond(sa, m, build_info, &a);
}

static int send_request(struct ike_sa *sa, sp_time now, uint8_t exch, enum ike_xchg_kind kind,
			ike_build_fn fn, void *arg)
{
	struct ike_wire msg;
	int r;

	if ((r = ike_msg_build(sa->ike, sa, exch, false, sa->msgid_next, true, fn, arg, &msg)) != 0)
		return r;
	sa->req.msgid = sa->msgid_next++;
	ike_req_send(sa, now, kind, &msg);
	return 0;
}

/* "Lowest of the four nonces" (2.8.1, 2.8.2): octet strings compared as numbers, a shorter
 * prefix first. */
static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, SP_MIN(al, bl));

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

/* True when the lowest of the four is one of our exchange's two nonces. */
static bool ours_lowest(const uint8_t *oi, size_t oil, const uint8_t *or_, size_t orl,
			const uint8_t *pi, size_t pil, const uint8_t *pr, size_t prl)
{
	const uint8_t *ol = nonce_cmp(oi, oil, or_, orl) <= 0 ? oi : or_;
	size_t oll = ol == oi ? oil : orl;
	const uint8_t *pl = nonce_cmp(pi, pil, pr, prl) <= 0 ? pi : pr;
	size_t pll = pl == pi ? pil : prl;

	return nonce_cmp(ol, oll, pl, pll) < 0;
}

/* ---- starting exchanges ---- */

static int start_child(struct ike_sa *sa, sp_time now, struct ike_child *old)
{
	struct ike *ike = sa->ike;
	const struct ike_conn *c = sa->conn;
	struct ccs_arg *a;
	uint16_t pfs = c->child_props[0].dh;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SP_ENOMEM;
	ike_req_clear(sa);
	if ((r = ike_spi_child_in(ike, c, c->child_proto, 0, false, &sa->req.new_spi)) != 0)
		goto out;
	if (pfs != 0 && (r = crypto_dh_new(pfs, ike->p.rng, &sa->req.dh)) != 0)
		goto out;
	sa->req.nonce_len = IKE_NONCE_LEN;
	sp_rng_bytes(ike->p.rng, sa->req.nonce, IKE_NONCE_LEN);
	a->nprops = ike_child_props(c, sa->req.new_spi, true, a->props);
	a->spi_size = 4;
	a->nonce = sa->req.nonce;
	a->nonce_len = IKE_NONCE_LEN;
	a->dh = sa->req.dh;
	if (old != NULL) {
		a->rekey_proto = old->proto;
		a->rekey_spi = old->spi_in;
		a->tsi = old->ts_local;
		a->ntsi = old->n_ts_local;
		a->tsr = old->ts_remote;
		a->ntsr = old->n_ts_remote;
		a->transport = !old->tunnel;
	} else {
		a->tsi = c->local_ts;
		a->ntsi = c->n_local_ts;
		a->tsr = c->remote_ts;
		a->ntsr = c->n_remote_ts;
		a->transport = !c->tunnel;
	}
	r = send_request(sa, now, IKEV2_EXCH_CREATE_CHILD_SA,
			 old != NULL ? IKE_X_CHILD_REKEY : IKE_X_CHILD_CREATE, build_ccs, a);
	if (r == 0 && old != NULL) {
		sa->req.child = old;
		old->state = IKE_CHILD_REKEYING;
	}
out:
	if (r != 0) {
		IKE_LOG(ike, SP_LOG_ERR, "%s: cannot start CREATE_CHILD_SA: %s", c->name,
			sp_strerror(r));
		ike_req_clear(sa);
	}
	free(a);
	return r;
}

static int start_ike_rekey(struct ike_sa *sa, sp_time now)
{
	struct ike *ike = sa->ike;
	const struct ike_conn *c = sa->conn;
	struct ccs_arg *a;
	uint16_t g = sa->algs.dh;
	size_t n = 0;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SP_ENOMEM;
	ike_req_clear(sa);
	if ((r = ike_spi_ike(ike, c, 0, false, &sa->req.new_ike_spi)) != 0 ||
	    (r = crypto_dh_new(g, ike->p.rng, &sa->req.dh)) != 0)
		goto out;
	sa->req.nonce_len = IKE_NONCE_LEN;
	sp_rng_bytes(ike->p.rng, sa->req.nonce, IKE_NONCE_LEN);
	/* 1.3.2: the current group first, since our KE is of it. */
	for (size_t i = 0; i < c->n_ike_props; i++)
		if (c->ike_props[i].dh == g)
			a->props[n++] = c->ike_props[i];
	for (size_t i = 0; i < c->n_ike_props; i++)
		if (c->ike_props[i].dh != g)
			a->props[n++] = c->ike_props[i];
	for (size_t i = 0; i < n; i++)
		a->props[i].spi = sa->req.new_ike_spi;
	a->nprops = n;
	a->spi_size = 8;
	a->nonce = sa->req.nonce;
	a->nonce_len = IKE_NONCE_LEN;
	a->dh = sa->req.dh;
	r = send_request(sa, now, IKEV2_EXCH_CREATE_CHILD_SA, IKE_X_IKE_REKEY, build_ccs, a);
out:
	if (r != 0)
		ike_req_clear(sa);
	free(a);
	return r;
}

void ike_xchg_start(struct ike_sa *sa, sp_time now)
{
	struct info_arg a = { 0 };
	struct ike_child *ch;

	if (sa->want_delete) {
		sa->want_delete = false;
		a.del_ike = true;
		if (send_request(sa, now, IKEV2_EXCH_INFORMATIONAL, IKE_X_IKE_DELETE, build_info,
				 &a) == 0)
			sa->state = IKE_SA_DELETING;
		return;
	}
	if (sa->orphan_spi != 0) {
		a.proto = sa->orphan_proto;
		a.spis[a.n++] = sa->orphan_spi;
		sa->orphan_spi = 0;
	}
	for (ch = sa->children; ch != NULL && a.n < DELETE_SPIS; ch = ch->next) {
		if (!ch->want_delete || ch->state == IKE_CHILD_DELETING)
			continue;
		if (a.n > 0 && ch->proto != a.proto)
			continue;
		a.proto = ch->proto;
		a.spis[a.n++] = ch->spi_in;
		ch->want_delete = false;
		ch->state = IKE_CHILD_DELETING;
	}
	if (a.n > 0) {
		(void)send_request(sa, now, IKEV2_EXCH_INFORMATIONAL, IKE_X_CHILD_DELETE,
				   build_info, &a);
		return;
	}
	if (sa->want_rekey) {
		sa->want_rekey = false;
		if (start_ike_rekey(sa, now) == 0)
			return;
	}
	for (ch = sa->children; ch != NULL; ch = ch->next) {
		if (ch->want_rekey && ch->state == IKE_CHILD_INSTALLED) {
			ch->want_rekey = false;
			if (start_child(sa, now, ch) == 0)
				return;
		}
	}
	if (sa->want_child) {
		sa->want_child = false;
		if (start_child(sa, now, NULL) == 0)
			return;
	}
	if (sa->want_dpd) {
		sa->want_dpd = false;
		ike_ctr(sa->ike, IKE_CTR_DPD_SENT);
		(void)send_request(sa, now, IKEV2_EXCH_INFORMATIONAL, IKE_X_DPD, build_info, &a);
	}
}

/* ---- INFORMATIONAL ---- */

static void info_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	struct info_arg a = { 0 };
	bool del_ike = false;

	for (unsigned i = 0; i < m->ndelete; i++) {
		const struct ikev2_delete *d = &m->del[i];

		if (d->proto == IKE_PROTO_IKE) {
			del_ike = true;
			continue;
		}
		for (unsigned j = 0; j < d->num; j++) {
			/* 1.4.1: the SPIs are the sender's inbound ones, our outbound. */
			uint32_t spi = sp_load_be32(d->spis + 4 * j);
			struct ike_child *ch = ike_child_by_spi(sa, d->proto, spi, false);

			if (ch == NULL)
				continue; /* 1.4.1: unknown SAs are ignored */
			if (ch->state != IKE_CHILD_DELETING && a.n < DELETE_SPIS) {
				a.proto = ch->proto;
				a.spis[a.n++] = ch->spi_in;
			}
			IKE_LOG(ike, SP_LOG_INFO, "%s: peer deleted CHILD SA %08x_i %08x_o",
				sa->conn->name, ch->spi_in, ch->spi_out);
			ike_child_remove(sa, ch, true);
		}
	}
	respond(sa, m, build_info, &a);
	if (ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED) != NULL &&
	    sa->state == IKE_SA_ESTABLISHED) {
		/* 2.21.2: the initiator refused us after its IKE_AUTH: the SA is void. */
		ike_ctr(ike, IKE_CTR_AUTH_FAILED);
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: the peer refused our authentication after IKE_AUTH "
			"(AUTHENTICATION_FAILED)",
			sa->conn->name);
		sa->no_retry = true;
		ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "peer refused our authentication");
		return;
	}
	if (del_ike) {
		IKE_LOG(ike, SP_LOG_INFO, "%s: peer deleted IKE SA %016llx", sa->conn->name,
			(unsigned long long)sa->spi_i);
		if (sa->state == IKE_SA_REKEYED) {
			sa->state = IKE_SA_DEAD; /* replaced: its children live on elsewhere */
			return;
		}
		while (sa->children != NULL)
			ike_child_remove(sa, sa->children, true);
		ike_ctr(ike, IKE_CTR_IKE_DOWN);
		ike_event(ike, sa, NULL, IKE_EV_IKE_DOWN, false, "deleted by peer");
		sa->state = IKE_SA_DEAD;
		if (sa->conn->close_restart) /* close_action = restart */
			ike_retry_schedule(ike, sa->conn, now, true, "deleted by the peer");
	}
	(void)now;
}

static void info_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	enum ike_xchg_kind kind = sa->req.kind;
	struct ike_child *ch, *next;

	(void)m;
	ike_req_clear(sa);
	switch (kind) {
	case IKE_X_CHILD_DELETE:
		for (ch = sa->children; ch != NULL; ch = next) {
			next = ch->next;
			if (ch->state == IKE_CHILD_DELETING)
				ike_child_remove(sa, ch, true);
		}
		break;
	case IKE_X_IKE_DELETE:
		if (sa->rekeyed_to != NULL || sa->children == NULL) {
			sa->state = IKE_SA_DEAD;
			break;
		}
		while (sa->children != NULL)
			ike_child_remove(sa, sa->children, true);
		ike_ctr(ike, IKE_CTR_IKE_DOWN);
		ike_event(ike, sa, NULL, IKE_EV_IKE_DOWN, true, "deleted");
		sa->state = IKE_SA_DEAD;
		break;
	default:
		break; /* liveness answered: last_rx is updated */
	}
	(void)now;
}

/* ---- CREATE_CHILD_SA: CHILD SAs ---- */

static int ccs_first_proto(const struct ikev2_msg *m, uint8_t *proto)
{
	struct ikev2_prop p[IKEV2_PROP_MAX];
	size_t n;

	if (!ikev2_msg_has(m, IKEV2_PLD_SA) || ikev2_sa_parse(m->sa, p, IKEV2_PROP_MAX, &n) != 0 ||
	    n == 0)
		return SP_EMALFORMED;
	*proto = p[0].proto;
	return 0;
}

static int pfs_secret(const struct ikev2_algs *a, const struct ikev2_msg *m,
		      const struct crypto_dh *dh, uint8_t *gir, size_t *glen)
{
	*glen = 0;
	if (a->dh == 0)
		return 0;
	if (!ikev2_msg_has(m, IKEV2_PLD_KE) || m->ke_group != a->dh || dh == NULL)
		return SP_EINVAL;
	*glen = crypto_dh_secret_len(a->dh);
	return crypto_dh_derive(dh, m->ke.p, m->ke.len, gir, *glen);
}

static void child_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ike_conn *c = sa->conn;
	const struct ikev2_notify *rn = ikev2_msg_notify(m, IKEV2_N_REKEY_SA);
	struct ike_child *old = NULL, *ch = NULL;
	struct crypto_dh *dh = NULL;
	struct ccs_arg *a = NULL;
	uint8_t nr[IKE_NONCE_LEN], gir[CRYPTO_DH_SECRET_MAX];
	size_t glen = 0;
	uint16_t err = 0;
	uint8_t gbuf[2];

	if (rn != NULL) {
		if (rn->spi_size != 4 ||
		    (old = ike_child_by_spi(sa, rn->proto, (uint32_t)rn->spi, false)) == NULL) {
			err = IKEV2_N_CHILD_SA_NOT_FOUND;
			goto error;
		}
		if (!c->accept_rekey) {
			/* 003 FIG. 6A step 620: the client ignores the server's new epochs. */
			ike_ctr(ike, IKE_CTR_REKEY_REFUSED);
			err = IKEV2_N_NO_PROPOSAL_CHOSEN;
			goto error;
		}
		if (old->state == IKE_CHILD_DELETING || old->state == IKE_CHILD_REKEYED) {
			err = IKEV2_N_TEMPORARY_FAILURE;
			goto error;
		}
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_NONCE) || (ch = ike_child_new(sa, c)) == NULL) {
		err = IKEV2_N_INVALID_SYNTAX;
		goto error;
	}
	if (old != NULL)
		ch->reqid = old->reqid;
	if (ike_child_select(c, m, true, &ch->algs) != 0) {
		char theirs[512], ours[512];

		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_props_fmt_peer(m->sa, theirs, sizeof(theirs));
		ike_props_fmt(c->child_props, c->n_child_props, ours, sizeof(ours));
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: CREATE_CHILD_SA: no acceptable proposal: peer offered %s; ours: %s",
			c->name, theirs, ours);
		err = IKEV2_N_NO_PROPOSAL_CHOSEN;
		goto error;
	}
	if (ch->algs.dh != 0 && (!ikev2_msg_has(m, IKEV2_PLD_KE) || m->ke_group != ch->algs.dh)) {
		/* 1.3: the KE must be of the chosen group; name the one we want. */
		ike_ctr(ike, IKE_CTR_INVALID_KE);
		sp_store_be16(gbuf, ch->algs.dh);
		free(ch);
		ike_xchg_reply_error(sa, m, IKEV2_N_INVALID_KE_PAYLOAD, gbuf, 2);
		goto out;
	}
	if (ike_ts_narrow(c, m, true, ch) != 0) {
		ike_ctr(ike, IKE_CTR_TS_UNACCEPTABLE);
		err = IKEV2_N_TS_UNACCEPTABLE;
		goto error;
	}
	ch->tunnel = !(ikev2_msg_notify(m, IKEV2_N_USE_TRANSPORT_MODE) != NULL && !c->tunnel);
	ch->spi_out = (uint32_t)ch->algs.spi;
	sp_rng_bytes(ike->p.rng, nr, sizeof(nr));
	if (ch->algs.dh != 0 && (crypto_dh_new(ch->algs.dh, ike->p.rng, &dh) != 0 ||
				 pfs_secret(&ch->algs, m, dh, gir, &glen) != 0)) {
		err = IKEV2_N_INVALID_SYNTAX;
		goto error;
	}
	if (ike_spi_child_in(ike, c, ch->proto, ch->spi_out, true, &ch->spi_in) != 0 ||
	    ike_child_install(sa, ch, now, false, glen > 0 ? gir : NULL, glen, m->nonce.p,
			      m->nonce.len, nr, sizeof(nr)) != 0) {
		err = IKEV2_N_TEMPORARY_FAILURE;
		goto error;
	}
	if ((a = calloc(1, sizeof(*a))) != NULL) {
		a->props[0] = ch->algs;
		a->props[0].spi = ch->spi_in;
		a->nprops = 1;
		a->spi_size = 4;
		a->nonce = nr;
		a->nonce_len = sizeof(nr);
		a->dh = dh;
		a->tsi = ch->ts_remote;
		a->ntsi = ch->n_ts_remote;
		a->tsr = ch->ts_local;
		a->ntsr = ch->n_ts_local;
		a->transport = !ch->tunnel;
		respond(sa, m, build_ccs, a);
	}
	IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA %08x_i %08x_o installed%s", c->name, ch->spi_in,
		ch->spi_out, old != NULL ? " (peer's rekey)" : "");
	if (old == NULL) {
		ike_ctr(ike, IKE_CTR_CHILD_UP);
		ike_event(ike, sa, ch, IKE_EV_CHILD_UP, false, NULL);
	} else if (sa->req.kind == IKE_X_CHILD_REKEY && sa->req.child == old) {
		/* 2.8.1: both ends rekey the same CHILD SA; decide when ours completes. */
		ike_ctr(ike, IKE_CTR_REKEY_COLLISION);
		old->peer_rekey = ch;
		memcpy(old->peer_ni, m->nonce.p, m->nonce.len);
		old->peer_ni_len = m->nonce.len;
		memcpy(old->peer_nr, nr, sizeof(nr));
		old->peer_nr_len = sizeof(nr);
	} else {
		struct ike_event ev = { 0 };

		old->state = IKE_CHILD_REKEYED;
		old->replaced_by = ch;
		ike_ctr(ike, IKE_CTR_CHILD_REKEYED);
		if (ike->p.event != NULL) {
			ev.type = IKE_EV_CHILD_REKEYED;
			ev.conn = c->name;
			ev.ike_spi_i = sa->spi_i;
			ev.ike_spi_r = sa->spi_r;
			ev.peer = sa->path.remote_addr;
			ev.proto = ch->proto;
			ev.spi_in = ch->spi_in;
			ev.spi_out = ch->spi_out;
			ev.old_spi_in = old->spi_in;
			ev.old_spi_out = old->spi_out;
			ev.reqid = ch->reqid;
			ike->p.event(ike->p.event_arg, &ev);
		}
	}
	free(a);
	goto out;
error:
	free(ch);
	IKE_LOG(ike, SP_LOG_INFO, "%s: CREATE_CHILD_SA refused: %s", c->name,
		ikev2_notify_name(err));
	ike_xchg_reply_error(sa, m, err, NULL, 0);
out:
	/* Every way out: the PFS shared secret and our DH private key go. */
	crypto_dh_free(dh);
	crypto_wipe(gir, sizeof(gir));
}

static void rekeyed_event(struct ike_sa *sa, const struct ike_child *old,
			  const struct ike_child *ch, bool initiator)
{
	struct ike *ike = sa->ike;
	struct ike_event ev = { 0 };

	ike_ctr(ike, IKE_CTR_CHILD_REKEYED);
	if (ike->p.event == NULL)
		return;
	ev.type = IKE_EV_CHILD_REKEYED;
	ev.conn = sa->conn->name;
	ev.ike_spi_i = sa->spi_i;
	ev.ike_spi_r = sa->spi_r;
	ev.peer = sa->path.remote_addr;
	ev.proto = ch->proto;
	ev.spi_in = ch->spi_in;
	ev.spi_out = ch->spi_out;
	ev.old_spi_in = old->spi_in;
	ev.old_spi_out = old->spi_out;
	ev.reqid = ch->reqid;
	ev.initiator = initiator;
	ike->p.event(ike->p.event_arg, &ev);
}

static void child_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ike_conn *c = sa->conn;
	bool rekey = sa->req.kind == IKE_X_CHILD_REKEY;
	struct ike_child *old = sa->req.child, *ch = NULL;
	const struct ikev2_notify *n;
	uint8_t gir[CRYPTO_DH_SECRET_MAX];
	size_t glen = 0;

	if (rekey && old == NULL) {
		/* The CHILD SA went away meanwhile (deleted by the peer). */
		ike_req_clear(sa);
		return;
	}
	if ((n = ikev2_msg_error(m)) != NULL) {
		IKE_LOG(ike, SP_LOG_INFO, "%s: CREATE_CHILD_SA refused by peer: %s", c->name,
			ikev2_notify_name(n->type));
		ike_req_clear(sa);
		if (old != NULL) {
			old->state = IKE_CHILD_INSTALLED;
			if (n->type == IKEV2_N_CHILD_SA_NOT_FOUND) {
				/* 1.3.3 / 2.25: the peer has no such SA: start afresh. */
				ike_child_remove(sa, old, true);
				sa->want_child = true;
			} else if (n->type == IKEV2_N_TEMPORARY_FAILURE ||
				   n->type == IKEV2_N_INVALID_KE_PAYLOAD) {
				/* 2.25: try again a little later. */
				old->rekey_at = now + SP_SEC(1) +
						sp_rng_below(ike->p.rng, 5000) * SP_MSEC(1);
			}
		} else {
			ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, true,
				  ikev2_notify_name(n->type));
		}
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_NONCE) || (ch = ike_child_new(sa, c)) == NULL)
		goto bad;
	if (old != NULL)
		ch->reqid = old->reqid;
	if (ike_child_select(c, m, true, &ch->algs) != 0 || ike_ts_accept(c, m, ch) != 0)
		goto bad;
	if (pfs_secret(&ch->algs, m, sa->req.dh, gir, &glen) != 0)
		goto bad;
	ch->tunnel = !(ikev2_msg_notify(m, IKEV2_N_USE_TRANSPORT_MODE) != NULL && !c->tunnel);
	ch->spi_in = sa->req.new_spi;
	ch->spi_out = (uint32_t)ch->algs.spi;
	if (ike_child_install(sa, ch, now, true, glen > 0 ? gir : NULL, glen, sa->req.nonce,
			      sa->req.nonce_len, m->nonce.p, m->nonce.len) != 0) {
		free(ch);
		ch = NULL;
		goto orphan;
	}
	IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA %08x_i %08x_o installed%s", c->name, ch->spi_in,
		ch->spi_out, rekey ? " (rekey)" : "");
	if (!rekey) {
		ike_ctr(ike, IKE_CTR_CHILD_UP);
		ike_event(ike, sa, ch, IKE_EV_CHILD_UP, true, NULL);
		goto out;
	}
	if (old->peer_rekey != NULL) {
		/* 2.8.1: the SA made with the lowest of the four nonces is redundant; its
		 * creator deletes it, and the other side deletes the old one. */
		struct ike_child *peer = old->peer_rekey;

		if (ours_lowest(sa->req.nonce, sa->req.nonce_len, m->nonce.p, m->nonce.len,
				old->peer_ni, old->peer_ni_len, old->peer_nr, old->peer_nr_len)) {
			IKE_LOG(ike, SP_LOG_INFO, "%s: rekey collision: ours is redundant",
				c->name);
			ch->want_delete = true;
			old->state = IKE_CHILD_REKEYED;
			old->replaced_by = peer;
			rekeyed_event(sa, old, peer, false);
		} else {
			IKE_LOG(ike, SP_LOG_INFO, "%s: rekey collision: ours survives", c->name);
			old->state = IKE_CHILD_REKEYED;
			old->replaced_by = ch;
			old->want_delete = !c->epoch_guard;
			rekeyed_event(sa, old, ch, true);
		}
		old->peer_rekey = NULL;
		goto out;
	}
	/* 1.3.3: the initiator of the rekey deletes the old SA; under the epoch guard once the
	 * guard has switched away from it (003: data stays on the previous epoch until a
	 * packet arrives on the new one), through ike_child_delete(). */
	old->state = IKE_CHILD_REKEYED;
	old->replaced_by = ch;
	old->want_delete = !c->epoch_guard;
	rekeyed_event(sa, old, ch, true);
	goto out;
bad:
	ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
	IKE_LOG(ike, SP_LOG_INFO, "%s: CREATE_CHILD_SA response unusable", c->name);
	free(ch);
	ch = NULL;
	if (old != NULL) {
		old->state = IKE_CHILD_INSTALLED;
		old->rekey_at = now + SP_SEC(5);
	}
orphan:
	/* The peer installed a CHILD SA for this exchange that we will not use: tell it to
	 * drop it (1.4.1), by our inbound SPI it sends to; the next exchange carries it. */
	sa->orphan_proto = c->child_proto;
	sa->orphan_spi = sa->req.new_spi;
out:
	crypto_wipe(gir, sizeof(gir));
	ike_req_clear(sa);
}

/* ---- CREATE_CHILD_SA: IKE SA rekey (2.18) ---- */

static struct ike_sa *new_ike_sa(struct ike_sa *sa, sp_time now, bool initiator,
				 const struct ikev2_algs *algs, uint64_t spi_i, uint64_t spi_r,
				 const uint8_t *gir, size_t glen, const uint8_t *ni, size_t nil,
				 const uint8_t *nr, size_t nrl)
{
	struct ike_sa *n = ike_sa_new(sa->ike, sa->conn, initiator, now);

	if (n == NULL)
		return NULL;
	n->path = sa->path;
	n->peer_id = sa->peer_id;
	n->nat_local = sa->nat_local;
	n->nat_remote = sa->nat_remote;
	n->natt = sa->natt;
	n->algs = *algs;
	n->spi_i = spi_i;
	n->spi_r = spi_r;
	if (ike_keys_derive(&n->keys, algs, gir, glen, ni, nil, nr, nrl, spi_i, spi_r, sa->keys.prf,
			    sa->keys.sk_d, sa->keys.prf_len) != 0) {
		n->state = IKE_SA_DEAD;
		return NULL;
	}
	memcpy(n->ni, ni, nil);
	n->ni_len = nil;
	memcpy(n->nr, nr, nrl);
	n->nr_len = nrl;
	n->state = IKE_SA_ESTABLISHED;
	ike_sa_schedule_ike(n, now);
	ike_keylog(n);
	return n;
}

static void move_children(struct ike_sa *from, struct ike_sa *to)
{
	struct ike_child **tail = &to->children;

	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = from->children;
	from->children = NULL;
	to->want_child |= from->want_child;
}

static void ike_rekeyed(struct ike_sa *old, struct ike_sa *n, sp_time now, bool we_delete)
{
	struct ike *ike = old->ike;

	move_children(old, n);
	old->rekeyed_to = n;
	old->state = IKE_SA_REKEYED;
	old->expire_at = now + IKE_REKEYED_GRACE;
	ike_ctr(ike, IKE_CTR_IKE_REKEYED);
	IKE_LOG(ike, SP_LOG_INFO, "%s: IKE SA %016llx rekeyed to %016llx_i %016llx_r",
		old->conn->name, (unsigned long long)old->spi_i, (unsigned long long)n->spi_i,
		(unsigned long long)n->spi_r);
	ike_event(ike, n, NULL, IKE_EV_IKE_REKEYED, we_delete, NULL);
	if (we_delete) {
		struct info_arg a = { .del_ike = true };

		ike_req_clear(old);
		if (send_request(old, now, IKEV2_EXCH_INFORMATIONAL, IKE_X_IKE_DELETE, build_info,
				 &a) != 0)
			old->state = IKE_SA_DEAD;
	}
}

static void ike_rekey_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	struct ikev2_algs algs;
	struct crypto_dh *dh = NULL;
	struct ccs_arg *a = NULL;
	struct ike_sa *n;
	uint8_t nr[IKE_NONCE_LEN], gir[CRYPTO_DH_SECRET_MAX], gbuf[2];
	uint64_t spi_r;
	size_t glen;

	if (sa->state != IKE_SA_ESTABLISHED || sa->req.kind == IKE_X_CHILD_REKEY ||
	    sa->req.kind == IKE_X_CHILD_CREATE) {
		/* 2.25.2: not while other SAs are being set up here. */
		ike_xchg_reply_error(sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_NONCE) ||
	    ike_ike_select(sa->conn, m->sa, true, &algs) != 0) {
		char theirs[512], ours[512];

		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_props_fmt_peer(m->sa, theirs, sizeof(theirs));
		ike_props_fmt(sa->conn->ike_props, sa->conn->n_ike_props, ours, sizeof(ours));
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: CREATE_CHILD_SA (IKE SA rekey): no acceptable proposal: peer offered "
			"%s; ours: %s",
			sa->conn->name, theirs, ours);
		ike_xchg_reply_error(sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_KE) || m->ke_group != algs.dh) {
		ike_ctr(ike, IKE_CTR_INVALID_KE);
		sp_store_be16(gbuf, algs.dh);
		ike_xchg_reply_error(sa, m, IKEV2_N_INVALID_KE_PAYLOAD, gbuf, 2);
		return;
	}
	glen = crypto_dh_secret_len(algs.dh);
	sp_rng_bytes(ike->p.rng, nr, sizeof(nr));
	if (crypto_dh_new(algs.dh, ike->p.rng, &dh) != 0 ||
	    crypto_dh_derive(dh, m->ke.p, m->ke.len, gir, glen) != 0 ||
	    ike_spi_ike(ike, sa->conn, algs.spi, true, &spi_r) != 0 ||
	    (n = new_ike_sa(sa, now, false, &algs, algs.spi, spi_r, gir, glen, m->nonce.p,
			    m->nonce.len, nr, sizeof(nr))) == NULL) {
		crypto_dh_free(dh);
		crypto_wipe(gir, sizeof(gir));
		ike_xchg_reply_error(sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	crypto_wipe(gir, sizeof(gir));
	if ((a = calloc(1, sizeof(*a))) != NULL) {
		a->props[0] = algs;
		a->props[0].spi = spi_r;
		a->nprops = 1;
		a->spi_size = 8;
		a->nonce = nr;
		a->nonce_len = sizeof(nr);
		a->dh = dh;
		respond(sa, m, build_ccs, a);
		free(a);
	}
	crypto_dh_free(dh);
	if (sa->req.kind == IKE_X_IKE_REKEY) {
		/* 2.8.2: ours is in flight too; decide when its answer comes. */
		ike_ctr(ike, IKE_CTR_REKEY_COLLISION);
		sa->peer_rekey = n;
		memcpy(sa->peer_ni, m->nonce.p, m->nonce.len);
		sa->peer_ni_len = m->nonce.len;
		memcpy(sa->peer_nr, nr, sizeof(nr));
		sa->peer_nr_len = sizeof(nr);
		return;
	}
	/* The peer started the rekey, so the peer deletes the old SA. */
	ike_rekeyed(sa, n, now, false);
}

static void ike_rekey_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ikev2_notify *err = ikev2_msg_error(m);
	struct ikev2_algs algs;
	struct ike_sa *n, *peer = sa->peer_rekey;
	uint8_t gir[CRYPTO_DH_SECRET_MAX];
	size_t glen;

	if (err != NULL || !ikev2_msg_has(m, IKEV2_PLD_NONCE) || !ikev2_msg_has(m, IKEV2_PLD_KE) ||
	    ike_ike_select(sa->conn, m->sa, true, &algs) != 0 || m->ke_group != algs.dh ||
	    algs.dh != crypto_dh_group(sa->req.dh)) {
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE SA rekey refused: %s", sa->conn->name,
			err != NULL ? ikev2_notify_name(err->type) : "bad response");
		ike_req_clear(sa);
		sa->rekey_at = now + SP_SEC(2) + sp_rng_below(ike->p.rng, 8000) * SP_MSEC(1);
		if (peer != NULL) {
			sa->peer_rekey = NULL;
			ike_rekeyed(sa, peer, now, false);
		}
		return;
	}
	glen = crypto_dh_secret_len(algs.dh);
	if (crypto_dh_derive(sa->req.dh, m->ke.p, m->ke.len, gir, glen) != 0 ||
	    (n = new_ike_sa(sa, now, true, &algs, sa->req.new_ike_spi, algs.spi, gir, glen,
			    sa->req.nonce, sa->req.nonce_len, m->nonce.p, m->nonce.len)) == NULL) {
		crypto_wipe(gir, sizeof(gir));
		ike_req_clear(sa);
		sa->rekey_at = now + SP_SEC(5);
		return;
	}
	crypto_wipe(gir, sizeof(gir));
	if (peer != NULL) {
		sa->peer_rekey = NULL;
		if (ours_lowest(sa->req.nonce, sa->req.nonce_len, m->nonce.p, m->nonce.len,
				sa->peer_ni, sa->peer_ni_len, sa->peer_nr, sa->peer_nr_len)) {
			/* Ours is redundant: we delete it; the peer deletes the old SA. */
			struct info_arg a = { .del_ike = true };

			IKE_LOG(ike, SP_LOG_INFO, "%s: IKE rekey collision: ours is redundant",
				sa->conn->name);
			ike_req_clear(sa);
			ike_rekeyed(sa, peer, now, false);
			n->state = IKE_SA_ESTABLISHED;
			n->rekeyed_to = peer;
			if (send_request(n, now, IKEV2_EXCH_INFORMATIONAL, IKE_X_IKE_DELETE,
					 build_info, &a) == 0)
				n->state = IKE_SA_DELETING;
			else
				n->state = IKE_SA_DEAD;
			return;
		}
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE rekey collision: ours survives", sa->conn->name);
		peer->rekeyed_to = n; /* the peer deletes its redundant one */
		peer->state = IKE_SA_REKEYED;
		peer->expire_at = now + IKE_REKEYED_GRACE;
	}
	ike_req_clear(sa);
	ike_rekeyed(sa, n, now, true);
}

/* ---- dispatch ---- */

void ike_xchg_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	uint8_t proto;

	sa->msgid_expect = m->hdr.ike_msgid + 1;
	if (m->hdr.ike_exch == IKEV2_EXCH_INFORMATIONAL) {
		info_request(sa, now, m);
		return;
	}
	if (sa->state != IKE_SA_ESTABLISHED) {
		ike_xchg_reply_error(sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (ccs_first_proto(m, &proto) != 0) {
		ike_ctr(sa->ike, IKE_CTR_DROP_MALFORMED);
		ike_xchg_reply_error(sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (proto == IKE_PROTO_IKE)
		ike_rekey_request(sa, now, m);
	else
		child_request(sa, now, m);
}

void ike_xchg_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	switch (sa->req.kind) {
	case IKE_X_CHILD_CREATE:
	case IKE_X_CHILD_REKEY:
		if (m->hdr.ike_exch != IKEV2_EXCH_CREATE_CHILD_SA)
			break;
		child_response(sa, now, m);
		return;
	case IKE_X_IKE_REKEY:
		if (m->hdr.ike_exch != IKEV2_EXCH_CREATE_CHILD_SA)
			break;
		ike_rekey_response(sa, now, m);
		return;
	case IKE_X_CHILD_DELETE:
	case IKE_X_IKE_DELETE:
	case IKE_X_DPD:
		if (m->hdr.ike_exch != IKEV2_EXCH_INFORMATIONAL)
			break;
		info_response(sa, now, m);
		return;
	default:
		break;
	}
	ike_ctr(sa->ike, IKE_CTR_DROP_RESPONSE_UNEXPECTED);
}
