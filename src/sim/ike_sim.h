/*
 * The endpoint stack (host/endpoint.h) with IKEv2 as a simulator endpoint engine
 * (sim/engine.h): a host node negotiates its CHILD SAs with IKEv2 over the simulated links,
 * from the same [ike] / [conn NAME] / [ipsec] configuration text spinatd's endpoint role
 * reads, with the same host modules (003's epoch guard). All randomness (SPIs, nonces, DH
 * private keys) comes from the node's private stream, so a seed gives the same run.
 */
#ifndef SP_SIM_IKE_SIM_H
#define SP_SIM_IKE_SIM_H

#include "ike/ike.h"
#include "sim/engine.h"

struct ike_sim_cfg {
	const char *conf; /* configuration text (needs a [conn NAME]); copied */
	/* The simulated heuristic NAT's T_out, N_out and T_ei, checked against the pings of
	 * connections with an epoch guard (003; host/host_guard_ep.h). 0: from the keys. */
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
};

extern const struct sim_ep_ops ike_sim_ops;

/* The IKE instance and IPsec engine behind a context of ike_sim_ops (NULL after a crash
 * until the restart). */
struct ike *ike_sim_ike(void *ctx);
struct ipsec *ike_sim_ipsec(void *ctx);

#endif
