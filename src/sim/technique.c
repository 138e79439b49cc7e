/* The technique table. One line per technique; each lives in its tech_<name>.c. */
#include "sim/technique.h"
#include "sim/ipnode.h"
#include "base/conf.h"
#include "sim/nat_sim.h"

#include <stdio.h>
#include <string.h>

extern const struct sim_technique sim_tech_plain;
/* tech_l2tp.c: 004, IPsec inside L2TP/PPP to an LNS */
extern const struct sim_technique sim_tech_l2tp;
/* tech_nat.c: the NAT engine's strategies */
extern const struct sim_technique sim_tech_natt, sim_tech_masq, sim_tech_masq_guard,
	sim_tech_spihash, sim_tech_serial, sim_tech_ipaddr, sim_tech_oldest, sim_tech_dnat,
	sim_tech_lease, sim_tech_lease_ah;

/* clang-format off */
const struct sim_technique *const sim_techniques[] = {
	&sim_tech_plain,      &sim_tech_natt,	 &sim_tech_masq,
	&sim_tech_masq_guard, &sim_tech_spihash, &sim_tech_serial,
	&sim_tech_ipaddr,     &sim_tech_oldest,	 &sim_tech_dnat,
	&sim_tech_l2tp,	      &sim_tech_lease,	 &sim_tech_lease_ah,
	NULL,
};
/* clang-format on */

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

/*
 * The engine's general keys with spinatd's defaults (nat_config_defaults(); CONFIG.md's
 * [gateway] table). test_sim_nat.c checks that they stay the same.
 */
const struct sim_param sim_nat_params[] = {
	{ "ports", "1024-65535", "ports handed out when the inside port is taken" },
	{ "max_mappings", "262144", "table entries: mappings, IKE and IPsec items" },
	{ "timeout_udp", "5m", "idle UDP mapping lifetime (at least 2m, RFC 4787 REQ-5)" },
	{ "timeout_tcp_established", "7440s",
	  "idle established TCP mapping (at least 2h4m, RFC 5382 REQ-5)" },
	{ "timeout_tcp_transitory", "4m", "TCP mapping opening or closing (RFC 5382 REQ-5)" },
	{ "timeout_icmp", "60s", "ICMP echo mapping (at least 60s, RFC 5508 REQ-1)" },
	{ "timeout_fragment", "2s", "a first fragment's translation waits this for the others" },
	{ "ike", "cookies", "cookies: UDP 500 keeps its port, replies by IKE SPIs (003); napt" },
	{ "ike_timeout_outstanding", "10s", "IKE items awaiting the responder cookie (003 T_out)" },
	{ "ike_timeout_established", "30m", "established IKE items after inactivity (003 T_ei)" },
	{ "ike_recent", "5m", "a client counts as recently running IKE with a server (003)" },
	{ "table_full", "drop", "when the table is full: drop new mappings, or evict" },
	{ "host_max_ports", "4096", "NAPT mappings per inside host and protocol (RFC 6888 REQ-4)" },
	{ "host_max_entries", "16384", "table entries per inside host (RFC 6888 REQ-5)" },
	{ "host_max_ike", "64", "IKE items and IKE peer entries per inside host" },
	{ "host_max_fragments", "64", "inbound fragment entries per inside host" },
	{ NULL },
};

int sim_tech_nat_config(struct sim_params *ps, const char *strategy, const char *keys,
			struct nat_config *out, char *err, size_t errlen)
{
	char text[4096];
	struct conf *conf = NULL;
	size_t len;
	int r;

	len = (size_t)snprintf(text, sizeof(text), "[gateway]\npool = 192.0.2.1\nstrategy = %s\n",
			       strategy);
	for (const struct sim_param *p = sim_nat_params; p->key != NULL && len < sizeof(text);
	     p++) {
		char key[SIM_PARAM_KEYLEN];
		const char *v;

		snprintf(key, sizeof(key), "nat.%s", p->key);
		v = sim_params_get(ps, key);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s = %s\n", p->key,
					v != NULL ? v : p->def);
	}
	if (len < sizeof(text) && keys != NULL)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", keys);
	if (len >= sizeof(text)) {
		snprintf(err, errlen, "NAT engine: configuration longer than %zu bytes",
			 sizeof(text));
		return SP_ENOSPACE;
	}
	if ((r = conf_parse_string(text, "nat", &conf)) != 0 ||
	    (r = nat_config_read(out, conf_find(conf, "gateway", NULL))) != 0 ||
	    (r = conf_check_unused(conf)) != 0)
		snprintf(err, errlen, "NAT engine: %s", conf ? conf_error(conf) : sp_strerror(r));
	conf_free(conf);
	return r;
}

int sim_tech_attach_engine(struct sim_tech_ctx *tc, const char *strategy, const char *keys)
{
	struct nat_sim_cfg cfg;
	int r;

	if ((r = sim_tech_nat_config(tc->params, strategy, keys, &cfg.nat, tc->err,
				     sizeof(tc->err))) != 0)
		return r;
	return sim_tech_attach_nat(tc, &nat_sim_ops, &cfg);
}
