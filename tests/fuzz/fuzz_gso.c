/*
 * gso_segment() and gro_offer()/gro_flush() (proto/gso.h) on any bytes as the packet and a
 * virtio-net header taken from the input's length and last octets: segments stay inside
 * their buffers and the limits, nothing is left allocated on failure, the coalescing
 * buffer never overflows, and a coalesced packet (made only of segments whose checksum
 * verified) completes to a checksum that verifies.
 */
#include "fuzz.h"
#include "base/csum.h"
#include "proto/gso.h"

#include <string.h>

#define NPKT   130
#define MAXSEG 128

static struct pkt_pool pool;
static uint8_t grobuf[VNET_HDR_LEN + GRO_MAX_LEN];

static void flush_and_check(struct gro *g)
{
	struct vnet_hdr vh;
	uint8_t *ip;
	size_t n;

	if (gro_flush(g, &n) == NULL)
		return;
	FUZZ_CHECK(n > VNET_HDR_LEN + 40 && n <= VNET_HDR_LEN + GRO_MAX_LEN);
	vnet_hdr_parse(grobuf, &vh);
	if (vh.gso_type == VNET_GSO_NONE)
		return;
	ip = grobuf + VNET_HDR_LEN;
	FUZZ_CHECK(gso_csum_finish(&vh, ip, n - VNET_HDR_LEN) == 0);
	FUZZ_CHECK(csum_l4(sp_load_be32(ip + 12), sp_load_be32(ip + 16), 6, ip + 20,
			   n - VNET_HDR_LEN - 20) == 0);
}

static void offer(struct gro *g, const uint8_t *ip, size_t len)
{
	enum gro_verdict v = gro_offer(g, ip, len);

	if (v == GRO_FLUSH) {
		FUZZ_CHECK(g->len != 0);
		flush_and_check(g);
		v = gro_offer(g, ip, len);
		FUZZ_CHECK(v != GRO_FLUSH); /* an empty run takes it or bypasses it */
	}
	FUZZ_CHECK(g->len <= GRO_MAX_LEN);
	if (v == GRO_BYPASS)
		flush_and_check(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct pkt *seg[MAXSEG];
	struct vnet_hdr vh = { 0 };
	struct gro g;
	int r;

	if (!ready) {
		if (pkt_pool_init(&pool, NPKT, PKT_BUFSIZE) != 0)
			abort();
		ready = true;
	}
	if (size < 3 || size > GRO_MAX_LEN)
		return 0;
	/* The header from the last three octets; the packet is all of the input (the kernel's
	 * length matches, as a TUN read's does). */
	vh.gso_type = (const uint8_t[]){ VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_UDP_L4,
					 VNET_GSO_TCPV4 | VNET_GSO_ECN }[data[size - 3] & 3];
	vh.flags = data[size - 3] & 4 ? VNET_F_NEEDS_CSUM : 0;
	vh.gso_size = (uint16_t)(data[size - 2] << 8 | data[size - 1]);
	vh.csum_start = 20;
	vh.csum_offset = data[size - 3] & 8 ? 6 : 16;
	r = gso_segment(&vh, data, size, &pool, seg, MAXSEG);
	if (r < 0) {
		FUZZ_CHECK(r == SP_EMALFORMED || r == SP_ENOSPACE || r == SP_ENOMEM);
		FUZZ_CHECK(pool.nfree == NPKT);
		return 0;
	}
	FUZZ_CHECK(r >= 1 && r <= MAXSEG);
	gro_init(&g, grobuf);
	for (int i = 0; i < r; i++) {
		FUZZ_CHECK(pkt_headroom(seg[i]) == PKT_HEADROOM && seg[i]->len <= size);
		if (vh.gso_type != VNET_GSO_NONE)
			FUZZ_CHECK(seg[i]->len <= 120 + (size_t)vh.gso_size);
		offer(&g, pkt_data(seg[i]), seg[i]->len);
	}
	flush_and_check(&g);
	/* The input itself, as a decrypted packet. */
	offer(&g, data, size);
	flush_and_check(&g);
	for (int i = 0; i < r; i++)
		pkt_free(seg[i]);
	FUZZ_CHECK(pool.nfree == NPKT);
	return 0;
}
