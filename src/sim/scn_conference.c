/*
 * Scenario "conference": the conference centre of 003 FIG. 3. Clients 301-1..N on a local
 * network 302 share one NAT router 303 (NAT 307), whose access link 304 leads to an ISP
 * router 305 and the Internet; the VPN gateway 308 guards the corporate network 309 with a
 * server 310. Every client talks to the gateway at once, both ways, and a fault schedule
 * (by default: the NAT crashes and restarts) tests recovery. Addresses are those of 000
 * FIG. 4 (clients 10.6.1.x, NAT 171.69.68.10, responder 204.71.200.69).
 *
 *   c1..cN --lan-- nat --access-- isp --internet-- gw --corp-- srv
 */
#include "sim/fault.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/scenario.h"
#include "base/addr.h"

#include <stdlib.h>
#include <string.h>

#define CONF_CLIENTS_MAX 250
#define FLOW_PORT	 5001
#define REPLY_DELAY	 SP_MSEC(200) /* gateway flows start after the clients' */

static const struct sim_param conf_params[] = {
	{ "clients", "4", "clients on the LAN behind the NAT (1-250)" },
	{ "start", "1s", "when traffic starts (engines may set up tunnels before)" },
	{ "duration", "20s", "how long every flow sends (covers masq-guard's recovery bound)" },
	{ "drain", "2s", "run on after the flows stop, for late packets and timers" },
	{ "rate", "50", "packets per second of each flow" },
	{ "size", "172", "UDP payload bytes per flow packet (24-1472)" },
	{ "both", "yes", "the gateway side sends flows back to each client too" },
	{ "fault", "crash:nat@5s+1s",
	  "fault schedule (crash:NODE, cut:LINK, unplug:NODE[/IF]), "
	  "none" },
	{ "lan_delay", "100us", "one-way delay on the LAN" },
	{ "access_delay", "5ms", "one-way delay on the access link (304)" },
	{ "access_jitter", "1ms", "jitter on the access link" },
	{ "access_loss", "0", "loss probability on the access link" },
	{ "access_rate", "0", "access link rate in bit/s (0: unlimited)" },
	{ "internet_delay", "20ms", "one-way delay from the ISP to the gateway" },
	{ "nat_addr", "171.69.68.10", "the NAT's global address (000 FIG. 4)" },
	{ "backup", "no", "a second NAT router nat2 on the LAN with its own ISP (003 FIG. 3)" },
	{ "nat2_addr", "198.51.100.10", "the second NAT's global address" },
	{ "gw_addr", "204.71.200.69", "the VPN gateway's address (000 FIG. 4)" },
	{ "pool", "8192", "packet buffers in the simulator" },
	{ NULL },
};

struct conf_prm {
	uint32_t clients, rate, size, pool;
	sp_time start, duration, drain, lan_delay, internet_delay;
	struct sim_link_params access;
	bool both, backup;
	uint32_t nat_addr, gw_addr, nat2_addr;
	struct sim_faults faults;
};

static int conf_read(struct sim_params *ps, struct conf_prm *p)
{
	const char *fault;
	uint64_t rate_bps;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = sim_params_u32(ps, "clients", 1, CONF_CLIENTS_MAX, &p->clients)) != 0 ||
	    (r = sim_params_time(ps, "start", &p->start)) != 0 ||
	    (r = sim_params_time(ps, "duration", &p->duration)) != 0 ||
	    (r = sim_params_time(ps, "drain", &p->drain)) != 0 ||
	    (r = sim_params_u32(ps, "rate", 1, 100000, &p->rate)) != 0 ||
	    (r = sim_params_u32(ps, "size", SIM_FLOW_HDR_LEN, 1472, &p->size)) != 0 ||
	    (r = sim_params_bool(ps, "both", &p->both)) != 0 ||
	    (r = sim_params_time(ps, "lan_delay", &p->lan_delay)) != 0 ||
	    (r = sim_params_time(ps, "access_delay", &p->access.delay)) != 0 ||
	    (r = sim_params_time(ps, "access_jitter", &p->access.jitter)) != 0 ||
	    (r = sim_params_double(ps, "access_loss", 0, 1, &p->access.loss)) != 0 ||
	    (r = sim_params_u64(ps, "access_rate", 0, UINT64_MAX, &rate_bps)) != 0 ||
	    (r = sim_params_time(ps, "internet_delay", &p->internet_delay)) != 0 ||
	    (r = sim_params_ip4(ps, "nat_addr", &p->nat_addr)) != 0 ||
	    (r = sim_params_ip4(ps, "gw_addr", &p->gw_addr)) != 0 ||
	    (r = sim_params_bool(ps, "backup", &p->backup)) != 0 ||
	    (r = sim_params_ip4(ps, "nat2_addr", &p->nat2_addr)) != 0 ||
	    (r = sim_params_u32(ps, "pool", 256, 1u << 20, &p->pool)) != 0 ||
	    (r = sim_params_str(ps, "fault", &fault)) != 0)
		return r;
	p->access.rate_bps = rate_bps;
	if (p->duration == 0 || (uint64_t)p->rate * (p->duration / SP_MSEC(1)) / 1000 == 0) {
		snprintf(ps->err, sizeof(ps->err), "duration and rate leave no packet to send");
		return SP_ECONFIG;
	}
	/* Both ends of a /30 are hosts: the peer is the other one (x ^ 3). */
	if ((p->nat_addr & 3) == 0 || (p->nat_addr & 3) == 3 || (p->gw_addr & 3) == 0 ||
	    (p->gw_addr & 3) == 3 || (p->nat2_addr & 3) == 0 || (p->nat2_addr & 3) == 3) {
		snprintf(ps->err, sizeof(ps->err),
			 "nat_addr, nat2_addr and gw_addr must be host "
			 "addresses of a /30 (.1/.2 mod 4)");
		return SP_ECONFIG;
	}
	if ((r = sim_fault_parse(fault, &p->faults, ps->err, sizeof(ps->err))) != 0)
		return SP_ECONFIG;
	return 0;
}

/* The addresses of the picture. */
#define LAN_NET	 SP_IP4(10, 6, 1, 0)
#define LAN_GW	 SP_IP4(10, 6, 1, 1)
#define CORP_NET SP_IP4(10, 9, 0, 0)
#define CORP_GW	 SP_IP4(10, 9, 0, 1)
#define SRV_ADDR SP_IP4(10, 9, 0, 10)
#define LAN_GW2	 SP_IP4(10, 6, 1, 254)
#define PEER_A	 SP_IP4(192, 0, 2, 1) /* isp on the peering link to isp2 */
#define PEER_B	 SP_IP4(192, 0, 2, 2)

struct conf_world {
	struct sim *sim;
	struct sim_link *lan, *access, *internet, *corp, *access2, *peering;
	struct sim_node *nat, *isp, *gw, *srv, *nat2, *isp2;
	struct sim_node **clients;
	struct sim_tech_ctx tc;
};

/* Router 311 with NAT 312 on the LAN, its access link 314 to ISP 313, which peers with
 * the first ISP so the gateway's answers find their way. */
static int build_backup(struct conf_world *w, const struct conf_prm *p)
{
	struct sim_link_params peer = { .delay = SP_MSEC(2) };
	uint32_t isp2_a = p->nat2_addr ^ 3;
	int r;

	if ((r = sim_link_new(w->sim, "access2", &p->access, &w->access2)) != 0 ||
	    (r = sim_link_new(w->sim, "peering", &peer, &w->peering)) != 0)
		return r;
	if ((r = sim_router_new(w->sim, "nat2", &w->nat2)) != 0 ||
	    (r = sim_iface_add(w->nat2, "lan0", LAN_GW2, 24, w->lan, NULL)) != 0 ||
	    (r = sim_iface_add(w->nat2, "wan0", p->nat2_addr, 30, w->access2, NULL)) != 0 ||
	    (r = sim_route_add(w->nat2, 0, 0, isp2_a, -1, 0, 0)) != 0)
		return r;
	if ((r = sim_router_new(w->sim, "isp2", &w->isp2)) != 0 ||
	    (r = sim_iface_add(w->isp2, "cust0", isp2_a, 30, w->access2, NULL)) != 0 ||
	    (r = sim_iface_add(w->isp2, "peer0", PEER_B, 30, w->peering, NULL)) != 0 ||
	    (r = sim_route_add(w->isp2, 0, 0, PEER_A, -1, 0, 0)) != 0)
		return r;
	if ((r = sim_iface_add(w->isp, "peer0", PEER_A, 30, w->peering, NULL)) != 0 ||
	    (r = sim_route_add(w->isp, p->nat2_addr, 30, PEER_B, -1, 0, 0)) != 0)
		return r;
	return 0;
}

static int build(struct conf_world *w, const struct conf_prm *p)
{
	struct sim_link_params lanp = { .delay = p->lan_delay };
	struct sim_link_params inet = { .delay = p->internet_delay };
	struct sim_link_params corp = { .delay = SP_USEC(100) };
	uint32_t isp_a = p->nat_addr ^ 3, isp_b = p->gw_addr ^ 3;
	unsigned rtflags = p->backup ? SIM_RT_CHECK_NH : 0;
	unsigned out_ifi;
	int r;

	if ((r = sim_link_new(w->sim, "lan", &lanp, &w->lan)) != 0 ||
	    (r = sim_link_new(w->sim, "access", &p->access, &w->access)) != 0 ||
	    (r = sim_link_new(w->sim, "internet", &inet, &w->internet)) != 0 ||
	    (r = sim_link_new(w->sim, "corp", &corp, &w->corp)) != 0)
		return r;
	/* NAT router 303 with NAT 307 */
	if ((r = sim_router_new(w->sim, "nat", &w->nat)) != 0 ||
	    (r = sim_iface_add(w->nat, "lan0", LAN_GW, 24, w->lan, NULL)) != 0 ||
	    (r = sim_iface_add(w->nat, "wan0", p->nat_addr, 30, w->access, &out_ifi)) != 0 ||
	    (r = sim_route_add(w->nat, 0, 0, isp_a, -1, 0, 0)) != 0)
		return r;
	/* ISP 305 and the Internet 306 */
	if ((r = sim_router_new(w->sim, "isp", &w->isp)) != 0 ||
	    (r = sim_iface_add(w->isp, "cust0", isp_a, 30, w->access, NULL)) != 0 ||
	    (r = sim_iface_add(w->isp, "core0", isp_b, 30, w->internet, NULL)) != 0)
		return r;
	/* VPN gateway 308 (forwards into the corporate network 309) and server 310 */
	if ((r = sim_router_new(w->sim, "gw", &w->gw)) != 0 ||
	    (r = sim_iface_add(w->gw, "wan0", p->gw_addr, 30, w->internet, NULL)) != 0 ||
	    (r = sim_iface_add(w->gw, "corp0", CORP_GW, 24, w->corp, NULL)) != 0 ||
	    (r = sim_route_add(w->gw, 0, 0, isp_b, -1, 0, 0)) != 0)
		return r;
	if ((r = sim_host_new(w->sim, "srv", &w->srv)) != 0 ||
	    (r = sim_iface_add(w->srv, "eth0", SRV_ADDR, 24, w->corp, NULL)) != 0 ||
	    (r = sim_route_add(w->srv, 0, 0, CORP_GW, -1, 0, 0)) != 0)
		return r;
	if (p->backup && (r = build_backup(w, p)) != 0)
		return r;
	/* Clients 301-1..N */
	if ((w->clients = calloc(p->clients, sizeof(*w->clients))) == NULL)
		return SP_ENOMEM;
	for (uint32_t i = 0; i < p->clients; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", i + 1);
		if ((r = sim_host_new(w->sim, name, &w->clients[i])) != 0 ||
		    (r = sim_iface_add(w->clients[i], "eth0", LAN_NET + 2 + i, 24, w->lan, NULL)) !=
			    0 ||
		    (r = sim_route_add(w->clients[i], 0, 0, LAN_GW, -1, 1, rtflags)) != 0)
			return r;
		if (p->backup &&
		    (r = sim_route_add(w->clients[i], 0, 0, LAN_GW2, -1, 2, rtflags)) != 0)
			return r;
	}
	w->tc.sim = w->sim;
	w->tc.nats[0] = (struct sim_tech_nat){
		.node = w->nat, .outside_ifi = out_ifi, .ext = { p->nat_addr }, .next = 1
	};
	w->tc.nnats = 1;
	if (p->backup) {
		w->tc.nats[1] = (struct sim_tech_nat){
			.node = w->nat2, .outside_ifi = 1, .ext = { p->nat2_addr }, .next = 1
		};
		w->tc.nnats = 2;
	}
	w->tc.clients = w->clients;
	w->tc.nclients = p->clients;
	w->tc.gateways = &w->gw;
	w->tc.ngateways = 1;
	w->tc.protected_net = CORP_NET;
	w->tc.protected_plen = 24;
	return 0;
}

/* Each client sends to the gateway side and, with both, the gateway side sends back. */
static int add_flows(struct conf_world *w, const struct conf_prm *p, bool tunnel)
{
	struct sp_xoshiro rng;
	sp_time interval = SP_SEC(1) / p->rate;
	uint32_t count = (uint32_t)((uint64_t)p->rate * (p->duration / SP_MSEC(1)) / 1000);
	struct sim_node *peer = tunnel ? w->srv : w->gw;
	uint32_t peer_addr = tunnel ? SRV_ADDR : sim_node_addr(w->gw);
	int r;

	sim_rng_derive(w->sim, "scn:conference", &rng);
	for (uint32_t i = 0; i < p->clients; i++) {
		struct sim_node *c = w->clients[i];
		/* Clients start within one interval of each other: "all at once". */
		sp_time t0 =
			p->start + sp_rng_below(&rng.rng, (uint32_t)SP_MIN(interval, UINT32_MAX));
		char name[SIM_NAME_MAX * 2];
		uint32_t up;
		struct sim_flow_spec f = {
			.name = name,
			.src = c,
			.dst = peer,
			.dst_addr = peer_addr,
			.reply_to = SIM_FLOW_NONE,
			.sport = FLOW_PORT,
			.dport = FLOW_PORT,
			.size = p->size,
			.start = t0,
			.interval = interval,
			.count = count,
		};

		snprintf(name, sizeof(name), "%s>%s", c->name, peer->name);
		if ((r = sim_flow_add(w->sim, &f, &up)) != 0)
			return r;
		if (!p->both)
			continue;
		snprintf(name, sizeof(name), "%s>%s", peer->name, c->name);
		f.src = peer;
		f.dst = c;
		f.start = t0 + REPLY_DELAY;
		if (tunnel) {
			f.dst_addr = sim_node_addr(c);
		} else {
			f.dst_addr = 0;
			f.reply_to = up;
		}
		if ((r = sim_flow_add(w->sim, &f, NULL)) != 0)
			return r;
	}
	return 0;
}

static int conf_run(struct sim_params *ps, const struct sim_technique *t,
		    const struct sim_run_opts *o, struct sim_result *res)
{
	struct conf_world w;
	struct conf_prm p;
	struct sim_scn_sampler smp;
	struct sim_run_opts opts = *o;
	uint64_t data;
	sp_time end;
	int r;

	memset(&w, 0, sizeof(w));
	memset(res, 0, sizeof(*res));
	snprintf(res->technique, sizeof(res->technique), "%s", t->name);
	if ((r = conf_read(ps, &p)) != 0)
		return r;
	if (opts.pool_pkts == 0)
		opts.pool_pkts = p.pool;
	if ((r = sim_scn_world(&opts, "conference", t->name, &w.sim)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "cannot create the world: %s", sp_strerror(r));
		return r;
	}
	if ((r = build(&w, &p)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "building the topology: %s", sp_strerror(r));
		goto out;
	}
	w.tc.params = ps;
	w.tc.tech = t;
	if ((r = t->setup(&w.tc)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "technique %s: %s", t->name,
			 w.tc.err[0] ? w.tc.err : sp_strerror(r));
		goto out;
	}
	if ((r = add_flows(&w, &p, (t->flags & SIM_TECH_TUNNEL) != 0)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "flows: %s", sp_strerror(r));
		goto out;
	}
	if (sim_fault_schedule(w.sim, &p.faults, ps->err, sizeof(ps->err)) != 0) {
		r = SP_ECONFIG; /* a fault naming a node or link the topology lacks */
		goto out;
	}
	res->has_fault = p.faults.n > 0;
	if (res->has_fault) {
		res->repair = sim_fault_repair(&p.faults);
		sim_flows_mark(w.sim, res->repair);
	}
	end = p.start + p.duration + REPLY_DELAY + p.drain;
	for (unsigned i = 0; i < p.faults.n; i++)
		if (p.faults.f[i].at >= end)
			SP_WARN(sim_log(w.sim), "scn",
				"fault on %s at %.3fs is after the run ends (%.3fs)",
				p.faults.f[i].target, sp_time_sec(p.faults.f[i].at),
				sp_time_sec(end));
	smp = (struct sim_scn_sampler){
		.tc = &w.tc, .res = res, .every = SP_MSEC(50), .until = end
	};
	if ((r = sim_scn_sample_nat(&smp)) != 0)
		goto out;
	sim_run_until(w.sim, end);
	sim_scn_collect(&w.tc, res);
	res->access_bytes = sim_link_ctr(w.access, SIM_LINK_CTR_BYTES);
	data = sim_link_ctr(w.access, SIM_LINK_CTR_DATA_PKTS);
	res->access_data_pkts = data;
	/* Everything the access link carried, less the flows' payload, per flow packet. */
	if (data > 0)
		res->ovh_per_pkt =
			((double)res->access_bytes - (double)data * p.size) / (double)data;
	if (o->verbose && o->out != NULL) {
		fprintf(o->out, "--- %s, seed %llu: after %.3fs of virtual time, %llu events\n",
			t->name, (unsigned long long)o->seed, sp_time_sec(sim_now(w.sim)),
			(unsigned long long)res->events);
		sim_scn_dump(w.sim, o->out);
	}
	r = 0;
out:
	sim_free(w.sim);
	free(w.clients);
	return r;
}

const struct sim_scenario sim_scn_conference = {
	.name = "conference",
	.descr = "N clients behind one NAT, all to one VPN gateway (003 FIG. 3)",
	.doc = "The conference centre of 003 FIG. 3 with the addresses of 000 FIG. 4:\n"
	       "clients c1..cN (10.6.1.2..) on the LAN share the NAT router nat\n"
	       "(171.69.68.10); the access link leads to the ISP router isp and on to the\n"
	       "VPN gateway gw (204.71.200.69), which guards the server srv (10.9.0.10).\n"
	       "Every client sends a UDP flow to the gateway side and gets one back; the\n"
	       "fault schedule crashes or cuts something and the table shows who recovers.\n"
	       "With backup=yes a second NAT router nat2 (198.51.100.10) and ISP isp2\n"
	       "join the LAN (routers 311/312/313) and the clients fail over to it.\n"
	       "Links: lan, access, internet, corp (access2, peering). Nodes: c1..cN,\n"
	       "nat, isp, gw, srv (nat2, isp2).",
	.params = conf_params,
	/* Start times, jitter and SPIs decide who wins a race after the crash: judge a
	 * technique over ten runs (about 10 ms each). */
	.runs = 10,
	.run = conf_run,
};
