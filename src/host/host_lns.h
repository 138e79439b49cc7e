/*
 * 004's LNS (l2tp/l2tp_lns.h) inside an IPsec gateway's endpoint stack, nearest the wire:
 * the LNS and the gateway on one machine, the limit of FIG. 1's shared LAN (and where
 * 004 [0025] puts the discovery service). L2TP and discovery datagrams to the gateway's
 * address are taken in in_wire; what comes out of the clients' sessions for the gateway
 * goes on into its IKE and IPsec (the LNS's net side); the gateway's packets to a pool
 * address are wrapped into that client's session in out_wire. Every other rule of the LNS
 * (authentication, the firewall, the relay of FIG. 3) applies as in the lns role.
 *
 * It exists when the configuration has an [lns] section: the lns role's keys (pool, users,
 * static, secret, ppp_auth, relay, allow, discovery, timers; docs/CONFIG.md) and `local`,
 * the gateway's address the clients reach (required). The gateway itself is the permitted
 * gateway.
 */
#ifndef SP_HOST_HOST_LNS_H
#define SP_HOST_HOST_LNS_H

#include "host/endpoint.h"

extern const struct endpoint_module_ops host_lns_module;

#endif
