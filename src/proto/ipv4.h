/*
 * IPv4 header (RFC 791): parse through a cursor, build by pushing onto a struct pkt.
 * Addresses and fields are host order in struct ipv4_hdr.
 */
#ifndef SP_PROTO_IPV4_H
#define SP_PROTO_IPV4_H

#include "base/cursor.h"
#include "base/pkt.h"

#define IPV4_HDR_MIN   20
#define IPV4_HDR_MAX   60
#define IPV4_OFF_TOS   1
#define IPV4_OFF_LEN   2
#define IPV4_OFF_ID    4
#define IPV4_OFF_FRAG  6
#define IPV4_OFF_TTL   8
#define IPV4_OFF_PROTO 9
#define IPV4_OFF_CSUM  10
#define IPV4_OFF_SRC   12
#define IPV4_OFF_DST   16

#define IPV4_FLAG_DF   0x4000
#define IPV4_FLAG_MF   0x2000
#define IPV4_FRAG_MASK 0x1fff

#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_IPIP 4
#define IPV4_PROTO_TCP	6
#define IPV4_PROTO_UDP	17
#define IPV4_PROTO_ESP	50
#define IPV4_PROTO_AH	51
#define IPV4_PROTO_NONE 59 /* no next header: ESP dummy packets (RFC 4303 2.6) */

/* Options that RFC 4302 3.3.3.1.1.1 and RFC 791 name. */
#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1

struct ipv4_hdr {
	uint8_t ip_hl; /* header length in bytes (20..60) */
	uint8_t ip_tos;
	uint16_t ip_len; /* total length */
	uint16_t ip_id;
	uint16_t ip_frag; /* flags and fragment offset as on the wire */
	uint8_t ip_ttl;
	uint8_t ip_proto;
	uint16_t ip_csum;
	uint32_t ip_src;
	uint32_t ip_dst;
	const uint8_t *ip_opts; /* into the parsed buffer; ip_hl - 20 bytes */
	bool ip_csum_ok;	/* header checksum verified on parse */
};

/*
 * Parse the header at the cursor and consume it. Checks version 4, 20 <= ihl*4 <= total
 * length <= bytes available, and verifies the checksum into ip_csum_ok. The cursor is left
 * at the payload; bytes beyond ip_len (link padding) are not part of the packet.
 */
int ipv4_parse(struct cur *c, struct ipv4_hdr *h) SP_MUST_CHECK;

/*
 * The same for the packet an ICMP error quotes (RFC 792, RFC 1812 4.3.2.3), which is cut
 * after its header and 8 octets: ip_len is checked against the header length but not
 * against the bytes available. Callers take cur_left() bytes of payload, not ip_len.
 */
int ipv4_parse_embedded(struct cur *c, struct ipv4_hdr *h) SP_MUST_CHECK;

/* Fragments: MF set or a non-zero offset. */
static inline bool ipv4_is_fragment(const struct ipv4_hdr *h)
{
	return (h->ip_frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0;
}
/* Offset of this fragment's data in bytes. */
static inline uint32_t ipv4_frag_offset(const struct ipv4_hdr *h)
{
	return (uint32_t)(h->ip_frag & IPV4_FRAG_MASK) * 8;
}

/*
 * Push a header in front of the packet's data: ip_len is set to header + data when h's is
 * 0, ip_hl from the options length, the checksum computed. opts (optlen bytes, a multiple
 * of 4, at most 40) may be NULL.
 */
int ipv4_build(struct pkt *p, const struct ipv4_hdr *h, const uint8_t *opts,
	       uint8_t optlen) SP_MUST_CHECK;

/* Recompute the header checksum of a header in place (hl bytes). */
void ipv4_set_csum(uint8_t *hdr, size_t hl);

/* Decrement TTL in place with an incremental checksum update (RFC 1624). */
void ipv4_dec_ttl(uint8_t *hdr);

/* Rewrite the source or destination address in place, updating the header checksum
 * incrementally; returns the old address. */
uint32_t ipv4_set_src(uint8_t *hdr, uint32_t addr);
uint32_t ipv4_set_dst(uint8_t *hdr, uint32_t addr);

#endif
