/*
 * The daemons' control socket: a Unix stream socket that answers one command per
 * connection. The client (apps/spinat.c) sends one line of words ("show nat\n"); the daemon
 * answers "OK\n" and the output, or "ERR message\n", and closes. Modules register the
 * commands they serve; the longest registered prefix of the words wins. A line that starts
 * with the word "--json" asks for the command's JSON form (io_ctl_add_json()); a command
 * without one answers {"command": ..., "lines": [...]} with its text lines.
 *
 * The socket is off the packet path: clients are non-blocking and polled by the event loop
 * like any other descriptor, at most IO_CTL_MAX_CLIENTS at a time, each closed when it has
 * not sent its line and read its answer within IO_CTL_CLIENT_TIMEOUT. Its mode is set
 * explicitly (0600, or 0660 with a group), and each client's credentials (SO_PEERCRED) are
 * checked: root, the daemon's own user, or a member of the configured group as its
 * primary group.
 */
#ifndef SP_IO_CTL_H
#define SP_IO_CTL_H

#include "io/loop.h"

#include <stdio.h>
#include <sys/types.h>

#define IO_CTL_DEFAULT_PATH   "/run/spinat/spinatd.sock"
#define IO_CTL_MAX_LINE	      1024
#define IO_CTL_MAX_ARGS	      32
#define IO_CTL_MAX_CLIENTS    8
#define IO_CTL_CLIENT_TIMEOUT SP_SEC(5)
#define IO_CTL_MAX_ANSWER     (32u << 20) /* bytes of one answer kept in memory */

/* argv are the words after the matched command. Write the answer to out; return 0, or an
 * error code after writing the reason to err (one line). */
typedef int (*io_ctl_fn)(void *arg, int argc, char **argv, FILE *out, FILE *err);

struct io_ctl;

struct io_ctl_cfg {
	gid_t group;	    /* (gid_t)-1: mode 0600; else mode 0660 and this group may connect */
	struct sp_log *log; /* refused clients (rate-limited); may be NULL */
};

/* Listen on path. Its directory is created (0755) when missing. A path that exists is
 * replaced only when it is a socket nobody answers on (a stale one of a crashed daemon);
 * a live socket gives SP_EBUSY, anything else (a regular file, a directory) SP_EEXIST,
 * and neither is touched. The caller holds the lock of io_pidfile_lock() first, so two
 * daemons cannot race here. */
int io_ctl_open(struct io_ctl **out, struct io_loop *loop, const char *path,
		const struct io_ctl_cfg *cfg) SP_MUST_CHECK;
/* Stop listening; the socket file is removed only if it is still the one we made. */
void io_ctl_close(struct io_ctl *ctl);
/* words: "show nat"; help: one line for the command list. */
int io_ctl_add(struct io_ctl *ctl, const char *words, io_ctl_fn fn, void *arg,
	       const char *help) SP_MUST_CHECK;
/* The JSON form of a command io_ctl_add() registered (same arg); one JSON value to out. */
int io_ctl_add_json(struct io_ctl *ctl, const char *words, io_ctl_fn fn) SP_MUST_CHECK;

/* Client side: send the words, copy the answer body to out; 0 on OK, SP_EIO when the
 * daemon is unreachable, SP_EINVAL on ERR (message written to err). */
int io_ctl_request(const char *path, int argc, char **argv, FILE *out, FILE *err) SP_MUST_CHECK;

/* JSON helper: s as a JSON string, quotes included. */
void io_ctl_json_str(FILE *f, const char *s);

/*
 * The daemon's PID file, which is also its lock (flock(2), held while the daemon runs).
 * 0 with *fd open and the pid written; SP_EBUSY when another process holds it (*holder:
 * its pid from the file, 0 if unknown); SP_EEXIST when path is not a regular file; SP_EIO
 * or SP_EPERM when it cannot be created.
 */
int io_pidfile_lock(const char *path, int *fd, long *holder) SP_MUST_CHECK;
/* Remove the file (we hold it) and release the lock. */
void io_pidfile_release(const char *path, int fd);

#endif
