/* NAT-T (RFC 3948 2.1-2.3): what a UDP 4500 payload is, and IKE framing by port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/esp.h"
#include "proto/ikev2.h"
#include "proto/natt.h"
#include "proto/udp.h"

static void keepalive(void **state)
{
	static const uint8_t ff = 0xff, fe = 0xfe;
	enum natt_kind k;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(natt_build_keepalive(p), 0);
	assert_int_equal(p->len, 1);
	assert_int_equal(pkt_data(p)[0], 0xff);
	assert_int_equal(natt_build_keepalive(p), SP_EINVAL); /* only into an empty packet */
	cur_init(&c, &ff, 1);
	assert_int_equal(natt_classify(&c, &k), 0);
	assert_int_equal(k, NATT_KEEPALIVE);
	assert_int_equal(cur_left(&c), 0);
	assert_string_equal(natt_kind_name(k), "keepalive");
	cur_init(&c, &fe, 1); /* one octet that is not 0xFF */
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
	cur_init(&c, &ff, 0); /* empty datagram */
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
}

static void marker_then_ike(void **state)
{
	uint8_t b[NATT_MARKER_LEN + IKEV2_HDR_LEN] = { 0 };
	enum natt_kind k;
	struct cur c;

	(void)state;
	b[4] = 0x11; /* the IKE initiator SPI starts after the marker */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(natt_classify(&c, &k), 0);
	assert_int_equal(k, NATT_IKE);
	assert_ptr_equal(cur_ptr(&c), b + NATT_MARKER_LEN);
	/* The marker followed by less than an IKE header is nothing valid. */
	cur_init(&c, b, sizeof(b) - 1);
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
	assert_int_equal(cur_pos(&c), 0);
	cur_init(&c, b, 4);
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
}

static void esp(void **state)
{
	uint8_t b[ESP_HDR_LEN + 16] = { 0xc0, 0xde, 0, 1, 0, 0, 0, 1 };
	struct esp_hdr h;
	enum natt_kind k;
	struct cur c;

	(void)state;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(natt_classify(&c, &k), 0);
	assert_int_equal(k, NATT_ESP);
	assert_int_equal(cur_pos(&c), 0); /* left at the SPI for esp_parse() */
	assert_int_equal(esp_parse(&c, &h), 0);
	assert_int_equal(h.esp_spi, 0xc0de0001);
	cur_init(&c, b, ESP_HDR_LEN - 1); /* too short for an ESP header */
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
	cur_init(&c, b, 2);
	assert_int_equal(natt_classify(&c, &k), SP_EMALFORMED);
}

static void ike_framing_by_port(void **state)
{
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	uint8_t ike[IKEV2_HDR_LEN] = { 0x11 };
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, ike, sizeof(ike)), 0);
	assert_int_equal(natt_ike_frame(p, UDP_PORT_IKE), 0);
	assert_int_equal(p->len, IKEV2_HDR_LEN); /* port 500: bare */
	assert_int_equal(natt_ike_frame(p, UDP_PORT_IKE_NATT), 0);
	assert_int_equal(p->len, NATT_MARKER_LEN + IKEV2_HDR_LEN);
	assert_int_equal(sp_load_be32(pkt_data(p)), 0);
	assert_int_equal(natt_ike_frame(p, 1701), SP_EINVAL);

	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(natt_ike_unframe(&c, UDP_PORT_IKE_NATT), 0);
	assert_int_equal(cur_pos(&c), NATT_MARKER_LEN);
	cur_init(&c, pkt_data(p) + 4, p->len - 4);
	assert_int_equal(natt_ike_unframe(&c, UDP_PORT_IKE), 0);
	assert_int_equal(cur_pos(&c), 0);
	/* On 4500 an unmarked payload is ESP, not IKE. */
	assert_int_equal(natt_ike_unframe(&c, UDP_PORT_IKE_NATT), SP_EMALFORMED);
	assert_int_equal(cur_pos(&c), 0);
	assert_int_equal(natt_ike_unframe(&c, 53), SP_EINVAL);
}

static void marker_builder(void **state)
{
	uint8_t b[8];
	struct pkt p;

	(void)state;
	pkt_init(&p, b, sizeof(b), 2);
	assert_int_equal(natt_push_marker(&p), SP_ENOSPACE);
	pkt_init(&p, b, sizeof(b), 4);
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(natt_push_marker(&p), 0);
	assert_int_equal(sp_load_be32(pkt_data(&p)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keepalive),
		cmocka_unit_test(marker_then_ike),
		cmocka_unit_test(esp),
		cmocka_unit_test(ike_framing_by_port),
		cmocka_unit_test(marker_builder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
