/*
 * The epoch guard (host/host_guard.h) on an endpoint made of IKE (ike/ike.h) and spinat's
 * IPsec engine (ipsec/ipsec.h): the guard's actions carried out with them, and the few
 * calls its owner makes. The simulator's IKE endpoint (sim/ike_sim.c) and spinatd's
 * endpoint role hold one when a connection says epoch_guard = client or server.
 *
 * The owner passes IKE's events on, tells which inbound SA each decapsulated packet came
 * through (from ipsec_cfg.post_unprotect), offers each decapsulated packet before
 * delivering it (the guard keeps its ping replies and answers pings), and runs the
 * guard's timer.
 */
#ifndef SP_HOST_HOST_GUARD_EP_H
#define SP_HOST_HOST_GUARD_EP_H

#include "host/host_guard.h"
#include "ike/ike.h"
#include "ipsec/ipsec.h"

struct host_guard_ep;

struct host_guard_ep_params {
	const char *name;
	const struct sp_log *log;
	struct sp_ctr_registry *ctrs; /* the guard's counters go here */
	struct sp_rng *rng;
	struct pkt_pool *pool;
	/*
	 * The heuristic NAT's T_out, N_out and T_ei when the owner knows them (a simulated
	 * masq NAT): they replace the masq_* keys of every connection before the checks of
	 * 003 run. Zero: the keys (or their defaults) stand.
	 */
	sp_time masq_t_out, masq_t_ei;
	uint32_t masq_n_out;
};

/*
 * After ike_new(): read the guard keys of every [conn NAME] section of conf (docs/HOST.md)
 * over defaults taken from IKE's view of the connection (keylife, rekeymargin; the ping
 * addresses from its selectors), and guard those with epoch_guard = client or server.
 * *out stays NULL when none is guarded. SP_ECONFIG with conf_error() on bad keys.
 */
int host_guard_ep_new(const struct host_guard_ep_params *p, struct conf *conf, struct ike *ike,
		      struct ipsec *e, struct host_guard_ep **out) SP_MUST_CHECK;
void host_guard_ep_free(struct host_guard_ep *x);
struct host_guard *host_guard_ep_guard(struct host_guard_ep *x);

/* An IKE event (the owner's ike_params.event). */
void host_guard_ep_event(struct host_guard_ep *x, sp_time now, const struct ike_event *ev);
/* ipsec_cfg.post_unprotect: the packet about to be delivered came through sa. */
void host_guard_ep_note_rx(struct host_guard_ep *x, const struct sa *sa);
/* The owner's local_out, before delivering p: true when the guard took p. */
bool host_guard_ep_local(struct host_guard_ep *x, sp_time now, struct pkt *p);

sp_time host_guard_ep_next_deadline(const struct host_guard_ep *x);
void host_guard_ep_tick(struct host_guard_ep *x, sp_time now);

#endif
