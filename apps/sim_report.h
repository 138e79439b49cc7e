/* spinat-sim's machine-readable and graphic outputs: the comparison table as JSON or CSV,
 * and an SVG chart of delivered, misdelivered and recovery time per technique. */
#ifndef SPINAT_SIM_REPORT_H
#define SPINAT_SIM_REPORT_H

#include "sim/param.h"
#include "sim/runs.h"
#include "sim/scenario.h"

#include <stdio.h>

struct sim_report {
	const struct sim_scenario *scn;
	const struct sim_params *ps;
	const struct sim_agg *agg; /* one per technique */
	unsigned ntech, runs;
	uint64_t seed;
};

void sim_report_json(FILE *f, const struct sim_report *r);
void sim_report_csv(FILE *f, const struct sim_report *r);
void sim_report_svg(FILE *f, const struct sim_report *r);

#endif
