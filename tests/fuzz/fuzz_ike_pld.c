/*
 * IKEv2 payload bodies (ike/ikev2_pld.c): the first octet names the first payload, the
 * rest is the chain. Every pointer the parser hands out lies inside the input.
 */
#include "fuzz.h"
#include "ike/ikev2_pld.h"

#include <string.h>

static bool inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
	return len == 0 || (p >= base && p + len <= base + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ikev2_msg m;
	struct ikev2_prop props[IKEV2_PROP_MAX];
	struct ikev2_pld_iter it;
	struct ikev2_pld sk;
	struct cur c;
	bool has_sk;
	size_t n;

	if (size < 1)
		return 0;
	memset(&m, 0, sizeof(m));
	cur_init(&c, data + 1, size - 1);
	ikev2_pld_iter_init_chain(&it, &c, data[0]);
	if (ikev2_msg_parse(&m, &it, &sk, &has_sk) != 0)
		return 0;
	FUZZ_CHECK(inside(m.ke.p, m.ke.len, data, size));
	FUZZ_CHECK(m.nonce.len == 0 || (m.nonce.len >= 16 && m.nonce.len <= 256));
	FUZZ_CHECK(inside(m.nonce.p, m.nonce.len, data, size));
	FUZZ_CHECK(inside(m.idi.body, m.idi.body_len, data, size));
	FUZZ_CHECK(inside(m.auth.p, m.auth.len, data, size));
	FUZZ_CHECK(m.nnotify <= IKEV2_NOTIFY_MAX && m.ndelete <= IKEV2_DELETE_MAX);
	for (unsigned i = 0; i < m.nnotify; i++)
		FUZZ_CHECK(inside(m.notify[i].data, m.notify[i].len, data, size));
	for (unsigned i = 0; i < m.ndelete; i++)
		FUZZ_CHECK(inside(m.del[i].spis, (size_t)m.del[i].num * m.del[i].spi_size, data,
				  size));
	FUZZ_CHECK(m.ntsi <= IKE_TS_MAX && m.ntsr <= IKE_TS_MAX);
	if (ikev2_msg_has(&m, IKEV2_PLD_SA) &&
	    ikev2_sa_parse(m.sa, props, IKEV2_PROP_MAX, &n) == 0) {
		FUZZ_CHECK(n >= 1 && n <= IKEV2_PROP_MAX);
		for (size_t i = 0; i < n; i++)
			for (int t = 0; t < IKEV2_XF_TYPES; t++)
				FUZZ_CHECK(props[i].nxf[t] <= IKEV2_XF_PER_TYPE);
	}
	return 0;
}
