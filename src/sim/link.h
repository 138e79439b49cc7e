/*
 * Links: a segment joining two or more node interfaces (ports). A packet sent on a port is
 * delivered to the port whose interface holds the next-hop address (a point-to-point link
 * delivers to the other end whatever the address, like a serial line). On the way it meets
 * the link's impairments: serialisation at a rate with a tail-drop queue, propagation delay,
 * jitter (per-sender FIFO kept), loss, duplication, reordering, and cuts. Every outcome
 * has a counter; a pcap file records what each port received, stamped with virtual time.
 */
#ifndef SP_SIM_LINK_H
#define SP_SIM_LINK_H

#include "sim/sim.h"

struct io_pcap_writer;

struct sim_link_params {
	sp_time delay;	      /* one-way propagation delay */
	sp_time jitter;	      /* extra delay, uniform in [0, jitter]; per-sender FIFO is kept */
	double loss;	      /* probability a packet is lost, 0..1 */
	double dup;	      /* probability a packet arrives twice, 0..1 */
	double reorder;	      /* probability a packet is held back by reorder_gap, 0..1 */
	sp_time reorder_gap;  /* hold-back of a reordered packet; 0: delay + 1 ms */
	uint64_t rate_bps;    /* serialisation rate in bits/s per sending port; 0: unlimited */
	uint32_t queue_bytes; /* with a rate: bytes waiting before tail drop; 0: 64 KiB */
};

#define foreach_sim_link_ctr(_)                                                              \
	_(SENT, "sent")				/* packets handed to the link */             \
	_(BYTES, "bytes")			/* bytes handed to the link */               \
	_(DATA_PKTS, "data_pkts")		/* of them, tagged flow packets (pkt.tag) */ \
	_(DATA_BYTES, "data_bytes")		/* and their bytes */                        \
	_(DELIVERED, "delivered")		/* packets that reached a port's node */     \
	_(LOST, "lost")				/* dropped by the loss probability */        \
	_(DUPLICATED, "duplicated")		/* extra copies made */                      \
	_(REORDERED, "reordered")		/* held back so later packets overtake */    \
	_(DROP_CUT, "drop_cut")			/* sent while cut, or in flight at a cut */  \
	_(DROP_QUEUE, "drop_queue")		/* tail drop at the rate limit */            \
	_(DROP_NO_NEIGHBOR, "drop_no_neighbor") /* no port holds the next hop */             \
	_(DROP_PORT_DOWN, "drop_port_down")	/* receiving port unplugged */

enum sim_link_ctr {
#define _(sym, str) SIM_LINK_CTR_##sym,
	foreach_sim_link_ctr(_)
#undef _
		SIM_LINK_CTR_N
};

struct sim_link_port {
	struct sim_node *node;
	unsigned ifi;	      /* the node's interface index */
	sp_time extra_delay;  /* added to the link delay for packets to this port */
	bool down;	      /* unplugged: packets to it are dropped */
	sp_time busy_until;   /* serialisation: the sender is busy until then */
	sp_time last_arrival; /* FIFO: no packet from this sender arrives before it */
	uint64_t epoch;	      /* bumped when the port goes down */
};

struct sim_link {
	struct sim *sim;
	char name[SIM_NAME_MAX];
	struct sim_link_params prm;
	bool up;
	uint64_t epoch; /* bumped at every cut: packets in flight then are dropped */
	struct sim_link_port *ports;
	unsigned nports, capports;
	/* Next-hop address -> port for segments of more than two ports: open addressing,
	 * rebuilt when the world's addresses changed. */
	struct sim_link_nh {
		uint32_t addr;
		uint32_t port1; /* port + 1; 0: empty slot */
	} * nh;
	uint32_t nh_mask;
	uint64_t nh_gen;
	struct sp_xoshiro rng; /* "link:<name>" */
	struct io_pcap_writer *pcap;
	struct sp_ctrs ctr_blk;
	uint64_t ctr[SIM_LINK_CTR_N];
	struct sim_link *next;
};

/* A link named `name` (unique in the world) with the given impairments (NULL: ideal). */
int sim_link_new(struct sim *sim, const char *name, const struct sim_link_params *prm,
		 struct sim_link **out) SP_MUST_CHECK;
/* Change impairments at run time (e.g. from a fault); in-flight packets keep their times. */
void sim_link_set_params(struct sim_link *l, const struct sim_link_params *prm);
/* Start writing every packet a port receives to a pcap file (LINKTYPE_RAW). */
int sim_link_pcap(struct sim_link *l, const char *path) SP_MUST_CHECK;

/* Cut (false) or repair (true) the whole link. A cut drops packets in flight. */
void sim_link_set_up(struct sim_link *l, bool up);
/* Unplug or replug one port (a node's cable); packets in flight to it are dropped. */
void sim_link_port_set_up(struct sim_link *l, unsigned port, bool up);
/* Extra one-way delay towards one port (stagger clients on a LAN for race scenarios). */
void sim_link_port_delay(struct sim_link *l, unsigned port, sp_time extra);

/* Attach a node interface; used by sim_iface_add(). *port receives the port index. */
int sim_link_attach(struct sim_link *l, struct sim_node *n, unsigned ifi,
		    unsigned *port) SP_MUST_CHECK;

/*
 * Put a packet on the link from `from_port` towards the port holding `nexthop`. Consumes
 * p: it is delivered later, or dropped and counted now. Nodes call this through
 * sim_node_xmit().
 */
void sim_link_send(struct sim_link *l, unsigned from_port, uint32_t nexthop, struct pkt *p);

/* The port whose node can be reached as `nexthop` from `from_port`, or -1. */
int sim_link_resolve(const struct sim_link *l, unsigned from_port, uint32_t nexthop);

static inline uint64_t sim_link_ctr(const struct sim_link *l, enum sim_link_ctr c)
{
	return l->ctr[c];
}

#endif
