/* Helpers shared by the simulator's unit tests: a recording node type and packet builders. */
#ifndef SP_TEST_SIMTEST_H
#define SP_TEST_SIMTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sim.h"
#include "sim/link.h"
#include "sim/node.h"
#include "sim/ipnode.h"
#include "base/addr.h"
#include "base/cursor.h"

#define REC_MAX 65536

/* A node that records what arrives: time and a 32-bit word from the packet. */
struct rec {
	unsigned n;
	sp_time t[REC_MAX];
	uint32_t word[REC_MAX];
	unsigned word_off; /* where in the packet the word is read */
	unsigned crashes, restarts;
};

static void rec_input(struct sim_node *n, sp_time now, struct pkt *p, unsigned ifi)
{
	struct rec *r = n->priv;

	(void)ifi;
	if (r->n < REC_MAX) {
		r->t[r->n] = now;
		r->word[r->n] =
			p->len >= r->word_off + 4 ? sp_load_be32(pkt_data(p) + r->word_off) : 0;
		r->n++;
	}
	pkt_free(p);
}

static void rec_crash(struct sim_node *n, sp_time now)
{
	(void)now;
	((struct rec *)n->priv)->crashes++;
}

static void rec_restart(struct sim_node *n, sp_time now)
{
	(void)now;
	((struct rec *)n->priv)->restarts++;
}

static void rec_destroy(struct sim_node *n)
{
	free(n->priv);
}

static const struct sim_node_ops rec_ops = {
	.type = "rec",
	.input = rec_input,
	.crash = rec_crash,
	.restart = rec_restart,
	.destroy = rec_destroy,
};

static inline struct sim_node *rec_node(struct sim *sim, const char *name)
{
	struct sim_node *n;
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(sim_node_new(sim, name, &rec_ops, r, &n), 0);
	return n;
}

static inline struct rec *rec_of(struct sim_node *n)
{
	return n->priv;
}

static inline struct sim *world(uint64_t seed)
{
	struct sim_cfg cfg = { .seed = seed, .log_level = SP_LOG_WARN, .pool_pkts = 4096 };
	struct sim *sim;

	assert_int_equal(sim_new(&sim, &cfg), 0);
	return sim;
}

/* A packet of len bytes whose bytes 0..3 hold word (not an IP packet: links do not care). */
static inline struct pkt *word_pkt(struct sim *sim, uint32_t word, uint32_t len)
{
	struct pkt *p = pkt_alloc(sim_pool(sim));
	uint8_t *b;

	assert_non_null(p);
	assert_non_null(b = pkt_put(p, len));
	memset(b, 0, len);
	sp_store_be32(b, word);
	return p;
}

static inline uint32_t ip4(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sp_ip4_parse(s, &a), 0);
	return a;
}

#endif
