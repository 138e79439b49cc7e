/*
 * L2TPv2 control connections and sessions (RFC 2661), sans-IO, for both ends: the LNS
 * (accepts SCCRQ and ICRQ, many tunnels and sessions) and the LAC (opens a tunnel and an
 * incoming call). A struct l2tp owns its tunnels and sessions in fixed tables sized at
 * creation; it is handed UDP payloads with their source and the time (l2tp_input), sends
 * through struct l2tp_ops, reports tunnels and sessions coming up and going down, hands
 * PPP frames of data messages up, and says when it next needs attention
 * (l2tp_next_deadline, l2tp_tick). Control messages are delivered reliably (RFC 2661 5.8):
 * Ns/Nr, the peer's receive window, retransmission with doubling intervals, ZLB acks.
 * The tunnel is authenticated with a shared secret when one is configured (5.1.1).
 */
#ifndef SP_L2TP_L2TP_H
#define SP_L2TP_L2TP_H

#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"

#define L2TP_PORT	  1701
#define L2TP_TXQ	  8    /* unacknowledged control messages kept per tunnel */
#define L2TP_CTRL_BUF	  1024 /* the largest control message this end builds */
#define L2TP_SECRET_MAX	  64
#define L2TP_HOSTNAME_MAX 64
#define L2TP_CHAL_LEN	  16
#define L2TP_TUNNELS_MAX  4096
#define L2TP_SESSIONS_MAX 4096
#define L2TP_RWIN_DEFAULT 4 /* RFC 2661 5.8: a peer that sends no Receive Window Size */

/* Result codes of StopCCN (RFC 2661 4.4.2). */
#define L2TP_STOP_CLEAR	     1 /* general request to clear the control connection */
#define L2TP_STOP_ERROR	     2 /* general error, the Error Code says which */
#define L2TP_STOP_NOT_AUTH   4 /* requester is not authorized */
#define L2TP_STOP_SHUTDOWN   6 /* requester is being shut down */
#define L2TP_STOP_FSM	     7 /* finite state machine error */
/* Result codes of CDN (RFC 2661 4.4.2). */
#define L2TP_CDN_ADMIN	     3 /* disconnected for administrative reasons */
#define L2TP_CDN_NO_RESOURCE 4 /* lack of facilities, temporary */
#define L2TP_CDN_ERROR	     2 /* for the reason in the Error Code */
/* General error codes (RFC 2661 4.4.2). */
#define L2TP_ERR_NONE	     0
#define L2TP_ERR_NO_CONN     1
#define L2TP_ERR_LENGTH	     2
#define L2TP_ERR_RANGE	     3
#define L2TP_ERR_RESOURCE    4
#define L2TP_ERR_SESSION_ID  5
#define L2TP_ERR_UNKNOWN_AVP 8
/* Not sent: what l2tp_ops.tunnel_down reports when the peer went silent. */
#define L2TP_DOWN_SILENT     0x100

#define foreach_l2tp_ctr(_)                                     \
	_(RX_CTRL, "rx_ctrl")                                   \
	_(RX_ZLB, "rx_zlb")                                     \
	_(RX_DATA, "rx_data")                                   \
	_(TX_CTRL, "tx_ctrl")                                   \
	_(TX_ZLB, "tx_zlb")                                     \
	_(TX_DATA, "tx_data")                                   \
	_(RETRANSMIT, "retransmit")                             \
	_(HELLO, "hello")                                       \
	_(TUNNEL_UP, "tunnel_up")                               \
	_(TUNNEL_DOWN, "tunnel_down")                           \
	_(TUNNEL_SILENT, "tunnel_silent")                       \
	_(PEER_RESTART, "peer_restart")                         \
	_(SESSION_UP, "session_up")                             \
	_(SESSION_DOWN, "session_down")                         \
	_(DROP_MALFORMED, "drop_malformed")                     \
	_(DROP_VERSION, "drop_version")                         \
	_(DROP_UNKNOWN_TUNNEL, "drop_unknown_tunnel")           \
	_(DROP_UNKNOWN_SESSION, "drop_unknown_session")         \
	_(DROP_WRONG_PEER, "drop_wrong_peer")                   \
	_(DROP_DUPLICATE, "drop_duplicate")                     \
	_(DROP_OUT_OF_ORDER, "drop_out_of_order")               \
	_(DROP_BAD_NR, "drop_bad_nr")                           \
	_(DROP_UNEXPECTED, "drop_unexpected")                   \
	_(DROP_UNKNOWN_MSG, "drop_unknown_msg")                 \
	_(DROP_UNKNOWN_MANDATORY, "drop_unknown_mandatory_avp") \
	_(DROP_HIDDEN, "drop_hidden_avp")                       \
	_(DROP_MISSING_AVP, "drop_missing_avp")                 \
	_(DROP_AUTH, "drop_auth_failed")                        \
	_(DROP_NOT_LNS, "drop_not_lns")                         \
	_(DROP_NO_TUNNEL_SLOT, "drop_no_tunnel_slot")           \
	_(DROP_NO_SESSION_SLOT, "drop_no_session_slot")         \
	_(DROP_TXQ_FULL, "drop_txq_full")                       \
	_(DROP_NO_BUFFER, "drop_no_buffer")                     \
	_(DROP_SESSION_NOT_UP, "drop_session_not_up")

enum l2tp_ctr {
#define _(sym, str) L2TP_CTR_##sym,
	foreach_l2tp_ctr(_)
#undef _
		L2TP_CTR_N
};

struct l2tp_cfg {
	bool lns; /* answer SCCRQ and ICRQ; else only open tunnels (LAC) */
	char hostname[L2TP_HOSTNAME_MAX];
	/* Shared tunnel secret (RFC 2661 5.1.1); secret_len 0: no tunnel authentication. */
	uint8_t secret[L2TP_SECRET_MAX];
	size_t secret_len;
	sp_time rtx_initial; /* first retransmission after this (1 s) */
	sp_time rtx_cap;     /* the doubling interval stops growing here (8 s) */
	uint32_t rtx_tries;  /* retransmissions before the peer is declared silent (5) */
	sp_time hello;	     /* HELLO after this much silence from the peer (60 s, 6.5) */
	uint16_t rwin;	     /* our Receive Window Size (4) */
	uint32_t max_tunnels;
	uint32_t max_sessions;
	/* Keep a closed tunnel this long to acknowledge a repeated StopCCN (5.7). */
	sp_time linger;
};

/* Defaults as documented in docs/L2TP.md: LAC, no secret, 1 s doubling to 8 s, 5 tries,
 * hello 60 s, window 4, 64 tunnels, 256 sessions, linger 31 s. */
void l2tp_cfg_defaults(struct l2tp_cfg *c);

enum l2tp_tunnel_state {
	L2TP_T_FREE = 0,
	L2TP_T_WAIT_REPLY, /* LAC: SCCRQ sent */
	L2TP_T_WAIT_CONN,  /* LNS: SCCRP sent */
	L2TP_T_UP,
	L2TP_T_CLOSING, /* StopCCN sent or received; kept for acks until the deadline */
};

enum l2tp_sess_state {
	L2TP_S_FREE = 0,
	L2TP_S_PENDING,	   /* LAC: waiting for the tunnel to come up */
	L2TP_S_WAIT_REPLY, /* LAC: ICRQ sent */
	L2TP_S_WAIT_CONN,  /* LNS: ICRP sent */
	L2TP_S_UP,
};

struct l2tp_tunnel {
	enum l2tp_tunnel_state t_state;
	uint16_t t_tid;	     /* ours: the peer puts it in headers */
	uint16_t t_peer_tid; /* the peer's Assigned Tunnel ID */
	uint32_t t_peer_addr;
	uint16_t t_peer_port;
	uint16_t t_ns;	/* Ns of our next control message */
	uint16_t t_nr;	/* Ns we expect next from the peer */
	uint16_t t_una; /* oldest unacknowledged Ns */
	uint16_t t_peer_rwin;
	uint32_t t_nsess;
	uint32_t t_rtx_count; /* retransmissions of the oldest message so far */
	sp_time t_rtx_at;     /* next retransmission, SP_TIME_NEVER when nothing is queued */
	sp_time t_rtx_ivl;
	sp_time t_last_rx; /* last control message from the peer */
	sp_time t_close_at;
	sp_time t_up_since;
	bool t_lac;    /* we opened it */
	bool t_sent;   /* a message left during the current input (it carries the ack) */
	bool t_downed; /* reported down (sessions too) */
	uint8_t t_chal[L2TP_CHAL_LEN]; /* the Challenge we sent */
	char t_peer_name[L2TP_HOSTNAME_MAX];
	struct pkt *t_txq[L2TP_TXQ]; /* by Ns - t_una */
	uint32_t t_txq_n;
	uint64_t t_rx_data, t_tx_data;
};

struct l2tp_sess {
	enum l2tp_sess_state s_state;
	uint16_t s_sid;	     /* ours */
	uint16_t s_peer_sid; /* the peer's Assigned Session ID */
	uint32_t s_tunnel;   /* index of its tunnel */
	uint32_t s_serial;   /* Call Serial Number */
	sp_time s_up_since;
	uint64_t s_rx, s_tx; /* data messages */
};

struct l2tp;

struct l2tp_ops {
	/* Send one UDP payload to addr:port from the L2TP socket. */
	void (*send)(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len);
	void (*tunnel_up)(void *arg, sp_time now, struct l2tp_tunnel *t);
	/* result: the StopCCN Result Code sent or received, or L2TP_DOWN_SILENT. The
	 * tunnel's sessions have been reported down before. */
	void (*tunnel_down)(void *arg, sp_time now, struct l2tp_tunnel *t, uint16_t result);
	void (*session_up)(void *arg, sp_time now, struct l2tp_sess *s);
	void (*session_down)(void *arg, sp_time now, struct l2tp_sess *s, uint16_t result);
	/* A data message's PPP frame (RFC 2661 4.4.5: Address and Control as sent). */
	void (*data)(void *arg, sp_time now, struct l2tp_sess *s, const uint8_t *ppp, size_t len);
	void *arg;
};

/* Tables for cfg's limits are allocated here; nothing is allocated later. */
int l2tp_new(struct l2tp **out, const struct l2tp_cfg *cfg, const struct l2tp_ops *ops,
	     struct sp_rng *rng, const struct sp_log *log) SP_MUST_CHECK;
void l2tp_free(struct l2tp *l);

/* A UDP payload from addr:port. Consumes nothing; every drop is counted. */
void l2tp_input(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port, const uint8_t *buf,
		size_t len);

/* LAC: open a control connection to addr:port (SCCRQ). */
int l2tp_tunnel_open(struct l2tp *l, sp_time now, uint32_t addr, uint16_t port,
		     struct l2tp_tunnel **out) SP_MUST_CHECK;
/* LAC: place an incoming call on the tunnel (ICRQ once the tunnel is up). */
int l2tp_session_open(struct l2tp *l, sp_time now, struct l2tp_tunnel *t,
		      struct l2tp_sess **out) SP_MUST_CHECK;
/* Send CDN and forget the session (reported down). */
void l2tp_session_close(struct l2tp *l, sp_time now, struct l2tp_sess *s, uint16_t result);
/* Send StopCCN; the tunnel and its sessions are reported down now. */
void l2tp_tunnel_close(struct l2tp *l, sp_time now, struct l2tp_tunnel *t, uint16_t result);
/* Forget everything without a word to the peers (a restart). */
void l2tp_reset(struct l2tp *l, sp_time now);

/* Send the PPP frame in p (Address/Control and Protocol included) as a data message;
 * pushes the 6-octet data header into p's headroom. SP_ESTATE unless the session is up. */
int l2tp_send_data(struct l2tp *l, struct l2tp_sess *s, struct pkt *p) SP_MUST_CHECK;

sp_time l2tp_next_deadline(const struct l2tp *l);
void l2tp_tick(struct l2tp *l, sp_time now);

struct l2tp_tunnel *l2tp_sess_tunnel(struct l2tp *l, const struct l2tp_sess *s);
/* Index of a session in 0..max_sessions-1, for tables kept beside l2tp's. */
uint32_t l2tp_sess_index(const struct l2tp *l, const struct l2tp_sess *s);
struct l2tp_sess *l2tp_sess_at(struct l2tp *l, uint32_t idx);
struct l2tp_tunnel *l2tp_tunnel_at(struct l2tp *l, uint32_t idx);
uint32_t l2tp_max_tunnels(const struct l2tp *l);
uint32_t l2tp_max_sessions(const struct l2tp *l);

struct sp_ctrs *l2tp_ctrs(struct l2tp *l);
uint64_t l2tp_ctr(const struct l2tp *l, enum l2tp_ctr c);
const char *l2tp_tunnel_state_name(enum l2tp_tunnel_state s);
const char *l2tp_sess_state_name(enum l2tp_sess_state s);

/* The Challenge Response of RFC 2661 5.1.1: MD5(type, secret, challenge), type being the
 * Message Type of the message that carries it (SCCRP 2, SCCCN 3). */
void l2tp_chal_response(uint8_t type, const uint8_t *secret, size_t secret_len, const uint8_t *chal,
			size_t chal_len, uint8_t out[16]);

#endif
