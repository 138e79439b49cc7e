/*
 * 002's host side (host/host_dnat.h) as a module of the endpoint stack, configured by a
 * [dnat] section (docs/DNAT.md): PAP client, port translation and the tunnel to the router
 * on the wire side of the other modules, and the SPI policy that gives IKE's inbound CHILD
 * SAs SPIs from the router's blocks.
 */
#ifndef SP_HOST_HOST_DNAT_EP_H
#define SP_HOST_HOST_DNAT_EP_H

#include "host/endpoint.h"
#include "host/host_dnat.h"

extern const struct endpoint_module_ops host_dnat_module;

#endif
