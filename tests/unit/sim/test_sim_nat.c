/* The address-only NAT: NAPT, ICMP echo ids, ICMP errors, one client per server for
 * protocols without ports, expiry, crash, exhaustion. */
#include "simtest.h"
#include "sim/flow.h"
#include "sim/nat_basic.h"
#include "base/csum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

/* c1, c2 --lan-- nat --wan-- s1, s2 (the wan is a LAN of the Internet side). */
struct net {
	struct sim *sim;
	struct sim_link *lan, *wan;
	struct sim_node *c1, *c2, *nat, *s1, *s2;
	void *nb;
};

#define EXT SP_IP4(203, 0, 113, 1)
#define S1  SP_IP4(203, 0, 113, 10)
#define S2  SP_IP4(203, 0, 113, 20)
#define C1  SP_IP4(10, 0, 0, 2)
#define C2  SP_IP4(10, 0, 0, 3)

static void net_init(struct net *n, const struct sim_nat_basic_cfg *cfg)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	uint32_t ext = EXT;
	unsigned out;

	n->sim = world(3);
	assert_int_equal(sim_link_new(n->sim, "lan", &prm, &n->lan), 0);
	assert_int_equal(sim_link_new(n->sim, "wan", &prm, &n->wan), 0);
	assert_int_equal(sim_host_new(n->sim, "c1", &n->c1), 0);
	assert_int_equal(sim_host_new(n->sim, "c2", &n->c2), 0);
	assert_int_equal(sim_router_new(n->sim, "nat", &n->nat), 0);
	assert_int_equal(sim_host_new(n->sim, "s1", &n->s1), 0);
	assert_int_equal(sim_host_new(n->sim, "s2", &n->s2), 0);
	assert_int_equal(sim_iface_add(n->c1, "eth0", C1, 24, n->lan, NULL), 0);
	assert_int_equal(sim_iface_add(n->c2, "eth0", C2, 24, n->lan, NULL), 0);
	assert_int_equal(sim_iface_add(n->nat, "lan0", ip4("10.0.0.1"), 24, n->lan, NULL), 0);
	assert_int_equal(sim_iface_add(n->nat, "wan0", EXT, 24, n->wan, &out), 0);
	assert_int_equal(sim_iface_add(n->s1, "eth0", S1, 24, n->wan, NULL), 0);
	assert_int_equal(sim_iface_add(n->s2, "eth0", S2, 24, n->wan, NULL), 0);
	assert_int_equal(sim_route_add(n->c1, 0, 0, ip4("10.0.0.1"), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(n->c2, 0, 0, ip4("10.0.0.1"), -1, 0, 0), 0);
	assert_int_equal(sim_ip_attach_nat(n->nat, &sim_nat_basic_ops, cfg, out, &ext, 1), 0);
	n->nb = sim_ip_nat_ctx(n->nat);
	assert_non_null(n->nb);
}

static uint64_t nctr(struct net *n, enum nat_basic_ctr c)
{
	return sim_nat_basic_ctr(n->nb, c);
}

static uint64_t entries(struct net *n)
{
	struct sim_nat_report r;

	assert_true(sim_ip_nat_report(n->nat, &r));
	return r.entries;
}

/* A UDP app that records where datagrams came from and can answer them. */
struct seen {
	unsigned n;
	uint32_t src[16];
	uint16_t sport[16];
	bool answer;
};

static void seen_app(struct sim_node *node, sp_time now, struct pkt *p, const struct ipv4_hdr *ip,
		     const struct udp_hdr *udp, const uint8_t *pl, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->src[s->n] = ip->ip_src;
		s->sport[s->n] = udp->udp_sport;
		s->n++;
	}
	if (s->answer)
		assert_int_equal(sim_ip_send_udp(node, now, ip->ip_src, udp->udp_dport,
						 udp->udp_sport, pl, len),
				 0);
	pkt_free(p);
}

static void bind_seen(struct sim_node *n, uint16_t port, struct seen *s)
{
	struct sim_udp_app app = { .fn = seen_app, .arg = s };

	assert_int_equal(sim_ip_udp_bind(n, port, &app), 0);
}

static void napt_same_source_port(void **state)
{
	struct net n;
	struct seen srv = { .answer = true }, a1 = { 0 }, a2 = { 0 };
	uint8_t pl[16] = { 0 };

	(void)state;
	net_init(&n, NULL);
	bind_seen(n.s1, 500, &srv);
	bind_seen(n.c1, 500, &a1);
	bind_seen(n.c2, 500, &a2);
	/* Both clients use source port 500 (IKE) to the same server. */
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 500, 500, pl, sizeof(pl)), 0);
	assert_int_equal(sim_run_until(n.sim, SP_MSEC(10)) > 0, 1);
	assert_int_equal(sim_ip_send_udp(n.c2, sim_now(n.sim), S1, 500, 500, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(1)); /* not to the end: the mappings would expire */
	assert_int_equal(srv.n, 2);
	assert_true(srv.src[0] == EXT && srv.src[1] == EXT);
	assert_int_equal(srv.sport[0], 500);  /* the first keeps its port */
	assert_int_equal(srv.sport[1], 1024); /* the second gets the range's first */
	/* Each answer reached its own client, checksums intact (the stack checks them). */
	assert_int_equal(a1.n, 1);
	assert_int_equal(a2.n, 1);
	assert_int_equal(sim_ip_ctr(n.c1, SIM_IP_CTR_DROP_BAD_L4_CSUM), 0);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_BAD_L4_CSUM), 0);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_IN2OUT), 2);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_OUT2IN), 2);
	assert_int_equal(entries(&n), 2);
	sim_free(n.sim);
}

static void echo_ids_mapped(void **state)
{
	struct net n;
	struct sim_ping_spec ps = {
		.dst = S1, .id = 42, .size = 32, .interval = SP_MSEC(100), .count = 10
	};
	uint32_t p1, p2;

	(void)state;
	net_init(&n, NULL);
	ps.src = n.c1;
	assert_int_equal(sim_ping_add(n.sim, &ps, &p1), 0);
	ps.src = n.c2;
	ps.start = SP_MSEC(50);
	assert_int_equal(sim_ping_add(n.sim, &ps, &p2), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ping_stats(n.sim, p1)->received, 10);
	assert_int_equal(sim_ping_stats(n.sim, p2)->received, 10);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_CREATED), 2);
	/* An echo request to the NAT's global address is the router's own business. */
	ps.src = n.s1;
	ps.dst = EXT;
	ps.start = sim_now(n.sim);
	assert_int_equal(sim_ping_add(n.sim, &ps, &p1), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ping_stats(n.sim, p1)->received, 10);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_ECHO_REPLIED), 10);
	sim_free(n.sim);
}

/* A hand-built packet of protocol proto from src to dst: 8 bytes (an ESP-like header). */
static void send_raw(struct sim_node *from, uint8_t proto, uint32_t src, uint32_t dst, uint32_t spi)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = proto, .ip_src = src, .ip_dst = dst };
	struct pkt *p = pkt_alloc(sim_pool(from->sim));
	uint8_t *b;

	assert_non_null(p);
	assert_non_null(b = pkt_put(p, 8));
	sp_store_be32(b, spi);
	sp_store_be32(b + 4, 1);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	sim_ip_output(from, sim_now(from->sim), p);
}

static void at_send_esp(struct sim *sim, void *arg, uint64_t u)
{
	struct net *n = arg;
	struct sim_node *from = (u & 1) ? n->c2 : n->c1;
	uint32_t dst = (u & 2) ? S2 : S1;

	(void)sim;
	send_raw(from, IPV4_PROTO_ESP, sim_node_addr(from), dst, 0x1000 + (uint32_t)u);
}

/* 003 Background: VPN Masquerade without cookies/SPIs: one client per server. */
static void esp_one_client_per_server(void **state)
{
	struct sim_nat_basic_cfg cfg = { .other_timeout = SP_SEC(10) };
	struct net n;

	(void)state;
	net_init(&n, &cfg);
	assert_int_equal(sim_at(n.sim, SP_MSEC(1), at_send_esp, &n, 0), 0); /* c1 -> s1 */
	assert_int_equal(sim_at(n.sim, SP_MSEC(2), at_send_esp, &n, 1), 0); /* c2 -> s1 */
	assert_int_equal(sim_at(n.sim, SP_MSEC(3), at_send_esp, &n, 3), 0); /* c2 -> s2 */
	sim_run_until(n.sim, SP_MSEC(100));
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_DROP_PROTO_BUSY), 1);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_NO_PROTO), 1); /* c1's arrived */
	assert_int_equal(sim_ip_ctr(n.s2, SIM_IP_CTR_DROP_NO_PROTO), 1); /* c2's to s2 too */
	assert_int_equal(entries(&n), 2);
	/* The server's ESP goes back to the client that holds the entry. */
	send_raw(n.s1, IPV4_PROTO_ESP, S1, EXT, 0x2000);
	sim_run_until(n.sim, SP_MSEC(200));
	assert_int_equal(sim_ip_ctr(n.c1, SIM_IP_CTR_DROP_NO_PROTO), 1);
	assert_int_equal(sim_ip_ctr(n.c2, SIM_IP_CTR_DROP_NO_PROTO), 0);
	/* After other_timeout of silence the entry expires and c2 may take the server. */
	sim_run_until(n.sim, SP_SEC(11));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_EXPIRED), 2);
	assert_int_equal(sim_at(n.sim, sim_now(n.sim), at_send_esp, &n, 1), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_DROP_PROTO_BUSY), 1);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_NO_PROTO), 2);
	/* The same holds for AH and for any other protocol without ports. */
	send_raw(n.c1, IPV4_PROTO_AH, C1, S1, 1);
	send_raw(n.c2, IPV4_PROTO_AH, C2, S1, 2);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_DROP_PROTO_BUSY), 2);
	sim_free(n.sim);
}

/* A spy endpoint engine: passes everything, keeps a copy of the last inbound packet. */
struct spy {
	uint8_t last[256];
	size_t len;
	unsigned in;
};

static int spy_create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	(void)env;
	(void)now;
	*ctx = (void *)cfg;
	return 0;
}

static enum sim_verdict spy_output(void *ctx, sp_time now, struct pkt *p,
				   const struct sim_route_hit *rt)
{
	(void)ctx;
	(void)now;
	(void)p;
	(void)rt;
	return SIM_PASS;
}

static enum sim_verdict spy_input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct spy *s = ctx;

	(void)now;
	(void)ifi;
	s->len = SP_MIN(p->len, sizeof(s->last));
	memcpy(s->last, pkt_data(p), s->len);
	s->in++;
	return SIM_PASS;
}

static void spy_nop(void *ctx, sp_time now)
{
	(void)ctx;
	(void)now;
}

static void spy_destroy(void *ctx)
{
	(void)ctx;
}

static const struct sim_ep_ops spy_ops = {
	.name = "spy",
	.create = spy_create,
	.output = spy_output,
	.input = spy_input,
	.reset = spy_nop,
	.destroy = spy_destroy,
};

/* RFC 5508 REQ-3: an ICMP error about a translated packet reaches the inside host with the
 * embedded packet translated back, every checksum right. */
static void icmp_error_translated_back(void **state)
{
	struct net n;
	struct spy spy = { 0 };
	uint8_t pl[12] = { 0 };
	const uint8_t *in;
	struct cur c;
	struct ipv4_hdr outer, inner;
	size_t ihl;

	(void)state;
	net_init(&n, NULL);
	assert_int_equal(sim_ip_attach_ep(n.c1, &spy_ops, &spy), 0);
	/* Port 9999 on s1 is closed: s1 answers port unreachable to the NAT. */
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 4000, 9999, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_NO_LISTENER), 1);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_ICMP_ERR), 1);
	assert_int_equal(sim_ip_ctr(n.c1, SIM_IP_CTR_ICMP_ERR_RX), 1);
	assert_int_equal(spy.in, 1);
	cur_init(&c, spy.last, spy.len);
	assert_int_equal(ipv4_parse(&c, &outer), 0);
	assert_true(outer.ip_csum_ok);
	assert_true(outer.ip_dst == C1 && outer.ip_src == S1);
	assert_int_equal(csum_buf(cur_ptr(&c), cur_left(&c)), 0); /* ICMP checksum */
	in = cur_ptr(&c) + ICMP_HDR_LEN;
	cur_init(&c, in, spy.len - (size_t)(in - spy.last));
	/* The quoted packet is the client's own, as it sent it. */
	assert_int_equal(ipv4_parse(&c, &inner), 0); /* short enough to be quoted whole */
	assert_true(inner.ip_csum_ok);
	ihl = inner.ip_hl;
	assert_true(sp_load_be32(in + IPV4_OFF_SRC) == C1);
	assert_int_equal(sp_load_be16(in + ihl), 4000);
	assert_true(udp_csum_ok(in + ihl, UDP_HDR_LEN + sizeof(pl), C1, S1));
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

static void expiry_and_crash_forget_mappings(void **state)
{
	struct sim_nat_basic_cfg cfg = { .udp_timeout = SP_SEC(30) };
	struct net n;
	struct seen srv = { .answer = false };
	uint8_t pl[8] = { 0 };

	(void)state;
	net_init(&n, &cfg);
	bind_seen(n.s1, 7, &srv);
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(29));
	assert_int_equal(entries(&n), 1);
	sim_run_until(n.sim, SP_SEC(31));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_EXPIRED), 1);
	/* The server's late answer finds no mapping: the router's stack refuses it by name. */
	assert_int_equal(sim_ip_send_udp(n.s1, sim_now(n.sim), EXT, 7, 4000, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(32));
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_OUT2IN_NO_MAPPING), 1);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_DROP_NO_LISTENER), 1);
	/* A crash empties the table at once. */
	assert_int_equal(sim_ip_send_udp(n.c1, sim_now(n.sim), S1, 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(33));
	assert_int_equal(entries(&n), 1);
	assert_int_equal(sim_at(n.sim, SP_SEC(34), crash, n.nat, 0), 0);
	assert_int_equal(sim_at(n.sim, SP_SEC(35), crash, n.nat, 1), 0);
	sim_run_until(n.sim, SP_SEC(36));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_EXPIRED), 1); /* forgotten, not expired */
	sim_free(n.sim);
}

static void ports_and_table_exhausted(void **state)
{
	struct sim_nat_basic_cfg cfg = {
		.port_min = 2000, .port_max = 2001, .no_port_preserve = true, .max_entries = 3
	};
	struct net n;
	struct seen srv = { 0 };
	uint8_t pl[8] = { 0 };

	(void)state;
	net_init(&n, &cfg);
	bind_seen(n.s1, 7, &srv);
	for (uint16_t sp = 4000; sp < 4003; sp++)
		assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, sp, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(1));
	assert_int_equal(srv.n, 2);
	assert_int_equal(srv.sport[0], 2000);
	assert_int_equal(srv.sport[1], 2001);
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_DROP_PORTS_EXHAUSTED), 1);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_NAT_DROPPED), 1);
	/* The third entry fills the table, the fourth finds it full. */
	send_raw(n.c1, IPV4_PROTO_ESP, C1, S1, 1);
	send_raw(n.c2, IPV4_PROTO_ESP, C2, S2, 2);
	sim_run_until(n.sim, SP_SEC(2));
	assert_int_equal(nctr(&n, NAT_BASIC_CTR_DROP_TABLE_FULL), 1);
	assert_int_equal(entries(&n), 3);
	sim_free(n.sim);
}

/* A NAT engine that ends host-to-router IP-in-IP tunnels (002's virtual tunnels) and
 * counts the directions it is called in. */
struct dirs {
	unsigned n[3];
};

static int dirs_create(void **ctx, struct sim_nat_env *env, const void *cfg, sp_time now)
{
	(void)env;
	(void)now;
	*ctx = (void *)cfg;
	return 0;
}

static enum sim_verdict dirs_input(void *ctx, sp_time now, struct pkt *p, enum sim_nat_dir dir)
{
	struct dirs *d = ctx;

	(void)now;
	d->n[dir]++;
	if (dir == SIM_NAT_LOCAL && pkt_data(p)[IPV4_OFF_PROTO] == IPV4_PROTO_IPIP) {
		size_t hl = (size_t)(pkt_data(p)[0] & 0x0f) * 4;

		return pkt_pull(p, (uint32_t)hl) != NULL ? SIM_PASS : SIM_DROP;
	}
	return SIM_PASS;
}

static void dirs_reset(void *ctx, sp_time now)
{
	(void)ctx;
	(void)now;
}

static void dirs_report(void *ctx, struct sim_nat_report *r)
{
	(void)ctx;
	r->entries = 0;
}

static void dirs_destroy(void *ctx)
{
	(void)ctx;
}

static const struct sim_nat_ops dirs_ops = {
	.name = "dirs",
	.create = dirs_create,
	.input = dirs_input,
	.reset = dirs_reset,
	.report = dirs_report,
	.destroy = dirs_destroy,
};

static void local_direction_sees_packets_for_the_router(void **state)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	struct dirs d = { 0 };
	struct sim *sim = world(1);
	struct sim_link *lan, *wan;
	struct sim_node *c, *r, *s;
	struct seen srv = { 0 };
	struct ipv4_hdr inner = {
		.ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP, .ip_src = C1, .ip_dst = S1
	};
	struct ipv4_hdr outer = { .ip_ttl = 64,
				  .ip_proto = IPV4_PROTO_IPIP,
				  .ip_src = C1,
				  .ip_dst = SP_IP4(10, 0, 0, 1) };
	uint32_t ext = EXT;
	uint8_t pl[8] = { 0 };
	unsigned out;
	struct pkt *p;

	(void)state;
	assert_int_equal(sim_link_new(sim, "lan", &prm, &lan), 0);
	assert_int_equal(sim_link_new(sim, "wan", &prm, &wan), 0);
	assert_int_equal(sim_host_new(sim, "c", &c), 0);
	assert_int_equal(sim_router_new(sim, "r", &r), 0);
	assert_int_equal(sim_host_new(sim, "s", &s), 0);
	assert_int_equal(sim_iface_add(c, "eth0", C1, 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(r, "lan0", SP_IP4(10, 0, 0, 1), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(r, "wan0", EXT, 24, wan, &out), 0);
	assert_int_equal(sim_iface_add(s, "eth0", S1, 24, wan, NULL), 0);
	assert_int_equal(sim_route_add(c, 0, 0, SP_IP4(10, 0, 0, 1), -1, 0, 0), 0);
	assert_int_equal(sim_route_add(s, 0, 0, EXT, -1, 0, 0), 0);
	assert_int_equal(sim_ip_attach_nat(r, &dirs_ops, &d, out, &ext, 1), 0);
	bind_seen(s, 7, &srv);
	/* c wraps a datagram for s in IP-in-IP to the router. */
	p = pkt_alloc(sim_pool(sim));
	assert_int_equal(pkt_append(p, pl, sizeof(pl)), 0);
	assert_int_equal(udp_build(p, 4000, 7, C1, S1, true), 0);
	assert_int_equal(ipv4_build(p, &inner, NULL, 0), 0);
	assert_int_equal(ipv4_build(p, &outer, NULL, 0), 0);
	sim_ip_output(c, 0, p);
	/* A ping to the router is LOCAL too, and passed to its stack. */
	assert_int_equal(sim_ip_send_echo(c, 0, SP_IP4(10, 0, 0, 1), 1, 1, pl, sizeof(pl)), 0);
	sim_run_until(sim, SP_SEC(1));
	assert_int_equal(d.n[SIM_NAT_LOCAL], 2);
	assert_int_equal(d.n[SIM_NAT_IN2OUT], 1); /* the inner packet on its way out */
	assert_int_equal(srv.n, 1);
	assert_true(srv.src[0] == C1); /* this engine does not translate */
	assert_int_equal(sim_ip_ctr(r, SIM_IP_CTR_ECHO_REPLIED), 1);
	assert_int_equal(d.n[SIM_NAT_OUT2IN], 0);
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(napt_same_source_port),
		cmocka_unit_test(echo_ids_mapped),
		cmocka_unit_test(esp_one_client_per_server),
		cmocka_unit_test(icmp_error_translated_back),
		cmocka_unit_test(expiry_and_crash_forget_mappings),
		cmocka_unit_test(ports_and_table_exhausted),
		cmocka_unit_test(local_direction_sees_packets_for_the_router),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
