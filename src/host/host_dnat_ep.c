/*
 * 002's host side as a module of the endpoint stack (host_dnat_ep.h). On the wire side of
 * every other module: whole packets for the network get their ports translated and the
 * tunnel header to the router (out_wire), packets from the router lose it and get their
 * ports back (in_wire) before IKE and IPsec see them; PAP stays inside the module. IKE's
 * inbound CHILD SA SPIs come from the PAP blocks (spi hook, outermost SA only: 002 "a SPI
 * from the list of locally unique SPI values is allocated only to an outermost SA"); IKE's
 * own port 500 is translated to a unique port like any application's (FIGS. 13/14).
 * Packets to the outside wait in a small queue until the first port block arrives.
 */
#include "host/host_dnat_ep.h"

#include "base/addr.h"
#include "crypto/x509_issue.h"
#include "ipsec/spd.h"
#include "proto/ipv4.h"

#include <stdlib.h>
#include <string.h>

#define HOLD_MAX    16
#define WAITING_MAX 4
#define CONN_NAME   32

struct dnat_ep {
	struct endpoint *ep;
	struct host_dnat h;
	struct pkt *held[HOLD_MAX];
	unsigned nheld;
	char waiting[WAITING_MAX][CONN_NAME]; /* connections IKE could not bring up */
	unsigned nwaiting;
	char conns[WAITING_MAX][CONN_NAME]; /* connections with SAs on PAP SPIs */
	unsigned nconns;
	uint32_t spi_epoch;	  /* host_dnat's, when the SAs were last moved */
	uint32_t port_lost_epoch; /* host_dnat's, when revocations were last looked at */
	bool rekey_due;
	uint64_t held_total, drop_hold_full, ike_restarted, ike_revoked;
};

static int read_conf(struct conf_sec *s, struct host_dnat_conf *c)
{
	uint32_t ports = c->ports, spis = c->spis, low = c->low_water;
	const char *inside = NULL;
	int r;

	if ((r = conf_require(s, "self")) != 0 ||
	    (r = conf_get_ip4(s, "self", c->self, &c->self)) != 0 ||
	    (r = conf_get_ip4(s, "router", c->router, &c->router)) != 0 ||
	    (r = conf_get_ip4(s, "global", c->global, &c->global)) != 0 ||
	    (r = conf_get_ip4(s, "private", c->self, &c->priv)) != 0 ||
	    (r = conf_get_str(s, "inside", NULL, &inside)) != 0 ||
	    (r = conf_get_u32(s, "ports", ports, 1, 255, &ports)) != 0 ||
	    (r = conf_get_bool(s, "ports_high", c->ports_high, &c->ports_high)) != 0 ||
	    (r = conf_get_u32(s, "spis", spis, 1, 65535, &spis)) != 0 ||
	    (r = conf_get_u32(s, "low_water", low, 0, 255, &low)) != 0 ||
	    (r = conf_get_time(s, "retry", c->retry, &c->retry)) != 0 ||
	    (r = conf_get_time(s, "idle", c->idle, &c->idle)) != 0)
		return r;
	if (inside != NULL &&
	    sp_ip4_prefix_parse(inside, &c->inside_net, &c->inside_len, false) != 0)
		return conf_fail(s, "inside: expected a prefix, got '%s'", inside);
	if (c->retry == 0)
		return conf_fail(s, "retry must be positive");
	c->ports = (uint8_t)ports;
	c->spis = (uint16_t)spis;
	c->low_water = (uint16_t)low;
	return 0;
}

static int dnat_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	struct conf_sec *s = conf_find(conf, "dnat", NULL);
	struct host_dnat_conf c;
	struct dnat_ep *x;
	int r;

	*ctx = NULL;
	if (s == NULL)
		return 0;
	host_dnat_conf_defaults(&c);
	if ((r = read_conf(s, &c)) != 0)
		return r;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	x->ep = ep;
	host_dnat_init(&x->h, &c);
	*ctx = x;
	return 0;
}

static void dnat_destroy(void *ctx)
{
	struct dnat_ep *x = ctx;

	if (x == NULL)
		return;
	for (unsigned i = 0; i < x->nheld; i++)
		pkt_free(x->held[i]);
	free(x);
}

/* Send what PAP has due. */
static void flush(struct dnat_ep *x, sp_time now)
{
	for (;;) {
		struct pkt *p = pkt_alloc(endpoint_params(x->ep)->pool);

		if (p == NULL)
			return;
		if (host_dnat_poll(&x->h, now, p) != 0) {
			pkt_free(p);
			return;
		}
		endpoint_send(x->ep, x, now, p);
	}
}

/* Translate and tunnel p for the network (EP_DROP: counted, the caller frees it). */
static enum endpoint_verdict wrap(struct dnat_ep *x, sp_time now, struct pkt *p)
{
	switch (host_dnat_translate_out(&x->h, now, p)) {
	case HOST_DNAT_LOCAL:
		return EP_PASS;
	case HOST_DNAT_TO_ROUTER:
		return host_dnat_encap(&x->h, p) == HOST_DNAT_TO_ROUTER ? EP_PASS : EP_DROP;
	default:
		return EP_DROP;
	}
}

/*
 * The router took back one port block by name. It does that only after revoking the
 * certificate bound to it (002 [0685]: "if the router 26 is allowed to de-allocate DNAT
 * ports, it revokes any security certificates with bindings to these DNAT ports"; a
 * restart invalidates with port 0 instead): the IKE SAs of every connection whose
 * certificate binds ports of that block are deleted, the peer told by IKE's DELETE (002:
 * "notification to remote systems that have active SAs"), and not brought up again.
 */
static void port_block_lost(struct dnat_ep *x, sp_time now, const struct host_dnat_block *b)
{
	struct ike *ike = endpoint_ike(x->ep);
	struct ike_conn_info ci;
	uint16_t lo, cnt;

	for (unsigned i = 0; ike != NULL && i < x->nconns; i++) {
		if (ike_conn_info(ike, x->conns[i], &ci) != 0 || ci.cert == NULL ||
		    crypto_cert_port_block(ci.cert, ci.cert_len, &lo, &cnt) != 0 ||
		    (uint32_t)lo + cnt <= b->lowest || lo >= b->lowest + b->count)
			continue;
		if (ike_down(ike, now, x->conns[i]) != 0)
			continue;
		x->ike_revoked++;
		SP_WARN(endpoint_params(x->ep)->log, "dnat",
			"%s: the router took back ports %u-%u, which its certificate binds "
			"(revoked): IKE SA deleted",
			x->conns[i], b->lowest, b->lowest + b->count - 1);
	}
}

/* After PAP: held packets go on, connections waiting for SPIs come up again. */
static void after_pap(struct dnat_ep *x, sp_time now)
{
	struct ike *ike = endpoint_ike(x->ep);

	if (x->h.port_lost_epoch != x->port_lost_epoch) {
		x->port_lost_epoch = x->h.port_lost_epoch;
		port_block_lost(x, now, &x->h.port_lost);
	}
	if (host_dnat_has_ports(&x->h)) {
		unsigned n = x->nheld;

		x->nheld = 0;
		for (unsigned i = 0; i < n; i++) {
			struct pkt *p = x->held[i];

			if (wrap(x, now, p) == EP_PASS)
				endpoint_resume(x->ep, x, EP_STAGE_OUT_WIRE, now, p);
			else
				pkt_free(p);
		}
	}
	/* The router took SPI blocks back (a restart): the SAs on them are rekeyed onto
	 * SPIs of the new blocks once there are some (002: the router "can also render an
	 * allocated range of DNAT ports or SPIs invalid"). */
	if (x->h.spi_epoch != x->spi_epoch) {
		x->spi_epoch = x->h.spi_epoch;
		x->rekey_due = true;
	}
	if (ike != NULL && x->rekey_due && host_dnat_spis_free(&x->h) > 0) {
		x->rekey_due = false;
		for (unsigned i = 0; i < x->nconns; i++)
			if (ike_rekey(ike, now, x->conns[i], false) == 0)
				x->ike_restarted++;
	}
	/* An SPI is there to take: bring the waiting connections up (IKE asks again). */
	if (ike != NULL && x->nwaiting > 0 && host_dnat_spis_free(&x->h) > 0) {
		for (unsigned i = 0; i < x->nwaiting; i++)
			if (ike_up(ike, now, x->waiting[i]) == 0)
				x->ike_restarted++;
		x->nwaiting = 0;
	}
	flush(x, now);
}

static void dnat_start(void *ctx, sp_time now)
{
	struct dnat_ep *x = ctx;

	/* 002: PAP requests at boot; SPIs only when this endpoint runs IKE. */
	host_dnat_want(&x->h, true, endpoint_ike(x->ep) != NULL);
	flush(x, now);
}

/* An orderly stop: every block goes back to the router (002: "invalidate when done"). */
static void dnat_stop(void *ctx, sp_time now)
{
	struct dnat_ep *x = ctx;

	host_dnat_release(&x->h);
	flush(x, now);
}

static enum endpoint_verdict dnat_out_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct dnat_ep *x = ctx;

	if (!host_dnat_has_ports(&x->h)) {
		const uint8_t *d = pkt_data(p);

		/* No block yet: an external packet waits for the first grant. */
		if (p->len >= IPV4_HDR_MIN &&
		    !sp_ip4_in_prefix(sp_load_be32(d + IPV4_OFF_DST), x->h.c.inside_net,
				      x->h.c.inside_len)) {
			if (x->nheld == HOLD_MAX) {
				x->drop_hold_full++;
				return EP_DROP;
			}
			x->held[x->nheld++] = p;
			x->held_total++;
			host_dnat_want(&x->h, true, false);
			flush(x, now);
			return EP_CONSUMED;
		}
	}
	return wrap(x, now, p);
}

static enum endpoint_verdict dnat_in_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct dnat_ep *x = ctx;

	switch (host_dnat_decap(&x->h, now, p)) {
	case HOST_DNAT_CONSUMED:
		pkt_free(p);
		after_pap(x, now);
		return EP_CONSUMED;
	case HOST_DNAT_LOCAL:
		return EP_PASS;
	case HOST_DNAT_TO_STACK:
		return host_dnat_translate_in(&x->h, now, p) == HOST_DNAT_TO_STACK ? EP_PASS
										   : EP_DROP;
	default:
		return EP_DROP;
	}
}

/*
 * Transport mode (docs/DNAT.md). The SPD and IKE's selectors name the global address (the
 * SA's own): an application's TCP/UDP packet from the private address whose translation
 * an outbound transport-mode policy protects is translated before the policy lookup, so
 * the lookup, ESP and the peer all see the global address and a port of the block.
 */
static bool transport_protected(const struct dnat_ep *x, const struct pkt *p)
{
	const struct ipsec *e = endpoint_ipsec(x->ep);
	const uint8_t *d = pkt_data(p);
	struct spd_tuple t;

	if (e == NULL || p->len < IPV4_HDR_MIN)
		return false;
	t.src = sp_load_be32(d + IPV4_OFF_SRC);
	if (t.src != x->h.c.priv && t.src != x->h.c.global)
		return false;
	spd_tuple_of(d, p->len, &t);
	t.src = x->h.c.global;
	for (const struct spd_policy *s = ipsec_policy_next(e, NULL); s != NULL;
	     s = ipsec_policy_next(e, s))
		if (s->dir == SA_DIR_OUT && spd_sel_match(&s->sel, &t))
			return s->action == SPD_PROTECT && s->mode == SA_MODE_TRANSPORT;
	return false;
}

static enum endpoint_verdict dnat_out_clear(void *ctx, sp_time now, struct pkt *p)
{
	struct dnat_ep *x = ctx;

	if (!transport_protected(x, p))
		return EP_PASS;
	return host_dnat_transport_out(&x->h, now, p) == HOST_DNAT_DROP ? EP_DROP : EP_PASS;
}

/* What a transport-mode SA protects must carry the global address: a packet that came by
 * another way than the policy lookup (from the private address) is translated here. */
static int dnat_pre_protect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	struct dnat_ep *x = ctx;

	if (sa->mode != SA_MODE_TRANSPORT || p->len < IPV4_HDR_MIN ||
	    x->h.c.priv == x->h.c.global || sp_load_be32(pkt_data(p) + IPV4_OFF_SRC) != x->h.c.priv)
		return 0;
	return host_dnat_transport_out(&x->h, now, p) == HOST_DNAT_DROP ? SP_ENOTFOUND : 0;
}

/* After a transport-mode SA's protection is removed: the application's address and port. */
static int dnat_post_unprotect(void *ctx, sp_time now, const struct sa *sa, struct pkt *p)
{
	struct dnat_ep *x = ctx;

	if (sa->mode != SA_MODE_TRANSPORT)
		return 0;
	return host_dnat_transport_in(&x->h, now, p) == HOST_DNAT_DROP ? SP_ENOTFOUND : 0;
}

/* Remember a connection name in a small set. */
static void note_conn(char (*set)[CONN_NAME], unsigned *n, const char *conn)
{
	if (conn == NULL)
		return;
	for (unsigned i = 0; i < *n; i++)
		if (strcmp(set[i], conn) == 0)
			return;
	if (*n < WAITING_MAX)
		snprintf(set[(*n)++], CONN_NAME, "%s", conn);
}

static bool spi_in_use(const struct dnat_ep *x, uint32_t spi)
{
	struct ipsec *e = endpoint_ipsec(x->ep);

	for (const struct sa *s = e != NULL ? ipsec_sa_next(e, NULL) : NULL; s != NULL;
	     s = ipsec_sa_next(e, s))
		if (s->dir == SA_DIR_IN && s->spi == spi)
			return true;
	return false;
}

static int dnat_spi(void *ctx, sp_time now, const struct ike_spi_req *req, uint64_t *spi)
{
	struct dnat_ep *x = ctx;
	uint32_t v;

	if (req->proto != IKE_PROTO_ESP && req->proto != IKE_PROTO_AH)
		return SP_ENOTFOUND; /* IKE SPIs: the router demultiplexes IKE by port */
	/* After a restart the router may grant a block again whose SPIs live SAs still use:
	 * those are skipped. */
	while (host_dnat_spi_take(&x->h, &v) == 0) {
		if (spi_in_use(x, v))
			continue;
		note_conn(x->conns, &x->nconns, req->conn);
		*spi = v;
		return 0;
	}
	/* None left: ask, and bring the connection up again when they come. */
	note_conn(x->waiting, &x->nwaiting, req->conn);
	flush(x, now);
	return SP_EAGAIN;
}

static sp_time dnat_next_deadline(const void *ctx)
{
	const struct dnat_ep *x = ctx;

	return host_dnat_next_deadline(&x->h);
}

static void dnat_tick(void *ctx, sp_time now)
{
	flush(ctx, now);
}

/* `spinat show dnat`: blocks, the SPTT, counters. */
static void dnat_show(void *ctx, sp_time now, FILE *out)
{
	struct dnat_ep *x = ctx;
	const struct host_dnat *h = &x->h;

	(void)now;
	for (unsigned i = 0; i < HOST_DNAT_BLOCKS; i++) {
		if (h->port_blk[i].count != 0)
			fprintf(out, "ports %u-%u\n", h->port_blk[i].lowest,
				h->port_blk[i].lowest + h->port_blk[i].count - 1);
		if (h->spi_blk[i].count != 0)
			fprintf(out, "spis %u-%u (%u taken)\n", h->spi_blk[i].lowest,
				h->spi_blk[i].lowest + h->spi_blk[i].count - 1,
				h->spi_blk[i].taken);
	}
	fprintf(out, "%-8s %-8s %-6s %s\n", "Default", "Unique", "Proto", "Timestamp");
	for (unsigned i = 0; i < HOST_DNAT_SPTT_MAX; i++)
		if (h->sptt[i].used)
			fprintf(out, "%-8u %-8u %-6u %u\n", h->sptt[i].def_port,
				h->sptt[i].uniq_port, h->sptt[i].proto, h->sptt[i].stamp);
	for (unsigned i = 0; i < HOST_DNAT_CTR_N; i++)
		fprintf(out, "  %s %llu\n", host_dnat_ctr_names[i], (unsigned long long)h->ctr[i]);
	fprintf(out,
		"  dnat_held %llu\n  dnat_drop_hold_full %llu\n  dnat_ike_restarted %llu\n"
		"  dnat_ike_deleted_revoked %llu\n",
		(unsigned long long)x->held_total, (unsigned long long)x->drop_hold_full,
		(unsigned long long)x->ike_restarted, (unsigned long long)x->ike_revoked);
}

const struct endpoint_module_ops host_dnat_module = {
	.name = "dnat",
	.create = dnat_create,
	.destroy = dnat_destroy,
	.start = dnat_start,
	.stop = dnat_stop,
	.out_clear = dnat_out_clear,
	.pre_protect = dnat_pre_protect,
	.out_wire = dnat_out_wire,
	.in_wire = dnat_in_wire,
	.post_unprotect = dnat_post_unprotect,
	.spi = dnat_spi,
	.next_deadline = dnat_next_deadline,
	.tick = dnat_tick,
	.show = dnat_show,
};
