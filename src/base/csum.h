/*
 * Internet checksum (RFC 1071), full and incremental (RFC 1624 eqn. 3), and the IPv4
 * TCP/UDP pseudo-header. Checksums are host-order uint16_t values of the 16-bit field as
 * it stands on the wire (store with sp_store_be16). Partial sums are 32-bit unfolded
 * one's-complement accumulators in the same representation.
 */
#ifndef SP_BASE_CSUM_H
#define SP_BASE_CSUM_H

#include "base/sp.h"

/*
 * Add len bytes to a partial sum. Chunks may be summed separately and added with
 * csum_add() as long as every chunk but the last has even length.
 */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);

/* One's-complement addition of two partial sums. */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint64_t s = (uint64_t)a + b;

	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

/* Fold a partial sum to 16 bits and complement it: the value to put in a header. */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum of a buffer (e.g. an IPv4 header with its checksum field zeroed). */
static inline uint16_t csum_buf(const void *data, size_t len)
{
	return csum_fold(csum_partial(data, len, 0));
}

/* Partial sum of the IPv4 pseudo-header (RFC 793, RFC 768); addresses in host order. */
static inline uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t s =
		(uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;

	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), when a 16-bit field changes from m to m'. */
static inline uint16_t csum_update16(uint16_t hc, uint16_t m, uint16_t m_new)
{
	uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t)~m + m_new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The same for a 32-bit field (an IPv4 address, an SPI). */
static inline uint16_t csum_update32(uint16_t hc, uint32_t m, uint32_t m_new)
{
	uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t) ~(m >> 16) + (uint16_t)~m +
		     (m_new >> 16) + (m_new & 0xffff);

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * Checksum of a full TCP or UDP segment of len bytes (checksum field included as it
 * stands: zero it first when computing). For UDP a computed 0 must go on the wire as
 * 0xffff (RFC 768); csum_udp() does that.
 */
uint16_t csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const void *seg, size_t len);
static inline uint16_t csum_udp(uint32_t src, uint32_t dst, const void *seg, size_t len)
{
	uint16_t c = csum_l4(src, dst, 17, seg, len);

	return c == 0 ? 0xffff : c;
}

#endif
