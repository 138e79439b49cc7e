/*
 * The gateway's packet input: a sequence of packets from either side through the NAT
 * engine, under the strategy the first byte picks, with time moving on between them, as
 * spinatd's gateway role feeds it. Record format after the first byte:
 *   u8 flags (bit 0: from outside; bits 1-4: seconds to advance), u16 length, bytes.
 * The outer header's length and checksum are fixed up so mutations reach the layers
 * behind it. Invariants: a verdict is one of four; a forwarded packet keeps its length
 * and a valid header checksum; every engine-made packet is a valid IPv4 header; no packet
 * buffer is lost when the engine is reset; the table never holds more than it may.
 *
 * One engine per configuration (strategy, IKE mode, full mode) is made on first use and
 * reset (nat_reset) after each input, with its random generator seeded again: an input
 * runs as on a new engine without making one (dnat's and lease's maps alone are most
 * of a megabyte to allocate and free under ASan per input).
 */
#include "fuzz.h"
#include "fuzz_natcfg.h"
#include "base/addr.h"
#include "base/csum.h"
#include "base/rand.h"
#include "nat/nat.h"
#include "nat/nat_strategy.h"
#include "proto/ipv4.h"

static struct pkt_pool pool;
static bool pool_ready;
static struct sp_xoshiro rng;
static struct nat *engines[32];

static void check_ip(const struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	size_t hl;

	FUZZ_CHECK(p->len >= IPV4_HDR_MIN && (d[0] >> 4) == 4);
	hl = (size_t)(d[0] & 0x0f) * 4;
	FUZZ_CHECK(hl >= IPV4_HDR_MIN && hl <= p->len);
	FUZZ_CHECK(csum_buf(d, hl) == 0);
}

static void emit(void *arg, enum nat_side side, struct pkt *p)
{
	(void)arg;
	FUZZ_CHECK(side == NAT_INSIDE || side == NAT_OUTSIDE);
	check_ip(p);
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

static void fix_header(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);
	size_t hl;

	if (p->len < IPV4_HDR_MIN || (ip[0] >> 4) != 4)
		return;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_MIN || hl > p->len)
		return;
	sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
	ipv4_set_csum(ip, hl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nat_env env = { .name = "fuzz", .emit = emit };
	struct nat_config c;
	unsigned nstrat = 0, slot;
	struct nat *n;
	struct cur cur;
	sp_time now = SP_SEC(100);
	uint8_t sel;

	if (!pool_ready) {
		FUZZ_CHECK(pkt_pool_init(&pool, 128, PKT_BUFSIZE) == 0);
		pool_ready = true;
	}
	cur_init(&cur, data, size);
	if (cur_get_u8(&cur, &sel) != 0)
		return 0;
	while (nat_strategies[nstrat] != NULL)
		nstrat++;
	sp_xoshiro_seed(&rng, 1);
	slot = (sel % nstrat) * 4 + (sel >> 6);
	FUZZ_CHECK(slot < sizeof(engines) / sizeof(engines[0]));
	if ((n = engines[slot]) == NULL) {
		nat_config_defaults(&c);
		FUZZ_CHECK(nat_config_add_pool(&c, SP_IP4(171, 69, 68, 10)) == 0);
		FUZZ_CHECK(nat_config_add_pool(&c, SP_IP4(171, 69, 68, 11)) == 0);
		FUZZ_CHECK(nat_config_set_strategy(&c, nat_strategies[sel % nstrat]->name) == 0);
		c.ike_mode = (sel & 0x80) ? NAT_IKE_NAPT : NAT_IKE_COOKIES;
		c.full_mode = (sel & 0x40) ? NAT_FULL_EVICT : NAT_FULL_DROP;
		fuzz_nat_small(&c);
		env.rng = &rng.rng;
		env.pool = &pool;
		FUZZ_CHECK(nat_new(&n, &c, &env) == 0);
		engines[slot] = n;
	}
	while (cur_left(&cur) > 0) {
		uint8_t flags;
		uint16_t len;
		const uint8_t *b;
		struct pkt *p;
		int v;

		if (cur_get_u8(&cur, &flags) != 0 || cur_get_u16(&cur, &len) != 0)
			break;
		len = (uint16_t)SP_MIN((size_t)len, cur_left(&cur));
		if (cur_get_ptr(&cur, len, &b) != 0)
			break;
		now += SP_SEC((flags >> 1) & 0x0f) * 13; /* up to 195 s: timeouts pass */
		if (now >= nat_next_deadline(n))
			nat_tick(n, now);
		if ((p = pkt_alloc(&pool)) == NULL || pkt_append(p, b, len) != 0) {
			pkt_free(p);
			continue;
		}
		fix_header(p);
		v = nat_translate(n, now, (flags & 1) ? NAT_OUTSIDE : NAT_INSIDE, p);
		FUZZ_CHECK(v == NAT_DROP || v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE ||
			   v == NAT_TAKEN);
		if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
			FUZZ_CHECK(p->len == len);
			check_ip(p);
		}
		pkt_free(p);
		FUZZ_CHECK(nat_entries(n) <= 16);
	}
	/* Everything expires; what a tick releases (serial's held packets) makes new items,
	 * which later ticks end. One input in eight first jumps past the wheel's horizon
	 * (a full turn of the wheel, entries filed again). */
	if ((sel & 0x38) == 0x38)
		nat_tick(n, now + SP_SEC(10000));
	drain(n, now, 256);
	FUZZ_CHECK(nat_entries(n) == 0);
	nat_reset(n);
	FUZZ_CHECK(pool.nfree == pool.n); /* held packets went back with the reset */
	return 0;
}
