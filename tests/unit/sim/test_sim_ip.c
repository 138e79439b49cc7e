/* The IP node: longest prefix match, forwarding, TTL expiry, ICMP errors, fail-over. */
#include "simtest.h"
#include "sim/flow.h"
#include "proto/ipv4.h"

static void lpm_and_metrics(void **state)
{
	struct sim *sim = world(1);
	struct sim_node *n;
	struct sim_route_hit h;

	(void)state;
	assert_int_equal(sim_host_new(sim, "n", &n), 0);
	assert_int_equal(sim_iface_add(n, "eth0", ip4("192.168.0.1"), 24, NULL, NULL), 0);
	assert_int_equal(sim_route_add(n, 0, 0, ip4("192.168.0.254"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(n, ip4("10.0.0.0"), 8, ip4("192.168.0.10"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(n, ip4("10.1.0.0"), 16, ip4("192.168.0.11"), -1, 5, 0), 0);
	assert_int_equal(sim_route_add(n, ip4("10.1.0.0"), 16, ip4("192.168.0.12"), -1, 1, 0), 0);
	/* A gateway no interface reaches is refused. */
	assert_int_equal(sim_route_add(n, ip4("10.2.0.0"), 16, ip4("172.16.0.1"), -1, 0, 0),
			 SP_EINVAL);

	assert_int_equal(sim_route_lookup(n, ip4("8.8.8.8"), &h), 0);
	assert_true(h.nexthop == ip4("192.168.0.254"));
	assert_int_equal(sim_route_lookup(n, ip4("10.9.9.9"), &h), 0);
	assert_true(h.nexthop == ip4("192.168.0.10"));
	assert_int_equal(sim_route_lookup(n, ip4("10.1.2.3"), &h), 0);
	assert_true(h.nexthop == ip4("192.168.0.12")); /* /16 beats /8; metric 1 beats 5 */
	assert_true(h.src == ip4("192.168.0.1"));
	assert_int_equal(sim_route_lookup(n, ip4("192.168.0.77"), &h), 0);
	assert_true(h.nexthop == ip4("192.168.0.77")); /* connected: on-link */
	assert_int_equal(sim_route_del(n, ip4("10.1.0.0"), 16, ip4("192.168.0.12")), 1);
	assert_int_equal(sim_route_lookup(n, ip4("10.1.2.3"), &h), 0);
	assert_true(h.nexthop == ip4("192.168.0.11"));
	assert_int_equal(sim_route_del(n, 0, 0, 0), 1);
	assert_int_equal(sim_route_lookup(n, ip4("8.8.8.8"), &h), SP_ENOTFOUND);
	sim_free(sim);
}

/* h1 -- r1 -- r2 -- h2, 1 ms per link. */
struct chain {
	struct sim *sim;
	struct sim_node *h1, *r1, *r2, *h2;
	struct sim_link *l1, *l12, *l2;
};

static void chain_init(struct chain *c, uint8_t h1_ttl)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	struct sim_ip_cfg hcfg = { .ttl = h1_ttl };

	c->sim = world(1);
	assert_int_equal(sim_link_new(c->sim, "l1", &prm, &c->l1), 0);
	assert_int_equal(sim_link_new(c->sim, "l12", &prm, &c->l12), 0);
	assert_int_equal(sim_link_new(c->sim, "l2", &prm, &c->l2), 0);
	assert_int_equal(sim_ip_new(c->sim, "h1", &hcfg, &c->h1), 0);
	assert_int_equal(sim_router_new(c->sim, "r1", &c->r1), 0);
	assert_int_equal(sim_router_new(c->sim, "r2", &c->r2), 0);
	assert_int_equal(sim_host_new(c->sim, "h2", &c->h2), 0);
	assert_int_equal(sim_iface_add(c->h1, "eth0", ip4("10.0.1.2"), 24, c->l1, NULL), 0);
	assert_int_equal(sim_iface_add(c->r1, "eth0", ip4("10.0.1.1"), 24, c->l1, NULL), 0);
	assert_int_equal(sim_iface_add(c->r1, "eth1", ip4("10.0.12.1"), 30, c->l12, NULL), 0);
	assert_int_equal(sim_iface_add(c->r2, "eth1", ip4("10.0.12.2"), 30, c->l12, NULL), 0);
	assert_int_equal(sim_iface_add(c->r2, "eth0", ip4("10.0.2.1"), 24, c->l2, NULL), 0);
	assert_int_equal(sim_iface_add(c->h2, "eth0", ip4("10.0.2.2"), 24, c->l2, NULL), 0);
	assert_int_equal(sim_route_add(c->h1, 0, 0, ip4("10.0.1.1"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(c->h2, 0, 0, ip4("10.0.2.1"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(c->r1, ip4("10.0.2.0"), 24, ip4("10.0.12.2"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(c->r2, ip4("10.0.1.0"), 24, ip4("10.0.12.1"), -1, 0, 0), 0);
}

static void ping_across_routers(void **state)
{
	struct chain c;
	struct sim_ping_spec ps = {
		.dst = ip4("10.0.2.2"), .id = 77, .size = 56, .interval = SP_MSEC(100), .count = 5
	};
	const struct sim_ping_stats *st;
	uint32_t id;

	(void)state;
	chain_init(&c, 0);
	ps.src = c.h1;
	assert_int_equal(sim_ping_add(c.sim, &ps, &id), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	st = sim_ping_stats(c.sim, id);
	assert_int_equal(st->sent, 5);
	assert_int_equal(st->received, 5);
	assert_true(st->rtt_min == SP_MSEC(6) && st->rtt_max == SP_MSEC(6));
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_FORWARDED), 10);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_ECHO_REPLIED), 5);
	sim_free(c.sim);
}

static void ttl_expiry_sends_time_exceeded(void **state)
{
	struct chain c;
	uint8_t pl[32] = { 0 };

	(void)state;
	chain_init(&c, 2); /* r1 forwards with TTL 1; r2 must not */
	assert_int_equal(sim_ip_send_udp(c.h1, 0, ip4("10.0.2.2"), 1000, 2000, pl, sizeof(pl)), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	/* r1 forwarded the packet, and the time exceeded coming back. */
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_FORWARDED), 2);
	assert_int_equal(sim_ip_ctr(c.r2, SIM_IP_CTR_DROP_TTL), 1);
	assert_int_equal(sim_ip_ctr(c.r2, SIM_IP_CTR_ICMP_ERR_SENT), 1);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_RX), 0);
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_ICMP_ERR_RX), 1);
	/* With TTL 3 it gets through, and h2 (no listener) answers port unreachable. */
	sim_free(c.sim);
	chain_init(&c, 3);
	assert_int_equal(sim_ip_send_udp(c.h1, 0, ip4("10.0.2.2"), 1000, 2000, pl, sizeof(pl)), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(c.r2, SIM_IP_CTR_DROP_TTL), 0);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_DROP_NO_LISTENER), 1);
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_ICMP_ERR_RX), 1);
	sim_free(c.sim);
}

static void no_route_sends_unreachable(void **state)
{
	struct chain c;
	uint8_t pl[8] = { 0 };

	(void)state;
	chain_init(&c, 0);
	/* h1 has a default route; r1 knows nothing of 192.0.2.0/24. */
	assert_int_equal(sim_ip_send_udp(c.h1, 0, ip4("192.0.2.1"), 1, 2, pl, sizeof(pl)), 0);
	/* r2 has no route to 172.16/12 at all for its own packets. */
	assert_int_equal(sim_ip_send_udp(c.r2, 0, ip4("172.16.0.1"), 1, 2, pl, sizeof(pl)),
			 SP_ENOTFOUND);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_DROP_NO_ROUTE), 1);
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_ICMP_ERR_RX), 1);
	assert_int_equal(sim_ip_ctr(c.r2, SIM_IP_CTR_DROP_NO_ROUTE_LOCAL), 1);
	/* A host does not forward: a packet for someone else is dropped by name. */
	assert_int_equal(sim_route_add(c.r1, ip4("10.0.3.0"), 24, ip4("10.0.1.2"), -1, 0, 0), 0);
	assert_int_equal(sim_ip_send_udp(c.h2, sim_now(c.sim), ip4("10.0.3.1"), 1, 2, pl, 8), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(c.r2, SIM_IP_CTR_DROP_NO_ROUTE), 1);
	assert_int_equal(sim_route_add(c.r2, ip4("10.0.3.0"), 24, ip4("10.0.12.1"), -1, 0, 0), 0);
	assert_int_equal(sim_ip_send_udp(c.h2, sim_now(c.sim), ip4("10.0.3.1"), 1, 2, pl, 8), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_DROP_NOT_LOCAL), 1);
	sim_free(c.sim);
}

/* Hand-made packets on the wire: a bad header checksum and a non-IPv4 packet. */
static void bad_packets_are_counted(void **state)
{
	struct chain c;
	struct sim_node *raw;
	struct pkt *p;
	uint8_t pl[8] = { 0 };
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = 17 };

	(void)state;
	chain_init(&c, 0);
	raw = rec_node(c.sim, "raw");
	assert_int_equal(sim_iface_add(raw, "eth0", ip4("10.0.2.9"), 24, c.l2, NULL), 0);
	h.ip_src = ip4("10.0.2.9");
	h.ip_dst = ip4("10.0.2.2");
	p = pkt_alloc(sim_pool(c.sim));
	assert_int_equal(pkt_append(p, pl, sizeof(pl)), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	pkt_data(p)[IPV4_OFF_CSUM] ^= 0x40;
	sim_node_xmit(raw, 0, ip4("10.0.2.2"), p);
	p = word_pkt(c.sim, 0x60000000, 40); /* version 6 */
	sim_node_xmit(raw, 0, ip4("10.0.2.2"), p);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_DROP_BAD_CSUM), 1);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_DROP_MALFORMED), 1);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_LOCAL), 0);
	sim_free(c.sim);
}

/*
 * 003 FIG. 3: a LAN with two routers (303 and 311) to the same far side. The host's routes
 * check their next hop, so when router A crashes traffic moves to router B; the far host
 * does the same for the way back.
 */
static void failover_to_second_router(void **state)
{
	struct sim *sim = world(1);
	struct sim_link *lan, *la, *lb;
	struct sim_node *h, *ra, *rb, *f;
	struct sim_ping_spec ps = {
		.dst = ip4("192.0.2.2"), .id = 1, .size = 16, .interval = SP_MSEC(100), .count = 40
	};
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	const struct sim_ping_stats *st;
	uint32_t id;

	(void)state;
	assert_int_equal(sim_link_new(sim, "lan", &prm, &lan), 0);
	assert_int_equal(sim_link_new(sim, "la", &prm, &la), 0);
	assert_int_equal(sim_link_new(sim, "lb", &prm, &lb), 0);
	assert_int_equal(sim_host_new(sim, "h", &h), 0);
	assert_int_equal(sim_router_new(sim, "ra", &ra), 0);
	assert_int_equal(sim_router_new(sim, "rb", &rb), 0);
	assert_int_equal(sim_host_new(sim, "f", &f), 0);
	assert_int_equal(sim_iface_add(h, "eth0", ip4("10.0.0.2"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(ra, "eth0", ip4("10.0.0.1"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(rb, "eth0", ip4("10.0.0.254"), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(ra, "eth1", ip4("192.0.2.1"), 30, la, NULL), 0);
	assert_int_equal(sim_iface_add(f, "eth0", ip4("192.0.2.2"), 30, la, NULL), 0);
	assert_int_equal(sim_iface_add(rb, "eth1", ip4("198.51.100.1"), 30, lb, NULL), 0);
	assert_int_equal(sim_iface_add(f, "eth1", ip4("198.51.100.2"), 30, lb, NULL), 0);
	assert_int_equal(sim_route_add(h, 0, 0, ip4("10.0.0.1"), -1, 1, SIM_RT_CHECK_NH), 0);
	assert_int_equal(sim_route_add(h, 0, 0, ip4("10.0.0.254"), -1, 2, SIM_RT_CHECK_NH), 0);
	assert_int_equal(
		sim_route_add(f, ip4("10.0.0.0"), 24, ip4("192.0.2.1"), -1, 1, SIM_RT_CHECK_NH), 0);
	assert_int_equal(
		sim_route_add(f, ip4("10.0.0.0"), 24, ip4("198.51.100.1"), -1, 2, SIM_RT_CHECK_NH),
		0);
	/* rb reaches 192.0.2.2 only through f's other address: give it the far host. */
	assert_int_equal(sim_route_add(rb, ip4("192.0.2.0"), 30, ip4("198.51.100.2"), -1, 0, 0), 0);
	ps.src = h;
	assert_int_equal(sim_ping_add(sim, &ps, &id), 0);
	sim_run_until(sim, SP_SEC(2) + SP_MSEC(50));
	sim_node_crash(ra);
	sim_run_until(sim, SP_TIME_NEVER);
	st = sim_ping_stats(sim, id);
	assert_int_equal(st->sent, 40);
	assert_int_equal(st->received, 40);
	assert_int_equal(sim_ip_ctr(ra, SIM_IP_CTR_FORWARDED), 2 * 21);
	assert_int_equal(sim_ip_ctr(rb, SIM_IP_CTR_FORWARDED), 2 * 19);
	sim_free(sim);
}

static void echo_app(struct sim_node *n, sp_time now, struct pkt *p, const struct ipv4_hdr *ip,
		     const struct udp_hdr *udp, const uint8_t *payload, size_t len, void *arg)
{
	unsigned *calls = arg;

	(*calls)++;
	/* 004's NAT discovery answers with the source it saw; here: echo the payload. */
	assert_int_equal(
		sim_ip_send_udp(n, now, ip->ip_src, udp->udp_dport, udp->udp_sport, payload, len),
		0);
	pkt_free(p);
}

static void udp_app_binding(void **state)
{
	struct chain c;
	struct sim_udp_app app = { .fn = echo_app };
	unsigned calls = 0;
	uint8_t pl[4] = { 1, 2, 3, 4 };

	(void)state;
	chain_init(&c, 0);
	app.arg = &calls;
	assert_int_equal(sim_ip_udp_bind(c.h2, 7, &app), 0);
	assert_int_equal(sim_ip_udp_bind(c.h2, 7, &app), SP_EEXIST);
	assert_int_equal(sim_ip_send_udp(c.h1, 0, ip4("10.0.2.2"), 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(c.sim, SP_TIME_NEVER);
	assert_int_equal(calls, 1);
	/* The answer came back to h1's port 4000, where nobody listens. */
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_DROP_NO_LISTENER), 1);
	sim_free(c.sim);
}

/* Nothing is fragmented: too big with DF earns "fragmentation needed" with the MTU. */
static void send_big(struct sim_node *from, uint32_t dst, uint32_t len, bool df)
{
	struct ipv4_hdr h = { .ip_ttl = 64,
			      .ip_proto = IPV4_PROTO_UDP,
			      .ip_dst = dst,
			      .ip_frag = df ? IPV4_FLAG_DF : 0 };
	struct pkt *p = pkt_alloc(sim_pool(from->sim));
	uint8_t *b;

	assert_non_null(p);
	h.ip_src = sim_node_addr(from);
	assert_non_null(b = pkt_put(p, len - IPV4_HDR_MIN));
	memset(b, 0, len - IPV4_HDR_MIN);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	sim_ip_output(from, sim_now(from->sim), p);
}

static void mtu_and_fragmentation_needed(void **state)
{
	struct chain c;

	(void)state;
	chain_init(&c, 0);
	assert_int_equal(sim_iface_set_mtu(c.r1, 1, 576), 0);
	assert_int_equal(sim_iface_set_mtu(c.r1, 1, 20), SP_EINVAL);
	send_big(c.h1, ip4("10.0.2.2"), 576, true); /* fits exactly */
	send_big(c.h1, ip4("10.0.2.2"), 577, true);
	send_big(c.h1, ip4("10.0.2.2"), 1000, false);
	sim_run_until(c.sim, SP_SEC(1));
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_DROP_TOO_BIG), 2);
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_ICMP_ERR_SENT), 1); /* only with DF */
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_ICMP_ERR_RX), 1);
	assert_int_equal(sim_ip_ctr(c.h2, SIM_IP_CTR_LOCAL), 1);
	/* A host does not send what does not fit its own interface. */
	send_big(c.h1, ip4("10.0.2.2"), 1501, true);
	sim_run_until(c.sim, SP_SEC(2));
	assert_int_equal(sim_ip_ctr(c.h1, SIM_IP_CTR_DROP_TOO_BIG), 1);
	assert_int_equal(sim_ip_ctr(c.r1, SIM_IP_CTR_RX), 3); /* the 1501 never left h1 */
	sim_free(c.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lpm_and_metrics),
		cmocka_unit_test(ping_across_routers),
		cmocka_unit_test(ttl_expiry_sends_time_exceeded),
		cmocka_unit_test(no_route_sends_unreachable),
		cmocka_unit_test(bad_packets_are_counted),
		cmocka_unit_test(failover_to_second_router),
		cmocka_unit_test(udp_app_binding),
		cmocka_unit_test(mtu_and_fragmentation_needed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
