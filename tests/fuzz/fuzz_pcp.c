/* pcp_parse() as a server (requests) and as a client (responses); what parses builds back
 * to a message that parses to the same values, and every request gets an error answer. */
#include "fuzz.h"
#include "proto/pcp.h"

#include <string.h>

static void one(const uint8_t *data, size_t size, bool response)
{
	uint8_t out[PCP_MSG_MAX], res, res2;
	struct pcp_msg m, back;
	struct wcur w;
	struct cur c;

	cur_init(&c, data, size);
	if (pcp_parse(&c, response, &m, &res) != 0) {
		FUZZ_CHECK(res != PCP_R_SUCCESS);
		if (!response && res != PCP_R_NONE) {
			wcur_init(&w, out, sizeof(out));
			FUZZ_CHECK(pcp_build_error(&w, data, size, res, 0, 0) == 0);
			FUZZ_CHECK(w.off % 4 == 0 && w.off >= PCP_HDR_LEN && w.off <= PCP_MSG_MAX);
		}
		return;
	}
	FUZZ_CHECK(res == PCP_R_SUCCESS && size % 4 == 0 && size <= PCP_MSG_MAX);
	(void)pcp_result_name(m.pcp_result);
	wcur_init(&w, out, sizeof(out));
	FUZZ_CHECK(pcp_build(&w, &m) == 0);
	cur_init(&c, out, w.off);
	FUZZ_CHECK(pcp_parse(&c, response, &back, &res2) == 0);
	FUZZ_CHECK(back.pcp_opcode == m.pcp_opcode && back.pcp_lifetime == m.pcp_lifetime);
	FUZZ_CHECK(back.pcp_ext_ip == m.pcp_ext_ip && back.pcp_peer_ip == m.pcp_peer_ip);
	FUZZ_CHECK(back.pcp_has_gpn == m.pcp_has_gpn);
	FUZZ_CHECK(!m.pcp_has_gpn || memcmp(&back.pcp_gpn, &m.pcp_gpn, sizeof(m.pcp_gpn)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, false);
	one(data, size, true);
	return 0;
}
