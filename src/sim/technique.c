/* The technique table. One line per technique; each lives in its tech_<name>.c. */
#include "sim/technique.h"
#include "sim/ipnode.h"
#include "sim/nat_basic.h"

#include <string.h>

extern const struct sim_technique sim_tech_plain;
/* tech_nat.c: the NAT engine's strategies */
extern const struct sim_technique sim_tech_natt, sim_tech_masq, sim_tech_masq_guard,
	sim_tech_spihash, sim_tech_serial, sim_tech_ipaddr, sim_tech_oldest;

const struct sim_technique *const sim_techniques[] = {
	&sim_tech_plain,      &sim_tech_natt,	 &sim_tech_masq,
	&sim_tech_masq_guard, &sim_tech_spihash, &sim_tech_serial,
	&sim_tech_ipaddr,     &sim_tech_oldest,	 NULL,
};

const struct sim_technique *sim_technique_find(const char *name)
{
	for (unsigned i = 0; sim_techniques[i] != NULL; i++)
		if (strcmp(sim_techniques[i]->name, name) == 0)
			return sim_techniques[i];
	return NULL;
}

int sim_tech_attach_nat(struct sim_tech_ctx *tc, const struct sim_nat_ops *ops, const void *cfg)
{
	int r;

	for (unsigned i = 0; i < tc->nnats; i++) {
		struct sim_tech_nat *tn = &tc->nats[i];

		if ((r = sim_ip_attach_nat(tn->node, ops, cfg, tn->outside_ifi, tn->ext,
					   tn->next)) != 0) {
			snprintf(tc->err, sizeof(tc->err), "NAT engine %s on %s: %s", ops->name,
				 tn->node->name, sp_strerror(r));
			return r;
		}
	}
	return 0;
}

const struct sim_param sim_nat_basic_params[] = {
	{ "udp_timeout", "120s", "address-only NAT: idle UDP mapping lifetime" },
	{ "tcp_timeout", "7440s", "address-only NAT: idle TCP mapping lifetime" },
	{ "icmp_timeout", "60s", "address-only NAT: idle ICMP echo mapping lifetime" },
	{ "other_timeout", "600s", "address-only NAT: idle ESP/AH/other entry lifetime" },
	{ "max_entries", "16384", "address-only NAT: table size" },
	{ "port_preserve", "yes", "address-only NAT: keep the inside port when it is free" },
	{ NULL },
};

int sim_tech_attach_nat_basic(struct sim_tech_ctx *tc)
{
	struct sim_nat_basic_cfg cfg = { 0 };
	struct sim_params *ps = tc->params;
	bool preserve;
	int r;

	if ((r = sim_params_time(ps, "nat.udp_timeout", &cfg.udp_timeout)) != 0 ||
	    (r = sim_params_time(ps, "nat.tcp_timeout", &cfg.tcp_timeout)) != 0 ||
	    (r = sim_params_time(ps, "nat.icmp_timeout", &cfg.icmp_timeout)) != 0 ||
	    (r = sim_params_time(ps, "nat.other_timeout", &cfg.other_timeout)) != 0 ||
	    (r = sim_params_u32(ps, "nat.max_entries", 1, 1u << 24, &cfg.max_entries)) != 0 ||
	    (r = sim_params_bool(ps, "nat.port_preserve", &preserve)) != 0) {
		snprintf(tc->err, sizeof(tc->err), "%.250s", ps->err);
		return r;
	}
	cfg.no_port_preserve = !preserve;
	return sim_tech_attach_nat(tc, &sim_nat_basic_ops, &cfg);
}
