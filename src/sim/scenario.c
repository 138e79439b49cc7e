#include "sim/scenario.h"
#include "sim/ipnode.h"
#include "sim/link.h"

#include <string.h>

extern const struct sim_scenario sim_scn_conference;
/* scn_races.c: 003's race conditions and incoming-SPI collision */
extern const struct sim_scenario sim_scn_race1, sim_scn_race2, sim_scn_race3, sim_scn_race4,
	sim_scn_collision;

const struct sim_scenario *const sim_scenarios[] = {
	&sim_scn_conference, &sim_scn_race1,	 &sim_scn_race2, &sim_scn_race3,
	&sim_scn_race4,	     &sim_scn_collision, NULL,
};

const struct sim_scenario *sim_scenario_find(const char *name)
{
	for (unsigned i = 0; sim_scenarios[i] != NULL; i++)
		if (strcmp(sim_scenarios[i]->name, name) == 0)
			return sim_scenarios[i];
	return NULL;
}

int sim_scenario_params(const struct sim_scenario *scn, struct sim_params *ps)
{
	int r;

	if ((r = sim_params_add(ps, scn->params, NULL)) != 0 ||
	    (r = sim_params_add(ps, sim_nat_params, "nat")) != 0)
		return r;
	for (unsigned i = 0; sim_techniques[i] != NULL; i++)
		if ((r = sim_params_add(ps, sim_techniques[i]->params, sim_techniques[i]->name)) !=
		    0)
			return r;
	return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

#define ROW_FMT "%-10s %7s %7s %9s %8s %7s %5s %9s %7s  %s\n"

void sim_result_header(FILE *f)
{
	fprintf(f, ROW_FMT, "technique", "tunnels", "sent", "delivered", "misdeliv", "dropped",
		"dup", "recovery", "ovh/pkt", "NAT state (peak)");
}

void sim_fmt_nat_state(uint64_t entries, uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 10 * 1024)
		snprintf(buf, len, "%llu entries, %llu B", (unsigned long long)entries,
			 (unsigned long long)bytes);
	else if (bytes < 10 * 1024 * 1024)
		snprintf(buf, len, "%llu entries, %llu KiB", (unsigned long long)entries,
			 (unsigned long long)(bytes / 1024));
	else
		snprintf(buf, len, "%llu entries, %llu MiB", (unsigned long long)entries,
			 (unsigned long long)(bytes / (1024 * 1024)));
}

void sim_fmt_recovery(sp_time t, char *buf, size_t len)
{
	if (t == SP_TIME_NEVER)
		snprintf(buf, len, "never");
	else
		snprintf(buf, len, "%.3fs", sp_time_sec(t));
}

void sim_result_row(FILE *f, const struct sim_result *r)
{
	char tun[24] = "-", sent[24], del[24], mis[24], drop[24], dup[24], rec[24] = "-", ovh[24],
	     nat[64] = "-";
	/* Not delivered = misdelivered (counted in their column) + dropped on the way. */
	uint64_t dropped = r->flows.lost - SP_MIN(r->flows.lost, r->flows.misdelivered);

	if (r->has_tunnels)
		snprintf(tun, sizeof(tun), "%u/%u", r->tunnels_up, r->tunnels_wanted);
	snprintf(sent, sizeof(sent), "%llu", (unsigned long long)r->flows.sent);
	snprintf(del, sizeof(del), "%llu", (unsigned long long)r->flows.delivered);
	snprintf(mis, sizeof(mis), "%llu",
		 (unsigned long long)(r->flows.misdelivered + r->rx_foreign));
	snprintf(drop, sizeof(drop), "%llu", (unsigned long long)dropped);
	snprintf(dup, sizeof(dup), "%llu", (unsigned long long)r->flows.duplicated);
	if (r->has_fault) {
		if (r->flows.flows_after_mark == 0)
			snprintf(rec, sizeof(rec), "n/a"); /* no traffic after the repair */
		else
			sim_fmt_recovery(r->flows.recovered ? r->flows.recovery : SP_TIME_NEVER,
					 rec, sizeof(rec));
	}
	snprintf(ovh, sizeof(ovh), "%.1f", r->ovh_per_pkt);
	if (r->has_nat)
		sim_fmt_nat_state(r->nat_entries_peak, r->nat_bytes_peak, nat, sizeof(nat));
	fprintf(f, ROW_FMT, r->technique, tun, sent, del, mis, drop, dup, rec, ovh, nat);
}

void sim_result_legend(FILE *f)
{
	fprintf(f, "  tunnels    tunnels up / wanted at the end, as the endpoints report them "
		   "(-: no IPsec)\n"
		   "  sent       flow packets sent, both directions\n"
		   "  delivered  reached the node they were meant for (first copy)\n"
		   "  misdeliv   reached another node, or an endpoint that could not use them\n"
		   "  dropped    sent and lost on the way (each drop is named under \"drops\"); "
		   "an ESP\n"
		   "             packet that reached the wrong client is lost to its flow too, "
		   "so it\n"
		   "             counts in misdeliv and dropped: the three can add up to more than "
		   "sent\n"
		   "  dup        delivered more than once\n"
		   "  recovery   from the repair of the last fault to the first delivery on every "
		   "flow\n"
		   "             (never: a flow did not recover; -: no fault;\n"
		   "             n/a: no traffic after the repair)\n"
		   "  ovh/pkt    bytes on the access link per flow packet beyond its payload: "
		   "headers,\n"
		   "             encapsulation and control traffic\n"
		   "  NAT state  translation entries the NAT held at its peak, and their memory\n");
}

/* ---- helpers ------------------------------------------------------------------------ */

int sim_scn_world(const struct sim_run_opts *o, const char *scn, const char *tech, struct sim **out)
{
	struct sim_cfg cfg = {
		.seed = o->seed,
		.pool_pkts = o->pool_pkts,
		.logf = o->logf,
		.log_level = o->log_level,
	};
	char prefix[512];

	if (o->pcap_dir != NULL) {
		if (o->pcap_seed)
			snprintf(prefix, sizeof(prefix), "%s/%s-%s-seed%llu-", o->pcap_dir, scn,
				 tech, (unsigned long long)o->seed);
		else
			snprintf(prefix, sizeof(prefix), "%s/%s-%s-", o->pcap_dir, scn, tech);
		cfg.pcap_prefix = prefix;
	}
	return sim_new(out, &cfg);
}

static void sample_nat(struct sim *sim, void *arg, uint64_t u)
{
	struct sim_scn_sampler *s = arg;
	uint64_t entries = 0, bytes = 0;

	(void)u;
	for (unsigned i = 0; i < s->tc->nnats; i++) {
		struct sim_nat_report r;

		if (sim_ip_nat_report(s->tc->nats[i].node, &r)) {
			entries += r.entries;
			bytes += r.bytes;
		}
	}
	if (entries > s->res->nat_entries_peak)
		s->res->nat_entries_peak = entries;
	if (bytes > s->res->nat_bytes_peak)
		s->res->nat_bytes_peak = bytes;
	if (sim_now(sim) + s->every <= s->until &&
	    sim_at(sim, sim_now(sim) + s->every, sample_nat, s, 0) != 0)
		SP_WARN(sim_log(sim), "scn", "NAT sampling stopped: event queue full");
}

int sim_scn_sample_nat(struct sim_scn_sampler *s)
{
	return sim_at(s->tc->sim, sim_now(s->tc->sim), sample_nat, s, 0);
}

struct drop_acc {
	struct sim_result *res;
	size_t off;
};

static void add_drop(void *arg, const char *inst, const char *mod, const char *name, uint64_t v)
{
	struct drop_acc *a = arg;
	size_t cap = sizeof(a->res->drop_list);
	int n;

	a->res->drops += v;
	if (a->res->ndrops < SIM_RESULT_DROPS) {
		struct sim_drop *d = &a->res->drop[a->res->ndrops++];

		snprintf(d->name, sizeof(d->name), "%s %s.%s", inst, mod, name);
		d->n = v;
	} else {
		a->res->drops_other += v;
	}
	if (a->off >= cap)
		return;
	n = snprintf(a->res->drop_list + a->off, cap - a->off, "%s%s %s.%s=%llu",
		     a->off ? ", " : "", inst, mod, name, (unsigned long long)v);
	a->off = n > 0 && a->off + (size_t)n < cap ? a->off + (size_t)n : cap;
}

static void collect_ep(struct sim_result *res, struct sim_node *n)
{
	struct sim_ep_report r;

	if (!sim_ip_ep_report(n, &r))
		return;
	if (r.tunnels_wanted > 0)
		res->has_tunnels = true;
	res->tunnels_up += r.tunnels_up;
	res->tunnels_wanted += r.tunnels_wanted;
	res->rx_foreign += r.rx_foreign;
}

void sim_scn_collect(struct sim_tech_ctx *tc, struct sim_result *res)
{
	struct drop_acc acc = { .res = res };

	sim_flows_finish(tc->sim, &res->flows);
	/* Tunnels are counted on the initiating side; gateways add what they hold of
	 * their own (foreign packets, and tunnels when a technique counts them there). */
	for (unsigned i = 0; i < tc->nclients; i++)
		collect_ep(res, tc->clients[i]);
	for (unsigned i = 0; i < tc->ngateways; i++) {
		struct sim_ep_report r;

		if (sim_ip_ep_report(tc->gateways[i], &r))
			res->rx_foreign += r.rx_foreign;
	}
	res->nat_entries_end = 0;
	for (unsigned i = 0; i < tc->nnats; i++) {
		struct sim_nat_report r;

		if (sim_ip_nat_report(tc->nats[i].node, &r)) {
			res->has_nat = true;
			res->nat_entries_end += r.entries;
			if (r.entries > res->nat_entries_peak)
				res->nat_entries_peak = r.entries;
			if (r.bytes > res->nat_bytes_peak)
				res->nat_bytes_peak = r.bytes;
		}
	}
	res->drops = 0;
	res->drop_list[0] = '\0';
	res->ndrops = 0;
	res->drops_other = 0;
	sim_ctr_each_drop(tc->sim, add_drop, &acc);
	res->events = sim_events(tc->sim);
	res->link_pkts = 0;
	for (struct sim_link *l = sim_link_first(tc->sim); l != NULL; l = l->next)
		res->link_pkts += sim_link_ctr(l, SIM_LINK_CTR_SENT);
}

void sim_scn_dump(struct sim *sim, FILE *f)
{
	fprintf(f, "counters:\n");
	sim_ctr_dump(sim, f, false);
	for (struct sim_node *n = sim_node_first(sim); n != NULL; n = n->next)
		if (n->ops->show != NULL)
			n->ops->show(n, f);
}
