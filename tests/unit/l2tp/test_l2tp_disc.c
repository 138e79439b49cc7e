/*
 * The NAT discovery service (004 [0025]) as a STUN Binding server: RFC 8489 answers with
 * XOR-MAPPED-ADDRESS and FINGERPRINT, classic RFC 3489 answers with MAPPED-ADDRESS,
 * refusals (CHANGE-REQUEST, RESPONSE-ADDRESS, 420 for unknown attributes), the rate limit,
 * and the wire format against RFC 5769's sample and the CRC-32 check value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "l2tp/l2tp_disc.h"
#include "proto/stun.h"

#define SRV  SP_IP4(198, 51, 100, 7)
#define NATD SP_IP4(203, 0, 113, 9)

struct ctx {
	struct l2tp_disc d;
	uint8_t ob[PKT_HEADROOM + 1500];
	struct pkt out;
};

static int ask(struct ctx *x, sp_time now, const uint8_t *in, size_t len)
{
	pkt_init(&x->out, x->ob, sizeof(x->ob), PKT_HEADROOM);
	return l2tp_disc_input(&x->d, now, SRV, STUN_PORT, NATD, 40001, in, len, &x->out);
}

static void setup(struct ctx *x)
{
	struct l2tp_disc_cfg c;

	l2tp_disc_cfg_defaults(&c);
	l2tp_disc_init(&x->d, &c);
}

static void wire_format_vectors(void **state)
{
	/* RFC 5769 2.2: the XOR-MAPPED-ADDRESS of the sample IPv4 response. */
	const uint8_t xma[] = { 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
				0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43 };
	struct stun_attr a;
	struct cur c;
	uint32_t addr;
	uint16_t port;

	(void)state;
	/* The CRC-32 check value of "123456789". */
	assert_int_equal(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	cur_init(&c, xma, sizeof(xma));
	assert_int_equal(stun_attr_next(&c, &a), 0);
	assert_int_equal(a.sa_type, STUN_A_XOR_MAPPED_ADDRESS);
	assert_int_equal(stun_get_xor_addr(&a, &addr, &port), 0);
	assert_int_equal(addr, SP_IP4(192, 0, 2, 1));
	assert_int_equal(port, 32853);
	/* Padding: a 5-octet value takes 8; a truncated pad is malformed. */
	const uint8_t padded[] = { 0x80, 0x22, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };

	cur_init(&c, padded, sizeof(padded));
	assert_int_equal(stun_attr_next(&c, &a), 0);
	assert_int_equal(a.sa_len, 5);
	assert_int_equal(cur_left(&c), 0);
	cur_init(&c, padded, sizeof(padded) - 1);
	assert_int_equal(stun_attr_next(&c, &a), SP_EMALFORMED);
}

static void rfc8489_request_gets_xor_mapped_address(void **state)
{
	struct ctx x;
	const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t rb[PKT_HEADROOM + 64];
	struct pkt req;
	struct stun_hdr h;
	struct cur c;
	uint32_t addr = 0;
	uint16_t port = 0;

	(void)state;
	setup(&x);
	pkt_init(&req, rb, sizeof(rb), PKT_HEADROOM);
	assert_int_equal(l2tp_disc_request(&req, tid), 0);
	assert_true(stun_fingerprint_ok(pkt_data(&req), req.len));
	assert_int_equal(ask(&x, 0, pkt_data(&req), req.len), 0);
	cur_init(&c, pkt_data(&x.out), x.out.len);
	assert_int_equal(stun_parse(&c, &h), 0);
	assert_int_equal(h.stun_type, STUN_BINDING_OK);
	assert_false(h.stun_classic);
	assert_memory_equal(h.stun_tid + 4, tid, 12);
	assert_true(stun_fingerprint_ok(pkt_data(&x.out), x.out.len));
	assert_int_equal(l2tp_disc_response(pkt_data(&x.out), x.out.len, tid, &addr, &port), 0);
	assert_int_equal(addr, NATD);
	assert_int_equal(port, 40001);
	/* Not ours: another transaction. */
	const uint8_t other[12] = { 9 };

	assert_int_equal(l2tp_disc_response(pkt_data(&x.out), x.out.len, other, &addr, &port),
			 SP_ENOTFOUND);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_TX_RFC8489], 1);
	/* A damaged FINGERPRINT is refused. */
	rb[PKT_HEADROOM + req.len - 1] ^= 1;
	assert_int_equal(ask(&x, 0, pkt_data(&req), req.len), SP_EAUTH);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_FINGERPRINT], 1);
}

static void classic_request_gets_mapped_address(void **state)
{
	struct ctx x;
	uint8_t req[28] = { 0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 1,	2,
			    3,	  4,	5,    6,    7,	  8,	9,    10,   11, 12 };
	struct stun_hdr h;
	struct stun_attr a;
	struct cur c;
	uint32_t addr;
	uint16_t port;
	int seen = 0;

	(void)state;
	setup(&x);
	assert_int_equal(ask(&x, 0, req, 20), 0);
	cur_init(&c, pkt_data(&x.out), x.out.len);
	assert_int_equal(stun_parse(&c, &h), 0);
	assert_true(h.stun_classic);
	assert_memory_equal(h.stun_tid, req + 4, 16);
	while (stun_attr_next(&h.stun_attrs, &a) == 0) {
		assert_int_equal(stun_get_addr(&a, &addr, &port), 0);
		if (a.sa_type == STUN_A_MAPPED_ADDRESS) {
			assert_int_equal(addr, NATD);
			assert_int_equal(port, 40001);
		} else {
			assert_int_equal(addr, SRV);
			assert_int_equal(port, STUN_PORT);
		}
		seen |= 1 << a.sa_type;
	}
	assert_int_equal(seen, (1 << 1) | (1 << 4) | (1 << 5));
	/* CHANGE-REQUEST with change IP or port set cannot be honoured here. */
	req[3] = 8;
	memcpy(req + 20, "\x00\x03\x00\x04\x00\x00\x00\x06", 8);
	assert_int_equal(ask(&x, 0, req, 28), SP_EUNSUPP);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_CHANGE_REQUEST], 1);
	/* With neither flag it is an ordinary request. */
	req[27] = 0;
	assert_int_equal(ask(&x, 0, req, 28), 0);
	/* RESPONSE-ADDRESS would make the service a reflector. */
	memcpy(req + 20, "\x00\x02\x00\x08", 4);
	req[3] = 12;
	uint8_t big[32];

	memcpy(big, req, 24);
	memcpy(big + 24, "\x00\x01\x00\x50\x0a\x00\x00\x01", 8);
	big[3] = 12;
	assert_int_equal(ask(&x, 0, big, 32), SP_EPOLICY);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_TX_RFC3489], 2);
}

static void unknown_required_attribute_gets_420(void **state)
{
	struct ctx x;
	uint8_t req[28] = { 0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42 };
	struct stun_hdr h;
	struct stun_attr a;
	struct cur c;
	bool err = false, unk = false;

	(void)state;
	setup(&x);
	memcpy(req + 20,
	       "\x00\x77\x00\x04"
	       "abcd",
	       8);
	assert_int_equal(ask(&x, 0, req, 28), 0);
	cur_init(&c, pkt_data(&x.out), x.out.len);
	assert_int_equal(stun_parse(&c, &h), 0);
	assert_int_equal(h.stun_type, STUN_BINDING_ERR);
	while (stun_attr_next(&h.stun_attrs, &a) == 0) {
		if (a.sa_type == STUN_A_ERROR_CODE) {
			err = cur_ptr(&a.sa_val)[2] == 4 && cur_ptr(&a.sa_val)[3] == 20;
		} else if (a.sa_type == STUN_A_UNKNOWN_ATTRIBUTES) {
			unk = a.sa_len == 2 && sp_load_be16(cur_ptr(&a.sa_val)) == 0x0077;
		}
	}
	assert_true(err && unk);
	/* Comprehension-optional (0x8000 and up) unknown attributes are ignored. */
	memcpy(req + 20,
	       "\x80\x77\x00\x04"
	       "abcd",
	       8);
	assert_int_equal(ask(&x, 0, req, 28), 0);
	assert_int_equal(sp_load_be16(pkt_data(&x.out)), STUN_BINDING_OK);
}

static void refusals_and_rate_limit(void **state)
{
	struct ctx x;
	struct l2tp_disc_cfg c;
	uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

	(void)state;
	l2tp_disc_cfg_defaults(&c);
	c.rate = 2;
	c.burst = 3;
	l2tp_disc_init(&x.d, &c);
	/* Not STUN, an indication, another method, a length that is not a multiple of 4. */
	assert_int_equal(ask(&x, 0, (const uint8_t *)"\xc0\x01", 2), SP_EMALFORMED);
	req[1] = 0x11;
	assert_int_equal(ask(&x, 0, req, 20), SP_ESTATE);
	req[1] = 0x03;
	assert_int_equal(ask(&x, 0, req, 20), SP_EUNSUPP);
	req[1] = 0x01;
	req[3] = 2;
	assert_int_equal(ask(&x, 0, req, 20), SP_EMALFORMED);
	req[3] = 0;
	/* Three at once, then two a second. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ask(&x, SP_SEC(10), req, 20), 0);
	assert_int_equal(ask(&x, SP_SEC(10), req, 20), SP_EAGAIN);
	assert_int_equal(ask(&x, SP_SEC(10) + SP_MSEC(500), req, 20), 0);
	assert_int_equal(ask(&x, SP_SEC(10) + SP_MSEC(500), req, 20), SP_EAGAIN);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_RATE_LIMITED], 2);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_MALFORMED], 2);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_NOT_REQUEST], 1);
	assert_int_equal(x.d.ctr[L2TP_DISC_CTR_DROP_NOT_BINDING], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_format_vectors),
		cmocka_unit_test(rfc8489_request_gets_xor_mapped_address),
		cmocka_unit_test(classic_request_gets_mapped_address),
		cmocka_unit_test(unknown_required_attribute_gets_420),
		cmocka_unit_test(refusals_and_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
