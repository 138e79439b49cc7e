/*
 * What 003's epoch guard needs from IKE: with epoch_guard set, a rekeyed CHILD SA stays
 * installed (its new outbound SA not current) until the guard retires it with
 * ike_child_delete(); the connection's lifetimes through ike_conn_info().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_harness.h"

#include "base/addr.h"

#include <stdio.h>
#include <string.h>

#define CONF_I                                                                \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\npsk = " \
	"sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
#define CONF_R                                                             \
	"[conn c]\nlocal = 10.0.0.2\nremote = %any\npsk = sharedsecret1\n" \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"

static void up(const char *extra_i, const char *extra_r, struct h_world *w)
{
	char ci[2048], cr[2048];

	snprintf(ci, sizeof(ci), "%s%s", CONF_I, extra_i);
	snprintf(cr, sizeof(cr), "%s%s", CONF_R, extra_r);
	assert_int_equal(h_init(w, ci, cr, 5), 0);
	h_run(w, w->now + SP_SEC(5));
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
}

static const struct ike_event *last_ev(const struct h_node *n, enum ike_event_type t)
{
	for (unsigned i = n->nev; i-- > 0;)
		if (n->ev[i].type == t)
			return &n->ev[i];
	return NULL;
}

static void guarded_rekey_keeps_the_old_epoch(void **state)
{
	struct h_world w;
	const struct ike_event *ev;
	uint32_t old_in, new_in;

	(void)state;
	up("epoch_guard = client\naccept_rekey = no\n", "epoch_guard = server\n", &w);
	/* The first epoch's outbound SA waits for the guard too. */
	ev = last_ev(&w.n[0], IKE_EV_CHILD_UP);
	assert_non_null(ev);
	assert_false(h_sa_find(&w.n[0], ev->spi_out, false)->current);
	old_in = ev->spi_in;

	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	ev = last_ev(&w.n[0], IKE_EV_CHILD_REKEYED);
	assert_non_null(ev);
	assert_int_equal(ev->old_spi_in, old_in);
	new_in = ev->spi_in;
	/* Both epochs stay on both sides; nobody deleted the old one. */
	assert_int_equal(ike_child_count(w.n[0].ike), 2);
	assert_int_equal(ike_child_count(w.n[1].ike), 2);
	assert_int_equal(h_sa_count(&w.n[0]), 4);
	assert_int_equal(h_sa_count(&w.n[1]), 4);
	assert_false(h_sa_find(&w.n[0], ev->spi_out, false)->current);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_DELETED), 0);

	/* The guard retires it: gone at both ends, the new one stays. */
	assert_int_equal(ike_child_delete(w.n[0].ike, w.now, IKE_PROTO_ESP, old_in), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_non_null(h_sa_find(&w.n[0], new_in, true));
	assert_null(h_sa_find(&w.n[0], old_in, true));
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_DELETED), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_DELETED), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	assert_int_equal(ike_child_delete(w.n[0].ike, w.now, IKE_PROTO_ESP, old_in), SP_ENOTFOUND);

	/* Step 620: the guarded client refuses the server's rekey. */
	assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(h_ctr(&w.n[0], "rekey_refused"), 1);
	assert_non_null(h_sa_find(&w.n[0], new_in, true));
	h_free(&w);
}

static void unguarded_rekey_deletes_at_once(void **state)
{
	struct h_world w;

	(void)state;
	up("", "", &w);
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	h_free(&w);
}

static void no_output(void *arg, const struct ike_path *path, const uint8_t *msg, size_t len)
{
	(void)arg;
	(void)path;
	(void)msg;
	(void)len;
}

static void conn_info_and_config(void **state)
{
	struct h_world w;
	struct ike_conn_info ci;
	struct conf *cf;
	struct ike *ike;
	struct sp_xoshiro rng;
	struct ike_params p = { 0 };

	(void)state;
	up("keylife = 1h\nrekeymargin = 5m\nrekeyfuzz = 50\nepoch_guard = client\n", "", &w);
	assert_int_equal(ike_conn_info(w.n[0].ike, "c", &ci), 0);
	assert_int_equal(ci.local, SP_IP4(10, 0, 0, 1));
	assert_int_equal(ci.remote, SP_IP4(10, 0, 0, 2));
	assert_true(ci.keylife == SP_SEC(3600));
	assert_true(ci.rekeymargin == SP_SEC(300));
	assert_int_equal(ci.rekeyfuzz, 50);
	assert_true(ci.epoch_guard);
	assert_true(ci.accept_rekey);
	assert_int_equal(ci.n_remote_ts, 1);
	assert_int_equal(ci.remote_ts[0].ts_start, SP_IP4(10, 2, 0, 0));
	assert_int_equal(ike_conn_info(w.n[1].ike, "c", &ci), 0);
	assert_int_equal(ci.remote, 0);
	assert_false(ci.epoch_guard);
	assert_int_equal(ike_conn_info(w.n[1].ike, "nope", &ci), SP_ENOTFOUND);
	h_free(&w);

	/* epoch_guard names the guard's mode; anything else is refused with the key. */
	sp_xoshiro_seed(&rng, 1);
	p.rng = &rng.rng;
	p.output = no_output;
	assert_int_equal(conf_parse_string(CONF_I "epoch_guard = yes\n", "g.conf", &cf), 0);
	assert_int_equal(ike_new(&p, cf, &ike), SP_ECONFIG);
	assert_non_null(strstr(conf_error(cf), "epoch_guard"));
	conf_free(cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guarded_rekey_keeps_the_old_epoch),
		cmocka_unit_test(unguarded_rekey_deletes_at_once),
		cmocka_unit_test(conn_info_and_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
