/* Several seeded runs of one technique, their aggregate, and the aggregate table. */
#include "sim/runs.h"

#include <stdlib.h>
#include <string.h>

void sim_agg_init(struct sim_agg *a, const char *technique, uint64_t first_seed)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->technique, sizeof(a->technique), "%s", technique);
	a->first_seed = first_seed;
	a->worst_seed = first_seed;
}

static void add_drop(struct sim_agg *a, const char *name, uint64_t n)
{
	for (unsigned i = 0; i < a->ndrops; i++) {
		if (strcmp(a->drop[i].name, name) == 0) {
			a->drop[i].n += n;
			return;
		}
	}
	if (a->ndrops == SIM_AGG_DROPS) {
		a->drops_other += n;
		return;
	}
	snprintf(a->drop[a->ndrops].name, sizeof(a->drop[0].name), "%s", name);
	a->drop[a->ndrops++].n = n;
}

void sim_agg_add(struct sim_agg *a, const struct sim_result *r, uint64_t seed)
{
	const struct sim_flow_totals *fl = &r->flows;

	if (a->runs == SIM_RUNS_MAX)
		return;
	a->runs++;
	if (r->has_tunnels)
		a->has_tunnels = true;
	a->tunnels_up += r->tunnels_up;
	a->tunnels_wanted += r->tunnels_wanted;
	a->sent += fl->sent;
	a->delivered += fl->delivered;
	/* As in one run's row: misdelivered includes what endpoints found foreign, dropped is
	 * what was lost without reaching anyone. */
	a->misdelivered += fl->misdelivered + r->rx_foreign;
	a->dropped += fl->lost - SP_MIN(fl->lost, fl->misdelivered);
	a->duplicated += fl->duplicated;
	if (r->has_fault) {
		a->has_fault = true;
		if (fl->flows_after_mark > 0) {
			sp_time t = fl->recovered ? fl->recovery : SP_TIME_NEVER;

			if (a->with_traffic == 0 || t > sim_agg_worst(a))
				a->worst_seed = seed;
			a->rec[a->with_traffic++] = t;
			if (fl->recovered)
				a->recovered++;
		}
	}
	a->ovh_bytes += r->ovh_per_pkt * (double)r->access_data_pkts;
	a->ovh_pkts += r->access_data_pkts;
	if (r->has_nat) {
		a->has_nat = true;
		a->nat_entries_peak = SP_MAX(a->nat_entries_peak, r->nat_entries_peak);
		a->nat_bytes_peak = SP_MAX(a->nat_bytes_peak, r->nat_bytes_peak);
	}
	for (unsigned i = 0; i < r->ndrops; i++)
		add_drop(a, r->drop[i].name, r->drop[i].n);
	a->drops_other += r->drops_other;
	a->events += r->events;
}

static int cmp_time(const void *x, const void *y)
{
	sp_time a = *(const sp_time *)x, b = *(const sp_time *)y;

	return a < b ? -1 : a > b;
}

sp_time sim_agg_median(const struct sim_agg *a)
{
	sp_time *v;
	sp_time m;

	if (a->with_traffic == 0)
		return SP_TIME_NEVER;
	if ((v = malloc(a->with_traffic * sizeof(*v))) == NULL)
		return SP_TIME_NEVER;
	memcpy(v, a->rec, a->with_traffic * sizeof(*v));
	qsort(v, a->with_traffic, sizeof(*v), cmp_time);
	m = v[(a->with_traffic - 1) / 2];
	free(v);
	return m;
}

sp_time sim_agg_worst(const struct sim_agg *a)
{
	sp_time w = 0;

	if (a->with_traffic == 0)
		return SP_TIME_NEVER;
	for (unsigned i = 0; i < a->with_traffic; i++)
		w = SP_MAX(w, a->rec[i]);
	return w;
}

int sim_scenario_run_many(const struct sim_scenario *scn, struct sim_params *ps,
			  const struct sim_technique *t, const struct sim_run_opts *o,
			  unsigned runs, struct sim_agg *a)
{
	struct sim_run_opts ro = *o;
	struct sim_result *res;
	int r = 0;

	sim_agg_init(a, t->name, o->seed);
	if (runs == 0 || runs > SIM_RUNS_MAX) {
		snprintf(ps->err, sizeof(ps->err), "runs: between 1 and %u", SIM_RUNS_MAX);
		return SP_ECONFIG;
	}
	if ((res = malloc(sizeof(*res))) == NULL)
		return SP_ENOMEM;
	ro.pcap_seed = runs > 1;
	for (unsigned k = 0; k < runs; k++) {
		ro.seed = sim_run_seed(o->seed, k);
		if ((r = scn->run(ps, t, &ro, res)) != 0) {
			char why[sizeof(ps->err)];

			snprintf(why, sizeof(why), "%s", ps->err[0] ? ps->err : sp_strerror(r));
			snprintf(ps->err, sizeof(ps->err), "seed %llu: %.280s",
				 (unsigned long long)ro.seed, why);
			break;
		}
		sim_agg_add(a, res, ro.seed);
	}
	free(res);
	return r;
}

/* ---- the table ---------------------------------------------------------------------- */

#define AGG_FMT "%-10s %7s %8s %9s %8s %8s %6s %9s %8s %8s %7s  %s\n"

void sim_agg_header(FILE *f)
{
	fprintf(f, AGG_FMT, "technique", "tunnels", "sent", "delivered", "misdeliv", "dropped",
		"dup", "recovered", "median", "worst", "ovh/pkt", "NAT state (peak)");
}

static void fmt_share(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	if (whole == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f%%", 100.0 * (double)part / (double)whole);
}

void sim_agg_row(FILE *f, const struct sim_agg *a)
{
	char tun[48] = "-", sent[24], del[24], mis[24], drop[24], dup[24], rec[24] = "-",
	     med[24] = "-", worst[24] = "-", ovh[24] = "-", nat[64] = "-";

	if (a->has_tunnels)
		snprintf(tun, sizeof(tun), "%llu/%llu", (unsigned long long)a->tunnels_up,
			 (unsigned long long)a->tunnels_wanted);
	snprintf(sent, sizeof(sent), "%llu", (unsigned long long)a->sent);
	fmt_share(a->delivered, a->sent, del, sizeof(del));
	fmt_share(a->misdelivered, a->sent, mis, sizeof(mis));
	fmt_share(a->dropped, a->sent, drop, sizeof(drop));
	snprintf(dup, sizeof(dup), "%llu", (unsigned long long)a->duplicated);
	if (a->has_fault && a->with_traffic == 0) {
		snprintf(rec, sizeof(rec), "n/a"); /* no run had traffic after the repair */
		snprintf(med, sizeof(med), "n/a");
		snprintf(worst, sizeof(worst), "n/a");
	} else if (a->has_fault) {
		snprintf(rec, sizeof(rec), "%u/%u", a->recovered, a->with_traffic);
		sim_fmt_recovery(sim_agg_median(a), med, sizeof(med));
		sim_fmt_recovery(sim_agg_worst(a), worst, sizeof(worst));
	}
	if (a->ovh_pkts > 0)
		snprintf(ovh, sizeof(ovh), "%.1f", a->ovh_bytes / (double)a->ovh_pkts);
	if (a->has_nat)
		sim_fmt_nat_state(a->nat_entries_peak, a->nat_bytes_peak, nat, sizeof(nat));
	fprintf(f, AGG_FMT, a->technique, tun, sent, del, mis, drop, dup, rec, med, worst, ovh,
		nat);
}

void sim_agg_legend(FILE *f, unsigned runs, uint64_t first_seed)
{
	fprintf(f,
		"  Every technique ran %u times, with seeds %llu to %llu; the numbers are over "
		"all\n"
		"  runs. One run alone, with its drops: --seed S --runs 1.\n"
		"  tunnels    tunnels up / wanted at the end of each run, summed (-: no IPsec)\n"
		"  sent       flow packets sent, both directions, summed\n"
		"  delivered  share of sent that reached the node it was meant for (first copy)\n"
		"  misdeliv   share that reached another node, or an endpoint that could not use "
		"it\n"
		"  dropped    share lost on the way (each drop is named under \"drops\"); an "
		"ESP\n"
		"             packet that reached the wrong client is lost to its flow too, so "
		"it\n"
		"             counts in misdeliv and dropped, and the three can pass 100%%\n"
		"  dup        packets delivered more than once, summed\n"
		"  recovered  runs in which every flow got a packet through after the repair of "
		"the\n"
		"             last fault / runs with traffic after it (-: no fault; n/a: no "
		"traffic)\n"
		"  median     recovery time of the middle run, the faster of the two middle ones "
		"for\n"
		"             an even number (never: more than half the runs did not recover)\n"
		"  worst      recovery time of the slowest run (never: some run did not recover)\n"
		"  ovh/pkt    bytes on the access link per flow packet beyond its payload: "
		"headers,\n"
		"             encapsulation and control traffic, over all runs\n"
		"  NAT state  translation entries the NAT held at its peak, and their memory: the\n"
		"             largest peak of any run\n",
		runs, (unsigned long long)first_seed,
		(unsigned long long)sim_run_seed(first_seed, runs - 1));
}

void sim_agg_drops(FILE *f, const struct sim_agg *a)
{
	fprintf(f, "  %-10s ", a->technique);
	if (a->ndrops == 0 && a->drops_other == 0)
		fprintf(f, "none");
	for (unsigned i = 0; i < a->ndrops; i++)
		fprintf(f, "%s%s=%llu", i ? ", " : "", a->drop[i].name,
			(unsigned long long)a->drop[i].n);
	if (a->drops_other > 0)
		fprintf(f, "%sother counters=%llu", a->ndrops ? ", " : "",
			(unsigned long long)a->drops_other);
	fputc('\n', f);
}

void sim_agg_slowest(FILE *f, const struct sim_agg *a)
{
	char t[24];

	if (!a->has_fault || a->with_traffic == 0)
		return;
	sim_fmt_recovery(sim_agg_worst(a), t, sizeof(t));
	fprintf(f, "  %-10s seed %llu: %s\n", a->technique, (unsigned long long)a->worst_seed, t);
}
