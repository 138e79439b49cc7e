#include "io/ipsock.h"
#include "base/cursor.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	r = errno == EPERM || errno == EACCES ? SP_EPERM : errno == EADDRINUSE ? SP_EBUSY : SP_EIO;
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
}

int io_ipsock_open_dnat(struct io_ipsock *s, uint32_t mark)
{
	/* ICMP_FILTER's bits drop types 0-31; types from 32 (PAP) always pass. */
	struct icmp_filter f = { .data = UINT32_MAX };

	if ((s->ipip_rx = raw_socket(IPPROTO_IPIP, mark)) < 0 ||
	    (s->pap_rx = raw_socket(IPPROTO_ICMP, mark)) < 0 ||
	    setsockopt(s->pap_rx, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) < 0)
		return errno == EPERM || errno == EACCES ? SP_EPERM : SP_EIO;
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
