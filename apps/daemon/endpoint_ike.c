/*
 * The endpoint role's IKE: its UDP socket, key log and control commands around the IKE
 * instance of the endpoint stack (host/endpoint.h).
 */
#include "endpoint_ike.h"

#include "crypto/x509.h"
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
	struct endpoint *stack;
	void (*changed)(void *arg); /* the stack's deadline may have moved */
	void *changed_arg;
	int fd; /* UDP 500 (the [ike] port) */
	uint16_t port, natt_port;
	uint32_t mark;
	FILE *keylog;
	const char *keylog_path;
	uint8_t *buf;
	struct sp_ratelimit warn_rl; /* failed exchanges: a peer that fails AUTH can repeat */
	sp_time crl_timeout;	     /* [ike] crl_timeout: one CRL fetch at most this long */
};

bool endpoint_ike_configured(struct conf *c)
{
	return conf_next(c, NULL, "conn") != NULL;
}

static int send_500(struct endpoint_ike *x, const struct ike_path *path, const uint8_t *msg,
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
	if (sendmsg(x->fd, &mh, 0) < 0) {
		SP_DEBUG(&x->d->log, "ike", "sendmsg: %s", strerror(errno));
		return SP_EIO;
	}
	return 0;
}

/* CRL distribution points (crl_fetch = yes): the fetch blocks the daemon for at most
 * crl_timeout, once per URI and crl_refetch, and only for chains our anchors vouch for. */
int endpoint_ike_crl_fetch(struct endpoint_ike *x, const char *uri, uint8_t **crl, size_t *len)
{
	char err[256];
	int r;

	if ((r = io_http_get(uri, x->crl_timeout, CRYPTO_CRL_MAX, crl, len, err, sizeof(err))) != 0)
		SP_WARN(&x->d->log, "ike", "CRL from %s: %s", uri, err);
	else
		SP_INFO(&x->d->log, "ike", "CRL from %s: %zu octets", uri, *len);
	return r;
}

bool endpoint_ike_send(struct endpoint_ike *x, const struct pkt *p)
{
	struct ike_path path;
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	cur_init(&c, pkt_data(p), p->len);
	if (x == NULL || x->fd < 0 || ipv4_parse(&c, &h) != 0 || h.ip_proto != IPV4_PROTO_UDP ||
	    ipv4_is_fragment(&h) || udp_parse(&c, &u) != 0 || u.udp_sport != x->port)
		return false;
	path = (struct ike_path){ h.ip_src, h.ip_dst, u.udp_sport, u.udp_dport };
	send_500(x, &path, cur_ptr(&c), u.udp_len - UDP_HDR_LEN);
	return true;
}

int endpoint_ike_send_long(struct endpoint_ike *x, const struct ike_path *path, const uint8_t *msg,
			   size_t len)
{
	if (x == NULL || x->fd < 0 || path->local_port != x->port)
		return SP_ENOTFOUND;
	return send_500(x, path, msg, len);
}

void endpoint_ike_warn(struct endpoint_ike *x, const struct ike_event *ev)
{
	/* The module logs each step itself; failures are worth a warning here, as many as
	 * the bucket lets through (anyone can fail IKE_AUTH). */
	if (ev->type == IKE_EV_PEER_SILENT || ev->type == IKE_EV_AUTH_FAILED ||
	    ev->type == IKE_EV_CONNECT_FAILED)
		sp_logf_rl(&x->d->log, &x->warn_rl, io_now(), SP_LOG_WARN, "ike", "%s: %s",
			   ev->conn ? ev->conn : "?", ev->reason ? ev->reason : "failed");
}

void endpoint_ike_keylog(struct endpoint_ike *x, const struct ike_keylog *k)
{
	if (x->keylog != NULL) {
		ike_keylog_wireshark(x->keylog, k);
		fflush(x->keylog);
	}
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
		endpoint_ike_input(x->stack, io_now(), &path, x->buf, (size_t)n);
	}
	x->changed(x->changed_arg);
}

static int ctl_show_guard(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct endpoint_ike *x = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show guard");
		return SP_EINVAL;
	}
	if (endpoint_module_show(x->stack, "guard", io_now(), out) == SP_ENOTFOUND)
		fprintf(out, "no connection has epoch_guard set\n");
	return 0;
}

static int ctl_show_lease(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct endpoint_ike *x = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show lease");
		return SP_EINVAL;
	}
	if (endpoint_module_show(x->stack, "lease", io_now(), out) == SP_ENOTFOUND)
		fprintf(out, "no connection has lease set\n");
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
	x->changed(x->changed_arg);
	return r;
}

static int do_up(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	(void)ike_sa;
	return ike_up(endpoint_ike(x->stack), io_now(), n);
}

static int do_down(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	(void)ike_sa;
	return ike_down(endpoint_ike(x->stack), io_now(), n);
}

static int do_rekey(struct endpoint_ike *x, const char *n, bool ike_sa)
{
	return ike_rekey(endpoint_ike(x->stack), io_now(), n, ike_sa);
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

static int open_udp(struct endpoint_ike *x)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(x->port) };
	int one = 1;

	if ((x->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(x->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    (x->mark != 0 &&
	     setsockopt(x->fd, SOL_SOCKET, SO_MARK, &x->mark, sizeof(x->mark)) < 0) ||
	    bind(x->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return errno == EPERM || errno == EACCES ? SP_EPERM
		       : errno == EADDRINUSE		 ? SP_EBUSY
							 : SP_EIO;
	return 0;
}

int endpoint_ike_new(struct spinatd *d, struct endpoint_ike **out)
{
	struct conf_sec *g = conf_find(d->conf, "ike", NULL);
	struct conf_sec *ep = conf_find(d->conf, "endpoint", NULL);
	struct endpoint_ike *x;
	uint64_t port = UDP_PORT_IKE, natt = UDP_PORT_IKE_NATT;
	int r;

	if ((*out = x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	x->d = d;
	x->fd = -1;
	x->crl_timeout = SP_SEC(3);
	/* The keys IKE itself does not read: where the daemon writes the key log, how long a
	 * CRL fetch may block it, and the endpoint's socket mark (its IKE socket carries it
	 * too, as policy routing expects). */
	if ((g != NULL &&
	     ((r = conf_get_str(g, "keylog", NULL, &x->keylog_path)) != 0 ||
	      (r = conf_get_u64(g, "port", UDP_PORT_IKE, 1, 65535, &port)) != 0 ||
	      (r = conf_get_u64(g, "natt_port", UDP_PORT_IKE_NATT, 1, 65535, &natt)) != 0 ||
	      (r = conf_get_time(g, "crl_timeout", SP_SEC(3), &x->crl_timeout)) != 0)) ||
	    (ep != NULL && (r = conf_get_u32(ep, "mark", 0, 0, UINT32_MAX, &x->mark)) != 0))
		return r;
	x->port = (uint16_t)port;
	x->natt_port = (uint16_t)natt;
	return 0;
}

int endpoint_ike_open(struct endpoint_ike *x, struct endpoint *stack, void (*changed)(void *arg),
		      void *arg)
{
	struct spinatd *d = x->d;
	int r;

	x->stack = stack;
	x->changed = changed;
	x->changed_arg = arg;
	if (x->keylog_path != NULL && (x->keylog = fopen(x->keylog_path, "a")) == NULL) {
		SP_ERR(&d->log, "ike", "keylog %s: %s", x->keylog_path, strerror(errno));
		return SP_EIO;
	}
	if ((x->buf = malloc(IKE_RECV_MAX)) == NULL)
		return SP_ENOMEM;
	if ((r = open_udp(x)) != 0) {
		SP_ERR(&d->log, "ike", "UDP port %u: %s%s", x->port, sp_strerror(r),
		       r == SP_EBUSY ? " (another IKE daemon, e.g. spinatd or charon, holds it)"
				     : " (root or CAP_NET_BIND_SERVICE needed)");
		return r;
	}
	if ((r = io_loop_add_fd(d->loop, x->fd, EPOLLIN, on_udp, x)) != 0 ||
	    (r = io_ctl_add(d->ctl, "up", ctl_up, x, "bring up the IKE connection NAME")) != 0 ||
	    (r = io_ctl_add(d->ctl, "down", ctl_down, x, "delete the IKE SA of NAME")) != 0 ||
	    (r = io_ctl_add(d->ctl, "rekey", ctl_rekey, x,
			    "rekey the CHILD SAs of NAME (with 'ike': its IKE SA too)")) != 0 ||
	    (r = io_ctl_add(d->ctl, "show guard", ctl_show_guard, x,
			    "003's epoch guard: each tunnel's epochs, phase and counters")) != 0 ||
	    (r = io_ctl_add(d->ctl, "show lease", ctl_show_lease, x,
			    "001's lease client: the leases held from the NAT")) != 0)
		return r;
	SP_INFO(&d->log, "ike", "IKEv2 on UDP %u and %u", x->port, x->natt_port);
	return 0;
}

void endpoint_ike_free(struct spinatd *d, struct endpoint_ike *x)
{
	if (x == NULL)
		return;
	if (d->loop != NULL && x->fd >= 0)
		io_loop_del_fd(d->loop, x->fd);
	if (x->fd >= 0)
		close(x->fd);
	if (x->keylog != NULL)
		fclose(x->keylog);
	free(x->buf);
	free(x);
}
