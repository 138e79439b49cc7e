/* The fast path in a build without libbpf, clang or bpftool (meson option `fastpath`). */
#include "io/bpf_nat.h"
#include "base/counter.h"

#include <stdio.h>

const bool io_bpf_nat_built = false;
const char *const io_bpf_nat_ctr_names[FP_CTR_N] = { SP_CTR_NAMES(foreach_fp_ctr) };

int io_bpf_nat_open(struct io_bpf_nat **out, uint32_t max_entries, bool verbose, char *why,
		    size_t whylen)
{
	(void)max_entries;
	(void)verbose;
	*out = NULL;
	snprintf(why, whylen, "this spinatd was built without libbpf (meson -Dfastpath)");
	return SP_EUNSUPP;
}

void io_bpf_nat_close(struct io_bpf_nat *b)
{
	(void)b;
}

int io_bpf_nat_attach(struct io_bpf_nat *b, unsigned ifindex, bool inside)
{
	(void)b;
	(void)ifindex;
	(void)inside;
	return SP_EUNSUPP;
}

void io_bpf_nat_detach_stale(unsigned ifindex)
{
	(void)ifindex;
}

int io_bpf_nat_set_cfg(struct io_bpf_nat *b, const struct fp_cfg *c)
{
	(void)b;
	(void)c;
	return SP_EUNSUPP;
}

int io_bpf_nat_add_local(struct io_bpf_nat *b, uint32_t addr)
{
	(void)b;
	(void)addr;
	return SP_EUNSUPP;
}

int io_bpf_nat_put(struct io_bpf_nat *b, const struct fp_key *k, const struct fp_val *v)
{
	(void)b;
	(void)k;
	(void)v;
	return SP_EUNSUPP;
}

int io_bpf_nat_get(struct io_bpf_nat *b, const struct fp_key *k, struct fp_val *v)
{
	(void)b;
	(void)k;
	(void)v;
	return SP_EUNSUPP;
}

void io_bpf_nat_del(struct io_bpf_nat *b, const struct fp_key *k, uint32_t handle)
{
	(void)b;
	(void)k;
	(void)handle;
}

void io_bpf_nat_flush(struct io_bpf_nat *b)
{
	(void)b;
}

int io_bpf_nat_counters(struct io_bpf_nat *b, uint64_t ctr[FP_CTR_N])
{
	(void)b;
	(void)ctr;
	return SP_EUNSUPP;
}

int io_bpf_nat_set_ifmac(struct io_bpf_nat *b, unsigned ifindex, const uint8_t mac[6])
{
	(void)b;
	(void)ifindex;
	(void)mac;
	return SP_EUNSUPP;
}

int io_bpf_nat_run(struct io_bpf_nat *b, bool inside, unsigned ingress_ifindex, uint8_t *frame,
		   uint32_t *len, uint32_t cap, int *action, uint32_t *mark)
{
	(void)b;
	(void)inside;
	(void)ingress_ifindex;
	(void)frame;
	(void)len;
	(void)cap;
	(void)action;
	(void)mark;
	return SP_EUNSUPP;
}

void io_bpf_nat_use_tc(struct io_bpf_nat *b)
{
	(void)b;
}
