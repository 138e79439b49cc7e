/*
 * One responder connection open to any peer (remote = %any) serving several initiators in
 * the simulator, as a VPN gateway does for a conference centre's clients (003 FIG. 3):
 * each CHILD SA gets its own reqid, so each client's narrowed selectors get policies of
 * their own and every tunnel carries its own traffic, also across a rekey.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "sim/ike_sim.h"
#include "ipsec/ipsec.h"
#include "sim/flow.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/sim.h"

#define NCLI 3
#define GW   SP_IP4(10, 0, 2, 2)
#define GWIN SP_IP4(10, 9, 0, 1)

struct world {
	struct sim *sim;
	struct sim_node *c[NCLI], *gw, *r;
};

static void build(struct world *w)
{
	struct sim_cfg cfg = { .seed = 9,
			       .log_level = getenv("IKE_TEST_LOG") ? SP_LOG_DEBUG : SP_LOG_WARN,
			       .pool_pkts = 4096 };
	struct sim_link_params prm = { .delay = SP_MSEC(2) };
	struct sim_link *lan, *wan, *corp;
	struct ike_sim_cfg cg = { 0 };

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, &cfg), 0);
	assert_int_equal(sim_link_new(w->sim, "lan", &prm, &lan), 0);
	assert_int_equal(sim_link_new(w->sim, "wan", &prm, &wan), 0);
	assert_int_equal(sim_link_new(w->sim, "corp", &prm, &corp), 0);
	assert_int_equal(sim_router_new(w->sim, "r", &w->r), 0);
	assert_int_equal(sim_iface_add(w->r, "eth0", SP_IP4(10, 0, 1, 1), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(w->r, "eth1", SP_IP4(10, 0, 2, 1), 24, wan, NULL), 0);
	assert_int_equal(sim_router_new(w->sim, "gw", &w->gw), 0);
	assert_int_equal(sim_iface_add(w->gw, "eth0", GW, 24, wan, NULL), 0);
	assert_int_equal(sim_iface_add(w->gw, "corp0", GWIN, 24, corp, NULL), 0);
	assert_int_equal(sim_route_add(w->gw, 0, 0, SP_IP4(10, 0, 2, 1), -1, 0, 0), 0);
	cg.conf = "[conn any]\nlocal = 10.0.2.2\nremote = %any\npsk = simsecret1\n"
		  "local_ts = 10.9.0.0/24\nremote_ts = 10.0.1.0/24\n";
	assert_int_equal(sim_ip_attach_ep(w->gw, &ike_sim_ops, &cg), 0);
	for (int i = 0; i < NCLI; i++) {
		struct ike_sim_cfg cc = { 0 };
		char name[8], conf[512];
		uint32_t a = SP_IP4(10, 0, 1, 2 + i);

		snprintf(name, sizeof(name), "c%d", i + 1);
		snprintf(conf, sizeof(conf),
			 "[conn vpn]\nlocal = 10.0.1.%d\nremote = 10.0.2.2\nauto = start\n"
			 "psk = simsecret1\nlocal_ts = 10.0.1.%d/32\nremote_ts = 10.9.0.0/24\n",
			 2 + i, 2 + i);
		cc.conf = conf;
		assert_int_equal(sim_host_new(w->sim, name, &w->c[i]), 0);
		assert_int_equal(sim_iface_add(w->c[i], "eth0", a, 24, lan, NULL), 0);
		assert_int_equal(sim_route_add(w->c[i], 0, 0, SP_IP4(10, 0, 1, 1), -1, 0, 0), 0);
		assert_int_equal(sim_ip_attach_ep(w->c[i], &ike_sim_ops, &cc), 0);
	}
}

static uint32_t ping_from(struct world *w, int i, sp_time start)
{
	struct sim_ping_spec ps = { .src = w->c[i],
				    .dst = GWIN,
				    .id = (uint16_t)(100 + i + start / SP_SEC(1)),
				    .size = 56,
				    .start = start,
				    .interval = SP_MSEC(50),
				    .count = 10 };
	uint32_t id;

	assert_int_equal(sim_ping_add(w->sim, &ps, &id), 0);
	sim_run_until(w->sim, start + SP_SEC(2));
	return sim_ping_stats(w->sim, id)->received;
}

static void several_initiators_one_connection(void **state)
{
	struct world w;
	struct ipsec *e;
	uint32_t reqids[16];
	unsigned n = 0;

	(void)state;
	build(&w);
	sim_run_until(w.sim, SP_SEC(1));
	assert_int_equal(ike_child_count(ike_sim_ike(sim_ip_ep_ctx(w.gw))), NCLI);
	for (int i = 0; i < NCLI; i++)
		assert_int_equal(ping_from(&w, i, sim_now(w.sim)), 10);
	/* One outbound policy per client, each with its own reqid and SA. */
	e = ike_sim_ipsec(sim_ip_ep_ctx(w.gw));
	for (const struct spd_policy *p = ipsec_policy_next(e, NULL); p != NULL;
	     p = ipsec_policy_next(e, p)) {
		if (p->dir != SA_DIR_OUT)
			continue;
		assert_non_null(p->sa);
		for (unsigned k = 0; k < n; k++)
			assert_int_not_equal(reqids[k], p->reqid);
		reqids[n++] = p->reqid;
	}
	assert_int_equal(n, NCLI);
	/* A rekey keeps the client's reqid: the same policies carry on. */
	assert_int_equal(
		ike_rekey(ike_sim_ike(sim_ip_ep_ctx(w.c[1])), sim_now(w.sim), "vpn", false), 0);
	sim_run_until(w.sim, sim_now(w.sim) + SP_SEC(1));
	for (int i = 0; i < NCLI; i++)
		assert_int_equal(ping_from(&w, i, sim_now(w.sim)), 10);
	n = 0;
	for (const struct spd_policy *p = ipsec_policy_next(e, NULL); p != NULL;
	     p = ipsec_policy_next(e, p))
		n += p->dir == SA_DIR_OUT;
	assert_int_equal(n, NCLI);
	sim_free(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(several_initiators_one_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
