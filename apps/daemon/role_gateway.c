/*
 * spinatd's gateway role: the NAT of src/nat/ on a Linux router. The kernel queues the
 * packets iptables selects (NFQUEUE in raw PREROUTING, before routing: docs/NAT.md); the
 * role tells inside from outside by the interface each arrived on, translates it in place
 * and hands it back with NF_ACCEPT and the new bytes, or NF_DROP. The kernel then routes,
 * decrements the TTL and answers ARP as for any forwarded packet. Packets the engine makes
 * itself leave through a raw socket.
 */
#include "spinatd.h"
#include "gw_rules.h"
#include "gw_fastpath.h"
#include "base/addr.h"
#include "base/cursor.h"
#include "io/nfq.h"
#include "crypto/crypto.h"
#include "crypto/x509_issue.h"
#include "nat/nat.h"
#include "nat/nat_strategy.h"
#include "pki/lca.h"

#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define GW_IFS_MAX     8
#define GW_DEBUG_DROPS 10
#define GW_QUEUES_MAX  16

#define foreach_gw_ctr(_)                                                                         \
	_(RX, "queued")				   /* packets the kernel queued */                \
	_(ACCEPT, "accepted")			   /* handed back translated */                   \
	_(DROP, "dropped")			   /* NF_DROP: the engine's counter says why */   \
	_(INJECTED, "injected")			   /* engine-made packets sent (copies, holds) */ \
	_(PASS_OTHER_IF, "passed_other_interface") /* from an interface neither in nor out */     \
	_(DROP_NOT_IPV4, "drop_not_ipv4")	   /* queued packet is not IPv4 */                \
	_(DROP_TOO_LONG, "drop_too_long")	   /* no room for dnat's tunnel header */         \
	_(DROP_INJECT, "drop_inject_failed")	   /* the raw socket refused a packet */          \
	_(DROP_VERDICT, "drop_verdict_failed")	   /* a verdict could not be sent */              \
	_(DROP_READ_ERROR, "drop_read_error")	   /* the netlink socket failed */

enum gw_ctr {
#define _(sym, str) GW_CTR_##sym,
	foreach_gw_ctr(_)
#undef _
		GW_CTR_N
};

static const char *const gw_ctr_names[] = { SP_CTR_NAMES(foreach_gw_ctr) };

/* A queue besides the first, served by a thread of its own (nfqueue_queues > 1). */
struct gw_xqueue {
	struct gateway *g;
	struct io_nfq q;
	pthread_t thread;
	bool running;
	char inst[48]; /* its counters' instance: NAME/qN */
	struct sp_ctrs ctrs;
	bool registered;
};

struct gateway {
	struct spinatd *d;
	struct nat *nat;
	struct io_nfq q; /* the first queue, served by the daemon's loop */
	/* nfqueue_queues > 1: the other queues, each with its thread. The engine is one: every
	 * use of it (translating, its timer, show nat, the LCA) holds lock. */
	struct gw_xqueue xq[GW_QUEUES_MAX - 1];
	unsigned nxq;
	pthread_mutex_t lock;
	int wake_fd;	       /* eventfd: a thread's packet made the timer due earlier */
	_Atomic sp_time armed; /* when the engine's timer is armed for */
	atomic_bool stopping;  /* the threads stop */
	struct io_timer timer;
	unsigned in_if[GW_IFS_MAX], out_if[GW_IFS_MAX];
	unsigned nin, nout;
	uint64_t ctr[GW_CTR_N];
	struct sp_ctrs ctrs, nfq_ctrs; /* nfq_ctrs: g->q.ctr */
	bool registered;
	bool rules;	    /* install and remove our NFQUEUE rules */
	sp_time dbg_window; /* debug lines about drops: at most GW_DEBUG_DROPS a second */
	unsigned dbg_lines;
	uint64_t dbg_skipped;
	struct gw_rules gr;
	bool headroom;		      /* the strategy prepends headers (dnat) */
	struct lca *lca;	      /* dnat's Local Certificate Authority, or NULL */
	const char *crl_path;	      /* where the LCA publishes its CRL, or NULL */
	uint8_t buf[PKT_BUFSIZE * 2]; /* the packet with headroom when it does */
	struct gw_fastpath *fp;	      /* NULL: NFQUEUE alone */
};

static void emit(void *arg, enum nat_side side, struct pkt *p)
{
	struct gateway *g = arg;

	(void)side; /* the kernel routes it by its destination */
	if (io_nfq_inject(&g->q, p) == 0)
		g->ctr[GW_CTR_INJECTED]++;
	else
		g->ctr[GW_CTR_DROP_INJECT]++;
	pkt_free(p);
}

static bool in_list(const unsigned *l, unsigned n, unsigned ifi)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == ifi)
			return true;
	return false;
}

static void lock(struct gateway *g)
{
	if (g->nxq > 0)
		pthread_mutex_lock(&g->lock);
}

static void unlock(struct gateway *g)
{
	if (g->nxq > 0)
		pthread_mutex_unlock(&g->lock);
}

/* The loop's thread, holding the lock. */
static void rearm(struct gateway *g)
{
	sp_time when = nat_next_deadline(g->nat);

	atomic_store(&g->armed, when);
	if (io_timer_arm(g->d->loop, &g->timer, when) != 0)
		SP_ERR(&g->d->log, "gateway", "cannot arm the timer");
}

static void on_timer(struct io_loop *loop, void *arg)
{
	struct gateway *g = arg;

	(void)loop;
	lock(g);
	nat_tick(g->nat, io_now());
	rearm(g);
	unlock(g);
}

/* A queue's thread made the engine's next deadline earlier than the armed one. */
static void on_wake(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct gateway *g = arg;
	uint64_t v;

	(void)loop;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* nothing to read: another wake took it */
	}
	lock(g);
	rearm(g);
	unlock(g);
}

static void verdict(struct gateway *g, struct io_nfq *q, uint32_t id, uint32_t v,
		    const uint8_t *data, uint32_t len)
{
	if (io_nfq_verdict(q, id, v, data, len) != 0)
		g->ctr[GW_CTR_DROP_VERDICT]++;
}

/* A dropped packet's addresses, for the first-drop line and (rate-limited) at debug. */
static void note_drop(struct gateway *g, sp_time now, const struct io_nfq_msg *m, bool inside)
{
	struct spinatd_peer *p = &g->d->last_drop;
	const uint8_t *b = m->payload;
	size_t hl = (size_t)(b[0] & 0x0f) * 4;
	char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

	if (m->len < 20)
		return;
	p->src = sp_load_be32(b + 12);
	p->dst = sp_load_be32(b + 16);
	p->proto = b[9];
	p->sport = p->dport = 0;
	if ((p->proto == 6 || p->proto == 17) && m->len >= hl + 4 &&
	    (sp_load_be16(b + 6) & 0x1fff) == 0) {
		p->sport = sp_load_be16(b + hl);
		p->dport = sp_load_be16(b + hl + 2);
	}
	p->way = inside ? "from inside" : "from outside";
	p->why = NULL;
	p->set = true;
	if (!sp_log_enabled(&g->d->log, SP_LOG_DEBUG))
		return;
	if (now - g->dbg_window >= SP_SEC(1)) {
		if (g->dbg_skipped > 0)
			SP_DEBUG(&g->d->log, "gateway", "%llu more dropped packets not logged",
				 (unsigned long long)g->dbg_skipped);
		g->dbg_window = now;
		g->dbg_lines = 0;
		g->dbg_skipped = 0;
	}
	if (g->dbg_lines++ >= GW_DEBUG_DROPS) {
		g->dbg_skipped++;
		return;
	}
	SP_DEBUG(&g->d->log, "gateway",
		 "dropped from %s: %s:%u -> %s:%u proto %u (spinat show counters)",
		 inside ? "inside" : "outside", sp_ip4_fmt(p->src, s), p->sport,
		 sp_ip4_fmt(p->dst, d), p->dport, p->proto);
}

/* One queued packet: translate in place, queue the verdict (the lock held). */
static void handle(struct gateway *g, struct io_nfq *q, sp_time now, struct io_nfq_msg *m)
{
	enum nat_side from;
	struct pkt p;
	int v;

	g->ctr[GW_CTR_RX]++;
	if (m->payload == NULL || m->len == 0 || m->payload[0] >> 4 != 4) {
		g->ctr[GW_CTR_DROP_NOT_IPV4]++;
		verdict(g, q, m->id, NF_DROP, NULL, 0);
		return;
	}
	if (in_list(g->in_if, g->nin, m->indev)) {
		from = NAT_INSIDE;
	} else if (in_list(g->out_if, g->nout, m->indev)) {
		from = NAT_OUTSIDE;
	} else {
		/* A rule queued traffic of an interface the gateway was not told about. */
		g->ctr[GW_CTR_PASS_OTHER_IF]++;
		verdict(g, q, m->id, NF_ACCEPT, NULL, 0);
		return;
	}
	if (g->headroom) {
		/* dnat pushes a tunnel header: the packet gets headroom in a copy. */
		pkt_init(&p, g->buf, sizeof(g->buf), PKT_HEADROOM);
		if (m->len > pkt_tailroom(&p) || pkt_append(&p, m->payload, m->len) != 0) {
			g->ctr[GW_CTR_DROP_TOO_LONG]++;
			verdict(g, q, m->id, NF_DROP, NULL, 0);
			return;
		}
	} else {
		pkt_init(&p, m->payload, m->len, 0);
		p.len = m->len;
	}
	p.ifindex = m->indev;
	v = nat_translate(g->nat, now, from, &p);
	if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
		g->ctr[GW_CTR_ACCEPT]++;
		/* The engine may have moved the packet's start (dnat strips and prepends). */
		verdict(g, q, m->id, NF_ACCEPT, pkt_data(&p), p.len);
		return;
	}
	/* NAT_DROP (counted by the engine) or NAT_TAKEN (it kept a copy to send later). */
	g->ctr[GW_CTR_DROP]++;
	if (v == NAT_DROP)
		note_drop(g, now, m, from == NAT_INSIDE);
	verdict(g, q, m->id, NF_DROP, NULL, 0);
}

/* What queue q holds: one read holds many packets, translated under the lock; their
 * verdicts go back in one send, outside it. Returns whether the engine's next deadline
 * came before the armed one. */
static bool serve(struct gateway *g, struct io_nfq *q)
{
	struct io_nfq_msg m;
	sp_time now = io_now();
	bool earlier = false;
	int r;

	for (int round = 0; round < 8; round++) {
		r = io_nfq_read(q);
		lock(g);
		if (r != 0) {
			if (r != SP_EAGAIN)
				g->ctr[GW_CTR_DROP_READ_ERROR]++;
			unlock(g);
			break;
		}
		while (io_nfq_next(q, &m) == 0)
			handle(g, q, now, &m);
		earlier = earlier || nat_next_deadline(g->nat) < atomic_load(&g->armed);
		unlock(g);
		if (io_nfq_flush(q) != 0) {
			lock(g);
			g->ctr[GW_CTR_DROP_VERDICT]++;
			unlock(g);
		}
	}
	return earlier;
}

static void on_queue(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct gateway *g = arg;

	(void)loop;
	(void)fd;
	(void)events;
	if (serve(g, &g->q)) {
		lock(g);
		rearm(g);
		unlock(g);
	}
}

/* A queue's thread: wait for packets (rechecking stopping every 200 ms), serve them. */
static void *xqueue_main(void *arg)
{
	struct gw_xqueue *x = arg;
	struct gateway *g = x->g;
	struct pollfd pfd = { .fd = x->q.fd, .events = POLLIN };
	uint64_t one = 1;

	while (!atomic_load(&g->stopping)) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (serve(g, &x->q) && write(g->wake_fd, &one, sizeof(one)) < 0) {
			/* the counter is full: the loop has a wake to read already */
		}
	}
	return NULL;
}

/* Queues queue+1 ... queue+n-1, each with its thread (signals stay with the loop's). */
static int xqueues_start(struct gateway *g, uint32_t queue, uint32_t maxlen, uint32_t mark)
{
	struct spinatd *d = g->d;
	sigset_t all, old;
	int r;

	for (unsigned i = 0; i < g->nxq; i++)
		g->xq[i].q.fd = g->xq[i].q.raw = -1;
	if ((g->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return SP_EIO;
	if ((r = io_loop_add_fd(d->loop, g->wake_fd, EPOLLIN, on_wake, g)) != 0)
		return r;
	for (unsigned i = 0; i < g->nxq; i++) {
		struct gw_xqueue *x = &g->xq[i];

		x->g = g;
		if ((r = io_nfq_open(&x->q, (uint16_t)(queue + 1 + i), maxlen)) != 0) {
			SP_ERR(&d->log, "gateway", "NFQUEUE %u: %s", queue + 1 + i, sp_strerror(r));
			return r;
		}
		x->q.mark = mark;
		snprintf(x->inst, sizeof(x->inst), "%s/q%u", d->name, queue + 1 + i);
		sp_ctrs_init(&x->ctrs, "nfq", x->inst, io_nfq_ctr_names, x->q.ctr, IO_NFQ_CTR_N);
		sp_ctr_register(&d->ctrs, &x->ctrs);
		x->registered = true;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < g->nxq && r == 0; i++) {
		g->xq[i].running =
			pthread_create(&g->xq[i].thread, NULL, xqueue_main, &g->xq[i]) == 0;
		r = g->xq[i].running ? 0 : SP_ENOMEM;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void xqueues_stop(struct gateway *g)
{
	atomic_store(&g->stopping, true);
	for (unsigned i = 0; i < g->nxq; i++) {
		struct gw_xqueue *x = &g->xq[i];

		if (x->running)
			pthread_join(x->thread, NULL);
		x->running = false;
		if (x->registered)
			sp_ctr_unregister(&g->d->ctrs, &x->ctrs);
		x->registered = false;
		if (x->q.fd >= 0 || x->q.raw >= 0)
			io_nfq_close(&x->q);
	}
	if (g->wake_fd >= 0) {
		if (g->d->loop != NULL)
			io_loop_del_fd(g->d->loop, g->wake_fd);
		close(g->wake_fd);
	}
	g->wake_fd = -1;
}

static int show_nat(void *arg, int argc, char **argv, FILE *out, FILE *err, unsigned json)
{
	struct gateway *g = arg;
	unsigned flags = NAT_SHOW_ALL;
	uint64_t limit = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "ipsec") == 0) {
			flags = NAT_SHOW_IPSEC;
		} else if (strcmp(argv[i], "napt") == 0) {
			flags = NAT_SHOW_NAPT;
		} else if (strcmp(argv[i], "limit") == 0 && i + 1 < argc &&
			   conf_parse_u64(argv[i + 1], &limit) == 0 && limit <= UINT32_MAX) {
			i++;
		} else {
			fprintf(err, "usage: show nat [ipsec|napt] [limit N]");
			return SP_EINVAL;
		}
	}
	lock(g);
	nat_show(g->nat, io_now(), out, flags | json, (uint32_t)limit);
	unlock(g);
	return 0;
}

/* The LCA (002, docs/DNAT.md): publish the CRL where lca_crl says. */
static int lca_publish(struct gateway *g, FILE *err)
{
	uint8_t *der;
	size_t len;
	int r;

	if (g->crl_path == NULL)
		return 0;
	if ((r = lca_crl(g->lca, (int64_t)time(NULL), &der, &len)) == 0) {
		r = crypto_der_write_pem(g->crl_path, "X509 CRL", der, len);
		free(der);
	}
	if (r != 0)
		fprintf(err, "CRL %s: %s", g->crl_path, sp_strerror(r));
	return r;
}

/* lca issue HOST PORT KEYFILE CERTFILE: a certificate for the key in KEYFILE (PEM, public
 * or private) binding the global address and the block of HOST that holds PORT; the block
 * is then kept until the certificate is revoked. */
static int ctl_lca_issue(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct gateway *g = arg;
	uint8_t *spki = NULL, *der = NULL;
	size_t spki_len, der_len;
	uint16_t lo, cnt;
	uint64_t serial, port;
	char pem[8192];
	uint32_t host;
	FILE *f;
	size_t n;
	int r;

	if (g->lca == NULL) {
		fprintf(err, "no LCA: set lca_cert and lca_key in [gateway]");
		return SP_ESTATE;
	}
	if (argc != 4 || sp_ip4_parse(argv[0], &host) != 0 || conf_parse_u64(argv[1], &port) != 0 ||
	    port == 0 || port > 65535) {
		fprintf(err, "usage: lca issue HOST PORT KEYFILE CERTFILE");
		return SP_EINVAL;
	}
	if ((f = fopen(argv[2], "r")) == NULL) {
		fprintf(err, "%s: cannot read", argv[2]);
		return SP_EIO;
	}
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	lock(g);
	r = nat_dnat_port_block(g->nat, host, (uint16_t)port, &lo, &cnt);
	unlock(g);
	if (r != 0) {
		fprintf(err, "%s holds no block with port %llu", argv[0], (unsigned long long)port);
		goto out;
	}
	if ((r = crypto_key_spki(pem, &spki, &spki_len)) != 0 ||
	    (r = lca_issue(g->lca, (int64_t)time(NULL), host, lo, cnt, spki, spki_len, &der,
			   &der_len, &serial)) != 0 ||
	    (r = crypto_der_write_pem(argv[3], "CERTIFICATE", der, der_len)) != 0) {
		fprintf(err, "issue: %s", sp_strerror(r));
		goto out;
	}
	lock(g);
	r = nat_dnat_certify(g->nat, host, (uint16_t)port, true);
	unlock(g);
	if (r != 0)
		goto out;
	fprintf(out, "serial %llu ports %u-%u\n", (unsigned long long)serial, lo,
		(unsigned)lo + cnt - 1);
out:
	crypto_wipe(pem, sizeof(pem)); /* KEYFILE may hold the private key */
	free(spki);
	free(der);
	return r;
}

/* lca revoke SERIAL: revoke, publish the CRL, then, unless another valid certificate binds
 * the block, de-allocate it and tell its host (nat_dnat_revoke). */
static int ctl_lca_revoke(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct gateway *g = arg;
	int64_t now = (int64_t)time(NULL);
	const struct lca_cert *c = NULL;
	char hs[SP_IP4_STRLEN];
	uint64_t serial;
	int r;

	if (g->lca == NULL || argc != 1 || conf_parse_u64(argv[0], &serial) != 0) {
		fprintf(err, "usage: lca revoke SERIAL (with an LCA configured)");
		return SP_EINVAL;
	}
	for (unsigned i = 0; i < g->lca->n; i++)
		if (g->lca->certs[i].serial == serial)
			c = &g->lca->certs[i];
	if ((r = lca_revoke(g->lca, now, serial)) != 0) {
		fprintf(err, "revoke 0x%llx: %s", (unsigned long long)serial, sp_strerror(r));
		return r;
	}
	if ((r = lca_publish(g, err)) != 0)
		return r;
	if (c != NULL && !lca_port_bound(g->lca, now, c->host, c->lowest)) {
		bool taken;

		lock(g);
		taken = nat_dnat_certify(g->nat, c->host, c->lowest, false) == 0 &&
			nat_dnat_revoke(g->nat, c->host, c->lowest) == 0;
		unlock(g);
		if (taken)
			fprintf(out, "ports from %u of %s taken back\n", c->lowest,
				sp_ip4_fmt(c->host, hs));
	}
	fprintf(out, "revoked %llu\n", (unsigned long long)serial);
	return 0;
}

static int ctl_show_lca(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct gateway *g = arg;

	(void)argc;
	(void)argv;
	if (g->lca == NULL) {
		fprintf(err, "no LCA configured");
		return SP_ESTATE;
	}
	lca_show(g->lca, (int64_t)time(NULL), out);
	return 0;
}

/* lca_cert, lca_key (both or neither), lca_crl, lca_lifetime. */
static int lca_start(struct gateway *g, struct conf_sec *s)
{
	const char *cert, *key, *crl;
	struct crypto_ca *ca = NULL;
	struct lca_conf lc;
	sp_time life;
	int r;

	if ((r = conf_get_str(s, "lca_cert", NULL, &cert)) != 0 ||
	    (r = conf_get_str(s, "lca_key", NULL, &key)) != 0 ||
	    (r = conf_get_str(s, "lca_crl", NULL, &crl)) != 0 ||
	    (r = conf_get_time(s, "lca_lifetime", SP_SEC(86400), &life)) != 0)
		return r;
	if (cert == NULL && key == NULL)
		return 0;
	if (cert == NULL || key == NULL || !g->headroom || life < SP_SEC(1))
		return conf_fail(s, "lca_cert and lca_key go together, with strategy dnat and "
				    "a positive lca_lifetime");
	if (g->d->check)
		return 0;
	if ((r = crypto_ca_load(cert, key, &ca)) != 0)
		return conf_fail(s, "lca_cert/lca_key: %s", sp_strerror(r));
	lca_conf_defaults(&lc);
	lc.global = nat_config_of(g->nat)->pool[0];
	lc.lifetime = (int64_t)(life / SP_SEC(1));
	if ((r = lca_new(&g->lca, ca, &lc)) != 0)
		return r;
	g->crl_path = crl;
	return lca_publish(g, stderr);
}

static int ctl_show_nat(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	return show_nat(arg, argc, argv, out, err, 0);
}

static int ctl_show_nat_json(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	return show_nat(arg, argc, argv, out, err, NAT_SHOW_JSON);
}

/* inside = IF / outside = IF (each may repeat): interface names into ifindexes. */
static int read_ifs(struct spinatd *d, struct conf_sec *s, const char *key, unsigned *out,
		    unsigned *n)
{
	struct conf_kv *kv = NULL;

	*n = 0;
	while ((kv = conf_next_kv(s, key, kv)) != NULL) {
		unsigned ifi = if_nametoindex(kv->val);

		if (*n == GW_IFS_MAX)
			return conf_fail(s, "at most %d %s interfaces", GW_IFS_MAX, key);
		if (ifi == 0 && !d->check)
			return conf_fail(s, "line %u: %s = %s: no such interface", kv->line, key,
					 kv->val);
		out[(*n)++] = ifi;
	}
	if (*n == 0)
		return conf_fail(s, "%s: at least one interface is required", key);
	return 0;
}

void spinatd_gateway_stop(struct spinatd *d)
{
	struct gateway *g = d->role_state;

	if (g == NULL)
		return;
	xqueues_stop(g); /* the threads first: nothing else uses the engine then */
	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &g->timer);
		if (g->q.fd >= 0)
			io_loop_del_fd(d->loop, g->q.fd);
	}
	/* The fast path first: no packet is marked once the rule letting marks pass goes. */
	gw_fastpath_stop(d, g->fp);
	g->fp = NULL;
	if (g->gr.installed > 0) /* never another daemon's: only after we bound the queue */
		gw_rules_remove(&g->gr, &d->log);
	io_nfq_close(&g->q);
	if (g->registered) {
		sp_ctr_unregister(&d->ctrs, &g->ctrs);
		sp_ctr_unregister(&d->ctrs, &g->nfq_ctrs);
	}
	nat_free(g->nat);
	lca_free(g->lca);
	if (g->nxq > 0)
		pthread_mutex_destroy(&g->lock);
	free(g);
	d->role_state = NULL;
}

int spinatd_gateway_start(struct spinatd *d)
{
	struct conf_sec *s = conf_find(d->conf, "gateway", NULL);
	struct nat_config cfg;
	struct nat_env env = { 0 };
	struct gateway *g;
	uint32_t queue, maxlen, mark, nqueues;
	bool mark_rule;
	int r;

	if (s == NULL) {
		struct conf_sec *any = conf_next(d->conf, NULL, "spinatd");

		return conf_fail(any, "role gateway needs a [gateway] section");
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return SP_ENOMEM;
	d->role_state = g;
	g->d = d;
	g->q.fd = g->q.raw = -1;
	g->wake_fd = -1;
	io_timer_init(&g->timer, on_timer, g);
	if ((r = nat_config_read(&cfg, s)) != 0 ||
	    (r = read_ifs(d, s, "inside", g->in_if, &g->nin)) != 0 ||
	    (r = read_ifs(d, s, "outside", g->out_if, &g->nout)) != 0 ||
	    (r = conf_get_u32(s, "queue", 0, 0, 65535, &queue)) != 0 ||
	    (r = conf_get_u32(s, "queue_maxlen", 4096, 16, 1u << 20, &maxlen)) != 0 ||
	    (r = conf_get_u32(s, "nfqueue_queues", 1, 1, GW_QUEUES_MAX, &nqueues)) != 0 ||
	    (r = conf_get_bool(s, "rules", true, &g->rules)) != 0 ||
	    (r = conf_get_bool(s, "queue_bypass", false, &g->gr.bypass)) != 0 ||
	    (r = conf_get_str(s, "iptables", "iptables", &g->gr.iptables)) != 0 ||
	    (r = conf_get_u32(s, "fastpath_mark", 0x5350, 1, UINT32_MAX, &mark)) != 0 ||
	    (r = conf_get_bool(s, "fastpath_rule", true, &mark_rule)) != 0)
		return r;
	if (queue + nqueues - 1 > 65535)
		return conf_fail(s, "queue + nfqueue_queues - 1 must be at most 65535");
	g->gr.queue = queue;
	g->gr.nqueues = nqueues;
	if (d->no_rules)
		g->rules = false;
	if (d->queue_bypass)
		g->gr.bypass = true;
	env.name = d->name;
	env.rng = &io_rng;
	env.log = &d->log;
	env.ctrs = &d->ctrs;
	env.pool = &d->pool;
	env.emit = emit;
	env.emit_arg = g;
	if ((r = nat_new(&g->nat, &cfg, &env)) != 0) {
		SP_ERR(&d->log, "gateway", "NAT engine: %s", sp_strerror(r));
		return r;
	}
	g->headroom = strcmp(nat_strategy_name(g->nat), "dnat") == 0;
	if ((r = lca_start(g, s)) != 0)
		return r;
	if ((r = gw_fastpath_start(d, s, g->nat, mark, g->in_if, g->nin, g->out_if, g->nout,
				   &g->fp)) != 0)
		return r;
	if (d->check)
		return 0;
	sp_ctrs_init(&g->ctrs, "gateway", d->name, gw_ctr_names, g->ctr, GW_CTR_N);
	sp_ctr_register(&d->ctrs, &g->ctrs);
	sp_ctrs_init(&g->nfq_ctrs, "nfq", d->name, io_nfq_ctr_names, g->q.ctr, IO_NFQ_CTR_N);
	sp_ctr_register(&d->ctrs, &g->nfq_ctrs);
	g->registered = true;
	if ((r = io_nfq_open(&g->q, (uint16_t)queue, maxlen)) != 0) {
		SP_ERR(&d->log, "gateway", "NFQUEUE %u: %s%s", queue, sp_strerror(r),
		       r == SP_EBUSY   ? " (another process, e.g. a second spinatd, has bound it)"
		       : r == SP_EPERM ? " (root or CAP_NET_ADMIN needed)"
				       : "");
		return r;
	}
	/* What the engine accepts carries the mark, as what the fast path translated does:
	 * the mark rule lets it pass should PREROUTING see it again (br_netfilter). */
	g->q.mark = mark;
	if (nqueues > 1) {
		g->nxq = nqueues - 1;
		if (pthread_mutex_init(&g->lock, NULL) != 0) {
			g->nxq = 0;
			return SP_ENOMEM;
		}
		if ((r = xqueues_start(g, queue, maxlen, mark)) != 0)
			return r;
	}
	/* The queue is bound before the rules exist, so nothing is queued to nobody. All the
	 * gateway's rules are gw_rules.c's: the mark rule (fastpath_rule), the NFQUEUE rules
	 * (rules), one tag, one clean-up. */
	g->gr.nfqueue = g->rules;
	g->gr.mark = mark_rule ? mark : 0;
	if ((g->rules || mark_rule) && (r = gw_rules_install(&g->gr, s, &d->log)) != 0)
		return r;
	if ((r = io_loop_add_fd(d->loop, g->q.fd, EPOLLIN, on_queue, g)) != 0 ||
	    (r = io_ctl_add(
		     d->ctl, "show nat", ctl_show_nat, g,
		     "the translation table (000 FIG. 5 columns): [ipsec|napt] [limit N]")) != 0 ||
	    (r = io_ctl_add_json(d->ctl, "show nat", ctl_show_nat_json)) != 0)
		return r;
	if (g->lca != NULL &&
	    ((r = io_ctl_add(d->ctl, "lca issue", ctl_lca_issue, g,
			     "HOST PORT KEYFILE CERTFILE: certify HOST's port block (002)")) != 0 ||
	     (r = io_ctl_add(d->ctl, "lca revoke", ctl_lca_revoke, g,
			     "SERIAL: revoke, publish the CRL, release the block")) != 0 ||
	     (r = io_ctl_add(d->ctl, "show lca", ctl_show_lca, g,
			     "the certificates the LCA issued")) != 0))
		return r;
	lock(g);
	rearm(g);
	unlock(g);
	if (nqueues > 1)
		SP_INFO(&d->log, "gateway",
			"NAT on queues %u-%u (a thread each), strategy %s, %u inside, %u outside "
			"interface(s)",
			queue, queue + nqueues - 1, nat_strategy_name(g->nat), g->nin, g->nout);
	else
		SP_INFO(&d->log, "gateway",
			"NAT on queue %u, strategy %s, %u inside, %u outside interface(s)", queue,
			nat_strategy_name(g->nat), g->nin, g->nout);
	return 0;
}

const char spinatd_gateway_usage[] =
	"    [gateway]            the NAT (docs/NAT.md, docs/CONFIG.md)\n"
	"      inside = IF        interface of the private side; may repeat (required)\n"
	"      outside = IF       interface of the public side; may repeat (required)\n"
	"      queue = N          NFQUEUE number the iptables rules use (default 0)\n"
	"      queue_maxlen = N   packets the kernel may hold for the daemon (4096)\n"
	"      nfqueue_queues = N queues queue ... queue+N-1 (--queue-balance), each served\n"
	"                         by a thread of its own (1)\n"
	"      rules = yes|no     install the NFQUEUE rules below at start, remove them at\n"
	"                         stop and after a crash (default yes; --no-rules: no)\n"
	"      queue_bypass = yes|no  the rules pass packets untranslated while no daemon\n"
	"                         is bound to the queue (default no: dropped; --queue-bypass)\n"
	"      iptables = PROG    the iptables program (default iptables, from PATH)\n"
	"      pool = A | A/L     global addresses; may repeat (required)\n"
	"      strategy = S       masq (default), spihash, serial, natt, ipaddr, oldest,\n"
	"                         dnat (docs/DNAT.md: dnat_* keys), lease (docs/LEASE.md)\n"
	"      ports = LO-HI      ports handed out when the inside port is taken\n"
	"      max_mappings = N   table entries (262144; 72-80 bytes each)\n"
	"      timeout_udp, timeout_tcp_established, timeout_tcp_transitory, timeout_icmp,\n"
	"      timeout_fragment, ike = cookies|napt, ike_timeout_outstanding,\n"
	"      ike_timeout_established, ike_recent, table_full = drop|evict,\n"
	"      masq_t_out, masq_n_out, masq_t_ei, spihash_scheme, spihash_timeout,\n"
	"      serial_mode, serial_timeout, serial_idle_timeout, serial_hold_max,\n"
	"      serial_hold_timeout, ipaddr_timeout, oldest_unanswered_timeout,\n"
	"      oldest_answered_timeout, dnat_*, lca_cert, lca_key, lca_crl, lca_lifetime,\n"
	"      lease_lifetime, lease_lifetime_max, lease_max, lease_per_client,\n"
	"      lease_pcp_address, lease_ike\n" GW_FASTPATH_USAGE
	"    With rules = no the kernel must be told to queue the traffic, e.g.:\n"
	"      iptables -t raw -A PREROUTING -i IN ! -d INSIDE_ADDR -j NFQUEUE\n"
	"      iptables -t raw -A PREROUTING -i OUT -d POOL_ADDR -j NFQUEUE\n"
	"      sysctl net.ipv4.ip_forward=1 net.ipv4.conf.IN.accept_local=1\n"
	"    Control: spinat show nat [ipsec|napt] [limit N] | show counters\n";
