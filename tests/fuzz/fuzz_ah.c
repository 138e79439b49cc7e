/* ah_parse(): the ICV lies inside the input and its length follows the Payload Len field. */
#include "fuzz.h"
#include "proto/ah.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ah_hdr h;
	struct cur c;

	cur_init(&c, data, size);
	if (ah_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(cur_pos(&c) == ah_total_len(h.ah_len));
	FUZZ_CHECK(h.ah_icvlen <= AH_ICV_MAX && AH_HDR_FIXED + (size_t)h.ah_icvlen <= size);
	FUZZ_CHECK(h.ah_icv == data + AH_OFF_ICV && h.ah_spi != 0);
	return 0;
}
