#include "ipsec/asif.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

/* Where the checksum field is, or NULL when there is nothing to adjust. */
static int csum_field(uint8_t *ip, size_t len, uint8_t **field, bool *udp)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	size_t off;

	*field = NULL;
	if ((sp_load_be16(ip + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0)
		return 0; /* only the first fragment carries the transport header */
	switch (ip[IPV4_OFF_PROTO]) {
	case IPV4_PROTO_TCP:
		off = TCP_OFF_CSUM;
		*udp = false;
		break;
	case IPV4_PROTO_UDP:
		off = UDP_OFF_CSUM;
		*udp = true;
		break;
	default:
		return 0;
	}
	if (hl > len || len - hl < off + 2)
		return SP_ESHORT;
	*field = ip + hl + off;
	return 0;
}

static int adjust(uint8_t *ip, size_t len, uint32_t from, uint32_t to, bool wide)
{
	uint8_t *f;
	bool udp = false;
	uint16_t cs;
	int r;

	if (from == to)
		return 0;
	if ((r = csum_field(ip, len, &f, &udp)) != 0 || f == NULL)
		return r;
	cs = sp_load_be16(f);
	if (udp && cs == 0)
		return 0; /* RFC 768: no checksum was computed */
	cs = wide ? csum_update32(cs, from, to) : csum_update16(cs, (uint16_t)from, (uint16_t)to);
	if (udp && cs == 0)
		cs = 0xffff;
	sp_store_be16(f, cs);
	return 0;
}

int asif_l4_csum(uint8_t *ip, size_t len, uint32_t from, uint32_t to)
{
	return adjust(ip, len, from, to, true);
}

int asif_l4_csum16(uint8_t *ip, size_t len, uint16_t from, uint16_t to)
{
	return adjust(ip, len, from, to, false);
}

int asif_l4_ports(const uint8_t *ip, size_t len, uint8_t *proto, uint16_t *sport, uint16_t *dport)
{
	size_t hl;

	if (len < IPV4_HDR_MIN)
		return SP_ESHORT;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[IPV4_OFF_PROTO] != IPV4_PROTO_TCP && ip[IPV4_OFF_PROTO] != IPV4_PROTO_UDP) ||
	    (sp_load_be16(ip + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0)
		return SP_ENOTFOUND;
	if (hl < IPV4_HDR_MIN || hl > len || len - hl < 4)
		return SP_ESHORT;
	*proto = ip[IPV4_OFF_PROTO];
	*sport = sp_load_be16(ip + hl);
	*dport = sp_load_be16(ip + hl + 2);
	return 0;
}

int asif_port(uint8_t *ip, size_t len, bool dst, uint16_t from, uint16_t to)
{
	uint16_t sport, dport;
	uint8_t proto;
	int r;

	if ((r = asif_l4_ports(ip, len, &proto, &sport, &dport)) != 0)
		return r == SP_ENOTFOUND ? 0 : r;
	if ((dst ? dport : sport) != from || from == to)
		return 0;
	/* the checksum first: it needs the whole transport header (csum_field checks) */
	if ((r = adjust(ip, len, from, to, false)) != 0)
		return r;
	sp_store_be16(ip + (size_t)(ip[0] & 0x0f) * 4 + (dst ? 2 : 0), to);
	return 0;
}

int asif_addr(uint8_t *ip, size_t len, bool dst, uint32_t from, uint32_t to)
{
	int r;

	if (len < IPV4_HDR_MIN)
		return SP_ESHORT;
	if (sp_load_be32(ip + (dst ? IPV4_OFF_DST : IPV4_OFF_SRC)) != from || from == to)
		return 0;
	if ((r = adjust(ip, len, from, to, true)) != 0)
		return r;
	if (dst)
		ipv4_set_dst(ip, to);
	else
		ipv4_set_src(ip, to);
	return 0;
}
