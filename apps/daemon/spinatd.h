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

/* The last packet a role dropped, as far as it knows it: the first-drop log line names it. */
struct spinatd_peer {
	uint32_t src, dst;
	uint16_t sport, dport; /* TCP and UDP only */
	uint8_t proto;
	const char *way; /* where it came from: "from inside", "from the network", ... */
	const char *why; /* the counter it was dropped under, when the role knows; or NULL */
	bool set;
};

struct spinatd {
	const char *name; /* instance name for logs and counters */
	const char *cfg_path;
	struct conf *conf; /* the running configuration (a reload that fails keeps it) */
	struct io_loop *loop;
	struct io_ctl *ctl;
	struct sp_log log;
	struct sp_ctr_registry ctrs;
	struct pkt_pool pool;
	bool check;	   /* --check: validate the configuration, open nothing */
	int conf_level;	   /* the configured log level, which SIGUSR1 toggles back to */
	bool no_rules;	   /* --no-rules: the gateway leaves the NFQUEUE rules to the operator */
	bool queue_bypass; /* --queue-bypass */
	void *role_state;  /* owned by the role */
	struct spinatd_peer last_drop;
	/* A role whose engine keeps its own last drop (the endpoint's IPsec engine) copies it
	 * into last_drop here; the drop watch calls it before it writes its lines. May be NULL. */
	void (*peek_drop)(struct spinatd *d);
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
