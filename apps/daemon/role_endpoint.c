/*
 * spinatd's endpoint role: an IPsec endpoint in userspace. Cleartext comes from the kernel
 * through a TUN device; ESP and AH go out and come in through raw IP sockets (protocols 50
 * and 51) and the NAT-T UDP socket (RFC 3948), IKE on UDP 500 through its own socket
 * (endpoint_ike.c). Everything between them is the sans-IO endpoint stack of
 * host/endpoint.h (IPsec, IKE when [conn] sections exist, the host modules), the same
 * stack endpoint nodes run in the simulator; this file keeps the sockets, TUN and timer.
 */
#include "spinatd.h"
#include "endpoint_ike.h"
#include "base/addr.h"
#include "crypto/drbg.h"
#include "io/ipsock.h"
#include "io/lanes.h"
#include "io/linkout.h"
#include "io/state.h"
#include "io/tun.h"
#include "io/tunq.h"
#include "io/xsk.h"
#include "io/udp.h"
#include "proto/gso.h"
#include "proto/ipv4.h"
#include "proto/udp.h"
#include "proto/natt.h"

#include <stdlib.h>
#include <string.h>

#define EP_BATCH	   64 /* packets per wakeup and descriptor, so no source starves another */
/* With TUN offloads a read can bring 64 KB (49 segments at MTU 1400): reads per wakeup. */
#define EP_TUN_READS	   8
#define EP_TUN_SPILL	   (VNET_HDR_LEN + 65536) /* one large TUN read */
/* Segments of one large TUN packet: 64 KB at the smallest MTU's segment size (576 less
 * IPv4, TCP and timestamps: 524 bytes) is 126. */
#define EP_GSO_SEGS	   128
#define EP_SOCK_BUF	   (4u << 20) /* socket buffers each way */
#define EP_TUN_QUEUE	   1000	      /* the kernel's queue towards us, in packets */
#define EP_TUNQ_BUFS	   32	      /* tun_thread: 64 KB buffers each way */
#define EP_DEFAULT_MTU	   1400
/* A packet from the TUN device must leave room in its buffer for ESP's trailer and ICV
 * (at most 15 + 2 + 32 bytes) after PKT_HEADROOM. */
#define EP_MAX_MTU	   1700
#define EP_MAX_ROUTES	   16
/* crypto_lanes: fewer jobs or bytes than this in a batch are not worth waking a thread. */
#define EP_LANES_MIN_JOBS  4
#define EP_LANES_MIN_BYTES 8192

#define foreach_ep_ctr(_)                                                                        \
	_(TUN_RX, "tun_rx")			    /* cleartext read from the TUN device */     \
	_(TUN_TX, "tun_tx")			    /* cleartext written to it */                \
	_(NET_RX, "net_rx")			    /* packets read from the sockets */          \
	_(NET_TX, "net_tx")			    /* packets sent */                           \
	_(DROP_TUN_NOT_IPV4, "drop_tun_not_ipv4")   /* e.g. IPv6 the kernel sends the TUN */     \
	_(DROP_POOL_EMPTY, "drop_pool_empty")	    /* no packet buffer free */                  \
	_(TUN_RX_GSO, "tun_rx_gso")		    /* large segments among them (offload) */    \
	_(TUN_RX_SEGMENTS, "tun_rx_segments")	    /* MTU-sized packets cut from those */       \
	_(TUN_TX_COALESCED, "tun_tx_coalesced")	    /* went up inside another (GRO-like) */      \
	_(DROP_TUN_WRITE, "drop_tun_write")	    /* the kernel refused the write */           \
	_(DROP_TUN_FULL, "drop_tun_full")	    /* a write found no room (ENOBUFS) */        \
	_(DROP_TUN_KERNEL, "drop_tun_kernel")	    /* the kernel's queue to us overflowed */    \
	_(DROP_TUN_GSO, "drop_tun_gso")		    /* a large segment that could not be cut */  \
	_(TUN_RX_PAUSED, "tun_rx_paused")	    /* tun_thread: its read buffers were full */ \
	_(DROP_NET_SEND, "drop_net_send")	    /* sendto() failed */                        \
	_(DROP_NET_TRUNCATED, "drop_net_truncated") /* larger than a packet buffer */            \
	_(DROP_READ_ERROR, "drop_read_error")	    /* read or recv failed */                    \
	_(LANE_RUNS, "lane_runs")		    /* crypto_lanes: batches shared out */       \
	_(LANE_JOBS, "lane_jobs")		    /* ESP seals and opens in them */            \
	_(LANE_HELPED, "lane_helped")		    /* of which other threads did these */

enum ep_ctr {
#define _(sym, str) EP_CTR_##sym,
	foreach_ep_ctr(_)
#undef _
		EP_CTR_N
};

static const char *const ep_ctr_names[] = { SP_CTR_NAMES(foreach_ep_ctr) };

struct ep_role {
	struct spinatd *d;
	struct endpoint *stack;
	struct crypto_drbg *drbg;
	struct io_tun tun;
	struct io_ipsock net;
	struct io_timer timer;
	struct io_timer stats; /* each second: the kernel's and the TUN thread's counts */
	uint64_t ctr[EP_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
	bool started;		  /* endpoint_start() ran, from the running event loop */
	struct endpoint_ike *ike; /* IKE's socket, when [conn] sections are configured */
	int l2tp_fd;		  /* 004's client module: its UDP port (host/host_l2tp.h) */
	uint32_t l2tp_local;
	uint16_t l2tp_port;
	/* The data path (tun_offload): inside on_tun() and on_net() packets for the network
	 * are queued and cleartext for the host is coalesced, both flushed before they
	 * return. */
	bool in_batch;
	uint8_t *spill; /* EP_TUN_SPILL bytes: a large segment read from the TUN device */
	uint8_t *grobuf;
	struct gro gro;
	struct sp_ctrs net_ctrs;
	bool net_registered;
	struct sp_ctrs link_ctrs; /* link_out: module "link" */
	bool link_registered;
	struct io_xsk *xsk; /* xdp_rx: ESP from the device's AF_XDP sockets */
	struct sp_ctrs xsk_ctrs;
	bool xsk_registered;
	struct io_tunq *tunq;	/* tun_thread: the device's reads and writes on their own thread */
	struct io_lanes *lanes; /* crypto_lanes > 1: the threads that seal and open with us */
	sp_time drops_at;	/* when the kernel's TUN drop count was read last */
	uint64_t drops_base;	/* its value when the device was opened */
};

/* The engine's ESP jobs of the batch in hand (crypto_lanes): on all lanes when there are
 * enough to share, else on this thread alone. */
static void lanes_run(struct ep_role *ep)
{
	struct ipsec *e = endpoint_ipsec(ep->stack);
	size_t bytes;
	unsigned n = ipsec_jobs(e, &bytes);

	if (n >= EP_LANES_MIN_JOBS && bytes >= EP_LANES_MIN_BYTES)
		io_lanes_run(ep->lanes, n);
	else
		ipsec_lane_run(e, 0, 0, n);
}

static void lane_fn(void *arg, unsigned lane, unsigned from, unsigned to)
{
	struct ep_role *ep = arg;

	ipsec_lane_run(endpoint_ipsec(ep->stack), lane, from, to);
}

/* The seals deferred so far, done: what is queued may leave. A seal that failed is counted
 * by the engine (ipsec.drop_crypto) and its packet withdrawn from the queue. */
static void seal(struct ep_role *ep)
{
	lanes_run(ep);
	ipsec_seal_done(endpoint_ipsec(ep->stack));
}

static void net_out(void *arg, sp_time now, struct pkt *p)
{
	struct ep_role *ep = arg;

	(void)now;
	if (endpoint_ike_send(ep->ike, p)) {
		ep->ctr[EP_CTR_NET_TX]++; /* UDP 500, on IKE's own socket */
	} else if (ep->in_batch) {
		ep->ctr[EP_CTR_NET_TX]++;
		if (ep->lanes != NULL && io_ipsock_queued(&ep->net) == IO_IPSOCK_BATCH &&
		    ipsec_jobs(endpoint_ipsec(ep->stack), NULL) != 0) {
			/* The queue is full and leaves now: sealed first, p too. */
			seal(ep);
			io_ipsock_flush(&ep->net);
			ipsec_seal_defer(endpoint_ipsec(ep->stack));
		}
		io_ipsock_queue(&ep->net, p); /* its failures count as net.drop_tx_* */
		return;
	} else if (io_ipsock_send(&ep->net, p) == 0) {
		ep->ctr[EP_CTR_NET_TX]++;
	} else {
		ep->ctr[EP_CTR_DROP_NET_SEND]++;
	}
	pkt_free(p);
}

static void tun_result(struct ep_role *ep, int r)
{
	if (r == 0)
		ep->ctr[EP_CTR_TUN_TX]++;
	else
		ep->ctr[r == SP_EAGAIN ? EP_CTR_DROP_TUN_FULL : EP_CTR_DROP_TUN_WRITE]++;
}

/* With tun_thread the coalescing buffer is the next write buffer of the thread's ring:
 * queue it (the thread writes it) and coalesce into the next one. */
static void tunq_put(struct ep_role *ep, size_t len)
{
	io_tunq_tx_put(ep->tunq, len);
	ep->ctr[EP_CTR_TUN_TX]++;
	ep->gro.buf = io_tunq_tx(ep->tunq);
}

/* The coalesced run, up to the host. */
static void gro_out(struct ep_role *ep)
{
	uint16_t segs = ep->gro.segs;
	const uint8_t *b;
	size_t len;

	if ((b = gro_flush(&ep->gro, &len)) == NULL)
		return;
	ep->ctr[EP_CTR_TUN_TX_COALESCED] += segs - 1u;
	if (ep->tunq != NULL)
		tunq_put(ep, len);
	else
		tun_result(ep, io_tun_write_vnet(&ep->tun, b, len));
}

static void local_out(void *arg, sp_time now, struct pkt *p)
{
	struct ep_role *ep = arg;

	(void)now;
	if (ep->grobuf != NULL && ep->in_batch) {
		enum gro_verdict v = gro_offer(&ep->gro, pkt_data(p), p->len);

		if (v == GRO_FLUSH) {
			gro_out(ep);
			v = gro_offer(&ep->gro, pkt_data(p), p->len);
		}
		if (v == GRO_HELD) {
			pkt_free(p);
			return;
		}
		gro_out(ep); /* GRO_BYPASS: what was held goes first, order kept */
	}
	if (ep->tunq != NULL) {
		/* Through the thread's ring too, in order: with no virtio-net offload. */
		gro_out(ep);
		memset(ep->gro.buf, 0, VNET_HDR_LEN);
		memcpy(ep->gro.buf + VNET_HDR_LEN, pkt_data(p), p->len);
		tunq_put(ep, VNET_HDR_LEN + p->len);
		if (!ep->in_batch)
			io_tunq_kick(ep->tunq);
		pkt_free(p);
		return;
	}
	tun_result(ep, io_tun_write(&ep->tun, p));
	pkt_free(p);
}

/* A batch from the TUN device starts: with crypto lanes its seals wait for its end. */
static void batch_begin(struct ep_role *ep)
{
	ep->in_batch = true;
	if (ep->lanes != NULL)
		ipsec_seal_defer(endpoint_ipsec(ep->stack));
}

/* The end of a batch: what was queued leaves. */
static void batch_end(struct ep_role *ep)
{
	gro_out(ep);
	if (ep->tunq != NULL)
		io_tunq_kick(ep->tunq);
	if (ep->lanes != NULL)
		seal(ep);
	io_ipsock_flush(&ep->net);
	ep->in_batch = false;
}

/* The counts kept elsewhere: the kernel's drops on the TUN device's queue towards us, the
 * TUN thread's, the AF_XDP sockets' and the crypto lanes' counts, at most once a second:
 * after batches, and from a timer each second when idle. Each is read on its own: one that
 * cannot be read leaves the others current. */
static void read_counts(struct ep_role *ep, sp_time now)
{
	uint64_t v;

	if (now - ep->drops_at < SP_SEC(1))
		return;
	ep->drops_at = now;
	if (io_tun_kernel_drops(&ep->tun, &v) == 0)
		ep->ctr[EP_CTR_DROP_TUN_KERNEL] = v - ep->drops_base;
	if (ep->tunq != NULL) {
		struct io_tunq_stats s;

		/* The thread's own counts: its writes are the only ones then. */
		io_tunq_stats(ep->tunq, &s);
		ep->ctr[EP_CTR_DROP_TUN_FULL] = s.tx_full;
		ep->ctr[EP_CTR_DROP_TUN_WRITE] = s.tx_error;
		ep->ctr[EP_CTR_TUN_RX_PAUSED] = s.rx_full;
	}
	if (ep->xsk != NULL)
		io_xsk_update(ep->xsk);
	if (ep->lanes != NULL) {
		struct io_lanes_stats s;

		io_lanes_stats(ep->lanes, &s);
		ep->ctr[EP_CTR_LANE_RUNS] = s.runs;
		ep->ctr[EP_CTR_LANE_JOBS] = s.jobs;
		ep->ctr[EP_CTR_LANE_HELPED] = s.helped;
	}
}

static void on_stats(struct io_loop *loop, void *arg)
{
	struct ep_role *ep = arg;
	sp_time now = io_now();

	read_counts(ep, now);
	if (io_timer_arm(loop, &ep->stats, now + SP_SEC(1)) != 0)
		SP_ERR(&ep->d->log, "endpoint", "cannot arm the timer");
}

/* Manual keys: nobody else acts on the engine's events. */
static void ipsec_event(void *arg, sp_time now, const struct ipsec_event *ev)
{
	struct ep_role *ep = arg;
	static const char *const what[] = { "acquire (no SA for a policy)", "soft expiry",
					    "hard expiry", "reserved SPI expired" };
	char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

	(void)now;
	if (ev->type == IPSEC_EV_ACQUIRE)
		SP_WARN(&ep->d->log, "endpoint", "%s: policy %u, %s -> %s proto %u", what[ev->type],
			ev->policy->id, sp_ip4_fmt(ev->tuple.src, s), sp_ip4_fmt(ev->tuple.dst, d),
			ev->tuple.proto);
	else
		SP_WARN(&ep->d->log, "endpoint", "%s of SA 0x%08x (manual keys: replace it)",
			what[ev->type], ev->sa->spi);
}

static void ike_event(void *arg, sp_time now, const struct ike_event *ev)
{
	struct ep_role *ep = arg;

	(void)now;
	endpoint_ike_warn(ep->ike, ev);
}

/* An IKE message too long for a packet buffer (IKE_AUTH with a certificate chain): whole out
 * of the socket of its port, the NAT-T socket or IKE's own. */
static int ike_send(void *arg, sp_time now, const struct ike_path *path, const uint8_t *msg,
		    size_t len)
{
	struct ep_role *ep = arg;
	int r;

	(void)now;
	if (ep->net.ipip_rx >= 0)
		return SP_ENOTFOUND; /* 002's host: only what its tunnel carries reaches the peer */
	if (ep->net.udp >= 0 && path->local_port == ep->net.udp_port)
		r = io_ipsock_send_udp(&ep->net, path->remote_addr, path->remote_port, msg, len);
	else
		r = endpoint_ike_send_long(ep->ike, path, msg, len);
	if (r == SP_ENOTFOUND)
		return r; /* no socket for the port: the stack counts it */
	if (r == 0)
		ep->ctr[EP_CTR_NET_TX]++;
	else
		ep->ctr[EP_CTR_DROP_NET_SEND]++;
	return 0;
}

static int crl_fetch(void *arg, const char *uri, uint8_t **crl, size_t *len)
{
	struct ep_role *ep = arg;

	return endpoint_ike_crl_fetch(ep->ike, uri, crl, len);
}

static void keylog(void *arg, const struct ike_keylog *k)
{
	struct ep_role *ep = arg;

	endpoint_ike_keylog(ep->ike, k);
}

/* The IV epoch of static AES-GCM/GMAC keys: this start's number, persisted first
 * ([ipsec] boot_counter_file; RFC 4106 3.1). A check of the configuration counts nothing. */
static int boot_count(void *arg, const char *file, uint32_t *epoch)
{
	struct spinatd *d = ((struct ep_role *)arg)->d;
	uint64_t n = 1;
	int r;

	if (!d->check && (r = io_state_bump(file, &n)) != 0) {
		SP_ERR(&d->log, "endpoint", "boot_counter_file %s: %s", file, sp_strerror(r));
		return r;
	}
	if (n > UINT32_MAX) {
		SP_ERR(&d->log, "endpoint", "boot_counter_file %s: 2^32 starts: new keys needed",
		       file);
		return SP_EINVAL;
	}
	*epoch = (uint32_t)n;
	return 0;
}

static void rearm(void *arg)
{
	struct ep_role *ep = arg;
	sp_time t = ep->started ? endpoint_next_deadline(ep->stack) : 0;

	if (io_timer_arm(ep->d->loop, &ep->timer, t) != 0)
		SP_ERR(&ep->d->log, "endpoint", "cannot arm the timer");
}

static void on_timer(struct io_loop *loop, void *arg)
{
	struct ep_role *ep = arg;

	(void)loop;
	if (!ep->started) {
		/* From the loop, not during start-up: the answers to IKE's first requests
		 * (auto = start) are read as they come, not after the rest of the start-up
		 * made it retransmit. */
		ep->started = true;
		endpoint_start(ep->stack, io_now());
	}
	endpoint_tick(ep->stack, io_now());
	rearm(ep);
}

/* A large segment (or a packet with a partial checksum) from the TUN device, with its
 * virtio-net header vh: cut into MTU-sized packets to the stack. */
static void tun_segment(struct ep_role *ep, const struct vnet_hdr *vh, const uint8_t *ip, size_t n)
{
	struct pkt *seg[EP_GSO_SEGS];
	sp_time now;
	int r;

	if (n == 0 || ip[0] >> 4 != 4) {
		ep->ctr[EP_CTR_DROP_TUN_NOT_IPV4]++;
		return;
	}
	if ((r = gso_segment(vh, ip, n, &ep->d->pool, seg, EP_GSO_SEGS)) < 0) {
		ep->ctr[r == SP_ENOMEM ? EP_CTR_DROP_POOL_EMPTY : EP_CTR_DROP_TUN_GSO]++;
		return;
	}
	if (vh->gso_type != VNET_GSO_NONE) {
		ep->ctr[EP_CTR_TUN_RX_GSO]++;
		ep->ctr[EP_CTR_TUN_RX_SEGMENTS] += (unsigned)r;
	}
	/* One clock read for the segments of one read (a system call on some hosts). */
	now = io_now();
	for (int i = 0; i < r; i++)
		endpoint_output(ep->stack, now, seg[i]);
}

/* A virtio-net header and a packet (len bytes in all) the TUN device gave. */
static void tun_packet(struct ep_role *ep, const uint8_t *b, size_t len)
{
	struct vnet_hdr vh;

	ep->ctr[EP_CTR_TUN_RX]++;
	if (len < VNET_HDR_LEN) {
		ep->ctr[EP_CTR_DROP_READ_ERROR]++;
		return;
	}
	vnet_hdr_parse(b, &vh);
	tun_segment(ep, &vh, b + VNET_HDR_LEN, len - VNET_HDR_LEN);
}

/* What the TUN device's thread read: each buffer a virtio-net header and a packet. */
static void on_tunq(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_role *ep = arg;
	const uint8_t *b;
	size_t len;

	(void)loop;
	(void)fd;
	(void)events;
	batch_begin(ep);
	for (int i = 0; i < EP_TUN_READS && (b = io_tunq_rx(ep->tunq, &len)) != NULL; i++) {
		tun_packet(ep, b, len);
		io_tunq_rx_done(ep->tunq);
	}
	batch_end(ep);
	read_counts(ep, io_now());
	rearm(ep);
}

static void on_tun(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_role *ep = arg;

	(void)loop;
	(void)fd;
	(void)events;
	batch_begin(ep);
	if (ep->tun.vnet) {
		/* Packets, or large segments cut into MTU-sized ones, to the stack. */
		for (int i = 0; i < EP_TUN_READS; i++) {
			int n = io_tun_read_vnet(&ep->tun, ep->spill, EP_TUN_SPILL);

			if (n >= 0) {
				tun_packet(ep, ep->spill, (size_t)n);
				continue;
			}
			if (n == SP_ENOSPACE) {
				ep->ctr[EP_CTR_DROP_TUN_GSO]++;
				continue;
			}
			if (n != SP_EAGAIN)
				ep->ctr[EP_CTR_DROP_READ_ERROR]++;
			break;
		}
		batch_end(ep);
		read_counts(ep, io_now());
		rearm(ep);
		return;
	}
	for (int i = 0; i < EP_BATCH; i++) {
		struct pkt *p = pkt_alloc(&ep->d->pool);
		int r;

		if (p == NULL) {
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
			break;
		}
		if ((r = io_tun_read(&ep->tun, p)) != 0) {
			if (r != SP_EAGAIN)
				ep->ctr[EP_CTR_DROP_READ_ERROR]++;
			pkt_free(p);
			break;
		}
		ep->ctr[EP_CTR_TUN_RX]++;
		if (p->len == 0 || pkt_data(p)[0] >> 4 != 4) {
			ep->ctr[EP_CTR_DROP_TUN_NOT_IPV4]++;
			pkt_free(p);
			continue;
		}
		endpoint_output(ep->stack, io_now(), p);
	}
	batch_end(ep);
	read_counts(ep, io_now());
	rearm(ep);
}

/*
 * A datagram on the NAT-T socket too long for a packet buffer, whole in ep->net.large: IKE
 * (the non-ESP marker, RFC 3948 2.2; IKE_AUTH with a certificate chain) goes to the stack's
 * IKE as it is; ESP this long is a truncation (false).
 */
static bool natt_large(struct ep_role *ep)
{
	const struct io_ipsock *n = &ep->net;
	struct ike_path path = { n->large_dst, n->large_src, n->udp_port, n->large_sport };

	if (endpoint_ike(ep->stack) == NULL || n->large_len < NATT_MARKER_LEN ||
	    sp_load_be32(n->large) != 0)
		return false;
	endpoint_ike_input(ep->stack, io_now(), &path, n->large, n->large_len);
	return true;
}

/* Packets one receive call brought, to the stack. */
static void net_in(struct ep_role *ep, struct pkt **pk, unsigned n)
{
	sp_time now;

	/* With crypto lanes the batch's ESP is opened first, on all of them. */
	if (ep->lanes != NULL && ipsec_preopen(endpoint_ipsec(ep->stack), pk, n))
		lanes_run(ep);
	now = io_now(); /* once for what one system call brought */
	for (unsigned k = 0; k < n; k++) {
		ep->ctr[EP_CTR_NET_RX]++;
		endpoint_input(ep->stack, now, pk[k]);
	}
	if (ep->lanes != NULL)
		ipsec_preopen_done(endpoint_ipsec(ep->stack));
}

static void on_net(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_role *ep = arg;
	struct pkt *pk[IO_IPSOCK_BATCH];

	(void)loop;
	(void)events;
	ep->in_batch = true;
	/* Up to EP_BATCH system calls, each bringing up to IO_IPSOCK_BATCH packets. */
	for (int i = 0; i < EP_BATCH; i++) {
		int n = io_ipsock_recv_batch(&ep->net, fd, &ep->d->pool, pk, IO_IPSOCK_BATCH);

		ep->ctr[EP_CTR_DROP_NET_TRUNCATED] += ep->net.truncated;
		if (n == SP_ENOSPACE && fd == ep->net.udp && natt_large(ep)) {
			ep->ctr[EP_CTR_NET_RX]++;
			continue; /* a large IKE message, handed over whole */
		}
		if (n == SP_ENOSPACE) {
			ep->ctr[EP_CTR_DROP_NET_TRUNCATED]++;
			continue; /* the next datagram may fit */
		}
		if (n == SP_ENOMEM)
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
		if (n < 0)
			break; /* SP_EAGAIN; errors are counted as net.drop_rx_error */
		net_in(ep, pk, (unsigned)n);
	}
	batch_end(ep);
	rearm(ep);
}

/* xdp_rx: ESP from one receive queue's AF_XDP socket. */
static void on_xsk(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_role *ep = arg;
	struct pkt *pk[IO_IPSOCK_BATCH];
	unsigned q = 0;

	(void)loop;
	(void)events;
	while (q + 1 < io_xsk_queues(ep->xsk) && io_xsk_fd(ep->xsk, q) != fd)
		q++;
	ep->in_batch = true;
	for (int i = 0; i < EP_BATCH; i++) {
		int n = io_xsk_recv_batch(ep->xsk, q, &ep->d->pool, pk, IO_IPSOCK_BATCH);

		if (n == SP_ENOMEM)
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
		if (n <= 0)
			break;
		net_in(ep, pk, (unsigned)n);
	}
	batch_end(ep);
	rearm(ep);
}

/* Datagrams to the L2TP client module's port, handed to the stack as whole packets. */
static void on_l2tp(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ep_role *ep = arg;
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };

	(void)loop;
	(void)events;
	for (int i = 0; i < EP_BATCH; i++) {
		struct pkt *p = pkt_alloc(&ep->d->pool);
		uint32_t src, dst;
		uint16_t sport;
		int n;

		if (p == NULL) {
			ep->ctr[EP_CTR_DROP_POOL_EMPTY]++;
			break;
		}
		n = io_udp_recv(fd, pkt_data(p), pkt_tailroom(p) - 64, &src, &sport, &dst);
		if (n < 0) {
			pkt_free(p);
			if (n == SP_ENOSPACE) {
				ep->ctr[EP_CTR_DROP_NET_TRUNCATED]++;
				continue;
			}
			if (n != SP_EAGAIN)
				ep->ctr[EP_CTR_DROP_READ_ERROR]++;
			break;
		}
		p->len = (uint32_t)n;
		h.ip_src = src;
		h.ip_dst = ep->l2tp_local;
		if (udp_build(p, sport, ep->l2tp_port, src, ep->l2tp_local, false) != 0 ||
		    ipv4_build(p, &h, NULL, 0) != 0) {
			ep->ctr[EP_CTR_DROP_NET_TRUNCATED]++;
			pkt_free(p);
			continue;
		}
		ep->ctr[EP_CTR_NET_RX]++;
		endpoint_input(ep->stack, io_now(), p);
	}
	rearm(ep);
}

static int ctl_show_l2tp(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct ep_role *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show l2tp");
		return SP_EINVAL;
	}
	return endpoint_module_show(ep->stack, "l2tp", io_now(), out);
}

/* [l2tp] (host/host_l2tp.h): the module's UDP port, opened here for it. */
static int open_l2tp(struct ep_role *ep)
{
	struct conf_sec *s = conf_find(ep->d->conf, "l2tp", NULL);
	uint32_t port;
	int r;

	if (s == NULL)
		return 0;
	if ((r = conf_get_ip4(s, "local", 0, &ep->l2tp_local)) != 0 ||
	    (r = conf_get_u32(s, "port", 1701, 1, 65535, &port)) != 0)
		return r;
	ep->l2tp_port = (uint16_t)port;
	if ((ep->l2tp_fd = io_udp_open(ep->l2tp_local, ep->l2tp_port)) < 0) {
		r = ep->l2tp_fd;
		SP_ERR(&ep->d->log, "endpoint", "UDP %u for L2TP: %s", ep->l2tp_port,
		       sp_strerror(r));
		return r;
	}
	if ((r = io_loop_add_fd(ep->d->loop, ep->l2tp_fd, EPOLLIN, on_l2tp, ep)) != 0 ||
	    (r = io_ctl_add(ep->d->ctl, "show l2tp", ctl_show_l2tp, ep,
			    "004's client: decision, path, address, counters")) != 0)
		return r;
	return 0;
}

static int ctl_show_sa(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct ep_role *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show sa");
		return SP_EINVAL;
	}
	if (endpoint_ike(ep->stack) != NULL)
		ike_show(endpoint_ike(ep->stack), io_now(), out);
	ipsec_show_sa(endpoint_ipsec(ep->stack), io_now(), out);
	return 0;
}

static int ctl_show_policy(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct ep_role *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show policy");
		return SP_EINVAL;
	}
	ipsec_show_policy(endpoint_ipsec(ep->stack), out);
	return 0;
}

struct ep_conf {
	const char *tun;
	const char *xdp_rx; /* NULL: none */
	uint32_t tun_addr;
	uint8_t tun_plen;
	uint32_t mtu, mark, lanes;
	bool raw, udp, offload, thread, link;
	uint32_t routes[EP_MAX_ROUTES];
	uint8_t route_len[EP_MAX_ROUTES];
	unsigned nroutes;
};

static int read_endpoint(struct conf *c, struct ep_conf *ec)
{
	struct conf_sec *s = conf_find(c, "endpoint", NULL);
	const char *addr;
	int r;

	memset(ec, 0, sizeof(*ec));
	ec->tun = "spinat0";
	ec->mtu = EP_DEFAULT_MTU;
	ec->raw = ec->udp = ec->offload = ec->thread = true;
	ec->lanes = 1;
	if (s == NULL)
		return 0;
	s->used = true;
	if ((r = conf_get_str(s, "tun", "spinat0", &ec->tun)) != 0 ||
	    (r = conf_get_str(s, "tun_address", NULL, &addr)) != 0 ||
	    (r = conf_get_u32(s, "mtu", EP_DEFAULT_MTU, 576, EP_MAX_MTU, &ec->mtu)) != 0 ||
	    (r = conf_get_u32(s, "mark", 0, 0, UINT32_MAX, &ec->mark)) != 0 ||
	    (r = conf_get_bool(s, "raw", true, &ec->raw)) != 0 ||
	    (r = conf_get_bool(s, "udp", true, &ec->udp)) != 0 ||
	    (r = conf_get_bool(s, "tun_offload", true, &ec->offload)) != 0 ||
	    (r = conf_get_bool(s, "tun_thread", true, &ec->thread)) != 0 ||
	    (r = conf_get_u32(s, "crypto_lanes", 1, 1, IO_LANES_MAX, &ec->lanes)) != 0 ||
	    (r = conf_get_str(s, "xdp_rx", NULL, &ec->xdp_rx)) != 0 ||
	    (r = conf_get_bool(s, "link_out", false, &ec->link)) != 0)
		return r;
	if (strlen(ec->tun) == 0 || strlen(ec->tun) >= IFNAMSIZ)
		return conf_fail(s, "tun = '%s': an interface name of 1-%d characters", ec->tun,
				 IFNAMSIZ - 1);
	if (addr != NULL && sp_ip4_prefix_parse(addr, &ec->tun_addr, &ec->tun_plen, false) != 0)
		return conf_fail(s, "tun_address = '%s': expected a.b.c.d/len", addr);
	for (struct conf_kv *kv = conf_next_kv(s, "route", NULL); kv != NULL;
	     kv = conf_next_kv(s, "route", kv)) {
		if (ec->nroutes == EP_MAX_ROUTES)
			return conf_fail(s, "at most %d route keys", EP_MAX_ROUTES);
		if (sp_ip4_prefix_parse(kv->val, &ec->routes[ec->nroutes],
					&ec->route_len[ec->nroutes], true) != 0)
			return conf_fail(s,
					 "route = '%s' (line %u): expected a network a.b.c.d/len",
					 kv->val, kv->line);
		ec->nroutes++;
	}
	if (!ec->raw && !ec->udp)
		return conf_fail(s, "raw = no and udp = no: no way to send or receive ESP");
	if (ec->xdp_rx != NULL && (strlen(ec->xdp_rx) == 0 || strlen(ec->xdp_rx) >= IFNAMSIZ))
		return conf_fail(s, "xdp_rx = '%s': an interface name of 1-%d characters",
				 ec->xdp_rx, IFNAMSIZ - 1);
	if (ec->link && !ec->raw)
		return conf_fail(s,
				 "link_out = yes with raw = no: it sends ESP on IP (protocol 50)");
	if (ec->xdp_rx != NULL && !ec->raw)
		return conf_fail(s, "xdp_rx with raw = no: it takes ESP on IP (protocol 50)");
	return 0;
}

/* xdp_rx: the XDP program on dev and an AF_XDP socket on each of its receive queues, for
 * ESP to the device's own addresses (those it has at the start). */
static int open_xsk(struct ep_role *ep, const char *dev)
{
	struct spinatd *d = ep->d;
	char why[160];
	int r;

	if ((r = io_xsk_open(&ep->xsk, dev, why, sizeof(why))) != 0) {
		SP_ERR(&d->log, "endpoint", "xdp_rx = %s: %s", dev, why);
		return r;
	}
	sp_ctrs_init(&ep->xsk_ctrs, "xsk", d->name, io_xsk_ctr_names, io_xsk_ctrs(ep->xsk),
		     IO_XSK_CTR_N);
	sp_ctr_register(&d->ctrs, &ep->xsk_ctrs);
	ep->xsk_registered = true;
	for (unsigned q = 0; q < io_xsk_queues(ep->xsk); q++)
		if ((r = io_loop_add_fd(d->loop, io_xsk_fd(ep->xsk, q), EPOLLIN, on_xsk, ep)) != 0)
			return r;
	return 0;
}

static int open_io(struct ep_role *ep, const struct ep_conf *ec, uint16_t natt_port)
{
	struct spinatd *d = ep->d;
	int fds[3], r;

	if ((r = io_tun_open_flags(&ep->tun, ec->tun, ec->offload ? IO_TUN_VNET : 0)) != 0) {
		SP_ERR(&d->log, "endpoint", "TUN device %s: %s%s", ec->tun, sp_strerror(r),
		       r == SP_EBUSY	   ? " (another process has it open: a second daemon?)"
		       : r == SP_EPERM	   ? " (root or CAP_NET_ADMIN needed)"
		       : r == SP_ENOTFOUND ? " (/dev/net/tun missing: modprobe tun)"
					   : "");
		return r;
	}
	if ((r = io_tun_configure(&ep->tun, ec->tun_addr, ec->tun_plen, ec->mtu)) != 0 ||
	    (r = io_tun_set_queue(&ep->tun, EP_TUN_QUEUE)) != 0) {
		SP_ERR(&d->log, "endpoint", "configuring %s: %s", ep->tun.name, sp_strerror(r));
		return r;
	}
	if (io_tun_kernel_drops(&ep->tun, &ep->drops_base) != 0)
		ep->drops_base = 0;
	if (ep->tun.vnet && ((ep->spill = malloc(EP_TUN_SPILL)) == NULL ||
			     (ep->grobuf = malloc(VNET_HDR_LEN + GRO_MAX_LEN)) == NULL))
		return SP_ENOMEM;
	if (ep->grobuf != NULL)
		gro_init(&ep->gro, ep->grobuf);
	for (unsigned i = 0; i < ec->nroutes; i++)
		if ((r = io_tun_route_add(&ep->tun, ec->routes[i], ec->route_len[i])) != 0) {
			SP_ERR(&d->log, "endpoint", "route %u into %s: %s", i, ep->tun.name,
			       sp_strerror(r));
			return r;
		}
	if ((r = io_ipsock_open(&ep->net, ec->raw, ec->udp ? natt_port : 0, ec->mark)) != 0) {
		if (r == SP_EBUSY)
			SP_ERR(&d->log, "endpoint",
			       "UDP port %u: %s (another spinatd or IKE daemon holds it)",
			       natt_port, sp_strerror(r));
		else
			SP_ERR(&d->log, "endpoint", "sockets: %s (root or CAP_NET_RAW needed)",
			       sp_strerror(r));
		return r;
	}
	if ((r = io_ipsock_tune(&ep->net, EP_SOCK_BUF, ec->offload)) != 0) {
		SP_ERR(&d->log, "endpoint", "socket buffers: %s", sp_strerror(r));
		return r;
	}
	sp_ctrs_init(&ep->net_ctrs, "net", d->name, io_ipsock_ctr_names, ep->net.ctr,
		     IO_IPSOCK_CTR_N);
	sp_ctr_register(&d->ctrs, &ep->net_ctrs);
	ep->net_registered = true;
	if (ec->link) {
		if ((r = io_linkout_open(&ep->net.link, ec->mark)) != 0) {
			SP_ERR(&d->log, "endpoint", "link_out: %s%s", sp_strerror(r),
			       r == SP_EPERM ? " (CAP_NET_RAW needed for a packet socket)" : "");
			return r;
		}
		sp_ctrs_init(&ep->link_ctrs, "link", d->name, io_linkout_ctr_names,
			     io_linkout_ctrs(ep->net.link), IO_LINKOUT_CTR_N);
		sp_ctr_register(&d->ctrs, &ep->link_ctrs);
		ep->link_registered = true;
	}
	if (ep->tun.vnet && ec->thread) {
		if ((r = io_tunq_start(&ep->tun, EP_TUNQ_BUFS, &ep->tunq)) != 0) {
			SP_ERR(&d->log, "endpoint", "the TUN device's thread: %s", sp_strerror(r));
			return r;
		}
		ep->gro.buf = io_tunq_tx(ep->tunq);
		r = io_loop_add_fd(d->loop, io_tunq_fd(ep->tunq), EPOLLIN, on_tunq, ep);
	} else {
		r = io_loop_add_fd(d->loop, ep->tun.fd, EPOLLIN, on_tun, ep);
	}
	if (r != 0)
		return r;
	fds[0] = ep->net.esp_rx;
	fds[1] = ep->net.ah_rx;
	fds[2] = ep->net.udp;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && (r = io_loop_add_fd(d->loop, fds[i], EPOLLIN, on_net, ep)) != 0)
			return r;
	return ec->xdp_rx != NULL ? open_xsk(ep, ec->xdp_rx) : 0;
}

/* The IPsec engine keeps the addresses of its last drop; the drop watch names them. */
static void peek_drop(struct spinatd *d)
{
	struct ep_role *ep = d->role_state;
	const struct ipsec_drop *x;

	if (ep == NULL || ep->stack == NULL ||
	    (x = ipsec_last_drop(endpoint_ipsec(ep->stack))) == NULL)
		return;
	d->last_drop =
		(struct spinatd_peer){ .src = x->t.src,
				       .dst = x->t.dst,
				       .proto = x->t.proto,
				       .way = x->inbound ? "from the network" : "from the host",
				       .why = ipsec_counter_name(x->why),
				       .set = true };
	if (x->t.proto == 6 || x->t.proto == 17) {
		d->last_drop.sport = x->t.sport;
		d->last_drop.dport = x->t.dport;
	}
}

static int ctl_show_dnat(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct ep_role *ep = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: show dnat");
		return SP_EINVAL;
	}
	return endpoint_module_show(ep->stack, "dnat", io_now(), out);
}

/* 002's host ([dnat], host/host_dnat_ep.h): the router's tunnels (IP-in-IP) and its PAP
 * answers come in on raw sockets of their own; what the module sends leaves through the
 * raw socket like ESP. */
static int open_dnat(struct ep_role *ep, const struct ep_conf *ec)
{
	int r;

	if (conf_find(ep->d->conf, "dnat", NULL) == NULL)
		return 0;
	if ((r = io_ipsock_open_dnat(&ep->net, ec->mark)) != 0) {
		SP_ERR(&ep->d->log, "endpoint", "raw sockets for IP-in-IP and PAP: %s",
		       sp_strerror(r));
		return r;
	}
	if ((r = io_loop_add_fd(ep->d->loop, ep->net.ipip_rx, EPOLLIN, on_net, ep)) != 0 ||
	    (r = io_loop_add_fd(ep->d->loop, ep->net.pap_rx, EPOLLIN, on_net, ep)) != 0 ||
	    (r = io_ctl_add(ep->d->ctl, "show dnat", ctl_show_dnat, ep,
			    "002's host: port and SPI blocks, the SPTT, counters")) != 0)
		return r;
	return 0;
}

/* crypto_lanes: the threads beside this one, for a configuration whose protected packets
 * go straight between the engine and the sockets. */
static int start_lanes(struct ep_role *ep, const struct ep_conf *ec)
{
	const char *m = endpoint_wire_module(ep->stack);
	int r;

	if (ec->lanes <= 1)
		return 0;
	if (m != NULL) {
		SP_ERR(&ep->d->log, "endpoint",
		       "crypto_lanes = %u: the %s module handles protected packets on their way to "
		       "and from the network, which the lanes would seal after and open before; "
		       "use crypto_lanes = 1",
		       ec->lanes, m);
		return SP_EINVAL;
	}
	if (ep->d->check)
		return 0;
	if ((r = io_lanes_new(&ep->lanes, ec->lanes - 1, lane_fn, ep)) != 0)
		SP_ERR(&ep->d->log, "endpoint", "crypto_lanes: %s", sp_strerror(r));
	return r;
}

void spinatd_endpoint_stop(struct spinatd *d)
{
	struct ep_role *ep = d->role_state;

	d->peek_drop = NULL;
	if (ep == NULL)
		return;
	/* An orderly stop tells every peer (RFC 7296 1.4.1), while the sockets are open. */
	if (ep->stack != NULL && !d->check)
		endpoint_shutdown(ep->stack, io_now());
	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &ep->timer);
		io_timer_cancel(d->loop, &ep->stats);
		if (ep->tunq != NULL)
			io_loop_del_fd(d->loop, io_tunq_fd(ep->tunq));
		else if (ep->tun.fd >= 0)
			io_loop_del_fd(d->loop, ep->tun.fd);
		if (ep->net.esp_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.esp_rx);
		if (ep->net.ah_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.ah_rx);
		if (ep->net.udp >= 0)
			io_loop_del_fd(d->loop, ep->net.udp);
		if (ep->l2tp_fd >= 0)
			io_loop_del_fd(d->loop, ep->l2tp_fd);
		if (ep->net.ipip_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.ipip_rx);
		if (ep->net.pap_rx >= 0)
			io_loop_del_fd(d->loop, ep->net.pap_rx);
		for (unsigned q = 0; ep->xsk != NULL && q < io_xsk_queues(ep->xsk); q++)
			io_loop_del_fd(d->loop, io_xsk_fd(ep->xsk, q));
	}
	io_udp_close(ep->l2tp_fd);
	endpoint_ike_free(d, ep->ike);
	io_tunq_stop(ep->tunq); /* before the device it uses */
	io_lanes_free(ep->lanes);
	io_tun_close(&ep->tun);
	if (ep->xsk_registered)
		sp_ctr_unregister(&d->ctrs, &ep->xsk_ctrs);
	io_xsk_close(ep->xsk);
	if (ep->link_registered)
		sp_ctr_unregister(&d->ctrs, &ep->link_ctrs);
	io_linkout_close(ep->net.link);
	ep->net.link = NULL;
	io_ipsock_close(&ep->net);
	if (ep->registered)
		sp_ctr_unregister(&d->ctrs, &ep->ctrs);
	if (ep->net_registered)
		sp_ctr_unregister(&d->ctrs, &ep->net_ctrs);
	free(ep->spill);
	free(ep->grobuf);
	endpoint_free(ep->stack);
	crypto_drbg_free(ep->drbg);
	free(ep);
	d->role_state = NULL;
}

int spinatd_endpoint_start(struct spinatd *d)
{
	struct endpoint_params p = {
		.name = d->name,
		.log = &d->log,
		.ctrs = d->check ? NULL : &d->ctrs,
		.pool = &d->pool,
		.io = { .net_out = net_out,
			.local_out = local_out,
			.ike_event = ike_event,
			.ipsec_event = ipsec_event,
			.keylog = keylog,
			.ike_send = ike_send,
			.crl_fetch = crl_fetch },
		.boot_count = boot_count,
	};
	struct ep_role *ep;
	struct ep_conf ec;
	uint16_t natt_port;
	int r;

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return SP_ENOMEM;
	d->role_state = ep;
	d->peek_drop = peek_drop;
	ep->d = d;
	ep->tun.fd = -1;
	ep->l2tp_fd = -1;
	ep->net.raw_tx = ep->net.esp_rx = ep->net.ah_rx = ep->net.udp = -1;
	ep->net.ipip_rx = ep->net.pap_rx = -1;
	io_timer_init(&ep->timer, on_timer, ep);
	io_timer_init(&ep->stats, on_stats, ep);
	p.io.arg = ep;
	/* Keys, SPIs and CBC IVs from a DRBG seeded by the kernel: no system call per packet. */
	if ((r = crypto_drbg_new_from(&ep->drbg, &io_rng)) != 0)
		return r;
	p.rng = crypto_drbg_rng(ep->drbg);
	if ((r = read_endpoint(d->conf, &ec)) != 0)
		return r;
	p.lanes = ec.lanes;
	if ((endpoint_ike_configured(d->conf) && (r = endpoint_ike_new(d, &ep->ike)) != 0) ||
	    (r = endpoint_new(&p, d->conf, io_now(), &ep->stack)) != 0 ||
	    (r = start_lanes(ep, &ec)) != 0 || d->check)
		return r;
	sp_ctrs_init(&ep->ctrs, "endpoint", d->name, ep_ctr_names, ep->ctr, EP_CTR_N);
	sp_ctr_register(&d->ctrs, &ep->ctrs);
	ep->registered = true;
	natt_port = ipsec_natt_port(endpoint_ipsec(ep->stack));
	if ((r = open_io(ep, &ec, natt_port)) != 0 || (r = open_l2tp(ep)) != 0 ||
	    (r = open_dnat(ep, &ec)) != 0)
		return r;
	if ((r = io_ctl_add(d->ctl, "show sa", ctl_show_sa, ep,
			    "security associations: keys' transforms, counters, last use")) != 0 ||
	    (r = io_ctl_add(d->ctl, "show policy", ctl_show_policy, ep,
			    "security policies and the SA each one uses now")) != 0)
		return r;
	if (ep->ike != NULL && (r = endpoint_ike_open(ep->ike, ep->stack, rearm, ep)) != 0)
		return r;
	rearm(ep); /* the first timer starts the stack: IKE's auto = start connections */
	if ((r = io_timer_arm(d->loop, &ep->stats, io_now() + SP_SEC(1))) != 0)
		return r;
	SP_INFO(&d->log, "endpoint", "cleartext on %s%s, ESP/AH on %s%s%s%s%s%s", ep->tun.name,
		ep->tun.vnet
			? ((ep->tun.offloads & IO_TUN_OFF_TSO4) != 0
				   ? (ep->tunq != NULL ? " (TSO, GRO, own thread)" : " (TSO, GRO)")
				   : " (csum)")
			: "",
		ec.raw ? "raw IP" : "", ec.udp ? (ec.raw ? " and UDP" : "UDP") : "",
		ep->net.gso ? " (UDP GSO)" : "", ep->lanes != NULL ? ", crypto on lanes" : "",
		ep->xsk != NULL ? ", ESP in by AF_XDP" : "",
		ep->net.link != NULL ? ", raw ESP/AH out by a packet socket" : "");
	return 0;
}

const char spinatd_endpoint_usage[] =
	"    [endpoint]           the local side (all keys optional)\n"
	"      tun = NAME         TUN device carrying cleartext (default spinat0)\n"
	"      tun_address = A/L  address and prefix of the TUN device\n"
	"      mtu = N            its MTU, 576-1700 (default 1400: room for ESP in 1500)\n"
	"      route = NET/LEN    a route into the TUN device; may repeat\n"
	"      raw = yes|no       raw IP sockets for ESP (50) and AH (51) (default yes)\n"
	"      udp = yes|no       the NAT-T UDP socket, RFC 3948 (default yes)\n"
	"      tun_offload = yes|no  64 KB segments from and to the TUN device, UDP GSO/GRO\n"
	"                         (default yes)\n"
	"      tun_thread = yes|no   the TUN device's reads and writes on a thread of their\n"
	"                         own, with tun_offload (default yes)\n"
	"      crypto_lanes = N   threads that seal and open ESP, this one included, 1-8\n"
	"                         (default 1): batches are shared out, the engine keeps\n"
	"                         sequence numbers, windows and order; not with [l2tp],\n"
	"                         [dnat], [lns] or lease = yes\n"
	"      xdp_rx = DEVICE    ESP arriving on DEVICE for its addresses taken by an XDP\n"
	"                         program into AF_XDP sockets, before the IP stack (and\n"
	"                         its firewall); fragments and the rest go on as before\n"
	"      link_out = yes|no  raw ESP and AH out through a packet socket to the next\n"
	"                         hop (default no): no route lookup or IP output path per\n"
	"                         packet; bypasses the firewall's OUTPUT and POSTROUTING\n"
	"      mark = N           SO_MARK on the daemon's sockets, for policy routing\n"
	"    [ipsec]              engine: natt_port (4500), natt_keepalive (20s, 0 off),\n"
	"                         max_sa (1024), bypass_unmatched (no)\n"
	"    [sa NAME]            one SA, manual keys: dir = in|out, spi, src, dst,\n"
	"                         proto = esp|ah, mode = transport|tunnel, enc, enc_key,\n"
	"                         auth, auth_key, esn, replay_window, udp_encap, encap_sport,\n"
	"                         encap_dport, reqid, soft_/hard_bytes, _packets, _time,\n"
	"                         _use_time, asif_src, asif_dst, copy_dscp, ttl\n"
	"      enc:  null, aes-cbc, aes-gcm-8, aes-gcm-12, aes-gcm-16, aes-gmac\n"
	"      auth: none, hmac-sha1-96, hmac-sha256-128, hmac-sha384-192,\n"
	"            hmac-sha512-256, hmac-md5-96\n"
	"    [policy NAME]        traffic selectors and action: src, dst (prefixes),\n"
	"                         protocol, sport, dport, action = esp|ah|bypass|discard,\n"
	"                         mode, reqid, dir = out|in|both, priority\n" ENDPOINT_IKE_USAGE
	"    [l2tp]               004's client (docs/L2TP.md): lns, local, address, port,\n"
	"                         mode, secret, user, password and the lac role's keys\n"
	"    [dnat]               002's host (docs/DNAT.md): self, router, global, inside,\n"
	"                         ports, ports_high, spis, low_water, retry, idle\n"
	"    Control: spinat show sa | show policy | show counters | show l2tp | show dnat\n"
	"             spinat up|down NAME, spinat rekey NAME [ike] (IKE connections)\n";
