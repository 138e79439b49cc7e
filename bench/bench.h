/*
 * spinat-bench: programs that print numbers. Each subcommand lives in its own file and has
 * a row in the table of spinat-bench.c.
 */
#ifndef SP_BENCH_H
#define SP_BENCH_H

#include "base/sp.h"

#include <stdio.h>
#include <time.h>

struct bench_opts {
	double seconds; /* minimum measuring time per figure */
	bool quick;	/* fewer sizes / smaller tables, for smoke runs */
	bool smoke;	/* tiny sizes, no kernel reference: the test suite's run (implies quick) */
};

struct bench_cmd {
	const char *name;
	int (*fn)(const struct bench_opts *o, int argc, char **argv);
	const char *help;
};

/* Nanoseconds of a clock: CLOCK_MONOTONIC (bench_now()), CLOCK_THREAD_CPUTIME_ID (the CPU
 * time of this thread: on a machine shared with other work, time spent waiting for the
 * processor is not charged to either side of a comparison), CLOCK_PROCESS_CPUTIME_ID. */
uint64_t bench_clock(clockid_t clock);
/* Monotonic nanoseconds. */
uint64_t bench_now(void);
/* This thread's CPU time in nanoseconds. */
static inline uint64_t bench_cpu_now(void)
{
	return bench_clock(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * Call fn(arg, batch) repeatedly until o->seconds have passed; returns operations per
 * second where each call performs `batch` operations.
 */
double bench_rate(const struct bench_opts *o, void (*fn)(void *arg, uint64_t batch), void *arg,
		  uint64_t batch);

/* Keep the compiler from optimising away a computed value. */
static inline void bench_sink(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Subcommands, one file each, listed in cmds.c. */
/* Calls to malloc, calloc, realloc and aligned_alloc so far (bench_alloc.c). */
uint64_t bench_alloc_count(void);

int bench_nat_main(const struct bench_opts *o, int argc, char **argv);
int bench_sim_main(const struct bench_opts *o, int argc, char **argv);
int bench_lanes_main(const struct bench_opts *o, int argc, char **argv);
int bench_ike_main(const struct bench_opts *o, int argc, char **argv);
int bench_esp_main(const struct bench_opts *o, int argc, char **argv);

#endif
