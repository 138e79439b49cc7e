/*
 * The network side of an IPsec endpoint: raw IP sockets that receive ESP (protocol 50)
 * and AH (51) and send whole IPv4 packets the endpoint built (IP_HDRINCL), and a UDP
 * socket on the NAT-T port (RFC 3948) whose datagrams are turned into whole IPv4/UDP
 * packets, so the sans-IO engine sees one packet format whatever the socket.
 */
#ifndef SP_IO_IPSOCK_H
#define SP_IO_IPSOCK_H

#include "base/pkt.h"

#define IO_IPSOCK_LARGE 65536 /* the largest UDP payload, and then some */

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

#endif
