/*
 * IPv4 addresses are uint32_t in host byte order everywhere in spinat; this file turns them
 * into text and back, and handles prefixes.
 */
#ifndef SP_BASE_ADDR_H
#define SP_BASE_ADDR_H

#include "base/sp.h"

#define SP_IP4_STRLEN 16 /* "255.255.255.255" + NUL */

/* Dotted quad, strict: four decimal parts 0-255, no leading junk or trailing text. */
int sp_ip4_parse(const char *s, uint32_t *addr) SP_MUST_CHECK;
/* Formats into buf (at least SP_IP4_STRLEN) and returns buf. */
char *sp_ip4_fmt(uint32_t addr, char *buf);
/* "a.b.c.d/len" (or a bare address, len 32); rejects host bits set when strict. */
int sp_ip4_prefix_parse(const char *s, uint32_t *net, uint8_t *len, bool strict) SP_MUST_CHECK;

static inline uint32_t sp_ip4_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static inline bool sp_ip4_in_prefix(uint32_t addr, uint32_t net, uint8_t len)
{
	return (addr & sp_ip4_mask(len)) == (net & sp_ip4_mask(len));
}

#define SP_IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif
