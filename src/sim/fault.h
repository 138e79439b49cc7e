/*
 * Fault schedules: crash a node, cut a link, unplug a node's interface, at a virtual time
 * and for a duration, written as text so a scenario parameter can carry them:
 *
 *   crash:nat@4s+1s          crash node "nat" at 4 s, restart it 1 s later
 *   cut:uplink@2500ms+500ms  cut link "uplink" at 2.5 s, repair it 500 ms later
 *   unplug:c2@3s+2s          unplug every interface of node c2 at 3 s for 2 s
 *   unplug:c2/eth0@3s        unplug one interface, for good (no +duration)
 *   crash:nat@4s,cut:uplink@9s+1s   several, comma-separated; "none" or "" for no fault
 *
 * Recovery is measured from the repair of the last fault (sim_fault_repair()).
 */
#ifndef SP_SIM_FAULT_H
#define SP_SIM_FAULT_H

#include "sim/sim.h"

#define SIM_FAULT_MAX 16

enum sim_fault_kind {
	SIM_FAULT_CRASH = 0,
	SIM_FAULT_CUT = 1,
	SIM_FAULT_UNPLUG = 2,
};

struct sim_fault {
	enum sim_fault_kind kind;
	char target[SIM_NAME_MAX * 2]; /* node, link, or node/interface */
	sp_time at;
	sp_time dur; /* 0: never repaired */
};

struct sim_faults {
	struct sim_fault f[SIM_FAULT_MAX];
	unsigned n;
};

/* Parse a schedule; on error err (errlen bytes) says what is wrong and where. */
int sim_fault_parse(const char *spec, struct sim_faults *out, char *err,
		    size_t errlen) SP_MUST_CHECK;
/* Check the targets exist in sim and queue the faults; err names an unknown target. */
int sim_fault_schedule(struct sim *sim, const struct sim_faults *fs, char *err,
		       size_t errlen) SP_MUST_CHECK;
/* When the last fault is repaired (a fault without repair counts at its start);
 * SP_TIME_NEVER without faults. */
sp_time sim_fault_repair(const struct sim_faults *fs);
/* Back to text, e.g. for the parameter line of a report. */
void sim_fault_fmt(const struct sim_faults *fs, char *buf, size_t len);

#endif
