/* The gateway role's NFQUEUE rules: installed at start, removed at stop (gw_rules.c). */
#ifndef SPINATD_GW_RULES_H
#define SPINATD_GW_RULES_H

#include "base/conf.h"
#include "base/log.h"

#define GW_RULES_LIST_MAX (256u << 10) /* bytes of `iptables -S` read */

struct gw_rules {
	const char *iptables; /* program, found in PATH */
	unsigned queue;
	bool bypass;	    /* --queue-bypass: with no daemon bound, packets pass untranslated */
	unsigned installed; /* rules added by this run */
};

/* Remove stale rules of this queue, then add one per inside interface and one per outside
 * interface and pool entry of section s (with strategy lease one more per inside interface
 * for PCP to the gateway). On failure nothing of ours stays. */
int gw_rules_install(struct gw_rules *gr, struct conf_sec *s, struct sp_log *log) SP_MUST_CHECK;
void gw_rules_remove(struct gw_rules *gr, struct sp_log *log);

#endif
