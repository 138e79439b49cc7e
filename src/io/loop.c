#include "io/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_FDS   256
#define LOOP_HEAP_INIT 64

struct fd_slot {
	int fd;
	io_fd_cb cb;
	void *arg;
};

/* The signals the loop reads from its signalfd: the stopping ones, then the handled ones. */
static const int loop_stop_sigs[] = { SIGINT, SIGTERM, SIGQUIT };
static const int loop_user_sigs[] = { SIGHUP, SIGUSR1, SIGUSR2 };

struct sig_slot {
	io_signal_cb cb;
	void *arg;
};

struct io_loop {
	int epfd;
	struct sig_slot sigs[SP_NELEM(loop_user_sigs)];
	int sigfd;
	bool stop;
	int stop_signal;
	struct fd_slot fds[LOOP_MAX_FDS];
	struct io_timer **heap;
	uint32_t nheap, capheap;
};

sp_time io_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (sp_time)ts.tv_sec * 1000000000ull + (sp_time)ts.tv_nsec;
}

static void getrandom_fill(struct sp_rng *rng, void *buf, size_t len)
{
	uint8_t *b = buf;

	(void)rng;
	while (len > 0) {
		ssize_t n = getrandom(b, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no entropy source: nothing safe to do */
		}
		b += n;
		len -= (size_t)n;
	}
}

struct sp_rng io_rng = { .fill = getrandom_fill };

int io_loop_new(struct io_loop **out)
{
	struct io_loop *l;
	sigset_t set;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SP_ENOMEM;
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	l->sigfd = -1;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	sigemptyset(&set);
	for (size_t i = 0; i < SP_NELEM(loop_stop_sigs); i++)
		sigaddset(&set, loop_stop_sigs[i]);
	for (size_t i = 0; i < SP_NELEM(loop_user_sigs); i++)
		sigaddset(&set, loop_user_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		goto fail;
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = l->sigfd };

		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
			goto fail;
	}
	*out = l;
	return 0;
fail:
	io_loop_free(l);
	return SP_EIO;
}

void io_loop_free(struct io_loop *l)
{
	if (l == NULL)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->heap);
	free(l);
}

static struct fd_slot *slot_of(struct io_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int io_loop_add_fd(struct io_loop *l, int fd, uint32_t events, io_fd_cb cb, void *arg)
{
	struct fd_slot *s = slot_of(l, -1);
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (s == NULL)
		return SP_EFULL;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return SP_EIO;
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	return 0;
}

int io_loop_mod_fd(struct io_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? SP_EIO : 0;
}

void io_loop_del_fd(struct io_loop *l, int fd)
{
	struct fd_slot *s = slot_of(l, fd);

	if (s == NULL)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->fd = -1;
}

/* Binary min-heap of armed timers ordered by `when`. */
static void heap_swap(struct io_loop *l, uint32_t a, uint32_t b)
{
	struct io_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = (int32_t)a;
	l->heap[b]->idx = (int32_t)b;
}

static void heap_up(struct io_loop *l, uint32_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->when > l->heap[i]->when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct io_loop *l, uint32_t i)
{
	for (;;) {
		uint32_t m = i, a = 2 * i + 1, b = 2 * i + 2;

		if (a < l->nheap && l->heap[a]->when < l->heap[m]->when)
			m = a;
		if (b < l->nheap && l->heap[b]->when < l->heap[m]->when)
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void io_timer_init(struct io_timer *t, io_timer_cb cb, void *arg)
{
	t->when = SP_TIME_NEVER;
	t->cb = cb;
	t->arg = arg;
	t->idx = -1;
}

void io_timer_cancel(struct io_loop *l, struct io_timer *t)
{
	uint32_t i;

	if (t->idx < 0)
		return;
	i = (uint32_t)t->idx;
	l->nheap--;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->idx = (int32_t)i;
		heap_up(l, i);
		heap_down(l, i);
	}
	t->idx = -1;
}

int io_timer_arm(struct io_loop *l, struct io_timer *t, sp_time when)
{
	io_timer_cancel(l, t);
	t->when = when;
	if (when == SP_TIME_NEVER)
		return 0;
	if (l->nheap == l->capheap) {
		uint32_t cap = l->capheap ? 2 * l->capheap : LOOP_HEAP_INIT;
		struct io_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL)
			return SP_ENOMEM;
		l->heap = h;
		l->capheap = cap;
	}
	t->idx = (int32_t)l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, (uint32_t)t->idx);
	return 0;
}

void io_loop_stop(struct io_loop *l)
{
	l->stop = true;
}

int io_loop_on_signal(struct io_loop *l, int signo, io_signal_cb cb, void *arg)
{
	for (size_t i = 0; i < SP_NELEM(loop_user_sigs); i++) {
		if (loop_user_sigs[i] == signo) {
			l->sigs[i].cb = cb;
			l->sigs[i].arg = arg;
			return 0;
		}
	}
	return SP_EINVAL;
}

static void on_signal(struct io_loop *l, int signo)
{
	for (size_t i = 0; i < SP_NELEM(loop_user_sigs); i++) {
		if (loop_user_sigs[i] == signo) {
			if (l->sigs[i].cb != NULL)
				l->sigs[i].cb(l, signo, l->sigs[i].arg);
			return;
		}
	}
	l->stop_signal = signo;
	l->stop = true;
}

int io_loop_stop_signal(const struct io_loop *l)
{
	return l->stop_signal;
}

static void run_timers(struct io_loop *l)
{
	sp_time now = io_now();

	while (l->nheap > 0 && l->heap[0]->when <= now && !l->stop) {
		struct io_timer *t = l->heap[0];

		io_timer_cancel(l, t);
		t->when = SP_TIME_NEVER;
		t->cb(l, t->arg);
	}
}

int io_loop_run(struct io_loop *l)
{
	struct epoll_event evs[32];

	l->stop = false;
	while (!l->stop) {
		int timeout = -1, n;

		if (l->nheap > 0) {
			sp_time now = io_now(), when = l->heap[0]->when;

			timeout = when <= now
					  ? 0
					  : (int)SP_MIN((when - now + 999999) / 1000000, 60000u);
		}
		n = epoll_wait(l->epfd, evs, (int)SP_NELEM(evs), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SP_EIO;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = evs[i].data.fd;
			struct fd_slot *s;

			if (fd == l->sigfd) {
				struct signalfd_siginfo si;

				while (!l->stop &&
				       read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					on_signal(l, (int)si.ssi_signo);
				continue;
			}
			if ((s = slot_of(l, fd)) != NULL)
				s->cb(l, fd, evs[i].events, s->arg);
		}
		run_timers(l);
	}
	return 0;
}
