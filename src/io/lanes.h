/*
 * Lanes: a small fork-join pool. The owner's thread (lane 0) and n others (lanes 1 .. n)
 * run one function over a range of independent jobs, and io_lanes_run() returns when all
 * are done. The engine's crypto lanes (ipsec/ipsec.h) run on it: the owner keeps all
 * state, the lanes only the cryptography of independent packets.
 *
 * Jobs are claimed a few at a time from one atomic word, by whichever lane comes first: a
 * thread the scheduler has not run yet (on a busy machine with few CPUs) leaves its share
 * to the owner instead of holding the run up, and the owner waits only for chunks claimed
 * and not yet finished. The threads sleep on a futex between runs and are woken only when
 * asleep; each side spins a little before it sleeps (the owner for a chunk in flight, a
 * thread for the next run), since a wake-up is dear on a virtual machine and chunks are
 * short. Nothing is allocated per run.
 */
#ifndef SP_IO_LANES_H
#define SP_IO_LANES_H

#include "base/sp.h"

#define IO_LANES_MAX 8 /* lanes, the owner's included */

/* Run jobs [from, to) as lane (1 .. n on the pool's threads, 0 on the owner's). */
typedef void io_lanes_fn(void *arg, unsigned lane, unsigned from, unsigned to);

struct io_lanes;

struct io_lanes_stats {
	uint64_t runs;	  /* io_lanes_run() calls */
	uint64_t jobs;	  /* jobs in them */
	uint64_t helped;  /* jobs the pool's threads ran */
	uint64_t wakeups; /* futex wake-ups of sleeping threads */
	uint64_t waits;	  /* times the owner slept waiting for a chunk to finish */
};

/* n threads besides the owner's (1 .. IO_LANES_MAX - 1), each running fn(arg, ...). */
int io_lanes_new(struct io_lanes **out, unsigned n, io_lanes_fn *fn, void *arg) SP_MUST_CHECK;
/* Stop and join the threads, free; accepts NULL. */
void io_lanes_free(struct io_lanes *l);
/* Lanes in all, the owner's included. */
unsigned io_lanes_count(const struct io_lanes *l);
/* Run jobs [0, njobs) on all lanes, return when all are done. */
void io_lanes_run(struct io_lanes *l, unsigned njobs);
void io_lanes_stats(const struct io_lanes *l, struct io_lanes_stats *s);

#endif
