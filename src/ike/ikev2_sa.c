/*
 * The IKE SA state machine: IKE_SA_INIT with COOKIE (RFC 7296 2.6) and INVALID_KE_PAYLOAD
 * (2.7), NAT detection and the move to the NAT-T port (2.23), IKE_AUTH with PSK or RFC
 * 7427 signatures (2.15) and the first CHILD SA, the request window (2.3), retransmission
 * and liveness (2.4), lifetimes, and the queue of exchanges an established SA starts.
 * CREATE_CHILD_SA and INFORMATIONAL are in ikev2_xchg.c.
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/x509.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IKE_NONCE_LEN	 32 /* RFC 7296 2.10: at least half the PRF key size */
#define IKE_INIT_RETRIES 3  /* COOKIE / INVALID_KE_PAYLOAD round trips */

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
	crypto_dh_free(sa->dh);
	free(sa->resp);
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

static void nat_hash(uint64_t spi_i, uint64_t spi_r, uint32_t addr, uint16_t port, uint8_t *out)
{
	/* 2.23: SHA-1(SPIi | SPIr | IP | Port), all in network order. */
	uint8_t b[8 + 8 + 4 + 2];
	unsigned len = 0;

	sp_store_be64(b, spi_i);
	sp_store_be64(b + 8, spi_r);
	sp_store_be32(b + 16, addr);
	sp_store_be16(b + 20, port);
	if (!EVP_Digest(b, sizeof(b), out, &len, EVP_sha1(), NULL))
		memset(out, 0, 20);
}

/* Compare the peer's NAT_DETECTION notifies with what we see (2.23). */
static void nat_detect(struct ike_sa *sa, const struct ikev2_msg *m, uint64_t spi_r)
{
	uint8_t h[20];
	bool src_seen = false, src_ok = false, dst_seen = false, dst_ok = false;

	if (sa->conn->encap == IKE_ENCAP_NO)
		return;
	for (unsigned i = 0; i < m->nnotify; i++) {
		const struct ikev2_notify *n = &m->notify[i];

		if (n->type == IKEV2_N_NAT_DETECTION_SOURCE_IP && n->len == 20) {
			src_seen = true;
			nat_hash(sa->spi_i, spi_r, sa->path.remote_addr, sa->path.remote_port, h);
			src_ok |= memcmp(h, n->data, 20) == 0;
		} else if (n->type == IKEV2_N_NAT_DETECTION_DESTINATION_IP && n->len == 20) {
			dst_seen = true;
			nat_hash(sa->spi_i, spi_r, sa->path.local_addr, sa->path.local_port, h);
			dst_ok |= memcmp(h, n->data, 20) == 0;
		}
	}
	sa->nat_remote = src_seen && !src_ok;
	sa->nat_local = dst_seen && !dst_ok;
}

static int put_nat_d(struct ike_sa *sa, struct ikev2_pld_writer *w, uint64_t spi_r)
{
	uint8_t h[20];
	int r;

	if (sa->conn->encap == IKE_ENCAP_NO)
		return 0; /* no NAT_DETECTION: the peer will not move to UDP encapsulation */
	if (sa->conn->encap == IKE_ENCAP_FORCE) {
		/* A source hash that cannot match makes the peer see a NAT and encapsulate. */
		sp_rng_bytes(sa->ike->p.rng, h, 20);
	} else {
		nat_hash(sa->spi_i, spi_r, sa->path.local_addr, sa->path.local_port, h);
	}
	if ((r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, h, 20)) != 0)
		return r;
	nat_hash(sa->spi_i, spi_r, sa->path.remote_addr, sa->path.remote_port, h);
	return ikev2_put_notify(w, 0, 0, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, 20);
}

static int put_sig_hash(struct ike_sa *sa, struct ikev2_pld_writer *w)
{
	/* RFC 7427 4: hash algorithms for signatures: SHA2-256 (2), SHA2-384 (3), SHA2-512 (4). */
	static const uint8_t algs[] = { 0, 2, 0, 3, 0, 4 };

	if (sa->conn->auth != IKEV2_AUTH_SIG)
		return 0;
	return ikev2_put_notify(w, 0, 0, 0, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, algs, sizeof(algs));
}

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

static void count_half_open(struct ike *ike, unsigned *n)
{
	*n = 0;
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		if (sa->state == IKE_SA_INIT_DONE)
			(*n)++;
}

static void cookie_make(struct ike *ike, uint32_t ver, const struct ikev2_msg *m, uint32_t ip,
			uint64_t spi_i, uint8_t *out)
{
	/* 2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>), the hash here
	 * an HMAC keyed with the secret. */
	uint8_t ipb[4], spib[8];
	struct crypto_iov in[] = { { m->nonce.p, m->nonce.len }, { ipb, 4 }, { spib, 8 } };

	sp_store_be32(ipb, ip);
	sp_store_be64(spib, spi_i);
	sp_store_be32(out, ver);
	if (crypto_prf(CRYPTO_PRF_HMAC_SHA2_256, ike->cookie_secret[ver & 1], 32, in, 3, out + 4) !=
	    0)
		memset(out + 4, 0, 32);
}

/* ---- stateless replies to IKE_SA_INIT ---- */

struct notify_arg {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

static int build_notify_only(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct notify_arg *n = arg;

	(void)sa;
	return ikev2_put_notify(w, 0, 0, 0, n->type, n->data, n->len);
}

static void init_reply_notify(struct ike *ike, const struct ike_path *path, uint64_t spi_i,
			      uint16_t type, const void *data, size_t len)
{
	/* A stateless answer (2.6, 2.7): no responder SPI, no state kept. */
	struct ike_sa tmp;
	struct ike_conn c;
	struct notify_arg n = { type, data, len };
	uint8_t *msg;
	size_t mlen;

	memset(&tmp, 0, sizeof(tmp));
	memset(&c, 0, sizeof(c));
	tmp.ike = ike;
	tmp.conn = &c;
	tmp.spi_i = spi_i;
	if (ike_msg_build(ike, &tmp, IKEV2_EXCH_IKE_SA_INIT, true, 0, false, build_notify_only, &n,
			  &msg, &mlen) != 0)
		return;
	ike_send(ike, path, msg, mlen);
	free(msg);
}

/* ---- IKE_SA_INIT ---- */

struct init_arg {
	const struct ikev2_algs *props;
	size_t nprops;
	uint64_t nat_spi_r;
};

static int build_init(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	const struct init_arg *a = arg;
	uint16_t g = crypto_dh_group(sa->dh);
	int r;

	/* 2.6: on a retry the COOKIE notify comes first, everything else unchanged. */
	if (sa->initiator && sa->cookie != NULL &&
	    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_COOKIE, sa->cookie, sa->cookie_len)) != 0)
		return r;
	if ((r = ikev2_put_sa(w, a->props, a->nprops, 0)) != 0 ||
	    (r = ikev2_put_ke(w, g, crypto_dh_pub(sa->dh), crypto_dh_pub_len(g))) != 0 ||
	    (r = ikev2_put_nonce(w, sa->initiator ? sa->ni : sa->nr,
				 sa->initiator ? sa->ni_len : sa->nr_len)) != 0 ||
	    (r = put_nat_d(sa, w, a->nat_spi_r)) != 0)
		return r;
	if (!sa->initiator && sa->conn->auth == IKEV2_AUTH_SIG &&
	    (r = ikev2_put_certreq(w, IKEV2_CERT_X509_SIG, crypto_cred_ca_keyid(sa->conn->cred),
				   20)) != 0)
		return r;
	return put_sig_hash(sa, w);
}

static int send_init_request(struct ike_sa *sa, sp_time now)
{
	struct init_arg a = { sa->conn->ike_props, sa->conn->n_ike_props, 0 };
	struct ikev2_algs props[IKE_PROPS_MAX];
	uint16_t g = crypto_dh_group(sa->dh);
	size_t n = 0;
	uint8_t *msg;
	size_t len;
	int r;

	/* Proposals with the group of our KE payload first (2.7: the KE must match the
	 * group the responder is to choose, so lead with it). */
	for (size_t i = 0; i < sa->conn->n_ike_props; i++)
		if (sa->conn->ike_props[i].dh == g)
			props[n++] = sa->conn->ike_props[i];
	for (size_t i = 0; i < sa->conn->n_ike_props; i++)
		if (sa->conn->ike_props[i].dh != g)
			props[n++] = sa->conn->ike_props[i];
	a.props = props;
	a.nprops = n;
	if ((r = ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_SA_INIT, false, 0, false, build_init, &a,
			       &msg, &len)) != 0)
		return r;
	/* 2.15: RealMessage1 is the request as last sent. */
	free(sa->init_req);
	if ((sa->init_req = malloc(len)) == NULL) {
		free(msg);
		return SP_ENOMEM;
	}
	memcpy(sa->init_req, msg, len);
	sa->init_req_len = len;
	sa->msgid_next = 1;
	sa->req.msgid = 0;
	ike_req_send(sa, now, IKE_X_INIT, msg, len);
	return 0;
}

int ike_sa_initiate(struct ike *ike, const struct ike_conn *c, sp_time now)
{
	struct ike_sa *sa;
	int r;

	if ((sa = ike_sa_new(ike, c, true, now)) == NULL)
		return SP_ENOMEM;
	sa->path.local_addr = c->local;
	sa->path.remote_addr = c->remote;
	sa->path.local_port = ike->port;
	sa->path.remote_port = c->remote_port;
	sa->state = IKE_SA_INIT_SENT;
	sa->want_child = true;
	sa->ni_len = IKE_NONCE_LEN;
	sp_rng_bytes(ike->p.rng, sa->ni, sa->ni_len);
	if ((r = ike_spi_ike(ike, c, 0, false, &sa->spi_i)) != 0 ||
	    (r = crypto_dh_new(c->ike_props[0].dh, ike->p.rng, &sa->dh)) != 0 ||
	    (r = send_init_request(sa, now)) != 0) {
		IKE_LOG(ike, SP_LOG_ERR, "%s: cannot initiate: %s", c->name, sp_strerror(r));
		sa->state = IKE_SA_DEAD;
		return r;
	}
	IKE_LOG(ike, SP_LOG_INFO, "%s: initiating IKE SA %016llx to %u.%u.%u.%u", c->name,
		(unsigned long long)sa->spi_i, c->remote >> 24, (c->remote >> 16) & 255,
		(c->remote >> 8) & 255, c->remote & 255);
	return 0;
}

static int derive_ike(struct ike_sa *sa, const struct ikev2_msg *m)
{
	uint8_t gir[CRYPTO_DH_SECRET_MAX];
	size_t glen = crypto_dh_secret_len(crypto_dh_group(sa->dh));
	int r;

	if ((r = crypto_dh_derive(sa->dh, m->ke.p, m->ke.len, gir, glen)) == 0)
		r = ike_keys_derive(&sa->keys, &sa->algs, gir, glen, sa->ni, sa->ni_len, sa->nr,
				    sa->nr_len, sa->spi_i, sa->spi_r, 0, NULL, 0);
	OPENSSL_cleanse(gir, sizeof(gir));
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	if (r == 0)
		ike_keylog(sa);
	return r;
}

void ike_sa_input_init_request(struct ike *ike, sp_time now, const struct ike_path *path,
			       uint8_t *msg, size_t len, struct ikev2_msg *m)
{
	const struct ike_conn *c;
	struct ike_sa *sa;
	struct init_arg a;
	unsigned half_open;
	uint8_t *resp;
	size_t rlen;
	int r;

	/* A retransmitted request of a half-open SA gets the same answer (2.1). */
	for (sa = ike->sas; sa != NULL; sa = sa->next) {
		if (!sa->initiator && sa->spi_i == m->hdr.ike_ispi && sa->state != IKE_SA_DEAD &&
		    sa->path.remote_addr == path->remote_addr &&
		    sa->path.remote_port == path->remote_port) {
			if (sa->state == IKE_SA_INIT_DONE && sa->have_resp && sa->resp_msgid == 0) {
				ike_ctr(ike, IKE_CTR_RESPONSE_RESENT);
				ike_send(ike, &sa->path, sa->resp, sa->resp_len);
			} else {
				ike_ctr(ike, IKE_CTR_DROP_STATE);
			}
			return;
		}
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_SA) || !ikev2_msg_has(m, IKEV2_PLD_KE) ||
	    !ikev2_msg_has(m, IKEV2_PLD_NONCE)) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "IKE_SA_INIT without SA, KE or Nonce dropped");
		return;
	}
	if ((c = ike_conn_match(ike, path->local_addr, path->remote_addr)) == NULL) {
		ike_ctr(ike, IKE_CTR_DROP_NO_CONN);
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "IKE_SA_INIT from %u.%u.%u.%u: no connection",
			   path->remote_addr >> 24, (path->remote_addr >> 16) & 255,
			   (path->remote_addr >> 8) & 255, path->remote_addr & 255);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	/* 2.6: under load, demand a cookie before keeping any state. */
	count_half_open(ike, &half_open);
	if (half_open >= ike->cookie_threshold) {
		const struct ikev2_notify *n = ikev2_msg_notify(m, IKEV2_N_COOKIE);
		uint8_t ck[36];
		bool ok = false;

		if (n != NULL && n->len == sizeof(ck)) {
			uint32_t ver = sp_load_be32(n->data);

			if (ver == ike->cookie_ver || ver + 1 == ike->cookie_ver) {
				cookie_make(ike, ver, m, path->remote_addr, m->hdr.ike_ispi, ck);
				ok = CRYPTO_memcmp(ck, n->data, sizeof(ck)) == 0;
			}
		}
		if (!ok) {
			if (n != NULL)
				ike_ctr(ike, IKE_CTR_DROP_COOKIE);
			cookie_make(ike, ike->cookie_ver, m, path->remote_addr, m->hdr.ike_ispi,
				    ck);
			ike_ctr(ike, IKE_CTR_COOKIE_SENT);
			init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_COOKIE, ck,
					  sizeof(ck));
			return;
		}
	}
	if ((sa = ike_sa_new(ike, c, false, now)) == NULL)
		return;
	sa->path = *path;
	sa->spi_i = m->hdr.ike_ispi;
	r = ike_ike_select(c, m->sa, false, &sa->algs);
	if (r != 0) {
		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "%s: IKE_SA_INIT: no acceptable proposal",
			   c->name);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		goto fail;
	}
	if (m->ke_group != sa->algs.dh) {
		uint8_t g[2];

		/* 2.7: tell the initiator which group we want. */
		sp_store_be16(g, sa->algs.dh);
		ike_ctr(ike, IKE_CTR_INVALID_KE);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
		goto fail;
	}
	if (m->ke.len != crypto_dh_pub_len(m->ke_group)) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		goto fail;
	}
	if (ike_spi_ike(ike, c, sa->spi_i, true, &sa->spi_r) != 0)
		goto fail;
	memcpy(sa->ni, m->nonce.p, m->nonce.len);
	sa->ni_len = m->nonce.len;
	sa->nr_len = IKE_NONCE_LEN;
	sp_rng_bytes(ike->p.rng, sa->nr, sa->nr_len);
	if (crypto_dh_new(sa->algs.dh, ike->p.rng, &sa->dh) != 0)
		goto fail;
	nat_detect(sa, m, 0);
	sa->sha_sig = ikev2_msg_notify(m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS) != NULL;
	a.props = &sa->algs;
	a.nprops = 1;
	a.nat_spi_r = sa->spi_r;
	/* The DH key pair must exist for the response's KE, so derive after building. */
	if (ike_msg_build(ike, sa, IKEV2_EXCH_IKE_SA_INIT, true, 0, false, build_init, &a, &resp,
			  &rlen) != 0)
		goto fail;
	if (derive_ike(sa, m) != 0) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "%s: IKE_SA_INIT: bad KE data", c->name);
		free(resp);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		goto fail;
	}
	if ((sa->init_req = malloc(len)) == NULL || (sa->init_resp = malloc(rlen)) == NULL) {
		free(resp);
		goto fail;
	}
	memcpy(sa->init_req, msg, len);
	sa->init_req_len = len;
	memcpy(sa->init_resp, resp, rlen);
	sa->init_resp_len = rlen;
	sa->state = IKE_SA_INIT_DONE;
	sa->msgid_expect = 1;
	sa->half_open_until = now + ike->half_open_timeout;
	ike_resp_send(sa, 0, resp, rlen);
	return;
fail:
	sa->state = IKE_SA_DEAD;
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

static int send_auth_request(struct ike_sa *sa, sp_time now)
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

static void input_init_response(struct ike_sa *sa, sp_time now, const uint8_t *msg, size_t len,
				const struct ikev2_msg *m)
{
	struct ike *ike = sa->ike;
	const struct ikev2_notify *n;
	struct ikev2_algs chosen;
	int r;

	if ((n = ikev2_msg_notify(m, IKEV2_N_COOKIE)) != NULL) {
		/* 2.6: retry with the cookie, same SPI, nonce and KE. */
		if (sa->req.tries >= IKE_INIT_RETRIES || n->len == 0 || n->len > 64) {
			ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cookie exchange failed");
			return;
		}
		free(sa->cookie);
		if ((sa->cookie = malloc(n->len)) == NULL)
			return;
		memcpy(sa->cookie, n->data, n->len);
		sa->cookie_len = n->len;
		r = send_init_request(sa, now);
		sa->req.tries = IKE_INIT_RETRIES; /* one cookie round per attempt */
		if (r != 0)
			ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot rebuild IKE_SA_INIT");
		return;
	}
	if ((n = ikev2_msg_notify(m, IKEV2_N_INVALID_KE_PAYLOAD)) != NULL) {
		uint16_t g = n->len == 2 ? sp_load_be16(n->data) : 0;
		bool ours = false;

		ike_ctr(ike, IKE_CTR_INVALID_KE);
		for (size_t i = 0; i < sa->conn->n_ike_props; i++)
			ours |= sa->conn->ike_props[i].dh == g;
		/* 2.7: retry with the group the responder named, if we proposed it. */
		if (!ours || g == crypto_dh_group(sa->dh)) {
			ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "INVALID_KE_PAYLOAD");
			return;
		}
		IKE_LOG(ike, SP_LOG_INFO, "%s: peer wants group %s, retrying", sa->conn->name,
			crypto_dh_name(g));
		crypto_dh_free(sa->dh);
		sa->dh = NULL;
		if (crypto_dh_new(g, ike->p.rng, &sa->dh) != 0 || send_init_request(sa, now) != 0)
			ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot rebuild IKE_SA_INIT");
		return;
	}
	if ((n = ikev2_msg_error(m)) != NULL) {
		if (n->type == IKEV2_N_NO_PROPOSAL_CHOSEN)
			ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, ikev2_notify_name(n->type));
		return;
	}
	if (!ikev2_msg_has(m, IKEV2_PLD_SA) || !ikev2_msg_has(m, IKEV2_PLD_KE) ||
	    !ikev2_msg_has(m, IKEV2_PLD_NONCE) || m->hdr.ike_rspi == 0) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		return; /* maybe forged; the real answer may still come */
	}
	/* The responder must have picked one of ours, with our KE's group. */
	if (ike_ike_select(sa->conn, m->sa, false, &chosen) != 0 ||
	    chosen.dh != crypto_dh_group(sa->dh) || m->ke_group != chosen.dh) {
		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "responder chose no proposal of ours");
		return;
	}
	sa->algs = chosen;
	sa->spi_r = m->hdr.ike_rspi;
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	nat_detect(sa, m, sa->spi_r);
	sa->sha_sig = ikev2_msg_notify(m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS) != NULL;
	if (derive_ike(sa, m) != 0) {
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "key exchange failed");
		return;
	}
	/* 2.15: RealMessage2 is the response as received. */
	if ((sa->init_resp = malloc(len)) == NULL)
		return;
	memcpy(sa->init_resp, msg, len);
	sa->init_resp_len = len;
	ike_req_clear(sa);
	if (sa->conn->encap != IKE_ENCAP_NO &&
	    (sa->nat_local || sa->nat_remote || sa->conn->encap == IKE_ENCAP_FORCE)) {
		/* 2.23: with a NAT in the path, continue on the NAT-T port. */
		sa->path.local_port = ike->natt_port;
		sa->path.remote_port = ike->natt_port;
		sa->natt = true;
	}
	if (send_auth_request(sa, now) != 0)
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot build IKE_AUTH");
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
	struct notify_arg n = { IKEV2_N_AUTHENTICATION_FAILED, NULL, 0 };
	uint8_t *msg;
	size_t len;

	ike_ctr(sa->ike, IKE_CTR_AUTH_FAILED);
	if (ike_msg_build(sa->ike, sa, IKEV2_EXCH_IKE_AUTH, true, msgid, true, build_notify_only,
			  &n, &msg, &len) == 0)
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

static void input_auth_request(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
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
		IKE_LOG_RL(ike, now, SP_LOG_INFO,
			   "%s: IKE_AUTH: no connection for the peer's identity", sa->conn->name);
		auth_failed(sa, now, msgid);
		return;
	}
	sa->conn = c;
	if (check_auth(sa, m) != 0) {
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "%s: IKE_AUTH: peer authentication failed",
			   c->name);
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

static void input_auth_response(struct ike_sa *sa, sp_time now, const struct ikev2_msg *m)
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

/* ---- common input ---- */

bool ike_sa_may_follow(const struct ike_sa *sa)
{
	/* 2.23: "a host ... that is not behind a NAT, SHOULD send all packets ... to the IP
	 * address and port in the validated packet"; "A host behind a NAT SHOULD NOT". Only
	 * on the NAT-T port, where NAT detection ran and the peer's port means something. */
	return sa->natt && !sa->nat_local && sa->conn->dynamic_update;
}

static void ep_fmt(uint32_t addr, uint16_t port, char *buf, size_t len)
{
	char a[SP_IP4_STRLEN];

	snprintf(buf, len, "%s:%u", sp_ip4_fmt(addr, a), port);
}

void ike_sa_move_peer(struct ike_sa *sa, uint32_t addr, uint16_t port, const char *seen_in)
{
	struct ike *ike = sa->ike;
	char from[32], to[32];
	unsigned n = 0;

	ep_fmt(sa->path.remote_addr, sa->path.remote_port, from, sizeof(from));
	ep_fmt(addr, port, to, sizeof(to));
	sa->path.remote_addr = addr;
	sa->path.remote_port = port;
	for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next, n++)
		ike_child_move(sa, ch);
	ike_ctr(ike, IKE_CTR_PEER_MOVED);
	IKE_LOG(ike, SP_LOG_INFO,
		"%s: IKE SA %016llx: peer moved from %s to %s (%s, RFC 7296 2.23): the IKE SA "
		"and %u CHILD SAs follow",
		sa->conn->name, (unsigned long long)sa->spi_i, from, to, seen_in, n);
}

/* An authenticated new message (a request we had not seen, or the answer to ours) came
 * on path. */
static void update_path(struct ike_sa *sa, const struct ike_path *path)
{
	struct ike *ike = sa->ike;

	if (sa->path.remote_addr == path->remote_addr &&
	    sa->path.remote_port == path->remote_port && sa->path.local_port == path->local_port)
		return;
	if (!sa->natt && path->local_port == ike->natt_port &&
	    (sa->nat_remote || sa->nat_local || sa->conn->encap == IKE_ENCAP_FORCE)) {
		/* 2.23: the initiator moved to the NAT-T port after NAT detection (seen by
		 * the responder, behind a NAT or not): the rest of the IKE SA is there. */
		sa->path.remote_addr = path->remote_addr;
		sa->path.remote_port = path->remote_port;
		sa->path.local_port = path->local_port;
		sa->natt = true;
		return;
	}
	if (!ike_sa_may_follow(sa) || path->local_port != sa->path.local_port) {
		char from[32];

		ike_ctr(ike, IKE_CTR_PEER_MOVE_IGNORED);
		ep_fmt(path->remote_addr, path->remote_port, from, sizeof(from));
		SP_DEBUG(ike->p.log, IKE_MOD, "%s: message from %s kept on the old path (%s)",
			 sa->conn->name, from,
			 sa->nat_local		     ? "behind a NAT"
			 : !sa->natt		     ? "no NAT-T"
			 : !sa->conn->dynamic_update ? "dynamic_update = no"
						     : "another local port");
		return;
	}
	ike_sa_move_peer(sa, path->remote_addr, path->remote_port, "IKE message");
}

void ike_sa_input(struct ike_sa *sa, sp_time now, const struct ike_path *path, uint8_t *msg,
		  size_t len, struct ikev2_msg *m, struct ikev2_pld_iter *it)
{
	struct ike *ike = sa->ike;
	const struct ikev2_hdr *h = &m->hdr;
	bool response = ikev2_is_response(h);
	struct ikev2_pld sk;
	bool has_sk;
	int r;

	/* 2.3: window size 1: a request is the next one or a retransmission of the last. */
	if (!response) {
		if (h->ike_msgid != sa->msgid_expect) {
			if (sa->have_resp && h->ike_msgid == sa->resp_msgid &&
			    h->ike_msgid + 1 == sa->msgid_expect) {
				ike_ctr(ike, IKE_CTR_RESPONSE_RESENT);
				ike_send(ike, &sa->path, sa->resp, sa->resp_len);
			} else {
				ike_ctr(ike, IKE_CTR_DROP_MSGID);
			}
			return;
		}
	} else if (sa->req.kind == IKE_X_NONE || h->ike_msgid != sa->req.msgid) {
		ike_ctr(ike, IKE_CTR_DROP_RESPONSE_UNEXPECTED);
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
		input_init_response(sa, now, msg, len, m);
		return;
	}
	if (!has_sk) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		return;
	}
	{
		struct cur chain;
		struct ikev2_pld_iter inner;

		/* 2.21.2: a message that fails its integrity check is dropped silently. */
		if ((r = ike_msg_decrypt(sa, msg, len, &sk, &chain)) != 0) {
			ike_ctr(ike,
				r == SP_EAUTH ? IKE_CTR_DROP_INTEGRITY : IKE_CTR_DROP_MALFORMED);
			return;
		}
		ikev2_pld_iter_init_chain(&inner, &chain, sk.pld_np);
		if (ikev2_msg_parse(m, &inner, &sk, &has_sk) != 0 || has_sk) {
			ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
			return;
		}
	}
	sa->last_rx = now;
	update_path(sa, path);
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
			input_auth_request(sa, now, m);
		else if (response && sa->state == IKE_SA_AUTH_SENT && sa->req.kind == IKE_X_AUTH)
			input_auth_response(sa, now, m);
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
	IKE_LOG(ike, SP_LOG_INFO, "%s: IKE SA %016llx: %s", sa->conn->name,
		(unsigned long long)sa->spi_i, why);
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
	if (ev == IKE_EV_PEER_SILENT && sa->conn->dpd_restart && sa->conn->remote != 0 &&
	    ike_sa_initiate(ike, sa->conn, now) != 0)
		IKE_LOG(ike, SP_LOG_ERR, "%s: restart failed", sa->conn->name);
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
			bool setup = sa->state == IKE_SA_INIT_SENT || sa->state == IKE_SA_AUTH_SENT;

			ike_sa_fail(sa, now, setup ? IKE_EV_CONNECT_FAILED : IKE_EV_PEER_SILENT,
				    "no answer to our request");
			return;
		}
		sa->req.tries++;
		sa->req.next = now + (c->retransmit_timeout << SP_MIN(sa->req.tries, 6u));
		ike_ctr(ike, IKE_CTR_RETRANSMIT);
		ike_send(ike, &sa->path, sa->req.buf, sa->req.len);
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
	if (sa->want_delete || sa->want_rekey || sa->want_child || sa->want_dpd)
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
