/*
 * The fast path's loader over libbpf: the program and its maps come from the skeleton
 * bpftool generated from nat_tc.bpf.o at build time (nat_tc.skel.h), so spinatd carries
 * its program and needs no file at run time. The program is attached as a tcx link where
 * the kernel has them (6.6), else as a tc filter through tc's netlink interface (clsact
 * ingress, direct action), which every kernel since 4.5 has.
 */
#include "io/bpf_nat.h"
#include "base/counter.h"

#include "io/nat_tc.skel.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <net/if.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ATTACH_MAX  64
/* BPF_TCX_INGRESS of Linux 6.6's uapi, newer than the headers this builds with. */
#define TCX_INGRESS ((enum bpf_attach_type)46)
#define PORTS_MAX   32

const bool io_bpf_nat_built = true;

/* The layout the program and this file share (nat_fp.h): no padding, no surprises. */
_Static_assert(sizeof(struct fp_key) == 16, "fp_key: 16 bytes, no padding");
_Static_assert(sizeof(struct fp_val) == 40, "fp_val: 40 bytes, no padding");
_Static_assert(sizeof(struct fp_cfg) == 24, "fp_cfg: 24 bytes, no padding");
_Static_assert(sizeof(struct fp_mac) == 8, "fp_mac: 8 bytes");
const char *const io_bpf_nat_ctr_names[FP_CTR_N] = { SP_CTR_NAMES(foreach_fp_ctr) };

struct io_bpf_nat {
	struct nat_tc *skel;
	int map_fd, cfg_fd, local_fd, local_bits_fd, ctr_fd, ifmac_fd;
	unsigned attached[ATTACH_MAX];
	int link[ATTACH_MAX]; /* a tcx link's fd, or -1 for a tc filter */
	unsigned nattached;
	int ncpu;
	bool tc_only;
};

/* libbpf's own messages: warnings only (the verifier's log on a failed load). */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap) SP_PRINTF(2, 0);
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int io_bpf_nat_open(struct io_bpf_nat **out, uint32_t max_entries, bool verbose, char *why,
		    size_t whylen)
{
	struct io_bpf_nat *b;
	int r;

	*out = NULL;
	libbpf_set_print(verbose ? libbpf_log : NULL);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return SP_ENOMEM;
	if ((b->ncpu = libbpf_num_possible_cpus()) <= 0) {
		snprintf(why, whylen, "cannot count the CPUs");
		r = SP_EIO;
		goto fail;
	}
	if ((b->skel = nat_tc__open()) == NULL) {
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(errno));
		r = SP_EIO;
		goto fail;
	}
	if (bpf_map__set_max_entries(b->skel->maps.fp_map, max_entries) != 0) {
		snprintf(why, whylen, "cannot size the map");
		r = SP_EINVAL;
		goto fail;
	}
	if ((r = nat_tc__load(b->skel)) != 0) {
		snprintf(why, whylen, "the kernel refused the BPF program: %s", strerror(-r));
		r = (r == -EPERM || r == -EACCES) ? SP_EPERM : SP_EUNSUPP;
		goto fail;
	}
	b->map_fd = bpf_map__fd(b->skel->maps.fp_map);
	b->cfg_fd = bpf_map__fd(b->skel->maps.fp_cfg);
	b->local_fd = bpf_map__fd(b->skel->maps.fp_local);
	b->local_bits_fd = bpf_map__fd(b->skel->maps.fp_local_bits);
	b->ctr_fd = bpf_map__fd(b->skel->maps.fp_ctr);
	b->ifmac_fd = bpf_map__fd(b->skel->maps.fp_ifmac);
	libbpf_set_print(libbpf_log);
	*out = b;
	return 0;
fail:
	io_bpf_nat_close(b);
	return r;
}

static int tc_detach(unsigned ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IO_BPF_NAT_HANDLE,
			    .priority = IO_BPF_NAT_PRIO);

	return bpf_tc_detach(&hook, &opts);
}

/* The ports of bridge ifindex (from sysfs), or 0 when it is no bridge. */
static unsigned bridge_ports(unsigned ifindex, unsigned *ports, unsigned max)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	struct dirent *de;
	unsigned n = 0;
	DIR *dir;

	if (if_indextoname(ifindex, name) == NULL)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/brif", name);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while (n < max && (de = readdir(dir)) != NULL) {
		unsigned p;

		if (de->d_name[0] != '.' && (p = if_nametoindex(de->d_name)) != 0)
			ports[n++] = p;
	}
	closedir(dir);
	return n;
}

/* The interface's MAC address from sysfs. */
static int if_mac(unsigned ifindex, struct fp_mac *m)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	unsigned v[6];
	FILE *f;
	int n;

	memset(m, 0, sizeof(*m));
	if (if_indextoname(ifindex, name) == NULL)
		return SP_ENOTFOUND;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	if ((f = fopen(path, "r")) == NULL)
		return SP_ENOTFOUND;
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
	fclose(f);
	if (n != 6)
		return SP_EUNSUPP; /* no Ethernet address: not an interface the program serves */
	for (int i = 0; i < 6; i++)
		m->mac[i] = (uint8_t)v[i];
	return 0;
}

void io_bpf_nat_detach_stale(unsigned ifindex)
{
	unsigned ports[PORTS_MAX], n = bridge_ports(ifindex, ports, PORTS_MAX);

	libbpf_set_print(NULL); /* no filter is the usual case, not worth a warning */
	(void)tc_detach(ifindex);
	for (unsigned i = 0; i < n; i++)
		(void)tc_detach(ports[i]);
	libbpf_set_print(libbpf_log);
}

void io_bpf_nat_close(struct io_bpf_nat *b)
{
	if (b == NULL)
		return;
	for (unsigned i = 0; i < b->nattached; i++) {
		if (b->link[i] >= 0)
			close(b->link[i]);
		else
			(void)tc_detach(b->attached[i]);
	}
	nat_tc__destroy(b->skel);
	free(b);
}

static int attach_one(struct io_bpf_nat *b, unsigned ifindex, bool inside)
{
	struct bpf_program *p = inside ? b->skel->progs.fp_inside : b->skel->progs.fp_outside;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IO_BPF_NAT_HANDLE,
			    .priority = IO_BPF_NAT_PRIO, .prog_fd = bpf_program__fd(p),
			    .flags = BPF_TC_F_REPLACE);
	int r;

	if (b->nattached == ATTACH_MAX)
		return SP_EFULL;
	/* A tcx link (Linux 6.6) lives as long as its fd: when spinatd dies, however it
	 * dies, the kernel detaches the program at once. */
	if (!b->tc_only &&
	    (r = bpf_link_create(bpf_program__fd(p), (int)ifindex, TCX_INGRESS, NULL)) >= 0) {
		b->attached[b->nattached] = ifindex;
		b->link[b->nattached++] = r;
		return 0;
	}
	/* Older kernels: a tc filter, which outlives the process (the heartbeat stops it,
	 * the next start removes it). The clsact qdisc may be there already. */
	if ((r = bpf_tc_hook_create(&hook)) != 0 && r != -EEXIST)
		return r == -EPERM ? SP_EPERM : SP_EIO;
	if ((r = bpf_tc_attach(&hook, &opts)) != 0)
		return r == -EPERM ? SP_EPERM : SP_EIO;
	b->attached[b->nattached] = ifindex;
	b->link[b->nattached++] = -1;
	return 0;
}

void io_bpf_nat_use_tc(struct io_bpf_nat *b)
{
	b->tc_only = true;
}

int io_bpf_nat_attach(struct io_bpf_nat *b, unsigned ifindex, bool inside)
{
	unsigned ports[PORTS_MAX], n;
	struct fp_mac m;
	int r;

	if (!inside)
		return attach_one(b, ifindex, false);
	/* Inside: on a bridge's ports (before the bridge and its netfilter hooks), frames
	 * to the bridge's address; else on the interface, frames to its own. */
	if ((r = if_mac(ifindex, &m)) != 0)
		return r;
	if ((n = bridge_ports(ifindex, ports, PORTS_MAX)) == 0) {
		ports[0] = ifindex;
		n = 1;
	}
	for (unsigned i = 0; i < n; i++) {
		if ((r = io_bpf_nat_set_ifmac(b, ports[i], m.mac)) != 0)
			return r;
		if ((r = attach_one(b, ports[i], true)) != 0)
			return r;
	}
	return 0;
}

int io_bpf_nat_set_cfg(struct io_bpf_nat *b, const struct fp_cfg *c)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(b->cfg_fd, &zero, c, BPF_ANY) == 0 ? 0 : SP_EIO;
}

int io_bpf_nat_set_ifmac(struct io_bpf_nat *b, unsigned ifindex, const uint8_t mac[6])
{
	struct fp_mac m = { .zero = 0 };

	memcpy(m.mac, mac, sizeof(m.mac));
	return bpf_map_update_elem(b->ifmac_fd, &ifindex, &m, BPF_ANY) == 0 ? 0 : SP_EIO;
}

int io_bpf_nat_run(struct io_bpf_nat *b, bool inside, unsigned ingress_ifindex, uint8_t *frame,
		   uint32_t *len, uint32_t cap, int *action, uint32_t *mark)
{
	struct bpf_program *p = inside ? b->skel->progs.fp_inside : b->skel->progs.fp_outside;
	struct __sk_buff ctx = { .ingress_ifindex = ingress_ifindex };
	uint8_t *out = malloc(cap);
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = *len,
			    .data_out = out, .data_size_out = cap, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
			    .ctx_size_out = sizeof(ctx), .repeat = 1);
	int r = SP_EIO;

	if (out == NULL)
		return SP_ENOMEM;
	if (bpf_prog_test_run_opts(bpf_program__fd(p), &o) == 0 && o.data_size_out <= cap) {
		memcpy(frame, out, o.data_size_out);
		*len = o.data_size_out;
		*action = (int)o.retval;
		*mark = ctx.mark;
		r = 0;
	}
	free(out);
	return r;
}

int io_bpf_nat_add_local(struct io_bpf_nat *b, uint32_t addr)
{
	uint32_t one = 1, w = (addr & 0xffff) >> 6;
	uint64_t bits = 0;

	/* The address first, then its bit in the filter: a packet that passes the filter
	 * finds it. */
	if (bpf_map_update_elem(b->local_fd, &addr, &one, BPF_ANY) != 0 ||
	    bpf_map_lookup_elem(b->local_bits_fd, &w, &bits) != 0)
		return SP_EIO;
	bits |= 1ull << (addr & 63);
	return bpf_map_update_elem(b->local_bits_fd, &w, &bits, BPF_ANY) == 0 ? 0 : SP_EIO;
}

int io_bpf_nat_put(struct io_bpf_nat *b, const struct fp_key *k, const struct fp_val *v)
{
	if (bpf_map_update_elem(b->map_fd, k, v, BPF_ANY) == 0)
		return 0;
	return errno == E2BIG || errno == ENOMEM ? SP_EFULL : SP_EIO;
}

int io_bpf_nat_get(struct io_bpf_nat *b, const struct fp_key *k, struct fp_val *v)
{
	return bpf_map_lookup_elem(b->map_fd, k, v) == 0 ? 0 : SP_ENOTFOUND;
}

void io_bpf_nat_del(struct io_bpf_nat *b, const struct fp_key *k, uint32_t handle)
{
	struct fp_val v;

	/* A newer entry of the engine may have taken the key over: leave it alone. */
	if (bpf_map_lookup_elem(b->map_fd, k, &v) == 0 && v.handle == handle)
		(void)bpf_map_delete_elem(b->map_fd, k);
}

void io_bpf_nat_flush(struct io_bpf_nat *b)
{
	struct fp_key k, next;
	bool more = bpf_map_get_next_key(b->map_fd, NULL, &k) == 0;

	/* The next key is taken before the current one goes, so the walk goes on from it
	 * (restarting from the first key after each delete would cost a scan of the buckets
	 * each time). */
	while (more) {
		more = bpf_map_get_next_key(b->map_fd, &k, &next) == 0;
		(void)bpf_map_delete_elem(b->map_fd, &k);
		k = next;
	}
}

int io_bpf_nat_counters(struct io_bpf_nat *b, uint64_t ctr[FP_CTR_N])
{
	uint64_t *v = calloc((size_t)b->ncpu, sizeof(*v));

	if (v == NULL)
		return SP_ENOMEM;
	for (uint32_t i = 0; i < FP_CTR_N; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(b->ctr_fd, &i, v) != 0)
			continue;
		for (int c = 0; c < b->ncpu; c++)
			sum += v[c];
		ctr[i] = sum;
	}
	free(v);
	return 0;
}
