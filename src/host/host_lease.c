/*
 * The lease client (001 module 109, FIGS. 8-10) in the endpoint stack (host_lease.h).
 *
 * A lease is asked for with a PCP PEER request towards the connection's peer, resent with
 * backoff until answered, renewed at half its lifetime (RFC 6887 11.2.1; 001 steps
 * 806-807) with the values it was given, so that after a NAT restart (the server's epoch
 * went back, RFC 6887 8.5, or a renewal finds the lease gone) the same values are asked for
 * again and, nobody else holding them, granted again: the tunnel recovers within one
 * renewal interval (lease_lifetime / 2) plus the retransmissions, with no operator.
 */
#include "host/host_lease.h"

#include "base/addr.h"
#include "ipsec/asif.h"
#include "proto/ipv4.h"
#include "proto/pcp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define HL_CONNS_MAX  8
#define HL_LEASES_MAX 128
#define HL_HELD_MAX   32
#define HL_TRIES_MAX  6
#define HL_SPARE      2 /* incoming SPIs held ready for the next CHILD SA or rekey */

#define foreach_hl_ctr(_)                              \
	_(REQUESTS, "requests_sent")                   \
	_(RETRANSMITS, "retransmits")                  \
	_(GRANTED, "granted")                          \
	_(RENEWED, "renewed")                          \
	_(RELEASED, "released")                        \
	_(REFUSED, "refused")                          \
	_(CHANGED, "lease_changed_after_restart")      \
	_(NAT_RESTART, "nat_restarts_seen")            \
	_(SPI_GIVEN, "spis_given_to_ike")              \
	_(SPI_WAIT, "spi_requests_waiting")            \
	_(HELD, "packets_held_for_port_lease")         \
	_(PORTS_OUT, "ports_compensated_out")          \
	_(PORTS_IN, "ports_compensated_in")            \
	_(ADDRS_OUT, "addresses_compensated_out")      \
	_(ADDRS_IN, "addresses_compensated_in")        \
	_(FLOW_CLOSED, "port_leases_closed")           \
	_(FLOW_IDLE, "port_leases_idle")               \
	_(DROP_UNMATCHED, "drop_response_unmatched")   \
	_(DROP_MALFORMED, "drop_response_malformed")   \
	_(DROP_HELD_FULL, "drop_held_full")            \
	_(DROP_LEASE_FAILED, "drop_port_lease_failed") \
	_(DROP_UNLEASED, "drop_port_unleased")         \
	_(DROP_NO_BUFFER, "drop_no_buffer")            \
	_(DROP_ASIF, "drop_compensation_failed")

enum hl_ctr {
#define _(sym, str) HL_CTR_##sym,
	foreach_hl_ctr(_)
#undef _
		HL_CTR_N
};

static const char *const hl_ctr_names[] = { SP_CTR_NAMES(foreach_hl_ctr) };

enum hl_kind { HL_IKE, HL_SPI, HL_PORT };
enum hl_state { HL_FREE = 0, HL_ASKING, HL_ACTIVE, HL_RELEASING };

struct hl_conn {
	char name[32];
	uint32_t local, remote, server, reqid;
	uint8_t proto; /* IPV4_PROTO_ESP or _AH */
	bool transport;
	bool inner_global; /* tunnel mode: steps 811/825 on the client's own inner packets */
	uint16_t cport;
	sp_time lifetime, retry;
	sp_time idle, linger; /* a flow's port lease: released when idle, or after its close */
	bool want_up;	      /* IKE waited for a lease: bring it up when one arrives */
	uint32_t glob_ip;
	/* transport mode: the local selectors, proposed as the NAT makes them appear */
	struct ike_ts ts[IKE_TS_MAX];
	uint8_t nts;
};

struct hl_lease {
	uint8_t kind, state, proto;
	bool used;     /* an SPI IKE took, or an IKE SPI in use */
	bool have;     /* granted at least once: renewals ask for these values */
	bool ts;       /* HL_PORT: the port a local selector names, leased before IKE */
	uint16_t port; /* HL_PORT: the private port */
	uint64_t priv, glob;
	uint32_t glob_ip;
	uint8_t nonce[PCP_NONCE_LEN];
	unsigned tries;
	sp_time expire, next;
	/* a flow's port lease (HL_PORT, not ts): its last packet, its TCP FINs seen (1 out,
	 * 2 in), and when it is released after the close (0: open) */
	sp_time last, close_at;
	uint8_t fins;
	struct hl_conn *c;
};

struct host_lease {
	struct endpoint *ep;
	struct ike *ike;
	struct ipsec *e;
	const struct sp_log *log;
	struct sp_rng *rng;
	struct pkt_pool *pool;
	struct hl_conn conns[HL_CONNS_MAX];
	unsigned nconns;
	struct hl_lease l[HL_LEASES_MAX];
	struct pkt *held[HL_HELD_MAX];
	unsigned nheld;
	uint32_t epoch; /* the server's last epoch and when we saw it (RFC 6887 8.5) */
	sp_time epoch_at;
	bool epoch_known;
	uint64_t ctr[HL_CTR_N];
	struct sp_ctrs ctrs;
	struct sp_ctr_registry *reg;
};

static void hl_inc(struct host_lease *x, enum hl_ctr c)
{
	x->ctr[c]++;
}

static struct hl_conn *conn_by_reqid(struct host_lease *x, uint32_t reqid)
{
	for (unsigned i = 0; i < x->nconns; i++)
		if (x->conns[i].reqid == reqid && reqid != 0)
			return &x->conns[i];
	return NULL;
}

static struct hl_conn *conn_by_name(struct host_lease *x, const char *name)
{
	for (unsigned i = 0; name != NULL && i < x->nconns; i++)
		if (strcmp(x->conns[i].name, name) == 0)
			return &x->conns[i];
	return NULL;
}

/* The PCP request for a lease: PEER towards the connection's peer (606). */
static void build_req(const struct host_lease *x, const struct hl_lease *l, bool release,
		      struct pcp_msg *m)
{
	const struct hl_conn *c = l->c;

	(void)x;
	memset(m, 0, sizeof(*m));
	m->pcp_opcode = PCP_OP_PEER;
	m->pcp_lifetime = release ? 0 : (uint32_t)(c->lifetime / SP_SEC(1));
	m->pcp_client = c->local;
	memcpy(m->pcp_nonce, l->nonce, PCP_NONCE_LEN);
	m->pcp_proto = l->proto;
	m->pcp_peer_ip = c->remote;
	if (l->have)
		m->pcp_ext_ip = l->glob_ip;
	switch (l->kind) {
	case HL_PORT:
		m->pcp_int_port = l->port;
		m->pcp_ext_port = l->have ? (uint16_t)l->glob : 0;
		return;
	case HL_IKE: /* 001: 64 bits at offset 0 after the UDP header, both ways */
		m->pcp_int_port = m->pcp_peer_port = 500;
		m->pcp_gpn.pcp_gpn_bits = 64;
		m->pcp_gpn.pcp_gpn_flags = PCP_GPN_F_TRANSPORT;
		m->pcp_gpn.pcp_gpn_min = 1;
		m->pcp_gpn.pcp_gpn_max = UINT64_MAX;
		break;
	case HL_SPI: /* RFC 4303 2, RFC 4302 2: ESP's SPI first, AH's after 32 bits */
		m->pcp_gpn.pcp_gpn_bits = 32;
		m->pcp_gpn.pcp_gpn_flags = PCP_GPN_F_RECEIVER;
		m->pcp_gpn.pcp_gpn_src_off = m->pcp_gpn.pcp_gpn_dst_off =
			l->proto == IPV4_PROTO_AH ? 32 : 0;
		m->pcp_gpn.pcp_gpn_min = 256;
		m->pcp_gpn.pcp_gpn_max = 0xffffffff;
		break;
	}
	m->pcp_has_gpn = true;
	if (l->have) {
		m->pcp_gpn.pcp_gpn_private = l->priv;
		m->pcp_gpn.pcp_gpn_global = l->glob;
	}
}

static void send_req(struct host_lease *x, sp_time now, struct hl_lease *l, bool release)
{
	uint8_t buf[PCP_MSG_MAX];
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pcp_msg m;
	struct wcur w;
	struct pkt *p;

	build_req(x, l, release, &m);
	wcur_init(&w, buf, sizeof(buf));
	if (pcp_build(&w, &m) != 0 || (p = pkt_alloc(x->pool)) == NULL) {
		hl_inc(x, HL_CTR_DROP_NO_BUFFER);
		return;
	}
	h.ip_src = l->c->local;
	h.ip_dst = l->c->server;
	if (pkt_append(p, buf, (uint32_t)w.off) != 0 ||
	    udp_build(p, l->c->cport, PCP_PORT, h.ip_src, h.ip_dst, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0) {
		pkt_free(p);
		hl_inc(x, HL_CTR_DROP_NO_BUFFER);
		return;
	}
	hl_inc(x, l->tries > 0 ? HL_CTR_RETRANSMITS : HL_CTR_REQUESTS);
	endpoint_send(x->ep, &host_lease_module, now, p);
}

/* Ask (or ask again) now; RFC 6887 8.1.1: retransmit with doubling intervals. */
static void ask(struct host_lease *x, sp_time now, struct hl_lease *l)
{
	l->state = HL_ASKING;
	l->tries = 0;
	send_req(x, now, l, false);
	l->next = now + l->c->retry;
}

static struct hl_lease *new_lease(struct host_lease *x, struct hl_conn *c, uint8_t kind,
				  uint8_t proto, uint16_t port)
{
	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		struct hl_lease *l = &x->l[i];

		if (l->state != HL_FREE)
			continue;
		memset(l, 0, sizeof(*l));
		l->kind = kind;
		l->proto = proto;
		l->port = port;
		l->c = c;
		sp_rng_bytes(x->rng, l->nonce, sizeof(l->nonce));
		return l;
	}
	return NULL;
}

static unsigned spare_spis(const struct host_lease *x, const struct hl_conn *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < HL_LEASES_MAX; i++)
		if (x->l[i].c == c && x->l[i].kind == HL_SPI && !x->l[i].used &&
		    (x->l[i].state == HL_ASKING || x->l[i].state == HL_ACTIVE))
			n++;
	return n;
}

/* IKE can go: its SPI, an incoming SPI and the ports its selectors name are leased. */
static bool ready(const struct host_lease *x, const struct hl_conn *c)
{
	bool ike = false, spi = false, ports = true;

	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		const struct hl_lease *l = &x->l[i];

		if (l->c != c)
			continue;
		if (l->kind == HL_PORT && l->ts && l->state != HL_ACTIVE)
			ports = false;
		if (l->state != HL_ACTIVE)
			continue;
		ike |= l->kind == HL_IKE;
		spi |= l->kind == HL_SPI && !l->used;
	}
	return ike && spi && ports;
}

/* Keep HL_SPARE incoming SPIs leased ahead of IKE (step 802). */
static void top_up(struct host_lease *x, sp_time now, struct hl_conn *c)
{
	while (spare_spis(x, c) < HL_SPARE) {
		struct hl_lease *l = new_lease(x, c, HL_SPI, c->proto, 0);

		if (l == NULL)
			return;
		ask(x, now, l);
	}
}

static struct hl_lease *find_kind(struct host_lease *x, const struct hl_conn *c, uint8_t kind)
{
	for (unsigned i = 0; i < HL_LEASES_MAX; i++)
		if (x->l[i].c == c && x->l[i].kind == kind && x->l[i].state != HL_FREE &&
		    x->l[i].state != HL_RELEASING)
			return &x->l[i];
	return NULL;
}

static struct hl_lease *find_port(struct host_lease *x, const struct hl_conn *c, uint8_t proto,
				  uint16_t port, bool global)
{
	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		struct hl_lease *l = &x->l[i];

		if (l->c == c && l->kind == HL_PORT && l->proto == proto &&
		    (l->state == HL_ASKING || l->state == HL_ACTIVE) &&
		    (global ? l->have && l->glob == port : l->port == port))
			return l;
	}
	return NULL;
}

/* A packet of a flow with a port lease of its own: the lease goes when the flow is over,
 * not only at the NAT's expiry: after a RST, or a FIN each way, and lease_linger for the
 * last ACK and retransmissions; or after lease_idle without a packet. */
static void flow_seen(struct hl_lease *l, sp_time now, const uint8_t *ip, size_t len, bool out)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint8_t flags;

	if (l->kind != HL_PORT || l->ts)
		return;
	l->last = now;
	if (ip[IPV4_OFF_PROTO] != IPV4_PROTO_TCP || hl > len || len - hl < TCP_HDR_MIN)
		return;
	flags = ip[hl + TCP_OFF_FLAGS];
	if (flags & TCP_FIN)
		l->fins |= out ? 1 : 2;
	if (((flags & TCP_RST) || l->fins == 3) && l->close_at == 0)
		l->close_at = now + l->c->linger;
}

/* Held packets whose port lease is settled go on (granted) or are dropped (failed). */
static void release_held(struct host_lease *x, sp_time now, const struct hl_lease *l, bool ok)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < x->nheld; i++) {
		struct pkt *p = x->held[i];
		uint16_t sp, dp;
		uint8_t proto;

		if (asif_l4_ports(pkt_data(p), p->len, &proto, &sp, &dp) == 0 &&
		    proto == l->proto && sp == l->port &&
		    sp_load_be32(pkt_data(p) + IPV4_OFF_SRC) == l->c->local) {
			if (ok) {
				endpoint_resume(x->ep, &host_lease_module, EP_STAGE_OUT_CLEAR, now,
						p);
			} else {
				hl_inc(x, HL_CTR_DROP_LEASE_FAILED);
				pkt_free(p);
			}
			continue;
		}
		x->held[keep++] = p;
	}
	x->nheld = keep;
}

/* A granted lease whose values changed while in use (the NAT restarted and gave them to
 * someone else): IKE must start over with new ones. */
static void lost(struct host_lease *x, sp_time now, struct hl_lease *l)
{
	hl_inc(x, HL_CTR_CHANGED);
	if (l->kind == HL_PORT && !l->ts)
		return; /* the next packets use the new port */
	SP_INFO(x->log, "lease", "%s: the NAT gave other values after a restart: new IKE SA",
		l->c->name);
	l->used = false;
	if (ike_down(x->ike, now, l->c->name) != 0 || ike_up(x->ike, now, l->c->name) != 0)
		l->c->want_up = true;
}

/* A transport-mode connection's local selectors as the peer will see them: the host's
 * address becomes the global one, a port a selector names its leased global port. IKE
 * proposes these (ike_conn_set_public) so that an unmodified peer, which sees the global
 * address, agrees, and tells the clients behind one address apart by their ports. */
static void publish(struct host_lease *x, const struct hl_conn *c)
{
	struct ike_ts pub[IKE_TS_MAX];

	if ((!c->transport && !c->inner_global) || c->glob_ip == 0)
		return;
	for (uint8_t k = 0; k < c->nts; k++) {
		const struct ike_ts *t = &c->ts[k];
		struct hl_lease *l;

		pub[k] = *t;
		if (t->ts_start != c->local || t->ts_end != c->local)
			continue;
		pub[k].ts_start = pub[k].ts_end = c->glob_ip;
		if ((t->ts_proto != IPV4_PROTO_TCP && t->ts_proto != IPV4_PROTO_UDP) ||
		    t->ts_port_start != t->ts_port_end || t->ts_port_start == 0)
			continue;
		l = find_port(x, c, t->ts_proto, t->ts_port_start, false);
		if (l == NULL || !l->have)
			return; /* not yet: IKE waits for it (ready()) */
		pub[k].ts_port_start = pub[k].ts_port_end = (uint16_t)l->glob;
	}
	if (ike_conn_set_public(x->ike, c->name, pub, c->nts) != 0)
		SP_WARN(x->log, "lease", "%s: cannot set the selectors IKE proposes", c->name);
}

static void granted(struct host_lease *x, sp_time now, struct hl_lease *l, const struct pcp_msg *m)
{
	uint64_t priv = l->kind == HL_PORT ? l->port : m->pcp_gpn.pcp_gpn_private;
	uint64_t glob = l->kind == HL_PORT ? m->pcp_ext_port : m->pcp_gpn.pcp_gpn_global;
	bool renewal = l->have && l->state == HL_ACTIVE;
	bool changed = l->have && l->used &&
		       (glob != l->glob || priv != l->priv || m->pcp_ext_ip != l->glob_ip);

	l->have = true;
	l->priv = priv;
	l->glob = glob;
	l->glob_ip = m->pcp_ext_ip;
	l->c->glob_ip = m->pcp_ext_ip;
	l->state = HL_ACTIVE;
	l->tries = 0;
	if (!renewal)
		l->last = now;
	l->expire = now + SP_SEC((sp_time)m->pcp_lifetime);
	/* RFC 6887 11.2.1: renew at half the lifetime */
	l->next = now + SP_SEC((sp_time)m->pcp_lifetime) / 2;
	hl_inc(x, renewal ? HL_CTR_RENEWED : HL_CTR_GRANTED);
	publish(x, l->c);
	if (changed)
		lost(x, now, l);
	if (l->kind == HL_PORT)
		release_held(x, now, l, true);
	if (l->c->want_up && ready(x, l->c)) {
		l->c->want_up = false;
		if (ike_up(x->ike, now, l->c->name) != 0)
			l->c->want_up = true;
	}
}

/* RFC 6887 8.5: the server's epoch must grow with our clock (7/8, minus 2 s of slack). */
static void check_epoch(struct host_lease *x, sp_time now, uint32_t epoch)
{
	bool restart = false;

	if (x->epoch_known) {
		uint64_t elapsed = (now - x->epoch_at) / SP_SEC(1);

		restart = (uint64_t)epoch + 2 < (uint64_t)x->epoch + elapsed * 7 / 8 ||
			  epoch + 2 < x->epoch;
	}
	x->epoch = epoch;
	x->epoch_at = now;
	x->epoch_known = true;
	if (!restart)
		return;
	hl_inc(x, HL_CTR_NAT_RESTART);
	SP_INFO(x->log, "lease", "the NAT restarted (epoch %u): leasing everything again", epoch);
	for (unsigned i = 0; i < HL_LEASES_MAX; i++)
		if (x->l[i].state == HL_ACTIVE)
			ask(x, now, &x->l[i]);
}

static void response(struct host_lease *x, sp_time now, const uint8_t *msg, size_t len)
{
	struct hl_lease *l = NULL;
	struct pcp_msg m;
	uint8_t res;
	struct cur c;

	cur_init(&c, msg, len);
	if (pcp_parse(&c, true, &m, &res) != 0 || m.pcp_opcode != PCP_OP_PEER) {
		hl_inc(x, HL_CTR_DROP_MALFORMED);
		return;
	}
	for (unsigned i = 0; i < HL_LEASES_MAX && l == NULL; i++)
		if (x->l[i].state != HL_FREE && x->l[i].proto == m.pcp_proto &&
		    memcmp(x->l[i].nonce, m.pcp_nonce, PCP_NONCE_LEN) == 0)
			l = &x->l[i];
	if (l == NULL) {
		hl_inc(x, HL_CTR_DROP_UNMATCHED);
		return;
	}
	check_epoch(x, now, m.pcp_epoch);
	if (l->state == HL_RELEASING) {
		hl_inc(x, HL_CTR_RELEASED);
		memset(l, 0, sizeof(*l));
		return;
	}
	if (m.pcp_result != PCP_R_SUCCESS) {
		/* Refused: try again after the lifetime the server gave (RFC 6887 7.4). */
		hl_inc(x, HL_CTR_REFUSED);
		SP_INFO(x->log, "lease", "%s: lease refused: %s", l->c->name,
			pcp_result_name(m.pcp_result));
		if (l->kind == HL_PORT && !l->ts) {
			release_held(x, now, l, false);
			memset(l, 0, sizeof(*l));
			return;
		}
		l->state = HL_ASKING;
		l->tries = HL_TRIES_MAX;
		l->next = now + SP_SEC((sp_time)SP_MAX(m.pcp_lifetime, 1u));
		return;
	}
	if (m.pcp_lifetime == 0 && l->kind == HL_PORT && l->state == HL_ASKING) {
		hl_inc(x, HL_CTR_RELEASED); /* a release's answer; the request after it follows */
		return;
	}
	if (m.pcp_lifetime == 0 || m.pcp_ext_ip == 0 || (l->kind != HL_PORT && !m.pcp_has_gpn)) {
		hl_inc(x, HL_CTR_DROP_MALFORMED);
		return;
	}
	granted(x, now, l, &m);
}

/* ---- hooks ---- */

static enum endpoint_verdict hl_in_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct host_lease *x = ctx;
	const uint8_t *ip = pkt_data(p);
	size_t hl;

	if (p->len < IPV4_HDR_MIN + UDP_HDR_LEN || ip[IPV4_OFF_PROTO] != IPV4_PROTO_UDP)
		return EP_PASS;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_MIN || p->len < hl + UDP_HDR_LEN ||
	    sp_load_be16(ip + hl + UDP_OFF_SPORT) != PCP_PORT)
		return EP_PASS;
	for (unsigned i = 0; i < x->nconns; i++) {
		const struct hl_conn *c = &x->conns[i];
		uint16_t ulen = sp_load_be16(ip + hl + UDP_OFF_LEN);

		if (sp_load_be32(ip + IPV4_OFF_SRC) != c->server ||
		    sp_load_be32(ip + IPV4_OFF_DST) != c->local ||
		    sp_load_be16(ip + hl + UDP_OFF_DPORT) != c->cport)
			continue;
		if (ulen < UDP_HDR_LEN || ulen > p->len - hl ||
		    !udp_csum_ok(ip + hl, ulen, c->server, c->local))
			hl_inc(x, HL_CTR_DROP_MALFORMED);
		else
			response(x, now, ip + hl + UDP_HDR_LEN, ulen - UDP_HDR_LEN);
		pkt_free(p);
		return EP_CONSUMED;
	}
	return EP_PASS;
}

static struct hl_lease *releasing_port(struct host_lease *x, const struct hl_conn *c, uint8_t proto,
				       uint16_t port)
{
	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		struct hl_lease *l = &x->l[i];

		if (l->c == c && l->kind == HL_PORT && l->proto == proto &&
		    l->state == HL_RELEASING && l->port == port)
			return l;
	}
	return NULL;
}

/* A transport-mode connection's TCP/UDP packet to its peer: its source port must be leased
 * before it leaves (001 procedure 5); the packet waits for the lease. */
static enum endpoint_verdict hl_out_clear(void *ctx, sp_time now, struct pkt *p)
{
	struct host_lease *x = ctx;
	const uint8_t *ip = pkt_data(p);
	uint16_t sp, dp;
	uint8_t proto;

	if (asif_l4_ports(ip, p->len, &proto, &sp, &dp) != 0)
		return EP_PASS;
	for (unsigned i = 0; i < x->nconns; i++) {
		struct hl_conn *c = &x->conns[i];
		struct hl_lease *l;

		if (!c->transport || sp_load_be32(ip + IPV4_OFF_SRC) != c->local ||
		    sp_load_be32(ip + IPV4_OFF_DST) != c->remote)
			continue;
		if ((l = find_port(x, c, proto, sp, false)) != NULL && l->state == HL_ACTIVE) {
			flow_seen(l, now, ip, p->len, true);
			return EP_PASS;
		}
		if (x->nheld == HL_HELD_MAX) {
			hl_inc(x, HL_CTR_DROP_HELD_FULL);
			return EP_DROP;
		}
		if (l == NULL && (l = releasing_port(x, c, proto, sp)) != NULL) {
			/* the port's flow came back while its release was on its way: the same
			 * lease (nonce, values) again, which the NAT takes as a renewal */
			l->close_at = 0;
			l->fins = 0;
			ask(x, now, l);
		} else if (l == NULL) {
			if ((l = new_lease(x, c, HL_PORT, proto, sp)) == NULL) {
				hl_inc(x, HL_CTR_DROP_LEASE_FAILED);
				return EP_DROP;
			}
			ask(x, now, l);
		}
		x->held[x->nheld++] = p;
		hl_inc(x, HL_CTR_HELD);
		return EP_CONSUMED;
	}
	return EP_PASS;
}

/*
 * Steps 810 and 812: the leased global port replaces the source port; the address part of
 * 812 and step 815 are the SA's as-if source (ipsec/xform.c, ah_icv.c). Tunnel mode with
 * lease_inner = global, steps 811 and 812: the client's own inner packet gets the global
 * address as its source, and the global port where the port is leased.
 */
static int hl_pre_protect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	struct host_lease *x = ctx;
	struct hl_conn *c = conn_by_reqid(x, sa->reqid);
	uint8_t *ip = pkt_data(p);
	struct hl_lease *l;
	uint16_t sp, dp;
	uint8_t proto;

	(void)now;
	if (c == NULL || (!c->transport && !c->inner_global))
		return 0;
	if (!c->transport && (sp_load_be32(ip + IPV4_OFF_SRC) != c->local || c->glob_ip == 0))
		return 0; /* a packet the client forwards, not its own */
	if (asif_l4_ports(ip, p->len, &proto, &sp, &dp) == 0) {
		l = find_port(x, c, proto, sp, false);
		if (l != NULL && l->state == HL_ACTIVE) {
			if (asif_port(ip, p->len, false, sp, (uint16_t)l->glob) != 0) {
				hl_inc(x, HL_CTR_DROP_ASIF);
				return SP_EMALFORMED;
			}
			hl_inc(x, HL_CTR_PORTS_OUT);
		} else if (c->transport) {
			hl_inc(x, HL_CTR_DROP_UNLEASED);
			return SP_ENOTFOUND;
		}
	} else if (c->transport) {
		return 0;
	}
	if (c->transport)
		return 0;
	if (asif_addr(ip, p->len, false, c->local, c->glob_ip) != 0) {
		hl_inc(x, HL_CTR_DROP_ASIF);
		return SP_EMALFORMED;
	}
	hl_inc(x, HL_CTR_ADDRS_OUT);
	return 0;
}

/* Steps 824 and 826: the global destination port back to the private one; the address
 * part of 826 and step 820 are the SA's as-if destination. Tunnel mode with lease_inner =
 * global, steps 825 and 826: the decapsulated packet's global destination address (and
 * leased port) back to the client's private ones. */
static int hl_post_unprotect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	struct host_lease *x = ctx;
	struct hl_conn *c = conn_by_reqid(x, sa->reqid);
	uint8_t *ip = pkt_data(p);
	struct hl_lease *l;
	uint16_t sp, dp;
	uint8_t proto;

	if (c == NULL || (!c->transport && !c->inner_global))
		return 0;
	if (!c->transport) {
		if (c->glob_ip == 0 || sp_load_be32(ip + IPV4_OFF_DST) != c->glob_ip)
			return 0;
		if (asif_addr(ip, p->len, true, c->glob_ip, c->local) != 0) {
			hl_inc(x, HL_CTR_DROP_ASIF);
			return SP_EMALFORMED;
		}
		hl_inc(x, HL_CTR_ADDRS_IN);
	}
	if (asif_l4_ports(ip, p->len, &proto, &sp, &dp) != 0 ||
	    (l = find_port(x, c, proto, dp, true)) == NULL)
		return 0;
	if (asif_port(pkt_data(p), p->len, true, dp, l->port) != 0) {
		hl_inc(x, HL_CTR_DROP_ASIF);
		return SP_EMALFORMED;
	}
	hl_inc(x, HL_CTR_PORTS_IN);
	flow_seen(l, now, ip, p->len, false);
	return 0;
}

/* Steps 801-802: IKE's SPIs come from leases; SP_EAGAIN while they are asked for. */
static int hl_spi(void *ctx, sp_time now, const struct ike_spi_req *req, uint64_t *spi)
{
	struct host_lease *x = ctx;
	struct hl_conn *c = conn_by_name(x, req->conn);

	if (c == NULL)
		return SP_ENOTFOUND;
	if (req->proto == IKE_PROTO_IKE) {
		struct hl_lease *l = find_kind(x, c, HL_IKE);

		if (l != NULL && l->state == HL_ACTIVE) {
			l->used = true;
			*spi = l->glob;
			return 0;
		}
	} else {
		for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
			struct hl_lease *l = &x->l[i];

			if (l->c != c || l->kind != HL_SPI || l->state != HL_ACTIVE || l->used)
				continue;
			l->used = true;
			*spi = l->glob;
			hl_inc(x, HL_CTR_SPI_GIVEN);
			top_up(x, now, c);
			return 0;
		}
		top_up(x, now, c);
	}
	hl_inc(x, HL_CTR_SPI_WAIT);
	c->want_up = true;
	return SP_EAGAIN;
}

static void set_asif(struct host_lease *x, const struct hl_conn *c, const struct ike_event *ev)
{
	struct sa_key out = { ev->spi_out, c->proto, c->remote, ev->reqid };
	struct sa_key in = { ev->spi_in, c->proto, c->local, ev->reqid };

	/* 815/820 and 812/826's address part: as if this end were the global address */
	if (ipsec_sa_set_asif(x->e, &out, c->glob_ip, 0) != 0 ||
	    ipsec_sa_set_asif(x->e, &in, 0, c->glob_ip) != 0)
		SP_WARN(x->log, "lease", "%s: CHILD SA %08x/%08x not found for as-if", c->name,
			ev->spi_in, ev->spi_out);
}

static void release_spi(struct host_lease *x, sp_time now, const struct hl_conn *c, uint32_t spi)
{
	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		struct hl_lease *l = &x->l[i];

		if (l->c == c && l->kind == HL_SPI && l->used && l->glob == spi &&
		    l->state == HL_ACTIVE) {
			l->state = HL_RELEASING;
			l->tries = 0;
			send_req(x, now, l, true);
			l->next = now + c->retry;
		}
	}
}

static void hl_ike_event(void *ctx, sp_time now, const struct ike_event *ev)
{
	struct host_lease *x = ctx;
	struct hl_conn *c = conn_by_name(x, ev->conn);

	if (c == NULL)
		return;
	switch (ev->type) {
	case IKE_EV_CHILD_UP:
	case IKE_EV_CHILD_REKEYED:
		set_asif(x, c, ev);
		break;
	case IKE_EV_CHILD_DELETED:
		release_spi(x, now, c, ev->spi_in);
		break;
	default:
		break;
	}
}

/* When a flow's port lease goes (flow_seen): SP_TIME_NEVER for other leases. */
static sp_time flow_end(const struct hl_lease *l)
{
	if (l->kind != HL_PORT || l->ts || l->state != HL_ACTIVE)
		return SP_TIME_NEVER;
	return l->close_at != 0 ? sp_time_min(l->close_at, l->last + l->c->idle)
				: l->last + l->c->idle;
}

static sp_time hl_next_deadline(const void *ctx)
{
	const struct host_lease *x = ctx;
	sp_time t = SP_TIME_NEVER;

	for (unsigned i = 0; i < HL_LEASES_MAX; i++)
		if (x->l[i].state != HL_FREE)
			t = sp_time_min(t, sp_time_min(x->l[i].next, flow_end(&x->l[i])));
	return t;
}

static void hl_tick(void *ctx, sp_time now)
{
	struct host_lease *x = ctx;

	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		struct hl_lease *l = &x->l[i];

		if (l->state == HL_FREE)
			continue;
		if (flow_end(l) <= now) { /* the flow is over: release (lifetime 0) */
			hl_inc(x, l->close_at != 0 && l->close_at <= now ? HL_CTR_FLOW_CLOSED
									 : HL_CTR_FLOW_IDLE);
			l->state = HL_RELEASING;
			l->tries = 0;
			send_req(x, now, l, true);
			l->next = now + l->c->retry;
			continue;
		}
		if (l->next > now)
			continue;
		switch (l->state) {
		case HL_ACTIVE: /* 806-807: renew before expiry */
			ask(x, now, l);
			break;
		case HL_RELEASING:
			if (++l->tries >= 3) {
				memset(l, 0, sizeof(*l)); /* it expires at the NAT anyway */
				break;
			}
			send_req(x, now, l, true);
			l->next = now + l->c->retry;
			break;
		case HL_ASKING:
			if (l->tries >= HL_TRIES_MAX) { /* after a refusal or silence: anew */
				l->tries = 0;
				send_req(x, now, l, false);
				l->next = now + l->c->retry;
				break;
			}
			l->tries++;
			send_req(x, now, l, false);
			l->next = now + l->c->retry * ((sp_time)1 << SP_MIN(l->tries, 5u));
			if (l->tries == HL_TRIES_MAX && l->kind == HL_PORT && !l->ts) {
				release_held(x, now, l, false);
				memset(l, 0, sizeof(*l));
			}
			break;
		}
	}
}

static void hl_start(void *ctx, sp_time now)
{
	struct host_lease *x = ctx;

	for (unsigned i = 0; i < x->nconns; i++) {
		struct hl_conn *c = &x->conns[i];
		struct hl_lease *l = new_lease(x, c, HL_IKE, IPV4_PROTO_UDP, 500);

		if (l != NULL)
			ask(x, now, l); /* step 801 */
		top_up(x, now, c);	/* step 802 */
		for (uint8_t k = 0; (c->transport || c->inner_global) && k < c->nts; k++) {
			const struct ike_ts *t = &c->ts[k];

			/* 001 procedure 5 for the ports the selectors name, before IKE */
			if (t->ts_start != c->local || t->ts_end != c->local ||
			    (t->ts_proto != IPV4_PROTO_TCP && t->ts_proto != IPV4_PROTO_UDP) ||
			    t->ts_port_start != t->ts_port_end || t->ts_port_start == 0 ||
			    find_port(x, c, t->ts_proto, t->ts_port_start, false) != NULL ||
			    (l = new_lease(x, c, HL_PORT, t->ts_proto, t->ts_port_start)) == NULL)
				continue;
			l->ts = l->used = true;
			ask(x, now, l);
		}
	}
}

static void hl_show(void *ctx, sp_time now, FILE *out)
{
	static const char *const kinds[] = { "ike", "spi", "port" };
	static const char *const states[] = { "free", "asking", "active", "releasing" };
	struct host_lease *x = ctx;

	fprintf(out, "%-8s %-5s %-5s %-10s %-18s %-18s %-15s %8s\n", "conn", "kind", "proto",
		"state", "private", "global", "global IP", "expires");
	for (unsigned i = 0; i < HL_LEASES_MAX; i++) {
		const struct hl_lease *l = &x->l[i];
		char a[SP_IP4_STRLEN];

		if (l->state == HL_FREE)
			continue;
		fprintf(out, "%-8s %-5s %-5u %-10s 0x%-16llx 0x%-16llx %-15s %8lld%s\n", l->c->name,
			kinds[l->kind], l->proto, states[l->state],
			(unsigned long long)(l->kind == HL_PORT ? l->port : l->priv),
			(unsigned long long)l->glob, sp_ip4_fmt(l->glob_ip, a),
			l->have ? (long long)((l->expire - now) / SP_SEC(1)) : -1LL,
			l->used ? " in use" : "");
	}
	for (unsigned i = 0; i < HL_CTR_N; i++)
		fprintf(out, "  %s %llu\n", hl_ctr_names[i], (unsigned long long)x->ctr[i]);
}

/* ---- configuration ---- */

static int read_conn(struct host_lease *x, struct conf_sec *s)
{
	static const char *const mode_names[] = { "tunnel", "transport", NULL };
	static const char *const proto_names[] = { "esp", "ah", NULL };
	static const char *const inner_names[] = { "private", "global", NULL };
	struct ike_conn_info ci;
	struct hl_conn *c;
	uint32_t port;
	bool on;
	int r, v;

	if ((r = conf_get_bool(s, "lease", false, &on)) != 0)
		return r;
	if (!on || s->name == NULL || ike_conn_info(x->ike, s->name, &ci) != 0)
		return 0;
	if (x->nconns == HL_CONNS_MAX)
		return conf_fail(s, "lease: at most %d connections lease", HL_CONNS_MAX);
	if (ci.remote == 0)
		return conf_fail(s, "lease: the connection needs its remote address (the "
				    "foreign address of the leases)");
	c = &x->conns[x->nconns];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", s->name);
	c->local = ci.local;
	c->remote = ci.remote;
	c->reqid = ci.reqid;
	memcpy(c->ts, ci.local_ts, sizeof(c->ts));
	c->nts = ci.n_local_ts;
	if ((r = conf_get_ip4(s, "lease_server", 0, &c->server)) != 0 ||
	    (r = conf_get_time(s, "lease_lifetime", SP_SEC(600), &c->lifetime)) != 0 ||
	    (r = conf_get_time(s, "lease_retry", SP_SEC(1), &c->retry)) != 0 ||
	    (r = conf_get_time(s, "lease_idle", SP_SEC(120), &c->idle)) != 0 ||
	    (r = conf_get_time(s, "lease_linger", SP_SEC(4), &c->linger)) != 0 ||
	    (r = conf_get_u32(s, "lease_client_port", 4500, 1, 65535, &port)) != 0)
		return r;
	if (c->server == 0)
		return conf_fail(s, "lease_server: the NAT's inside address is required");
	if (c->lifetime < SP_SEC(4) || c->lifetime > SP_SEC(UINT32_MAX) || c->retry == 0)
		return conf_fail(s, "lease_lifetime: 4 s or more; lease_retry: positive");
	if (c->idle == 0)
		return conf_fail(s, "lease_idle: positive");
	c->cport = (uint16_t)port;
	if ((r = conf_get_enum(s, "proto", proto_names, 0, &v)) != 0)
		return r;
	c->proto = v == 1 ? IPV4_PROTO_AH : IPV4_PROTO_ESP;
	if ((r = conf_get_enum(s, "mode", mode_names, 0, &v)) != 0)
		return r;
	c->transport = v == 1;
	if ((r = conf_get_enum(s, "lease_inner", inner_names, 0, &v)) != 0)
		return r;
	c->inner_global = v == 1 && !c->transport;
	x->nconns++;
	return 0;
}

static void hl_destroy(void *ctx)
{
	struct host_lease *x = ctx;

	if (x == NULL)
		return;
	for (unsigned i = 0; i < x->nheld; i++)
		pkt_free(x->held[i]);
	if (x->reg != NULL)
		sp_ctr_unregister(x->reg, &x->ctrs);
	free(x);
}

static int hl_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	const struct endpoint_params *p = endpoint_params(ep);
	struct host_lease *x;
	int r;

	*ctx = NULL;
	if (endpoint_ike(ep) == NULL)
		return 0;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	x->ep = ep;
	x->ike = endpoint_ike(ep);
	x->e = endpoint_ipsec(ep);
	x->log = p->log;
	x->rng = p->rng;
	x->pool = p->pool;
	for (struct conf_sec *s = conf_next(conf, NULL, "conn"); s != NULL;
	     s = conf_next(conf, s, "conn"))
		if ((r = read_conn(x, s)) != 0) {
			hl_destroy(x);
			return r;
		}
	if (x->nconns == 0) {
		hl_destroy(x);
		return 0;
	}
	sp_ctrs_init(&x->ctrs, "lease", p->name, hl_ctr_names, x->ctr, HL_CTR_N);
	if (p->ctrs != NULL) {
		x->reg = p->ctrs;
		sp_ctr_register(p->ctrs, &x->ctrs);
	}
	*ctx = x;
	return 0;
}

const struct endpoint_module_ops host_lease_module = {
	.name = "lease",
	.create = hl_create,
	.destroy = hl_destroy,
	.start = hl_start,
	.out_clear = hl_out_clear,
	.pre_protect = hl_pre_protect,
	.in_wire = hl_in_wire,
	.post_unprotect = hl_post_unprotect,
	.ike_event = hl_ike_event,
	.spi = hl_spi,
	.next_deadline = hl_next_deadline,
	.tick = hl_tick,
	.show = hl_show,
};
