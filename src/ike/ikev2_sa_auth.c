/*
 * IKE_AUTH (RFC 7296 1.2): identities, PSK or RFC 7427 signatures over the signed octets
 * (2.15) with certificate chains (3.6), the choice of connection by the initiator's
 * identity, INITIAL_CONTACT and the uniqueness of IKE SAs between two identities (2.4), the
 * AUTHENTICATION_FAILED notice (2.21.2), and the first CHILD SA.
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool id_equal(const struct ike_id *want, const struct ikev2_id *got)
{
	return ike_id_match(want, got->type, got->data, got->len);
}

bool ike_id_match(const struct ike_id *want, uint8_t type, const uint8_t *data, size_t len)
{
	if (want->type != type)
		return false;
	/* RFC 4945 3.1.5: a DN is a name; compare names, not their encodings. */
	if (type == IKEV2_ID_DER_DN)
		return crypto_dn_equal(want->data, want->len, data, len);
	return want->len == len && memcmp(want->data, data, len) == 0;
}

void ike_id_fmt(uint8_t type, const uint8_t *data, size_t len, char *out, size_t cap)
{
	char a[SP_IP4_STRLEN];

	switch (type) {
	case IKEV2_ID_IPV4_ADDR:
		snprintf(out, cap, "%s", len == 4 ? sp_ip4_fmt(sp_load_be32(data), a) : "?");
		break;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822:
		snprintf(out, cap, "%.*s", (int)SP_MIN(len, 128u), (const char *)data);
		for (char *p = out; *p != 0; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?'; /* the peer's bytes, not ours: nothing unprintable */
		break;
	case IKEV2_ID_DER_DN:
		crypto_dn_format(data, len, out, cap);
		break;
	case IKEV2_ID_KEY_ID:
		snprintf(out, cap, "key ID of %zu octets", len);
		break;
	default:
		snprintf(out, cap, "ID type %u", type);
		break;
	}
}

static void id_text(const struct ike_id *id, char *out, size_t cap)
{
	if (id->type == 0)
		snprintf(out, cap, "any");
	else
		ike_id_fmt(id->type, id->data, id->len, out, cap);
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
	bool initial_contact;
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
		const uint8_t *der, *ids;
		size_t dlen, idlen;

		/* 3.6: ours first (its key signs AUTH), then the intermediates that chain it. */
		for (size_t i = 0; crypto_cred_chain_der(c->cred, i, &der, &dlen) == 0; i++)
			if ((r = ikev2_put_cert(w, IKEV2_CERT_X509_SIG, der, dlen)) != 0)
				return r;
		crypto_cred_ca_keyids(c->cred, &ids, &idlen);
		if (sa->initiator &&
		    (r = ikev2_put_certreq(w, IKEV2_CERT_X509_SIG, ids, idlen)) != 0)
			return r;
	}
	/* 2.4: the only IKE SA between us, so a peer that kept one from before our restart
	 * drops it now rather than after its liveness check. */
	if (sa->initiator && a->initial_contact &&
	    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0)) != 0)
		return r;
	if (sa->initiator && c->remote_id.type != 0 &&
	    (r = ikev2_put_id(w, IKEV2_PLD_IDR, c->remote_id.type, c->remote_id.data,
			      c->remote_id.len)) != 0)
		return r;
	if ((r = ikev2_put_auth(w, c->auth, a->auth, a->auth_len)) != 0)
		return r;
	if (sa->initiator) {
		struct ike_ts tsi[IKE_TS_MAX];

		if (!c->tunnel &&
		    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0)) != 0)
			return r;
		ike_ts_public(c, c->local_ts, c->n_local_ts, tsi);
		if ((r = ikev2_put_sa(w, a->child_props, a->n_child_props, 4)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSI, tsi, c->n_local_ts)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, c->remote_ts, c->n_remote_ts)) != 0)
			return r;
		return 0;
	}
	if (a->child_error != 0)
		return ikev2_put_notify(w, 0, 0, 0, a->child_error, NULL, 0);
	if (a->child != NULL) {
		struct ikev2_algs s = a->child->algs;
		struct ike_ts tsr[IKE_TS_MAX];

		s.spi = a->child->spi_in;
		ike_ts_public(c, a->child->ts_local, a->child->n_ts_local, tsr);
		if (!a->child->tunnel &&
		    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0)) != 0)
			return r;
		if ((r = ikev2_put_sa(w, &s, 1, 4)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSI, a->child->ts_remote,
				      a->child->n_ts_remote)) != 0 ||
		    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, tsr, a->child->n_ts_local)) != 0)
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

/* Check the peer's AUTH payload (2.15): its ID, its certificate chain, its signature or MAC;
 * why (CRYPTO_WHY_MAX) says what did not hold. */
static int check_auth(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m, char *why,
		      size_t why_len)
{
	const struct ikev2_id *id = sa->initiator ? &m->idr : &m->idi;
	const struct ike_conn *c = sa->conn;
	struct crypto_der certs[IKEV2_CERT_MAX];
	char want[128], got[128];
	uint8_t *oct;
	size_t olen;
	int r;

	why[0] = 0;
	if (m->auth_method != c->auth) {
		snprintf(why, why_len, "authentication method %u, configured %s", m->auth_method,
			 c->auth == IKEV2_AUTH_PSK ? "psk (2)" : "pubkey (RFC 7427, 14)");
		return SP_EAUTH;
	}
	if (c->remote_id.type != 0 && !id_equal(&c->remote_id, id)) {
		id_text(&c->remote_id, want, sizeof(want));
		ike_id_fmt(id->type, id->data, id->len, got, sizeof(got));
		snprintf(why, why_len, "identity %.100s is not remote_id %.100s", got, want);
		return SP_EAUTH;
	}
	if ((r = ike_auth_octets(sa, !sa->initiator, id->body, id->body_len, &oct, &olen)) != 0) {
		snprintf(why, why_len, "cannot compute the signed octets: %s", sp_strerror(r));
		return r;
	}
	if (c->auth == IKEV2_AUTH_PSK) {
		uint8_t mac[CRYPTO_PRF_MAX];

		r = ike_auth_psk(sa->keys.prf, c->psk, c->psk_len, oct, olen, mac);
		if (r == 0 && (m->auth.len != sa->keys.prf_len ||
			       !crypto_memeq(mac, m->auth.p, sa->keys.prf_len))) {
			snprintf(why, why_len,
				 "PSK authentication data does not match (another psk?)");
			r = SP_EAUTH;
		}
		crypto_wipe(mac, sizeof(mac)); /* what only a holder of the PSK can say */
	} else {
		/* 3.6: every CERT payload goes to path validation; the first is the peer's. */
		for (unsigned i = 0; i < m->ncert; i++)
			certs[i] = (struct crypto_der){ m->cert[i].p, m->cert[i].len };
		r = crypto_cred_verify_peer(c->cred, now, certs, m->ncert, id->type, id->data,
					    id->len, oct, olen, m->auth.p, m->auth.len, why,
					    why_len);
		if (r == 0 && why[0] != 0)
			IKE_LOG(sa->ike, SP_LOG_WARN, "%s: peer's certificate accepted, but %s",
				c->name, why);
	}
	free(oct);
	return r == 0 ? 0 : SP_EAUTH;
}

/* "sw: IKE_AUTH request from 10.0.0.2 (b.example): " for a failure's log line. */
static void auth_who(const struct ike_sa *sa, const struct ikev2_msg *m, char *out, size_t cap)
{
	const struct ikev2_id *id = sa->initiator ? &m->idr : &m->idi;
	char a[SP_IP4_STRLEN], idt[128] = "no identity";

	if (ikev2_msg_has(m, sa->initiator ? IKEV2_PLD_IDR : IKEV2_PLD_IDI))
		ike_id_fmt(id->type, id->data, id->len, idt, sizeof(idt));
	snprintf(out, cap, "%s: IKE_AUTH %s from %s (%s)", sa->conn->name,
		 sa->initiator ? "response" : "request", sp_ip4_fmt(sa->path.remote_addr, a), idt);
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

/* Two IKE SAs between the same identities: ours, and the peer's as authenticated. */
static bool same_identities(const struct ike_sa *a, const struct ike_sa *b)
{
	const struct ike_id *la = &a->conn->local_id, *lb = &b->conn->local_id;

	return ike_id_match(la, lb->type, lb->data, lb->len) &&
	       ike_id_match(&a->peer_id, b->peer_id.type, b->peer_id.data, b->peer_id.len);
}

/*
 * 2.4 and the connection's unique policy, once sa is authenticated: other established IKE
 * SAs with the same identities go (replace, or any but never after an INITIAL_CONTACT),
 * their CHILD SAs first so that the new ones' policies are the only ones. false when sa
 * itself must go instead (keep).
 */
static bool uniqueness(struct ike_sa *sa, sp_time now)
{
	struct ike *ike = sa->ike;
	enum ike_unique u = sa->conn->unique;
	bool ic = sa->initial_contact && u != IKE_UNIQUE_NEVER, dup = false;

	for (struct ike_sa *o = ike->sas; o != NULL; o = o->next)
		dup |= o != sa && o->state == IKE_SA_ESTABLISHED && same_identities(o, sa);
	if (!dup || (!ic && (u == IKE_UNIQUE_NO || u == IKE_UNIQUE_NEVER)))
		return true;
	if (!ic && u == IKE_UNIQUE_KEEP)
		return false;
	for (struct ike_sa *o = ike->sas; o != NULL; o = o->next) {
		if (o == sa || o->state != IKE_SA_ESTABLISHED || !same_identities(o, sa))
			continue;
		IKE_LOG(ike, SP_LOG_INFO,
			"%s: IKE SA %016llx_i %016llx_r replaced by %016llx_i "
			"%016llx_r (%s)",
			o->conn->name, (unsigned long long)o->spi_i, (unsigned long long)o->spi_r,
			(unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
			ic ? "the peer sent INITIAL_CONTACT: it lost that one"
			   : "unique = replace");
		ike_ctr(ike, IKE_CTR_IKE_REPLACED);
		/* After an INITIAL_CONTACT the peer has no such SA to delete. */
		ike_sa_delete_now(o, now, !ic, "replaced");
	}
	return true;
}

static void established(struct ike_sa *sa, sp_time now)
{
	sa->state = IKE_SA_ESTABLISHED;
	ike_sa_schedule_ike(sa, now);
	free(sa->init_req);
	free(sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	ike_ctr(sa->ike, IKE_CTR_IKE_UP);
	ike_retry_reset(sa->ike, sa->conn);
	IKE_LOG(sa->ike, SP_LOG_INFO, "%s: IKE SA %016llx_i %016llx_r established (%s, %s)",
		sa->conn->name, (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		crypto_dh_name(sa->algs.dh),
		sa->nat_local || sa->nat_remote ? "NAT detected" : "no NAT");
	ike_event(sa->ike, sa, NULL, IKE_EV_IKE_UP, sa->initiator, NULL);
}

/* Is sa the only IKE SA of its connection with this peer (2.4's INITIAL_CONTACT)? */
static bool only_sa(const struct ike_sa *sa)
{
	for (const struct ike_sa *o = sa->ike->sas; o != NULL; o = o->next)
		if (o != sa && o->state != IKE_SA_DEAD && o->conn == sa->conn &&
		    o->path.remote_addr == sa->path.remote_addr)
			return false;
	return true;
}

int ike_sa_send_auth_request(struct ike_sa *sa, sp_time now)
{
	struct auth_arg *a = calloc(1, sizeof(*a));
	uint8_t auth[CRYPTO_SIG_MAX];
	struct ike_wire msg;
	int r;

	if (a == NULL)
		return SP_ENOMEM;
	if ((r = ike_spi_child_in(sa->ike, sa->conn, sa->conn->child_proto, 0, false,
				  &sa->child_in_auth)) != 0 ||
	    (r = make_auth(sa, auth, &a->auth_len)) != 0)
		goto out;
	a->auth = auth;
	a->n_child_props = ike_child_props(sa->conn, sa->child_in_auth, false, a->child_props);
	a->initial_contact = only_sa(sa) && sa->conn->unique != IKE_UNIQUE_NEVER;
	sa->req.msgid = sa->msgid_next++;
	if ((r = ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_AUTH, false, sa->req.msgid, true,
			       build_auth, a, &msg)) != 0)
		goto out;
	sa->state = IKE_SA_AUTH_SENT;
	sa->want_child = false;
	ike_req_send(sa, now, IKE_X_AUTH, &msg);
out:
	crypto_wipe(auth, sizeof(auth));
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

static void auth_failed(struct ike_sa *sa, sp_time now, uint32_t msgid, const char *why)
{
	struct ike_notify_arg n = { IKEV2_N_AUTHENTICATION_FAILED, NULL, 0 };
	struct ike_wire msg;

	ike_ctr(sa->ike, IKE_CTR_AUTH_FAILED);
	if (ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_AUTH, true, msgid, true, ike_build_notify, &n,
			  &msg) == 0)
		ike_resp_send(sa, msgid, &msg);
	sa->no_retry = true;
	ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, why);
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
		char theirs[512], ours[512];

		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_props_fmt_peer(m->sa, theirs, sizeof(theirs));
		ike_props_fmt(sa->conn->child_props, sa->conn->n_child_props, ours, sizeof(ours));
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: IKE_AUTH: no acceptable CHILD SA proposal: peer offered %s; ours: %s",
			sa->conn->name, theirs, ours);
		free(ch);
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	}
	if (ike_ts_narrow(sa->conn, m, true, ch) != 0) {
		ike_ctr(ike, IKE_CTR_TS_UNACCEPTABLE);
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: IKE_AUTH: the peer's traffic selectors are "
			"outside local_ts/remote_ts: TS_UNACCEPTABLE",
			sa->conn->name);
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

static void keep_peer_id(struct ike_sa *sa, const struct ikev2_id *id)
{
	sa->peer_id.type = id->type;
	sa->peer_id.len = (uint8_t)SP_MIN(id->len, sizeof(sa->peer_id.data));
	memcpy(sa->peer_id.data, id->data, sa->peer_id.len);
}

void ike_sa_input_auth_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	uint32_t msgid = m->hdr.ike_msgid;
	const struct ike_conn *c;
	struct auth_arg *a;
	uint8_t auth[CRYPTO_SIG_MAX];
	char who[256], why[CRYPTO_WHY_MAX];
	struct ike_wire msg;

	sa->msgid_expect++;
	auth_who(sa, m, who, sizeof(who));
	if (!ikev2_msg_has(m, IKEV2_PLD_IDI) || !ikev2_msg_has(m, IKEV2_PLD_AUTH)) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		IKE_LOG_RL(ike, now, SP_LOG_WARN, "%s: no IDi or AUTH payload", who);
		auth_failed(sa, now, msgid, "IKE_AUTH request without IDi or AUTH");
		return;
	}
	if ((c = auth_conn(sa, m)) == NULL) {
		char want[128];

		id_text(&sa->conn->remote_id, want, sizeof(want));
		IKE_LOG_RL(ike, now, SP_LOG_WARN,
			   "%s: no connection for this identity (remote_id of %s: %s)", who,
			   sa->conn->name, want);
		auth_failed(sa, now, msgid, "no connection for the peer's identity");
		return;
	}
	sa->conn = c;
	auth_who(sa, m, who, sizeof(who));
	if (check_auth(sa, now, m, why, sizeof(why)) != 0) {
		IKE_LOG_RL(ike, now, SP_LOG_WARN, "%s: peer not authenticated: %s", who, why);
		auth_failed(sa, now, msgid, "peer authentication failed");
		return;
	}
	keep_peer_id(sa, &m->idi);
	if ((sa->initial_contact = ikev2_msg_notify(m, IKEV2_N_INITIAL_CONTACT) != NULL))
		ike_ctr(ike, IKE_CTR_INITIAL_CONTACT);
	if (!uniqueness(sa, now)) {
		/* unique = keep: the established one stays; strongSwan refuses the same way. */
		ike_ctr(ike, IKE_CTR_IKE_DUPLICATE_REFUSED);
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: refused: an IKE SA with these identities is up "
			"(unique = keep)",
			who);
		auth_failed(sa, now, msgid, "duplicate refused (unique = keep)");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	if (make_auth(sa, auth, &a->auth_len) != 0) {
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot make our AUTH");
		goto out;
	}
	a->auth = auth;
	established(sa, now);
	a->child_error = auth_child(sa, now, m, &a->child);
	if (ike_msg_build(ike, sa, IKEV2_EXCH_IKE_AUTH, true, msgid, true, build_auth, a, &msg) ==
	    0)
		ike_resp_send(sa, msgid, &msg);
	if (a->child != NULL) {
		ike_ctr(ike, IKE_CTR_CHILD_UP);
		IKE_LOG(ike, SP_LOG_INFO, "%s: CHILD SA %08x_i %08x_o installed", c->name,
			a->child->spi_in, a->child->spi_out);
		ike_event(ike, sa, a->child, IKE_EV_CHILD_UP, false, NULL);
	} else if (a->child_error != 0) {
		ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, false,
			  ikev2_notify_name(a->child_error));
	}
out:
	crypto_wipe(auth, sizeof(auth));
	free(a);
}

/*
 * 2.21.2: our check of the responder failed after its IKE_AUTH response, which for the
 * responder completed the IKE SA: tell it in an INFORMATIONAL of its own, so it tears its
 * IKE and CHILD SAs down now. Sent once; the SA is gone either way.
 */
static void notify_auth_failed(struct ike_sa *sa)
{
	struct ike_notify_arg n = { IKEV2_N_AUTHENTICATION_FAILED, NULL, 0 };
	struct ike_wire msg;

	if (ike_msg_build(sa->ike, sa, IKEV2_EXCH_INFORMATIONAL, false, sa->msgid_next, true,
			  ike_build_notify, &n, &msg) != 0)
		return;
	sa->msgid_next++;
	ike_send_wire(sa->ike, &sa->path, &msg);
	ike_wire_free(&msg);
}

void ike_sa_input_auth_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ikev2_notify *n;
	struct ike_child *ch;
	char who[256], why[CRYPTO_WHY_MAX];

	ike_req_clear(sa);
	auth_who(sa, m, who, sizeof(who));
	if (ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED) != NULL) {
		ike_ctr(ike, IKE_CTR_AUTH_FAILED);
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: AUTHENTICATION_FAILED: the peer refused our "
			"identity, certificate or PSK (its log says which)",
			who);
		sa->no_retry = true;
		ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "peer refused our authentication");
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_IDR) || !ikev2_msg_has(m, IKEV2_PLD_AUTH))
		snprintf(why, sizeof(why), "no IDr or AUTH payload");
	if (!ikev2_msg_has(m, IKEV2_PLD_IDR) || !ikev2_msg_has(m, IKEV2_PLD_AUTH) ||
	    check_auth(sa, now, m, why, sizeof(why)) != 0) {
		ike_ctr(ike, IKE_CTR_AUTH_FAILED);
		IKE_LOG(ike, SP_LOG_WARN,
			"%s: responder not authenticated: %s; telling it "
			"(AUTHENTICATION_FAILED, RFC 7296 2.21.2)",
			who, why);
		notify_auth_failed(sa);
		sa->no_retry = true;
		ike_sa_fail(sa, now, IKE_EV_AUTH_FAILED, "responder authentication failed");
		return;
	}
	keep_peer_id(sa, &m->idr);
	if (!uniqueness(sa, now)) {
		ike_ctr(ike, IKE_CTR_IKE_DUPLICATE_REFUSED);
		IKE_LOG(ike, SP_LOG_INFO,
			"%s: an IKE SA with these identities is up (unique = "
			"keep): deleting the new one",
			who);
		sa->no_retry = true;
		ike_sa_delete_now(sa, now, true, "duplicate (unique = keep)");
		return;
	}
	established(sa, now);
	if ((n = ikev2_msg_error(m)) != NULL) {
		/* The IKE SA stands; only the CHILD SA was refused (1.2). */
		IKE_LOG(ike, SP_LOG_WARN, "%s: CHILD SA refused: %s", who,
			ikev2_notify_name(n->type));
		ike_event(ike, sa, NULL, IKE_EV_CONNECT_FAILED, true, ikev2_notify_name(n->type));
		return;
	}
	if ((ch = ike_child_new(sa, sa->conn)) == NULL)
		return;
	if (ike_child_select(sa->conn, m, false, &ch->algs) != 0 ||
	    ike_ts_accept(sa->conn, m, ch) != 0) {
		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		IKE_LOG(ike, SP_LOG_WARN, "%s: the responder's CHILD SA is not one we proposed",
			who);
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
