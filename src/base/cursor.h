/*
 * Bounded cursors over untrusted bytes (docs/HACKING.md, "Untrusted bytes"). Every read past the
 * end returns SP_ESHORT and leaves the cursor where it was; every write past the end
 * returns SP_ENOSPACE. Results are SP_MUST_CHECK, so an unchecked access does not compile.
 * All multi-byte getters and putters use network byte order.
 */
#ifndef SP_BASE_CURSOR_H
#define SP_BASE_CURSOR_H

#include "base/sp.h"

#include <string.h>

/* Unchecked big-endian stores and loads for buffers whose size was already validated. */
static inline void sp_store_be16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
static inline void sp_store_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}
static inline void sp_store_be64(uint8_t *b, uint64_t v)
{
	sp_store_be32(b, (uint32_t)(v >> 32));
	sp_store_be32(b + 4, (uint32_t)v);
}
static inline uint16_t sp_load_be16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}
static inline uint32_t sp_load_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline uint64_t sp_load_be64(const uint8_t *b)
{
	return (uint64_t)sp_load_be32(b) << 32 | sp_load_be32(b + 4);
}

/* Reader. */
struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Writer. */
struct wcur {
	uint8_t *p;
	size_t cap;
	size_t off;
};

static inline void cur_init(struct cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->len - c->off;
}

static inline size_t cur_pos(const struct cur *c)
{
	return c->off;
}

/* Pointer to the next unread byte; valid for cur_left() bytes. */
static inline const uint8_t *cur_ptr(const struct cur *c)
{
	return c->p + c->off;
}

SP_MUST_CHECK static inline int cur_need(const struct cur *c, size_t n)
{
	return n <= c->len - c->off ? 0 : SP_ESHORT;
}

/* Consume everything left (cannot fail). */
static inline void cur_skip_all(struct cur *c)
{
	c->off = c->len;
}

SP_MUST_CHECK static inline int cur_skip(struct cur *c, size_t n)
{
	if (cur_need(c, n) != 0)
		return SP_ESHORT;
	c->off += n;
	return 0;
}

/* Position the cursor at absolute offset pos (pos <= len). */
SP_MUST_CHECK static inline int cur_seek(struct cur *c, size_t pos)
{
	if (pos > c->len)
		return SP_ESHORT;
	c->off = pos;
	return 0;
}

SP_MUST_CHECK static inline int cur_get_u8(struct cur *c, uint8_t *v)
{
	if (cur_need(c, 1) != 0)
		return SP_ESHORT;
	*v = c->p[c->off++];
	return 0;
}

SP_MUST_CHECK static inline int cur_get_u16(struct cur *c, uint16_t *v)
{
	if (cur_need(c, 2) != 0)
		return SP_ESHORT;
	*v = (uint16_t)((uint16_t)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return 0;
}

SP_MUST_CHECK static inline int cur_get_u32(struct cur *c, uint32_t *v)
{
	const uint8_t *b;

	if (cur_need(c, 4) != 0)
		return SP_ESHORT;
	b = c->p + c->off;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	c->off += 4;
	return 0;
}

SP_MUST_CHECK static inline int cur_get_u64(struct cur *c, uint64_t *v)
{
	if (cur_need(c, 8) != 0)
		return SP_ESHORT;
	*v = sp_load_be64(c->p + c->off);
	c->off += 8;
	return 0;
}

/* Copy n bytes out. */
SP_MUST_CHECK static inline int cur_get_bytes(struct cur *c, void *dst, size_t n)
{
	if (cur_need(c, n) != 0)
		return SP_ESHORT;
	if (n > 0)
		memcpy(dst, c->p + c->off, n);
	c->off += n;
	return 0;
}

/* Consume n bytes without copying: *out points into the buffer. */
SP_MUST_CHECK static inline int cur_get_ptr(struct cur *c, size_t n, const uint8_t **out)
{
	*out = NULL;
	if (cur_need(c, n) != 0)
		return SP_ESHORT;
	*out = c->p + c->off;
	c->off += n;
	return 0;
}

/* Consume n bytes as a sub-cursor limited to them (a length-delimited field). */
SP_MUST_CHECK static inline int cur_get_sub(struct cur *c, size_t n, struct cur *sub)
{
	if (cur_need(c, n) != 0)
		return SP_ESHORT;
	cur_init(sub, c->p + c->off, n);
	c->off += n;
	return 0;
}

/* Peeks read at offset at from the current position without consuming. */
SP_MUST_CHECK static inline int cur_peek_u8(const struct cur *c, size_t at, uint8_t *v)
{
	if (at >= cur_left(c))
		return SP_ESHORT;
	*v = c->p[c->off + at];
	return 0;
}

SP_MUST_CHECK static inline int cur_peek_u16(const struct cur *c, size_t at, uint16_t *v)
{
	struct cur t = *c;

	if (cur_skip(&t, at) != 0)
		return SP_ESHORT;
	return cur_get_u16(&t, v);
}

SP_MUST_CHECK static inline int cur_peek_u32(const struct cur *c, size_t at, uint32_t *v)
{
	struct cur t = *c;

	if (cur_skip(&t, at) != 0)
		return SP_ESHORT;
	return cur_get_u32(&t, v);
}

/* Writer. */

static inline void wcur_init(struct wcur *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
}

static inline size_t wcur_left(const struct wcur *w)
{
	return w->cap - w->off;
}

SP_MUST_CHECK static inline int wcur_need(const struct wcur *w, size_t n)
{
	return n <= w->cap - w->off ? 0 : SP_ENOSPACE;
}

SP_MUST_CHECK static inline int cur_put_u8(struct wcur *w, uint8_t v)
{
	if (wcur_need(w, 1) != 0)
		return SP_ENOSPACE;
	w->p[w->off++] = v;
	return 0;
}

SP_MUST_CHECK static inline int cur_put_u16(struct wcur *w, uint16_t v)
{
	if (wcur_need(w, 2) != 0)
		return SP_ENOSPACE;
	w->p[w->off] = (uint8_t)(v >> 8);
	w->p[w->off + 1] = (uint8_t)v;
	w->off += 2;
	return 0;
}

SP_MUST_CHECK static inline int cur_put_u32(struct wcur *w, uint32_t v)
{
	if (wcur_need(w, 4) != 0)
		return SP_ENOSPACE;
	w->p[w->off] = (uint8_t)(v >> 24);
	w->p[w->off + 1] = (uint8_t)(v >> 16);
	w->p[w->off + 2] = (uint8_t)(v >> 8);
	w->p[w->off + 3] = (uint8_t)v;
	w->off += 4;
	return 0;
}

SP_MUST_CHECK static inline int cur_put_u64(struct wcur *w, uint64_t v)
{
	if (wcur_need(w, 8) != 0)
		return SP_ENOSPACE;
	sp_store_be64(w->p + w->off, v);
	w->off += 8;
	return 0;
}

SP_MUST_CHECK static inline int cur_put_bytes(struct wcur *w, const void *src, size_t n)
{
	if (wcur_need(w, n) != 0)
		return SP_ENOSPACE;
	if (n > 0)
		memcpy(w->p + w->off, src, n);
	w->off += n;
	return 0;
}

SP_MUST_CHECK static inline int cur_put_zero(struct wcur *w, size_t n)
{
	if (wcur_need(w, n) != 0)
		return SP_ENOSPACE;
	memset(w->p + w->off, 0, n);
	w->off += n;
	return 0;
}

/* Reserve n bytes to fill later (a length field): *out points at them. */
SP_MUST_CHECK static inline int cur_put_reserve(struct wcur *w, size_t n, uint8_t **out)
{
	*out = NULL;
	if (wcur_need(w, n) != 0)
		return SP_ENOSPACE;
	*out = w->p + w->off;
	w->off += n;
	return 0;
}

#endif
