/*
 * Raw ESP and AH out through a packet socket (`[endpoint] link_out = yes`): a whole IPv4
 * packet the endpoint built leaves on the device that leads to its destination, addressed
 * to the next hop's link-layer address, in the same sendmmsg batches as before, but
 * without the IP output path each packet takes through a raw socket (a route lookup, the
 * firewall's OUTPUT and POSTROUTING hooks, the neighbour lookup).
 *
 * The next hop of each destination comes from the kernel: a route lookup (RTM_GETROUTE,
 * with the packet's source address and the endpoint's mark, as the raw socket's own
 * lookup makes it) and the neighbour table (RTM_GETNEIGH), over rtnetlink. It is looked
 * up again every IO_LINKOUT_REFRESH, and the packet that finds its destination due goes
 * through the IP stack instead: that keeps the kernel's neighbour entry in use and
 * confirmed, so a next hop that changed its address or went away is seen within a
 * refresh. A packet goes through the IP stack too (io_linkout_route() says false) when its
 * destination has no usable next hop (no route, a route that is not unicast or has several
 * next hops, a device that is not Ethernet, no neighbour entry: the stack's own packet
 * then makes the kernel resolve it), and when it is longer than the device's MTU (the
 * stack fragments it). Each case is counted.
 *
 * What it bypasses: the firewall's OUTPUT and POSTROUTING hooks (the packets are not
 * filtered or NATed on their way out of this host) and routing changes until the next
 * refresh. The device's qdisc and packet taps (tcpdump) still see every packet.
 */
#ifndef SP_IO_LINKOUT_H
#define SP_IO_LINKOUT_H

#include "base/counter.h"

#include <linux/if_packet.h>

#define IO_LINKOUT_HOPS	   16	      /* destinations whose next hop is kept */
#define IO_LINKOUT_REFRESH 1000000000 /* ns between lookups of a next hop in use */
#define IO_LINKOUT_RETRY   100000000  /* ns between lookups of one that was not usable */
#define IO_LINKOUT_SNDBUF  (4 << 20)  /* the packet socket's send buffer */

#define foreach_io_linkout_ctr(_)                                                                \
	_(TX, "tx")			  /* packets given to the packet socket */               \
	_(LOOKUPS, "lookups")		  /* next hops looked up (route, device, neighbour) */   \
	_(STACK_REFRESH, "stack_refresh") /* through the IP stack as their next hop was looked \
					     up again */ \
	_(STACK_UNRESOLVED, "stack_unresolved") /* through the stack: no usable next hop */      \
	_(STACK_MTU, "stack_mtu")		/* through the stack: longer than the MTU */

enum io_linkout_ctr {
#define _(sym, str) IO_LINKOUT_CTR_##sym,
	foreach_io_linkout_ctr(_)
#undef _
		IO_LINKOUT_CTR_N
};

extern const char *const io_linkout_ctr_names[IO_LINKOUT_CTR_N];

struct io_linkout;

/* The packet socket (SOCK_DGRAM: the kernel writes the link-layer header), the rtnetlink
 * and ioctl sockets. mark: the endpoint's SO_MARK (0: none), for the route lookups and the
 * packet socket. SP_EPERM without CAP_NET_RAW, SP_ENOMEM, SP_EIO. */
int io_linkout_open(struct io_linkout **out, uint32_t mark) SP_MUST_CHECK;
void io_linkout_close(struct io_linkout *o); /* accepts NULL */
int io_linkout_fd(const struct io_linkout *o);
/* Where the whole IPv4 packet ip (len bytes) goes on the packet socket: *to, its device
 * and next hop; now_ns: a monotonic clock. false: through the IP stack (counted why). */
bool io_linkout_route(struct io_linkout *o, const uint8_t *ip, size_t len, uint64_t now_ns,
		      struct sockaddr_ll *to);
uint64_t *io_linkout_ctrs(struct io_linkout *o);

#endif
