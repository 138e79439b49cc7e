#include "proto/ipv4.h"
#include "base/csum.h"

#include <string.h>

static int parse(struct cur *c, struct ipv4_hdr *h, bool whole)
{
	struct cur t = *c;
	uint8_t vhl, hl;
	const uint8_t *start = cur_ptr(c);
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = cur_need(c, IPV4_HDR_MIN)) != 0)
		return r;
	if ((r = cur_get_u8(&t, &vhl)) != 0)
		return r;
	if (vhl >> 4 != 4)
		return SP_EMALFORMED;
	hl = (uint8_t)((vhl & 0x0f) * 4);
	if (hl < IPV4_HDR_MIN)
		return SP_EMALFORMED;
	if ((r = cur_get_u8(&t, &h->ip_tos)) != 0 || (r = cur_get_u16(&t, &h->ip_len)) != 0 ||
	    (r = cur_get_u16(&t, &h->ip_id)) != 0 || (r = cur_get_u16(&t, &h->ip_frag)) != 0 ||
	    (r = cur_get_u8(&t, &h->ip_ttl)) != 0 || (r = cur_get_u8(&t, &h->ip_proto)) != 0 ||
	    (r = cur_get_u16(&t, &h->ip_csum)) != 0 || (r = cur_get_u32(&t, &h->ip_src)) != 0 ||
	    (r = cur_get_u32(&t, &h->ip_dst)) != 0)
		return r;
	if (h->ip_len < hl)
		return SP_EMALFORMED;
	if (whole && h->ip_len > cur_left(c))
		return SP_ESHORT;
	if ((r = cur_get_ptr(&t, hl - IPV4_HDR_MIN, &h->ip_opts)) != 0)
		return r;
	h->ip_hl = hl;
	h->ip_csum_ok = csum_buf(start, hl) == 0;
	*c = t;
	return 0;
}

int ipv4_parse(struct cur *c, struct ipv4_hdr *h)
{
	return parse(c, h, true);
}

int ipv4_parse_embedded(struct cur *c, struct ipv4_hdr *h)
{
	return parse(c, h, false);
}

void ipv4_set_csum(uint8_t *hdr, size_t hl)
{
	sp_store_be16(hdr + IPV4_OFF_CSUM, 0);
	sp_store_be16(hdr + IPV4_OFF_CSUM, csum_buf(hdr, hl));
}

int ipv4_build(struct pkt *p, const struct ipv4_hdr *h, const uint8_t *opts, uint8_t optlen)
{
	uint32_t hl = IPV4_HDR_MIN + optlen;
	uint32_t total;
	uint8_t *b;

	if (optlen > IPV4_HDR_MAX - IPV4_HDR_MIN || optlen % 4 != 0)
		return SP_EINVAL;
	total = h->ip_len != 0 ? h->ip_len : hl + p->len;
	if (total > 0xffff || total < hl)
		return SP_EINVAL;
	if ((b = pkt_push(p, hl)) == NULL)
		return SP_ENOSPACE;
	b[0] = (uint8_t)(0x40 | hl / 4);
	b[1] = h->ip_tos;
	sp_store_be16(b + IPV4_OFF_LEN, (uint16_t)total);
	sp_store_be16(b + IPV4_OFF_ID, h->ip_id);
	sp_store_be16(b + IPV4_OFF_FRAG, h->ip_frag);
	b[IPV4_OFF_TTL] = h->ip_ttl;
	b[IPV4_OFF_PROTO] = h->ip_proto;
	sp_store_be32(b + IPV4_OFF_SRC, h->ip_src);
	sp_store_be32(b + IPV4_OFF_DST, h->ip_dst);
	if (optlen > 0)
		memcpy(b + IPV4_HDR_MIN, opts, optlen);
	ipv4_set_csum(b, hl);
	return 0;
}

void ipv4_dec_ttl(uint8_t *hdr)
{
	uint16_t old = sp_load_be16(hdr + IPV4_OFF_TTL);
	uint16_t cs = sp_load_be16(hdr + IPV4_OFF_CSUM);

	hdr[IPV4_OFF_TTL]--;
	cs = csum_update16(cs, old, sp_load_be16(hdr + IPV4_OFF_TTL));
	sp_store_be16(hdr + IPV4_OFF_CSUM, cs);
}

static uint32_t set_addr(uint8_t *hdr, unsigned off, uint32_t addr)
{
	uint32_t old = sp_load_be32(hdr + off);
	uint16_t cs = sp_load_be16(hdr + IPV4_OFF_CSUM);

	sp_store_be32(hdr + off, addr);
	sp_store_be16(hdr + IPV4_OFF_CSUM, csum_update32(cs, old, addr));
	return old;
}

uint32_t ipv4_set_src(uint8_t *hdr, uint32_t addr)
{
	return set_addr(hdr, IPV4_OFF_SRC, addr);
}

uint32_t ipv4_set_dst(uint8_t *hdr, uint32_t addr)
{
	return set_addr(hdr, IPV4_OFF_DST, addr);
}
