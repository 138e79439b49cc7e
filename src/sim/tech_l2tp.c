/*
 * 004's technique: IPsec inside L2TP/PPP to an LNS. The NAT routers are plain NAPT (the
 * engine's natt strategy, which never sees raw ESP here: only UDP 1701 and 3478); every
 * client runs IKEv2 with the endpoint stack's L2TP client module (host/host_l2tp.h): NAT
 * discovery, then tunnel and PPP session to the LNS, which hands it a fixed address; IKE
 * and raw ESP run from that address inside the session. The LNS runs on the VPN gateway
 * (host/host_lns.h), so FIG. 1's LAN hop costs nothing; the overhead column shows what
 * L2TP adds to every packet (outer IPv4, UDP, L2TP and PPP: 38 octets).
 *
 * Parameters: l2tp.echo (LCP echo interval; three misses take a session down), l2tp.hello,
 * l2tp.retry (the pause before reconnecting): scaled to the simulator's short runs.
 */
#include "sim/technique.h"
#include "base/addr.h"
#include "sim/ike_sim.h"
#include "sim/ipnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSK    "spinat-conference-psk"
#define POOL   SP_IP4(10, 99, 0, 0)
#define SECRET "spinat-l2tp"

static const struct sim_param l2tp_params[] = {
	{ "echo", "1s", "LCP echo interval; 3 unanswered take the session down (004 keepalive)" },
	{ "hello", "2s", "L2TP HELLO after this much silence from the peer (RFC 2661 6.5)" },
	{ "retry", "1s", "pause before a client discovers and connects again after a loss" },
	{ NULL },
};

static const char *param(struct sim_tech_ctx *tc, const char *key, const char *def)
{
	char k[SIM_PARAM_KEYLEN + 16];
	const char *v;

	snprintf(k, sizeof(k), "l2tp.%s", key);
	return (v = sim_params_get(tc->params, k)) != NULL ? v : def;
}

static uint32_t assigned(unsigned i)
{
	return POOL + 10 + i;
}

static int attach_client(struct sim_tech_ctx *tc, unsigned i, uint32_t gw)
{
	struct sim_node *c = tc->clients[i];
	char conf[1536], a[SP_IP4_STRLEN], own[SP_IP4_STRLEN], g[SP_IP4_STRLEN], net[SP_IP4_STRLEN];
	struct ike_sim_cfg cfg = { .conf = conf };
	int r;

	/* IKE and the CHILD SA's outer address are the LNS-assigned one; the flows still
	 * run from the client's own address inside the tunnel. */
	snprintf(conf, sizeof(conf),
		 "[conn vpn]\nlocal = %s\nremote = %s\nauto = start\npsk = " PSK "\n"
		 "local_ts = %s/32\nremote_ts = %s/%u\nencap = no\n%s"
		 "[l2tp]\nlns = %s\nlocal = %s\naddress = %s\nsecret = " SECRET "\n"
		 "user = c%u\npassword = ppp-%u\necho_interval = %s\nhello = %s\nretry = %s\n",
		 sp_ip4_fmt(assigned(i), a), sp_ip4_fmt(gw, g), sp_ip4_fmt(sim_node_addr(c), own),
		 sp_ip4_fmt(tc->protected_net, net), tc->protected_plen,
		 tc->client_extra != NULL && tc->client_extra[i] != NULL ? tc->client_extra[i] : "",
		 g, own, a, i, i, param(tc, "echo", "1s"), param(tc, "hello", "2s"),
		 param(tc, "retry", "1s"));
	if ((r = sim_ip_attach_ep(c, &ike_sim_ops, &cfg)) != 0)
		snprintf(tc->err, sizeof(tc->err), "IKE endpoint on %s: %s", c->name,
			 sp_strerror(r));
	return r;
}

/* The gateway: one IKE connection per client's assigned address, and the LNS. */
static int attach_gateway(struct sim_tech_ctx *tc, struct sim_node *gw)
{
	char g[SP_IP4_STRLEN], net[SP_IP4_STRLEN], a[SP_IP4_STRLEN], own[SP_IP4_STRLEN], *conf;
	size_t cap = 1024 + (size_t)tc->nclients * 640, len = 0;
	struct ike_sim_cfg cfg = { 0 };
	int r;

	if ((conf = malloc(cap)) == NULL)
		return SP_ENOMEM;
	sp_ip4_fmt(sim_node_addr(gw), g);
	len += (size_t)snprintf(conf, cap,
				"[lns]\nlocal = %s\nsecret = " SECRET "\npool = %s/24\n"
				"echo_interval = %s\nhello = %s\n",
				g, sp_ip4_fmt(POOL, net), param(tc, "echo", "1s"),
				param(tc, "hello", "2s"));
	for (unsigned i = 0; i < tc->nclients && len < cap; i++)
		len += (size_t)snprintf(conf + len, cap - len,
					"user = c%u:ppp-%u\nstatic = c%u:%s\n", i, i, i,
					sp_ip4_fmt(assigned(i), a));
	for (unsigned i = 0; i < tc->nclients && len < cap; i++) {
		sp_ip4_fmt(assigned(i), a);
		sp_ip4_fmt(sim_node_addr(tc->clients[i]), own);
		len += (size_t)snprintf(conf + len, cap - len,
					"[conn %s]\nlocal = %s\nremote = %%any\nremote_id = %s\n"
					"psk = " PSK "\nlocal_ts = %s/%u\nremote_ts = %s/32\n"
					"encap = no\n",
					tc->clients[i]->name, g, a,
					sp_ip4_fmt(tc->protected_net, net), tc->protected_plen,
					own);
	}
	if (len >= cap) {
		free(conf);
		return SP_ENOSPACE;
	}
	cfg.conf = conf;
	if ((r = sim_ip_attach_ep(gw, &ike_sim_ops, &cfg)) != 0)
		snprintf(tc->err, sizeof(tc->err), "IKE endpoint with LNS on %s: %s", gw->name,
			 sp_strerror(r));
	free(conf);
	return r;
}

static int l2tp_setup(struct sim_tech_ctx *tc)
{
	int r;

	if (tc->ngateways == 0) {
		snprintf(tc->err, sizeof(tc->err), "the scenario has no VPN gateway");
		return SP_EINVAL;
	}
	if (tc->nclients > 200) {
		snprintf(tc->err, sizeof(tc->err), "at most 200 clients (the pool is a /24)");
		return SP_EINVAL;
	}
	if ((r = sim_tech_attach_engine(tc, "natt", "")) != 0)
		return r;
	for (unsigned i = 0; i < tc->nclients; i++)
		if ((r = attach_client(tc, i, sim_node_addr(tc->gateways[0]))) != 0)
			return r;
	return attach_gateway(tc, tc->gateways[0]);
}

const struct sim_technique sim_tech_l2tp = {
	"l2tp",		 "IKEv2 + raw ESP inside L2TP/PPP to an LNS on the gateway (004)",
	SIM_TECH_TUNNEL, l2tp_params,
	l2tp_setup,
};
