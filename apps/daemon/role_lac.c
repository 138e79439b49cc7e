/*
 * spinatd's lac role: the client of 004 [0026] (src/l2tp/l2tp_lac.h) on real sockets. It
 * asks the NAT discovery service whether a NAT is in the way; if so it opens an L2TP
 * tunnel and a PPP session to the LNS and gives the assigned address to a TUN device, with
 * routes to the IPsec gateways or peers through it, so the host's IPsec (an endpoint role
 * or any other) runs through the LNS untouched by the NAT. The decision is logged and
 * shown; losses are repaired by the engine (discover and connect again).
 */
#include "l2tp_io.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "io/tun.h"
#include "io/udp.h"
#include "l2tp/l2tp_lac.h"
#include "proto/stun.h"

#include <stdlib.h>
#include <string.h>

#define LAC_ROUTES_MAX 16

struct lac_role {
	struct spinatd *d;
	struct l2tp_lac *lac;
	struct l2tp_io io; /* the UDP socket, the TUN device, the timer */
	unsigned mtu;
	uint32_t routes[LAC_ROUTES_MAX];
	uint8_t route_len[LAC_ROUTES_MAX];
	unsigned nroutes;
	uint32_t configured; /* address the TUN device has */
	enum l2tp_lac_decision decision;
	bool decided, registered;
	uint32_t refl_addr;
	uint16_t refl_port;
	sp_time up_since;
};

static sp_time next_deadline(void *arg)
{
	return l2tp_lac_next_deadline(((struct lac_role *)arg)->lac);
}

static void tick(void *arg, sp_time now)
{
	l2tp_lac_tick(((struct lac_role *)arg)->lac, now);
}

static void send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	l2tp_io_send_udp(&((struct lac_role *)arg)->io, addr, port, buf, len);
}

static void decided(void *arg, sp_time now, enum l2tp_lac_decision d, uint32_t a, uint16_t p)
{
	struct lac_role *r = arg;

	(void)now;
	r->decided = true;
	r->decision = d;
	r->refl_addr = a;
	r->refl_port = p;
}

static void up(void *arg, sp_time now, uint32_t local, uint32_t lns)
{
	struct lac_role *r = arg;
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

	r->up_since = now;
	SP_INFO(&r->d->log, "lac", "up through the LNS: address %s (LNS %s) on %s",
		sp_ip4_fmt(local, a), sp_ip4_fmt(lns, b), r->io.tun.name);
	if (local == r->configured)
		return;
	if (io_tun_configure(&r->io.tun, local, 32, r->mtu) != 0) {
		SP_ERR(&r->d->log, "lac", "cannot give %s to %s", a, r->io.tun.name);
		return;
	}
	r->configured = local;
	for (unsigned i = 0; i < r->nroutes; i++)
		if (io_tun_route_add(&r->io.tun, r->routes[i], r->route_len[i]) != 0)
			SP_ERR(&r->d->log, "lac", "route %s/%u into %s failed",
			       sp_ip4_fmt(r->routes[i], b), r->route_len[i], r->io.tun.name);
}

static void down(void *arg, sp_time now, const char *why)
{
	struct lac_role *r = arg;

	(void)now;
	SP_WARN(&r->d->log, "lac", "path through the LNS down: %s", why);
}

static void from_lns(void *arg, sp_time now, const uint8_t *ip, size_t len)
{
	(void)now;
	l2tp_io_to_tun(&((struct lac_role *)arg)->io, ip, len);
}

static void udp_in(void *arg, int fd, uint32_t src, uint16_t sport, uint32_t dst, uint8_t *b,
		   size_t n)
{
	(void)fd;
	(void)dst;
	l2tp_lac_udp_input(((struct lac_role *)arg)->lac, io_now(), src, sport, b, n);
}

static void tun_in(void *arg, struct pkt *p)
{
	if (l2tp_lac_send_ip(((struct lac_role *)arg)->lac, p) != 0)
		return; /* counted by the engine (drop_not_up) */
}

static int ctl_show_l2tp(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct lac_role *r = arg;
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];
	struct sp_ctrs *c = l2tp_lac_ctrs(r->lac);
	const struct ppp_stats *ps = l2tp_lac_ppp_stats(r->lac);
	struct l2tp *l = l2tp_lac_l2tp(r->lac);

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show l2tp");
		return SP_EINVAL;
	}
	fprintf(out, "client state %s address %s up %.0fs\n",
		l2tp_lac_state_name(l2tp_lac_state(r->lac)), sp_ip4_fmt(l2tp_lac_addr(r->lac), a),
		l2tp_lac_state(r->lac) == L2TP_LAC_UP ? sp_time_sec(io_now() - r->up_since) : 0.0);
	if (r->decided)
		fprintf(out, "decision %s (discovery saw %s:%u)\n",
			l2tp_lac_decision_name(r->decision), sp_ip4_fmt(r->refl_addr, b),
			r->refl_port);
	for (uint32_t i = 0; i < l2tp_max_tunnels(l); i++) {
		const struct l2tp_tunnel *t = l2tp_tunnel_at(l, i);

		if (t->t_state != L2TP_T_FREE)
			fprintf(out, "  tunnel %u peer %s:%u peer-tunnel %u host %s state %s\n",
				t->t_tid, sp_ip4_fmt(t->t_peer_addr, a), t->t_peer_port,
				t->t_peer_tid, t->t_peer_name[0] ? t->t_peer_name : "-",
				l2tp_tunnel_state_name(t->t_state));
	}
	for (uint32_t i = 0; i < l2tp_max_sessions(l); i++) {
		const struct l2tp_sess *s = l2tp_sess_at(l, i);

		if (s->s_state != L2TP_S_FREE)
			fprintf(out, "  session %u peer-session %u state %s rx %llu tx %llu\n",
				s->s_sid, s->s_peer_sid, l2tp_sess_state_name(s->s_state),
				(unsigned long long)s->s_rx, (unsigned long long)s->s_tx);
	}
	fprintf(out, "counters:\n");
	for (unsigned i = 0; i < c->n; i++)
		if (c->vals[i] != 0)
			fprintf(out, "  lac.%s %llu\n", c->names[i],
				(unsigned long long)c->vals[i]);
	for (unsigned i = 0; i < L2TP_CTR_N; i++)
		if (l2tp_ctr(l, (enum l2tp_ctr)i) != 0)
			fprintf(out, "  l2tp.%s %llu\n", l2tp_ctrs(l)->names[i],
				(unsigned long long)l2tp_ctr(l, (enum l2tp_ctr)i));
	for (unsigned i = 0; i < PPP_CTR_N; i++)
		if (ps->v[i] != 0)
			fprintf(out, "  ppp.%s %llu\n", ps->ctrs.names[i],
				(unsigned long long)ps->v[i]);
	return 0;
}

static int read_routes(struct lac_role *r, struct conf_sec *s)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "route", kv)) != NULL) {
		if (r->nroutes == LAC_ROUTES_MAX)
			return conf_fail(s, "at most %d route keys", LAC_ROUTES_MAX);
		if (sp_ip4_prefix_parse(kv->val, &r->routes[r->nroutes], &r->route_len[r->nroutes],
					true) != 0)
			return conf_fail(s, "line %u: route = '%s': a.b.c.d[/len]", kv->line,
					 kv->val);
		r->nroutes++;
	}
	return 0;
}

static int read_cfg(struct lac_role *r, struct conf_sec *s, struct l2tp_lac_cfg *c,
		    const char **tun, uint32_t *bind_addr, uint16_t *bind_port)
{
	uint32_t port;
	int e;

	l2tp_lac_cfg_defaults(c);
	if ((e = l2tp_lac_cfg_read(s, c)) != 0 ||
	    (e = conf_get_ip4(s, "listen", 0, bind_addr)) != 0 ||
	    (e = conf_get_u32(s, "port", L2TP_PORT, 0, 65535, &port)) != 0 ||
	    (e = conf_get_str(s, "tun", "lac0", tun)) != 0 ||
	    (e = conf_get_u32(s, "mtu", 1400, 576, 1500, &r->mtu)) != 0 ||
	    (e = read_routes(r, s)) != 0)
		return e;
	*bind_port = (uint16_t)port;
	return 0;
}

void spinatd_lac_stop(struct spinatd *d)
{
	struct lac_role *r = d->role_state;

	if (r == NULL)
		return;
	l2tp_io_close(&r->io);
	if (r->registered) {
		sp_ctr_unregister(&d->ctrs, l2tp_lac_ctrs(r->lac));
		sp_ctr_unregister(&d->ctrs, l2tp_ctrs(l2tp_lac_l2tp(r->lac)));
	}
	l2tp_lac_free(r->lac);
	free(r);
	d->role_state = NULL;
}

int spinatd_lac_start(struct spinatd *d)
{
	struct conf_sec *s = conf_find(d->conf, "lac", NULL);
	struct l2tp_lac_ops ops = {
		.send_udp = send_udp, .decided = decided, .up = up, .down = down, .ip = from_lns
	};
	struct l2tp_lac_cfg cfg;
	struct lac_role *r;
	const char *tun;
	uint32_t bind_addr;
	uint16_t bind_port;
	int e;

	if (s == NULL)
		return conf_fail(conf_next(d->conf, NULL, "spinatd"),
				 "role lac needs a [lac] section");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SP_ENOMEM;
	d->role_state = r;
	r->d = d;
	l2tp_io_init(&r->io, d, "lac", r);
	r->io.next_deadline = next_deadline;
	r->io.tick = tick;
	r->io.udp_in = udp_in;
	r->io.tun_in = tun_in;
	if ((e = read_cfg(r, s, &cfg, &tun, &bind_addr, &bind_port)) != 0)
		goto out;
	if (d->check) {
		e = 0;
		goto out;
	}
	if ((r->io.udp = io_udp_open(bind_addr, bind_port)) < 0) {
		e = r->io.udp;
		SP_ERR(&d->log, "lac", "UDP %u: %s", bind_port, sp_strerror(e));
		goto out;
	}
	/* What "its own" address and port are (004 [0025]): the socket's, as routed. */
	if ((e = io_udp_local(r->io.udp, cfg.disc_addr != 0 ? cfg.disc_addr : cfg.lns_addr,
			      &cfg.local_addr, &cfg.local_port)) != 0)
		goto out;
	ops.arg = r;
	if ((e = l2tp_lac_new(&r->lac, &cfg, &ops, &io_rng, &d->log)) != 0)
		goto out;
	l2tp_io_register(&r->io, "lac_io", L2TP_IO_CTR_N - 1); /* no discovery socket */
	l2tp_lac_ctrs(r->lac)->instance = d->name;
	sp_ctr_register(&d->ctrs, l2tp_lac_ctrs(r->lac));
	l2tp_ctrs(l2tp_lac_l2tp(r->lac))->instance = d->name;
	sp_ctr_register(&d->ctrs, l2tp_ctrs(l2tp_lac_l2tp(r->lac)));
	r->registered = true;
	if ((e = io_tun_open(&r->io.tun, tun)) != 0 ||
	    (e = io_tun_configure(&r->io.tun, 0, 0, r->mtu)) != 0) {
		SP_ERR(&d->log, "lac", "TUN device %s: %s (root or CAP_NET_ADMIN needed)", tun,
		       sp_strerror(e));
		goto out;
	}
	if ((e = l2tp_io_watch_udp(&r->io, r->io.udp)) != 0 ||
	    (e = l2tp_io_watch_tun(&r->io)) != 0 ||
	    (e = io_ctl_add(d->ctl, "show l2tp", ctl_show_l2tp, r,
			    "the client: decision, tunnel, session, address, counters")) != 0)
		goto out;
	l2tp_lac_start(r->lac, io_now());
	l2tp_io_rearm(&r->io);
	e = 0;
out:
	crypto_wipe(&cfg, sizeof(cfg));
	return e;
}

const char spinatd_lac_usage[] =
	"    [lac]                the client of 004 [0026] (docs/L2TP.md)\n"
	"      lns = A            the LNS (required); lns_port (1701)\n"
	"      mode = M           auto (discover, tunnel only behind a NAT), always, never\n"
	"      secret = S         L2TP tunnel secret; user = NAME, password = P (PPP)\n"
	"      route = A[/L]      routed into the TUN device once up; may repeat\n"
	"      tun (lac0), mtu, listen, port (1701), hostname, discovery (the LNS),\n"
	"      discovery_port (3478), discovery_timeout (1s), discovery_tries (3),\n"
	"      retry (5s), retransmit, retransmit_cap, retransmit_tries, hello (10s),\n"
	"      echo_interval (10s), echo_fails (3)\n"
	"    Control: spinat show l2tp | show counters\n";
