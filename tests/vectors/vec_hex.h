/* Hex strings to bytes for the known-answer tests (spaces allowed, as the RFCs print them). */
#ifndef SP_TESTS_VEC_HEX_H
#define SP_TESTS_VEC_HEX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int vec_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode into buf (cap bytes); returns the byte count, or -1 on bad input. */
static inline long vec_hex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = vec_nibble(*s);

		if (v < 0) {
			if (*s == ' ' || *s == '\n')
				continue;
			return -1;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

/* The same for text known to be good: aborts (failing the test) on bad input. */
static inline size_t vec_hex_or_die(const char *s, uint8_t *buf, size_t cap)
{
	long n = vec_hex(s, buf, cap);

	if (n < 0)
		abort();
	return (size_t)n;
}

#endif
