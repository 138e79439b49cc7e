/*
 * What the kernel hands spinatd's gateway role: a buffer of nfnetlink_queue messages
 * (io/nfq.h), each packet then translated by the NAT engine as role_gateway.c does, the
 * interface index deciding the side. Invariants: every payload io_nfq_next() returns lies
 * inside the buffer; the walk ends; verdicts can be queued for every packet.
 */
#include "fuzz.h"
#include "base/addr.h"
#include "base/rand.h"
#include "io/nfq.h"
#include "nat/nat.h"

#include <linux/netfilter.h>
#include <string.h>

static uint8_t rx[IO_NFQ_RXBUF], tx[IO_NFQ_TXBUF];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nat_env env = { .name = "fuzz" };
	struct sp_xoshiro rng;
	struct io_nfq_msg m;
	struct nat_config c;
	struct io_nfq q;
	struct nat *n = NULL;
	unsigned count = 0;

	if (size > sizeof(rx))
		return 0;
	memcpy(rx, data, size);
	memset(&q, 0, sizeof(q));
	q.fd = q.raw = -1;
	q.rx = rx;
	q.rxlen = size;
	q.tx = tx;
	sp_xoshiro_seed(&rng, 1);
	nat_config_defaults(&c);
	FUZZ_CHECK(nat_config_add_pool(&c, SP_IP4(203, 0, 113, 1)) == 0);
	c.max_entries = 64;
	env.rng = &rng.rng;
	FUZZ_CHECK(nat_new(&n, &c, &env) == 0);
	while (io_nfq_next(&q, &m) == 0) {
		FUZZ_CHECK(count++ <= size / 16);
		if (m.payload != NULL) {
			struct pkt p;
			int v;

			FUZZ_CHECK(m.payload >= rx && m.payload + m.len <= rx + size);
			pkt_init(&p, m.payload, m.len, 0);
			p.len = m.len;
			v = nat_translate(n, SP_SEC(10), (m.indev & 1) ? NAT_OUTSIDE : NAT_INSIDE,
					  &p);
			FUZZ_CHECK(p.len == m.len);
			if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
				q.txlen = 0;
				FUZZ_CHECK(io_nfq_verdict(&q, m.id, NF_ACCEPT, m.payload, m.len) ==
					   0);
			}
		}
	}
	nat_free(n);
	return 0;
}
