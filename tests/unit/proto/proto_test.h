/* Helpers shared by the proto/ unit tests: packets over stack storage, a reference
 * checksum written the slow way (RFC 1071 2, word by word) to check the fast one against. */
#ifndef SP_TESTS_PROTO_TEST_H
#define SP_TESTS_PROTO_TEST_H

#include "base/pkt.h"

#include <string.h>

#define TEST_SRC 0xc000020au /* 192.0.2.10 */
#define TEST_DST 0xcb007105u /* 203.0.113.5 */

struct tpkt {
	struct pkt p;
	uint8_t storage[PKT_BUFSIZE];
};

static inline struct pkt *tpkt_init(struct tpkt *t)
{
	pkt_init(&t->p, t->storage, sizeof(t->storage), PKT_HEADROOM);
	return &t->p;
}

static inline uint16_t ref_sum_words(const uint8_t *b, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | (i + 1 < len ? b[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* One's-complement checksum of b: 0 when b (checksum included) verifies. */
static inline uint16_t ref_csum(const uint8_t *b, size_t len)
{
	return (uint16_t)~ref_sum_words(b, len, 0);
}

/* The same over the IPv4 pseudo-header (RFC 768, RFC 9293 3.1). */
static inline uint16_t ref_csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *b,
				   size_t len)
{
	uint32_t sum =
		(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (uint32_t)len;

	return (uint16_t)~ref_sum_words(b, len, sum);
}

#endif
