/*
 * An LNS on a virtual network, for the unit tests of 004's client and relay: the LNS
 * (l2tp/l2tp_lns.h) at LNSNET_LNS with its discovery service, the tunnel secret "tunnel",
 * one PPP user and the IPsec gateway LNSNET_GW; datagrams wait in one FIFO and time is
 * virtual. The LNS takes what is sent to it; the test takes the rest (what the LNS sends
 * and what its own nodes send) and names its nodes' deadlines and ticks.
 */
#ifndef SP_TESTS_LNSNET_H
#define SP_TESTS_LNSNET_H

#include "base/addr.h"
#include "base/rand.h"
#include "l2tp/l2tp_lns.h"

#define LNSNET_LNS SP_IP4(198, 51, 100, 1)
#define LNSNET_GW  SP_IP4(192, 0, 2, 10)
#define LNSNET_QN  256

enum lnsnet_to {
	LNSNET_TO_LNS,	   /* the LNS's UDP side: L2TP, or discovery on STUN_PORT */
	LNSNET_TO_LNS_NET, /* the LNS's net side: an IPv4 packet */
	LNSNET_TO_TEST,	   /* everything else: the test's deliver */
};

struct lnsnet_dg {
	enum lnsnet_to to;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint16_t len;
	uint8_t b[1600];
};

struct lnsnet_ops {
	/* A datagram for the test's nodes, LNSNET_TO_TEST. */
	void (*deliver)(void *arg, const struct lnsnet_dg *d);
	/* An IPv4 packet the LNS sends to its net side. */
	void (*net_out)(void *arg, const uint8_t *b, size_t len);
	/* The test's nodes: their earliest deadline, and their ticks. */
	sp_time (*next_deadline)(void *arg);
	void (*tick)(void *arg, sp_time now);
	void *arg;
};

struct lnsnet {
	struct l2tp_lns *lns;
	struct lnsnet_ops ops;
	struct lnsnet_dg q[LNSNET_QN];
	int qn;
	sp_time now;
	struct sp_xoshiro rng; /* the LNS's, and the test's nodes' */
	bool lns_dead;	       /* the LNS gets nothing */
	bool block_stun;       /* discovery gets nothing */
};

/* The LNS's configuration: the defaults, tunnel secret "tunnel", PPP user user with
 * password (and fixed address addr, 0 for one from the pool), gateway LNSNET_GW/32. */
void lnsnet_cfg(struct l2tp_lns_cfg *cfg, const char *user, const char *password, uint32_t addr);

/* n (zeroed by the caller): the rng seeded with seed, then the LNS from cfg. */
void lnsnet_init(struct lnsnet *n, const struct l2tp_lns_cfg *cfg, uint64_t seed,
		 const struct lnsnet_ops *ops);
void lnsnet_fini(struct lnsnet *n);

/* Queue a datagram (a UDP payload, or for LNSNET_TO_LNS_NET an IPv4 packet). */
void lnsnet_send(struct lnsnet *n, enum lnsnet_to to, uint32_t src, uint16_t sport, uint32_t dst,
		 uint16_t dport, const uint8_t *b, size_t len);

/* Deliver everything queued (and what that sends), then advance to deadlines until t. */
void lnsnet_run(struct lnsnet *n, sp_time until);

#endif
