/*
 * The endpoint's ESP receive path through AF_XDP (`[endpoint] xdp_rx = DEVICE`): an XDP
 * program on the device (io/bpf/esp_xsk.bpf.c) hands each unfragmented ESP packet for one
 * of the endpoint's addresses to an AF_XDP socket of its receive queue, before the IP
 * stack; io_xsk_recv_batch() copies them out of the sockets' frames as whole IPv4
 * packets, the format the raw ESP socket delivers. Everything else (fragments, AH, IKE,
 * ESP in UDP, other addresses, a queue beyond IO_XSK_QUEUES) goes on to the stack and its
 * sockets as before.
 *
 * One socket per receive queue, each with its own frames (copy mode, which every driver
 * and the generic XDP hook support); the program runs in the driver where the driver has
 * XDP, else in the generic hook. On a device that already has another XDP program
 * io_xsk_open() refuses; a program of this name left by a spinatd that did not stop is
 * replaced. Without a socket on its queue the program passes packets to the stack.
 *
 * What it bypasses: the firewall's PREROUTING and INPUT hooks and packet taps (tcpdump on
 * the device) for the ESP it takes.
 */
#ifndef SP_IO_XSK_H
#define SP_IO_XSK_H

#include "base/counter.h"
#include "base/pkt.h"

#define IO_XSK_QUEUES 16   /* receive queues with a socket */
#define IO_XSK_FRAMES 4096 /* frames (2 KB) per socket: 8 MB */
#define IO_XSK_LOCALS 64   /* addresses the program takes ESP for */

/* Where ESP passes or is lost on the AF_XDP path (`spinat show counters`, module "xsk"). */
#define foreach_io_xsk_ctr(_)                                                                     \
	_(RX, "rx")			      /* packets taken from the sockets */                \
	_(RX_CALLS, "rx_calls")		      /* io_xsk_recv_batch() calls that brought some */   \
	_(DROP_MALFORMED, "drop_malformed")   /* a frame the program should not have sent */      \
	_(DROP_RING_FULL, "drop_ring_full")   /* the kernel's count: the receive ring was full */ \
	_(DROP_FILL_EMPTY, "drop_fill_empty") /* the kernel's: no free frame to copy into */      \
	_(DROP_KERNEL, "drop_kernel") /* the kernel's: other drops (XDP_STATISTICS rx_dropped) */

enum io_xsk_ctr {
#define _(sym, str) IO_XSK_CTR_##sym,
	foreach_io_xsk_ctr(_)
#undef _
		IO_XSK_CTR_N
};

extern const char *const io_xsk_ctr_names[IO_XSK_CTR_N];
extern const bool io_xsk_built; /* false in a build without libbpf (meson -Dfastpath) */

struct io_xsk;

/*
 * Attach the program to dev and open a socket on each of its receive queues (at most
 * IO_XSK_QUEUES); ESP to the IPv4 addresses dev has now (at most IO_XSK_LOCALS) is taken.
 * On failure *out is NULL and why says what failed. SP_EUNSUPP (no libbpf in this build,
 * no AF_XDP in the kernel), SP_ENOTFOUND (no such device, or it has no IPv4 address),
 * SP_EBUSY (another XDP program), SP_EPERM, SP_EINVAL, SP_ENOMEM, SP_EIO.
 */
int io_xsk_open(struct io_xsk **out, const char *dev, char *why, size_t whylen) SP_MUST_CHECK;
/* Detach the program, close the sockets; accepts NULL. */
void io_xsk_close(struct io_xsk *x);
unsigned io_xsk_queues(const struct io_xsk *x);
int io_xsk_fd(const struct io_xsk *x, unsigned queue); /* readable when packets wait */
/*
 * Up to max packets from queue's socket into packets from pool, whole IPv4 (from the IP
 * header on), their frames given back to the kernel. Returns how many (0: none waited),
 * or SP_ENOMEM when the pool was empty (what could not be copied stays in the ring; the
 * caller counts it, as for a socket).
 */
int io_xsk_recv_batch(struct io_xsk *x, unsigned queue, struct pkt_pool *pool, struct pkt **out,
		      unsigned max) SP_MUST_CHECK;
/* Bring the kernel's drop counts (XDP_STATISTICS) into the counters. */
void io_xsk_update(struct io_xsk *x);
uint64_t *io_xsk_ctrs(struct io_xsk *x);

#endif
