/*
 * The engine's configuration keys (docs/CONFIG.md, [gateway]) and their defaults: the
 * RFCs' minimum timeouts and the documents' parameters.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t nat_config_max_hosts(const struct nat_config *c)
{
	uint32_t h = c->max_hosts;

	/* A host record is 32 bytes: one per 4 entries is 8 bytes an entry, and a table
	 * full of hosts holding 4 entries each (a VPN client's IKE item, IKE peer entry,
	 * ESP item and one mapping). Small tables keep one record per entry. */
	if (h == 0)
		h = SP_MAX(c->max_entries / 4, SP_MIN(c->max_entries, 1024u));
	return SP_MIN(h, c->max_entries);
}

void nat_config_defaults(struct nat_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port_min = 1024;
	c->port_max = 65535;
	c->max_entries = 262144;
	c->t_udp = SP_SEC(300);	      /* RFC 4787 REQ-5: >= 2 min, 5 min recommended */
	c->t_tcp_est = SP_SEC(7440);  /* RFC 5382 REQ-5: >= 2 h 4 min */
	c->t_tcp_trans = SP_SEC(240); /* RFC 5382 REQ-5: >= 4 min */
	c->t_icmp = SP_SEC(60);	      /* RFC 5508 REQ-1: >= 60 s */
	c->t_frag = SP_SEC(2);	      /* the fragments of a datagram travel together */
	c->ike_mode = NAT_IKE_COOKIES;
	c->t_ike_out = SP_SEC(10);   /* as masq's T_out */
	c->t_ike_est = SP_SEC(1800); /* as masq's T_ei */
	c->t_ike_recent = SP_SEC(300);
	c->full_mode = NAT_FULL_DROP;
	/* RFC 6888 leaves the numbers to the operator. 4096 ports per protocol lets a host
	 * run hundreds of flows and leaves a single address's 64 k ports to at least 15 such
	 * hosts; 64 IKE entries are 32 servers at once; 64 fragment entries are 64
	 * datagrams in reassembly at once. */
	c->host_max_ports = 4096;
	c->host_max_entries = 16384;
	c->host_max_ike = 64;
	c->host_max_frags = 64;
	/* 256 ESP/AH items are 256 outbound SAs at once, rekeys included; RFC 1812 4.3.2.8
	 * asks for ICMP errors to be rate-limited and gives no number: 10 a second tells a
	 * host that its packets are refused without answering a flood packet for packet. */
	c->host_max_esp = 256;
	c->host_unreach_rate = 10;
	c->strategy = nat_strategy_find("masq");
	if (c->strategy != NULL)
		c->strategy->defaults(c->sparams);
}

int nat_config_add_pool(struct nat_config *c, uint32_t addr)
{
	unsigned i;

	if (c->npool >= NAT_POOL_MAX || addr == 0)
		return SP_EINVAL;
	for (i = 0; i < c->npool && c->pool[i] < addr; i++)
		;
	if (i < c->npool && c->pool[i] == addr)
		return SP_EEXIST;
	memmove(&c->pool[i + 1], &c->pool[i], (c->npool - i) * sizeof(c->pool[0]));
	c->pool[i] = addr;
	c->npool++;
	return 0;
}

int nat_config_set_strategy(struct nat_config *c, const char *name)
{
	const struct nat_strategy *s = nat_strategy_find(name);

	if (s == NULL)
		return SP_ENOTFOUND;
	c->strategy = s;
	memset(c->sparams, 0, sizeof(c->sparams));
	s->defaults(c->sparams);
	return 0;
}

/* "a.b.c.d" or "a.b.c.d/len": every host address of the prefix. */
static int read_pool(struct nat_config *c, struct conf_sec *s)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "pool", kv)) != NULL) {
		uint32_t net, first, last;
		uint8_t len;

		if (sp_ip4_prefix_parse(kv->val, &net, &len, true) != 0)
			return conf_fail(
				s, "line %u: pool: expected an address or a prefix a.b.c.d/len",
				kv->line);
		first = net;
		last = net | ~sp_ip4_mask(len);
		if (len <= 30) { /* skip network and broadcast addresses */
			first++;
			last--;
		}
		if ((uint64_t)last - first + 1 + c->npool > NAT_POOL_MAX)
			return conf_fail(s, "line %u: pool: more than %u global addresses",
					 kv->line, NAT_POOL_MAX);
		for (uint64_t a = first; a <= last; a++)
			if (nat_config_add_pool(c, (uint32_t)a) != 0)
				return conf_fail(s, "line %u: pool: address repeated", kv->line);
	}
	if (c->npool == 0)
		return conf_fail(s, "pool: at least one global address is required");
	return 0;
}

static int read_ports(struct nat_config *c, struct conf_sec *s)
{
	const char *v;
	unsigned lo, hi;
	char tail;
	int r;

	if ((r = conf_get_str(s, "ports", "1024-65535", &v)) != 0)
		return r;
	if (sscanf(v, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535)
		return conf_fail(s, "ports: expected LOW-HIGH within 1-65535, got '%s'", v);
	c->port_min = (uint16_t)lo;
	c->port_max = (uint16_t)hi;
	return 0;
}

int nat_conf_time(struct conf_sec *s, const char *key, sp_time def, sp_time *out)
{
	int r;

	if ((r = conf_get_time(s, key, def, out)) != 0)
		return r;
	if (*out > NAT_EXPIRE_MAX)
		return conf_fail(s,
				 "%s: above the maximum of %llu s (the table keeps expiries "
				 "to the millisecond in 32 bits)",
				 key, (unsigned long long)(NAT_EXPIRE_MAX / SP_SEC(1)));
	return 0;
}

/* A timeout with an RFC minimum: shorter values are refused with the RFC named. */
static int read_timeout(struct conf_sec *s, const char *key, sp_time def, sp_time min,
			const char *why, sp_time *out)
{
	int r;

	if ((r = nat_conf_time(s, key, def, out)) != 0)
		return r;
	if (*out < min)
		return conf_fail(s, "%s: below the minimum of %llu s (%s)", key,
				 (unsigned long long)(min / SP_SEC(1)), why);
	return 0;
}

int nat_config_read(struct nat_config *c, struct conf_sec *s)
{
	static const char *const ike_names[] = { "cookies", "napt", NULL };
	static const char *const full_names[] = { "drop", "evict", NULL };
	const char *sname;
	uint64_t max;
	int r, v;

	nat_config_defaults(c);
	if ((r = read_pool(c, s)) != 0 || (r = read_ports(c, s)) != 0)
		return r;
	if ((r = conf_get_size(s, "max_mappings", c->max_entries, &max)) != 0)
		return r;
	if (max < 16 || max > (1u << 30))
		return conf_fail(s, "max_mappings: between 16 and 1G");
	c->max_entries = (uint32_t)max;
	if ((r = read_timeout(s, "timeout_udp", c->t_udp, SP_SEC(120), "RFC 4787 REQ-5",
			      &c->t_udp)) != 0 ||
	    (r = read_timeout(s, "timeout_tcp_established", c->t_tcp_est, SP_SEC(7440),
			      "RFC 5382 REQ-5", &c->t_tcp_est)) != 0 ||
	    (r = read_timeout(s, "timeout_tcp_transitory", c->t_tcp_trans, SP_SEC(240),
			      "RFC 5382 REQ-5", &c->t_tcp_trans)) != 0 ||
	    (r = read_timeout(s, "timeout_icmp", c->t_icmp, SP_SEC(60), "RFC 5508 REQ-1",
			      &c->t_icmp)) != 0 ||
	    (r = read_timeout(s, "timeout_fragment", c->t_frag, SP_MSEC(100), "sanity",
			      &c->t_frag)) != 0 ||
	    (r = read_timeout(s, "ike_timeout_outstanding", c->t_ike_out, SP_SEC(1), "sanity",
			      &c->t_ike_out)) != 0 ||
	    (r = read_timeout(s, "ike_timeout_established", c->t_ike_est, SP_SEC(1), "sanity",
			      &c->t_ike_est)) != 0 ||
	    (r = read_timeout(s, "ike_recent", c->t_ike_recent, SP_SEC(1), "sanity",
			      &c->t_ike_recent)) != 0)
		return r;
	if ((r = conf_get_enum(s, "ike", ike_names, NAT_IKE_COOKIES, &v)) != 0)
		return r;
	c->ike_mode = (enum nat_ike_mode)v;
	if ((r = conf_get_enum(s, "table_full", full_names, NAT_FULL_DROP, &v)) != 0)
		return r;
	c->full_mode = (enum nat_full_mode)v;
	if ((r = conf_get_u32(s, "host_max_ports", c->host_max_ports, 1, 65535,
			      &c->host_max_ports)) != 0 ||
	    (r = conf_get_u32(s, "host_max_entries", c->host_max_entries, 1, 1u << 30,
			      &c->host_max_entries)) != 0 ||
	    (r = conf_get_u32(s, "host_max_ike", c->host_max_ike, 2, 65535, &c->host_max_ike)) !=
		    0 ||
	    (r = conf_get_u32(s, "host_max_fragments", c->host_max_frags, 1, 65535,
			      &c->host_max_frags)) != 0 ||
	    (r = conf_get_u32(s, "host_max_esp", c->host_max_esp, 1, 65535, &c->host_max_esp)) !=
		    0 ||
	    (r = conf_get_u32(s, "host_unreachable_rate", c->host_unreach_rate, 0, 65535,
			      &c->host_unreach_rate)) != 0 ||
	    (r = conf_get_u32(s, "max_hosts", c->max_hosts, 0, 1u << 30, &c->max_hosts)) != 0)
		return r;
	if ((r = conf_get_str(s, "strategy", "masq", &sname)) != 0)
		return r;
	if (nat_config_set_strategy(c, sname) != 0) {
		char list[160] = "";

		for (unsigned i = 0; nat_strategies[i] != NULL; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, nat_strategies[i]->name, sizeof(list) - strlen(list) - 1);
		}
		return conf_fail(s, "strategy: unknown '%s' (one of %s)", sname, list);
	}
	/* Every strategy reads its keys, so a key for another strategy is still checked;
	 * only the chosen one's values are kept. */
	for (unsigned i = 0; nat_strategies[i] != NULL; i++) {
		const struct nat_strategy *st = nat_strategies[i];
		_Alignas(8) uint8_t scratch[NAT_SPARAMS_SIZE];
		void *dst = st == c->strategy ? (void *)c->sparams : (void *)scratch;

		memset(scratch, 0, sizeof(scratch));
		if (st != c->strategy)
			st->defaults(scratch);
		if ((r = st->conf(s, dst)) != 0)
			return r;
	}
	return 0;
}
