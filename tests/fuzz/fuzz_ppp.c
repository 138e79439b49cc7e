/* ppp_parse(), then a control protocol packet and its options. */
#include "fuzz.h"
#include "proto/ppp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ppp_hdr h;
	struct ppp_cp cp;
	struct ppp_opt o;
	struct cur c;
	size_t walked = 0;
	int r;

	cur_init(&c, data, size);
	if (ppp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(cur_pos(&c) == h.ppp_hlen && h.ppp_hlen <= 4);
	FUZZ_CHECK((h.ppp_proto & 0x0001) != 0 && (h.ppp_proto & 0x0100) == 0);
	if (ppp_cp_parse(&c, &cp) != 0)
		return 0;
	FUZZ_CHECK(cp.cp_len >= PPP_CP_HDR_LEN && h.ppp_hlen + (size_t)cp.cp_len <= size);
	FUZZ_CHECK(cur_left(&c) == 0);
	while ((r = ppp_opt_next(&cp.cp_data, &o)) == 0) {
		FUZZ_CHECK(o.opt_len >= PPP_OPT_HDR_LEN);
		FUZZ_CHECK(cur_left(&o.opt_val) == o.opt_len - PPP_OPT_HDR_LEN);
		walked += o.opt_len;
		FUZZ_CHECK(walked <= cp.cp_len - PPP_CP_HDR_LEN);
	}
	FUZZ_CHECK(r == SP_ENOTFOUND || r == SP_EMALFORMED);
	return 0;
}
