/*
 * A toy tunnel endpoint engine for the simulator's tests: the smallest thing that honours
 * the struct sim_ep_ops contract (sim/engine.h). No keys, no crypto, no IKE: a client
 * wraps packets for a protected network in an outer IPv4 header, either as IP-in-IP or
 * behind an 8-byte ESP-like header (SPI, sequence), and sends them to its gateway; the
 * gateway learns (inner address -> outer address, SPI) from what arrives and wraps answers
 * the same way. Clients can send keepalives on a timer. It is a fixture, not ESP: the real
 * data plane is src/ipsec/.
 */
#ifndef SP_TEST_TOY_TUNNEL_H
#define SP_TEST_TOY_TUNNEL_H

#include "sim/engine.h"
#include "sim/ipnode.h"
#include "base/addr.h"
#include "base/cursor.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define TOY_PEERS 256

struct toy_cfg {
	bool gateway;
	uint32_t peer; /* client: the gateway's address */
	uint32_t net;  /* client: traffic to net/plen goes through the tunnel */
	uint8_t plen;
	uint8_t proto;	     /* IPV4_PROTO_IPIP, or IPV4_PROTO_ESP for the 8-byte header */
	uint32_t spi;	     /* client: its SPI, both directions */
	sp_time keepalive;   /* client: keepalive interval, 0: none */
	uint16_t drop_dport; /* output: drop cleartext UDP to this port (SIM_DROP) */
};

#define foreach_toy_ctr(_)                  \
	_(OUT_CALLS, "out_calls")           \
	_(IN_CALLS, "in_calls")             \
	_(ENCAP, "encap")                   \
	_(DECAP, "decap")                   \
	_(KA_TX, "keepalive_tx")            \
	_(KA_RX, "keepalive_rx")            \
	_(RESETS, "resets")                 \
	_(RESTARTS, "restarts")             \
	_(DROP_POLICY, "drop_policy")       \
	_(DROP_FOREIGN, "drop_foreign_spi") \
	_(DROP_NO_BUF, "drop_bad")

enum toy_ctr {
#define _(sym, str) TOY_##sym,
	foreach_toy_ctr(_)
#undef _
		TOY_CTR_N
};

static const char *const toy_ctr_names[] = { SP_CTR_NAMES(foreach_toy_ctr) };

struct toy {
	struct sim_ep_env *env;
	struct toy_cfg cfg;
	uint64_t ctr[TOY_CTR_N];
	struct sp_ctrs blk;
	uint64_t rx_ok; /* decapsulated since the last reset */
	sp_time next_ka;
	uint32_t seq;
	unsigned last_rt_ifi;
	uint32_t last_rt_nexthop;
	struct {
		uint32_t inner, outer, spi;
	} peers[TOY_PEERS];
	unsigned npeers;
};

static int toy_create(void **ctx, struct sim_ep_env *env, const void *cfg, sp_time now)
{
	struct toy *t = calloc(1, sizeof(*t));

	*ctx = NULL;
	if (t == NULL)
		return SP_ENOMEM;
	t->env = env;
	t->cfg = *(const struct toy_cfg *)cfg;
	t->next_ka = t->cfg.keepalive && !t->cfg.gateway ? now + t->cfg.keepalive : SP_TIME_NEVER;
	sp_ctrs_init(&t->blk, "toy", env->node->name, toy_ctr_names, t->ctr, TOY_CTR_N);
	sp_ctr_register(env->ctrs, &t->blk);
	*ctx = t;
	return 0;
}

static void toy_destroy(void *ctx)
{
	free(ctx);
}

/* Wrap p for (outer dst, spi) and send it; consumes p. */
static void toy_encap(struct toy *t, sp_time now, struct pkt *p, uint32_t dst, uint32_t spi)
{
	struct sim_route_hit h;
	struct ipv4_hdr oh = { .ip_ttl = 64, .ip_proto = t->cfg.proto, .ip_dst = dst };
	uint8_t *b;

	if (sim_route_lookup(t->env->node, dst, &h) != 0) {
		t->ctr[TOY_DROP_NO_BUF]++;
		pkt_free(p);
		return;
	}
	oh.ip_src = h.src;
	if (t->cfg.proto == IPV4_PROTO_ESP) {
		if ((b = pkt_push(p, 8)) == NULL) {
			t->ctr[TOY_DROP_NO_BUF]++;
			pkt_free(p);
			return;
		}
		sp_store_be32(b, spi);
		sp_store_be32(b + 4, ++t->seq);
	}
	if (ipv4_build(p, &oh, NULL, 0) != 0) {
		t->ctr[TOY_DROP_NO_BUF]++;
		pkt_free(p);
		return;
	}
	t->ctr[TOY_ENCAP]++;
	t->env->send(t->env, now, p); /* does not come back through toy_output */
}

static int toy_peer(const struct toy *t, uint32_t inner)
{
	for (unsigned i = 0; i < t->npeers; i++)
		if (t->peers[i].inner == inner)
			return (int)i;
	return -1;
}

static enum sim_verdict toy_output(void *ctx, sp_time now, struct pkt *p,
				   const struct sim_route_hit *rt)
{
	struct toy *t = ctx;
	const uint8_t *b = pkt_data(p);
	size_t hl = (size_t)(b[0] & 0x0f) * 4;
	uint32_t dst = sp_load_be32(b + IPV4_OFF_DST);
	int i;

	t->ctr[TOY_OUT_CALLS]++;
	t->last_rt_ifi = rt->ifi;
	t->last_rt_nexthop = rt->nexthop;
	if (t->cfg.drop_dport != 0 && b[IPV4_OFF_PROTO] == IPV4_PROTO_UDP &&
	    p->len >= hl + UDP_HDR_LEN && sp_load_be16(b + hl + 2) == t->cfg.drop_dport) {
		t->ctr[TOY_DROP_POLICY]++;
		return SIM_DROP;
	}
	if (!t->cfg.gateway) {
		if (!sp_ip4_in_prefix(dst, t->cfg.net, t->cfg.plen))
			return SIM_PASS;
		toy_encap(t, now, p, t->cfg.peer, t->cfg.spi);
		return SIM_CONSUMED;
	}
	if ((i = toy_peer(t, dst)) < 0)
		return SIM_PASS;
	toy_encap(t, now, p, t->peers[i].outer, t->peers[i].spi);
	return SIM_CONSUMED;
}

static enum sim_verdict toy_input(void *ctx, sp_time now, struct pkt *p, unsigned ifi)
{
	struct toy *t = ctx;
	const uint8_t *b = pkt_data(p);
	size_t hl = (size_t)(b[0] & 0x0f) * 4, skip = hl;
	uint32_t outer = sp_load_be32(b + IPV4_OFF_SRC), spi = 0;

	t->ctr[TOY_IN_CALLS]++;
	if (b[IPV4_OFF_PROTO] != t->cfg.proto)
		return SIM_PASS;
	if (t->cfg.proto == IPV4_PROTO_ESP) {
		if (p->len < hl + 8)
			return SIM_PASS;
		spi = sp_load_be32(b + hl);
		skip += 8;
		if (!t->cfg.gateway && spi != t->cfg.spi) {
			t->ctr[TOY_DROP_FOREIGN]++; /* meant for another client */
			return SIM_DROP;
		}
	}
	if (pkt_pull(p, (uint32_t)skip) == NULL)
		return SIM_DROP;
	if (p->len == 0) {
		t->ctr[TOY_KA_RX]++;
	} else if (p->len < IPV4_HDR_MIN) {
		t->ctr[TOY_DROP_NO_BUF]++;
		return SIM_DROP;
	}
	if (t->cfg.gateway && p->len >= IPV4_HDR_MIN) {
		uint32_t inner = sp_load_be32(pkt_data(p) + IPV4_OFF_SRC);
		int i = toy_peer(t, inner);

		if (i < 0 && t->npeers < TOY_PEERS)
			i = (int)t->npeers++;
		if (i >= 0) {
			t->peers[i].inner = inner;
			t->peers[i].outer = outer;
			t->peers[i].spi = spi;
		}
	}
	if (p->len == 0) {
		pkt_free(p);
		return SIM_CONSUMED;
	}
	t->ctr[TOY_DECAP]++;
	t->rx_ok++;
	t->env->deliver(t->env, now, p, ifi); /* does not come back through toy_input */
	return SIM_CONSUMED;
}

static sp_time toy_next_deadline(void *ctx)
{
	return ((struct toy *)ctx)->next_ka;
}

static void toy_tick(void *ctx, sp_time now)
{
	struct toy *t = ctx;
	struct pkt *p;

	if (now < t->next_ka)
		return;
	t->next_ka = now + t->cfg.keepalive;
	if ((p = pkt_alloc(t->env->pool)) == NULL) {
		t->ctr[TOY_DROP_NO_BUF]++;
		return;
	}
	t->ctr[TOY_KA_TX]++;
	toy_encap(t, now, p, t->cfg.peer, t->cfg.spi);
}

static void toy_reset(void *ctx, sp_time now)
{
	struct toy *t = ctx;

	(void)now;
	t->ctr[TOY_RESETS]++;
	t->npeers = 0;
	t->seq = 0;
	t->rx_ok = 0;
	t->next_ka = SP_TIME_NEVER;
}

static void toy_restart(void *ctx, sp_time now)
{
	struct toy *t = ctx;

	t->ctr[TOY_RESTARTS]++;
	if (t->cfg.keepalive && !t->cfg.gateway)
		t->next_ka = now;
}

static void toy_report(void *ctx, struct sim_ep_report *r)
{
	struct toy *t = ctx;

	if (!t->cfg.gateway) {
		r->tunnels_wanted = 1;
		r->tunnels_up = t->rx_ok > 0;
	}
	r->rx_foreign = t->ctr[TOY_DROP_FOREIGN];
	r->ctl_pkts = t->ctr[TOY_KA_TX];
}

static const struct sim_ep_ops toy_ops = {
	.name = "toy",
	.create = toy_create,
	.output = toy_output,
	.input = toy_input,
	.next_deadline = toy_next_deadline,
	.tick = toy_tick,
	.reset = toy_reset,
	.restart = toy_restart,
	.report = toy_report,
	.destroy = toy_destroy,
};

#endif
