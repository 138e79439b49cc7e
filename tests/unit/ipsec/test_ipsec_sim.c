/*
 * Endpoint nodes in the simulator run the same engine: two endpoints exchange ESP through
 * a router, in transport mode (host to host) and in tunnel mode (gateway to gateway, with
 * hosts behind them the router cannot reach), with manual keys from configuration text;
 * and with a wrong key nothing gets through and the ICV drops are counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "ipsec/ipsec.h"
#include "sim/ipsec_sim.h"
#include "sim/flow.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/sim.h"

#define KEY_AB	"0x101112131415161718191a1b1c1d1e1f20212223"
#define KEY_BA	"0x303132333435363738393a3b3c3d3e3f40414243"
#define BAD_KEY "0x909192939495969798999a9b9c9d9e9fa0a1a2a3"

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sp_ip4_parse(s, &a), 0);
	return a;
}

/* One side's configuration: a policy between two networks and the two SAs. */
static void side_conf(char *buf, size_t len, const char *mode, const char *me, const char *peer,
		      const char *mynet, const char *peernet, uint32_t spi_out, uint32_t spi_in,
		      const char *key_out, const char *key_in)
{
	snprintf(buf, len,
		 "[policy tunnel]\nsrc = %s\ndst = %s\naction = esp\nmode = %s\nreqid = 1\n"
		 "[sa out]\ndir = out\nspi = %u\nsrc = %s\ndst = %s\nmode = %s\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n"
		 "[sa in]\ndir = in\nspi = %u\nsrc = %s\ndst = %s\nmode = %s\n"
		 "enc = aes-gcm-16\nenc_key = %s\nreqid = 1\n",
		 mynet, peernet, mode, spi_out, me, peer, mode, key_out, spi_in, peer, me, mode,
		 key_in);
}

struct world {
	struct sim *sim;
	struct sim_node *a, *b, *r, *ha, *hb;
};

static struct sim *new_sim(void)
{
	struct sim_cfg cfg = { .seed = 3, .log_level = SP_LOG_WARN, .pool_pkts = 4096 };
	struct sim *sim;

	assert_int_equal(sim_new(&sim, &cfg), 0);
	return sim;
}

/* a 10.0.1.2 -- r -- 10.0.2.2 b; in tunnel mode ha 192.168.1.2 behind a, hb behind b. */
static void build(struct world *w, bool tunnel, const char *b_key_in)
{
	struct sim_link_params prm = { .delay = SP_MSEC(2) };
	struct sim_link *l1, *l2, *la, *lb;
	struct ipsec_sim_cfg ca, cb;
	char conf_a[1024], conf_b[1024];

	memset(w, 0, sizeof(*w));
	w->sim = new_sim();
	assert_int_equal(sim_link_new(w->sim, "l1", &prm, &l1), 0);
	assert_int_equal(sim_link_new(w->sim, "l2", &prm, &l2), 0);
	assert_int_equal(sim_router_new(w->sim, "r", &w->r), 0);
	assert_int_equal(sim_iface_add(w->r, "eth0", ip("10.0.1.1"), 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->r, "eth1", ip("10.0.2.1"), 24, l2, NULL), 0);
	if (tunnel) {
		assert_int_equal(sim_router_new(w->sim, "a", &w->a), 0);
		assert_int_equal(sim_router_new(w->sim, "b", &w->b), 0);
		assert_int_equal(sim_link_new(w->sim, "la", &prm, &la), 0);
		assert_int_equal(sim_link_new(w->sim, "lb", &prm, &lb), 0);
		assert_int_equal(sim_host_new(w->sim, "ha", &w->ha), 0);
		assert_int_equal(sim_host_new(w->sim, "hb", &w->hb), 0);
		assert_int_equal(sim_iface_add(w->a, "lan", ip("192.168.1.1"), 24, la, NULL), 0);
		assert_int_equal(sim_iface_add(w->b, "lan", ip("192.168.2.1"), 24, lb, NULL), 0);
		assert_int_equal(sim_iface_add(w->ha, "eth0", ip("192.168.1.2"), 24, la, NULL), 0);
		assert_int_equal(sim_iface_add(w->hb, "eth0", ip("192.168.2.2"), 24, lb, NULL), 0);
		assert_int_equal(sim_route_add(w->ha, 0, 0, ip("192.168.1.1"), -1, 0, 0), 0);
		assert_int_equal(sim_route_add(w->hb, 0, 0, ip("192.168.2.1"), -1, 0, 0), 0);
	} else {
		assert_int_equal(sim_host_new(w->sim, "a", &w->a), 0);
		assert_int_equal(sim_host_new(w->sim, "b", &w->b), 0);
	}
	assert_int_equal(sim_iface_add(w->a, "eth0", ip("10.0.1.2"), 24, l1, NULL), 0);
	assert_int_equal(sim_iface_add(w->b, "eth0", ip("10.0.2.2"), 24, l2, NULL), 0);
	assert_int_equal(sim_route_add(w->a, 0, 0, ip("10.0.1.1"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(w->b, 0, 0, ip("10.0.2.1"), -1, 0, 0), 0);
	side_conf(conf_a, sizeof(conf_a), tunnel ? "tunnel" : "transport", "10.0.1.2", "10.0.2.2",
		  tunnel ? "192.168.1.0/24" : "10.0.1.2", tunnel ? "192.168.2.0/24" : "10.0.2.2",
		  0x1000, 0x2000, KEY_AB, KEY_BA);
	side_conf(conf_b, sizeof(conf_b), tunnel ? "tunnel" : "transport", "10.0.2.2", "10.0.1.2",
		  tunnel ? "192.168.2.0/24" : "10.0.2.2", tunnel ? "192.168.1.0/24" : "10.0.1.2",
		  0x2000, 0x1000, KEY_BA, b_key_in);
	ca.conf = conf_a;
	cb.conf = conf_b;
	assert_int_equal(sim_ip_attach_ep(w->a, &ipsec_sim_ops, &ca), 0);
	assert_int_equal(sim_ip_attach_ep(w->b, &ipsec_sim_ops, &cb), 0);
}

static uint64_t ctr(struct sim_node *n, enum ipsec_ctr c)
{
	return ipsec_counter(ipsec_sim_engine(sim_ip_ep_ctx(n)), c);
}

static void run_ping(bool tunnel, const char *b_key_in, uint64_t *received, struct world *w)
{
	struct sim_ping_spec ps = { .id = 9, .size = 56, .interval = SP_MSEC(50), .count = 10 };
	uint32_t id;

	build(w, tunnel, b_key_in);
	ps.src = tunnel ? w->ha : w->a;
	ps.dst = tunnel ? ip("192.168.2.2") : ip("10.0.2.2");
	assert_int_equal(sim_ping_add(w->sim, &ps, &id), 0);
	sim_run_until(w->sim, SP_SEC(5));
	*received = sim_ping_stats(w->sim, id)->received;
}

static void transport_mode(void **state)
{
	struct sim_ep_report rep = { 0 };
	struct world w;
	uint64_t rx;

	(void)state;
	run_ping(false, KEY_AB, &rx, &w);
	assert_int_equal(rx, 10);
	/* Every request and reply went as ESP through the router. */
	assert_int_equal(ctr(w.a, IPSEC_CTR_TX_ESP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_DECAP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_TX_ESP), 10);
	assert_int_equal(ctr(w.a, IPSEC_CTR_RX_DECAP), 10);
	assert_int_equal(sim_ip_ctr(w.r, SIM_IP_CTR_FORWARDED), 20);
	assert_true(sim_ip_ep_report(w.a, &rep));
	assert_int_equal(rep.tunnels_up, 1);
	assert_int_equal(rep.tunnels_wanted, 1);
	sim_free(w.sim);
}

static void tunnel_mode(void **state)
{
	struct world w;
	uint64_t rx;

	(void)state;
	run_ping(true, KEY_AB, &rx, &w);
	assert_int_equal(rx, 10);
	assert_int_equal(ctr(w.a, IPSEC_CTR_TX_ESP), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_DECAP), 10);
	assert_int_equal(ctr(w.a, IPSEC_CTR_RX_DECAP), 10);
	/* The router forwarded only ESP between the gateways: it has no route to the
	 * 192.168 networks, so nothing else could have crossed it. */
	assert_int_equal(sim_ip_ctr(w.r, SIM_IP_CTR_FORWARDED), 20);
	assert_int_equal(sim_ip_ctr(w.r, SIM_IP_CTR_DROP_NO_ROUTE), 0);
	sim_free(w.sim);
}

/* The negative control: B decrypts A's packets with a wrong key. */
static void wrong_key_gets_nothing(void **state)
{
	struct world w;
	uint64_t rx;

	(void)state;
	run_ping(false, BAD_KEY, &rx, &w);
	assert_int_equal(rx, 0);
	assert_int_equal(ctr(w.b, IPSEC_DROP_ICV), 10);
	assert_int_equal(ctr(w.b, IPSEC_CTR_RX_DECAP), 0);
	sim_free(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transport_mode),
		cmocka_unit_test(tunnel_mode),
		cmocka_unit_test(wrong_key_gets_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
