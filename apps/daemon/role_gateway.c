/*
 * spinatd's gateway role: the NAT of src/nat/ on a Linux router. The kernel queues the
 * packets iptables selects (NFQUEUE in raw PREROUTING, before routing: docs/NAT.md); the
 * role tells inside from outside by the interface each arrived on, translates it in place
 * and hands it back with NF_ACCEPT and the new bytes, or NF_DROP. The kernel then routes,
 * decrements the TTL and answers ARP as for any forwarded packet. Packets the engine makes
 * itself leave through a raw socket.
 */
#include "spinatd.h"
#include "base/addr.h"
#include "io/nfq.h"
#include "nat/nat.h"

#include <linux/netfilter.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#define GW_IFS_MAX 8

#define foreach_gw_ctr(_)                                                                         \
	_(RX, "queued")				   /* packets the kernel queued */                \
	_(ACCEPT, "accepted")			   /* handed back translated */                   \
	_(DROP, "dropped")			   /* NF_DROP: the engine's counter says why */   \
	_(INJECTED, "injected")			   /* engine-made packets sent (copies, holds) */ \
	_(PASS_OTHER_IF, "passed_other_interface") /* from an interface neither in nor out */     \
	_(DROP_NOT_IPV4, "drop_not_ipv4")	   /* queued packet is not IPv4 */                \
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

struct gateway {
	struct spinatd *d;
	struct nat *nat;
	struct io_nfq q;
	struct io_timer timer;
	unsigned in_if[GW_IFS_MAX], out_if[GW_IFS_MAX];
	unsigned nin, nout;
	uint64_t ctr[GW_CTR_N];
	struct sp_ctrs ctrs, nfq_ctrs; /* nfq_ctrs: g->q.ctr */
	bool registered;
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

static void rearm(struct gateway *g)
{
	if (io_timer_arm(g->d->loop, &g->timer, nat_next_deadline(g->nat)) != 0)
		SP_ERR(&g->d->log, "gateway", "cannot arm the timer");
}

static void on_timer(struct io_loop *loop, void *arg)
{
	struct gateway *g = arg;

	(void)loop;
	nat_tick(g->nat, io_now());
	rearm(g);
}

static void verdict(struct gateway *g, uint32_t id, uint32_t v, const uint8_t *data, uint32_t len)
{
	if (io_nfq_verdict(&g->q, id, v, data, len) != 0)
		g->ctr[GW_CTR_DROP_VERDICT]++;
}

/* One queued packet: translate in place, queue the verdict. */
static void handle(struct gateway *g, sp_time now, struct io_nfq_msg *m)
{
	enum nat_side from;
	struct pkt p;
	int v;

	g->ctr[GW_CTR_RX]++;
	if (m->payload == NULL || m->len == 0 || m->payload[0] >> 4 != 4) {
		g->ctr[GW_CTR_DROP_NOT_IPV4]++;
		verdict(g, m->id, NF_DROP, NULL, 0);
		return;
	}
	if (in_list(g->in_if, g->nin, m->indev)) {
		from = NAT_INSIDE;
	} else if (in_list(g->out_if, g->nout, m->indev)) {
		from = NAT_OUTSIDE;
	} else {
		/* A rule queued traffic of an interface the gateway was not told about. */
		g->ctr[GW_CTR_PASS_OTHER_IF]++;
		verdict(g, m->id, NF_ACCEPT, NULL, 0);
		return;
	}
	pkt_init(&p, m->payload, m->len, 0);
	p.len = m->len;
	p.ifindex = m->indev;
	v = nat_translate(g->nat, now, from, &p);
	if (v == NAT_TO_INSIDE || v == NAT_TO_OUTSIDE) {
		g->ctr[GW_CTR_ACCEPT]++;
		verdict(g, m->id, NF_ACCEPT, m->payload, m->len);
		return;
	}
	/* NAT_DROP (counted by the engine) or NAT_TAKEN (it kept a copy to send later). */
	g->ctr[GW_CTR_DROP]++;
	verdict(g, m->id, NF_DROP, NULL, 0);
}

static void on_queue(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct gateway *g = arg;
	struct io_nfq_msg m;
	sp_time now = io_now();
	int r;

	(void)loop;
	(void)fd;
	(void)events;
	/* One read holds many packets; their verdicts go back in one send. */
	for (int round = 0; round < 8; round++) {
		if ((r = io_nfq_read(&g->q)) != 0) {
			if (r != SP_EAGAIN)
				g->ctr[GW_CTR_DROP_READ_ERROR]++;
			break;
		}
		while (io_nfq_next(&g->q, &m) == 0)
			handle(g, now, &m);
		if (io_nfq_flush(&g->q) != 0)
			g->ctr[GW_CTR_DROP_VERDICT]++;
	}
	rearm(g);
}

static int ctl_show_nat(void *arg, int argc, char **argv, FILE *out, FILE *err)
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
	nat_show(g->nat, io_now(), out, flags, (uint32_t)limit);
	return 0;
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
	if (d->loop != NULL) {
		io_timer_cancel(d->loop, &g->timer);
		if (g->q.fd >= 0)
			io_loop_del_fd(d->loop, g->q.fd);
	}
	io_nfq_close(&g->q);
	if (g->registered) {
		sp_ctr_unregister(&d->ctrs, &g->ctrs);
		sp_ctr_unregister(&d->ctrs, &g->nfq_ctrs);
	}
	nat_free(g->nat);
	free(g);
	d->role_state = NULL;
}

int spinatd_gateway_start(struct spinatd *d)
{
	struct conf_sec *s = conf_find(d->conf, "gateway", NULL);
	struct nat_config cfg;
	struct nat_env env = { 0 };
	struct gateway *g;
	uint32_t queue, maxlen;
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
	io_timer_init(&g->timer, on_timer, g);
	if ((r = nat_config_read(&cfg, s)) != 0 ||
	    (r = read_ifs(d, s, "inside", g->in_if, &g->nin)) != 0 ||
	    (r = read_ifs(d, s, "outside", g->out_if, &g->nout)) != 0 ||
	    (r = conf_get_u32(s, "queue", 0, 0, 65535, &queue)) != 0 ||
	    (r = conf_get_u32(s, "queue_maxlen", 4096, 16, 1u << 20, &maxlen)) != 0)
		return r;
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
	if (d->check)
		return 0;
	sp_ctrs_init(&g->ctrs, "gateway", d->name, gw_ctr_names, g->ctr, GW_CTR_N);
	sp_ctr_register(&d->ctrs, &g->ctrs);
	sp_ctrs_init(&g->nfq_ctrs, "nfq", d->name, io_nfq_ctr_names, g->q.ctr, IO_NFQ_CTR_N);
	sp_ctr_register(&d->ctrs, &g->nfq_ctrs);
	g->registered = true;
	if ((r = io_nfq_open(&g->q, (uint16_t)queue, maxlen)) != 0) {
		SP_ERR(&d->log, "gateway", "NFQUEUE %u: %s (root or CAP_NET_ADMIN needed)", queue,
		       sp_strerror(r));
		return r;
	}
	if ((r = io_loop_add_fd(d->loop, g->q.fd, EPOLLIN, on_queue, g)) != 0 ||
	    (r = io_ctl_add(
		     d->ctl, "show nat", ctl_show_nat, g,
		     "the translation table (000 FIG. 5 columns): [ipsec|napt] [limit N]")) != 0)
		return r;
	rearm(g);
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
	"      pool = A | A/L     global addresses; may repeat (required)\n"
	"      strategy = S       masq (default), spihash, serial, natt, ipaddr, oldest, lease\n"
	"      ports = LO-HI      ports handed out when the inside port is taken\n"
	"      max_mappings = N   table entries (262144; 72-80 bytes each)\n"
	"      timeout_udp, timeout_tcp_established, timeout_tcp_transitory, timeout_icmp,\n"
	"      timeout_fragment, ike = cookies|napt, ike_timeout_outstanding,\n"
	"      ike_timeout_established, ike_recent, table_full = drop|evict,\n"
	"      masq_t_out, masq_n_out, masq_t_ei, spihash_scheme, spihash_timeout,\n"
	"      serial_mode, serial_timeout, serial_idle_timeout, serial_hold_max,\n"
	"      serial_hold_timeout, ipaddr_timeout, oldest_unanswered_timeout,\n"
	"      oldest_answered_timeout, lease_lifetime, lease_lifetime_max, lease_max,\n"
	"      lease_per_client, lease_pcp_address, lease_ike\n"
	"    The kernel must queue the traffic (in the gateway's namespace), e.g.:\n"
	"      iptables -t raw -A PREROUTING -i IN ! -d INSIDE_ADDR -j NFQUEUE\n"
	"      iptables -t raw -A PREROUTING -i OUT -d POOL_ADDR -j NFQUEUE\n"
	"      sysctl net.ipv4.ip_forward=1 net.ipv4.conf.IN.accept_local=1\n"
	"    Control: spinat show nat [ipsec|napt] [limit N] | show counters\n";
