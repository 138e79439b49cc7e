/*
 * The STUN parser (stun_parse, stun_attr_next and the address getters) and the NAT
 * discovery service on top (l2tp_disc_input): any datagram either is refused and counted
 * or gets an answer that parses, carries the request's transaction ID and reflects the
 * source address and port, XOR-encoded for RFC 8489 and plain for RFC 3489.
 */
#include "fuzz.h"

#include "l2tp/l2tp_disc.h"
#include "proto/stun.h"

#include <string.h>

#define SRC   0xcb007109u
#define SPORT 40001

static void walk(struct cur attrs)
{
	struct stun_attr a;
	uint32_t addr;
	uint16_t port;
	size_t before;
	int r;

	for (;;) {
		before = cur_left(&attrs);
		if ((r = stun_attr_next(&attrs, &a)) != 0)
			break;
		FUZZ_CHECK(cur_left(&attrs) + STUN_ATTR_HDR + a.sa_len <= before);
		FUZZ_CHECK(cur_left(&a.sa_val) == a.sa_len);
		if (stun_get_addr(&a, &addr, &port) == 0)
			FUZZ_CHECK(a.sa_len == 8);
		(void)stun_attr_name(a.sa_type);
	}
	FUZZ_CHECK(r == SP_ENOTFOUND || r == SP_EMALFORMED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l2tp_disc d;
	static uint8_t ob[PKT_HEADROOM + 2048];
	struct l2tp_disc_cfg cfg;
	struct stun_hdr h, a;
	struct pkt out;
	struct cur c;

	cur_init(&c, data, size);
	if (stun_parse(&c, &h) == 0) {
		FUZZ_CHECK(cur_pos(&c) == STUN_HDR_LEN + h.stun_len && (h.stun_len & 3) == 0);
		walk(h.stun_attrs);
	} else {
		FUZZ_CHECK(cur_pos(&c) == 0);
	}
	l2tp_disc_cfg_defaults(&cfg);
	cfg.rate = 0;
	l2tp_disc_init(&d, &cfg);
	pkt_init(&out, ob, sizeof(ob), PKT_HEADROOM);
	if (l2tp_disc_input(&d, 0, 0xc6336407u, STUN_PORT, SRC, SPORT, data, size, &out) != 0) {
		FUZZ_CHECK(out.len == 0 || d.ctr[L2TP_DISC_CTR_DROP_NO_SPACE] == 1);
		return 0;
	}
	cur_init(&c, pkt_data(&out), out.len);
	FUZZ_CHECK(stun_parse(&c, &a) == 0 && cur_left(&c) == 0);
	FUZZ_CHECK(memcmp(a.stun_tid, h.stun_tid, STUN_TID_LEN) == 0);
	FUZZ_CHECK(a.stun_classic == h.stun_classic);
	if (a.stun_type == STUN_BINDING_OK) {
		struct stun_attr at;
		uint32_t addr = 0;
		uint16_t port = 0;
		bool found = false;

		while (stun_attr_next(&a.stun_attrs, &at) == 0) {
			if (at.sa_type == STUN_A_XOR_MAPPED_ADDRESS)
				found = stun_get_xor_addr(&at, &addr, &port) == 0;
			else if (at.sa_type == STUN_A_MAPPED_ADDRESS)
				found = stun_get_addr(&at, &addr, &port) == 0;
			if (found)
				break;
		}
		FUZZ_CHECK(found && addr == SRC && port == SPORT);
		if (!a.stun_classic)
			FUZZ_CHECK(stun_fingerprint_ok(pkt_data(&out), out.len));
	} else {
		FUZZ_CHECK(a.stun_type == STUN_BINDING_ERR && !h.stun_classic);
	}
	return 0;
}
