/*
 * A second thread for a TUN device with virtio-net headers (io/tun.h IO_TUN_VNET): it
 * reads the device into a ring of large buffers and writes what the owner puts into
 * another ring. The device's system calls carry the kernel's work for the flows through it
 * (a write to a TUN device runs the receiving TCP stack in the writer's context, a read
 * copies up to 64 KB), so with this thread that work runs beside the owner's thread, which
 * keeps the sans-IO engine, the cryptography and the sockets; the engine stays
 * single-threaded, so sequence numbers and anti-replay windows need no locks.
 *
 * Each ring has one producer and one consumer; buffers are allocated once at start. The
 * owner watches io_tunq_fd() (readable when read buffers wait) and wakes the thread with
 * io_tunq_kick() after putting buffers to write. Either side writes the other's eventfd
 * only when the other said it was going to sleep (a flag set before its last look at its
 * ring), so a busy pair exchanges no system calls: each post costs one, and a wake-up of
 * a sleeping thread a context switch, dear on a virtual machine.
 */
#ifndef SP_IO_TUNQ_H
#define SP_IO_TUNQ_H

#include "io/tun.h"

/* One buffer: a virtio-net header and a packet of up to 64 KB. */
#define IO_TUNQ_BUF (10 + 65536)

struct io_tunq;

struct io_tunq_stats {
	uint64_t rx;	   /* reads */
	uint64_t rx_error; /* reads that failed (other than EAGAIN) */
	uint64_t rx_full;  /* times the read ring was full: reading paused */
	uint64_t tx;	   /* writes */
	uint64_t tx_full;  /* writes refused for room (EAGAIN, ENOBUFS) */
	uint64_t tx_error; /* other failed writes */
	uint64_t notified; /* the thread's posts to io_tunq_fd(): once per owner's idle spell */
	uint64_t woken;	   /* io_tunq_kick()'s posts: once per thread's idle spell */
};

/* Start the thread on t (non-blocking, with t->vnet), rings of n buffers each way. */
int io_tunq_start(struct io_tun *t, unsigned n, struct io_tunq **out) SP_MUST_CHECK;
/* Stop the thread (what was queued to write is written first) and free everything;
 * accepts NULL. */
void io_tunq_stop(struct io_tunq *q);
/* An eventfd, readable while read buffers wait (io_tunq_rx() empties it when it finds
 * none, so the owner may stop early and is called again for the rest). */
int io_tunq_fd(const struct io_tunq *q);

/* The oldest buffer read, its length in *len (virtio-net header included), or NULL. */
const uint8_t *io_tunq_rx(struct io_tunq *q, size_t *len);
/* Done with the buffer io_tunq_rx() returned: the thread may read into it again. */
void io_tunq_rx_done(struct io_tunq *q);

/* The next buffer to write into (IO_TUNQ_BUF bytes), waiting for the thread to free one
 * when all are queued. */
uint8_t *io_tunq_tx(struct io_tunq *q);
/* Queue the buffer io_tunq_tx() returned, len bytes (virtio-net header first). */
void io_tunq_tx_put(struct io_tunq *q, size_t len);
/* Wake the thread to write what was queued (once per batch is enough). */
void io_tunq_kick(struct io_tunq *q);

void io_tunq_stats(const struct io_tunq *q, struct io_tunq_stats *s);

#endif
