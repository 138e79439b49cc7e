/* PPP framing (RFC 1661 2, 5, 6; RFC 1662 3.1): address/control, protocol, LCP packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/ppp.h"

static int parse(const uint8_t *b, size_t len, struct ppp_hdr *h, size_t *pos)
{
	struct cur c;
	int r;

	cur_init(&c, b, len);
	r = ppp_parse(&c, h);
	*pos = cur_pos(&c);
	return r;
}

static void framing_variants(void **state)
{
	struct ppp_hdr h;
	size_t pos;

	(void)state;
	assert_int_equal(parse((uint8_t[]){ 0xff, 0x03, 0xc0, 0x21, 1 }, 5, &h, &pos), 0);
	assert_true(h.ppp_acf);
	assert_int_equal(h.ppp_proto, PPP_PROTO_LCP);
	assert_int_equal(h.ppp_hlen, 4);
	assert_int_equal(pos, 4);
	/* Address-and-Control-Field-Compression: no 0xFF 0x03. */
	assert_int_equal(parse((uint8_t[]){ 0x00, 0x21, 0x45 }, 3, &h, &pos), 0);
	assert_false(h.ppp_acf);
	assert_int_equal(h.ppp_proto, PPP_PROTO_IP);
	assert_int_equal(pos, 2);
	/* Protocol-Field-Compression: one odd octet. */
	assert_int_equal(parse((uint8_t[]){ 0xff, 0x03, 0x21, 0x45 }, 4, &h, &pos), 0);
	assert_int_equal(h.ppp_proto, PPP_PROTO_IP);
	assert_int_equal(h.ppp_hlen, 3);
	assert_int_equal(parse((uint8_t[]){ 0x57 }, 1, &h, &pos), 0);
	assert_int_equal(h.ppp_proto, PPP_PROTO_IPV6);
}

static void malformed_framing(void **state)
{
	struct ppp_hdr h;
	size_t pos;

	(void)state;
	assert_int_equal(parse((uint8_t[]){ 0 }, 0, &h, &pos), SP_ESHORT);
	assert_int_equal(parse((uint8_t[]){ 0xff }, 1, &h, &pos), SP_ESHORT);
	assert_int_equal(parse((uint8_t[]){ 0xff, 0x05, 0x00, 0x21 }, 4, &h, &pos), SP_EMALFORMED);
	assert_int_equal(parse((uint8_t[]){ 0xff, 0x03 }, 2, &h, &pos), SP_ESHORT);
	assert_int_equal(parse((uint8_t[]){ 0x00 }, 1, &h, &pos), SP_ESHORT);
	/* Two octets whose low one is even: not a protocol number. */
	assert_int_equal(parse((uint8_t[]){ 0x00, 0x20 }, 2, &h, &pos), SP_EMALFORMED);
	/* An odd first octet is a compressed field, so 0x01xx cannot be sent (RFC 1661 2). */
	assert_int_equal(parse((uint8_t[]){ 0x01, 0x21 }, 2, &h, &pos), 0);
	assert_int_equal(h.ppp_proto, 0x0001);
	assert_int_equal(pos, 1);
}

static void build_and_lcp(void **state)
{
	static const uint8_t want[] = { 0xff, 0x03, 0xc0, 0x21, 1, 7,	 0,    14,   1,
					4,    0x05, 0x78, 5,	6, 0x5a, 0x17, 0x3c, 0x01 };
	static const uint8_t mru[] = { 0x05, 0x78 }, magic[] = { 0x5a, 0x17, 0x3c, 0x01 };
	struct ppp_opt o;
	struct ppp_cp cp;
	struct ppp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(ppp_opt_put(p, PPP_LCP_OPT_MRU, mru, sizeof(mru)), 0);
	assert_int_equal(ppp_opt_put(p, PPP_LCP_OPT_MAGIC, magic, sizeof(magic)), 0);
	assert_int_equal(ppp_cp_build(p, PPP_CP_CONF_REQ, 7), 0);
	assert_int_equal(ppp_build(p, PPP_PROTO_LCP, true), 0);
	assert_int_equal(p->len, sizeof(want));
	assert_memory_equal(pkt_data(p), want, sizeof(want));
	assert_int_equal(ppp_build(p, 0x0020, true), SP_EINVAL);
	assert_int_equal(ppp_build(p, 0x0121, true), SP_EINVAL);

	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(ppp_parse(&c, &h), 0);
	assert_int_equal(ppp_cp_parse(&c, &cp), 0);
	assert_int_equal(cp.cp_code, PPP_CP_CONF_REQ);
	assert_int_equal(cp.cp_id, 7);
	assert_int_equal(cp.cp_len, 14);
	assert_int_equal(ppp_opt_next(&cp.cp_data, &o), 0);
	assert_int_equal(o.opt_type, PPP_LCP_OPT_MRU);
	assert_int_equal(sp_load_be16(cur_ptr(&o.opt_val)), 1400);
	assert_int_equal(ppp_opt_next(&cp.cp_data, &o), 0);
	assert_int_equal(o.opt_type, PPP_LCP_OPT_MAGIC);
	assert_int_equal(cur_left(&o.opt_val), 4);
	assert_int_equal(ppp_opt_next(&cp.cp_data, &o), SP_ENOTFOUND);

	/* Without address and control. */
	p = tpkt_init(&t);
	assert_int_equal(ppp_build(p, PPP_PROTO_IPCP, false), 0);
	assert_int_equal(p->len, 2);
	assert_int_equal(sp_load_be16(pkt_data(p)), 0x8021);
}

static void control_packet_lengths(void **state)
{
	uint8_t b[12] = { PPP_CP_ECHO_REQ, 1, 0, 8, 0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee };
	struct ppp_opt o;
	struct ppp_cp cp;
	struct cur c;

	(void)state;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ppp_cp_parse(&c, &cp), 0);
	assert_int_equal(cur_left(&cp.cp_data), 4);
	assert_int_equal(cur_left(&c), 0); /* octets past Length are padding (RFC 1661 5) */
	sp_store_be16(b + 2, 3);
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ppp_cp_parse(&c, &cp), SP_EMALFORMED);
	sp_store_be16(b + 2, 13);
	assert_int_equal(ppp_cp_parse(&c, &cp), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);
	cur_init(&c, b, 3);
	assert_int_equal(ppp_cp_parse(&c, &cp), SP_ESHORT);

	/* Options: Length under 2, and past the data. */
	cur_init(&c, (uint8_t[]){ 1, 1, 0 }, 3);
	assert_int_equal(ppp_opt_next(&c, &o), SP_EMALFORMED);
	assert_int_equal(cur_pos(&c), 0);
	cur_init(&c, (uint8_t[]){ 1, 4, 0 }, 3);
	assert_int_equal(ppp_opt_next(&c, &o), SP_EMALFORMED);
	cur_init(&c, (uint8_t[]){ 7, 2 }, 2); /* PFC: an option without data */
	assert_int_equal(ppp_opt_next(&c, &o), 0);
	assert_int_equal(cur_left(&o.opt_val), 0);
	assert_int_equal(ppp_opt_next(&c, &o), SP_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(framing_variants),
		cmocka_unit_test(malformed_framing),
		cmocka_unit_test(build_and_lcp),
		cmocka_unit_test(control_packet_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
