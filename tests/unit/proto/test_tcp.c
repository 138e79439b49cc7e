/* TCP header (RFC 9293 3.1): options, data offset rules, the pseudo-header checksum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto_test.h"
#include "proto/tcp.h"

/* Wire bytes: MSS 1460, SACK permitted, timestamps 1/0, NOP, window scale 7. */
static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				    0, 1, 0,	0,    0, 0, 1, 3,  3, 7 };

static void syn_with_options_round_trip(void **state)
{
	struct tcp_hdr h = { .tcp_sport = 49152,
			     .tcp_dport = 443,
			     .tcp_seq = 0xdeadbeef,
			     .tcp_flags = TCP_SYN | TCP_ECE | TCP_CWR,
			     .tcp_win = 64240,
			     .tcp_hl = 99 /* ignored */ };
	struct tcp_hdr g;
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);
	struct cur c;

	(void)state;
	assert_int_equal(tcp_build(p, &h, syn_opts, sizeof(syn_opts), TEST_SRC, TEST_DST), 0);
	assert_int_equal(p->len, 40);
	assert_int_equal(pkt_data(p)[12], 10 << 4);
	assert_int_equal(ref_csum_l4(TEST_SRC, TEST_DST, 6, pkt_data(p), p->len), 0);
	assert_true(tcp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
	cur_init(&c, pkt_data(p), p->len);
	assert_int_equal(tcp_parse(&c, &g), 0);
	assert_int_equal(cur_pos(&c), 40);
	assert_int_equal(g.tcp_hl, 40);
	assert_int_equal(g.tcp_sport, 49152);
	assert_int_equal(g.tcp_dport, 443);
	assert_int_equal(g.tcp_seq, 0xdeadbeef);
	assert_int_equal(g.tcp_flags, TCP_SYN | TCP_ECE | TCP_CWR);
	assert_int_equal(g.tcp_win, 64240);
	assert_memory_equal(g.tcp_opts, syn_opts, sizeof(syn_opts));
}

static void data_segment_checksum(void **state)
{
	struct tcp_hdr h = { .tcp_sport = 1,
			     .tcp_dport = 2,
			     .tcp_seq = 7,
			     .tcp_ack = 9,
			     .tcp_flags = TCP_ACK | TCP_PSH,
			     .tcp_win = 100,
			     .tcp_urp = 0 };
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	assert_int_equal(pkt_append(p, "odd", 3), 0);
	assert_int_equal(tcp_build(p, &h, NULL, 0, TEST_SRC, TEST_DST), 0);
	assert_int_equal(p->len, 23);
	assert_int_equal(ref_csum_l4(TEST_SRC, TEST_DST, 6, pkt_data(p), p->len), 0);
	assert_true(tcp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
	pkt_data(p)[22] ^= 0x20;
	assert_false(tcp_csum_ok(pkt_data(p), p->len, TEST_SRC, TEST_DST));
	assert_false(tcp_csum_ok(pkt_data(p), 19, TEST_SRC, TEST_DST));
}

static void data_offset_is_checked(void **state)
{
	uint8_t b[24] = { 0 };
	struct tcp_hdr g;
	struct cur c;

	(void)state;
	b[12] = 5 << 4;
	cur_init(&c, b, 19);
	assert_int_equal(tcp_parse(&c, &g), SP_ESHORT);
	cur_init(&c, b, sizeof(b));
	assert_int_equal(tcp_parse(&c, &g), 0);
	assert_int_equal(cur_pos(&c), 20);
	b[12] = 4 << 4; /* under the fixed header */
	cur_init(&c, b, sizeof(b));
	assert_int_equal(tcp_parse(&c, &g), SP_EMALFORMED);
	b[12] = 7 << 4; /* 28 octets of header, 24 there */
	assert_int_equal(tcp_parse(&c, &g), SP_ESHORT);
	assert_int_equal(cur_pos(&c), 0);
	b[12] = 6 << 4 | 0x0f; /* reserved bits do not change the offset */
	assert_int_equal(tcp_parse(&c, &g), 0);
	assert_int_equal(g.tcp_hl, 24);
}

static void options_walk(void **state)
{
	struct tcp_opt o;
	struct cur c;
	int kinds[8], n = 0, r;

	(void)state;
	cur_init(&c, syn_opts, sizeof(syn_opts));
	while ((r = tcp_opt_next(&c, &o)) == 0) {
		kinds[n++] = o.topt_kind;
		if (o.topt_kind == TCP_OPT_MSS)
			assert_int_equal(sp_load_be16(cur_ptr(&o.topt_val)), 1460);
		if (o.topt_kind == TCP_OPT_NOP)
			assert_int_equal(o.topt_len, 1);
	}
	assert_int_equal(r, SP_ENOTFOUND);
	assert_int_equal(n, 5);
	assert_int_equal(kinds[0], TCP_OPT_MSS);
	assert_int_equal(kinds[1], TCP_OPT_SACK_PERM);
	assert_int_equal(kinds[2], TCP_OPT_TS);
	assert_int_equal(kinds[3], TCP_OPT_NOP);
	assert_int_equal(kinds[4], TCP_OPT_WSCALE);

	/* End of Option List stops the walk before the padding after it. */
	cur_init(&c, (uint8_t[]){ TCP_OPT_NOP, TCP_OPT_EOL, 0xff, 0xff }, 4);
	assert_int_equal(tcp_opt_next(&c, &o), 0);
	assert_int_equal(tcp_opt_next(&c, &o), SP_ENOTFOUND);
	/* Length missing, under 2, past the options. */
	cur_init(&c, (uint8_t[]){ TCP_OPT_MSS }, 1);
	assert_int_equal(tcp_opt_next(&c, &o), SP_EMALFORMED);
	cur_init(&c, (uint8_t[]){ TCP_OPT_MSS, 1, 0, 0 }, 4);
	assert_int_equal(tcp_opt_next(&c, &o), SP_EMALFORMED);
	cur_init(&c, (uint8_t[]){ TCP_OPT_MSS, 5, 0, 0 }, 4);
	assert_int_equal(tcp_opt_next(&c, &o), SP_EMALFORMED);
	assert_int_equal(cur_pos(&c), 0);
}

static void build_refuses_bad_options(void **state)
{
	struct tcp_hdr h = { 0 };
	uint8_t opts[44] = { 0 };
	struct tpkt t;
	struct pkt *p = tpkt_init(&t);

	(void)state;
	assert_int_equal(tcp_build(p, &h, opts, 6, TEST_SRC, TEST_DST), SP_EINVAL);
	assert_int_equal(tcp_build(p, &h, opts, 44, TEST_SRC, TEST_DST), SP_EINVAL);
	assert_int_equal(p->len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syn_with_options_round_trip),
		cmocka_unit_test(data_segment_checksum),
		cmocka_unit_test(data_offset_is_checked),
		cmocka_unit_test(options_walk),
		cmocka_unit_test(build_refuses_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
