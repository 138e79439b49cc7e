/*
 * Helpers for the NAT tests: build IPv4 packets with proto/ (UDP, TCP, ICMP, ESP, IKE
 * headers), read back their addresses and ports, and check their checksums.
 */
#ifndef NAT_TEST_H
#define NAT_TEST_H

#include "base/addr.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "base/pkt.h"
#include "nat/nat.h"
#include "proto/esp.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

static inline struct pkt *tp_ip(struct pkt *p, uint8_t proto, uint32_t src, uint32_t dst)
{
	struct ipv4_hdr h = { 0 };

	h.ip_ttl = 64;
	h.ip_proto = proto;
	h.ip_src = src;
	h.ip_dst = dst;
	h.ip_id = 0x1234;
	if (p == NULL || ipv4_build(p, &h, NULL, 0) != 0) {
		pkt_free(p);
		return NULL;
	}
	return p;
}

static inline struct pkt *tp_udp(struct pkt_pool *pool, uint32_t src, uint16_t sport, uint32_t dst,
				 uint16_t dport, const void *data, size_t len)
{
	struct pkt *p = pkt_alloc(pool);

	if (p == NULL || pkt_append(p, data, (uint32_t)len) != 0 ||
	    udp_build(p, sport, dport, src, dst, true) != 0) {
		pkt_free(p);
		return NULL;
	}
	return tp_ip(p, IPV4_PROTO_UDP, src, dst);
}

static inline struct pkt *tp_tcp(struct pkt_pool *pool, uint32_t src, uint16_t sport, uint32_t dst,
				 uint16_t dport, uint8_t flags)
{
	struct pkt *p = pkt_alloc(pool);
	struct tcp_hdr h = { 0 };

	h.tcp_sport = sport;
	h.tcp_dport = dport;
	h.tcp_seq = 1000;
	h.tcp_flags = flags;
	h.tcp_win = 65535;
	if (p == NULL || tcp_build(p, &h, NULL, 0, src, dst) != 0) {
		pkt_free(p);
		return NULL;
	}
	return tp_ip(p, IPV4_PROTO_TCP, src, dst);
}

static inline struct pkt *tp_echo(struct pkt_pool *pool, uint32_t src, uint32_t dst, uint8_t type,
				  uint16_t id, uint16_t seq)
{
	struct pkt *p = pkt_alloc(pool);
	static const char data[16] = "ping-data-16byte";

	if (p == NULL || pkt_append(p, data, sizeof(data)) != 0 ||
	    icmp_build_echo(p, type, id, seq) != 0) {
		pkt_free(p);
		return NULL;
	}
	return tp_ip(p, IPV4_PROTO_ICMP, src, dst);
}

/* An ICMP error from src to dst quoting orig (an IPv4 packet). */
static inline struct pkt *tp_icmp_err(struct pkt_pool *pool, uint32_t src, uint32_t dst,
				      uint8_t type, uint8_t code, const struct pkt *orig)
{
	struct pkt *p = pkt_alloc(pool);

	if (p == NULL || icmp_build_error(p, type, code, 0, pkt_data(orig), orig->len) != 0) {
		pkt_free(p);
		return NULL;
	}
	return tp_ip(p, IPV4_PROTO_ICMP, src, dst);
}

static inline struct pkt *tp_esp(struct pkt_pool *pool, uint32_t src, uint32_t dst, uint32_t spi,
				 uint32_t seq)
{
	struct pkt *p = pkt_alloc(pool);
	uint8_t body[32];

	memset(body, 0xa5, sizeof(body));
	if (p == NULL || pkt_append(p, body, sizeof(body)) != 0 ||
	    esp_build_hdr(p, spi, seq) != 0) {
		pkt_free(p);
		return NULL;
	}
	return tp_ip(p, IPV4_PROTO_ESP, src, dst);
}

/* An IKE header (RFC 7296 3.1) in UDP 500 -> 500; exchange IKE_SA_INIT (34). */
static inline struct pkt *tp_ike(struct pkt_pool *pool, uint32_t src, uint32_t dst,
				 uint64_t icookie, uint64_t rcookie)
{
	uint8_t ike[28] = { 0 };

	sp_store_be64(ike, icookie);
	sp_store_be64(ike + 8, rcookie);
	ike[17] = 0x20; /* version 2.0 */
	ike[18] = 34;
	sp_store_be32(ike + 24, sizeof(ike));
	return tp_udp(pool, src, 500, dst, 500, ike, sizeof(ike));
}

static inline uint32_t tp_src(const struct pkt *p)
{
	return sp_load_be32(pkt_data(p) + IPV4_OFF_SRC);
}

static inline uint32_t tp_dst(const struct pkt *p)
{
	return sp_load_be32(pkt_data(p) + IPV4_OFF_DST);
}

static inline size_t tp_hl(const struct pkt *p)
{
	return (size_t)(pkt_data(p)[0] & 0x0f) * 4;
}

static inline uint16_t tp_sport(const struct pkt *p)
{
	return sp_load_be16(pkt_data(p) + tp_hl(p));
}

static inline uint16_t tp_dport(const struct pkt *p)
{
	return sp_load_be16(pkt_data(p) + tp_hl(p) + 2);
}

static inline uint16_t tp_icmp_id(const struct pkt *p)
{
	return sp_load_be16(pkt_data(p) + tp_hl(p) + ICMP_OFF_ID);
}

/* Header checksum and, for TCP/UDP/ICMP, the transport checksum verify. */
static inline bool tp_csum_ok(const struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	size_t hl = tp_hl(p), len = sp_load_be16(d + IPV4_OFF_LEN);

	if (csum_buf(d, hl) != 0)
		return false;
	switch (d[IPV4_OFF_PROTO]) {
	case IPV4_PROTO_UDP:
		return udp_csum_ok(d + hl, len - hl, tp_src(p), tp_dst(p));
	case IPV4_PROTO_TCP:
		return tcp_csum_ok(d + hl, len - hl, tp_src(p), tp_dst(p));
	case IPV4_PROTO_ICMP:
		return csum_buf(d + hl, len - hl) == 0;
	default:
		return true;
	}
}

#define IP(a, b, c, d) SP_IP4(a, b, c, d)

#endif
