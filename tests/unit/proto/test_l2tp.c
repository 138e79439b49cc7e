/* L2TPv2 (RFC 2661 3.1, 4.1, 4.4.1): header bit rules, lengths, offset padding, AVPs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/l2tp.h"

/* An SCCRQ as captures show it: 0xc802 (T, L, S, Ver 2), then Message Type 1 and a
 * Protocol Version AVP. */
static const uint8_t sccrq[] = {
	0xc8, 0x02, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, /* flags, Length 28, tunnel, session */
	0x00, 0x00, 0x00, 0x00,				/* Ns, Nr */
	0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* M, 8, IETF, Message Type: SCCRQ */
	0x80, 0x08, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, /* M, 8, IETF, Protocol Version 1.0 */
};

static int parse(const uint8_t *b, size_t len, struct l2tp_hdr *h)
{
	struct cur c;

	cur_init(&c, b, len);
	return l2tp_parse(&c, h);
}

static void control_message_round_trip(void **state)
{
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	struct l2tp_hdr h;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c, body;
	uint16_t v;

	(void)state;
	assert_int_equal(l2tp_avp_put_msg_type(p, L2TP_MSG_SCCRQ), 0);
	assert_int_equal(
		l2tp_avp_put_u16(p, L2TP_AVP_F_M, L2TP_AVP_PROTO_VERSION, L2TP_PROTO_VERSION), 0);
	assert_int_equal(l2tp_build_ctrl(p, 0, 0, 0, 0), 0);
	assert_int_equal(p->len, sizeof(sccrq));
	assert_memory_equal(pkt_data(p), sccrq, sizeof(sccrq));

	cur_init(&c, sccrq, sizeof(sccrq));
	assert_int_equal(l2tp_parse(&c, &h), 0);
	assert_true(l2tp_is_control(&h));
	assert_int_equal(h.l2tp_ver, 2);
	assert_int_equal(h.l2tp_len, 28);
	assert_int_equal(h.l2tp_hlen, L2TP_HDR_CTRL);
	assert_int_equal(h.l2tp_plen, 16);
	assert_int_equal(cur_pos(&c), L2TP_HDR_CTRL);
	assert_int_equal(cur_get_sub(&c, h.l2tp_plen, &body), 0);
	assert_int_equal(l2tp_ctrl_msg_type(&body, &v), 0);
	assert_int_equal(v, L2TP_MSG_SCCRQ);
	assert_string_equal(l2tp_msg_name(v), "SCCRQ");

	l2tp_avp_iter_init(&it, &body);
	assert_int_equal(l2tp_avp_next(&it, &a), 0);
	assert_true(a.avp_m);
	assert_false(a.avp_h);
	assert_false(a.avp_rsvd);
	assert_int_equal(a.avp_len, 8);
	assert_int_equal(a.avp_vendor, L2TP_VENDOR_IETF);
	assert_int_equal(a.avp_type, L2TP_AVP_MSG_TYPE);
	assert_int_equal(l2tp_avp_next(&it, &a), 0);
	assert_int_equal(a.avp_type, L2TP_AVP_PROTO_VERSION);
	assert_int_equal(l2tp_avp_get_u16(&a, &v), 0);
	assert_int_equal(v, 0x0100);
	assert_string_equal(l2tp_avp_name(a.avp_type), "Protocol Version");
	assert_int_equal(l2tp_avp_next(&it, &a), SP_ENOTFOUND);
	assert_int_equal(l2tp_avp_next(&it, &a), SP_ENOTFOUND);
}

static void data_message_with_every_field(void **state)
{
	struct l2tp_hdr h = { .l2tp_flags = L2TP_F_L | L2TP_F_S | L2TP_F_O | L2TP_F_P,
			      .l2tp_tid = 0x2a2a,
			      .l2tp_sid = 0x0101,
			      .l2tp_ns = 5,
			      .l2tp_nr = 9,
			      .l2tp_off_size = 3 };
	static const uint8_t want[] = {
		0x4b, 0x02, 0x00, 0x14, 0x2a, 0x2a, 0x01, 0x01, 0x00, 0x05,
		0x00, 0x09, 0x00, 0x03, 0x00, 0x00, 0x00, 0xff, 0x03, 0x00
	};
	struct l2tp_hdr g;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(pkt_append(p, "\xff\x03\x00", 3), 0);
	assert_int_equal(l2tp_build(p, &h), 0);
	assert_int_equal(p->len, sizeof(want));
	assert_memory_equal(pkt_data(p), want, sizeof(want));
	cur_init(&c, want, sizeof(want));
	assert_int_equal(l2tp_parse(&c, &g), 0);
	assert_false(l2tp_is_control(&g));
	assert_int_equal(g.l2tp_flags, h.l2tp_flags);
	assert_int_equal(g.l2tp_tid, 0x2a2a);
	assert_int_equal(g.l2tp_sid, 0x0101);
	assert_int_equal(g.l2tp_ns, 5);
	assert_int_equal(g.l2tp_nr, 9);
	assert_int_equal(g.l2tp_off_size, 3);
	assert_int_equal(g.l2tp_hlen, 17); /* "the header ends after ... the offset padding" */
	assert_int_equal(g.l2tp_plen, 3);
	assert_int_equal(cur_ptr(&c)[0], 0xff);

	/* The smallest data header, and payload to the end without a Length field. */
	p = tpkt_init(&t);
	assert_int_equal(pkt_append(p, "\x00\x21", 2), 0);
	assert_int_equal(l2tp_build_data(p, 7, 8), 0);
	assert_int_equal(p->len, 8);
	assert_int_equal(sp_load_be16(pkt_data(p)), 0x0002);
	assert_int_equal(parse(pkt_data(p), p->len, &g), 0);
	assert_int_equal(g.l2tp_len, 0);
	assert_int_equal(g.l2tp_hlen, L2TP_HDR_MIN);
	assert_int_equal(g.l2tp_plen, 2);
}

static void version_rule(void **state)
{
	uint8_t b[sizeof(sccrq)];
	struct l2tp_hdr h;

	(void)state;
	memcpy(b, sccrq, sizeof(b));
	b[1] = 0x03; /* L2TPv3 */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EUNSUPP);
	b[1] = 0x01; /* L2F */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EUNSUPP);
	b[1] = 0xf2; /* reserved bits 8-11 are ignored on receipt */
	assert_int_equal(parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.l2tp_flags, L2TP_F_T | L2TP_F_L | L2TP_F_S);
	b[0] = 0xc8 | 0x34 >> 0 /* bits 2, 3, 5 */;
	assert_int_equal(parse(b, sizeof(b), &h), 0);
}

static void control_bit_rules(void **state)
{
	uint8_t b[sizeof(sccrq) + 2];
	struct l2tp_hdr h;

	(void)state;
	memcpy(b, sccrq, sizeof(sccrq));
	b[0] = 0x88; /* T, S: no L */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	b[0] = 0xc0; /* T, L: no S */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	b[0] = 0xca; /* T, L, S, O */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	b[0] = 0xc9; /* T, L, S, P */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	b[0] = 0x48; /* the same bits without T: a data message with Length and Ns/Nr */
	assert_int_equal(parse(b, sizeof(b), &h), 0);
	assert_false(l2tp_is_control(&h));
}

static void length_rules(void **state)
{
	uint8_t b[sizeof(sccrq) + 4];
	struct l2tp_hdr h;
	struct cur c;

	(void)state;
	memcpy(b, sccrq, sizeof(sccrq));
	assert_int_equal(parse(b, 11, &h), SP_ESHORT); /* control header cut */
	assert_int_equal(parse(b, 1, &h), SP_ESHORT);
	sp_store_be16(b + 2, 11); /* Length under the header */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	sp_store_be16(b + 2, 12); /* a ZLB: header only */
	assert_int_equal(parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.l2tp_plen, 0);
	sp_store_be16(b + 2, sizeof(b) + 1); /* past the data */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(l2tp_parse(&c, &h), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);
	sp_store_be16(b + 2, sizeof(sccrq)); /* octets past Length are not the message's */
	assert_int_equal(parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.l2tp_plen, 16);
}

static void offset_padding_rules(void **state)
{
	/* Data, L and O: Length 14, tunnel, session, Offset Size 2, pad, 2 payload octets,
	 * then 2 octets past Length. */
	uint8_t b[] = {
		0x42, 0x02, 0x00, 0x0e, 0, 1, 0, 2, 0x00, 0x02, 0xaa, 0xaa, 0x00, 0x21, 0, 0
	};
	uint8_t d[] = { 0x02, 0x02, 0, 1, 0, 2, 0x00, 0x20, 0xaa, 0xaa, 0x00, 0x21 };
	struct l2tp_hdr h;

	(void)state;
	assert_int_equal(parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.l2tp_off_size, 2);
	assert_int_equal(h.l2tp_hlen, 12);
	assert_int_equal(h.l2tp_plen, 2);
	b[9] = 0x05; /* padding past Length (but within the data) */
	assert_int_equal(parse(b, sizeof(b), &h), SP_EMALFORMED);
	b[9] = 0x20; /* padding past the data */
	assert_int_equal(parse(b, sizeof(b), &h), SP_ESHORT);

	/* O without L: tunnel, session, Offset Size; the payload runs to the end. */
	assert_int_equal(parse(d, sizeof(d), &h), SP_ESHORT); /* 32 octets of padding */
	d[7] = 2;
	assert_int_equal(parse(d, sizeof(d), &h), 0);
	assert_int_equal(h.l2tp_hlen, 10);
	assert_int_equal(h.l2tp_plen, 2);
}

static void build_refuses_rule_breakers(void **state)
{
	struct l2tp_hdr h = { .l2tp_flags = L2TP_F_T | L2TP_F_L };
	static uint8_t big[PKT_HEADROOM + 65536];
	struct tpkt t;
	struct pkt *p = tpkt_init(&t), q;

	(void)state;
	assert_int_equal(l2tp_build(p, &h), SP_EINVAL); /* control without S */
	h.l2tp_flags = L2TP_F_T | L2TP_F_L | L2TP_F_S | L2TP_F_P;
	assert_int_equal(l2tp_build(p, &h), SP_EINVAL);
	h.l2tp_flags = L2TP_F_L | 0x0004; /* a reserved bit */
	assert_int_equal(l2tp_build(p, &h), SP_EINVAL);
	assert_int_equal(p->len, 0);
	pkt_init(&q, big, sizeof(big), PKT_HEADROOM);
	assert_non_null(pkt_put(&q, 65535 - 11));
	assert_int_equal(l2tp_build_ctrl(&q, 1, 2, 3, 4), SP_EINVAL); /* 65536 octets */
}

static void avp_rules(void **state)
{
	uint8_t b[16] = { 0x80, 0x06, 0, 0, 0, 5 };
	struct l2tp_avp_iter it;
	struct l2tp_avp a;
	uint32_t u32;
	uint16_t u16;
	struct cur c;

	(void)state;
	/* Length 6: no value. */
	cur_init(&c, b, 6);
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), 0);
	assert_int_equal(cur_left(&a.avp_val), 0);
	assert_int_equal(l2tp_avp_get_u16(&a, &u16), SP_EMALFORMED);
	/* Length 5: under the minimum. */
	b[1] = 5;
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), SP_EMALFORMED);
	assert_int_equal(l2tp_avp_next(&it, &a), SP_EMALFORMED);
	/* Length 17 in 16 octets, and a partial header. */
	b[1] = 17;
	cur_init(&c, b, sizeof(b));
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), SP_EMALFORMED);
	cur_init(&c, b, 5);
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), SP_EMALFORMED);
	/* Reserved bits set: reported, for the caller to treat it as unrecognised. */
	b[0] = 0x84;
	b[1] = 10;
	cur_init(&c, b, 10);
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), 0);
	assert_true(a.avp_rsvd);
	assert_true(a.avp_m);
	assert_int_equal(l2tp_avp_get_u32(&a, &u32), 0);
	assert_int_equal(l2tp_avp_get_u16(&a, &u16), SP_EMALFORMED);
	/* Hidden values need revealing first (RFC 2661 4.3). */
	b[0] = 0xc0;
	cur_init(&c, b, 10);
	l2tp_avp_iter_init(&it, &c);
	assert_int_equal(l2tp_avp_next(&it, &a), 0);
	assert_true(a.avp_h);
	assert_int_equal(l2tp_avp_get_u32(&a, &u32), SP_EUNSUPP);
}

static void message_type_rules(void **state)
{
	uint8_t b[16];
	uint16_t type = 99;
	struct cur c;

	(void)state;
	cur_init(&c, b, 0); /* Zero-Length Body: an acknowledgement (5.8) */
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), 0);
	assert_int_equal(type, L2TP_MSG_ZLB);
	memcpy(b, sccrq + 12, 8);
	cur_init(&c, b, 8);
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), 0);
	assert_int_equal(type, L2TP_MSG_SCCRQ);
	b[5] = L2TP_AVP_PROTO_VERSION; /* first AVP is not Message Type */
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), SP_EMALFORMED);
	b[5] = 0;
	b[3] = 9; /* a vendor's attribute 0 */
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), SP_EMALFORMED);
	b[3] = 0;
	b[0] = 0xc0; /* hidden */
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), SP_EMALFORMED);
	b[0] = 0x80;
	b[1] = 10; /* four octets of value */
	memset(b + 8, 0, 2);
	cur_init(&c, b, 10);
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), SP_EMALFORMED);
	cur_init(&c, b, 5);
	assert_int_equal(l2tp_ctrl_msg_type(&c, &type), SP_EMALFORMED);
}

static void avp_builders(void **state)
{
	static uint8_t value[L2TP_AVP_LEN_MAX];
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	assert_int_equal(l2tp_avp_put(p, 0x2000, 0, 1, NULL, 0), SP_EINVAL); /* reserved bit */
	assert_int_equal(l2tp_avp_put(p, 0, 0, 1, value, L2TP_AVP_LEN_MAX - 5), SP_EINVAL);
	assert_int_equal(l2tp_avp_put(p, L2TP_AVP_F_H, 311, 5, value, L2TP_AVP_LEN_MAX - 6), 0);
	assert_int_equal(p->len, 1023);
	assert_int_equal(sp_load_be16(pkt_data(p)), 0x4000 | 1023);
	assert_int_equal(sp_load_be16(pkt_data(p) + 2), 311);
	assert_int_equal(l2tp_avp_put_u32(p, 0, L2TP_AVP_FRAMING_CAP, 3), 0);
	assert_int_equal(p->len, 1033);
	assert_int_equal(sp_load_be32(pkt_data(p) + 1029), 3);
	assert_string_equal(l2tp_avp_name(20), "unknown");
	assert_string_equal(l2tp_msg_name(5), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(control_message_round_trip),
		cmocka_unit_test(data_message_with_every_field),
		cmocka_unit_test(version_rule),
		cmocka_unit_test(control_bit_rules),
		cmocka_unit_test(length_rules),
		cmocka_unit_test(offset_padding_rules),
		cmocka_unit_test(build_refuses_rule_breakers),
		cmocka_unit_test(avp_rules),
		cmocka_unit_test(message_type_rules),
		cmocka_unit_test(avp_builders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
