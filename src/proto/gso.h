/*
 * Large packets between a TUN device and MTU-sized packets (the virtio-net header a TUN
 * device with IFF_VNET_HDR puts in front of every packet, virtio 1.1 5.1.6, in the legacy
 * little-endian layout).
 *
 * Outbound, with TSO offered to the kernel, a TCP sender's stack hands over one IPv4 packet
 * of up to 64 KB and the segment size: gso_segment() cuts it into MTU-sized packets with
 * their own IPv4 and TCP (or UDP) headers and checksums, the work a NIC would do, once,
 * right before each is encrypted. Outbound packets the kernel left with a partial checksum
 * (VNET_F_NEEDS_CSUM) get it completed.
 *
 * Inbound, decrypted packets of one TCP flow that follow each other in sequence are
 * coalesced into one large packet (what the kernel's GRO does for a NIC) so the receiving
 * stack handles one packet instead of forty: struct gro. Each segment's TCP checksum is
 * verified as it is added, so the coalesced packet goes up with its checksum marked as
 * still to compute (the stack trusts it) and a segment with a wrong checksum is never
 * hidden in one.
 *
 * No allocation: segments come from a pkt_pool, the coalescing buffer is the caller's.
 */
#ifndef SP_PROTO_GSO_H
#define SP_PROTO_GSO_H

#include "base/pkt.h"

#define VNET_HDR_LEN 10

#define VNET_F_NEEDS_CSUM 1 /* checksum from csum_start, stored at csum_start + csum_offset */
#define VNET_F_DATA_VALID 2 /* the checksum was verified */

#define VNET_GSO_NONE	0
#define VNET_GSO_TCPV4	1
#define VNET_GSO_UDP_L4 5 /* UDP segmentation (USO) */
#define VNET_GSO_ECN	0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len; /* Ethernet/IP/TCP header bytes (a hint) */
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void vnet_hdr_parse(const uint8_t *b, struct vnet_hdr *h);
void vnet_hdr_build(uint8_t *b, const struct vnet_hdr *h);

/*
 * One packet from the TUN device (ip, len bytes, after its virtio-net header vh) as
 * MTU-sized IPv4 packets from pool, at most max of them, into out. A packet without GSO is
 * copied whole (its partial checksum completed). Returns the number made (>= 1), or
 * SP_EMALFORMED (not IPv4, headers that do not fit, a GSO type other than TCPv4 or UDP,
 * segment size 0), SP_ENOSPACE (more than max segments, or a segment larger than a packet
 * buffer), SP_ENOMEM (the pool ran out); on error nothing is left allocated.
 */
int gso_segment(const struct vnet_hdr *vh, const uint8_t *ip, size_t len, struct pkt_pool *pool,
		struct pkt **out, unsigned max) SP_MUST_CHECK;

/* Complete a partial checksum in place (VNET_F_NEEDS_CSUM of vh); 0 or SP_EMALFORMED. */
int gso_csum_finish(const struct vnet_hdr *vh, uint8_t *ip, size_t len) SP_MUST_CHECK;

#define GRO_MAX_LEN 65535 /* IPv4 total length */

/* Coalescing state: one run of in-sequence segments of one TCP flow. */
struct gro {
	uint8_t *buf; /* VNET_HDR_LEN + GRO_MAX_LEN bytes of the caller's */
	uint32_t len; /* IPv4 bytes held (after the virtio-net header); 0: none */
	uint16_t mss; /* payload of the first segment */
	uint16_t hl;  /* IPv4 + TCP header bytes */
	uint16_t segs;
	bool closed; /* the last segment was short or had PSH: nothing more joins */
	uint32_t next_seq;
	uint64_t merged; /* segments that joined a run (not the first of it) */
};

enum gro_verdict {
	GRO_HELD = 0,	/* copied into the run (started one, or joined it): free the packet */
	GRO_FLUSH = 1,	/* g holds a run this packet cannot join: gro_flush(), offer again */
	GRO_BYPASS = 2, /* not for coalescing: gro_flush() if g holds a run, then write it */
};

void gro_init(struct gro *g, uint8_t *buf);
enum gro_verdict gro_offer(struct gro *g, const uint8_t *ip, size_t len);
/*
 * The run as one packet with its virtio-net header in front (write *len bytes from the
 * result): a single segment as it came, with VNET_F_DATA_VALID; several as one TCP
 * segment of GSO type TCPv4 with a partial checksum. g is empty afterwards. NULL when g
 * held nothing.
 */
const uint8_t *gro_flush(struct gro *g, size_t *len);

#endif
