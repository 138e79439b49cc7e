/*
 * The epoch guard on real IKE and IPsec engines in the simulator (sim/ike_sim.h with
 * host/host_guard_ep.h): a client and a VPN gateway negotiate over simulated links, the
 * client pings through each new epoch before its data uses it, the gateway (FIG. 7)
 * switches when the ping arrives and answers it, or (FIG. 8, unguarded) switches at once
 * and its stack answers. Application pings pass throughout; the previous epoch is retired.
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
#include "sim/nat_sim.h"
#include "sim/flow.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/sim.h"

struct world {
	struct sim *sim;
	struct sim_node *a, *b, *r;
};

#define A_ADDR SP_IP4(192, 168, 1, 2)
#define B_ADDR SP_IP4(10, 0, 2, 2)

/* a 192.168.1.2 -- r (NAT engine, ipaddr strategy: 10.0.2.1) -- 10.0.2.2 b */
static void build(struct world *w, uint64_t seed, const char *extra_a, const char *extra_b)
{
	struct sim_cfg cfg = { .seed = seed,
			       .log_level = getenv("GUARD_TEST_LOG") ? SP_LOG_DEBUG : SP_LOG_WARN,
			       .pool_pkts = 4096 };
	struct sim_link_params prm = { .delay = SP_MSEC(5) };
	struct nat_sim_cfg ncfg;
	struct sim_link *l1, *l2;
	struct ike_sim_cfg ca = { 0 }, cb = { 0 };
	char conf_a[1024], conf_b[1024];
	uint32_t ext = SP_IP4(10, 0, 2, 1);
	unsigned out;

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, &cfg), 0);
	assert_int_equal(sim_link_new(w->sim, "l1", &prm, &l1), 0);
	assert_int_equal(sim_link_new(w->sim, "l2", &prm, &l2), 0);
	assert_int_equal(sim_router_new(w->sim, "r", &w->r), 0);
	assert_int_equal(sim_iface_add(w->r, "eth0", SP_IP4(192, 168, 1, 1), 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->r, "eth1", ext, 24, l2, &out), 0);
	nat_config_defaults(&ncfg.nat);
	assert_int_equal(nat_config_set_strategy(&ncfg.nat, "ipaddr"), 0);
	assert_int_equal(sim_ip_attach_nat(w->r, &nat_sim_ops, &ncfg, out, &ext, 1), 0);
	assert_int_equal(sim_host_new(w->sim, "a", &w->a), 0);
	assert_int_equal(sim_host_new(w->sim, "b", &w->b), 0);
	assert_int_equal(sim_iface_add(w->a, "eth0", A_ADDR, 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->b, "eth0", B_ADDR, 24, l2, NULL), 0);
	assert_int_equal(sim_route_add(w->a, 0, 0, SP_IP4(192, 168, 1, 1), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(w->b, 0, 0, ext, -1, 0, 0), 0);
	/* Raw ESP through the NAT, as with VPN Masquerade (no UDP encapsulation). */
	snprintf(conf_a, sizeof(conf_a),
		 "[conn vpn]\nlocal = 192.168.1.2\nremote = 10.0.2.2\nauto = start\n"
		 "psk = simsecret1\nencap = no\nlocal_ts = 192.168.1.2/32\n"
		 "remote_ts = 10.0.2.2/32\npingtime = 500ms\npingtries = 5\nmasq_t_out = 1s\n"
		 "masq_n_out = 2\n%s",
		 extra_a);
	snprintf(conf_b, sizeof(conf_b),
		 "[conn vpn]\nlocal = 10.0.2.2\nremote = %%any\npsk = simsecret1\nencap = no\n"
		 "local_ts = 10.0.2.2/32\nremote_ts = 0.0.0.0/0\n%s",
		 extra_b);
	ca.conf = conf_a;
	cb.conf = conf_b;
	assert_int_equal(sim_ip_attach_ep(w->a, &ike_sim_ops, &ca), 0);
	assert_int_equal(sim_ip_attach_ep(w->b, &ike_sim_ops, &cb), 0);
}

static uint64_t gctr(struct world *w, struct sim_node *n, const char *name)
{
	(void)w;
	return sp_ctr_get(&n->ctrs, "guard", name);
}

static uint32_t ping(struct world *w, sp_time start, uint32_t count)
{
	static uint16_t next_id = 7;
	struct sim_ping_spec ps = { .src = w->a,
				    .dst = B_ADDR,
				    .id = next_id++,
				    .size = 56,
				    .start = start,
				    .interval = SP_MSEC(100),
				    .count = count };
	uint32_t id;

	assert_int_equal(sim_ping_add(w->sim, &ps, &id), 0);
	sim_run_until(w->sim, start + count * SP_MSEC(100) + SP_SEC(1));
	return sim_ping_stats(w->sim, id)->received;
}

static struct ike *ike_of(struct sim_node *n)
{
	return ike_sim_ike(sim_ip_ep_ctx(n));
}

static void fig7_both_guarded(void **state)
{
	struct world w;

	(void)state;
	build(&w, 1, "epoch_guard = client\naccept_rekey = no\n", "epoch_guard = server\n");
	sim_run_until(w.sim, SP_SEC(1));
	/* The first epoch: one ping, answered by the gateway's guard, both switched. */
	assert_int_equal(gctr(&w, w.a, "switches"), 1);
	assert_int_equal(gctr(&w, w.a, "pings_sent"), 1);
	assert_int_equal(gctr(&w, w.a, "ping_replies"), 1);
	assert_int_equal(gctr(&w, w.b, "switches"), 1);
	assert_int_equal(gctr(&w, w.b, "pings_answered"), 1);
	assert_int_equal(ping(&w, SP_SEC(1), 10), 10);

	/* A rekey: tried, switched at both ends, the old epoch retired everywhere. */
	assert_int_equal(ike_rekey(ike_of(w.a), sim_now(w.sim), "vpn", false), 0);
	sim_run_until(w.sim, sim_now(w.sim) + SP_SEC(2));
	assert_int_equal(gctr(&w, w.a, "switches"), 2);
	assert_int_equal(gctr(&w, w.b, "switches"), 2);
	assert_int_equal(gctr(&w, w.a, "epochs_retired"), 1);
	assert_int_equal(ike_child_count(ike_of(w.a)), 1);
	assert_int_equal(ike_child_count(ike_of(w.b)), 1);
	assert_int_equal(ping(&w, sim_now(w.sim), 10), 10);
	assert_int_equal(gctr(&w, w.a, "ping_retries"), 0);
	assert_int_equal(gctr(&w, w.a, "rekeys_requested"), 0);
	/* Step 620: the gateway's own rekey is refused and nothing changes. */
	assert_int_equal(ike_rekey(ike_of(w.b), sim_now(w.sim), "vpn", false), 0);
	assert_int_equal(ping(&w, sim_now(w.sim), 10), 10);
	assert_int_equal(sp_ctr_get(&w.a->ctrs, "ike", "rekey_refused"), 1);
	assert_int_equal(gctr(&w, w.a, "switches"), 2);
	sim_free(w.sim);
}

static void fig8_unmodified_gateway(void **state)
{
	struct world w;

	(void)state;
	build(&w, 2, "epoch_guard = client\n", "");
	sim_run_until(w.sim, SP_SEC(1));
	/* The gateway's stack answered the probe; that switched the client. */
	assert_int_equal(gctr(&w, w.a, "switches"), 1);
	assert_int_equal(gctr(&w, w.b, "switches"), 0);
	assert_true(sp_ctr_get(&w.b->ctrs, "ip", "echo_replied") >= 1);
	assert_int_equal(ping(&w, SP_SEC(1), 10), 10);
	assert_int_equal(ike_rekey(ike_of(w.a), sim_now(w.sim), "vpn", false), 0);
	sim_run_until(w.sim, sim_now(w.sim) + SP_SEC(2));
	assert_int_equal(gctr(&w, w.a, "switches"), 2);
	assert_int_equal(ike_child_count(ike_of(w.a)), 1);
	assert_int_equal(ike_child_count(ike_of(w.b)), 1);
	assert_int_equal(ping(&w, sim_now(w.sim), 10), 10);
	sim_free(w.sim);
}

/* An idle tunnel: keepalive pings every maxidle, answered, no rekey. */
static void keepalive_when_idle(void **state)
{
	struct world w;

	(void)state;
	build(&w, 3, "epoch_guard = client\nmaxidle = 3s\nmasq_t_ei = 10s\n",
	      "epoch_guard = server\n");
	sim_run_until(w.sim, SP_SEC(20));
	assert_true(gctr(&w, w.a, "keepalives") >= 5);
	assert_int_equal(gctr(&w, w.a, "keepalives"), gctr(&w, w.a, "keepalives_answered"));
	assert_int_equal(gctr(&w, w.a, "rekeys_requested"), 0);
	sim_free(w.sim);
}

/* Settings that break 003's inequality stop the endpoint from coming up, saying why. */
static void bad_settings_refused(void **state)
{
	struct sim_cfg cfg = { .seed = 1, .log_level = SP_LOG_ERR, .pool_pkts = 256 };
	struct ike_sim_cfg c = { 0 };
	struct sim *sim;
	struct sim_node *n;
	struct sim_link *l;
	struct sim_link_params prm = { .delay = SP_MSEC(1) };

	(void)state;
	assert_int_equal(sim_new(&sim, &cfg), 0);
	assert_int_equal(sim_link_new(sim, "l", &prm, &l), 0);
	assert_int_equal(sim_host_new(sim, "h", &n), 0);
	assert_int_equal(sim_iface_add(n, "eth0", A_ADDR, 24, l, NULL), 0);
	c.conf = "[conn vpn]\nlocal = 192.168.1.2\nremote = 10.0.2.2\npsk = simsecret1\n"
		 "local_ts = 192.168.1.2/32\nremote_ts = 10.0.2.2/32\nepoch_guard = client\n";
	/* The NAT's values (T_out 10s, N_out 2) ask for pingtime >= 5s; the default is 2s. */
	c.masq_t_out = SP_SEC(10);
	c.masq_n_out = 2;
	c.masq_t_ei = SP_SEC(1800);
	assert_int_equal(sim_ip_attach_ep(n, &ike_sim_ops, &c), SP_ECONFIG);
	c.masq_n_out = 5;
	assert_int_equal(sim_ip_attach_ep(n, &ike_sim_ops, &c), 0);
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fig7_both_guarded),
		cmocka_unit_test(fig8_unmodified_gateway),
		cmocka_unit_test(keepalive_when_idle),
		cmocka_unit_test(bad_settings_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
