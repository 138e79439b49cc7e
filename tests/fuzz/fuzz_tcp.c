/* tcp_parse() and tcp_opt_next(): the data offset and the options stay inside the segment;
 * rebuilding gives the header back. */
#include "fuzz.h"
#include "proto/tcp.h"

#include <string.h>

#define SRC 0xc000020au
#define DST 0xcb007105u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t storage[PKT_HEADROOM + 64];
	struct tcp_hdr h;
	struct tcp_opt o;
	struct cur c, opts;
	size_t walked = 0;
	struct pkt p;
	int r;

	cur_init(&c, data, size);
	if (tcp_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(h.tcp_hl >= TCP_HDR_MIN && h.tcp_hl <= 60 && h.tcp_hl <= size);
	FUZZ_CHECK(cur_pos(&c) == h.tcp_hl);
	(void)tcp_csum_ok(data, size, SRC, DST);

	/* Options stay inside the header. */
	cur_init(&opts, h.tcp_opts, h.tcp_hl - TCP_HDR_MIN);
	while ((r = tcp_opt_next(&opts, &o)) == 0) {
		FUZZ_CHECK(o.topt_len >= 1 && walked + o.topt_len <= h.tcp_hl - TCP_HDR_MIN);
		walked += o.topt_len;
	}
	FUZZ_CHECK(r == SP_ENOTFOUND || r == SP_EMALFORMED);

	/* Everything but the reserved bits of octet 12 and the checksum comes back. */
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	FUZZ_CHECK(tcp_build(&p, &h, h.tcp_opts, (uint8_t)(h.tcp_hl - TCP_HDR_MIN), SRC, DST) == 0);
	FUZZ_CHECK(p.len == h.tcp_hl);
	FUZZ_CHECK(memcmp(pkt_data(&p), data, 12) == 0);
	FUZZ_CHECK(pkt_data(&p)[12] >> 4 == data[12] >> 4);
	FUZZ_CHECK(memcmp(pkt_data(&p) + 13, data + 13, 3) == 0);
	FUZZ_CHECK(memcmp(pkt_data(&p) + 18, data + 18, h.tcp_hl - 18) == 0);
	return 0;
}
