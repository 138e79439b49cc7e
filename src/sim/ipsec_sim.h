/*
 * The endpoint stack (host/endpoint.h) as a simulator endpoint engine (sim/engine.h), with
 * manual keys: a host or gateway node protects what it sends and unprotects what it
 * receives with the SAs and policies of a configuration text, the same [sa]/[policy]/
 * [ipsec] sections spinatd's endpoint role reads (docs/CONFIG.md). The same adapter with
 * IKE is sim/ike_sim.h; both are in sim/endpoint_sim.c.
 */
#ifndef SP_SIM_IPSEC_SIM_H
#define SP_SIM_IPSEC_SIM_H

#include "ipsec/ipsec.h"
#include "sim/engine.h"

struct ipsec_sim_cfg {
	const char *conf; /* configuration text; copied */
};

extern const struct sim_ep_ops ipsec_sim_ops;

/* The engine behind a context of ipsec_sim_ops or ike_sim_ops (NULL after a crash until
 * the restart). */
struct ipsec *ipsec_sim_engine(void *ctx);

#endif
