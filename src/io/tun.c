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
#include <sys/uio.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* Linux 6.2 */
#endif

#define VNET_LEN 10 /* struct virtio_net_hdr, proto/gso.h's VNET_HDR_LEN */

int io_tun_open(struct io_tun *t, const char *name)
{
	return io_tun_open_flags(t, name, 0);
}

/* Offer the kernel the offloads, the most first: USO4 needs Linux 6.2. */
static void set_offloads(struct io_tun *t)
{
	static const struct {
		unsigned long tun;
		unsigned ours;
	} tries[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN | TUN_F_USO4,
		  IO_TUN_OFF_CSUM | IO_TUN_OFF_TSO4 | IO_TUN_OFF_USO4 },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN, IO_TUN_OFF_CSUM | IO_TUN_OFF_TSO4 },
		{ TUN_F_CSUM, IO_TUN_OFF_CSUM },
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (ioctl(t->fd, TUNSETOFFLOAD, tries[i].tun) == 0) {
			t->offloads = tries[i].ours;
			return;
		}
}

int io_tun_open_flags(struct io_tun *t, const char *name, unsigned flags)
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | ((flags & IO_TUN_VNET) != 0 ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		close(t->fd);
		t->fd = -1;
		return errno == EPERM || errno == EACCES ? SP_EPERM
		       : errno == EBUSY			 ? SP_EBUSY
							 : SP_EIO;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	if ((flags & IO_TUN_VNET) != 0) {
		int sz = VNET_LEN;

		if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
			close(t->fd);
			t->fd = -1;
			return SP_EIO;
		}
		t->vnet = true;
		set_offloads(t);
	}
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

static int write_error(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? SP_EAGAIN : SP_EIO;
}

int io_tun_write(struct io_tun *t, const struct pkt *p)
{
	static const uint8_t none[VNET_LEN]; /* no offload: flags 0, GSO_NONE */
	struct iovec iov[2] = { { (void *)none, VNET_LEN }, { pkt_data(p), p->len } };
	ssize_t n;

	if (t->vnet)
		n = writev(t->fd, iov, 2) - VNET_LEN;
	else
		n = write(t->fd, pkt_data(p), p->len);
	if (n < 0)
		return write_error();
	return n == (ssize_t)p->len ? 0 : SP_EIO;
}

int io_tun_write_vnet(struct io_tun *t, const uint8_t *buf, size_t len)
{
	ssize_t n = write(t->fd, buf, len);

	if (n < 0)
		return write_error();
	return n == (ssize_t)len ? 0 : SP_EIO;
}

int io_tun_read_vnet(struct io_tun *t, uint8_t *buf, size_t cap)
{
	ssize_t n = read(t->fd, buf, cap);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SP_EAGAIN
										 : SP_EIO;
	if ((size_t)n == cap)
		return SP_ENOSPACE; /* larger than 64 KB: the kernel never makes one */
	return n < VNET_LEN ? SP_EIO : (int)n;
}

int io_tun_set_queue(struct io_tun *t, unsigned packets)
{
	struct ifreq ifr;
	int s, r = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	ifr.ifr_qlen = (int)packets;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		r = SP_EIO;
	close(s);
	return r;
}

int io_tun_kernel_drops(const struct io_tun *t, uint64_t *dropped)
{
	FILE *f = fopen("/proc/net/dev", "re");
	char line[512];
	size_t nl = strlen(t->name);
	int r = SP_EIO;

	if (f == NULL)
		return SP_EIO;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line;
		unsigned long long v[12];

		while (*s == ' ')
			s++;
		if (strncmp(s, t->name, nl) != 0 || s[nl] != ':')
			continue;
		/* receive: bytes packets errs drop fifo frame compressed multicast;
		 * transmit: bytes packets errs drop ... */
		if (sscanf(s + nl + 1,
			   "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
			   &v[11]) == 12) {
			*dropped = v[11];
			r = 0;
		}
		break;
	}
	fclose(f);
	return r;
}
