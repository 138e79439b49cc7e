/*
 * IKE_SA_INIT (RFC 7296 1.2): proposals and key exchange, COOKIE under load (2.6),
 * INVALID_KE_PAYLOAD (2.7), NAT detection and the move to the NAT-T port (2.23), the
 * stateless replies, and the IKE SA's keys (2.14).
 */
#include "ike/ike_priv.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IKE_NONCE_LEN	 32 /* RFC 7296 2.10: at least half the PRF key size */
#define IKE_INIT_RETRIES 3  /* COOKIE / INVALID_KE_PAYLOAD round trips */

/* ---- helpers ---- */

static void nat_hash(uint64_t spi_i, uint64_t spi_r, uint32_t addr, uint16_t port, uint8_t *out)
{
	/* 2.23: SHA-1(SPIi | SPIr | IP | Port), all in network order. */
	uint8_t b[8 + 8 + 4 + 2];

	sp_store_be64(b, spi_i);
	sp_store_be64(b + 8, spi_r);
	sp_store_be32(b + 16, addr);
	sp_store_be16(b + 20, port);
	if (crypto_sha1(b, sizeof(b), out) != 0)
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

static void init_reply_notify(struct ike *ike, const struct ike_path *path, uint64_t spi_i,
			      uint16_t type, const void *data, size_t len)
{
	/* A stateless answer (2.6, 2.7): no responder SPI, no state kept. */
	struct ike_sa tmp;
	struct ike_conn c;
	struct ike_notify_arg n = { type, data, len };
	struct ike_wire msg;

	memset(&tmp, 0, sizeof(tmp));
	memset(&c, 0, sizeof(c));
	tmp.ike = ike;
	tmp.conn = &c;
	tmp.spi_i = spi_i;
	if (ike_msg_build(ike, &tmp, IKEV2_EXCH_IKE_SA_INIT, true, 0, false, ike_build_notify, &n,
			  &msg) != 0)
		return;
	ike_send_wire(ike, path, &msg);
	ike_wire_free(&msg);
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
	/* RFC 7383 2.3: the initiator announces support; the responder answers in kind only
	 * when the initiator did. No SPI, no data. */
	if ((sa->initiator ? sa->conn->fragmentation : sa->frag) &&
	    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0)) != 0)
		return r;
	if (!sa->initiator && sa->conn->auth == IKEV2_AUTH_SIG) {
		const uint8_t *ids;
		size_t idlen;

		/* 3.7: every trust anchor of ours, by the hash of its public key. */
		crypto_cred_ca_keyids(sa->conn->cred, &ids, &idlen);
		if ((r = ikev2_put_certreq(w, IKEV2_CERT_X509_SIG, ids, idlen)) != 0)
			return r;
	}
	return put_sig_hash(sa, w);
}

static int send_init_request(struct ike_sa *sa, sp_time now)
{
	struct init_arg a = { sa->conn->ike_props, sa->conn->n_ike_props, 0 };
	struct ikev2_algs props[IKE_PROPS_MAX];
	uint16_t g = crypto_dh_group(sa->dh);
	size_t n = 0;
	struct ike_wire msg;
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
			       &msg)) != 0)
		return r;
	/* 2.15: RealMessage1 is the request as last sent. */
	free(sa->init_req);
	if ((sa->init_req = malloc(msg.len)) == NULL) {
		ike_wire_free(&msg);
		return SP_ENOMEM;
	}
	memcpy(sa->init_req, msg.buf, msg.len);
	sa->init_req_len = msg.len;
	sa->msgid_next = 1;
	sa->req.msgid = 0;
	ike_req_send(sa, now, IKE_X_INIT, &msg);
	return 0;
}

int ike_sa_initiate(struct ike *ike, const struct ike_conn *c, sp_time now)
{
	struct ike_sa *sa;
	int r;

	if (ike->shut_down)
		return SP_ESTATE;
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
		IKE_LOG(ike, r == SP_EAGAIN ? SP_LOG_DEBUG : SP_LOG_ERR, "%s: cannot initiate: %s",
			c->name, sp_strerror(r));
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
	crypto_wipe(gir, sizeof(gir));
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
	struct ike_wire resp;
	int r;

	/* A retransmitted request of a half-open SA gets the same answer (2.1). */
	for (sa = ike->sas; sa != NULL; sa = sa->next) {
		if (!sa->initiator && sa->spi_i == m->hdr.ike_ispi && sa->state != IKE_SA_DEAD &&
		    sa->path.remote_addr == path->remote_addr &&
		    sa->path.remote_port == path->remote_port) {
			if (sa->state == IKE_SA_INIT_DONE && sa->have_resp && sa->resp_msgid == 0) {
				ike_ctr(ike, IKE_CTR_RESPONSE_RESENT);
				ike_send_wire(ike, &sa->path, &sa->resp);
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
		IKE_LOG_RL(ike, now, SP_LOG_WARN,
			   "IKE_SA_INIT from %u.%u.%u.%u: no connection for it (local %u.%u.%u.%u)",
			   path->remote_addr >> 24, (path->remote_addr >> 16) & 255,
			   (path->remote_addr >> 8) & 255, path->remote_addr & 255,
			   path->local_addr >> 24, (path->local_addr >> 16) & 255,
			   (path->local_addr >> 8) & 255, path->local_addr & 255);
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
				ok = crypto_memeq(ck, n->data, sizeof(ck));
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
		if (ike_log_ok(ike, now)) {
			char theirs[512], ours[512], from[SP_IP4_STRLEN];

			ike_props_fmt_peer(m->sa, theirs, sizeof(theirs));
			ike_props_fmt(c->ike_props, c->n_ike_props, ours, sizeof(ours));
			ike_log_limited(
				ike, SP_LOG_WARN,
				"%s: IKE_SA_INIT from %s: no acceptable proposal: peer offered "
				"%s; ours (ike =): %s",
				c->name, sp_ip4_fmt(path->remote_addr, from), theirs, ours);
		}
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
	sa->frag = c->fragmentation &&
		   ikev2_msg_notify(m, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	a.props = &sa->algs;
	a.nprops = 1;
	a.nat_spi_r = sa->spi_r;
	/* The DH key pair must exist for the response's KE, so derive after building. */
	if (ike_msg_build(ike, sa, IKEV2_EXCH_IKE_SA_INIT, true, 0, false, build_init, &a, &resp) !=
	    0)
		goto fail;
	if (derive_ike(sa, m) != 0) {
		ike_ctr(ike, IKE_CTR_DROP_MALFORMED);
		IKE_LOG_RL(ike, now, SP_LOG_INFO, "%s: IKE_SA_INIT: bad KE data", c->name);
		ike_wire_free(&resp);
		init_reply_notify(ike, path, m->hdr.ike_ispi, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		goto fail;
	}
	if ((sa->init_req = malloc(len)) == NULL || (sa->init_resp = malloc(resp.len)) == NULL) {
		ike_wire_free(&resp);
		goto fail;
	}
	memcpy(sa->init_req, msg, len);
	sa->init_req_len = len;
	memcpy(sa->init_resp, resp.buf, resp.len);
	sa->init_resp_len = resp.len;
	sa->state = IKE_SA_INIT_DONE;
	sa->msgid_expect = 1;
	sa->half_open_until = now + ike->half_open_timeout;
	ike_resp_send(sa, 0, &resp);
	return;
fail:
	sa->state = IKE_SA_DEAD;
}

void ike_sa_input_init_response(struct ike_sa *sa, sp_time now, const uint8_t *msg, size_t len,
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
		if (n->type == IKEV2_N_NO_PROPOSAL_CHOSEN) {
			char ours[512];

			ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
			ike_props_fmt(sa->conn->ike_props, sa->conn->n_ike_props, ours,
				      sizeof(ours));
			snprintf(sa->why, sizeof(sa->why),
				 "IKE_SA_INIT: NO_PROPOSAL_CHOSEN: the peer took none of ours: "
				 "%.90s",
				 ours);
			sa->no_retry = true; /* a configuration matter: retrying does not help */
		} else {
			snprintf(sa->why, sizeof(sa->why), "IKE_SA_INIT: the peer answered %s",
				 ikev2_notify_name(n->type));
		}
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, sa->why);
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
		char theirs[256];

		ike_ctr(ike, IKE_CTR_NO_PROPOSAL);
		ike_props_fmt_peer(m->sa, theirs, sizeof(theirs));
		snprintf(sa->why, sizeof(sa->why),
			 "IKE_SA_INIT: the responder chose %.90s, not one of ours", theirs);
		sa->no_retry = true;
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, sa->why);
		return;
	}
	sa->algs = chosen;
	sa->spi_r = m->hdr.ike_rspi;
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	nat_detect(sa, m, sa->spi_r);
	sa->sha_sig = ikev2_msg_notify(m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS) != NULL;
	sa->frag = sa->conn->fragmentation &&
		   ikev2_msg_notify(m, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
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
	if (ike_sa_send_auth_request(sa, now) != 0)
		ike_sa_fail(sa, now, IKE_EV_CONNECT_FAILED, "cannot build IKE_AUTH");
}
