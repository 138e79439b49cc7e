/*
 * The epoch guard (003, FIGS. 6A/6B and 7). Each guarded tunnel holds at most two epochs:
 * `cur`, the one carrying data, and `pend`, a newer one being tried. A client pings through
 * pend and switches when anything arrives on pend's inbound SA (or at the previous epoch's
 * t0 + keylife - rekeymargin); a server switches when anything arrives on pend. The
 * client's phases follow the flow chart:
 *
 *   SESSION    601: a new IKE session is on its way (TIMEOUT, then another)
 *   NEGOTIATE  605-606: a new epoch is being negotiated (TIMEOUT, 612-614)
 *   PROBE      607-611: pinging pend every pingtime, up to pingtries retries, then 605
 *   IDLE       602, 621: cur carries data; maxidle of silence starts a keepalive
 *   KEEPALIVE  615-619: pinging cur, up to pingtries retries, then 603 and 605
 *   DOWN       no epoch; a new one is asked for at `due`
 *
 * Deviation (docs/HOST.md): NTRIES starts at zero for every new epoch tried (the
 * Detailed Description's "up to pingtries" per SA); the chart resets it only at 604.
 */
#include "host/host_guard.h"

#include "base/addr.h"
#include "base/cursor.h"
#include "base/hash.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_MOD    "guard"
#define PING_MAGIC   0x53504733u /* "SPG3" */
#define PING_PAYLOAD 8		 /* magic, then the epoch's outbound SPI */
#define RETIRE_MAX   4
#define MAP_MIN	     16
#define GUARD_IP_TTL 64
#define OLD_SESSIONS 4

static const char *const guard_ctr_names[] = { SP_CTR_NAMES(foreach_host_guard_ctr) };

enum phase { PH_DOWN, PH_SESSION, PH_NEGOTIATE, PH_PROBE, PH_IDLE, PH_KEEPALIVE };

static const char *const phase_names[] = {
	[PH_DOWN] = "down",	[PH_SESSION] = "new-session", [PH_NEGOTIATE] = "negotiating",
	[PH_PROBE] = "probing", [PH_IDLE] = "established",    [PH_KEEPALIVE] = "keepalive",
};

/* One direction pair of a tunnel (003 Background: "each epoch ... two SAs"). */
struct epoch {
	uint32_t in, out; /* in == 0: none */
	sp_time t0;	  /* created or rekeyed */
	sp_time last_rx;  /* last packet through in; 0: none yet */
};

struct retire {
	uint32_t in;
	sp_time at;
};

struct tunnel {
	char *conn;
	struct host_guard_cfg cfg;
	bool server;   /* FIG. 7 */
	bool tmpl;     /* a server template: no epochs, instances are made per lineage */
	uint32_t slot; /* index in g->t */
	uint16_t ping_id, ping_seq;
	uint64_t ike_spi;		/* the client's IKE session (its SPIi), 0: none yet */
	uint64_t old_spi[OLD_SESSIONS]; /* sessions it dropped, whose late events are stale */
	unsigned old_next;
	bool restarting; /* inside ops.new_session: its own events are ours */
	enum phase ph;
	struct epoch cur, pend;
	uint32_t nepoch, ntries; /* NEPOCH, NTRIES / NTRIES2 */
	sp_time due;		 /* the phase's deadline */
	sp_time since;		 /* the phase began (for the logs) */
	struct retire ret[RETIRE_MAX];
	unsigned nret;
};

struct map_slot {
	uint32_t spi;
	uint32_t tun; /* slot + 1; 0: empty */
};

struct host_guard {
	struct host_guard_params p;
	char *name;
	struct tunnel **t;
	uint32_t nt, cap;
	struct map_slot *map; /* inbound SPI -> tunnel, linear probing */
	uint32_t map_cap, map_n;
	uint64_t seed;
	uint16_t id_base, ip_id;
	sp_time next; /* cached earliest deadline */
	uint64_t ctr[HOST_GUARD_CTR_N];
	struct sp_ctrs ctrs;
};

#define GLOG(g, lvl, ...) sp_logf((g)->p.log, (lvl), GUARD_MOD, __VA_ARGS__)

static void ctr(struct host_guard *g, enum host_guard_ctr c)
{
	g->ctr[c]++;
}

/* ---- the SPI map ------------------------------------------------------------------------ */

static uint32_t map_home(const struct host_guard *g, uint32_t spi)
{
	return (uint32_t)sp_hash_u64(spi, g->seed) & (g->map_cap - 1);
}

static uint32_t map_find(const struct host_guard *g, uint32_t spi)
{
	if (spi == 0 || g->map_cap == 0)
		return 0;
	for (uint32_t i = map_home(g, spi);; i = (i + 1) & (g->map_cap - 1)) {
		if (g->map[i].tun == 0)
			return 0;
		if (g->map[i].spi == spi)
			return g->map[i].tun;
	}
}

static int map_grow(struct host_guard *g);

static int map_put(struct host_guard *g, uint32_t spi, uint32_t tun)
{
	uint32_t i;
	int r;

	if (spi == 0)
		return SP_EINVAL;
	if ((g->map_n + 1) * 2 > g->map_cap && (r = map_grow(g)) != 0)
		return r;
	for (i = map_home(g, spi); g->map[i].tun != 0; i = (i + 1) & (g->map_cap - 1)) {
		if (g->map[i].spi == spi) {
			g->map[i].tun = tun;
			return 0;
		}
	}
	g->map[i].spi = spi;
	g->map[i].tun = tun;
	g->map_n++;
	return 0;
}

static int map_grow(struct host_guard *g)
{
	struct map_slot *old = g->map;
	uint32_t n = g->map_cap;
	uint32_t cap = n ? n * 2 : MAP_MIN;

	if ((g->map = calloc(cap, sizeof(*g->map))) == NULL) {
		g->map = old;
		return SP_ENOMEM;
	}
	g->map_cap = cap;
	g->map_n = 0;
	for (uint32_t i = 0; i < n; i++)
		if (old[i].tun != 0 && map_put(g, old[i].spi, old[i].tun) != 0)
			break; /* cannot fail: room was made */
	free(old);
	return 0;
}

/* Linear probing delete with backward shift: no tombstones. */
static void map_del(struct host_guard *g, uint32_t spi)
{
	uint32_t i, j, mask = g->map_cap - 1;

	if (spi == 0 || g->map_cap == 0)
		return;
	for (i = map_home(g, spi);; i = (i + 1) & mask) {
		if (g->map[i].tun == 0)
			return;
		if (g->map[i].spi == spi)
			break;
	}
	g->map[i].tun = 0;
	g->map_n--;
	for (j = (i + 1) & mask; g->map[j].tun != 0; j = (j + 1) & mask) {
		uint32_t h = map_home(g, g->map[j].spi);

		/* Move j back to the hole when its home does not lie in (i, j]. */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			g->map[i] = g->map[j];
			g->map[j].tun = 0;
			i = j;
		}
	}
}

/* ---- instance and tunnels -------------------------------------------------------------- */

int host_guard_new(const struct host_guard_params *p, struct host_guard **out)
{
	struct host_guard *g;

	*out = NULL;
	if (p->rng == NULL || p->pool == NULL || p->ops.send_via == NULL ||
	    p->ops.use_out == NULL || p->ops.retire == NULL || p->ops.rekey == NULL ||
	    p->ops.new_session == NULL)
		return SP_EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return SP_ENOMEM;
	g->p = *p;
	if ((g->name = strdup(p->name != NULL ? p->name : "guard")) == NULL) {
		free(g);
		return SP_ENOMEM;
	}
	g->seed = sp_rng_u64(p->rng);
	g->id_base = (uint16_t)sp_rng_u32(p->rng);
	g->ip_id = (uint16_t)sp_rng_u32(p->rng);
	g->next = SP_TIME_NEVER;
	sp_ctrs_init(&g->ctrs, "guard", g->name, guard_ctr_names, g->ctr, HOST_GUARD_CTR_N);
	if (p->ctrs != NULL)
		sp_ctr_register(p->ctrs, &g->ctrs);
	*out = g;
	return 0;
}

static void tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	free(t->conn);
	free(t);
}

void host_guard_free(struct host_guard *g)
{
	if (g == NULL)
		return;
	if (g->p.ctrs != NULL)
		sp_ctr_unregister(g->p.ctrs, &g->ctrs);
	for (uint32_t i = 0; i < g->nt; i++)
		tunnel_free(g->t[i]);
	free(g->t);
	free(g->map);
	free(g->name);
	free(g);
}

static struct tunnel *tunnel_new(struct host_guard *g, const char *conn,
				 const struct host_guard_cfg *cfg, bool tmpl)
{
	struct tunnel *t;
	uint32_t slot;

	for (slot = 0; slot < g->nt && g->t[slot] != NULL; slot++)
		;
	if (slot == g->nt && g->nt == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 8;
		struct tunnel **n = realloc(g->t, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		g->t = n;
		g->cap = cap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->conn = strdup(conn)) == NULL) {
		free(t);
		return NULL;
	}
	t->cfg = *cfg;
	t->server = cfg->mode == HOST_GUARD_SERVER;
	t->tmpl = tmpl;
	t->slot = slot;
	t->ping_id = (uint16_t)(g->id_base ^ slot);
	t->ph = PH_DOWN;
	t->due = SP_TIME_NEVER;
	g->t[slot] = t;
	if (slot == g->nt)
		g->nt++;
	return t;
}

static void tunnel_drop(struct host_guard *g, struct tunnel *t)
{
	map_del(g, t->cur.in);
	map_del(g, t->pend.in);
	g->t[t->slot] = NULL;
	tunnel_free(t);
}

int host_guard_add(struct host_guard *g, const char *conn, const struct host_guard_cfg *cfg)
{
	if (conn == NULL || cfg->mode == HOST_GUARD_OFF)
		return SP_EINVAL;
	for (uint32_t i = 0; i < g->nt; i++)
		if (g->t[i] != NULL && (g->t[i]->tmpl || !g->t[i]->server) &&
		    strcmp(g->t[i]->conn, conn) == 0)
			return SP_EEXIST;
	return tunnel_new(g, conn, cfg, cfg->mode == HOST_GUARD_SERVER) != NULL ? 0 : SP_ENOMEM;
}

/* The client tunnel or server template of conn. */
static struct tunnel *by_conn(const struct host_guard *g, const char *conn)
{
	if (conn == NULL)
		return NULL;
	for (uint32_t i = 0; i < g->nt; i++) {
		struct tunnel *t = g->t[i];

		if (t != NULL && (t->tmpl || !t->server) && strcmp(t->conn, conn) == 0)
			return t;
	}
	return NULL;
}

enum host_guard_mode host_guard_mode_of(const struct host_guard *g, const char *conn)
{
	const struct tunnel *t = by_conn(g, conn);

	return t != NULL ? t->cfg.mode : HOST_GUARD_OFF;
}

static struct tunnel *by_spi(const struct host_guard *g, uint32_t spi_in)
{
	uint32_t i = map_find(g, spi_in);

	return i != 0 ? g->t[i - 1] : NULL;
}

/* ---- actions --------------------------------------------------------------------------- */

static void epoch_set(struct host_guard *g, struct tunnel *t, struct epoch *e, uint32_t in,
		      uint32_t out, sp_time now)
{
	e->in = in;
	e->out = out;
	e->t0 = now;
	e->last_rx = 0;
	if (map_put(g, in, t->slot + 1) != 0)
		GLOG(g, SP_LOG_ERR, "%s: epoch %08x: no memory to track it", t->conn, in);
	ctr(g, HOST_GUARD_CTR_EPOCHS);
}

static void epoch_clear(struct host_guard *g, struct epoch *e)
{
	map_del(g, e->in);
	memset(e, 0, sizeof(*e));
}

static void retire_now(struct host_guard *g, struct tunnel *t, sp_time now, uint32_t in)
{
	ctr(g, HOST_GUARD_CTR_RETIRED);
	GLOG(g, SP_LOG_INFO, "%s: retiring epoch %08x_i", t->conn, in);
	g->p.ops.retire(g->p.ops.arg, now, t->conn, in);
}

/* The previous epoch lives on for pingtime after a switch, for packets in flight. */
static void retire_later(struct host_guard *g, struct tunnel *t, sp_time now, uint32_t in)
{
	if (t->nret == RETIRE_MAX) {
		retire_now(g, t, now, t->ret[0].in);
		memmove(&t->ret[0], &t->ret[1], (RETIRE_MAX - 1) * sizeof(t->ret[0]));
		t->nret--;
	}
	t->ret[t->nret].in = in;
	t->ret[t->nret].at = now + t->cfg.pingtime;
	t->nret++;
}

static void retire_forget(struct tunnel *t, uint32_t in)
{
	for (unsigned i = 0; i < t->nret; i++) {
		if (t->ret[i].in != in)
			continue;
		memmove(&t->ret[i], &t->ret[i + 1], (t->nret - i - 1) * sizeof(t->ret[0]));
		t->nret--;
		return;
	}
}

static void send_ping(struct host_guard *g, struct tunnel *t, sp_time now, const struct epoch *e)
{
	struct ipv4_hdr h = { .ip_ttl = GUARD_IP_TTL };
	struct pkt *p;
	uint8_t *d;
	int r;

	if ((p = pkt_alloc(g->p.pool)) == NULL) {
		ctr(g, HOST_GUARD_CTR_DROP_NO_BUFFER);
		return;
	}
	h.ip_src = t->cfg.ping_src;
	h.ip_dst = t->cfg.ping_dst;
	h.ip_id = g->ip_id++;
	t->ping_seq++;
	if ((d = pkt_put(p, PING_PAYLOAD)) == NULL) {
		r = SP_ENOSPACE;
		goto fail;
	}
	sp_store_be32(d, PING_MAGIC);
	sp_store_be32(d + 4, e->out);
	if (t->cfg.probe == HOST_GUARD_PROBE_ICMP) {
		h.ip_proto = IPV4_PROTO_ICMP;
		r = icmp_build_echo(p, ICMP_ECHO_REQUEST, t->ping_id, t->ping_seq);
	} else {
		h.ip_proto = IPV4_PROTO_UDP;
		r = udp_build(p, t->cfg.probe_port, t->cfg.probe_port, h.ip_src, h.ip_dst, true);
	}
	if (r != 0 || (r = ipv4_build(p, &h, NULL, 0)) != 0)
		goto fail;
	ctr(g, HOST_GUARD_CTR_PINGS);
	if (g->p.ops.send_via(g->p.ops.arg, now, e->in, e->out, p) != 0)
		ctr(g, HOST_GUARD_CTR_DROP_SEND);
	return;
fail:
	pkt_free(p);
	ctr(g, HOST_GUARD_CTR_DROP_SEND);
	GLOG(g, SP_LOG_ERR, "%s: cannot build a ping: %s", t->conn, sp_strerror(r));
}

/*
 * How long to wait for an answer: pingtime, plus up to ping_jitter percent of it at random,
 * so tunnels that failed together (a NAT crash, race 2) do not retry, rekey and race again
 * in lockstep.
 */
static sp_time ping_wait(struct host_guard *g, const struct tunnel *t)
{
	uint64_t span_us = t->cfg.pingtime / SP_USEC(1) * t->cfg.ping_jitter / 100;

	if (span_us == 0)
		return t->cfg.pingtime;
	return t->cfg.pingtime +
	       SP_USEC(sp_rng_below(g->p.rng, (uint32_t)SP_MIN(span_us, UINT32_MAX)));
}

static void set_phase(struct tunnel *t, enum phase ph, sp_time now, sp_time due)
{
	t->ph = ph;
	t->since = now;
	t->due = due;
}

/* 607: try pend; 604 (NTRIES = 0) for every epoch tried. */
static void start_probe(struct host_guard *g, struct tunnel *t, sp_time now)
{
	if (t->server) {
		set_phase(t, t->cur.in != 0 ? PH_IDLE : PH_DOWN, now, SP_TIME_NEVER);
		return;
	}
	t->ntries = 0;
	set_phase(t, PH_PROBE, now, now + ping_wait(g, t));
	GLOG(g, SP_LOG_INFO, "%s: new epoch %08x_i %08x_o: pinging through it before %s", t->conn,
	     t->pend.in, t->pend.out, t->cur.in ? "switching" : "using it");
	send_ping(g, t, now, &t->pend);
}

/* 615-616 */
static void start_keepalive(struct host_guard *g, struct tunnel *t, sp_time now)
{
	t->ntries = 0;
	set_phase(t, PH_KEEPALIVE, now, now + ping_wait(g, t));
	ctr(g, HOST_GUARD_CTR_KEEPALIVE);
	GLOG(g, SP_LOG_INFO, "%s: nothing received on %08x_i for %.3fs: keepalive ping", t->conn,
	     t->cur.in, sp_time_sec(now - SP_MAX(t->cur.last_rx, t->cur.t0)));
	send_ping(g, t, now, &t->cur);
}

/* 605 */
static void negotiate(struct host_guard *g, struct tunnel *t, sp_time now, const char *why)
{
	int r;

	ctr(g, HOST_GUARD_CTR_REKEY);
	set_phase(t, PH_NEGOTIATE, now, now + t->cfg.epoch_timeout);
	GLOG(g, SP_LOG_INFO,
	     "%s: %s: negotiating a new epoch (failed so far: %" PRIu32 " of %" PRIu32 ")", t->conn,
	     why, t->nepoch, t->cfg.elimit);
	if ((r = g->p.ops.rekey(g->p.ops.arg, now, t->conn)) != 0) {
		ctr(g, HOST_GUARD_CTR_ERR_OPS);
		GLOG(g, SP_LOG_WARN, "%s: rekey refused: %s", t->conn, sp_strerror(r));
	}
}

/* 614, 601 */
static void new_session(struct host_guard *g, struct tunnel *t, sp_time now, const char *why)
{
	int r;

	ctr(g, HOST_GUARD_CTR_SESSION);
	GLOG(g, SP_LOG_INFO, "%s: %s: starting a new IKE session", t->conn, why);
	/* 614 drops the session with its epochs: its path is presumed dead, and data sent on
	 * it would only keep outstanding items alive in a NAT that will never see answers,
	 * blocking the new session's probes. Data waits for the new session's epoch. */
	if (t->cur.in != 0 || t->pend.in != 0) {
		if ((r = g->p.ops.use_out(g->p.ops.arg, now, t->conn, 0, 0)) != 0)
			ctr(g, HOST_GUARD_CTR_ERR_OPS);
		epoch_clear(g, &t->cur);
		epoch_clear(g, &t->pend);
		t->nret = 0;
	}
	if (t->ike_spi != 0)
		t->old_spi[t->old_next++ % OLD_SESSIONS] = t->ike_spi;
	t->ike_spi = 0;
	t->nepoch = 0;
	set_phase(t, PH_SESSION, now, now + t->cfg.epoch_timeout);
	t->restarting = true;
	r = g->p.ops.new_session(g->p.ops.arg, now, t->conn);
	t->restarting = false;
	if (r != 0) {
		ctr(g, HOST_GUARD_CTR_ERR_OPS);
		GLOG(g, SP_LOG_WARN, "%s: new session refused: %s", t->conn, sp_strerror(r));
	}
}

/* pend becomes cur (609, FIG. 7 707); the previous epoch is retired by the client. */
static void do_switch(struct host_guard *g, struct tunnel *t, sp_time now, enum host_guard_ctr why)
{
	struct epoch old = t->cur;
	int r;

	if ((r = g->p.ops.use_out(g->p.ops.arg, now, t->conn, t->pend.in, t->pend.out)) != 0) {
		ctr(g, HOST_GUARD_CTR_ERR_OPS);
		GLOG(g, SP_LOG_WARN, "%s: switching to %08x_o refused: %s", t->conn, t->pend.out,
		     sp_strerror(r));
	}
	ctr(g, why);
	GLOG(g, SP_LOG_INFO, "%s: switched to epoch %08x_i %08x_o %s after %.3fs%s", t->conn,
	     t->pend.in, t->pend.out,
	     why == HOST_GUARD_CTR_SWITCH ? "(a packet arrived on it)"
	     : why == HOST_GUARD_CTR_SWITCH_DEADLINE
		     ? "(previous epoch's t0 + keylife - rekeymargin)"
		     : "(the previous epoch was deleted)",
	     sp_time_sec(now - t->pend.t0),
	     old.in != 0 && !t->server && why != HOST_GUARD_CTR_SWITCH_FORCED
		     ? ", previous to be retired"
		     : "");
	map_del(g, old.in);
	t->cur = t->pend;
	memset(&t->pend, 0, sizeof(t->pend));
	if (t->cur.last_rx == 0 && why == HOST_GUARD_CTR_SWITCH)
		t->cur.last_rx = now;
	if (old.in != 0 && !t->server && why != HOST_GUARD_CTR_SWITCH_FORCED)
		retire_later(g, t, now, old.in);
}

/* Something arrived on pend (609) or cur (617): the tunnel works. */
static void confirmed(struct host_guard *g, struct tunnel *t, sp_time now)
{
	if (t->ph == PH_KEEPALIVE) {
		ctr(g, HOST_GUARD_CTR_KEEPALIVE_OK);
		GLOG(g, SP_LOG_INFO, "%s: keepalive answered on %08x_i", t->conn, t->cur.in);
	}
	t->nepoch = 0; /* 602 -> 603 */
	t->ntries = 0;
	set_phase(t, PH_IDLE, now, SP_TIME_NEVER);
}

/* ---- events ----------------------------------------------------------------------------- */

static struct tunnel *server_instance(struct host_guard *g, struct tunnel *tmpl)
{
	struct tunnel *t = tunnel_new(g, tmpl->conn, &tmpl->cfg, false);

	if (t == NULL)
		GLOG(g, SP_LOG_ERR, "%s: no memory for a guarded tunnel", tmpl->conn);
	return t;
}

/* A new epoch for t: it becomes pend (a previous pend is replaced). */
static void new_epoch(struct host_guard *g, struct tunnel *t, sp_time now, uint32_t in,
		      uint32_t out)
{
	if (t->pend.in != 0) {
		uint32_t old = t->pend.in;

		epoch_clear(g, &t->pend);
		/* A client deletes the epoch its rekey replaced (never used for data); a
		 * server leaves that to the client. */
		if (!t->server)
			retire_now(g, t, now, old);
	}
	epoch_set(g, t, &t->pend, in, out, now);
	start_probe(g, t, now);
}

static void ev_child(struct host_guard *g, sp_time now, const struct ike_event *ev)
{
	struct tunnel *t = NULL, *c = by_conn(g, ev->conn);

	if (ev->type == IKE_EV_CHILD_REKEYED)
		t = by_spi(g, ev->old_spi_in);
	if (t == NULL && c != NULL)
		t = c->tmpl ? server_instance(g, c) : c;
	if (t == NULL)
		return;
	if (map_find(g, ev->spi_in) != 0)
		return; /* seen already */
	new_epoch(g, t, now, ev->spi_in, ev->spi_out);
}

static void ev_child_deleted(struct host_guard *g, sp_time now, const struct ike_event *ev)
{
	struct tunnel *t = by_spi(g, ev->spi_in), *c = by_conn(g, ev->conn);

	if (t == NULL) {
		if (c != NULL && !c->tmpl)
			retire_forget(c, ev->spi_in);
		return;
	}
	if (ev->spi_in == t->pend.in) {
		epoch_clear(g, &t->pend);
		if (t->ph == PH_PROBE)
			set_phase(t, t->cur.in ? PH_IDLE : PH_DOWN, now,
				  t->cur.in ? SP_TIME_NEVER : now);
	} else if (ev->spi_in == t->cur.in) {
		epoch_clear(g, &t->cur);
		if (t->pend.in != 0) {
			do_switch(g, t, now, HOST_GUARD_CTR_SWITCH_FORCED);
			if (t->ph == PH_PROBE) /* keep pinging what is now current */
				t->ph = PH_KEEPALIVE;
		} else if (t->ph != PH_SESSION && t->ph != PH_NEGOTIATE) {
			/* Ask for a new epoch at the next tick, unless the session goes down
			 * meanwhile (its IKE_DOWN follows its CHILD_DELETEDs). */
			set_phase(t, PH_DOWN, now, t->server ? SP_TIME_NEVER : now);
		}
	}
	if (t->server && t->cur.in == 0 && t->pend.in == 0)
		tunnel_drop(g, t);
}

/* An event of a session the tunnel dropped. */
static bool stale(const struct tunnel *t, uint64_t spi_i)
{
	for (unsigned i = 0; i < OLD_SESSIONS; i++)
		if (spi_i != 0 && t->old_spi[i] == spi_i)
			return true;
	return false;
}

static void ev_session(struct host_guard *g, sp_time now, const struct ike_event *ev)
{
	struct tunnel *t = by_conn(g, ev->conn);

	if (t == NULL || t->server)
		return;
	switch (ev->type) {
	case IKE_EV_IKE_UP:
	case IKE_EV_IKE_REKEYED:
		if (stale(t, ev->ike_spi_i))
			return;
		t->ike_spi = ev->ike_spi_i;
		/* 601 -> 602: the session's first epoch is due within epoch_timeout (IKE
		 * may have failed to make it, e.g. the gateway refused a colliding SPI). */
		if (ev->type == IKE_EV_IKE_UP && t->cur.in == 0 && t->pend.in == 0)
			set_phase(t, PH_SESSION, now, now + t->cfg.epoch_timeout);
		return;
	case IKE_EV_AUTH_FAILED:
		/* A configuration matter: try again after TIMEOUT, not at once. */
		if (t->restarting || stale(t, ev->ike_spi_i))
			return;
		set_phase(t, PH_SESSION, now, now + t->cfg.epoch_timeout);
		return;
	case IKE_EV_CONNECT_FAILED:
		/* A session that never came up; a refused CHILD SA on a live session is left
		 * to the negotiation timeout. */
		if (t->restarting || t->ike_spi != 0 || stale(t, ev->ike_spi_i))
			return;
		ctr(g, HOST_GUARD_CTR_SESSION_LOST);
		new_session(g, t, now, ev->reason ? ev->reason : "setting up failed");
		return;
	case IKE_EV_PEER_SILENT:
	case IKE_EV_IKE_DOWN:
		if (t->restarting || stale(t, ev->ike_spi_i) ||
		    (t->ike_spi != 0 && ev->ike_spi_i != t->ike_spi))
			return;
		ctr(g, HOST_GUARD_CTR_SESSION_LOST);
		new_session(g, t, now,
			    ev->type == IKE_EV_PEER_SILENT ? "peer silent" : "IKE session gone");
		return;
	default:
		return;
	}
}

static void refresh(struct host_guard *g);

void host_guard_ike_event(struct host_guard *g, sp_time now, const struct ike_event *ev)
{
	switch (ev->type) {
	case IKE_EV_CHILD_UP:
	case IKE_EV_CHILD_REKEYED:
		ev_child(g, now, ev);
		break;
	case IKE_EV_CHILD_DELETED:
		ev_child_deleted(g, now, ev);
		break;
	default:
		ev_session(g, now, ev);
		break;
	}
	refresh(g);
}

/* ---- packets ---------------------------------------------------------------------------- */

/* Our reply, or a ping to answer (server); false for anything else. */
static bool ping_handle(struct host_guard *g, struct tunnel *t, sp_time now, struct pkt *p)
{
	struct ipv4_hdr h;
	uint8_t *ip = pkt_data(p), *l4;
	size_t l4len;
	struct cur c;
	bool request;

	cur_init(&c, ip, p->len);
	if (ipv4_parse(&c, &h) != 0 || ipv4_is_fragment(&h))
		return false;
	l4 = ip + h.ip_hl;
	l4len = h.ip_len - h.ip_hl;
	if (h.ip_proto == IPV4_PROTO_ICMP && t->cfg.probe == HOST_GUARD_PROBE_ICMP) {
		struct icmp_hdr ih;

		cur_init(&c, l4, l4len);
		if (icmp_parse(&c, &ih) != 0 || !ih.icmp_csum_ok || !icmp_is_echo(ih.icmp_type))
			return false;
		request = ih.icmp_type == ICMP_ECHO_REQUEST;
		if (!request && !t->server && ih.icmp_id == t->ping_id &&
		    h.ip_src == t->cfg.ping_dst) {
			ctr(g, HOST_GUARD_CTR_PING_REPLIES);
			pkt_free(p);
			return true;
		}
		/* Only the guard's own probes (FIG. 7 step 706): anybody else's ping to the
		 * address is the stack's to answer. */
		if (!request || !t->server || !t->cfg.ping_answer || h.ip_dst != t->cfg.ping_dst ||
		    l4len < ICMP_HDR_LEN + PING_PAYLOAD ||
		    sp_load_be32(l4 + ICMP_HDR_LEN) != PING_MAGIC)
			return false;
		/* FIG. 7 step 706: the reply, built in place. */
		l4[0] = ICMP_ECHO_REPLY;
		icmp_set_csum(l4, l4len);
	} else if (h.ip_proto == IPV4_PROTO_UDP && t->cfg.probe == HOST_GUARD_PROBE_UDP) {
		struct udp_hdr uh;

		cur_init(&c, l4, l4len);
		if (udp_parse(&c, &uh) != 0 || uh.udp_len < UDP_HDR_LEN + PING_PAYLOAD ||
		    sp_load_be32(l4 + UDP_HDR_LEN) != PING_MAGIC)
			return false;
		if (!t->server && uh.udp_sport == t->cfg.probe_port &&
		    h.ip_src == t->cfg.ping_dst) {
			ctr(g, HOST_GUARD_CTR_PING_REPLIES);
			pkt_free(p);
			return true;
		}
		if (!t->server || !t->cfg.ping_answer || h.ip_dst != t->cfg.ping_dst ||
		    uh.udp_dport != t->cfg.probe_port)
			return false;
		/* Swapping addresses and ports leaves the UDP checksum as it is. */
		sp_store_be16(l4 + 0, uh.udp_dport);
		sp_store_be16(l4 + 2, uh.udp_sport);
	} else {
		return false;
	}
	(void)ipv4_set_src(ip, h.ip_dst);
	(void)ipv4_set_dst(ip, h.ip_src);
	ctr(g, HOST_GUARD_CTR_PINGS_ANSWERED);
	if (g->p.ops.send_via(g->p.ops.arg, now, t->cur.in, t->cur.out, p) != 0)
		ctr(g, HOST_GUARD_CTR_DROP_SEND);
	return true;
}

bool host_guard_rx(struct host_guard *g, sp_time now, uint32_t spi_in, struct pkt *inner)
{
	struct tunnel *t = by_spi(g, spi_in);
	bool consumed;

	if (t == NULL)
		return false;
	if (spi_in == t->cur.in)
		t->cur.last_rx = now;
	if (spi_in == t->pend.in) {
		do_switch(g, t, now, HOST_GUARD_CTR_SWITCH);
		confirmed(g, t, now);
		refresh(g);
	} else if (spi_in == t->cur.in &&
		   (t->ph == PH_KEEPALIVE || (t->ph == PH_NEGOTIATE && t->pend.in == 0))) {
		/* 617: the keepalive (or any packet) came back. A rekey asked for meanwhile
		 * goes on, and its epoch will be tried when it comes; one that replaces a
		 * failed new epoch keeps its TIMEOUT. */
		confirmed(g, t, now);
		refresh(g);
	}
	consumed = inner != NULL && ping_handle(g, t, now, inner);
	return consumed;
}

/* ---- time ------------------------------------------------------------------------------ */

static sp_time switch_deadline(const struct tunnel *t)
{
	if (t->pend.in == 0 || t->cur.in == 0)
		return SP_TIME_NEVER;
	return t->cur.t0 + t->cfg.keylife - t->cfg.rekeymargin;
}

static sp_time idle_deadline(const struct tunnel *t)
{
	if (t->server || t->ph != PH_IDLE || t->cur.in == 0)
		return SP_TIME_NEVER;
	return SP_MAX(t->cur.last_rx, t->cur.t0) + t->cfg.maxidle;
}

static sp_time tunnel_deadline(const struct tunnel *t)
{
	sp_time d = sp_time_min(switch_deadline(t), idle_deadline(t));

	if (t->ph != PH_IDLE)
		d = sp_time_min(d, t->due);
	for (unsigned i = 0; i < t->nret; i++)
		d = sp_time_min(d, t->ret[i].at);
	return d;
}

static void refresh(struct host_guard *g)
{
	sp_time d = SP_TIME_NEVER;

	for (uint32_t i = 0; i < g->nt; i++)
		if (g->t[i] != NULL && !g->t[i]->tmpl)
			d = sp_time_min(d, tunnel_deadline(g->t[i]));
	g->next = d;
}

sp_time host_guard_next_deadline(const struct host_guard *g)
{
	return g->next;
}

/* 608/610/611 and 617/618/619: a ping went unanswered for pingtime. */
static void ping_timeout(struct host_guard *g, struct tunnel *t, sp_time now)
{
	struct epoch *e = t->ph == PH_PROBE ? &t->pend : &t->cur;

	t->ntries++;
	if (t->ntries <= t->cfg.pingtries) {
		ctr(g, HOST_GUARD_CTR_PING_RETRIES);
		GLOG(g, SP_LOG_INFO,
		     "%s: no answer through %08x_o: ping again (%" PRIu32 " of %" PRIu32
		     " retries)",
		     t->conn, e->out, t->ntries, t->cfg.pingtries);
		t->due = now + ping_wait(g, t);
		send_ping(g, t, now, e);
		return;
	}
	if (t->ph == PH_KEEPALIVE)
		t->nepoch = 0; /* 619 -> 603 */
	negotiate(g, t, now, t->ph == PH_PROBE ? "new epoch unanswered" : "keepalive unanswered");
}

static void tunnel_tick(struct host_guard *g, struct tunnel *t, sp_time now)
{
	while (t->nret > 0 && t->ret[0].at <= now) {
		uint32_t in = t->ret[0].in;

		retire_forget(t, in);
		retire_now(g, t, now, in);
	}
	if (now >= switch_deadline(t)) {
		do_switch(g, t, now, HOST_GUARD_CTR_SWITCH_DEADLINE);
		if (t->ph == PH_PROBE) /* keep trying what is now current */
			t->ph = PH_KEEPALIVE;
	}
	if (t->server)
		return;
	switch (t->ph) {
	case PH_PROBE:
	case PH_KEEPALIVE:
		if (now >= t->due)
			ping_timeout(g, t, now);
		break;
	case PH_NEGOTIATE:
		if (now < t->due)
			break;
		t->nepoch++; /* 612 */
		ctr(g, HOST_GUARD_CTR_NEG_TIMEOUT);
		if (t->nepoch <= t->cfg.elimit) /* 613 */
			negotiate(g, t, now, "no new epoch within epoch_timeout");
		else
			new_session(g, t, now, "negotiations failed elimit times");
		break;
	case PH_SESSION:
		if (now < t->due)
			break;
		ctr(g, HOST_GUARD_CTR_NEG_TIMEOUT);
		if (t->ike_spi != 0) /* the session is up, its CHILD SA is not: ask for one */
			negotiate(g, t, now, "no epoch from the IKE session");
		else
			new_session(g, t, now, "no epoch from the new session");
		break;
	case PH_IDLE:
		if (now >= idle_deadline(t))
			start_keepalive(g, t, now);
		break;
	case PH_DOWN:
		if (now >= t->due)
			negotiate(g, t, now, "no epoch left");
		break;
	}
}

void host_guard_tick(struct host_guard *g, sp_time now)
{
	for (uint32_t i = 0; i < g->nt; i++)
		if (g->t[i] != NULL && !g->t[i]->tmpl)
			tunnel_tick(g, g->t[i], now);
	refresh(g);
}

void host_guard_reset(struct host_guard *g)
{
	for (uint32_t i = 0; i < g->nt; i++) {
		struct tunnel *t = g->t[i];

		if (t == NULL || t->tmpl)
			continue;
		if (t->server) {
			tunnel_drop(g, t);
			continue;
		}
		epoch_clear(g, &t->cur);
		epoch_clear(g, &t->pend);
		t->nret = 0;
		t->ike_spi = 0;
		memset(t->old_spi, 0, sizeof(t->old_spi));
		t->nepoch = t->ntries = 0;
		set_phase(t, PH_DOWN, 0, SP_TIME_NEVER);
	}
	refresh(g);
}

/* ---- reports ---------------------------------------------------------------------------- */

void host_guard_stats(const struct host_guard *g, struct host_guard_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < g->nt; i++) {
		const struct tunnel *t = g->t[i];

		if (t == NULL || t->tmpl)
			continue;
		st->tunnels++;
		if (t->cur.in != 0)
			st->tunnels_up++;
	}
	memcpy(st->ctr, g->ctr, sizeof(st->ctr));
}

const char *host_guard_ctr_name(enum host_guard_ctr c)
{
	return c < HOST_GUARD_CTR_N ? guard_ctr_names[c] : "?";
}

void host_guard_show(const struct host_guard *g, sp_time now, FILE *f)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < g->nt; i++) {
		const struct tunnel *t = g->t[i];

		if (t == NULL || t->tmpl)
			continue;
		n++;
		fprintf(f, "%s: guard %s, %s", t->conn, t->server ? "server" : "client",
			phase_names[t->ph]);
		if (t->cur.in)
			fprintf(f, ", current %08x_i %08x_o (%lds)", t->cur.in, t->cur.out,
				(long)((now - t->cur.t0) / SP_SEC(1)));
		if (t->pend.in)
			fprintf(f, ", trying %08x_i %08x_o", t->pend.in, t->pend.out);
		if (t->ph == PH_PROBE || t->ph == PH_KEEPALIVE)
			fprintf(f, ", ping %" PRIu32 "/%" PRIu32, t->ntries, t->cfg.pingtries);
		if (t->nepoch > 0)
			fprintf(f, ", failed negotiations %" PRIu32 "/%" PRIu32, t->nepoch,
				t->cfg.elimit);
		fprintf(f, "\n");
	}
	if (n == 0)
		fprintf(f, "no guarded tunnels\n");
}
