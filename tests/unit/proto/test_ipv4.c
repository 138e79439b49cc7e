/* IPv4 header (RFC 791): build and parse, every malformed header, checksums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "base/csum.h"
#include "proto/ipv4.h"

/* A widely published example header (UDP, 192.168.0.1 -> 192.168.0.199): checksum b861. */
static const uint8_t known[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

static void known_header_builds_and_parses(void **state)
{
	struct ipv4_hdr h = { .ip_len = 0x73,
			      .ip_frag = IPV4_FLAG_DF,
			      .ip_ttl = 64,
			      .ip_proto = IPV4_PROTO_UDP,
			      .ip_src = 0xc0a80001,
			      .ip_dst = 0xc0a800c7 };
	uint8_t buf[0x73] = { 0 };
	struct ipv4_hdr g;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	assert_int_equal(p->len, IPV4_HDR_MIN);
	assert_memory_equal(pkt_data(p), known, sizeof(known));

	memcpy(buf, known, sizeof(known));
	cur_init(&c, buf, sizeof(buf));
	assert_int_equal(ipv4_parse(&c, &g), 0);
	assert_int_equal(cur_pos(&c), IPV4_HDR_MIN);
	assert_int_equal(g.ip_hl, 20);
	assert_int_equal(g.ip_len, 0x73);
	assert_int_equal(g.ip_ttl, 64);
	assert_int_equal(g.ip_proto, IPV4_PROTO_UDP);
	assert_int_equal(g.ip_csum, 0xb861);
	assert_int_equal(g.ip_src, 0xc0a80001);
	assert_int_equal(g.ip_dst, 0xc0a800c7);
	assert_true(g.ip_csum_ok);
	assert_false(ipv4_is_fragment(&g));
}

static void options_round_trip(void **state)
{
	static const uint8_t opts[] = { 0x94,	      0x04,	    0x00,	  0x00,
					IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_EOL };
	struct ipv4_hdr h = { .ip_tos = 0x10,
			      .ip_id = 0xbeef,
			      .ip_ttl = 1,
			      .ip_proto = 2,
			      .ip_src = TEST_SRC,
			      .ip_dst = TEST_DST };
	struct ipv4_hdr g;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "payload!", 8), 0);
	assert_int_equal(ipv4_build(p, &h, opts, sizeof(opts)), 0);
	assert_int_equal(p->len, 20 + 8 + 8);
	assert_int_equal(pkt_data(p)[0], 0x47);
	assert_int_equal(ref_csum(pkt_data(p), 28), 0);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ipv4_parse(&c, &g), 0);
	assert_int_equal(g.ip_hl, 28);
	assert_int_equal(g.ip_len, 36);
	assert_int_equal(g.ip_tos, 0x10);
	assert_int_equal(g.ip_id, 0xbeef);
	assert_memory_equal(g.ip_opts, opts, sizeof(opts));
	assert_true(g.ip_csum_ok);
	assert_int_equal(cur_left(&c), 8);
	assert_memory_equal(cur_ptr(&c), "payload!", 8);
}

static void fragments(void **state)
{
	struct ipv4_hdr h = { .ip_frag = IPV4_FLAG_MF };

	(void)state;
	assert_true(ipv4_is_fragment(&h));
	assert_int_equal(ipv4_frag_offset(&h), 0);
	h.ip_frag = 185; /* last fragment at 1480 */
	assert_true(ipv4_is_fragment(&h));
	assert_int_equal(ipv4_frag_offset(&h), 1480);
	h.ip_frag = IPV4_FLAG_DF;
	assert_false(ipv4_is_fragment(&h));
}

static void malformed_headers(void **state)
{
	uint8_t b[64];
	struct ipv4_hdr g;
	struct cur c;

	(void)state;
	memset(b, 0, sizeof(b));
	memcpy(b, known, sizeof(known));
	sp_store_be16(b + IPV4_OFF_LEN, sizeof(b));

	cur_init(&c, b, 19); /* shorter than the fixed header */
	assert_int_equal(ipv4_parse(&c, &g), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);

	b[0] = 0x65; /* version 6 */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse(&c, &g), SP_EMALFORMED);
	b[0] = 0x44; /* IHL 4: under 20 octets */
	assert_int_equal(ipv4_parse(&c, &g), SP_EMALFORMED);
	b[0] = 0x4f; /* IHL 15 = 60 octets, more than total length 40 */
	sp_store_be16(b + IPV4_OFF_LEN, 40);
	assert_int_equal(ipv4_parse(&c, &g), SP_EMALFORMED);
	b[0] = 0x46; /* IHL 24, total length 24, but only 22 octets there */
	cur_init(&c, b, 22);
	sp_store_be16(b + IPV4_OFF_LEN, 24);
	assert_int_equal(ipv4_parse(&c, &g), SP_ESHORT);
	assert_int_equal(ipv4_parse_embedded(&c, &g), SP_ESHORT); /* options cut off */
	b[0] = 0x45;
	sp_store_be16(b + IPV4_OFF_LEN, 19); /* total length under the header */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse(&c, &g), SP_EMALFORMED);
	sp_store_be16(b + IPV4_OFF_LEN, 65); /* total length past the data */
	assert_int_equal(ipv4_parse(&c, &g), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);

	/* Link padding after ip_len is not part of the packet, and is allowed. */
	sp_store_be16(b + IPV4_OFF_LEN, 46);
	assert_int_equal(ipv4_parse(&c, &g), 0);
	assert_int_equal(g.ip_len, 46);
}

static void bad_checksum_is_reported(void **state)
{
	uint8_t b[sizeof(known)];
	struct ipv4_hdr g;
	struct cur c;

	(void)state;
	memcpy(b, known, sizeof(b));
	sp_store_be16(b + IPV4_OFF_LEN, sizeof(b));
	ipv4_set_csum(b, sizeof(b));
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse(&c, &g), 0);
	assert_true(g.ip_csum_ok);
	b[IPV4_OFF_TTL] ^= 1;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse(&c, &g), 0); /* parsed, but flagged */
	assert_false(g.ip_csum_ok);
}

static void quoted_header_parses_when_cut(void **state)
{
	uint8_t b[28];
	struct ipv4_hdr g;
	struct cur c;

	(void)state;
	memcpy(b, known, sizeof(known)); /* ip_len 0x73, only 28 octets quoted */
	memset(b + 20, 0xab, 8);
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse(&c, &g), SP_ESHORT);
	assert_int_equal(ipv4_parse_embedded(&c, &g), 0);
	assert_int_equal(g.ip_len, 0x73);
	assert_int_equal(cur_left(&c), 8);
	b[0] = 0x55;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ipv4_parse_embedded(&c, &g), SP_EMALFORMED);
}

static void in_place_rewrites_keep_the_checksum(void **state)
{
	uint8_t b[sizeof(known)];

	(void)state;
	memcpy(b, known, sizeof(b));
	ipv4_dec_ttl(b);
	assert_int_equal(b[IPV4_OFF_TTL], 63);
	assert_int_equal(ref_csum(b, sizeof(b)), 0);
	assert_int_equal(ipv4_set_src(b, 0xc6336401), 0xc0a80001);
	assert_int_equal(ipv4_set_dst(b, 0x0a000001), 0xc0a800c7);
	assert_int_equal(sp_load_be32(b + IPV4_OFF_SRC), 0xc6336401);
	assert_int_equal(ref_csum(b, sizeof(b)), 0);
	/* TTL 1 -> 0 carries across the word with the protocol. */
	b[IPV4_OFF_TTL] = 1;
	ipv4_set_csum(b, sizeof(b));
	ipv4_dec_ttl(b);
	assert_int_equal(ref_csum(b, sizeof(b)), 0);
}

static void build_refuses_bad_arguments(void **state)
{
	static uint8_t big[PKT_HEADROOM + 65536];
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_src = TEST_SRC, .ip_dst = TEST_DST };
	uint8_t opts[44] = { 0 };
	uint8_t small[PKT_HEADROOM];
	struct tpkt t;
	struct pkt *p = tpkt_init(&t), q;

	(void)state;
	assert_int_equal(ipv4_build(p, &h, opts, 3), SP_EINVAL);  /* not a word multiple */
	assert_int_equal(ipv4_build(p, &h, opts, 44), SP_EINVAL); /* over 40 */
	h.ip_len = 10;						  /* under the header */
	assert_int_equal(ipv4_build(p, &h, NULL, 0), SP_EINVAL);
	assert_int_equal(p->len, 0);
	h.ip_len = 0;
	pkt_init(&q, small, sizeof(small), 8); /* no headroom */
	assert_int_equal(ipv4_build(&q, &h, NULL, 0), SP_ENOSPACE);
	pkt_init(&q, big, sizeof(big), PKT_HEADROOM); /* a payload that makes 65536 octets */
	assert_non_null(pkt_put(&q, 65536 - IPV4_HDR_MIN));
	assert_int_equal(ipv4_build(&q, &h, NULL, 0), SP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_header_builds_and_parses),
		cmocka_unit_test(options_round_trip),
		cmocka_unit_test(fragments),
		cmocka_unit_test(malformed_headers),
		cmocka_unit_test(bad_checksum_is_reported),
		cmocka_unit_test(quoted_header_parses_when_cut),
		cmocka_unit_test(in_place_rewrites_keep_the_checksum),
		cmocka_unit_test(build_refuses_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
