/* A small fork-join pool (io/lanes.h). */
#include "io/lanes.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LANES_SPIN 2048 /* pauses before sleeping: the owner's on a chunk, a thread's on a run */

struct lane_thread {
	struct io_lanes *l;
	unsigned lane;
	pthread_t thread;
	bool started;
};

struct io_lanes {
	io_lanes_fn *fn;
	void *arg;
	unsigned n; /* threads besides the owner's */
	/* The run in hand: jobs in the high half, the next unclaimed in the low half. */
	_Atomic uint64_t claim;
	_Atomic uint32_t chunk; /* jobs per claim */
	_Atomic uint32_t done;	/* jobs finished in the run in hand */
	_Atomic uint32_t gen;	/* runs started: the threads' futex */
	_Atomic uint32_t sleepers;
	_Atomic bool owner_sleeps; /* the owner waits on done's futex */
	_Atomic bool stop;
	_Atomic uint64_t helped;
	struct io_lanes_stats st;
	struct lane_thread th[IO_LANES_MAX - 1];
};

static void futex_wait(_Atomic uint32_t *w, uint32_t v)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w, int n)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void pause_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Claim and run chunks of the run in hand until none is left; the jobs this lane ran. */
static uint32_t work(struct io_lanes *l, unsigned lane)
{
	uint64_t c = atomic_load(&l->claim);
	uint32_t ran = 0;

	for (;;) {
		uint32_t njobs = (uint32_t)(c >> 32), next = (uint32_t)c, k;

		if (next >= njobs)
			return ran;
		k = atomic_load(&l->chunk);
		if (k > njobs - next)
			k = njobs - next;
		if (!atomic_compare_exchange_weak(&l->claim, &c, c + k))
			continue; /* c holds the word as it is now */
		l->fn(l->arg, lane, next, next + k);
		ran += k;
		if (atomic_fetch_add(&l->done, k) + k == njobs && atomic_load(&l->owner_sleeps))
			futex_wake(&l->done, 1);
		c = atomic_load(&l->claim);
	}
}

static void *run(void *arg)
{
	struct lane_thread *t = arg;
	struct io_lanes *l = t->l;
	uint32_t seen = 0;

	for (;;) {
		uint32_t g;

		for (unsigned i = 0; i < LANES_SPIN && atomic_load(&l->gen) == seen; i++)
			pause_cpu();
		while ((g = atomic_load(&l->gen)) == seen && !atomic_load(&l->stop)) {
			atomic_fetch_add(&l->sleepers, 1);
			if (atomic_load(&l->gen) == seen && !atomic_load(&l->stop))
				futex_wait(&l->gen, seen);
			atomic_fetch_sub(&l->sleepers, 1);
		}
		if (atomic_load(&l->stop))
			return NULL;
		seen = g;
		atomic_fetch_add_explicit(&l->helped, work(l, t->lane), memory_order_relaxed);
	}
}

int io_lanes_new(struct io_lanes **out, unsigned n, io_lanes_fn *fn, void *arg)
{
	struct io_lanes *l;

	*out = NULL;
	if (n == 0 || n >= IO_LANES_MAX || fn == NULL)
		return SP_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SP_ENOMEM;
	l->fn = fn;
	l->arg = arg;
	l->n = n;
	for (unsigned i = 0; i < n; i++) {
		l->th[i] = (struct lane_thread){ .l = l, .lane = i + 1 };
		if (pthread_create(&l->th[i].thread, NULL, run, &l->th[i]) != 0) {
			io_lanes_free(l);
			return SP_ENOMEM;
		}
		l->th[i].started = true;
	}
	*out = l;
	return 0;
}

void io_lanes_free(struct io_lanes *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stop, true);
	atomic_fetch_add(&l->gen, 1);
	futex_wake(&l->gen, INT_MAX);
	for (unsigned i = 0; i < l->n; i++)
		if (l->th[i].started)
			pthread_join(l->th[i].thread, NULL);
	free(l);
}

unsigned io_lanes_count(const struct io_lanes *l)
{
	return l->n + 1;
}

void io_lanes_run(struct io_lanes *l, unsigned njobs)
{
	uint32_t k = njobs / (4 * (l->n + 1));

	if (njobs == 0)
		return;
	l->st.runs++;
	l->st.jobs += njobs;
	/* done is back to 0 before the word offers the first chunk (both sequentially
	 * consistent), and the last run's chunks were all finished. */
	atomic_store(&l->done, 0);
	atomic_store(&l->chunk, k != 0 ? k : 1);
	atomic_store(&l->claim, (uint64_t)njobs << 32);
	atomic_fetch_add(&l->gen, 1);
	if (atomic_load(&l->sleepers) != 0) {
		futex_wake(&l->gen, INT_MAX);
		l->st.wakeups++;
	}
	work(l, 0);
	for (unsigned i = 0; i < LANES_SPIN && atomic_load(&l->done) != njobs; i++)
		pause_cpu();
	for (;;) {
		uint32_t d;

		atomic_store(&l->owner_sleeps, true);
		if ((d = atomic_load(&l->done)) == njobs)
			break;
		l->st.waits++;
		futex_wait(&l->done, d);
	}
	atomic_store(&l->owner_sleeps, false);
}

void io_lanes_stats(const struct io_lanes *l, struct io_lanes_stats *s)
{
	*s = l->st;
	s->helped = atomic_load_explicit(&l->helped, memory_order_relaxed);
}
