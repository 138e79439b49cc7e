/* udp_parse() and udp_csum_ok(): the payload the length promises is there. */
#include "fuzz.h"
#include "proto/udp.h"

#define SRC 0xc000020au
#define DST 0xcb007105u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udp_hdr h;
	struct cur c;

	cur_init(&c, data, size);
	if (udp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(cur_pos(&c) == UDP_HDR_LEN);
	FUZZ_CHECK(h.udp_len >= UDP_HDR_LEN && h.udp_len <= size);
	(void)udp_csum_ok(data, h.udp_len, SRC, DST);
	return 0;
}
