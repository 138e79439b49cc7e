/*
 * The epoch guard (host/host_guard.h) as the first module of the endpoint stack
 * (host/endpoint.h): the guard's actions carried out with the stack's IKE and IPsec
 * engine, wherever the stack runs (spinatd's endpoint role, the simulator's endpoints).
 *
 * It exists when a [conn NAME] says epoch_guard = client or server (its keys are read there
 * over defaults taken from IKE's view of the connection: keylife, rekeymargin, the ping
 * addresses from its selectors; docs/HOST.md). It takes IKE's events, notes which inbound
 * SA each decapsulated packet came through (post_unprotect), keeps its ping replies and
 * answers pings before they are delivered (in_clear), and runs its timer. The owner's
 * knowledge of the NAT in front (endpoint_params.masq_*) replaces the masq_* keys.
 */
#ifndef SP_HOST_HOST_GUARD_EP_H
#define SP_HOST_HOST_GUARD_EP_H

#include "host/endpoint.h"
#include "host/host_guard.h"

extern const struct endpoint_module_ops host_guard_module;

#endif
