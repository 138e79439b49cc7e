/*
 * IKE on spinat's own data plane: struct ike_kernel_ops over struct ipsec (ipsec/ipsec.h).
 * CHILD SAs become SAs of the SA database, their traffic selectors policies tied to them
 * by reqid; the data plane's acquire and expiry events go back to IKE. The endpoint role
 * of spinatd and the simulator's endpoint nodes both wire IKE to IPsec through this.
 */
#ifndef SP_IKE_IKE_IPSEC_H
#define SP_IKE_IKE_IPSEC_H

#include "ike/ike.h"
#include "ipsec/ipsec.h"

/* Kernel ops installing into e (arg is e). */
void ike_ipsec_ops(struct ipsec *e, struct ike_kernel_ops *ops);

/* Hand an ipsec event to IKE: acquire brings the connection of the policy's reqid up,
 * soft expiry rekeys the CHILD SA, hard expiry deletes it, a peer the data plane followed
 * to a new address (RFC 7296 2.23) takes the IKE SA along. */
void ike_ipsec_event(struct ike *ike, sp_time now, const struct ipsec_event *ev);

#endif
