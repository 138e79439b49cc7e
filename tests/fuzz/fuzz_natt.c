/* natt_classify() on a UDP 4500 payload, then the parser of what it found. */
#include "fuzz.h"
#include "proto/esp.h"
#include "proto/ikev2.h"
#include "proto/natt.h"
#include "proto/udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum natt_kind kind;
	struct ikev2_hdr ih;
	struct esp_hdr eh;
	struct cur c, u;

	cur_init(&c, data, size);
	if (natt_classify(&c, &kind) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		cur_init(&u, data, size);
		FUZZ_CHECK(natt_ike_unframe(&u, UDP_PORT_IKE_NATT) != 0 && cur_pos(&u) == 0);
		return 0;
	}
	(void)natt_kind_name(kind);
	switch (kind) {
	case NATT_KEEPALIVE:
		FUZZ_CHECK(size == 1 && data[0] == NATT_KEEPALIVE_OCTET && cur_left(&c) == 0);
		break;
	case NATT_IKE:
		FUZZ_CHECK(cur_pos(&c) == NATT_MARKER_LEN && sp_load_be32(data) == 0);
		FUZZ_CHECK(cur_left(&c) >= IKEV2_HDR_LEN);
		cur_init(&u, data, size);
		FUZZ_CHECK(natt_ike_unframe(&u, UDP_PORT_IKE_NATT) == 0);
		FUZZ_CHECK(cur_pos(&u) == NATT_MARKER_LEN);
		(void)ikev2_parse(&c, &ih);
		break;
	case NATT_ESP:
		FUZZ_CHECK(cur_pos(&c) == 0);
		FUZZ_CHECK(esp_parse(&c, &eh) == 0);
		break;
	}
	return 0;
}
