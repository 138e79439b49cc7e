#include "io/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int io_udp_open(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};
	int one = 1, fd, e;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		e = errno;
		close(fd);
		return e == EACCES || e == EPERM ? SP_EPERM : SP_EIO;
	}
	return fd;
}

int io_udp_recv(int fd, uint8_t *buf, size_t cap, uint32_t *src, uint16_t *sport, uint32_t *dst)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
	};
	ssize_t n;

	*dst = 0;
	if ((n = recvmsg(fd, &m, MSG_DONTWAIT)) < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? SP_EAGAIN : SP_EIO;
	if ((m.msg_flags & MSG_TRUNC) != 0)
		return SP_ENOSPACE;
	*src = ntohl(from.sin_addr.s_addr);
	*sport = ntohs(from.sin_port);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			*dst = ntohl(pi.ipi_addr.s_addr);
		}
	return (int)n;
}

int io_udp_send(int fd, uint32_t dst, uint16_t dport, const uint8_t *buf, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(dport),
		.sin_addr.s_addr = htonl(dst),
	};

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? SP_EAGAIN : SP_EIO;
	return 0;
}

void io_udp_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int io_udp_local(int fd, uint32_t dst, uint32_t *addr, uint16_t *port)
{
	struct sockaddr_in sin, to = {
		.sin_family = AF_INET,
		.sin_port = htons(9),
		.sin_addr.s_addr = htonl(dst),
	};
	socklen_t sl = sizeof(sin);
	int probe;

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		return SP_EIO;
	*port = ntohs(sin.sin_port);
	*addr = ntohl(sin.sin_addr.s_addr);
	if (*addr != 0)
		return 0;
	/* A connected datagram socket learns the route's source address; nothing is sent. */
	if ((probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	sl = sizeof(sin);
	if (connect(probe, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(probe, (struct sockaddr *)&sin, &sl) < 0) {
		close(probe);
		return SP_EIO;
	}
	close(probe);
	*addr = ntohl(sin.sin_addr.s_addr);
	return 0;
}
