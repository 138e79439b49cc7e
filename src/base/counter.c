#include "base/counter.h"

#include <string.h>

void sp_ctr_registry_init(struct sp_ctr_registry *reg)
{
	reg->head = NULL;
	reg->tail = &reg->head;
}

void sp_ctr_register(struct sp_ctr_registry *reg, struct sp_ctrs *c)
{
	c->next = NULL;
	*reg->tail = c;
	reg->tail = &c->next;
}

void sp_ctr_unregister(struct sp_ctr_registry *reg, struct sp_ctrs *c)
{
	struct sp_ctrs **pp;

	for (pp = &reg->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			if (reg->tail == &c->next)
				reg->tail = pp;
			c->next = NULL;
			return;
		}
	}
}

uint64_t sp_ctr_get(const struct sp_ctr_registry *reg, const char *module, const char *name)
{
	uint64_t sum = 0;

	for (const struct sp_ctrs *c = reg->head; c != NULL; c = c->next) {
		if (strcmp(c->module, module) != 0)
			continue;
		for (unsigned i = 0; i < c->n; i++)
			if (strcmp(c->names[i], name) == 0)
				sum += c->vals[i];
	}
	return sum;
}

void sp_ctr_dump(const struct sp_ctr_registry *reg, FILE *f, bool all)
{
	for (const struct sp_ctrs *c = reg->head; c != NULL; c = c->next) {
		for (unsigned i = 0; i < c->n; i++) {
			if (!all && c->vals[i] == 0)
				continue;
			fprintf(f, "%-12s %s.%-32s %llu\n", c->instance ? c->instance : "-",
				c->module, c->names[i], (unsigned long long)c->vals[i]);
		}
	}
}

void sp_ctr_dump_table(const struct sp_ctr_registry *reg, FILE *f, bool all)
{
	int wi = (int)strlen("instance"), wn = (int)strlen("counter"), wv = (int)strlen("value");
	char num[24];

	for (const struct sp_ctrs *c = reg->head; c != NULL; c = c->next) {
		for (unsigned i = 0; i < c->n; i++) {
			if (!all && c->vals[i] == 0)
				continue;
			wi = SP_MAX(wi, (int)strlen(c->instance ? c->instance : "-"));
			wn = SP_MAX(wn, (int)(strlen(c->module) + 1 + strlen(c->names[i])));
			wv = SP_MAX(wv, snprintf(num, sizeof(num), "%llu",
						 (unsigned long long)c->vals[i]));
		}
	}
	fprintf(f, "%-*s  %-*s  %*s\n", wi, "instance", wn, "counter", wv, "value");
	for (const struct sp_ctrs *c = reg->head; c != NULL; c = c->next) {
		for (unsigned i = 0; i < c->n; i++) {
			if (!all && c->vals[i] == 0)
				continue;
			fprintf(f, "%-*s  %s.%-*s  %*llu\n", wi, c->instance ? c->instance : "-",
				c->module, wn - (int)strlen(c->module) - 1, c->names[i], wv,
				(unsigned long long)c->vals[i]);
		}
	}
}
