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
	/* Who may be asleep, so the other side writes an eventfd only then: each post is a
	 * system call and, to a sleeper, a wake-up. Set by the side going to sleep before it
	 * looks at its ring a last time, cleared by the side that posts (one post each). */
	_Atomic bool owner_idle;  /* the owner found the read ring empty */
	_Atomic bool thread_idle; /* the thread is about to poll() */
	_Atomic bool stop;
	pthread_t thread;
	bool running;
	_Atomic uint64_t st[8]; /* struct io_tunq_stats in order */
};

enum { ST_RX, ST_RX_ERROR, ST_RX_FULL, ST_TX, ST_TX_FULL, ST_TX_ERROR, ST_NOTIFIED, ST_WOKEN };

static void bump(struct io_tunq *q, int i)
{
	atomic_fetch_add_explicit(&q->st[i], 1, memory_order_relaxed);
}

static uint8_t *slot(const struct io_tunq *q, const struct ring *r, uint32_t i)
{
	return r->mem + (size_t)(i % q->n) * IO_TUNQ_BUF;
}

/* One read empties an eventfd (not EFD_SEMAPHORE). */
static void eventfd_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: it was empty. */
	}
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

enum { READ_MORE, READ_EMPTY, READ_FULL };

/* Read while there is room, up to 64 reads: READ_EMPTY when the device had no more,
 * READ_FULL when the ring is full, READ_MORE when there may be more. */
static int read_all(struct io_tunq *q)
{
	uint32_t head = atomic_load_explicit(&q->rx.head, memory_order_relaxed);
	int how = READ_MORE;
	bool got = false;

	for (int i = 0; i < 64; i++) {
		uint32_t tail = atomic_load_explicit(&q->rx.tail, memory_order_acquire);
		ssize_t n;

		if (head - tail == q->n) {
			bump(q, ST_RX_FULL);
			how = READ_FULL;
			break;
		}
		n = read(q->t->fd, slot(q, &q->rx, head), IO_TUNQ_BUF);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				bump(q, ST_RX_ERROR);
			how = READ_EMPTY;
			break;
		}
		q->rx.len[head % q->n] = (uint32_t)n;
		/* seq_cst: ordered before the load of owner_idle below (io_tunq_rx() stores
		 * owner_idle, then loads head). */
		atomic_store(&q->rx.head, ++head);
		bump(q, ST_RX);
		got = true;
	}
	if (got && atomic_exchange(&q->owner_idle, false)) {
		bump(q, ST_NOTIFIED); /* counted before the owner can wake and look */
		eventfd_post(q->notify);
	}
	return how;
}

static void *run(void *arg)
{
	struct io_tunq *q = arg;
	int how = READ_MORE;

	while (!atomic_load(&q->stop)) {
		struct pollfd p[2] = { { q->wake, POLLIN, 0 }, { q->t->fd, POLLIN, 0 } };

		write_all(q);
		if (how == READ_MORE) {
			how = read_all(q);
			continue;
		}
		/* Asleep from here: a buffer queued to write after the check below is
		 * posted by io_tunq_kick(), one queued before it is seen by the check. */
		atomic_store(&q->thread_idle, true);
		if (atomic_load(&q->tx.head) !=
		    atomic_load_explicit(&q->tx.tail, memory_order_relaxed)) {
			atomic_store(&q->thread_idle, false);
			continue;
		}
		/* With the read ring full only a wake-up (a buffer freed) is awaited. */
		if (poll(p, how == READ_FULL ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		atomic_store(&q->thread_idle, false);
		if (p[0].revents != 0)
			eventfd_drain(q->wake);
		how = READ_MORE;
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
	atomic_init(&q->owner_idle, true); /* it has not looked yet: the first buffer posts */
	atomic_init(&q->thread_idle, false);
	for (int i = 0; i < 8; i++)
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

	/* While owner_idle is clear the eventfd stays readable, so buffers left for a later
	 * call bring the owner's epoll back for them. It is emptied only when the ring is,
	 * and owner_idle set then, so the thread posts for the next buffer it reads. */
	if (atomic_load_explicit(&q->rx.head, memory_order_acquire) == tail) {
		if (atomic_load(&q->owner_idle))
			return NULL; /* nothing posted since the ring was last found empty */
		eventfd_drain(q->notify);
		atomic_store(&q->owner_idle, true);
		if (atomic_load(&q->rx.head) == tail)
			return NULL;
		/* A buffer came between: keep the eventfd readable as promised, posting it
		 * here unless the thread did. */
		if (atomic_exchange(&q->owner_idle, false))
			eventfd_post(q->notify);
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
	atomic_store(&q->tx.head, head + 1); /* seq_cst: before io_tunq_kick()'s exchange */
}

void io_tunq_kick(struct io_tunq *q)
{
	/* The buffers were published (seq_cst, below in the order) before this load. */
	if (atomic_exchange(&q->thread_idle, false)) {
		bump(q, ST_WOKEN);
		eventfd_post(q->wake);
	}
}

void io_tunq_stats(const struct io_tunq *q, struct io_tunq_stats *s)
{
	uint64_t v[8];

	for (int i = 0; i < 8; i++)
		v[i] = atomic_load_explicit(&((struct io_tunq *)q)->st[i], memory_order_relaxed);
	*s = (struct io_tunq_stats){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
}
