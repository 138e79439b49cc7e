/*
 * L2TPv2 control connections: the reliable delivery of RFC 2661 5.8 (Ns/Nr, window,
 * retransmission, ZLB), the tunnel states of 7.2 and the incoming-call states of 7.4.1
 * (LAC) and 7.4.2 (LNS), and data messages.
 */
#include "l2tp/l2tp.h"

#include "crypto/crypto.h"
#include "crypto/digest.h"
#include "proto/l2tp.h"

#include <stdlib.h>
#include <string.h>

#define MOD "l2tp"

static const char *const l2tp_ctr_names[] = { SP_CTR_NAMES(foreach_l2tp_ctr) };

struct l2tp {
	struct l2tp_cfg cfg;
	struct l2tp_ops ops;
	struct sp_rng *rng;
	const struct sp_log *log;
	struct l2tp_tunnel *tunnels;
	struct l2tp_sess *sess;
	uint32_t tmask, smask; /* power of two - 1 at least max: id & mask = index + 1 */
	uint32_t serial;
	struct pkt_pool pool;
	uint8_t scratch[PKT_HEADROOM + L2TP_CTRL_BUF];
	uint64_t ctr[L2TP_CTR_N];
	struct sp_ctrs ctrs;
};

/* What one control message said (RFC 2661 6), AVPs by type. */
struct msg {
	uint16_t type;
	uint16_t sid; /* header Session ID */
	bool has_tid, has_sid, has_chal, has_resp, has_result, has_proto, has_framing;
	bool has_serial;
	uint16_t tid_avp, sid_avp, rwin, result, error, proto;
	struct cur chal, resp, host;
};

#define CTR(l, c) ((l)->ctr[L2TP_CTR_##c]++)

void l2tp_cfg_defaults(struct l2tp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->hostname, sizeof(c->hostname), "spinat");
	c->rtx_initial = SP_SEC(1);
	c->rtx_cap = SP_SEC(8);
	c->rtx_tries = 5;
	c->hello = SP_SEC(60);
	c->rwin = 4;
	c->max_tunnels = 64;
	c->max_sessions = 256;
	c->linger = SP_SEC(31);
}

static uint32_t pow2_mask(uint32_t n)
{
	uint32_t m = 1;

	while (m <= n)
		m <<= 1;
	return m - 1;
}

int l2tp_new(struct l2tp **out, const struct l2tp_cfg *cfg, const struct l2tp_ops *ops,
	     struct sp_rng *rng, const struct sp_log *log)
{
	struct l2tp *l;
	int r;

	*out = NULL;
	if (cfg->max_tunnels == 0 || cfg->max_tunnels > L2TP_TUNNELS_MAX ||
	    cfg->max_sessions == 0 || cfg->max_sessions > L2TP_SESSIONS_MAX || cfg->rwin == 0 ||
	    cfg->rtx_initial == 0 || cfg->rtx_cap < cfg->rtx_initial ||
	    cfg->secret_len > L2TP_SECRET_MAX)
		return SP_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SP_ENOMEM;
	l->cfg = *cfg;
	l->cfg.hostname[L2TP_HOSTNAME_MAX - 1] = '\0';
	l->ops = *ops;
	l->rng = rng;
	l->log = log;
	l->tmask = pow2_mask(cfg->max_tunnels);
	l->smask = pow2_mask(cfg->max_sessions);
	l->tunnels = calloc(cfg->max_tunnels, sizeof(*l->tunnels));
	l->sess = calloc(cfg->max_sessions, sizeof(*l->sess));
	if (l->tunnels == NULL || l->sess == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	if ((r = pkt_pool_init(&l->pool, cfg->max_tunnels * L2TP_TXQ,
			       PKT_HEADROOM + L2TP_CTRL_BUF)) != 0)
		goto fail;
	sp_ctrs_init(&l->ctrs, MOD, NULL, l2tp_ctr_names, l->ctr, L2TP_CTR_N);
	*out = l;
	return 0;
fail:
	free(l->tunnels);
	free(l->sess);
	free(l);
	return r;
}

void l2tp_free(struct l2tp *l)
{
	if (l == NULL)
		return;
	pkt_pool_destroy(&l->pool);
	free(l->tunnels);
	free(l->sess);
	crypto_wipe(l->cfg.secret, sizeof(l->cfg.secret));
	free(l);
}

struct sp_ctrs *l2tp_ctrs(struct l2tp *l)
{
	return &l->ctrs;
}

uint64_t l2tp_ctr(const struct l2tp *l, enum l2tp_ctr c)
{
	return (unsigned)c < L2TP_CTR_N ? l->ctr[c] : 0;
}

uint32_t l2tp_max_tunnels(const struct l2tp *l)
{
	return l->cfg.max_tunnels;
}

uint32_t l2tp_max_sessions(const struct l2tp *l)
{
	return l->cfg.max_sessions;
}

struct l2tp_tunnel *l2tp_tunnel_at(struct l2tp *l, uint32_t idx)
{
	return idx < l->cfg.max_tunnels ? &l->tunnels[idx] : NULL;
}

struct l2tp_sess *l2tp_sess_at(struct l2tp *l, uint32_t idx)
{
	return idx < l->cfg.max_sessions ? &l->sess[idx] : NULL;
}

uint32_t l2tp_sess_index(const struct l2tp *l, const struct l2tp_sess *s)
{
	return (uint32_t)(s - l->sess);
}

struct l2tp_tunnel *l2tp_sess_tunnel(struct l2tp *l, const struct l2tp_sess *s)
{
	return &l->tunnels[s->s_tunnel];
}

const char *l2tp_tunnel_state_name(enum l2tp_tunnel_state s)
{
	static const char *const n[] = { "free", "wait-reply", "wait-connect", "up", "closing" };

	return (unsigned)s < SP_NELEM(n) ? n[s] : "?";
}

const char *l2tp_sess_state_name(enum l2tp_sess_state s)
{
	static const char *const n[] = { "free", "pending", "wait-reply", "wait-connect", "up" };

	return (unsigned)s < SP_NELEM(n) ? n[s] : "?";
}

void l2tp_chal_response(uint8_t type, const uint8_t *secret, size_t secret_len, const uint8_t *chal,
			size_t chal_len, uint8_t out[16])
{
	struct crypto_piece pc[3] = {
		{ &type, 1 },
		{ secret, secret_len },
		{ chal, chal_len },
	};

	crypto_md5(pc, 3, out);
}

/* RFC 2661 5.8: sequence numbers compare modulo 2^16 over half the space. */
static bool seq_lt(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) < 0;
}

static uint32_t tunnel_idx(const struct l2tp *l, const struct l2tp_tunnel *t)
{
	return (uint32_t)(t - l->tunnels);
}

static struct l2tp_tunnel *tunnel_lookup(struct l2tp *l, uint16_t tid)
{
	uint32_t i = tid & l->tmask;
	struct l2tp_tunnel *t;

	if (i == 0 || i > l->cfg.max_tunnels)
		return NULL;
	t = &l->tunnels[i - 1];
	return t->t_state != L2TP_T_FREE && t->t_tid == tid ? t : NULL;
}

static struct l2tp_sess *sess_lookup(struct l2tp *l, const struct l2tp_tunnel *t, uint16_t sid)
{
	uint32_t i = sid & l->smask;
	struct l2tp_sess *s;

	if (i == 0 || i > l->cfg.max_sessions)
		return NULL;
	s = &l->sess[i - 1];
	return s->s_state != L2TP_S_FREE && s->s_sid == sid && s->s_tunnel == tunnel_idx(l, t)
		       ? s
		       : NULL;
}

/* An identifier whose low bits are index + 1 and whose high bits are random (never 0). */
static uint16_t make_id(struct l2tp *l, uint32_t mask, uint32_t idx)
{
	uint16_t hi = (uint16_t)(sp_rng_u32(l->rng) & ~mask & 0xffff);

	return (uint16_t)(hi | (idx + 1));
}

static struct l2tp_tunnel *tunnel_alloc(struct l2tp *l, sp_time now)
{
	for (uint32_t i = 0; i < l->cfg.max_tunnels; i++) {
		struct l2tp_tunnel *t = &l->tunnels[i];

		if (t->t_state != L2TP_T_FREE)
			continue;
		memset(t, 0, sizeof(*t));
		t->t_tid = make_id(l, l->tmask, i);
		t->t_peer_rwin = L2TP_RWIN_DEFAULT;
		t->t_rtx_at = SP_TIME_NEVER;
		t->t_close_at = SP_TIME_NEVER;
		t->t_last_rx = now;
		return t;
	}
	CTR(l, DROP_NO_TUNNEL_SLOT);
	return NULL;
}

static struct l2tp_sess *sess_alloc(struct l2tp *l, struct l2tp_tunnel *t)
{
	for (uint32_t i = 0; i < l->cfg.max_sessions; i++) {
		struct l2tp_sess *s = &l->sess[i];

		if (s->s_state != L2TP_S_FREE)
			continue;
		memset(s, 0, sizeof(*s));
		s->s_sid = make_id(l, l->smask, i);
		s->s_tunnel = tunnel_idx(l, t);
		t->t_nsess++;
		return s;
	}
	CTR(l, DROP_NO_SESSION_SLOT);
	return NULL;
}

static void sess_free(struct l2tp *l, sp_time now, struct l2tp_sess *s, uint16_t result)
{
	struct l2tp_tunnel *t = &l->tunnels[s->s_tunnel];
	bool was_up = s->s_state == L2TP_S_UP;

	if (s->s_state == L2TP_S_FREE)
		return;
	/* Free before the report: the owner may close the tunnel from its callback. */
	s->s_state = L2TP_S_FREE;
	if (t->t_nsess > 0)
		t->t_nsess--;
	if (was_up) {
		CTR(l, SESSION_DOWN);
		if (l->ops.session_down != NULL)
			l->ops.session_down(l->ops.arg, now, s, result);
	}
}

static void txq_flush(struct l2tp_tunnel *t)
{
	for (uint32_t i = 0; i < t->t_txq_n; i++) {
		pkt_free(t->t_txq[i]);
		t->t_txq[i] = NULL;
	}
	t->t_txq_n = 0;
	t->t_rtx_at = SP_TIME_NEVER;
}

/* Sessions go first, then the tunnel is reported down; the slot is freed by the caller. */
static void tunnel_down(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t result)
{
	bool was_up = t->t_state == L2TP_T_UP;

	/* Once: a callback below may close the tunnel again. */
	if (t->t_downed)
		return;
	t->t_downed = true;
	for (uint32_t i = 0; i < l->cfg.max_sessions && t->t_nsess > 0; i++)
		if (l->sess[i].s_state != L2TP_S_FREE && l->sess[i].s_tunnel == tunnel_idx(l, t))
			sess_free(l, now, &l->sess[i], result);
	if (was_up || t->t_lac) {
		CTR(l, TUNNEL_DOWN);
		if (l->ops.tunnel_down != NULL)
			l->ops.tunnel_down(l->ops.arg, now, t, result);
	}
}

static void tunnel_free(struct l2tp_tunnel *t)
{
	txq_flush(t);
	t->t_state = L2TP_T_FREE;
}

static void tx_raw(struct l2tp *l, const struct l2tp_tunnel *t, const struct pkt *p)
{
	l->ops.send(l->ops.arg, t->t_peer_addr, t->t_peer_port, pkt_data(p), p->len);
}

/* Send queued messages the peer's window admits (RFC 2661 5.8: at most its Receive Window
 * Size unacknowledged). Each carries the current Nr. */
static void tx_window(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint32_t from)
{
	uint32_t n = SP_MIN(t->t_txq_n, (uint32_t)t->t_peer_rwin);

	for (uint32_t i = from; i < n; i++) {
		struct pkt *p = t->t_txq[i];

		sp_store_be16(pkt_data(p) + 10, t->t_nr);
		tx_raw(l, t, p);
		CTR(l, TX_CTRL);
		t->t_sent = true;
	}
	if (t->t_txq_n > 0 && t->t_rtx_at == SP_TIME_NEVER) {
		t->t_rtx_ivl = l->cfg.rtx_initial;
		t->t_rtx_at = now + t->t_rtx_ivl;
		t->t_rtx_count = 0;
	}
}

/* A new control message: the AVPs are built into the returned packet, then msg_send(). */
static struct pkt *msg_begin(struct l2tp *l, uint16_t type)
{
	struct pkt *p = pkt_alloc(&l->pool);

	if (p == NULL) {
		CTR(l, DROP_NO_BUFFER);
		return NULL;
	}
	if (l2tp_avp_put_msg_type(p, type) != 0) {
		pkt_free(p);
		return NULL;
	}
	return p;
}

/* Consumes p. Queues it behind the unacknowledged ones and sends it if the window admits. */
static int msg_send(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t sid, struct pkt *p)
{
	uint32_t pos;

	if (t->t_txq_n >= L2TP_TXQ) {
		CTR(l, DROP_TXQ_FULL);
		pkt_free(p);
		return SP_EFULL;
	}
	if (l2tp_build_ctrl(p, t->t_peer_tid, sid, t->t_ns, t->t_nr) != 0) {
		CTR(l, DROP_NO_BUFFER);
		pkt_free(p);
		return SP_ENOSPACE;
	}
	t->t_ns++;
	pos = t->t_txq_n;
	t->t_txq[t->t_txq_n++] = p;
	if (pos < t->t_peer_rwin)
		tx_window(l, now, t, pos);
	return 0;
}

/* A Zero-Length Body ack (5.8): Ns is the next one, not consumed. */
static void send_zlb(struct l2tp *l, struct l2tp_tunnel *t)
{
	struct pkt p;

	pkt_init(&p, l->scratch, sizeof(l->scratch), PKT_HEADROOM);
	if (l2tp_build_ctrl(&p, t->t_peer_tid, 0, t->t_ns, t->t_nr) != 0)
		return;
	tx_raw(l, t, &p);
	CTR(l, TX_ZLB);
	t->t_sent = true;
}

static int put_result(struct pkt *p, uint16_t result, uint16_t error)
{
	uint8_t v[4];

	/* Result and Error Code both (4.4.2); some peers require the Error Code field. */
	sp_store_be16(v, result);
	sp_store_be16(v + 2, error);
	return l2tp_avp_put(p, L2TP_AVP_F_M, L2TP_VENDOR_IETF, L2TP_AVP_RESULT_CODE, v, 4);
}

static void send_stopccn(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t result,
			 uint16_t error)
{
	struct pkt *p = msg_begin(l, L2TP_MSG_STOPCCN);

	if (p == NULL)
		return;
	if (l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_TID, t->t_tid) != 0 ||
	    put_result(p, result, error) != 0) {
		pkt_free(p);
		return;
	}
	(void)msg_send(l, now, t, 0, p);
}

/* Close with StopCCN: sessions and tunnel reported down now, the slot kept for the ack. */
static void tunnel_stop(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t result,
			uint16_t error)
{
	/* Already closing, or re-entered from a callback of the report below. */
	if (t->t_state == L2TP_T_CLOSING || t->t_downed)
		return;
	tunnel_down(l, now, t, result);
	/* Anything still queued is moot; StopCCN goes out alone. */
	txq_flush(t);
	t->t_una = t->t_ns;
	send_stopccn(l, now, t, result, error);
	t->t_state = L2TP_T_CLOSING;
	t->t_close_at = now + l->cfg.linger;
}

void l2tp_tunnel_close(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t result)
{
	if (t != NULL && t->t_state != L2TP_T_FREE)
		tunnel_stop(l, now, t, result, L2TP_ERR_NONE);
}

static void send_cdn(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t peer_sid,
		     uint16_t our_sid, uint16_t result, uint16_t error)
{
	struct pkt *p = msg_begin(l, L2TP_MSG_CDN);

	if (p == NULL)
		return;
	if (put_result(p, result, error) != 0 ||
	    l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_SID, our_sid) != 0) {
		pkt_free(p);
		return;
	}
	(void)msg_send(l, now, t, peer_sid, p);
}

void l2tp_session_close(struct l2tp *l, sp_time now, struct l2tp_sess *s, uint16_t result)
{
	struct l2tp_tunnel *t;

	if (s == NULL || s->s_state == L2TP_S_FREE)
		return;
	t = &l->tunnels[s->s_tunnel];
	if (s->s_state != L2TP_S_PENDING && t->t_state == L2TP_T_UP)
		send_cdn(l, now, t, s->s_peer_sid, s->s_sid, result, L2TP_ERR_NONE);
	sess_free(l, now, s, result);
}

/* The AVPs every SCCRQ and SCCRP carry (6.1, 6.2), and a Challenge when a secret is set. */
static int put_sccrx(struct l2tp *l, struct l2tp_tunnel *t, struct pkt *p)
{
	size_t hl = strlen(l->cfg.hostname);
	int r;

	if ((r = l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_PROTO_VERSION, L2TP_PROTO_VERSION)) !=
		    0 ||
	    (r = l2tp_avp_put(p, L2TP_AVP_F_M, L2TP_VENDOR_IETF, L2TP_AVP_HOST_NAME,
			      l->cfg.hostname, hl > 0 ? hl : 1)) != 0 ||
	    (r = l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_FRAMING_CAP,
				  L2TP_FRAMING_SYNC | L2TP_FRAMING_ASYNC)) != 0 ||
	    (r = l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_BEARER_CAP, 0)) != 0 ||
	    (r = l2tp_avp_put_u16(p, 0, L2TP_AVP_FIRMWARE_REV, 0x0100)) != 0 ||
	    (r = l2tp_avp_put(p, 0, L2TP_VENDOR_IETF, L2TP_AVP_VENDOR_NAME, "spinat", 6)) != 0 ||
	    (r = l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_TID, t->t_tid)) != 0 ||
	    (r = l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_RECV_WINDOW, l->cfg.rwin)) != 0)
		return r;
	if (l->cfg.secret_len > 0) {
		sp_rng_bytes(l->rng, t->t_chal, sizeof(t->t_chal));
		if ((r = l2tp_avp_put(p, L2TP_AVP_F_M, L2TP_VENDOR_IETF, L2TP_AVP_CHALLENGE,
				      t->t_chal, sizeof(t->t_chal))) != 0)
			return r;
	}
	return 0;
}

/* The Challenge Response to the peer's Challenge in m, when it sent one. */
static int put_resp(struct l2tp *l, const struct msg *m, uint8_t type, struct pkt *p)
{
	uint8_t resp[CRYPTO_MD5_LEN];
	int r;

	if (!m->has_chal)
		return 0;
	l2tp_chal_response(type, l->cfg.secret, l->cfg.secret_len, cur_ptr(&m->chal),
			   cur_left(&m->chal), resp);
	r = l2tp_avp_put(p, L2TP_AVP_F_M, L2TP_VENDOR_IETF, L2TP_AVP_CHALLENGE_RESP, resp,
			 sizeof(resp));
	crypto_wipe(resp, sizeof(resp));
	return r;
}

/* 5.1.1: with a secret, the peer must answer our Challenge correctly. */
static bool resp_ok(struct l2tp *l, const struct l2tp_tunnel *t, const struct msg *m, uint8_t type)
{
	uint8_t want[CRYPTO_MD5_LEN];
	bool ok;

	if (l->cfg.secret_len == 0)
		return true;
	if (!m->has_resp || cur_left(&m->resp) != CRYPTO_MD5_LEN)
		return false;
	l2tp_chal_response(type, l->cfg.secret, l->cfg.secret_len, t->t_chal, sizeof(t->t_chal),
			   want);
	ok = crypto_memeq(want, cur_ptr(&m->resp), CRYPTO_MD5_LEN);
	crypto_wipe(want, sizeof(want));
	return ok;
}

int l2tp_tunnel_open(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port,
		     struct l2tp_tunnel **out)
{
	struct l2tp_tunnel *t;
	struct pkt *p;
	int r;

	*out = NULL;
	if ((t = tunnel_alloc(l, now)) == NULL)
		return SP_EFULL;
	t->t_lac = true;
	t->t_peer_addr = addr;
	t->t_peer_port = port;
	t->t_peer_tid = 0; /* 6.1: an SCCRQ goes to tunnel 0 */
	t->t_state = L2TP_T_WAIT_REPLY;
	if ((p = msg_begin(l, L2TP_MSG_SCCRQ)) == NULL) {
		r = SP_ENOSPACE;
		goto fail;
	}
	if ((r = put_sccrx(l, t, p)) != 0) {
		pkt_free(p);
		goto fail;
	}
	if ((r = msg_send(l, now, t, 0, p)) != 0)
		goto fail;
	SP_DEBUG(l->log, MOD, "tunnel %u: SCCRQ to %08x:%u", t->t_tid, addr, port);
	*out = t;
	return 0;
fail:
	tunnel_free(t);
	return r;
}

static void send_icrq(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, struct l2tp_sess *s)
{
	struct pkt *p = msg_begin(l, L2TP_MSG_ICRQ);

	if (p == NULL)
		return;
	s->s_serial = ++l->serial;
	if (l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_SID, s->s_sid) != 0 ||
	    l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_CALL_SERIAL, s->s_serial) != 0 ||
	    l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_BEARER_TYPE, 0) != 0) {
		pkt_free(p);
		return;
	}
	if (msg_send(l, now, t, 0, p) == 0)
		s->s_state = L2TP_S_WAIT_REPLY;
}

int l2tp_session_open(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, struct l2tp_sess **out)
{
	struct l2tp_sess *s;

	*out = NULL;
	if (t == NULL || (t->t_state != L2TP_T_UP && t->t_state != L2TP_T_WAIT_REPLY))
		return SP_ESTATE;
	if ((s = sess_alloc(l, t)) == NULL)
		return SP_EFULL;
	s->s_state = L2TP_S_PENDING;
	if (t->t_state == L2TP_T_UP)
		send_icrq(l, now, t, s);
	*out = s;
	return 0;
}

static void tunnel_is_up(struct l2tp *l, sp_time now, struct l2tp_tunnel *t)
{
	t->t_state = L2TP_T_UP;
	t->t_up_since = now;
	CTR(l, TUNNEL_UP);
	SP_INFO(l->log, MOD, "tunnel %u up with %s (peer tunnel %u)", t->t_tid, t->t_peer_name,
		t->t_peer_tid);
	if (l->ops.tunnel_up != NULL)
		l->ops.tunnel_up(l->ops.arg, now, t);
	for (uint32_t i = 0; i < l->cfg.max_sessions && t->t_state == L2TP_T_UP; i++)
		if (l->sess[i].s_state == L2TP_S_PENDING && l->sess[i].s_tunnel == tunnel_idx(l, t))
			send_icrq(l, now, t, &l->sess[i]);
}

static void sess_is_up(struct l2tp *l, sp_time now, struct l2tp_sess *s)
{
	s->s_state = L2TP_S_UP;
	s->s_up_since = now;
	CTR(l, SESSION_UP);
	if (l->ops.session_up != NULL)
		l->ops.session_up(l->ops.arg, now, s);
}

/* RFC 2661 4.1: an AVP this end does not know is ignored unless M is set. */
static bool avp_known(const struct l2tp_avp *a)
{
	return a->avp_vendor == L2TP_VENDOR_IETF && !a->avp_rsvd &&
	       a->avp_type <= L2TP_AVP_SEQ_REQUIRED && a->avp_type != 20;
}

/* Collect the AVPs of a control body. SP_EUNSUPP for an unknown mandatory AVP or a hidden
 * one this end would need (no Random Vector handling: 4.3 is optional for the sender). */
static int msg_parse(struct l2tp *l, const struct cur *body, struct msg *m)
{
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	int r;

	l2tp_avp_iter_init(&it, body);
	while ((r = l2tp_avp_next(&it, &a)) == 0) {
		struct cur v = a.avp_val;

		if (!avp_known(&a)) {
			if (a.avp_m) {
				CTR(l, DROP_UNKNOWN_MANDATORY);
				return SP_EUNSUPP;
			}
			continue;
		}
		if (a.avp_h) {
			if (a.avp_m) {
				CTR(l, DROP_HIDDEN);
				return SP_EUNSUPP;
			}
			continue;
		}
		switch (a.avp_type) {
		case L2TP_AVP_ASSIGNED_TID:
			m->has_tid = l2tp_avp_get_u16(&a, &m->tid_avp) == 0;
			if (!m->has_tid)
				return SP_EMALFORMED;
			break;
		case L2TP_AVP_ASSIGNED_SID:
			m->has_sid = l2tp_avp_get_u16(&a, &m->sid_avp) == 0;
			if (!m->has_sid)
				return SP_EMALFORMED;
			break;
		case L2TP_AVP_RECV_WINDOW:
			if (l2tp_avp_get_u16(&a, &m->rwin) != 0)
				return SP_EMALFORMED;
			break;
		case L2TP_AVP_PROTO_VERSION:
			m->has_proto = l2tp_avp_get_u16(&a, &m->proto) == 0;
			if (!m->has_proto)
				return SP_EMALFORMED;
			break;
		case L2TP_AVP_FRAMING_CAP:
			m->has_framing = true;
			break;
		case L2TP_AVP_CALL_SERIAL:
			m->has_serial = true;
			break;
		case L2TP_AVP_CHALLENGE:
			if (cur_left(&v) == 0)
				return SP_EMALFORMED;
			m->has_chal = true;
			m->chal = v;
			break;
		case L2TP_AVP_CHALLENGE_RESP:
			m->has_resp = true;
			m->resp = v;
			break;
		case L2TP_AVP_HOST_NAME:
			m->host = v;
			break;
		case L2TP_AVP_RESULT_CODE:
			/* Result Code, then optionally Error Code and a message. */
			if (cur_get_u16(&v, &m->result) != 0)
				return SP_EMALFORMED;
			m->has_result = true;
			if (cur_left(&v) >= 2 && cur_get_u16(&v, &m->error) != 0)
				return SP_EMALFORMED;
			break;
		default:
			break;
		}
	}
	return r == SP_ENOTFOUND ? 0 : r;
}

static void copy_name(char *dst, size_t cap, const struct cur *v)
{
	size_t n = SP_MIN(cur_left(v), cap - 1);
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = cur_ptr(v)[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[i] = '\0';
}

static void on_sccrq(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, const struct msg *m)
{
	struct pkt *p;

	if (m->has_proto && (m->proto >> 8) != 1) {
		tunnel_stop(l, now, t, 5, 0); /* 4.4.2: protocol version not supported */
		return;
	}
	if ((p = msg_begin(l, L2TP_MSG_SCCRP)) == NULL)
		return;
	if (put_sccrx(l, t, p) != 0 || put_resp(l, m, L2TP_MSG_SCCRP, p) != 0) {
		pkt_free(p);
		return;
	}
	if (msg_send(l, now, t, 0, p) == 0)
		t->t_state = L2TP_T_WAIT_CONN;
}

static void on_sccrp(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, const struct msg *m)
{
	struct pkt *p;

	if (!m->has_tid || m->tid_avp == 0) {
		CTR(l, DROP_MISSING_AVP);
		tunnel_stop(l, now, t, L2TP_STOP_ERROR, L2TP_ERR_RANGE);
		return;
	}
	t->t_peer_tid = m->tid_avp;
	if (m->rwin > 0)
		t->t_peer_rwin = SP_MIN(m->rwin, (uint16_t)L2TP_TXQ);
	copy_name(t->t_peer_name, sizeof(t->t_peer_name), &m->host);
	if (!resp_ok(l, t, m, L2TP_MSG_SCCRP) || (l->cfg.secret_len > 0 && !m->has_chal)) {
		CTR(l, DROP_AUTH);
		SP_WARN(l->log, MOD, "tunnel %u: %s failed tunnel authentication", t->t_tid,
			t->t_peer_name);
		tunnel_stop(l, now, t, L2TP_STOP_NOT_AUTH, 0);
		return;
	}
	if ((p = msg_begin(l, L2TP_MSG_SCCCN)) == NULL)
		return;
	if (put_resp(l, m, L2TP_MSG_SCCCN, p) != 0) {
		pkt_free(p);
		return;
	}
	if (msg_send(l, now, t, 0, p) == 0)
		tunnel_is_up(l, now, t);
}

static void on_icrq(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, const struct msg *m)
{
	struct l2tp_sess *s;
	struct pkt *p;

	if (!m->has_sid || m->sid_avp == 0 || !m->has_serial) {
		CTR(l, DROP_MISSING_AVP);
		if (m->has_sid)
			send_cdn(l, now, t, m->sid_avp, 0, L2TP_CDN_ERROR, L2TP_ERR_LENGTH);
		return;
	}
	/* A repeated ICRQ is caught by Ns; a second call with the same peer ID is refused. */
	for (uint32_t i = 0; i < l->cfg.max_sessions; i++) {
		s = &l->sess[i];
		if (s->s_state != L2TP_S_FREE && s->s_tunnel == tunnel_idx(l, t) &&
		    s->s_peer_sid == m->sid_avp) {
			CTR(l, DROP_UNEXPECTED);
			return;
		}
	}
	if ((s = sess_alloc(l, t)) == NULL) {
		send_cdn(l, now, t, m->sid_avp, 0, L2TP_CDN_NO_RESOURCE, L2TP_ERR_RESOURCE);
		return;
	}
	s->s_peer_sid = m->sid_avp;
	s->s_state = L2TP_S_WAIT_CONN;
	if ((p = msg_begin(l, L2TP_MSG_ICRP)) == NULL)
		goto fail;
	if (l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_ASSIGNED_SID, s->s_sid) != 0) {
		pkt_free(p);
		goto fail;
	}
	if (msg_send(l, now, t, s->s_peer_sid, p) == 0)
		return;
fail:
	sess_free(l, now, s, L2TP_CDN_NO_RESOURCE);
}

static void on_icrp(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, struct l2tp_sess *s,
		    const struct msg *m)
{
	struct pkt *p;

	if (!m->has_sid || m->sid_avp == 0) {
		CTR(l, DROP_MISSING_AVP);
		l2tp_session_close(l, now, s, L2TP_CDN_ERROR);
		return;
	}
	s->s_peer_sid = m->sid_avp;
	if ((p = msg_begin(l, L2TP_MSG_ICCN)) == NULL)
		return;
	/* 6.8: (Tx) Connect Speed and Framing Type are mandatory. */
	if (l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_TX_CONNECT_SPEED, 100000000) != 0 ||
	    l2tp_avp_put_u32(p, L2TP_AVP_F_M, L2TP_AVP_FRAMING_TYPE, L2TP_FRAMING_SYNC) != 0) {
		pkt_free(p);
		return;
	}
	if (msg_send(l, now, t, s->s_peer_sid, p) == 0)
		sess_is_up(l, now, s);
}

/* One in-sequence control message; dispatched on (type, state) (7.2, 7.4). */
static void ctrl_dispatch(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, struct msg *m)
{
	struct l2tp_sess *s = NULL;

	if (m->sid != 0 && (s = sess_lookup(l, t, m->sid)) == NULL && m->type != L2TP_MSG_CDN) {
		CTR(l, DROP_UNKNOWN_SESSION);
		return;
	}
	switch (m->type) {
	case L2TP_MSG_SCCRQ:
		if (t->t_state == L2TP_T_FREE) {
			on_sccrq(l, now, t, m);
			return;
		}
		break;
	case L2TP_MSG_SCCRP:
		if (t->t_state == L2TP_T_WAIT_REPLY) {
			on_sccrp(l, now, t, m);
			return;
		}
		break;
	case L2TP_MSG_SCCCN:
		if (t->t_state == L2TP_T_WAIT_CONN) {
			if (!resp_ok(l, t, m, L2TP_MSG_SCCCN)) {
				CTR(l, DROP_AUTH);
				SP_WARN(l->log, MOD, "tunnel %u: %s failed tunnel authentication",
					t->t_tid, t->t_peer_name);
				tunnel_stop(l, now, t, L2TP_STOP_NOT_AUTH, 0);
				return;
			}
			tunnel_is_up(l, now, t);
			return;
		}
		break;
	case L2TP_MSG_STOPCCN:
		if (t->t_state != L2TP_T_CLOSING) {
			tunnel_down(l, now, t, m->has_result ? m->result : L2TP_STOP_CLEAR);
			txq_flush(t);
			t->t_una = t->t_ns;
			t->t_state = L2TP_T_CLOSING;
			t->t_close_at = now + l->cfg.linger;
		}
		return;
	case L2TP_MSG_HELLO:
		if (t->t_state != L2TP_T_CLOSING)
			return;
		break;
	case L2TP_MSG_ICRQ:
		if (t->t_state == L2TP_T_UP && l->cfg.lns && s == NULL) {
			on_icrq(l, now, t, m);
			return;
		}
		break;
	case L2TP_MSG_ICRP:
		if (s != NULL && s->s_state == L2TP_S_WAIT_REPLY) {
			on_icrp(l, now, t, s, m);
			return;
		}
		break;
	case L2TP_MSG_ICCN:
		if (s != NULL && s->s_state == L2TP_S_WAIT_CONN) {
			sess_is_up(l, now, s);
			return;
		}
		break;
	case L2TP_MSG_CDN:
		/* 6.11: a CDN may name the session by header or by Assigned Session ID only
		 * when the peer never learnt ours. */
		if (s == NULL && m->has_sid)
			for (uint32_t i = 0; i < l->cfg.max_sessions && s == NULL; i++)
				if (l->sess[i].s_state != L2TP_S_FREE &&
				    l->sess[i].s_tunnel == tunnel_idx(l, t) &&
				    l->sess[i].s_peer_sid == m->sid_avp)
					s = &l->sess[i];
		if (s != NULL) {
			sess_free(l, now, s, m->has_result ? m->result : L2TP_CDN_ADMIN);
			return;
		}
		CTR(l, DROP_UNKNOWN_SESSION);
		return;
	case L2TP_MSG_SLI:
	case L2TP_MSG_WEN:
		return; /* nothing to set on a virtual line */
	default:
		CTR(l, DROP_UNKNOWN_MSG);
		return;
	}
	CTR(l, DROP_UNEXPECTED);
}

/* Nr acknowledges every message with Ns < Nr (5.8). */
static void on_ack(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t nr)
{
	uint16_t acked = (uint16_t)(nr - t->t_una);
	uint32_t before = t->t_txq_n;

	if (acked == 0 || seq_lt(nr, t->t_una))
		return; /* nothing new, or an old ack overtaken */
	if (acked > t->t_txq_n) {
		CTR(l, DROP_BAD_NR);
		return;
	}
	for (uint32_t i = 0; i < acked; i++)
		pkt_free(t->t_txq[i]);
	memmove(t->t_txq, t->t_txq + acked, (t->t_txq_n - acked) * sizeof(t->t_txq[0]));
	t->t_txq_n -= acked;
	t->t_una = nr;
	t->t_rtx_at = SP_TIME_NEVER;
	/* Messages the window held back may go now; the rest restart their timer. */
	if (t->t_txq_n > 0) {
		uint32_t sent_before = SP_MIN(before, (uint32_t)t->t_peer_rwin) - acked;

		tx_window(l, now, t, sent_before);
	}
}

static void ctrl_input(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port,
		       const struct l2tp_hdr *h, const struct cur *body)
{
	struct l2tp_tunnel *t;
	struct msg m;
	int r = 0;

	memset(&m, 0, sizeof(m));
	if (l2tp_ctrl_msg_type(body, &m.type) != 0) {
		CTR(l, DROP_MALFORMED);
		return;
	}
	m.sid = h->l2tp_sid;
	if (m.type == L2TP_MSG_ZLB) {
		CTR(l, RX_ZLB);
	} else {
		CTR(l, RX_CTRL);
		if ((r = msg_parse(l, body, &m)) == SP_EMALFORMED) {
			CTR(l, DROP_MALFORMED);
			return;
		}
	}
	if (h->l2tp_tid == 0) {
		/* 6.1: only an SCCRQ goes to tunnel 0; the LNS finds it again by the peer's
		 * address, port and Assigned Tunnel ID when it is repeated. */
		if (m.type != L2TP_MSG_SCCRQ) {
			CTR(l, DROP_UNKNOWN_TUNNEL);
			return;
		}
		if (!l->cfg.lns) {
			CTR(l, DROP_NOT_LNS);
			return;
		}
		if (r != 0 || !m.has_tid || m.tid_avp == 0 || !m.has_framing || !m.has_proto) {
			CTR(l, DROP_MISSING_AVP);
			return;
		}
		t = NULL;
		for (uint32_t i = 0; i < l->cfg.max_tunnels; i++) {
			struct l2tp_tunnel *o = &l->tunnels[i];

			if (o->t_state == L2TP_T_FREE || o->t_lac || o->t_peer_addr != addr ||
			    o->t_peer_port != port)
				continue;
			if (o->t_peer_tid == m.tid_avp) {
				t = o;
				break;
			}
			/* A new SCCRQ from the same address and port with another tunnel ID:
			 * the peer restarted and its old tunnel is gone (RFC 2661 5.4's peer
			 * that lost state). */
			if (o->t_state != L2TP_T_CLOSING) {
				CTR(l, PEER_RESTART);
				SP_INFO(l->log, MOD, "tunnel %u: peer %08x:%u restarted", o->t_tid,
					addr, port);
				tunnel_down(l, now, o, L2TP_STOP_CLEAR);
				tunnel_free(o);
			}
		}
		if (t == NULL) {
			if ((t = tunnel_alloc(l, now)) == NULL)
				return;
			t->t_peer_addr = addr;
			t->t_peer_port = port;
			t->t_peer_tid = m.tid_avp;
			if (m.rwin > 0)
				t->t_peer_rwin = SP_MIN(m.rwin, (uint16_t)L2TP_TXQ);
			copy_name(t->t_peer_name, sizeof(t->t_peer_name), &m.host);
			/* Still FREE: on_sccrq() makes it WAIT_CONN or it is let go below. */
		}
	} else if ((t = tunnel_lookup(l, h->l2tp_tid)) == NULL) {
		CTR(l, DROP_UNKNOWN_TUNNEL);
		return;
	}
	if (t->t_peer_addr != addr || t->t_peer_port != port) {
		/* A LAC behind a NAT keeps its mapping while it talks; a packet from elsewhere
		 * is not its. (The LAC's own first SCCRP comes from the port it sent to.) */
		if (!(t->t_lac && t->t_state == L2TP_T_WAIT_REPLY && t->t_peer_addr == addr)) {
			CTR(l, DROP_WRONG_PEER);
			return;
		}
		t->t_peer_port = port;
	}
	t->t_last_rx = now;
	t->t_sent = false;
	on_ack(l, now, t, h->l2tp_nr);
	if (m.type == L2TP_MSG_ZLB)
		return;
	if (h->l2tp_ns != t->t_nr) {
		if (seq_lt(h->l2tp_ns, t->t_nr)) {
			/* A repeat: our ack was lost; acknowledge again, do not act again. */
			CTR(l, DROP_DUPLICATE);
			send_zlb(l, t);
		} else {
			/* 5.8: may be discarded; the peer retransmits it after the gap. */
			CTR(l, DROP_OUT_OF_ORDER);
		}
		return;
	}
	t->t_nr++;
	if (r == SP_EUNSUPP) {
		/* 4.1: an unrecognised mandatory AVP clears the session or the tunnel. */
		struct l2tp_sess *s = m.sid != 0 ? sess_lookup(l, t, m.sid) : NULL;

		if (s != NULL) {
			send_cdn(l, now, t, s->s_peer_sid, s->s_sid, L2TP_CDN_ERROR,
				 L2TP_ERR_UNKNOWN_AVP);
			sess_free(l, now, s, L2TP_CDN_ERROR);
		} else {
			tunnel_stop(l, now, t, L2TP_STOP_ERROR, L2TP_ERR_UNKNOWN_AVP);
		}
	} else {
		ctrl_dispatch(l, now, t, &m);
	}
	if (t->t_state == L2TP_T_FREE) {
		/* An SCCRQ that made nothing of itself. */
		tunnel_free(t);
		return;
	}
	if (!t->t_sent)
		send_zlb(l, t);
}

static void data_input(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port,
		       const struct l2tp_hdr *h, const struct cur *body)
{
	struct l2tp_tunnel *t = tunnel_lookup(l, h->l2tp_tid);
	struct l2tp_sess *s;

	if (t == NULL) {
		CTR(l, DROP_UNKNOWN_TUNNEL);
		return;
	}
	if (t->t_peer_addr != addr || t->t_peer_port != port) {
		CTR(l, DROP_WRONG_PEER);
		return;
	}
	if ((s = sess_lookup(l, t, h->l2tp_sid)) == NULL) {
		CTR(l, DROP_UNKNOWN_SESSION);
		return;
	}
	if (s->s_state != L2TP_S_UP) {
		CTR(l, DROP_SESSION_NOT_UP);
		return;
	}
	CTR(l, RX_DATA);
	s->s_rx++;
	t->t_rx_data++;
	if (l->ops.data != NULL)
		l->ops.data(l->ops.arg, now, s, cur_ptr(body), cur_left(body));
}

void l2tp_input(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port, const uint8_t *buf,
		size_t len)
{
	struct l2tp_hdr h;
	struct cur c, body;
	int r;

	cur_init(&c, buf, len);
	if ((r = l2tp_parse(&c, &h)) != 0) {
		if (r == SP_EUNSUPP)
			CTR(l, DROP_VERSION);
		else
			CTR(l, DROP_MALFORMED);
		return;
	}
	if (cur_get_sub(&c, h.l2tp_plen, &body) != 0) {
		CTR(l, DROP_MALFORMED);
		return;
	}
	if (l2tp_is_control(&h))
		ctrl_input(l, now, addr, port, &h, &body);
	else
		data_input(l, now, addr, port, &h, &body);
}

int l2tp_send_data(struct l2tp *l, struct l2tp_sess *s, struct pkt *p)
{
	struct l2tp_tunnel *t;
	int r;

	if (s == NULL || s->s_state != L2TP_S_UP)
		return SP_ESTATE;
	t = &l->tunnels[s->s_tunnel];
	if (t->t_state != L2TP_T_UP)
		return SP_ESTATE;
	if ((r = l2tp_build_data(p, t->t_peer_tid, s->s_peer_sid)) != 0)
		return r;
	tx_raw(l, t, p);
	CTR(l, TX_DATA);
	s->s_tx++;
	t->t_tx_data++;
	return 0;
}

static void send_hello(struct l2tp *l, sp_time now, struct l2tp_tunnel *t)
{
	struct pkt *p = msg_begin(l, L2TP_MSG_HELLO);

	if (p == NULL)
		return;
	if (msg_send(l, now, t, 0, p) == 0)
		CTR(l, HELLO);
}

static void tunnel_tick(struct l2tp *l, sp_time now, struct l2tp_tunnel *t)
{
	if (t->t_state == L2TP_T_CLOSING && now >= t->t_close_at) {
		tunnel_free(t);
		return;
	}
	if (t->t_rtx_at <= now) {
		if (t->t_rtx_count >= l->cfg.rtx_tries) {
			/* 5.8: the peer is unreachable; the control connection is cleared. */
			CTR(l, TUNNEL_SILENT);
			SP_INFO(l->log, MOD, "tunnel %u: peer %s silent after %u retransmissions",
				t->t_tid, t->t_peer_name, t->t_rtx_count);
			if (t->t_state != L2TP_T_CLOSING)
				tunnel_down(l, now, t, L2TP_DOWN_SILENT);
			tunnel_free(t);
			return;
		}
		t->t_rtx_count++;
		CTR(l, RETRANSMIT);
		for (uint32_t i = 0; i < SP_MIN(t->t_txq_n, (uint32_t)t->t_peer_rwin); i++) {
			sp_store_be16(pkt_data(t->t_txq[i]) + 10, t->t_nr);
			tx_raw(l, t, t->t_txq[i]);
			CTR(l, TX_CTRL);
		}
		t->t_rtx_ivl = SP_MIN(t->t_rtx_ivl * 2, l->cfg.rtx_cap);
		t->t_rtx_at = now + t->t_rtx_ivl;
	}
	if (t->t_state == L2TP_T_UP && l->cfg.hello > 0 && t->t_txq_n == 0 &&
	    now >= t->t_last_rx + l->cfg.hello) {
		send_hello(l, now, t);
		t->t_last_rx = now; /* one HELLO per silent interval */
	}
}

void l2tp_tick(struct l2tp *l, sp_time now)
{
	for (uint32_t i = 0; i < l->cfg.max_tunnels; i++)
		if (l->tunnels[i].t_state != L2TP_T_FREE)
			tunnel_tick(l, now, &l->tunnels[i]);
}

sp_time l2tp_next_deadline(const struct l2tp *l)
{
	sp_time d = SP_TIME_NEVER;

	for (uint32_t i = 0; i < l->cfg.max_tunnels; i++) {
		const struct l2tp_tunnel *t = &l->tunnels[i];

		if (t->t_state == L2TP_T_FREE)
			continue;
		d = sp_time_min(d, t->t_rtx_at);
		if (t->t_state == L2TP_T_CLOSING)
			d = sp_time_min(d, t->t_close_at);
		if (t->t_state == L2TP_T_UP && l->cfg.hello > 0 && t->t_txq_n == 0)
			d = sp_time_min(d, t->t_last_rx + l->cfg.hello);
	}
	return d;
}

void l2tp_reset(struct l2tp *l, sp_time now)
{
	(void)now;
	for (uint32_t i = 0; i < l->cfg.max_sessions; i++)
		l->sess[i].s_state = L2TP_S_FREE;
	for (uint32_t i = 0; i < l->cfg.max_tunnels; i++)
		if (l->tunnels[i].t_state != L2TP_T_FREE)
			tunnel_free(&l->tunnels[i]);
}
