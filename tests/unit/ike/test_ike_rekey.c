/*
 * CREATE_CHILD_SA and INFORMATIONAL between two instances: CHILD SA rekey with and without
 * PFS (RFC 7296 1.3.3, 2.17), IKE SA rekey (1.3.2, 2.18), simultaneous rekeys (2.8.1,
 * 2.8.2), lifetimes with rekeymargin and rekeyfuzz (003), delete (1.4.1), refusing the
 * peer's rekeys (003 FIG. 6A step 620).
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

static void up(const char *extra_i, const char *extra_r, struct h_world *w)
{
	char ci[2048], cr[2048];

	snprintf(ci, sizeof(ci), "%s%s", CONF_I, extra_i);
	snprintf(cr, sizeof(cr), "%s%s", CONF_R, extra_r);
	assert_int_equal(h_init(w, ci, cr, 11), 0);
	h_run(w, w->now + SP_SEC(5));
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
}

/* One CHILD SA on each side, two SAs each in the data plane, keys pairwise equal. */
static void assert_one_child(struct h_world *w)
{
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
	assert_int_equal(h_sa_count(&w->n[0]), 2);
	assert_int_equal(h_sa_count(&w->n[1]), 2);
	assert_true(h_keys_pair(&w->n[0], &w->n[1]));
}

static uint32_t spi_in(const struct h_node *n)
{
	for (int i = 0; i < H_MAX_SA; i++)
		if (n->sas[i].used && n->sas[i].sa.inbound)
			return n->sas[i].sa.spi;
	return 0;
}

static void child_rekey_by_initiator_and_responder(void **state)
{
	struct h_world w;
	uint32_t before;

	(void)state;
	for (int who = 0; who < 2; who++) {
		up("esp = aes256gcm16-ecp256\n", "esp = aes256gcm16-ecp256\n", &w);
		before = spi_in(&w.n[0]);
		assert_int_equal(ike_rekey(w.n[who].ike, w.now, "c", false), 0);
		h_run(&w, w.now + SP_SEC(5));
		assert_one_child(&w);
		assert_int_not_equal(spi_in(&w.n[0]), before);
		assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 1);
		assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_REKEYED), 1);
		/* the rekeyed event carries old and new SPIs */
		for (unsigned i = 0; i < w.n[0].nev; i++)
			if (w.n[0].ev[i].type == IKE_EV_CHILD_REKEYED) {
				assert_int_equal(w.n[0].ev[i].old_spi_in, before);
				assert_int_equal(w.n[0].ev[i].spi_in, spi_in(&w.n[0]));
			}
		assert_int_equal(h_ctr(&w.n[0], "child_sa_rekeyed"), 1);
		h_free(&w);
	}
}

static void ike_rekey_keeps_children(void **state)
{
	struct h_world w;
	uint32_t before;

	(void)state;
	up("", "", &w);
	before = spi_in(&w.n[0]);
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", true), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(ike_sa_count(w.n[0].ike, true), 1);
	assert_int_equal(ike_sa_count(w.n[1].ike, true), 1);
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 1); /* the old one is gone */
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_REKEYED), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_IKE_REKEYED), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_DOWN), 0);
	/* ike_rekey(.., true) rekeys the CHILD SAs too; they live on the new IKE SA */
	assert_one_child(&w);
	assert_int_not_equal(spi_in(&w.n[0]), before);
	/* and the new IKE SA works: another child rekey over it, then a liveness check */
	assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_one_child(&w);
	assert_int_equal(h_ctr(&w.n[0], "drop_integrity"), 0);
	assert_int_equal(h_ctr(&w.n[1], "drop_integrity"), 0);
	assert_int_equal(h_ctr(&w.n[0], "drop_unknown_spi"), 0);
	h_free(&w);
}

static void simultaneous_child_rekey(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct h_world w;

		assert_int_equal(h_init(&w, CONF_I, CONF_R, seed), 0);
		h_run(&w, w.now + SP_SEC(5));
		/* 2.8.1: both start the rekey before either request arrives */
		assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
		assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", false), 0);
		h_run(&w, w.now + SP_SEC(10));
		assert_one_child(&w);
		assert_int_equal(h_ctr(&w.n[0], "rekey_collision"), 1);
		assert_int_equal(h_ctr(&w.n[1], "rekey_collision"), 1);
		h_free(&w);
	}
}

static void simultaneous_ike_rekey(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct h_world w;

		assert_int_equal(h_init(&w, CONF_I, CONF_R, seed), 0);
		h_run(&w, w.now + SP_SEC(5));
		w.n[0].nev = w.n[1].nev = 0;
		/* only the IKE SA: children are rekeyed separately */
		{
			struct ike *a = w.n[0].ike, *b = w.n[1].ike;

			assert_int_equal(ike_rekey(a, w.now, "c", true), 0);
			assert_int_equal(ike_rekey(b, w.now, "c", true), 0);
		}
		h_run(&w, w.now + SP_SEC(10));
		assert_int_equal(ike_sa_count(w.n[0].ike, false), 1);
		assert_int_equal(ike_sa_count(w.n[1].ike, false), 1);
		assert_int_equal(ike_child_count(w.n[0].ike), 1);
		assert_int_equal(ike_child_count(w.n[1].ike), 1);
		assert_true(h_keys_pair(&w.n[0], &w.n[1]));
		/* the survivors talk: rekey the child over them */
		assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
		h_run(&w, w.now + SP_SEC(5));
		assert_one_child(&w);
		assert_int_equal(h_ctr(&w.n[0], "drop_unknown_spi"), 0);
		assert_int_equal(h_ctr(&w.n[1], "drop_unknown_spi"), 0);
		h_free(&w);
	}
}

static void lifetimes_rekey_inside_the_fuzz_window(void **state)
{
	/* 003: rekey at a random time in [t0 + keylife - (1 + fuzz) margin, t0 + keylife -
	 * margin]: keylife 100 s, margin 20 s, fuzz 100 % -> between 60 s and 80 s. */
	static const char lt[] = "keylife = 100s\nrekeymargin = 20s\nrekeyfuzz = 100\n"
				 "ikelifetime = 1000s\n";
	struct h_world w;
	sp_time t0;
	unsigned rekeys = 0;

	(void)state;
	up(lt, "keylife = 1000s\nrekeymargin = 20s\nikelifetime = 1000s\n", &w);
	t0 = w.now;
	h_run(&w, t0 + SP_SEC(59));
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 0);
	h_run(&w, t0 + SP_SEC(81));
	rekeys = h_events(&w.n[0], IKE_EV_CHILD_REKEYED);
	assert_int_equal(rekeys, 1);
	assert_one_child(&w);
	/* and again for the new SA, never letting an SA reach its hard limit */
	h_run(&w, t0 + SP_SEC(400));
	assert_true(h_events(&w.n[0], IKE_EV_CHILD_REKEYED) >= 5);
	assert_one_child(&w);
	h_free(&w);
}

static void hard_expiry_deletes(void **state)
{
	struct h_world w;

	(void)state;
	up("keylife = 100s\nrekeymargin = 20s\nrekeyfuzz = 0\nrekey = no\n",
	   "keylife = 1000s\nrekeymargin = 20s\nrekey = no\n", &w);
	h_run(&w, w.now + SP_SEC(101));
	assert_int_equal(ike_child_count(w.n[0].ike), 0);
	assert_int_equal(ike_child_count(w.n[1].ike), 0);
	assert_int_equal(h_sa_count(&w.n[0]), 0);
	assert_int_equal(h_sa_count(&w.n[1]), 0);
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_DELETED), 1);
	assert_int_equal(ike_sa_count(w.n[0].ike, true), 1); /* the IKE SA stays */
	h_free(&w);
}

static void down_deletes_everything(void **state)
{
	struct h_world w;

	(void)state;
	up("", "", &w);
	assert_int_equal(ike_down(w.n[0].ike, w.now, "c"), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_int_equal(ike_sa_count(w.n[0].ike, false), 0);
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	assert_int_equal(h_sa_count(&w.n[0]), 0);
	assert_int_equal(h_sa_count(&w.n[1]), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_IKE_DOWN), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_IKE_DOWN), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_DELETED), 1);
	/* and up again */
	assert_int_equal(ike_up(w.n[0].ike, w.now, "c"), 0);
	h_run(&w, w.now + SP_SEC(5));
	assert_one_child(&w);
	assert_int_equal(ike_up(w.n[0].ike, w.now, "nosuch"), SP_ENOTFOUND);
	h_free(&w);
}

static void refused_peer_rekey_keeps_old(void **state)
{
	struct h_world w;
	uint32_t before;

	(void)state;
	/* 003 step 620: the client ignores the server's attempts to start a new epoch. */
	up("accept_rekey = no\n", "", &w);
	before = spi_in(&w.n[0]);
	assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(1));
	assert_int_equal(spi_in(&w.n[0]), before);
	assert_int_equal(h_ctr(&w.n[0], "rekey_refused"), 1);
	/* the client's own rekey still works */
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(1));
	assert_one_child(&w);
	assert_int_not_equal(spi_in(&w.n[0]), before);
	h_free(&w);
}

/*
 * The rekey's answer cannot be used here (the data plane refuses the new SA): the CHILD SA
 * the peer installed for it is deleted with a DELETE of our offered inbound SPI (1.4.1),
 * so the peer is not left holding an SA nobody sends on.
 */
static void unusable_answer_is_deleted(void **state)
{
	struct h_world w;
	unsigned used = 0;

	(void)state;
	up("", "", &w);
	/* node 0's data plane is full: installing the new CHILD SA fails there */
	for (int i = 0; i < H_MAX_SA; i++)
		if (!w.n[0].sas[i].used) {
			w.n[0].sas[i].used = true;
			w.n[0].sas[i].sa.proto = 0;
			used++;
		}
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(1));
	/* the peer made the new pair, then deleted it on our DELETE: the old pair is left */
	assert_int_equal(h_ctr(&w.n[1], "child_sa_rekeyed"), 1);
	assert_int_equal(h_ctr(&w.n[1], "child_sa_deleted"), 1);
	assert_int_equal(h_sa_count(&w.n[1]), 2);
	assert_int_equal(h_sa_count(&w.n[0]), 2 + used);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	h_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(child_rekey_by_initiator_and_responder),
		cmocka_unit_test(ike_rekey_keeps_children),
		cmocka_unit_test(simultaneous_child_rekey),
		cmocka_unit_test(simultaneous_ike_rekey),
		cmocka_unit_test(lifetimes_rekey_inside_the_fuzz_window),
		cmocka_unit_test(hard_expiry_deletes),
		cmocka_unit_test(down_deletes_everything),
		cmocka_unit_test(refused_peer_rekey_keeps_old),
		cmocka_unit_test(unusable_answer_is_deleted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
