/*
 * The failure cases of 003's Background, each a scenario every technique runs: two clients
 * c1 (10.6.1.2) and c2 (10.6.1.3) behind the NAT (171.69.68.10) with IKEv2 tunnels to the
 * VPN gateway (204.71.200.69), and traffic and CHILD SA rekeys timed so that the case
 * happens to VPN Masquerade:
 *
 *   race1      S uses a rekeyed tunnel before C does (FIG. 1): masq must multicast
 *   race2      C1 and C2 rekey together; C1 sends, then S sends to C2 first (FIG. 2)
 *   race3      C1's outstanding item expires (T_out) before S answers; C2's takes it
 *   race4      both established items expire (T_ei) in a silence; C2 sends first
 *   collision  both clients choose the same incoming SPI
 *
 * The table then says which technique delivers everything to the right client. Every step
 * is in virtual time; race4 sleeps through T_ei (30 min) in a few milliseconds.
 *
 *   c1, c2 --lan-- nat --access-- isp --internet-- gw --corp-- srv
 */
#include "sim/fault.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/scenario.h"
#include "base/addr.h"
#include "ike/ike.h"
#include "sim/ike_sim.h"

#include <stdlib.h>
#include <string.h>

#define RACE_PORT 5001
#define LAN_NET	  SP_IP4(10, 6, 1, 0)
#define LAN_GW	  SP_IP4(10, 6, 1, 1)
#define CORP_NET  SP_IP4(10, 9, 0, 0)
#define CORP_GW	  SP_IP4(10, 9, 0, 1)
#define SRV_ADDR  SP_IP4(10, 9, 0, 10)

/* One step of a race: a flow (client to server or back) or a rekey by a client. */
enum step_kind { UP, DOWN, REKEY, END };

struct step {
	enum step_kind kind;
	unsigned client; /* 0: c1, 1: c2 */
	double at;	 /* seconds */
	double dur;	 /* flows: how long */
};

#define S(k, c, a, d)      \
	{                  \
		k, c, a, d \
	}

/* Both clients talk both ways first, so the NAT holds established state for both. */
#define WARMUP S(UP, 0, 1.0, 1.0), S(DOWN, 0, 1.1, 1.0), S(UP, 1, 1.0, 1.0), S(DOWN, 1, 1.1, 1.0)

static const struct step race1[] = {
	/* c2 talked and went quiet; c1 downloads and acknowledges now and then (2/s). */
	WARMUP,
	S(DOWN, 0, 2.1, 6.0),
	S(UP, 0, 2.05, -6.0), /* negative: 2 packets per second */
	S(REKEY, 0, 3.0, 0),
	S(END, 0, 10.0, 0),
};

static const struct step race2[] = {
	WARMUP,
	S(REKEY, 0, 3.0, 0),
	S(REKEY, 1, 3.1, 0),
	S(UP, 0, 2.2, 4.0),   /* c1 keeps sending: its new SA is used at once */
	S(DOWN, 1, 2.2, 4.0), /* S keeps sending to c2: its new SA too */
	S(UP, 1, 4.0, 2.2),   /* later, c2 sends and S sends to c1 */
	S(DOWN, 0, 4.1, 2.1),
	S(END, 0, 8.0, 0),
};

static const struct step race3[] = {
	WARMUP,
	S(REKEY, 0, 3.0, 0),
	S(UP, 0, 3.2, 0.1),   /* c1 sends a few packets on its new SA... */
	S(REKEY, 1, 13.4, 0), /* ...T_out (10 s) passes, c2 rekeys and sends */
	S(UP, 1, 13.6, 1.4),
	S(DOWN, 0, 14.0, 1.0), /* and only now S answers c1 */
	S(END, 0, 16.0, 0),
};

static const struct step race4[] = {
	WARMUP,
	/* 31 minutes of silence: established items expire (T_ei 30 min), tunnels stay */
	S(UP, 1, 1870.0, 2.0),	 /* c2 sends first */
	S(DOWN, 0, 1870.1, 1.9), /* then S sends to c1 */
	S(UP, 0, 1870.5, 1.5),
	S(DOWN, 1, 1870.6, 1.4),
	S(END, 0, 1873.0, 0),
};

static const struct step collision[] = {
	/* The clients' incoming SPIs are equal (spi_lease below): nothing else is special. */
	WARMUP,
	S(UP, 0, 2.5, 3.0),
	S(DOWN, 0, 2.6, 3.0),
	S(UP, 1, 2.5, 3.0),
	S(DOWN, 1, 2.6, 3.0),
	S(END, 0, 7.0, 0),
};

static const struct sim_param race_params[] = {
	{ "rate", "50", "packets per second of each flow" },
	{ "size", "172", "UDP payload bytes per flow packet" },
	{ "delay", "10ms", "one-way delay of the access link" },
	{ NULL },
};

struct race_world {
	struct sim *sim;
	struct sim_node *nat, *isp, *gw, *srv, *c[2];
	struct sim_link *lan, *access, *internet, *corp;
	struct sim_tech_ctx tc;
};

static int build(struct race_world *w, sp_time access_delay)
{
	struct sim_link_params lanp = { .delay = SP_USEC(100) };
	struct sim_link_params acc = { .delay = access_delay };
	struct sim_link_params inet = { .delay = SP_MSEC(20) };
	struct sim_link_params corp = { .delay = SP_USEC(100) };
	uint32_t nat_addr = SP_IP4(171, 69, 68, 10), gw_addr = SP_IP4(204, 71, 200, 69);
	unsigned out_ifi;
	int r;

	if ((r = sim_link_new(w->sim, "lan", &lanp, &w->lan)) != 0 ||
	    (r = sim_link_new(w->sim, "access", &acc, &w->access)) != 0 ||
	    (r = sim_link_new(w->sim, "internet", &inet, &w->internet)) != 0 ||
	    (r = sim_link_new(w->sim, "corp", &corp, &w->corp)) != 0)
		return r;
	if ((r = sim_router_new(w->sim, "nat", &w->nat)) != 0 ||
	    (r = sim_iface_add(w->nat, "lan0", LAN_GW, 24, w->lan, NULL)) != 0 ||
	    (r = sim_iface_add(w->nat, "wan0", nat_addr, 30, w->access, &out_ifi)) != 0 ||
	    (r = sim_route_add(w->nat, 0, 0, nat_addr ^ 3, -1, 0, 0)) != 0)
		return r;
	if ((r = sim_router_new(w->sim, "isp", &w->isp)) != 0 ||
	    (r = sim_iface_add(w->isp, "cust0", nat_addr ^ 3, 30, w->access, NULL)) != 0 ||
	    (r = sim_iface_add(w->isp, "core0", gw_addr ^ 3, 30, w->internet, NULL)) != 0)
		return r;
	if ((r = sim_router_new(w->sim, "gw", &w->gw)) != 0 ||
	    (r = sim_iface_add(w->gw, "wan0", gw_addr, 30, w->internet, NULL)) != 0 ||
	    (r = sim_iface_add(w->gw, "corp0", CORP_GW, 24, w->corp, NULL)) != 0 ||
	    (r = sim_route_add(w->gw, 0, 0, gw_addr ^ 3, -1, 0, 0)) != 0)
		return r;
	if ((r = sim_host_new(w->sim, "srv", &w->srv)) != 0 ||
	    (r = sim_iface_add(w->srv, "eth0", SRV_ADDR, 24, w->corp, NULL)) != 0 ||
	    (r = sim_route_add(w->srv, 0, 0, CORP_GW, -1, 0, 0)) != 0)
		return r;
	for (unsigned i = 0; i < 2; i++) {
		char name[8];

		snprintf(name, sizeof(name), "c%u", i + 1);
		if ((r = sim_host_new(w->sim, name, &w->c[i])) != 0 ||
		    (r = sim_iface_add(w->c[i], "eth0", LAN_NET + 2 + i, 24, w->lan, NULL)) != 0 ||
		    (r = sim_route_add(w->c[i], 0, 0, LAN_GW, -1, 0, 0)) != 0)
			return r;
	}
	w->tc.sim = w->sim;
	w->tc.nats[0] = (struct sim_tech_nat){
		.node = w->nat, .outside_ifi = out_ifi, .ext = { nat_addr }, .next = 1
	};
	w->tc.nnats = 1;
	w->tc.clients = w->c;
	w->tc.nclients = 2;
	w->tc.gateways = &w->gw;
	w->tc.ngateways = 1;
	w->tc.protected_net = CORP_NET;
	w->tc.protected_plen = 24;
	return 0;
}

static void do_rekey(struct sim *sim, void *arg, uint64_t u)
{
	struct sim_node *c = arg;
	struct ike *ike = ike_sim_ike(sim_ip_ep_ctx(c));

	(void)u;
	if (ike != NULL && ike_rekey(ike, sim_now(sim), "vpn", false) != 0)
		SP_WARN(sim_log(sim), "scn", "%s: rekey refused", c->name);
}

static int add_steps(struct race_world *w, const struct step *steps, uint32_t rate, uint32_t size,
		     bool tunnel, sp_time *end)
{
	uint32_t up_id[2] = { SIM_FLOW_NONE, SIM_FLOW_NONE };
	int r;

	for (const struct step *s = steps;; s++) {
		struct sim_node *c = w->c[s->client];
		sp_time at = (sp_time)(s->at * 1e9);
		double dur = s->dur < 0 ? -s->dur : s->dur;
		uint32_t prate = s->dur < 0 ? 2 : rate;
		char name[SIM_NAME_MAX * 2 + 16];
		struct sim_flow_spec f = {
			.name = name,
			.reply_to = SIM_FLOW_NONE,
			.sport = RACE_PORT,
			.dport = RACE_PORT,
			.size = size,
			.start = at,
			.interval = SP_SEC(1) / prate,
			.count = (uint32_t)(dur * prate),
		};
		uint32_t id;

		switch (s->kind) {
		case END:
			*end = at;
			return 0;
		case REKEY:
			if (tunnel && (r = sim_at(w->sim, at, do_rekey, c, 0)) != 0)
				return r;
			continue;
		case UP:
			snprintf(name, sizeof(name), "%s>%s@%.1f", c->name, tunnel ? "srv" : "gw",
				 s->at);
			f.src = c;
			f.dst = tunnel ? w->srv : w->gw;
			f.dst_addr = sim_node_addr(f.dst);
			break;
		case DOWN:
			snprintf(name, sizeof(name), "%s>%s@%.1f", tunnel ? "srv" : "gw", c->name,
				 s->at);
			f.src = tunnel ? w->srv : w->gw;
			f.dst = c;
			f.dst_addr = tunnel ? sim_node_addr(c) : 0;
			/* without tunnels the gateway answers where c's packets came from */
			f.reply_to = tunnel ? SIM_FLOW_NONE : up_id[s->client];
			if (!tunnel && f.reply_to == SIM_FLOW_NONE)
				continue;
			break;
		}
		if (f.count == 0)
			f.count = 1;
		if ((r = sim_flow_add(w->sim, &f, &id)) != 0)
			return r;
		if (s->kind == UP && up_id[s->client] == SIM_FLOW_NONE)
			up_id[s->client] = id;
	}
}

static const char *const collide_extra[] = {
	"spi = leased\nspi_lease = 0x5000-0x500f\nike_spi_lease = 0x1111111100000001\n"
	"ike_spi_lease = 0x1111111100000002\n",
	"spi = leased\nspi_lease = 0x5000-0x500f\nike_spi_lease = 0x2222222200000001\n"
	"ike_spi_lease = 0x2222222200000002\n",
};

static int run_race(const char *scn, const struct step *steps, bool collide, struct sim_params *ps,
		    const struct sim_technique *t, const struct sim_run_opts *o,
		    struct sim_result *res)
{
	struct race_world w;
	struct sim_scn_sampler smp;
	uint32_t rate, size;
	sp_time delay, end = 0;
	bool tunnel = (t->flags & SIM_TECH_TUNNEL) != 0;
	int r;

	memset(&w, 0, sizeof(w));
	memset(res, 0, sizeof(*res));
	snprintf(res->technique, sizeof(res->technique), "%s", t->name);
	if ((r = sim_params_u32(ps, "rate", 1, 10000, &rate)) != 0 ||
	    (r = sim_params_u32(ps, "size", SIM_FLOW_HDR_LEN, 1400, &size)) != 0 ||
	    (r = sim_params_time(ps, "delay", &delay)) != 0)
		return r;
	if ((r = sim_scn_world(o, scn, t->name, &w.sim)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "cannot create the world: %s", sp_strerror(r));
		return r;
	}
	if ((r = build(&w, delay)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "building the topology: %s", sp_strerror(r));
		goto out;
	}
	w.tc.params = ps;
	w.tc.tech = t;
	/* The collision: both clients lease the same inbound CHILD SPIs (ike/ikev2_spi.c),
	 * each its own IKE SPIs. */
	w.tc.client_extra = collide ? collide_extra : NULL;
	if ((r = t->setup(&w.tc)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "technique %s: %s", t->name,
			 w.tc.err[0] ? w.tc.err : sp_strerror(r));
		goto out;
	}
	if ((r = add_steps(&w, steps, rate, size, tunnel, &end)) != 0) {
		snprintf(ps->err, sizeof(ps->err), "flows: %s", sp_strerror(r));
		goto out;
	}
	smp = (struct sim_scn_sampler){
		.tc = &w.tc, .res = res, .every = SP_MSEC(50), .until = end
	};
	if ((r = sim_scn_sample_nat(&smp)) != 0)
		goto out;
	sim_run_until(w.sim, end);
	sim_scn_collect(&w.tc, res);
	res->access_bytes = sim_link_ctr(w.access, SIM_LINK_CTR_BYTES);
	res->access_data_pkts = sim_link_ctr(w.access, SIM_LINK_CTR_DATA_PKTS);
	if (sim_link_ctr(w.access, SIM_LINK_CTR_DATA_PKTS) > 0)
		res->ovh_per_pkt = ((double)res->access_bytes -
				    (double)sim_link_ctr(w.access, SIM_LINK_CTR_DATA_PKTS) * size) /
				   (double)sim_link_ctr(w.access, SIM_LINK_CTR_DATA_PKTS);
	if (o->verbose && o->out != NULL) {
		fprintf(o->out, "--- %s %s, seed %llu: after %.3fs of virtual time, %llu events\n",
			scn, t->name, (unsigned long long)o->seed, sp_time_sec(sim_now(w.sim)),
			(unsigned long long)res->events);
		sim_scn_dump(w.sim, o->out);
	}
	r = 0;
out:
	sim_free(w.sim);
	return r;
}

#define RACE(id, doc_)                                                                  \
	static int id##_run(struct sim_params *ps, const struct sim_technique *t,       \
			    const struct sim_run_opts *o, struct sim_result *res)       \
	{                                                                               \
		return run_race(#id, id, strcmp(#id, "collision") == 0, ps, t, o, res); \
	}                                                                               \
	const struct sim_scenario sim_scn_##id = {                                      \
		.name = #id,                                                            \
		.descr = doc_,                                                          \
		.doc = RACE_DOC,                                                        \
		.params = race_params,                                                  \
		.runs = 1, /* staged to the millisecond: every seed gives the same */   \
		.run = id##_run,                                                        \
	};

#define RACE_DOC                                                                           \
	"003's failure cases of VPN Masquerade, each staged with two clients c1, c2\n"     \
	"(10.6.1.2, .3) behind the NAT (171.69.68.10) and IKEv2 tunnels to the gateway\n"  \
	"gw (204.71.200.69) guarding srv (10.9.0.10): race1 (S uses a rekeyed tunnel\n"    \
	"first), race2 (simultaneous rekeys, S answers the other client first), race3\n"   \
	"(an outstanding item expires before the answer), race4 (established items\n"      \
	"expire in a silence), collision (equal incoming SPIs). misdeliv counts packets\n" \
	"that reached the wrong client."

RACE(race1, "003 FIG. 1: the server uses a rekeyed tunnel before the client")
RACE(race2, "003 FIG. 2: two clients rekey at once, the server answers the other first")
RACE(race3, "003: an outstanding item expires (T_out) before the server answers")
RACE(race4, "003: established items expire (T_ei) while the tunnels stay")
RACE(collision, "003: two clients choose the same incoming SPI")
