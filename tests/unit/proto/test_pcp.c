/* PCP (RFC 6887) with spinat's GPN option: byte layouts written out from the RFC's
 * diagrams (7.1, 7.2, 11.1, 12.1, 7.3), round trips, and every refusal of 8.3 and 7.3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/pcp.h"

#include <string.h>

/* A PEER request from 10.0.0.2 for ESP towards 198.51.100.7 with the GPN option, as the
 * RFC's figures lay it out, octet by octet. */
static const uint8_t peer_req[] = {
	/* 7.1: version 2, R=0 opcode PEER, reserved, requested lifetime 600 */
	0x02,
	0x02,
	0x00,
	0x00,
	0x00,
	0x00,
	0x02,
	0x58,
	/* PCP client IP ::ffff:10.0.0.2 */
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0xff,
	0xff,
	10,
	0,
	0,
	2,
	/* 12.1: nonce (96 bits) */
	1,
	2,
	3,
	4,
	5,
	6,
	7,
	8,
	9,
	10,
	11,
	12,
	/* protocol 50, reserved (24), internal port 0, suggested external port 0 */
	50,
	0,
	0,
	0,
	0x00,
	0x00,
	0x00,
	0x00,
	/* suggested external IP :: unspecified as ::ffff:0.0.0.0 */
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0xff,
	0xff,
	0,
	0,
	0,
	0,
	/* remote peer port 0, reserved, remote peer IP ::ffff:198.51.100.7 */
	0x00,
	0x00,
	0x00,
	0x00,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0xff,
	0xff,
	198,
	51,
	100,
	7,
	/* 7.3: option 100, reserved, length 48 */
	100,
	0,
	0x00,
	0x30,
	/* GPN: 32 bits, flags R, src offset 0, dst offset 0, reserved */
	32,
	0x40,
	0,
	0,
	0,
	0,
	0,
	0,
	/* min 256, max 0xffffffff, unspecified 0 */
	0,
	0,
	0,
	0,
	0,
	0,
	0x01,
	0x00,
	0,
	0,
	0,
	0,
	0xff,
	0xff,
	0xff,
	0xff,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	/* private 0, global 0 */
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
};

static void peer_request_layout(void **state)
{
	struct pcp_msg m, back;
	uint8_t buf[PCP_MSG_MAX], res;
	struct wcur w;
	struct cur c;

	(void)state;
	assert_int_equal(sizeof(peer_req), PCP_HDR_LEN + PCP_PEER_LEN + 4 + PCP_GPN_OPT_LEN);
	memset(&m, 0, sizeof(m));
	m.pcp_opcode = PCP_OP_PEER;
	m.pcp_lifetime = 600;
	m.pcp_client = 0x0a000002;
	for (unsigned i = 0; i < PCP_NONCE_LEN; i++)
		m.pcp_nonce[i] = (uint8_t)(i + 1);
	m.pcp_proto = 50;
	m.pcp_peer_ip = 0xc6336407;
	m.pcp_has_gpn = true;
	m.pcp_gpn.pcp_gpn_bits = 32;
	m.pcp_gpn.pcp_gpn_flags = PCP_GPN_F_RECEIVER;
	m.pcp_gpn.pcp_gpn_min = 256;
	m.pcp_gpn.pcp_gpn_max = 0xffffffff;
	wcur_init(&w, buf, sizeof(buf));
	assert_int_equal(pcp_build(&w, &m), 0);
	assert_int_equal(w.off, sizeof(peer_req));
	assert_memory_equal(buf, peer_req, sizeof(peer_req));

	cur_init(&c, peer_req, sizeof(peer_req));
	assert_int_equal(pcp_parse(&c, false, &back, &res), 0);
	assert_int_equal(res, PCP_R_SUCCESS);
	assert_true(back.pcp_client_v4);
	assert_int_equal(back.pcp_client, 0x0a000002);
	assert_int_equal(back.pcp_peer_ip, 0xc6336407);
	assert_int_equal(back.pcp_proto, 50);
	assert_true(back.pcp_has_gpn);
	assert_int_equal(back.pcp_gpn.pcp_gpn_min, 256);
	assert_int_equal(back.pcp_gpn.pcp_gpn_max, 0xffffffff);
	assert_memory_equal(back.pcp_nonce, m.pcp_nonce, PCP_NONCE_LEN);
	/* A request is not a response. */
	cur_init(&c, peer_req, sizeof(peer_req));
	assert_int_equal(pcp_parse(&c, true, &back, &res), SP_EMALFORMED);
	assert_int_equal(res, PCP_R_NONE);
}

static void map_response_layout(void **state)
{
	static const uint8_t want[] = {
		/* 7.2: version, R|MAP, reserved, result 0, lifetime 120, epoch 77, reserved */
		0x02,
		0x81,
		0x00,
		0x00,
		0,
		0,
		0,
		120,
		0,
		0,
		0,
		77,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		/* 11.1: nonce */
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		9,
		/* protocol TCP, reserved, internal port 40000, assigned external port 40001 */
		6,
		0,
		0,
		0,
		0x9c,
		0x40,
		0x9c,
		0x41,
		/* assigned external IP ::ffff:203.0.113.1 */
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0xff,
		0xff,
		203,
		0,
		113,
		1,
	};
	struct pcp_msg m, back;
	uint8_t buf[PCP_MSG_MAX], res;
	struct wcur w;
	struct cur c;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.pcp_opcode = PCP_OP_MAP;
	m.pcp_response = true;
	m.pcp_lifetime = 120;
	m.pcp_epoch = 77;
	memset(m.pcp_nonce, 9, PCP_NONCE_LEN);
	m.pcp_proto = 6;
	m.pcp_int_port = 40000;
	m.pcp_ext_port = 40001;
	m.pcp_ext_ip = 0xcb007101;
	wcur_init(&w, buf, sizeof(buf));
	assert_int_equal(pcp_build(&w, &m), 0);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	cur_init(&c, want, sizeof(want));
	assert_int_equal(pcp_parse(&c, true, &back, &res), 0);
	assert_int_equal(back.pcp_epoch, 77);
	assert_int_equal(back.pcp_result, PCP_R_SUCCESS);
	assert_int_equal(back.pcp_ext_port, 40001);
	assert_int_equal(back.pcp_ext_ip, 0xcb007101);
	assert_string_equal(pcp_result_name(PCP_R_USER_EX_QUOTA), "USER_EX_QUOTA");
	assert_string_equal(pcp_result_name(200), "unknown");
}

static uint8_t parse_code(const uint8_t *b, size_t len)
{
	struct pcp_msg m;
	uint8_t res;
	struct cur c;

	cur_init(&c, b, len);
	if (pcp_parse(&c, false, &m, &res) == 0)
		return PCP_R_SUCCESS;
	assert_int_not_equal(res, PCP_R_SUCCESS);
	return res;
}

static void refusals(void **state)
{
	uint8_t b[sizeof(peer_req) + 8];

	(void)state;
	/* RFC 8.3: under 2 octets, or R set in a request: no answer. */
	assert_int_equal(parse_code(peer_req, 1), PCP_R_NONE);
	memcpy(b, peer_req, sizeof(peer_req));
	b[1] |= PCP_R_BIT;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_NONE);
	/* Version 1 (NAT-PMP) and unknown opcodes. */
	memcpy(b, peer_req, sizeof(peer_req));
	b[0] = 1;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_UNSUPP_VERSION);
	memcpy(b, peer_req, sizeof(peer_req));
	b[1] = 5;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_UNSUPP_OPCODE);
	/* Cut short, not a multiple of 4, too long. */
	assert_int_equal(parse_code(peer_req, PCP_HDR_LEN + PCP_PEER_LEN - 4),
			 PCP_R_MALFORMED_REQUEST);
	assert_int_equal(parse_code(peer_req, sizeof(peer_req) - 2), PCP_R_MALFORMED_REQUEST);
	{
		uint8_t big[PCP_MSG_MAX + 4] = { 0 };

		memcpy(big, peer_req, sizeof(peer_req));
		assert_int_equal(parse_code(big, sizeof(big)), PCP_R_MALFORMED_REQUEST);
	}
	/* An option whose length runs past the end, a GPN option with a bad width, with
	 * bits outside the field, a value range upside down; an unknown mandatory option;
	 * an unknown optional one is ignored. */
	memcpy(b, peer_req, sizeof(peer_req));
	b[PCP_HDR_LEN + PCP_PEER_LEN + 3] = 0x34;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_MALFORMED_OPTION);
	memcpy(b, peer_req, sizeof(peer_req));
	b[PCP_HDR_LEN + PCP_PEER_LEN + 4] = 24;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_MALFORMED_OPTION);
	memcpy(b, peer_req, sizeof(peer_req));
	b[PCP_HDR_LEN + PCP_PEER_LEN + 4 + 16] = 1; /* max above 2^32 for 32 bits */
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_MALFORMED_OPTION);
	memcpy(b, peer_req, sizeof(peer_req));
	memset(b + PCP_HDR_LEN + PCP_PEER_LEN + 4 + 8, 0xff, 4); /* min > max */
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_MALFORMED_OPTION);
	memcpy(b, peer_req, sizeof(peer_req));
	b[PCP_HDR_LEN + PCP_PEER_LEN] = 99;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_UNSUPP_OPTION);
	b[PCP_HDR_LEN + PCP_PEER_LEN] = 0xe0;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_SUCCESS);
	/* The option twice. */
	{
		uint8_t two[sizeof(peer_req) + 4 + PCP_GPN_OPT_LEN];

		memcpy(two, peer_req, sizeof(peer_req));
		memcpy(two + sizeof(peer_req), peer_req + PCP_HDR_LEN + PCP_PEER_LEN,
		       4 + PCP_GPN_OPT_LEN);
		assert_int_equal(parse_code(two, sizeof(two)), PCP_R_MALFORMED_OPTION);
	}
	/* A remote peer that is not IPv4. */
	memcpy(b, peer_req, sizeof(peer_req));
	b[PCP_HDR_LEN + 40 + 10] = 0x20;
	assert_int_equal(parse_code(b, sizeof(peer_req)), PCP_R_MALFORMED_REQUEST);
}

static void error_copies_request(void **state)
{
	uint8_t buf[PCP_MSG_MAX], res;
	struct pcp_msg m;
	struct wcur w;
	struct cur c;

	(void)state;
	wcur_init(&w, buf, sizeof(buf));
	assert_int_equal(
		pcp_build_error(&w, peer_req, sizeof(peer_req), PCP_R_USER_EX_QUOTA, 1800, 5), 0);
	assert_int_equal(w.off, sizeof(peer_req));
	assert_int_equal(buf[1], 0x82);
	assert_int_equal(buf[3], PCP_R_USER_EX_QUOTA);
	assert_int_equal(sp_load_be32(buf + 4), 1800);
	assert_int_equal(sp_load_be32(buf + 8), 5);
	for (unsigned i = 12; i < PCP_HDR_LEN; i++)
		assert_int_equal(buf[i], 0);
	assert_memory_equal(buf + PCP_HDR_LEN, peer_req + PCP_HDR_LEN,
			    sizeof(peer_req) - PCP_HDR_LEN);
	cur_init(&c, buf, w.off);
	assert_int_equal(pcp_parse(&c, true, &m, &res), 0);
	assert_int_equal(m.pcp_result, PCP_R_USER_EX_QUOTA);
	/* A short request still gets a whole header back. */
	wcur_init(&w, buf, sizeof(buf));
	assert_int_equal(pcp_build_error(&w, peer_req, 6, PCP_R_MALFORMED_REQUEST, 0, 0), 0);
	assert_int_equal(w.off, PCP_HDR_LEN);
	wcur_init(&w, buf, sizeof(buf));
	assert_int_equal(pcp_build_error(&w, peer_req, 1, PCP_R_MALFORMED_REQUEST, 0, 0),
			 SP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peer_request_layout),
		cmocka_unit_test(map_response_layout),
		cmocka_unit_test(refusals),
		cmocka_unit_test(error_copies_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
