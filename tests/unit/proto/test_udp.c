/* UDP (RFC 768): build and parse, length rules, the pseudo-header checksum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "base/csum.h"
#include "proto/udp.h"

static void round_trip_with_checksum(void **state)
{
	struct udp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "hello", 5), 0);
	assert_int_equal(udp_build(p, 500, 4500, TEST_SRC, TEST_DST, true), 0);
	assert_int_equal(p->len, 13);
	assert_int_equal(ref_csum_l4(TEST_SRC, TEST_DST, 17, pkt_data(p), p->len), 0);
	assert_true(udp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
	/* The checksum binds the addresses (pseudo-header). */
	assert_false(udp_csum_ok(pkt_data(p), p->len, TEST_SRC + 1, TEST_DST));

	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(udp_parse(&c, &h), 0);
	assert_int_equal(cur_pos(&c), UDP_HDR_LEN);
	assert_int_equal(h.udp_sport, 500);
	assert_int_equal(h.udp_dport, 4500);
	assert_int_equal(h.udp_len, 13);
	assert_int_equal(h.udp_csum, sp_load_be16(pkt_data(p) + UDP_OFF_CSUM));

	pkt_data(p)[UDP_HDR_LEN] ^= 1;
	assert_false(udp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
}

static void zero_checksum_means_none(void **state)
{
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	assert_int_equal(pkt_append(p, "esp!", 4), 0);
	assert_int_equal(udp_build(p, 4500, 4500, TEST_SRC, TEST_DST, false), 0);
	assert_int_equal(sp_load_be16(pkt_data(p) + UDP_OFF_CSUM), 0);
	assert_true(udp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
	assert_true(udp_csum_ok(pkt_data(p), p->len, 1, 2)); /* nothing to check */
}

/* RFC 768: a computed checksum of zero is sent as all ones. */
static void computed_zero_is_sent_as_ffff(void **state)
{
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	uint8_t *d;
	uint16_t c;

	(void)state;
	d = pkt_put(p, 2);
	assert_non_null(d);
	sp_store_be16(d, 0);
	assert_int_equal(udp_build(p, 1, 2, TEST_SRC, TEST_DST, true), 0);
	/* Choose the payload word so the datagram sums to 0xffff: checksum 0. */
	c = sp_load_be16(pkt_data(p) + UDP_OFF_CSUM);
	sp_store_be16(pkt_data(p) + UDP_HDR_LEN, c);
	assert_non_null(pkt_pull(p, UDP_HDR_LEN));
	assert_int_equal(udp_build(p, 1, 2, TEST_SRC, TEST_DST, true), 0);
	assert_int_equal(sp_load_be16(pkt_data(p) + UDP_OFF_CSUM), 0xffff);
	assert_true(udp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
}

static void lengths_are_checked(void **state)
{
	uint8_t b[16] = { 0, 1, 0, 2, 0, 16, 0, 0 };
	struct udp_hdr h;
	struct cur c;

	(void)state;
	cur_init(&c, b, 7);
	assert_int_equal(udp_parse(&c, &h), SP_ESHORT);
	cur_init(&c, b, sizeof(b));
	assert_int_equal(udp_parse(&c, &h), 0);
	sp_store_be16(b + UDP_OFF_LEN, 7); /* under the header */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(udp_parse(&c, &h), SP_EMALFORMED);
	sp_store_be16(b + UDP_OFF_LEN, 17); /* past the data */
	assert_int_equal(udp_parse(&c, &h), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);
	sp_store_be16(b + UDP_OFF_LEN, 8); /* empty payload, trailing octets not its own */
	assert_int_equal(udp_parse(&c, &h), 0);
	assert_int_equal(h.udp_len, 8);
	assert_false(udp_csum_ok(b, 7, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_with_checksum),
		cmocka_unit_test(zero_checksum_means_none),
		cmocka_unit_test(computed_zero_is_sent_as_ffff),
		cmocka_unit_test(lengths_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
