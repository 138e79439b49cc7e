/*
 * AF_XDP for the endpoint's ESP (io/xsk.h): the XDP program comes from the skeleton bpftool
 * made of esp_xsk.bpf.o at build time; the sockets' rings are driven here directly (the
 * kernel's <linux/if_xdp.h> interface), as they are the receive path itself.
 */
#include "io/xsk.h"

#include "base/cursor.h"
#include "io/esp_xsk.skel.h"
#include "proto/ipv4.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

const bool io_xsk_built = true;
const char *const io_xsk_ctr_names[IO_XSK_CTR_N] = { SP_CTR_NAMES(foreach_io_xsk_ctr) };

#define FRAME	   2048u
#define ETH_HDR	   14u
#define PROG_NAME  "esp_xsk"
#define UMEM_BYTES ((size_t)FRAME * IO_XSK_FRAMES)

struct ring {
	uint32_t *producer, *consumer;
	void *desc;
	void *map;
	size_t maplen;
	uint32_t cached; /* our side's index: the consumer of rx, the producer of fill */
};

struct sock {
	int fd;
	uint8_t *umem;
	struct ring rx, fill;
};

struct io_xsk {
	struct esp_xsk *skel;
	int ifindex;
	uint32_t mode; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE; 0: not attached */
	unsigned nq;
	struct sock q[IO_XSK_QUEUES];
	uint64_t ctr[IO_XSK_CTR_N];
};

/* The device's receive queues (its rx-N entries in sysfs), at least 1. */
static unsigned rx_queues(const char *dev)
{
	char path[64];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", dev);
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	return n != 0 ? n : 1;
}

/* The XDP program on ifindex now: 0 none, 1 ours (a spinatd that did not stop), -1
 * another. */
static int current_prog(int ifindex)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), id = 0;
	int fd, r;

	if (bpf_xdp_query_id(ifindex, 0, &id) != 0 || id == 0)
		return 0;
	if ((fd = bpf_prog_get_fd_by_id(id)) < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	r = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, PROG_NAME) == 0 ? 1
											      : -1;
	close(fd);
	return r;
}

static void ring_unmap(struct ring *r)
{
	if (r->map != NULL)
		munmap(r->map, r->maplen);
	memset(r, 0, sizeof(*r));
}

static int ring_map(struct ring *r, int fd, const struct xdp_ring_offset *o, size_t elem,
		    off_t pgoff)
{
	r->maplen = o->desc + (size_t)IO_XSK_FRAMES * elem;
	r->map =
		mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return sp_errno(errno);
	}
	r->producer = (uint32_t *)((uint8_t *)r->map + o->producer);
	r->consumer = (uint32_t *)((uint8_t *)r->map + o->consumer);
	r->desc = (uint8_t *)r->map + o->desc;
	return 0;
}

static void sock_close(struct sock *s)
{
	ring_unmap(&s->rx);
	ring_unmap(&s->fill);
	if (s->fd >= 0)
		close(s->fd);
	if (s->umem != NULL)
		munmap(s->umem, UMEM_BYTES);
	s->fd = -1;
	s->umem = NULL;
}

/* A socket on queue q of ifindex, every frame on its fill ring. */
static int sock_open(struct sock *s, int ifindex, unsigned q, char *why, size_t whylen)
{
	struct xdp_umem_reg reg = { .len = UMEM_BYTES, .chunk_size = FRAME };
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP,
				     .sxdp_ifindex = (uint32_t)ifindex,
				     .sxdp_queue_id = q,
				     .sxdp_flags = XDP_COPY };
	struct xdp_mmap_offsets off;
	socklen_t olen = sizeof(off);
	int n = IO_XSK_FRAMES, ncq = 64, r;
	uint64_t *fill;
	void *mem;

	if ((s->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0)) < 0) {
		r = sp_errno(errno);
		snprintf(why, whylen, "AF_XDP socket: %s", strerror(errno));
		return r;
	}
	mem = mmap(NULL, UMEM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(why, whylen, "AF_XDP frames: %s", strerror(errno));
		return SP_ENOMEM;
	}
	s->umem = mem;
	reg.addr = (uint64_t)(uintptr_t)mem;
	if (setsockopt(s->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0 ||
	    setsockopt(s->fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) < 0 ||
	    /* Required beside the fill ring, though nothing is sent. */
	    setsockopt(s->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ncq, sizeof(ncq)) < 0 ||
	    setsockopt(s->fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) < 0 ||
	    getsockopt(s->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen) < 0) {
		r = sp_errno(errno);
		snprintf(why, whylen, "AF_XDP rings: %s", strerror(errno));
		return r;
	}
	if ((r = ring_map(&s->rx, s->fd, &off.rx, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING)) !=
		    0 ||
	    (r = ring_map(&s->fill, s->fd, &off.fr, sizeof(uint64_t),
			  (off_t)XDP_UMEM_PGOFF_FILL_RING)) != 0) {
		snprintf(why, whylen, "AF_XDP rings: %s", sp_strerror(r));
		return r;
	}
	fill = s->fill.desc;
	for (unsigned i = 0; i < IO_XSK_FRAMES; i++)
		fill[i] = (uint64_t)i * FRAME;
	s->fill.cached = IO_XSK_FRAMES;
	__atomic_store_n(s->fill.producer, s->fill.cached, __ATOMIC_RELEASE);
	if (bind(s->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
		r = sp_errno(errno);
		snprintf(why, whylen, "AF_XDP socket on queue %u: %s", q, strerror(errno));
		return r;
	}
	return 0;
}

static int attach(struct io_xsk *x, char *why, size_t whylen)
{
	int fd = bpf_program__fd(x->skel->progs.esp_xsk), cur = current_prog(x->ifindex), r;
	uint32_t flags = XDP_FLAGS_UPDATE_IF_NOEXIST;

	if (cur < 0) {
		snprintf(why, whylen, "the device has another XDP program");
		return SP_EBUSY;
	}
	if (cur > 0) /* ours, from a spinatd that did not stop: replaced */
		flags = 0;
	/* In the driver where it has XDP, else in the generic hook. */
	if (bpf_xdp_attach(x->ifindex, fd, flags | XDP_FLAGS_DRV_MODE, NULL) == 0) {
		x->mode = XDP_FLAGS_DRV_MODE;
		return 0;
	}
	if ((r = bpf_xdp_attach(x->ifindex, fd, flags | XDP_FLAGS_SKB_MODE, NULL)) == 0) {
		x->mode = XDP_FLAGS_SKB_MODE;
		return 0;
	}
	snprintf(why, whylen, "attaching the XDP program: %s", strerror(-r));
	return sp_errno(-r);
}

/* The IPv4 addresses of dev (network order), at most IO_XSK_LOCALS. */
static unsigned dev_addrs(const char *dev, uint32_t *out)
{
	struct ifaddrs *ifa, *i;
	unsigned n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL && n < IO_XSK_LOCALS; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, dev) == 0)
			out[n++] = ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr;
	freeifaddrs(ifa);
	return n;
}

int io_xsk_open(struct io_xsk **out, const char *dev, char *why, size_t whylen)
{
	uint32_t locals[IO_XSK_LOCALS];
	unsigned nlocals;
	struct io_xsk *x;
	uint8_t one = 1;
	int r, e;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	for (unsigned i = 0; i < IO_XSK_QUEUES; i++)
		x->q[i].fd = -1;
	if ((x->ifindex = (int)if_nametoindex(dev)) == 0) {
		snprintf(why, whylen, "no such device");
		free(x);
		return SP_ENOTFOUND;
	}
	if ((nlocals = dev_addrs(dev, locals)) == 0) {
		snprintf(why, whylen, "the device has no IPv4 address");
		free(x);
		return SP_ENOTFOUND;
	}
	libbpf_set_print(NULL);
	if ((x->skel = esp_xsk__open_and_load()) == NULL) {
		e = errno;
		snprintf(why, whylen, "loading the XDP program: %s", strerror(e));
		io_xsk_close(x);
		return sp_errno(e);
	}
	for (unsigned i = 0; i < nlocals; i++) {
		if (bpf_map__update_elem(x->skel->maps.xsk_local, &locals[i], sizeof(locals[i]),
					 &one, sizeof(one), BPF_ANY) != 0) {
			e = errno;
			snprintf(why, whylen, "the program's addresses: %s", strerror(e));
			io_xsk_close(x);
			return sp_errno(e);
		}
	}
	x->nq = rx_queues(dev);
	if (x->nq > IO_XSK_QUEUES)
		x->nq = IO_XSK_QUEUES; /* the other queues' ESP goes through the stack */
	/* The program first: a socket binds to a device in XDP mode. */
	if ((r = attach(x, why, whylen)) != 0) {
		io_xsk_close(x);
		return r;
	}
	for (unsigned q = 0; q < x->nq; q++) {
		int fd;

		if ((r = sock_open(&x->q[q], x->ifindex, q, why, whylen)) != 0) {
			io_xsk_close(x);
			return r;
		}
		fd = x->q[q].fd;
		if (bpf_map__update_elem(x->skel->maps.xsk_socks, &q, sizeof(q), &fd, sizeof(fd),
					 BPF_ANY) != 0) {
			e = errno;
			snprintf(why, whylen, "the program's socket map: %s", strerror(e));
			io_xsk_close(x);
			return sp_errno(e);
		}
	}
	*out = x;
	return 0;
}

void io_xsk_close(struct io_xsk *x)
{
	if (x == NULL)
		return;
	if (x->mode != 0) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = bpf_program__fd(x->skel->progs.esp_xsk));

		/* Only ours: another program put there since is left alone. */
		(void)bpf_xdp_detach(x->ifindex, x->mode | XDP_FLAGS_REPLACE, &o);
	}
	for (unsigned i = 0; i < IO_XSK_QUEUES; i++)
		sock_close(&x->q[i]);
	esp_xsk__destroy(x->skel);
	free(x);
}

unsigned io_xsk_queues(const struct io_xsk *x)
{
	return x->nq;
}

int io_xsk_fd(const struct io_xsk *x, unsigned queue)
{
	return x->q[queue].fd;
}

uint64_t *io_xsk_ctrs(struct io_xsk *x)
{
	return x->ctr;
}

int io_xsk_recv_batch(struct io_xsk *x, unsigned queue, struct pkt_pool *pool, struct pkt **out,
		      unsigned max)
{
	struct sock *s = &x->q[queue];
	const struct xdp_desc *rx = s->rx.desc;
	uint64_t *fill = s->fill.desc;
	uint32_t avail = __atomic_load_n(s->rx.producer, __ATOMIC_ACQUIRE) - s->rx.cached;
	unsigned n = 0, taken = 0;
	int r = 0;

	if (avail > max)
		avail = max;
	while (taken < avail) {
		const struct xdp_desc *d = &rx[(s->rx.cached + taken) & (IO_XSK_FRAMES - 1)];
		const uint8_t *ip = NULL;
		uint32_t len = 0;
		struct pkt *p;

		/* The IP packet without what may follow it in the frame (the padding of a
		 * short Ethernet frame), as a raw socket delivers it. */
		if (d->len >= ETH_HDR + IPV4_HDR_MIN && d->addr + d->len <= UMEM_BYTES) {
			ip = s->umem + d->addr + ETH_HDR;
			len = sp_load_be16(ip + IPV4_OFF_LEN);
		}
		if (len < IPV4_HDR_MIN || len > d->len - ETH_HDR) {
			x->ctr[IO_XSK_CTR_DROP_MALFORMED]++;
		} else if ((p = pkt_alloc(pool)) == NULL) {
			r = SP_ENOMEM; /* the caller counts it */
			break;	       /* the rest stays in the ring */
		} else if (len > pkt_tailroom(p)) {
			pkt_free(p);
			x->ctr[IO_XSK_CTR_DROP_MALFORMED]++;
		} else {
			memcpy(pkt_data(p), ip, len);
			p->len = len;
			out[n++] = p;
		}
		/* The frame back to the kernel (its start: the address carries an offset). */
		fill[s->fill.cached++ & (IO_XSK_FRAMES - 1)] = d->addr & ~(uint64_t)(FRAME - 1);
		taken++;
	}
	if (taken != 0) {
		s->rx.cached += taken;
		__atomic_store_n(s->rx.consumer, s->rx.cached, __ATOMIC_RELEASE);
		__atomic_store_n(s->fill.producer, s->fill.cached, __ATOMIC_RELEASE);
	}
	if (n != 0) {
		x->ctr[IO_XSK_CTR_RX] += n;
		x->ctr[IO_XSK_CTR_RX_CALLS]++;
	}
	return r != 0 && n == 0 ? r : (int)n;
}

void io_xsk_update(struct io_xsk *x)
{
	uint64_t full = 0, empty = 0, other = 0;

	for (unsigned i = 0; i < x->nq; i++) {
		struct xdp_statistics st;
		socklen_t len = sizeof(st);

		memset(&st, 0, sizeof(st));
		if (getsockopt(x->q[i].fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
			continue;
		full += st.rx_ring_full;
		empty += st.rx_fill_ring_empty_descs;
		/* rx_dropped counts the packets no free frame took as well. */
		other += (st.rx_dropped > st.rx_fill_ring_empty_descs
				  ? st.rx_dropped - st.rx_fill_ring_empty_descs
				  : 0) +
			 st.rx_invalid_descs;
	}
	x->ctr[IO_XSK_CTR_DROP_RING_FULL] = full;
	x->ctr[IO_XSK_CTR_DROP_FILL_EMPTY] = empty;
	x->ctr[IO_XSK_CTR_DROP_KERNEL] = other;
}
