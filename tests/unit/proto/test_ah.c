/* AH header (RFC 4302 2): the Payload Len field in 32-bit words minus 2, ICV bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/ah.h"
#include "proto/ipv4.h"

static void round_trip(void **state)
{
	struct ah_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	uint8_t *icv;
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "data", 4), 0);
	assert_int_equal(ah_build_hdr(p, IPV4_PROTO_TCP, 0xa0a00001, 77, 12, &icv), 0);
	assert_int_equal(p->len, 24 + 4);
	/* RFC 4302 2.2: 24 octets of header is 6 words, minus 2 = 4. */
	assert_int_equal(pkt_data(p)[AH_OFF_LEN], 4);
	assert_ptr_equal(icv, pkt_data(p) + AH_OFF_ICV);
	for (int i = 0; i < 12; i++)
		assert_int_equal(icv[i], 0);
	icv[0] = 0x99;
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ah_parse(&c, &h), 0);
	assert_int_equal(h.ah_nh, IPV4_PROTO_TCP);
	assert_int_equal(h.ah_len, 4);
	assert_int_equal(h.ah_spi, 0xa0a00001);
	assert_int_equal(h.ah_seq, 77);
	assert_int_equal(h.ah_icvlen, 12);
	assert_int_equal(h.ah_icv[0], 0x99);
	assert_int_equal(cur_pos(&c), 24);
	assert_int_equal(ah_total_len(h.ah_len), 24);

	/* A 16-octet ICV (HMAC-SHA-256-128) and none at all (NULL integrity is not AH's). */
	p = tpkt_init(&t);
	assert_int_equal(ah_build_hdr(p, 4, 1, 1, 16, &icv), 0);
	assert_int_equal(pkt_data(p)[AH_OFF_LEN], 5);
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ah_parse(&c, &h), 0);
	assert_int_equal(h.ah_icvlen, 16);
}

static void length_field_rules(void **state)
{
	uint8_t b[12 + 64 + 4] = { IPV4_PROTO_ICMP, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1 };
	struct ah_hdr h;
	struct cur c;

	(void)state;
	cur_init(&c, b, 11);
	assert_int_equal(ah_parse(&c, &h), SP_ESHORT);
	cur_init(&c, b, sizeof(b));
	b[AH_OFF_LEN] = 0; /* 8 octets: shorter than the fixed part */
	assert_int_equal(ah_parse(&c, &h), SP_EMALFORMED);
	b[AH_OFF_LEN] = 1; /* 12 octets: no ICV, still well formed */
	assert_int_equal(ah_parse(&c, &h), 0);
	assert_int_equal(h.ah_icvlen, 0);
	cur_init(&c, b, sizeof(b));
	b[AH_OFF_LEN] = 17; /* 76 octets: ICV 64, the most allowed */
	assert_int_equal(ah_parse(&c, &h), 0);
	assert_int_equal(h.ah_icvlen, 64);
	cur_init(&c, b, sizeof(b));
	b[AH_OFF_LEN] = 18; /* ICV 68: over AH_ICV_MAX */
	assert_int_equal(ah_parse(&c, &h), SP_EMALFORMED);
	b[AH_OFF_LEN] = 10; /* 48 octets claimed, 40 there */
	cur_init(&c, b, 40);
	assert_int_equal(ah_parse(&c, &h), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);
	b[AH_OFF_LEN] = 4;
	b[AH_OFF_SPI + 3] = 0; /* SPI 0 */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ah_parse(&c, &h), SP_EMALFORMED);
}

static void build_refuses_bad_icv(void **state)
{
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	uint8_t *icv = (uint8_t *)1;

	(void)state;
	assert_int_equal(ah_build_hdr(p, 6, 1, 1, 10, &icv), SP_EINVAL);
	assert_null(icv);
	assert_int_equal(ah_build_hdr(p, 6, 1, 1, 68, &icv), SP_EINVAL);
	assert_int_equal(p->len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(length_field_rules),
		cmocka_unit_test(build_refuses_bad_icv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
