/*
 * Large TUN packets (proto/gso.h): a 64 KB TCP segment cut into MTU-sized segments with
 * correct headers and checksums, in order; the same segments coalesced back into one
 * packet equal to the original; what must not be coalesced is not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "base/cursor.h"
#include "proto/gso.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdlib.h>

#define MSS	1348 /* a 1400-byte MTU less IPv4, TCP and the timestamp option */
#define THL	32
#define PAYLOAD 65000
#define BIG	(IPV4_HDR_MIN + THL + PAYLOAD)
#define SEQ0	0xfffff000u /* wraps inside the segment */

static uint8_t big[BIG], orig[BIG];
static uint8_t grobuf[VNET_HDR_LEN + GRO_MAX_LEN];

/* What a TCP sender's stack hands a TUN device with TSO: one IPv4 packet, DF, a TCP
 * header with timestamps and PSH|ACK|CWR, the checksum field holding the pseudo-header's
 * sum (partial). */
static void make_big(struct vnet_hdr *vh, uint8_t flags)
{
	uint8_t *t = big + IPV4_HDR_MIN;

	memset(big, 0, sizeof(big));
	big[0] = 0x45;
	sp_store_be16(big + IPV4_OFF_LEN, BIG);
	sp_store_be16(big + IPV4_OFF_ID, 0x1234);
	sp_store_be16(big + IPV4_OFF_FRAG, IPV4_FLAG_DF);
	big[IPV4_OFF_TTL] = 64;
	big[IPV4_OFF_PROTO] = IPV4_PROTO_TCP;
	sp_store_be32(big + IPV4_OFF_SRC, TEST_SRC);
	sp_store_be32(big + IPV4_OFF_DST, TEST_DST);
	sp_store_be16(t + TCP_OFF_SPORT, 40000);
	sp_store_be16(t + TCP_OFF_DPORT, 5201);
	sp_store_be32(t + TCP_OFF_SEQ, SEQ0);
	sp_store_be32(t + TCP_OFF_ACK, 77);
	t[12] = (THL / 4) << 4;
	t[TCP_OFF_FLAGS] = flags;
	sp_store_be16(t + 14, 501);
	t[20] = TCP_OPT_NOP;
	t[21] = TCP_OPT_NOP;
	t[22] = TCP_OPT_TS;
	t[23] = 10;
	sp_store_be32(t + 24, 1000);
	sp_store_be32(t + 28, 2000);
	for (size_t i = 0; i < PAYLOAD; i++)
		big[IPV4_HDR_MIN + THL + i] = (uint8_t)(i * 7 + i / 251);
	/* The partial checksum: ~fold(pseudo-header), as the kernel leaves it. */
	{
		uint32_t s = (TEST_SRC >> 16) + (TEST_SRC & 0xffff) + (TEST_DST >> 16) +
			     (TEST_DST & 0xffff) + IPV4_PROTO_TCP + (BIG - IPV4_HDR_MIN);

		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		sp_store_be16(t + TCP_OFF_CSUM, (uint16_t)s);
	}
	memcpy(orig, big, sizeof(big));
	*vh = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM,
				 .gso_type = VNET_GSO_TCPV4,
				 .hdr_len = IPV4_HDR_MIN + THL,
				 .gso_size = MSS,
				 .csum_start = IPV4_HDR_MIN,
				 .csum_offset = TCP_OFF_CSUM };
}

#define NSEG ((PAYLOAD + MSS - 1) / MSS)

static void segment_64k_in_order(void **state)
{
	struct pkt_pool pool;
	struct pkt *seg[64];
	struct vnet_hdr vh;
	int n;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 64, PKT_BUFSIZE), 0);
	make_big(&vh, TCP_ACK | TCP_PSH | TCP_CWR);
	n = gso_segment(&vh, big, BIG, &pool, seg, 64);
	assert_int_equal(n, NSEG);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = pkt_data(seg[i]), *t = ip + IPV4_HDR_MIN;
		size_t chunk = i + 1 < n ? MSS : PAYLOAD - (size_t)(n - 1) * MSS;

		assert_int_equal(seg[i]->len, IPV4_HDR_MIN + THL + chunk);
		assert_true(seg[i]->len <= 1400);
		assert_int_equal(sp_load_be16(ip + IPV4_OFF_LEN), seg[i]->len);
		assert_int_equal(sp_load_be16(ip + IPV4_OFF_ID), 0x1234 + i);
		assert_int_equal(ref_csum(ip, IPV4_HDR_MIN), 0);
		assert_int_equal(
			ref_csum_l4(TEST_SRC, TEST_DST, IPV4_PROTO_TCP, t, seg[i]->len - 20), 0);
		assert_int_equal(sp_load_be32(t + TCP_OFF_SEQ),
				 (uint32_t)(SEQ0 + (uint32_t)i * MSS));
		assert_int_equal(t[TCP_OFF_FLAGS] & TCP_PSH, i + 1 == n ? TCP_PSH : 0);
		assert_int_equal(t[TCP_OFF_FLAGS] & TCP_CWR, i == 0 ? TCP_CWR : 0);
		assert_true((t[TCP_OFF_FLAGS] & TCP_ACK) != 0);
		assert_memory_equal(t + 20, orig + IPV4_HDR_MIN + 20, THL - 20); /* options */
		assert_memory_equal(t + THL, orig + IPV4_HDR_MIN + THL + (size_t)i * MSS, chunk);
	}
	for (int i = 0; i < n; i++)
		pkt_free(seg[i]);
	assert_int_equal(pool.nfree, 64);
	pkt_pool_destroy(&pool);
}

static void segment_limits_leave_nothing_allocated(void **state)
{
	struct pkt_pool pool;
	struct pkt *seg[64];
	struct vnet_hdr vh;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 64, PKT_BUFSIZE), 0);
	make_big(&vh, TCP_ACK);
	assert_int_equal(gso_segment(&vh, big, BIG, &pool, seg, NSEG - 1), SP_ENOSPACE);
	assert_int_equal(pool.nfree, 64);
	/* A segment size larger than a packet buffer. */
	vh.gso_size = 4000;
	assert_int_equal(gso_segment(&vh, big, BIG, &pool, seg, 64), SP_ENOSPACE);
	assert_int_equal(pool.nfree, 64);
	vh.gso_size = 0;
	assert_int_equal(gso_segment(&vh, big, BIG, &pool, seg, 64), SP_EMALFORMED);
	/* The pool runs out half way. */
	vh.gso_size = MSS;
	pkt_pool_destroy(&pool);
	assert_int_equal(pkt_pool_init(&pool, 20, PKT_BUFSIZE), 0);
	assert_int_equal(gso_segment(&vh, big, BIG, &pool, seg, 64), SP_ENOMEM);
	assert_int_equal(pool.nfree, 20);
	/* A GSO type for another protocol than the packet's. */
	vh.gso_type = VNET_GSO_UDP_L4;
	assert_int_equal(gso_segment(&vh, big, BIG, &pool, seg, 64), SP_EMALFORMED);
	/* A length that is not the IPv4 header's. */
	vh.gso_type = VNET_GSO_TCPV4;
	assert_int_equal(gso_segment(&vh, big, BIG - 1, &pool, seg, 64), SP_EMALFORMED);
	pkt_pool_destroy(&pool);
}

/* The segments, coalesced again, are the original packet: headers, payload, and a
 * partial checksum that completes to the right one. */
static void coalesce_back_to_the_original(void **state)
{
	struct pkt_pool pool;
	struct pkt *seg[64];
	struct vnet_hdr vh, out;
	struct gro g;
	const uint8_t *b;
	uint8_t *ip;
	size_t len;
	int n;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 64, PKT_BUFSIZE), 0);
	make_big(&vh, TCP_ACK | TCP_PSH);
	n = gso_segment(&vh, big, BIG, &pool, seg, 64);
	assert_int_equal(n, NSEG);
	gro_init(&g, grobuf);
	for (int i = 0; i < n; i++)
		assert_int_equal(gro_offer(&g, pkt_data(seg[i]), seg[i]->len), GRO_HELD);
	assert_int_equal(g.merged, NSEG - 1);
	b = gro_flush(&g, &len);
	assert_non_null(b);
	assert_int_equal(len, VNET_HDR_LEN + BIG);
	vnet_hdr_parse(b, &out);
	assert_int_equal(out.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(out.gso_size, MSS);
	assert_int_equal(out.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(out.csum_start, IPV4_HDR_MIN);
	assert_int_equal(out.csum_offset, TCP_OFF_CSUM);
	ip = (uint8_t *)b + VNET_HDR_LEN;
	assert_int_equal(ref_csum(ip, IPV4_HDR_MIN), 0);
	assert_int_equal(sp_load_be16(ip + IPV4_OFF_LEN), BIG);
	/* Completing the partial checksum gives a segment that verifies. */
	assert_int_equal(gso_csum_finish(&out, ip, BIG), 0);
	assert_int_equal(ref_csum_l4(TEST_SRC, TEST_DST, IPV4_PROTO_TCP, ip + 20, BIG - 20), 0);
	/* Apart from the IP ID and the checksums, the original. */
	assert_memory_equal(ip + 20, orig + 20, TCP_OFF_CSUM);
	assert_memory_equal(ip + 20 + TCP_OFF_CSUM + 2, orig + 20 + TCP_OFF_CSUM + 2,
			    BIG - 20 - TCP_OFF_CSUM - 2);
	assert_null(gro_flush(&g, &len));
	for (int i = 0; i < n; i++)
		pkt_free(seg[i]);
	pkt_pool_destroy(&pool);
}

static void what_is_not_coalesced(void **state)
{
	struct pkt_pool pool;
	struct pkt *seg[64];
	struct vnet_hdr vh, out;
	struct gro g;
	size_t len;
	const uint8_t *b;
	int n;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 64, PKT_BUFSIZE), 0);
	make_big(&vh, TCP_ACK);
	n = gso_segment(&vh, big, BIG, &pool, seg, 64);
	gro_init(&g, grobuf);
	/* Out of order: segment 2 after 0 ends the run; alone it goes up as it came. */
	assert_int_equal(gro_offer(&g, pkt_data(seg[0]), seg[0]->len), GRO_HELD);
	assert_int_equal(gro_offer(&g, pkt_data(seg[2]), seg[2]->len), GRO_FLUSH);
	b = gro_flush(&g, &len);
	assert_int_equal(len, VNET_HDR_LEN + seg[0]->len);
	vnet_hdr_parse(b, &out);
	assert_int_equal(out.gso_type, VNET_GSO_NONE);
	assert_int_equal(out.flags, VNET_F_DATA_VALID);
	assert_memory_equal(b + VNET_HDR_LEN, pkt_data(seg[0]), seg[0]->len);
	/* A wrong checksum is never hidden in a run, nor held alone. */
	assert_int_equal(gro_offer(&g, pkt_data(seg[1]), seg[1]->len), GRO_HELD);
	pkt_data(seg[2])[60] ^= 1;
	assert_int_equal(gro_offer(&g, pkt_data(seg[2]), seg[2]->len), GRO_FLUSH);
	assert_non_null(gro_flush(&g, &len));
	assert_int_equal(gro_offer(&g, pkt_data(seg[2]), seg[2]->len), GRO_BYPASS);
	pkt_data(seg[2])[60] ^= 1;
	/* Another flow (the destination port), another acknowledgment, SYN or FIN. */
	assert_int_equal(gro_offer(&g, pkt_data(seg[2]), seg[2]->len), GRO_HELD);
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_DPORT] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_CSUM] ^= 1; /* keeps it verifying */
	assert_int_equal(gro_offer(&g, pkt_data(seg[3]), seg[3]->len), GRO_FLUSH);
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_DPORT] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_CSUM] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_ACK + 3] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_CSUM + 1] ^= 1;
	assert_int_equal(gro_offer(&g, pkt_data(seg[3]), seg[3]->len), GRO_FLUSH);
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_ACK + 3] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_CSUM + 1] ^= 1;
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_FLAGS] |= TCP_FIN;
	assert_int_equal(gro_offer(&g, pkt_data(seg[3]), seg[3]->len), GRO_BYPASS);
	pkt_data(seg[3])[IPV4_HDR_MIN + TCP_OFF_FLAGS] &= (uint8_t)~TCP_FIN;
	/* In order again: it joins. */
	assert_int_equal(gro_offer(&g, pkt_data(seg[3]), seg[3]->len), GRO_HELD);
	assert_int_equal(g.segs, 2);
	/* The short last segment closes the run. */
	assert_int_equal(gro_offer(&g, pkt_data(seg[n - 1]), seg[n - 1]->len), GRO_FLUSH);
	for (int i = 0; i < n; i++)
		pkt_free(seg[i]);
	pkt_pool_destroy(&pool);
}

/* A packet without GSO whose checksum the kernel left partial: completed. */
static void partial_checksum_completed(void **state)
{
	struct pkt_pool pool;
	struct pkt *seg[1];
	struct vnet_hdr vh = { .flags = VNET_F_NEEDS_CSUM,
			       .csum_start = IPV4_HDR_MIN,
			       .csum_offset = UDP_OFF_CSUM };
	uint8_t ip[IPV4_HDR_MIN + UDP_HDR_LEN + 5] = { 0x45 };
	uint32_t s;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 4, PKT_BUFSIZE), 0);
	sp_store_be16(ip + IPV4_OFF_LEN, sizeof(ip));
	ip[IPV4_OFF_PROTO] = IPV4_PROTO_UDP;
	sp_store_be32(ip + IPV4_OFF_SRC, TEST_SRC);
	sp_store_be32(ip + IPV4_OFF_DST, TEST_DST);
	sp_store_be16(ip + 20, 1234);
	sp_store_be16(ip + 22, 53);
	sp_store_be16(ip + 24, UDP_HDR_LEN + 5);
	memcpy(ip + 28, "hello", 5);
	s = (TEST_SRC >> 16) + (TEST_SRC & 0xffff) + (TEST_DST >> 16) + (TEST_DST & 0xffff) +
	    IPV4_PROTO_UDP + UDP_HDR_LEN + 5;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	sp_store_be16(ip + 26, (uint16_t)s);
	assert_int_equal(gso_segment(&vh, ip, sizeof(ip), &pool, seg, 1), 1);
	assert_int_equal(ref_csum_l4(TEST_SRC, TEST_DST, IPV4_PROTO_UDP, pkt_data(seg[0]) + 20,
				     UDP_HDR_LEN + 5),
			 0);
	assert_int_not_equal(sp_load_be16(pkt_data(seg[0]) + 26), 0);
	pkt_free(seg[0]);
	vh.csum_offset = 200; /* outside the packet */
	assert_int_equal(gso_segment(&vh, ip, sizeof(ip), &pool, seg, 1), SP_EMALFORMED);
	assert_int_equal(pool.nfree, 4);
	pkt_pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(segment_64k_in_order),
		cmocka_unit_test(segment_limits_leave_nothing_allocated),
		cmocka_unit_test(coalesce_back_to_the_original),
		cmocka_unit_test(what_is_not_coalesced),
		cmocka_unit_test(partial_checksum_completed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
