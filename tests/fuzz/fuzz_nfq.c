/*
 * What the kernel hands spinatd's gateway role: a buffer of nfnetlink_queue messages
 * (io/nfq.h), each packet then translated by the NAT engine as role_gateway.c does, the
 * interface index deciding the side. Invariants: every payload io_nfq_next() returns lies
 * inside the buffer; the walk ends; verdicts can be queued for every packet; the packets
 * the engine makes itself (multicast copies, held packets) are whole IPv4 packets and all
 * come back to the pool. The input's length picks the strategy (every one in turn), the
 * IKE mode and what a full table does, so every strategy sees every corpus entry's kind
 * of traffic with a small table and small per-host limits. One engine per configuration
 * is made on first use and reset after each input (its random generator seeded again),
 * so an input runs as on a new engine without the cost of making one.
 */
#include "fuzz.h"
#include "fuzz_natcfg.h"
#include "base/addr.h"
#include "base/rand.h"
#include "io/nfq.h"
#include "nat/nat.h"
#include "nat/nat_strategy.h"

#include <linux/netfilter.h>
#include <string.h>

static uint8_t rx[IO_NFQ_RXBUF], tx[IO_NFQ_TXBUF];
static struct pkt_pool pool;
static bool pool_ready;
static struct sp_xoshiro rng;
static struct nat *engines[64];

static void emit(void *arg, enum nat_side side, struct pkt *p)
{
	(void)arg;
	(void)side;
	FUZZ_CHECK(p->len >= 20 && (pkt_data(p)[0] >> 4) == 4);
	pkt_free(p);
}

/* Run the engine's timers until nothing is left, deadline by deadline (a tick far ahead
 * would walk every slot of the wheel: most of an input's time); at most budget ticks,
 * then one far ahead. */
static void drain(struct nat *n, sp_time now, unsigned budget)
{
	sp_time d;

	while (budget-- > 0 && (d = nat_next_deadline(n)) != SP_TIME_NEVER) {
		now = d > now ? d : now;
		nat_tick(n, now + SP_SEC(1) - 1);
	}
	if (nat_next_deadline(n) != SP_TIME_NEVER)
		nat_tick(n, now + SP_SEC(200000));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nat_env env = { .name = "fuzz" };
	struct io_nfq_msg m;
	struct nat_config c;
	struct io_nfq q;
	struct nat *n;
	unsigned count = 0, nstrat = 0, sel, slot;
	sp_time now = SP_SEC(10);

	if (size > sizeof(rx))
		return 0;
	memcpy(rx, data, size);
	memset(&q, 0, sizeof(q));
	q.fd = q.raw = -1;
	q.rx = rx;
	q.rxlen = size;
	q.tx = tx;
	if (!pool_ready) {
		FUZZ_CHECK(pkt_pool_init(&pool, 128, PKT_BUFSIZE) == 0);
		pool_ready = true;
	}
	while (nat_strategies[nstrat] != NULL)
		nstrat++;
	sel = (unsigned)size;
	sp_xoshiro_seed(&rng, 1);
	slot = (sel % nstrat) * 4 + (sel / nstrat & 3);
	FUZZ_CHECK(slot < sizeof(engines) / sizeof(engines[0]));
	if ((n = engines[slot]) == NULL) {
		nat_config_defaults(&c);
		/* The seeds' global address (000's worked example): their replies reach
		 * out2in. */
		FUZZ_CHECK(nat_config_add_pool(&c, SP_IP4(171, 69, 68, 10)) == 0);
		FUZZ_CHECK(nat_config_set_strategy(&c, nat_strategies[sel % nstrat]->name) == 0);
		sel /= nstrat;
		c.ike_mode = (sel & 1) ? NAT_IKE_NAPT : NAT_IKE_COOKIES;
		c.full_mode = (sel & 2) ? NAT_FULL_EVICT : NAT_FULL_DROP;
		fuzz_nat_small(&c);
		env.rng = &rng.rng;
		env.pool = &pool;
		env.emit = emit;
		FUZZ_CHECK(nat_new(&n, &c, &env) == 0);
		engines[slot] = n;
	}
	while (io_nfq_next(&q, &m) == 0) {
		FUZZ_CHECK(count++ <= size / 16);
		if (m.payload != NULL) {
			struct pkt p;
			int v;

			FUZZ_CHECK(m.payload >= rx && m.payload + m.len <= rx + size);
			pkt_init(&p, m.payload, m.len, 0);
			p.len = m.len;
			now += SP_SEC(m.id & 7); /* timeouts and rate buckets move */
			if (now >= nat_next_deadline(n))
				nat_tick(n, now);
			v = nat_translate(n, now, (m.indev & 1) ? NAT_OUTSIDE : NAT_INSIDE, &p);
			FUZZ_CHECK(p.len == m.len);
			if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
				q.txlen = 0;
				FUZZ_CHECK(io_nfq_verdict(&q, m.id, NF_ACCEPT, m.payload, m.len) ==
					   0);
			}
		}
	}
	drain(n, now, 256);
	nat_reset(n);
	FUZZ_CHECK(pool.nfree == pool.n);
	return 0;
}
