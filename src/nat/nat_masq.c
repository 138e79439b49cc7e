/*
 * masq: VPN Masquerade's heuristics for ESP as 003's Background states them, rule by rule.
 * An item (003 FIG. 5: client 501, server 502, incoming SPI 503, outgoing SPI 504, expiry
 * 505) is outstanding while its incoming SPI is null, established after.
 *
 *   client packet, no item matches (client, server, outgoing SPI):
 *     (1) no outstanding item matches the server: create an outstanding item;
 *     (2) otherwise drop it.
 *   server packet, no established item matches (server, incoming SPI):
 *     (1) an outstanding item matches the server: it becomes established with the
 *         packet's incoming SPI, and the packet goes to its client;
 *     (2) otherwise multicast it to every client that recently ran IKE with the server.
 *   T_out: outstanding items expire this long after creation.
 *   N_out: once an outstanding item of C1 has caused another client's packet to be
 *          dropped, C1 may send at most N_out more packets matching it.
 *   T_ei:  established items expire after this much inactivity.
 *
 * 003 puts no bound on the multicast, and anyone outside can send ESP that claims to come
 * from the server: each such packet would become one copy per recent IKE client. Here a
 * multicast goes to at most masq_multicast_max clients, and each server has a token
 * bucket of masq_multicast_rate multicasts per second (one entry per (global, server),
 * made only when such clients exist); the rest are dropped and counted.
 *
 * IKE items are the engine's (nat_ike.c), with the same rules for cookies.
 * Entries: k[0] = (proto, client, server, outgoing SPI) indexed; k[1] = (proto, global,
 * server, 0) while outstanding, (proto, global, server, incoming SPI) once established;
 * aux counts packets since the item first blocked another client.
 */
#include "nat/nat_priv.h"
#include "base/conf.h"

#define K_OUT  (NAT_K_STRAT + 0)
#define K_PEND (NAT_K_STRAT + 1)
#define K_EST  (NAT_K_STRAT + 2)
#define K_RATE (NAT_K_STRAT + 3) /* multicast bucket: (0, global, server, 0) */

#define ST_ESTABLISHED 0x01
#define ST_BLOCKING    0x02

#define MASQ_MCAST_MAX 64

#define foreach_masq_ctr(_)                                 \
	_(OUTSTANDING, "masq_items_outstanding_created")    \
	_(ESTABLISHED, "masq_items_established")            \
	_(MULTICAST, "masq_multicast")                      \
	_(MULTICAST_COPIES, "masq_multicast_copies")        \
	_(DROP_OUTSTANDING, "masq_drop_server_outstanding") \
	_(DROP_N_OUT, "masq_drop_n_out")                    \
	_(DROP_NO_ITEM, "masq_drop_no_item_no_ike_client")  \
	_(DROP_MCAST_RATE, "masq_drop_multicast_rate")      \
	_(MCAST_CAPPED, "masq_multicast_clients_capped")

enum masq_ctr {
#define _(sym, str) MASQ_CTR_##sym,
	foreach_masq_ctr(_)
#undef _
		MASQ_CTR_N
};

static const char *const masq_ctr_names[] = { SP_CTR_NAMES(foreach_masq_ctr) };

struct masq_params {
	sp_time t_out;
	uint32_t n_out;
	sp_time t_ei;
	uint32_t mcast_max;  /* clients a multicast reaches at most */
	uint32_t mcast_rate; /* multicasts per second per server, and the burst */
};
_Static_assert(sizeof(struct masq_params) <= NAT_SPARAMS_SIZE, "params fit");

static void masq_defaults(void *params)
{
	struct masq_params *p = params;

	/* 003 names T_out, N_out and T_ei but gives no values; these keep pingtime >=
	 * T_out / N_out (003) at 2 s and T_ei above a 10-minute maxidle. */
	p->t_out = SP_SEC(10);
	p->n_out = 5;
	p->t_ei = SP_SEC(1800);
	/* Not in 003: 64 clients is what the engine always reached; 100 per second is far
	 * above what SA set-ups and rekeys need, and bounds a spoofed flood to 6400 copies
	 * per second per server. */
	p->mcast_max = MASQ_MCAST_MAX;
	p->mcast_rate = 100;
}

static int masq_conf(struct conf_sec *s, void *params)
{
	struct masq_params *p = params;
	int r;

	if ((r = nat_conf_time(s, "masq_t_out", p->t_out, &p->t_out)) != 0 ||
	    (r = conf_get_u32(s, "masq_n_out", p->n_out, 0, 1000000, &p->n_out)) != 0 ||
	    (r = nat_conf_time(s, "masq_t_ei", p->t_ei, &p->t_ei)) != 0 ||
	    (r = conf_get_u32(s, "masq_multicast_max", p->mcast_max, 1, MASQ_MCAST_MAX,
			      &p->mcast_max)) != 0 ||
	    (r = conf_get_u32(s, "masq_multicast_rate", p->mcast_rate, 1, 1000000,
			      &p->mcast_rate)) != 0)
		return r;
	if (p->t_out == 0 || p->t_ei == 0)
		return conf_fail(s, "masq_t_out and masq_t_ei must be positive");
	return 0;
}

static uint32_t pending_for(struct nat_table *t, sp_time now, uint8_t proto, uint32_t global,
			    uint32_t server)
{
	struct nat_key k;

	nat_key_set(&k, K_PEND, proto, global, server, 0);
	return nat_table_lookup(t, &k, now);
}

static int masq_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
		       struct pkt *p)
{
	const struct masq_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx, pend;

	(void)ctx;
	(void)p;
	nat_key_set(&k, K_OUT, ip->proto, ip->client, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) != NAT_NIL) {
		e = nat_entry_at(t, idx);
		if (e->state & ST_ESTABLISHED) {
			nat_table_schedule(t, idx, now + par->t_ei, now);
			nat_offload_settle(n, idx);
		} else if (e->state & ST_BLOCKING) {
			if (e->aux >= par->n_out) {
				nat_sctr_inc(n, MASQ_CTR_DROP_N_OUT, 1);
				return NAT_DROP;
			}
			e->aux++;
		}
		return NAT_TO_OUTSIDE;
	}
	if ((pend = pending_for(t, now, ip->proto, ip->global, ip->server)) != NAT_NIL) {
		/* (2): the server has an outstanding item; count toward N_out of its owner
		 * when the packet dropped is another client's. */
		e = nat_entry_at(t, pend);
		if (e->k[0].a != ip->client && !(e->state & ST_BLOCKING)) {
			e->state |= ST_BLOCKING;
			e->aux = 0;
		}
		nat_sctr_inc(n, MASQ_CTR_DROP_OUTSTANDING, 1);
		return NAT_DROP;
	}
	/* (1): a new outstanding item, within the client's share (host_max_esp). */
	if ((idx = nat_strat_alloc_for(n, now, ip->client, p)) == NAT_NIL)
		return NAT_DROP;
	e = nat_entry_at(t, idx);
	e->k[0] = k;
	nat_key_set(&e->k[1], K_PEND, ip->proto, ip->global, ip->server, 0);
	nat_table_hash_add(t, idx, 0);
	nat_table_hash_add(t, idx, 1);
	nat_strat_charge(n, idx);
	nat_table_schedule(t, idx, now + par->t_out, now); /* T_out from creation */
	nat_sctr_inc(n, MASQ_CTR_OUTSTANDING, 1);
	return NAT_TO_OUTSIDE;
}

/* Take a token from the server's multicast bucket (made on first use, kept while used). */
static bool mcast_allowed(struct nat *n, sp_time now, uint32_t global, uint32_t server)
{
	const struct masq_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	sp_time iv = SP_SEC(1) / par->mcast_rate, last;
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	nat_key_set(&k, K_RATE, 0, global, server, 0);
	if ((idx = nat_table_lookup(t, &k, now)) == NAT_NIL) {
		if ((idx = nat_strat_alloc(n, now)) == NAT_NIL)
			return false; /* no room to account for it: no copies */
		e = nat_entry_at(t, idx);
		e->k[0] = k;
		nat_table_hash_add(t, idx, 0);
		e->aux = par->mcast_rate;
		last = now;
	} else {
		e = nat_entry_at(t, idx);
		last = (sp_time)e->k[1].a << 32 | e->k[1].b;
		if (now > last) {
			uint64_t add = (now - last) / iv;

			if (add >= par->mcast_rate - e->aux) {
				e->aux = par->mcast_rate;
				last = now;
			} else {
				e->aux += (uint32_t)add;
				last += add * iv;
			}
		}
	}
	/* k[1] is data only (kind NONE): the time tokens were last added */
	nat_key_set(&e->k[1], NAT_K_NONE, 0, (uint32_t)(last >> 32), (uint32_t)last, 0);
	nat_table_schedule(t, idx, now + SP_SEC(10), now);
	if (e->aux == 0)
		return false;
	e->aux--;
	return true;
}

static int masq_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
		       struct pkt *p)
{
	const struct masq_params *par = nat_sparams(n);
	struct nat_table *t = nat_table_of(n);
	uint32_t clients[MASQ_MCAST_MAX + 1];
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;
	unsigned cnt;

	(void)ctx;
	nat_key_set(&k, K_EST, ip->proto, ip->global, ip->server, ip->spi);
	if ((idx = nat_table_lookup(t, &k, now)) != NAT_NIL) {
		e = nat_entry_at(t, idx);
		nat_table_schedule(t, idx, now + par->t_ei, now);
		nat_offload_settle(n, idx);
		ip->client = e->k[0].a;
		return NAT_TO_INSIDE;
	}
	if ((idx = pending_for(t, now, ip->proto, ip->global, ip->server)) != NAT_NIL) {
		/* (1): whatever client this SPI was meant for, the outstanding item takes it
		 * (the root of race conditions 2 and 3). */
		e = nat_entry_at(t, idx);
		nat_table_rekey(t, idx, 1, &k);
		e->state = ST_ESTABLISHED;
		e->aux = 0;
		nat_table_schedule(t, idx, now + par->t_ei, now);
		nat_sctr_inc(n, MASQ_CTR_ESTABLISHED, 1);
		nat_offload_settle(n, idx); /* both SPIs known: nothing left to decide */
		ip->client = e->k[0].a;
		return NAT_TO_INSIDE;
	}
	/* (2): multicast to the clients that recently had IKE with the server. */
	cnt = nat_ike_recent_clients(n, now, ip->global, ip->server, clients, par->mcast_max + 1);
	if (cnt == 0) {
		nat_sctr_inc(n, MASQ_CTR_DROP_NO_ITEM, 1);
		return NAT_DROP;
	}
	if (!mcast_allowed(n, now, ip->global, ip->server)) {
		nat_sctr_inc(n, MASQ_CTR_DROP_MCAST_RATE, 1);
		return NAT_DROP;
	}
	if (cnt > par->mcast_max) {
		nat_sctr_inc(n, MASQ_CTR_MCAST_CAPPED, 1);
		cnt = par->mcast_max;
	}
	for (unsigned i = 1; i < cnt; i++)
		(void)nat_emit_copy(n, p, clients[i]); /* a failed copy is counted there */
	nat_sctr_inc(n, MASQ_CTR_MULTICAST, 1);
	nat_sctr_inc(n, MASQ_CTR_MULTICAST_COPIES, cnt);
	ip->client = clients[0];
	return NAT_TO_INSIDE;
}

static bool masq_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		     struct nat_row *r)
{
	bool est = (e->state & ST_ESTABLISHED) != 0;

	(void)n;
	(void)ctx;
	if (e->k[0].kind == K_RATE)
		return false; /* a multicast bucket, not an item */
	nat_strat_item_row(e, true, est,
			   est			      ? "established"
			   : (e->state & ST_BLOCKING) ? "outstanding*"
						      : "outstanding",
			   r);
	return true;
}

/* Established items only: outstanding ones still decide (rules 1-2, N_out). */
static void masq_offload(const struct nat *n, const void *ctx, const struct nat_entry *e,
			 struct nat_offload_desc *d)
{
	const struct masq_params *par = nat_sparams(n);

	(void)ctx;
	nat_strat_item_offload(e, true, true, par->t_ei, d);
}

const struct nat_strategy nat_strategy_masq = {
	.name = "masq",
	.help = "VPN Masquerade heuristics (003): outstanding/established items, T_out, N_out, "
		"T_ei, multicast",
	.defaults = masq_defaults,
	.conf = masq_conf,
	.ctx_size = 0,
	.ctr_names = masq_ctr_names,
	.n_ctrs = MASQ_CTR_N,
	.in2out = masq_in2out,
	.out2in = masq_out2in,
	.expire = nat_strat_expire_entry,
	.row = masq_row,
	.offload = masq_offload,
	.host_of = nat_strat_item_host,
};
