/*
 * Plain UDP sockets for services that answer datagrams (the L2TP port, the NAT discovery
 * service): bound to an address and port, non-blocking, with the destination address of
 * each datagram (IP_PKTINFO) so a service bound to 0.0.0.0 knows which of its addresses
 * was asked.
 */
#ifndef SP_IO_UDP_H
#define SP_IO_UDP_H

#include "base/sp.h"

#include <stddef.h>

/* A socket bound to addr:port (host order; addr 0: any). Returns the fd or a negative
 * SP_E* code. */
int io_udp_open(uint32_t addr, uint16_t port) SP_MUST_CHECK;
/* One datagram into buf: its length, SP_EAGAIN when none waits, SP_ENOSPACE when it was
 * longer than cap (consumed), SP_EIO on error. src/sport: the sender; dst: the address it
 * was sent to (0 when unknown). */
int io_udp_recv(int fd, uint8_t *buf, size_t cap, uint32_t *src, uint16_t *sport,
		uint32_t *dst) SP_MUST_CHECK;
/* Send buf to dst:dport: 0 or SP_EIO (SP_EAGAIN when the socket buffer is full). */
int io_udp_send(int fd, uint32_t dst, uint16_t dport, const uint8_t *buf, size_t len) SP_MUST_CHECK;
void io_udp_close(int fd);
/* The local address and port of a bound socket (port as bound; address 0 when bound to
 * any), and the source address the kernel would choose towards dst. */
int io_udp_local(int fd, uint32_t dst, uint32_t *addr, uint16_t *port) SP_MUST_CHECK;

#endif
