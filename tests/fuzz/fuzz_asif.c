/*
 * The "as if" checksum corrections of 001 (ipsec/asif.c) on any bytes: never a read or
 * write outside the packet, and on a packet whose TCP or UDP checksum was right, the
 * corrected checksum is right for the pseudo-header address or the port it was corrected
 * to (what pre- and post-compensation and transport-mode ESP/AH rely on).
 *
 * Input: 4 bytes of a new address, 2 bytes of a new port, then an IPv4 packet.
 */
#include "fuzz.h"
#include "ipsec/asif.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <string.h>

static bool l4_ok(const uint8_t *ip, const struct ipv4_hdr *h, uint32_t src, uint32_t dst)
{
	const uint8_t *l4 = ip + h->ip_hl;
	size_t len = h->ip_len - h->ip_hl;

	if (h->ip_proto == IPV4_PROTO_TCP)
		return tcp_csum_ok(l4, len, src, dst);
	return udp_csum_ok(l4, len, src, dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	struct ipv4_hdr h;
	struct cur c;
	uint32_t to;
	uint16_t port, old;
	size_t len;
	bool l4, ok;
	int r;

	if (size < 6 || size - 6 > sizeof(buf))
		return 0;
	to = sp_load_be32(data);
	port = sp_load_be16(data + 4);
	len = size - 6;
	memcpy(buf, data + 6, len);
	/* The callers hand it packets whose IPv4 header was validated; the transport header
	 * may still be cut short or lie. */
	cur_init(&c, buf, len);
	if (ipv4_parse(&c, &h) != 0)
		return 0;
	l4 = (h.ip_proto == IPV4_PROTO_TCP && h.ip_len - h.ip_hl >= TCP_HDR_MIN) ||
	     (h.ip_proto == IPV4_PROTO_UDP && h.ip_len - h.ip_hl >= UDP_HDR_LEN &&
	      sp_load_be16(buf + h.ip_hl + UDP_OFF_CSUM) != 0);
	l4 = l4 && (h.ip_frag & (IPV4_FRAG_MASK | IPV4_FLAG_MF)) == 0;
	ok = l4 && l4_ok(buf, &h, h.ip_src, h.ip_dst);
	/* As if the source were `to`. */
	r = asif_l4_csum(buf, h.ip_len, h.ip_src, to);
	FUZZ_CHECK(r == 0 || r == SP_ESHORT);
	if (ok && r == 0)
		FUZZ_CHECK(l4_ok(buf, &h, to, h.ip_dst));
	/* And back, then as if the destination were `to`. */
	r = asif_l4_csum(buf, h.ip_len, to, h.ip_src);
	FUZZ_CHECK(r == 0 || r == SP_ESHORT);
	if (ok && r == 0)
		FUZZ_CHECK(l4_ok(buf, &h, h.ip_src, h.ip_dst));
	r = asif_l4_csum(buf, h.ip_len, h.ip_dst, to);
	if (ok && r == 0)
		FUZZ_CHECK(l4_ok(buf, &h, h.ip_src, to));
	r = asif_l4_csum(buf, h.ip_len, to, h.ip_dst);
	/* A port rewritten with its correction. */
	if (ok && r == 0) {
		old = sp_load_be16(buf + h.ip_hl);
		sp_store_be16(buf + h.ip_hl, port);
		FUZZ_CHECK(asif_l4_csum16(buf, h.ip_len, old, port) == 0);
		FUZZ_CHECK(l4_ok(buf, &h, h.ip_src, h.ip_dst));
	}
	return 0;
}
