/*
 * The client of 004 [0026]: NAT discovery, then the tunnel, the incoming call and the PPP
 * client link, and again after a loss.
 */
#include "l2tp/l2tp_lac.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "l2tp/l2tp_disc.h"

#include <stdlib.h>
#include <string.h>

#define MOD	  "lac"
#define CTR(c, k) ((c)->ctr[L2TP_LAC_CTR_##k]++)

static const char *const lac_ctr_names[] = { SP_CTR_NAMES(foreach_l2tp_lac_ctr) };

struct l2tp_lac {
	struct l2tp_lac_cfg cfg;
	struct l2tp_lac_ops ops;
	struct sp_rng *rng;
	const struct sp_log *log;
	struct l2tp *l;
	struct ppp_link k;
	struct ppp_stats ppp;
	enum l2tp_lac_state state;
	struct l2tp_tunnel *t;
	struct l2tp_sess *s;
	uint8_t tid[12];
	uint32_t disc_sent;
	sp_time timer; /* discovery retry or reconnection */
	uint32_t addr;
	uint64_t ctr[L2TP_LAC_CTR_N];
	struct sp_ctrs ctrs;
	uint8_t buf[PKT_HEADROOM + 128];
};

void l2tp_lac_cfg_defaults(struct l2tp_lac_cfg *c)
{
	memset(c, 0, sizeof(*c));
	l2tp_cfg_defaults(&c->l2tp);
	c->l2tp.hello = SP_SEC(10);
	c->l2tp.max_tunnels = 1;
	c->l2tp.max_sessions = 1;
	ppp_cfg_defaults(&c->ppp);
	c->lns_port = L2TP_PORT;
	c->disc_port = STUN_PORT;
	c->disc_timeout = SP_SEC(1);
	c->disc_tries = 3;
	c->retry = SP_SEC(5);
}

int l2tp_lac_cfg_read(struct conf_sec *s, struct l2tp_lac_cfg *c)
{
	static const char *const modes[] = { "auto", "always", "never", NULL };
	const char *secret, *user, *pw, *host;
	uint32_t lport, dport, tries, efails;
	int mode, e;

	if ((e = conf_get_ip4(s, "lns", 0, &c->lns_addr)) != 0 ||
	    (e = conf_get_u32(s, "lns_port", L2TP_PORT, 1, 65535, &lport)) != 0 ||
	    (e = conf_get_ip4(s, "discovery", 0, &c->disc_addr)) != 0 ||
	    (e = conf_get_u32(s, "discovery_port", STUN_PORT, 1, 65535, &dport)) != 0 ||
	    (e = conf_get_enum(s, "mode", modes, L2TP_LAC_AUTO, &mode)) != 0 ||
	    (e = conf_get_str(s, "secret", NULL, &secret)) != 0 ||
	    (e = conf_get_str(s, "user", NULL, &user)) != 0 ||
	    (e = conf_get_str(s, "password", NULL, &pw)) != 0 ||
	    (e = conf_get_str(s, "hostname", "spinat-lac", &host)) != 0 ||
	    (e = conf_get_time(s, "discovery_timeout", SP_SEC(1), &c->disc_timeout)) != 0 ||
	    (e = conf_get_u32(s, "discovery_tries", 3, 1, 100, &tries)) != 0 ||
	    (e = conf_get_time(s, "retry", SP_SEC(5), &c->retry)) != 0 ||
	    (e = conf_get_time(s, "retransmit", SP_SEC(1), &c->l2tp.rtx_initial)) != 0 ||
	    (e = conf_get_time(s, "retransmit_cap", SP_SEC(8), &c->l2tp.rtx_cap)) != 0 ||
	    (e = conf_get_u32(s, "retransmit_tries", 5, 1, 100, &c->l2tp.rtx_tries)) != 0 ||
	    (e = conf_get_time(s, "hello", SP_SEC(10), &c->l2tp.hello)) != 0 ||
	    (e = conf_get_time(s, "echo_interval", SP_SEC(10), &c->ppp.echo_interval)) != 0 ||
	    (e = conf_get_u32(s, "echo_fails", 3, 1, 100, &efails)) != 0)
		return e;
	if (c->lns_addr == 0)
		return conf_fail(s, "lns = ADDRESS is required");
	if (c->l2tp.rtx_initial == 0 || c->l2tp.rtx_cap < c->l2tp.rtx_initial)
		return conf_fail(s, "retransmit must be positive and at most retransmit_cap");
	c->lns_port = (uint16_t)lport;
	c->disc_port = (uint16_t)dport;
	c->mode = (enum l2tp_lac_mode)mode;
	c->disc_tries = tries;
	c->ppp.echo_fails = efails;
	snprintf(c->l2tp.hostname, sizeof(c->l2tp.hostname), "%s", host);
	if (secret != NULL) {
		if (strlen(secret) == 0 || strlen(secret) > L2TP_SECRET_MAX)
			return conf_fail(s, "secret: 1-%d characters", L2TP_SECRET_MAX);
		c->l2tp.secret_len = strlen(secret);
		memcpy(c->l2tp.secret, secret, c->l2tp.secret_len);
	}
	if (user != NULL) {
		if (strlen(user) >= PPP_NAME_MAX || pw == NULL || strlen(pw) > PPP_SECRET_MAX)
			return conf_fail(s, "user and password: up to %d characters each",
					 PPP_SECRET_MAX);
		snprintf(c->ppp.user, sizeof(c->ppp.user), "%s", user);
		c->ppp.password_len = strlen(pw);
		memcpy(c->ppp.password, pw, c->ppp.password_len);
	}
	return 0;
}

const char *l2tp_lac_state_name(enum l2tp_lac_state s)
{
	static const char *const n[] = { "idle", "discover", "direct", "connecting", "up", "wait" };

	return (unsigned)s < SP_NELEM(n) ? n[s] : "?";
}

const char *l2tp_lac_decision_name(enum l2tp_lac_decision d)
{
	static const char *const n[] = { "direct: no NAT seen", "tunnel: NAT seen",
					 "tunnel: no answer from NAT discovery",
					 "tunnel: configured always" };

	return (unsigned)d < SP_NELEM(n) ? n[d] : "?";
}

static uint32_t disc_addr(const struct l2tp_lac *c)
{
	return c->cfg.disc_addr != 0 ? c->cfg.disc_addr : c->cfg.lns_addr;
}

static void send_binding(struct l2tp_lac *c, sp_time now)
{
	struct pkt p;

	pkt_init(&p, c->buf, sizeof(c->buf), PKT_HEADROOM);
	sp_rng_bytes(c->rng, c->tid, sizeof(c->tid));
	if (l2tp_disc_request(&p, c->tid) != 0)
		return;
	c->disc_sent++;
	CTR(c, DISCOVER);
	c->timer = now + c->cfg.disc_timeout;
	c->ops.send_udp(c->ops.arg, disc_addr(c), c->cfg.disc_port, pkt_data(&p), p.len);
}

static void lac_connect(struct l2tp_lac *c, sp_time now)
{
	l2tp_reset(c->l, now);
	ppp_link_reset(&c->k);
	c->t = NULL;
	c->s = NULL;
	c->state = L2TP_LAC_CONNECTING;
	c->timer = SP_TIME_NEVER;
	if (l2tp_tunnel_open(c->l, now, c->cfg.lns_addr, c->cfg.lns_port, &c->t) != 0 ||
	    l2tp_session_open(c->l, now, c->t, &c->s) != 0) {
		c->state = L2TP_LAC_WAIT;
		c->timer = now + c->cfg.retry;
	}
}

static void decide(struct l2tp_lac *c, sp_time now, enum l2tp_lac_decision d, uint32_t ra,
		   uint16_t rp)
{
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

	SP_INFO(c->log, MOD, "%s (we are %s:%u, discovery saw %s:%u)", l2tp_lac_decision_name(d),
		sp_ip4_fmt(c->cfg.local_addr, a), c->cfg.local_port, sp_ip4_fmt(ra, b), rp);
	if (d == L2TP_LAC_DECIDE_DIRECT)
		CTR(c, DECIDE_DIRECT);
	else
		CTR(c, DECIDE_TUNNEL);
	if (c->ops.decided != NULL)
		c->ops.decided(c->ops.arg, now, d, ra, rp);
	if (d == L2TP_LAC_DECIDE_DIRECT || c->cfg.mode == L2TP_LAC_NEVER) {
		c->state = L2TP_LAC_DIRECT;
		c->timer = SP_TIME_NEVER;
		return;
	}
	lac_connect(c, now);
}

void l2tp_lac_start(struct l2tp_lac *c, sp_time now)
{
	c->addr = 0;
	if (c->cfg.mode == L2TP_LAC_ALWAYS) {
		decide(c, now, L2TP_LAC_DECIDE_TUNNEL_ALWAYS, 0, 0);
		return;
	}
	c->state = L2TP_LAC_DISCOVER;
	c->disc_sent = 0;
	send_binding(c, now);
}

static void lost(struct l2tp_lac *c, sp_time now, const char *why)
{
	bool was_up = c->state == L2TP_LAC_UP;

	if (c->state != L2TP_LAC_UP && c->state != L2TP_LAC_CONNECTING)
		return;
	c->state = L2TP_LAC_WAIT;
	c->timer = now + c->cfg.retry;
	c->addr = 0;
	SP_INFO(c->log, MOD, "path through the LNS lost (%s); again in %.1fs", why,
		sp_time_sec(c->cfg.retry));
	if (was_up) {
		CTR(c, DOWN);
		if (c->ops.down != NULL)
			c->ops.down(c->ops.arg, now, why);
	}
}

static void ppp_send(void *arg, struct pkt *p)
{
	struct l2tp_lac *c = arg;

	if (c->s == NULL || l2tp_send_data(c->l, c->s, p) != 0)
		c->ppp.v[PPP_CTR_DROP_NO_SPACE]++;
}

static void ppp_up(void *arg, sp_time now, uint32_t local, uint32_t peer)
{
	struct l2tp_lac *c = arg;

	c->state = L2TP_LAC_UP;
	c->addr = local;
	CTR(c, UP);
	if (c->ops.up != NULL)
		c->ops.up(c->ops.arg, now, local, peer);
}

static void ppp_down(void *arg, sp_time now, const char *why)
{
	struct l2tp_lac *c = arg;

	lost(c, now, why);
	if (c->t != NULL && c->t->t_state != L2TP_T_FREE)
		l2tp_tunnel_close(c->l, now, c->t, L2TP_STOP_CLEAR);
}

static void ppp_ip(void *arg, sp_time now, const uint8_t *ip, size_t len)
{
	struct l2tp_lac *c = arg;

	CTR(c, RX_IP);
	if (c->ops.ip != NULL)
		c->ops.ip(c->ops.arg, now, ip, len);
}

static void l_send(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	struct l2tp_lac *c = arg;

	c->ops.send_udp(c->ops.arg, addr, port, buf, len);
}

static void l_tdown(void *arg, sp_time now, struct l2tp_tunnel *t, uint16_t result)
{
	struct l2tp_lac *c = arg;

	(void)t;
	ppp_link_reset(&c->k);
	c->s = NULL;
	c->t = NULL;
	lost(c, now, result == L2TP_DOWN_SILENT ? "LNS silent" : "tunnel closed");
}

static void l_sup(void *arg, sp_time now, struct l2tp_sess *s)
{
	struct l2tp_lac *c = arg;
	struct ppp_ops ops = {
		.send = ppp_send, .up = ppp_up, .down = ppp_down, .ip = ppp_ip, .arg = c
	};
	struct ppp_cfg pc = c->cfg.ppp;

	c->s = s;
	pc.server = false;
	pc.local_addr = 0;
	ppp_link_init(&c->k, &pc, &ops, c->rng, c->log, &c->ppp);
	ppp_link_open(&c->k, now);
}

static void l_sdown(void *arg, sp_time now, struct l2tp_sess *s, uint16_t result)
{
	struct l2tp_lac *c = arg;

	(void)s;
	(void)result;
	ppp_link_reset(&c->k);
	c->s = NULL;
	lost(c, now, "session closed");
	if (c->t != NULL && c->t->t_state == L2TP_T_UP)
		l2tp_tunnel_close(c->l, now, c->t, L2TP_STOP_CLEAR);
}

static void l_data(void *arg, sp_time now, struct l2tp_sess *s, const uint8_t *ppp, size_t len)
{
	struct l2tp_lac *c = arg;

	(void)s;
	ppp_link_input(&c->k, now, ppp, len);
}

int l2tp_lac_new(struct l2tp_lac **out, const struct l2tp_lac_cfg *cfg,
		 const struct l2tp_lac_ops *ops, struct sp_rng *rng, const struct sp_log *log)
{
	struct l2tp_ops lo = {
		.send = l_send,
		.tunnel_down = l_tdown,
		.session_up = l_sup,
		.session_down = l_sdown,
		.data = l_data,
	};
	struct l2tp_cfg lc = cfg->l2tp;
	struct l2tp_lac *c;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SP_ENOMEM;
	c->cfg = *cfg;
	c->ops = *ops;
	c->rng = rng;
	c->log = log;
	c->timer = SP_TIME_NEVER;
	lo.arg = c;
	lc.lns = false;
	ppp_stats_init(&c->ppp, NULL);
	ppp_link_init(&c->k, &cfg->ppp, &(struct ppp_ops){ .send = ppp_send, .arg = c }, rng, log,
		      &c->ppp);
	sp_ctrs_init(&c->ctrs, MOD, NULL, lac_ctr_names, c->ctr, L2TP_LAC_CTR_N);
	if ((r = l2tp_new(&c->l, &lc, &lo, rng, log)) != 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void l2tp_lac_free(struct l2tp_lac *c)
{
	if (c == NULL)
		return;
	l2tp_free(c->l);
	crypto_wipe(c->cfg.ppp.password, sizeof(c->cfg.ppp.password));
	free(c);
}

void l2tp_lac_udp_input(struct l2tp_lac *c, sp_time now, uint32_t addr, uint16_t port,
			const uint8_t *buf, size_t len)
{
	uint32_t ra;
	uint16_t rp;

	if (addr == disc_addr(c) && port == c->cfg.disc_port) {
		if (c->state != L2TP_LAC_DISCOVER) {
			CTR(c, DROP_STRAY);
			return;
		}
		if (l2tp_disc_response(buf, len, c->tid, &ra, &rp) != 0) {
			CTR(c, DROP_DISC_BAD);
			return;
		}
		CTR(c, DISC_ANSWER);
		decide(c, now,
		       ra == c->cfg.local_addr && rp == c->cfg.local_port ? L2TP_LAC_DECIDE_DIRECT
									  : L2TP_LAC_DECIDE_TUNNEL,
		       ra, rp);
		return;
	}
	if (addr != c->cfg.lns_addr) {
		CTR(c, DROP_STRAY);
		return;
	}
	l2tp_input(c->l, now, addr, port, buf, len);
}

int l2tp_lac_send_ip(struct l2tp_lac *c, struct pkt *p)
{
	int r;

	if (c->state != L2TP_LAC_UP) {
		CTR(c, DROP_NOT_UP);
		return SP_ESTATE;
	}
	if ((r = ppp_link_send_ip(&c->k, p)) == 0)
		CTR(c, TX_IP);
	return r;
}

sp_time l2tp_lac_next_deadline(const struct l2tp_lac *c)
{
	sp_time d = sp_time_min(c->timer, l2tp_next_deadline(c->l));

	return sp_time_min(d, ppp_link_next_deadline(&c->k));
}

void l2tp_lac_tick(struct l2tp_lac *c, sp_time now)
{
	l2tp_tick(c->l, now);
	if (ppp_link_next_deadline(&c->k) <= now)
		ppp_link_tick(&c->k, now);
	if (c->timer > now)
		return;
	c->timer = SP_TIME_NEVER;
	switch (c->state) {
	case L2TP_LAC_DISCOVER:
		if (c->disc_sent >= c->cfg.disc_tries) {
			/* No answer: the service is blocked or down; a NAT or a firewall is
			 * the likelier cause, so take the path that works through both. */
			decide(c, now, L2TP_LAC_DECIDE_TUNNEL_NO_ANSWER, 0, 0);
			return;
		}
		send_binding(c, now);
		return;
	case L2TP_LAC_WAIT:
		CTR(c, RECONNECT);
		l2tp_lac_start(c, now);
		return;
	default:
		return;
	}
}

enum l2tp_lac_state l2tp_lac_state(const struct l2tp_lac *c)
{
	return c->state;
}

uint32_t l2tp_lac_addr(const struct l2tp_lac *c)
{
	return c->addr;
}

uint64_t l2tp_lac_ctr(const struct l2tp_lac *c, enum l2tp_lac_ctr k)
{
	return (unsigned)k < L2TP_LAC_CTR_N ? c->ctr[k] : 0;
}

struct sp_ctrs *l2tp_lac_ctrs(struct l2tp_lac *c)
{
	return &c->ctrs;
}

struct l2tp *l2tp_lac_l2tp(struct l2tp_lac *c)
{
	return c->l;
}

const struct ppp_stats *l2tp_lac_ppp_stats(const struct l2tp_lac *c)
{
	return &c->ppp;
}
