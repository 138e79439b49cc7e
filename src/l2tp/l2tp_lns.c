/*
 * The LNS: L2TP sessions carry PPP links; a link that comes up gets a pool address; IPv4
 * out of a link passes the firewall of 004 [0015]/[0017] to the net side or, FIG. 3, into
 * the session holding the destination address.
 */
#include "l2tp/l2tp_lns.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define MOD	  "lns"
#define CTR(n, c) ((n)->ctr[L2TP_LNS_CTR_##c]++)
#define NO_SESS	  UINT32_MAX

static const char *const lns_ctr_names[] = { SP_CTR_NAMES(foreach_l2tp_lns_ctr) };

/* One session's PPP side, beside struct l2tp's session of the same index. */
struct lns_link {
	struct l2tp_lns *n;
	uint32_t idx;
	struct ppp_link k;
	uint32_t addr; /* from the pool, 0 while none */
	bool live;
};

struct l2tp_lns {
	struct l2tp_lns_cfg cfg;
	struct l2tp_lns_ops ops;
	struct sp_rng *rng;
	const struct sp_log *log;
	struct l2tp *l;
	struct lns_link *links; /* max_sessions */
	uint32_t *pool_owner;	/* pool_n: session index, NO_SESS when free */
	uint32_t pool_next;	/* where the next search starts (round robin) */
	struct ppp_stats ppp;
	struct l2tp_disc disc;
	uint64_t ctr[L2TP_LNS_CTR_N];
	struct sp_ctrs ctrs;
	uint8_t buf[PKT_HEADROOM + 2048];
};

void l2tp_lns_cfg_defaults(struct l2tp_lns_cfg *c)
{
	memset(c, 0, sizeof(*c));
	l2tp_cfg_defaults(&c->l2tp);
	c->l2tp.lns = true;
	ppp_cfg_defaults(&c->ppp);
	c->ppp.server = true;
	c->local = SP_IP4(10, 99, 0, 1);
	c->pool_start = SP_IP4(10, 99, 0, 2);
	c->pool_n = 253;
	c->relay = true;
	c->allow = L2TP_LNS_ALLOW_IPSEC;
	l2tp_disc_cfg_defaults(&c->disc);
}

/* An address some user has as its fixed one stays out of the shared pool. */
static bool fixed_elsewhere(const struct l2tp_lns *n, uint32_t addr)
{
	for (size_t i = 0; i < n->cfg.nusers; i++)
		if (n->cfg.users[i].addr == addr)
			return true;
	return false;
}

static uint32_t pool_take(struct l2tp_lns *n, uint32_t sess)
{
	for (uint32_t i = 0; i < n->cfg.pool_n; i++) {
		uint32_t j = (n->pool_next + i) % n->cfg.pool_n;

		if (n->pool_owner[j] == NO_SESS && n->cfg.pool_start + j != n->cfg.local &&
		    !fixed_elsewhere(n, n->cfg.pool_start + j)) {
			n->pool_owner[j] = sess;
			n->pool_next = (j + 1) % n->cfg.pool_n;
			CTR(n, ADDR_ASSIGNED);
			return n->cfg.pool_start + j;
		}
	}
	CTR(n, DROP_POOL_EXHAUSTED);
	return 0;
}

/* The user's fixed address when it has one and it is free, else the next free one. */
static uint32_t ppp_assign(void *arg, sp_time now, const char *peer_name)
{
	struct lns_link *k = arg;
	struct l2tp_lns *n = k->n;

	(void)now;
	if (k->addr != 0)
		return k->addr; /* IPCP again on the same link */
	for (size_t i = 0; i < n->cfg.nusers; i++) {
		const struct ppp_user *u = &n->cfg.users[i];
		uint32_t j = u->addr - n->cfg.pool_start;

		if (u->addr == 0 || strcmp(u->name, peer_name) != 0)
			continue;
		if (j < n->cfg.pool_n && n->pool_owner[j] == NO_SESS) {
			n->pool_owner[j] = k->idx;
			CTR(n, ADDR_ASSIGNED);
			return k->addr = u->addr;
		}
		break;
	}
	return k->addr = pool_take(n, k->idx);
}

static void pool_put(struct l2tp_lns *n, uint32_t addr)
{
	uint32_t j = addr - n->cfg.pool_start;

	if (addr != 0 && j < n->cfg.pool_n)
		n->pool_owner[j] = NO_SESS;
}

static struct lns_link *link_by_addr(const struct l2tp_lns *n, uint32_t addr)
{
	uint32_t j = addr - n->cfg.pool_start;

	if (j >= n->cfg.pool_n || n->pool_owner[j] == NO_SESS)
		return NULL;
	return &n->links[n->pool_owner[j]];
}

const struct ppp_link *l2tp_lns_link_for(const struct l2tp_lns *n, uint32_t addr)
{
	const struct lns_link *k = link_by_addr(n, addr);

	return k != NULL ? &k->k : NULL;
}

/* PPP frames of a link into its L2TP session. */
static void ppp_send(void *arg, struct pkt *p)
{
	struct lns_link *k = arg;
	struct l2tp_sess *s = l2tp_sess_at(k->n->l, k->idx);

	if (l2tp_send_data(k->n->l, s, p) != 0)
		k->n->ppp.v[PPP_CTR_DROP_NO_SPACE]++;
}

static void ppp_up(void *arg, sp_time now, uint32_t local, uint32_t peer)
{
	struct lns_link *k = arg;
	char a[SP_IP4_STRLEN];

	(void)now;
	(void)local;
	SP_INFO(k->n->log, MOD, "session %u: %s has %s", k->idx, k->k.peer_name,
		sp_ip4_fmt(peer, a));
}

static void ppp_down(void *arg, sp_time now, const char *why)
{
	struct lns_link *k = arg;
	struct l2tp_sess *s = l2tp_sess_at(k->n->l, k->idx);

	(void)why;
	/* The PPP link is over: so is the call (RFC 2661 5.4: CDN). */
	if (k->live && s->s_state != L2TP_S_FREE)
		l2tp_session_close(k->n->l, now, s, L2TP_CDN_ADMIN);
}

/* IPsec by the firewall's definition: ESP, AH, or UDP from or to 500 or 4500. */
static bool fw_allows(const struct l2tp_lns *n, const struct ipv4_hdr *h, const struct cur *l4,
		      uint64_t *why)
{
	uint16_t sport, dport;
	uint32_t a = n->cfg.allow;
	struct cur c = *l4;

	switch (h->ip_proto) {
	case IPV4_PROTO_ESP:
		return (a & L2TP_LNS_ALLOW_ESP) != 0;
	case IPV4_PROTO_AH:
		return (a & L2TP_LNS_ALLOW_AH) != 0;
	case IPV4_PROTO_ICMP:
		return (a & L2TP_LNS_ALLOW_ICMP) != 0;
	case IPV4_PROTO_UDP:
		/* A later fragment has no ports to judge (first fragments do). */
		if (ipv4_frag_offset(h) != 0) {
			*why = L2TP_LNS_CTR_DROP_FW_FRAGMENT;
			return false;
		}
		if (cur_get_u16(&c, &sport) != 0 || cur_get_u16(&c, &dport) != 0)
			return false;
		if ((a & L2TP_LNS_ALLOW_IKE) && (sport == 500 || dport == 500))
			return true;
		return (a & L2TP_LNS_ALLOW_NATT) && (sport == 4500 || dport == 4500);
	default:
		return false;
	}
}

static bool gw_permitted(const struct l2tp_lns *n, uint32_t addr)
{
	if (n->cfg.gw_any)
		return true;
	for (uint32_t i = 0; i < n->cfg.ngw; i++)
		if (sp_ip4_in_prefix(addr, n->cfg.gw[i], n->cfg.gw_plen[i]))
			return true;
	return false;
}

static void to_session(struct l2tp_lns *n, struct lns_link *k, const uint8_t *ip, size_t len,
		       bool relayed)
{
	struct pkt p;

	if (!ppp_link_is_up(&k->k)) {
		CTR(n, DROP_SESSION_DOWN);
		return;
	}
	if (len > sizeof(n->buf) - PKT_HEADROOM) {
		CTR(n, DROP_TOO_BIG);
		return;
	}
	pkt_init(&p, n->buf, sizeof(n->buf), PKT_HEADROOM);
	if (pkt_append(&p, ip, (uint32_t)len) != 0)
		return;
	if (relayed)
		ipv4_dec_ttl(pkt_data(&p));
	if (ppp_link_send_ip(&k->k, &p) != 0) {
		CTR(n, DROP_SESSION_DOWN);
		return;
	}
	CTR(n, TO_SESSION);
}

/* IPv4 out of a client's PPP link (the server checked its source is the assigned one). */
static void ppp_ip(void *arg, sp_time now, const uint8_t *ip, size_t len)
{
	struct lns_link *k = arg;
	struct l2tp_lns *n = k->n;
	uint64_t why = L2TP_LNS_CTR_DROP_FW_PROTOCOL;
	struct lns_link *peer;
	struct ipv4_hdr h;
	struct cur c;

	(void)now;
	CTR(n, FROM_SESSION);
	cur_init(&c, ip, len);
	if (ipv4_parse(&c, &h) != 0) {
		CTR(n, DROP_NOT_IPV4);
		return;
	}
	if (!fw_allows(n, &h, &c, &why)) {
		n->ctr[why]++;
		return;
	}
	if ((peer = link_by_addr(n, h.ip_dst)) != NULL) {
		/* FIG. 3: client to client through the LNS. */
		if (!n->cfg.relay) {
			CTR(n, DROP_FW_RELAY);
			return;
		}
		if (h.ip_ttl <= 1) {
			CTR(n, DROP_FW_PROTOCOL);
			return;
		}
		CTR(n, RELAYED);
		to_session(n, peer, ip, len, true);
		return;
	}
	if (!gw_permitted(n, h.ip_dst)) {
		CTR(n, DROP_FW_GATEWAY);
		return;
	}
	CTR(n, TO_NET);
	n->ops.send_net(n->ops.arg, ip, len);
}

void l2tp_lns_net_input(struct l2tp_lns *n, sp_time now, const uint8_t *ip, size_t len)
{
	uint64_t why = L2TP_LNS_CTR_DROP_FW_PROTOCOL;
	struct lns_link *k;
	struct ipv4_hdr h;
	struct cur c;

	(void)now;
	CTR(n, FROM_NET);
	cur_init(&c, ip, len);
	if (ipv4_parse(&c, &h) != 0) {
		CTR(n, DROP_NOT_IPV4);
		return;
	}
	if ((k = link_by_addr(n, h.ip_dst)) == NULL) {
		CTR(n, DROP_NO_SESSION);
		return;
	}
	/* 004 [0015]: only the IPsec gateway's IKE and IPsec reach the clients. */
	if (!gw_permitted(n, h.ip_src)) {
		CTR(n, DROP_FW_GATEWAY);
		return;
	}
	if (!fw_allows(n, &h, &c, &why)) {
		n->ctr[why]++;
		return;
	}
	to_session(n, k, ip, len, false);
}

static void l_send(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	struct l2tp_lns *n = arg;

	n->ops.send_udp(n->ops.arg, addr, port, buf, len);
}

static void l_sess_up(void *arg, sp_time now, struct l2tp_sess *s)
{
	struct l2tp_lns *n = arg;
	uint32_t idx = l2tp_sess_index(n->l, s);
	struct lns_link *k = &n->links[idx];
	struct ppp_ops ops = { .send = ppp_send, .up = ppp_up, .down = ppp_down, .ip = ppp_ip };
	struct ppp_cfg pc = n->cfg.ppp;

	k->n = n;
	k->idx = idx;
	k->addr = 0; /* taken when the peer has authenticated (ppp_assign) */
	pc.server = true;
	pc.users = n->cfg.users;
	pc.nusers = n->cfg.nusers;
	pc.local_addr = n->cfg.local;
	pc.peer_addr = 0;
	ops.assign = ppp_assign;
	ops.arg = k;
	ppp_link_init(&k->k, &pc, &ops, n->rng, n->log, &n->ppp);
	k->live = true;
	ppp_link_open(&k->k, now);
}

static void l_sess_down(void *arg, sp_time now, struct l2tp_sess *s, uint16_t result)
{
	struct l2tp_lns *n = arg;
	struct lns_link *k = &n->links[l2tp_sess_index(n->l, s)];

	(void)now;
	(void)result;
	if (!k->live)
		return;
	k->live = false;
	ppp_link_reset(&k->k);
	pool_put(n, k->addr);
	k->addr = 0;
}

static void l_data(void *arg, sp_time now, struct l2tp_sess *s, const uint8_t *ppp, size_t len)
{
	struct l2tp_lns *n = arg;
	struct lns_link *k = &n->links[l2tp_sess_index(n->l, s)];

	if (k->live)
		ppp_link_input(&k->k, now, ppp, len);
}

int l2tp_lns_new(struct l2tp_lns **out, const struct l2tp_lns_cfg *cfg,
		 const struct l2tp_lns_ops *ops, struct sp_rng *rng, const struct sp_log *log)
{
	struct l2tp_ops lo = {
		.send = l_send,
		.session_up = l_sess_up,
		.session_down = l_sess_down,
		.data = l_data,
	};
	struct l2tp_cfg lc = cfg->l2tp;
	struct l2tp_lns *n;
	int r;

	*out = NULL;
	if (cfg->pool_n == 0 || cfg->pool_n > (1u << 20) || cfg->nusers > L2TP_LNS_USERS_MAX ||
	    cfg->ngw > L2TP_LNS_GW_MAX)
		return SP_EINVAL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return SP_ENOMEM;
	n->cfg = *cfg;
	n->ops = *ops;
	n->rng = rng;
	n->log = log;
	lo.arg = n;
	lc.lns = true;
	ppp_stats_init(&n->ppp, NULL);
	l2tp_disc_init(&n->disc, &cfg->disc);
	sp_ctrs_init(&n->ctrs, MOD, NULL, lns_ctr_names, n->ctr, L2TP_LNS_CTR_N);
	n->links = calloc(lc.max_sessions, sizeof(*n->links));
	n->pool_owner = malloc(cfg->pool_n * sizeof(*n->pool_owner));
	if (n->links == NULL || n->pool_owner == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < cfg->pool_n; i++)
		n->pool_owner[i] = NO_SESS;
	if ((r = l2tp_new(&n->l, &lc, &lo, rng, log)) != 0)
		goto fail;
	*out = n;
	return 0;
fail:
	l2tp_lns_free(n);
	return r;
}

void l2tp_lns_free(struct l2tp_lns *n)
{
	if (n == NULL)
		return;
	l2tp_free(n->l);
	free(n->links);
	free(n->pool_owner);
	for (size_t i = 0; i < n->cfg.nusers; i++)
		crypto_wipe(n->cfg.users[i].secret, sizeof(n->cfg.users[i].secret));
	free(n);
}

void l2tp_lns_udp_input(struct l2tp_lns *n, sp_time now, uint32_t addr, uint16_t port,
			const uint8_t *buf, size_t len)
{
	l2tp_input(n->l, now, addr, port, buf, len);
}

int l2tp_lns_disc_input(struct l2tp_lns *n, sp_time now, uint32_t local, uint16_t lport,
			uint32_t src, uint16_t sport, const uint8_t *in, size_t len,
			struct pkt *out)
{
	return l2tp_disc_input(&n->disc, now, local, lport, src, sport, in, len, out);
}

sp_time l2tp_lns_next_deadline(const struct l2tp_lns *n)
{
	sp_time d = l2tp_next_deadline(n->l);

	for (uint32_t i = 0; i < l2tp_max_sessions(n->l); i++)
		if (n->links[i].live)
			d = sp_time_min(d, ppp_link_next_deadline(&n->links[i].k));
	return d;
}

void l2tp_lns_tick(struct l2tp_lns *n, sp_time now)
{
	l2tp_tick(n->l, now);
	for (uint32_t i = 0; i < l2tp_max_sessions(n->l); i++)
		if (n->links[i].live && ppp_link_next_deadline(&n->links[i].k) <= now)
			ppp_link_tick(&n->links[i].k, now);
}

void l2tp_lns_reset(struct l2tp_lns *n, sp_time now)
{
	for (uint32_t i = 0; i < l2tp_max_sessions(n->l); i++) {
		if (n->links[i].live)
			ppp_link_reset(&n->links[i].k);
		n->links[i].live = false;
		n->links[i].addr = 0;
	}
	for (uint32_t i = 0; i < n->cfg.pool_n; i++)
		n->pool_owner[i] = NO_SESS;
	l2tp_reset(n->l, now);
}

void l2tp_lns_register(struct l2tp_lns *n, struct sp_ctr_registry *reg, const char *instance)
{
	n->ctrs.instance = instance;
	l2tp_ctrs(n->l)->instance = instance;
	n->ppp.ctrs.instance = instance;
	n->disc.ctrs.instance = instance;
	sp_ctr_register(reg, &n->ctrs);
	sp_ctr_register(reg, l2tp_ctrs(n->l));
	sp_ctr_register(reg, &n->ppp.ctrs);
	sp_ctr_register(reg, &n->disc.ctrs);
}

void l2tp_lns_unregister(struct l2tp_lns *n, struct sp_ctr_registry *reg)
{
	sp_ctr_unregister(reg, &n->ctrs);
	sp_ctr_unregister(reg, l2tp_ctrs(n->l));
	sp_ctr_unregister(reg, &n->ppp.ctrs);
	sp_ctr_unregister(reg, &n->disc.ctrs);
}

uint64_t l2tp_lns_ctr(const struct l2tp_lns *n, enum l2tp_lns_ctr c)
{
	return (unsigned)c < L2TP_LNS_CTR_N ? n->ctr[c] : 0;
}

struct l2tp *l2tp_lns_l2tp(struct l2tp_lns *n)
{
	return n->l;
}

const struct ppp_stats *l2tp_lns_ppp_stats(const struct l2tp_lns *n)
{
	return &n->ppp;
}

const struct l2tp_disc *l2tp_lns_disc(const struct l2tp_lns *n)
{
	return &n->disc;
}

static void show_ctrs(FILE *out, const char *mod, const char *const *names, const uint64_t *v,
		      unsigned nv)
{
	for (unsigned i = 0; i < nv; i++)
		if (v[i] != 0)
			fprintf(out, "  %s.%s %llu\n", mod, names[i], (unsigned long long)v[i]);
}

void l2tp_lns_show(struct l2tp_lns *n, sp_time now, FILE *out)
{
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];
	uint32_t nt = 0, ns = 0;

	fprintf(out, "tunnels:\n");
	for (uint32_t i = 0; i < l2tp_max_tunnels(n->l); i++) {
		const struct l2tp_tunnel *t = l2tp_tunnel_at(n->l, i);

		if (t->t_state == L2TP_T_FREE)
			continue;
		nt++;
		fprintf(out,
			"  tunnel %u peer %s:%u peer-tunnel %u host %s state %s sessions %u "
			"up %.0fs ns %u nr %u data rx %llu tx %llu\n",
			t->t_tid, sp_ip4_fmt(t->t_peer_addr, a), t->t_peer_port, t->t_peer_tid,
			t->t_peer_name[0] ? t->t_peer_name : "-",
			l2tp_tunnel_state_name(t->t_state), t->t_nsess,
			t->t_state == L2TP_T_UP ? sp_time_sec(now - t->t_up_since) : 0.0, t->t_ns,
			t->t_nr, (unsigned long long)t->t_rx_data,
			(unsigned long long)t->t_tx_data);
	}
	fprintf(out, "sessions:\n");
	for (uint32_t i = 0; i < l2tp_max_sessions(n->l); i++) {
		struct l2tp_sess *s = l2tp_sess_at(n->l, i);
		const struct lns_link *k = &n->links[i];

		if (s->s_state == L2TP_S_FREE)
			continue;
		ns++;
		fprintf(out,
			"  session %u tunnel %u peer-session %u state %s ppp %s user %s address %s "
			"local %s rx %llu tx %llu\n",
			s->s_sid, l2tp_sess_tunnel(n->l, s)->t_tid, s->s_peer_sid,
			l2tp_sess_state_name(s->s_state),
			k->live ? ppp_phase_name(k->k.phase) : "-",
			k->live && k->k.peer_name[0] ? k->k.peer_name : "-", sp_ip4_fmt(k->addr, a),
			sp_ip4_fmt(n->cfg.local, b), (unsigned long long)s->s_rx,
			(unsigned long long)s->s_tx);
	}
	fprintf(out, "%u tunnel(s), %u session(s), pool %s+%u\ncounters:\n", nt, ns,
		sp_ip4_fmt(n->cfg.pool_start, a), n->cfg.pool_n);
	show_ctrs(out, MOD, lns_ctr_names, n->ctr, L2TP_LNS_CTR_N);
	show_ctrs(out, "l2tp", l2tp_ctrs(n->l)->names, l2tp_ctrs(n->l)->vals, L2TP_CTR_N);
	show_ctrs(out, "ppp", n->ppp.ctrs.names, n->ppp.v, PPP_CTR_N);
	show_ctrs(out, "disc", n->disc.ctrs.names, n->disc.ctr, L2TP_DISC_CTR_N);
}

static void nft_set(const struct l2tp_lns *n, FILE *out)
{
	char a[SP_IP4_STRLEN];

	fprintf(out, "{ ");
	for (uint32_t i = 0; i < n->cfg.ngw; i++)
		fprintf(out, "%s%s/%u", i ? ", " : "", sp_ip4_fmt(n->cfg.gw[i], a),
			n->cfg.gw_plen[i]);
	fprintf(out, " }");
}

static void nft_dir(const struct l2tp_lns *n, FILE *out, const char *tun, bool from_client)
{
	const char *dir = from_client ? "iifname" : "oifname";
	const char *peer = from_client ? "daddr" : "saddr";

	if (!n->cfg.gw_any && n->cfg.ngw == 0)
		return; /* no gateway: the drop rules below take everything */
	fprintf(out, "\t\t%s \"%s\" ", dir, tun);
	if (!n->cfg.gw_any) {
		fprintf(out, "ip %s ", peer);
		nft_set(n, out);
		fprintf(out, " ");
	}
	fprintf(out, "jump ipsec_only\n");
}

void l2tp_lns_nft(const struct l2tp_lns *n, const char *tun, FILE *out)
{
	uint32_t a = n->cfg.allow;

	/* The same rules as the relay's own firewall (004 [0015], [0017]), for the kernel's
	 * forwarding path between the TUN device and the network. */
	fprintf(out, "table inet spinat_lns {\n");
	fprintf(out, "\tchain ipsec_only {\n");
	if (a & L2TP_LNS_ALLOW_ESP)
		fprintf(out, "\t\tmeta l4proto esp accept\n");
	if (a & L2TP_LNS_ALLOW_AH)
		fprintf(out, "\t\tmeta l4proto ah accept\n");
	if (a & L2TP_LNS_ALLOW_IKE)
		fprintf(out, "\t\tudp sport 500 accept\n\t\tudp dport 500 accept\n");
	if (a & L2TP_LNS_ALLOW_NATT)
		fprintf(out, "\t\tudp sport 4500 accept\n\t\tudp dport 4500 accept\n");
	if (a & L2TP_LNS_ALLOW_ICMP)
		fprintf(out, "\t\tmeta l4proto icmp accept\n");
	fprintf(out, "\t\tcounter drop\n\t}\n");
	fprintf(out, "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n");
	fprintf(out, "\t\tudp dport %u accept comment \"L2TP from the Internet\"\n", L2TP_PORT);
	fprintf(out, "\t\tudp dport %u accept comment \"NAT discovery\"\n", STUN_PORT);
	fprintf(out, "\t\tiifname \"%s\" counter drop comment \"clients reach only gateways\"\n",
		tun);
	fprintf(out, "\t}\n");
	fprintf(out,
		"\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n");
	nft_dir(n, out, tun, true);
	nft_dir(n, out, tun, false);
	fprintf(out, "\t\tiifname \"%s\" counter drop\n\t\toifname \"%s\" counter drop\n", tun,
		tun);
	fprintf(out, "\t}\n}\n");
}
