/*
 * PPP authentication, both ends: CHAP with MD5 (RFC 1994) and PAP (RFC 1334 2). The
 * server (authenticator) challenges or waits for the PAP request and checks the answer
 * against its users; the client answers with its name and secret. Secrets are compared in
 * constant time and the digests wiped.
 */
#include "l2tp/ppp_priv.h"

#include "crypto/crypto.h"
#include "crypto/digest.h"

#include <string.h>

#define MOD "ppp"

void ppp_chap_md5(uint8_t id, const uint8_t *secret, size_t secret_len, const uint8_t *chal,
		  size_t chal_len, uint8_t out[16])
{
	struct crypto_piece pc[3] = {
		{ &id, 1 },
		{ secret, secret_len },
		{ chal, chal_len },
	};

	crypto_md5(pc, 3, out);
}

static const struct ppp_user *user_lookup(const struct ppp_link *k, const struct cur *name)
{
	for (size_t i = 0; i < k->cfg.nusers; i++) {
		const struct ppp_user *u = &k->cfg.users[i];

		if (strlen(u->name) == cur_left(name) &&
		    memcmp(u->name, cur_ptr(name), cur_left(name)) == 0)
			return u;
	}
	return NULL;
}

static void set_peer_name(struct ppp_link *k, const struct cur *name)
{
	size_t n = SP_MIN(cur_left(name), sizeof(k->peer_name) - 1), i;

	for (i = 0; i < n; i++) {
		uint8_t ch = cur_ptr(name)[i];

		k->peer_name[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	k->peer_name[i] = '\0';
}

static void send_challenge(struct ppp_link *k, sp_time now)
{
	struct pkt p;
	uint8_t vs = PPP_CHAL_LEN;

	ppp_frame_begin(k, &p);
	if (pkt_append(&p, &vs, 1) != 0 || pkt_append(&p, k->chal, PPP_CHAL_LEN) != 0 ||
	    pkt_append(&p, k->cfg.name, (uint32_t)strlen(k->cfg.name)) != 0)
		return;
	k->auth_timer = now + k->cfg.restart;
	ppp_frame_send(k, &p, PPP_PROTO_CHAP, PPP_CHAP_CHALLENGE, k->auth_id);
}

static void send_pap_req(struct ppp_link *k, sp_time now)
{
	struct pkt p;
	uint8_t ul = (uint8_t)strlen(k->cfg.user), pl = (uint8_t)k->cfg.password_len;

	ppp_frame_begin(k, &p);
	if (pkt_append(&p, &ul, 1) != 0 || pkt_append(&p, k->cfg.user, ul) != 0 ||
	    pkt_append(&p, &pl, 1) != 0 || pkt_append(&p, k->cfg.password, pl) != 0)
		return;
	k->auth_timer = now + k->cfg.restart;
	ppp_frame_send(k, &p, PPP_PROTO_PAP, PPP_PAP_REQ, ++k->auth_id);
}

void ppp_auth_start(struct ppp_link *k, sp_time now)
{
	k->auth_tries = 0;
	if (k->cfg.server) {
		if (k->auth_us == PPP_AUTH_NONE) {
			ppp_network_start(k, now);
			return;
		}
		k->auth_id = (uint8_t)sp_rng_u32(k->rng);
		if (k->auth_us == PPP_AUTH_CHAP) {
			sp_rng_bytes(k->rng, k->chal, sizeof(k->chal));
			send_challenge(k, now);
		} else {
			/* PAP: the peer speaks first; give it the whole negotiation time. */
			k->auth_timer = now + k->cfg.restart * k->cfg.max_configure;
		}
		return;
	}
	if (k->auth_them == PPP_AUTH_PAP) {
		send_pap_req(k, now);
		return;
	}
	if (k->auth_them == PPP_AUTH_NONE) {
		ppp_network_start(k, now);
		return;
	}
	/* CHAP: wait for the challenge. */
	k->auth_timer = now + k->cfg.restart * k->cfg.max_configure;
}

static void auth_result(struct ppp_link *k, sp_time now, bool ok, uint16_t proto, uint8_t id)
{
	static const char welcome[] = "Welcome", denied[] = "Access denied";
	struct pkt p;
	const char *msg = ok ? welcome : denied;
	uint8_t ml = (uint8_t)strlen(msg);

	ppp_frame_begin(k, &p);
	if (proto == PPP_PROTO_PAP) {
		if (pkt_append(&p, &ml, 1) != 0 || pkt_append(&p, msg, ml) != 0)
			return;
		ppp_frame_send(k, &p, proto, ok ? PPP_PAP_ACK : PPP_PAP_NAK, id);
	} else {
		if (pkt_append(&p, msg, ml) != 0)
			return;
		ppp_frame_send(k, &p, proto, ok ? PPP_CHAP_SUCCESS : PPP_CHAP_FAILURE, id);
	}
	if (k->authed)
		return; /* a repeated answer after success (RFC 1994 4.1 implementation note) */
	if (ok) {
		PPP_CTR(k, AUTH_OK);
		SP_INFO(k->log, MOD, "peer %s authenticated by %s", k->peer_name,
			proto == PPP_PROTO_PAP ? "PAP" : "CHAP");
		ppp_network_start(k, now);
	} else {
		PPP_CTR(k, AUTH_FAILED);
		ppp_fail(k, now, "peer failed authentication");
	}
}

/* Server: a CHAP Response (RFC 1994 4.1). */
static void chap_response(struct ppp_link *k, sp_time now, const struct ppp_cp *cp)
{
	struct cur c = cp->cp_data, val;
	const struct ppp_user *u;
	uint8_t vs, want[16];
	bool ok;

	if (cp->cp_id != k->auth_id) {
		PPP_CTR(k, DROP_BAD_ID);
		return;
	}
	if (cur_get_u8(&c, &vs) != 0 || cur_get_sub(&c, vs, &val) != 0) {
		PPP_CTR(k, DROP_MALFORMED);
		return;
	}
	if (k->authed) {
		auth_result(k, now, true, PPP_PROTO_CHAP, cp->cp_id);
		return;
	}
	set_peer_name(k, &c);
	u = user_lookup(k, &c);
	ok = false;
	if (u != NULL && vs == 16) {
		ppp_chap_md5(cp->cp_id, u->secret, u->secret_len, k->chal, PPP_CHAL_LEN, want);
		ok = crypto_memeq(want, cur_ptr(&val), 16);
		crypto_wipe(want, sizeof(want));
	}
	auth_result(k, now, ok, PPP_PROTO_CHAP, cp->cp_id);
}

/* Server: a PAP Authenticate-Request (RFC 1334 2.2.1). */
static void pap_request(struct ppp_link *k, sp_time now, const struct ppp_cp *cp)
{
	struct cur c = cp->cp_data, id, pw;
	const struct ppp_user *u;
	uint8_t il, pl;
	bool ok;

	if (cur_get_u8(&c, &il) != 0 || cur_get_sub(&c, il, &id) != 0 || cur_get_u8(&c, &pl) != 0 ||
	    cur_get_sub(&c, pl, &pw) != 0) {
		PPP_CTR(k, DROP_MALFORMED);
		return;
	}
	if (k->authed) {
		auth_result(k, now, true, PPP_PROTO_PAP, cp->cp_id);
		return;
	}
	set_peer_name(k, &id);
	u = user_lookup(k, &id);
	ok = u != NULL && u->secret_len == pl && crypto_memeq(u->secret, cur_ptr(&pw), pl);
	auth_result(k, now, ok, PPP_PROTO_PAP, cp->cp_id);
}

/* Client: a CHAP Challenge; answered whenever it comes (RFC 1994 3.2). */
static void chap_challenge(struct ppp_link *k, sp_time now, const struct ppp_cp *cp)
{
	struct cur c = cp->cp_data, val;
	struct pkt p;
	uint8_t vs, resp[16], rs = 16;

	if (cur_get_u8(&c, &vs) != 0 || vs == 0 || cur_get_sub(&c, vs, &val) != 0) {
		PPP_CTR(k, DROP_MALFORMED);
		return;
	}
	set_peer_name(k, &c);
	ppp_chap_md5(cp->cp_id, k->cfg.password, k->cfg.password_len, cur_ptr(&val), vs, resp);
	ppp_frame_begin(k, &p);
	if (pkt_append(&p, &rs, 1) == 0 && pkt_append(&p, resp, 16) == 0 &&
	    pkt_append(&p, k->cfg.user, (uint32_t)strlen(k->cfg.user)) == 0)
		ppp_frame_send(k, &p, PPP_PROTO_CHAP, PPP_CHAP_RESPONSE, cp->cp_id);
	crypto_wipe(resp, sizeof(resp));
	k->auth_id = cp->cp_id;
	if (!k->authed)
		k->auth_timer = now + k->cfg.restart * k->cfg.max_configure;
}

void ppp_auth_input(struct ppp_link *k, sp_time now, uint16_t proto, const struct ppp_cp *cp)
{
	if (k->phase != PPP_PHASE_AUTH && k->phase != PPP_PHASE_NETWORK &&
	    k->phase != PPP_PHASE_UP) {
		PPP_CTR(k, DROP_UNEXPECTED);
		return;
	}
	if (k->cfg.server) {
		if (proto == PPP_PROTO_CHAP && k->auth_us == PPP_AUTH_CHAP &&
		    cp->cp_code == PPP_CHAP_RESPONSE)
			chap_response(k, now, cp);
		else if (proto == PPP_PROTO_PAP && k->auth_us == PPP_AUTH_PAP &&
			 cp->cp_code == PPP_PAP_REQ)
			pap_request(k, now, cp);
		else
			PPP_CTR(k, DROP_UNEXPECTED);
		return;
	}
	if (proto == PPP_PROTO_CHAP && k->auth_them == PPP_AUTH_CHAP) {
		switch (cp->cp_code) {
		case PPP_CHAP_CHALLENGE:
			chap_challenge(k, now, cp);
			return;
		case PPP_CHAP_SUCCESS:
			if (cp->cp_id == k->auth_id && !k->authed) {
				PPP_CTR(k, AUTH_OK);
				ppp_network_start(k, now);
			}
			return;
		case PPP_CHAP_FAILURE:
			if (cp->cp_id == k->auth_id && !k->authed) {
				PPP_CTR(k, AUTH_FAILED);
				ppp_fail(k, now, "server refused our CHAP response");
			}
			return;
		default:
			break;
		}
	} else if (proto == PPP_PROTO_PAP && k->auth_them == PPP_AUTH_PAP && !k->authed &&
		   cp->cp_id == k->auth_id) {
		if (cp->cp_code == PPP_PAP_ACK) {
			PPP_CTR(k, AUTH_OK);
			ppp_network_start(k, now);
			return;
		}
		if (cp->cp_code == PPP_PAP_NAK) {
			PPP_CTR(k, AUTH_FAILED);
			ppp_fail(k, now, "server refused our PAP password");
			return;
		}
	}
	PPP_CTR(k, DROP_UNEXPECTED);
}

void ppp_auth_tick(struct ppp_link *k, sp_time now)
{
	if (k->auth_timer > now)
		return;
	k->auth_timer = SP_TIME_NEVER;
	if (k->phase != PPP_PHASE_AUTH)
		return;
	if (++k->auth_tries >= k->cfg.max_configure ||
	    (k->cfg.server && k->auth_us == PPP_AUTH_PAP) ||
	    (!k->cfg.server && k->auth_them == PPP_AUTH_CHAP)) {
		PPP_CTR(k, AUTH_FAILED);
		ppp_fail(k, now, "authentication timed out");
		return;
	}
	if (k->cfg.server)
		send_challenge(k, now); /* same identifier and value: a retransmission */
	else
		send_pap_req(k, now);
}
