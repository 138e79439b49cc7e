/*
 * IKE_AUTH (RFC 7296 1.2): identities, PSK or RFC 7427 signatures over the signed octets
 * (2.15), the choice of connection by the initiator's identity, and the first CHILD SA.
 */
#include "ike/ike_priv.h"

#include "crypto/x509.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

static bool id_equal(const struct ike_id *want, const struct ikev2_id *got)
{
	return want->type == got->type && want->len == got->len &&
	       memcmp(want->data, got->data, want->len) == 0;
}

static void id_body(const struct ike_id *id, uint8_t *b, size_t *len)
{
	/* RestOf*IDPayload (2.15): ID Type, three RESERVED octets, the data. */
	b[0] = id->type;
	b[1] = b[2] = b[3] = 0;
	memcpy(b + 4, id->data, id->len);
	*len = 4u + id->len;
}

/* ---- IKE_AUTH ---- */

struct auth_arg {
	const uint8_t *auth;
	size_t auth_len;
	bool with_child; /* request: propose; response: a chosen child */
	struct ike_child *child;
	uint16_t child_error; /* response: notify instead of the CHILD SA */
	struct ikev2_algs child_props[IKE_PROPS_MAX];
	size_t n_child_props;
};

static int build_auth(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct auth_arg *a = arg;
	const struct ike_conn *c = sa->conn;
	int r;

	if ((r = ikev2_put_id(w, sa->initiator ? IKEV2_PLD_IDI : IKEV2_PLD_IDR, c->local_id.type,
			      c->local_id.data, c->local_id.len)) != 0)
		return r;
	if (c->auth == IKEV2_AUTH_SIG) {
		const uint8_t *der;
		size_t dlen;

		crypto_cred_cert_der(c->cred, &der, &dlen);
		if ((r = ikev2_put_cert(w, IKEV2_CERT_X509_SIG, der, dlen)) != 0)
			return r;
		if (sa->initiator &&
		    (r = ikev2_put_certreq(w, IKEV2_CERT_X509_SIG, crypto_cred_ca_keyid(c->cred),
					   20)) != 0)
			return r;
	}
	if (sa->initiator && c->remote_id.type != 0 &&
	    (r = ikev2_put_id(w, IKEV2_PLD_IDR, c->remote_id.type, c->remote_id.data,
			      c->remote_id.len)) != 0)
		return r;
	if ((r = ikev2_put_auth(w, c->auth, a->auth, a->auth_len)) != 0)
		return r;
	if (sa->initiator) {
		if (!c->tunnel &&
		    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0)) != 0)
			return r;
		if ((r = ikev2_put_sa(w, a->child_props, a->n_child_props, 4)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSI, c->local_ts, c->n_local_ts)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, c->remote_ts, c->n_remote_ts)) != 0)
			return r;
		return 0;
	}
	if (a->child_error != 0)
		return ikev2_put_notify(w, 0, 0, 0, a->child_error, NULL, 0);
	if (a->child != NULL) {
		struct ikev2_algs s = a->child->algs;

		s.spi = a->child->spi_in;
		if (!a->child->tunnel &&
		    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0)) != 0)
			return r;
		if ((r = ikev2_put_sa(w, &s, 1, 4)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSI, a->child->ts_remote,
				      a->child->n_ts_remote)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, a->child->ts_local,
				      a->child->n_ts_local)) != 0)
			return r;
	}
	return 0;
}

/* Our AUTH payload data over our signed octets (2.15). */
static int make_auth(struct ike_sa *sa, uint8_t *out, size_t *out_len)
{
	uint8_t idb[4 + IKEV2_ID_MAX], *oct;
	size_t idl, olen;
	int r;

	id_body(&sa->conn->local_id, idb, &idl);
	if ((r = ike_auth_octets(sa, sa->initiator, idb, idl, &oct, &olen)) != 0)
		return r;
	if (sa->conn->auth == IKEV2_AUTH_PSK) {
		r = ike_auth_psk(sa->keys.prf, sa->conn->psk, sa->conn->psk_len, oct, olen, out);
		*out_len = sa->keys.prf_len;
	} else {
		r = crypto_cred_sign(sa->conn->cred, oct, olen, out, out_len);
	}
	free(oct);
	return r;
}

/* Check the peer's AUTH payload (2.15): its ID, its certificate, its signature or MAC. */
static int check_auth(struct ike_sa *sa, const struct ikev2_msg *m)
{
	const struct ikev2_id *id = sa->initiator ? &m->idr : &m->idi;
	const struct ike_conn *c = sa->conn;
	uint8_t *oct;
	size_t olen;
	int r;

	if (m->auth_method != c->auth)
		return SP_EAUTH;
	if (c->remote_id.type != 0 && !id_equal(&c->remote_id, id))
		return SP_EAUTH;
	if ((r = ike_auth_octets(sa, !sa->initiator, id->body, id->body_len, &oct, &olen)) != 0)
		return r;
	if (c->auth == IKEV2_AUTH_PSK) {
		uint8_t want[CRYPTO_PRF_MAX];

		r = ike_auth_psk(sa->keys.prf, c->psk, c->psk_len, oct, olen, want);
		if (r == 0 && (m->auth.len != sa->keys.prf_len ||
			       CRYPTO_memcmp(want, m->auth.p, sa->keys.prf_len) != 0))
			r = SP_EAUTH;
	} else if (m->ncert == 0) {
		r = SP_EAUTH;
	} else {
		r = crypto_cred_verify(c->cred, m->cert[0].p, m->cert[0].len, id->type, id->data,
				       id->len, oct, olen, m->auth.p, m->auth.len);
	}
	free(oct);
	return r == 0 ? 0 : SP_EAUTH;
}

void ike_sa_schedule_ike(struct ike_sa *sa, sp_time now)
{
	const struct ike_conn *c = sa->conn;

	sa->established = now;
	sa->expire_at = now + c->ikelifetime;
	sa->rekey_at = c->rekey ? ike_rekey_time(sa->ike, now, c->ikelifetime, c->rekeymargin,
						 c->rekeyfuzz)
				: SP_TIME_NEVER;
	sa->dpd_at = c->dpd_delay > 0 ? now + c->dpd_delay : SP_TIME_NEVER;
	sa->half_open_until = SP_TIME_NEVER;
}

static void established(struct ike_sa *sa, sp_time now)
{
	sa->state = IKE_SA_ESTABLISHED;
	ike_sa_schedule_ike(sa, now);
	free(sa->init_req);
	free(sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	ike_ctr(sa->ike, IKE_CTR_IKE_UP);
	IKE_LOG(sa->ike, SP_LOG_INFO, "%s: IKE SA %016llx_i %016llx_r established (%s, %s)",
		sa->conn->name, (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		crypto_dh_name(sa->algs.dh),
		sa->nat_local || sa->nat_remote ? "NAT detected" : "no NAT");
	ike_event(sa->ike, sa, NULL, IKE_EV_IKE_UP, sa->initiator, NULL);
}

int ike_sa_send_auth_request(struct ike_sa *sa, sp_time now)
{
	struct auth_arg *a = calloc(1, sizeof(*a));
	uint8_t auth[CRYPTO_SIG_MAX];
	uint8_t *msg;
	size_t len;
	int r;

	if (a == NULL)
		return SP_ENOMEM;
	if ((r = ike_spi_child_in(sa->ike, sa->conn, sa->conn->child_proto, 0, false,
				  &sa->child_in_auth)) != 0 ||
	    (r = make_auth(sa, auth, &a->auth_len)) != 0)
		goto out;
	a->auth = auth;
	a->n_child_props = ike_child_props(sa->conn, sa->child_in_auth, false, a->child_props);
	sa->req.msgid = sa->msgid_next++;
	if ((r = ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_AUTH, false, sa->req.msgid, true,
			       build_auth, a, &msg, &len)) != 0)
		goto out;
	sa->state = IKE_SA_AUTH_SENT;
	sa->want_child = false;
	ike_req_send(sa, now, IKE_X_AUTH, msg, len);
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	free(a);
	return r;
}

/* Responder: choose the connection by the initiator's identity among those for the path. */
static const struct ike_conn *auth_conn(struct ike_sa *sa, const struct ikev2_msg *m)
{
	const struct ike *ike = sa->ike;

	if (sa->conn->remote_id.type == 0 || id_equal(&sa->conn->remote_id, &m->idi))
		return sa->conn;
	for (size_t i = 0; i < ike->n_conns; i++) {
		const struct ike_conn *c = &ike->conns[i];

		if ((c->local == sa->path.local_addr || c->local == 0) &&
		    (c->remote == sa->path.remote_addr || c->remote == 0) &&
		    id_equal(&c->remote_id, &m->idi))
			return c;
	}
	return NULL;
}

static void auth_failed(struct ike_sa *sa, sp_time now, uint32_t msgid)
{
	struct ike_notify_arg n = { IKEV2_N_AUTHENTICATION_FAILED, NULL, 0 };
	uint8_t *msg;
	size_t len;

	ike_ctr(sa->ike, IKE_CTR_AUTH_FAILED);
	if (ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_AUTH, true, msgid, true, ike_build_notify, &n,
			  &msg, &len) == 0)
		ike_resp_send(sa, msgid, msg, len);
	ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "peer authentication failed");
}

/* Responder side of the first CHILD SA; returns the notify to send instead, or 0. */
static uint16_t auth_child(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m,
			   struct ike_child **out)
{
	struct ike *ike = sa->ike;
	struct ike_child *ch;

	*out = NULL;
	if (!ikev2_msg_has(m, IKEV2_PLD_SA) || !ikev2_msg_has(m, IKEV2_PLD_TSI) ||
	    !ikev2_msg_has(m, IKEV2_PLD_TSR))
		return 0; /* no CHILD SA asked for */
	if ((ch = ike_child_new(sa, sa->conn)) == NULL)
		return IKEV2_N_TEMPORARY_FAILURE;
	if (ike_child_select(sa->conn, m, false, &ch->algs) != 0) {
		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		free(ch);
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	}
	if (ike_ts_narrow(sa->conn, m, true, ch) != 0) {
		ike_ctr(ike, IKE_CTR_TS_UNACCEPTABLE);
		free(ch);
		return IKEV2_N_TS_UNACCEPTABLE;
	}
	/* 1.3.1: transport mode only when the initiator asked and we are configured so. */
	ch->tunnel =
		!(ikev2_msg_notify(m, IKEV2_N_USE_TRANSPORT_MODE) != NULL && !sa->conn->tunnel);
	ch->spi_out = (uint32_t)ch->algs.spi;
	if (ike_spi_child_in(ike, sa->conn, ch->proto, ch->spi_out, true, &ch->spi_in) != 0 ||
	    ike_child_install(sa, ch, now, false, NULL, 0, sa->ni, sa->ni_len, sa->nr,
			      sa->nr_len) != 0) {
		free(ch);
		return IKEV2_N_TEMPORARY_FAILURE;
	}
	*out = ch;
	return 0;
}

void ike_sa_input_auth_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	uint32_t msgid = m->hdr.ike_msgid;
	const struct ike_conn *c;
	struct auth_arg *a;
	uint8_t auth[CRYPTO_SIG_MAX];
	uint8_t *msg;
	size_t len;

	sa->msgid_expect++;
	if (!ikev2_msg_has(m, IKEV2_PLD_IDI) || !ikev2_msg_has(m, IKEV2_PLD_AUTH)) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		auth_failed(sa, now, msgid);
		return;
	}
	if ((c = auth_conn(sa, m)) == NULL) {
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE_AUTH: no connection for the peer's identity",
			sa->conn->name);
		auth_failed(sa, now, msgid);
		return;
	}
	sa->conn = c;
	if (check_auth(sa, m) != 0) {
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE_AUTH: peer authentication failed", c->name);
		auth_failed(sa, now, msgid);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	if (make_auth(sa, auth, &a->auth_len) != 0) {
		free(a);
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot make our AUTH");
		return;
	}
	a->auth = auth;
	established(sa, now);
	a->child_error = auth_child(sa, now, m, &a->child);
	if (ike_msg_build(ike, sa, IKEV2_EXCH_IKE_AUTH, true, msgid, true, build_auth, a, &msg,
			  &len) == 0)
		ike_resp_send(sa, msgid, msg, len);
	if (a->child != NULL) {
		ike_ctr(ike, IKE_CTR_CHILD_UP);
		IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA %08x_i %08x_o installed", c->name,
			a->child->spi_in, a->child->spi_out);
		ike_event(ike, sa, a->child, IKE_EV_CHILD_UP, false, NULL);
	} else if (a->child_error != 0) {
		ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, false,
			  ikev2_notify_name(a->child_error));
	}
	OPENSSL_cleanse(auth, sizeof(auth));
	free(a);
}

void ike_sa_input_auth_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ikev2_notify *n;
	struct ike_child *ch;

	ike_req_clear(sa);
	if (ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED) != NULL) {
		ike_ctr(ike, IKE_CTR_AUTH_FAILED);
		ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "peer refused our authentication");
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_IDR) || !ikev2_msg_has(m, IKEV2_PLD_AUTH) ||
	    check_auth(sa, m) != 0) {
		ike_ctr(ike, IKE_CTR_AUTH_FAILED);
		IKE_LOG(ike, SP_LOG_INFO, "%s: IKE_AUTH: responder authentication failed",
			sa->conn->name);
		ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "responder authentication failed");
		return;
	}
	established(sa, now);
	if ((n = ikev2_msg_error(m)) != NULL) {
		/* The IKE SA stands; only the CHILD SA was refused (1.2). */
		IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA refused: %s", sa->conn->name,
			ikev2_notify_name(n->type));
		ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, true, ikev2_notify_name(n->type));
		return;
	}
	if ((ch = ike_child_new(sa, sa->conn)) == NULL)
		return;
	if (ike_child_select(sa->conn, m, false, &ch->algs) != 0 ||
	    ike_ts_accept(sa->conn, m, ch) != 0) {
		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		IKE_LOG(ike, SP_LOG_INFO, "%s: responder's CHILD SA is not one we proposed",
			sa->conn->name);
		free(ch);
		ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, true, "bad CHILD SA in response");
		return;
	}
	ch->tunnel =
		!(ikev2_msg_notify(m, IKEV2_N_USE_TRANSPORT_MODE) != NULL && !sa->conn->tunnel);
	ch->spi_in = sa->child_in_auth;
	ch->spi_out = (uint32_t)ch->algs.spi;
	if (ike_child_install(sa, ch, now, true, NULL, 0, sa->ni, sa->ni_len, sa->nr, sa->nr_len) !=
	    0) {
		free(ch);
		return;
	}
	ike_ctr(ike, IKE_CTR_CHILD_UP);
	IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA %08x_i %08x_o installed", sa->conn->name,
		ch->spi_in, ch->spi_out);
	ike_event(ike, sa, ch, IKE_EV_CHILD_UP, true, NULL);
}
