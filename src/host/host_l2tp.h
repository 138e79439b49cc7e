/*
 * 004's client (l2tp/l2tp_lac.h) as a module of the endpoint stack (host/endpoint.h), the
 * module nearest the wire: before IKE it asks the NAT discovery service; when a NAT is in
 * the way it brings up the L2TP tunnel and PPP session to the LNS, and from then on every
 * packet the stack sends from the assigned address (IKE, ESP, AH) leaves wrapped in
 * PPP/L2TP/UDP to the LNS (out_wire), and what the LNS sends back is unwrapped before IKE
 * and IPsec see it (in_wire). When no NAT is seen it passes everything (direct).
 *
 * It exists when the configuration has an [l2tp] section: the lac role's client keys
 * (docs/CONFIG.md) plus `local` (this host's own address, which discovery compares and the
 * L2TP datagrams leave from; required) and `port` (1701). IKE's connection and the SAs use
 * the address the LNS assigns to this user, so the LNS should give the user a fixed one
 * (`static`, docs/L2TP.md). Packets from that address while the path is not up are dropped
 * and counted (IKE retransmits).
 */
#ifndef SP_HOST_HOST_L2TP_H
#define SP_HOST_HOST_L2TP_H

#include "host/endpoint.h"

extern const struct endpoint_module_ops host_l2tp_module;

#endif
