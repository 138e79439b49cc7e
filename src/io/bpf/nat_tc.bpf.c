/*
 * The gateway fast path: a tc (clsact ingress) program on the gateway's inside interfaces
 * (fp_inside) and outside interfaces (fp_outside). It applies translations the NAT engine
 * in userspace has settled and installed in fp_map (nat_fp.h): rewrites the address, the
 * port or ICMP identifier, and the checksums, counts the packet in its element, and marks
 * it so the NFQUEUE rules let it pass to routing. Everything else goes on untouched to the
 * stack, where the rules queue it to the engine as without the fast path: misses, TCP
 * segments with SYN, FIN or RST (the engine tracks the connection state, RFC 5382 REQ-5),
 * fragments, IKE on UDP 500 with cookies, ICMP errors, IP options, packets to the gateway
 * itself or to a global address (hairpinning).
 *
 * On a bridge the program sits on the bridge's ports, not on the bridge: there it runs
 * before the bridge and before netfilter's bridge hooks (br_netfilter), which would queue
 * the frame to the engine first. It then translates only frames sent to the bridge's own
 * address (fp_ifmac) or to the port's (which the bridge delivers locally too), the ones
 * the gateway routes.
 *
 * Checksums go through the kernel's helpers, which also handle packets whose transport
 * checksum is still to be completed (CHECKSUM_PARTIAL) and a UDP checksum of zero, which
 * stays zero (RFC 768).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nat_fp.h"

#define IP_OFF	 ETH_HLEN
#define L4_OFF	 (ETH_HLEN + 20)
#define CSUM_IP	 (IP_OFF + 10)
#define OFF_SRC	 (IP_OFF + 12)
#define OFF_DST	 (IP_OFF + 16)
#define TCP_FIN	 0x01
#define TCP_SYN	 0x02
#define TCP_RST	 0x04
#define IKE_PORT 500

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* set by the loader */
	/* Preallocated: elements come from one area, not one kmalloc each, so the ones in
	 * use sit close together (fewer cache and TLB misses per lookup), and installing
	 * allocates nothing. */
	__type(key, struct fp_key);
	__type(value, struct fp_val);
} fp_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_cfg);
} fp_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} fp_local SEC(".maps");

/* A filter in front of fp_local: bit (address & 0xffff) set for every address in it, so
 * that the common inside packet, to an address whose bit is clear, costs an array index
 * (the verifier inlines it) instead of a hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_LOCAL_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} fp_local_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct fp_mac);
} fp_ifmac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_CTR_N);
	__type(key, __u32);
	__type(value, __u64);
} fp_ctr SEC(".maps");

static __always_inline int count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&fp_ctr, &c);

	if (v)
		*v += 1;
	return TC_ACT_OK;
}

static __always_inline int same_mac(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/* Whether dst (host order) is one of fp_local's addresses. */
static __always_inline int is_local(__u32 dst)
{
	__u32 w = (dst & 0xffff) >> 6;
	__u64 *bits = bpf_map_lookup_elem(&fp_local_bits, &w);

	if (bits != NULL && !(*bits & (1ull << (dst & 63))))
		return 0;
	return bpf_map_lookup_elem(&fp_local, &dst) != NULL;
}

/* A rewrite the kernel refused half way: the packet is neither the old nor the new one. */
static __always_inline int shot(void)
{
	count(FP_CTR_DROP_REWRITE);
	return TC_ACT_SHOT;
}

/* Where a protocol keeps what NAPT rewrites (as the engine's nat_l4_layout). */
struct l4 {
	__u32 csum;   /* checksum offset from the transport header */
	__u32 pseudo; /* BPF_F_PSEUDO_HDR when the checksum covers the addresses */
	__u32 zero;   /* BPF_F_MARK_MANGLED_0 for UDP */
	__u32 port;   /* offset of the port or identifier to rewrite */
	int napt;
};

/*
 * Forward a translated packet without the stack, as ip_forward() would: the route and the
 * neighbour from the kernel's FIB, the TTL decremented. Anything unusual (no route, the
 * neighbour not resolved yet, a TTL about to run out, a packet to this host) goes to the
 * stack instead, marked, which handles it (ARP, ICMP errors).
 */
static __always_inline int forward(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip = data + ETH_HLEN;
	__u16 old_w, new_w;

	if ((void *)(ip + 1) > end || ip->ttl <= 1)
		return TC_ACT_OK;
	fib.family = 2; /* AF_INET */
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	/* TTL and protocol share a 16-bit word of the header checksum (RFC 1624). */
	old_w = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new_w = *(__u16 *)&ip->ttl;
	if (bpf_l3_csum_replace(skb, CSUM_IP, old_w, new_w, sizeof(new_w)) != 0 ||
	    bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) != 0 ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0) != 0)
		return shot();
	count(FP_CTR_REDIRECTED);
	return bpf_redirect(fib.ifindex, 0);
}

static __always_inline int fast(struct __sk_buff *skb, int dir)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	__u8 *l4p = data + L4_OFF;
	struct fp_cfg *cfg;
	struct fp_val *v;
	struct fp_key k = {};
	struct l4 L = {};
	__u32 zero = 0, old_addr, new_addr;
	__u16 old_port = 0, new_port;
	__u64 now;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(FP_CTR_NOT_HANDLED);
	if (ip->ihl != 5 || ip->version != 4)
		return count(FP_CTR_NOT_HANDLED);
	if (ip->frag_off & bpf_htons(0x3fff))
		return count(FP_CTR_FRAGMENT);
	if ((void *)(l4p + 8) > end)
		return count(FP_CTR_NOT_HANDLED);
	if ((cfg = bpf_map_lookup_elem(&fp_cfg, &zero)) == NULL)
		return count(FP_CTR_NOT_HANDLED);
	/* CLOCK_MONOTONIC_COARSE: the daemon's clock, up to a tick behind, without reading
	 * the clock source per packet (costly in a virtual machine). Behind the heartbeat
	 * by that tick is not stale. */
	now = bpf_ktime_get_coarse_ns();
	if ((__s64)(now - cfg->heartbeat_ns) > (__s64)cfg->stale_ns)
		return count(FP_CTR_STALE);

	k.proto = ip->protocol;
	k.dir = dir;
	if (dir == FP_IN2OUT) {
		__u32 dst = bpf_ntohl(ip->daddr), ifi = skb->ingress_ifindex;

		/* Only frames sent to the router: on a bridge port, frames between inside
		 * hosts pass here too. A frame to the interface's own address (PACKET_HOST,
		 * from eth_type_trans) is the router's: on a routed interface that is its
		 * address, on a bridge port one the bridge delivers locally. Other frames
		 * are the router's only when sent to the address fp_ifmac names (the
		 * bridge's, seen on its port). */
		if (skb->pkt_type != PACKET_HOST) {
			struct fp_mac *m = bpf_map_lookup_elem(&fp_ifmac, &ifi);

			if (m == NULL || !same_mac(m->mac, eth->h_dest))
				return count(FP_CTR_NOT_ROUTED);
		}
		if (is_local(dst))
			return count(FP_CTR_LOCAL);
		k.a = bpf_ntohl(ip->saddr);
	} else {
		k.a = bpf_ntohl(ip->daddr);
	}
	switch (ip->protocol) {
	case IPPROTO_UDP:
		if (cfg->ike_cookies && ((l4p[2] << 8 | l4p[3]) == IKE_PORT ||
					 (dir == FP_IN2OUT && (l4p[0] << 8 | l4p[1]) == IKE_PORT)))
			return count(FP_CTR_IKE);
		L.csum = 6;
		L.pseudo = BPF_F_PSEUDO_HDR;
		L.zero = BPF_F_MARK_MANGLED_0;
		L.port = dir == FP_IN2OUT ? 0 : 2;
		L.napt = 1;
		break;
	case IPPROTO_TCP:
		if ((void *)(l4p + 14) > end)
			return count(FP_CTR_NOT_HANDLED);
		if (l4p[13] & (TCP_FIN | TCP_SYN | TCP_RST))
			return count(FP_CTR_TCP_FLAGS);
		L.csum = 16;
		L.pseudo = BPF_F_PSEUDO_HDR;
		L.port = dir == FP_IN2OUT ? 0 : 2;
		L.napt = 1;
		break;
	case IPPROTO_ICMP:
		/* Echo request and reply only; errors quote a packet the engine translates. */
		if (l4p[0] != 8 && l4p[0] != 0)
			return count(FP_CTR_NOT_HANDLED);
		L.csum = 2;
		L.port = 4;
		L.napt = 1;
		break;
	case IPPROTO_ESP:
		k.b = bpf_ntohl(dir == FP_IN2OUT ? ip->daddr : ip->saddr);
		k.id = (__u32)l4p[0] << 24 | (__u32)l4p[1] << 16 | (__u32)l4p[2] << 8 | l4p[3];
		break;
	case IPPROTO_AH:
		k.b = bpf_ntohl(dir == FP_IN2OUT ? ip->daddr : ip->saddr);
		k.id = (__u32)l4p[4] << 24 | (__u32)l4p[5] << 16 | (__u32)l4p[6] << 8 | l4p[7];
		break;
	default:
		return count(FP_CTR_NOT_HANDLED);
	}
	if (L.napt) {
		old_port = (__u16)(l4p[L.port] << 8 | l4p[L.port + 1]);
		k.id = old_port;
	}
	v = bpf_map_lookup_elem(&fp_map, &k);
	if (v == NULL && !L.napt) {
		k.id = 0; /* an item for every SPI between the two (the ipaddr strategy) */
		v = bpf_map_lookup_elem(&fp_map, &k);
	}
	if (v == NULL)
		return count(FP_CTR_MISS);

	old_addr = dir == FP_IN2OUT ? ip->saddr : ip->daddr;
	new_addr = bpf_htonl(v->addr);
	new_port = bpf_htons(v->port);
	old_port = bpf_htons(old_port);
	if (L.pseudo && bpf_l4_csum_replace(skb, L4_OFF + L.csum, old_addr, new_addr,
					    L.pseudo | L.zero | sizeof(new_addr)) != 0)
		return shot();
	if (L.napt && (v->flags & FP_F_PORT) && new_port != old_port) {
		if (bpf_l4_csum_replace(skb, L4_OFF + L.csum, old_port, new_port,
					L.zero | sizeof(new_port)) != 0 ||
		    bpf_skb_store_bytes(skb, L4_OFF + L.port, &new_port, sizeof(new_port), 0) != 0)
			return shot();
	}
	if (bpf_l3_csum_replace(skb, CSUM_IP, old_addr, new_addr, sizeof(new_addr)) != 0 ||
	    bpf_skb_store_bytes(skb, dir == FP_IN2OUT ? OFF_SRC : OFF_DST, &new_addr,
				sizeof(new_addr), 0) != 0)
		return shot();
	skb->mark = cfg->mark;
	v->last_ns = now;
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, skb->len - ETH_HLEN);
	count(dir == FP_IN2OUT ? FP_CTR_IN2OUT : FP_CTR_OUT2IN);
	if (cfg->redirect)
		return forward(skb);
	return TC_ACT_OK;
}

SEC("tc")
int fp_inside(struct __sk_buff *skb)
{
	return fast(skb, FP_IN2OUT);
}

SEC("tc")
int fp_outside(struct __sk_buff *skb)
{
	return fast(skb, FP_OUT2IN);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
