/*
 * The network side of an IPsec endpoint: raw IP sockets that receive ESP (protocol 50)
 * and AH (51) and send whole IPv4 packets the endpoint built (IP_HDRINCL), and a UDP
 * socket on the NAT-T port (RFC 3948) whose datagrams are turned into whole IPv4/UDP
 * packets, so the sans-IO engine sees one packet format whatever the socket.
 */
#ifndef SP_IO_IPSOCK_H
#define SP_IO_IPSOCK_H

#include "base/counter.h"
#include "base/pkt.h"

#define IO_IPSOCK_LARGE 65536 /* the largest UDP payload, and then some */
#define IO_IPSOCK_BATCH 64    /* packets per sendmmsg/recvmmsg, segments per UDP GSO send */

/* Where packets pass or are lost on the sockets (`spinat show counters`, module "net"). */
#define foreach_io_ipsock_ctr(_)                                                            \
	_(TX, "tx")			  /* packets the kernel took */                     \
	_(TX_CALLS, "tx_calls")		  /* sendmmsg/sendmsg calls for them */             \
	_(TX_GSO, "tx_gso")		  /* UDP GSO sends, several datagrams each */       \
	_(RX, "rx")			  /* packets received */                            \
	_(RX_CALLS, "rx_calls")		  /* recvmmsg/recvmsg calls that brought some */    \
	_(RX_GRO, "rx_gro")		  /* UDP datagrams that came coalesced (GRO) */     \
	_(DROP_TX_FULL, "drop_tx_full")	  /* EAGAIN/ENOBUFS: socket buffer or queue full */ \
	_(DROP_TX_ERROR, "drop_tx_error") /* any other send error */                        \
	_(DROP_RX_QUEUE, "drop_rx_queue") /* the socket's receive queue overflowed */       \
	_(DROP_RX_NO_BUFFER, "drop_rx_no_buffer") /* no packet buffer for a GRO segment */  \
	_(DROP_RX_ERROR, "drop_rx_error")	  /* recv failed */

enum io_ipsock_ctr {
#define _(sym, str) IO_IPSOCK_CTR_##sym,
	foreach_io_ipsock_ctr(_)
#undef _
		IO_IPSOCK_CTR_N
};

extern const char *const io_ipsock_ctr_names[IO_IPSOCK_CTR_N];

struct io_ipsock_batch; /* sendmmsg/recvmmsg state, allocated once */
struct io_linkout;	/* io/linkout.h */

struct io_ipsock {
	int raw_tx;  /* IPPROTO_RAW: sends whole packets */
	int esp_rx;  /* IPPROTO_ESP, -1 when not opened */
	int ah_rx;   /* IPPROTO_AH, -1 when not opened */
	int udp;     /* UDP bound to udp_port, -1 when not opened */
	int ipip_rx; /* IPPROTO_IPIP (002's virtual tunnels), -1 when not opened */
	int pap_rx;  /* IPPROTO_ICMP, only types from 32 (002's PAP), -1 when not opened */
	uint16_t udp_port;
	/* A UDP datagram larger than a packet buffer (an IKE message with a certificate
	 * chain, RFC 7296 2: up to 64 KiB) whole, after io_ipsock_recv() said SP_ENOSPACE:
	 * its payload, length and addresses, valid until the next call. */
	uint8_t *large;
	size_t large_len;
	uint32_t large_src, large_dst;
	uint16_t large_sport;
	bool gso, gro; /* UDP GSO on sends, UDP GRO on receives (io_ipsock_tune) */
	/* SO_RXQ_OVFL: the kernel's drop count of esp_rx, ah_rx, udp and of another socket
	 * read with io_ipsock_recv_batch() */
	uint32_t ovfl[4];
	unsigned truncated; /* io_ipsock_recv_batch(): datagrams larger than a packet buffer,
			       dropped in the last call (the caller counts them) */
	struct io_ipsock_batch *b;
	/* When set (the owner's: opened and closed by it), the raw packets of a batch leave
	 * through its packet socket where io_linkout_route() gives them a next hop, the
	 * rest through raw_tx. */
	struct io_linkout *link;
	uint64_t ctr[IO_IPSOCK_CTR_N];
};

/* Open the raw sockets (raw true) and the UDP socket on udp_port (0: none); mark, when
 * non-zero, is set as SO_MARK on all of them (policy routing keeps the endpoint's own
 * packets off the TUN device). Needs CAP_NET_RAW. */
int io_ipsock_open(struct io_ipsock *s, bool raw, uint16_t udp_port, uint32_t mark) SP_MUST_CHECK;
void io_ipsock_close(struct io_ipsock *s);
/* After io_ipsock_open(): the raw sockets of 002's host (the dnat module) that receive
 * IP-in-IP (protocol 4; no ipip module is needed, the kernel hands raw sockets what it has
 * no handler for) and PAP (ICMP, the kernel filtering out every type below 32). */
int io_ipsock_open_dnat(struct io_ipsock *s, uint32_t mark) SP_MUST_CHECK;

/* Receive one packet from fd (one of the sockets above) into p as a whole IPv4 packet.
 * 0, SP_EAGAIN when nothing waits, SP_ENOSPACE when the datagram was larger than p
 * (it is consumed; from the UDP socket its payload is in s->large), SP_EIO on error. */
int io_ipsock_recv(struct io_ipsock *s, int fd, struct pkt *p) SP_MUST_CHECK;
/* Send a whole IPv4 packet: UDP from udp_port goes out of the UDP socket, everything
 * else out of the raw socket. 0 or SP_EIO. */
int io_ipsock_send(struct io_ipsock *s, const struct pkt *p) SP_MUST_CHECK;
/* A UDP payload of any length (up to 64 KiB: an IKE message with a certificate chain) out of
 * the UDP socket to dst:dport. 0, SP_ENOTFOUND without a UDP socket, SP_EIO. */
int io_ipsock_send_udp(struct io_ipsock *s, uint32_t dst, uint16_t dport, const uint8_t *payload,
		       size_t len) SP_MUST_CHECK;

/*
 * Socket buffers of bytes each way (SO_RCVBUFFORCE/SO_SNDBUFFORCE, the plain options
 * without CAP_NET_ADMIN), drop counts per receive (SO_RXQ_OVFL), and with offload UDP GSO
 * and GRO on the NAT-T socket where the kernel has them. 0 or SP_EIO.
 */
int io_ipsock_tune(struct io_ipsock *s, unsigned bytes, bool offload) SP_MUST_CHECK;

/*
 * Queue a whole IPv4 packet for sending (consumes p); sent when the queue is full or by
 * io_ipsock_flush(). Consecutive ESP-in-UDP packets to one peer of one size leave in one
 * UDP GSO send; the rest in sendmmsg batches. Failures are counted in s->ctr.
 */
void io_ipsock_queue(struct io_ipsock *s, struct pkt *p);
void io_ipsock_flush(struct io_ipsock *s);
/* Packets queued: io_ipsock_queue() sends them first when IO_IPSOCK_BATCH are. A packet
 * whose length became 0 while queued is withdrawn: freed, not sent. */
unsigned io_ipsock_queued(const struct io_ipsock *s);

/*
 * Receive up to max (at most IO_IPSOCK_BATCH) packets from fd with one system call, into
 * packets from pool, whole IPv4 as io_ipsock_recv() makes them; a UDP datagram the kernel
 * coalesced (GRO) is split into its datagrams. Returns how many went into out (0: all were
 * dropped and counted), SP_EAGAIN, SP_ENOMEM (the pool is empty), SP_ENOSPACE (a UDP
 * datagram longer than a packet buffer, whole in s->large as with io_ipsock_recv()) or
 * SP_EIO. Datagrams larger than a packet buffer that were dropped: s->truncated.
 */
int io_ipsock_recv_batch(struct io_ipsock *s, int fd, struct pkt_pool *pool, struct pkt **out,
			 unsigned max) SP_MUST_CHECK;

#endif
