/*
 * The PPP link: the option negotiation automaton of RFC 1661 4 shared by LCP and IPCP,
 * their options (RFC 1661 6, RFC 1332 3), LCP's Echo keepalive and Protocol-Reject, the
 * phases of RFC 1661 3.2, and IPv4 datagrams once IPCP is opened.
 */
#include "l2tp/ppp_priv.h"

#include "base/addr.h"

#include <string.h>

#define MOD "ppp"

/* RFC 1661 4.2 states. */
enum {
	ST_INITIAL = 0,
	ST_STARTING,
	ST_CLOSED,
	ST_STOPPED,
	ST_CLOSING,
	ST_STOPPING,
	ST_REQ_SENT,
	ST_ACK_RCVD,
	ST_ACK_SENT,
	ST_OPENED,
};

#define PPP_LCP_OPT_ACCM   2
#define PPP_IPCP_OPT_ADDRS 1 /* IP-Addresses, deprecated (RFC 1332 3.1) */
#define PPP_IPCP_OPT_COMP  2 /* IP-Compression-Protocol (RFC 1332 3.2) */
#define PPP_PROTO_CCP	   0x80fd
#define PPP_MRU_STD	   1500
#define REJ_BIT(type)	   ((type) < 8 ? (uint8_t)(1u << (type)) : 0)

static const char *const ppp_ctr_names[] = { SP_CTR_NAMES(foreach_ppp_ctr) };

void ppp_stats_init(struct ppp_stats *s, const char *instance)
{
	memset(s->v, 0, sizeof(s->v));
	sp_ctrs_init(&s->ctrs, MOD, instance, ppp_ctr_names, s->v, PPP_CTR_N);
}

void ppp_cfg_defaults(struct ppp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->auth = PPP_AUTH_CHAP;
	c->mru = PPP_MRU_DEFAULT;
	c->restart = SP_SEC(3);
	c->max_configure = 10;
	c->max_terminate = 2;
	c->max_failure = 5;
	c->echo_interval = SP_SEC(10);
	c->echo_fails = 3;
	snprintf(c->name, sizeof(c->name), "spinat");
}

const char *ppp_phase_name(enum ppp_phase p)
{
	static const char *const n[] = { "dead",    "establish", "authenticate",
					 "network", "up",	 "terminate" };

	return (unsigned)p < SP_NELEM(n) ? n[p] : "?";
}

void ppp_link_init(struct ppp_link *k, const struct ppp_cfg *cfg, const struct ppp_ops *ops,
		   struct sp_rng *rng, const struct sp_log *log, struct ppp_stats *st)
{
	memset(k, 0, sizeof(*k));
	k->cfg = *cfg;
	k->ops = *ops;
	k->rng = rng;
	k->log = log;
	k->st = st;
	k->lcp.proto = PPP_PROTO_LCP;
	k->ipcp.proto = PPP_PROTO_IPCP;
	k->lcp.timer = k->ipcp.timer = SP_TIME_NEVER;
	k->auth_timer = SP_TIME_NEVER;
	k->echo_at = SP_TIME_NEVER;
}

void ppp_frame_begin(struct ppp_link *k, struct pkt *p)
{
	pkt_init(p, k->buf, sizeof(k->buf), PKT_HEADROOM);
}

void ppp_frame_send(struct ppp_link *k, struct pkt *p, uint16_t proto, uint8_t code, uint8_t id)
{
	if (ppp_cp_build(p, code, id) != 0 || ppp_build(p, proto, true) != 0) {
		PPP_CTR(k, DROP_NO_SPACE);
		return;
	}
	PPP_CTR(k, TX);
	k->ops.send(k->ops.arg, p);
}

static void link_down(struct ppp_link *k, sp_time now, const char *why)
{
	bool was_up = k->phase == PPP_PHASE_UP;

	if (k->phase == PPP_PHASE_DEAD)
		return;
	k->phase = PPP_PHASE_DEAD;
	k->lcp.timer = k->ipcp.timer = k->auth_timer = k->echo_at = SP_TIME_NEVER;
	k->lcp.state = k->ipcp.state = ST_STOPPED;
	if (was_up)
		PPP_CTR(k, LINK_DOWN);
	k->down_why = why;
	SP_INFO(k->log, MOD, "link to %s down: %s", k->peer_name[0] ? k->peer_name : "peer", why);
	if (k->ops.down != NULL)
		k->ops.down(k->ops.arg, now, why);
}

void ppp_fail(struct ppp_link *k, sp_time now, const char *why)
{
	struct pkt p;

	/* A last Terminate-Request so the peer need not time out (RFC 1661 5.5). */
	if (k->lcp.state >= ST_REQ_SENT) {
		ppp_frame_begin(k, &p);
		ppp_frame_send(k, &p, PPP_PROTO_LCP, PPP_CP_TERM_REQ, ++k->lcp.term_id);
	}
	link_down(k, now, why);
}

/* Our Configure-Request options. */
static void put_opts(struct ppp_link *k, struct ppp_fsm *f, struct pkt *p)
{
	uint8_t v[4];
	int r = 0;

	if (f->proto == PPP_PROTO_LCP) {
		if (k->cfg.mru != PPP_MRU_STD && !(f->peer_rej & REJ_BIT(PPP_LCP_OPT_MRU))) {
			sp_store_be16(v, k->cfg.mru);
			r |= ppp_opt_put(p, PPP_LCP_OPT_MRU, v, 2);
		}
		if (k->cfg.server && k->auth_us == PPP_AUTH_CHAP) {
			uint8_t a[3] = { 0xc2, 0x23, PPP_CHAP_MD5 };

			r |= ppp_opt_put(p, PPP_LCP_OPT_AUTH, a, 3);
		} else if (k->cfg.server && k->auth_us == PPP_AUTH_PAP) {
			uint8_t a[2] = { 0xc0, 0x23 };

			r |= ppp_opt_put(p, PPP_LCP_OPT_AUTH, a, 2);
		}
		if (!(f->peer_rej & REJ_BIT(PPP_LCP_OPT_MAGIC))) {
			sp_store_be32(v, k->magic);
			r |= ppp_opt_put(p, PPP_LCP_OPT_MAGIC, v, 4);
		}
	} else {
		sp_store_be32(v, k->local_addr);
		r |= ppp_opt_put(p, PPP_IPCP_OPT_ADDR, v, 4);
	}
	if (r != 0)
		PPP_CTR(k, DROP_NO_SPACE);
}

/* RFC 1661 5.2: an Ack lists exactly the options of the request it acknowledges. */
static bool ack_matches(struct ppp_link *k, struct ppp_fsm *f, const struct ppp_cp *cp)
{
	uint8_t buf[PKT_HEADROOM + 64];
	struct pkt p;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	put_opts(k, f, &p);
	return p.len == cur_left(&cp->cp_data) &&
	       (p.len == 0 || memcmp(pkt_data(&p), cur_ptr(&cp->cp_data), p.len) == 0);
}

static void send_conf_req(struct ppp_link *k, sp_time now, struct ppp_fsm *f)
{
	struct pkt p;

	ppp_frame_begin(k, &p);
	put_opts(k, f, &p);
	f->id++;
	if (f->restarts > 0)
		f->restarts--;
	f->timer = now + k->cfg.restart;
	ppp_frame_send(k, &p, f->proto, PPP_CP_CONF_REQ, f->id);
}

static void send_term_req(struct ppp_link *k, sp_time now, struct ppp_fsm *f)
{
	struct pkt p;

	ppp_frame_begin(k, &p);
	if (f->restarts > 0)
		f->restarts--;
	f->timer = now + k->cfg.restart;
	ppp_frame_send(k, &p, f->proto, PPP_CP_TERM_REQ, ++f->term_id);
}

static void send_term_ack(struct ppp_link *k, struct ppp_fsm *f, uint8_t id)
{
	struct pkt p;

	ppp_frame_begin(k, &p);
	ppp_frame_send(k, &p, f->proto, PPP_CP_TERM_ACK, id);
}

/* The automaton's this-layer-up (tlu). */
static void layer_up(struct ppp_link *k, sp_time now, struct ppp_fsm *f)
{
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

	f->timer = SP_TIME_NEVER;
	if (f->proto == PPP_PROTO_LCP) {
		k->phase = PPP_PHASE_AUTH;
		k->echo_out = 0;
		k->echo_at = k->cfg.echo_interval > 0 ? now + k->cfg.echo_interval : SP_TIME_NEVER;
		ppp_auth_start(k, now);
		return;
	}
	if (!k->cfg.server && k->local_addr == 0) {
		ppp_fail(k, now, "no address assigned");
		return;
	}
	k->phase = PPP_PHASE_UP;
	k->up_since = now;
	PPP_CTR(k, LINK_UP);
	SP_INFO(k->log, MOD, "link up: local %s peer %s", sp_ip4_fmt(k->local_addr, a),
		sp_ip4_fmt(k->peer_addr, b));
	if (k->ops.up != NULL)
		k->ops.up(k->ops.arg, now, k->local_addr, k->peer_addr);
}

/* this-layer-down (tld): LCP leaving Opened takes the link down; IPCP only the IP layer. */
static void layer_down(struct ppp_link *k, sp_time now, struct ppp_fsm *f)
{
	if (f->proto == PPP_PROTO_LCP) {
		link_down(k, now, "LCP renegotiated or terminated");
		return;
	}
	if (k->phase == PPP_PHASE_UP) {
		k->phase = PPP_PHASE_NETWORK;
		PPP_CTR(k, LINK_DOWN);
		if (k->ops.down != NULL)
			k->ops.down(k->ops.arg, now, "IPCP renegotiated");
	}
}

void ppp_link_open(struct ppp_link *k, sp_time now)
{
	do
		k->magic = sp_rng_u32(k->rng);
	while (k->magic == 0);
	k->phase = PPP_PHASE_ESTABLISH;
	k->auth_us = k->cfg.server ? k->cfg.auth : PPP_AUTH_NONE;
	k->auth_them = PPP_AUTH_NONE;
	k->authed = false;
	k->local_addr = k->cfg.local_addr;
	k->peer_addr = k->cfg.server ? k->cfg.peer_addr : 0;
	k->peer_mru = PPP_MRU_STD;
	k->lcp.state = ST_REQ_SENT;
	k->lcp.restarts = k->cfg.max_configure;
	k->lcp.failures = 0;
	k->lcp.peer_rej = 0;
	send_conf_req(k, now, &k->lcp);
}

void ppp_network_start(struct ppp_link *k, sp_time now)
{
	/* The server may choose the address by who authenticated (a user's fixed one). */
	if (k->cfg.server && k->ops.assign != NULL) {
		k->peer_addr = k->ops.assign(k->ops.arg, now, k->peer_name);
		if (k->peer_addr == 0) {
			ppp_fail(k, now, "no address to assign");
			return;
		}
	}
	k->authed = true;
	k->phase = PPP_PHASE_NETWORK;
	k->auth_timer = SP_TIME_NEVER;
	k->ipcp.state = ST_REQ_SENT;
	k->ipcp.restarts = k->cfg.max_configure;
	k->ipcp.failures = 0;
	k->ipcp.peer_rej = 0;
	send_conf_req(k, now, &k->ipcp);
}

void ppp_link_close(struct ppp_link *k, sp_time now, const char *why)
{
	if (k->phase == PPP_PHASE_DEAD)
		return;
	k->down_why = why;
	if (k->phase == PPP_PHASE_UP)
		layer_down(k, now, &k->ipcp);
	k->phase = PPP_PHASE_TERMINATE;
	k->lcp.state = ST_CLOSING;
	k->lcp.restarts = k->cfg.max_terminate;
	k->echo_at = k->auth_timer = SP_TIME_NEVER;
	send_term_req(k, now, &k->lcp);
}

void ppp_link_reset(struct ppp_link *k)
{
	k->phase = PPP_PHASE_DEAD;
	k->lcp.state = k->ipcp.state = ST_INITIAL;
	k->lcp.timer = k->ipcp.timer = k->auth_timer = k->echo_at = SP_TIME_NEVER;
}

/* Judge one option of the peer's request: 0 ack, 1 nak (with *nak filled, len *nl), 2 reject. */
static int judge_lcp(struct ppp_link *k, const struct ppp_opt *o, uint8_t *nak, uint8_t *nl)
{
	struct cur v = o->opt_val;
	uint16_t u16 = 0;
	uint32_t u32 = 0;

	switch (o->opt_type) {
	case PPP_LCP_OPT_MRU:
		if (cur_left(&v) != 2 || cur_get_u16(&v, &u16) != 0)
			return 2;
		if (u16 < PPP_MRU_MIN) {
			sp_store_be16(nak, PPP_MRU_MIN);
			*nl = 2;
			return 1;
		}
		k->peer_mru = u16;
		return 0;
	case PPP_LCP_OPT_ACCM:
		/* Meaningless on L2TP's synchronous framing; harmless to accept. */
		return cur_left(&v) == 4 ? 0 : 2;
	case PPP_LCP_OPT_AUTH:
		if (k->cfg.server || cur_get_u16(&v, &u16) != 0)
			return 2; /* this end authenticates; it is not authenticated */
		if (u16 == PPP_PROTO_PAP && cur_left(&v) == 0) {
			k->auth_them = PPP_AUTH_PAP;
			return 0;
		}
		if (u16 == PPP_PROTO_CHAP && cur_left(&v) == 1 && cur_ptr(&v)[0] == PPP_CHAP_MD5) {
			k->auth_them = PPP_AUTH_CHAP;
			return 0;
		}
		/* Another CHAP algorithm (MS-CHAP) or protocol: suggest CHAP with MD5. */
		nak[0] = 0xc2;
		nak[1] = 0x23;
		nak[2] = PPP_CHAP_MD5;
		*nl = 3;
		return 1;
	case PPP_LCP_OPT_MAGIC:
		if (cur_left(&v) != 4 || cur_get_u32(&v, &u32) != 0)
			return 2;
		if (u32 == k->magic) {
			/* RFC 1661 6.4: a looped-back link, or a coincidence; suggest another. */
			PPP_CTR(k, DROP_LOOPED);
			sp_store_be32(nak, sp_rng_u32(k->rng) | 1);
			*nl = 4;
			return 1;
		}
		k->peer_magic = u32;
		return 0;
	case PPP_LCP_OPT_PFC:
	case PPP_LCP_OPT_ACFC:
		PPP_CTR(k, REJ_COMPRESSION); /* 004 [0024]: no compression */
		return 2;
	default:
		return 2;
	}
}

static int judge_ipcp(struct ppp_link *k, const struct ppp_opt *o, uint8_t *nak, uint8_t *nl)
{
	struct cur v = o->opt_val;
	uint32_t a = 0;

	switch (o->opt_type) {
	case PPP_IPCP_OPT_ADDR:
		if (cur_left(&v) != 4 || cur_get_u32(&v, &a) != 0)
			return 2;
		if (k->cfg.server) {
			/* The peer takes the address it is given (004 [0015], [0017], [0021]). */
			if (a != k->peer_addr) {
				sp_store_be32(nak, k->peer_addr);
				*nl = 4;
				return 1;
			}
			return 0;
		}
		if (a == 0)
			return 2; /* a server that will not say its own address */
		k->peer_addr = a;
		return 0;
	case PPP_IPCP_OPT_COMP:
		PPP_CTR(k, REJ_COMPRESSION); /* 004 [0024]: Van Jacobson compression refused */
		return 2;
	default:
		return 2; /* IP-Addresses, DNS and NBNS (RFC 1877) and anything else */
	}
}

/* RFC 1661 5.1-5.4: reject what is unknown; else nak what is unacceptable; else ack. */
static bool check_req(struct ppp_link *k, sp_time now, struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct pkt rej, nak;
	struct cur c = cp->cp_data;
	struct ppp_opt o;
	uint8_t nbuf[PKT_HEADROOM + 512], nv[8];
	bool any_rej = false, any_nak = false;
	int r;

	(void)now;
	ppp_frame_begin(k, &rej);
	pkt_init(&nak, nbuf, sizeof(nbuf), PKT_HEADROOM);
	while ((r = ppp_opt_next(&c, &o)) == 0) {
		uint8_t nl = 0;
		int j = f->proto == PPP_PROTO_LCP ? judge_lcp(k, &o, nv, &nl)
						  : judge_ipcp(k, &o, nv, &nl);

		if (j == 2) {
			any_rej = true;
			if (ppp_opt_put(&rej, o.opt_type, cur_ptr(&o.opt_val),
					(uint8_t)cur_left(&o.opt_val)) != 0)
				PPP_CTR(k, DROP_NO_SPACE);
		} else if (j == 1) {
			any_nak = true;
			if (ppp_opt_put(&nak, o.opt_type, nv, nl) != 0)
				PPP_CTR(k, DROP_NO_SPACE);
		}
	}
	if (r != SP_ENOTFOUND) {
		PPP_CTR(k, DROP_MALFORMED);
		any_rej = true; /* an unparsable request is rejected whole */
		if (pkt_append(&rej, cur_ptr(&c), (uint32_t)cur_left(&c)) != 0)
			PPP_CTR(k, DROP_NO_SPACE);
	}
	if (any_rej) {
		ppp_frame_send(k, &rej, f->proto, PPP_CP_CONF_REJ, cp->cp_id);
		return false;
	}
	if (any_nak) {
		if (++f->failures > k->cfg.max_failure) {
			PPP_CTR(k, DROP_NEGOTIATION_FAILED);
			ppp_fail(k, now, "option negotiation does not converge");
			return false;
		}
		ppp_frame_begin(k, &rej);
		if (pkt_append(&rej, pkt_data(&nak), nak.len) != 0)
			PPP_CTR(k, DROP_NO_SPACE);
		ppp_frame_send(k, &rej, f->proto, PPP_CP_CONF_NAK, cp->cp_id);
		return false;
	}
	f->failures = 0;
	ppp_frame_begin(k, &rej);
	if (pkt_append(&rej, cur_ptr(&cp->cp_data), (uint32_t)cur_left(&cp->cp_data)) != 0)
		PPP_CTR(k, DROP_NO_SPACE);
	ppp_frame_send(k, &rej, f->proto, PPP_CP_CONF_ACK, cp->cp_id);
	return true;
}

/* The peer's Nak or Reject of our request: adjust what we ask for next. */
static void on_nak_rej(struct ppp_link *k, sp_time now, struct ppp_fsm *f, const struct ppp_cp *cp)
{
	struct cur c = cp->cp_data;
	struct ppp_opt o;
	bool rej = cp->cp_code == PPP_CP_CONF_REJ;

	while (ppp_opt_next(&c, &o) == 0) {
		struct cur v = o.opt_val;
		uint16_t u16;
		uint32_t u32;

		if (f->proto == PPP_PROTO_LCP && o.opt_type == PPP_LCP_OPT_AUTH) {
			/* The peer will not authenticate the way we require (004 [0024]). */
			PPP_CTR(k, AUTH_FAILED);
			ppp_fail(k, now, "peer refused authentication");
			return;
		}
		if (rej) {
			f->peer_rej |= REJ_BIT(o.opt_type);
			if (f->proto == PPP_PROTO_IPCP && o.opt_type == PPP_IPCP_OPT_ADDR &&
			    !k->cfg.server) {
				ppp_fail(k, now, "peer rejected IP-Address");
				return;
			}
			continue;
		}
		if (f->proto == PPP_PROTO_LCP && o.opt_type == PPP_LCP_OPT_MRU &&
		    cur_get_u16(&v, &u16) == 0 && u16 >= PPP_MRU_MIN)
			k->cfg.mru = u16;
		else if (f->proto == PPP_PROTO_LCP && o.opt_type == PPP_LCP_OPT_MAGIC)
			k->magic = sp_rng_u32(k->rng) | 1;
		else if (f->proto == PPP_PROTO_IPCP && o.opt_type == PPP_IPCP_OPT_ADDR &&
			 !k->cfg.server && cur_get_u32(&v, &u32) == 0)
			k->local_addr = u32; /* the address we are assigned */
	}
}

/* One Configure-*, Terminate-* or Code-Reject for LCP or IPCP: the RFC 1661 4.1 table. */
static void fsm_input(struct ppp_link *k, sp_time now, struct ppp_fsm *f, const struct ppp_cp *cp)
{
	uint8_t st = f->state;
	bool good;

	switch (cp->cp_code) {
	case PPP_CP_CONF_REQ:
		if (st == ST_CLOSED) {
			send_term_ack(k, f, cp->cp_id);
			return;
		}
		if (st == ST_CLOSING || st == ST_STOPPING || st < ST_CLOSED) {
			PPP_CTR(k, DROP_UNEXPECTED);
			return;
		}
		if (st == ST_OPENED) {
			layer_down(k, now, f);
			if (k->phase == PPP_PHASE_DEAD)
				return;
			send_conf_req(k, now, f);
			st = ST_REQ_SENT;
		} else if (st == ST_STOPPED) {
			f->restarts = k->cfg.max_configure;
			send_conf_req(k, now, f);
			st = ST_REQ_SENT;
		}
		good = check_req(k, now, f, cp);
		if (k->phase == PPP_PHASE_DEAD)
			return;
		if (good)
			f->state = st == ST_ACK_RCVD ? ST_OPENED : ST_ACK_SENT;
		else
			f->state = st == ST_ACK_SENT ? ST_REQ_SENT : st;
		if (f->state == ST_OPENED)
			layer_up(k, now, f);
		return;
	case PPP_CP_CONF_ACK:
		if (cp->cp_id != f->id) {
			PPP_CTR(k, DROP_BAD_ID);
			return;
		}
		if (!ack_matches(k, f, cp)) {
			PPP_CTR(k, DROP_MALFORMED);
			return;
		}
		switch (st) {
		case ST_REQ_SENT:
			f->restarts = k->cfg.max_configure;
			f->timer = SP_TIME_NEVER;
			f->state = ST_ACK_RCVD;
			return;
		case ST_ACK_RCVD:
			send_conf_req(k, now, f);
			f->state = ST_REQ_SENT;
			return;
		case ST_ACK_SENT:
			f->restarts = k->cfg.max_configure;
			f->state = ST_OPENED;
			layer_up(k, now, f);
			return;
		case ST_OPENED:
			layer_down(k, now, f);
			if (k->phase != PPP_PHASE_DEAD) {
				send_conf_req(k, now, f);
				f->state = ST_REQ_SENT;
			}
			return;
		default:
			PPP_CTR(k, DROP_UNEXPECTED);
			return;
		}
	case PPP_CP_CONF_NAK:
	case PPP_CP_CONF_REJ:
		if (cp->cp_id != f->id) {
			PPP_CTR(k, DROP_BAD_ID);
			return;
		}
		if (st < ST_REQ_SENT) {
			PPP_CTR(k, DROP_UNEXPECTED);
			return;
		}
		on_nak_rej(k, now, f, cp);
		if (k->phase == PPP_PHASE_DEAD)
			return;
		if (st == ST_OPENED)
			layer_down(k, now, f);
		if (st != ST_ACK_RCVD)
			f->restarts = k->cfg.max_configure;
		send_conf_req(k, now, f);
		f->state = st == ST_ACK_SENT ? ST_ACK_SENT : ST_REQ_SENT;
		return;
	case PPP_CP_TERM_REQ:
		send_term_ack(k, f, cp->cp_id);
		if (st == ST_OPENED || f->proto == PPP_PROTO_LCP) {
			if (f->proto == PPP_PROTO_LCP) {
				link_down(k, now, "peer terminated the link");
				return;
			}
			layer_down(k, now, f);
			f->state = ST_STOPPING;
			f->timer = now + k->cfg.restart;
			f->restarts = 0;
		} else if (st == ST_ACK_RCVD || st == ST_ACK_SENT) {
			f->state = ST_REQ_SENT;
		}
		return;
	case PPP_CP_TERM_ACK:
		if (st == ST_CLOSING || st == ST_STOPPING) {
			if (f->proto == PPP_PROTO_LCP)
				link_down(k, now, k->down_why != NULL ? k->down_why : "closed");
			else
				f->state = st == ST_CLOSING ? ST_CLOSED : ST_STOPPED;
		} else if (st == ST_ACK_RCVD) {
			f->state = ST_REQ_SENT;
		}
		return;
	case PPP_CP_CODE_REJ:
		/* Only a reject of a Configure-* or Terminate-* is catastrophic (RXJ-). */
		if (cur_left(&cp->cp_data) > 0 && cur_ptr(&cp->cp_data)[0] <= PPP_CP_TERM_ACK)
			ppp_fail(k, now, "peer rejected a negotiation code");
		return;
	default:
		break;
	}
	if (f->proto != PPP_PROTO_LCP) {
		/* IPCP codes beyond 7 are unknown: Code-Reject (RFC 1661 5.6). */
		struct pkt p;

		ppp_frame_begin(k, &p);
		if (pkt_append(&p, cur_ptr(&cp->cp_data) - PPP_CP_HDR_LEN,
			       (uint32_t)SP_MIN(cp->cp_len, 256u)) == 0)
			ppp_frame_send(k, &p, f->proto, PPP_CP_CODE_REJ, ++f->term_id);
		return;
	}
	PPP_CTR(k, DROP_UNEXPECTED);
}

/* LCP codes only LCP has (RFC 1661 5.7-5.9), when LCP is opened. */
static void lcp_extra(struct ppp_link *k, sp_time now, const struct ppp_cp *cp)
{
	struct cur v = cp->cp_data;
	uint32_t magic;
	uint16_t proto;
	struct pkt p;
	uint8_t m[4];

	if (k->lcp.state != ST_OPENED) {
		PPP_CTR(k, DROP_UNEXPECTED);
		return;
	}
	switch (cp->cp_code) {
	case PPP_CP_ECHO_REQ:
		if (cur_get_u32(&v, &magic) != 0) {
			PPP_CTR(k, DROP_MALFORMED);
			return;
		}
		if (magic == k->magic && magic != 0) {
			PPP_CTR(k, DROP_LOOPED);
			return;
		}
		ppp_frame_begin(k, &p);
		sp_store_be32(m, k->magic);
		if (pkt_append(&p, m, 4) != 0 ||
		    pkt_append(&p, cur_ptr(&v), (uint32_t)SP_MIN(cur_left(&v), 256u)) != 0)
			return;
		ppp_frame_send(k, &p, PPP_PROTO_LCP, PPP_CP_ECHO_REPLY, cp->cp_id);
		return;
	case PPP_CP_ECHO_REPLY:
		k->echo_out = 0;
		return;
	case PPP_CP_DISCARD_REQ:
		return;
	case PPP_CP_PROTO_REJ:
		if (cur_get_u16(&v, &proto) == 0 && proto == PPP_PROTO_IPCP)
			ppp_fail(k, now, "peer rejected IPCP");
		return;
	default:
		break;
	}
	/* Unknown LCP code: Code-Reject with the packet (RFC 1661 5.6). */
	ppp_frame_begin(k, &p);
	if (pkt_append(&p, cur_ptr(&cp->cp_data) - PPP_CP_HDR_LEN,
		       (uint32_t)SP_MIN(cp->cp_len, 256u)) == 0)
		ppp_frame_send(k, &p, PPP_PROTO_LCP, PPP_CP_CODE_REJ, ++k->lcp.term_id);
}

/* RFC 1661 5.7: an unsupported protocol (CCP among them) is refused by Protocol-Reject. */
static void proto_reject(struct ppp_link *k, uint16_t proto, const struct cur *rest)
{
	struct pkt p;
	uint8_t b[2];

	if (k->lcp.state != ST_OPENED) {
		PPP_CTR(k, DROP_UNEXPECTED);
		return;
	}
	if (proto == PPP_PROTO_CCP)
		PPP_CTR(k, REJ_COMPRESSION);
	ppp_frame_begin(k, &p);
	sp_store_be16(b, proto);
	if (pkt_append(&p, b, 2) != 0 ||
	    pkt_append(&p, cur_ptr(rest), (uint32_t)SP_MIN(cur_left(rest), 256u)) != 0)
		return;
	PPP_CTR(k, PROTO_REJ_TX);
	ppp_frame_send(k, &p, PPP_PROTO_LCP, PPP_CP_PROTO_REJ, ++k->lcp.term_id);
}

static void ip_input(struct ppp_link *k, sp_time now, const struct cur *c)
{
	if (k->phase != PPP_PHASE_UP) {
		PPP_CTR(k, DROP_IP_NOT_UP);
		return;
	}
	/* The server accepts only the source it assigned: no spoofing through the relay. */
	if (k->cfg.server && (cur_left(c) < 20 || sp_load_be32(cur_ptr(c) + 12) != k->peer_addr)) {
		PPP_CTR(k, DROP_IP_SPOOFED);
		return;
	}
	PPP_CTR(k, RX_IP);
	if (k->ops.ip != NULL)
		k->ops.ip(k->ops.arg, now, cur_ptr(c), cur_left(c));
}

void ppp_link_input(struct ppp_link *k, sp_time now, const uint8_t *frame, size_t len)
{
	struct ppp_hdr h;
	struct ppp_cp cp;
	struct cur c;

	cur_init(&c, frame, len);
	PPP_CTR(k, RX);
	if (k->phase == PPP_PHASE_DEAD) {
		PPP_CTR(k, DROP_UNEXPECTED);
		return;
	}
	if (ppp_parse(&c, &h) != 0) {
		PPP_CTR(k, DROP_MALFORMED);
		return;
	}
	if (h.ppp_proto == PPP_PROTO_IP) {
		ip_input(k, now, &c);
		return;
	}
	if (h.ppp_proto != PPP_PROTO_LCP && h.ppp_proto != PPP_PROTO_IPCP &&
	    h.ppp_proto != PPP_PROTO_CHAP && h.ppp_proto != PPP_PROTO_PAP) {
		proto_reject(k, h.ppp_proto, &c);
		return;
	}
	if (ppp_cp_parse(&c, &cp) != 0) {
		PPP_CTR(k, DROP_MALFORMED);
		return;
	}
	switch (h.ppp_proto) {
	case PPP_PROTO_LCP:
		if (cp.cp_code >= PPP_CP_PROTO_REJ)
			lcp_extra(k, now, &cp);
		else
			fsm_input(k, now, &k->lcp, &cp);
		return;
	case PPP_PROTO_IPCP:
		/* RFC 1661 3.4: NCP packets before the network phase are discarded. */
		if (k->phase != PPP_PHASE_NETWORK && k->phase != PPP_PHASE_UP) {
			PPP_CTR(k, DROP_UNEXPECTED);
			return;
		}
		fsm_input(k, now, &k->ipcp, &cp);
		return;
	default:
		ppp_auth_input(k, now, h.ppp_proto, &cp);
		return;
	}
}

int ppp_link_send_ip(struct ppp_link *k, struct pkt *p)
{
	int r;

	if (k->phase != PPP_PHASE_UP)
		return SP_ESTATE;
	if ((r = ppp_build(p, PPP_PROTO_IP, true)) != 0)
		return r;
	PPP_CTR(k, TX_IP);
	k->ops.send(k->ops.arg, p);
	return 0;
}

static void fsm_tick(struct ppp_link *k, sp_time now, struct ppp_fsm *f)
{
	if (f->timer > now)
		return;
	f->timer = SP_TIME_NEVER;
	if (f->restarts == 0) {
		/* TO-: this-layer-finished. */
		if (f->state == ST_CLOSING || f->state == ST_STOPPING) {
			if (f->proto == PPP_PROTO_LCP)
				link_down(k, now, k->down_why != NULL ? k->down_why : "closed");
			else
				f->state = f->state == ST_CLOSING ? ST_CLOSED : ST_STOPPED;
			return;
		}
		PPP_CTR(k, DROP_NEGOTIATION_FAILED);
		ppp_fail(k, now,
			 f->proto == PPP_PROTO_LCP ? "LCP negotiation timed out"
						   : "IPCP negotiation timed out");
		return;
	}
	switch (f->state) {
	case ST_CLOSING:
	case ST_STOPPING:
		send_term_req(k, now, f);
		return;
	case ST_REQ_SENT:
	case ST_ACK_RCVD:
		send_conf_req(k, now, f);
		f->state = ST_REQ_SENT;
		return;
	case ST_ACK_SENT:
		send_conf_req(k, now, f);
		return;
	default:
		return;
	}
}

static void echo_tick(struct ppp_link *k, sp_time now)
{
	struct pkt p;
	uint8_t m[4];

	if (k->echo_at > now)
		return;
	if (k->echo_out >= k->cfg.echo_fails) {
		PPP_CTR(k, ECHO_LOST);
		link_down(k, now, "peer does not answer LCP echo");
		return;
	}
	ppp_frame_begin(k, &p);
	sp_store_be32(m, k->magic);
	if (pkt_append(&p, m, 4) != 0)
		return;
	k->echo_out++;
	PPP_CTR(k, ECHO_TX);
	ppp_frame_send(k, &p, PPP_PROTO_LCP, PPP_CP_ECHO_REQ, ++k->echo_id);
	k->echo_at = now + k->cfg.echo_interval;
}

void ppp_link_tick(struct ppp_link *k, sp_time now)
{
	if (k->phase == PPP_PHASE_DEAD)
		return;
	fsm_tick(k, now, &k->lcp);
	if (k->phase != PPP_PHASE_DEAD)
		fsm_tick(k, now, &k->ipcp);
	if (k->phase != PPP_PHASE_DEAD)
		ppp_auth_tick(k, now);
	if (k->phase != PPP_PHASE_DEAD && k->lcp.state == ST_OPENED)
		echo_tick(k, now);
}

sp_time ppp_link_next_deadline(const struct ppp_link *k)
{
	if (k->phase == PPP_PHASE_DEAD)
		return SP_TIME_NEVER;
	return sp_time_min(sp_time_min(k->lcp.timer, k->ipcp.timer),
			   sp_time_min(k->auth_timer, k->echo_at));
}
