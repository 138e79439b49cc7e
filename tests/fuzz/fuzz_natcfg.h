/* The NAT the gateway harnesses (fuzz_nat, fuzz_nfq) fuzz: small, so that a fuzzed
 * sequence fills the table (eviction) and reaches each per-host limit (refusals, Host
 * Unreachables) in a few packets. */
#ifndef SP_TESTS_FUZZ_NATCFG_H
#define SP_TESTS_FUZZ_NATCFG_H

#include "nat/nat.h"

static inline void fuzz_nat_small(struct nat_config *c)
{
	c->max_entries = 16;
	c->host_max_ports = 2;
	c->host_max_entries = 6;
	c->host_max_ike = 2;
	c->host_max_frags = 2;
	c->host_max_esp = 2;
}

#endif
