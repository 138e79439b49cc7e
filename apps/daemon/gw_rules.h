/*
 * The gateway's iptables rules, one owner for all of them (gw_rules.c): the rule letting
 * translated packets pass (the mark) and the NFQUEUE rules, installed at start, removed at
 * stop, and after a crash removed by the next start, all by one tag.
 */
#ifndef SPINATD_GW_RULES_H
#define SPINATD_GW_RULES_H

#include "base/conf.h"
#include "base/log.h"

#define GW_RULES_LIST_MAX (256u << 10) /* bytes of `iptables -S` read */

struct gw_rules {
	const char *iptables; /* program, found in PATH */
	unsigned queue;
	unsigned nqueues;   /* > 1: --queue-balance queue:queue+nqueues-1 */
	bool bypass;	    /* --queue-bypass: with no daemon bound, packets pass untranslated */
	bool nfqueue;	    /* install the NFQUEUE rules (rules = yes) */
	uint32_t mark;	    /* nonzero: first, a rule accepting packets with this mark */
	unsigned installed; /* rules added by this run */
};

/* Remove every rule a previous run of this queue left, then add the mark rule (inserted
 * first in raw PREROUTING, so it precedes the operator's rules too) and the NFQUEUE rules:
 * one per inside interface, one per outside interface and pool entry of section s, and
 * with strategy lease one more per inside interface for PCP to the gateway. On failure
 * nothing of ours stays. */
int gw_rules_install(struct gw_rules *gr, struct conf_sec *s, struct sp_log *log) SP_MUST_CHECK;
/* Remove every rule of ours (by the tag, so also a crashed run's). */
void gw_rules_remove(struct gw_rules *gr, struct sp_log *log);

#endif
