/*
 * The "as if" computations of 001 (procedure steps 3(iii), 4, 3', 4'(iv')): correct the
 * TCP or UDP checksum of an IPv4 packet for an address in its pseudo-header being (or
 * having been) another, and the AH ICV input computed with an address replaced. Used by
 * ESP and AH in transport mode through the SA's asif_src/asif_dst; also by host/ for the
 * port and address rewrites of pre- and post-compensation.
 */
#ifndef SP_IPSEC_ASIF_H
#define SP_IPSEC_ASIF_H

#include "base/sp.h"

/*
 * ip points at an IPv4 packet of len bytes (header validated). Adjust its TCP or UDP
 * checksum (RFC 1624) as if the pseudo-header address `from` became `to`. No-op for other
 * protocols, non-first fragments, a UDP checksum of 0 (none), and when from == to.
 * SP_ESHORT when the transport header is cut short.
 */
int asif_l4_csum(uint8_t *ip, size_t len, uint32_t from, uint32_t to) SP_MUST_CHECK;

/* The same for a 16-bit field covered by the checksum changing (a port): from -> to. */
int asif_l4_csum16(uint8_t *ip, size_t len, uint16_t from, uint16_t to) SP_MUST_CHECK;

/*
 * The TCP or UDP ports of a first fragment or whole packet; SP_ENOTFOUND for other
 * protocols and later fragments, SP_ESHORT when the header is cut short.
 */
int asif_l4_ports(const uint8_t *ip, size_t len, uint8_t *proto, uint16_t *sport,
		  uint16_t *dport) SP_MUST_CHECK;

/*
 * Replace a TCP or UDP port that is `from` by `to`, the checksum following (RFC 1624; a
 * zero UDP checksum stays zero): the source port before protection (001 step 810, 3(i)
 * with 3(iii)b; the tunnel-mode inner packet's in step 811), the destination port after
 * it (step 824, 4'(ii') with 4'(iv')b; step 825). dst picks the field. Nothing happens
 * when the field holds another value.
 */
int asif_port(uint8_t *ip, size_t len, bool dst, uint16_t from, uint16_t to) SP_MUST_CHECK;

/*
 * Replace an IPv4 source (dst false) or destination address that is `from` by `to`, the
 * header checksum and the TCP/UDP checksum following: the tunnel-mode inner packet's
 * source before encapsulation (step 811 with 812) and its destination after
 * decapsulation (step 825 with 826).
 */
int asif_addr(uint8_t *ip, size_t len, bool dst, uint32_t from, uint32_t to) SP_MUST_CHECK;

#endif
