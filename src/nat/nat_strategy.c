/* The IPsec strategies a gateway can run (each row's code lives in its nat_<name>.c), and
 * what their files share. */
#include "nat/nat_strategy.h"

#include <string.h>

/* One row per line, so adding a strategy is adding a line. */
/* clang-format off */
const struct nat_strategy *const nat_strategies[] = {
	&nat_strategy_masq,
	&nat_strategy_spihash,
	&nat_strategy_serial,
	&nat_strategy_natt,
	&nat_strategy_ipaddr,
	&nat_strategy_oldest,
	&nat_strategy_dnat,
	&nat_strategy_lease, /* 001 */
	NULL,
};
/* clang-format on */

const struct nat_strategy *nat_strategy_find(const char *name)
{
	for (unsigned i = 0; nat_strategies[i] != NULL; i++)
		if (strcmp(nat_strategies[i]->name, name) == 0)
			return nat_strategies[i];
	return NULL;
}

void nat_strat_expire_entry(struct nat *n, void *ctx, uint32_t idx)
{
	(void)ctx;
	nat_strat_free(n, idx);
}

void nat_strat_item_row(const struct nat_entry *e, bool spis, bool associated, const char *state,
			struct nat_row *r)
{
	r->proto = e->k[0].proto;
	r->in_local = e->k[0].a;
	r->in_global = e->k[1].a;
	r->outside = e->k[0].b;
	r->outbound = true;
	r->state = state;
	if (!spis)
		return;
	r->in_local_id = e->k[0].id;
	r->outside_id = associated ? e->k[1].id : 0;
	r->has_in_local_id = r->has_outside_id = true;
	r->spi_ids = true;
}

void nat_strat_item_offload(const struct nat_entry *e, bool out, bool in, sp_time idle,
			    struct nat_offload_desc *d)
{
	d->n = 0;
	d->idle = idle;
	if (out) {
		struct nat_offload_item *it = &d->item[d->n++];

		it->from = NAT_INSIDE;
		it->proto = e->k[0].proto;
		it->a = e->k[0].a;
		it->b = e->k[0].b;
		it->id = e->k[0].id;
		it->addr = e->k[1].a;
	}
	if (in) {
		struct nat_offload_item *it = &d->item[d->n++];

		it->from = NAT_OUTSIDE;
		it->proto = e->k[1].proto;
		it->a = e->k[1].a;
		it->b = e->k[1].b;
		it->id = e->k[1].id;
		it->addr = e->k[0].a;
	}
}
