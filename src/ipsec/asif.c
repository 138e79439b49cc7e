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
