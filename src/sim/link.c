#include "sim/link.h"
#include "sim/node.h"
#include "sim/sim_int.h"
#include "base/hash.h"
#include "io/pcap.h"

#include <stdlib.h>
#include <string.h>

#define LINK_QUEUE_DEFAULT (64u * 1024)

static const char *const link_ctr_names[] = { SP_CTR_NAMES(foreach_sim_link_ctr) };

int sim_link_new(struct sim *sim, const char *name, const struct sim_link_params *prm,
		 struct sim_link **out)
{
	struct sim_link *l;
	char rname[SIM_NAME_MAX + 8];
	int r;

	*out = NULL;
	if (strlen(name) == 0 || strlen(name) >= SIM_NAME_MAX)
		return SP_EINVAL;
	if (sim_link_find(sim, name) != NULL)
		return SP_EEXIST;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SP_ENOMEM;
	l->sim = sim;
	strcpy(l->name, name);
	l->up = true;
	if (prm != NULL)
		l->prm = *prm;
	snprintf(rname, sizeof(rname), "link:%s", name);
	sim_rng_derive(sim, rname, &l->rng);
	sp_ctrs_init(&l->ctr_blk, "link", l->name, link_ctr_names, l->ctr, SIM_LINK_CTR_N);
	if (sim->pcap_prefix != NULL) {
		size_t n = strlen(sim->pcap_prefix) + strlen(name) + 6;
		char *path = malloc(n);

		if (path == NULL) {
			free(l);
			return SP_ENOMEM;
		}
		snprintf(path, n, "%s%s.pcap", sim->pcap_prefix, name);
		r = io_pcap_open_write(&l->pcap, path);
		if (r != 0)
			SP_ERR(&sim->log, "sim", "cannot write %s: %s", path, sp_strerror(r));
		free(path);
		if (r != 0) {
			free(l);
			return r;
		}
	}
	sp_ctr_register(&sim->link_ctrs, &l->ctr_blk);
	*sim->links_tail = l;
	sim->links_tail = &l->next;
	sim->nlinks++;
	*out = l;
	return 0;
}

void sim_link_destroy(struct sim_link *l)
{
	io_pcap_close_write(l->pcap);
	free(l->nh);
	free(l->ports);
	free(l);
}

void sim_link_set_params(struct sim_link *l, const struct sim_link_params *prm)
{
	l->prm = *prm;
}

int sim_link_pcap(struct sim_link *l, const char *path)
{
	struct io_pcap_writer *w;
	int r;

	if ((r = io_pcap_open_write(&w, path)) != 0)
		return r;
	io_pcap_close_write(l->pcap);
	l->pcap = w;
	return 0;
}

void sim_link_set_up(struct sim_link *l, bool up)
{
	if (l->up == up)
		return;
	l->up = up;
	if (!up)
		l->epoch++;
	SP_INFO(sim_log(l->sim), "sim", "link %s %s", l->name, up ? "repaired" : "cut");
}

void sim_link_port_set_up(struct sim_link *l, unsigned port, bool up)
{
	struct sim_link_port *p;

	if (port >= l->nports)
		return;
	p = &l->ports[port];
	if (p->down == !up)
		return;
	p->down = !up;
	if (!up)
		p->epoch++;
	SP_INFO(sim_log(l->sim), "sim", "link %s port %u (%s) %s", l->name, port, p->node->name,
		up ? "plugged in" : "unplugged");
}

void sim_link_port_delay(struct sim_link *l, unsigned port, sp_time extra)
{
	if (port < l->nports)
		l->ports[port].extra_delay = extra;
}

int sim_link_attach(struct sim_link *l, struct sim_node *n, unsigned ifi, unsigned *port)
{
	struct sim_link_port *p;

	if (l->nports == l->capports) {
		unsigned cap = l->capports ? l->capports * 2 : 4;

		if ((p = realloc(l->ports, cap * sizeof(*p))) == NULL)
			return SP_ENOMEM;
		l->ports = p;
		l->capports = cap;
	}
	p = &l->ports[l->nports];
	memset(p, 0, sizeof(*p));
	p->node = n;
	p->ifi = ifi;
	*port = l->nports++;
	return 0;
}

static uint32_t nh_slot(uint32_t addr, uint32_t mask)
{
	return (uint32_t)sp_hash_u64(addr, 0x6e657874686f70ull) & mask;
}

/* Rebuild the next-hop table; the first port holding an address wins, as a scan would. */
static void nh_rebuild(struct sim_link *l)
{
	uint32_t n = 0, size = 16;
	struct sim_link_nh *t;

	for (unsigned i = 0; i < l->nports; i++)
		n += l->ports[i].node->ifs[l->ports[i].ifi].naddr;
	while (size < 2 * n)
		size <<= 1;
	if ((t = calloc(size, sizeof(*t))) == NULL) {
		free(l->nh);
		l->nh = NULL; /* sim_link_resolve falls back to scanning */
		return;
	}
	for (unsigned i = 0; i < l->nports; i++) {
		const struct sim_iface *ifc = &l->ports[i].node->ifs[l->ports[i].ifi];

		for (unsigned a = 0; a < ifc->naddr; a++) {
			uint32_t k = nh_slot(ifc->addr[a], size - 1);

			while (t[k].port1 != 0 && t[k].addr != ifc->addr[a])
				k = (k + 1) & (size - 1);
			if (t[k].port1 == 0) {
				t[k].addr = ifc->addr[a];
				t[k].port1 = i + 1;
			}
		}
	}
	free(l->nh);
	l->nh = t;
	l->nh_mask = size - 1;
	l->nh_gen = l->sim->addr_gen;
}

static int resolve_scan(const struct sim_link *l, unsigned from_port, uint32_t nexthop)
{
	for (unsigned i = 0; i < l->nports; i++) {
		const struct sim_iface *ifc;

		if (i == from_port)
			continue;
		ifc = &l->ports[i].node->ifs[l->ports[i].ifi];
		for (unsigned a = 0; a < ifc->naddr; a++)
			if (ifc->addr[a] == nexthop)
				return (int)i;
	}
	return -1;
}

int sim_link_resolve(const struct sim_link *cl, unsigned from_port, uint32_t nexthop)
{
	struct sim_link *l = (struct sim_link *)cl; /* the cache is not observable state */
	uint32_t k;

	/* A point-to-point link has one other end: deliver there whatever the address. */
	if (l->nports == 2)
		return from_port == 0 ? 1 : 0;
	if (l->nh == NULL || l->nh_gen != l->sim->addr_gen)
		nh_rebuild(l);
	if (l->nh == NULL)
		return resolve_scan(l, from_port, nexthop);
	for (k = nh_slot(nexthop, l->nh_mask); l->nh[k].port1 != 0; k = (k + 1) & l->nh_mask) {
		if (l->nh[k].addr == nexthop) {
			unsigned port = l->nh[k].port1 - 1;

			/* The sender's own address: only another port holding it would do. */
			return port != from_port ? (int)port : resolve_scan(l, from_port, nexthop);
		}
	}
	return -1;
}

static int link_schedule(struct sim_link *l, unsigned dport, struct pkt *p, sp_time t,
			 uint64_t epoch)
{
	struct sim_ev ev = {
		.t = t, .kind = SIM_EV_DELIVER, .a = l, .b = p, .u32 = dport, .u64 = epoch
	};

	return sim_ev_push(l->sim, &ev);
}

/* Epoch of a packet in flight: link cuts in the high bits, the receiving port's unplugs
 * in the low, so either invalidates it. */
static inline uint64_t flight_epoch(const struct sim_link *l, unsigned dport)
{
	return l->epoch << 32 | (l->ports[dport].epoch & 0xffffffffu);
}

void sim_link_send(struct sim_link *l, unsigned from_port, uint32_t nexthop, struct pkt *p)
{
	const struct sim_link_params *prm = &l->prm;
	struct sim_link_port *src = &l->ports[from_port];
	struct sim *sim = l->sim;
	sp_time now = sim->now, t, gap;
	struct pkt *copy = NULL;
	int dport;

	l->ctr[SIM_LINK_CTR_SENT]++;
	l->ctr[SIM_LINK_CTR_BYTES] += p->len;
	if (p->tag != 0) {
		l->ctr[SIM_LINK_CTR_DATA_PKTS]++;
		l->ctr[SIM_LINK_CTR_DATA_BYTES] += p->len;
	}
	if (!l->up) {
		l->ctr[SIM_LINK_CTR_DROP_CUT]++;
		goto drop;
	}
	if ((dport = sim_link_resolve(l, from_port, nexthop)) < 0) {
		l->ctr[SIM_LINK_CTR_DROP_NO_NEIGHBOR]++;
		goto drop;
	}
	/* Serialisation at the sender: the wire is busy until the previous packet is out. */
	t = now;
	if (prm->rate_bps > 0) {
		uint32_t qlim = prm->queue_bytes ? prm->queue_bytes : LINK_QUEUE_DEFAULT;
		sp_time start = src->busy_until > now ? src->busy_until : now;
		sp_time tx = (sp_time)p->len * 8 * 1000000000ull / prm->rate_bps;

		/* Bytes still queued ahead of this packet, from the backlog time. */
		if ((start - now) * prm->rate_bps / 8000000000ull > qlim) {
			l->ctr[SIM_LINK_CTR_DROP_QUEUE]++;
			goto drop;
		}
		src->busy_until = start + tx;
		t = src->busy_until;
	}
	/* Draws happen in a fixed order per packet so a run depends only on the seed. */
	if (prm->loss > 0 && sp_rng_unit(&l->rng.rng) < prm->loss) {
		l->ctr[SIM_LINK_CTR_LOST]++;
		goto drop;
	}
	t += prm->delay;
	if (prm->jitter > 0)
		t += (sp_time)(sp_rng_unit(&l->rng.rng) * (double)(prm->jitter + 1));
	if (t < src->last_arrival)
		t = src->last_arrival;
	if (prm->dup > 0 && sp_rng_unit(&l->rng.rng) < prm->dup)
		copy = pkt_clone(&sim->pool, p);
	if (prm->reorder > 0 && sp_rng_unit(&l->rng.rng) < prm->reorder) {
		/* Held back without moving the FIFO mark: the next packets overtake it. */
		gap = prm->reorder_gap ? prm->reorder_gap : prm->delay + SP_MSEC(1);
		l->ctr[SIM_LINK_CTR_REORDERED]++;
		t += gap;
	} else {
		src->last_arrival = t;
	}
	/* After the FIFO mark: a constant per receiver keeps each (sender, receiver) pair in
	 * order without holding one receiver's packets behind another's extra delay. */
	t += l->ports[dport].extra_delay;
	if (link_schedule(l, (unsigned)dport, p, t, flight_epoch(l, (unsigned)dport)) != 0) {
		SP_ERR(sim_log(sim), "sim", "event queue full: packet dropped on %s", l->name);
		l->ctr[SIM_LINK_CTR_LOST]++;
		pkt_free(copy);
		goto drop;
	}
	if (copy != NULL) {
		l->ctr[SIM_LINK_CTR_DUPLICATED]++;
		if (link_schedule(l, (unsigned)dport, copy, t, flight_epoch(l, (unsigned)dport)) !=
		    0)
			pkt_free(copy);
	}
	return;
drop:
	pkt_free(p);
}

void sim_link_deliver(struct sim *sim, struct sim_link *l, uint32_t port, struct pkt *p,
		      uint64_t epoch)
{
	struct sim_link_port *dp = &l->ports[port];
	struct sim_node *n = dp->node;

	if (epoch >> 32 != (l->epoch & 0xffffffffu) || !l->up) {
		l->ctr[SIM_LINK_CTR_DROP_CUT]++;
		pkt_free(p);
		return;
	}
	if (dp->down || (epoch & 0xffffffffu) != (dp->epoch & 0xffffffffu)) {
		l->ctr[SIM_LINK_CTR_DROP_PORT_DOWN]++;
		pkt_free(p);
		return;
	}
	l->ctr[SIM_LINK_CTR_DELIVERED]++;
	if (l->pcap != NULL && io_pcap_write(l->pcap, sim->now, pkt_data(p), p->len) != 0)
		SP_WARN(sim_log(sim), "sim", "pcap of %s: packet of %u bytes not written", l->name,
			p->len);
	n->ctr[SIM_NODE_CTR_RX]++;
	if (!n->up) {
		n->ctr[SIM_NODE_CTR_DROP_CRASHED]++;
		pkt_free(p);
		return;
	}
	p->ifindex = dp->ifi;
	p->ts = sim->now;
	n->ops->input(n, sim->now, p, dp->ifi);
	sim_node_resched(n);
}
