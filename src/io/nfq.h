/*
 * NFQUEUE (nfnetlink_queue) over a plain netlink socket: the kernel hands the gateway every
 * packet an iptables NFQUEUE rule selects, before routing (raw PREROUTING), and takes it
 * back with a verdict and, when the gateway rewrote it, the new bytes. The kernel keeps
 * what a router needs (ARP, routing, TTL, its own ICMP errors, GSO segmentation); the
 * gateway only translates. Verdicts of one read go back in one sendmsg.
 *
 * Packets the gateway makes itself (003's multicast copies, packets a strategy held back)
 * leave through a raw IP socket (IP_HDRINCL), routed by the kernel like any local packet.
 */
#ifndef SP_IO_NFQ_H
#define SP_IO_NFQ_H

#include "base/pkt.h"

#define IO_NFQ_RXBUF (256 * 1024)
#define IO_NFQ_TXBUF (256 * 1024)

/* Packets io_nfq_next() returned, and what it skips: packets the kernel queued that get
 * no verdict from here. */
#define foreach_io_nfq_ctr(_)                                                                \
	_(PACKETS, "packets")			    /* packets read from the queue */        \
	_(DROP_MALFORMED, "drop_malformed_message") /* a packet message could not be read */ \
	_(DROP_TORN, "drop_torn_buffer") /* a message overran the read: the rest is lost */

enum io_nfq_ctr {
#define _(sym, str) IO_NFQ_CTR_##sym,
	foreach_io_nfq_ctr(_)
#undef _
		IO_NFQ_CTR_N
};

extern const char *const io_nfq_ctr_names[IO_NFQ_CTR_N];

/* One queued packet, pointing into the receive buffer until the next io_nfq_read(). */
struct io_nfq_msg {
	uint32_t id;	   /* packet id for the verdict */
	uint16_t hw_proto; /* ethertype, host order */
	uint8_t hook;	   /* NF_INET_* */
	uint32_t indev;	   /* ifindex it arrived on, 0 if none */
	uint32_t outdev;
	uint8_t *payload; /* the IP packet, writable in place */
	uint32_t len;
};

struct io_nfq {
	int fd;	 /* netlink socket, -1 when closed */
	int raw; /* IPPROTO_RAW for the gateway's own packets, -1 when closed */
	uint16_t queue;
	uint32_t seq;
	uint8_t *rx;
	size_t rxlen, rxoff;
	uint8_t *tx;
	size_t txlen;
	uint32_t mark; /* what NF_ACCEPT verdicts set as the packet's mark (0: left alone);
			  set after io_nfq_open() */
	uint64_t ctr[IO_NFQ_CTR_N];
};

/* Bind queue number queue (copy whole packets up to 65535 bytes, at most maxlen waiting
 * in the kernel). Needs CAP_NET_ADMIN. */
int io_nfq_open(struct io_nfq *q, uint16_t queue, uint32_t maxlen) SP_MUST_CHECK;
void io_nfq_close(struct io_nfq *q);

/* Read what the kernel has queued (non-blocking): 0, SP_EAGAIN, SP_EIO. */
int io_nfq_read(struct io_nfq *q) SP_MUST_CHECK;
/* The next packet of the last read: 0, or SP_ENOTFOUND at the end. Malformed netlink
 * messages are skipped and counted in ctr. */
int io_nfq_next(struct io_nfq *q, struct io_nfq_msg *m) SP_MUST_CHECK;

/* Queue a verdict (NF_ACCEPT or NF_DROP); with payload, the packet's new bytes. An
 * NF_ACCEPT carries q->mark when it is set. */
int io_nfq_verdict(struct io_nfq *q, uint32_t id, uint32_t verdict, const uint8_t *payload,
		   uint32_t len) SP_MUST_CHECK;
/* Send the queued verdicts: 0 or SP_EIO. */
int io_nfq_flush(struct io_nfq *q) SP_MUST_CHECK;

/* Send a whole IPv4 packet of the gateway's own through the raw socket. */
int io_nfq_inject(struct io_nfq *q, const struct pkt *p) SP_MUST_CHECK;

#endif
