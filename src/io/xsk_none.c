/* The AF_XDP receive path in a build without libbpf, clang or bpftool (meson option
 * `fastpath`). */
#include "io/xsk.h"

#include <stdio.h>

const bool io_xsk_built = false;
const char *const io_xsk_ctr_names[IO_XSK_CTR_N] = { SP_CTR_NAMES(foreach_io_xsk_ctr) };

int io_xsk_open(struct io_xsk **out, const char *dev, char *why, size_t whylen)
{
	(void)dev;
	*out = NULL;
	snprintf(why, whylen, "this spinatd was built without libbpf (meson -Dfastpath)");
	return SP_EUNSUPP;
}

void io_xsk_close(struct io_xsk *x)
{
	(void)x;
}

unsigned io_xsk_queues(const struct io_xsk *x)
{
	(void)x;
	return 0;
}

int io_xsk_fd(const struct io_xsk *x, unsigned queue)
{
	(void)x;
	(void)queue;
	return -1;
}

int io_xsk_recv_batch(struct io_xsk *x, unsigned queue, struct pkt_pool *pool, struct pkt **out,
		      unsigned max)
{
	(void)x;
	(void)queue;
	(void)pool;
	(void)out;
	(void)max;
	return SP_EUNSUPP;
}

void io_xsk_update(struct io_xsk *x)
{
	(void)x;
}

uint64_t *io_xsk_ctrs(struct io_xsk *x)
{
	(void)x;
	return NULL;
}
