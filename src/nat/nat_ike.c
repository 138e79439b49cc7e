/*
 * IKE on UDP 500 through the NAT as 003's Background describes: addresses are translated,
 * port 500 is kept, and replies are demultiplexed by the cookies (IKE SPIs), which are in
 * clear at the start of every IKEv1 and IKEv2 header (RFC 2408 3.1, RFC 7296 3.1).
 *
 * An item (003 FIG. 4: client 401, server 402, initiator cookie 403, responder cookie 404,
 * expiry 405) is outstanding while its responder cookie is zero, established after.
 * Entries: k[0] = (IKE, server, icookie) indexed; k[1] = (client, rcookie) data;
 * out_addr = the client's global address.
 *
 * Beside the items, one "peer" entry per client and server remembers that they recently
 * ran IKE (003: masq multicasts unmatched ESP to those clients). A peer entry whose server
 * never answered lives only t_ike_out, as an outstanding item does (state 0); once the
 * server has answered it lives t_ike_recent (state 1). Items and peer entries count
 * toward the client's host_max_ike, so IKE to random servers holds little for long.
 */
#include "nat/nat_priv.h"
#include "base/cursor.h"
#include "proto/udp.h"

#include <stdio.h>

#define IKE_HDR_LEN 28 /* RFC 7296 3.1, RFC 2408 3.1 */

enum { IKE_OUTSTANDING = 0, IKE_ESTABLISHED = 1 };

static inline uint64_t item_rcookie(const struct nat_entry *e)
{
	return (uint64_t)e->k[1].b << 32 | e->k[1].id;
}

static void peer_touch(struct nat *n, sp_time now, uint32_t client, uint32_t global,
		       uint32_t server, bool answered)
{
	struct nat_entry *e;
	struct nat_key k;
	uint32_t idx;

	nat_key_set(&k, NAT_K_PEERC, 0, client, server, 0);
	if ((idx = nat_table_lookup(&n->tab, &k, now)) == NAT_NIL) {
		if (!nat_host_admit(n, now, client, NAT_HK_IKE) ||
		    (idx = nat_alloc(n, NAT_O_PEER, now, client)) == NAT_NIL)
			return;
		e = nat_entry_at(&n->tab, idx);
		e->k[0] = k;
		nat_key_set(&e->k[1], NAT_K_PEER, 0, global, server, 0);
		nat_table_hash_add(&n->tab, idx, 0);
		nat_table_hash_add(&n->tab, idx, 1);
		nat_host_charge(n, client, NAT_HK_IKE);
	}
	e = nat_entry_at(&n->tab, idx);
	if (answered)
		e->state = 1;
	nat_table_schedule(&n->tab, idx,
			   now + (e->state != 0 ? n->cfg.t_ike_recent : n->cfg.t_ike_out), now);
}

unsigned nat_ike_recent_clients(const struct nat *n, sp_time now, uint32_t global, uint32_t server,
				uint32_t *out, unsigned max)
{
	uint32_t it = NAT_NIL, idx;
	struct nat_key k;
	unsigned cnt = 0;

	nat_key_set(&k, NAT_K_PEER, 0, global, server, 0);
	while (cnt < max && (idx = nat_table_next_match(&n->tab, &k, &it)) != NAT_NIL) {
		const struct nat_entry *e = nat_entry_at(&n->tab, idx);

		if (nat_entry_live(e, now))
			out[cnt++] = e->k[0].a;
	}
	return cnt;
}

/* Cookies from the UDP payload; SP_ESHORT when the IKE header is not all there. */
static int read_cookies(const struct nat_ip *ip, uint64_t *icookie, uint64_t *rcookie)
{
	struct cur c;
	int r;

	cur_init(&c, ip->l4, ip->l4len);
	if ((r = cur_skip(&c, UDP_HDR_LEN)) != 0 || (r = cur_need(&c, IKE_HDR_LEN)) != 0 ||
	    (r = cur_get_u64(&c, icookie)) != 0 || (r = cur_get_u64(&c, rcookie)) != 0)
		return r;
	return *icookie == 0 ? SP_EMALFORMED : 0;
}

int nat_ike_in2out(struct nat *n, sp_time now, struct nat_ip *ip)
{
	uint32_t client = ip->src, server = ip->dst, g = nat_global_for(n, ip->src);
	uint32_t it = NAT_NIL, idx, mine = NAT_NIL;
	bool other_outstanding = false;
	uint64_t ic, rc;
	struct nat_entry *e;
	struct nat_key k;

	if (read_cookies(ip, &ic, &rc) != 0) {
		NAT_INC(n, DROP_IKE_MALFORMED);
		return NAT_DROP;
	}
	nat_key_set(&k, NAT_K_IKE, IPV4_PROTO_UDP, server, (uint32_t)(ic >> 32), (uint32_t)ic);
	while ((idx = nat_table_next_match(&n->tab, &k, &it)) != NAT_NIL) {
		e = nat_entry_at(&n->tab, idx);
		if (!nat_entry_live(e, now))
			continue;
		if (e->k[1].a == client)
			mine = idx;
		else if (e->state == IKE_OUTSTANDING)
			other_outstanding = true;
	}
	if (mine != NAT_NIL) {
		e = nat_entry_at(&n->tab, mine);
		if (e->state == IKE_ESTABLISHED) /* T_ei counts inactivity */
			nat_table_schedule(&n->tab, mine, now + n->cfg.t_ike_est, now);
	} else if (other_outstanding) {
		/* 003: the same initiator cookie as another client's outstanding item: drop
		 * until that item is established; C1's retransmission then passes. */
		NAT_INC(n, DROP_IKE_COLLISION);
		return NAT_DROP;
	} else {
		if (!nat_host_admit(n, now, client, NAT_HK_IKE)) {
			nat_host_unreach_ip(n, now, ip); /* RFC 6888 REQ-11 b */
			return NAT_DROP;
		}
		if ((idx = nat_alloc(n, NAT_O_IKE, now, client)) == NAT_NIL)
			return NAT_DROP;
		e = nat_entry_at(&n->tab, idx);
		e->k[0] = k;
		nat_key_set(&e->k[1], NAT_K_NONE, IPV4_PROTO_UDP, client, 0, 0);
		e->out_addr = g;
		e->out_port = UDP_PORT_IKE;
		e->state = IKE_OUTSTANDING;
		nat_table_hash_add(&n->tab, idx, 0);
		nat_host_charge(n, client, NAT_HK_IKE);
		/* T_out counts from creation: an unanswered item does not block forever */
		nat_table_schedule(&n->tab, idx, now + n->cfg.t_ike_out, now);
	}
	peer_touch(n, now, client, g, server, false);
	nat_l4_csum_fix32(ip->l4 + UDP_OFF_CSUM, true, client, g);
	nat_rewrite_src(ip, g);
	NAT_INC(n, IKE_IN2OUT);
	return NAT_TO_OUTSIDE;
}

int nat_ike_out2in(struct nat *n, sp_time now, struct nat_ip *ip)
{
	uint32_t it = NAT_NIL, idx, hit = NAT_NIL, pending = NAT_NIL;
	uint64_t ic, rc;
	struct nat_entry *e;
	struct nat_key k;
	uint32_t client;

	if (read_cookies(ip, &ic, &rc) != 0) {
		NAT_INC(n, DROP_IKE_MALFORMED);
		return NAT_DROP;
	}
	nat_key_set(&k, NAT_K_IKE, IPV4_PROTO_UDP, ip->src, (uint32_t)(ic >> 32), (uint32_t)ic);
	while ((idx = nat_table_next_match(&n->tab, &k, &it)) != NAT_NIL) {
		e = nat_entry_at(&n->tab, idx);
		if (!nat_entry_live(e, now) || e->out_addr != ip->dst)
			continue;
		if (e->state == IKE_ESTABLISHED && item_rcookie(e) == rc) {
			hit = idx;
			break;
		}
		if (e->state == IKE_OUTSTANDING && pending == NAT_NIL)
			pending = idx;
	}
	if (hit == NAT_NIL && pending != NAT_NIL) {
		/* 003: no established item matches, an outstanding one matches server and
		 * initiator cookie: it becomes established with this responder cookie. A
		 * reply without one (an IKEv2 COOKIE request) is forwarded as is. */
		hit = pending;
		if (rc != 0) {
			e = nat_entry_at(&n->tab, hit);
			e->k[1].b = (uint32_t)(rc >> 32);
			e->k[1].id = (uint32_t)rc;
			e->state = IKE_ESTABLISHED;
			NAT_INC(n, IKE_ESTABLISHED);
		}
	}
	if (hit == NAT_NIL) {
		NAT_INC(n, DROP_IKE_NO_ITEM);
		return NAT_DROP;
	}
	e = nat_entry_at(&n->tab, hit);
	client = e->k[1].a;
	if (e->state == IKE_ESTABLISHED)
		nat_table_schedule(&n->tab, hit, now + n->cfg.t_ike_est, now);
	peer_touch(n, now, client, ip->dst, ip->src, true);
	nat_l4_csum_fix32(ip->l4 + UDP_OFF_CSUM, true, ip->dst, client);
	nat_rewrite_dst(ip, client);
	NAT_INC(n, IKE_OUT2IN);
	return NAT_TO_INSIDE;
}

bool nat_ike_row(const struct nat *n, const struct nat_entry *e, struct nat_row *r)
{
	(void)n;
	r->proto = IPV4_PROTO_UDP;
	r->in_local = e->k[1].a;
	r->in_global = e->out_addr;
	r->outside = e->k[0].a;
	r->in_local_id = r->in_global_id = r->outside_id = UDP_PORT_IKE;
	r->has_in_local_id = r->has_in_global_id = r->has_outside_id = true;
	r->outbound = true;
	r->state = e->state == IKE_ESTABLISHED ? "ike-established" : "ike-outstanding";
	snprintf(r->info, sizeof(r->info), "i=%08x%08x r=%016llx", e->k[0].b, e->k[0].id,
		 (unsigned long long)item_rcookie(e));
	return true;
}
