/*
 * The IKE SA: allocation and lookup, events, the dispatch of a message to its exchange
 * with the request window (RFC 7296 2.3), retransmission and liveness (2.4), lifetimes,
 * and the queue of exchanges an established SA starts. IKE_SA_INIT is in ikev2_sa_init.c,
 * IKE_AUTH in ikev2_sa_auth.c, the peer's address moves in ikev2_sa_move.c,
 * CREATE_CHILD_SA and INFORMATIONAL in ikev2_xchg.c.
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/crypto.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* ---- allocation and lookup ---- */

struct ike_sa *ike_sa_new(struct ike *ike, const struct ike_conn *c, bool initiator, sp_time now)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL)
		return NULL;
	sa->ike = ike;
	sa->conn = c;
	sa->initiator = initiator;
	sa->created = now;
	sa->last_rx = now;
	sa->rekey_at = sa->expire_at = sa->dpd_at = SP_TIME_NEVER;
	sa->half_open_until = SP_TIME_NEVER;
	sa->req.kind = IKE_X_NONE;
	sa->next = ike->sas;
	ike->sas = sa;
	return sa;
}

void ike_sa_free(struct ike_sa *sa)
{
	struct ike *ike = sa->ike;

	while (sa->children != NULL)
		ike_child_remove(sa, sa->children, false);
	for (struct ike_sa **pp = &ike->sas; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sa) {
			*pp = sa->next;
			break;
		}
	}
	for (struct ike_sa *o = ike->sas; o != NULL; o = o->next) {
		if (o->rekeyed_to == sa)
			o->rekeyed_to = NULL;
		if (o->peer_rekey == sa)
			o->peer_rekey = NULL;
		if (o->req.new_sa == sa)
			o->req.new_sa = NULL;
	}
	ike_req_clear(sa);
	ike_frag_reset(sa, 0);
	crypto_dh_free(sa->dh);
	ike_wire_free(&sa->resp);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->cookie);
	ike_keys_free(&sa->keys);
	free(sa);
}

struct ike_sa *ike_sa_lookup(const struct ike *ike, uint64_t spi_i, uint64_t spi_r,
			     bool from_initiator)
{
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next) {
		if (sa->state == IKE_SA_DEAD)
			continue;
		/* The I flag says who sent it: if the original initiator did, we are the
		 * responder and our SPI is SPIr (2.6). */
		if (from_initiator && !sa->initiator && sa->spi_r == spi_r && sa->spi_i == spi_i)
			return sa;
		if (!from_initiator && sa->initiator && sa->spi_i == spi_i &&
		    (sa->spi_r == spi_r || sa->state == IKE_SA_INIT_SENT))
			return sa;
	}
	return NULL;
}

void ike_event(struct ike *ike, const struct ike_sa *sa, const struct ike_child *ch,
	       enum ike_event_type type, bool initiator, const char *reason)
{
	struct ike_event ev = { 0 };

	if (ike->p.event == NULL)
		return;
	ev.type = type;
	ev.conn = sa->conn != NULL ? sa->conn->name : NULL;
	ev.ike_spi_i = sa->spi_i;
	ev.ike_spi_r = sa->spi_r;
	ev.peer = sa->path.remote_addr;
	ev.initiator = initiator;
	ev.reason = reason;
	if (ch != NULL) {
		ev.proto = ch->proto;
		ev.spi_in = ch->spi_in;
		ev.spi_out = ch->spi_out;
		ev.reqid = ch->reqid;
	}
	ike->p.event(ike->p.event_arg, &ev);
}

/* ---- helpers ---- */

/* A message whose only payload is one notify. */
int ike_build_notify(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct ike_notify_arg *n = arg;

	(void)sa;
	return ikev2_put_notify(w, 0, 0, 0, n->type, n->data, n->len);
}

/* ---- common input ---- */

/* A request we answered already came again (2.1): the same answer, whole. */
static void resend_response(struct ike_sa *sa, const uint8_t *msg, size_t len,
			    const struct ikev2_hdr *h)
{
	struct ike *ike = sa->ike;

	/* RFC 7383 2.6.1: of a fragmented request only fragment 1 brings the answer back,
	 * so a retransmission of n fragments does not cause n answers. */
	if (h->ike_np == IKEV2_PLD_SKF && ike_frag_number(msg, len) != 1) {
		ike_ctr(ike, IKE_CTR_DROP_FRAG_RETRANSMIT);
		return;
	}
	ike_ctr(ike, IKE_CTR_RESPONSE_RESENT);
	ike_send_wire(ike, &sa->path, &sa->resp);
}

static void dispatch(struct ike_sa *sa, sp_time now, const struct ike_path *path,
		     struct ikev2_msg *m, struct cur *chain, uint8_t np);

void ike_sa_input(struct ike_sa *sa, sp_time now, const struct ike_path *path, uint8_t *msg,
		  size_t len, struct ikev2_msg *m, struct ikev2_pld_iter *it)
{
	struct ike *ike = sa->ike;
	const struct ikev2_hdr *h = &m->hdr;
	bool response = ikev2_is_response(h);
	struct ikev2_pld sk;
	struct cur chain;
	bool has_sk;
	int r;

	/* 2.3: window size 1: a request is the next one or a retransmission of the last. */
	if (!response) {
		if (h->ike_msgid != sa->msgid_expect) {
			if (sa->have_resp && h->ike_msgid == sa->resp_msgid &&
			    h->ike_msgid + 1 == sa->msgid_expect)
				resend_response(sa, msg, len, h);
			else
				ike_ctr(ike, IKE_CTR_DROP_MSGID);
			return;
		}
	} else if (sa->req.kind == IKE_X_NONE || h->ike_msgid != sa->req.msgid) {
		ike_ctr(ike, IKE_CTR_DROP_RESPONSE_UNEXPECTED);
		return;
	}
	if (h->ike_np == IKEV2_PLD_SKF) {
		/* RFC 7383 2.6: one fragment; the message is handled when all are in. */
		uint8_t *whole;
		size_t wlen;
		uint8_t np;

		if (ike_frag_input(sa, msg, len, h, &whole, &wlen, &chain, &np) != 0 ||
		    whole == NULL)
			return;
		dispatch(sa, now, path, m, &chain, np);
		crypto_wipe(whole, wlen);
		free(whole);
		return;
	}
	if ((r = ikev2_msg_parse(m, it, &sk, &has_sk)) != 0) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		return;
	}
	if (h->ike_exch == IKEV2_EXCH_IKE_SA_INIT) {
		if (!response || sa->state != IKE_SA_INIT_SENT || has_sk) {
			ike_ctr(ike, IKE_CTR_DROP_STATE);
			return;
		}
		ike_sa_input_init_response(sa, now, msg, len, m);
		return;
	}
	if (!has_sk) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		return;
	}
	/* 2.21.2: a message that fails its integrity check is dropped silently. */
	if ((r = ike_msg_decrypt(sa, msg, len, &sk, &chain)) != 0) {
		ike_ctr(ike, r == SP_EAUTH ? IKE_CTR_DROP_INTEGRITY : IKE_CTR_DROP_MALFORMED);
		return;
	}
	/* The message came whole after all: pieces of it held are of no use (RFC 7383). */
	ike_frag_reset(sa, response ? 1 : 0);
	dispatch(sa, now, path, m, &chain, sk.pld_np);
}

/* The protected payloads of an authenticated message (chain, first type np) to its
 * exchange. */
static void dispatch(struct ike_sa *sa, sp_time now, const struct ike_path *path,
		     struct ikev2_msg *m, struct cur *chain, uint8_t np)
{
	struct ike *ike = sa->ike;
	const struct ikev2_hdr *h = &m->hdr;
	bool response = ikev2_is_response(h);
	struct ikev2_pld_iter inner;
	struct ikev2_pld sk;
	bool has_sk;

	ikev2_pld_iter_init_chain(&inner, chain, np);
	if (ikev2_msg_parse(m, &inner, &sk, &has_sk) != 0 || has_sk) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		return;
	}
	if (h->ike_exch == IKEV2_EXCH_IKE_SA_INIT) {
		ike_ctr(ike, IKE_CTR_DROP_STATE); /* never protected */
		return;
	}
	sa->last_rx = now;
	ike_sa_update_path(sa, path);
	if (m->unsupported_critical != 0) {
		/* 2.5: refuse a message with a critical payload we do not know. */
		ike_ctr(ike, IKE_CTR_DROP_CRITICAL);
		if (!response)
			ike_xchg_reply_error(sa, m, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD,
					     &m->unsupported_critical, 1);
		else
			ike_req_clear(sa);
		return;
	}
	switch (h->ike_exch) {
	case IKEV2_EXCH_IKE_AUTH:
		if (!response && sa->state == IKE_SA_INIT_DONE && h->ike_msgid == 1)
			ike_sa_input_auth_request(sa, now, m);
		else if (response && sa->state == IKE_SA_AUTH_SENT && sa->req.kind == IKE_X_AUTH)
			ike_sa_input_auth_response(sa, now, m);
		else
			ike_ctr(ike, IKE_CTR_DROP_STATE);
		break;
	case IKEV2_EXCH_CREATE_CHILD_SA:
	case IKEV2_EXCH_INFORMATIONAL:
		if (sa->state == IKE_SA_INIT_DONE || sa->state == IKE_SA_INIT_SENT ||
		    sa->state == IKE_SA_AUTH_SENT) {
			ike_ctr(ike, IKE_CTR_DROP_STATE);
			break;
		}
		if (response)
			ike_xchg_response(sa, now, m);
		else
			ike_xchg_request(sa, now, m);
		break;
	default:
		ike_ctr(ike, IKE_CTR_DROP_STATE);
		if (!response)
			ike_xchg_reply_error(sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		break;
	}
	ike_sa_kick(sa, now);
}

/* ---- failure, timers, the exchange queue ---- */

void ike_sa_fail(struct ike_sa *sa, sp_time now, enum ike_event_type ev, const char *why)
{
	struct ike *ike = sa->ike;
	bool was_up = sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYED ||
		      sa->state == IKE_SA_DELETING;

	if (sa->state == IKE_SA_DEAD)
		return;
	sa->fail_reason = why;
	{
		char a[SP_IP4_STRLEN];

		IKE_LOG(ike, was_up ? SP_LOG_INFO : SP_LOG_WARN, "%s: IKE SA %016llx with %s: %s",
			sa->conn->name, (unsigned long long)sa->spi_i,
			sp_ip4_fmt(sa->path.remote_addr, a), why);
	}
	if (ev == IKE_EV_PEER_SILENT)
		ike_ctr(ike, IKE_CTR_PEER_SILENT);
	ike_event(ike, sa, NULL, ev, sa->initiator, why);
	while (sa->children != NULL)
		ike_child_remove(sa, sa->children, true);
	if (was_up) {
		ike_ctr(ike, IKE_CTR_IKE_DOWN);
		ike_event(ike, sa, NULL, IKE_EV_IKE_DOWN, sa->initiator, why);
	}
	sa->state = IKE_SA_DEAD;
	/* dpd_action = restart at once; a failed attempt to set up again after the backoff
	 * (keyingtries); an authentication or proposal failure is not repeated. */
	if (ev == IKE_EV_PEER_SILENT && sa->conn->dpd_restart)
		ike_retry_schedule(ike, sa->conn, now, true, why);
	else if (ev == IKE_EV_CONNECT_FAILED && sa->initiator && !was_up && !sa->no_retry)
		ike_retry_schedule(ike, sa->conn, now, false, why);
}

static int build_delete_ike(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	(void)sa;
	(void)arg;
	return ikev2_put_delete(w, IKE_PROTO_IKE, 0, NULL, 0);
}

void ike_sa_delete_now(struct ike_sa *sa, sp_time now, bool tell_peer, const char *why)
{
	struct ike *ike = sa->ike;
	bool was_up = sa->state == IKE_SA_ESTABLISHED;
	struct ike_wire msg;

	(void)now;
	if (sa->state == IKE_SA_DEAD)
		return;
	/* The children first: the peer's DELETE of the IKE SA covers them (1.4.1). */
	while (sa->children != NULL)
		ike_child_remove(sa, sa->children, true);
	/* With a request in flight, the delete takes its message ID: the window is one (2.3). */
	if (tell_peer && was_up &&
	    ike_msg_build(ike, sa, IKEV2_EXCH_INFORMATIONAL, false,
			  sa->req.kind != IKE_X_NONE ? sa->req.msgid : sa->msgid_next, true,
			  build_delete_ike, NULL, &msg) == 0) {
		if (sa->req.kind == IKE_X_NONE)
			sa->msgid_next++;
		ike_send_wire(ike, &sa->path, &msg);
		ike_wire_free(&msg);
	}
	ike_req_clear(sa);
	if (was_up) {
		ike_ctr(ike, IKE_CTR_IKE_DOWN);
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE SA %016llx_i %016llx_r deleted (%s)%s",
			sa->conn->name, (unsigned long long)sa->spi_i,
			(unsigned long long)sa->spi_r, why, tell_peer ? ", peer told" : "");
		ike_event(ike, sa, NULL, IKE_EV_IKE_DOWN, sa->initiator, why);
	}
	sa->state = IKE_SA_DEAD;
}

void ike_sa_tick(struct ike_sa *sa, sp_time now)
{
	struct ike *ike = sa->ike;
	const struct ike_conn *c = sa->conn;

	if (sa->state == IKE_SA_DEAD)
		return;
	if (sa->req.kind != IKE_X_NONE && now >= sa->req.next) {
		if (sa->req.tries >= c->retransmit_tries) {
			/* 2.4: after the retransmissions, the peer is taken to be gone. */
			static const char *const kinds[] = {
				[IKE_X_NONE] = "?",
				[IKE_X_INIT] = "IKE_SA_INIT",
				[IKE_X_AUTH] = "IKE_AUTH",
				[IKE_X_CHILD_CREATE] = "CREATE_CHILD_SA",
				[IKE_X_CHILD_REKEY] = "CREATE_CHILD_SA (CHILD SA rekey)",
				[IKE_X_IKE_REKEY] = "CREATE_CHILD_SA (IKE SA rekey)",
				[IKE_X_CHILD_DELETE] = "INFORMATIONAL (delete)",
				[IKE_X_IKE_DELETE] = "INFORMATIONAL (delete)",
				[IKE_X_DPD] = "INFORMATIONAL (liveness check)",
			};
			bool setup = sa->state == IKE_SA_INIT_SENT || sa->state == IKE_SA_AUTH_SENT;

			snprintf(sa->why, sizeof(sa->why), "no answer to our %s after %u tries",
				 kinds[sa->req.kind], sa->req.tries + 1);
			ike_sa_fail(sa, now, setup ? IKE_EV_CONNECT_FAILED : IKE_EV_PEER_SILENT,
				    sa->why);
			return;
		}
		sa->req.tries++;
		sa->req.next = now + (c->retransmit_timeout << SP_MIN(sa->req.tries, 6u));
		ike_ctr(ike, IKE_CTR_RETRANSMIT);
		if (sa->req.tries == IKE_FRAG_SHRINK_AFTER)
			ike_frag_shrink(sa);
		ike_send_wire(ike, &sa->path, &sa->req.msg);
	}
	if (sa->state == IKE_SA_INIT_DONE && now >= sa->half_open_until) {
		/* A half-open SA whose IKE_AUTH never came. */
		sa->state = IKE_SA_DEAD;
		return;
	}
	if (sa->state == IKE_SA_REKEYED && now >= sa->expire_at) {
		sa->state = IKE_SA_DEAD; /* the peer never deleted the replaced SA */
		return;
	}
	if (sa->state != IKE_SA_ESTABLISHED)
		return;
	if (now >= sa->expire_at) {
		sa->want_delete = true;
		sa->expire_at = SP_TIME_NEVER;
	}
	if (now >= sa->rekey_at) {
		sa->want_rekey = true;
		sa->rekey_at = SP_TIME_NEVER;
	}
	if (c->dpd_delay > 0 && now >= sa->last_rx + c->dpd_delay) {
		sp_time seen = sa->last_rx;

		/* Inbound ESP counts as a sign of life (2.4), when the data plane says. */
		if (ike->p.kernel.last_used != NULL)
			for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
				seen = SP_MAX(seen, ike->p.kernel.last_used(ike->p.kernel.arg,
									    ch->proto, ch->spi_in));
		if (now >= seen + c->dpd_delay)
			sa->want_dpd = true;
		else
			sa->last_rx = seen;
	}
	ike_child_tick(sa, now);
	ike_sa_kick(sa, now);
}

static bool ike_sa_pending(const struct ike_sa *sa)
{
	if (sa->want_delete || sa->want_rekey || sa->want_child || sa->want_dpd ||
	    sa->orphan_spi != 0)
		return true;
	for (const struct ike_child *ch = sa->children; ch != NULL; ch = ch->next)
		if ((ch->want_delete && ch->state != IKE_CHILD_DELETING) ||
		    (ch->want_rekey && ch->state == IKE_CHILD_INSTALLED))
			return true;
	return false;
}

sp_time ike_sa_deadline(const struct ike_sa *sa)
{
	sp_time t = SP_TIME_NEVER;

	if (sa->state == IKE_SA_DEAD)
		return SP_TIME_NEVER;
	if (sa->req.kind != IKE_X_NONE)
		t = sa->req.next;
	if (sa->state == IKE_SA_INIT_DONE)
		t = sp_time_min(t, sa->half_open_until);
	if (sa->state == IKE_SA_REKEYED)
		t = sp_time_min(t, sa->expire_at);
	if (sa->state != IKE_SA_ESTABLISHED)
		return t;
	if (sa->req.kind == IKE_X_NONE && ike_sa_pending(sa))
		return 0; /* an exchange is waiting for the free window: now */
	t = sp_time_min(t, sa->expire_at);
	t = sp_time_min(t, sa->rekey_at);
	if (sa->conn->dpd_delay > 0 && !sa->want_dpd)
		t = sp_time_min(t, sa->last_rx + sa->conn->dpd_delay);
	return sp_time_min(t, ike_child_deadline(sa));
}

void ike_sa_kick(struct ike_sa *sa, sp_time now)
{
	if (sa->state == IKE_SA_ESTABLISHED && sa->req.kind == IKE_X_NONE)
		ike_xchg_start(sa, now);
}
