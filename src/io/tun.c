#include "io/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int io_tun_open(struct io_tun *t, const char *name)
{
	struct ifreq ifr;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (strlen(name) >= IFNAMSIZ)
		return SP_EINVAL;
	if ((t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == EACCES || errno == EPERM ? SP_EPERM
		       : errno == ENOENT		 ? SP_ENOTFOUND
							 : SP_EIO;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		close(t->fd);
		t->fd = -1;
		return errno == EPERM || errno == EACCES ? SP_EPERM
		       : errno == EBUSY			 ? SP_EBUSY
							 : SP_EIO;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	return 0;
}

void io_tun_close(struct io_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
}

int io_tun_configure(struct io_tun *t, uint32_t addr, uint8_t plen, unsigned mtu)
{
	struct ifreq ifr;
	int s, r = SP_EIO;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	if (addr != 0) {
		set_sin(&ifr.ifr_addr, addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			goto out;
		set_sin(&ifr.ifr_netmask, plen == 0 ? 0 : 0xffffffffu << (32 - plen));
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			goto out;
	}
	if (mtu != 0) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		goto out;
	r = 0;
out:
	close(s);
	return r;
}

int io_tun_route_add(struct io_tun *t, uint32_t net, uint8_t plen)
{
	struct rtentry rt;
	int s, r = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, net);
	set_sin(&rt.rt_genmask, plen == 0 ? 0 : 0xffffffffu << (32 - plen));
	rt.rt_flags = RTF_UP | (plen == 32 ? RTF_HOST : 0);
	rt.rt_dev = t->name;
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		r = SP_EIO;
	close(s);
	return r;
}

int io_tun_read(struct io_tun *t, struct pkt *p)
{
	ssize_t n;

	pkt_reset(p, PKT_HEADROOM);
	n = read(t->fd, pkt_data(p), pkt_tailroom(p));
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SP_EAGAIN
										 : SP_EIO;
	p->len = (uint32_t)n;
	return 0;
}

int io_tun_write(struct io_tun *t, const struct pkt *p)
{
	ssize_t n = write(t->fd, pkt_data(p), p->len);

	return n == (ssize_t)p->len ? 0 : SP_EIO;
}
