/* ESP header (RFC 4303 2): SPI and sequence number; SPI 0 never appears on the wire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/esp.h"

static void round_trip(void **state)
{
	static const uint8_t want[] = { 0xc0, 0xde, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a, 'x' };
	struct esp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "x", 1), 0);
	assert_int_equal(esp_build_hdr(p, 0xc0de0001, 42), 0);
	assert_int_equal(p->len, sizeof(want));
	assert_memory_equal(pkt_data(p), want, sizeof(want));
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(esp_parse(&c, &h), 0);
	assert_int_equal(h.esp_spi, 0xc0de0001);
	assert_int_equal(h.esp_seq, 42);
	assert_int_equal(cur_pos(&c), ESP_HDR_LEN);
}

static void short_and_zero_spi(void **state)
{
	uint8_t b[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	struct esp_hdr h;
	struct cur c;

	(void)state;
	cur_init(&c, b, 7);
	assert_int_equal(esp_parse(&c, &h), SP_ESHORT);
	cur_init(&c, b, sizeof(b));
	assert_int_equal(esp_parse(&c, &h), SP_EMALFORMED); /* the NAT-T non-ESP marker */
	assert_int_equal(cur_pos(&c), 0);
	b[3] = 1; /* reserved range (RFC 4303 2.1) but on the wire it is an SPI */
	assert_int_equal(esp_parse(&c, &h), 0);
}

static void no_headroom(void **state)
{
	uint8_t b[16];
	struct pkt p;

	(void)state;
	pkt_init(&p, b, sizeof(b), 4);
	assert_int_equal(esp_build_hdr(&p, 0x1000, 1), SP_ENOSPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(short_and_zero_spi),
		cmocka_unit_test(no_headroom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
