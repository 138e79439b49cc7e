#include "sim_report.h"

#include <math.h>
#include <string.h>

/* No libm: the larger of two doubles. */
static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static double share(uint64_t n, uint64_t of)
{
	return of > 0 ? 100.0 * (double)n / (double)of : 0.0;
}

/* Recovery in seconds; negative: none to report (no fault, no traffic after it); INFINITY:
 * never. */
static double rec_sec(sp_time t, const struct sim_agg *a)
{
	if (!a->has_fault || a->with_traffic == 0)
		return -1.0;
	return t == SP_TIME_NEVER ? INFINITY : (double)t / 1e9;
}

static void json_rec(FILE *f, double s)
{
	if (s < 0)
		fputs("null", f);
	else if (isinf(s))
		fputs("\"never\"", f);
	else
		fprintf(f, "%.3f", s);
}

void sim_report_json(FILE *f, const struct sim_report *r)
{
	fputs("{\"scenario\": ", f);
	json_str(f, r->scn->name);
	fprintf(f, ", \"runs\": %u, \"first_seed\": %llu, \"parameters\": {", r->runs,
		(unsigned long long)r->seed);
	for (unsigned i = 0; i < r->ps->n; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, r->ps->v[i].key);
		fputs(": ", f);
		json_str(f, r->ps->v[i].val);
	}
	fputs("},\n \"techniques\": [", f);
	for (unsigned t = 0; t < r->ntech; t++) {
		const struct sim_agg *a = &r->agg[t];

		fputs(t ? ",\n  {" : "\n  {", f);
		fputs("\"technique\": ", f);
		json_str(f, a->technique);
		if (a->has_tunnels)
			fprintf(f, ", \"tunnels_up\": %llu, \"tunnels_wanted\": %llu",
				(unsigned long long)a->tunnels_up,
				(unsigned long long)a->tunnels_wanted);
		fprintf(f,
			", \"sent\": %llu, \"delivered\": %llu, \"misdelivered\": %llu, "
			"\"dropped\": %llu, \"duplicated\": %llu, \"delivered_pct\": %.2f, "
			"\"misdelivered_pct\": %.2f, \"dropped_pct\": %.2f",
			(unsigned long long)a->sent, (unsigned long long)a->delivered,
			(unsigned long long)a->misdelivered, (unsigned long long)a->dropped,
			(unsigned long long)a->duplicated, share(a->delivered, a->sent),
			share(a->misdelivered, a->sent), share(a->dropped, a->sent));
		if (a->has_fault)
			fprintf(f, ", \"recovered_runs\": %u, \"runs_with_traffic\": %u",
				a->recovered, a->with_traffic);
		fputs(", \"recovery_median_s\": ", f);
		json_rec(f, rec_sec(sim_agg_median(a), a));
		fputs(", \"recovery_worst_s\": ", f);
		json_rec(f, rec_sec(sim_agg_worst(a), a));
		if (a->ovh_pkts > 0)
			fprintf(f, ", \"overhead_bytes_per_packet\": %.1f",
				a->ovh_bytes / (double)a->ovh_pkts);
		if (a->has_nat)
			fprintf(f, ", \"nat_entries_peak\": %llu, \"nat_bytes_peak\": %llu",
				(unsigned long long)a->nat_entries_peak,
				(unsigned long long)a->nat_bytes_peak);
		fputs(", \"drops\": {", f);
		for (unsigned d = 0; d < a->ndrops; d++) {
			fputs(d ? ", " : "", f);
			json_str(f, a->drop[d].name);
			fprintf(f, ": %llu", (unsigned long long)a->drop[d].n);
		}
		if (a->drops_other > 0)
			fprintf(f, "%s\"other\": %llu", a->ndrops ? ", " : "",
				(unsigned long long)a->drops_other);
		fputs("}}", f);
	}
	fputs("\n ]}\n", f);
}

static void csv_rec(FILE *f, double s)
{
	if (isinf(s))
		fputs(",never", f);
	else if (s >= 0)
		fprintf(f, ",%.3f", s);
	else
		fputs(",", f);
}

void sim_report_csv(FILE *f, const struct sim_report *r)
{
	fputs("technique,runs,tunnels_up,tunnels_wanted,sent,delivered,misdelivered,dropped,"
	      "duplicated,delivered_pct,misdelivered_pct,dropped_pct,recovered_runs,"
	      "runs_with_traffic,recovery_median_s,recovery_worst_s,overhead_bytes_per_packet,"
	      "nat_entries_peak,nat_bytes_peak\n",
	      f);
	for (unsigned t = 0; t < r->ntech; t++) {
		const struct sim_agg *a = &r->agg[t];

		fprintf(f, "%s,%u", a->technique, a->runs);
		if (a->has_tunnels)
			fprintf(f, ",%llu,%llu", (unsigned long long)a->tunnels_up,
				(unsigned long long)a->tunnels_wanted);
		else
			fputs(",,", f);
		fprintf(f, ",%llu,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f", (unsigned long long)a->sent,
			(unsigned long long)a->delivered, (unsigned long long)a->misdelivered,
			(unsigned long long)a->dropped, (unsigned long long)a->duplicated,
			share(a->delivered, a->sent), share(a->misdelivered, a->sent),
			share(a->dropped, a->sent));
		if (a->has_fault)
			fprintf(f, ",%u,%u", a->recovered, a->with_traffic);
		else
			fputs(",,", f);
		csv_rec(f, rec_sec(sim_agg_median(a), a));
		csv_rec(f, rec_sec(sim_agg_worst(a), a));
		if (a->ovh_pkts > 0)
			fprintf(f, ",%.1f", a->ovh_bytes / (double)a->ovh_pkts);
		else
			fputs(",", f);
		if (a->has_nat)
			fprintf(f, ",%llu,%llu\n", (unsigned long long)a->nat_entries_peak,
				(unsigned long long)a->nat_bytes_peak);
		else
			fputs(",,\n", f);
	}
}

/*
 * The chart: one row per technique, three panels side by side with their own scales:
 * delivered (%, 0-100), misdelivered (%, 0 to the largest share rounded up), recovery time
 * (s, median bar with the worst run as a whisker; "never" and "no fault" written out).
 */
#define SVG_ROW	   30
#define SVG_TOP	   92
#define SVG_NAMEW  120
#define SVG_PANELW 240
#define SVG_GAP	   36
#define SVG_BAR	   16
#define SVG_FONT   "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

/* The scale's end: four grid steps of 1, 2, 2.5 or 5 times a power of ten, at or above v. */
static double nice_max(double v)
{
	static const double steps[] = { 1, 2, 2.5, 5 };
	double p = 1e-3;

	if (v <= 0)
		return 1.0;
	for (;;) {
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			if (4 * steps[i] * p >= v)
				return 4 * steps[i] * p;
		p *= 10;
	}
}

static void svg_panel(FILE *f, double x0, double y1, const char *title, double max,
		      const char *unit)
{
	fprintf(f, "<text x=\"%.0f\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
		x0, SVG_TOP - 26, title);
	for (int k = 0; k <= 4; k++) {
		double x = x0 + SVG_PANELW * k / 4.0, v = max * k / 4.0;

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" "
			"stroke=\"#dddddd\"/>\n",
			x, SVG_TOP - 8, x, y1);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" "
			"fill=\"#555555\">%g%s</text>\n",
			x, SVG_TOP - 11, v, k == 4 ? unit : "");
	}
}

void sim_report_svg(FILE *f, const struct sim_report *r)
{
	double mismax = 0, recmax = 0, y1 = SVG_TOP + (double)r->ntech * SVG_ROW;
	double xd = SVG_NAMEW + 10, xm = xd + SVG_PANELW + SVG_GAP, xr = xm + SVG_PANELW + SVG_GAP;
	int width = (int)(xr + SVG_PANELW + 150), height = (int)y1 + 48;

	for (unsigned t = 0; t < r->ntech; t++) {
		const struct sim_agg *a = &r->agg[t];
		double w = rec_sec(sim_agg_worst(a), a), m = rec_sec(sim_agg_median(a), a);

		mismax = dmax(mismax, share(a->misdelivered, a->sent));
		if (w >= 0 && !isinf(w))
			recmax = dmax(recmax, w);
		if (m >= 0 && !isinf(m))
			recmax = dmax(recmax, m);
	}
	mismax = nice_max(mismax);
	recmax = nice_max(recmax);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" %s>\n",
		width, height, width, height, SVG_FONT);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f,
		"<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">spinat-sim: "
		"scenario %s</text>\n",
		r->scn->name);
	fprintf(f,
		"<text x=\"10\" y=\"42\" font-size=\"11\" fill=\"#555555\">%u run%s per technique, "
		"seeds %llu to %llu; shares of the flow packets sent, over all runs</text>\n",
		r->runs, r->runs == 1 ? "" : "s", (unsigned long long)r->seed,
		(unsigned long long)sim_run_seed(r->seed, r->runs - 1));
	svg_panel(f, xd, y1, "delivered", 100, "%");
	svg_panel(f, xm, y1, "misdelivered", mismax, "%");
	svg_panel(f, xr, y1, "recovery (median, | worst)", recmax, " s");
	for (unsigned t = 0; t < r->ntech; t++) {
		const struct sim_agg *a = &r->agg[t];
		double y = SVG_TOP + (double)t * SVG_ROW, yb = y + (SVG_ROW - SVG_BAR) / 2.0;
		double del = share(a->delivered, a->sent), mis = share(a->misdelivered, a->sent);
		double med = rec_sec(sim_agg_median(a), a), worst = rec_sec(sim_agg_worst(a), a);

		if (t % 2 == 1)
			fprintf(f,
				"<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
				"fill=\"#f4f6f8\"/>\n",
				y, width, SVG_ROW);
		fprintf(f,
			"<text x=\"%d\" y=\"%.1f\" font-size=\"13\" "
			"text-anchor=\"end\">%s</text>\n",
			SVG_NAMEW, y + SVG_ROW / 2.0 + 4, a->technique);
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#2e8b57\"/>\n",
			xd, yb, SVG_PANELW * del / 100.0, SVG_BAR);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\"%s>%.2f%%</text>\n",
			del > 80 ? xd + SVG_PANELW * del / 100.0 - 4
				 : xd + SVG_PANELW * del / 100.0 + 4,
			yb + SVG_BAR - 4, del > 80 ? " text-anchor=\"end\" fill=\"white\"" : "",
			del);
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#c0392b\"/>\n",
			xm, yb, SVG_PANELW * mis / mismax, SVG_BAR);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%.2f%%</text>\n",
			xm + SVG_PANELW * mis / mismax + 4, yb + SVG_BAR - 4, mis);
		if (med < 0) {
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
				"fill=\"#555555\">%s</text>\n",
				xr + 4, yb + SVG_BAR - 4,
				a->has_fault ? "no traffic after the fault" : "no fault");
			continue;
		}
		if (isinf(med)) {
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
				"fill=\"#888888\" opacity=\"0.35\"/>\n",
				xr, yb, SVG_PANELW, SVG_BAR);
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">never (%u of %u runs "
				"recovered)</text>\n",
				xr + 4, yb + SVG_BAR - 4, a->recovered, a->with_traffic);
			continue;
		}
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#2f6db5\"/>\n",
			xr, yb, dmax(1.0, SVG_PANELW * med / recmax), SVG_BAR);
		if (isinf(worst))
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#1a3d66\" stroke-width=\"1.5\" stroke-dasharray=\"4 "
				"3\"/>\n",
				xr + SVG_PANELW * med / recmax, yb + SVG_BAR / 2.0,
				xr + (double)SVG_PANELW, yb + SVG_BAR / 2.0);
		if (!isinf(worst) && worst > med)
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#1a3d66\" stroke-width=\"2\"/>\n",
				xr + SVG_PANELW * worst / recmax, yb - 2,
				xr + SVG_PANELW * worst / recmax, yb + SVG_BAR + 2);
		{
			char m[24], w[24];

			sim_fmt_recovery(sim_agg_median(a), m, sizeof(m));
			sim_fmt_recovery(sim_agg_worst(a), w, sizeof(w));
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s, worst "
				"%s</text>\n",
				xr + 6 +
					(isinf(worst) ? SVG_PANELW
						      : dmax(SVG_PANELW * med / recmax,
							     SVG_PANELW * worst / recmax)),
				yb + SVG_BAR - 4, m, w);
		}
	}
	fprintf(f,
		"<text x=\"10\" y=\"%.0f\" font-size=\"10\" fill=\"#555555\">misdelivered: reached "
		"another node, or an endpoint that could not use it. recovery: from the last "
		"fault's repair until every flow got a packet through; dashed: some run never "
		"recovered.</text>\n",
		y1 + 28);
	fputs("</svg>\n", f);
}
