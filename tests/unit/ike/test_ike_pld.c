/*
 * Payload bodies (RFC 7296 3.3-3.13): what the builders write parses back to the same
 * fields, and bodies that break the layout rules are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike/ikev2_pld.h"

#include <string.h>

static uint8_t store[8192];

/* Build a chain with fn, then parse it back into m. */
static void roundtrip(int (*fn)(struct ikev2_pld_writer *w), struct ikev2_msg *m, struct pkt *p)
{
	struct ikev2_pld_writer w;
	struct ikev2_pld_iter it;
	struct ikev2_pld sk;
	struct cur c;
	bool has_sk;

	pkt_init(p, store, sizeof(store), PKT_HEADROOM);
	ikev2_pw_init(&w, p);
	assert_int_equal(fn(&w), 0);
	memset(m, 0, sizeof(*m));
	cur_init(&c, pkt_data(p), p->len);
	ikev2_pld_iter_init_chain(&it, &c, ikev2_pw_first(&w));
	assert_int_equal(ikev2_msg_parse(m, &it, &sk, &has_sk), 0);
	assert_false(has_sk);
}

static int build_all(struct ikev2_pld_writer *w)
{
	struct ikev2_algs a[2] = {
		{ .proto = IKE_PROTO_ESP,
		  .encr = IKEV2_ENCR_AES_GCM_16,
		  .encr_keylen = 256,
		  .spi = 0x12345678 },
		{ .proto = IKE_PROTO_ESP,
		  .encr = IKEV2_ENCR_AES_CBC,
		  .encr_keylen = 128,
		  .integ = IKEV2_INTEG_HMAC_SHA2_256_128,
		  .dh = 19,
		  .esn = 1,
		  .spi = 0x12345678 },
	};
	struct ike_ts ts[2] = { { 0x0a010000, 0x0a0100ff, 0, 65535, 0 },
				{ 0x0a020001, 0x0a020001, 500, 500, 17 } };
	uint8_t nonce[32], ke[64];
	uint32_t spis[3] = { 0x1000, 0x2000, 0x3000 };
	int r;

	memset(nonce, 0xab, sizeof(nonce));
	memset(ke, 0xcd, sizeof(ke));
	if ((r = ikev2_put_sa(w, a, 2, 4)) != 0 || (r = ikev2_put_ke(w, 19, ke, 64)) != 0 ||
	    (r = ikev2_put_nonce(w, nonce, 32)) != 0 ||
	    (r = ikev2_put_id(w, IKEV2_PLD_IDI, IKEV2_ID_FQDN, (const uint8_t *)"a.example", 9)) !=
		    0 ||
	    (r = ikev2_put_auth(w, IKEV2_AUTH_PSK, nonce, 32)) != 0 ||
	    (r = ikev2_put_notify(w, IKE_PROTO_ESP, 0xdeadbeef, 4, IKEV2_N_REKEY_SA, NULL, 0)) !=
		    0 ||
	    (r = ikev2_put_notify(w, 0, 0, 0, IKEV2_N_COOKIE, nonce, 20)) != 0 ||
	    (r = ikev2_put_ts(w, IKEV2_PLD_TSI, ts, 2)) != 0 ||
	    (r = ikev2_put_ts(w, IKEV2_PLD_TSR, ts, 1)) != 0 ||
	    (r = ikev2_put_delete(w, IKE_PROTO_ESP, 4, spis, 3)) != 0)
		return r;
	return 0;
}

static void payloads_roundtrip(void **state)
{
	struct ikev2_msg m;
	struct ikev2_prop props[IKEV2_PROP_MAX];
	const struct ikev2_notify *n;
	/* build_all's delete SPIs 0x1000, 0x2000, 0x3000 as they go on the wire */
	static const uint8_t spis[12] = { 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0 };
	uint8_t bytes[64];
	struct pkt p;
	size_t np;

	(void)state;
	roundtrip(build_all, &m, &p);
	assert_true(ikev2_msg_has(&m, IKEV2_PLD_SA));
	assert_int_equal(ikev2_sa_parse(m.sa, props, IKEV2_PROP_MAX, &np), 0);
	assert_int_equal(np, 2);
	assert_int_equal(props[0].num, 1);
	assert_int_equal(props[1].num, 2);
	assert_int_equal(props[0].spi, 0x12345678);
	assert_int_equal(props[0].xf[IKEV2_XF_ENCR - 1][0].id, IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(props[0].xf[IKEV2_XF_ENCR - 1][0].keylen, 256);
	assert_int_equal(props[0].nxf[IKEV2_XF_ESN - 1], 1);
	assert_int_equal(props[1].xf[IKEV2_XF_DH - 1][0].id, 19);
	assert_int_equal(props[1].xf[IKEV2_XF_ESN - 1][0].id, 1);
	assert_false(props[0].unusable);
	assert_int_equal(m.ke_group, 19);
	assert_int_equal(m.ke.len, 64);
	assert_int_equal(m.nonce.len, 32);
	assert_int_equal(m.idi.type, IKEV2_ID_FQDN);
	assert_int_equal(m.idi.len, 9);
	assert_memory_equal(m.idi.data, "a.example", 9);
	assert_int_equal(m.idi.body_len, 13);
	assert_int_equal(m.auth_method, IKEV2_AUTH_PSK);
	assert_non_null(n = ikev2_msg_notify(&m, IKEV2_N_REKEY_SA));
	assert_int_equal(n->spi, 0xdeadbeef);
	assert_int_equal(n->proto, IKE_PROTO_ESP);
	assert_non_null(n = ikev2_msg_notify(&m, IKEV2_N_COOKIE));
	assert_int_equal(n->len, 20);
	assert_null(ikev2_msg_error(&m));
	assert_int_equal(m.ntsi, 2);
	assert_int_equal(m.tsi[1].ts_proto, 17);
	assert_int_equal(m.tsi[1].ts_port_start, 500);
	assert_int_equal(m.tsi[0].ts_end, 0x0a0100ff);
	assert_int_equal(m.ntsr, 1);
	assert_int_equal(m.tsr[0].ts_start, 0x0a010000);
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].proto, IKE_PROTO_ESP);
	assert_int_equal(m.del[0].num, 3);
	assert_memory_equal(m.del[0].spis, spis, sizeof(spis));
	/* The bodies, not only their lengths. */
	memset(bytes, 0xab, 32);
	assert_memory_equal(m.nonce.p, bytes, 32);
	assert_memory_equal(m.auth.p, bytes, 32);
	memset(bytes, 0xcd, 64);
	assert_memory_equal(m.ke.p, bytes, 64);
}

/* Parse one payload body of type t; returns ikev2_msg_parse()'s verdict. */
static int parse_body(uint8_t t, const uint8_t *body, size_t len)
{
	uint8_t b[512];
	struct ikev2_msg m;
	struct ikev2_pld_iter it;
	struct ikev2_pld sk;
	struct cur c;
	bool has_sk;

	b[0] = 0;
	b[1] = 0;
	b[2] = (uint8_t)((len + 4) >> 8);
	b[3] = (uint8_t)(len + 4);
	memcpy(b + 4, body, len);
	memset(&m, 0, sizeof(m));
	cur_init(&c, b, len + 4);
	ikev2_pld_iter_init_chain(&it, &c, t);
	return ikev2_msg_parse(&m, &it, &sk, &has_sk);
}

static void bad_bodies_refused(void **state)
{
	static const uint8_t short_nonce[15] = { 0 };
	static const uint8_t ke_short[3] = { 0, 19, 0 };
	static const uint8_t id_ip_bad[4 + 3] = { IKEV2_ID_IPV4_ADDR, 0, 0, 0, 1, 2, 3 };
	static const uint8_t del_ike_spi[4 + 4] = { IKE_PROTO_IKE, 4, 0, 1, 1, 2, 3, 4 };
	static const uint8_t del_count[4 + 4] = { IKE_PROTO_ESP, 4, 0, 2, 1, 2, 3, 4 };
	static const uint8_t notify_spi3[4 + 3] = { 3, 3, 0x40, 0x09, 1, 2, 3 };
	static const uint8_t ts_short[4 + 8] = { 1, 0, 0, 0, 7, 0, 0, 16, 0, 0, 0xff, 0xff };
	static const uint8_t ts_zero[4] = { 0, 0, 0, 0 };
	uint8_t big_nonce[257];

	(void)state;
	memset(big_nonce, 1, sizeof(big_nonce));
	assert_int_equal(parse_body(IKEV2_PLD_NONCE, short_nonce, 15), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_NONCE, big_nonce, 257), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_NONCE, big_nonce, 256), 0);
	assert_int_equal(parse_body(IKEV2_PLD_KE, ke_short, 3), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_IDI, id_ip_bad, 7), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_DELETE, del_ike_spi, 8), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_DELETE, del_count, 8), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_NOTIFY, notify_spi3, 7), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_TSI, ts_short, 12), SP_EMALFORMED);
	assert_int_equal(parse_body(IKEV2_PLD_TSI, ts_zero, 4), SP_EMALFORMED);
}

static void sa_layout_rules(void **state)
{
	/* one proposal, ESP, SPI 4, one ENCR transform with key length 128 */
	uint8_t good[] = { 0, 0, 0, 20, 1, 3, 4, 1,  0xaa, 0xbb, 0xcc, 0xdd,
			   0, 0, 0, 12, 1, 0, 0, 12, 0x80, 14,	 0,    128 };
	struct ikev2_prop p[IKEV2_PROP_MAX];
	struct cur c;
	size_t n;
	uint8_t b[sizeof(good)];

	(void)state;
	good[3] = sizeof(good);
	cur_init(&c, good, sizeof(good));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].spi, 0xaabbccdd);
	assert_int_equal(p[0].xf[0][0].keylen, 128);
	/* "more" on the last proposal: the chain ends too soon */
	memcpy(b, good, sizeof(b));
	b[0] = 2;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), SP_EMALFORMED);
	/* a proposal length larger than the payload */
	memcpy(b, good, sizeof(b));
	b[3] = sizeof(good) + 1;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), SP_EMALFORMED);
	/* a transform count that does not match */
	memcpy(b, good, sizeof(b));
	b[7] = 2;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), SP_EMALFORMED);
	/* an SPI size of 3 */
	memcpy(b, good, sizeof(b));
	b[6] = 3;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), SP_EMALFORMED);
	/* an unknown attribute: parsed, but the proposal is unusable (3.3.6) */
	memcpy(b, good, sizeof(b));
	b[21] = 15;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), 0);
	assert_true(p[0].unusable);
	/* an unknown transform type: likewise */
	memcpy(b, good, sizeof(b));
	b[16] = 9;
	cur_init(&c, b, sizeof(b));
	assert_int_equal(ikev2_sa_parse(c, p, IKEV2_PROP_MAX, &n), 0);
	assert_true(p[0].unusable);
}

static int build_dup(struct ikev2_pld_writer *w)
{
	uint8_t nonce[16] = { 0 };
	int r;

	if ((r = ikev2_put_nonce(w, nonce, 16)) != 0)
		return r;
	return ikev2_put_nonce(w, nonce, 16);
}

static void repeated_singleton_refused(void **state)
{
	struct ikev2_pld_writer w;
	struct ikev2_pld_iter it;
	struct ikev2_msg m;
	struct ikev2_pld sk;
	struct pkt p;
	struct cur c;
	bool has_sk;

	(void)state;
	pkt_init(&p, store, sizeof(store), PKT_HEADROOM);
	ikev2_pw_init(&w, &p);
	assert_int_equal(build_dup(&w), 0);
	memset(&m, 0, sizeof(m));
	cur_init(&c, pkt_data(&p), p.len);
	ikev2_pld_iter_init_chain(&it, &c, ikev2_pw_first(&w));
	assert_int_equal(ikev2_msg_parse(&m, &it, &sk, &has_sk), SP_EMALFORMED);
}

static void unknown_critical_payload_flagged(void **state)
{
	/* payload type 200 with the critical bit, then nothing */
	uint8_t b[8] = { 0, 0x80, 0, 8, 1, 2, 3, 4 };
	struct ikev2_pld_iter it;
	struct ikev2_msg m;
	struct ikev2_pld sk;
	struct cur c;
	bool has_sk;

	(void)state;
	memset(&m, 0, sizeof(m));
	cur_init(&c, b, sizeof(b));
	ikev2_pld_iter_init_chain(&it, &c, 200);
	assert_int_equal(ikev2_msg_parse(&m, &it, &sk, &has_sk), 0);
	assert_int_equal(m.unsupported_critical, 200);
	b[1] = 0; /* not critical: skipped silently */
	memset(&m, 0, sizeof(m));
	cur_init(&c, b, sizeof(b));
	ikev2_pld_iter_init_chain(&it, &c, 200);
	assert_int_equal(ikev2_msg_parse(&m, &it, &sk, &has_sk), 0);
	assert_int_equal(m.unsupported_critical, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(payloads_roundtrip),
		cmocka_unit_test(bad_bodies_refused),
		cmocka_unit_test(sa_layout_rules),
		cmocka_unit_test(repeated_singleton_refused),
		cmocka_unit_test(unknown_critical_payload_flagged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
