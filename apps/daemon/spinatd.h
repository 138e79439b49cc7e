/*
 * spinatd: one daemon, several roles (gateway, endpoint, ...), chosen by `role` in the
 * [spinatd] section of its configuration. The frame owns the event loop, the control
 * socket, logging, counters and the packet pool; a role wires its sans-IO modules to them.
 */
#ifndef SPINATD_H
#define SPINATD_H

#include "base/conf.h"
#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "io/ctl.h"
#include "io/loop.h"

struct spinatd {
	const char *name; /* instance name for logs and counters */
	struct conf *conf;
	struct io_loop *loop;
	struct io_ctl *ctl;
	struct sp_log log;
	struct sp_ctr_registry ctrs;
	struct pkt_pool pool;
	bool check;	  /* --check: validate the configuration, open nothing */
	void *role_state; /* owned by the role */
};

struct spinatd_role {
	const char *name;
	const char *help;
	/* Read the role's sections, open its sockets, register fds, timers and control
	 * commands. On a configuration error, return SP_ECONFIG with conf_error() set. */
	int (*start)(struct spinatd *d);
	/* Release everything start() acquired; called once, also after a failed start. */
	void (*stop)(struct spinatd *d);
	/* The sections and keys this role reads, for --help (indented lines); may be NULL. */
	const char *usage;
};

/* The role table (roles.c), terminated by a NULL name. */
extern const struct spinatd_role spinatd_roles[];

/* role_endpoint.c: an IPsec endpoint (TUN device, raw IP and UDP 4500 sockets). */
int spinatd_endpoint_start(struct spinatd *d);
void spinatd_endpoint_stop(struct spinatd *d);
extern const char spinatd_endpoint_usage[];

/* role_gateway.c: the NAT of src/nat/ on packets the kernel queues (NFQUEUE). */
int spinatd_gateway_start(struct spinatd *d);
void spinatd_gateway_stop(struct spinatd *d);
extern const char spinatd_gateway_usage[];

/* role_lns.c: the L2TP network server of 004 (TUN device, UDP 1701 and 3478). */
int spinatd_lns_start(struct spinatd *d);
void spinatd_lns_stop(struct spinatd *d);
extern const char spinatd_lns_usage[];

/* role_lac.c: the client of 004 [0026] (TUN device, one UDP socket). */
int spinatd_lac_start(struct spinatd *d);
void spinatd_lac_stop(struct spinatd *d);
extern const char spinatd_lac_usage[];

#endif
