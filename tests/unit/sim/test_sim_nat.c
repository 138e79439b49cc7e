/* spinat's NAT engine (sim/nat_sim.h) on a simulated router, through the NAT contract
 * (sim/engine.h): NAPT, ICMP echo ids, ICMP errors, one client per server for protocols
 * without ports (ipaddr), expiry, crash, exhaustion; the scenarios' "nat.*" parameters;
 * and the LOCAL direction with an engine of the test's own. */
#include "simtest.h"
#include "sim/flow.h"
#include "sim/scenario.h"
#include "sim/technique.h"
#include "sim/nat_sim.h"
#include "nat/nat_strategy.h"
#include "base/conf.h"
#include "base/csum.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

/* c1, c2 --lan-- nat --wan-- s1, s2 (the wan is a LAN of the Internet side). */
struct net {
	struct sim *sim;
	struct sim_link *lan, *wan;
	struct sim_node *c1, *c2, *nat, *s1, *s2;
	struct nat *engine;
};

#define EXT SP_IP4(203, 0, 113, 1)
#define S1  SP_IP4(203, 0, 113, 10)
#define S2  SP_IP4(203, 0, 113, 20)
#define C1  SP_IP4(10, 0, 0, 2)
#define C2  SP_IP4(10, 0, 0, 3)

/* spinatd's defaults with the ipaddr strategy (what a home router does with ESP). */
static void cfg_default(struct nat_sim_cfg *c)
{
	nat_config_defaults(&c->nat);
	assert_int_equal(nat_config_set_strategy(&c->nat, "ipaddr"), 0);
}

static void net_init(struct net *n, const struct nat_sim_cfg *cfg)
{
	struct sim_link_params prm = { .delay = SP_MSEC(1) };
	struct nat_sim_cfg def;
	uint32_t ext = EXT;
	unsigned out;

	if (cfg == NULL) {
		cfg_default(&def);
		cfg = &def;
	}
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
	assert_int_equal(sim_ip_attach_nat(n->nat, &nat_sim_ops, cfg, out, &ext, 1), 0);
	n->engine = nat_sim_engine(sim_ip_nat_ctx(n->nat));
	assert_non_null(n->engine);
	/* The router's global addresses are the engine's pool. */
	assert_true(nat_is_global(n->engine, EXT));
}

static uint64_t nctr(struct net *n, const char *name)
{
	return nat_counter(n->engine, name);
}

static uint64_t entries(struct net *n)
{
	struct sim_nat_report r;

	assert_true(sim_ip_nat_report(n->nat, &r));
	assert_int_equal(r.entries, nat_entries(n->engine));
	assert_int_equal(r.bytes, r.entries * nat_entry_bytes(n->engine));
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
	bind_seen(n.s1, 4000, &srv);
	bind_seen(n.c1, 4000, &a1);
	bind_seen(n.c2, 4000, &a2);
	/* Both clients use source port 4000 to the same server. */
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 4000, 4000, pl, sizeof(pl)), 0);
	assert_int_equal(sim_run_until(n.sim, SP_MSEC(10)) > 0, 1);
	assert_int_equal(sim_ip_send_udp(n.c2, sim_now(n.sim), S1, 4000, 4000, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(1)); /* not to the end: the mappings would expire */
	assert_int_equal(srv.n, 2);
	assert_true(srv.src[0] == EXT && srv.src[1] == EXT);
	assert_int_equal(srv.sport[0], 4000);	  /* the first keeps its port (RFC 4787 REQ-3) */
	assert_int_not_equal(srv.sport[1], 4000); /* the second gets one from the range */
	assert_true(srv.sport[1] >= 1024);
	/* Each answer reached its own client, checksums intact (the stack checks them). */
	assert_int_equal(a1.n, 1);
	assert_int_equal(a2.n, 1);
	assert_int_equal(sim_ip_ctr(n.c1, SIM_IP_CTR_DROP_BAD_L4_CSUM), 0);
	assert_int_equal(sim_ip_ctr(n.c2, SIM_IP_CTR_DROP_BAD_L4_CSUM), 0);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_BAD_L4_CSUM), 0);
	assert_int_equal(nctr(&n, "in2out"), 2);
	assert_int_equal(nctr(&n, "out2in"), 2);
	assert_int_equal(nctr(&n, "port_preserved"), 1);
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
	assert_int_equal(nctr(&n, "mappings_created"), 2);
	/* The global address is the engine's: an echo request to it matches no mapping and
	 * is dropped by name, as spinatd's gateway does (its rules queue everything sent to
	 * the pool); the router's own stack never sees it. */
	ps.src = n.s1;
	ps.dst = EXT;
	ps.start = sim_now(n.sim);
	assert_int_equal(sim_ping_add(n.sim, &ps, &p1), 0);
	sim_run_until(n.sim, SP_TIME_NEVER);
	assert_int_equal(sim_ping_stats(n.sim, p1)->received, 0);
	assert_int_equal(nctr(&n, "drop_no_mapping"), 10);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_NAT_DROPPED), 10);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_ECHO_REPLIED), 0);
	sim_free(n.sim);
}

/* A hand-built ESP or AH packet from src to dst with the SPI where each carries it. */
static void send_raw(struct sim_node *from, uint8_t proto, uint32_t src, uint32_t dst, uint32_t spi)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = proto, .ip_src = src, .ip_dst = dst };
	struct pkt *p = pkt_alloc(sim_pool(from->sim));
	uint8_t *b;

	assert_non_null(p);
	assert_non_null(b = pkt_put(p, 16));
	memset(b, 0, 16);
	sp_store_be32(b + (proto == IPV4_PROTO_AH ? 4 : 0), spi);
	sp_store_be32(b + (proto == IPV4_PROTO_AH ? 8 : 4), 1);
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

/* 003 Background: an address-only NAT (ipaddr) lets one client per server through. */
static void esp_one_client_per_server(void **state)
{
	struct nat_sim_cfg cfg;
	struct net n;

	(void)state;
	cfg_default(&cfg);
	/* ipaddr's timeout, in the strategy's parameters as nat_config_read() leaves them */
	{
		struct conf *conf;

		assert_int_equal(conf_parse_string("[g]\npool = 192.0.2.1\nstrategy = ipaddr\n"
						   "ipaddr_timeout = 10s\n",
						   "test", &conf),
				 0);
		assert_int_equal(nat_config_read(&cfg.nat, conf_find(conf, "g", NULL)), 0);
		conf_free(conf);
	}
	net_init(&n, &cfg);
	assert_int_equal(sim_at(n.sim, SP_MSEC(1), at_send_esp, &n, 0), 0); /* c1 -> s1 */
	assert_int_equal(sim_at(n.sim, SP_MSEC(2), at_send_esp, &n, 1), 0); /* c2 -> s1 */
	assert_int_equal(sim_at(n.sim, SP_MSEC(3), at_send_esp, &n, 3), 0); /* c2 -> s2 */
	sim_run_until(n.sim, SP_MSEC(100));
	assert_int_equal(nctr(&n, "ipaddr_drop_server_busy"), 1);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_NO_PROTO), 1); /* c1's arrived */
	assert_int_equal(sim_ip_ctr(n.s2, SIM_IP_CTR_DROP_NO_PROTO), 1); /* c2's to s2 too */
	/* The servers' protocol unreachable errors quote ESP, which the engine does not
	 * translate back: dropped by name, like the busy client's packet. */
	assert_int_equal(nctr(&n, "drop_icmp_error_inner_unsupported"), 2);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_NAT_DROPPED), 3);
	assert_int_equal(entries(&n), 2);
	/* The server's ESP goes back to the client that holds the entry. */
	send_raw(n.s1, IPV4_PROTO_ESP, S1, EXT, 0x2000);
	sim_run_until(n.sim, SP_MSEC(200));
	assert_int_equal(sim_ip_ctr(n.c1, SIM_IP_CTR_DROP_NO_PROTO), 1);
	assert_int_equal(sim_ip_ctr(n.c2, SIM_IP_CTR_DROP_NO_PROTO), 0);
	/* After the timeout of silence the entries expire and c2 may take the server. */
	sim_run_until(n.sim, SP_SEC(12));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, "entries_expired"), 2);
	assert_int_equal(sim_at(n.sim, sim_now(n.sim), at_send_esp, &n, 1), 0);
	sim_run_until(n.sim, SP_SEC(13));
	assert_int_equal(nctr(&n, "ipaddr_drop_server_busy"), 1);
	assert_int_equal(sim_ip_ctr(n.s1, SIM_IP_CTR_DROP_NO_PROTO), 2);
	/* The same holds for AH. */
	send_raw(n.c1, IPV4_PROTO_AH, C1, S2, 1);
	send_raw(n.c2, IPV4_PROTO_AH, C2, S2, 2);
	sim_run_until(n.sim, SP_SEC(14));
	assert_int_equal(nctr(&n, "ipaddr_drop_server_busy"), 2);
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
	assert_int_equal(nctr(&n, "icmp_error_out2in"), 1);
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
	struct nat_sim_cfg cfg;
	struct net n;
	struct seen srv = { .answer = false };
	uint8_t pl[8] = { 0 };

	(void)state;
	cfg_default(&cfg);
	cfg.nat.t_udp = SP_SEC(30); /* below RFC 4787's 2 min: the config file refuses it */
	net_init(&n, &cfg);
	bind_seen(n.s1, 7, &srv);
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(29));
	assert_int_equal(entries(&n), 1);
	/* Expired at 30 s; the timer wheel reclaims it within a second. */
	sim_run_until(n.sim, SP_SEC(32));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, "entries_expired"), 1);
	/* The server's late answer finds no mapping: dropped by name. */
	assert_int_equal(sim_ip_send_udp(n.s1, sim_now(n.sim), EXT, 7, 4000, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(33));
	assert_int_equal(nctr(&n, "drop_no_mapping"), 1);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_NAT_DROPPED), 1);
	/* A crash empties the table at once. */
	assert_int_equal(sim_ip_send_udp(n.c1, sim_now(n.sim), S1, 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(34));
	assert_int_equal(entries(&n), 1);
	assert_int_equal(sim_at(n.sim, SP_SEC(35), crash, n.nat, 0), 0);
	assert_int_equal(sim_at(n.sim, SP_SEC(36), crash, n.nat, 1), 0);
	sim_run_until(n.sim, SP_SEC(37));
	assert_int_equal(entries(&n), 0);
	assert_int_equal(nctr(&n, "entries_expired"), 1); /* forgotten, not expired */
	/* and the restarted NAT makes new mappings */
	assert_int_equal(sim_ip_send_udp(n.c1, sim_now(n.sim), S1, 4000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(38));
	assert_int_equal(entries(&n), 1);
	assert_int_equal(srv.n, 3);
	sim_free(n.sim);
}

static void ports_and_table_exhausted(void **state)
{
	struct nat_sim_cfg cfg;
	struct net n;
	struct seen srv = { 0 };
	uint8_t pl[8] = { 0 };

	(void)state;
	cfg_default(&cfg);
	cfg.nat.port_min = 2000;
	cfg.nat.port_max = 2001;
	cfg.nat.max_entries = 3;
	net_init(&n, &cfg);
	bind_seen(n.s1, 7, &srv);
	/* c1 keeps its ports 2000 and 2001, which are the whole range; c2's 2000 is taken
	 * and nothing is left to give it. */
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 2000, 7, pl, sizeof(pl)), 0);
	assert_int_equal(sim_ip_send_udp(n.c1, 0, S1, 2001, 7, pl, sizeof(pl)), 0);
	assert_int_equal(sim_ip_send_udp(n.c2, 0, S1, 2000, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(1));
	assert_int_equal(srv.n, 2);
	assert_int_equal(nctr(&n, "drop_no_port"), 1);
	assert_int_equal(sim_ip_ctr(n.nat, SIM_IP_CTR_NAT_DROPPED), 1);
	/* The third entry fills the table, the fourth finds it full. */
	assert_int_equal(sim_ip_send_udp(n.c2, sim_now(n.sim), S1, 5000, 7, pl, sizeof(pl)), 0);
	assert_int_equal(sim_ip_send_udp(n.c2, sim_now(n.sim), S1, 5001, 7, pl, sizeof(pl)), 0);
	sim_run_until(n.sim, SP_SEC(2));
	assert_int_equal(srv.n, 3);
	assert_int_equal(nctr(&n, "drop_table_full"), 1);
	assert_int_equal(entries(&n), 3);
	sim_free(n.sim);
}

/* The scenarios' "nat.*" parameters are the engine's [gateway] keys with spinatd's
 * defaults: left alone they configure exactly nat_config_defaults(); set, they reach the
 * engine; a value the engine refuses is an error naming the key and the reason. */
static void nat_parameters_are_the_engines(void **state)
{
	static struct sim_params ps;
	struct nat_config got, want;
	char err[256];

	(void)state;
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(sim_scenario_find("conference"), &ps), 0);
	assert_int_equal(sim_tech_nat_config(&ps, "oldest", NULL, &got, err, sizeof(err)), 0);
	nat_config_defaults(&want);
	assert_int_equal(nat_config_set_strategy(&want, "oldest"), 0);
	assert_int_equal(nat_config_add_pool(&want, SP_IP4(192, 0, 2, 1)), 0);
	assert_memory_equal(&got, &want, sizeof(got));
	/* set */
	assert_int_equal(sim_params_set(&ps, "nat.timeout_udp=10m"), 0);
	assert_int_equal(sim_params_set(&ps, "nat.ports=3000-3999"), 0);
	assert_int_equal(
		sim_tech_nat_config(&ps, "masq", "masq_t_out = 2s\n", &got, err, sizeof(err)), 0);
	assert_int_equal(got.t_udp, SP_SEC(600));
	assert_int_equal(got.port_min, 3000);
	assert_int_equal(got.port_max, 3999);
	assert_ptr_equal(got.strategy, nat_strategy_find("masq"));
	/* refused, with the key and the RFC named */
	assert_int_equal(sim_params_set(&ps, "nat.timeout_udp=30s"), 0);
	assert_int_not_equal(sim_tech_nat_config(&ps, "masq", NULL, &got, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "timeout_udp"));
	assert_non_null(strstr(err, "RFC 4787"));
	/* and a misspelt strategy key is caught like in spinatd's configuration */
	assert_int_equal(sim_params_set(&ps, "nat.timeout_udp=5m"), 0);
	assert_int_not_equal(
		sim_tech_nat_config(&ps, "masq", "masq_t_ot = 2s\n", &got, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "masq_t_ot"));
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
		cmocka_unit_test(nat_parameters_are_the_engines),
		cmocka_unit_test(local_direction_sees_packets_for_the_router),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
