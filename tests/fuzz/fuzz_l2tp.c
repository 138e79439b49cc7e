/*
 * l2tp_parse() with its RFC 2661 3.1 rules, then the AVPs of a control message or the PPP
 * frame of a data message; a parsed header built again parses to the same fields.
 */
#include "fuzz.h"
#include "proto/l2tp.h"
#include "proto/ppp.h"

#include <string.h>

static void check_rebuild(const struct l2tp_hdr *h, const uint8_t *payload)
{
	static uint8_t storage[PKT_HEADROOM + 3 * 65536];
	struct l2tp_hdr h2;
	struct pkt p;
	struct cur c;

	pkt_init(&p, storage, sizeof(storage), 70000);
	FUZZ_CHECK(pkt_append(&p, payload, h->l2tp_plen) == 0);
	if (l2tp_build(&p, h) != 0) {
		/* Only a message made too long by Length-less padding cannot be rebuilt. */
		FUZZ_CHECK(!(h->l2tp_flags & L2TP_F_L) && h->l2tp_hlen + h->l2tp_plen > 65535);
		return;
	}
	cur_init(&c, pkt_data(&p), p.len);
	FUZZ_CHECK(l2tp_parse(&c, &h2) == 0);
	FUZZ_CHECK(h2.l2tp_flags == h->l2tp_flags && h2.l2tp_tid == h->l2tp_tid &&
		   h2.l2tp_sid == h->l2tp_sid && h2.l2tp_ns == h->l2tp_ns &&
		   h2.l2tp_nr == h->l2tp_nr && h2.l2tp_off_size == h->l2tp_off_size &&
		   h2.l2tp_hlen == h->l2tp_hlen && h2.l2tp_plen == h->l2tp_plen);
	FUZZ_CHECK(memcmp(cur_ptr(&c), payload, h->l2tp_plen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l2tp_hdr h;
	struct cur c, body;

	cur_init(&c, data, size);
	if (l2tp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(h.l2tp_ver == L2TP_VERSION && cur_pos(&c) == h.l2tp_hlen);
	FUZZ_CHECK(h.l2tp_hlen >= L2TP_HDR_MIN && h.l2tp_hlen + h.l2tp_plen <= size);
	if (h.l2tp_flags & L2TP_F_L)
		FUZZ_CHECK(h.l2tp_len == h.l2tp_hlen + h.l2tp_plen);
	FUZZ_CHECK(cur_get_sub(&c, h.l2tp_plen, &body) == 0);
	check_rebuild(&h, cur_ptr(&body));

	if (l2tp_is_control(&h)) {
		struct l2tp_avp_iter it;
		struct l2tp_avp a;
		uint16_t type, u16;
		uint32_t u32;
		size_t walked = 0;
		int r;

		FUZZ_CHECK((h.l2tp_flags & (L2TP_F_L | L2TP_F_S)) == (L2TP_F_L | L2TP_F_S));
		FUZZ_CHECK((h.l2tp_flags & (L2TP_F_O | L2TP_F_P)) == 0);
		if (l2tp_ctrl_msg_type(&body, &type) == 0)
			(void)l2tp_msg_name(type);
		l2tp_avp_iter_init(&it, &body);
		while ((r = l2tp_avp_next(&it, &a)) == 0) {
			FUZZ_CHECK(a.avp_len >= L2TP_AVP_HDR_LEN && a.avp_len <= L2TP_AVP_LEN_MAX);
			FUZZ_CHECK(cur_left(&a.avp_val) == a.avp_len - L2TP_AVP_HDR_LEN);
			walked += a.avp_len;
			FUZZ_CHECK(walked <= h.l2tp_plen);
			(void)l2tp_avp_name(a.avp_type);
			if (l2tp_avp_get_u16(&a, &u16) == 0)
				FUZZ_CHECK(a.avp_len == 8);
			if (l2tp_avp_get_u32(&a, &u32) == 0)
				FUZZ_CHECK(a.avp_len == 10);
		}
		FUZZ_CHECK(r == SP_ENOTFOUND ? walked == h.l2tp_plen : r == SP_EMALFORMED);
	} else {
		struct ppp_hdr ph;

		if (ppp_parse(&body, &ph) == 0)
			FUZZ_CHECK(ph.ppp_hlen >= 1 && ph.ppp_hlen <= 4);
	}
	return 0;
}
