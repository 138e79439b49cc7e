/* The IPsec strategies a gateway can run; each row's code lives in its nat_<name>.c. */
#include "nat/nat_strategy.h"

#include <string.h>

const struct nat_strategy *const nat_strategies[] = {
	&nat_strategy_masq,
	&nat_strategy_spihash,
	&nat_strategy_serial,
	&nat_strategy_natt,
	&nat_strategy_ipaddr,
	&nat_strategy_oldest,
	NULL,
};

const struct nat_strategy *nat_strategy_find(const char *name)
{
	for (unsigned i = 0; nat_strategies[i] != NULL; i++)
		if (strcmp(nat_strategies[i]->name, name) == 0)
			return nat_strategies[i];
	return NULL;
}
