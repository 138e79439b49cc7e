/*
 * The gateway fast path in the kernel: loads the tc program of io/bpf/nat_tc.bpf.c,
 * attaches it to the clsact ingress hook of the gateway's interfaces and gives access to
 * its maps (io/bpf/nat_fp.h). Built only when libbpf, clang and bpftool are there
 * (meson option `fastpath`); without them, or without the permission or kernel support,
 * io_bpf_nat_open() fails and says why.
 *
 * Where the kernel has tcx links (6.6) the program is attached through one, which the
 * kernel removes when the process dies. Otherwise tc filters with a fixed handle and
 * priority (IO_BPF_NAT_HANDLE, IO_BPF_NAT_PRIO) are used, so a filter a crashed daemon
 * left behind is found and replaced (or removed) by the next.
 */
#ifndef SP_IO_BPF_NAT_H
#define SP_IO_BPF_NAT_H

#include "base/sp.h"
#include "base/time.h"
#include "io/bpf/nat_fp.h"

#include <stddef.h>

#define IO_BPF_NAT_HANDLE 0x5350u
#define IO_BPF_NAT_PRIO	  0x5350u

struct io_bpf_nat;

/* Whether this build has the fast path at all. */
extern const bool io_bpf_nat_built;

/* Load the program with room for max_entries translations (one per direction). On
 * failure, why holds a sentence for the log; with verbose, libbpf's own warnings (the
 * verifier's log) go to stderr too. */
int io_bpf_nat_open(struct io_bpf_nat **out, uint32_t max_entries, bool verbose, char *why,
		    size_t whylen) SP_MUST_CHECK;
/* Detach every filter attached, then free the program and its maps. */
void io_bpf_nat_close(struct io_bpf_nat *b);

/* Attach the inside (translate from inside) or outside program to ifindex's ingress,
 * replacing a filter of ours left there. An inside bridge gets the program on each of
 * its ports present now (before the bridge and br_netfilter), for the frames sent to the
 * bridge's address. */
int io_bpf_nat_attach(struct io_bpf_nat *b, unsigned ifindex, bool inside) SP_MUST_CHECK;
/* Attach as tc filters even where tcx links exist (before io_bpf_nat_attach). */
void io_bpf_nat_use_tc(struct io_bpf_nat *b);
/* Remove a filter of ours from ifindex's ingress (and its bridge ports'), if any. */
void io_bpf_nat_detach_stale(unsigned ifindex);

int io_bpf_nat_set_cfg(struct io_bpf_nat *b, const struct fp_cfg *c) SP_MUST_CHECK;
/* The router's address on inside interface (or bridge port) ifindex (attach sets it). */
int io_bpf_nat_set_ifmac(struct io_bpf_nat *b, unsigned ifindex,
			 const uint8_t mac[6]) SP_MUST_CHECK;
int io_bpf_nat_add_local(struct io_bpf_nat *b, uint32_t addr) SP_MUST_CHECK;

/* Install (replacing) one element. */
int io_bpf_nat_put(struct io_bpf_nat *b, const struct fp_key *k,
		   const struct fp_val *v) SP_MUST_CHECK;
/* The element under k, or SP_ENOTFOUND. */
int io_bpf_nat_get(struct io_bpf_nat *b, const struct fp_key *k, struct fp_val *v) SP_MUST_CHECK;
/* Remove the element under k if it belongs to handle. */
void io_bpf_nat_del(struct io_bpf_nat *b, const struct fp_key *k, uint32_t handle);
/* Remove every element. */
void io_bpf_nat_flush(struct io_bpf_nat *b);

/* Run the inside or outside program once on an Ethernet frame in memory, as arrived on
 * ingress_ifindex (BPF_PROG_TEST_RUN): the frame is replaced by the program's output
 * (*len updated, at most cap bytes), *action is its tc verdict, *mark the mark it set. */
int io_bpf_nat_run(struct io_bpf_nat *b, bool inside, unsigned ingress_ifindex, uint8_t *frame,
		   uint32_t *len, uint32_t cap, int *action, uint32_t *mark) SP_MUST_CHECK;

/* The program's counters summed over CPUs (on failure ctr keeps its values). */
int io_bpf_nat_counters(struct io_bpf_nat *b, uint64_t ctr[FP_CTR_N]);
extern const char *const io_bpf_nat_ctr_names[FP_CTR_N];

#endif
