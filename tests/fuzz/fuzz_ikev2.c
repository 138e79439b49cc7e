/*
 * ikev2_parse() and the payload iterator: every payload lies inside the message, and
 * writing the parsed chain again with the payload writer gives the same bytes back.
 */
#include "fuzz.h"
#include "proto/ikev2.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t storage[PKT_HEADROOM + IKEV2_MSG_MAX];
	struct ikev2_pld_writer w;
	struct ikev2_pld_iter it;
	struct ikev2_hdr h, any;
	struct ikev2_pld pl;
	struct pkt p;
	struct cur c, ca;
	size_t walked = 0;
	int r, ra;

	cur_init(&c, data, size);
	cur_init(&ca, data, size);
	r = ikev2_parse(&c, &h);
	ra = ikev2_parse_anyver(&ca, &any);
	/* The strict parse is the any-version parse plus the version check. */
	FUZZ_CHECK(r == 0 ? ra == 0 : (r == SP_EUNSUPP ? ra == 0 && any.ike_mjver != 2 : ra == r));
	if (r != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(h.ike_len >= IKEV2_HDR_LEN && h.ike_len <= size && h.ike_ispi != 0);
	FUZZ_CHECK(cur_pos(&c) == IKEV2_HDR_LEN && h.ike_mjver == IKEV2_MJVER);

	FUZZ_CHECK(ikev2_pld_iter_init(&it, &c, &h) == 0);
	FUZZ_CHECK(cur_pos(&c) == h.ike_len);
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	ikev2_pw_init(&w, &p);
	while ((r = ikev2_pld_next(&it, &pl)) == 0) {
		FUZZ_CHECK(pl.pld_len >= IKEV2_PLD_HDR_LEN);
		FUZZ_CHECK(pl.pld_off == walked);
		FUZZ_CHECK(cur_left(&pl.pld_body) == pl.pld_len - IKEV2_PLD_HDR_LEN);
		FUZZ_CHECK(IKEV2_HDR_LEN + pl.pld_off + pl.pld_len <= h.ike_len);
		(void)ikev2_pld_type_name(pl.pld_type);
		walked += pl.pld_len;
		FUZZ_CHECK(ikev2_pw_begin(&w, pl.pld_type, pl.pld_critical) == 0);
		FUZZ_CHECK(pkt_append(&p, cur_ptr(&pl.pld_body),
				      (uint32_t)cur_left(&pl.pld_body)) == 0);
		FUZZ_CHECK(ikev2_pw_end(&w) == 0);
		if (pl.pld_type == IKEV2_PLD_SK || pl.pld_type == IKEV2_PLD_SKF)
			FUZZ_CHECK(ikev2_pw_set_next(&w, pl.pld_np) == 0);
	}
	FUZZ_CHECK(r == SP_ENOTFOUND || r == SP_EMALFORMED);
	FUZZ_CHECK(ikev2_pld_next(&it, &pl) == r); /* it stays where it ended */
	if (r != SP_ENOTFOUND)
		return 0;
	/* A well-formed chain: it fills the message exactly and is rebuilt byte for byte
	 * (except the RESERVED bits, which are sent as zero). */
	FUZZ_CHECK(IKEV2_HDR_LEN + walked == h.ike_len);
	FUZZ_CHECK(ikev2_build(&p, &h) == 0);
	FUZZ_CHECK(p.len == h.ike_len);
	FUZZ_CHECK(memcmp(pkt_data(&p), data, IKEV2_OFF_VER) == 0);
	FUZZ_CHECK(pkt_data(&p)[IKEV2_OFF_EXCH] == data[IKEV2_OFF_EXCH]);
	FUZZ_CHECK(memcmp(pkt_data(&p) + IKEV2_OFF_MSGID, data + IKEV2_OFF_MSGID, 8) == 0);
	for (size_t off = IKEV2_HDR_LEN; off < h.ike_len;) {
		uint16_t len = sp_load_be16(data + off + 2);

		FUZZ_CHECK(pkt_data(&p)[off] == data[off]);
		FUZZ_CHECK((pkt_data(&p)[off + 1] ^ data[off + 1]) == (data[off + 1] & 0x7f));
		FUZZ_CHECK(memcmp(pkt_data(&p) + off + 2, data + off + 2, len - 2U) == 0);
		off += len;
	}
	return 0;
}
