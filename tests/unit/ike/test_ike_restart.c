/*
 * Restarts and retries (RFC 7296 2.4, 1.4.1, 2.21.2): a crashed peer's INITIAL_CONTACT
 * replaces the IKE SA it lost, an orderly stop deletes every IKE SA, the unique policies
 * (replace, keep, no, never) with and without INITIAL_CONTACT, keyingtries with its
 * exponential backoff and jitter, dpd_action = restart through an outage, close_action =
 * restart after the peer's delete, and no retry after an authentication failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_harness.h"

#include <stdio.h>
#include <string.h>

#define CONF_I                                                                \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\npsk = " \
	"sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
#define CONF_R                                                             \
	"[conn c]\nlocal = 10.0.0.2\nremote = %any\npsk = sharedsecret1\n" \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"

static void up(struct h_world *w, const char *extra_i, const char *extra_r, uint64_t seed)
{
	char ci[2048], cr[2048];

	snprintf(ci, sizeof(ci), "%s%s", CONF_I, extra_i);
	snprintf(cr, sizeof(cr), "%s%s", CONF_R, extra_r);
	assert_int_equal(h_init(w, ci, cr, seed), 0);
	h_run(w, w->now + SP_SEC(5));
	assert_int_equal(ike_sa_count(w->n[0].ike, true), 1);
	assert_int_equal(ike_sa_count(w->n[1].ike, true), 1);
}

/* Both hold exactly one IKE SA and one CHILD SA, with matching keys, and the responder's
 * fake data plane holds exactly that CHILD SA's two directions. */
static void one_each(struct h_world *w)
{
	assert_int_equal(ike_sa_count(w->n[0].ike, false), 1);
	assert_int_equal(ike_sa_count(w->n[1].ike, false), 1);
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
	assert_int_equal(h_sa_count(&w->n[1]), 2);
	assert_true(h_keys_pair(&w->n[0], &w->n[1]));
}

static void crash_then_initial_contact(void **state)
{
	struct h_world w;

	(void)state;
	up(&w, "", "", 1);
	assert_int_equal(h_restart(&w, 0, true), 0);
	/* well within a second of virtual time */
	h_run(&w, w.now + SP_MSEC(100));
	one_each(&w);
	assert_int_equal(h_ctr(&w.n[1], "initial_contact"), 2); /* first start and restart */
	assert_int_equal(h_ctr(&w.n[1], "ike_sa_replaced"), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_IKE_DOWN), 1);
	h_free(&w);
}

static void orderly_stop_deletes(void **state)
{
	struct h_world w;

	(void)state;
	up(&w, "", "", 2);
	ike_shutdown(w.n[0].ike, w.now);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	/* a stopped instance starts nothing (an owner's module reacting to IKE_EV_IKE_DOWN) */
	assert_int_equal(ike_up(w.n[0].ike, w.now, "c"), SP_ESTATE);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	h_run(&w, w.now + SP_MSEC(10));
	/* the peer removed the IKE SA and both directions of its CHILD SA at once */
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	assert_int_equal(h_sa_count(&w.n[1]), 0);
	assert_int_equal(h_events(&w.n[1], IKE_EV_IKE_DOWN), 1);
	h_free(&w);
}

static void replace_without_initial_contact(void **state)
{
	struct h_world w;

	(void)state;
	/* unique = never: the initiator sends no INITIAL_CONTACT; the responder's replace
	 * policy still leaves one IKE SA */
	up(&w, "unique = never\n", "", 3);
	assert_int_equal(h_restart(&w, 0, true), 0);
	h_run(&w, w.now + SP_SEC(1));
	one_each(&w);
	assert_int_equal(h_ctr(&w.n[1], "initial_contact"), 0);
	assert_int_equal(h_ctr(&w.n[1], "ike_sa_replaced"), 1);
	/* its delete for the old SA reached a peer that no longer knows it */
	assert_int_equal(h_ctr(&w.n[0], "drop_unknown_spi"), 1);
	h_free(&w);
}

static void unique_no_keeps_both(void **state)
{
	struct h_world w;

	(void)state;
	up(&w, "unique = never\n", "unique = no\n", 4);
	assert_int_equal(h_restart(&w, 0, true), 0);
	h_run(&w, w.now + SP_SEC(1));
	assert_int_equal(ike_sa_count(w.n[1].ike, true), 2);
	h_free(&w);
	/* but an INITIAL_CONTACT is honoured under unique = no */
	up(&w, "", "unique = no\n", 5);
	assert_int_equal(h_restart(&w, 0, true), 0);
	h_run(&w, w.now + SP_SEC(1));
	one_each(&w);
	h_free(&w);
	/* and ignored under never */
	up(&w, "", "unique = never\n", 6);
	assert_int_equal(h_restart(&w, 0, true), 0);
	h_run(&w, w.now + SP_SEC(1));
	assert_int_equal(ike_sa_count(w.n[1].ike, true), 2);
	h_free(&w);
}

static void unique_keep_refuses_duplicate(void **state)
{
	struct h_world w;

	(void)state;
	up(&w, "unique = never\n", "unique = keep\n", 7);
	assert_int_equal(h_restart(&w, 0, true), 0);
	h_run(&w, w.now + SP_SEC(30));
	assert_int_equal(ike_sa_count(w.n[1].ike, true), 1);
	assert_int_equal(h_ctr(&w.n[1], "ike_sa_duplicate_refused"), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	/* an authentication failure is not retried */
	assert_int_equal(h_ctr(&w.n[0], "retry"), 0);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	h_free(&w);
}

struct outage {
	sp_time from, until;
	sp_time sends[64]; /* IKE_SA_INIT requests from node 0 during the outage */
	unsigned nsends;
};

static bool outage_filter(struct h_world *w, struct h_msg *m)
{
	struct outage *o = w->farg;

	if (w->now < o->from || w->now >= o->until)
		return true;
	/* an IKE_SA_INIT request: exchange type 34 and the response flag clear */
	if (m->to == 1 && m->len >= 28 && m->data[18] == 34 && (m->data[19] & 0x20) == 0 &&
	    o->nsends < 64)
		o->sends[o->nsends++] = w->now;
	return false;
}

static void keyingtries_backoff(void **state)
{
	struct outage o = { .from = 0, .until = SP_TIME_NEVER };
	struct h_world w;

	(void)state;
	assert_int_equal(h_init(&w,
				CONF_I "keyingtries = 4\nretry_base = 1s\nretry_max = 4s\n"
				       "retry_jitter = 0\nretransmit_tries = 0\n"
				       "retransmit_timeout = 1s\n",
				CONF_R, 8),
			 0);
	w.filter = outage_filter;
	w.farg = &o;
	h_run(&w, w.now + SP_SEC(120));
	/* each attempt gives up after 1 s; then waits 1, 2, 4 s; the fourth is the last */
	assert_int_equal(o.nsends, 4);
	assert_true(o.sends[1] - o.sends[0] >= SP_SEC(2) &&
		    o.sends[1] - o.sends[0] < SP_MSEC(2010));
	assert_true(o.sends[2] - o.sends[1] >= SP_SEC(3) &&
		    o.sends[2] - o.sends[1] < SP_MSEC(3010));
	assert_true(o.sends[3] - o.sends[2] >= SP_SEC(5) &&
		    o.sends[3] - o.sends[2] < SP_MSEC(5010));
	assert_int_equal(h_ctr(&w.n[0], "retry"), 3);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	h_free(&w);
}

static void jitter_stays_within_bounds(void **state)
{
	struct outage o = { .from = 0, .until = SP_TIME_NEVER };
	struct h_world w;
	bool differs = false;

	(void)state;
	assert_int_equal(h_init(&w,
				CONF_I "retry_base = 4s\nretry_max = 4s\nretry_jitter = 25\n"
				       "retransmit_tries = 0\nretransmit_timeout = 1s\n",
				CONF_R, 9),
			 0);
	w.filter = outage_filter;
	w.farg = &o;
	h_run(&w, w.now + SP_SEC(100));
	/* %forever: attempts go on; each wait is 4 s +-25 % after the 1 s attempt */
	assert_true(o.nsends >= 15);
	for (unsigned i = 1; i < o.nsends; i++) {
		sp_time d = o.sends[i] - o.sends[i - 1];

		assert_true(d >= SP_SEC(4) && d <= SP_SEC(6) + SP_MSEC(10));
		differs |= d != o.sends[1] - o.sends[0];
	}
	assert_true(differs);
	h_free(&w);
}

static void dpd_restart_after_outage(void **state)
{
	struct outage o;
	struct h_world w;
	sp_time back;

	(void)state;
	up(&w,
	   "dpd_delay = 5s\ndpd_action = restart\nretransmit_timeout = 1s\nretransmit_tries = 1\n"
	   "retry_base = 1s\nretry_max = 4s\nretry_jitter = 20\n",
	   "dpd_delay = 0\n", 10);
	o = (struct outage){ .from = w.now, .until = w.now + SP_SEC(60) };
	w.filter = outage_filter;
	w.farg = &o;
	h_run(&w, o.until);
	assert_int_equal(h_events(&w.n[0], IKE_EV_PEER_SILENT), 1);
	assert_true(o.nsends >= 5); /* it kept trying through the outage */
	back = w.now;
	h_run(&w, back + SP_MSEC(7000));
	/* up again within one backoff step (4 s + 20 %) plus the wait after an attempt's last
	 * retransmission (2 s) */
	assert_int_equal(ike_sa_count(w.n[0].ike, true), 1);
	one_each(&w);
	h_free(&w);
}

static void close_action_restart(void **state)
{
	struct h_world w;

	(void)state;
	up(&w, "close_action = restart\n", "", 11);
	assert_int_equal(ike_down(w.n[1].ike, w.now, "c"), 0);
	h_run(&w, w.now + SP_SEC(1));
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_DOWN), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_UP), 2);
	one_each(&w);
	h_free(&w);
	/* without it, the tunnel stays down */
	up(&w, "", "", 12);
	assert_int_equal(ike_down(w.n[1].ike, w.now, "c"), 0);
	h_run(&w, w.now + SP_SEC(30));
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	h_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash_then_initial_contact),
		cmocka_unit_test(orderly_stop_deletes),
		cmocka_unit_test(replace_without_initial_contact),
		cmocka_unit_test(unique_no_keeps_both),
		cmocka_unit_test(unique_keep_refuses_duplicate),
		cmocka_unit_test(keyingtries_backoff),
		cmocka_unit_test(jitter_stays_within_bounds),
		cmocka_unit_test(dpd_restart_after_outage),
		cmocka_unit_test(close_action_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
