/*
 * Dynamic address update (RFC 7296 2.23): node 0 initiates from behind a NAPT, node 1 is
 * not behind a NAT. When the NAPT restarts and maps node 0 to another port, node 1 follows
 * the first authenticated new IKE message from there (the IKE SA and its CHILD SAs), or an
 * authenticated ESP packet the data plane reports (ike_peer_moved). Node 0, behind the NAT,
 * never follows; dynamic_update = no turns it off. The move to port 4500 after NAT
 * detection is not an update.
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

#define NAT_OUT SP_IP4(192, 0, 2, 1)

#define CONF_I                                                                \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\npsk = " \
	"sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"
#define CONF_R                                                              \
	"[conn c]\nlocal = 10.0.0.2\nremote = %%any\npsk = sharedsecret1\n" \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/16\n"

static void up_behind_nat(struct h_world *w, const char *extra_r)
{
	char cr[1024];

	snprintf(cr, sizeof(cr), CONF_R "%s", extra_r);
	/* Node 0 checks liveness every 5 s without traffic (the fake data plane has none). */
	assert_int_equal(h_init(w, CONF_I "dpd_delay = 5s\n", cr, 11), 0);
	w->nat = true;
	h_run(w, w->now + SP_SEC(10));
	assert_int_equal(ike_sa_count(w->n[0].ike, true), 1);
	assert_int_equal(ike_sa_count(w->n[1].ike, true), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
	/* Moving to 4500 after NAT detection is no dynamic update. */
	assert_int_equal(h_ctr(&w->n[1], "peer_moved"), 0);
	assert_int_equal(h_ctr(&w->n[1], "peer_move_ignored"), 0);
}

/* Every SA of node 1 has its peer (node 0 through the NAT) at NAT_OUT:port. */
static void node1_sas_at(const struct h_world *w, uint16_t port)
{
	unsigned n = 0;

	for (int k = 0; k < H_MAX_SA; k++) {
		const struct h_sa *s = &w->n[1].sas[k];

		if (!s->used)
			continue;
		assert_true(s->sa.encap);
		assert_true(s->sa.follow); /* node 1 is not behind a NAT */
		assert_int_equal(s->sa.inbound ? s->sa.src : s->sa.dst, NAT_OUT);
		assert_int_equal(s->sa.inbound ? s->sa.encap_sport : s->sa.encap_dport, port);
		n++;
	}
	assert_true(n >= 2);
}

/* The NAT restarts and maps node 0 to 24500; node 0 rekeys its CHILD SA. */
static void nat_restart_and_rekey(struct h_world *w)
{
	w->nat_shift = 20000;
	assert_int_equal(ike_rekey(w->n[0].ike, w->now, "c", false), 0);
	h_run(w, w->now + SP_SEC(20));
}

static void responder_follows_ike_message(void **state)
{
	struct h_world w;

	(void)state;
	up_behind_nat(&w, "");
	node1_sas_at(&w, 14500);
	/* The NAT restarts; node 0's next liveness check comes from 192.0.2.1:24500. Node 1
	 * follows with the IKE SA and the CHILD SA it has. */
	w.nat_shift = 20000;
	h_run(&w, w.now + SP_SEC(6));
	assert_int_equal(h_ctr(&w.n[1], "peer_moved"), 1);
	assert_int_equal(w.n[1].moves, 2);
	node1_sas_at(&w, 24500);
	assert_int_equal(w.nat_dropped, 0);
	h_free(&w);

	/* The same with a rekey as the first message after the restart. */
	up_behind_nat(&w, "");
	nat_restart_and_rekey(&w);
	/* Node 1 saw the CREATE_CHILD_SA request from 192.0.2.1:24500, followed, and its
	 * answer reached node 0 through the new mapping: the rekey completed. */
	assert_int_equal(h_ctr(&w.n[1], "peer_moved"), 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 1);
	assert_int_equal(w.nat_dropped, 0);
	/* The old CHILD SA moved with the IKE SA before it was deleted, the new one was
	 * made on the new path. */
	assert_true(w.n[1].moves >= 2);
	node1_sas_at(&w, 24500);
	/* Node 0 is behind the NAT: nothing of its own changed. */
	assert_int_equal(h_ctr(&w.n[0], "peer_moved"), 0);
	h_free(&w);
}

static void dynamic_update_no(void **state)
{
	struct h_world w;

	(void)state;
	up_behind_nat(&w, "dynamic_update = no\n");
	nat_restart_and_rekey(&w);
	/* Node 1 answers the old mapping, which the NAT no longer has. */
	assert_int_equal(h_ctr(&w.n[1], "peer_moved"), 0);
	assert_true(h_ctr(&w.n[1], "peer_move_ignored") >= 1);
	assert_true(w.nat_dropped >= 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 0);
	assert_int_equal(w.n[1].moves, 0);
	h_free(&w);
}

/* Messages to node 0 seem to come from another port of node 1: node 0 is behind a NAT
 * (2.23: "SHOULD NOT do this type of dynamic address update"), so it stays. */
static uint16_t n1_port_seen;

static bool moved_responder(struct h_world *w, struct h_msg *m)
{
	(void)w;
	if (m->to == 0 && m->path.remote_port == 4500)
		m->path.remote_port = 4501;
	if (m->to == 1)
		n1_port_seen = m->path.local_port; /* where node 0 sent it */
	return true;
}

static void behind_nat_stays(void **state)
{
	struct h_world w;

	(void)state;
	up_behind_nat(&w, "");
	w.filter = moved_responder;
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(20));
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 1);
	assert_true(h_ctr(&w.n[0], "peer_move_ignored") >= 1);
	assert_int_equal(h_ctr(&w.n[0], "peer_moved"), 0);
	/* Node 0 still sends to 4500. */
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(20));
	assert_int_equal(n1_port_seen, 4500);
	assert_int_equal(w.n[0].moves, 0);
	h_free(&w);
}

/* The data plane saw authenticated ESP from the new mapping first (ike_ipsec_event ->
 * ike_peer_moved): the IKE SA follows and its next request goes there. */
static void esp_moves_ike_sa(void **state)
{
	struct h_world w;
	uint32_t spi_in = 0, spi_in0 = 0;

	(void)state;
	up_behind_nat(&w, "");
	for (int k = 0; k < H_MAX_SA; k++) {
		if (w.n[1].sas[k].used && w.n[1].sas[k].sa.inbound)
			spi_in = w.n[1].sas[k].sa.spi;
		if (w.n[0].sas[k].used && w.n[0].sas[k].sa.inbound)
			spi_in0 = w.n[0].sas[k].sa.spi;
	}
	assert_int_not_equal(spi_in, 0);
	assert_int_not_equal(spi_in0, 0);
	w.nat_shift = 20000;
	/* Node 0, behind the NAT, ignores such a report (its data plane would not make one:
	 * its SAs do not follow). */
	ike_peer_moved(w.n[0].ike, w.now, IKE_PROTO_ESP, spi_in0, SP_IP4(10, 0, 0, 2), 4501);
	assert_int_equal(h_ctr(&w.n[0], "peer_moved"), 0);
	assert_int_equal(w.n[0].moves, 0);
	for (int k = 0; k < H_MAX_SA; k++)
		if (w.n[0].sas[k].used)
			assert_false(w.n[0].sas[k].sa.follow);
	ike_peer_moved(w.n[1].ike, w.now, IKE_PROTO_ESP, spi_in, NAT_OUT, 24500);
	assert_int_equal(h_ctr(&w.n[1], "peer_moved"), 1);
	node1_sas_at(&w, 24500);
	/* Reported again: nothing to do. */
	ike_peer_moved(w.n[1].ike, w.now, IKE_PROTO_ESP, spi_in, NAT_OUT, 24500);
	assert_int_equal(h_ctr(&w.n[1], "peer_moved"), 1);
	/* Node 1's own rekey now reaches node 0 through the new mapping. */
	assert_int_equal(ike_rekey(w.n[1].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(20));
	assert_int_equal(h_events(&w.n[1], IKE_EV_CHILD_REKEYED), 1);
	assert_int_equal(w.nat_dropped, 0);
	h_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(responder_follows_ike_message),
		cmocka_unit_test(dynamic_update_no),
		cmocka_unit_test(behind_nat_stays),
		cmocka_unit_test(esp_moves_ike_sa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
