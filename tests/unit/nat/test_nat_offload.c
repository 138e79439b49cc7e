/*
 * The engine's side of the fast path (nat/nat_offload.h) with a fast path in memory: which
 * entries become settled and when (UDP at once, TCP once established, masq items once
 * established, spihash rows once matched), the items installed for each, expiries
 * postponed by the fast path's last use and kept when it is stale, removal with the entry
 * (expiry, eviction, reset, disable), a refused install, and `show nat`'s counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "nat/nat_offload.h"
#include "nat/nat_table.h"
#include "crypto/spihash_scheme.h"

#define G  IP(171, 69, 68, 10)
#define C1 IP(10, 6, 1, 2)
#define S  IP(204, 71, 200, 69)
#define T0 SP_SEC(5000)

#define FAKE_MAX 64

/* The fast path in memory: what is installed per entry, and the use the test makes up. */
struct fake {
	struct nat_offload_desc d[FAKE_MAX];
	bool on[FAKE_MAX];
	struct nat_offload_use use[FAKE_MAX];
	unsigned installs, removes, flushes;
	bool refuse;
};

static int f_install(void *arg, uint32_t idx, const struct nat_offload_desc *d)
{
	struct fake *k = arg;

	assert_true(idx < FAKE_MAX);
	if (k->refuse)
		return SP_EFULL;
	assert_false(k->on[idx]);
	k->d[idx] = *d;
	k->on[idx] = true;
	k->installs++;
	return 0;
}

static void f_remove(void *arg, uint32_t idx, const struct nat_offload_desc *d)
{
	struct fake *k = arg;

	assert_true(k->on[idx]);
	/* what is removed is what was installed */
	assert_int_equal(d->n, k->d[idx].n);
	assert_memory_equal(d->item, k->d[idx].item, sizeof(d->item[0]) * d->n);
	k->on[idx] = false;
	memset(&k->use[idx], 0, sizeof(k->use[idx]));
	k->removes++;
}

static int f_use(void *arg, uint32_t idx, const struct nat_offload_desc *d,
		 struct nat_offload_use *u)
{
	struct fake *k = arg;

	(void)d;
	assert_true(k->on[idx]);
	*u = k->use[idx];
	return 0;
}

static void f_flush(void *arg)
{
	struct fake *k = arg;

	memset(k->on, 0, sizeof(k->on));
	k->flushes++;
}

struct tc {
	struct fx f;
	struct fake k;
};

static struct tc *start(const char *strategy, uint32_t max)
{
	struct tc *t = calloc(1, sizeof(*t));
	struct nat_offload_ops ops = { f_install, f_remove, f_use, f_flush, NULL };

	assert_non_null(t);
	assert_int_equal(fx_init(&t->f, strategy, max), 0);
	assert_int_equal(fx_start(&t->f), 0);
	ops.arg = &t->k;
	assert_int_equal(nat_offload_enable(t->f.n, &ops), 0);
	assert_int_equal(nat_offload_enable(t->f.n, &ops), SP_EEXIST);
	return t;
}

static void stop(struct tc *t)
{
	fx_fini(&t->f);
	free(t);
}

static int udp(struct tc *t, sp_time now, enum nat_side from, uint32_t src, uint16_t sport,
	       uint32_t dst, uint16_t dport)
{
	struct pkt *out;
	int v = fx_xlate(&t->f, now, from, tp_udp(&t->f.pool, src, sport, dst, dport, "x", 1),
			 &out);

	pkt_free(out);
	return v;
}

static int tcp(struct tc *t, sp_time now, enum nat_side from, uint32_t src, uint16_t sport,
	       uint32_t dst, uint16_t dport, uint8_t flags)
{
	struct pkt *out;
	int v = fx_xlate(&t->f, now, from, tp_tcp(&t->f.pool, src, sport, dst, dport, flags), &out);

	pkt_free(out);
	return v;
}

static int esp(struct tc *t, sp_time now, enum nat_side from, uint32_t src, uint32_t dst,
	       uint32_t spi)
{
	struct pkt *out;
	int v = fx_xlate(&t->f, now, from, tp_esp(&t->f.pool, src, dst, spi, 1), &out);

	pkt_free(out);
	return v;
}

/* The only entry installed (asserting there is exactly one). */
static uint32_t only(const struct fake *k)
{
	uint32_t found = NAT_NIL;

	for (uint32_t i = 0; i < FAKE_MAX; i++) {
		if (k->on[i]) {
			assert_int_equal(found, NAT_NIL);
			found = i;
		}
	}
	assert_int_not_equal(found, NAT_NIL);
	return found;
}

static char *show(struct tc *t, sp_time now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	nat_show(t->f.n, now, m, NAT_SHOW_ALL, 0);
	fclose(m);
	return buf;
}

/* A UDP mapping is settled at once; its two items are the NAPT rewrite both ways. */
static void udp_items(void **state)
{
	struct tc *t = start("natt", 64);
	const struct nat_offload_desc *d;
	uint32_t idx;

	(void)state;
	assert_int_equal(udp(t, T0, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 1);
	idx = only(&t->k);
	assert_true(nat_offload_is(t->f.n, idx));
	d = &t->k.d[idx];
	assert_int_equal(d->n, 2);
	assert_int_equal(d->idle, SP_SEC(300)); /* RFC 4787 REQ-5's default here */
	assert_int_equal(d->item[0].from, NAT_INSIDE);
	assert_int_equal(d->item[0].proto, IPV4_PROTO_UDP);
	assert_int_equal(d->item[0].a, C1);
	assert_int_equal(d->item[0].id, 4000);
	assert_int_equal(d->item[0].addr, G);
	assert_int_equal(d->item[0].port, 4000); /* preserved */
	assert_true(d->item[0].rewrite_port);
	assert_int_equal(d->item[1].from, NAT_OUTSIDE);
	assert_int_equal(d->item[1].a, G);
	assert_int_equal(d->item[1].id, 4000);
	assert_int_equal(d->item[1].addr, C1);
	assert_int_equal(d->item[1].port, 4000);
	/* more packets through the engine (queued before the install) install nothing */
	assert_int_equal(udp(t, T0 + 1, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(udp(t, T0 + 2, NAT_OUTSIDE, S, 53, G, 4000), NAT_TO_INSIDE);
	assert_int_equal(t->k.installs, 1);
	assert_int_equal(fx_ctr(&t->f, "offload_installed"), 1);
	stop(t);
}

/* The fast path's use postpones the expiry exactly; once it stops, the mapping expires
 * its timeout after the last packet and its items are removed. */
static void expiry_follows_the_fast_path(void **state)
{
	struct tc *t = start("natt", 64);
	uint32_t idx;
	char *s;

	(void)state;
	assert_int_equal(udp(t, T0, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	idx = only(&t->k);
	/* the kernel forwards packets until T0 + 250 s; the engine sees none */
	t->k.use[idx].last = T0 + SP_SEC(250);
	t->k.use[idx].packets = 12345;
	t->k.use[idx].bytes = 12345 * 64;
	nat_tick(t->f.n, T0 + SP_SEC(302));
	assert_int_equal(fx_ctr(&t->f, "offload_expiry_postponed"), 1);
	assert_int_equal(fx_ctr(&t->f, "entries_expired"), 0);
	assert_true(t->k.on[idx]);
	/* show nat: the kernel's packets, and the expiry its last one implies */
	s = show(t, T0 + SP_SEC(302));
	assert_non_null(strstr(s, "fast 12345 pkts 790080 B"));
	assert_non_null(strstr(s, " 248  fast"));
	free(s);
	/* the engine still knows the mapping: an inbound packet it sees is translated */
	assert_int_equal(udp(t, T0 + SP_SEC(303), NAT_OUTSIDE, S, 53, G, 4000), NAT_TO_INSIDE);
	/* no more use: expired one timeout after the engine's own last packet (T0 + 303 s),
	 * within a wheel tick, and taken out of the fast path */
	nat_tick(t->f.n, T0 + SP_SEC(602));
	assert_true(t->k.on[idx]);
	nat_tick(t->f.n, T0 + SP_SEC(605));
	assert_false(t->k.on[idx]);
	assert_int_equal(t->k.removes, 1);
	assert_int_equal(fx_ctr(&t->f, "entries_expired"), 1);
	assert_int_equal(fx_ctr(&t->f, "offload_expired"), 1);
	assert_int_equal(fx_ctr(&t->f, "offload_removed"), 1);
	assert_int_equal(nat_entries(t->f.n), 0);
	/* the next packet makes a new mapping, installed again */
	assert_int_equal(udp(t, T0 + SP_SEC(606), NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 2);
	stop(t);
}

/* TCP: only once established; segments with flags still reach the engine and move the
 * state, and the idle timeout follows the state. */
static void tcp_once_established(void **state)
{
	struct tc *t = start("natt", 64);
	uint32_t idx;

	(void)state;
	assert_int_equal(tcp(t, T0, NAT_INSIDE, C1, 5000, S, 80, TCP_SYN), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 0);
	assert_int_equal(tcp(t, T0 + 1, NAT_OUTSIDE, S, 80, G, 5000, TCP_SYN | TCP_ACK),
			 NAT_TO_INSIDE);
	assert_int_equal(t->k.installs, 1);
	idx = only(&t->k);
	assert_int_equal(t->k.d[idx].idle, SP_SEC(7440)); /* RFC 5382 REQ-5 */
	/* a FIN: the mapping stays offloaded, its idle timeout is now the transitory one */
	assert_int_equal(tcp(t, T0 + 2, NAT_INSIDE, C1, 5000, S, 80, TCP_FIN | TCP_ACK),
			 NAT_TO_OUTSIDE);
	t->k.use[idx].last = T0 + SP_SEC(100);
	nat_tick(t->f.n, T0 + SP_SEC(241));
	assert_true(t->k.on[idx]);
	nat_tick(t->f.n, T0 + SP_SEC(342));
	assert_false(t->k.on[idx]);
	assert_int_equal(fx_ctr(&t->f, "entries_expired"), 1);
	stop(t);
}

/* masq: outstanding items decide (rules 1-2), established ones are settled. */
static void masq_established_only(void **state)
{
	struct tc *t = start("masq", 64);
	const struct nat_offload_desc *d;
	uint32_t idx;

	(void)state;
	assert_int_equal(esp(t, T0, NAT_INSIDE, C1, S, 0x1111), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 0);
	assert_int_equal(esp(t, T0 + 1, NAT_OUTSIDE, S, G, 0x2222), NAT_TO_INSIDE);
	assert_int_equal(t->k.installs, 1);
	idx = only(&t->k);
	d = &t->k.d[idx];
	assert_int_equal(d->n, 2);
	assert_int_equal(d->idle, SP_SEC(1800)); /* masq_t_ei */
	assert_int_equal(d->item[0].from, NAT_INSIDE);
	assert_int_equal(d->item[0].proto, IPV4_PROTO_ESP);
	assert_int_equal(d->item[0].a, C1);
	assert_int_equal(d->item[0].b, S);
	assert_int_equal(d->item[0].id, 0x1111);
	assert_int_equal(d->item[0].addr, G);
	assert_false(d->item[0].rewrite_port);
	assert_int_equal(d->item[1].from, NAT_OUTSIDE);
	assert_int_equal(d->item[1].a, G);
	assert_int_equal(d->item[1].b, S);
	assert_int_equal(d->item[1].id, 0x2222);
	assert_int_equal(d->item[1].addr, C1);
	stop(t);
}

/* spihash: the outbound row once matched, the association at once; candidates never. */
static void spihash_matched_rows(void **state)
{
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	struct tc *t = start("spihash", 64);
	unsigned rows = 0;
	uint32_t resp;

	(void)state;
	assert_int_equal(nat_spihash_derive(md5, 0xD4560CA1u, NULL, &resp), 0);
	assert_int_equal(esp(t, T0, NAT_INSIDE, C1, S, 0xD4560CA1u), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 0);
	assert_int_equal(esp(t, T0 + 1, NAT_OUTSIDE, S, G, resp), NAT_TO_INSIDE);
	assert_int_equal(t->k.installs, 2);
	for (uint32_t i = 0; i < FAKE_MAX; i++) {
		const struct nat_offload_desc *d = &t->k.d[i];

		if (!t->k.on[i])
			continue;
		rows++;
		assert_int_equal(d->n, 1);
		if (d->item[0].from == NAT_INSIDE) {
			assert_int_equal(d->item[0].id, 0xD4560CA1u);
			assert_int_equal(d->item[0].addr, G);
		} else {
			assert_int_equal(d->item[0].id, resp);
			assert_int_equal(d->item[0].addr, C1);
		}
	}
	assert_int_equal(rows, 2);
	stop(t);
}

/* A refused install leaves the entry with the engine, which tries again on its next
 * packet; reset and disable empty the fast path. */
static void refused_reset_disable(void **state)
{
	struct tc *t = start("natt", 64);

	(void)state;
	t->k.refuse = true;
	assert_int_equal(udp(t, T0, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(fx_ctr(&t->f, "offload_install_failed"), 1);
	assert_int_equal(t->k.installs, 0);
	t->k.refuse = false;
	assert_int_equal(udp(t, T0 + 1, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 1);
	nat_reset(t->f.n);
	assert_int_equal(t->k.flushes, 1);
	assert_int_equal(udp(t, T0 + 2, NAT_INSIDE, C1, 4000, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 2);
	nat_offload_disable(t->f.n);
	assert_int_equal(t->k.flushes, 2);
	assert_false(nat_offload_enabled(t->f.n));
	/* without a fast path, nothing is offloaded and show nat has no counts */
	assert_int_equal(udp(t, T0 + 3, NAT_INSIDE, C1, 4001, S, 53), NAT_TO_OUTSIDE);
	assert_int_equal(t->k.installs, 2);
	{
		char *s = show(t, T0 + 3);

		assert_null(strstr(s, "fast "));
		free(s);
	}
	stop(t);
}

/* Eviction of an offloaded entry takes its items out. */
static void eviction_removes(void **state)
{
	struct tc *t = calloc(1, sizeof(*t));
	struct nat_offload_ops ops = { f_install, f_remove, f_use, f_flush, NULL };

	(void)state;
	assert_non_null(t);
	assert_int_equal(fx_init(&t->f, "natt", 4), 0);
	t->f.cfg.full_mode = NAT_FULL_EVICT;
	assert_int_equal(fx_start(&t->f), 0);
	ops.arg = &t->k;
	assert_int_equal(nat_offload_enable(t->f.n, &ops), 0);
	for (uint16_t p = 0; p < 6; p++)
		assert_int_equal(udp(t, T0 + p, NAT_INSIDE, C1, (uint16_t)(4000 + p), S, 53),
				 NAT_TO_OUTSIDE);
	assert_int_equal(fx_ctr(&t->f, "entries_evicted"), 2);
	assert_int_equal(t->k.installs, 6);
	assert_int_equal(t->k.removes, 2);
	stop(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_items),
		cmocka_unit_test(expiry_follows_the_fast_path),
		cmocka_unit_test(tcp_once_established),
		cmocka_unit_test(masq_established_only),
		cmocka_unit_test(spihash_matched_rows),
		cmocka_unit_test(refused_reset_disable),
		cmocka_unit_test(eviction_removes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
