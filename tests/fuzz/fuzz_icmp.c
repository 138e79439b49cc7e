/* icmp_parse(): the embedded header of an error lies inside the message and parses as
 * IPv4 far enough for a NAT to find the quoted ports. */
#include "fuzz.h"
#include "base/csum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icmp_hdr h;
	struct cur c;

	cur_init(&c, data, size);
	if (icmp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(size >= ICMP_HDR_LEN && cur_left(&c) == 0);
	FUZZ_CHECK(h.icmp_csum_ok == (csum_buf(data, size) == 0));
	if (icmp_is_error(h.icmp_type)) {
		size_t ihl;

		FUZZ_CHECK(h.icmp_inner == data + ICMP_HDR_LEN);
		FUZZ_CHECK(h.icmp_inner_len == size - ICMP_HDR_LEN);
		ihl = (size_t)(h.icmp_inner[0] & 0x0f) * 4;
		FUZZ_CHECK(h.icmp_inner[0] >> 4 == 4 && ihl >= IPV4_HDR_MIN);
		FUZZ_CHECK(ihl + 8 <= h.icmp_inner_len);
	} else {
		FUZZ_CHECK(h.icmp_inner == NULL && h.icmp_inner_len == 0);
	}
	return 0;
}
