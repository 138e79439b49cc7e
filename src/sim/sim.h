/*
 * The simulator's world: a virtual clock in nanoseconds, one event queue ordered by (time,
 * insertion sequence), the packet pool, independent seeded random streams, logs that prefix
 * virtual time, and the counters of every node and link. Nodes (sim/node.h) and links
 * (sim/link.h) live in a world; nothing in it reads a real clock or the kernel's random
 * source, so a run is a function of its seed and its inputs.
 */
#ifndef SP_SIM_SIM_H
#define SP_SIM_SIM_H

#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"

#include <stdio.h>

#define SIM_NAME_MAX	 32
#define SIM_POOL_DEFAULT 8192 /* packets; enough for tens of thousands of packets in flight */

struct sim;
struct sim_node;
struct sim_link;

struct sim_cfg {
	uint64_t seed;
	uint32_t pool_pkts; /* 0: SIM_POOL_DEFAULT */
	FILE *logf;	    /* log lines go here; NULL: stderr */
	int log_level;	    /* SP_LOG_*; lines above it are discarded */
	/* Non-NULL: every link created afterwards writes "<prefix><link name>.pcap". */
	const char *pcap_prefix;
};

int sim_new(struct sim **out, const struct sim_cfg *cfg) SP_MUST_CHECK;
/* Frees every node, link, pending event and packet; accepts NULL. */
void sim_free(struct sim *sim);

sp_time sim_now(const struct sim *sim);
uint64_t sim_seed(const struct sim *sim);
struct pkt_pool *sim_pool(struct sim *sim);
/* The world's own log (module lines without a node); nodes have their own (node.h). */
const struct sp_log *sim_log(const struct sim *sim);
int sim_log_level(const struct sim *sim);
/* Link counters; node counters live in each node's registry. */
struct sp_ctr_registry *sim_link_ctrs(struct sim *sim);

/*
 * Run events in order until the queue is empty, sim_stop() is called, or the next event
 * is later than `until` (then the clock stands at `until`). Returns the number of events
 * run. Events at equal times run in the order they were scheduled.
 */
uint64_t sim_run_until(struct sim *sim, sp_time until);
void sim_stop(struct sim *sim);
/* Events run since sim_new(), for performance figures. */
uint64_t sim_events(const struct sim *sim);
/* Events waiting in the queue (stale timer events included). */
size_t sim_pending(const struct sim *sim);

/* A one-off call at time t (clamped to now): faults, scenario steps. */
typedef void (*sim_call_fn)(struct sim *sim, void *arg, uint64_t u);
int sim_at(struct sim *sim, sp_time t, sim_call_fn fn, void *arg, uint64_t u) SP_MUST_CHECK;

/*
 * A re-armable timer, owned by its user and living as long as the world. Arming later than
 * an already queued time queues nothing (the queued event re-queues itself when it finds
 * the deadline moved), so a deadline pushed back on every packet costs no queue growth.
 */
struct sim_timer;
typedef void (*sim_timer_fn)(struct sim *sim, struct sim_timer *t, sp_time now);
struct sim_timer {
	sp_time when;	/* wanted expiry, SP_TIME_NEVER when idle */
	sp_time queued; /* time of the live queued event, SP_TIME_NEVER if none */
	uint32_t gen;	/* events of older generations are stale */
	sim_timer_fn fn;
	void *arg;
};

void sim_timer_init(struct sim_timer *t, sim_timer_fn fn, void *arg);
/* Fire at `when` (clamped to now); SP_TIME_NEVER disarms. */
int sim_timer_arm(struct sim *sim, struct sim_timer *t, sp_time when) SP_MUST_CHECK;
void sim_timer_cancel(struct sim_timer *t);

/*
 * An independent random stream named `name` (e.g. "link:uplink", "node:c1/ike"): the seed
 * is a keyed hash of the name under the world's seed, so adding a node or link does not
 * change the draws any other entity sees.
 */
void sim_rng_derive(const struct sim *sim, const char *name, struct sp_xoshiro *out);

/* Nodes and links by name, in creation order. */
struct sim_node *sim_node_find(struct sim *sim, const char *name);
struct sim_link *sim_link_find(struct sim *sim, const char *name);
struct sim_node *sim_node_first(struct sim *sim);
struct sim_link *sim_link_first(struct sim *sim);

/* "module.name" summed over every node and link registry. */
uint64_t sim_ctr_total(struct sim *sim, const char *module, const char *name);
/* Every counter of every node and link ("instance module.name value"); zeros unless !all. */
void sim_ctr_dump(struct sim *sim, FILE *f, bool all);
/* Whether a counter name is a drop reason: "drop_*", "<strategy>_drop_*" or "lost". */
bool sim_ctr_is_drop(const char *name);
/* Call fn for every non-zero counter that is a drop reason (sim_ctr_is_drop). */
void sim_ctr_each_drop(struct sim *sim,
		       void (*fn)(void *arg, const char *inst, const char *mod, const char *name,
				  uint64_t v),
		       void *arg);

/*
 * Formats a log line as "[seconds.nanoseconds] who level module: msg" at the world's
 * virtual time; the sink of every node log. arg is the struct sim_logctx of the owner.
 */
struct sim_logctx {
	struct sim *sim;
	const char *who;
};
void sim_log_sink(void *arg, int level, const char *module, const char *msg);

#endif
