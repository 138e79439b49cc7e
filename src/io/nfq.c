#include "io/nfq.h"
#include "base/counter.h"
#include "base/cursor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NLA_ALIGN4(n) (((n) + 3u) & ~3u)
#define NFQ_COPY_MAX  65535u

const char *const io_nfq_ctr_names[IO_NFQ_CTR_N] = { SP_CTR_NAMES(foreach_io_nfq_ctr) };

/* Append one attribute to a message being built in buf (len so far in *off). */
static int put_attr(uint8_t *buf, size_t cap, size_t *off, uint16_t type, const void *data,
		    size_t len)
{
	struct nlattr a;
	size_t need = NLA_ALIGN4(sizeof(a) + len);

	if (*off + need > cap || sizeof(a) + len > 0xffff)
		return SP_ENOSPACE;
	a.nla_len = (uint16_t)(sizeof(a) + len);
	a.nla_type = type;
	memcpy(buf + *off, &a, sizeof(a));
	if (len > 0)
		memcpy(buf + *off + sizeof(a), data, len);
	memset(buf + *off + sizeof(a) + len, 0, need - sizeof(a) - len);
	*off += need;
	return 0;
}

/* Start a queue message (netlink header + nfgenmsg) at buf + *off; returns its start. */
static int start_msg(struct io_nfq *q, uint8_t *buf, size_t cap, size_t *off, uint16_t type,
		     uint16_t flags, size_t *start)
{
	struct nlmsghdr h = { 0 };
	struct nfgenmsg g = { 0 };

	if (*off + NLMSG_HDRLEN + sizeof(g) > cap)
		return SP_ENOSPACE;
	h.nlmsg_type = (uint16_t)(NFNL_SUBSYS_QUEUE << 8 | type);
	h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	h.nlmsg_seq = ++q->seq;
	g.nfgen_family = AF_UNSPEC;
	g.version = NFNETLINK_V0;
	g.res_id = htons(q->queue);
	*start = *off;
	memcpy(buf + *off, &h, sizeof(h));
	memcpy(buf + *off + NLMSG_HDRLEN, &g, sizeof(g));
	*off += NLMSG_HDRLEN + NLA_ALIGN4(sizeof(g));
	return 0;
}

static void end_msg(uint8_t *buf, size_t start, size_t off)
{
	uint32_t len = (uint32_t)(off - start);

	memcpy(buf + start, &len, sizeof(len)); /* nlmsg_len is the first field */
}

/* Send one config message and wait for its acknowledgement. */
static int config(struct io_nfq *q, const void *attr, size_t attrlen, uint16_t type,
		  const void *attr2, size_t attr2len, uint16_t type2)
{
	uint8_t buf[256], ack[512];
	size_t off = 0, start;
	struct cur c;
	ssize_t n;
	int r;

	if ((r = start_msg(q, buf, sizeof(buf), &off, NFQNL_MSG_CONFIG, NLM_F_ACK, &start)) != 0 ||
	    (r = put_attr(buf, sizeof(buf), &off, type, attr, attrlen)) != 0 ||
	    (attr2 != NULL && (r = put_attr(buf, sizeof(buf), &off, type2, attr2, attr2len)) != 0))
		return r;
	end_msg(buf, start, off);
	if (send(q->fd, buf, off, 0) != (ssize_t)off)
		return SP_EIO;
	/* The acknowledgement is an NLMSG_ERROR whose error is 0. */
	if ((n = recv(q->fd, ack, sizeof(ack), 0)) < 0)
		return SP_EIO;
	cur_init(&c, ack, (size_t)n);
	while (cur_left(&c) >= NLMSG_HDRLEN + sizeof(int32_t)) {
		struct nlmsghdr h;
		int32_t err;

		if (cur_get_bytes(&c, &h, sizeof(h)) != 0 || h.nlmsg_len < NLMSG_HDRLEN ||
		    h.nlmsg_len - NLMSG_HDRLEN > cur_left(&c))
			return SP_EIO;
		if (h.nlmsg_type == NLMSG_ERROR) {
			if (cur_get_bytes(&c, &err, sizeof(err)) != 0)
				return SP_EIO;
			if (err == -EPERM)
				return SP_EPERM;
			if (err == -EBUSY)
				return SP_EBUSY; /* another process has bound the queue */
			return err == 0 ? 0 : SP_EIO;
		}
		if (cur_skip(&c, NLA_ALIGN4(h.nlmsg_len) - NLMSG_HDRLEN) != 0)
			break;
	}
	return SP_EIO;
}

int io_nfq_open(struct io_nfq *q, uint16_t queue, uint32_t maxlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nfqnl_msg_config_cmd cmd = { 0 };
	struct nfqnl_msg_config_params prm = { 0 };
	uint32_t ml = htonl(maxlen);
	int one = 1, bufsz = 4 << 20, r;

	memset(q, 0, sizeof(*q));
	q->fd = q->raw = -1;
	q->queue = queue;
	q->rx = malloc(IO_NFQ_RXBUF);
	q->tx = malloc(IO_NFQ_TXBUF);
	if (q->rx == NULL || q->tx == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	/* Non-blocking throughout: netlink answers a request within the send() that carries
	 * it, so the acknowledgements are there to read at once. */
	q->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	q->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (q->fd < 0 || q->raw < 0 || bind(q->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		r = errno == EPERM || errno == EACCES ? SP_EPERM : SP_EIO;
		goto fail;
	}
	/* Enough room that a burst does not overflow the socket (ENOBUFS loses packets). */
	(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	(void)setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	/* PF_BIND is a no-op for the kernel once nfnetlink let it through, which it does
	 * only with CAP_NET_ADMIN: a refusal of the BIND after it means the queue has
	 * another owner (the kernel answers EPERM for both). */
	cmd.command = NFQNL_CFG_CMD_PF_BIND;
	cmd.pf = htons(AF_INET);
	if ((r = config(q, &cmd, sizeof(cmd), NFQA_CFG_CMD, NULL, 0, 0)) != 0)
		goto fail;
	cmd.command = NFQNL_CFG_CMD_BIND;
	prm.copy_range = htonl(NFQ_COPY_MAX);
	prm.copy_mode = NFQNL_COPY_PACKET;
	if ((r = config(q, &cmd, sizeof(cmd), NFQA_CFG_CMD, NULL, 0, 0)) != 0) {
		r = r == SP_EPERM ? SP_EBUSY : r;
		goto fail;
	}
	if ((r = config(q, &prm, sizeof(prm), NFQA_CFG_PARAMS, &ml, sizeof(ml),
			NFQA_CFG_QUEUE_MAXLEN)) != 0)
		goto fail;
	return 0;
fail:
	io_nfq_close(q);
	q->fd = q->raw = -1;
	return r;
}

void io_nfq_close(struct io_nfq *q)
{
	if (q->fd >= 0) {
		struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_UNBIND };

		(void)config(q, &cmd, sizeof(cmd), NFQA_CFG_CMD, NULL, 0, 0);
		close(q->fd);
	}
	if (q->raw >= 0)
		close(q->raw);
	free(q->rx);
	free(q->tx);
	q->rx = q->tx = NULL;
	q->fd = q->raw = -1;
}

int io_nfq_read(struct io_nfq *q)
{
	ssize_t n = recv(q->fd, q->rx, IO_NFQ_RXBUF, MSG_DONTWAIT);

	q->rxlen = q->rxoff = 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SP_EAGAIN
										 : SP_EIO;
	q->rxlen = (size_t)n;
	return 0;
}

/* The attributes of one packet message (after nfgenmsg) into m. */
static int parse_packet(struct cur *c, struct io_nfq_msg *m)
{
	bool have_hdr = false;

	memset(m, 0, sizeof(*m));
	while (cur_left(c) >= sizeof(struct nlattr)) {
		struct nlattr a;
		const uint8_t *v;
		size_t vlen;

		if (cur_get_bytes(c, &a, sizeof(a)) != 0 || a.nla_len < sizeof(a) ||
		    a.nla_len - sizeof(a) > cur_left(c))
			return SP_EMALFORMED;
		vlen = a.nla_len - sizeof(a);
		if (cur_get_ptr(c, vlen, &v) != 0)
			return SP_EMALFORMED;
		switch (a.nla_type & NLA_TYPE_MASK) {
		case NFQA_PACKET_HDR:
			if (vlen < 7)
				return SP_EMALFORMED;
			m->id = sp_load_be32(v);
			m->hw_proto = sp_load_be16(v + 4);
			m->hook = v[6];
			have_hdr = true;
			break;
		case NFQA_IFINDEX_INDEV:
			if (vlen >= 4)
				m->indev = sp_load_be32(v);
			break;
		case NFQA_IFINDEX_OUTDEV:
			if (vlen >= 4)
				m->outdev = sp_load_be32(v);
			break;
		case NFQA_PAYLOAD:
			/* The receive buffer is ours: the packet is translated where it lies. */
			m->payload = (uint8_t *)(uintptr_t)v;
			m->len = (uint32_t)vlen;
			break;
		default:
			break;
		}
		if (cur_skip(c, NLA_ALIGN4(a.nla_len) - a.nla_len) != 0)
			cur_skip_all(c);
	}
	return have_hdr ? 0 : SP_EMALFORMED;
}

int io_nfq_next(struct io_nfq *q, struct io_nfq_msg *m)
{
	while (q->rxoff + NLMSG_HDRLEN <= q->rxlen) {
		struct nlmsghdr h;
		struct cur c;
		size_t off = q->rxoff;

		memcpy(&h, q->rx + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > q->rxlen - off) {
			q->rxoff = q->rxlen; /* a torn buffer: nothing after it can be trusted */
			q->ctr[IO_NFQ_CTR_DROP_TORN]++;
			break;
		}
		q->rxoff = SP_MIN(q->rxlen, off + NLA_ALIGN4(h.nlmsg_len));
		if (h.nlmsg_type != (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET))
			continue; /* acknowledgements, errors */
		cur_init(&c, q->rx + off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
		if (cur_skip(&c, NLA_ALIGN4(sizeof(struct nfgenmsg))) != 0 ||
		    parse_packet(&c, m) != 0) {
			q->ctr[IO_NFQ_CTR_DROP_MALFORMED]++;
			continue;
		}
		q->ctr[IO_NFQ_CTR_PACKETS]++;
		return 0;
	}
	return SP_ENOTFOUND;
}

int io_nfq_verdict(struct io_nfq *q, uint32_t id, uint32_t verdict, const uint8_t *payload,
		   uint32_t len)
{
	struct nfqnl_msg_verdict_hdr vh = { htonl(verdict), htonl(id) };
	size_t start, need = NLMSG_HDRLEN + 4 + 4 + sizeof(vh) + 8 + 4 + NLA_ALIGN4(len);
	uint32_t mark = htonl(q->mark);
	int r;

	if (q->txlen + need > IO_NFQ_TXBUF && (r = io_nfq_flush(q)) != 0)
		return r;
	if ((r = start_msg(q, q->tx, IO_NFQ_TXBUF, &q->txlen, NFQNL_MSG_VERDICT, 0, &start)) != 0 ||
	    (r = put_attr(q->tx, IO_NFQ_TXBUF, &q->txlen, NFQA_VERDICT_HDR, &vh, sizeof(vh))) !=
		    0 ||
	    (verdict == NF_ACCEPT && q->mark != 0 &&
	     (r = put_attr(q->tx, IO_NFQ_TXBUF, &q->txlen, NFQA_MARK, &mark, sizeof(mark))) != 0) ||
	    (payload != NULL &&
	     (r = put_attr(q->tx, IO_NFQ_TXBUF, &q->txlen, NFQA_PAYLOAD, payload, len)) != 0))
		return r;
	end_msg(q->tx, start, q->txlen);
	return 0;
}

int io_nfq_flush(struct io_nfq *q)
{
	ssize_t n;

	if (q->txlen == 0)
		return 0;
	n = send(q->fd, q->tx, q->txlen, 0);
	q->txlen = 0;
	return n < 0 ? SP_EIO : 0;
}

int io_nfq_inject(struct io_nfq *q, const struct pkt *p)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	if (p->len < 20)
		return SP_EINVAL;
	to.sin_addr.s_addr = htonl(sp_load_be32(pkt_data(p) + 16));
	/* Never wait: copies to inside hosts whose neighbour entry does not resolve sit in
	 * the kernel and fill the socket's buffer; the queue must keep moving (counted). */
	return sendto(q->raw, pkt_data(p), p->len, MSG_DONTWAIT, (struct sockaddr *)&to,
		      sizeof(to)) == (ssize_t)p->len
		       ? 0
		       : SP_EIO;
}
