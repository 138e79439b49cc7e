/* The LNS module: L2TP and discovery in, the sessions' IPsec into the gateway's stack. */
#include "host/host_lns.h"

#include "base/addr.h"
#include "crypto/crypto.h"
#include "l2tp/l2tp_lns.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define MOD "lns"

struct host_lns {
	uint32_t tag; /* of the packet in the hook in progress: wrapped and unwrapped packets keep
			 the accounting tag (base/pkt.h) */
	struct endpoint *ep;
	struct l2tp_lns *lns;
	uint32_t local; /* the gateway's address: L2TP and discovery arrive there */
	uint32_t pool_net;
	uint8_t pool_plen;
	sp_time now;
	bool registered;
};

/* A whole IPv4/UDP packet from the gateway's address and port sport. */
static void send_from(struct host_lns *x, uint16_t sport, uint32_t addr, uint16_t port,
		      const uint8_t *buf, size_t len)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pkt *p = pkt_alloc(endpoint_params(x->ep)->pool);

	if (p == NULL)
		return;
	h.ip_src = x->local;
	h.ip_dst = addr;
	p->tag = x->tag;
	if (pkt_append(p, buf, (uint32_t)len) != 0 ||
	    udp_build(p, sport, port, x->local, addr, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0) {
		pkt_free(p);
		return;
	}
	endpoint_send(x->ep, x, x->now, p);
}

static void send_udp(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len)
{
	send_from(arg, L2TP_PORT, addr, port, buf, len);
}

/* Out of a session to the gateway (the LNS's net side): on into IKE and IPsec. */
static void send_net(void *arg, const uint8_t *ip, size_t len)
{
	struct host_lns *x = arg;
	struct pkt *p = pkt_alloc(endpoint_params(x->ep)->pool);

	if (p == NULL)
		return;
	if (pkt_append(p, ip, (uint32_t)len) != 0) {
		pkt_free(p);
		return;
	}
	p->tag = x->tag;
	endpoint_resume(x->ep, x, EP_STAGE_IN_WIRE, x->now, p);
}

static int read_users(struct conf_sec *s, struct l2tp_lns_cfg *c)
{
	struct conf_kv *kv = NULL;

	while ((kv = conf_next_kv(s, "user", kv)) != NULL) {
		const char *colon = strchr(kv->val, ':');
		struct ppp_user *u;
		size_t nl;

		if (colon == NULL || c->nusers == L2TP_LNS_USERS_MAX ||
		    (nl = (size_t)(colon - kv->val)) == 0 || nl >= PPP_NAME_MAX ||
		    strlen(colon + 1) == 0 || strlen(colon + 1) > PPP_SECRET_MAX)
			return conf_fail(s, "line %u: user = NAME:SECRET", kv->line);
		u = &c->users[c->nusers++];
		memcpy(u->name, kv->val, nl);
		u->name[nl] = '\0';
		u->secret_len = strlen(colon + 1);
		memcpy(u->secret, colon + 1, u->secret_len);
	}
	while ((kv = conf_next_kv(s, "static", kv)) != NULL) {
		const char *colon = strchr(kv->val, ':');
		size_t nl = colon != NULL ? (size_t)(colon - kv->val) : 0, i;
		uint32_t a;

		if (colon == NULL || sp_ip4_parse(colon + 1, &a) != 0)
			return conf_fail(s, "line %u: static = NAME:ADDRESS", kv->line);
		for (i = 0; i < c->nusers; i++)
			if (strlen(c->users[i].name) == nl &&
			    memcmp(c->users[i].name, kv->val, nl) == 0)
				break;
		if (i == c->nusers)
			return conf_fail(s, "line %u: static for an unknown user", kv->line);
		c->users[i].addr = a;
	}
	return 0;
}

static int lns_create(struct endpoint *ep, struct conf *conf, void **ctx)
{
	struct conf_sec *s = conf_find(conf, "lns", NULL);
	struct l2tp_lns_ops ops = { .send_udp = send_udp, .send_net = send_net };
	struct l2tp_lns_cfg *c;
	struct host_lns *x;
	const char *secret, *pool;
	uint32_t efails, tries;
	int e;

	*ctx = NULL;
	if (s == NULL)
		return 0;
	x = calloc(1, sizeof(*x));
	c = malloc(sizeof(*c));
	if (x == NULL || c == NULL) {
		free(x);
		free(c);
		return SP_ENOMEM;
	}
	l2tp_lns_cfg_defaults(c);
	if ((e = conf_get_ip4(s, "local", 0, &x->local)) != 0 ||
	    (e = conf_get_str(s, "secret", NULL, &secret)) != 0 ||
	    (e = conf_get_str(s, "pool", "10.99.0.0/24", &pool)) != 0 ||
	    (e = read_users(s, c)) != 0 ||
	    (e = conf_get_time(s, "hello", SP_SEC(60), &c->l2tp.hello)) != 0 ||
	    (e = conf_get_time(s, "retransmit", SP_SEC(1), &c->l2tp.rtx_initial)) != 0 ||
	    (e = conf_get_u32(s, "retransmit_tries", 5, 1, 100, &tries)) != 0 ||
	    (e = conf_get_time(s, "echo_interval", SP_SEC(10), &c->ppp.echo_interval)) != 0 ||
	    (e = conf_get_u32(s, "echo_fails", 3, 1, 100, &efails)) != 0)
		goto out;
	if (x->local == 0) {
		e = conf_fail(s, "local = the gateway's address is required");
		goto out;
	}
	if (sp_ip4_prefix_parse(pool, &x->pool_net, &x->pool_plen, true) != 0 ||
	    x->pool_plen > 30) {
		e = conf_fail(s, "pool = a.b.c.d/len, len 30 or shorter");
		goto out;
	}
	if (secret != NULL) {
		c->l2tp.secret_len = SP_MIN(strlen(secret), (size_t)L2TP_SECRET_MAX);
		memcpy(c->l2tp.secret, secret, c->l2tp.secret_len);
	}
	c->l2tp.rtx_tries = tries;
	c->ppp.echo_fails = efails;
	c->ppp.auth = c->nusers > 0 ? PPP_AUTH_CHAP : PPP_AUTH_NONE;
	c->local = x->pool_net + 1;
	c->pool_start = x->pool_net + 1;
	c->pool_n = (uint32_t)((1ull << (32 - x->pool_plen)) - 2);
	c->gw[0] = x->local; /* the gateway this LNS serves is the node itself */
	c->gw_plen[0] = 32;
	c->ngw = 1;
	c->disc.rate = 0; /* a simulated or daemon gateway: its owner bounds the input */
	x->ep = ep;
	ops.arg = x;
	if ((e = l2tp_lns_new(&x->lns, c, &ops, endpoint_params(ep)->rng,
			      endpoint_params(ep)->log)) != 0)
		goto out;
	if (endpoint_params(ep)->ctrs != NULL) {
		l2tp_lns_register(x->lns, endpoint_params(ep)->ctrs, endpoint_params(ep)->name);
		x->registered = true;
	}
	*ctx = x;
	x = NULL;
	e = 0;
out:
	crypto_wipe(c, sizeof(*c));
	free(c);
	free(x);
	return e;
}

static void lns_destroy(void *ctx)
{
	struct host_lns *x = ctx;

	if (x == NULL)
		return;
	if (x->registered)
		l2tp_lns_unregister(x->lns, endpoint_params(x->ep)->ctrs);
	l2tp_lns_free(x->lns);
	free(x);
}

/* The gateway's packets to a client's pool address go into its session. */
static enum endpoint_verdict lns_out_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct host_lns *x = ctx;
	uint32_t dst;

	x->now = now;
	if (p->len < IPV4_HDR_MIN)
		return EP_PASS;
	dst = sp_load_be32(pkt_data(p) + IPV4_OFF_DST);
	if (!sp_ip4_in_prefix(dst, x->pool_net, x->pool_plen))
		return EP_PASS;
	x->tag = p->tag;
	l2tp_lns_net_input(x->lns, now, pkt_data(p), p->len);
	x->tag = 0;
	pkt_free(p);
	return EP_CONSUMED;
}

/* L2TP and discovery datagrams to the gateway's address. */
static enum endpoint_verdict lns_in_wire(void *ctx, sp_time now, struct pkt *p)
{
	struct host_lns *x = ctx;
	uint8_t ob[PKT_HEADROOM + 512];
	struct ipv4_hdr h;
	struct udp_hdr u;
	struct pkt out;
	struct cur c;

	x->now = now;
	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, &h) != 0 || h.ip_proto != IPV4_PROTO_UDP || h.ip_dst != x->local ||
	    ipv4_is_fragment(&h) || udp_parse(&c, &u) != 0)
		return EP_PASS;
	x->tag = p->tag;
	if (u.udp_dport == L2TP_PORT) {
		l2tp_lns_udp_input(x->lns, now, h.ip_src, u.udp_sport, cur_ptr(&c),
				   u.udp_len - UDP_HDR_LEN);
	} else if (u.udp_dport == STUN_PORT) {
		pkt_init(&out, ob, sizeof(ob), PKT_HEADROOM);
		if (l2tp_lns_disc_input(x->lns, now, x->local, STUN_PORT, h.ip_src, u.udp_sport,
					cur_ptr(&c), u.udp_len - UDP_HDR_LEN, &out) == 0)
			send_from(x, STUN_PORT, h.ip_src, u.udp_sport, pkt_data(&out), out.len);
	} else {
		x->tag = 0;
		return EP_PASS;
	}
	x->tag = 0;
	pkt_free(p);
	return EP_CONSUMED;
}

static sp_time lns_next_deadline(const void *ctx)
{
	return l2tp_lns_next_deadline(((const struct host_lns *)ctx)->lns);
}

static void lns_tick(void *ctx, sp_time now)
{
	struct host_lns *x = ctx;

	x->now = now;
	l2tp_lns_tick(x->lns, now);
}

static void lns_show(void *ctx, sp_time now, FILE *out)
{
	l2tp_lns_show(((struct host_lns *)ctx)->lns, now, out);
}

const struct endpoint_module_ops host_lns_module = {
	.name = "lns",
	.create = lns_create,
	.destroy = lns_destroy,
	.out_wire = lns_out_wire,
	.in_wire = lns_in_wire,
	.next_deadline = lns_next_deadline,
	.tick = lns_tick,
	.show = lns_show,
};
