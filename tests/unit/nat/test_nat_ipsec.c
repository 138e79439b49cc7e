/*
 * IPsec through the NAT: IKE cookies on port 500 (003), and each strategy's rules for raw
 * ESP: masq (003 Background), spihash (000 FIG. 3, FIG. 5A/5B), serial (000 [0019]),
 * natt, ipaddr and oldest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "crypto/spihash_scheme.h"

#define G  IP(171, 69, 68, 10)
#define C1 IP(10, 6, 1, 2)
#define C2 IP(10, 6, 1, 3)
#define C3 IP(10, 6, 1, 4)
#define S  IP(204, 71, 200, 69)
#define T0 SP_SEC(5000)

/* ESP from an inside client: 1 if forwarded (source now G), 0 if dropped, 2 if held. */
static int esp_out(struct fx *f, sp_time now, uint32_t c, uint32_t spi)
{
	struct pkt *out;
	int v = fx_xlate(f, now, NAT_INSIDE, tp_esp(&f->pool, c, S, spi, 1), &out);

	if (v == NAT_TO_OUTSIDE) {
		assert_int_equal(tp_src(out), G);
		assert_int_equal(sp_load_be32(pkt_data(out) + 20), spi); /* SPI kept */
		assert_int_equal(csum_buf(pkt_data(out), 20), 0);
		pkt_free(out);
		return 1;
	}
	return v == NAT_TAKEN ? 2 : 0;
}

/* ESP from the server to G: the inside address it was delivered to, 0 if dropped. */
static uint32_t esp_in(struct fx *f, sp_time now, uint32_t spi)
{
	struct pkt *out;
	uint32_t to = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_esp(&f->pool, S, G, spi, 1), &out) == NAT_TO_INSIDE) {
		to = tp_dst(out);
		assert_int_equal(csum_buf(pkt_data(out), 20), 0);
		pkt_free(out);
	}
	return to;
}

static int ike_out(struct fx *f, sp_time now, uint32_t c, uint64_t ic, uint64_t rc)
{
	struct pkt *out;
	int v = fx_xlate(f, now, NAT_INSIDE, tp_ike(&f->pool, c, S, ic, rc), &out);

	if (out != NULL) {
		/* 003: the address is translated, port 500 kept */
		assert_int_equal(tp_src(out), G);
		assert_int_equal(tp_sport(out), 500);
		assert_true(tp_csum_ok(out));
		pkt_free(out);
	}
	return v;
}

static uint32_t ike_in(struct fx *f, sp_time now, uint64_t ic, uint64_t rc)
{
	struct pkt *out;
	uint32_t to = 0;

	if (fx_xlate(f, now, NAT_OUTSIDE, tp_ike(&f->pool, S, G, ic, rc), &out) == NAT_TO_INSIDE) {
		assert_int_equal(tp_dport(out), 500);
		assert_true(tp_csum_ok(out));
		to = tp_dst(out);
		pkt_free(out);
	}
	return to;
}

static struct fx *start(const char *strategy)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fx_init(f, strategy, 4096), 0);
	assert_int_equal(fx_start(f), 0);
	return f;
}

static void stop(struct fx *f)
{
	fx_fini(f);
	free(f);
}

/* The IPsec rows of the table, into a buffer the caller frees. */
static char *show(struct fx *f, sp_time now)
{
	char *buf = NULL, *copy;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	nat_show(f->n, now, m, NAT_SHOW_IPSEC, 0);
	fclose(m);
	copy = strdup(buf);
	free(buf);
	return copy;
}

/* 003: IKE items, conversion on the reply, the initiator-cookie collision rule. */
static void ike_cookies(void **state)
{
	struct fx *f = start("masq");

	(void)state;
	/* two clients start IKE with the same server from port 500 */
	assert_int_equal(ike_out(f, T0, C1, 0x1111, 0), NAT_TO_OUTSIDE);
	assert_int_equal(ike_out(f, T0, C2, 0x2222, 0), NAT_TO_OUTSIDE);
	/* replies are told apart by the initiator cookie and establish the items */
	assert_int_equal(ike_in(f, T0 + 1, 0x2222, 0xbbbb), C2);
	assert_int_equal(ike_in(f, T0 + 1, 0x1111, 0xaaaa), C1);
	assert_int_equal(fx_ctr(f, "ike_items_established"), 2);
	assert_int_equal(ike_in(f, T0 + 2, 0x1111, 0xaaaa), C1);
	/* a reply for an unknown cookie pair: dropped, counted */
	assert_int_equal(ike_in(f, T0 + 2, 0x3333, 0xcccc), 0);
	assert_int_equal(fx_ctr(f, "drop_ike_no_item"), 1);

	/* C3 picks C1's... no: C3 and C2' pick the same initiator cookie 0x4444 */
	assert_int_equal(ike_out(f, T0 + 3, C3, 0x4444, 0), NAT_TO_OUTSIDE);
	/* while C3's item is outstanding, C1's packet with the same cookie is dropped */
	assert_int_equal(ike_out(f, T0 + 3, C1, 0x4444, 0), NAT_DROP);
	assert_int_equal(fx_ctr(f, "drop_ike_icookie_outstanding"), 1);
	/* the server answers C3; C1's retransmission then passes and is told apart by the
	 * responder cookie */
	assert_int_equal(ike_in(f, T0 + 4, 0x4444, 0xd3d3), C3);
	assert_int_equal(ike_out(f, T0 + 5, C1, 0x4444, 0), NAT_TO_OUTSIDE);
	assert_int_equal(ike_in(f, T0 + 6, 0x4444, 0xd1d1), C1);
	assert_int_equal(ike_in(f, T0 + 7, 0x4444, 0xd3d3), C3);
	assert_int_equal(ike_in(f, T0 + 7, 0x4444, 0xd1d1), C1);

	/* established items live T_ei after the last packet, outstanding ones T_out */
	assert_int_equal(ike_out(f, T0 + 10, C2, 0x5555, 0), NAT_TO_OUTSIDE);
	assert_int_equal(ike_in(f, T0 + SP_SEC(11), 0x5555, 0xeeee), 0);
	assert_int_equal(ike_in(f, T0 + SP_SEC(1700), 0x2222, 0xbbbb), C2);
	assert_int_equal(ike_in(f, T0 + SP_SEC(1700 + 1801), 0x2222, 0xbbbb), 0);
	stop(f);
}

/* 003 Background, ESP rules for masq, one by one. */
static void masq_rules(void **state)
{
	struct fx *f = start("masq");
	sp_time t = T0;

	(void)state;
	/* clients ran IKE with S: they are the multicast group */
	assert_int_equal(ike_out(f, t, C1, 0x1, 0), NAT_TO_OUTSIDE);
	assert_int_equal(ike_out(f, t, C2, 0x2, 0), NAT_TO_OUTSIDE);

	/* client packet, no item: (1) no outstanding item for S: create one */
	assert_int_equal(esp_out(f, t, C1, 0xc1000001), 1);
	/* (2) otherwise drop: C2 is held off while C1's item is outstanding */
	assert_int_equal(esp_out(f, t, C2, 0xc2000001), 0);
	assert_int_equal(fx_ctr(f, "masq_drop_server_outstanding"), 1);
	/* N_out: C1 caused a drop, so C1 may send N_out (5) more matching packets */
	for (int i = 0; i < 5; i++)
		assert_int_equal(esp_out(f, t, C1, 0xc1000001), 1);
	assert_int_equal(esp_out(f, t, C1, 0xc1000001), 0);
	assert_int_equal(fx_ctr(f, "masq_drop_n_out"), 1);
	/* server packet, no established item, outstanding one matches S: conversion */
	assert_int_equal(esp_in(f, t + 1, 0x1c000001), C1);
	assert_int_equal(fx_ctr(f, "masq_items_established"), 1);
	assert_int_equal(esp_out(f, t + 1, C1, 0xc1000001), 1); /* established: no N_out */
	/* now C2 may create its own */
	assert_int_equal(esp_out(f, t + 2, C2, 0xc2000001), 1);
	assert_int_equal(esp_in(f, t + 3, 0x2c000001), C2);
	assert_int_equal(esp_in(f, t + 3, 0x1c000001), C1);

	/* server packet matching nothing: multicast to the clients that ran IKE with S */
	fx_clear_emitted(f);
	assert_int_not_equal(esp_in(f, t + 4, 0x99999999), 0);
	assert_int_equal(f->nemitted, 1); /* one copy besides the packet itself */
	assert_int_equal(f->side[0], NAT_INSIDE);
	assert_true(tp_dst(f->emitted[0]) == C1 || tp_dst(f->emitted[0]) == C2);
	assert_int_equal(fx_ctr(f, "masq_multicast"), 1);
	assert_int_equal(fx_ctr(f, "masq_multicast_copies"), 2);
	fx_clear_emitted(f);

	/* T_out: an outstanding item that nobody answers expires, letting others in (the
	 * table keeps expiries to the millisecond, rounded up) */
	assert_int_equal(esp_out(f, t + 5, C1, 0xc1000002), 1);
	assert_int_equal(esp_out(f, t + 5, C2, 0xc2000002), 0);
	assert_int_equal(esp_out(f, t + 5 + SP_SEC(10) + SP_MSEC(1), C2, 0xc2000002), 1);

	/* T_ei: established items expire after inactivity */
	assert_int_equal(esp_in(f, t + SP_SEC(1800), 0x1c000001), C1);
	assert_int_equal(esp_in(f, t + SP_SEC(3601), 0x1c000001), 0);
	stop(f);
}

/* 000 FIG. 4, 5A, 5B: the worked example with real MD5 values. */
static void spihash_worked_example(void **state)
{
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	struct fx *f = start("spihash");
	uint32_t r410 = nat_spihash_result(md5, 0xD4560CA1u);
	uint32_t r420 = nat_spihash_result(md5, 0xB7285662u);
	char *t;

	(void)state;
	assert_int_equal(esp_out(f, T0, C1, 0xD4560CA1u), 1);
	assert_int_equal(esp_out(f, T0, C2, 0xB7285662u), 1);
	t = show(f, T0);
	/* FIG. 5A rows 504, 508 */
	assert_non_null(strstr(t, "esp   171.69.68.10           10.6.1.2:0xD4560CA1    "
				  "204.71.200.69:0          204.71.200.69:0          unmatched"));
	assert_non_null(strstr(t, "esp   171.69.68.10           10.6.1.3:0xB7285662    "
				  "204.71.200.69:0          204.71.200.69:0          unmatched"));
	free(t);
	/* [0099]: a conventionally random responder SPI matches nothing: dropped */
	assert_int_equal(esp_in(f, T0 + 1, 0x0C7CCE73u), 0);
	assert_int_equal(fx_ctr(f, "spihash_drop_no_match"), 1);
	/* [0102]: the reply for 10.6.1.3 first, then for 10.6.1.2 */
	assert_int_equal(esp_in(f, T0 + 2, r420), C2);
	assert_int_equal(esp_in(f, T0 + 3, r410), C1);
	assert_int_equal(fx_ctr(f, "spihash_matched_stored_originator"), 2);
	t = show(f, T0 + 3);
	/* FIG. 5B rows 504, 506, 508, 510 in that order */
	{
		const char *r504 = strstr(t, "10.6.1.2:0xD4560CA1");
		const char *r506 = strstr(t, "10.6.1.2:0      ");
		const char *r508 = strstr(t, "10.6.1.3:0xB7285662");
		const char *r510 = strstr(t, "10.6.1.3:0      ");

		assert_non_null(r504);
		assert_non_null(r506);
		assert_non_null(r508);
		assert_non_null(r510);
		assert_true(r504 < r506 && r506 < r508 && r508 < r510);
		assert_non_null(strstr(r506, "204.71.200.69:0x46E0ECC1"));
		assert_non_null(strstr(r510, "204.71.200.69:0xCA0D0306"));
	}
	free(t);
	/* block 340: associations are used from now on */
	assert_int_equal(esp_in(f, T0 + 4, r410), C1);
	assert_int_equal(esp_in(f, T0 + 4, r420), C2);
	stop(f);
}

/* [0072]-[0075]: the inside host may be the responder; [0079]: rekeys match again. */
static void spihash_both_directions_and_rekey(void **state)
{
	struct fx *f = start("spihash");
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	uint32_t server_orig = 0x5e4e4001u;
	uint32_t c1_resp = nat_spihash_result(md5, server_orig);

	(void)state;
	/* the server originated: C1 sends with the SPI it derived, the server with its own */
	assert_int_equal(esp_out(f, T0, C1, c1_resp), 1);
	assert_int_equal(esp_in(f, T0 + 1, server_orig), C1);
	assert_int_equal(fx_ctr(f, "spihash_matched_received_originator"), 1);
	/* rekey: new SPIs, matched the same way */
	assert_int_equal(esp_out(f, T0 + 10, C1, 0x11112222u), 1);
	assert_int_equal(esp_in(f, T0 + 11, nat_spihash_result(md5, 0x11112222u)), C1);
	assert_int_equal(fx_ctr(f, "spihash_matched_stored_originator"), 1);
	/* the old association still works until it idles out */
	assert_int_equal(esp_in(f, T0 + 12, server_orig), C1);
	assert_int_equal(esp_in(f, T0 + 12 + SP_SEC(1800) + SP_MSEC(1), server_orig), 0);
	stop(f);
}

/* [0104]: a two-byte scheme collides when both stored SPIs share hash bytes. */
static void spihash_collision_drops(void **state)
{
	const struct nat_spihash_scheme *s;
	struct fx *f = calloc(1, sizeof(*f));
	struct conf *conf = NULL;
	uint32_t a = 0x10000000u, b, r;

	(void)state;
	assert_int_equal(fx_init(f, "spihash", 4096), 0);
	assert_int_equal(conf_parse_string("[g]\npool = 171.69.68.10\nstrategy = spihash\n"
					   "spihash_scheme = md5-byte9\n",
					   "t", &conf),
			 0);
	assert_int_equal(nat_config_read(&f->cfg, conf_find(conf, "g", NULL)), 0);
	conf_free(conf);
	f->cfg.max_entries = 4096;
	assert_int_equal(fx_start(f), 0);
	s = nat_spihash_scheme_get(NAT_SPIHASH_MD5_BYTE9);
	/* find b != a whose ninth MD5 byte equals a's */
	for (b = a + 1; nat_spihash_result(s, b) != nat_spihash_result(s, a); b++)
		;
	assert_int_equal(esp_out(f, T0, C1, a), 1);
	assert_int_equal(esp_out(f, T0, C2, b), 1);
	r = 0x12000000u | nat_spihash_result(s, a) | 0x3456;
	assert_int_equal(esp_in(f, T0 + 1, r), 0);
	assert_int_equal(fx_ctr(f, "spihash_drop_collision"), 1);
	stop(f);
}

/* 000 [0019]: one outstanding originator per responder; others held, then released. */
static void serial_holds_and_releases(void **state)
{
	struct fx *f = start("serial");
	sp_time t = T0;

	(void)state;
	assert_int_equal(esp_out(f, t, C1, 0xc1), 1);
	assert_int_equal(esp_out(f, t, C2, 0xc2), 2); /* held */
	assert_int_equal(fx_ctr(f, "serial_held"), 1);
	assert_int_equal(nat_next_deadline(f->n) <= t + SP_SEC(10), true);
	/* an inbound packet with no outstanding is dropped... here C1 is outstanding */
	assert_int_equal(esp_in(f, t + 1, 0x1c), C1);
	/* the responder is free: C2's packet goes out at the next tick, as the outstanding */
	assert_int_equal(nat_next_deadline(f->n), 0);
	nat_tick(f->n, t + 1);
	assert_int_equal(f->nemitted, 1);
	assert_int_equal(f->side[0], NAT_OUTSIDE);
	assert_int_equal(tp_src(f->emitted[0]), G);
	assert_int_equal(sp_load_be32(pkt_data(f->emitted[0]) + 20), 0xc2);
	fx_clear_emitted(f);
	assert_int_equal(esp_in(f, t + 2, 0x2c), C2);
	assert_int_equal(esp_in(f, t + 2, 0x1c), C1);
	/* nobody outstanding: an unknown SPI is dropped */
	assert_int_equal(esp_in(f, t + 3, 0x77), 0);
	assert_int_equal(fx_ctr(f, "serial_drop_no_outstanding"), 1);
	/* a held packet whose responder never answers the blocker goes after T_out */
	assert_int_equal(esp_out(f, t + 4, C1, 0xc1b), 1);
	assert_int_equal(esp_out(f, t + 4, C3, 0xc3), 2);
	nat_tick(f->n, t + 4 + SP_SEC(10) + SP_MSEC(1));
	assert_int_equal(f->nemitted, 1);
	fx_clear_emitted(f);
	stop(f);
}

static void natt_drops_raw_esp(void **state)
{
	struct fx *f = start("natt");
	struct pkt *out;

	(void)state;
	assert_int_equal(esp_out(f, T0, C1, 0x1234), 0);
	assert_int_equal(fx_ctr(f, "natt_drop_raw_ipsec"), 1);
	/* UDP 4500 is plain NAPT: the second client gets another port */
	assert_int_equal(
		fx_xlate(f, T0, NAT_INSIDE, tp_udp(&f->pool, C1, 4500, S, 4500, "x", 1), &out),
		NAT_TO_OUTSIDE);
	assert_int_equal(tp_sport(out), 4500);
	pkt_free(out);
	assert_int_equal(
		fx_xlate(f, T0, NAT_INSIDE, tp_udp(&f->pool, C2, 4500, S, 4500, "x", 1), &out),
		NAT_TO_OUTSIDE);
	assert_int_not_equal(tp_sport(out), 4500);
	pkt_free(out);
	stop(f);
}

static void ipaddr_one_client_per_server(void **state)
{
	struct fx *f = start("ipaddr");

	(void)state;
	assert_int_equal(esp_out(f, T0, C1, 0x1), 1);
	assert_int_equal(esp_out(f, T0, C2, 0x2), 0);
	assert_int_equal(fx_ctr(f, "ipaddr_drop_server_busy"), 1);
	/* every inbound SPI goes to the one client */
	assert_int_equal(esp_in(f, T0, 0xabc), C1);
	assert_int_equal(esp_in(f, T0, 0xdef), C1);
	/* 600 s after the last packet the server is free again */
	assert_int_equal(esp_out(f, T0 + SP_SEC(601), C2, 0x2), 1);
	stop(f);
}

static void oldest_unanswered_wins(void **state)
{
	struct fx *f = start("oldest");

	(void)state;
	assert_int_equal(esp_out(f, T0, C1, 0x1), 1);
	assert_int_equal(esp_out(f, T0 + 1, C2, 0x2), 1);
	/* the first unknown SPI goes to the oldest unanswered SA, whoever it was for */
	assert_int_equal(esp_in(f, T0 + 2, 0x2b), C1);
	assert_int_equal(esp_in(f, T0 + 3, 0x1b), C2);
	assert_int_equal(esp_in(f, T0 + 4, 0x2b), C1);
	assert_int_equal(esp_in(f, T0 + 4, 0x99), 0);
	assert_int_equal(fx_ctr(f, "oldest_drop_no_unanswered"), 1);
	/* unanswered entries live 60 s */
	assert_int_equal(esp_out(f, T0 + 5, C3, 0x3), 1);
	assert_int_equal(esp_in(f, T0 + 5 + SP_SEC(61), 0x3b), 0);
	stop(f);
}

/* The row each strategy's item makes in `show nat` (000 FIG. 5A's columns), before and
 * after the server's first packet: the outgoing SPI on the inside local address, the
 * incoming one on the outside once it is known, the strategy's own state word. */
static void item_rows(const char *strategy, const char *before, const char *after)
{
	struct fx *f = start(strategy);
	char *t;

	assert_int_equal(esp_out(f, T0, C1, 0xc1000001), 1);
	t = show(f, T0);
	if (strstr(t, before) == NULL)
		fail_msg("%s before the answer: no '%s' in\n%s", strategy, before, t);
	free(t);
	assert_int_equal(esp_in(f, T0 + 1, 0x1c000001), C1);
	t = show(f, T0 + 1);
	if (strstr(t, after) == NULL)
		fail_msg("%s after the answer: no '%s' in\n%s", strategy, after, t);
	free(t);
	stop(f);
}

static void show_item_rows(void **state)
{
	(void)state;
	item_rows("masq",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0          "
		  "204.71.200.69:0          outstanding",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0x1C000001 "
		  "204.71.200.69:0x1C000001 established");
	item_rows("serial",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0          "
		  "204.71.200.69:0          outstanding",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0x1C000001 "
		  "204.71.200.69:0x1C000001 associated");
	item_rows("oldest",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0          "
		  "204.71.200.69:0          unanswered",
		  "esp   171.69.68.10           10.6.1.2:0xC1000001    204.71.200.69:0x1C000001 "
		  "204.71.200.69:0x1C000001 answered");
	/* ipaddr keeps no SPIs: addresses only, before and after */
	item_rows("ipaddr",
		  "esp   171.69.68.10           10.6.1.2               204.71.200.69            "
		  "204.71.200.69            by-address",
		  "esp   171.69.68.10           10.6.1.2               204.71.200.69            "
		  "204.71.200.69            by-address");
}

static void reset_forgets_everything(void **state)
{
	struct fx *f = start("masq");

	(void)state;
	assert_int_equal(esp_out(f, T0, C1, 0x1), 1);
	assert_int_equal(esp_in(f, T0, 0x1b), C1);
	assert_true(nat_entries(f->n) > 0);
	nat_reset(f->n);
	assert_int_equal(nat_entries(f->n), 0);
	assert_int_equal(esp_in(f, T0 + 1, 0x1b), 0);
	stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ike_cookies),
		cmocka_unit_test(masq_rules),
		cmocka_unit_test(spihash_worked_example),
		cmocka_unit_test(spihash_both_directions_and_rekey),
		cmocka_unit_test(spihash_collision_drops),
		cmocka_unit_test(serial_holds_and_releases),
		cmocka_unit_test(natt_drops_raw_esp),
		cmocka_unit_test(ipaddr_one_client_per_server),
		cmocka_unit_test(oldest_unanswered_wins),
		cmocka_unit_test(reset_forgets_everything),
		cmocka_unit_test(show_item_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
