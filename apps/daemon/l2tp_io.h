/*
 * What the L2TP roles (lac, lns) share on real sockets: an engine driven by one timer
 * (its next deadline and tick), the L2TP UDP socket (and any other the role watches) and
 * a TUN device, each read in batches into one buffer, with a counter for every packet lost
 * on the way. The role keeps the engine; l2tp_io calls it back through the hooks below.
 */
#ifndef SPINATD_L2TP_IO_H
#define SPINATD_L2TP_IO_H

#include "spinatd.h"

#include "io/tun.h"

/* DISC_RX last: the lac role, which has no discovery socket, registers one fewer. */
#define foreach_l2tp_io_ctr(_)                    \
	_(UDP_RX, "udp_rx")                       \
	_(TUN_RX, "tun_rx")                       \
	_(TUN_TX, "tun_tx")                       \
	_(DROP_TRUNCATED, "drop_truncated")       \
	_(DROP_NOT_IPV4, "drop_not_ipv4")         \
	_(DROP_READ_ERROR, "drop_read_error")     \
	_(DROP_SEND_ERROR, "drop_send_error")     \
	_(DROP_TUN_WRITE, "drop_tun_write_error") \
	_(DISC_RX, "discovery_rx")

enum l2tp_io_ctr {
#define _(sym, str) L2TP_IO_CTR_##sym,
	foreach_l2tp_io_ctr(_)
#undef _
		L2TP_IO_CTR_N
};

struct l2tp_io {
	struct spinatd *d;
	const char *who; /* "lac", "lns": in log lines */
	void *arg;	 /* the role, for the hooks */
	sp_time (*next_deadline)(void *arg);
	void (*tick)(void *arg, sp_time now);
	/* One datagram read from fd (the L2TP socket, or another the role watches). */
	void (*udp_in)(void *arg, int fd, uint32_t src, uint16_t sport, uint32_t dst, uint8_t *b,
		       size_t n);
	/* One IPv4 packet read from the TUN device. */
	void (*tun_in)(void *arg, struct pkt *p);
	struct io_tun tun;
	int udp;
	struct io_timer timer;
	uint64_t ctr[L2TP_IO_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
	uint8_t buf[PKT_HEADROOM + 2048];
};

/* No socket, no device yet; the hooks are set by the caller before anything runs. */
void l2tp_io_init(struct l2tp_io *io, struct spinatd *d, const char *who, void *arg);
/* The counters as module `module` (lac_io, lns_io): the first n of the list above. */
void l2tp_io_register(struct l2tp_io *io, const char *module, unsigned n);
/* Read fd (a UDP socket) and the TUN device from the event loop. */
int l2tp_io_watch_udp(struct l2tp_io *io, int fd);
int l2tp_io_watch_tun(struct l2tp_io *io);
void l2tp_io_rearm(struct l2tp_io *io);
void l2tp_io_send_udp(struct l2tp_io *io, uint32_t addr, uint16_t port, const uint8_t *buf,
		      size_t len);
void l2tp_io_to_tun(struct l2tp_io *io, const uint8_t *ip, size_t len);
/* Stop the timer, stop watching and close the L2TP socket and the device, unregister the
 * counters. Other sockets the role watched are the role's to close. */
void l2tp_io_close(struct l2tp_io *io);

#endif
