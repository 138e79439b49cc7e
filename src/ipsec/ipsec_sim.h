/*
 * The IPsec engine as a simulator endpoint engine (sim/engine.h): a host or gateway node
 * protects what it sends and unprotects what it receives with the SAs and policies of a
 * manual-keying configuration text, the same [sa]/[policy]/[ipsec] sections spinatd's
 * endpoint role reads (docs/CONFIG.md).
 */
#ifndef SP_IPSEC_IPSEC_SIM_H
#define SP_IPSEC_IPSEC_SIM_H

#include "sim/engine.h"

struct ipsec_sim_cfg {
	const char *conf; /* configuration text; copied */
};

extern const struct sim_ep_ops ipsec_sim_ops;

/* The engine behind a context of ipsec_sim_ops (tests, techniques that drive it). */
struct ipsec *ipsec_sim_engine(void *ctx);

#endif
