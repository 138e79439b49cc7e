/*
 * The gateway role's fast path in the kernel (gw_fastpath.c): the tc program of
 * io/bpf_nat.h on the gateway's interfaces, kept in step with the engine through
 * nat/nat_offload.h. Without BPF the gateway runs on NFQUEUE alone and says so once.
 */
#ifndef SPINATD_GW_FASTPATH_H
#define SPINATD_GW_FASTPATH_H

#include "spinatd.h"
#include "nat/nat.h"

struct gw_fastpath;

/* Read the fastpath keys of [gateway], remove what a crashed spinatd left on the
 * interfaces, then (unless fastpath = off, or without BPF with fastpath = auto) load,
 * attach and lend the engine its fast path. *out is NULL when there is none. */
int gw_fastpath_start(struct spinatd *d, struct conf_sec *s, struct nat *nat, uint32_t mark,
		      const unsigned *in_if, unsigned nin, const unsigned *out_if, unsigned nout,
		      struct gw_fastpath **out) SP_MUST_CHECK;
/* Take the fast path back from the engine, detach; NULL is fine. */
void gw_fastpath_stop(struct spinatd *d, struct gw_fastpath *f);

/* Its keys for the gateway's --help. */
#define GW_FASTPATH_USAGE                                                                      \
	"      fastpath = auto|on|off  apply the translations the engine settled in the\n"     \
	"                         kernel (tc BPF; auto: when BPF works, else NFQUEUE alone)\n" \
	"      fastpath_mark = N  mark of the packets translated, by it or by spinatd's\n"     \
	"                         verdicts (0x5350)\n"                                         \
	"      fastpath_rule = yes|no  insert the iptables raw rule letting them pass (yes)\n" \
	"      fastpath_stale = T it stops translating T after spinatd stops (3s)\n"           \
	"      fastpath_forward = stack|redirect  who forwards translated packets (stack)\n"   \
	"      fastpath_attach = auto|tc  tcx links where the kernel has them, or tc filters\n"

#endif
