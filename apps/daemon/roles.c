/* The roles spinatd can take; each row's functions live in their role_*.c file. */
#include "spinatd.h"

const struct spinatd_role spinatd_roles[] = {
	{ NULL, NULL, NULL, NULL },
};
