/*
 * A TUN device (IFF_TUN, no packet information): whole IPv4 packets to and from the
 * kernel's stack, so unmodified applications (ping, TCP) send through spinat. The device
 * is created, addressed, brought up and given routes here; it disappears when closed.
 */
#ifndef SP_IO_TUN_H
#define SP_IO_TUN_H

#include "base/pkt.h"

#include <net/if.h>

struct io_tun {
	int fd;
	char name[IFNAMSIZ];
};

/* Create (or attach to) the TUN device `name`, non-blocking. Needs CAP_NET_ADMIN. */
int io_tun_open(struct io_tun *t, const char *name) SP_MUST_CHECK;
void io_tun_close(struct io_tun *t);

/* Address and prefix (host order), MTU, and up; addr 0 leaves it unaddressed. */
int io_tun_configure(struct io_tun *t, uint32_t addr, uint8_t plen, unsigned mtu) SP_MUST_CHECK;
/* Route net/plen into the device (main table). */
int io_tun_route_add(struct io_tun *t, uint32_t net, uint8_t plen) SP_MUST_CHECK;

/* Read one packet into p (emptied first, with PKT_HEADROOM): 0, SP_EAGAIN when none is
 * waiting, SP_EIO on error. */
int io_tun_read(struct io_tun *t, struct pkt *p) SP_MUST_CHECK;
/* Write one packet to the kernel: 0 or SP_EIO. */
int io_tun_write(struct io_tun *t, const struct pkt *p) SP_MUST_CHECK;

#endif
