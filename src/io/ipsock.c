#include "io/ipsock.h"
#include "base/cursor.h"
#include "io/linkout.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *const io_ipsock_ctr_names[IO_IPSOCK_CTR_N] = { SP_CTR_NAMES(foreach_io_ipsock_ctr) };

/* Room for IP_PKTINFO, UDP_GRO's segment size and SO_RXQ_OVFL's count. */
#define CTL_SPACE                                                          \
	(CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int)) + \
	 CMSG_SPACE(sizeof(uint32_t)))

struct io_ipsock_batch {
	struct pkt *txq[IO_IPSOCK_BATCH];
	unsigned ntx;
	struct mmsghdr msgs[IO_IPSOCK_BATCH];
	struct iovec iov[IO_IPSOCK_BATCH];
	struct sockaddr_in addr[IO_IPSOCK_BATCH];
	struct mmsghdr lmsgs[IO_IPSOCK_BATCH]; /* for the packet socket (link) */
	struct sockaddr_ll ll[IO_IPSOCK_BATCH];
	union {
		char buf[CTL_SPACE];
		struct cmsghdr align;
	} ctl[IO_IPSOCK_BATCH];
};

static int raw_socket(int proto, uint32_t mark)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	if (fd >= 0 && mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int io_ipsock_open(struct io_ipsock *s, bool raw, uint16_t udp_port, uint32_t mark)
{
	int one = 1, r;

	s->raw_tx = s->esp_rx = s->ah_rx = s->udp = s->ipip_rx = s->pap_rx = -1;
	s->udp_port = udp_port;
	if ((s->b = calloc(1, sizeof(*s->b))) == NULL)
		return SP_ENOMEM;
	/* IPPROTO_RAW implies IP_HDRINCL: the packet goes out as built. */
	if ((s->raw_tx = raw_socket(IPPROTO_RAW, mark)) < 0)
		goto fail;
	if (raw && ((s->esp_rx = raw_socket(IPPROTO_ESP, mark)) < 0 ||
		    (s->ah_rx = raw_socket(IPPROTO_AH, mark)) < 0))
		goto fail;
	if (udp_port != 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(udp_port) };

		if ((s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
		    setsockopt(s->udp, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    (mark != 0 &&
		     setsockopt(s->udp, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
		    bind(s->udp, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto fail;
		if ((s->large = malloc(IO_IPSOCK_LARGE)) == NULL) {
			io_ipsock_close(s);
			return SP_ENOMEM;
		}
	}
	return 0;
fail:
	r = sp_errno(errno);
	io_ipsock_close(s);
	return r;
}

void io_ipsock_close(struct io_ipsock *s)
{
	int *fds[] = { &s->raw_tx, &s->esp_rx, &s->ah_rx, &s->udp, &s->ipip_rx, &s->pap_rx };

	for (size_t i = 0; i < SP_NELEM(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(s->large);
	s->large = NULL;
	s->large_len = 0;
	if (s->b != NULL)
		for (unsigned i = 0; i < s->b->ntx; i++)
			pkt_free(s->b->txq[i]);
	free(s->b);
	s->b = NULL;
}

int io_ipsock_open_dnat(struct io_ipsock *s, uint32_t mark)
{
	/* ICMP_FILTER's bits drop types 0-31; types from 32 (PAP) always pass. */
	struct icmp_filter f = { .data = UINT32_MAX };

	if ((s->ipip_rx = raw_socket(IPPROTO_IPIP, mark)) < 0 ||
	    (s->pap_rx = raw_socket(IPPROTO_ICMP, mark)) < 0 ||
	    setsockopt(s->pap_rx, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) < 0)
		return sp_errno(errno);
	return 0;
}

/* A datagram from the UDP socket becomes the IPv4/UDP packet it arrived as. */
static int recv_udp(struct io_ipsock *s, struct pkt *p)
{
	struct sockaddr_in from;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	/* What does not fit the packet spills into s->large, so a large IKE message is not
	 * lost; ESP never gets there (the MTU keeps it smaller). */
	struct iovec iov[2] = { { pkt_data(p), pkt_tailroom(p) },
				{ s->large, s->large != NULL ? IO_IPSOCK_LARGE : 0 } };
	struct msghdr m = { .msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = iov,
			    .msg_iovlen = s->large != NULL ? 2 : 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	ssize_t n = recvmsg(s->udp, &m, 0);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SP_EAGAIN
										 : SP_EIO;
	s->large_len = 0;
	if (m.msg_flags & MSG_TRUNC)
		return SP_ENOSPACE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			h.ip_dst = ntohl(pi.ipi_addr.s_addr);
		}
	h.ip_src = ntohl(from.sin_addr.s_addr);
	if ((size_t)n > pkt_tailroom(p)) {
		size_t head = pkt_tailroom(p);

		/* The whole payload in s->large: the spilled part after the packet's part. */
		memmove(s->large + head, s->large, (size_t)n - head);
		memcpy(s->large, pkt_data(p), head);
		s->large_len = (size_t)n;
		s->large_src = h.ip_src;
		s->large_dst = h.ip_dst;
		s->large_sport = ntohs(from.sin_port);
		return SP_ENOSPACE;
	}
	p->len = (uint32_t)n;
	/* The kernel checked the UDP checksum; the rebuilt header carries none. */
	if (udp_build(p, ntohs(from.sin_port), s->udp_port, h.ip_src, h.ip_dst, false) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0)
		return SP_EIO;
	return 0;
}

int io_ipsock_recv(struct io_ipsock *s, int fd, struct pkt *p)
{
	ssize_t n;

	pkt_reset(p, PKT_HEADROOM);
	if (fd == s->udp)
		return recv_udp(s, p);
	/* Raw IPv4 sockets deliver the IP header too, after reassembly. */
	n = recv(fd, pkt_data(p), pkt_tailroom(p), MSG_TRUNC); /* n: the whole datagram's length */
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SP_EAGAIN
										 : SP_EIO;
	if ((size_t)n > pkt_tailroom(p))
		return SP_ENOSPACE;
	p->len = (uint32_t)n;
	return 0;
}

int io_ipsock_send_udp(struct io_ipsock *s, uint32_t dst, uint16_t dport, const uint8_t *payload,
		       size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(dport),
				  .sin_addr.s_addr = htonl(dst) };

	if (s->udp < 0)
		return SP_ENOTFOUND;
	return sendto(s->udp, payload, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len
		       ? 0
		       : SP_EIO;
}

int io_ipsock_send(struct io_ipsock *s, const struct pkt *p)
{
	const uint8_t *ip = pkt_data(p);
	struct sockaddr_in to = { .sin_family = AF_INET };
	size_t hl;
	ssize_t n;

	if (p->len < IPV4_HDR_MIN)
		return SP_EINVAL;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	to.sin_addr.s_addr = htonl(sp_load_be32(ip + IPV4_OFF_DST));
	if (s->udp >= 0 && ip[IPV4_OFF_PROTO] == IPV4_PROTO_UDP && p->len >= hl + UDP_HDR_LEN &&
	    sp_load_be16(ip + hl + UDP_OFF_SPORT) == s->udp_port)
		/* From the NAT-T socket, so the peer's answers (and its NAT) find it. */
		return io_ipsock_send_udp(s, sp_load_be32(ip + IPV4_OFF_DST),
					  sp_load_be16(ip + hl + UDP_OFF_DPORT),
					  ip + hl + UDP_HDR_LEN, p->len - hl - UDP_HDR_LEN);
	n = sendto(s->raw_tx, ip, p->len, 0, (struct sockaddr *)&to, sizeof(to));
	return n == (ssize_t)p->len ? 0 : SP_EIO;
}

/* ---- batches ---- */

static int set_buf(int fd, int force, int plain, unsigned bytes)
{
	int v = (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v)) == 0 ? 0 : SP_EIO;
}

int io_ipsock_tune(struct io_ipsock *s, unsigned bytes, bool offload)
{
	int fds[] = { s->raw_tx, s->esp_rx, s->ah_rx, s->udp }, one = 1;

	for (size_t i = 0; i < SP_NELEM(fds); i++) {
		if (fds[i] < 0)
			continue;
		if (set_buf(fds[i], SO_RCVBUFFORCE, SO_RCVBUF, bytes) != 0 ||
		    set_buf(fds[i], SO_SNDBUFFORCE, SO_SNDBUF, bytes) != 0 ||
		    (fds[i] != s->raw_tx &&
		     setsockopt(fds[i], SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0))
			return SP_EIO;
	}
	s->gso = s->gro = false;
	if (offload && s->udp >= 0) {
		int zero = 0;

		/* Both since Linux 4.18 and 5.0; without them datagrams go one by one. */
		s->gso = setsockopt(s->udp, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
		s->gro = setsockopt(s->udp, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	}
	return 0;
}

/* The UDP payload length of p when it leaves by the NAT-T socket, else -1. */
static long udp_payload(const struct io_ipsock *s, const struct pkt *p, size_t *hl)
{
	const uint8_t *ip = pkt_data(p);

	*hl = 0;
	if (s->udp < 0 || p->len < IPV4_HDR_MIN || ip[IPV4_OFF_PROTO] != IPV4_PROTO_UDP)
		return -1;
	*hl = (size_t)(ip[0] & 0x0f) * 4;
	if (p->len < *hl + UDP_HDR_LEN || sp_load_be16(ip + *hl + UDP_OFF_SPORT) != s->udp_port)
		return -1;
	return (long)(p->len - *hl - UDP_HDR_LEN);
}

static void count_send_error(struct io_ipsock *s, int e, unsigned n)
{
	s->ctr[e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS ? IO_IPSOCK_CTR_DROP_TX_FULL
							       : IO_IPSOCK_CTR_DROP_TX_ERROR] += n;
}

/* msgs[0..n) through sendmmsg, a failing message counted and skipped. */
static void send_msgs(struct io_ipsock *s, int fd, struct mmsghdr *m, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int r = sendmmsg(fd, m + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		s->ctr[IO_IPSOCK_CTR_TX_CALLS]++;
		if (r <= 0) {
			count_send_error(s, r < 0 ? errno : EIO, 1);
			done++;
			continue;
		}
		s->ctr[IO_IPSOCK_CTR_TX] += (unsigned)r;
		done += (unsigned)r;
	}
}

/* One message of queue entry i: the whole packet to the raw socket, or the UDP payload. */
static void make_msg(struct io_ipsock *s, unsigned i, struct mmsghdr *m, size_t skip)
{
	struct io_ipsock_batch *b = s->b;
	const uint8_t *ip = pkt_data(b->txq[i]);

	b->addr[i] =
		(struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(sp_load_be32(ip + IPV4_OFF_DST)) };
	if (skip != 0)
		b->addr[i].sin_port = htons(sp_load_be16(ip + skip - UDP_HDR_LEN + UDP_OFF_DPORT));
	b->iov[i] = (struct iovec){ (void *)(ip + skip), b->txq[i]->len - skip };
	*m = (struct mmsghdr){ .msg_hdr = { .msg_name = &b->addr[i],
					    .msg_namelen = sizeof(b->addr[i]),
					    .msg_iov = &b->iov[i],
					    .msg_iovlen = 1 } };
}

/* Queue entries [i, j): ESP in UDP to one address and port, all but the last of the
 * first one's size: one sendmsg with UDP_SEGMENT. false: send them otherwise. */
static bool send_gso(struct io_ipsock *s, unsigned i, unsigned j, size_t hl, size_t seg)
{
	struct io_ipsock_batch *b = s->b;
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_name = &b->addr[i],
			    .msg_namelen = sizeof(b->addr[i]),
			    .msg_iov = &b->iov[i],
			    .msg_iovlen = j - i,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	uint16_t gso = (uint16_t)seg;
	ssize_t r;

	for (unsigned k = i; k < j; k++)
		make_msg(s, k, &b->msgs[k], hl + UDP_HDR_LEN);
	memset(&ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(gso));
	memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	do
		r = sendmsg(s->udp, &m, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
		s->gso = false; /* no checksum offload on the route's device: one by one */
		return false;
	}
	s->ctr[IO_IPSOCK_CTR_TX_CALLS]++;
	if (r < 0) {
		count_send_error(s, errno, j - i);
		return true;
	}
	s->ctr[IO_IPSOCK_CTR_TX] += j - i;
	s->ctr[IO_IPSOCK_CTR_TX_GSO]++;
	return true;
}

/* The packet socket's clock: its next hops are looked up again a second apart. */
static uint64_t now_coarse(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void io_ipsock_flush(struct io_ipsock *s)
{
	struct io_ipsock_batch *b = s->b;
	uint64_t now = s->link != NULL ? now_coarse() : 0;
	unsigned i = 0, n = 0;

	/* Packets withdrawn after they were queued (length 0; the owner counted why). */
	for (unsigned k = 0; k < b->ntx; k++) {
		if (b->txq[k]->len == 0)
			pkt_free(b->txq[k]);
		else
			b->txq[n++] = b->txq[k];
	}
	while (i < n) {
		size_t hl, hl2;
		long len = udp_payload(s, b->txq[i], &hl), l2;
		unsigned j = i + 1;

		if (len < 0) {
			/* A run of packets for the raw socket, or the packet socket: each
			 * socket's share sent before the other's next packet, in order. */
			unsigned m = 0, l = 0;

			while (j < n && udp_payload(s, b->txq[j], &hl2) < 0)
				j++;
			for (unsigned k = i; k < j; k++) {
				struct pkt *p = b->txq[k];

				if (s->link == NULL || !io_linkout_route(s->link, pkt_data(p),
									 p->len, now, &b->ll[k])) {
					if (l > 0)
						send_msgs(s, io_linkout_fd(s->link), b->lmsgs, l);
					l = 0;
					make_msg(s, k, &b->msgs[m++], 0);
					continue;
				}
				if (m > 0)
					send_msgs(s, s->raw_tx, b->msgs, m);
				m = 0;
				b->iov[k] = (struct iovec){ pkt_data(p), p->len };
				b->lmsgs[l++] =
					(struct mmsghdr){ .msg_hdr = { .msg_name = &b->ll[k],
								       .msg_namelen =
									       sizeof(b->ll[k]),
								       .msg_iov = &b->iov[k],
								       .msg_iovlen = 1 } };
			}
			if (m > 0)
				send_msgs(s, s->raw_tx, b->msgs, m);
			if (l > 0)
				send_msgs(s, io_linkout_fd(s->link), b->lmsgs, l);
		} else {
			const uint8_t *ip = pkt_data(b->txq[i]);
			size_t total = (size_t)len;

			/* A run for the UDP socket; with GSO, as long as it can be one send. */
			while (j < n && (l2 = udp_payload(s, b->txq[j], &hl2)) >= 0 &&
			       (!s->gso || j - i < IO_IPSOCK_BATCH)) {
				const uint8_t *ip2 = pkt_data(b->txq[j]);

				if (s->gso &&
				    (hl2 != hl || l2 > len ||
				     udp_payload(s, b->txq[j - 1], &hl2) != len ||
				     memcmp(ip2 + IPV4_OFF_DST, ip + IPV4_OFF_DST, 4) != 0 ||
				     memcmp(ip2 + hl + UDP_OFF_DPORT, ip + hl + UDP_OFF_DPORT, 2) !=
					     0 ||
				     total + (size_t)l2 > 65000))
					break;
				total += (size_t)l2;
				j++;
			}
			if (!s->gso || j - i < 2 || len == 0 ||
			    !send_gso(s, i, j, hl, (size_t)len)) {
				for (unsigned k = i; k < j; k++) {
					size_t h = 0;

					(void)udp_payload(s, b->txq[k], &h);
					make_msg(s, k, &b->msgs[k], h + UDP_HDR_LEN);
				}
				send_msgs(s, s->udp, &b->msgs[i], j - i);
			}
		}
		i = j;
	}
	for (i = 0; i < n; i++)
		pkt_free(b->txq[i]);
	b->ntx = 0;
}

unsigned io_ipsock_queued(const struct io_ipsock *s)
{
	return s->b->ntx;
}

void io_ipsock_queue(struct io_ipsock *s, struct pkt *p)
{
	if (s->b->ntx == IO_IPSOCK_BATCH)
		io_ipsock_flush(s);
	s->b->txq[s->b->ntx++] = p;
}

/* SO_RXQ_OVFL: the socket's drop count so far; what it grew by is counted. */
static void rx_ovfl(struct io_ipsock *s, int fd, struct msghdr *m, int *gso, uint32_t *dst)
{
	uint32_t *last = fd == s->esp_rx  ? &s->ovfl[0]
			 : fd == s->ah_rx ? &s->ovfl[1]
			 : fd == s->udp	  ? &s->ovfl[2]
					  : &s->ovfl[3];

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			s->ctr[IO_IPSOCK_CTR_DROP_RX_QUEUE] += (uint32_t)(v - *last);
			*last = v;
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && gso != NULL) {
			memcpy(gso, CMSG_DATA(c), sizeof(*gso));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   dst != NULL) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			*dst = ntohl(pi.ipi_addr.s_addr);
		}
	}
}

static int recv_errno(struct io_ipsock *s)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return SP_EAGAIN;
	s->ctr[IO_IPSOCK_CTR_DROP_RX_ERROR]++;
	return SP_EIO;
}

/* Raw ESP or AH: whole IPv4 packets, up to max per recvmmsg. */
static int recv_raw_batch(struct io_ipsock *s, int fd, struct pkt_pool *pool, struct pkt **out,
			  unsigned max)
{
	struct io_ipsock_batch *b = s->b;
	struct pkt *p[IO_IPSOCK_BATCH];
	unsigned k = 0, m = 0;
	int r;

	while (k < max && (p[k] = pkt_alloc(pool)) != NULL) {
		b->iov[k] = (struct iovec){ pkt_data(p[k]), pkt_tailroom(p[k]) };
		b->msgs[k] =
			(struct mmsghdr){ .msg_hdr = { .msg_iov = &b->iov[k],
						       .msg_iovlen = 1,
						       .msg_control = b->ctl[k].buf,
						       .msg_controllen = sizeof(b->ctl[k].buf) } };
		k++;
	}
	if (k == 0)
		return SP_ENOMEM;
	r = recvmmsg(fd, b->msgs, k, MSG_DONTWAIT, NULL);
	if (r < 0)
		r = recv_errno(s);
	else
		s->ctr[IO_IPSOCK_CTR_RX_CALLS]++;
	for (unsigned i = 0; i < k; i++) {
		if (r < 0 || i >= (unsigned)r) {
			pkt_free(p[i]);
			continue;
		}
		rx_ovfl(s, fd, &b->msgs[i].msg_hdr, NULL, NULL);
		if ((b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
			s->truncated++;
			pkt_free(p[i]);
			continue;
		}
		p[i]->len = b->msgs[i].msg_len;
		out[m++] = p[i];
	}
	s->ctr[IO_IPSOCK_CTR_RX] += m;
	return r < 0 ? r : (int)m;
}

/* The NAT-T socket: one datagram, or one the kernel coalesced (UDP GRO) split into its
 * datagrams of gso bytes each (the last may be shorter). */
static int recv_udp_batch(struct io_ipsock *s, struct pkt_pool *pool, struct pkt **out,
			  unsigned max)
{
	struct pkt *p = pkt_alloc(pool);
	struct sockaddr_in from;
	union {
		char buf[CTL_SPACE];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2];
	struct msghdr m = { .msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	const uint8_t *data;
	size_t head, n, seg;
	uint16_t sport;
	unsigned cnt = 0;
	int gso = 0;
	ssize_t r;

	if (p == NULL)
		return SP_ENOMEM;
	head = pkt_tailroom(p);
	iov[0] = (struct iovec){ pkt_data(p), head };
	iov[1] = (struct iovec){ s->large, IO_IPSOCK_LARGE };
	if ((r = recvmsg(s->udp, &m, MSG_DONTWAIT)) < 0) {
		pkt_free(p);
		return recv_errno(s);
	}
	s->ctr[IO_IPSOCK_CTR_RX_CALLS]++;
	s->large_len = 0;
	rx_ovfl(s, s->udp, &m, &gso, &h.ip_dst);
	if ((m.msg_flags & MSG_TRUNC) != 0) {
		pkt_free(p);
		s->truncated++;
		return 0;
	}
	n = (size_t)r;
	h.ip_src = ntohl(from.sin_addr.s_addr);
	sport = ntohs(from.sin_port);
	if (n > head) {
		/* Whole in s->large: the packet's part in front of the rest. */
		memmove(s->large + head, s->large, n - head);
		memcpy(s->large, pkt_data(p), head);
		data = s->large;
	} else {
		data = pkt_data(p);
	}
	seg = gso > 0 && (size_t)gso < n ? (size_t)gso : n;
	if (seg > head) {
		/* One datagram longer than a packet buffer: an IKE message with a
		 * certificate chain, which the caller takes from s->large. */
		pkt_free(p);
		s->large_len = n;
		s->large_src = h.ip_src;
		s->large_dst = h.ip_dst;
		s->large_sport = sport;
		return SP_ENOSPACE;
	}
	if (seg < n)
		s->ctr[IO_IPSOCK_CTR_RX_GRO]++;
	/* Segments after the first into packets of their own, then the first into p
	 * (which may be where they all are). */
	for (size_t off = seg; off < n; off += seg) {
		size_t len = n - off < seg ? n - off : seg;
		struct pkt *q;

		if (cnt + 2 > max || (q = pkt_alloc(pool)) == NULL) {
			s->ctr[IO_IPSOCK_CTR_DROP_RX_NO_BUFFER] += (n - off + seg - 1) / seg;
			break;
		}
		memcpy(pkt_data(q), data + off, len);
		q->len = (uint32_t)len;
		out[++cnt] = q;
	}
	if (data != pkt_data(p))
		memcpy(pkt_data(p), data, seg);
	p->len = (uint32_t)seg;
	out[0] = p;
	cnt++;
	for (unsigned i = 0; i < cnt; i++) {
		/* The kernel checked the UDP checksum; the rebuilt header carries none. */
		if (udp_build(out[i], sport, s->udp_port, h.ip_src, h.ip_dst, false) != 0 ||
		    ipv4_build(out[i], &h, NULL, 0) != 0) {
			for (unsigned k = 0; k < cnt; k++)
				pkt_free(out[k]);
			s->truncated += cnt;
			return 0;
		}
	}
	s->ctr[IO_IPSOCK_CTR_RX] += cnt;
	return (int)cnt;
}

int io_ipsock_recv_batch(struct io_ipsock *s, int fd, struct pkt_pool *pool, struct pkt **out,
			 unsigned max)
{
	s->truncated = 0;
	if (max > IO_IPSOCK_BATCH)
		max = IO_IPSOCK_BATCH;
	if (max == 0)
		return 0;
	if (fd == s->udp)
		return recv_udp_batch(s, pool, out, max);
	return recv_raw_batch(s, fd, pool, out, max);
}
