#include "proto/stun.h"

#include <string.h>

int stun_parse(struct cur *c, struct stun_hdr *h)
{
	struct stun_hdr t;
	struct cur r = *c;
	uint32_t cookie;
	int e;

	if ((e = cur_get_u16(&r, &t.stun_type)) != 0 || (e = cur_get_u16(&r, &t.stun_len)) != 0 ||
	    (e = cur_get_bytes(&r, t.stun_tid, STUN_TID_LEN)) != 0)
		return e;
	/* RFC 8489 5: "The most significant 2 bits of every STUN message MUST be zeroes";
	 * attributes are padded, so Length is a multiple of 4. */
	if ((t.stun_type & 0xc000) != 0 || (t.stun_len & 3) != 0)
		return SP_EMALFORMED;
	cookie = sp_load_be32(t.stun_tid);
	t.stun_classic = cookie != STUN_MAGIC;
	if ((e = cur_get_sub(&r, t.stun_len, &t.stun_attrs)) != 0)
		return e;
	*h = t;
	*c = r;
	return 0;
}

int stun_attr_next(struct cur *attrs, struct stun_attr *a)
{
	struct cur r = *attrs;
	struct stun_attr t;
	size_t pad;

	if (cur_left(&r) == 0)
		return SP_ENOTFOUND;
	if (cur_get_u16(&r, &t.sa_type) != 0 || cur_get_u16(&r, &t.sa_len) != 0 ||
	    cur_get_sub(&r, t.sa_len, &t.sa_val) != 0)
		return SP_EMALFORMED;
	/* RFC 8489 14: values are padded to a multiple of 4 octets. */
	pad = (4 - (t.sa_len & 3)) & 3;
	if (cur_skip(&r, pad) != 0)
		return SP_EMALFORMED;
	*a = t;
	*attrs = r;
	return 0;
}

static int get_addr(const struct stun_attr *a, uint32_t *addr, uint16_t *port)
{
	struct cur v = a->sa_val;
	uint8_t zero, family;

	if (cur_get_u8(&v, &zero) != 0 || cur_get_u8(&v, &family) != 0)
		return SP_EMALFORMED;
	if (family != STUN_FAMILY_IPV4)
		return SP_EUNSUPP;
	if (cur_left(&v) != 6 || cur_get_u16(&v, port) != 0 || cur_get_u32(&v, addr) != 0)
		return SP_EMALFORMED;
	return 0;
}

int stun_get_addr(const struct stun_attr *a, uint32_t *addr, uint16_t *port)
{
	return get_addr(a, addr, port);
}

int stun_get_xor_addr(const struct stun_attr *a, uint32_t *addr, uint16_t *port)
{
	uint32_t x;
	uint16_t xp;
	int r;

	if ((r = get_addr(a, &x, &xp)) != 0)
		return r;
	/* RFC 8489 14.2: the port with the cookie's high 16 bits, the address with it all. */
	*port = xp ^ (uint16_t)(STUN_MAGIC >> 16);
	*addr = x ^ STUN_MAGIC;
	return 0;
}

int stun_put_hdr(struct pkt *p, uint16_t type, const uint8_t tid[STUN_TID_LEN])
{
	uint8_t *b;

	if ((type & 0xc000) != 0)
		return SP_EINVAL;
	if ((b = pkt_put(p, STUN_HDR_LEN)) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b, type);
	sp_store_be16(b + 2, 0);
	memcpy(b + 4, tid, STUN_TID_LEN);
	return 0;
}

int stun_put_attr(struct pkt *p, uint16_t type, const void *val, uint16_t len)
{
	uint32_t pad = (4 - (len & 3)) & 3;
	uint8_t *b;

	if (p->len + STUN_ATTR_HDR + len + pad > STUN_MSG_MAX)
		return SP_EINVAL;
	if ((b = pkt_put(p, STUN_ATTR_HDR + len + pad)) == NULL)
		return SP_ENOSPACE;
	sp_store_be16(b, type);
	sp_store_be16(b + 2, len);
	if (len > 0)
		memcpy(b + STUN_ATTR_HDR, val, len);
	memset(b + STUN_ATTR_HDR + len, 0, pad);
	return 0;
}

int stun_put_addr(struct pkt *p, uint16_t type, uint32_t addr, uint16_t port)
{
	uint8_t v[8] = { 0, STUN_FAMILY_IPV4 };

	sp_store_be16(v + 2, port);
	sp_store_be32(v + 4, addr);
	return stun_put_attr(p, type, v, sizeof(v));
}

int stun_put_xor_addr(struct pkt *p, uint32_t addr, uint16_t port)
{
	return stun_put_addr(p, STUN_A_XOR_MAPPED_ADDRESS, addr ^ STUN_MAGIC,
			     port ^ (uint16_t)(STUN_MAGIC >> 16));
}

int stun_put_error(struct pkt *p, uint16_t code, const char *reason)
{
	uint8_t v[4 + 64] = { 0 };
	size_t rl = strlen(reason);

	if (code < 300 || code > 699 || rl > 64)
		return SP_EINVAL;
	/* RFC 8489 14.8: Class is the hundreds, Number the rest. */
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rl);
	return stun_put_attr(p, STUN_A_ERROR_CODE, v, (uint16_t)(4 + rl));
}

void stun_finish(struct pkt *p)
{
	if (p->len >= STUN_HDR_LEN)
		sp_store_be16(pkt_data(p) + 2, (uint16_t)(p->len - STUN_HDR_LEN));
}

uint32_t stun_crc32(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	/* Bitwise, reflected polynomial 0xedb88320 (RFC 1952 8): a handful of messages a
	 * second do not need a table. */
	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

int stun_put_fingerprint(struct pkt *p)
{
	uint8_t v[4] = { 0 };
	int r;

	/* The Length covers FINGERPRINT itself before the CRC is taken (RFC 8489 14.7). */
	if ((r = stun_put_attr(p, STUN_A_FINGERPRINT, v, 4)) != 0)
		return r;
	stun_finish(p);
	sp_store_be32(pkt_data(p) + p->len - 4, stun_crc32(pkt_data(p), p->len - 8) ^ STUN_FP_XOR);
	return 0;
}

bool stun_fingerprint_ok(const uint8_t *msg, size_t len)
{
	if (len < STUN_HDR_LEN + 8 || sp_load_be16(msg + len - 8) != STUN_A_FINGERPRINT ||
	    sp_load_be16(msg + len - 6) != 4)
		return false;
	return sp_load_be32(msg + len - 4) == (stun_crc32(msg, len - 8) ^ STUN_FP_XOR);
}

const char *stun_attr_name(uint16_t type)
{
	switch (type) {
	case STUN_A_MAPPED_ADDRESS:
		return "MAPPED-ADDRESS";
	case STUN_A_RESPONSE_ADDRESS:
		return "RESPONSE-ADDRESS";
	case STUN_A_CHANGE_REQUEST:
		return "CHANGE-REQUEST";
	case STUN_A_SOURCE_ADDRESS:
		return "SOURCE-ADDRESS";
	case STUN_A_CHANGED_ADDRESS:
		return "CHANGED-ADDRESS";
	case STUN_A_USERNAME:
		return "USERNAME";
	case STUN_A_MESSAGE_INTEGRITY:
		return "MESSAGE-INTEGRITY";
	case STUN_A_ERROR_CODE:
		return "ERROR-CODE";
	case STUN_A_UNKNOWN_ATTRIBUTES:
		return "UNKNOWN-ATTRIBUTES";
	case STUN_A_XOR_MAPPED_ADDRESS:
		return "XOR-MAPPED-ADDRESS";
	case STUN_A_SOFTWARE:
		return "SOFTWARE";
	case STUN_A_FINGERPRINT:
		return "FINGERPRINT";
	default:
		return "unknown";
	}
}
