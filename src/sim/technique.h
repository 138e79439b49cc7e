/*
 * The technique registry: every way of getting traffic through the NAT that spinat-sim
 * compares is one row of sim_techniques[] (technique.c), implemented in its own file
 * tech_<name>.c with one setup function. A scenario builds its topology, names the roles
 * (NAT routers, clients, VPN gateways) in a struct sim_tech_ctx, and calls the technique's
 * setup, which attaches a NAT engine to the NAT routers and endpoint engines to the
 * clients and gateways. The scenario then runs the same traffic and faults for every
 * technique and fills one table row from the flows and what the engines report
 * (struct sim_ep_report, struct sim_nat_report).
 *
 * Adding a technique: write src/sim/tech_<name>.c defining
 *     const struct sim_technique sim_tech_<name> = { "name", "one line", flags, params, setup };
 * add it to src/sim/meson.build and one line to sim_techniques[] in technique.c.
 */
#ifndef SP_SIM_TECHNIQUE_H
#define SP_SIM_TECHNIQUE_H

#include "nat/nat.h"
#include "sim/engine.h"
#include "sim/param.h"

/* Flags of a technique. */
/* Traffic is IPsec tunnel mode: flows run between each client's own address and the
 * protected server behind the VPN gateway, and the endpoints carry them through tunnels.
 * Without it, flows run between the clients and the gateway's public address and the
 * gateway answers to the address and port the client's packets came from. */
#define SIM_TECH_TUNNEL 0x1

#define SIM_TECH_NATS_MAX 4

struct sim_tech_nat {
	struct sim_node *node;
	unsigned outside_ifi;
	uint32_t ext[SIM_IFACE_ADDRS]; /* its global addresses */
	unsigned next;
};

/* The roles a scenario hands to a technique's setup. */
struct sim_tech_ctx {
	struct sim *sim;
	struct sim_params *params; /* scenario keys and "<technique>.<key>" */
	const struct sim_technique *tech;
	struct sim_tech_nat nats[SIM_TECH_NATS_MAX];
	unsigned nnats;
	struct sim_node **clients; /* IPsec initiators behind the NAT(s) */
	unsigned nclients;
	struct sim_node **gateways; /* VPN gateways (responders) on the Internet */
	unsigned ngateways;
	uint32_t protected_net; /* the network behind the gateways (tunnel mode traffic) */
	uint8_t protected_plen;
	/* Extra lines for each client's IKE [conn] section (client_extra[i] for clients[i]),
	 * or NULL: what a scenario stages, e.g. equal leased SPIs for 003's incoming-SPI
	 * collision. */
	const char *const *client_extra;
	char err[256]; /* setup's explanation when it fails */
};

struct sim_technique {
	const char *name;		/* table row name and --technique word */
	const char *descr;		/* one line for the table's legend */
	unsigned flags;			/* SIM_TECH_* */
	const struct sim_param *params; /* set as <name>.<key>; may be NULL */
	/* Attach engines to the roles. Return 0, or an error with tc->err filled. */
	int (*setup)(struct sim_tech_ctx *tc);
};

/* NULL-terminated, in table order. */
extern const struct sim_technique *const sim_techniques[];
const struct sim_technique *sim_technique_find(const char *name);

/*
 * The configuration of spinat's NAT engine (nat/nat.h) on a NAT router: the [gateway]
 * section spinatd would read (docs/CONFIG.md), made of the scenario's "nat.*" parameters
 * (sim_nat_params: the engine's general keys, spinatd's defaults), "strategy = strategy"
 * and `keys`, more lines of it (a strategy's own keys, "masq_t_out = 1s\n"), or NULL. The
 * pool is a placeholder: the router's global addresses replace it (sim/nat_sim.h). A bad
 * value fails with err naming the key and why.
 */
int sim_tech_nat_config(struct sim_params *ps, const char *strategy, const char *keys,
			struct nat_config *out, char *err, size_t errlen) SP_MUST_CHECK;
/* Attach the NAT engine so configured to every NAT router of tc (tc->err says why not). */
int sim_tech_attach_engine(struct sim_tech_ctx *tc, const char *strategy,
			   const char *keys) SP_MUST_CHECK;
/* Attach ops with cfg to every NAT router of tc. */
int sim_tech_attach_nat(struct sim_tech_ctx *tc, const struct sim_nat_ops *ops,
			const void *cfg) SP_MUST_CHECK;
/* The NAT engine's general keys, declared with prefix "nat" by every scenario. */
extern const struct sim_param sim_nat_params[];

#endif
