/*
 * The IPsec client's side of 004 [0026], sans-IO: before IKE it asks the NAT discovery
 * service (004 [0025]) what source address and port it sees; if they differ from its own,
 * a NAT is in the way and it opens an L2TP tunnel and a PPP session to the LNS, takes the
 * address it is assigned and carries IPv4 through the session; if not, it goes direct.
 * The decision is logged and reported. L2TP HELLO and LCP echo keep the path alive; when
 * the LNS or a NAT on the way restarts (tunnel or link lost) it discovers and connects
 * again after a pause. One struct l2tp_lac is one client of one LNS.
 */
#ifndef SP_L2TP_L2TP_LAC_H
#define SP_L2TP_L2TP_LAC_H

#include "base/conf.h"
#include "l2tp/l2tp.h"
#include "l2tp/ppp_link.h"

enum l2tp_lac_mode {
	L2TP_LAC_AUTO = 0, /* 004 [0025]: the tunnel only when discovery finds a NAT */
	L2TP_LAC_ALWAYS,   /* always through the LNS (a firewall that blocks IPsec) */
	L2TP_LAC_NEVER,	   /* discovery only, to log what it found */
};

enum l2tp_lac_state {
	L2TP_LAC_IDLE = 0,
	L2TP_LAC_DISCOVER,   /* Binding request out */
	L2TP_LAC_DIRECT,     /* no NAT seen: IPsec goes direct */
	L2TP_LAC_CONNECTING, /* tunnel, session, PPP */
	L2TP_LAC_UP,	     /* PPP up with an assigned address */
	L2TP_LAC_WAIT,	     /* lost it; trying again at retry_at */
};

enum l2tp_lac_decision {
	L2TP_LAC_DECIDE_DIRECT = 0,	  /* reflected address and port are our own */
	L2TP_LAC_DECIDE_TUNNEL,		  /* they differ: a NAT */
	L2TP_LAC_DECIDE_TUNNEL_NO_ANSWER, /* no answer from discovery: assume the worst */
	L2TP_LAC_DECIDE_TUNNEL_ALWAYS,	  /* configured */
};

#define foreach_l2tp_lac_ctr(_)              \
	_(DISCOVER, "discover")              \
	_(DISC_ANSWER, "discover_answer")    \
	_(DECIDE_DIRECT, "decide_direct")    \
	_(DECIDE_TUNNEL, "decide_tunnel")    \
	_(UP, "up")                          \
	_(DOWN, "down")                      \
	_(RECONNECT, "reconnect")            \
	_(TX_IP, "tx_ip")                    \
	_(RX_IP, "rx_ip")                    \
	_(DROP_NOT_UP, "drop_not_up")        \
	_(DROP_STRAY, "drop_stray_datagram") \
	_(DROP_DISC_BAD, "drop_discovery_bad_answer")

enum l2tp_lac_ctr {
#define _(sym, str) L2TP_LAC_CTR_##sym,
	foreach_l2tp_lac_ctr(_)
#undef _
		L2TP_LAC_CTR_N
};

struct l2tp_lac_cfg {
	struct l2tp_cfg l2tp; /* the client's: hello 10 s by default */
	struct ppp_cfg ppp;   /* user and password */
	enum l2tp_lac_mode mode;
	uint32_t lns_addr;
	uint16_t lns_port;    /* 1701 */
	uint32_t disc_addr;   /* the discovery service; 0: the LNS's address (004 [0025]) */
	uint16_t disc_port;   /* 3478 */
	sp_time disc_timeout; /* per Binding request (1 s) */
	uint32_t disc_tries;  /* requests before deciding without an answer (3) */
	sp_time retry;	      /* pause before connecting again after a loss (5 s) */
	/* Our own address and port as we send from them (the socket's). */
	uint32_t local_addr;
	uint16_t local_port;
};

/* Documented defaults (docs/L2TP.md). */
void l2tp_lac_cfg_defaults(struct l2tp_lac_cfg *c);
/*
 * The client's keys of a section ([lac] of the lac role, [l2tp] of the endpoint's host
 * module; docs/CONFIG.md) over c's defaults: lns, lns_port, mode, secret, user, password,
 * hostname, discovery, discovery_port, discovery_timeout, discovery_tries, retry,
 * retransmit, retransmit_cap, retransmit_tries, hello, echo_interval, echo_fails.
 * SP_ECONFIG with conf_fail() naming the key.
 */
int l2tp_lac_cfg_read(struct conf_sec *s, struct l2tp_lac_cfg *c) SP_MUST_CHECK;

struct l2tp_lac_ops {
	/* A UDP payload from our L2TP socket (local_port) to addr:port. */
	void (*send_udp)(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len);
	/* The path is decided: direct, or up through the LNS with local as our address. */
	void (*decided)(void *arg, sp_time now, enum l2tp_lac_decision d, uint32_t refl_addr,
			uint16_t refl_port);
	void (*up)(void *arg, sp_time now, uint32_t local, uint32_t lns_ppp_addr);
	void (*down)(void *arg, sp_time now, const char *why);
	/* An IPv4 packet that came out of the session. */
	void (*ip)(void *arg, sp_time now, const uint8_t *pkt, size_t len);
	void *arg;
};

struct l2tp_lac;

int l2tp_lac_new(struct l2tp_lac **out, const struct l2tp_lac_cfg *cfg,
		 const struct l2tp_lac_ops *ops, struct sp_rng *rng,
		 const struct sp_log *log) SP_MUST_CHECK;
void l2tp_lac_free(struct l2tp_lac *c);

/* Begin: discovery (or straight to the tunnel when mode is ALWAYS). */
void l2tp_lac_start(struct l2tp_lac *c, sp_time now);
/* A datagram on our socket from addr:port: discovery answers and L2TP. */
void l2tp_lac_udp_input(struct l2tp_lac *c, sp_time now, uint32_t addr, uint16_t port,
			const uint8_t *buf, size_t len);
/* Send the IPv4 packet in p through the session. SP_ESTATE unless up. */
int l2tp_lac_send_ip(struct l2tp_lac *c, struct pkt *p) SP_MUST_CHECK;

sp_time l2tp_lac_next_deadline(const struct l2tp_lac *c);
void l2tp_lac_tick(struct l2tp_lac *c, sp_time now);

enum l2tp_lac_state l2tp_lac_state(const struct l2tp_lac *c);
const char *l2tp_lac_state_name(enum l2tp_lac_state s);
const char *l2tp_lac_decision_name(enum l2tp_lac_decision d);
/* The address PPP assigned (0 unless up). */
uint32_t l2tp_lac_addr(const struct l2tp_lac *c);
uint64_t l2tp_lac_ctr(const struct l2tp_lac *c, enum l2tp_lac_ctr k);
struct sp_ctrs *l2tp_lac_ctrs(struct l2tp_lac *c);
struct l2tp *l2tp_lac_l2tp(struct l2tp_lac *c);
const struct ppp_stats *l2tp_lac_ppp_stats(const struct l2tp_lac *c);

#endif
