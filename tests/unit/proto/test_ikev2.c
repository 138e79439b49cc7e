/* IKEv2 framing (RFC 7296 3.1, 3.2, 3.14): header, payload chain iterator and writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/ikev2.h"

/* An IKE_SA_INIT request header as Figure 4 lays it out, then SA (empty) and Nonce. */
static const uint8_t msg[] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* IKE SA Initiator's SPI */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* IKE SA Responder's SPI */
	33,   0x20, 34,	  0x08,				/* Next SA, 2.0, IKE_SA_INIT, I */
	0x00, 0x00, 0x00, 0x00,				/* Message ID */
	0x00, 0x00, 0x00, 0x2c,				/* Length 44 */
	40,   0x00, 0x00, 0x04,				/* SA: next Nonce, length 4 */
	0,    0x80, 0x00, 0x0c,				/* Nonce: last, critical, length 12 */
	0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
};

static void header_parses_field_by_field(void **state)
{
	struct ikev2_hdr h;
	struct cur c;

	(void)state;
	cur_init(&c, msg, sizeof(msg));
	assert_int_equal(ikev2_parse(&c, &h), 0);
	assert_int_equal(cur_pos(&c), IKEV2_HDR_LEN);
	assert_true(h.ike_ispi == 0x1122334455667788ull);
	assert_true(h.ike_rspi == 0);
	assert_int_equal(h.ike_np, IKEV2_PLD_SA);
	assert_int_equal(h.ike_mjver, 2);
	assert_int_equal(h.ike_mnver, 0);
	assert_int_equal(h.ike_exch, IKEV2_EXCH_IKE_SA_INIT);
	assert_int_equal(h.ike_flags, IKEV2_FLAG_I);
	assert_true(ikev2_is_initiator(&h));
	assert_false(ikev2_is_response(&h));
	assert_int_equal(h.ike_msgid, 0);
	assert_int_equal(h.ike_len, 44);
	assert_string_equal(ikev2_exch_name(h.ike_exch), "IKE_SA_INIT");
}

static void header_builds_the_same_bytes(void **state)
{
	struct ikev2_hdr h = { .ike_ispi = 0x1122334455667788ull,
			       .ike_np = IKEV2_PLD_SA,
			       .ike_mjver = 7, /* ignored: always 2.0 */
			       .ike_mnver = 3,
			       .ike_exch = IKEV2_EXCH_IKE_SA_INIT,
			       .ike_flags = IKEV2_FLAG_I | IKEV2_FLAG_V | 0x01, /* V, X cleared */
			       .ike_len = 999 /* ignored: computed */ };
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	assert_int_equal(pkt_append(p, msg + IKEV2_HDR_LEN, sizeof(msg) - IKEV2_HDR_LEN), 0);
	assert_int_equal(ikev2_build(p, &h), 0);
	assert_int_equal(p->len, sizeof(msg));
	assert_memory_equal(pkt_data(p), msg, sizeof(msg));
	h.ike_ispi = 0; /* RFC 7296 3.1: MUST NOT be zero */
	assert_int_equal(ikev2_build(p, &h), SP_EINVAL);
}

static void header_rules(void **state)
{
	uint8_t b[sizeof(msg) + 4];
	struct ikev2_hdr h;
	struct cur c;

	(void)state;
	memcpy(b, msg, sizeof(msg));
	memset(b + sizeof(msg), 0xee, 4);

	cur_init(&c, b, IKEV2_HDR_LEN - 1);
	assert_int_equal(ikev2_parse(&c, &h), SP_ESHORT);
	cur_init(&c, b, sizeof(msg) - 1); /* Length 44 past the 43 octets there */
	assert_int_equal(ikev2_parse(&c, &h), SP_ESHORT);
	cur_init(&c, b, sizeof(b)); /* trailing octets in the datagram are not the message's */
	assert_int_equal(ikev2_parse(&c, &h), 0);
	assert_int_equal(h.ike_len, 44);

	cur_init(&c, b, sizeof(b));
	sp_store_be32(b + IKEV2_OFF_LEN, 27); /* under the header */
	assert_int_equal(ikev2_parse(&c, &h), SP_EMALFORMED);
	sp_store_be32(b + IKEV2_OFF_LEN, 0x80000000u); /* absurd */
	assert_int_equal(ikev2_parse(&c, &h), SP_EMALFORMED);
	sp_store_be32(b + IKEV2_OFF_LEN, 28); /* a bare header is a valid frame */
	assert_int_equal(ikev2_parse(&c, &h), 0);
	cur_init(&c, b, sizeof(b));

	sp_store_be32(b + IKEV2_OFF_LEN, 44);
	b[IKEV2_OFF_VER] = 0x10; /* IKEv1 / ISAKMP */
	assert_int_equal(ikev2_parse(&c, &h), SP_EUNSUPP);
	assert_int_equal(cur_pos(&c), 0);
	assert_int_equal(ikev2_parse_anyver(&c, &h), 0);
	assert_int_equal(h.ike_mjver, 1);
	cur_init(&c, b, sizeof(b));
	b[IKEV2_OFF_VER] = 0x30; /* a higher major version: INVALID_MAJOR_VERSION (2.5) */
	assert_int_equal(ikev2_parse(&c, &h), SP_EUNSUPP);
	b[IKEV2_OFF_VER] = 0x2f; /* the minor version is ignored */
	assert_int_equal(ikev2_parse(&c, &h), 0);
	assert_int_equal(h.ike_mnver, 15);

	cur_init(&c, b, sizeof(b));
	memset(b, 0, 8); /* initiator SPI 0 */
	assert_int_equal(ikev2_parse(&c, &h), SP_EMALFORMED);
	assert_int_equal(ikev2_parse_anyver(&c, &h), SP_EMALFORMED);
}

static void payload_chain_walks(void **state)
{
	struct ikev2_pld_iter it;
	struct ikev2_hdr h;
	struct ikev2_pld pl;
	struct cur c;

	(void)state;
	cur_init(&c, msg, sizeof(msg));
	assert_int_equal(ikev2_parse(&c, &h), 0);
	assert_int_equal(ikev2_pld_iter_init(&it, &c, &h), 0);
	assert_int_equal(cur_left(&c), 0);

	assert_int_equal(ikev2_pld_next(&it, &pl), 0);
	assert_int_equal(pl.pld_type, IKEV2_PLD_SA);
	assert_int_equal(pl.pld_np, IKEV2_PLD_NONCE);
	assert_false(pl.pld_critical);
	assert_int_equal(pl.pld_len, 4);
	assert_int_equal(pl.pld_off, 0);
	assert_int_equal(cur_left(&pl.pld_body), 0);

	assert_int_equal(ikev2_pld_next(&it, &pl), 0);
	assert_int_equal(pl.pld_type, IKEV2_PLD_NONCE);
	assert_int_equal(pl.pld_np, IKEV2_PLD_NONE);
	assert_true(pl.pld_critical);
	assert_int_equal(pl.pld_len, 12);
	assert_int_equal(pl.pld_off, 4);
	assert_int_equal(cur_left(&pl.pld_body), 8);
	assert_int_equal(cur_ptr(&pl.pld_body)[0], 0xa1);

	assert_int_equal(ikev2_pld_next(&it, &pl), SP_ENOTFOUND);
	assert_int_equal(ikev2_pld_next(&it, &pl), SP_ENOTFOUND);
}

/* Walk a chain given as bytes; returns the last code and the number of payloads. */
static int walk(const uint8_t *b, size_t len, uint8_t first, int *n)
{
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	struct cur c;
	int r;

	*n = 0;
	cur_init(&c, b, len);
	ikev2_pld_iter_init_chain(&it, &c, first);
	while ((r = ikev2_pld_next(&it, &pl)) == 0)
		(*n)++;
	assert_int_equal(ikev2_pld_next(&it, &pl), r); /* ended or failed for good */
	return r;
}

static void payload_chain_overruns(void **state)
{
	uint8_t b[16];
	int n;

	(void)state;
	/* Length 17 in a 16-octet chain. */
	memcpy(b, (uint8_t[]){ 0, 0, 0, 17 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_EMALFORMED);
	assert_int_equal(n, 0);
	/* Length under the generic header. */
	memcpy(b, (uint8_t[]){ 0, 0, 0, 3 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_EMALFORMED);
	/* Next Payload promises a second payload the chain has no room for. */
	memcpy(b, (uint8_t[]){ IKEV2_PLD_NOTIFY, 0, 0, 16 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_EMALFORMED);
	assert_int_equal(n, 1);
	/* A partial generic header after the first payload. */
	memcpy(b, (uint8_t[]){ IKEV2_PLD_NOTIFY, 0, 0, 14 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_EMALFORMED);
	/* Octets after the last payload. */
	memcpy(b, (uint8_t[]){ IKEV2_PLD_NONE, 0, 0, 12 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_EMALFORMED);
	assert_int_equal(n, 1);
	/* The exact fit ends cleanly; an empty chain with no first payload too. */
	memcpy(b, (uint8_t[]){ IKEV2_PLD_NONE, 0, 0, 16 }, 4);
	assert_int_equal(walk(b, sizeof(b), IKEV2_PLD_NONCE, &n), SP_ENOTFOUND);
	assert_int_equal(n, 1);
	assert_int_equal(walk(b, 0, IKEV2_PLD_NONE, &n), SP_ENOTFOUND);
	assert_int_equal(walk(b, 0, IKEV2_PLD_SA, &n), SP_EMALFORMED);
}

static void sk_payload_ends_the_chain(void **state)
{
	uint8_t b[24] = { IKEV2_PLD_IDI, 0, 0, 20 }; /* SK whose first inner payload is IDi */
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	struct cur c;
	int n;

	(void)state;
	cur_init(&c, b, 20);
	ikev2_pld_iter_init_chain(&it, &c, IKEV2_PLD_SK);
	assert_int_equal(ikev2_pld_next(&it, &pl), 0);
	assert_int_equal(pl.pld_type, IKEV2_PLD_SK);
	assert_int_equal(pl.pld_np, IKEV2_PLD_IDI); /* where the decrypted chain starts */
	assert_int_equal(ikev2_pld_next(&it, &pl), SP_ENOTFOUND);
	/* RFC 7296 3.14: "MUST be the last payload": anything after it is refused. */
	memcpy(b + 20, (uint8_t[]){ 0, 0, 0, 4 }, 4);
	assert_int_equal(walk(b, 24, IKEV2_PLD_SK, &n), SP_EMALFORMED);
	assert_int_equal(walk(b, 24, IKEV2_PLD_SKF, &n), SP_EMALFORMED);
}

static void iter_init_needs_the_whole_chain(void **state)
{
	struct ikev2_pld_iter it;
	struct ikev2_hdr h;
	struct cur c;

	(void)state;
	cur_init(&c, msg, sizeof(msg));
	assert_int_equal(ikev2_parse(&c, &h), 0);
	h.ike_len += 1; /* a header edited after parsing cannot make the chain run over */
	assert_int_equal(ikev2_pld_iter_init(&it, &c, &h), SP_ESHORT);
}

static void writer_builds_a_chain(void **state)
{
	struct ikev2_hdr h = { .ike_ispi = 0x1122334455667788ull,
			       .ike_exch = IKEV2_EXCH_IKE_SA_INIT,
			       .ike_flags = IKEV2_FLAG_I };
	struct ikev2_pld_writer w;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	ikev2_pw_init(&w, p);
	assert_int_equal(ikev2_pw_first(&w), IKEV2_PLD_NONE);
	assert_int_equal(ikev2_pw_end(&w), SP_ESTATE); /* nothing open */
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_SA, false), 0);
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_KE, false), SP_ESTATE); /* SA is open */
	assert_int_equal(ikev2_pw_end(&w), 0);
	assert_int_equal(ikev2_pw_set_next(&w, IKEV2_PLD_KE), SP_ESTATE); /* SA is not SK */
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_NONE, false), SP_ESTATE);
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_NONCE, true), 0);
	assert_int_equal(pkt_append(p, msg + 36, 8), 0);
	assert_int_equal(ikev2_pw_end(&w), 0);
	h.ike_np = ikev2_pw_first(&w);
	assert_int_equal(h.ike_np, IKEV2_PLD_SA);
	assert_int_equal(ikev2_build(p, &h), 0);
	assert_int_equal(p->len, sizeof(msg));
	assert_memory_equal(pkt_data(p), msg, sizeof(msg));
}

static void writer_seals_with_sk(void **state)
{
	struct ikev2_pld_writer w;
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	ikev2_pw_init(&w, p);
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_NOTIFY, false), 0);
	assert_int_equal(pkt_append(p, "\0\0\x40\x04", 4), 0);
	assert_int_equal(ikev2_pw_end(&w), 0);
	/* A header pushed in front meanwhile does not disturb the writer. */
	assert_non_null(pkt_push(p, 4));
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_SK, false), 0);
	assert_int_equal(pkt_append(p, "ivivcipherICV!", 14), 0);
	assert_int_equal(ikev2_pw_end(&w), 0);
	assert_int_equal(ikev2_pw_set_next(&w, IKEV2_PLD_IDR), 0);
	assert_int_equal(ikev2_pw_begin(&w, IKEV2_PLD_NOTIFY, false), SP_ESTATE);

	cur_init(&c, pkt_data(p) + 4, p->len - 4);
	ikev2_pld_iter_init_chain(&it, &c, ikev2_pw_first(&w));
	assert_int_equal(ikev2_pld_next(&it, &pl), 0);
	assert_int_equal(pl.pld_type, IKEV2_PLD_NOTIFY);
	assert_int_equal(pl.pld_len, 8);
	assert_int_equal(ikev2_pld_next(&it, &pl), 0);
	assert_int_equal(pl.pld_type, IKEV2_PLD_SK);
	assert_int_equal(pl.pld_np, IKEV2_PLD_IDR);
	assert_int_equal(pl.pld_len, 18);
	assert_int_equal(ikev2_pld_next(&it, &pl), SP_ENOTFOUND);
}

static void names(void **state)
{
	(void)state;
	assert_true(ikev2_pld_type_known(IKEV2_PLD_SA));
	assert_true(ikev2_pld_type_known(IKEV2_PLD_EAP));
	assert_true(ikev2_pld_type_known(IKEV2_PLD_SKF));
	assert_false(ikev2_pld_type_known(IKEV2_PLD_NONE));
	assert_false(ikev2_pld_type_known(32)); /* an IKEv1 range */
	assert_false(ikev2_pld_type_known(49));
	assert_string_equal(ikev2_pld_type_name(IKEV2_PLD_NOTIFY), "Notify");
	assert_string_equal(ikev2_pld_type_name(200), "unknown");
	assert_string_equal(ikev2_exch_name(IKEV2_EXCH_INFORMATIONAL), "INFORMATIONAL");
	assert_string_equal(ikev2_exch_name(1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_parses_field_by_field),
		cmocka_unit_test(header_builds_the_same_bytes),
		cmocka_unit_test(header_rules),
		cmocka_unit_test(payload_chain_walks),
		cmocka_unit_test(payload_chain_overruns),
		cmocka_unit_test(sk_payload_ends_the_chain),
		cmocka_unit_test(iter_init_needs_the_whole_chain),
		cmocka_unit_test(writer_builds_a_chain),
		cmocka_unit_test(writer_seals_with_sk),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
