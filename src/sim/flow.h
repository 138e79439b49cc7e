/*
 * Traffic and its accounting. UDP flows carry (magic, flow id, sequence number, sender id,
 * send time) in their payload, so whichever node a packet reaches can tell the world's flow
 * registry: delivered to the flow's destination, misdelivered to another node, or a
 * duplicate; what was sent and never delivered is lost. Pings measure reachability and
 * round trips. Generators pause while their node is down and count what they could not send.
 * Accounting lives in the world, outside the nodes, so a crash does not erase it.
 */
#ifndef SP_SIM_FLOW_H
#define SP_SIM_FLOW_H

#include "sim/node.h"

#define SIM_FLOW_MAGIC	 0x53504e46u /* "SPNF" */
#define SIM_FLOW_HDR_LEN 24	     /* magic, flow, seq, sender (4 each), send time (8) */
#define SIM_FLOW_NONE	 UINT32_MAX

struct sim_flow_spec {
	const char *name;      /* e.g. "c1>gw"; copied */
	struct sim_node *src;  /* sender, an IP node */
	struct sim_node *dst;  /* the node meant to receive it */
	uint32_t dst_addr;     /* destination address; 0: learned, see reply_to */
	uint32_t reply_to;     /* with dst_addr 0: send to the address and port the packets of
				  flow reply_to last came from (a server answering a client
				  behind a NAT); SIM_FLOW_NONE otherwise */
	uint16_t sport, dport; /* dport 0: same as sport */
	uint32_t size;	       /* UDP payload bytes, at least SIM_FLOW_HDR_LEN */
	sp_time start;	       /* first packet */
	sp_time interval;      /* between packets */
	uint32_t count;	       /* packets to send */
};

struct sim_flow_stats {
	uint64_t sent;	       /* handed to the sender's stack */
	uint64_t not_sent;     /* due but not sent: sender down, peer not learned, no route */
	uint64_t delivered;    /* reached dst, first copy */
	uint64_t misdelivered; /* reached a node other than dst */
	uint64_t duplicated;   /* reached dst again */
	uint64_t lost;	       /* sent - delivered, valid after sim_flows_finish() */
	sp_time delay_sum, delay_max;
	sp_time first_rx, last_rx; /* SP_TIME_NEVER until something arrives */
	sp_time mark_rx;	   /* first delivery at or after the recovery mark */
	sp_time last_tx;	   /* send time of the last packet sent */
	uint32_t learned_addr;	   /* where reply flows go (last source seen) */
	uint16_t learned_port;
};

/* Register and start a flow; *id (may be NULL) receives its id, 0, 1, ... */
int sim_flow_add(struct sim *sim, const struct sim_flow_spec *spec, uint32_t *id) SP_MUST_CHECK;
const struct sim_flow_stats *sim_flow_stats(struct sim *sim, uint32_t id);
const char *sim_flow_name(struct sim *sim, uint32_t id);
uint32_t sim_flow_count(struct sim *sim);

/* Recovery is measured from this time (e.g. the repair of the last fault). */
void sim_flows_mark(struct sim *sim, sp_time t);

struct sim_flow_totals {
	uint64_t sent, not_sent, delivered, misdelivered, duplicated, lost;
	uint64_t payload_bytes_sent;
	sp_time delay_max;
	double delay_avg; /* seconds */
	sp_time recovery; /* max over flows active after the mark of (mark_rx - mark) */
	bool recovered;	  /* every flow sending after the mark delivered after it */
	uint32_t flows_after_mark;
};
/* Compute lost counts and totals; call after the run has drained. */
void sim_flows_finish(struct sim *sim, struct sim_flow_totals *t);

/*
 * Called by the IP stack for every UDP payload it receives: true when it was a flow packet
 * (accounted; the caller frees the packet), false otherwise.
 */
bool sim_flow_rx(struct sim_node *n, sp_time now, const uint8_t *payload, size_t len, uint32_t src,
		 uint16_t sport);

/* ---- ping ------------------------------------------------------------------------- */

struct sim_ping_spec {
	struct sim_node *src;
	uint32_t dst;
	uint16_t id;   /* ICMP echo identifier */
	uint32_t size; /* payload bytes, at least 8 (the send time) */
	sp_time start, interval;
	uint32_t count;
};

struct sim_ping_stats {
	uint64_t sent, received, duplicated, not_sent;
	sp_time rtt_min, rtt_max, rtt_sum;
};

int sim_ping_add(struct sim *sim, const struct sim_ping_spec *spec, uint32_t *id) SP_MUST_CHECK;
const struct sim_ping_stats *sim_ping_stats(struct sim *sim, uint32_t id);
/* Called by the IP stack for an echo reply: true when a ping of n claimed it. */
bool sim_ping_rx(struct sim_node *n, sp_time now, uint16_t id, uint16_t seq, const uint8_t *payload,
		 size_t len);

#endif
