#include "base/csum.h"

#include <string.h>

/*
 * The one's-complement sum is independent of byte order (RFC 1071 2(B)): sum native
 * 32-bit loads into a 64-bit accumulator, fold, and swap once at the end.
 */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	while (len >= 16) {
		uint32_t a, c, d, e;

		memcpy(&a, b, 4);
		memcpy(&c, b + 4, 4);
		memcpy(&d, b + 8, 4);
		memcpy(&e, b + 12, 4);
		acc += (uint64_t)a + c + d + e;
		b += 16;
		len -= 16;
	}
	while (len >= 4) {
		memcpy(&w, b, 4);
		acc += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, b, 2);
		acc += h;
		b += 2;
		len -= 2;
	}
	if (len == 1) {
		/* The odd byte is the high half of a big-endian word padded with zero. */
		uint8_t pad[2] = { b[0], 0 };

		memcpy(&h, pad, 2);
		acc += h;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	h = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	h = __builtin_bswap16(h);
#endif
	return csum_add(sum, h);
}

uint16_t csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const void *seg, size_t len)
{
	uint32_t s = csum_pseudo4(src, dst, proto, (uint16_t)len);

	return csum_fold(csum_partial(seg, len, s));
}
