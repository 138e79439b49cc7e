/*
 * The L2TP client module: l2tp_lac's datagrams become whole IPv4/UDP packets for the
 * stack's network side, and the stack's packets from the assigned address become IPv4
 * packets inside the PPP session.
 */
#include "host/host_l2tp.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "l2tp/l2tp_lac.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define MOD "l2tp"

#define foreach_host_l2tp_ctr(_)            \
	_(WRAPPED, "wrapped")               \
	_(UNWRAPPED, "unwrapped")           \
	_(PASSED, "passed_direct")          \
	_(DROP_NOT_UP, "drop_path_not_up")  \
	_(DROP_NO_BUFFER, "drop_no_buffer") \
	_(DROP_MALFORMED, "drop_malformed")

enum host_l2tp_ctr {
#define _(sym, str) HOST_L2TP_CTR_##sym,
	foreach_host_l2tp_ctr(_)
#undef _
		HOST_L2TP_CTR_N
};

static const char *const host_l2tp_ctr_names[] = { SP_CTR_NAMES(foreach_host_l2tp_ctr) };

struct host_l2tp {
	uint32_t tag; /* of the packet in the hook in progress: wrapped and unwrapped packets keep
			 the accounting tag (base/pkt.h) */
	struct endpoint *ep;
	struct l2tp_lac *lac;
	uint32_t local;	   /* this host's own address */
	uint16_t port;	   /* our L2TP/discovery port */
	uint32_t assigned; /* the PPP address; fixed once known (the SAs use it) */
	enum l2tp_lac_decision decision;
	bool decided;
	sp_time now; /* of the hook in progress, for callbacks */
	uint64_t ctr[HOST_L2TP_CTR_N];
	struct sp_ctrs ctrs;
	bool registered;
};

/* A datagram of the client to addr:port, as a whole IPv4/UDP packet for the network. */
static void send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	struct host_l2tp *x = arg;
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pkt *p = pkt_alloc(endpoint_params(x->ep)->pool);

	if (p == NULL) {
		x->ctr[HOST_L2TP_CTR_DROP_NO_BUFFER]++;
		return;
	}
	h.ip_src = x->local;
	h.ip_dst = addr;
	p->tag = x->tag;
	if (pkt_append(p, buf, (uint32_t)len) != 0 ||
	    udp_build(p, x->port, port, x->local, addr, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0) {
		x->ctr[HOST_L2TP_CTR_DROP_NO_BUFFER]++;
		pkt_free(p);
		return;
	}
	endpoint_send(x->ep, x, x->now, p);
}

static void decided(void *arg, sp_time now, enum l2tp_lac_decision d, uint32_t a, uint16_t p)
{
	struct host_l2tp *x = arg;

	(void)now;
	(void)a;
	(void)p;
	x->decided = true;
	x->decision = d;
}

static void up(void *arg, sp_time now, uint32_t local, uint32_t lns)
{
	struct host_l2tp *x = arg;
	char a[SP_IP4_STRLEN];

	(void)now;
	(void)lns;
	if (x->assigned != 0 && x->assigned != local)
		SP_WARN(endpoint_params(x->ep)->log, MOD,
			"the LNS assigned %s, not the address IKE and the SAs use",
			sp_ip4_fmt(local, a));
	x->assigned = local;
}

/* IPv4 out of the session: into the stack as if it had come from the network. */
static void from_lns(void *arg, sp_time now, const uint8_t *ip, size_t len)
{
	struct host_l2tp *x = arg;
	struct pkt *p = pkt_alloc(endpoint_params(x->ep)->pool);

	if (p == NULL) {
		x->ctr[HOST_L2TP_CTR_DROP_NO_BUFFER]++;
		return;
	}
	if (pkt_append(p, ip, (uint32_t)len) != 0) {
		x->ctr[HOST_L2TP_CTR_DROP_NO_BUFFER]++;
		pkt_free(p);
		return;
	}
	x->ctr[HOST_L2TP_CTR_UNWRAPPED]++;
	p->tag = x->tag;
	endpoint_resume(x->ep, x, EP_STAGE_IN_WIRE, now, p);
}

static int hl_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	struct conf_sec *s = conf_find(conf, "l2tp", NULL);
	struct l2tp_lac_ops ops = {
		.send_udp = send_udp, .decided = decided, .up = up, .ip = from_lns
	};
	struct l2tp_lac_cfg c;
	struct host_l2tp *x;
	uint32_t port, assigned;
	int e;

	*ctx = NULL;
	if (s == NULL)
		return 0;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SP_ENOMEM;
	l2tp_lac_cfg_defaults(&c);
	if ((e = l2tp_lac_cfg_read(s, &c)) != 0 ||
	    (e = conf_get_ip4(s, "local", 0, &x->local)) != 0 ||
	    (e = conf_get_u32(s, "port", L2TP_PORT, 1, 65535, &port)) != 0 ||
	    (e = conf_get_ip4(s, "address", 0, &assigned)) != 0)
		goto fail;
	if (x->local == 0) {
		e = conf_fail(s, "local = this host's own address is required");
		goto fail;
	}
	x->ep = ep;
	x->port = (uint16_t)port;
	x->assigned = assigned; /* the address the SAs use, when known beforehand */
	c.local_addr = x->local;
	c.local_port = x->port;
	ops.arg = x;
	if ((e = l2tp_lac_new(&x->lac, &c, &ops, endpoint_params(ep)->rng,
			      endpoint_params(ep)->log)) != 0)
		goto fail;
	sp_ctrs_init(&x->ctrs, "host_l2tp", endpoint_params(ep)->name, host_l2tp_ctr_names, x->ctr,
		     HOST_L2TP_CTR_N);
	if (endpoint_params(ep)->ctrs != NULL) {
		sp_ctr_register(endpoint_params(ep)->ctrs, &x->ctrs);
		l2tp_lac_ctrs(x->lac)->instance = endpoint_params(ep)->name;
		sp_ctr_register(endpoint_params(ep)->ctrs, l2tp_lac_ctrs(x->lac));
		x->registered = true;
	}
	crypto_wipe(&c, sizeof(c)); /* the copy's secrets */
	*ctx = x;
	return 0;
fail:
	crypto_wipe(&c, sizeof(c));
	free(x);
	return e;
}

static void hl_destroy(void *ctx)
{
	struct host_l2tp *x = ctx;

	if (x == NULL)
		return;
	if (x->registered) {
		sp_ctr_unregister(endpoint_params(x->ep)->ctrs, &x->ctrs);
		sp_ctr_unregister(endpoint_params(x->ep)->ctrs, l2tp_lac_ctrs(x->lac));
	}
	l2tp_lac_free(x->lac);
	free(x);
}

static void hl_start(void *ctx, sp_time now)
{
	struct host_l2tp *x = ctx;

	x->now = now;
	l2tp_lac_start(x->lac, now); /* 004 [0026]: discovery before IKE gets through */
}

/* The stack's packets: from the assigned address through the session; the module's own
 * datagrams (from `local`) and everything when direct pass on. */
static enum endpoint_verdict hl_out_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct host_l2tp *x = ctx;
	enum l2tp_lac_state st = l2tp_lac_state(x->lac);
	uint32_t src;

	x->now = now;
	if (p->len < IPV4_HDR_MIN)
		return EP_PASS;
	src = sp_load_be32(pkt_data(p) + IPV4_OFF_SRC);
	if (src == x->local || st == L2TP_LAC_DIRECT || x->assigned == 0 || src != x->assigned) {
		if (st == L2TP_LAC_DIRECT)
			x->ctr[HOST_L2TP_CTR_PASSED]++;
		return EP_PASS;
	}
	if (st != L2TP_LAC_UP) {
		x->ctr[HOST_L2TP_CTR_DROP_NOT_UP]++;
		return EP_DROP;
	}
	x->tag = p->tag;
	if (l2tp_lac_send_ip(x->lac, p) != 0) {
		x->tag = 0;
		x->ctr[HOST_L2TP_CTR_DROP_NOT_UP]++;
		return EP_DROP;
	}
	x->tag = 0;
	x->ctr[HOST_L2TP_CTR_WRAPPED]++;
	pkt_free(p);
	return EP_CONSUMED;
}

/* UDP to our port from the LNS or the discovery service: the client's. */
static enum endpoint_verdict hl_in_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct host_l2tp *x = ctx;
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct cur c;

	x->now = now;
	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, &h) != 0 || h.ip_proto != IPV4_PROTO_UDP || h.ip_dst != x->local ||
	    ipv4_is_fragment(&h))
		return EP_PASS;
	if (udp_parse(&c, &u) != 0) {
		x->ctr[HOST_L2TP_CTR_DROP_MALFORMED]++;
		return EP_DROP;
	}
	if (u.udp_dport != x->port)
		return EP_PASS;
	x->tag = p->tag;
	l2tp_lac_udp_input(x->lac, now, h.ip_src, u.udp_sport, cur_ptr(&c),
			   u.udp_len - UDP_HDR_LEN);
	x->tag = 0;
	pkt_free(p);
	return EP_CONSUMED;
}

static sp_time hl_next_deadline(const void *ctx)
{
	return l2tp_lac_next_deadline(((const struct host_l2tp *)ctx)->lac);
}

static void hl_tick(void *ctx, sp_time now)
{
	struct host_l2tp *x = ctx;

	x->now = now;
	l2tp_lac_tick(x->lac, now);
}

static void hl_show(void *ctx, sp_time now, FILE *out)
{
	struct host_l2tp *x = ctx;
	char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

	(void)now;
	fprintf(out, "client state %s address %s local %s\n",
		l2tp_lac_state_name(l2tp_lac_state(x->lac)), sp_ip4_fmt(x->assigned, a),
		sp_ip4_fmt(x->local, b));
	if (x->decided)
		fprintf(out, "decision %s\n", l2tp_lac_decision_name(x->decision));
	for (unsigned i = 0; i < HOST_L2TP_CTR_N; i++)
		fprintf(out, "  %s %llu\n", host_l2tp_ctr_names[i], (unsigned long long)x->ctr[i]);
	for (unsigned i = 0; i < L2TP_LAC_CTR_N; i++)
		if (l2tp_lac_ctr(x->lac, (enum l2tp_lac_ctr)i) != 0)
			fprintf(out, "  lac.%s %llu\n", l2tp_lac_ctrs(x->lac)->names[i],
				(unsigned long long)l2tp_lac_ctr(x->lac, (enum l2tp_lac_ctr)i));
}

const struct endpoint_module_ops host_l2tp_module = {
	.name = "l2tp",
	.create = hl_create,
	.destroy = hl_destroy,
	.start = hl_start,
	.out_wire = hl_out_wire,
	.in_wire = hl_in_wire,
	.next_deadline = hl_next_deadline,
	.tick = hl_tick,
	.show = hl_show,
};
