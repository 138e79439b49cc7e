/*
 * The gateway fast path's maps, shared by the tc program (nat_tc.bpf.c, compiled with
 * clang -target bpf) and its loader (io/bpf_nat.c). The engine in userspace decides;
 * the program only applies translations the engine has settled and installed here.
 *
 * fp_map: one element per direction of a settled translation.
 *   key   (a, b, id, proto, dir): what an arriving packet carries.
 *           NAPT from inside:  (source, 0, source port or ICMP id)
 *           NAPT from outside: (destination, 0, destination port or ICMP id)
 *           ESP/AH from inside:  (source = client, destination = server, SPI)
 *           ESP/AH from outside: (destination = global, source = server, SPI)
 *         an ESP/AH packet matching no SPI is looked up again with id 0 (any SPI).
 *   value: the new source (from inside) or destination (from outside) address and, with
 *          FP_F_PORT, port or ICMP id; the engine's entry it belongs to (handle); and what
 *          the program writes back: the time of the last packet (bpf_ktime_get_coarse_ns, the
 *          daemon's CLOCK_MONOTONIC), packets and bytes.
 * fp_cfg:   one element: the mark translated packets carry, the daemon's heartbeat (no
 *           fast path once it is older than stale_ns: a crashed daemon's translations
 *           stop with it), whether UDP 500 is IKE demultiplexed by cookies, and whether
 *           the program forwards translated packets itself (redirect) or hands them to
 *           the stack.
 * fp_local: addresses an inside packet may be sent to without translation by the fast
 *           path: the gateway's own and the pool (hairpinning is the engine's).
 * fp_local_bits: a filter in front of fp_local, FP_LOCAL_WORDS 64-bit words: bit
 *           (address & 0xffff) set for each of its addresses (only ever added).
 * fp_ifmac: per inside interface (or bridge port) the router's MAC address: only frames
 *           sent to it are translated from inside.
 * fp_ctr:   per-CPU counters, FP_CTR_*.
 *
 * All addresses, ports and SPIs are in host byte order, as the engine keeps them.
 */
#ifndef SP_IO_BPF_NAT_FP_H
#define SP_IO_BPF_NAT_FP_H

#include <linux/types.h>

#define FP_LOCAL_WORDS 1024 /* 65536 bits */

#define FP_IN2OUT 1
#define FP_OUT2IN 2

#define FP_F_PORT \
	0x1 /* rewrite the port (NAPT source port from inside, destination from outside) */

struct fp_key {
	__u32 a;
	__u32 b;
	__u32 id;
	__u8 proto;
	__u8 dir;
	__u16 zero;
};

struct fp_val {
	__u32 addr;
	__u16 port;
	__u16 flags;
	__u32 handle;
	__u32 zero;
	__u64 last_ns;
	__u64 packets;
	__u64 bytes;
};

struct fp_cfg {
	__u64 heartbeat_ns;
	__u64 stale_ns;
	__u32 mark;
	__u8 ike_cookies;
	__u8 redirect; /* forward translated packets itself (FIB lookup, TTL, redirect) */
	__u16 zero;
};

struct fp_mac {
	__u8 mac[6];
	__u16 zero;
};

/* What the program did with a packet: the first two forwarded it translated, the last
 * dropped it, the others left it untouched for the stack (and the NFQUEUE rules: the
 * engine). */
#define foreach_fp_ctr(_)                                                                    \
	_(IN2OUT, "fast_in2out")       /* translated from inside */                          \
	_(OUT2IN, "fast_out2in")       /* translated from outside */                         \
	_(REDIRECTED, "redirected")    /* of those, forwarded by the program itself */       \
	_(MISS, "miss")		       /* no settled translation: the engine decides */      \
	_(TCP_FLAGS, "tcp_flags")      /* SYN, FIN or RST: the engine tracks the state */    \
	_(FRAGMENT, "fragment")	       /* fragments follow the engine */                     \
	_(IKE, "ike")		       /* UDP 500 with cookies: the engine's IKE items */    \
	_(LOCAL, "local_or_hairpin")   /* to the gateway itself or to a global address */    \
	_(NOT_ROUTED, "not_to_router") /* inside frame not sent to the router's address */   \
	_(STALE, "daemon_stale")       /* no heartbeat: the daemon is gone */                \
	_(NOT_HANDLED, "not_handled")  /* not IPv4 over Ethernet, options, other protocol */ \
	_(DROP_REWRITE, "drop_rewrite_failed") /* a checksum or store helper failed half way */

enum fp_ctr {
#define _(sym, str) FP_CTR_##sym,
	foreach_fp_ctr(_)
#undef _
		FP_CTR_N
};

#endif
