/*
 * 001 end to end in one process: two clients with the lease module (FIGS. 8-10) behind
 * spinat's NAT engine with strategy lease (FIGS. 6-7), IKEv2 to one server endpoint that
 * has no lease or NAT configuration. Raw ESP and AH (tunnel mode) through one global
 * address: leases before IKE (801-802), both tunnels carry traffic, no ICV failure at the
 * server, and after the NAT restarts the leases come back at the next renewal with no
 * operator. Without the module AH fails (the ICV covers the translated address).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/addr.h"
#include "base/counter.h"
#include "base/rand.h"
#include "host/endpoint.h"
#include "nat/nat.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCLIENT 2
#define G_ADDR	SP_IP4(171, 69, 68, 10)
#define S_ADDR	SP_IP4(198, 51, 100, 7)
#define NET_IN	SP_IP4(192, 168, 50, 1) /* behind the server */
#define QMAX	256

struct queue {
	struct pkt *p[QMAX];
	unsigned n;
};

struct node {
	struct endpoint *ep;
	struct conf *conf;
	struct queue net, local;
	uint32_t addr;
};

struct world {
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct sp_ctr_registry ctrs;
	struct nat *nat;
	struct node c[NCLIENT], s;
	sp_time now;
};

static void q_push(struct queue *q, struct pkt *p)
{
	if (q->n < QMAX)
		q->p[q->n++] = p;
	else
		pkt_free(p);
}

static void net_out(void *arg, sp_time now, struct pkt *p)
{
	(void)now;
	q_push(&((struct node *)arg)->net, p);
}

static void local_out(void *arg, sp_time now, struct pkt *p)
{
	(void)now;
	q_push(&((struct node *)arg)->local, p);
}

static void q_clear(struct queue *q)
{
	for (unsigned i = 0; i < q->n; i++)
		pkt_free(q->p[i]);
	q->n = 0;
}

static void make_ep(struct world *w, struct node *n, const char *name, const char *text)
{
	struct endpoint_params p = {
		.name = name,
		.ctrs = &w->ctrs,
		.rng = &w->rng.rng,
		.pool = &w->pool,
		.io = { .net_out = net_out, .local_out = local_out, .arg = n },
	};

	assert_int_equal(conf_parse_string(text, name, &n->conf), 0);
	if (endpoint_new(&p, n->conf, w->now, &n->ep) != 0)
		fail_msg("%s: %s", name, conf_error(n->conf));
}

static struct node *client_of(struct world *w, uint32_t addr);

/* The NAT's own packets (PCP answers) go to the client they are addressed to. */
static void nat_emit_cb(void *arg, enum nat_side side, struct pkt *p)
{
	struct world *w = arg;
	struct node *c = client_of(w, sp_load_be32(pkt_data(p) + IPV4_OFF_DST));

	if (side == NAT_INSIDE && c != NULL)
		endpoint_input(c->ep, w->now, p);
	else
		pkt_free(p);
}

/* mode "ike-transport": transport-mode CHILD SAs whose selectors name the client's UDP
 * port 40000 (the same private port on every client) and the server's port 7;
 * "ike-tunnel-global": the same in tunnel mode to the server's network, the inner source
 * replaced by the global address (lease_inner = global, 001 steps 811/825). */
static void build_mode(struct world *w, const char *proto, bool lease, const char *mode)
{
	bool tunnel_global = strcmp(mode, "ike-tunnel-global") == 0;
	bool ike_transport = strcmp(mode, "ike-transport") == 0 || tunnel_global;
	char text[4096], a[SP_IP4_STRLEN];
	size_t len = 0;
	struct nat_config cfg;
	struct nat_env env = { 0 };

	memset(w, 0, sizeof(*w));
	w->now = SP_SEC(1);
	assert_int_equal(pkt_pool_init(&w->pool, 512, PKT_BUFSIZE), 0);
	sp_xoshiro_seed(&w->rng, 7);
	sp_ctr_registry_init(&w->ctrs);
	nat_config_defaults(&cfg);
	assert_int_equal(nat_config_add_pool(&cfg, G_ADDR), 0);
	assert_int_equal(nat_config_set_strategy(&cfg, "lease"), 0);
	env.name = "nat";
	env.rng = &w->rng.rng;
	env.ctrs = &w->ctrs;
	env.pool = &w->pool;
	env.emit = nat_emit_cb;
	env.emit_arg = w;
	assert_int_equal(nat_new(&w->nat, &cfg, &env), 0);

	for (unsigned i = 0; i < NCLIENT; i++) {
		char name[8];

		w->c[i].addr = SP_IP4(10, 0, 0, 2 + i);
		sp_ip4_fmt(w->c[i].addr, a);
		if (ike_transport)
			snprintf(text, sizeof(text),
				 "[conn vpn]\nlocal = %s\nremote = 198.51.100.7\nauto = start\n"
				 "psk = lease-test-psk\nlocal_ts = dynamic[udp/40000]%s\n"
				 "remote_ts = %s[udp/7]%s\nencap = no\nproto = %s\n"
				 "lease = %s\nlease_server = 10.0.0.1\nlease_lifetime = 20s\n"
				 "lease_idle = 5s\nmode = %s\n%s",
				 a, i == 0 && !tunnel_global ? ", dynamic[tcp]" : "",
				 tunnel_global ? "192.168.50.0/24" : "198.51.100.7",
				 i == 0 && !tunnel_global ? ", 198.51.100.7[tcp/80]" : "", proto,
				 lease ? "yes" : "no", tunnel_global ? "tunnel" : "transport",
				 tunnel_global ? "lease_inner = global\n" : "");
		else
			snprintf(text, sizeof(text),
				 "[conn vpn]\nlocal = %s\nremote = 198.51.100.7\nauto = start\n"
				 "psk = lease-test-psk\nlocal_ts = %s/32\n"
				 "remote_ts = 192.168.50.0/24\nencap = no\nproto = %s\n"
				 "lease = %s\nlease_server = 10.0.0.1\nlease_lifetime = 20s\n"
				 "mode = %s\n",
				 a, a, proto, lease ? "yes" : "no", mode);
		snprintf(name, sizeof(name), "c%u", i);
		make_ep(w, &w->c[i], name, text);
	}
	/* The server: one connection per client, by identity; nothing about leases. In
	 * transport mode one connection for any host, defaults otherwise (NAT detection on). */
	if (ike_transport)
		len += (size_t)snprintf(text, sizeof(text),
					"[conn any]\nlocal = 198.51.100.7\nremote = %%any\n"
					"psk = lease-test-psk\nremote_ts = 0.0.0.0/0\n"
					"mode = %s\nproto = %s\n%s",
					tunnel_global ? "tunnel" : "transport", proto,
					tunnel_global ? "local_ts = 192.168.50.0/24\n" : "");
	for (unsigned i = 0; i < NCLIENT && !ike_transport; i++)
		len += (size_t)snprintf(
			text + len, sizeof(text) - len,
			"[conn c%u]\nlocal = 198.51.100.7\nremote = %%any\n"
			"remote_id = %s\npsk = lease-test-psk\nlocal_ts = 192.168.50.0/24\n"
			"remote_ts = %s/32\nencap = no\nproto = %s\n",
			i, sp_ip4_fmt(w->c[i].addr, a), a, proto);
	w->s.addr = S_ADDR;
	make_ep(w, &w->s, "srv", text);
	for (unsigned i = 0; i < NCLIENT; i++)
		endpoint_start(w->c[i].ep, w->now);
	endpoint_start(w->s.ep, w->now);
}

static void build(struct world *w, const char *proto, bool lease)
{
	build_mode(w, proto, lease, "tunnel");
}

static void destroy(struct world *w)
{
	for (unsigned i = 0; i <= NCLIENT; i++) {
		struct node *n = i < NCLIENT ? &w->c[i] : &w->s;

		q_clear(&n->net);
		q_clear(&n->local);
		endpoint_free(n->ep);
		conf_free(n->conf);
	}
	nat_free(w->nat);
	pkt_pool_destroy(&w->pool);
}

static struct node *client_of(struct world *w, uint32_t addr)
{
	for (unsigned i = 0; i < NCLIENT; i++)
		if (w->c[i].addr == addr)
			return &w->c[i];
	return NULL;
}

/* Move every queued packet across the NAT once; true if any moved. */
static bool deliver(struct world *w)
{
	bool moved = false;

	for (unsigned i = 0; i < NCLIENT; i++) {
		struct queue q = w->c[i].net;

		w->c[i].net.n = 0;
		for (unsigned j = 0; j < q.n; j++) {
			struct pkt *p = q.p[j];
			int v = nat_translate(w->nat, w->now, NAT_INSIDE, p);
			uint32_t dst = sp_load_be32(pkt_data(p) + IPV4_OFF_DST);

			moved = true;
			if (v == NAT_TO_OUTSIDE && dst == S_ADDR)
				endpoint_input(w->s.ep, w->now, p);
			else
				pkt_free(p); /* dropped, or NAT_TAKEN: answered through the emit */
		}
	}
	{
		struct queue q = w->s.net;

		w->s.net.n = 0;
		for (unsigned j = 0; j < q.n; j++) {
			struct pkt *p = q.p[j];
			int v = nat_translate(w->nat, w->now, NAT_OUTSIDE, p);
			struct node *c = client_of(w, sp_load_be32(pkt_data(p) + IPV4_OFF_DST));

			moved = true;
			if (v == NAT_TO_INSIDE && c != NULL)
				endpoint_input(c->ep, w->now, p);
			else
				pkt_free(p);
		}
	}
	return moved;
}

/* Run until `until`, delivering at once (no link delay) and ticking at deadlines. */
static void run(struct world *w, sp_time until)
{
	while (w->now <= until) {
		sp_time next = SP_TIME_NEVER;

		while (deliver(w))
			;
		for (unsigned i = 0; i < NCLIENT; i++)
			next = sp_time_min(next, endpoint_next_deadline(w->c[i].ep));
		next = sp_time_min(next, endpoint_next_deadline(w->s.ep));
		next = sp_time_min(next, nat_next_deadline(w->nat));
		if (next > until)
			break;
		w->now = SP_MAX(next, w->now + 1);
		for (unsigned i = 0; i < NCLIENT; i++)
			endpoint_tick(w->c[i].ep, w->now);
		endpoint_tick(w->s.ep, w->now);
		nat_tick(w->nat, w->now);
	}
	w->now = SP_MAX(w->now, until);
	while (deliver(w))
		;
}

static struct pkt *udp(struct world *w, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	static const char data[] = "001 lease test payload";
	struct ipv4_hdr h = {
		.ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP, .ip_src = src, .ip_dst = dst
	};
	struct pkt *p = pkt_alloc(&w->pool);

	assert_non_null(p);
	assert_int_equal(pkt_append(p, data, sizeof(data)), 0);
	assert_int_equal(udp_build(p, sport, dport, src, dst, true), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	return p;
}

/* Each client sends one datagram to the protected network and gets one answer. */
static unsigned round_trips(struct world *w)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < NCLIENT; i++) {
		q_clear(&w->s.local);
		q_clear(&w->c[i].local);
		endpoint_output(w->c[i].ep, w->now, udp(w, w->c[i].addr, NET_IN, 5000, 7));
		run(w, w->now + SP_MSEC(10));
		if (w->s.local.n != 1 ||
		    sp_load_be32(pkt_data(w->s.local.p[0]) + IPV4_OFF_SRC) != w->c[i].addr)
			continue;
		endpoint_output(w->s.ep, w->now, udp(w, NET_IN, w->c[i].addr, 7, 5000));
		run(w, w->now + SP_MSEC(10));
		ok += w->c[i].local.n == 1;
	}
	return ok;
}

static void one_proto(const char *proto)
{
	struct world w;
	char buf[8192];
	FILE *f;

	build(&w, proto, true);
	run(&w, SP_SEC(5));
	/* Steps 801-802 happened before IKE used the values: the NAT holds each client's
	 * IKE SPI lease and its incoming SPIs, and both tunnels are up. */
	for (unsigned i = 0; i < NCLIENT; i++)
		assert_int_equal(ike_child_count(endpoint_ike(w.c[i].ep)), 1);
	assert_int_equal(ike_child_count(endpoint_ike(w.s.ep)), NCLIENT);
	f = fmemopen(buf, sizeof(buf), "w");
	nat_show(w.nat, w.now, f, NAT_SHOW_IPSEC, 0);
	fclose(f);
	assert_non_null(strstr(buf, "isakmp   10.0.0.2"));
	assert_non_null(strstr(buf, "isakmp   10.0.0.3"));
	assert_non_null(
		strstr(buf, strcmp(proto, "ah") == 0 ? "ah       10.0.0.2" : "esp      10.0.0.2"));
	assert_int_equal(round_trips(&w), NCLIENT);
	assert_int_equal(ipsec_counter(endpoint_ipsec(w.s.ep), IPSEC_DROP_ICV), 0);
	assert_int_equal(sp_ctr_get(&w.ctrs, "nat", "lease_drop_no_lease_in"), 0);

	/* The NAT restarts: its leases are gone, the tunnels stop... */
	nat_reset(w.nat);
	assert_int_equal(round_trips(&w), 0);
	/* ...and come back by the clients' next renewal (lease_lifetime / 2 = 10 s), the
	 * same SPIs granted again (nobody else had them), without IKE starting over. */
	run(&w, w.now + SP_SEC(11));
	assert_int_equal(round_trips(&w), NCLIENT);
	assert_int_equal(ipsec_counter(endpoint_ipsec(w.s.ep), IPSEC_DROP_ICV), 0);
	assert_true(sp_ctr_get(&w.ctrs, "lease", "renewed") +
			    sp_ctr_get(&w.ctrs, "lease", "granted") >
		    0);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "lease_changed_after_restart"), 0);
	destroy(&w);
}

static void esp_tunnels(void **state)
{
	(void)state;
	one_proto("esp");
}

static void ah_tunnels(void **state)
{
	(void)state;
	one_proto("ah");
}

/* Without the module nothing is leased: the NAT drops the raw IPsec. */
static void without_module(void **state)
{
	struct world w;

	(void)state;
	build(&w, "esp", false);
	run(&w, SP_SEC(5));
	assert_int_equal(round_trips(&w), 0);
	assert_true(sp_ctr_get(&w.ctrs, "nat", "lease_drop_no_lease_out") > 0);
	destroy(&w);
}

/*
 * Transport mode, procedure 5 and step 810: a flow's first packet towards the peer waits
 * until its source port is leased (PEER for UDP, foreign = the peer), then goes on; the
 * NAT holds the port for this client only.
 */
static void transport_port_lease(void **state)
{
	struct world w;
	char buf[8192];
	FILE *f;

	(void)state;
	build_mode(&w, "esp", true, "transport");
	run(&w, SP_SEC(3));
	endpoint_output(w.c[0].ep, w.now, udp(&w, w.c[0].addr, S_ADDR, 40000, 7));
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "packets_held_for_port_lease"), 1);
	run(&w, w.now + SP_SEC(1));
	f = fmemopen(buf, sizeof(buf), "w");
	nat_show(w.nat, w.now, f, NAT_SHOW_IPSEC, 0);
	fclose(f);
	assert_non_null(
		strstr(buf, "udp      10.0.0.2        40000              171.69.68.10    "));
	/* the same flow's next packet does not wait */
	endpoint_output(w.c[0].ep, w.now, udp(&w, w.c[0].addr, S_ADDR, 40000, 7));
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "packets_held_for_port_lease"), 1);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "drop_port_lease_failed"), 0);
	destroy(&w);
}

/* A datagram's IPv4 header checksum and UDP checksum, recomputed from scratch (the latter
 * over the pseudo-header). */
static bool udp_ok(const struct pkt *p)
{
	const uint8_t *ip = pkt_data(p);
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	struct ipv4_hdr h;
	struct cur c;

	cur_init(&c, ip, p->len);
	return ipv4_parse(&c, &h) == 0 && h.ip_csum_ok && ip[IPV4_OFF_PROTO] == IPV4_PROTO_UDP &&
	       udp_csum_ok(ip + hl, p->len - hl, sp_load_be32(ip + IPV4_OFF_SRC),
			   sp_load_be32(ip + IPV4_OFF_DST));
}

static struct pkt *tcp(struct world *w, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		       uint8_t flags)
{
	struct ipv4_hdr h = {
		.ip_ttl = 64, .ip_proto = IPV4_PROTO_TCP, .ip_src = src, .ip_dst = dst
	};
	struct tcp_hdr t = { .tcp_sport = sport,
			     .tcp_dport = dport,
			     .tcp_seq = 1,
			     .tcp_flags = flags,
			     .tcp_win = 1000 };
	struct pkt *p = pkt_alloc(&w->pool);

	assert_non_null(p);
	assert_int_equal(tcp_build(p, &t, NULL, 0, src, dst), 0);
	assert_int_equal(ipv4_build(p, &h, NULL, 0), 0);
	return p;
}

static bool nat_lists(struct world *w, const char *what)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	nat_show(w->nat, w->now, f, NAT_SHOW_IPSEC, 0);
	fclose(f);
	return strstr(buf, what) != NULL;
}

/*
 * A flow's port lease goes when the flow is over, before the NAT would expire it (20 s
 * here): a TCP connection's after a FIN each way (the server's seen after unprotection)
 * and lease_linger; a UDP flow's after lease_idle (5 s here) without a packet.
 */
static void port_lease_release(void **state)
{
	struct world w;
	uint16_t gp;

	(void)state;
	build_mode(&w, "esp", true, "ike-transport");
	run(&w, SP_SEC(5));
	assert_int_equal(ike_child_count(endpoint_ike(w.c[0].ep)), 1);
	q_clear(&w.s.local);
	endpoint_output(w.c[0].ep, w.now, tcp(&w, w.c[0].addr, S_ADDR, 40001, 80, TCP_SYN));
	run(&w, w.now + SP_MSEC(10));
	assert_int_equal(w.s.local.n, 1);
	assert_true(nat_lists(&w, "tcp      10.0.0.2        40001 "));
	gp = sp_load_be16(pkt_data(w.s.local.p[0]) + IPV4_HDR_MIN);
	/* the server closes, then the client */
	endpoint_output(w.s.ep, w.now, tcp(&w, S_ADDR, G_ADDR, 80, gp, TCP_FIN | TCP_ACK));
	run(&w, w.now + SP_MSEC(10));
	assert_int_equal(w.c[0].local.n, 1);
	endpoint_output(w.c[0].ep, w.now,
			tcp(&w, w.c[0].addr, S_ADDR, 40001, 80, TCP_FIN | TCP_ACK));
	run(&w, w.now + SP_SEC(1));
	assert_true(nat_lists(&w, "tcp      10.0.0.2        40001 "));
	run(&w, w.now + SP_SEC(4)); /* lease_linger 4 s */
	assert_false(nat_lists(&w, "tcp      10.0.0.2        40001 "));
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "port_leases_closed"), 1);
	/* a UDP flow nobody uses any more */
	endpoint_output(w.c[0].ep, w.now, udp(&w, w.c[0].addr, S_ADDR, 40005, 9));
	run(&w, w.now + SP_SEC(1));
	assert_true(nat_lists(&w, "udp      10.0.0.2        40005 "));
	run(&w, w.now + SP_SEC(5));
	assert_false(nat_lists(&w, "udp      10.0.0.2        40005 "));
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "port_leases_idle"), 1);
	/* a flow that comes back while its release is on its way (here lost) keeps its lease:
	 * the same nonce asks again, which the NAT takes as a renewal (another nonce would be
	 * NOT_AUTHORIZED while the old lease stands) */
	endpoint_output(w.c[0].ep, w.now, udp(&w, w.c[0].addr, S_ADDR, 40006, 9));
	run(&w, w.now + SP_SEC(1));
	assert_true(nat_lists(&w, "udp      10.0.0.2        40006 "));
	w.now += SP_SEC(5);
	endpoint_tick(w.c[0].ep, w.now); /* the release leaves... */
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "port_leases_idle"), 2);
	q_clear(&w.c[0].net); /* ...and is lost */
	endpoint_output(w.c[0].ep, w.now, udp(&w, w.c[0].addr, S_ADDR, 40006, 9));
	run(&w, w.now + SP_SEC(1));
	assert_true(nat_lists(&w, "udp      10.0.0.2        40006 "));
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "drop_port_lease_failed"), 0);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "packets_held_for_port_lease"), 4);
	/* the selectors' own port stays leased */
	assert_true(nat_lists(&w, "udp      10.0.0.2        40000 "));
	destroy(&w);
}

/*
 * Transport mode over IKE to an unmodified server (steps 801-802, 810-812, 815, 820,
 * 824-826): both clients use private UDP port 40000; each leases it before IKE and
 * proposes the global address and its global port as TSi, so the server, which sees
 * only the global address, tells them apart by port. Each datagram arrives from the
 * global address with a right checksum (AH: a right ICV), the answer comes back to the
 * private address and port with a right checksum.
 */
static void ike_transport(const char *proto, bool tunnel)
{
	uint32_t dst = tunnel ? NET_IN : S_ADDR;
	uint16_t gport[NCLIENT];
	struct world w;

	build_mode(&w, proto, true, tunnel ? "ike-tunnel-global" : "ike-transport");
	run(&w, SP_SEC(5));
	for (unsigned i = 0; i < NCLIENT; i++)
		assert_int_equal(ike_child_count(endpoint_ike(w.c[i].ep)), 1);
	assert_int_equal(ike_child_count(endpoint_ike(w.s.ep)), NCLIENT);
	for (unsigned i = 0; i < NCLIENT; i++) {
		const uint8_t *ip;

		q_clear(&w.s.local);
		q_clear(&w.c[i].local);
		endpoint_output(w.c[i].ep, w.now, udp(&w, w.c[i].addr, dst, 40000, 7));
		run(&w, w.now + SP_MSEC(10));
		assert_int_equal(w.s.local.n, 1);
		ip = pkt_data(w.s.local.p[0]);
		assert_int_equal(sp_load_be32(ip + IPV4_OFF_SRC), G_ADDR);
		assert_true(udp_ok(w.s.local.p[0]));
		gport[i] = sp_load_be16(ip + IPV4_HDR_MIN);
		endpoint_output(w.s.ep, w.now, udp(&w, dst, G_ADDR, 7, gport[i]));
		run(&w, w.now + SP_MSEC(10));
		assert_int_equal(w.c[i].local.n, 1);
		ip = pkt_data(w.c[i].local.p[0]);
		assert_int_equal(sp_load_be32(ip + IPV4_OFF_DST), w.c[i].addr);
		assert_int_equal(sp_load_be16(ip + IPV4_HDR_MIN + 2), 40000);
		assert_true(udp_ok(w.c[i].local.p[0]));
	}
	/* one global address, two global ports: the server's policies tell them apart */
	assert_int_not_equal(gport[0], gport[1]);
	assert_int_equal(ipsec_counter(endpoint_ipsec(w.s.ep), IPSEC_DROP_ICV), 0);
	assert_int_equal(ipsec_counter(endpoint_ipsec(w.s.ep), IPSEC_DROP_POLICY), 0);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "ports_compensated_out"), NCLIENT);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "ports_compensated_in"), NCLIENT);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "addresses_compensated_out"),
			 tunnel ? NCLIENT : 0);
	assert_int_equal(sp_ctr_get(&w.ctrs, "lease", "addresses_compensated_in"),
			 tunnel ? NCLIENT : 0);
	destroy(&w);
}

static void esp_transport_ike(void **state)
{
	(void)state;
	ike_transport("esp", false);
}

static void ah_transport_ike(void **state)
{
	(void)state;
	ike_transport("ah", false);
}

/* Tunnel mode, steps 811/825 (lease_inner = global): the inner packet reaches the server's
 * network from the global address and leased port, and the answer to them comes back to
 * the private ones, checksums right both ways. */
static void esp_tunnel_inner_global(void **state)
{
	(void)state;
	ike_transport("esp", true);
}

static void ah_tunnel_inner_global(void **state)
{
	(void)state;
	ike_transport("ah", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_tunnels),
		cmocka_unit_test(ah_tunnels),
		cmocka_unit_test(without_module),
		cmocka_unit_test(transport_port_lease),
		cmocka_unit_test(esp_transport_ike),
		cmocka_unit_test(ah_transport_ike),
		cmocka_unit_test(esp_tunnel_inner_global),
		cmocka_unit_test(ah_tunnel_inner_global),
		cmocka_unit_test(port_lease_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
