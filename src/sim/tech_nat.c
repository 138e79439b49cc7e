/*
 * The techniques that run through spinat's NAT engine (src/nat/, sim/nat_sim.h): the NAT
 * routers run one IPsec strategy, every client runs IKEv2 to the VPN gateway (sim/ike_sim.h)
 * for a tunnel to the protected network, and the gateway answers them all on one
 * connection. One table row per strategy:
 *
 *   natt        ESP in UDP 4500 through plain NAPT (RFC 3947/3948): the baseline
 *   masq        raw ESP through VPN Masquerade's heuristics (003 Background)
 *   masq-guard  the same with 003's epoch guard on the clients (FIGS. 6A/6B)
 *   spihash     raw ESP; the gateway derives its SPIs from the clients' (000) and the NAT
 *               matches them
 *   serial      raw ESP; one originator per responder at a time (000 [0019])
 *   ipaddr      raw ESP through an address-only NAT (Linux conntrack, libalias, pf)
 *   oldest      raw ESP through a router kernel's ESP tracking (oldest unanswered SA)
 *   dnat        002's distributed NAT: clients get ports and SPIs from the router by PAP
 *               and reach it through IP-in-IP tunnels; the router only strips and pushes
 *               tunnel headers, demultiplexing raw ESP by SPI block
 *   lease       raw ESP; the clients lease their IKE SPI and incoming SPIs from the NAT
 *               (001 FIGS. 6-8) over PCP and the NAT translates by lease
 *   lease-ah    the same with AH: the clients compute the ICV as if their address were the
 *               NAT's global one (001 steps 815, 820)
 *
 * A technique's parameters are its strategy's configuration keys without the strategy
 * prefix: --set masq.t_out=5s is masq_t_out = 5s (docs/NAT.md).
 */
#include "sim/technique.h"
#include "base/addr.h"
#include "sim/ike_sim.h"
#include "sim/ipnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSK "spinat-conference-psk"

struct tech_spec {
	const char *strategy;
	bool natt;   /* endpoints may move to UDP 4500 (else encap = no: raw ESP) */
	bool guard;  /* 003's epoch guard on the clients */
	bool derive; /* the gateway derives its SPIs (000) */
	bool dnat;   /* 002: clients run the dnat host module behind a dnat router */
	bool lease;  /* the clients' lease module (001) */
	bool ah;     /* AH instead of ESP */
};

/* The keys of 003's epoch guard among masq-guard's parameters (masq_guard_params). */
static const char *const guard_keys[] = { "maxidle", "pingtime", "pingtries", "epoch_timeout",
					  "elimit",  "server",	 NULL };

static bool is_guard_key(const char *key)
{
	for (unsigned i = 0; guard_keys[i] != NULL; i++)
		if (strcmp(guard_keys[i], key) == 0)
			return true;
	return false;
}

static bool guard_fig7(const struct sim_tech_ctx *tc)
{
	const char *v = sim_params_get(tc->params, "masq-guard.server");

	return v != NULL && strcmp(v, "fig7") == 0;
}

/* The strategy's keys: each of the technique's parameters under its configuration name. */
static void strategy_keys(struct sim_tech_ctx *tc, const struct tech_spec *ts, char *text,
			  size_t cap)
{
	size_t len = 0;

	text[0] = '\0';
	for (const struct sim_param *prm = tc->tech->params; prm != NULL && prm->key != NULL;
	     prm++) {
		char key[SIM_PARAM_KEYLEN + 16];
		const char *v;

		if (is_guard_key(prm->key))
			continue; /* the endpoints' */
		snprintf(key, sizeof(key), "%s.%s", tc->tech->name, prm->key);
		if ((v = sim_params_get(tc->params, key)) == NULL || len >= cap)
			continue;
		len += (size_t)snprintf(text + len, cap - len, "%s_%s = %s\n", ts->strategy,
					prm->key, v);
	}
}

/* The gateway's own address inside the protected network: what the guard pings. */
static uint32_t gw_inside(const struct sim_tech_ctx *tc)
{
	const struct sim_node *gw = tc->gateways[0];

	for (unsigned i = 0; i < gw->nifs; i++)
		if (sp_ip4_in_prefix(gw->ifs[i].addr[0], tc->protected_net, tc->protected_plen))
			return gw->ifs[i].addr[0];
	return tc->protected_net + 1;
}

/* The first NAT router's inside address and prefix: dnat's router and hosts. */
static void dnat_inside(const struct sim_tech_ctx *tc, uint32_t *router, uint32_t *net,
			uint8_t *plen)
{
	const struct sim_node *r = tc->nats[0].node;

	*router = 0;
	*net = 0;
	*plen = 24;
	for (unsigned i = 0; i < r->nifs; i++) {
		if (i == tc->nats[0].outside_ifi)
			continue;
		*router = r->ifs[i].addr[0];
		*plen = r->ifs[i].plen;
		*net = *router & sp_ip4_mask(*plen);
		return;
	}
}

/* The inside address of the NAT router whose inside network holds addr: a lease client's
 * PCP server. */
static uint32_t nat_inside(const struct sim_tech_ctx *tc, uint32_t addr)
{
	for (unsigned i = 0; i < tc->nnats; i++) {
		const struct sim_node *n = tc->nats[i].node;

		for (unsigned j = 0; j < n->nifs; j++)
			if (j != tc->nats[i].outside_ifi &&
			    sp_ip4_in_prefix(addr, n->ifs[j].addr[0], n->ifs[j].plen))
				return n->ifs[j].addr[0];
	}
	return 0;
}

static int attach_client(struct sim_tech_ctx *tc, const struct tech_spec *ts, unsigned i,
			 uint32_t gw)
{
	struct sim_node *c = tc->clients[i];
	const char *extra =
		tc->client_extra != NULL && tc->client_extra[i] != NULL ? tc->client_extra[i] : "";
	char conf[1024], a[SP_IP4_STRLEN], g[SP_IP4_STRLEN], net[SP_IP4_STRLEN], guard[512] = "";
	char pd[SP_IP4_STRLEN];
	struct ike_sim_cfg cfg = { .conf = conf };
	int r;

	if (ts->guard) {
		const char *t_out = sim_params_get(tc->params, "masq-guard.t_out");
		const char *n_out = sim_params_get(tc->params, "masq-guard.n_out");
		const char *t_ei = sim_params_get(tc->params, "masq-guard.t_ei");

		/* The guard pings the gateway through each new epoch (003 FIG. 6A step 607)
		 * and checks its timing against the NAT's T_out, N_out and T_ei. */
		int n = snprintf(guard, sizeof(guard),
				 "epoch_guard = client\nping_dst = %s\nmasq_t_out = %s\n"
				 "masq_n_out = %s\nmasq_t_ei = %s\n",
				 sp_ip4_fmt(gw_inside(tc), pd), t_out ? t_out : "1s",
				 n_out ? n_out : "5", t_ei ? t_ei : "30m");

		/* 620 against an unmodified gateway; a FIG. 7 one waits for the probe. */
		n += snprintf(guard + n, sizeof(guard) - (size_t)n, "accept_rekey = %s\n",
			      guard_fig7(tc) ? "yes" : "no");
		for (const struct sim_param *gp = tc->tech->params; gp->key != NULL; gp++) {
			char key[SIM_PARAM_KEYLEN + 16];
			const char *v;

			if (!is_guard_key(gp->key) || strcmp(gp->key, "server") == 0)
				continue;
			snprintf(key, sizeof(key), "%s.%s", tc->tech->name, gp->key);
			v = sim_params_get(tc->params, key);
			n += snprintf(guard + n, sizeof(guard) - (size_t)n, "%s = %s\n", gp->key,
				      v != NULL ? v : gp->def);
		}
	}
	if (ts->lease) {
		const char *life = sim_params_get(tc->params, "lease.lifetime");
		char ns[SP_IP4_STRLEN];

		/* 001: leases from the NAT the client sits behind, over PCP to its address. */
		snprintf(guard, sizeof(guard),
			 "lease = yes\nlease_server = %s\nlease_lifetime = %s\n",
			 sp_ip4_fmt(nat_inside(tc, sim_node_addr(c)), ns), life ? life : "10s");
	}
	if (ts->dnat) {
		char glob[SP_IP4_STRLEN], rt[SP_IP4_STRLEN], lan[SP_IP4_STRLEN];
		uint32_t router, net_lan;
		uint8_t plen;

		/* 002: IKE speaks from the router's global address with the client's own
		 * address as its identity; the [dnat] module does PAP and the tunnel. */
		dnat_inside(tc, &router, &net_lan, &plen);
		sp_ip4_fmt(sim_node_addr(c), a);
		snprintf(conf, sizeof(conf),
			 "[conn vpn]\nlocal = %s\nlocal_id = %s\nremote = %s\nauto = start\n"
			 "psk = " PSK "\nlocal_ts = %s/32\nremote_ts = %s/%u\nencap = no\n%s"
			 "[dnat]\nself = %s\nrouter = %s\nglobal = %s\ninside = %s/%u\n",
			 sp_ip4_fmt(tc->nats[0].ext[0], glob), a, sp_ip4_fmt(gw, g), a,
			 sp_ip4_fmt(tc->protected_net, net), tc->protected_plen, extra, a,
			 sp_ip4_fmt(router, rt), glob, sp_ip4_fmt(net_lan, lan), plen);
	} else {
		snprintf(conf, sizeof(conf),
			 "[conn vpn]\nlocal = %s\nremote = %s\nauto = start\npsk = " PSK "\n"
			 "local_ts = %s/32\nremote_ts = %s/%u\nencap = %s\nproto = %s\n%s%s",
			 sp_ip4_fmt(sim_node_addr(c), a), sp_ip4_fmt(gw, g), a,
			 sp_ip4_fmt(tc->protected_net, net), tc->protected_plen,
			 ts->natt ? "auto" : "no", ts->ah ? "ah" : "esp", guard, extra);
	}
	if ((r = sim_ip_attach_ep(c, &ike_sim_ops, &cfg)) != 0)
		snprintf(tc->err, sizeof(tc->err), "IKE endpoint on %s: %s", c->name,
			 sp_strerror(r));
	return r;
}

/* One connection per client, chosen by its identity (its address), so each client's
 * CHILD SA carries exactly its own traffic selector. */
static int attach_gateway(struct sim_tech_ctx *tc, const struct tech_spec *ts, struct sim_node *gw)
{
	char g[SP_IP4_STRLEN], net[SP_IP4_STRLEN], derive[128] = "", *conf;
	size_t cap = 512 + (size_t)tc->nclients * 512, len = 0;
	struct ike_sim_cfg cfg = { 0 };
	int r;

	if ((conf = malloc(cap)) == NULL)
		return SP_ENOMEM;
	if (ts->derive) {
		const char *scheme = sim_params_get(tc->params, "spihash.scheme");

		/* 000 [0048]-[0049]: the responder's SPI from the originator's, by the scheme
		 * the NAT knows. */
		snprintf(derive, sizeof(derive), "spi = derived\nspihash = %s\n",
			 scheme ? scheme : "md5");
	}
	if (ts->guard && guard_fig7(tc)) {
		char pd[SP_IP4_STRLEN];

		/* FIG. 7: a new epoch is used once the client's probe has come through it. */
		snprintf(derive, sizeof(derive), "epoch_guard = server\nping_dst = %s\n",
			 sp_ip4_fmt(gw_inside(tc), pd));
	}
	conf[0] = 0;
	for (unsigned i = 0; i < tc->nclients; i++) {
		char c[SP_IP4_STRLEN];

		sp_ip4_fmt(sim_node_addr(tc->clients[i]), c);
		len += (size_t)snprintf(conf + len, cap - len,
					"[conn %s]\nlocal = %s\nremote = %%any\nremote_id = %s\n"
					"psk = " PSK "\nlocal_ts = %s/%u\nremote_ts = %s/32\n"
					"encap = %s\nproto = %s\n%s",
					tc->clients[i]->name, sp_ip4_fmt(sim_node_addr(gw), g), c,
					sp_ip4_fmt(tc->protected_net, net), tc->protected_plen, c,
					ts->natt ? "auto" : "no", ts->ah ? "ah" : "esp", derive);
		if (len >= cap) {
			free(conf);
			return SP_ENOSPACE;
		}
	}
	cfg.conf = conf;
	if ((r = sim_ip_attach_ep(gw, &ike_sim_ops, &cfg)) != 0)
		snprintf(tc->err, sizeof(tc->err), "IKE endpoint on %s: %s", gw->name,
			 sp_strerror(r));
	free(conf);
	return r;
}

static int setup(struct sim_tech_ctx *tc, const struct tech_spec *ts)
{
	char keys[1024];
	int r;

	if (tc->ngateways == 0) {
		snprintf(tc->err, sizeof(tc->err), "the scenario has no VPN gateway");
		return SP_EINVAL;
	}
	strategy_keys(tc, ts, keys, sizeof(keys));
	if (ts->dnat) {
		char rt[SP_IP4_STRLEN], lan[SP_IP4_STRLEN];
		size_t len = strlen(keys);
		uint32_t router, net;
		uint8_t plen;

		if (tc->nnats != 1) {
			snprintf(tc->err, sizeof(tc->err),
				 "dnat runs one router (the scenario has %u)", tc->nnats);
			return SP_EINVAL;
		}
		dnat_inside(tc, &router, &net, &plen);
		snprintf(keys + len, sizeof(keys) - len, "dnat_router = %s\ndnat_hosts = %s/%u\n",
			 sp_ip4_fmt(router, rt), sp_ip4_fmt(net, lan), plen);
	}
	if ((r = sim_tech_attach_engine(tc, ts->strategy, keys)) != 0)
		return r;
	for (unsigned i = 0; i < tc->nclients; i++)
		if ((r = attach_client(tc, ts, i, sim_node_addr(tc->gateways[0]))) != 0)
			return r;
	for (unsigned i = 0; i < tc->ngateways; i++)
		if ((r = attach_gateway(tc, ts, tc->gateways[i])) != 0)
			return r;
	return 0;
}

#define TECH(id, sname, natt_, guard_, derive_, dnat_)                                       \
	static int id##_setup(struct sim_tech_ctx *tc)                                       \
	{                                                                                    \
		static const struct tech_spec ts = { sname, natt_, guard_, derive_, dnat_ }; \
		return setup(tc, &ts);                                                       \
	}

/* T_out 1 s (the daemon's default is 10 s): the simulator's runs last seconds, and masq
 * and masq-guard run the same NAT. */
static const struct sim_param masq_params[] = {
	{ "t_out", "1s", "outstanding ESP items expire this long after creation (003 T_out)" },
	{ "n_out", "5",
	  "packets an outstanding item's owner may send after blocking another (003 N_out)" },
	{ "t_ei", "30m", "established ESP items expire after this inactivity (003 T_ei)" },
	{ NULL },
};
/*
 * The same NAT, and 003's epoch guard on the clients (docs/HOST.md) scaled to the
 * simulator's short runs: with T_out 1 s and N_out 5, pingtime 300 ms >= T_out / N_out and
 * 0.3 s * 7 / 1 s = 2.1 > N = 2; maxidle 1 s notices a silent tunnel within the run.
 * server = fig7 guards the gateway too (FIG. 7); fig8 leaves it unmodified (FIG. 8).
 */
static const struct sim_param masq_guard_params[] = {
	{ "t_out", "1s", "outstanding ESP items expire this long after creation (003 T_out)" },
	{ "n_out", "5",
	  "packets an outstanding item's owner may send after blocking another (003 N_out)" },
	{ "t_ei", "30m", "established ESP items expire after this inactivity (003 T_ei)" },
	{ "maxidle", "1s", "silence on a tunnel before a keepalive ping (003 step 621)" },
	{ "pingtime", "300ms", "wait for a ping's answer (003 PINGTIME)" },
	{ "pingtries", "7", "ping retries before a rekey (003 PINGTRIES)" },
	{ "epoch_timeout", "2s", "a new epoch's negotiation timeout (003 TIMEOUT)" },
	{ "elimit", "2", "failed negotiations before a new IKE session (003 ELIMIT)" },
	{ "server", "fig8", "fig8: the gateway unmodified; fig7: guarded too (003 FIG. 7)" },
	{ NULL },
};
static const struct sim_param spihash_params[] = {
	{ "scheme", "md5", "md5, md5-rand, reverse, plus1 or md5-byte9 (000 [0049]-[0061])" },
	{ "timeout", "30m", "SPI rows and associations expire after this inactivity" },
	{ NULL },
};
static const struct sim_param serial_params[] = {
	{ "mode", "hold", "hold or drop the packets of a second originator (000 [0019])" },
	{ "timeout", "10s", "an unanswered originator gives up the responder after this" },
	{ NULL },
};
static const struct sim_param ipaddr_params[] = {
	{ "timeout", "600s", "entry lifetime after the last packet (Linux generic conntrack)" },
	{ NULL },
};
static const struct sim_param dnat_params[] = {
	{ "iaptt", "yes", "keep FIG. 12's per-use rows (no: FIG. 8's blocks alone)" },
	{ "restart_invalidate", "yes", "invalidate every block after a restart (002)" },
	{ NULL },
};
/* A short lease lifetime (spinatd's default is 600 s): renewed at half of it, which bounds
 * the recovery after the NAT's crash within the simulator's runs. */
static const struct sim_param lease_params[] = {
	{ "lifetime", "10s", "lifetime the clients ask for; renewed at half of it (001 806-807)" },
	{ NULL },
};
static const struct sim_param oldest_params[] = {
	{ "unanswered_timeout", "60s", "unanswered outbound SAs live this long" },
	{ "answered_timeout", "3600s", "answered SAs live this long after the last packet" },
	{ NULL },
};

TECH(natt, "natt", true, false, false, false)
TECH(masq, "masq", false, false, false, false)
TECH(masq_guard, "masq", false, true, false, false)
TECH(spihash, "spihash", false, false, true, false)
TECH(serial, "serial", false, false, false, false)
TECH(ipaddr, "ipaddr", false, false, false, false)
TECH(oldest, "oldest", false, false, false, false)
TECH(dnat, "dnat", false, false, false, true)

#define TECH_LEASE(id, ah_)                                               \
	static int id##_setup(struct sim_tech_ctx *tc)                    \
	{                                                                 \
		static const struct tech_spec ts = { .strategy = "lease", \
						     .lease = true,       \
						     .ah = ah_ };         \
		return setup(tc, &ts);                                    \
	}
TECH_LEASE(lease, false)
TECH_LEASE(lease_ah, true)

const struct sim_technique sim_tech_natt = {
	"natt",		 "IKEv2 + ESP in UDP 4500 through the engine's NAPT (RFC 3947/3948)",
	SIM_TECH_TUNNEL, NULL,
	natt_setup,
};
const struct sim_technique sim_tech_masq = {
	"masq",		 "IKEv2 + raw ESP through VPN Masquerade's heuristics (003)",
	SIM_TECH_TUNNEL, masq_params,
	masq_setup,
};
const struct sim_technique sim_tech_masq_guard = {
	"masq-guard",	  "masq with 003's epoch guard on the clients",
	SIM_TECH_TUNNEL,  masq_guard_params,
	masq_guard_setup,
};
const struct sim_technique sim_tech_spihash = {
	"spihash",	 "IKEv2 + raw ESP; gateway SPIs derived, NAT matches them (000)",
	SIM_TECH_TUNNEL, spihash_params,
	spihash_setup,
};
const struct sim_technique sim_tech_serial = {
	"serial",	 "IKEv2 + raw ESP; one originator per responder at a time (000 [0019])",
	SIM_TECH_TUNNEL, serial_params,
	serial_setup,
};
const struct sim_technique sim_tech_ipaddr = {
	"ipaddr",	 "IKEv2 + raw ESP through an address-only NAT (Linux, libalias, pf)",
	SIM_TECH_TUNNEL, ipaddr_params,
	ipaddr_setup,
};
const struct sim_technique sim_tech_oldest = {
	"oldest",	 "IKEv2 + raw ESP through router ESP tracking (oldest unanswered SA)",
	SIM_TECH_TUNNEL, oldest_params,
	oldest_setup,
};
const struct sim_technique sim_tech_dnat = {
	"dnat",
	"IKEv2 + raw ESP; PAP ports/SPIs, IP-in-IP to a router that translates nothing (002)",
	SIM_TECH_TUNNEL,
	dnat_params,
	dnat_setup,
};
const struct sim_technique sim_tech_lease = {
	"lease",	 "IKEv2 + raw ESP; SPIs leased from the NAT over PCP (001)",
	SIM_TECH_TUNNEL, lease_params,
	lease_setup,
};
const struct sim_technique sim_tech_lease_ah = {
	"lease-ah",	 "IKEv2 + AH; SPIs leased, ICV as if from the global address (001)",
	SIM_TECH_TUNNEL, lease_params,
	lease_ah_setup,
};
