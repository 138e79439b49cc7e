/*
 * The daemons' control socket: a Unix stream socket that answers one command per
 * connection. The client (apps/spinat.c) sends one line of words ("show nat\n"); the daemon
 * answers "OK\n" and the output, or "ERR message\n", and closes. Modules register the
 * commands they serve; the longest registered prefix of the words wins.
 */
#ifndef SP_IO_CTL_H
#define SP_IO_CTL_H

#include "io/loop.h"

#include <stdio.h>

#define IO_CTL_DEFAULT_PATH "/run/spinat/spinatd.sock"
#define IO_CTL_MAX_LINE	    1024
#define IO_CTL_MAX_ARGS	    32

/* argv are the words after the matched command. Write the answer to out; return 0, or an
 * error code after writing the reason to err (one line). */
typedef int (*io_ctl_fn)(void *arg, int argc, char **argv, FILE *out, FILE *err);

struct io_ctl;

/* Listen on path (its directory is created, a stale socket replaced). */
int io_ctl_open(struct io_ctl **out, struct io_loop *loop, const char *path) SP_MUST_CHECK;
void io_ctl_close(struct io_ctl *ctl);
/* words: "show nat"; help: one line for the command list. */
int io_ctl_add(struct io_ctl *ctl, const char *words, io_ctl_fn fn, void *arg,
	       const char *help) SP_MUST_CHECK;

/* Client side: send the words, copy the answer body to out; 0 on OK, SP_EIO when the
 * daemon is unreachable, SP_EINVAL on ERR (message written to err). */
int io_ctl_request(const char *path, int argc, char **argv, FILE *out, FILE *err) SP_MUST_CHECK;

#endif
