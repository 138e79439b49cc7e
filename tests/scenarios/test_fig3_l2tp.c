/*
 * 004 FIG. 3 in the simulator: clients 120 and 140 (c1 10.6.1.2, c2 10.6.2.2), each behind
 * its own NAT (nat1 171.69.68.10, nat2 198.51.100.10: spinat's NAT engine, plain NAPT),
 * and the LNS 160 on the Internet (204.71.200.69). Neither client can reach the other
 * directly; each runs the endpoint stack with the L2TP client module, gets its fixed
 * address from the LNS (10.99.0.11, 10.99.0.12), and IKEv2 + raw ESP runs between those
 * addresses, relayed by the LNS from one session into the other. Traffic flows both ways
 * between the clients' own addresses inside the tunnel; every packet after the setup must
 * arrive, the LNS must count the relayed packets, and without the L2TP modules (the
 * negative control) nothing arrives at all.
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
#include "sim/flow.h"
#include "sim/ike_sim.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/nat_sim.h"
#include "sim/sim.h"
#include "sim/technique.h"

#define NAT1 SP_IP4(171, 69, 68, 10)
#define NAT2 SP_IP4(198, 51, 100, 10)
#define LNS  SP_IP4(204, 71, 200, 69)
#define C1   SP_IP4(10, 6, 1, 2)
#define C2   SP_IP4(10, 6, 2, 2)

struct world {
	struct sim *sim;
	struct sim_node *c[2], *nat[2], *isp, *lns;
	struct sim_tech_ctx tc;
	uint32_t flow[2];
};

static void build(struct world *w)
{
	struct sim_cfg cfg = { .seed = 3, .log_level = SP_LOG_ERR, .pool_pkts = 4096 };
	struct sim_link_params lp = { .delay = SP_MSEC(5) };
	struct sim_link *lan[2], *acc[2], *inet;
	const uint32_t natg[2] = { NAT1, NAT2 }, lannet[2] = { C1 & ~0xffu, C2 & ~0xffu };
	struct nat_sim_cfg ncfg;
	unsigned out[2];

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, &cfg), 0);
	assert_int_equal(sim_link_new(w->sim, "internet", &lp, &inet), 0);
	assert_int_equal(sim_router_new(w->sim, "isp", &w->isp), 0);
	assert_int_equal(sim_iface_add(w->isp, "core0", LNS ^ 3, 30, inet, NULL), 0);
	for (int i = 0; i < 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "lan%d", i + 1);
		assert_int_equal(sim_link_new(w->sim, name, &lp, &lan[i]), 0);
		snprintf(name, sizeof(name), "access%d", i + 1);
		assert_int_equal(sim_link_new(w->sim, name, &lp, &acc[i]), 0);
		snprintf(name, sizeof(name), "nat%d", i + 1);
		assert_int_equal(sim_router_new(w->sim, name, &w->nat[i]), 0);
		assert_int_equal(sim_iface_add(w->nat[i], "lan0", lannet[i] + 1, 24, lan[i], NULL),
				 0);
		assert_int_equal(sim_iface_add(w->nat[i], "wan0", natg[i], 30, acc[i], &out[i]), 0);
		assert_int_equal(sim_route_add(w->nat[i], 0, 0, natg[i] ^ 3, -1, 0, 0), 0);
		snprintf(name, sizeof(name), "cust%d", i + 1);
		assert_int_equal(sim_iface_add(w->isp, name, natg[i] ^ 3, 30, acc[i], NULL), 0);
		snprintf(name, sizeof(name), "c%d", i + 1);
		assert_int_equal(sim_host_new(w->sim, name, &w->c[i]), 0);
		assert_int_equal(sim_iface_add(w->c[i], "eth0", lannet[i] + 2, 24, lan[i], NULL),
				 0);
		assert_int_equal(sim_route_add(w->c[i], 0, 0, lannet[i] + 1, -1, 0, 0), 0);
	}
	assert_int_equal(sim_host_new(w->sim, "lns", &w->lns), 0);
	assert_int_equal(sim_iface_add(w->lns, "eth0", LNS, 30, inet, NULL), 0);
	assert_int_equal(sim_route_add(w->lns, 0, 0, LNS ^ 3, -1, 0, 0), 0);
	w->tc = (struct sim_tech_ctx){
		.sim = w->sim,
		.nats = { { .node = w->nat[0], .outside_ifi = out[0], .ext = { NAT1 }, .next = 1 },
			  { .node = w->nat[1],
			    .outside_ifi = out[1],
			    .ext = { NAT2 },
			    .next = 1 } },
		.nnats = 2,
	};
	nat_config_defaults(&ncfg.nat);
	assert_int_equal(nat_config_set_strategy(&ncfg.nat, "natt"), 0); /* plain NAPT here */
	assert_int_equal(sim_tech_attach_nat(&w->tc, &nat_sim_ops, &ncfg), 0);
}

#define L2TP_KEYS                                                                           \
	"[l2tp]\nlns = 204.71.200.69\nlocal = %s\naddress = %s\nsecret = fig3\nuser = %s\n" \
	"password = pw-%s\necho_interval = 1s\nhello = 2s\nretry = 1s\n"

static void attach(struct world *w, bool l2tp)
{
	char conf[1024], l2[256];
	struct ike_sim_cfg cfg = { .conf = conf };

	/* c1 starts IKE to c2's assigned address; c2 answers. */
	snprintf(l2, sizeof(l2), L2TP_KEYS, "10.6.1.2", "10.99.0.11", "c1", "c1");
	snprintf(conf, sizeof(conf),
		 "[conn peer]\nlocal = 10.99.0.11\nremote = 10.99.0.12\nauto = start\n"
		 "psk = fig3-psk\nlocal_ts = 10.6.1.2/32\nremote_ts = 10.6.2.2/32\nencap = no\n%s",
		 l2tp ? l2 : "");
	assert_int_equal(sim_ip_attach_ep(w->c[0], &ike_sim_ops, &cfg), 0);
	snprintf(l2, sizeof(l2), L2TP_KEYS, "10.6.2.2", "10.99.0.12", "c2", "c2");
	snprintf(conf, sizeof(conf),
		 "[conn peer]\nlocal = 10.99.0.12\nremote = %%any\nremote_id = 10.99.0.11\n"
		 "psk = fig3-psk\nlocal_ts = 10.6.2.2/32\nremote_ts = 10.6.1.2/32\nencap = no\n%s",
		 l2tp ? l2 : "");
	assert_int_equal(sim_ip_attach_ep(w->c[1], &ike_sim_ops, &cfg), 0);
	/* The LNS: an endpoint stack with only the LNS module (its one connection is never
	 * started). */
	snprintf(
		conf, sizeof(conf),
		"[conn unused]\nlocal = 204.71.200.69\nremote = 192.0.2.99\npsk = unused-psk\n"
		"[lns]\nlocal = 204.71.200.69\nsecret = fig3\npool = 10.99.0.0/24\n"
		"user = c1:pw-c1\nuser = c2:pw-c2\nstatic = c1:10.99.0.11\nstatic = c2:10.99.0.12\n"
		"echo_interval = 1s\nhello = 2s\n");
	assert_int_equal(sim_ip_attach_ep(w->lns, &ike_sim_ops, &cfg), 0);
}

static void flows(struct world *w)
{
	for (int i = 0; i < 2; i++) {
		struct sim_flow_spec f = {
			.name = i == 0 ? "c1>c2" : "c2>c1",
			.src = w->c[i],
			.dst = w->c[1 - i],
			.dst_addr = i == 0 ? C2 : C1,
			.reply_to = SIM_FLOW_NONE,
			.sport = 5001,
			.size = 200,
			.start = SP_SEC(5), /* after discovery, L2TP, PPP and IKE */
			.interval = SP_MSEC(20),
			.count = 250,
		};

		assert_int_equal(sim_flow_add(w->sim, &f, &w->flow[i]), 0);
	}
}

static void clients_reach_each_other_through_the_lns(void **state)
{
	struct world w;

	(void)state;
	build(&w);
	attach(&w, true);
	flows(&w);
	sim_run_until(w.sim, SP_SEC(12));
	for (int i = 0; i < 2; i++) {
		const struct sim_flow_stats *s = sim_flow_stats(w.sim, w.flow[i]);

		assert_int_equal(s->sent, 250);
		assert_int_equal(s->delivered, 250);
		assert_int_equal(s->misdelivered, 0);
	}
	/* Only the LNS's relay carried them: every packet in each direction, and nothing to a
	 * net side. */
	assert_true(sim_ctr_total(w.sim, "lns", "relayed") >= 500);
	assert_int_equal(sim_ctr_total(w.sim, "lns", "to_net"), 0);
	assert_int_equal(sim_ctr_total(w.sim, "lac", "decide_tunnel"), 2);
	assert_int_equal(sim_ctr_total(w.sim, "ipsec", "drop_icv_mismatch"), 0);
	sim_free(w.sim);
}

static void without_l2tp_nothing_arrives(void **state)
{
	struct world w;

	(void)state;
	build(&w);
	attach(&w, false);
	flows(&w);
	sim_run_until(w.sim, SP_SEC(12));
	for (int i = 0; i < 2; i++)
		assert_int_equal(sim_flow_stats(w.sim, w.flow[i])->delivered, 0);
	sim_free(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clients_reach_each_other_through_the_lns),
		cmocka_unit_test(without_l2tp_nothing_arrives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
