/*
 * The endpoint role's IKE: sockets, timer and control commands around the sans-IO module.
 */
#include "endpoint_ike.h"

#include "base/addr.h"
#include "crypto/x509.h"
#include "host/host_guard_ep.h"
#include "ike/ike.h"
#include "ike/ike_ipsec.h"
#include "io/http.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IKE_RECV_MAX 65535
#define IKE_BATCH    32

struct endpoint_ike {
	struct spinatd *d;
	struct ike *ike;
	struct ipsec *e;
	struct io_ipsock *net;
	int fd; /* UDP 500 (the [ike] port) */
	uint16_t port, natt_port;
	struct io_timer timer;
	FILE *keylog;
	uint8_t *buf;
	struct host_guard_ep *guard; /* 003's epoch guard, when a connection has one */
	sp_time crl_timeout;	     /* [ike] crl_timeout: one CRL fetch at most this long */
	bool started;		     /* ike_start() ran, from the running event loop */
};

/* CRL distribution points (crl_fetch = yes): the fetch blocks the daemon for at most
 * crl_timeout, once per URI and crl_refetch, and only for chains our anchors vouch for. */
static int crl_fetch(void *arg, const char *uri, uint8_t **crl, size_t *len)
{
	struct endpoint_ike *x = arg;
	char err[256];
	int r;

	if ((r = io_http_get(uri, x->crl_timeout, CRYPTO_CRL_MAX, crl, len, err, sizeof(err))) != 0)
		SP_WARN(&x->d->log, "ike", "CRL from %s: %s", uri, err);
	else
		SP_INFO(&x->d->log, "ike", "CRL from %s: %zu octets", uri, *len);
	return r;
}

bool endpoint_ike_configured(struct conf *c)
{
	return conf_next(c, NULL, "conn") != NULL;
}

static void rearm(struct endpoint_ike *x)
{
	sp_time t = x->started ? ike_next_deadline(x->ike) : 0;

	if (x->guard != NULL)
		t = sp_time_min(t, host_guard_ep_next_deadline(x->guard));
	if (x->d->loop != NULL && io_timer_arm(x->d->loop, &x->timer, t) != 0)
		SP_ERR(&x->d->log, "ike", "cannot arm the timer");
}

static void send_500(struct endpoint_ike *x, const struct ike_path *path, const uint8_t *msg,
		     size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct iovec iov = { (void *)msg, len };
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct msghdr mh = {
		.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1
	};

	to.sin_addr.s_addr = htonl(path->remote_addr);
	to.sin_port = htons(path->remote_port);
	if (path->local_addr != 0) {
		/* Send from the address IKE's NAT detection hashed (RFC 7296 2.23). */
		struct cmsghdr *cm;
		struct in_pktinfo pi = { 0 };

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		pi.ipi_spec_dst.s_addr = htonl(path->local_addr);
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(x->fd, &mh, 0) < 0)
		SP_DEBUG(&x->d->log, "ike", "sendmsg: %s", strerror(errno));
}

static void ike_out(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	struct endpoint_ike *x = arg;
	struct ipv4_hdr h = { 0 };
	struct pkt *p;

	if (path->local_port == x->port) {
		send_500(x, path, msg, len);
		return;
	}
	if (x->net->udp >= 0) {
		/* The NAT-T port is the endpoint's UDP socket: straight out of it, whatever
		 * the size (a certificate chain makes IKE_AUTH larger than a packet buffer). */
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(path->remote_port),
					  .sin_addr.s_addr = htonl(path->remote_addr) };

		if (sendto(x->net->udp, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			SP_DEBUG(&x->d->log, "ike", "sendto on the NAT-T port: %s",
				 strerror(errno));
		return;
	}
	/* No NAT-T socket (udp = no): a whole packet for the raw socket. */
	if ((p = pkt_alloc(&x->d->pool)) == NULL)
		return;
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = path->local_addr;
	h.ip_dst = path->remote_addr;
	if (pkt_append(p, msg, (uint32_t)len) != 0 ||
	    udp_build(p, path->local_port, path->remote_port, h.ip_src, h.ip_dst, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0 || io_ipsock_send(x->net, p) != 0)
		SP_DEBUG(&x->d->log, "ike", "sending on the NAT-T port failed");
	pkt_free(p);
}

static void ike_event(void *arg, const struct ike_event *ev)
{
	struct endpoint_ike *x = arg;

	/* The module logs each step itself; failures are worth a warning here. */
	if (ev->type == IKE_EV_PEER_SILENT || ev->type == IKE_EV_AUTH_FAILED ||
	    ev->type == IKE_EV_CONNECT_FAILED)
		SP_WARN(&x->d->log, "ike", "%s: %s", ev->conn ? ev->conn : "?",
			ev->reason ? ev->reason : "failed");
	if (x->guard != NULL)
		host_guard_ep_event(x->guard, io_now(), ev);
}

static void keylog(void *arg, const struct ike_keylog *k)
{
	struct endpoint_ike *x = arg;

	if (x->keylog != NULL) {
		ike_keylog_wireshark(x->keylog, k);
		fflush(x->keylog);
	}
}

static void on_timer(struct io_loop *loop, void *arg)
{
	struct endpoint_ike *x = arg;

	(void)loop;
	if (!x->started) {
		/* From the loop, not during start-up: the answers to our first requests are
		 * read as they come, not after the rest of the start-up made us retransmit. */
		x->started = true;
		ike_start(x->ike, io_now());
	}
	ike_tick(x->ike, io_now());
	if (x->guard != NULL)
		host_guard_ep_tick(x->guard, io_now());
	rearm(x);
}

static void on_udp(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct endpoint_ike *x = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < IKE_BATCH; i++) {
		struct sockaddr_in from;
		struct iovec iov = { x->buf, IKE_RECV_MAX };
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct msghdr mh = { .msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct ike_path path = { 0 };
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				path.local_addr = ntohl(pi.ipi_addr.s_addr);
			}
		path.local_port = x->port;
		path.remote_addr = ntohl(from.sin_addr.s_addr);
		path.remote_port = ntohs(from.sin_port);
		ike_input(x->ike, io_now(), &path, x->buf, (size_t)n);
	}
	rearm(x);
}

void endpoint_ike_natt_in(struct endpoint_ike *x, struct pkt *p, uint32_t src, uint32_t dst,
			  uint16_t sport, uint16_t dport)
{
	struct ike_path path = { dst, src, dport, sport };

	/* ike_input() takes the UDP payload as it arrived, marker included. */
	if (p->len + 4 <= IKE_RECV_MAX) {
		memset(x->buf, 0, 4);
		memcpy(x->buf + 4, pkt_data(p), p->len);
		ike_input(x->ike, io_now(), &path, x->buf, p->len + 4u);
	}
	pkt_free(p);
	rearm(x);
}

bool endpoint_ike_natt_large(struct endpoint_ike *x, const struct io_ipsock *net)
{
	struct ike_path path = { net->large_dst, net->large_src, net->udp_port, net->large_sport };

	if (net->large_len < 4 || sp_load_be32(net->large) != 0)
		return false; /* not IKE: ESP this large is a truncation */
	ike_input(x->ike, io_now(), &path, net->large, net->large_len);
	rearm(x);
	return true;
}

void endpoint_ike_event(struct endpoint_ike *x, const struct ipsec_event *ev)
{
	ike_ipsec_event(x->ike, io_now(), ev);
	rearm(x);
}

void endpoint_ike_show(struct endpoint_ike *x, FILE *out)
{
	ike_show(x->ike, io_now(), out);
}

void endpoint_ike_note_rx(struct endpoint_ike *x, const struct sa *sa)
{
	if (x->guard != NULL)
		host_guard_ep_note_rx(x->guard, sa);
}

bool endpoint_ike_local(struct endpoint_ike *x, struct pkt *p)
{
	bool taken;

	if (x->guard == NULL)
		return false;
	taken = host_guard_ep_local(x->guard, io_now(), p);
	rearm(x); /* a switch or an answered ping moves the guard's timers */
	return taken;
}

static int ctl_show_guard(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct endpoint_ike *x = arg;
	struct host_guard_stats st;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show guard");
		return SP_EINVAL;
	}
	if (x->guard == NULL) {
		fprintf(out, "no connection has epoch_guard set\n");
		return 0;
	}
	host_guard_show(host_guard_ep_guard(x->guard), io_now(), out);
	host_guard_stats(host_guard_ep_guard(x->guard), &st);
	for (unsigned i = 0; i < HOST_GUARD_CTR_N; i++)
		fprintf(out, "  %s %llu\n", host_guard_ctr_name((enum host_guard_ctr)i),
			(unsigned long long)st.ctr[i]);
	return 0;
}

static int ctl_conn(struct endpoint_ike *x, int argc, char **argv, FILE *err, const char *verb,
		    int (*fn)(struct endpoint_ike *, const char *, bool))
{
	bool ike_sa = argc == 2 && strcmp(argv[1], "ike") == 0;
	int r;

	if (argc < 1 || argc > 2 || (argc == 2 && !ike_sa)) {
		fprintf(err, "usage: %s NAME%s", verb, strcmp(verb, "rekey") == 0 ? " [ike]" : "");
		return SP_EINVAL;
	}
	if ((r = fn(x, argv[0], ike_sa)) == SP_ENOTFOUND)
		fprintf(err, "no connection '%s' (spinat show sa lists them)", argv[0]);
	else if (r != 0)
		fprintf(err, "%s %s: %s", verb, argv[0], sp_strerror(r));
	rearm(x);
	return r;
}

static int do_up(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	(void)ike_sa;
	return ike_up(x->ike, io_now(), n);
}

static int do_down(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	(void)ike_sa;
	return ike_down(x->ike, io_now(), n);
}

static int do_rekey(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	return ike_rekey(x->ike, io_now(), n, ike_sa);
}

static int ctl_up(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	return ctl_conn(arg, argc, argv, err, "up", do_up);
}

static int ctl_down(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	return ctl_conn(arg, argc, argv, err, "down", do_down);
}

static int ctl_rekey(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	return ctl_conn(arg, argc, argv, err, "rekey", do_rekey);
}

static int open_udp(struct endpoint_ike *x, uint32_t mark)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(x->port) };
	int one = 1;

	if ((x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(x->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(x->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (mark != 0 && setsockopt(x->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    bind(x->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return errno == EPERM || errno == EACCES ? SP_EPERM : SP_EIO;
	return 0;
}

int endpoint_ike_start(struct spinatd *d, struct ipsec *e, struct io_ipsock *net,
		       struct sp_rng *rng, struct endpoint_ike **out)
{
	struct conf_sec *g = conf_find(d->conf, "ike", NULL);
	struct conf_sec *ep = conf_find(d->conf, "endpoint", NULL);
	struct ike_params p = { 0 };
	struct host_guard_ep_params gp = { 0 };
	struct endpoint_ike *x;
	const char *klog = NULL;
	uint32_t mark = 0;
	uint64_t port = UDP_PORT_IKE, natt = UDP_PORT_IKE_NATT;
	sp_time crl_timeout = SP_SEC(3);
	int r;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL || (x->buf = malloc(IKE_RECV_MAX)) == NULL) {
		free(x);
		return SP_ENOMEM;
	}
	x->d = d;
	x->e = e;
	x->net = net;
	x->fd = -1;
	io_timer_init(&x->timer, on_timer, x);
	*out = x;
	/* The keys IKE itself does not read: where the daemon writes the key log, and the
	 * endpoint's socket mark (its IKE socket carries it too, as policy routing expects). */
	if ((g != NULL &&
	     ((r = conf_get_str(g, "keylog", NULL, &klog)) != 0 ||
	      (r = conf_get_u64(g, "port", UDP_PORT_IKE, 1, 65535, &port)) != 0 ||
	      (r = conf_get_u64(g, "natt_port", UDP_PORT_IKE_NATT, 1, 65535, &natt)) != 0 ||
	      (r = conf_get_time(g, "crl_timeout", SP_SEC(3), &crl_timeout)) != 0)) ||
	    (ep != NULL && (r = conf_get_u32(ep, "mark", 0, 0, UINT32_MAX, &mark)) != 0))
		return r;
	x->port = (uint16_t)port;
	x->natt_port = (uint16_t)natt;
	p.name = d->name;
	p.log = &d->log;
	p.ctrs = d->check ? NULL : &d->ctrs;
	p.rng = rng;
	p.output = ike_out;
	p.output_arg = x;
	p.event = ike_event;
	p.event_arg = x;
	p.keylog = keylog;
	p.keylog_arg = x;
	x->crl_timeout = crl_timeout;
	p.crl_fetch = crl_fetch;
	p.crl_fetch_arg = x;
	ike_ipsec_ops(e, &p.kernel);
	if ((r = ike_new(&p, d->conf, &x->ike)) != 0)
		return r;
	gp.name = d->name;
	gp.log = &d->log;
	gp.ctrs = d->check ? NULL : &d->ctrs;
	gp.rng = rng;
	gp.pool = &d->pool;
	if ((r = host_guard_ep_new(&gp, d->conf, x->ike, e, &x->guard)) != 0)
		return r;
	if (d->check)
		return 0;
	if (klog != NULL && (x->keylog = fopen(klog, "a")) == NULL) {
		SP_ERR(&d->log, "ike", "keylog %s: %s", klog, strerror(errno));
		return SP_EIO;
	}
	if ((r = open_udp(x, mark)) != 0) {
		SP_ERR(&d->log, "ike", "UDP port %u: %s (root needed; port free?)", x->port,
		       sp_strerror(r));
		return r;
	}
	if ((r = io_loop_add_fd(d->loop, x->fd, EPOLLIN, on_udp, x)) != 0 ||
	    (r = io_ctl_add(d->ctl, "up", ctl_up, x, "bring up the IKE connection NAME")) != 0 ||
	    (r = io_ctl_add(d->ctl, "down", ctl_down, x, "delete the IKE SA of NAME")) != 0 ||
	    (r = io_ctl_add(d->ctl, "rekey", ctl_rekey, x,
			    "rekey the CHILD SAs of NAME (with 'ike': its IKE SA too)")) != 0 ||
	    (r = io_ctl_add(d->ctl, "show guard", ctl_show_guard, x,
			    "003's epoch guard: each tunnel's epochs, phase and counters")) != 0)
		return r;
	rearm(x); /* the first timer starts the auto = start connections */
	SP_INFO(&d->log, "ike", "IKEv2 on UDP %u and %u", x->port, x->natt_port);
	return 0;
}

void endpoint_ike_stop(struct spinatd *d, struct endpoint_ike *x)
{
	if (x == NULL)
		return;
	/* An orderly stop tells every peer (RFC 7296 1.4.1), while the sockets are open. */
	if (x->ike != NULL && !d->check)
		ike_shutdown(x->ike, io_now());
	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &x->timer);
		if (x->fd >= 0)
			io_loop_del_fd(d->loop, x->fd);
	}
	if (x->fd >= 0)
		close(x->fd);
	host_guard_ep_free(x->guard);
	ike_free(x->ike);
	if (x->keylog != NULL)
		fclose(x->keylog);
	free(x->buf);
	free(x);
}
