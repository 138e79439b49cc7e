/* Segmentation of large TUN packets and coalescing of decrypted ones (gso.h). */
#include "proto/gso.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <string.h>

static uint16_t load_le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static void store_le16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

void vnet_hdr_parse(const uint8_t *b, struct vnet_hdr *h)
{
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = load_le16(b + 2);
	h->gso_size = load_le16(b + 4);
	h->csum_start = load_le16(b + 6);
	h->csum_offset = load_le16(b + 8);
}

void vnet_hdr_build(uint8_t *b, const struct vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	store_le16(b + 2, h->hdr_len);
	store_le16(b + 4, h->gso_size);
	store_le16(b + 6, h->csum_start);
	store_le16(b + 8, h->csum_offset);
}

int gso_csum_finish(const struct vnet_hdr *vh, uint8_t *ip, size_t len)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;
	uint16_t c;

	if (start >= len || at + 2 > len)
		return SP_EMALFORMED;
	/* The field holds the pseudo-header's sum: summing over it completes the checksum. */
	c = csum_fold(csum_partial(ip + start, len - start, 0));
	if (c == 0 && len >= IPV4_HDR_MIN && ip[IPV4_OFF_PROTO] == IPV4_PROTO_UDP)
		c = 0xffff; /* RFC 768: 0 means none */
	sp_store_be16(ip + at, c);
	return 0;
}

static void free_all(struct pkt **out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pkt_free(out[i]);
}

int gso_segment(const struct vnet_hdr *vh, const uint8_t *ip, size_t len, struct pkt_pool *pool,
		struct pkt **out, unsigned max)
{
	uint8_t type = vh->gso_type & (uint8_t)~VNET_GSO_ECN;
	size_t ihl, l4hl, hl, payload, mss, nseg, off = 0;
	uint32_t src, dst, seq = 0;
	uint16_t id;
	struct pkt *p;

	if (max == 0)
		return SP_ENOSPACE;
	if (len < IPV4_HDR_MIN || ip[0] >> 4 != 4 || (ihl = (size_t)(ip[0] & 0x0f) * 4) < 20 ||
	    ihl > len)
		return SP_EMALFORMED;
	if (type == VNET_GSO_NONE) {
		if ((p = pkt_alloc(pool)) == NULL)
			return SP_ENOMEM;
		if (pkt_append(p, ip, (uint32_t)len) != 0) {
			pkt_free(p);
			return SP_ENOSPACE;
		}
		if ((vh->flags & VNET_F_NEEDS_CSUM) != 0 &&
		    gso_csum_finish(vh, pkt_data(p), len) != 0) {
			pkt_free(p);
			return SP_EMALFORMED;
		}
		out[0] = p;
		return 1;
	}
	if ((type != VNET_GSO_TCPV4 || ip[IPV4_OFF_PROTO] != IPV4_PROTO_TCP) &&
	    (type != VNET_GSO_UDP_L4 || ip[IPV4_OFF_PROTO] != IPV4_PROTO_UDP))
		return SP_EMALFORMED;
	if (sp_load_be16(ip + IPV4_OFF_LEN) != len ||
	    (sp_load_be16(ip + IPV4_OFF_FRAG) & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0)
		return SP_EMALFORMED;
	if (type == VNET_GSO_TCPV4) {
		if (len < ihl + TCP_HDR_MIN || (l4hl = (size_t)(ip[ihl + 12] >> 4) * 4) < 20)
			return SP_EMALFORMED;
		seq = sp_load_be32(ip + ihl + TCP_OFF_SEQ);
	} else {
		l4hl = UDP_HDR_LEN;
	}
	if ((hl = ihl + l4hl) > len || (mss = vh->gso_size) == 0)
		return SP_EMALFORMED;
	payload = len - hl;
	nseg = payload == 0 ? 1 : (payload + mss - 1) / mss;
	if (nseg > max)
		return SP_ENOSPACE;
	src = sp_load_be32(ip + IPV4_OFF_SRC);
	dst = sp_load_be32(ip + IPV4_OFF_DST);
	id = sp_load_be16(ip + IPV4_OFF_ID);
	for (size_t i = 0; i < nseg; i++, off += mss) {
		size_t chunk = payload - off < mss ? payload - off : mss;
		uint8_t *d, *l4;

		if ((p = pkt_alloc(pool)) == NULL) {
			free_all(out, (unsigned)i);
			return SP_ENOMEM;
		}
		if (pkt_tailroom(p) < hl + chunk) {
			pkt_free(p);
			free_all(out, (unsigned)i);
			return SP_ENOSPACE;
		}
		d = pkt_data(p);
		memcpy(d, ip, hl);
		memcpy(d + hl, ip + hl + off, chunk);
		p->len = (uint32_t)(hl + chunk);
		/* Each segment its own IPv4 header: length, a new ID (as the kernel's own
		 * segmentation does), checksum. */
		sp_store_be16(d + IPV4_OFF_LEN, (uint16_t)p->len);
		sp_store_be16(d + IPV4_OFF_ID, (uint16_t)(id + i));
		sp_store_be16(d + IPV4_OFF_CSUM, 0);
		sp_store_be16(d + IPV4_OFF_CSUM, csum_buf(d, ihl));
		l4 = d + ihl;
		if (type == VNET_GSO_TCPV4) {
			/* RFC 9293 3.1: consecutive sequence numbers; FIN and PSH belong to the
			 * last segment, CWR (RFC 3168 6.1.2) to the first. */
			sp_store_be32(l4 + TCP_OFF_SEQ, seq + (uint32_t)off);
			if (i + 1 != nseg)
				l4[TCP_OFF_FLAGS] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
			if (i != 0)
				l4[TCP_OFF_FLAGS] &= (uint8_t)~TCP_CWR;
			sp_store_be16(l4 + TCP_OFF_CSUM, 0);
			sp_store_be16(l4 + TCP_OFF_CSUM,
				      csum_l4(src, dst, IPV4_PROTO_TCP, l4, l4hl + chunk));
		} else {
			sp_store_be16(l4 + UDP_OFF_LEN, (uint16_t)(UDP_HDR_LEN + chunk));
			sp_store_be16(l4 + UDP_OFF_CSUM, 0);
			sp_store_be16(l4 + UDP_OFF_CSUM,
				      csum_udp(src, dst, l4, UDP_HDR_LEN + chunk));
		}
		out[i] = p;
	}
	return (int)nseg;
}

/* ---- coalescing ---- */

#define GRO_FLAGS_OK (TCP_ACK | TCP_PSH | TCP_ECE)

void gro_init(struct gro *g, uint8_t *buf)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
}

/* A plain IPv4 (no options, DF, not a fragment) TCP segment with payload and only ACK,
 * PSH, ECE set: *thl its TCP header length. */
static bool coalescible(const uint8_t *ip, size_t len, size_t *thl)
{
	const uint8_t *t = ip + IPV4_HDR_MIN;

	if (len < IPV4_HDR_MIN + TCP_HDR_MIN || ip[0] != 0x45 ||
	    ip[IPV4_OFF_PROTO] != IPV4_PROTO_TCP || sp_load_be16(ip + IPV4_OFF_LEN) != len ||
	    (sp_load_be16(ip + IPV4_OFF_FRAG) & ~IPV4_FLAG_DF) != 0 ||
	    (sp_load_be16(ip + IPV4_OFF_FRAG) & IPV4_FLAG_DF) == 0)
		return false;
	*thl = (size_t)(t[12] >> 4) * 4;
	return *thl >= TCP_HDR_MIN && IPV4_HDR_MIN + *thl < len &&
	       (t[TCP_OFF_FLAGS] & TCP_ACK) != 0 && (t[TCP_OFF_FLAGS] & ~GRO_FLAGS_OK) == 0;
}

static bool csum_ok(const uint8_t *ip, size_t len)
{
	return csum_l4(sp_load_be32(ip + IPV4_OFF_SRC), sp_load_be32(ip + IPV4_OFF_DST),
		       IPV4_PROTO_TCP, ip + IPV4_HDR_MIN, len - IPV4_HDR_MIN) == 0;
}

enum gro_verdict gro_offer(struct gro *g, const uint8_t *ip, size_t len)
{
	uint8_t *h = g->buf + VNET_HDR_LEN;
	const uint8_t *t = ip + IPV4_HDR_MIN, *ht = h + IPV4_HDR_MIN;
	size_t thl, payload;

	if (!coalescible(ip, len, &thl))
		return GRO_BYPASS;
	payload = len - IPV4_HDR_MIN - thl;
	if (g->len == 0) {
		if (!csum_ok(ip, len))
			return GRO_BYPASS; /* the stack counts and drops it */
		memcpy(h, ip, len);
		g->len = (uint32_t)len;
		g->hl = (uint16_t)(IPV4_HDR_MIN + thl);
		g->mss = (uint16_t)payload;
		g->segs = 1;
		g->closed = (t[TCP_OFF_FLAGS] & TCP_PSH) != 0;
		g->next_seq = sp_load_be32(t + TCP_OFF_SEQ) + (uint32_t)payload;
		return GRO_HELD;
	}
	/* What the kernel's GRO asks too: the same flow, TOS and TTL, the next sequence
	 * number, the same acknowledgment, window, flags and options (timestamps included),
	 * no segment longer than the first, and a short one ends the run. */
	if (g->closed || IPV4_HDR_MIN + thl != g->hl || ip[IPV4_OFF_TOS] != h[IPV4_OFF_TOS] ||
	    ip[IPV4_OFF_TTL] != h[IPV4_OFF_TTL] ||
	    memcmp(ip + IPV4_OFF_SRC, h + IPV4_OFF_SRC, 8) != 0 || memcmp(t, ht, 4) != 0 ||
	    sp_load_be32(t + TCP_OFF_SEQ) != g->next_seq || memcmp(t + 8, ht + 8, 4) != 0 ||
	    ((t[TCP_OFF_FLAGS] ^ ht[TCP_OFF_FLAGS]) & (uint8_t)~TCP_PSH) != 0 ||
	    memcmp(t + 14, ht + 14, 2) != 0 || memcmp(t + 20, ht + 20, thl - 20) != 0 ||
	    payload > g->mss || g->len + payload > GRO_MAX_LEN)
		return GRO_FLUSH;
	if (!csum_ok(ip, len))
		return GRO_FLUSH; /* then BYPASS: it goes up alone */
	memcpy(h + g->len, ip + g->hl, payload);
	g->len += (uint32_t)payload;
	g->segs++;
	g->merged++;
	g->next_seq += (uint32_t)payload;
	if (payload < g->mss || (t[TCP_OFF_FLAGS] & TCP_PSH) != 0) {
		g->closed = true;
		h[IPV4_HDR_MIN + TCP_OFF_FLAGS] |= t[TCP_OFF_FLAGS] & TCP_PSH;
	}
	return GRO_HELD;
}

const uint8_t *gro_flush(struct gro *g, size_t *len)
{
	uint8_t *h = g->buf + VNET_HDR_LEN;
	struct vnet_hdr vh = { 0 };

	if (g->len == 0)
		return NULL;
	if (g->segs == 1) {
		vh.flags = VNET_F_DATA_VALID; /* verified when it was offered */
	} else {
		uint32_t src = sp_load_be32(h + IPV4_OFF_SRC), dst = sp_load_be32(h + IPV4_OFF_DST);

		sp_store_be16(h + IPV4_OFF_LEN, (uint16_t)g->len);
		sp_store_be16(h + IPV4_OFF_CSUM, 0);
		sp_store_be16(h + IPV4_OFF_CSUM, csum_buf(h, IPV4_HDR_MIN));
		/* A partial checksum: the pseudo-header's sum in the field, the stack (or
		 * its segmentation, when it forwards the packet) adds the rest. */
		sp_store_be16(
			h + IPV4_HDR_MIN + TCP_OFF_CSUM,
			(uint16_t)~csum_fold(csum_pseudo4(src, dst, IPV4_PROTO_TCP,
							  (uint16_t)(g->len - IPV4_HDR_MIN))));
		vh.flags = VNET_F_NEEDS_CSUM;
		vh.gso_type = VNET_GSO_TCPV4;
		vh.hdr_len = g->hl;
		vh.gso_size = g->mss;
		vh.csum_start = IPV4_HDR_MIN;
		vh.csum_offset = TCP_OFF_CSUM;
	}
	vnet_hdr_build(g->buf, &vh);
	*len = VNET_HDR_LEN + g->len;
	g->len = 0;
	g->segs = 0;
	g->closed = false;
	return g->buf;
}
