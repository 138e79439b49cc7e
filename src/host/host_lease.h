/*
 * 001's client module 109 as a host module of the endpoint stack: it leases from the NAT
 * (PCP with spinat's GPN option, proto/pcp.h, docs/LEASE.md) the global address and IKE
 * initiator SPI before IKE uses them (FIG. 8 step 801), then the incoming SPIs (802), and
 * in transport mode the TCP/UDP ports its traffic uses inside ESP or AH (those its
 * selectors name before IKE, which then proposes the global address and ports); hands the
 * SPIs to IKE through the stack's SPI policy hook; renews before expiry (806-807) and
 * leases again after a NAT restart; releases an SPI when its SA is deleted and a flow's
 * port when the flow ends; and compensates packets: the SAs' AH ICV and checksums "as if"
 * the address were the global one (815, 820), source ports replaced before protection
 * (810, 812) and destination ports after it (824, 826), in tunnel mode optionally the
 * inner source address (811, 825). Keys in [conn NAME]: lease, lease_server,
 * lease_lifetime, lease_client_port, lease_retry, lease_inner, lease_idle, lease_linger
 * (docs/CONFIG.md).
 */
#ifndef SP_HOST_HOST_LEASE_H
#define SP_HOST_HOST_LEASE_H

#include "host/endpoint.h"

extern const struct endpoint_module_ops host_lease_module;

#endif
