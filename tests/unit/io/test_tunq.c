/*
 * The TUN device's thread (io/tunq.h) over a SOCK_SEQPACKET socket pair standing in for the
 * device (one packet per read and write, as a TUN device): what the thread reads arrives
 * whole and in order however the owner paces itself, nothing waits in its ring when the
 * owner takes a few buffers per wake-up and no more traffic comes, and what the owner
 * queues is written whole and in order; and the thread posts the owner's eventfd once per
 * spell the owner spends idle, not once per buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/tunq.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NBUF 8

struct fixture {
	int peer; /* the "kernel" side */
	struct io_tun t;
	struct io_tunq *q;
};

static int setup(void **state)
{
	static struct fixture f;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	memset(&f, 0, sizeof(f));
	f.peer = sv[0];
	f.t.fd = sv[1];
	f.t.vnet = true;
	if (io_tunq_start(&f.t, NBUF, &f.q) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	io_tunq_stop(f->q);
	close(f->peer);
	close(f->t.fd);
	return 0;
}

static void make(uint8_t *b, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++)
		b[k] = (uint8_t)(i * 31 + k);
}

/* Read buffers as the role does: wait for the eventfd, take at most `budget`, go back to
 * waiting. Returns how many arrived before a second of silence. */
static unsigned drain(struct fixture *f, unsigned budget, unsigned want, unsigned *next)
{
	uint8_t exp[2000];
	unsigned got = 0;

	while (got < want) {
		struct pollfd p = { io_tunq_fd(f->q), POLLIN, 0 };
		const uint8_t *b;
		size_t len;

		if (poll(&p, 1, 1000) != 1)
			break; /* the eventfd went quiet with buffers still due */
		for (unsigned i = 0; i < budget && (b = io_tunq_rx(f->q, &len)) != NULL; i++) {
			size_t n = 100 + *next % 1800;

			make(exp, n, *next);
			assert_int_equal(len, n);
			assert_memory_equal(b, exp, n);
			io_tunq_rx_done(f->q);
			(*next)++;
			got++;
		}
	}
	return got;
}

/* A burst larger than the ring, taken three buffers per wake-up: all of it, in order. */
static void burst_read_in_small_bites(void **state)
{
	struct fixture *f = *state;
	uint8_t b[2000];
	unsigned next = 0, sent = 0;

	/* The socket's buffer holds the burst: the thread reads it as fast as it can. */
	for (; sent < 60; sent++) {
		size_t n = 100 + sent % 1800;

		make(b, n, sent);
		assert_int_equal(write(f->peer, b, n), (ssize_t)n);
	}
	assert_int_equal(drain(f, 3, sent, &next), sent);
	/* Then nothing more: the eventfd must not claim buffers that are not there. */
	{
		struct pollfd p = { io_tunq_fd(f->q), POLLIN, 0 };
		size_t len;

		if (poll(&p, 1, 200) == 1)
			assert_null(io_tunq_rx(f->q, &len));
	}
	/* Many small bursts, taken one by one. */
	for (int round = 0; round < 50; round++) {
		unsigned k = sent;

		for (; sent < k + 13; sent++) {
			size_t n = 100 + sent % 1800;

			make(b, n, sent);
			assert_int_equal(write(f->peer, b, n), (ssize_t)n);
		}
		assert_int_equal(drain(f, 1, 13, &next), 13);
	}
	assert_int_equal(next, sent);
}

/* Buffers queued to write leave whole and in order, also when the ring is full and the
 * owner has to wait for the thread. */
static void queued_writes_in_order(void **state)
{
	struct fixture *f = *state;
	uint8_t exp[2000], got[2100];
	unsigned r = 0;

	for (unsigned i = 0; i < 200; i++) {
		uint8_t *b = io_tunq_tx(f->q);
		size_t n = 100 + (i * 7) % 1800;

		make(b, n, i);
		io_tunq_tx_put(f->q, n);
		if (i % 5 == 4)
			io_tunq_kick(f->q);
		/* The "kernel" reads now and then, so the ring fills up in between. */
		while (i % 20 == 19 && r <= i) {
			struct pollfd p = { f->peer, POLLIN, 0 };
			ssize_t m;

			assert_int_equal(poll(&p, 1, 1000), 1);
			m = read(f->peer, got, sizeof(got));
			make(exp, 100 + (r * 7) % 1800, r);
			assert_int_equal(m, 100 + (r * 7) % 1800);
			assert_memory_equal(got, exp, (size_t)m);
			r++;
		}
	}
	assert_int_equal(r, 200);
}

/* The owner found the ring empty and went to sleep: the thread reads 6 packets (the ring
 * holds 8), in as many separate reads as the pauses between them make likely, and posts
 * once; the owner
 * then takes them all, finds the ring empty again, and the next packet is posted again. */
static void one_post_per_idle_spell(void **state)
{
	struct fixture *f = *state;
	struct timespec pause = { 0, 2000000 }; /* lets the thread read each on its own */
	struct io_tunq_stats st;
	uint8_t b[2000];
	unsigned next = 0;
	size_t len;

	assert_null(io_tunq_rx(f->q, &len)); /* idle */
	for (unsigned i = 0; i < 6; i++) {
		make(b, 100 + i % 1800, i);
		assert_int_equal(write(f->peer, b, 100 + i % 1800), 100 + i % 1800);
		nanosleep(&pause, NULL);
	}
	/* All read before the owner looks (else it would find the ring empty halfway). */
	for (int i = 0; i < 5000; i++) {
		io_tunq_stats(f->q, &st);
		if (st.rx == 6)
			break;
		nanosleep(&pause, NULL);
	}
	assert_int_equal(st.rx, 6);
	assert_int_equal(drain(f, 64, 6, &next), 6);
	io_tunq_stats(f->q, &st);
	assert_int_equal(st.notified, 1);
	assert_null(io_tunq_rx(f->q, &len)); /* idle again */
	make(b, 100 + 6, 6);
	assert_int_equal(write(f->peer, b, 106), 106);
	assert_int_equal(drain(f, 64, 1, &next), 1);
	io_tunq_stats(f->q, &st);
	assert_int_equal(st.notified, 2);
}

/* Stopping writes what was queued first. */
static void stop_writes_what_was_queued(void **state)
{
	struct fixture *f = *state;
	uint8_t got[100];

	memset(io_tunq_tx(f->q), 0x5a, 50);
	io_tunq_tx_put(f->q, 50);
	io_tunq_stop(f->q);
	f->q = NULL;
	assert_int_equal(read(f->peer, got, sizeof(got)), 50);
	assert_int_equal(got[49], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(burst_read_in_small_bites, setup, teardown),
		cmocka_unit_test_setup_teardown(queued_writes_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_writes_what_was_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(one_post_per_idle_spell, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
