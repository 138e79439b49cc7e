#include "io/linkout.h"
#include "base/cursor.h"
#include "proto/ipv4.h"

#include <stdlib.h>

#include <errno.h>
#include <net/if.h> /* before the linux/ headers, which then leave its names alone */
#include <net/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

const char *const io_linkout_ctr_names[IO_LINKOUT_CTR_N] = { SP_CTR_NAMES(foreach_io_linkout_ctr) };

#define NL_BUF	   4096
#define NL_TIMEOUT 200000 /* µs an rtnetlink answer may take */
#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

struct hop {
	uint32_t dst; /* 0: a free slot */
	bool ok;      /* the fields below are usable */
	int ifindex;
	uint8_t mac[6];
	unsigned mtu;
	uint64_t due; /* look up again from then (ns) */
};

struct io_linkout {
	int fd;	 /* AF_PACKET, SOCK_DGRAM */
	int nl;	 /* rtnetlink */
	int dgm; /* for the device ioctls */
	uint32_t mark;
	uint32_t seq;
	unsigned last; /* the hop the last packet used */
	struct hop hops[IO_LINKOUT_HOPS];
	uint8_t buf[NL_BUF];
	uint64_t ctr[IO_LINKOUT_CTR_N];
};

int io_linkout_open(struct io_linkout **out, uint32_t mark)
{
	struct timeval tv = { .tv_usec = NL_TIMEOUT };
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int sndbuf = IO_LINKOUT_SNDBUF, e;
	struct io_linkout *o;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return SP_ENOMEM;
	o->mark = mark;
	/* Protocol 0: the socket receives nothing. */
	o->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	o->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	o->dgm = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (o->fd < 0 || o->nl < 0 || o->dgm < 0 ||
	    (mark != 0 && setsockopt(o->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    (setsockopt(o->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0 &&
	     setsockopt(o->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) ||
	    setsockopt(o->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(o->nl, (struct sockaddr *)&local, sizeof(local)) < 0) {
		e = errno;
		io_linkout_close(o);
		return sp_errno(e);
	}
	*out = o;
	return 0;
}

void io_linkout_close(struct io_linkout *o)
{
	if (o == NULL)
		return;
	if (o->fd >= 0)
		close(o->fd);
	if (o->nl >= 0)
		close(o->nl);
	if (o->dgm >= 0)
		close(o->dgm);
	free(o);
}

int io_linkout_fd(const struct io_linkout *o)
{
	return o->fd;
}

uint64_t *io_linkout_ctrs(struct io_linkout *o)
{
	return o->ctr;
}

/* ---- rtnetlink ---- */

static void nl_attr(struct nlmsghdr *n, unsigned short type, const void *v, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), v, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send request n and read its answer into o->buf: the answer's message, or NULL (an
 * error, no answer in time, or an answer of another type). */
static struct nlmsghdr *nl_ask(struct io_linkout *o, struct nlmsghdr *n, uint16_t answer)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = ++o->seq;
	if (sendto(o->nl, n, n->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return NULL;
	for (;;) {
		struct nlmsghdr *m = (struct nlmsghdr *)o->buf;
		ssize_t got = recv(o->nl, o->buf, sizeof(o->buf), 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < (ssize_t)sizeof(*m) || !NLMSG_OK(m, (size_t)got))
			return NULL;
		if (m->nlmsg_seq != o->seq)
			continue; /* a late answer to an earlier request */
		return m->nlmsg_type == answer ? m : NULL;
	}
}

/* The route to dst from src: its device and next hop. false: none usable here. */
static bool route_of(struct io_linkout *o, uint32_t src, uint32_t dst, int *ifindex, uint32_t *via)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg m;
		uint8_t attrs[64];
	} q = { .n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		       .nlmsg_type = RTM_GETROUTE },
		.m = { .rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_src_len = 32 } };
	uint32_t d = htonl(dst), s = htonl(src);
	struct nlmsghdr *a;
	struct rtattr *at;
	struct rtmsg *m;
	int len;

	nl_attr(&q.n, RTA_DST, &d, 4);
	nl_attr(&q.n, RTA_SRC, &s, 4);
	if (o->mark != 0)
		nl_attr(&q.n, RTA_MARK, &o->mark, 4);
	if ((a = nl_ask(o, &q.n, RTM_NEWROUTE)) == NULL)
		return false;
	m = NLMSG_DATA(a);
	if (m->rtm_type != RTN_UNICAST)
		return false;
	*ifindex = 0;
	*via = dst;
	len = (int)RTM_PAYLOAD(a);
	for (at = RTM_RTA(m); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		if (at->rta_type == RTA_OIF && RTA_PAYLOAD(at) == 4)
			memcpy(ifindex, RTA_DATA(at), 4);
		else if (at->rta_type == RTA_GATEWAY && RTA_PAYLOAD(at) == 4)
			*via = sp_load_be32(RTA_DATA(at));
		else if (at->rta_type == RTA_MULTIPATH || at->rta_type == RTA_VIA)
			return false;
	}
	return *ifindex > 0;
}

/* The link-layer address of the neighbour via on ifindex, when the kernel knows it. */
static bool neigh_of(struct io_linkout *o, int ifindex, uint32_t via, uint8_t mac[6])
{
	struct {
		struct nlmsghdr n;
		struct ndmsg m;
		uint8_t attrs[16];
	} q = { .n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		       .nlmsg_type = RTM_GETNEIGH },
		.m = { .ndm_family = AF_INET, .ndm_ifindex = ifindex } };
	uint32_t v = htonl(via);
	struct nlmsghdr *a;
	struct rtattr *at;
	struct ndmsg *m;
	int len;

	nl_attr(&q.n, NDA_DST, &v, 4);
	if ((a = nl_ask(o, &q.n, RTM_NEWNEIGH)) == NULL)
		return false;
	m = NLMSG_DATA(a);
	if (!(m->ndm_state & NUD_USABLE) || m->ndm_ifindex != ifindex)
		return false;
	len = (int)(a->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (at = (struct rtattr *)((uint8_t *)m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(at, len);
	     at = RTA_NEXT(at, len))
		if (at->rta_type == NDA_LLADDR && RTA_PAYLOAD(at) == 6) {
			memcpy(mac, RTA_DATA(at), 6);
			return true;
		}
	return false;
}

/* The device's MTU; false when it is not Ethernet. */
static bool dev_of(struct io_linkout *o, int ifindex, unsigned *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname((unsigned)ifindex, ifr.ifr_name) == NULL ||
	    ioctl(o->dgm, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER ||
	    ioctl(o->dgm, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu < 68)
		return false;
	*mtu = (unsigned)ifr.ifr_mtu;
	return true;
}

/* Look h's next hop up again. */
static void resolve(struct io_linkout *o, struct hop *h, uint32_t src, uint64_t now)
{
	uint32_t via;

	o->ctr[IO_LINKOUT_CTR_LOOKUPS]++;
	h->ok = route_of(o, src, h->dst, &h->ifindex, &via) && dev_of(o, h->ifindex, &h->mtu) &&
		neigh_of(o, h->ifindex, via, h->mac);
	h->due = now + (h->ok ? IO_LINKOUT_REFRESH : IO_LINKOUT_RETRY);
}

/* dst's hop, looked up when new or due (*fresh). A new one takes a free slot, else the
 * one looked up longest ago. */
static struct hop *hop_of(struct io_linkout *o, uint32_t dst, uint32_t src, uint64_t now,
			  bool *fresh)
{
	struct hop *h = &o->hops[o->last];

	*fresh = false;
	if (h->dst != dst) {
		struct hop *slot = NULL;

		h = NULL;
		for (unsigned i = 0; i < IO_LINKOUT_HOPS && h == NULL; i++) {
			struct hop *x = &o->hops[i];

			if (x->dst == dst)
				h = x;
			else if (slot == NULL ||
				 (slot->dst != 0 && (x->dst == 0 || x->due < slot->due)))
				slot = x;
		}
		if (h == NULL) {
			h = slot;
			*h = (struct hop){ .dst = dst, .due = now };
		}
		o->last = (unsigned)(h - o->hops);
	}
	if (now >= h->due) {
		resolve(o, h, src, now);
		*fresh = true;
	}
	return h;
}

bool io_linkout_route(struct io_linkout *o, const uint8_t *ip, size_t len, uint64_t now_ns,
		      struct sockaddr_ll *to)
{
	struct hop *h;
	bool fresh;

	if (len < IPV4_HDR_MIN)
		return false;
	h = hop_of(o, sp_load_be32(ip + IPV4_OFF_DST), sp_load_be32(ip + IPV4_OFF_SRC), now_ns,
		   &fresh);
	if (!h->ok) {
		o->ctr[IO_LINKOUT_CTR_STACK_UNRESOLVED]++;
		return false;
	}
	if (fresh) {
		/* Through the stack, which keeps the neighbour entry confirmed; the first
		 * packet to a new destination too. */
		o->ctr[IO_LINKOUT_CTR_STACK_REFRESH]++;
		return false;
	}
	if (len > h->mtu) {
		o->ctr[IO_LINKOUT_CTR_STACK_MTU]++;
		return false;
	}
	*to = (struct sockaddr_ll){ .sll_family = AF_PACKET,
				    .sll_protocol = htons(ETHERTYPE_IP),
				    .sll_ifindex = h->ifindex,
				    .sll_halen = 6 };
	memcpy(to->sll_addr, h->mac, 6);
	o->ctr[IO_LINKOUT_CTR_TX]++;
	return true;
}
