/* The roles spinatd can take; each row's functions live in their role_*.c file. */
#include "spinatd.h"

const struct spinatd_role spinatd_roles[] = {
	{ "endpoint", "IPsec endpoint: TUN device, ESP/AH over raw IP or UDP 4500",
	  spinatd_endpoint_start, spinatd_endpoint_stop, spinatd_endpoint_usage },
	{ "gateway", "NAT gateway: NAPT and IPsec demultiplexing on NFQUEUE (docs/NAT.md)",
	  spinatd_gateway_start, spinatd_gateway_stop, spinatd_gateway_usage },
	{ "lns",
	  "L2TP network server of 004: relays IPsec in L2TP/PPP, NAT discovery (docs/L2TP.md)",
	  spinatd_lns_start, spinatd_lns_stop, spinatd_lns_usage },
	{ "lac",
	  "client of 004: NAT discovery, then L2TP/PPP to the LNS on a TUN device when needed",
	  spinatd_lac_start, spinatd_lac_stop, spinatd_lac_usage },
	{ NULL, NULL, NULL, NULL, NULL },
};
