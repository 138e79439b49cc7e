/*
 * Named counters. Each module declares its counters (drop reasons first among them) with
 * one X-macro list, from which SP_CTR_ENUM and SP_CTR_NAMES make the enum and the printed
 * names, so they cannot drift apart (VPP's foreach_*_error). A module instance embeds a
 * struct sp_ctrs block and links it into its owner's registry, which `spinat show
 * counters` and the simulator's output walk.
 *
 *   #define foreach_nat_ctr(_) _(IN2OUT, "in2out") _(DROP_NO_MAPPING, "drop_no_mapping")
 *   enum nat_ctr {
 *   #define _(sym, str) NAT_CTR_##sym,
 *           foreach_nat_ctr(_)
 *   #undef _
 *           NAT_CTR_N
 *   };
 *   static const char *const nat_ctr_names[] = { SP_CTR_NAMES(foreach_nat_ctr) };
 */
#ifndef SP_BASE_COUNTER_H
#define SP_BASE_COUNTER_H

#include "base/sp.h"

#include <stdio.h>

#define SP_CTR_NAME_ONE_(sym, str) str,
#define SP_CTR_NAMES(list)	   list(SP_CTR_NAME_ONE_)

struct sp_ctrs {
	const char *module;	  /* e.g. "nat", "esp" */
	const char *instance;	  /* e.g. node name or "gw0"; may be NULL */
	const char *const *names; /* n names */
	uint64_t *vals;		  /* n values, owned by the module instance */
	unsigned n;
	struct sp_ctrs *next; /* registry link */
};

struct sp_ctr_registry {
	struct sp_ctrs *head;
	struct sp_ctrs **tail;
};

void sp_ctr_registry_init(struct sp_ctr_registry *reg);
/* Link a block (module-owned storage) at the end of the registry. */
void sp_ctr_register(struct sp_ctr_registry *reg, struct sp_ctrs *c);
void sp_ctr_unregister(struct sp_ctr_registry *reg, struct sp_ctrs *c);
/* Value of "module.name" summed over instances; 0 when absent. */
uint64_t sp_ctr_get(const struct sp_ctr_registry *reg, const char *module, const char *name);
/* One line per counter, "instance module.name value"; zeros skipped unless all. */
void sp_ctr_dump(const struct sp_ctr_registry *reg, FILE *f, bool all);
/* The same as a table for people: a header, instance and counter columns as wide as their
 * longest entry, values right-aligned. */
void sp_ctr_dump_table(const struct sp_ctr_registry *reg, FILE *f, bool all);

static inline void sp_ctrs_init(struct sp_ctrs *c, const char *module, const char *instance,
				const char *const *names, uint64_t *vals, unsigned n)
{
	c->module = module;
	c->instance = instance;
	c->names = names;
	c->vals = vals;
	c->n = n;
	c->next = NULL;
}

#endif
