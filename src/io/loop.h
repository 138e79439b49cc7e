/*
 * The real world's event loop (epoll + timers + signals) for the daemons. Only io/ reads
 * the clock or the kernel's random source; the sans-IO modules are handed `now` and a
 * struct sp_rng by the code that owns the loop.
 */
#ifndef SP_IO_LOOP_H
#define SP_IO_LOOP_H

#include "base/rand.h"
#include "base/time.h"

#include <sys/epoll.h>

struct io_loop;

typedef void (*io_fd_cb)(struct io_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*io_timer_cb)(struct io_loop *loop, void *arg);

/* A one-shot timer the caller owns; re-arm from the callback for periodic work. */
struct io_timer {
	sp_time when;
	io_timer_cb cb;
	void *arg;
	int32_t idx; /* position in the loop's heap, -1 when not armed */
};

int io_loop_new(struct io_loop **out) SP_MUST_CHECK;
void io_loop_free(struct io_loop *loop);

/* Watch fd for events (EPOLLIN, EPOLLOUT); one callback per fd. */
int io_loop_add_fd(struct io_loop *loop, int fd, uint32_t events, io_fd_cb cb,
		   void *arg) SP_MUST_CHECK;
int io_loop_mod_fd(struct io_loop *loop, int fd, uint32_t events) SP_MUST_CHECK;
void io_loop_del_fd(struct io_loop *loop, int fd);

void io_timer_init(struct io_timer *t, io_timer_cb cb, void *arg);
/* Arm (or move) the timer to fire at `when` (io_now() clock); SP_TIME_NEVER disarms. */
int io_timer_arm(struct io_loop *loop, struct io_timer *t, sp_time when) SP_MUST_CHECK;
void io_timer_cancel(struct io_loop *loop, struct io_timer *t);

/* Run until io_loop_stop() or SIGINT, SIGTERM or SIGQUIT; returns 0, or an error code.
 * SIGHUP, SIGUSR1 and SIGUSR2 are blocked and read from a signalfd too: they call the
 * handler set with io_loop_on_signal(), or are ignored; none of them ends the process. */
int io_loop_run(struct io_loop *loop) SP_MUST_CHECK;
void io_loop_stop(struct io_loop *loop);
typedef void (*io_signal_cb)(struct io_loop *loop, int signo, void *arg);
/* Handle SIGHUP, SIGUSR1 or SIGUSR2 (others: SP_EINVAL); cb NULL ignores it again. */
int io_loop_on_signal(struct io_loop *loop, int signo, io_signal_cb cb, void *arg) SP_MUST_CHECK;
/* The signal that stopped the loop, 0 if none. */
int io_loop_stop_signal(const struct io_loop *loop);

/* CLOCK_MONOTONIC in ns. */
sp_time io_now(void);

/* An sp_rng over getrandom(2): cryptographically strong, for the daemons. */
extern struct sp_rng io_rng;

#endif
