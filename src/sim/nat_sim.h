/*
 * The NAT engine (nat/nat.h) as a simulator NAT engine (sim/engine.h): a NAT router of the
 * simulator runs exactly the code spinatd's gateway role runs, with the router's global
 * addresses as its pool, its private random stream, log, counters and packet pool.
 */
#ifndef SP_SIM_NAT_SIM_H
#define SP_SIM_NAT_SIM_H

#include "nat/nat.h"
#include "sim/engine.h"

struct nat_sim_cfg {
	/* Everything but the pool, which is the router's global addresses (sim_ip_attach_nat's
	 * ext[]); nat_config_defaults() plus a strategy is a complete configuration. */
	struct nat_config nat;
};

extern const struct sim_nat_ops nat_sim_ops;

/* The engine behind a context of nat_sim_ops (sim_ip_nat_ctx()). */
struct nat *nat_sim_engine(void *ctx);

#endif
