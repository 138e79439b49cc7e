/* io/lanes.h: every job of a run runs once, on a lane in range, and the run returns only
 * when all are done, whatever the sizes of the runs and however the threads are scheduled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/lanes.h"

#include <stdatomic.h>
#include <time.h>

#define MAXJOBS 300

struct rec {
	_Atomic unsigned runs[MAXJOBS]; /* times each job ran */
	_Atomic unsigned bad_lane;
	_Atomic unsigned by_thread; /* jobs lanes other than 0 ran */
	unsigned lanes;
	unsigned njobs; /* of the run in hand: a job beyond it must not run */
};

static void job(void *arg, unsigned lane, unsigned from, unsigned to)
{
	struct rec *r = arg;

	if (lane >= r->lanes || from >= to || to > r->njobs)
		atomic_fetch_add(&r->bad_lane, 1);
	for (unsigned i = from; i < to && i < MAXJOBS; i++) {
		/* Some work, so that the other lane has time to claim a share. */
		volatile unsigned x = 0;

		for (unsigned k = 0; k < 2000; k++)
			x = x + k;
		(void)x;
		atomic_fetch_add(&r->runs[i], 1);
	}
	if (lane != 0)
		atomic_fetch_add(&r->by_thread, to - from);
}

static void every_job_once(void **state)
{
	for (unsigned threads = 1; threads <= 3; threads++) {
		static struct rec r;
		struct io_lanes_stats st;
		struct io_lanes *l;
		uint64_t total = 0;

		(void)state;
		memset(&r, 0, sizeof(r));
		r.lanes = threads + 1;
		assert_int_equal(io_lanes_new(&l, threads, job, &r), 0);
		assert_int_equal(io_lanes_count(l), threads + 1);
		for (unsigned run = 0; run < 400; run++) {
			unsigned n = 1 + (run * 37) % MAXJOBS;

			r.njobs = n;
			io_lanes_run(l, n);
			/* All done on return, each exactly once. */
			for (unsigned i = 0; i < MAXJOBS; i++) {
				assert_int_equal(atomic_load(&r.runs[i]), i < n ? 1 : 0);
				atomic_store(&r.runs[i], 0);
			}
			total += n;
		}
		io_lanes_run(l, 0); /* nothing to do: returns */
		io_lanes_stats(l, &st);
		assert_int_equal(atomic_load(&r.bad_lane), 0);
		assert_int_equal(st.runs, 400);
		assert_int_equal(st.jobs, total);
		assert_int_equal(st.helped, atomic_load(&r.by_thread));
		assert_true(st.helped <= total);
		io_lanes_free(l);
	}
}

/* The owner holds its first chunk until another lane has run a job: the run can only end
 * if the pool's thread takes a share (with no thread it would wait its 10 s and fail). */
struct hold {
	_Atomic unsigned by_thread;
	_Atomic bool held;
	bool timed_out;
};

static void held_job(void *arg, unsigned lane, unsigned from, unsigned to)
{
	struct hold *h = arg;

	if (lane != 0) {
		atomic_fetch_add(&h->by_thread, to - from);
		return;
	}
	if (!atomic_exchange(&h->held, true)) {
		struct timespec t0, t;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while (atomic_load(&h->by_thread) == 0 && t.tv_sec - t0.tv_sec < 10);
		h->timed_out = atomic_load(&h->by_thread) == 0;
	}
}

static void threads_take_a_share(void **state)
{
	static struct hold h;
	struct io_lanes_stats st;
	struct io_lanes *l;

	(void)state;
	assert_int_equal(io_lanes_new(&l, 1, held_job, &h), 0);
	io_lanes_run(l, 16);
	io_lanes_stats(l, &st);
	assert_false(h.timed_out);
	assert_true(atomic_load(&h.by_thread) >= 1);
	assert_int_equal(st.helped, atomic_load(&h.by_thread));
	io_lanes_free(l);
}

static void bad_arguments(void **state)
{
	struct io_lanes *l = (struct io_lanes *)&l;

	(void)state;
	assert_int_not_equal(io_lanes_new(&l, 0, job, NULL), 0);
	assert_null(l);
	assert_int_not_equal(io_lanes_new(&l, IO_LANES_MAX, job, NULL), 0);
	assert_int_not_equal(io_lanes_new(&l, 1, NULL, NULL), 0);
	io_lanes_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_job_once),
		cmocka_unit_test(threads_take_a_share),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
