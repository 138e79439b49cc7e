/* The endpoint attachment contract (sim/engine.h) with the toy tunnel engine: where the
 * hooks sit, what env->send and env->deliver bypass, verdicts, timers, crash and restart. */
#include "simtest.h"
#include "toy_tunnel.h"
#include "sim/flow.h"

/*
 * c 198.51.100.2 -- r -- 192.0.2.1 gw 10.9.0.1 -- srv 10.9.0.10
 * r knows nothing of 10.9.0.0/24: only a tunnel gets c to srv.
 */
struct net {
	struct sim *sim;
	struct sim_node *c, *r, *gw, *srv;
	struct toy *tc, *tg;
};

#define C_ADDR	 SP_IP4(198, 51, 100, 2)
#define R_LAN	 SP_IP4(198, 51, 100, 1)
#define GW_ADDR	 SP_IP4(192, 0, 2, 1)
#define SRV_ADDR SP_IP4(10, 9, 0, 10)

static void net_init(struct net *n, bool tunnel, uint8_t proto, sp_time keepalive)
{
	struct sim_link_params prm = { .delay = SP_MSEC(2) };
	struct sim_link *l1, *l2, *l3;
	struct toy_cfg cc = { .peer = GW_ADDR,
			      .net = SP_IP4(10, 9, 0, 0),
			      .plen = 24,
			      .proto = proto,
			      .spi = 0x1234,
			      .keepalive = keepalive,
			      .drop_dport = 666 };
	struct toy_cfg gc = { .gateway = true, .proto = proto };

	memset(n, 0, sizeof(*n));
	n->sim = world(9);
	assert_int_equal(sim_link_new(n->sim, "l1", &prm, &l1), 0);
	assert_int_equal(sim_link_new(n->sim, "l2", &prm, &l2), 0);
	assert_int_equal(sim_link_new(n->sim, "l3", &prm, &l3), 0);
	assert_int_equal(sim_host_new(n->sim, "c", &n->c), 0);
	assert_int_equal(sim_router_new(n->sim, "r", &n->r), 0);
	assert_int_equal(sim_router_new(n->sim, "gw", &n->gw), 0);
	assert_int_equal(sim_host_new(n->sim, "srv", &n->srv), 0);
	assert_int_equal(sim_iface_add(n->c, "eth0", C_ADDR, 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(n->r, "eth0", R_LAN, 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(n->r, "eth1", SP_IP4(192, 0, 2, 2), 30, l2, NULL), 0);
	assert_int_equal(sim_iface_add(n->gw, "eth0", GW_ADDR, 30, l2, NULL), 0);
	assert_int_equal(sim_iface_add(n->gw, "eth1", SP_IP4(10, 9, 0, 1), 24, l3, NULL), 0);
	assert_int_equal(sim_iface_add(n->srv, "eth0", SRV_ADDR, 24, l3, NULL), 0);
	assert_int_equal(sim_route_add(n->c, 0, 0, R_LAN, -1, 0, 0), 0);
	assert_int_equal(sim_route_add(n->gw, 0, 0, SP_IP4(192, 0, 2, 2), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(n->srv, 0, 0, SP_IP4(10, 9, 0, 1), -1, 0, 0), 0);
	if (!tunnel)
		return;
	assert_int_equal(sim_ip_attach_ep(n->c, &toy_ops, &cc), 0);
	assert_int_equal(sim_ip_attach_ep(n->gw, &toy_ops, &gc), 0);
	assert_int_equal(sim_ip_attach_ep(n->gw, &toy_ops, &gc), SP_EEXIST);
	n->tc = sim_ip_ep_ctx(n->c);
	n->tg = sim_ip_ep_ctx(n->gw);
}

/* c -> srv and srv -> c, 100 packets each, 10 ms apart. */
static void add_flows(struct net *n, uint32_t *up, uint32_t *down)
{
	struct sim_flow_spec f = { .name = "c>srv",
				   .src = n->c,
				   .dst = n->srv,
				   .dst_addr = SRV_ADDR,
				   .reply_to = SIM_FLOW_NONE,
				   .sport = 5001,
				   .size = 100,
				   .start = SP_MSEC(100),
				   .interval = SP_MSEC(10),
				   .count = 100 };

	assert_int_equal(sim_flow_add(n->sim, &f, up), 0);
	f.name = "srv>c";
	f.src = n->srv;
	f.dst = n->c;
	f.dst_addr = C_ADDR;
	f.start = SP_MSEC(200);
	assert_int_equal(sim_flow_add(n->sim, &f, down), 0);
}

static void without_tunnel_nothing_arrives(void **state)
{
	struct net n;
	uint32_t up, down;

	(void)state;
	net_init(&n, false, IPV4_PROTO_IPIP, 0);
	add_flows(&n, &up, &down);
	sim_run_until(n.sim, SP_SEC(5));
	assert_int_equal(sim_flow_stats(n.sim, up)->delivered, 0);
	assert_int_equal(sim_ip_ctr(n.r, SIM_IP_CTR_DROP_NO_ROUTE), 100);
	/* srv's packets do reach c (c is public): the tunnel is what the up flow lacks. */
	assert_int_equal(sim_flow_stats(n.sim, down)->delivered, 100);
	sim_free(n.sim);
}

static void tunnel_carries_both_ways(void **state)
{
	struct net n;
	uint32_t up, down;
	struct sim_ep_report rep;

	(void)state;
	net_init(&n, true, IPV4_PROTO_IPIP, 0);
	add_flows(&n, &up, &down);
	sim_run_until(n.sim, SP_SEC(5));
	assert_int_equal(sim_flow_stats(n.sim, up)->delivered, 100);
	assert_int_equal(sim_flow_stats(n.sim, down)->delivered, 100);
	assert_int_equal(sim_ip_ctr(n.r, SIM_IP_CTR_DROP_NO_ROUTE), 0);
	/* The output hook saw each of c's packets once, after routing towards r... */
	assert_int_equal(n.tc->ctr[TOY_OUT_CALLS], 100);
	assert_int_equal(n.tc->last_rt_ifi, 0);
	assert_true(n.tc->last_rt_nexthop == R_LAN);
	/* ...and not again when the engine sent the wrapped packet (env->send bypasses it). */
	assert_int_equal(n.tc->ctr[TOY_ENCAP], 100);
	/* The input hook saw each wrapped packet once, not the delivered cleartext. */
	assert_int_equal(n.tc->ctr[TOY_IN_CALLS], 100);
	assert_int_equal(n.tc->ctr[TOY_DECAP], 100);
	/* On the gateway: forwarded packets pass the output hook (srv -> c is wrapped). */
	assert_int_equal(n.tg->ctr[TOY_DECAP], 100);
	assert_int_equal(n.tg->ctr[TOY_ENCAP], 100);
	assert_int_equal(sim_ip_ctr(n.gw, SIM_IP_CTR_FORWARDED), 100);
	assert_true(sim_ip_ep_report(n.c, &rep));
	assert_int_equal(rep.tunnels_up, 1);
	assert_int_equal(rep.tunnels_wanted, 1);
	/* The engine's counters live in the node's registry. */
	assert_int_equal(sim_ctr_total(n.sim, "toy", "encap"), 200);
	sim_free(n.sim);
}

static void drop_verdict_is_counted(void **state)
{
	struct net n;
	uint8_t pl[8] = { 0 };

	(void)state;
	net_init(&n, true, IPV4_PROTO_IPIP, 0);
	assert_int_equal(sim_ip_send_udp(n.c, 0, SRV_ADDR, 1, 666, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(1));
	assert_int_equal(n.tc->ctr[TOY_DROP_POLICY], 1);
	assert_int_equal(sim_ip_ctr(n.c, SIM_IP_CTR_EP_DROPPED), 1);
	assert_int_equal(sim_ip_ctr(n.srv, SIM_IP_CTR_RX), 0);
	sim_free(n.sim);
}

static void crash(struct sim *sim, void *arg, uint64_t up)
{
	(void)sim;
	if (up)
		sim_node_restart(arg);
	else
		sim_node_crash(arg);
}

/* The engine's timer drives keepalives; a crash resets it and silences the timer until
 * the restart. */
static void timers_crash_restart(void **state)
{
	struct net n;

	(void)state;
	net_init(&n, true, IPV4_PROTO_ESP, SP_SEC(1));
	assert_int_equal(sim_at(n.sim, SP_MSEC(3500), crash, n.c, 0), 0);
	assert_int_equal(sim_at(n.sim, SP_MSEC(6500), crash, n.c, 1), 0);
	sim_run_until(n.sim, SP_MSEC(10200));
	/* Before: 1, 2, 3 s. After the restart at 6.5 s: 6.5, 7.5, 8.5, 9.5 s. */
	assert_int_equal(n.tc->ctr[TOY_KA_TX], 3 + 4);
	assert_int_equal(n.tg->ctr[TOY_KA_RX], 3 + 4);
	assert_int_equal(n.tc->ctr[TOY_RESETS], 1);
	assert_int_equal(n.tc->ctr[TOY_RESTARTS], 1);
	assert_int_equal(n.tg->ctr[TOY_RESETS], 0);
	sim_free(n.sim);
}

/* Wrapped packets with an SPI the client never chose: counted as foreign and reported. */
static void foreign_spi_reported(void **state)
{
	struct net n;
	struct sim_ep_report rep;
	uint32_t up, down;

	(void)state;
	net_init(&n, true, IPV4_PROTO_ESP, 0);
	add_flows(&n, &up, &down);
	sim_run_until(n.sim, SP_SEC(1));
	/* The gateway now answers with SPI 0x9999 instead of the client's. */
	n.tg->peers[0].spi = 0x9999;
	sim_run_until(n.sim, SP_SEC(5));
	assert_true(sim_flow_stats(n.sim, down)->delivered < 100);
	assert_true(n.tc->ctr[TOY_DROP_FOREIGN] > 0);
	assert_true(sim_ip_ep_report(n.c, &rep));
	assert_true(rep.rx_foreign == n.tc->ctr[TOY_DROP_FOREIGN]);
	assert_int_equal(sim_flow_stats(n.sim, down)->delivered + rep.rx_foreign, 100);
	sim_free(n.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(without_tunnel_nothing_arrives),
		cmocka_unit_test(tunnel_carries_both_ways),
		cmocka_unit_test(drop_verdict_is_counted),
		cmocka_unit_test(timers_crash_restart),
		cmocka_unit_test(foreign_spi_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
