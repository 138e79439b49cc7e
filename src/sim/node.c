#include "sim/node.h"
#include "sim/link.h"
#include "sim/sim_int.h"
#include "base/addr.h"

#include <stdlib.h>
#include <string.h>

static const char *const node_ctr_names[] = { SP_CTR_NAMES(foreach_sim_node_ctr) };

static void node_timer(struct sim *sim, struct sim_timer *t, sp_time now)
{
	struct sim_node *n = t->arg;

	(void)sim;
	if (n->up && n->ops->tick != NULL)
		n->ops->tick(n, now);
	sim_node_resched(n);
}

int sim_node_new(struct sim *sim, const char *name, const struct sim_node_ops *ops, void *priv,
		 struct sim_node **out)
{
	struct sim_node *n;
	char rname[SIM_NAME_MAX + 8];

	*out = NULL;
	if (strlen(name) == 0 || strlen(name) >= SIM_NAME_MAX || ops == NULL || ops->input == NULL)
		return SP_EINVAL;
	if (sim_node_find(sim, name) != NULL)
		return SP_EEXIST;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return SP_ENOMEM;
	n->sim = sim;
	strcpy(n->name, name);
	n->id = ++sim->nnodes;
	n->ops = ops;
	n->priv = priv;
	n->up = true;
	snprintf(rname, sizeof(rname), "node:%s", name);
	sim_rng_derive(sim, rname, &n->rng);
	n->logctx.sim = sim;
	n->logctx.who = n->name;
	n->log.sink = sim_log_sink;
	n->log.arg = &n->logctx;
	n->log.level = sim->log_level;
	sp_ctr_registry_init(&n->ctrs);
	sp_ctrs_init(&n->ctr_blk, "node", n->name, node_ctr_names, n->ctr, SIM_NODE_CTR_N);
	sp_ctr_register(&n->ctrs, &n->ctr_blk);
	sim_timer_init(&n->timer, node_timer, n);
	*sim->nodes_tail = n;
	sim->nodes_tail = &n->next;
	*out = n;
	return 0;
}

void sim_node_destroy(struct sim_node *n)
{
	if (n->ops->destroy != NULL)
		n->ops->destroy(n);
	free(n);
}

void sim_node_rng(const struct sim_node *n, const char *purpose, struct sp_xoshiro *out)
{
	char name[SIM_NAME_MAX + 64];

	snprintf(name, sizeof(name), "node:%s/%s", n->name, purpose);
	sim_rng_derive(n->sim, name, out);
}

int sim_iface_add(struct sim_node *n, const char *name, uint32_t addr, uint8_t plen,
		  struct sim_link *link, unsigned *ifi)
{
	struct sim_iface *ifc;
	unsigned i = n->nifs;
	int r;

	if (n->nifs == SIM_IFACE_MAX)
		return SP_EFULL;
	if (plen > 32 || strlen(name) >= SIM_IFNAME_MAX)
		return SP_EINVAL;
	ifc = &n->ifs[i];
	memset(ifc, 0, sizeof(*ifc));
	strcpy(ifc->name, name);
	ifc->addr[0] = addr;
	ifc->naddr = 1;
	ifc->plen = plen;
	ifc->mtu = SIM_MTU_DEFAULT;
	if (link != NULL && (r = sim_link_attach(link, n, i, &ifc->port)) != 0)
		return r;
	ifc->link = link;
	n->nifs++;
	sim_addrs_changed(n->sim);
	if (plen > 0 && plen < 32 &&
	    (r = sim_route_add(n, addr & sp_ip4_mask(plen), plen, 0, (int)i, 0, 0)) != 0)
		return r;
	if (ifi != NULL)
		*ifi = i;
	return 0;
}

int sim_iface_addr_add(struct sim_node *n, unsigned ifi, uint32_t addr)
{
	struct sim_iface *ifc;

	if (ifi >= n->nifs)
		return SP_EINVAL;
	ifc = &n->ifs[ifi];
	if (ifc->naddr == SIM_IFACE_ADDRS)
		return SP_EFULL;
	ifc->addr[ifc->naddr++] = addr;
	sim_addrs_changed(n->sim);
	return 0;
}

int sim_iface_set_mtu(struct sim_node *n, unsigned ifi, uint32_t mtu)
{
	/* RFC 791: every IPv4 module takes 68-byte packets unfragmented. */
	if (ifi >= n->nifs || mtu < 68 || mtu > PKT_BUFSIZE - PKT_HEADROOM)
		return SP_EINVAL;
	n->ifs[ifi].mtu = mtu;
	return 0;
}

int sim_node_addr_ifi(const struct sim_node *n, uint32_t addr)
{
	for (unsigned i = 0; i < n->nifs; i++)
		for (unsigned a = 0; a < n->ifs[i].naddr; a++)
			if (n->ifs[i].addr[a] == addr)
				return (int)i;
	return -1;
}

uint32_t sim_node_addr(const struct sim_node *n)
{
	return n->nifs > 0 ? n->ifs[0].addr[0] : 0;
}

/* Kept sorted: longer prefixes first, then lower metric, then insertion order, so the
 * first usable match is the answer. */
static bool route_before(const struct sim_route *a, const struct sim_route *b)
{
	return a->plen > b->plen || (a->plen == b->plen && a->metric < b->metric);
}

int sim_route_add(struct sim_node *n, uint32_t net, uint8_t plen, uint32_t gw, int ifi,
		  uint32_t metric, unsigned flags)
{
	struct sim_route rt;
	unsigned i;

	if (plen > 32)
		return SP_EINVAL;
	if (n->nroutes == SIM_ROUTE_MAX)
		return SP_EFULL;
	if (ifi < 0) {
		for (i = 0; i < n->nifs; i++) {
			const struct sim_iface *ifc = &n->ifs[i];

			if (ifc->plen > 0 && sp_ip4_in_prefix(gw, ifc->addr[0], ifc->plen))
				break;
		}
		if (gw == 0 || i == n->nifs)
			return SP_EINVAL;
		ifi = (int)i;
	} else if ((unsigned)ifi >= n->nifs) {
		return SP_EINVAL;
	}
	rt = (struct sim_route){ .net = net & sp_ip4_mask(plen),
				 .plen = plen,
				 .gw = gw,
				 .ifi = (unsigned)ifi,
				 .metric = metric,
				 .flags = flags };
	for (i = n->nroutes; i > 0 && route_before(&rt, &n->routes[i - 1]); i--)
		n->routes[i] = n->routes[i - 1];
	n->routes[i] = rt;
	n->nroutes++;
	return 0;
}

unsigned sim_route_del(struct sim_node *n, uint32_t net, uint8_t plen, uint32_t gw)
{
	unsigned i, j, del = 0;

	net &= sp_ip4_mask(plen);
	for (i = j = 0; i < n->nroutes; i++) {
		const struct sim_route *rt = &n->routes[i];

		if (rt->net == net && rt->plen == plen && (gw == 0 || rt->gw == gw)) {
			del++;
			continue;
		}
		n->routes[j++] = *rt;
	}
	n->nroutes = j;
	return del;
}

/* The dead-gateway oracle of SIM_RT_CHECK_NH: is the neighbour there and alive? */
static bool nexthop_alive(const struct sim_node *n, unsigned ifi, uint32_t nh)
{
	const struct sim_iface *ifc = &n->ifs[ifi];
	const struct sim_link *l = ifc->link;
	int port;

	if (l == NULL || !l->up || l->ports[ifc->port].down)
		return false;
	if ((port = sim_link_resolve(l, ifc->port, nh)) < 0)
		return false;
	return !l->ports[port].down && l->ports[port].node->up;
}

int sim_route_lookup(const struct sim_node *n, uint32_t dst, struct sim_route_hit *hit)
{
	for (unsigned i = 0; i < n->nroutes; i++) {
		const struct sim_route *rt = &n->routes[i];
		uint32_t nh;

		if ((dst & sp_ip4_mask(rt->plen)) != rt->net)
			continue;
		nh = rt->gw != 0 ? rt->gw : dst;
		if ((rt->flags & SIM_RT_CHECK_NH) && !nexthop_alive(n, rt->ifi, nh))
			continue;
		hit->ifi = rt->ifi;
		hit->nexthop = nh;
		hit->src = n->ifs[rt->ifi].addr[0];
		hit->rt = rt;
		return 0;
	}
	return SP_ENOTFOUND;
}

void sim_node_xmit(struct sim_node *n, unsigned ifi, uint32_t nexthop, struct pkt *p)
{
	struct sim_iface *ifc;

	if (ifi >= n->nifs || (ifc = &n->ifs[ifi])->link == NULL) {
		n->ctr[SIM_NODE_CTR_DROP_NO_LINK]++;
		pkt_free(p);
		return;
	}
	n->ctr[SIM_NODE_CTR_TX]++;
	p->ifindex = ifi;
	sim_link_send(ifc->link, ifc->port, nexthop, p);
}

void sim_node_resched(struct sim_node *n)
{
	sp_time t = SP_TIME_NEVER;

	if (n->up && n->ops->next_deadline != NULL)
		t = n->ops->next_deadline(n);
	if (t != n->timer.when && sim_timer_arm(n->sim, &n->timer, t) != 0)
		SP_ERR(&n->log, "sim", "event queue full: node timer lost");
}

void sim_node_crash(struct sim_node *n)
{
	if (!n->up)
		return;
	SP_INFO(&n->log, "sim", "crash: all state lost");
	n->up = false;
	n->ctr[SIM_NODE_CTR_CRASHES]++;
	if (n->ops->crash != NULL)
		n->ops->crash(n, n->sim->now);
	sim_timer_cancel(&n->timer);
}

void sim_node_restart(struct sim_node *n)
{
	if (n->up)
		return;
	SP_INFO(&n->log, "sim", "restart");
	n->up = true;
	n->ctr[SIM_NODE_CTR_RESTARTS]++;
	if (n->ops->restart != NULL)
		n->ops->restart(n, n->sim->now);
	sim_node_resched(n);
}
