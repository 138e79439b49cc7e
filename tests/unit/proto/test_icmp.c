/* ICMP (RFC 792): echo build/parse, errors with their embedded header, checksums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

static void echo_round_trip(void **state)
{
	struct icmp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "abcdefgh", 8), 0);
	assert_int_equal(icmp_build_echo(p, ICMP_ECHO_REQUEST, 0x1234, 0x0007), 0);
	assert_int_equal(p->len, ICMP_HDR_LEN + 8);
	assert_int_equal(pkt_data(p)[0], 8);
	assert_int_equal(ref_csum(pkt_data(p), p->len), 0);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_int_equal(cur_left(&c), 0); /* the message is consumed whole */
	assert_int_equal(h.icmp_type, ICMP_ECHO_REQUEST);
	assert_int_equal(h.icmp_id, 0x1234);
	assert_int_equal(h.icmp_seq, 7);
	assert_int_equal(h.icmp_rest, 0x12340007);
	assert_true(h.icmp_csum_ok);
	assert_null(h.icmp_inner);

	/* A reply of the same data, odd length so the checksum pads a byte. */
	p = tpkt_init(&t);
	assert_int_equal(pkt_append(p, "xyz", 3), 0);
	assert_int_equal(icmp_build_echo(p, ICMP_ECHO_REPLY, 1, 2), 0);
	assert_int_equal(ref_csum(pkt_data(p), p->len), 0);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_true(h.icmp_csum_ok);
	assert_int_equal(icmp_build_echo(p, ICMP_DEST_UNREACH, 1, 2), SP_EINVAL);
}

static void corrupted_checksum_is_flagged(void **state)
{
	struct icmp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(icmp_build_echo(p, ICMP_ECHO_REQUEST, 9, 9), 0);
	pkt_data(p)[ICMP_OFF_SEQ] ^= 0x80;
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_false(h.icmp_csum_ok);
	icmp_set_csum(pkt_data(p), p->len);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_true(h.icmp_csum_ok);
}

/* The UDP datagram a port-unreachable error quotes. */
static void build_orig(struct tpkt *t, size_t payload)
{
	struct ipv4_hdr ih = {
		.ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP, .ip_src = TEST_SRC, .ip_dst = TEST_DST
	};
	struct pkt *p = tpkt_init(t);

	assert_non_null(pkt_put(p, (uint32_t)payload));
	assert_int_equal(udp_build(p, 40000, 53, TEST_SRC, TEST_DST, true), 0);
	assert_int_equal(ipv4_build(p, &ih, NULL, 0), 0);
}

static void error_carries_the_offending_header(void **state)
{
	struct tpkt o, t;
	struct pkt *p = tpkt_init(&t);
	struct ipv4_hdr in;
	struct icmp_hdr h;
	struct cur c;

	(void)state;
	build_orig(&o, 12);
	assert_int_equal(icmp_build_error(p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0,
					  pkt_data(&o.p), o.p.len),
			 0);
	assert_int_equal(p->len, ICMP_HDR_LEN + o.p.len);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_int_equal(h.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(h.icmp_code, ICMP_UNREACH_PORT);
	assert_true(h.icmp_csum_ok);
	assert_non_null(h.icmp_inner);
	assert_int_equal(h.icmp_inner_len, o.p.len);
	assert_memory_equal(h.icmp_inner, pkt_data(&o.p), o.p.len);
	cur_init(&c, h.icmp_inner, h.icmp_inner_len);
	assert_int_equal(ipv4_parse_embedded(&c, &in), 0);
	assert_int_equal(in.ip_src, TEST_SRC);
	assert_int_equal(sp_load_be16(cur_ptr(&c)), 40000);

	/* Frag-needed carries the next-hop MTU in the second word (RFC 1191). */
	p = tpkt_init(&t);
	assert_int_equal(icmp_build_error(p, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1400,
					  pkt_data(&o.p), o.p.len),
			 0);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(icmp_parse(&c, &h), 0);
	assert_int_equal(h.icmp_rest, 1400);
}

static void error_quote_is_capped(void **state)
{
	struct tpkt o, t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	build_orig(&o, 1000);
	assert_int_equal(icmp_build_error(p, ICMP_TIME_EXCEEDED, 0, 0, pkt_data(&o.p), o.p.len), 0);
	/* RFC 1812 4.3.2.3: the error fits in 576 octets with its IP header. */
	assert_int_equal(p->len, 576 - IPV4_HDR_MIN);
	assert_memory_equal(pkt_data(p) + ICMP_HDR_LEN, pkt_data(&o.p), 576 - 28);
}

static void error_without_embedded_header_is_malformed(void **state)
{
	uint8_t b[ICMP_HDR_LEN + 28];
	struct icmp_hdr h;
	struct tpkt o;
	struct cur c;

	(void)state;
	build_orig(&o, 0);
	memset(b, 0, sizeof(b));
	b[0] = ICMP_DEST_UNREACH;
	memcpy(b + ICMP_HDR_LEN, pkt_data(&o.p), 28);
	icmp_set_csum(b, sizeof(b));
	cur_init(&c, b, sizeof(b));
	assert_int_equal(icmp_parse(&c, &h), 0);

	cur_init(&c, b, ICMP_HDR_LEN); /* nothing quoted */
	assert_int_equal(icmp_parse(&c, &h), SP_EMALFORMED);
	cur_init(&c, b, ICMP_HDR_LEN + 27); /* header but only 7 octets after it */
	assert_int_equal(icmp_parse(&c, &h), SP_EMALFORMED);
	assert_int_equal(cur_pos(&c), 0);
	b[ICMP_HDR_LEN] = 0x65; /* quoted version 6 */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(icmp_parse(&c, &h), SP_EMALFORMED);
	b[ICMP_HDR_LEN] = 0x43; /* quoted IHL under 5 */
	assert_int_equal(icmp_parse(&c, &h), SP_EMALFORMED);
	b[ICMP_HDR_LEN] = 0x46; /* quoted IHL 24: needs 32 octets, 28 there */
	assert_int_equal(icmp_parse(&c, &h), SP_EMALFORMED);

	/* The same bytes as an echo are fine: only errors embed a header. */
	b[0] = ICMP_ECHO_REPLY;
	assert_int_equal(icmp_parse(&c, &h), 0);
	cur_init(&c, b, ICMP_HDR_LEN - 1);
	assert_int_equal(icmp_parse(&c, &h), SP_ESHORT);
}

static void error_build_refuses_bad_input(void **state)
{
	uint8_t junk[40] = { 0x45 };
	struct tpkt o, t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	build_orig(&o, 8);
	assert_int_equal(icmp_build_error(p, ICMP_ECHO_REQUEST, 0, 0, pkt_data(&o.p), o.p.len),
			 SP_EINVAL);
	assert_int_equal(icmp_build_error(p, ICMP_DEST_UNREACH, 0, 0, pkt_data(&o.p), 19),
			 SP_EINVAL);
	assert_int_equal(icmp_build_error(p, ICMP_DEST_UNREACH, 0, 0, pkt_data(&o.p), 27),
			 SP_EINVAL); /* header without 8 octets after */
	junk[0] = 0x44;
	assert_int_equal(icmp_build_error(p, ICMP_DEST_UNREACH, 0, 0, junk, sizeof(junk)),
			 SP_EINVAL);
	assert_int_equal(p->len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(echo_round_trip),
		cmocka_unit_test(corrupted_checksum_is_flagged),
		cmocka_unit_test(error_carries_the_offending_header),
		cmocka_unit_test(error_quote_is_capped),
		cmocka_unit_test(error_without_embedded_header_is_malformed),
		cmocka_unit_test(error_build_refuses_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
