/* pap_parse(): the first octet of the input picks the direction, the rest is the message.
 * Whatever parses builds back to the same octets, the checksum verdict matches a
 * recomputation, and a refused input leaves the cursor untouched. */
#include "fuzz.h"
#include "base/csum.h"
#include "proto/pap.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[PAP_MAX_LEN];
	enum pap_dir dir;
	struct pap_msg m;
	struct wcur w;
	struct cur c;

	if (size < 1)
		return 0;
	dir = (data[0] & 1) ? PAP_FROM_ROUTER : PAP_FROM_HOST;
	data++;
	size--;
	cur_init(&c, data, size);
	if (pap_parse(&c, dir, &m) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(cur_left(&c) == 0 && size == pap_len(m.pap_kind));
	FUZZ_CHECK(m.pap_csum_ok == (csum_buf(data, size) == 0));
	if (dir == PAP_FROM_HOST)
		FUZZ_CHECK(m.pap_kind != PAP_PORT_RESPONSE && m.pap_kind != PAP_SPI_RESPONSE);
	else
		FUZZ_CHECK(m.pap_kind != PAP_PORT_REQUEST && m.pap_kind != PAP_SPI_REQUEST);
	wcur_init(&w, out, sizeof(out));
	FUZZ_CHECK(pap_build(&w, &m) == 0 && w.off == size);
	/* Every field but the checksum is rebuilt exactly; the rebuilt checksum is right. */
	FUZZ_CHECK(memcmp(out, data, 2) == 0 && memcmp(out + 4, data + 4, size - 4) == 0);
	FUZZ_CHECK(csum_buf(out, size) == 0);
	/* A right checksum is rebuilt as it was, except that one's complement has two
	 * zeros: when the other octets sum to 0xffff, 0x0000 (what the builder writes) and
	 * 0xffff both verify (RFC 1071; test_pap ones_complement_zeros). */
	if (m.pap_csum_ok && memcmp(out, data, size) != 0)
		FUZZ_CHECK(sp_load_be16(out + 2) == 0 && sp_load_be16(data + 2) == 0xffff);
	return 0;
}
