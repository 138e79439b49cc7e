/*
 * spinatd's endpoint role: an IPsec endpoint in userspace. Cleartext comes from the kernel
 * through a TUN device; ESP and AH go out and come in through raw IP sockets (protocols 50
 * and 51) and the NAT-T UDP socket (RFC 3948). The SA and policy databases are the sans-IO
 * engine of src/ipsec/, keyed by hand from the configuration ([sa], [policy]), the same
 * engine endpoint nodes run in the simulator.
 */
#include "spinatd.h"
#include "endpoint_ike.h"
#include "base/addr.h"
#include "crypto/drbg.h"
#include "io/ipsock.h"
#include "io/tun.h"
#include "ipsec/ipsec.h"
#include "ipsec/ipsec_conf.h"

#include <stdlib.h>
#include <string.h>

#define EP_BATCH       64 /* packets per wakeup and descriptor, so no source starves another */
#define EP_DEFAULT_MTU 1400
/* A packet from the TUN device must leave room in its buffer for ESP's trailer and ICV
 * (at most 15 + 2 + 32 bytes) after PKT_HEADROOM. */
#define EP_MAX_MTU     1700
#define EP_MAX_ROUTES  16

#define foreach_ep_ctr(_)                                                                    \
	_(TUN_RX, "tun_rx")			    /* cleartext read from the TUN device */ \
	_(TUN_TX, "tun_tx")			    /* cleartext written to it */            \
	_(NET_RX, "net_rx")			    /* packets read from the sockets */      \
	_(NET_TX, "net_tx")			    /* packets sent */                       \
	_(DROP_TUN_NOT_IPV4, "drop_tun_not_ipv4")   /* e.g. IPv6 the kernel sends the TUN */ \
	_(DROP_POOL_EMPTY, "drop_pool_empty")	    /* no packet buffer free */              \
	_(DROP_TUN_WRITE, "drop_tun_write")	    /* the kernel refused the write */       \
	_(DROP_NET_SEND, "drop_net_send")	    /* sendto() failed */                    \
	_(DROP_NET_TRUNCATED, "drop_net_truncated") /* larger than a packet buffer */        \
	_(DROP_READ_ERROR, "drop_read_error")	    /* read or recv failed */

enum ep_ctr {
#define _(sym, str) EP_CTR_##sym,
	foreach_ep_ctr(_)
#undef _
		EP_CTR_N
};

static const char *const ep_ctr_names[] = { SP_CTR_NAMES(foreach_ep_ctr) };

struct endpoint {
	struct spinatd *d;
	struct ipsec *e;
	struct crypto_drbg *drbg;
	struct io_tun tun;
	struct io_ipsock net;
	struct io_timer timer;
	uint64_t ctr[EP_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
	struct endpoint_ike *ike; /* IKEv2, when [conn] sections are configured */
};

static void net_out(void *arg, struct pkt *p)
{
	struct endpoint *ep = arg;

	if (io_ipsock_send(&ep->net, p) == 0)
		ep->ctr[EP_CTR_NET_TX]++;
	else
		ep->ctr[EP_CTR_DROP_NET_SEND]++;
	pkt_free(p);
}

static void local_out(void *arg, struct pkt *p)
{
	struct endpoint *ep = arg;

	if (ep->ike != NULL && endpoint_ike_local(ep->ike, p))
		return; /* 003's epoch guard took it */
	if (io_tun_write(&ep->tun, p) == 0)
		ep->ctr[EP_CTR_TUN_TX]++;
	else
		ep->ctr[EP_CTR_DROP_TUN_WRITE]++;
	pkt_free(p);
}

static void on_event(void *arg, const struct ipsec_event *ev)
{
	struct endpoint *ep = arg;

	if (ep->ike != NULL) {
		endpoint_ike_event(ep->ike, ev); /* IKE rekeys, deletes, brings tunnels up */
		return;
	}
	static const char *const what[] = { "acquire (no SA for a policy)", "soft expiry",
					    "hard expiry", "reserved SPI expired" };
	char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

	if (ev->type == IPSEC_EV_ACQUIRE)
		SP_WARN(&ep->d->log, "endpoint", "%s: policy %u, %s -> %s proto %u", what[ev->type],
			ev->policy->id, sp_ip4_fmt(ev->tuple.src, s), sp_ip4_fmt(ev->tuple.dst, d),
			ev->tuple.proto);
	else
		SP_WARN(&ep->d->log, "endpoint", "%s of SA 0x%08x (manual keys: replace it)",
			what[ev->type], ev->sa->spi);
}

/* Which SA a packet about to be delivered came through (003's epoch guard). */
static int post_unprotect(void *arg, const struct sa *sa, struct pkt *p)
{
	struct endpoint *ep = arg;

	(void)p;
	if (ep->ike != NULL)
		endpoint_ike_note_rx(ep->ike, sa);
	return 0;
}

/* IKE on the NAT-T port (RFC 3948 2.2), found by the engine behind the non-ESP marker. */
static void ike_in(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		   uint16_t dport)
{
	struct endpoint *ep = arg;

	if (ep->ike != NULL)
		endpoint_ike_natt_in(ep->ike, p, src, dst, sport, dport);
	else
		pkt_free(p);
}

static void rearm(struct endpoint *ep)
{
	if (io_timer_arm(ep->d->loop, &ep->timer, ipsec_next_deadline(ep->e)) != 0)
		SP_ERR(&ep->d->log, "endpoint", "cannot arm the timer");
}

static void on_timer(struct io_loop *loop, void *arg)
{
	struct endpoint *ep = arg;

	(void)loop;
	ipsec_tick(ep->e, io_now());
	rearm(ep);
}

static void on_tun(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct endpoint *ep = arg;

	(void)loop;
	(void)fd;
	(void)events;
	for (int i = 0; i < EP_BATCH; i++) {
		struct pkt *p = pkt_alloc(&ep->d->pool);
		int r;

		if (p == NULL) {
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
			break;
		}
		if ((r = io_tun_read(&ep->tun, p)) != 0) {
			if (r != SP_EAGAIN)
				ep->ctr[EP_CTR_DROP_READ_ERROR]++;
			pkt_free(p);
			break;
		}
		ep->ctr[EP_CTR_TUN_RX]++;
		if (p->len == 0 || pkt_data(p)[0] >> 4 != 4) {
			ep->ctr[EP_CTR_DROP_TUN_NOT_IPV4]++;
			pkt_free(p);
			continue;
		}
		ipsec_output(ep->e, io_now(), p);
	}
	rearm(ep);
}

static void on_net(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct endpoint *ep = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < EP_BATCH; i++) {
		struct pkt *p = pkt_alloc(&ep->d->pool);
		int r;

		if (p == NULL) {
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
			break;
		}
		if ((r = io_ipsock_recv(&ep->net, fd, p)) != 0) {
			pkt_free(p);
			if (r == SP_ENOSPACE && fd == ep->net.udp && ep->ike != NULL &&
			    endpoint_ike_natt_large(ep->ike, &ep->net)) {
				ep->ctr[EP_CTR_NET_RX]++;
				continue; /* a large IKE message, handed over whole */
			}
			if (r == SP_ENOSPACE) {
				ep->ctr[EP_CTR_DROP_NET_TRUNCATED]++;
				continue; /* the next datagram may fit */
			}
			if (r != SP_EAGAIN)
				ep->ctr[EP_CTR_DROP_READ_ERROR]++;
			break;
		}
		ep->ctr[EP_CTR_NET_RX]++;
		ipsec_input(ep->e, io_now(), p);
	}
	rearm(ep);
}

static int ctl_show_sa(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct endpoint *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show sa");
		return SP_EINVAL;
	}
	if (ep->ike != NULL)
		endpoint_ike_show(ep->ike, out);
	ipsec_show_sa(ep->e, io_now(), out);
	return 0;
}

static int ctl_show_policy(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct endpoint *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show policy");
		return SP_EINVAL;
	}
	ipsec_show_policy(ep->e, out);
	return 0;
}

struct ep_conf {
	const char *tun;
	uint32_t tun_addr;
	uint8_t tun_plen;
	uint32_t mtu, mark;
	bool raw, udp;
	uint32_t routes[EP_MAX_ROUTES];
	uint8_t route_len[EP_MAX_ROUTES];
	unsigned nroutes;
};

static int read_endpoint(struct conf *c, struct ep_conf *ec)
{
	struct conf_sec *s = conf_find(c, "endpoint", NULL);
	const char *addr;
	int r;

	memset(ec, 0, sizeof(*ec));
	ec->tun = "spinat0";
	ec->mtu = EP_DEFAULT_MTU;
	ec->raw = ec->udp = true;
	if (s == NULL)
		return 0;
	s->used = true;
	if ((r = conf_get_str(s, "tun", "spinat0", &ec->tun)) != 0 ||
	    (r = conf_get_str(s, "tun_address", NULL, &addr)) != 0 ||
	    (r = conf_get_u32(s, "mtu", EP_DEFAULT_MTU, 576, EP_MAX_MTU, &ec->mtu)) != 0 ||
	    (r = conf_get_u32(s, "mark", 0, 0, UINT32_MAX, &ec->mark)) != 0 ||
	    (r = conf_get_bool(s, "raw", true, &ec->raw)) != 0 ||
	    (r = conf_get_bool(s, "udp", true, &ec->udp)) != 0)
		return r;
	if (strlen(ec->tun) == 0 || strlen(ec->tun) >= IFNAMSIZ)
		return conf_fail(s, "tun = '%s': an interface name of 1-%d characters", ec->tun,
				 IFNAMSIZ - 1);
	if (addr != NULL && sp_ip4_prefix_parse(addr, &ec->tun_addr, &ec->tun_plen, false) != 0)
		return conf_fail(s, "tun_address = '%s': expected a.b.c.d/len", addr);
	for (struct conf_kv *kv = conf_next_kv(s, "route", NULL); kv != NULL;
	     kv = conf_next_kv(s, "route", kv)) {
		if (ec->nroutes == EP_MAX_ROUTES)
			return conf_fail(s, "at most %d route keys", EP_MAX_ROUTES);
		if (sp_ip4_prefix_parse(kv->val, &ec->routes[ec->nroutes],
					&ec->route_len[ec->nroutes], true) != 0)
			return conf_fail(s,
					 "route = '%s' (line %u): expected a network a.b.c.d/len",
					 kv->val, kv->line);
		ec->nroutes++;
	}
	if (!ec->raw && !ec->udp)
		return conf_fail(s, "raw = no and udp = no: no way to send or receive ESP");
	return 0;
}

static int open_io(struct endpoint *ep, const struct ep_conf *ec, uint16_t natt_port)
{
	struct spinatd *d = ep->d;
	int fds[3], r;

	if ((r = io_tun_open(&ep->tun, ec->tun)) != 0) {
		SP_ERR(&d->log, "endpoint", "TUN device %s: %s (root or CAP_NET_ADMIN needed)",
		       ec->tun, sp_strerror(r));
		return r;
	}
	if ((r = io_tun_configure(&ep->tun, ec->tun_addr, ec->tun_plen, ec->mtu)) != 0) {
		SP_ERR(&d->log, "endpoint", "configuring %s: %s", ep->tun.name, sp_strerror(r));
		return r;
	}
	for (unsigned i = 0; i < ec->nroutes; i++)
		if ((r = io_tun_route_add(&ep->tun, ec->routes[i], ec->route_len[i])) != 0) {
			SP_ERR(&d->log, "endpoint", "route %u into %s: %s", i, ep->tun.name,
			       sp_strerror(r));
			return r;
		}
	if ((r = io_ipsock_open(&ep->net, ec->raw, ec->udp ? natt_port : 0, ec->mark)) != 0) {
		SP_ERR(&d->log, "endpoint",
		       "sockets: %s (root or CAP_NET_RAW needed; UDP %u free?)", sp_strerror(r),
		       natt_port);
		return r;
	}
	if ((r = io_loop_add_fd(d->loop, ep->tun.fd, EPOLLIN, on_tun, ep)) != 0)
		return r;
	fds[0] = ep->net.esp_rx;
	fds[1] = ep->net.ah_rx;
	fds[2] = ep->net.udp;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && (r = io_loop_add_fd(d->loop, fds[i], EPOLLIN, on_net, ep)) != 0)
			return r;
	return 0;
}

void spinatd_endpoint_stop(struct spinatd *d)
{
	struct endpoint *ep = d->role_state;

	if (ep == NULL)
		return;
	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &ep->timer);
		if (ep->tun.fd >= 0)
			io_loop_del_fd(d->loop, ep->tun.fd);
		if (ep->net.esp_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.esp_rx);
		if (ep->net.ah_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.ah_rx);
		if (ep->net.udp >= 0)
			io_loop_del_fd(d->loop, ep->net.udp);
	}
	endpoint_ike_stop(d, ep->ike);
	io_tun_close(&ep->tun);
	io_ipsock_close(&ep->net);
	if (ep->registered)
		sp_ctr_unregister(&d->ctrs, &ep->ctrs);
	ipsec_free(ep->e);
	crypto_drbg_free(ep->drbg);
	free(ep);
	d->role_state = NULL;
}

int spinatd_endpoint_start(struct spinatd *d)
{
	struct ipsec_cfg cfg = { .name = d->name,
				 .log = &d->log,
				 .ctrs = &d->ctrs,
				 .pool = &d->pool,
				 .net_out = net_out,
				 .local_out = local_out,
				 .ike_in = ike_in,
				 .event = on_event,
				 .post_unprotect = post_unprotect };
	struct endpoint *ep;
	struct ep_conf ec;
	int r;

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return SP_ENOMEM;
	d->role_state = ep;
	ep->d = d;
	ep->tun.fd = -1;
	ep->net.raw_tx = ep->net.esp_rx = ep->net.ah_rx = ep->net.udp = -1;
	io_timer_init(&ep->timer, on_timer, ep);
	cfg.arg = ep;
	/* Keys, SPIs and CBC IVs from a DRBG seeded by the kernel: no system call per packet. */
	if ((r = crypto_drbg_new_from(&ep->drbg, &io_rng)) != 0)
		return r;
	cfg.rng = crypto_drbg_rng(ep->drbg);
	if ((r = read_endpoint(d->conf, &ec)) != 0 || (r = ipsec_conf_engine(d->conf, &cfg)) != 0)
		return r;
	if ((r = ipsec_new(&ep->e, &cfg)) != 0)
		return r;
	if ((r = ipsec_conf_load(ep->e, d->conf, io_now())) != 0)
		return r;
	if (d->check)
		return endpoint_ike_configured(d->conf)
			       ? endpoint_ike_start(d, ep->e, &ep->net, cfg.rng, &ep->ike)
			       : 0;
	sp_ctrs_init(&ep->ctrs, "endpoint", d->name, ep_ctr_names, ep->ctr, EP_CTR_N);
	sp_ctr_register(&d->ctrs, &ep->ctrs);
	ep->registered = true;
	if ((r = open_io(ep, &ec, cfg.natt_port ? cfg.natt_port : IPSEC_DEFAULT_NATT_PORT)) != 0)
		return r;
	if ((r = io_ctl_add(d->ctl, "show sa", ctl_show_sa, ep,
			    "security associations: keys' transforms, counters, last use")) != 0 ||
	    (r = io_ctl_add(d->ctl, "show policy", ctl_show_policy, ep,
			    "security policies and the SA each one uses now")) != 0)
		return r;
	if (endpoint_ike_configured(d->conf) &&
	    (r = endpoint_ike_start(d, ep->e, &ep->net, cfg.rng, &ep->ike)) != 0)
		return r;
	rearm(ep);
	SP_INFO(&d->log, "endpoint", "cleartext on %s, ESP/AH on %s%s", ep->tun.name,
		ec.raw ? "raw IP" : "", ec.udp ? (ec.raw ? " and UDP" : "UDP") : "");
	return 0;
}

const char spinatd_endpoint_usage[] =
	"    [endpoint]           the local side (all keys optional)\n"
	"      tun = NAME         TUN device carrying cleartext (default spinat0)\n"
	"      tun_address = A/L  address and prefix of the TUN device\n"
	"      mtu = N            its MTU, 576-1700 (default 1400: room for ESP in 1500)\n"
	"      route = NET/LEN    a route into the TUN device; may repeat\n"
	"      raw = yes|no       raw IP sockets for ESP (50) and AH (51) (default yes)\n"
	"      udp = yes|no       the NAT-T UDP socket, RFC 3948 (default yes)\n"
	"      mark = N           SO_MARK on the daemon's sockets, for policy routing\n"
	"    [ipsec]              engine: natt_port (4500), natt_keepalive (20s, 0 off),\n"
	"                         max_sa (1024), bypass_unmatched (no)\n"
	"    [sa NAME]            one SA, manual keys: dir = in|out, spi, src, dst,\n"
	"                         proto = esp|ah, mode = transport|tunnel, enc, enc_key,\n"
	"                         auth, auth_key, esn, replay_window, udp_encap, encap_sport,\n"
	"                         encap_dport, reqid, soft_/hard_bytes, _packets, _time,\n"
	"                         _use_time, asif_src, asif_dst, copy_dscp, ttl\n"
	"      enc:  null, aes-cbc, aes-gcm-8, aes-gcm-12, aes-gcm-16, aes-gmac\n"
	"      auth: none, hmac-sha1-96, hmac-sha256-128, hmac-sha384-192,\n"
	"            hmac-sha512-256, hmac-md5-96\n"
	"    [policy NAME]        traffic selectors and action: src, dst (prefixes),\n"
	"                         protocol, sport, dport, action = esp|ah|bypass|discard,\n"
	"                         mode, reqid, dir = out|in|both, priority\n" ENDPOINT_IKE_USAGE
	"    Control: spinat show sa | show policy | show counters\n"
	"             spinat up|down NAME, spinat rekey NAME [ike] (IKE connections)\n";
