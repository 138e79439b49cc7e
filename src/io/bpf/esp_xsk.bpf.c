/*
 * The endpoint's ESP receive path (xdp_rx): an XDP program on the device ESP arrives on.
 * An unfragmented IPv4 packet of protocol 50 addressed to one of the endpoint's addresses
 * (xsk_local) goes to the AF_XDP socket of its receive queue (xsk_socks), before the IP
 * stack: no skb, no route lookup, no raw socket delivery. Everything else goes on to the
 * stack, as without the program: other protocols and addresses, fragments (the stack
 * reassembles them for the raw socket), frames longer than a socket's frame, and any
 * packet of a queue without a socket (bpf_redirect_map()'s fallback), for instance while
 * spinatd is not running.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define XSK_QUEUES    64
#define XSK_LOCALS    64
#define XSK_FRAME_MAX 1792   /* a socket frame (2048) less the headroom the kernel keeps (256) */
#define FRAG_BITS     0x3fff /* more fragments and the offset */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XSK_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsk_socks SEC(".maps");

/* The endpoint's addresses (network order), value unused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XSK_LOCALS);
	__type(key, __u32);
	__type(value, __u8);
} xsk_local SEC(".maps");

SEC("xdp")
int esp_xsk(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 dst;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 ||
	    ip->ihl < 5 || ip->protocol != IPPROTO_ESP ||
	    (ip->frag_off & bpf_htons(FRAG_BITS)) != 0 || end - data > XSK_FRAME_MAX)
		return XDP_PASS;
	dst = ip->daddr;
	if (bpf_map_lookup_elem(&xsk_local, &dst) == NULL)
		return XDP_PASS;
	return bpf_redirect_map(&xsk_socks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
