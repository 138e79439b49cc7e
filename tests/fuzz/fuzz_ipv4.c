/* ipv4_parse(): lengths stay inside the input, and rebuilding gives the header back. */
#include "fuzz.h"
#include "base/csum.h"
#include "proto/ipv4.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t storage[PKT_HEADROOM + 64];
	struct ipv4_hdr h;
	struct pkt p;
	struct cur c;

	cur_init(&c, data, size);
	if (ipv4_parse(&c, &h) != 0) {
		FUZZ_CHECK(cur_pos(&c) == 0);
		return 0;
	}
	FUZZ_CHECK(h.ip_hl >= IPV4_HDR_MIN && h.ip_hl <= IPV4_HDR_MAX && h.ip_hl % 4 == 0);
	FUZZ_CHECK(h.ip_hl <= h.ip_len && h.ip_len <= size);
	FUZZ_CHECK(cur_pos(&c) == h.ip_hl);
	FUZZ_CHECK(ipv4_frag_offset(&h) <= 0xffff);

	/* Rebuild from the fields: equal to the input header, the checksum recomputed. */
	pkt_init(&p, storage, sizeof(storage), PKT_HEADROOM);
	FUZZ_CHECK(ipv4_build(&p, &h, h.ip_opts, (uint8_t)(h.ip_hl - IPV4_HDR_MIN)) == 0);
	FUZZ_CHECK(p.len == h.ip_hl);
	FUZZ_CHECK(memcmp(pkt_data(&p), data, IPV4_OFF_CSUM) == 0);
	FUZZ_CHECK(memcmp(pkt_data(&p) + IPV4_OFF_SRC, data + IPV4_OFF_SRC,
			  h.ip_hl - IPV4_OFF_SRC) == 0);
	/* Identical bytes verify (the converse fails only for 0x0000 vs 0xffff). */
	FUZZ_CHECK(memcmp(pkt_data(&p), data, h.ip_hl) != 0 || h.ip_csum_ok);

	/* In-place rewrites keep the checksum right (RFC 1624). */
	if (h.ip_csum_ok) {
		uint8_t *b = pkt_data(&p);

		ipv4_dec_ttl(b);
		FUZZ_CHECK(ipv4_set_src(b, h.ip_dst) == h.ip_src);
		FUZZ_CHECK(ipv4_set_dst(b, h.ip_src) == h.ip_dst);
		FUZZ_CHECK(csum_buf(b, h.ip_hl) == 0);
	}
	return 0;
}
