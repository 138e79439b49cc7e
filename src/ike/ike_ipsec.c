/* IKE's kernel interface implemented on the IPsec SA and policy databases. */
#include "ike/ike_ipsec.h"

#include "base/addr.h"
#include "ike/ike_priv.h"
#include "proto/ipv4.h"

#include <string.h>

#define REPLAY_WINDOW 64 /* RFC 4303 3.4.3: at least 32, 64 recommended */
#define POLICY_PRIO   100

static uint8_t ip_proto(uint8_t ike_proto)
{
	return ike_proto == IKE_PROTO_AH ? IPV4_PROTO_AH : IPV4_PROTO_ESP;
}

/* The largest prefix that starts at a and does not pass b (a range as CIDR blocks). */
static uint8_t block_len(uint32_t a, uint32_t b)
{
	uint8_t len = 32;

	while (len > 0) {
		uint32_t m = sp_ip4_mask(len - 1);

		if ((a & m) != a || (a | ~m) > b)
			break;
		len--;
	}
	return len;
}

static bool policy_exists(struct ipsec *e, uint32_t reqid)
{
	for (const struct spd_policy *p = ipsec_policy_next(e, NULL); p != NULL;
	     p = ipsec_policy_next(e, p))
		if (p->reqid == reqid && p->action == SPD_PROTECT)
			return true;
	return false;
}

#define CIDR_MAX 8

/* A range as CIDR blocks (at most CIDR_MAX; a selector from narrowing is one). */
static unsigned range_cidrs(uint32_t a, uint32_t b, uint32_t *net, uint8_t *len)
{
	unsigned n = 0;

	while (n < CIDR_MAX) {
		uint8_t l = block_len(a, b);
		uint64_t next = (uint64_t)a + ((uint64_t)1 << (32 - l));

		net[n] = a;
		len[n++] = l;
		if (next > b)
			break;
		a = (uint32_t)next;
	}
	return n;
}

/* One policy per direction for each pair of CIDR blocks of the selectors. */
static int add_policies(struct ipsec *e, const struct ike_child_sa *sa)
{
	for (uint8_t i = 0; i < sa->n_ts_local; i++) {
		const struct ike_ts *l = &sa->ts_local[i];
		uint32_t ln[CIDR_MAX];
		uint8_t ll[CIDR_MAX];
		unsigned nl = range_cidrs(l->ts_start, l->ts_end, ln, ll);

		for (uint8_t j = 0; j < sa->n_ts_remote; j++) {
			const struct ike_ts *r = &sa->ts_remote[j];
			uint32_t rn[CIDR_MAX];
			uint8_t rl[CIDR_MAX];
			unsigned nr;

			/* A packet has one protocol: TCP here and UDP there is no traffic (a
			 * policy for it would take another CHILD SA's TCP by the UDP ports). */
			if (l->ts_proto != 0 && r->ts_proto != 0 && l->ts_proto != r->ts_proto)
				continue;
			nr = range_cidrs(r->ts_start, r->ts_end, rn, rl);

			for (unsigned a = 0; a < nl; a++) {
				for (unsigned b = 0; b < nr; b++) {
					struct spd_policy_params p = { 0 };
					uint32_t id;
					int err;

					p.priority = POLICY_PRIO;
					p.action = SPD_PROTECT;
					p.proto = ip_proto(sa->proto);
					p.mode = sa->tunnel ? SA_MODE_TUNNEL : SA_MODE_TRANSPORT;
					p.reqid = sa->reqid;
					p.name = sa->conn;
					p.sel.proto = l->ts_proto != 0 ? l->ts_proto : r->ts_proto;
					for (int d = 0; d < 2; d++) {
						bool out = d == 0;

						p.dir = out ? SA_DIR_OUT : SA_DIR_IN;
						p.sel.src = out ? ln[a] : rn[b];
						p.sel.src_len = out ? ll[a] : rl[b];
						p.sel.dst = out ? rn[b] : ln[a];
						p.sel.dst_len = out ? rl[b] : ll[a];
						p.sel.sport_lo =
							out ? l->ts_port_start : r->ts_port_start;
						p.sel.sport_hi =
							out ? l->ts_port_end : r->ts_port_end;
						p.sel.dport_lo =
							out ? r->ts_port_start : l->ts_port_start;
						p.sel.dport_hi =
							out ? r->ts_port_end : l->ts_port_end;
						p.tun_src = out ? sa->src : sa->dst;
						p.tun_dst = out ? sa->dst : sa->src;
						if ((err = ipsec_policy_add(e, &p, &id)) != 0)
							return err;
					}
				}
			}
		}
	}
	return 0;
}

static void del_policies(struct ipsec *e, uint32_t reqid)
{
	const struct spd_policy *p = ipsec_policy_next(e, NULL);

	while (p != NULL) {
		const struct spd_policy *next = ipsec_policy_next(e, p);

		if (p->reqid == reqid && ipsec_policy_del(e, p->id) != 0)
			break;
		p = next;
	}
}

static int k_sa_add(void *arg, sp_time now, const struct ike_child_sa *sa, bool current)
{
	struct ipsec *e = arg;
	struct sa_params p = { 0 };
	const char *why = NULL;
	int r;

	p.spi = sa->spi;
	p.proto = ip_proto(sa->proto);
	p.mode = sa->tunnel ? SA_MODE_TUNNEL : SA_MODE_TRANSPORT;
	p.dir = sa->inbound ? SA_DIR_IN : SA_DIR_OUT;
	p.src = sa->src;
	p.dst = sa->dst;
	p.enc = sa->proto == IKE_PROTO_AH ? SA_ENC_NONE : sa->encr;
	p.auth = sa->integ;
	p.enc_key = sa->encr_key;
	p.enc_key_len = sa->encr_key_len;
	p.auth_key = sa->integ_key;
	p.auth_key_len = sa->integ_key_len;
	p.esn = sa->esn;
	p.replay_window = sa->inbound ? REPLAY_WINDOW : 0;
	if (sa->encap) {
		p.encap_sport = sa->encap_sport;
		p.encap_dport = sa->encap_dport;
		p.natt_follow = sa->follow;
	}
	p.reqid = sa->reqid;
	if (!sa->inbound && !policy_exists(e, sa->reqid) && (r = add_policies(e, sa)) != 0)
		return r;
	if (!sa->inbound && !current) {
		/* The epoch guard (003) switches later: keep policies on their present SA, or
		 * on none for a first epoch not yet tried. */
		for (const struct spd_policy *pol = ipsec_policy_next(e, NULL); pol != NULL;
		     pol = ipsec_policy_next(e, pol)) {
			if (pol->reqid == sa->reqid && pol->dir == SA_DIR_OUT && !pol->sa_pinned) {
				struct sa_key k = { 0, p.proto, 0 };

				if (pol->sa != NULL)
					k = (struct sa_key){ pol->sa->spi, pol->sa->proto,
							     pol->sa->dst, pol->sa->reqid };
				if (ipsec_policy_set_sa(e, pol->id, &k) != 0)
					break;
			}
		}
	}
	return ipsec_sa_add(e, now, &p, &why);
}

static bool reqid_in_use(struct ipsec *e, uint32_t reqid)
{
	for (const struct sa *s = ipsec_sa_next(e, NULL); s != NULL; s = ipsec_sa_next(e, s))
		if (s->reqid == reqid && s->state != SA_STATE_DEAD)
			return true;
	return false;
}

static int k_sa_del(void *arg, uint8_t proto, uint32_t spi, bool inbound, uint32_t dst,
		    uint32_t reqid)
{
	struct ipsec *e = arg;
	/* Inbound SPIs are unique; outbound ones of two peers may not be (RFC 4301 4.1). */
	struct sa_key k = { spi, ip_proto(proto), dst, inbound ? 0 : reqid };
	int r;

	r = ipsec_sa_del(e, &k);
	/* Policies live as long as any SA of the connection. */
	if (reqid != 0 && !reqid_in_use(e, reqid))
		del_policies(e, reqid);
	return r == SP_ENOTFOUND ? 0 : r; /* a hard expiry may have removed it already */
}

static int k_sa_move(void *arg, const struct ike_child_sa *m)
{
	struct ipsec *e = arg;
	uint8_t dir = m->inbound ? SA_DIR_IN : SA_DIR_OUT;

	for (const struct sa *s = ipsec_sa_next(e, NULL); s != NULL; s = ipsec_sa_next(e, s)) {
		if (s->spi != m->spi || s->proto != ip_proto(m->proto) || s->dir != dir ||
		    s->reqid != m->reqid)
			continue;
		return ipsec_sa_move(e, &(struct sa_key){ s->spi, s->proto, s->dst, s->reqid },
				     m->inbound ? m->src : m->dst,
				     m->inbound ? m->encap_sport : m->encap_dport);
	}
	return 0; /* gone already (a hard expiry) */
}

static bool k_spi_in_use(void *arg, uint8_t proto, uint32_t spi)
{
	struct ipsec *e = arg;

	for (const struct sa *s = ipsec_sa_next(e, NULL); s != NULL; s = ipsec_sa_next(e, s))
		if (s->spi == spi && s->proto == ip_proto(proto) && s->dir == SA_DIR_IN)
			return true;
	return false;
}

static sp_time k_last_used(void *arg, uint8_t proto, uint32_t spi_in)
{
	struct ipsec *e = arg;

	for (const struct sa *s = ipsec_sa_next(e, NULL); s != NULL; s = ipsec_sa_next(e, s))
		if (s->spi == spi_in && s->proto == ip_proto(proto) && s->dir == SA_DIR_IN)
			return s->stats.last_used;
	return 0;
}

void ike_ipsec_ops(struct ipsec *e, struct ike_kernel_ops *ops)
{
	ops->sa_add = k_sa_add;
	ops->sa_del = k_sa_del;
	ops->sa_move = k_sa_move;
	ops->spi_in_use = k_spi_in_use;
	ops->last_used = k_last_used;
	ops->arg = e;
}

void ike_ipsec_event(struct ike *ike, sp_time now, const struct ipsec_event *ev)
{
	uint8_t proto;

	switch (ev->type) {
	case IPSEC_EV_ACQUIRE:
		for (size_t i = 0; i < ike->n_conns; i++)
			if (ike->conns[i].reqid == ev->policy->reqid)
				ike_acquire(ike, now, ike->conns[i].name);
		break;
	case IPSEC_EV_SOFT_EXPIRE:
	case IPSEC_EV_HARD_EXPIRE:
		proto = ev->sa->proto == IPV4_PROTO_AH ? IKE_PROTO_AH : IKE_PROTO_ESP;
		ike_child_expire(ike, now, proto, ev->sa->spi, ev->sa->dir == SA_DIR_IN,
				 ev->sa->reqid, ev->type == IPSEC_EV_HARD_EXPIRE);
		break;
	case IPSEC_EV_PEER_MOVED:
		/* RFC 7296 2.23: the IKE SA follows where its ESP went. */
		ike_peer_moved(ike, now,
			       ev->sa->proto == IPV4_PROTO_AH ? IKE_PROTO_AH : IKE_PROTO_ESP,
			       ev->sa->spi, ev->addr, ev->port);
		break;
	default:
		break;
	}
}
