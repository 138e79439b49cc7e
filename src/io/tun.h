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
	bool vnet;	   /* every packet read and written has a virtio-net header first */
	unsigned offloads; /* IO_TUN_OFF_*: what the kernel was told it may hand over */
};

#define IO_TUN_VNET 1u /* io_tun_open_flags(): IFF_VNET_HDR and the offloads below */

#define IO_TUN_OFF_CSUM 1u /* partial checksums (VNET_F_NEEDS_CSUM) */
#define IO_TUN_OFF_TSO4 2u /* TCP segments of up to 64 KB (VNET_GSO_TCPV4) */
#define IO_TUN_OFF_USO4 4u /* UDP likewise (VNET_GSO_UDP_L4), where the kernel has it */

/* Create (or attach to) the TUN device `name`, non-blocking. Needs CAP_NET_ADMIN. */
int io_tun_open(struct io_tun *t, const char *name) SP_MUST_CHECK;
/* The same; with IO_TUN_VNET packets carry a virtio-net header (proto/gso.h) and the
 * kernel may hand over large TCP (and UDP) segments with partial checksums: t->offloads
 * says which it accepted. */
int io_tun_open_flags(struct io_tun *t, const char *name, unsigned flags) SP_MUST_CHECK;
void io_tun_close(struct io_tun *t);

/* Address and prefix (host order), MTU, and up; addr 0 leaves it unaddressed. */
int io_tun_configure(struct io_tun *t, uint32_t addr, uint8_t plen, unsigned mtu) SP_MUST_CHECK;
/* Route net/plen into the device (main table). */
int io_tun_route_add(struct io_tun *t, uint32_t net, uint8_t plen) SP_MUST_CHECK;

/* Read one packet into p (emptied first, with PKT_HEADROOM): 0, SP_EAGAIN when none is
 * waiting, SP_EIO on error. */
int io_tun_read(struct io_tun *t, struct pkt *p) SP_MUST_CHECK;
/* Write one packet to the kernel (with a virtio-net header of zeros when t->vnet): 0,
 * SP_EAGAIN when the kernel had no room (EAGAIN, ENOBUFS), SP_EIO. */
int io_tun_write(struct io_tun *t, const struct pkt *p) SP_MUST_CHECK;

/* With t->vnet: read one packet with its virtio-net header in front into buf (cap bytes,
 * 10 + 64 KB for the largest). Returns the length read, SP_EAGAIN, SP_ENOSPACE (longer
 * than cap, consumed) or SP_EIO. */
int io_tun_read_vnet(struct io_tun *t, uint8_t *buf, size_t cap) SP_MUST_CHECK;
/* With t->vnet: write buf, a virtio-net header and the packet after it. As io_tun_write. */
int io_tun_write_vnet(struct io_tun *t, const uint8_t *buf, size_t len) SP_MUST_CHECK;

/* The length of the kernel's queue towards the reader, in packets (txqueuelen). */
int io_tun_set_queue(struct io_tun *t, unsigned packets) SP_MUST_CHECK;
/* Packets the kernel dropped because the reader did not keep up (the device's
 * tx_dropped, from /proc/net/dev of the caller's namespace): 0 or SP_EIO. */
int io_tun_kernel_drops(const struct io_tun *t, uint64_t *dropped) SP_MUST_CHECK;

#endif
