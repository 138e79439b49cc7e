/*
 * PPP in userspace over an L2TP session, sans-IO: one struct ppp_link per session, either
 * end. LCP (RFC 1661: MRU, Magic-Number, Echo keepalive), authentication by CHAP with MD5
 * (RFC 1994) or PAP (RFC 1334 2), IPCP's IP-Address (RFC 1332 3.3) with the server handing
 * out the address it was given. Compression is refused: LCP's PFC and ACFC and IPCP's
 * IP-Compression-Protocol are Configure-Rejected and CCP (and every other protocol) gets
 * an LCP Protocol-Reject (004 [0024]: compression is useless on encrypted packets).
 * The link is handed PPP frames (ppp_link_input) and the time, sends frames through its
 * ops, reports up (with both addresses) and down, and delivers IPv4 packets.
 */
#ifndef SP_L2TP_PPP_LINK_H
#define SP_L2TP_PPP_LINK_H

#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"

#define PPP_NAME_MAX	64
#define PPP_SECRET_MAX	64
#define PPP_CHAL_LEN	16
#define PPP_MRU_DEFAULT 1400 /* 1500 less outer IPv4, UDP, L2TP and PPP, with slack */
#define PPP_MRU_MIN	576

enum ppp_auth {
	PPP_AUTH_NONE = 0,
	PPP_AUTH_PAP = 1,
	PPP_AUTH_CHAP = 2, /* CHAP with MD5 (algorithm 5) */
};

/* A user the server knows: CHAP's secret is PAP's password. */
struct ppp_user {
	char name[PPP_NAME_MAX];
	uint8_t secret[PPP_SECRET_MAX];
	size_t secret_len;
	uint32_t addr; /* a fixed address for this user (LNS), 0: from the pool */
};

#define foreach_ppp_ctr(_)                         \
	_(RX, "rx")                                \
	_(TX, "tx")                                \
	_(RX_IP, "rx_ip")                          \
	_(TX_IP, "tx_ip")                          \
	_(LINK_UP, "link_up")                      \
	_(LINK_DOWN, "link_down")                  \
	_(AUTH_OK, "auth_ok")                      \
	_(AUTH_FAILED, "auth_failed")              \
	_(ECHO_TX, "echo_tx")                      \
	_(ECHO_LOST, "echo_lost")                  \
	_(REJ_COMPRESSION, "rejected_compression") \
	_(PROTO_REJ_TX, "protocol_reject_tx")      \
	_(DROP_MALFORMED, "drop_malformed")        \
	_(DROP_UNEXPECTED, "drop_unexpected")      \
	_(DROP_BAD_ID, "drop_bad_id")              \
	_(DROP_LOOPED, "drop_looped")              \
	_(DROP_IP_NOT_UP, "drop_ip_not_up")        \
	_(DROP_IP_SPOOFED, "drop_ip_spoofed")      \
	_(DROP_NO_SPACE, "drop_no_space")          \
	_(DROP_NEGOTIATION_FAILED, "drop_negotiation_failed")

enum ppp_ctr {
#define _(sym, str) PPP_CTR_##sym,
	foreach_ppp_ctr(_)
#undef _
		PPP_CTR_N
};

/* Counters shared by all links of one owner (an LNS has thousands of links). */
struct ppp_stats {
	uint64_t v[PPP_CTR_N];
	struct sp_ctrs ctrs;
};

void ppp_stats_init(struct ppp_stats *s, const char *instance);

struct ppp_cfg {
	bool server;		 /* authenticates the peer and assigns its address */
	enum ppp_auth auth;	 /* server: the method required (CHAP, 004 [0024]) */
	uint16_t mru;		 /* ours (PPP_MRU_DEFAULT) */
	sp_time restart;	 /* RFC 1661 4.6 Restart timer (3 s) */
	uint32_t max_configure;	 /* 10 */
	uint32_t max_terminate;	 /* 2 */
	uint32_t max_failure;	 /* 5 */
	sp_time echo_interval;	 /* LCP Echo-Request this often when up (10 s; 0: off) */
	uint32_t echo_fails;	 /* unanswered in a row before the link is down (3) */
	char name[PPP_NAME_MAX]; /* our CHAP name */
	/* Client: who we are. */
	char user[PPP_NAME_MAX];
	uint8_t password[PPP_SECRET_MAX];
	size_t password_len;
	/* Server: whom we know (not copied: must outlive the link). */
	const struct ppp_user *users;
	size_t nusers;
	uint32_t local_addr; /* server: our IPCP address; client: 0 (learn the server's) */
	uint32_t peer_addr;  /* server: the address the peer gets */
};

/* Documented defaults (docs/L2TP.md): client, MRU 1400, restart 3 s, 10/2/5, echo every
 * 10 s with 3 misses, CHAP when server. */
void ppp_cfg_defaults(struct ppp_cfg *c);

enum ppp_phase {
	PPP_PHASE_DEAD = 0,
	PPP_PHASE_ESTABLISH,
	PPP_PHASE_AUTH,
	PPP_PHASE_NETWORK,
	PPP_PHASE_UP, /* IPCP opened */
	PPP_PHASE_TERMINATE,
};

/* One option-negotiation automaton (RFC 1661 4). */
struct ppp_fsm {
	uint16_t proto;
	uint8_t state; /* RFC 1661 4.2 states 0..9 */
	uint8_t id;    /* of our last Configure-Request */
	uint8_t term_id;
	uint32_t restarts; /* Restart counter */
	uint32_t failures; /* Naks sent in a row */
	sp_time timer;	   /* SP_TIME_NEVER when stopped */
	uint8_t peer_rej;  /* options the peer rejected: bit per option type < 8 */
};

struct ppp_link;

struct ppp_ops {
	/* A PPP frame (Address, Control and Protocol included) to send. */
	void (*send)(void *arg, struct pkt *p);
	void (*up)(void *arg, sp_time now, uint32_t local, uint32_t peer);
	void (*down)(void *arg, sp_time now, const char *why);
	void (*ip)(void *arg, sp_time now, const uint8_t *pkt, size_t len);
	/* Server, optional: the address for the authenticated peer (0: none left), asked
	 * when the network phase begins; without it cfg.peer_addr is used. */
	uint32_t (*assign)(void *arg, sp_time now, const char *peer_name);
	void *arg;
};

struct ppp_link {
	struct ppp_cfg cfg;
	struct ppp_ops ops;
	struct sp_rng *rng;
	const struct sp_log *log;
	struct ppp_stats *st;
	enum ppp_phase phase;
	struct ppp_fsm lcp, ipcp;
	uint32_t magic, peer_magic;
	uint16_t peer_mru;
	enum ppp_auth auth_us;	 /* server: method asked of the peer */
	enum ppp_auth auth_them; /* client: method the peer asked of us */
	bool authed;		 /* authentication phase over (ours done) */
	uint8_t chal[PPP_CHAL_LEN];
	uint8_t auth_id;
	uint32_t auth_tries;
	sp_time auth_timer;
	char peer_name[PPP_NAME_MAX];
	uint32_t local_addr, peer_addr;
	uint32_t echo_out; /* unanswered echoes */
	uint8_t echo_id;
	sp_time echo_at;
	sp_time up_since;
	const char *down_why;
	uint8_t buf[PKT_HEADROOM + 1600];
};

/* Set up a link (no allocation: the link lives in the caller's table). */
void ppp_link_init(struct ppp_link *k, const struct ppp_cfg *cfg, const struct ppp_ops *ops,
		   struct sp_rng *rng, const struct sp_log *log, struct ppp_stats *st);
/* The lower layer is up: start LCP (send Configure-Request). */
void ppp_link_open(struct ppp_link *k, sp_time now);
/* Terminate-Request; down is reported when acknowledged or timed out. */
void ppp_link_close(struct ppp_link *k, sp_time now, const char *why);
/* Forget the link silently (session gone). */
void ppp_link_reset(struct ppp_link *k);

/* One PPP frame as it came out of an L2TP data message. */
void ppp_link_input(struct ppp_link *k, sp_time now, const uint8_t *frame, size_t len);
/* Send the IPv4 packet in p (pushes Protocol and Address/Control). SP_ESTATE unless up. */
int ppp_link_send_ip(struct ppp_link *k, struct pkt *p) SP_MUST_CHECK;

sp_time ppp_link_next_deadline(const struct ppp_link *k);
void ppp_link_tick(struct ppp_link *k, sp_time now);

static inline bool ppp_link_is_up(const struct ppp_link *k)
{
	return k->phase == PPP_PHASE_UP;
}
const char *ppp_phase_name(enum ppp_phase p);

/* RFC 1994 4.1: MD5(Identifier, secret, Challenge). */
void ppp_chap_md5(uint8_t id, const uint8_t *secret, size_t secret_len, const uint8_t *chal,
		  size_t chal_len, uint8_t out[16]);

#endif
