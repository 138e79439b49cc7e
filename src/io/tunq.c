/* The TUN device's own thread (tunq.h). */
#include "io/tunq.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ring {
	uint8_t *mem;	       /* n buffers of IO_TUNQ_BUF bytes */
	uint32_t *len;	       /* n lengths */
	_Atomic uint32_t head; /* next to fill (producer) */
	_Atomic uint32_t tail; /* next to take (consumer) */
};

struct io_tunq {
	struct io_tun *t;
	unsigned n;
	struct ring rx, tx; /* rx: the thread fills, the owner takes; tx: the other way */
	int notify;	    /* eventfd: read buffers wait (owner's epoll) */
	int wake;	    /* eventfd: the thread's wake-up */
	_Atomic bool stop;
	pthread_t thread;
	bool running;
	_Atomic uint64_t st[6]; /* struct io_tunq_stats in order */
};

enum { ST_RX, ST_RX_ERROR, ST_RX_FULL, ST_TX, ST_TX_FULL, ST_TX_ERROR };

static void bump(struct io_tunq *q, int i)
{
	atomic_fetch_add_explicit(&q->st[i], 1, memory_order_relaxed);
}

static uint8_t *slot(const struct io_tunq *q, const struct ring *r, uint32_t i)
{
	return r->mem + (size_t)(i % q->n) * IO_TUNQ_BUF;
}

static void eventfd_drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void eventfd_post(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the reader will wake. */
	}
}

/* Write everything queued, in order. */
static void write_all(struct io_tunq *q)
{
	uint32_t tail = atomic_load_explicit(&q->tx.tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&q->tx.head, memory_order_acquire);

	for (; tail != head; tail++) {
		ssize_t w = write(q->t->fd, slot(q, &q->tx, tail), q->tx.len[tail % q->n]);

		if (w >= 0)
			bump(q, ST_TX);
		else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			bump(q, ST_TX_FULL);
		else
			bump(q, ST_TX_ERROR);
		atomic_store_explicit(&q->tx.tail, tail + 1, memory_order_release);
	}
}

/* Read while there is room; false when the ring is full. */
static bool read_all(struct io_tunq *q)
{
	uint32_t head = atomic_load_explicit(&q->rx.head, memory_order_relaxed);
	bool got = false, room = true;

	for (int i = 0; i < 64; i++) {
		uint32_t tail = atomic_load_explicit(&q->rx.tail, memory_order_acquire);
		ssize_t n;

		if (head - tail == q->n) {
			bump(q, ST_RX_FULL);
			room = false;
			break;
		}
		n = read(q->t->fd, slot(q, &q->rx, head), IO_TUNQ_BUF);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				bump(q, ST_RX_ERROR);
			break;
		}
		q->rx.len[head % q->n] = (uint32_t)n;
		atomic_store_explicit(&q->rx.head, ++head, memory_order_release);
		bump(q, ST_RX);
		got = true;
	}
	if (got)
		eventfd_post(q->notify);
	return room;
}

static void *run(void *arg)
{
	struct io_tunq *q = arg;
	bool room = true;

	while (!atomic_load(&q->stop)) {
		struct pollfd p[2] = { { q->wake, POLLIN, 0 }, { q->t->fd, POLLIN, 0 } };

		/* With the read ring full only a wake-up (a buffer freed) is awaited. */
		if (poll(p, room ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents != 0)
			eventfd_drain(q->wake);
		write_all(q);
		room = read_all(q);
	}
	write_all(q);
	return NULL;
}

static int ring_init(struct ring *r, unsigned n)
{
	r->mem = malloc((size_t)n * IO_TUNQ_BUF);
	r->len = calloc(n, sizeof(*r->len));
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r->mem != NULL && r->len != NULL ? 0 : SP_ENOMEM;
}

int io_tunq_start(struct io_tun *t, unsigned n, struct io_tunq **out)
{
	struct io_tunq *q = calloc(1, sizeof(*q));
	int r;

	*out = NULL;
	if (q == NULL)
		return SP_ENOMEM;
	q->t = t;
	q->n = n;
	q->notify = q->wake = -1;
	atomic_init(&q->stop, false);
	for (int i = 0; i < 6; i++)
		atomic_init(&q->st[i], 0);
	if ((r = ring_init(&q->rx, n)) != 0 || (r = ring_init(&q->tx, n)) != 0)
		goto fail;
	if ((q->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (q->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = SP_EIO;
		goto fail;
	}
	if (pthread_create(&q->thread, NULL, run, q) != 0) {
		r = SP_EIO;
		goto fail;
	}
	q->running = true;
	*out = q;
	return 0;
fail:
	io_tunq_stop(q);
	return r;
}

void io_tunq_stop(struct io_tunq *q)
{
	if (q == NULL)
		return;
	if (q->running) {
		atomic_store(&q->stop, true);
		eventfd_post(q->wake);
		pthread_join(q->thread, NULL);
	}
	if (q->notify >= 0)
		close(q->notify);
	if (q->wake >= 0)
		close(q->wake);
	free(q->rx.mem);
	free(q->rx.len);
	free(q->tx.mem);
	free(q->tx.len);
	free(q);
}

int io_tunq_fd(const struct io_tunq *q)
{
	return q->notify;
}

const uint8_t *io_tunq_rx(struct io_tunq *q, size_t *len)
{
	uint32_t tail = atomic_load_explicit(&q->rx.tail, memory_order_relaxed);

	/* The eventfd is emptied only when the ring is: buffers left for the next call keep
	 * it readable (each was published, and posted, after the last time it was emptied),
	 * so the owner's epoll comes back for them. Emptied, the ring is looked at again for
	 * a buffer whose post the emptying took. */
	if (atomic_load_explicit(&q->rx.head, memory_order_acquire) == tail) {
		eventfd_drain(q->notify);
		if (atomic_load_explicit(&q->rx.head, memory_order_acquire) == tail)
			return NULL;
	}
	*len = q->rx.len[tail % q->n];
	return slot(q, &q->rx, tail);
}

void io_tunq_rx_done(struct io_tunq *q)
{
	uint32_t tail = atomic_load_explicit(&q->rx.tail, memory_order_relaxed);
	bool was_full = atomic_load_explicit(&q->rx.head, memory_order_acquire) - tail == q->n;

	atomic_store_explicit(&q->rx.tail, tail + 1, memory_order_release);
	if (was_full)
		eventfd_post(q->wake); /* it stopped reading: there is room again */
}

uint8_t *io_tunq_tx(struct io_tunq *q)
{
	uint32_t head = atomic_load_explicit(&q->tx.head, memory_order_relaxed);

	/* All queued: the thread is writing them (a write takes microseconds). */
	while (head - atomic_load_explicit(&q->tx.tail, memory_order_acquire) == q->n) {
		eventfd_post(q->wake);
		sched_yield();
	}
	return slot(q, &q->tx, head);
}

void io_tunq_tx_put(struct io_tunq *q, size_t len)
{
	uint32_t head = atomic_load_explicit(&q->tx.head, memory_order_relaxed);

	q->tx.len[head % q->n] = (uint32_t)len;
	atomic_store_explicit(&q->tx.head, head + 1, memory_order_release);
}

void io_tunq_kick(struct io_tunq *q)
{
	eventfd_post(q->wake);
}

void io_tunq_stats(const struct io_tunq *q, struct io_tunq_stats *s)
{
	uint64_t v[6];

	for (int i = 0; i < 6; i++)
		v[i] = atomic_load_explicit(&((struct io_tunq *)q)->st[i], memory_order_relaxed);
	*s = (struct io_tunq_stats){ v[0], v[1], v[2], v[3], v[4], v[5] };
}
