/*
 * The epoch guard of 003: an endpoint that keeps its IPsec tunnels working through a
 * heuristic NAT (VPN Masquerade) by pinging through every new epoch before using it,
 * keeping idle tunnels' NAT items alive, rekeying when pings go unanswered and starting a
 * new IKE session when rekeys fail. Sans-IO: it is handed IKE's events, the packets that
 * arrive on inbound SAs and the time, and acts through struct host_guard_ops (send a
 * control packet through a given outbound SA, switch a tunnel's outbound SA, retire an
 * epoch, rekey, start a new IKE session). It owns per-tunnel epoch state only; SAs,
 * policies and IKE sessions stay with their modules.
 *
 * Client (FIG. 6A/6B): steps 601-621. Server (FIG. 7): a new epoch is used for sending only
 * once a packet has arrived on it; pings are answered. An unmodified server (FIG. 8) has
 * no guard (mode off). docs/HOST.md has the flow, the keys and the recovery bounds.
 */
#ifndef SP_HOST_HOST_GUARD_H
#define SP_HOST_HOST_GUARD_H

#include "base/conf.h"
#include "base/counter.h"
#include "base/log.h"
#include "base/pkt.h"
#include "base/rand.h"
#include "base/time.h"
#include "ike/ike.h"

#include <stdio.h>

enum host_guard_mode {
	HOST_GUARD_OFF = 0,
	HOST_GUARD_CLIENT = 1, /* FIG. 6A/6B */
	HOST_GUARD_SERVER = 2, /* FIG. 7 */
};

/* The control packet sent through a new epoch (003: "for example a ping"). */
enum host_guard_probe {
	HOST_GUARD_PROBE_ICMP = 0, /* ICMP echo request (RFC 792) */
	HOST_GUARD_PROBE_UDP = 1,  /* UDP datagram to probe_port, echoed (RFC 862) */
};

/* One connection's guard settings; host_guard_cfg_defaults() fills the documented ones. */
struct host_guard_cfg {
	enum host_guard_mode mode;
	sp_time maxidle;       /* step 621: silence on the inbound SA before a keepalive ping */
	sp_time pingtime;      /* steps 608, 617: PINGTIME (= PINGTIME2) */
	uint32_t pingtries;    /* steps 611, 619: PINGTRIES (= PINGTRIES2) */
	uint32_t ping_jitter;  /* percent of pingtime added at random to each wait */
	sp_time epoch_timeout; /* step 606: TIMEOUT for a new epoch's negotiation */
	uint32_t elimit;       /* step 613: ELIMIT failed negotiations, then a new session */
	sp_time keylife;       /* from IKE: the previous epoch carries data until */
	sp_time rekeymargin;   /* t0 + keylife - rekeymargin at the latest */
	enum host_guard_probe probe;
	uint16_t probe_port; /* HOST_GUARD_PROBE_UDP */
	uint32_t ping_src;   /* inner source of the client's pings */
	uint32_t ping_dst;   /* the address pinged (inside the peer's traffic selector) */
	bool ping_answer;    /* server: answer pings to ping_dst itself (FIG. 7 step 706) */
	/* The heuristic NAT's parameters the inequalities of 003 relate pingtime to. */
	sp_time masq_t_out;	  /* T_out: outstanding items time out */
	uint32_t masq_n_out;	  /* N_out: packets of a blocking outstanding item */
	sp_time masq_t_ei;	  /* T_ei: established items time out when idle */
	uint32_t ping_collisions; /* N: other tunnels' unanswered pings to survive */
};

/* Documented defaults (docs/HOST.md): mode off, maxidle 10m, pingtime 2s (waits up to 25 %
 * longer at random), pingtries 11,
 * epoch_timeout 10s, elimit 2, ICMP to ping_dst, and masq's T_out 10s, N_out 5, T_ei 30m
 * with N 2; keylife 8h and rekeymargin 9m as in 003. */
void host_guard_cfg_defaults(struct host_guard_cfg *c);

/*
 * Read the guard keys of a [conn NAME] section over c (docs/HOST.md) and check them:
 * epoch_guard, maxidle, pingtime, pingtries, ping_jitter, epoch_timeout, elimit, ping, ping_src,
 * ping_dst, ping_answer, masq_t_out, masq_n_out, masq_t_ei, ping_collisions. The caller
 * sets keylife, rekeymargin and the ping address defaults from IKE's connection first.
 * SP_ECONFIG with conf_error() naming file, line and key (and the numbers).
 */
int host_guard_cfg_read(struct conf_sec *s, struct host_guard_cfg *c) SP_MUST_CHECK;

/*
 * The checks of 003 on a client's settings: pingtime >= T_out / N_out, pingtime *
 * pingtries / T_out > N, maxidle < T_ei, and the switch deadline inside the lifetime.
 * SP_ECONFIG with an explanation naming the numbers in err.
 */
int host_guard_cfg_check(const struct host_guard_cfg *c, char *err, size_t len) SP_MUST_CHECK;

/* What the guard acts on; conn names a connection given to host_guard_add(). */
struct host_guard_ops {
	/* Protect p (a complete cleartext IPv4 packet) with the outbound SA spi_out of the
	 * epoch whose inbound SA is spi_in and send it, whatever the policies say. Consumes
	 * p. (An epoch is named by both: two peers behind one NAT may have chosen the same
	 * spi_out, 003's incoming-SPI collision; spi_in is ours, unique.) */
	int (*send_via)(void *arg, sp_time now, uint32_t spi_in, uint32_t spi_out, struct pkt *p);
	/* From now on the tunnel's data leaves on the outbound SA of the epoch (spi_in,
	 * spi_out); 0, 0: on none (held until an SA is chosen). */
	int (*use_out)(void *arg, sp_time now, const char *conn, uint32_t spi_in, uint32_t spi_out);
	/* The epoch whose inbound SA is spi_in is no longer wanted: delete it (both
	 * directions) and tell the peer. */
	void (*retire)(void *arg, sp_time now, const char *conn, uint32_t spi_in);
	/* Step 605: negotiate a new epoch (rekey the CHILD SA, or create one if none). */
	int (*rekey)(void *arg, sp_time now, const char *conn);
	/* Steps 614 and 601: drop the IKE session of conn and start a new one. */
	int (*new_session)(void *arg, sp_time now, const char *conn);
	void *arg;
};

struct host_guard_params {
	const char *name; /* instance in logs and counters */
	const struct sp_log *log;
	struct sp_ctr_registry *ctrs; /* may be NULL */
	struct sp_rng *rng;
	struct pkt_pool *pool; /* for the control packets */
	struct host_guard_ops ops;
};

#define foreach_host_guard_ctr(_)                                                               \
	_(EPOCHS, "epochs")			   /* new epochs seen (up or rekeyed) */        \
	_(PINGS, "pings_sent")			   /* steps 607 and 616 */                      \
	_(PING_RETRIES, "ping_retries")		   /* steps 610-611, 618-619 */                 \
	_(PING_REPLIES, "ping_replies")		   /* our echo replies, consumed */             \
	_(PINGS_ANSWERED, "pings_answered")	   /* FIG. 7 step 706 */                        \
	_(SWITCH, "switches")			   /* step 609 / FIG. 7 step 707 */             \
	_(SWITCH_DEADLINE, "switches_at_deadline") /* t0 + keylife - rekeymargin */             \
	_(SWITCH_FORCED, "switches_forced")	   /* the current epoch was deleted */          \
	_(KEEPALIVE, "keepalives")		   /* step 621: maxidle of silence */           \
	_(KEEPALIVE_OK, "keepalives_answered")	   /* step 617 */                               \
	_(REKEY, "rekeys_requested")		   /* step 605 */                               \
	_(NEG_TIMEOUT, "negotiation_timeouts")	   /* step 612 */                               \
	_(SESSION, "sessions_started")		   /* steps 614, 601 */                         \
	_(RETIRED, "epochs_retired")		   /* previous epochs deleted after a switch */ \
	_(SESSION_LOST, "sessions_lost")	   /* IKE reported the session gone */          \
	_(DROP_NO_BUFFER, "drop_ping_no_buffer")   /* pool empty: a ping not sent */            \
	_(DROP_SEND, "drop_ping_send_failed")	   /* the data plane refused a ping */          \
	_(ERR_OPS, "errors_ops")		   /* use_out, rekey or new_session failed */

enum host_guard_ctr {
#define _(sym, str) HOST_GUARD_CTR_##sym,
	foreach_host_guard_ctr(_)
#undef _
		HOST_GUARD_CTR_N
};

struct host_guard;

int host_guard_new(const struct host_guard_params *p, struct host_guard **out) SP_MUST_CHECK;
void host_guard_free(struct host_guard *g);

/*
 * Guard the connection conn (copied, as is cfg). A client tunnel exists from now on and
 * counts as wanted; a server entry is a template: each CHILD SA lineage a peer creates
 * under conn gets its own tunnel.
 */
int host_guard_add(struct host_guard *g, const char *conn,
		   const struct host_guard_cfg *cfg) SP_MUST_CHECK;
/* Whether conn is guarded, and how. */
enum host_guard_mode host_guard_mode_of(const struct host_guard *g, const char *conn);

/* Every IKE event (ike_params.event). Events of unguarded connections are ignored. */
void host_guard_ike_event(struct host_guard *g, sp_time now, const struct ike_event *ev);

/*
 * A packet was authenticated on the inbound SA spi_in and decapsulated to inner (a whole
 * IPv4 packet; NULL when nothing is delivered, e.g. an ESP dummy). True when the guard
 * consumed inner: one of its ping replies, or a ping it answered.
 */
bool host_guard_rx(struct host_guard *g, sp_time now, uint32_t spi_in, struct pkt *inner);

sp_time host_guard_next_deadline(const struct host_guard *g);
void host_guard_tick(struct host_guard *g, sp_time now);

/* The endpoint crashed: forget every epoch and timer (client tunnels stay configured). */
void host_guard_reset(struct host_guard *g);

/* Figures for reports. */
struct host_guard_stats {
	uint32_t tunnels;    /* client tunnels configured, plus server tunnels present */
	uint32_t tunnels_up; /* with an epoch carrying data */
	uint64_t ctr[HOST_GUARD_CTR_N];
};
void host_guard_stats(const struct host_guard *g, struct host_guard_stats *st);
const char *host_guard_ctr_name(enum host_guard_ctr c);

/* `spinat show guard`: one line per tunnel with its epochs and phase. */
void host_guard_show(const struct host_guard *g, sp_time now, FILE *f);

#endif
