/*
 * IKE in the simulator (sim/ike_sim.h): two endpoint hosts negotiate their CHILD SA over
 * the simulated network, directly and through an address-and-port NAT (where NAT
 * detection moves them to UDP 4500, RFC 7296 2.23, RFC 3948), then pings pass as ESP; a
 * rekey on the way changes nothing for the traffic; the same seed gives the same run.
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

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sp_ip4_parse(s, &a), 0);
	return a;
}

/* a (10.0.1.2, or 192.168.1.2 behind the NAT) -- r -- 10.0.2.2 b */
static void build(struct world *w, bool nat, uint64_t seed, const char *extra)
{
	struct sim_cfg cfg = { .seed = seed,
			       .log_level = getenv("IKE_TEST_LOG") ? SP_LOG_DEBUG : SP_LOG_WARN,
			       .pool_pkts = 4096 };
	struct sim_link_params prm = { .delay = SP_MSEC(2) };
	struct nat_sim_cfg ncfg;
	struct sim_link *l1, *l2;
	struct ike_sim_cfg ca, cb;
	char conf_a[1024], conf_b[1024];
	const char *a_addr = nat ? "192.168.1.2" : "10.0.1.2";
	uint32_t ext = ip("10.0.2.1");
	unsigned out;

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, &cfg), 0);
	assert_int_equal(sim_link_new(w->sim, "l1", &prm, &l1), 0);
	assert_int_equal(sim_link_new(w->sim, "l2", &prm, &l2), 0);
	assert_int_equal(sim_router_new(w->sim, "r", &w->r), 0);
	assert_int_equal(
		sim_iface_add(w->r, "eth0", ip(nat ? "192.168.1.1" : "10.0.1.1"), 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->r, "eth1", ext, 24, l2, &out), 0);
	nat_config_defaults(&ncfg.nat);
	assert_int_equal(nat_config_set_strategy(&ncfg.nat, "ipaddr"), 0);
	if (nat)
		assert_int_equal(sim_ip_attach_nat(w->r, &nat_sim_ops, &ncfg, out, &ext, 1), 0);
	assert_int_equal(sim_host_new(w->sim, "a", &w->a), 0);
	assert_int_equal(sim_host_new(w->sim, "b", &w->b), 0);
	assert_int_equal(sim_iface_add(w->a, "eth0", ip(a_addr), 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->b, "eth0", ip("10.0.2.2"), 24, l2, NULL), 0);
	assert_int_equal(sim_route_add(w->a, 0, 0, ip(nat ? "192.168.1.1" : "10.0.1.1"), -1, 0, 0),
			 0);
	assert_int_equal(sim_route_add(w->b, 0, 0, ip("10.0.2.1"), -1, 0, 0), 0);
	snprintf(conf_a, sizeof(conf_a),
		 "[conn vpn]\nlocal = %s\nremote = 10.0.2.2\nauto = start\npsk = simsecret1\n"
		 "local_ts = %s/32\nremote_ts = 10.0.2.2/32\n%s",
		 a_addr, a_addr, extra);
	snprintf(conf_b, sizeof(conf_b),
		 "[conn vpn]\nlocal = 10.0.2.2\nremote = %%any\npsk = simsecret1\n"
		 "local_ts = 10.0.2.2/32\nremote_ts = 0.0.0.0/0\n%s",
		 extra);
	ca.conf = conf_a;
	cb.conf = conf_b;
	assert_int_equal(sim_ip_attach_ep(w->a, &ike_sim_ops, &ca), 0);
	assert_int_equal(sim_ip_attach_ep(w->b, &ike_sim_ops, &cb), 0);
}

static uint64_t ctr(struct sim_node *n, enum ipsec_ctr c)
{
	return ipsec_counter(ike_sim_ipsec(sim_ip_ep_ctx(n)), c);
}

static uint64_t ping(struct world *w, sp_time start, uint32_t count)
{
	static uint16_t next_id = 7;
	struct sim_ping_spec ps = { .src = w->a,
				    .dst = ip("10.0.2.2"),
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

static void direct(void **state)
{
	struct sim_ep_report rep = { 0 };
	struct world w;

	(void)state;
	build(&w, false, 1, "");
	sim_run_until(w.sim, SP_SEC(1));
	assert_int_equal(ike_child_count(ike_sim_ike(sim_ip_ep_ctx(w.a))), 1);
	assert_int_equal(ping(&w, SP_SEC(1), 10), 10);
	assert_int_equal(ctr(w.a, IPSEC_CTR_TX_ESP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_DECAP), 10);
	assert_true(sim_ip_ep_report(w.a, &rep));
	assert_int_equal(rep.tunnels_up, 1);
	assert_int_equal(rep.sessions, 1);
	/* rekey the CHILD SA; the pings that follow still pass, under the new SA */
	assert_int_equal(ike_rekey(ike_sim_ike(sim_ip_ep_ctx(w.a)), sim_now(w.sim), "vpn", false),
			 0);
	assert_int_equal(ping(&w, sim_now(w.sim) + SP_MSEC(1), 10), 10);
	memset(&rep, 0, sizeof(rep));
	assert_true(sim_ip_ep_report(w.a, &rep));
	assert_int_equal(rep.rekeys, 1);
	sim_free(w.sim);
}

static void through_nat(void **state)
{
	struct world w;

	(void)state;
	build(&w, true, 2, "");
	sim_run_until(w.sim, SP_SEC(1));
	assert_int_equal(ike_child_count(ike_sim_ike(sim_ip_ep_ctx(w.a))), 1);
	assert_int_equal(ping(&w, SP_SEC(1), 10), 10);
	/* ESP went in UDP 4500 both ways (RFC 3948) */
	assert_int_equal(ctr(w.a, IPSEC_CTR_TX_ESP_UDP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_TX_ESP_UDP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_DECAP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_ESP_UDP), 10);
	sim_free(w.sim);
}

static void same_seed_same_spis(void **state)
{
	struct world w1, w2;
	const struct sa *s1, *s2;

	(void)state;
	build(&w1, false, 5, "");
	build(&w2, false, 5, "");
	sim_run_until(w1.sim, SP_SEC(1));
	sim_run_until(w2.sim, SP_SEC(1));
	s1 = ipsec_sa_next(ike_sim_ipsec(sim_ip_ep_ctx(w1.a)), NULL);
	s2 = ipsec_sa_next(ike_sim_ipsec(sim_ip_ep_ctx(w2.a)), NULL);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_int_equal(s1->spi, s2->spi);
	sim_free(w1.sim);
	sim_free(w2.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(direct),
		cmocka_unit_test(through_nat),
		cmocka_unit_test(same_seed_same_spis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
