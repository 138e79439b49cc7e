/*
 * Inside the simulator core: the world struct and the event record shared by sim.c,
 * link.c, node.c and flow.c. Not for node types or engines; they use sim.h, node.h, link.h.
 */
#ifndef SP_SIM_SIM_INT_H
#define SP_SIM_SIM_INT_H

#include "sim/sim.h"

enum sim_ev_kind {
	SIM_EV_CALL = 1,    /* a = fn, b = arg, u64 = u */
	SIM_EV_TIMER = 2,   /* a = struct sim_timer, u32 = generation */
	SIM_EV_DELIVER = 3, /* a = link, b = pkt, u32 = receiving port, u64 = cut epoch */
};

/* 48 bytes; the heap holds them by value. */
struct sim_ev {
	sp_time t;
	uint64_t seq; /* ties at equal t run in scheduling order */
	uint32_t kind;
	uint32_t u32;
	void *a;
	void *b;
	uint64_t u64;
};

struct sim_flows;

struct sim {
	sp_time now;
	uint64_t seq;
	uint64_t nevents;
	bool stop;
	uint64_t seed;
	int log_level;
	FILE *logf;
	char *pcap_prefix;

	struct sim_ev *heap;
	size_t nheap, capheap;

	struct pkt_pool pool;
	struct sp_log log;
	struct sim_logctx logctx;
	struct sp_ctr_registry link_ctrs;

	struct sim_node *nodes, **nodes_tail;
	uint32_t nnodes;
	uint64_t addr_gen; /* bumped whenever an interface address is added: link caches */
	struct sim_link *links, **links_tail;
	uint32_t nlinks;

	struct sim_flows *flows; /* flow.c, created on first use */
};

int sim_ev_push(struct sim *sim, const struct sim_ev *ev) SP_MUST_CHECK;

/* node.c tells link.c that addresses changed. */
static inline void sim_addrs_changed(struct sim *sim)
{
	sim->addr_gen++;
}

/* link.c */
void sim_link_deliver(struct sim *sim, struct sim_link *l, uint32_t port, struct pkt *p,
		      uint64_t epoch);
void sim_link_destroy(struct sim_link *l);
/* node.c */
void sim_node_destroy(struct sim_node *n);
/* flow.c */
void sim_flows_free(struct sim_flows *f);

#endif
