/* The L2TP roles' shared socket, device and timer glue (l2tp_io.h). */
#include "l2tp_io.h"

#include "io/udp.h"

#define L2TP_IO_BATCH 64

static const char *const l2tp_io_ctr_names[] = { SP_CTR_NAMES(foreach_l2tp_io_ctr) };

static void on_timer(struct io_loop *loop, void *arg)
{
	struct l2tp_io *io = arg;

	(void)loop;
	io->tick(io->arg, io_now());
	l2tp_io_rearm(io);
}

void l2tp_io_init(struct l2tp_io *io, struct spinatd *d, const char *who, void *arg)
{
	io->d = d;
	io->who = who;
	io->arg = arg;
	io->udp = -1;
	io->tun.fd = -1;
	io_timer_init(&io->timer, on_timer, io);
}

void l2tp_io_register(struct l2tp_io *io, const char *module, unsigned n)
{
	sp_ctrs_init(&io->ctrs, module, io->d->name, l2tp_io_ctr_names, io->ctr, n);
	sp_ctr_register(&io->d->ctrs, &io->ctrs);
	io->registered = true;
}

void l2tp_io_rearm(struct l2tp_io *io)
{
	if (io_timer_arm(io->d->loop, &io->timer, io->next_deadline(io->arg)) != 0)
		SP_ERR(&io->d->log, io->who, "cannot arm the timer");
}

void l2tp_io_send_udp(struct l2tp_io *io, uint32_t addr, uint16_t port, const uint8_t *buf,
		      size_t len)
{
	if (io_udp_send(io->udp, addr, port, buf, len) != 0)
		io->ctr[L2TP_IO_CTR_DROP_SEND_ERROR]++;
}

void l2tp_io_to_tun(struct l2tp_io *io, const uint8_t *ip, size_t len)
{
	struct pkt p;

	pkt_init(&p, (void *)(uintptr_t)ip, (uint32_t)len, 0);
	p.len = (uint32_t)len;
	if (io_tun_write(&io->tun, &p) == 0)
		io->ctr[L2TP_IO_CTR_TUN_TX]++;
	else
		io->ctr[L2TP_IO_CTR_DROP_TUN_WRITE]++;
}

static void on_udp(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct l2tp_io *io = arg;
	uint8_t *b = io->buf + PKT_HEADROOM;
	size_t cap = sizeof(io->buf) - PKT_HEADROOM;

	(void)loop;
	(void)events;
	for (int i = 0; i < L2TP_IO_BATCH; i++) {
		uint32_t src, dst;
		uint16_t sport;
		int n = io_udp_recv(fd, b, cap, &src, &sport, &dst);

		if (n == SP_ENOSPACE) {
			io->ctr[L2TP_IO_CTR_DROP_TRUNCATED]++;
			continue;
		}
		if (n < 0) {
			if (n != SP_EAGAIN)
				io->ctr[L2TP_IO_CTR_DROP_READ_ERROR]++;
			break;
		}
		io->ctr[fd == io->udp ? L2TP_IO_CTR_UDP_RX : L2TP_IO_CTR_DISC_RX]++;
		io->udp_in(io->arg, fd, src, sport, dst, b, (size_t)n);
	}
	l2tp_io_rearm(io);
}

static void on_tun(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct l2tp_io *io = arg;
	struct pkt p;

	(void)loop;
	(void)fd;
	(void)events;
	for (int i = 0; i < L2TP_IO_BATCH; i++) {
		int e;

		pkt_init(&p, io->buf, sizeof(io->buf), PKT_HEADROOM);
		if ((e = io_tun_read(&io->tun, &p)) != 0) {
			if (e != SP_EAGAIN)
				io->ctr[L2TP_IO_CTR_DROP_READ_ERROR]++;
			break;
		}
		io->ctr[L2TP_IO_CTR_TUN_RX]++;
		/* PPP's IPCP carries IPv4 only; what else the kernel sends (its IPv6) stops here */
		if (p.len == 0 || pkt_data(&p)[0] >> 4 != 4) {
			io->ctr[L2TP_IO_CTR_DROP_NOT_IPV4]++;
			continue;
		}
		io->tun_in(io->arg, &p);
	}
	l2tp_io_rearm(io);
}

int l2tp_io_watch_udp(struct l2tp_io *io, int fd)
{
	return io_loop_add_fd(io->d->loop, fd, EPOLLIN, on_udp, io);
}

int l2tp_io_watch_tun(struct l2tp_io *io)
{
	return io_loop_add_fd(io->d->loop, io->tun.fd, EPOLLIN, on_tun, io);
}

void l2tp_io_close(struct l2tp_io *io)
{
	struct spinatd *d = io->d;

	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &io->timer);
		if (io->udp >= 0)
			io_loop_del_fd(d->loop, io->udp);
		if (io->tun.fd >= 0)
			io_loop_del_fd(d->loop, io->tun.fd);
	}
	io_udp_close(io->udp);
	io->udp = -1;
	io_tun_close(&io->tun);
	if (io->registered)
		sp_ctr_unregister(&d->ctrs, &io->ctrs);
	io->registered = false;
}
