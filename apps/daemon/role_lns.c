/*
 * spinatd's lns role: the L2TP network server of 004 (src/l2tp/l2tp_lns.h) on real
 * sockets. L2TP arrives on UDP 1701 from the Internet; each client's PPP session ends on
 * the TUN device, whose address is the LNS's own PPP address and whose prefix is the pool,
 * so the kernel routes the clients' IPsec to the gateway (FIG. 1: on the LAN; FIG. 2:
 * through the router) and the gateway's answers back into the device. Client-to-client
 * traffic (FIG. 3) never leaves the engine. The NAT discovery service answers on UDP 3478.
 */
#include "l2tp_io.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "io/tun.h"
#include "io/udp.h"
#include "l2tp/l2tp_lns.h"

#include <stdlib.h>
#include <string.h>

#define LNS_MTU 1400

enum nft_mode { NFT_OFF = 0, NFT_PRINT, NFT_INSTALL };

struct lns_role {
	struct spinatd *d;
	struct l2tp_lns *lns;
	struct l2tp_io io; /* the L2TP socket, the TUN device, the timer */
	int disc;	   /* the NAT discovery socket, or -1 */
	uint32_t listen;
	uint16_t port, disc_port;
	uint8_t plen;
	unsigned mtu;
	int nft;
	bool nft_installed, registered;
	const char *tun_name;
};

static sp_time next_deadline(void *arg)
{
	return l2tp_lns_next_deadline(((struct lns_role *)arg)->lns);
}

static void tick(void *arg, sp_time now)
{
	l2tp_lns_tick(((struct lns_role *)arg)->lns, now);
}

static void send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	l2tp_io_send_udp(&((struct lns_role *)arg)->io, addr, port, buf, len);
}

static void send_net(void *arg, const uint8_t *buf, size_t len)
{
	l2tp_io_to_tun(&((struct lns_role *)arg)->io, buf, len);
}

static void udp_in(void *arg, int fd, uint32_t src, uint16_t sport, uint32_t dst, uint8_t *b,
		   size_t n)
{
	struct lns_role *r = arg;
	uint8_t ob[PKT_HEADROOM + 512];
	struct pkt out;

	if (fd == r->io.udp) {
		l2tp_lns_udp_input(r->lns, io_now(), src, sport, b, n);
		return;
	}
	pkt_init(&out, ob, sizeof(ob), PKT_HEADROOM);
	if (l2tp_lns_disc_input(r->lns, io_now(), dst != 0 ? dst : r->listen, r->disc_port, src,
				sport, b, n, &out) == 0 &&
	    io_udp_send(fd, src, sport, pkt_data(&out), out.len) != 0)
		r->io.ctr[L2TP_IO_CTR_DROP_SEND_ERROR]++;
}

static void tun_in(void *arg, struct pkt *p)
{
	l2tp_lns_net_input(((struct lns_role *)arg)->lns, io_now(), pkt_data(p), p->len);
}

static int ctl_show_l2tp(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct lns_role *r = arg;

	if (argc == 1 && strcmp(argv[0], "nft") == 0) {
		l2tp_lns_nft(r->lns, r->io.tun.name, out);
		return 0;
	}
	if (argc != 0) {
		fprintf(err, "usage: show l2tp [nft]");
		return SP_EINVAL;
	}
	l2tp_lns_show(r->lns, io_now(), out);
	return 0;
}

/* user = NAME:SECRET, repeated. */
static int read_users(struct conf_sec *s, struct l2tp_lns_cfg *c)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "user", kv)) != NULL) {
		const char *colon = strchr(kv->val, ':');
		struct ppp_user *u;
		size_t nl, sl;

		if (c->nusers == L2TP_LNS_USERS_MAX)
			return conf_fail(s, "at most %d user keys", L2TP_LNS_USERS_MAX);
		if (colon == NULL || colon == kv->val)
			return conf_fail(s, "line %u: user = NAME:SECRET", kv->line);
		nl = (size_t)(colon - kv->val);
		sl = strlen(colon + 1);
		if (nl >= PPP_NAME_MAX || sl == 0 || sl > PPP_SECRET_MAX)
			return conf_fail(s, "line %u: user name 1-%d, secret 1-%d characters",
					 kv->line, PPP_NAME_MAX - 1, PPP_SECRET_MAX);
		u = &c->users[c->nusers++];
		memcpy(u->name, kv->val, nl);
		u->name[nl] = '\0';
		memcpy(u->secret, colon + 1, sl);
		u->secret_len = sl;
	}
	return 0;
}

/* static = NAME:A.B.C.D, a user's fixed address (in the pool's network). */
static int read_static(struct conf_sec *s, struct l2tp_lns_cfg *c, uint32_t net, uint8_t plen)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "static", kv)) != NULL) {
		const char *colon = strchr(kv->val, ':');
		size_t nl = colon != NULL ? (size_t)(colon - kv->val) : 0, i;
		uint32_t a;

		if (colon == NULL || sp_ip4_parse(colon + 1, &a) != 0 ||
		    !sp_ip4_in_prefix(a, net, plen))
			return conf_fail(s, "line %u: static = NAME:ADDRESS in the pool", kv->line);
		for (i = 0; i < c->nusers; i++)
			if (strlen(c->users[i].name) == nl &&
			    memcmp(c->users[i].name, kv->val, nl) == 0)
				break;
		if (i == c->nusers)
			return conf_fail(s, "line %u: static for an unknown user", kv->line);
		c->users[i].addr = a;
	}
	return 0;
}

static int read_gateways(struct conf_sec *s, struct l2tp_lns_cfg *c)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "gateway", kv)) != NULL) {
		if (strcmp(kv->val, "any") == 0) {
			c->gw_any = true; /* 004 [0017]: FIG. 2's public LNS */
			continue;
		}
		if (c->ngw == L2TP_LNS_GW_MAX)
			return conf_fail(s, "at most %d gateway keys", L2TP_LNS_GW_MAX);
		if (sp_ip4_prefix_parse(kv->val, &c->gw[c->ngw], &c->gw_plen[c->ngw], true) != 0)
			return conf_fail(s, "line %u: gateway = '%s': a.b.c.d[/len] or any",
					 kv->line, kv->val);
		c->ngw++;
	}
	return 0;
}

static int read_allow(struct conf_sec *s, uint32_t *allow)
{
	const char *v;
	char buf[128], *save = NULL;
	int r;

	if ((r = conf_get_str(s, "allow", "ike,natt,esp,ah", &v)) != 0)
		return r;
	if (strlen(v) >= sizeof(buf))
		return conf_fail(s, "allow: too long");
	strcpy(buf, v);
	*allow = 0;
	for (char *w = strtok_r(buf, ", ", &save); w != NULL; w = strtok_r(NULL, ", ", &save)) {
		if (strcmp(w, "ike") == 0)
			*allow |= L2TP_LNS_ALLOW_IKE;
		else if (strcmp(w, "natt") == 0)
			*allow |= L2TP_LNS_ALLOW_NATT;
		else if (strcmp(w, "esp") == 0)
			*allow |= L2TP_LNS_ALLOW_ESP;
		else if (strcmp(w, "ah") == 0)
			*allow |= L2TP_LNS_ALLOW_AH;
		else if (strcmp(w, "icmp") == 0)
			*allow |= L2TP_LNS_ALLOW_ICMP;
		else
			return conf_fail(s, "allow = %s: ike, natt, esp, ah, icmp", v);
	}
	return 0;
}

static int read_cfg(struct lns_role *r, struct conf_sec *s, struct l2tp_lns_cfg *c)
{
	static const char *const auths[] = { "none", "pap", "chap", NULL };
	static const char *const nfts[] = { "off", "print", "install", NULL };
	const char *host, *secret, *pool;
	uint32_t net, local, port, dport, rate, burst, tries, mts, mss, rwin, efails, mru;
	bool tauth, disc;
	int auth, e;

	l2tp_lns_cfg_defaults(c);
	if ((e = conf_get_ip4(s, "listen", 0, &r->listen)) != 0 ||
	    (e = conf_get_u32(s, "port", L2TP_PORT, 1, 65535, &port)) != 0 ||
	    (e = conf_get_str(s, "hostname", "spinat-lns", &host)) != 0 ||
	    (e = conf_get_bool(s, "tunnel_auth", true, &tauth)) != 0 ||
	    (e = conf_get_str(s, "secret", NULL, &secret)) != 0 ||
	    (e = conf_get_enum(s, "ppp_auth", auths, PPP_AUTH_CHAP, &auth)) != 0 ||
	    (e = conf_get_str(s, "pool", "10.99.0.0/24", &pool)) != 0 ||
	    (e = conf_get_ip4(s, "local", 0, &local)) != 0 ||
	    (e = conf_get_bool(s, "relay", true, &c->relay)) != 0 ||
	    (e = read_allow(s, &c->allow)) != 0 || (e = read_users(s, c)) != 0 ||
	    (e = read_gateways(s, c)) != 0 ||
	    (e = conf_get_str(s, "tun", "l2tp0", &r->tun_name)) != 0 ||
	    (e = conf_get_u32(s, "mtu", LNS_MTU, 576, 1500, &r->mtu)) != 0 ||
	    (e = conf_get_bool(s, "discovery", true, &disc)) != 0 ||
	    (e = conf_get_u32(s, "discovery_port", STUN_PORT, 1, 65535, &dport)) != 0 ||
	    (e = conf_get_u32(s, "discovery_rate", 1000, 0, 1000000, &rate)) != 0 ||
	    (e = conf_get_u32(s, "discovery_burst", 100, 1, 1000000, &burst)) != 0 ||
	    (e = conf_get_time(s, "retransmit", SP_SEC(1), &c->l2tp.rtx_initial)) != 0 ||
	    (e = conf_get_time(s, "retransmit_cap", SP_SEC(8), &c->l2tp.rtx_cap)) != 0 ||
	    (e = conf_get_u32(s, "retransmit_tries", 5, 1, 100, &tries)) != 0 ||
	    (e = conf_get_time(s, "hello", SP_SEC(60), &c->l2tp.hello)) != 0 ||
	    (e = conf_get_u32(s, "receive_window", 4, 1, L2TP_TXQ, &rwin)) != 0 ||
	    (e = conf_get_u32(s, "max_tunnels", 64, 1, L2TP_TUNNELS_MAX, &mts)) != 0 ||
	    (e = conf_get_u32(s, "max_sessions", 256, 1, L2TP_SESSIONS_MAX, &mss)) != 0 ||
	    (e = conf_get_u32(s, "mru", PPP_MRU_DEFAULT, PPP_MRU_MIN, 1500, &mru)) != 0 ||
	    (e = conf_get_time(s, "echo_interval", SP_SEC(10), &c->ppp.echo_interval)) != 0 ||
	    (e = conf_get_u32(s, "echo_fails", 3, 1, 100, &efails)) != 0 ||
	    (e = conf_get_enum(s, "nftables", nfts, NFT_OFF, &r->nft)) != 0)
		return e;
	r->port = (uint16_t)port;
	r->disc_port = disc ? (uint16_t)dport : 0;
	snprintf(c->l2tp.hostname, sizeof(c->l2tp.hostname), "%s", host);
	snprintf(c->ppp.name, sizeof(c->ppp.name), "%s", host);
	if (tauth) {
		/* 004 [0024]: L2TP's own authentication is on, so a secret is needed. */
		if (secret == NULL || strlen(secret) == 0 || strlen(secret) > L2TP_SECRET_MAX)
			return conf_fail(s, "secret: 1-%d characters (or tunnel_auth = no)",
					 L2TP_SECRET_MAX);
		c->l2tp.secret_len = strlen(secret);
		memcpy(c->l2tp.secret, secret, c->l2tp.secret_len);
	}
	c->ppp.auth = (enum ppp_auth)auth;
	if (c->ppp.auth != PPP_AUTH_NONE && c->nusers == 0)
		return conf_fail(s, "ppp_auth = %s needs at least one user = NAME:SECRET",
				 auths[auth]);
	if (sp_ip4_prefix_parse(pool, &net, &r->plen, true) != 0 || r->plen > 30)
		return conf_fail(s, "pool = '%s': a network a.b.c.d/len, len 30 or shorter", pool);
	c->local = local != 0 ? local : net + 1;
	if (!sp_ip4_in_prefix(c->local, net, r->plen))
		return conf_fail(s, "local must be inside the pool's network");
	/* Hosts of the network but the local address: the first and last are not handed out
	 * (network and broadcast addresses). */
	c->pool_start = net + 1;
	c->pool_n = (uint32_t)((1ull << (32 - r->plen)) - 2);
	if ((e = read_static(s, c, net, r->plen)) != 0)
		return e;
	c->l2tp.rtx_tries = tries;
	c->l2tp.rwin = (uint16_t)rwin;
	c->l2tp.max_tunnels = mts;
	c->l2tp.max_sessions = mss;
	c->ppp.mru = (uint16_t)mru;
	c->ppp.echo_fails = efails;
	c->disc.rate = rate;
	c->disc.burst = burst;
	if (c->l2tp.rtx_cap < c->l2tp.rtx_initial)
		return conf_fail(s, "retransmit_cap is shorter than retransmit");
	if (!c->gw_any && c->ngw == 0)
		SP_WARN(&r->d->log, "lns",
			"no gateway configured: clients can only reach each other");
	return 0;
}

static void nft_apply(struct lns_role *r)
{
	FILE *f;

	if (r->nft == NFT_PRINT) {
		l2tp_lns_nft(r->lns, r->io.tun.name, stdout);
		fflush(stdout);
		return;
	}
	if ((f = popen("nft -f -", "w")) == NULL) {
		SP_ERR(&r->d->log, "lns", "cannot run nft");
		return;
	}
	/* One transaction: the table a crashed run left goes (declared first, so that deleting
	 * it cannot fail when there is none) and ours replaces it: never two copies. */
	fprintf(f, "table inet spinat_lns\ndelete table inet spinat_lns\n");
	l2tp_lns_nft(r->lns, r->io.tun.name, f);
	if (pclose(f) != 0) {
		SP_ERR(&r->d->log, "lns",
		       "nft refused the ruleset (spinat show l2tp nft shows it)");
		return;
	}
	r->nft_installed = true;
	SP_INFO(&r->d->log, "lns", "nftables table inet spinat_lns installed");
}

void spinatd_lns_stop(struct spinatd *d)
{
	struct lns_role *r = d->role_state;

	if (r == NULL)
		return;
	if (r->nft_installed && system("nft delete table inet spinat_lns") != 0)
		SP_WARN(&d->log, "lns", "nftables table inet spinat_lns not removed");
	if (d->loop != NULL && r->disc >= 0)
		io_loop_del_fd(d->loop, r->disc);
	io_udp_close(r->disc);
	l2tp_io_close(&r->io);
	if (r->registered)
		l2tp_lns_unregister(r->lns, &d->ctrs);
	l2tp_lns_free(r->lns);
	free(r);
	d->role_state = NULL;
}

int spinatd_lns_start(struct spinatd *d)
{
	struct conf_sec *s = conf_find(d->conf, "lns", NULL);
	struct l2tp_lns_ops ops = { .send_udp = send_udp, .send_net = send_net };
	struct l2tp_lns_cfg *cfg;
	struct lns_role *r;
	char a[SP_IP4_STRLEN];
	int e;

	if (s == NULL)
		return conf_fail(conf_next(d->conf, NULL, "spinatd"),
				 "role lns needs an [lns] section");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SP_ENOMEM;
	d->role_state = r;
	r->d = d;
	r->disc = -1;
	l2tp_io_init(&r->io, d, "lns", r);
	r->io.next_deadline = next_deadline;
	r->io.tick = tick;
	r->io.udp_in = udp_in;
	r->io.tun_in = tun_in;
	if ((cfg = malloc(sizeof(*cfg))) == NULL)
		return SP_ENOMEM;
	if ((e = read_cfg(r, s, cfg)) != 0)
		goto out;
	ops.arg = r;
	if ((e = l2tp_lns_new(&r->lns, cfg, &ops, &io_rng, &d->log)) != 0) {
		SP_ERR(&d->log, "lns", "LNS engine: %s", sp_strerror(e));
		goto out;
	}
	if (d->check) {
		e = 0;
		goto out;
	}
	l2tp_io_register(&r->io, "lns_io", L2TP_IO_CTR_N);
	l2tp_lns_register(r->lns, &d->ctrs, d->name);
	r->registered = true;
	if ((e = io_tun_open(&r->io.tun, r->tun_name)) != 0 ||
	    (e = io_tun_configure(&r->io.tun, cfg->local, r->plen, r->mtu)) != 0) {
		SP_ERR(&d->log, "lns", "TUN device %s: %s (root or CAP_NET_ADMIN needed)",
		       r->tun_name, sp_strerror(e));
		goto out;
	}
	if ((r->io.udp = io_udp_open(r->listen, r->port)) < 0) {
		e = r->io.udp;
		SP_ERR(&d->log, "lns", "UDP %u: %s", r->port, sp_strerror(e));
		goto out;
	}
	if (r->disc_port != 0 && (r->disc = io_udp_open(r->listen, r->disc_port)) < 0) {
		e = r->disc;
		SP_ERR(&d->log, "lns", "UDP %u (discovery): %s", r->disc_port, sp_strerror(e));
		goto out;
	}
	if ((e = l2tp_io_watch_udp(&r->io, r->io.udp)) != 0 ||
	    (r->disc >= 0 && (e = l2tp_io_watch_udp(&r->io, r->disc)) != 0) ||
	    (e = l2tp_io_watch_tun(&r->io)) != 0 ||
	    (e = io_ctl_add(d->ctl, "show l2tp", ctl_show_l2tp, r,
			    "tunnels, sessions, addresses, counters; [nft]: the firewall as "
			    "nftables")) != 0)
		goto out;
	if (r->nft != NFT_OFF)
		nft_apply(r);
	l2tp_io_rearm(&r->io);
	SP_INFO(&d->log, "lns", "LNS on UDP %u, %s/%u on %s, discovery %s, %u user(s)", r->port,
		sp_ip4_fmt(cfg->local, a), r->plen, r->io.tun.name,
		r->disc_port != 0 ? "on" : "off", (unsigned)cfg->nusers);
	e = 0;
out:
	crypto_wipe(cfg, sizeof(*cfg)); /* tunnel secret and users' secrets */
	free(cfg);
	return e;
}

const char spinatd_lns_usage[] =
	"    [lns]                the L2TP network server of 004 (docs/L2TP.md)\n"
	"      secret = S         L2TP tunnel secret (required unless tunnel_auth = no)\n"
	"      user = NAME:SECRET PPP user (CHAP secret or PAP password); may repeat\n"
	"      static = NAME:ADDR the user's fixed address; may repeat\n"
	"      ppp_auth = A       chap (default), pap, none\n"
	"      pool = A/L         addresses handed out (10.99.0.0/24); local = first host\n"
	"      gateway = A[/L]    permitted IPsec gateway; may repeat; any (FIG. 2)\n"
	"      relay = yes|no     client to client (FIG. 3; yes)\n"
	"      allow = LIST       ike,natt,esp,ah (default) and icmp\n"
	"      tun = NAME, mtu, listen, port (1701), hostname, discovery (yes),\n"
	"      discovery_port (3478), discovery_rate, discovery_burst, retransmit (1s),\n"
	"      retransmit_cap (8s), retransmit_tries (5), hello (60s), receive_window,\n"
	"      max_tunnels, max_sessions, mru, echo_interval, echo_fails,\n"
	"      nftables = off|print|install\n"
	"    Control: spinat show l2tp [nft] | show counters\n";
