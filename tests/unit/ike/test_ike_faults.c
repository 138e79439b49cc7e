/*
 * Loss, silence and hostile input: retransmission with exponential back-off and its limit
 * (RFC 7296 2.1, 2.4), cached responses for retransmitted requests (2.1), liveness checks
 * and the peer-silent event, half-open expiry, window and integrity checks (2.3, 2.21.2),
 * and malformed, truncated or tampered messages dropped with a counter (2.5).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_harness.h"

#include "base/addr.h"
#include "base/cursor.h"

#include <stdio.h>
#include <string.h>

#define CONF_I                                                                \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\npsk = " \
	"sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
#define CONF_R                                                             \
	"[conn c]\nlocal = 10.0.0.2\nremote = %any\npsk = sharedsecret1\n" \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"

struct drop_plan {
	unsigned drop_first; /* drop this many messages in total */
	unsigned seen;
	bool drop_to[2];   /* drop everything to this node */
	sp_time times[64]; /* when node 0 sent what was dropped */
	unsigned ntimes;
};

static bool drop_filter(struct h_world *w, struct h_msg *m)
{
	struct drop_plan *d = w->farg;

	if (d->drop_to[m->to]) {
		if (m->to == 1 && d->ntimes < 64)
			d->times[d->ntimes++] = w->now;
		return false;
	}
	return d->seen++ >= d->drop_first;
}

static void lost_messages_are_retransmitted(void **state)
{
	struct drop_plan d = { .drop_first = 3 };
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I, CONF_R, 1), 0);
	w.filter = drop_filter;
	w.farg = &d;
	h_run(&w, w.now + SP_SEC(60));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	assert_true(h_ctr(&w.n[0], "retransmit") >= 1);
	h_free(&w);
}

static void backoff_and_limit(void **state)
{
	struct drop_plan d = { .drop_to = { false, true } };
	struct h_world w;
	sp_time t0;

	(void)state;
	assert_int_equal(h_init(&w,
				CONF_I
				"retransmit_timeout = 1s\nretransmit_tries = 4\nkeyingtries = 1\n",
				CONF_R, 1),
			 0);
	t0 = w.now;
	w.filter = drop_filter;
	w.farg = &d;
	h_run(&w, w.now + SP_SEC(120));
	/* the first send and four retransmissions, 1 s, 2 s, 4 s, 8 s apart; then give up */
	assert_int_equal(d.ntimes, 5);
	for (unsigned i = 1; i < d.ntimes; i++)
		assert_true(d.times[i] - d.times[i - 1] >= (SP_SEC(1) << (i - 1)) &&
			    d.times[i] - d.times[i - 1] < (SP_SEC(1) << (i - 1)) + SP_MSEC(10));
	assert_int_equal(h_events(&w.n[0], IKE_EV_CONNECT_FAILED), 1);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	assert_int_equal(h_ctr(&w.n[0], "retransmit"), 4);
	(void)t0;
	h_free(&w);
}

static unsigned auth_resp_dropped;
static bool drop_first_auth_response(struct h_world *w, struct h_msg *m)
{
	(void)w;
	/* IKE header: exchange type at 18, flags at 19 (R = 0x20) */
	if (m->to == 0 && m->len > 28 && m->data[18] == 35 && (m->data[19] & 0x20) &&
	    auth_resp_dropped++ == 0)
		return false;
	return true;
}

static void lost_response_gets_cached_copy(void **state)
{
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I, CONF_R, 2), 0);
	auth_resp_dropped = 0;
	w.filter = drop_first_auth_response;
	h_run(&w, w.now + SP_SEC(30));
	assert_int_equal(auth_resp_dropped, 2);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	/* the responder answered the retransmitted request from its cache, once, and
	 * did not process it twice */
	assert_int_equal(h_ctr(&w.n[1], "response_resent"), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_UP), 1);
	h_free(&w);
}

static void silent_peer_is_reported(void **state)
{
	struct drop_plan d = { 0 };
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I "dpd_delay = 10s\nretransmit_tries = 3\n", CONF_R, 3),
			 0);
	h_run(&w, w.now + SP_SEC(2));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	w.filter = drop_filter;
	w.farg = &d;
	d.drop_to[1] = true; /* the responder vanishes */
	h_run(&w, w.now + SP_SEC(120));
	assert_int_equal(h_events(&w.n[0], IKE_EV_PEER_SILENT), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_DOWN), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_DELETED), 1);
	assert_int_equal(h_sa_count(&w.n[0]), 0);
	assert_true(h_ctr(&w.n[0], "liveness_sent") >= 1);
	h_free(&w);
}

static void liveness_answered_keeps_sa(void **state)
{
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I "dpd_delay = 10s\n", CONF_R "dpd_delay = 0\n", 3), 0);
	h_run(&w, w.now + SP_SEC(100));
	assert_true(h_ctr(&w.n[0], "liveness_sent") >= 8);
	assert_int_equal(h_events(&w.n[0], IKE_EV_PEER_SILENT), 0);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	h_free(&w);
}

static void half_open_expires(void **state)
{
	struct drop_plan d = { .drop_to = { true, false } };
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I "retransmit_tries = 0\nkeyingtries = 1\n", CONF_R, 4),
			 0);
	w.filter = drop_filter;
	w.farg = &d;
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 1); /* half open */
	h_run(&w, w.now + SP_SEC(60));
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	h_free(&w);
}

/* Tamper with one message to node 1 after the handshake and see it dropped. */
static unsigned tamper_at;
static unsigned tamper_count;
static bool tamper(struct h_world *w, struct h_msg *m)
{
	(void)w;
	if (m->to == 1 && tamper_count++ == tamper_at && m->len > 40)
		m->data[m->len - 3] ^= 0x40; /* inside the ICV or the ciphertext */
	return true;
}

static void tampered_message_dropped_silently(void **state)
{
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I, CONF_R, 5), 0);
	h_run(&w, w.now + SP_SEC(2));
	tamper_at = 0;
	tamper_count = 0;
	w.filter = tamper;
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(30));
	/* 2.21.2: no answer to the forgery; the retransmission then goes through */
	assert_int_equal(h_ctr(&w.n[1], "drop_integrity"), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	h_free(&w);
}

static void hostile_bytes_never_crash(void **state)
{
	struct h_world w;
	struct ike_path p = { SP_IP4(10, 0, 0, 2), SP_IP4(10, 0, 0, 1), 500, 500 };
	uint8_t buf[2048];
	uint64_t dropped;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I, CONF_R, 6), 0);
	h_run(&w, w.now + SP_SEC(2));
	/* truncated and garbage datagrams of every length up to a few hundred bytes */
	for (size_t len = 0; len < 400; len++) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i * 37 + len);
		ike_input(w.n[1].ike, w.now, &p, buf, len);
	}
	/* a valid-looking header with payload lengths that lie */
	memset(buf, 0, 64);
	buf[0] = 1;
	buf[16] = 33; /* SA */
	buf[17] = 0x20;
	buf[18] = 34;
	buf[19] = 0x08;
	buf[27] = 60;
	buf[30] = 0xff;
	buf[31] = 0xff;
	ike_input(w.n[1].ike, w.now, &p, buf, 60);
	/* the NAT-T port without the marker */
	p.local_port = 4500;
	ike_input(w.n[1].ike, w.now, &p, buf, 60);
	dropped = h_ctr(&w.n[1], "drop_malformed") + h_ctr(&w.n[1], "drop_no_marker") +
		  h_ctr(&w.n[1], "drop_version") + h_ctr(&w.n[1], "drop_unknown_spi");
	assert_true(dropped >= 400);
	assert_int_equal(h_ctr(&w.n[1], "drop_no_marker"), 1);
	/* and the real SA still works */
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_REKEYED), 1);
	h_free(&w);
}

/* A flood of bad IKE_SA_INIT requests from anyone: every one is counted, but the log gets
 * a burst of lines and then one a second, the next saying how many were suppressed. */
static void bad_init_flood_logs_little(void **state)
{
	struct h_world w;
	struct ike_path p = { SP_IP4(10, 0, 0, 2), SP_IP4(203, 0, 113, 9), 500, 500 };
	uint8_t buf[28] = { 0 };
	unsigned before;

	(void)state;
	assert_int_equal(h_init(&w, CONF_I, CONF_R, 7), 0);
	h_run(&w, w.now + SP_SEC(2));
	before = w.n[1].nlog[SP_LOG_INFO];
	buf[17] = 0x20; /* version 2.0 */
	buf[18] = 34;	/* IKE_SA_INIT */
	buf[19] = 0x08; /* initiator */
	buf[27] = 28;
	for (uint32_t i = 0; i < 20000; i++) {
		sp_store_be32(buf, i + 1);
		ike_input(w.n[1].ike, w.now + SP_USEC(100) * i, &p, buf, sizeof(buf));
	}
	assert_int_equal(h_ctr(&w.n[1], "drop_malformed"), 20000);
	assert_true(w.n[1].nlog[SP_LOG_INFO] - before <= SP_RL_BURST + 2);
	assert_true(w.n[1].nlog[SP_LOG_INFO] - before >= SP_RL_BURST);
	h_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lost_messages_are_retransmitted),
		cmocka_unit_test(backoff_and_limit),
		cmocka_unit_test(lost_response_gets_cached_copy),
		cmocka_unit_test(silent_peer_is_reported),
		cmocka_unit_test(liveness_answered_keeps_sa),
		cmocka_unit_test(half_open_expires),
		cmocka_unit_test(tampered_message_dropped_silently),
		cmocka_unit_test(hostile_bytes_never_crash),
		cmocka_unit_test(bad_init_flood_logs_little),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
