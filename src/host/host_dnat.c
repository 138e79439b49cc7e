/*
 * 002's host: PAP client, SPTT (FIG. 11), FIGS. 13 and 14, the tunnel to the router.
 * host/host_dnat.h says what it owns and how it is driven.
 */
#include "host/host_dnat.h"
#include "base/addr.h"
#include "base/csum.h"
#include "base/cursor.h"
#include "ipsec/asif.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/pap.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <string.h>

#define TUNNEL_TTL 64

const char *const host_dnat_ctr_names[] = { SP_CTR_NAMES(foreach_host_dnat_ctr) };

#define INC(h, c) ((h)->ctr[HOST_DNAT_CTR_##c]++)

void host_dnat_conf_defaults(struct host_dnat_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->self = 0x0a000001u;	 /* 10.0.0.1, 002 computer 14 */
	c->router = 0x0a000007u; /* 10.0.0.7, router 26 */
	c->global = 0xc60a141eu; /* 198.10.20.30, address 28 */
	c->priv = c->self;
	c->inside_net = 0x0a000000u;
	c->inside_len = 24;
	c->ports = 32;
	c->spis = 32;
	c->low_water = 4;
	c->retry = SP_SEC(1);
	c->idle = SP_SEC(300);
}

void host_dnat_init(struct host_dnat *h, const struct host_dnat_conf *c)
{
	memset(h, 0, sizeof(*h));
	h->c = *c;
}

void host_dnat_want(struct host_dnat *h, bool ports, bool spis)
{
	h->want_ports |= ports;
	h->want_spis |= spis;
}

/* Blocks and unique ports. */

static struct host_dnat_sptt *row_by_uniq(struct host_dnat *h, uint8_t proto, uint16_t port)
{
	for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++)
		if (h->sptt[i].used && h->sptt[i].uniq_port == port && h->sptt[i].proto == proto)
			return &h->sptt[i];
	return NULL;
}

static bool uniq_taken(const struct host_dnat *h, uint16_t port)
{
	for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++)
		if (h->sptt[i].used && h->sptt[i].uniq_port == port)
			return true;
	return false;
}

const struct host_dnat_sptt *host_dnat_sptt_lookup(const struct host_dnat *h, uint8_t proto,
						   uint16_t def_port)
{
	for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++)
		if (h->sptt[i].used && h->sptt[i].def_port == def_port && h->sptt[i].proto == proto)
			return &h->sptt[i];
	return NULL;
}

unsigned host_dnat_ports_free(const struct host_dnat *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++)
		for (uint32_t p = 0; p < h->port_blk[i].count; p++)
			n += !uniq_taken(h, (uint16_t)(h->port_blk[i].lowest + p));
	return n;
}

/* A free unique port, lowest first; 0 when none. */
static uint16_t uniq_free(const struct host_dnat *h)
{
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++)
		for (uint32_t p = 0; p < h->port_blk[i].count; p++)
			if (!uniq_taken(h, (uint16_t)(h->port_blk[i].lowest + p)))
				return (uint16_t)(h->port_blk[i].lowest + p);
	return 0;
}

/* Remove idle rows (002: "upon end of connection, the entries ... are removed"). */
static void sptt_expire(struct host_dnat *h, sp_time now)
{
	for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++) {
		struct host_dnat_sptt *r = &h->sptt[i];

		if (r->used && !r->fixed && now - r->last >= h->c.idle) {
			r->used = false;
			INC(h, SPTT_EXPIRED);
		}
	}
}

static struct host_dnat_sptt *sptt_add(struct host_dnat *h, sp_time now, uint8_t proto,
				       uint16_t def_port, uint16_t uniq, bool fixed)
{
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++) {
			struct host_dnat_sptt *r = &h->sptt[i];

			if (r->used)
				continue;
			*r =
				(struct host_dnat_sptt){ def_port, uniq, proto, true,
							 fixed,	   0,	 0,	now };
			INC(h, SPTT_CREATED);
			return r;
		}
		sptt_expire(h, now);
	}
	return NULL;
}

int host_dnat_port_reserve(struct host_dnat *h, uint8_t proto, uint16_t *port)
{
	uint16_t u = uniq_free(h);

	*port = 0;
	if (u == 0 || sptt_add(h, 0, proto, u, u, true) == NULL) {
		h->want_ports = true;
		return SP_EFULL;
	}
	*port = u;
	return 0;
}

int host_dnat_spi_take(struct host_dnat *h, uint32_t *spi)
{
	*spi = 0;
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++) {
		struct host_dnat_block *b = &h->spi_blk[i];

		if (b->count != 0 && b->taken < b->count) {
			*spi = b->lowest + b->taken++;
			return 0;
		}
	}
	h->want_spis = true;
	return SP_EFULL;
}

static void queue_inval(struct host_dnat *h, bool spi, uint32_t value)
{
	if (h->ninval < SP_NELEM(h->inval))
		h->inval[h->ninval++] = (struct host_dnat_inval){ spi, value };
}

void host_dnat_release(struct host_dnat *h)
{
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++) {
		if (h->port_blk[i].count != 0)
			queue_inval(h, false, h->port_blk[i].lowest);
		if (h->spi_blk[i].count != 0)
			queue_inval(h, true, h->spi_blk[i].lowest);
	}
	memset(h->port_blk, 0, sizeof(h->port_blk));
	memset(h->spi_blk, 0, sizeof(h->spi_blk));
	memset(h->sptt, 0, sizeof(h->sptt));
	h->want_ports = h->want_spis = false;
}

/* PAP. */

static bool have(const struct host_dnat_block *b)
{
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++)
		if (b[i].count != 0)
			return true;
	return false;
}

bool host_dnat_has_ports(const struct host_dnat *h)
{
	return have(h->port_blk);
}

unsigned host_dnat_spis_free(const struct host_dnat *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++)
		n += h->spi_blk[i].count - h->spi_blk[i].taken;
	return n;
}

static int put_pap(const struct host_dnat *h, struct pkt *p, const struct pap_msg *m)
{
	struct ipv4_hdr ih = { 0 };
	struct wcur w;
	uint8_t *b;

	if ((b = pkt_put(p, (uint32_t)pap_len(m->pap_kind))) == NULL)
		return SP_ENOSPACE;
	wcur_init(&w, b, pap_len(m->pap_kind));
	if (pap_build(&w, m) != 0)
		return SP_EINVAL;
	ih.ip_ttl = TUNNEL_TTL;
	ih.ip_proto = IPV4_PROTO_ICMP;
	ih.ip_src = h->c.self;
	ih.ip_dst = h->c.router;
	return ipv4_build(p, &ih, NULL, 0);
}

static bool due(bool pending, sp_time sent, sp_time now, sp_time retry)
{
	return !pending || now - sent >= retry;
}

int host_dnat_poll(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct pap_msg m;
	unsigned spis_left = 0;
	int r;

	if (h->ninval > 0) {
		struct host_dnat_inval v = h->inval[--h->ninval];

		if (v.spi)
			pap_spi_invalidate(&m, v.value);
		else
			pap_port_invalidate(&m, (uint16_t)v.value);
		goto send;
	}
	if ((h->want_ports || (have(h->port_blk) && host_dnat_ports_free(h) < h->c.low_water)) &&
	    due(h->port_pending, h->port_sent, now, h->c.retry)) {
		pap_port_request(&m, h->c.ports, h->c.ports_high);
		h->port_pending = true;
		h->port_sent = now;
		goto send;
	}
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++)
		spis_left += h->spi_blk[i].count - h->spi_blk[i].taken;
	if ((h->want_spis || (have(h->spi_blk) && spis_left < 2)) &&
	    due(h->spi_pending, h->spi_sent, now, h->c.retry)) {
		pap_spi_request(&m, h->c.spis);
		h->spi_pending = true;
		h->spi_sent = now;
		goto send;
	}
	return SP_EAGAIN;
send:
	if ((r = put_pap(h, p, &m)) != 0)
		return r;
	INC(h, PAP_SENT);
	return 0;
}

sp_time host_dnat_next_deadline(const struct host_dnat *h)
{
	sp_time t = SP_TIME_NEVER;

	if (h->ninval > 0 || (h->want_ports && !h->port_pending) ||
	    (h->want_spis && !h->spi_pending))
		return 0;
	if (h->port_pending)
		t = sp_time_min(t, h->port_sent + h->c.retry);
	if (h->spi_pending)
		t = sp_time_min(t, h->spi_sent + h->c.retry);
	return t;
}

static bool add_block(struct host_dnat_block *b, uint32_t lowest, uint32_t count)
{
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++) {
		if (b[i].count == 0) {
			b[i] = (struct host_dnat_block){ lowest, count, 0 };
			return true;
		}
	}
	return false;
}

/* The router took a block back (value 0: all of them, a restarted router): forget it and
 * the SPTT rows in it, and ask again. */
static void router_invalidate(struct host_dnat *h, bool spi, uint32_t value)
{
	struct host_dnat_block *b = spi ? h->spi_blk : h->port_blk;
	bool had = false;

	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++) {
		if (b[i].count == 0 ||
		    (value != 0 && (value < b[i].lowest || value - b[i].lowest >= b[i].count)))
			continue;
		if (!spi)
			for (unsigned j = 0; j < HOST_DNAT_SPTT_MAX; j++)
				if (h->sptt[j].used && h->sptt[j].uniq_port >= b[i].lowest &&
				    h->sptt[j].uniq_port - b[i].lowest < b[i].count)
					h->sptt[j].used = false;
		if (!spi && value != 0) {
			h->port_lost = b[i];
			h->port_lost_epoch++;
		}
		memset(&b[i], 0, sizeof(b[i]));
		had = true;
	}
	if (!had)
		return;
	INC(h, PAP_INVALIDATED);
	if (spi) {
		h->want_spis = true;
		h->spi_epoch++; /* SAs on the old SPIs must move to new ones */
	} else {
		h->want_ports = true;
	}
}

static enum host_dnat_verdict pap_input(struct host_dnat *h, const uint8_t *msg, size_t len)
{
	struct pap_msg m;
	struct cur c;

	cur_init(&c, msg, len);
	if (pap_parse(&c, PAP_FROM_ROUTER, &m) != 0 || !m.pap_csum_ok) {
		INC(h, DROP_PAP_BAD);
		return HOST_DNAT_DROP;
	}
	switch (m.pap_kind) {
	case PAP_PORT_RESPONSE:
	case PAP_SPI_RESPONSE: {
		bool spi = m.pap_kind == PAP_SPI_RESPONSE;
		bool *pending = spi ? &h->spi_pending : &h->port_pending;
		uint32_t lowest = spi ? m.pap_spi : m.pap_port;

		if (!*pending) {
			INC(h, DROP_PAP_UNEXPECTED);
			return HOST_DNAT_DROP;
		}
		*pending = false;
		if (m.pap_code != PAP_CODE_OK || m.pap_count == 0) {
			INC(h, PAP_REFUSED);
			return HOST_DNAT_CONSUMED;
		}
		if (!add_block(spi ? h->spi_blk : h->port_blk, lowest, m.pap_count)) {
			queue_inval(h, spi, lowest); /* no room to keep it: give it back */
			return HOST_DNAT_CONSUMED;
		}
		if (spi)
			h->want_spis = false;
		else
			h->want_ports = false;
		INC(h, PAP_GRANTED);
		return HOST_DNAT_CONSUMED;
	}
	case PAP_PORT_INVALIDATE:
		router_invalidate(h, false, m.pap_port);
		return HOST_DNAT_CONSUMED;
	case PAP_SPI_INVALIDATE:
		router_invalidate(h, true, m.pap_spi);
		return HOST_DNAT_CONSUMED;
	default:
		INC(h, DROP_PAP_UNEXPECTED);
		return HOST_DNAT_DROP;
	}
}

/* Packets. */

struct ip_view {
	uint8_t *h;
	uint32_t hl, tot;
	uint8_t proto;
	uint32_t src, dst;
	bool later_frag;
};

static bool view(uint8_t *b, uint32_t len, struct ip_view *v)
{
	if (len < IPV4_HDR_MIN || b[0] >> 4 != 4)
		return false;
	v->h = b;
	v->hl = (uint32_t)(b[0] & 0x0f) * 4;
	v->tot = sp_load_be16(b + IPV4_OFF_LEN);
	if (v->hl < IPV4_HDR_MIN || v->tot < v->hl || v->tot > len || csum_buf(b, v->hl) != 0)
		return false;
	v->proto = b[IPV4_OFF_PROTO];
	v->src = sp_load_be32(b + IPV4_OFF_SRC);
	v->dst = sp_load_be32(b + IPV4_OFF_DST);
	v->later_frag = (sp_load_be16(b + IPV4_OFF_FRAG) & IPV4_FRAG_MASK) != 0;
	return true;
}

/* Where the translated port and its checksum are, or false (no port to translate). */
static bool port_field(const struct ip_view *v, bool src, uint8_t **port, uint8_t **csum, bool *udp)
{
	uint8_t *l4 = v->h + v->hl;
	uint32_t len = v->tot - v->hl;

	*udp = false;
	if (v->later_frag)
		return false;
	switch (v->proto) {
	case IPV4_PROTO_TCP:
		if (len < TCP_HDR_MIN)
			return false;
		*port = l4 + (src ? 0 : 2);
		*csum = l4 + TCP_OFF_CSUM;
		return true;
	case IPV4_PROTO_UDP:
		if (len < UDP_HDR_LEN)
			return false;
		*port = l4 + (src ? 0 : 2);
		*csum = l4 + UDP_OFF_CSUM;
		*udp = true;
		return true;
	case IPV4_PROTO_ICMP:
		/* An echo's identifier plays the port (outbound requests, inbound replies). */
		if (len < ICMP_HDR_LEN || l4[0] != (src ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY))
			return false;
		*port = l4 + ICMP_OFF_ID;
		*csum = l4 + ICMP_OFF_CSUM;
		return true;
	default:
		return false;
	}
}

static void set_port(uint8_t *port, uint8_t *csum, bool udp, uint16_t v)
{
	uint16_t old = sp_load_be16(port), c = sp_load_be16(csum);

	sp_store_be16(port, v);
	if (udp && c == 0)
		return; /* RFC 768: no checksum */
	c = csum_update16(c, old, v);
	if (udp && c == 0)
		c = 0xffff;
	sp_store_be16(csum, c);
}

static bool internal(const struct host_dnat *h, uint32_t a)
{
	return sp_ip4_in_prefix(a, h->c.inside_net, h->c.inside_len);
}

/* Step 178: the local source port becomes a locally unique one (SPTT, FIG. 11). */
static enum host_dnat_verdict translate_out(struct host_dnat *h, sp_time now, struct ip_view *v)
{
	uint8_t *port, *csum;
	struct host_dnat_sptt *r;
	uint16_t def;
	bool udp;

	if (!port_field(v, true, &port, &csum, &udp))
		return HOST_DNAT_TO_ROUTER;
	def = sp_load_be16(port);
	if ((r = (struct host_dnat_sptt *)host_dnat_sptt_lookup(h, v->proto, def)) == NULL) {
		uint16_t u = uniq_free(h);

		if (u == 0 || (r = sptt_add(h, now, v->proto, def, u, false)) == NULL) {
			h->want_ports = true;
			INC(h, DROP_NO_PORT);
			return HOST_DNAT_DROP;
		}
	}
	r->last = now;
	r->stamp = (uint32_t)(now / SP_MSEC(1));
	if (r->uniq_port != def)
		set_port(port, csum, udp, r->uniq_port);
	return HOST_DNAT_TO_ROUTER;
}

/* Steps 174-176: the verdict for p, its ports translated, not yet tunnelled. */
static enum host_dnat_verdict output_view(struct host_dnat *h, struct pkt *p, struct ip_view *v)
{
	if (!view(pkt_data(p), p->len, v)) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	if (internal(h, v->dst)) {
		INC(h, LOCAL);
		return HOST_DNAT_LOCAL;
	}
	if (v->src != h->c.global) {
		INC(h, DROP_SRC);
		return HOST_DNAT_DROP;
	}
	if (pkt_trim(p, v->tot) != 0) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	return HOST_DNAT_TO_ROUTER;
}

enum host_dnat_verdict host_dnat_translate_out(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct ip_view v;
	enum host_dnat_verdict r = output_view(h, p, &v);

	return r == HOST_DNAT_TO_ROUTER ? translate_out(h, now, &v) : r;
}

enum host_dnat_verdict host_dnat_encap(struct host_dnat *h, struct pkt *p)
{
	struct ipv4_hdr oh = { 0 };

	/* Step 176: the virtual tunnel header (Table 8). */
	oh.ip_ttl = TUNNEL_TTL;
	oh.ip_proto = IPV4_PROTO_IPIP;
	oh.ip_src = h->c.self;
	oh.ip_dst = h->c.router;
	oh.ip_tos = p->len > 1 ? pkt_data(p)[IPV4_OFF_TOS] : 0;
	if (ipv4_build(p, &oh, NULL, 0) != 0) {
		INC(h, DROP_NO_SPACE);
		return HOST_DNAT_DROP;
	}
	INC(h, OUT);
	return HOST_DNAT_TO_ROUTER;
}

enum host_dnat_verdict host_dnat_output(struct host_dnat *h, sp_time now, struct pkt *p)
{
	enum host_dnat_verdict r = host_dnat_translate_out(h, now, p);

	return r == HOST_DNAT_TO_ROUTER ? host_dnat_encap(h, p) : r;
}

enum host_dnat_verdict host_dnat_decap(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct ip_view o, v;
	uint8_t *port, *csum;
	bool udp;

	(void)now;
	if (!view(pkt_data(p), p->len, &o)) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	if (o.proto == IPV4_PROTO_ICMP && o.tot > o.hl &&
	    (o.h[o.hl] == PAP_TYPE_PORTS || o.h[o.hl] == PAP_TYPE_SPIS)) {
		if (o.src != h->c.router) {
			INC(h, DROP_NOT_ROUTER); /* only the router hands out or takes back */
			return HOST_DNAT_DROP;
		}
		return pap_input(h, o.h + o.hl, o.tot - o.hl);
	}
	if (o.proto != IPV4_PROTO_IPIP) {
		INC(h, LOCAL);
		return HOST_DNAT_LOCAL;
	}
	if (o.src != h->c.router) {
		INC(h, DROP_NOT_ROUTER);
		return HOST_DNAT_DROP;
	}
	if (!view(o.h + o.hl, o.tot - o.hl, &v)) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	if (internal(h, v.src)) {
		/* Step 196: the outer source is the sender's real internal address. */
		sp_store_be16(v.h + IPV4_OFF_CSUM,
			      csum_update32(sp_load_be16(v.h + IPV4_OFF_CSUM), v.src, o.src));
		sp_store_be32(v.h + IPV4_OFF_SRC, o.src);
		if (port_field(&v, true, &port, &csum, &udp) && v.proto != IPV4_PROTO_ICMP &&
		    !(udp && sp_load_be16(csum) == 0))
			sp_store_be16(csum, csum_update32(sp_load_be16(csum), v.src, o.src));
	}
	/* Steps 192-194: strip the tunnel header. */
	if (pkt_pull(p, o.hl) == NULL || pkt_trim(p, v.tot) != 0) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	INC(h, IN);
	return HOST_DNAT_TO_STACK;
}

enum host_dnat_verdict host_dnat_translate_in(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct host_dnat_sptt *r;
	uint8_t *port, *csum;
	struct ip_view v;
	bool udp;

	if (!view(pkt_data(p), p->len, &v)) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	/* Step 190: the locally unique port back to the default one (Table 12). */
	if (internal(h, v.src) || v.dst != h->c.global ||
	    !port_field(&v, false, &port, &csum, &udp))
		return HOST_DNAT_TO_STACK;
	if ((r = row_by_uniq(h, v.proto, sp_load_be16(port))) == NULL) {
		INC(h, DROP_NO_SPTT);
		return HOST_DNAT_DROP;
	}
	r->last = now;
	r->stamp = (uint32_t)(now / SP_MSEC(1));
	if (r->def_port != r->uniq_port)
		set_port(port, csum, udp, r->def_port);
	return HOST_DNAT_TO_STACK;
}

enum host_dnat_verdict host_dnat_input(struct host_dnat *h, sp_time now, struct pkt *p)
{
	enum host_dnat_verdict r = host_dnat_decap(h, now, p);

	return r == HOST_DNAT_TO_STACK ? host_dnat_translate_in(h, now, p) : r;
}

/* The SPTT row for (proto, def), made with a free unique port when there is none. */
static struct host_dnat_sptt *row_for(struct host_dnat *h, sp_time now, uint8_t proto, uint16_t def)
{
	struct host_dnat_sptt *r = (struct host_dnat_sptt *)host_dnat_sptt_lookup(h, proto, def);

	if (r == NULL) {
		uint16_t u = uniq_free(h);

		if (u == 0 || (r = sptt_add(h, now, proto, def, u, false)) == NULL) {
			h->want_ports = true;
			INC(h, DROP_NO_PORT);
			return NULL;
		}
	}
	r->last = now;
	r->stamp = (uint32_t)(now / SP_MSEC(1));
	return r;
}

enum host_dnat_verdict host_dnat_transport_out(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct host_dnat_sptt *r;
	uint16_t sport, dport;
	struct ip_view v;
	uint8_t proto;

	if (!view(pkt_data(p), p->len, &v) || (v.src != h->c.priv && v.src != h->c.global) ||
	    internal(h, v.dst) || asif_l4_ports(v.h, v.tot, &proto, &sport, &dport) != 0)
		return HOST_DNAT_LOCAL;
	if ((r = row_for(h, now, proto, sport)) == NULL)
		return HOST_DNAT_DROP;
	/* The port first: asif_addr() then corrects the checksum for the address alone. */
	if (asif_port(v.h, v.tot, false, sport, r->uniq_port) != 0 ||
	    asif_addr(v.h, v.tot, false, v.src, h->c.global) != 0) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	r->def_addr = v.src;
	INC(h, TRANSPORT_OUT);
	return HOST_DNAT_TO_ROUTER;
}

enum host_dnat_verdict host_dnat_transport_in(struct host_dnat *h, sp_time now, struct pkt *p)
{
	struct host_dnat_sptt *r;
	uint16_t sport, dport;
	struct ip_view v;
	uint8_t proto;

	if (!view(pkt_data(p), p->len, &v) || v.dst != h->c.global ||
	    asif_l4_ports(v.h, v.tot, &proto, &sport, &dport) != 0)
		return HOST_DNAT_TO_STACK;
	if ((r = row_by_uniq(h, proto, dport)) == NULL) {
		INC(h, DROP_TRANSPORT_NO_SPTT);
		return HOST_DNAT_DROP;
	}
	r->last = now;
	r->stamp = (uint32_t)(now / SP_MSEC(1));
	if (asif_port(v.h, v.tot, true, dport, r->def_port) != 0 ||
	    (r->def_addr != 0 && asif_addr(v.h, v.tot, true, h->c.global, r->def_addr) != 0)) {
		INC(h, DROP_MALFORMED);
		return HOST_DNAT_DROP;
	}
	INC(h, TRANSPORT_IN);
	return HOST_DNAT_TO_STACK;
}
