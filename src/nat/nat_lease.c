/*
 * lease: 001's extensible NAT (module 110). Clients define where a protocol's generalized
 * port number (GPN) is (step 701) and lease a global address and GPN for a foreign address
 * or "any" until an expiry (704-705), over PCP on UDP 5351 (RFC 6887 with spinat's GPN
 * option, proto/pcp.h, docs/LEASE.md). Packets of a leased protocol are translated by the
 * lease (706-710): out by protocol, private address and GPN and foreign destination; in by
 * protocol, global address and GPN and foreign source; only addresses, and GPNs that
 * differ, are rewritten. ESP and AH without a lease are dropped; TCP, UDP, ICMP and IKE
 * without one go on to the engine's own NAPT and cookie ALG (NAT-ALG entries). Expired
 * leases are erased (711-712).
 *
 * Records: one struct lease per lease (FIG. 6 fields 601-607) in a pool of lease_max, each
 * with one table entry: k[0] = (K_OUT, proto, private address, private GPN high, low) or,
 * for receiver-named GPNs (SPIs), (K_OUT, proto, private address, 0, 0); k[1] = (K_IN,
 * proto, global address, global GPN high, low); aux = the record; expire = 607.
 */
#include "nat/nat_priv.h"
#include "base/addr.h"
#include "base/conf.h"
#include "proto/pcp.h"
#include "proto/tcp.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define K_OUT (NAT_K_STRAT + 0)
#define K_IN  (NAT_K_STRAT + 1)

#define LEASE_DEFS_MAX 16
#define DEF_TCP	       0 /* built in: TCP and UDP ports, RFC 6887's own MAP/PEER */
#define DEF_UDP	       1
#define PICK_TRIES     64
/* RFC 6887 7.4: long-lifetime errors (the request will not work by retrying soon) and
 * short-lifetime ones (resources). */
#define ERR_LONG       1800
#define ERR_SHORT      30

#define foreach_lease_ctr(_)                                          \
	_(GRANTED, "lease_granted")                                   \
	_(RENEWED, "lease_renewed")                                   \
	_(RELEASED, "lease_released")                                 \
	_(EXPIRED, "lease_expired")                                   \
	_(IN2OUT, "lease_in2out")                                     \
	_(OUT2IN, "lease_out2in")                                     \
	_(PCP_REQUESTS, "lease_pcp_requests")                         \
	_(PCP_ANSWERS, "lease_pcp_answers")                           \
	_(PCP_ANNOUNCE, "lease_pcp_announce")                         \
	_(DROP_NO_LEASE_OUT, "lease_drop_no_lease_out")               \
	_(DROP_NO_LEASE_IN, "lease_drop_no_lease_in")                 \
	_(DROP_PCP_SILENT, "lease_drop_pcp_unanswerable")             \
	_(DROP_PCP_NO_ROOM, "lease_drop_pcp_reply_no_room")           \
	_(REFUSED_VERSION, "lease_refused_unsupp_version")            \
	_(REFUSED_OPCODE, "lease_refused_unsupp_opcode")              \
	_(REFUSED_MALFORMED, "lease_refused_malformed_request")       \
	_(REFUSED_OPTION, "lease_refused_unsupp_option")              \
	_(REFUSED_MALFORMED_OPTION, "lease_refused_malformed_option") \
	_(REFUSED_ADDRESS, "lease_refused_address_mismatch")          \
	_(REFUSED_THIRD_PARTY, "lease_refused_third_party")           \
	_(REFUSED_OWN_ALG, "lease_refused_own_alg")                   \
	_(REFUSED_PROTOCOL, "lease_refused_unsupp_protocol")          \
	_(REFUSED_DEF_CONFLICT, "lease_refused_definition_conflict")  \
	_(REFUSED_NONCE, "lease_refused_nonce_mismatch")              \
	_(REFUSED_QUOTA, "lease_refused_client_quota")                \
	_(REFUSED_NO_RESOURCES, "lease_refused_no_resources")         \
	_(REFUSED_UNAVAILABLE, "lease_refused_cannot_provide_external")

enum lease_ctr {
#define _(sym, str) LEASE_CTR_##sym,
	foreach_lease_ctr(_)
#undef _
		LEASE_CTR_N
};

static const char *const lease_ctr_names[] = { SP_CTR_NAMES(foreach_lease_ctr) };

enum { LEASE_IKE_LEASE = 0, LEASE_IKE_ALG = 1 };

struct lease_params {
	sp_time lifetime;     /* default expiry interval (001 step 704) */
	sp_time lifetime_max; /* longest lease granted */
	uint32_t max;	      /* leases in all */
	uint32_t per_client;  /* leases per private address */
	uint32_t pcp_server;  /* answer PCP sent to this address only; 0 any */
	int ike;	      /* ISAKMP: leases (client ALG) or only the engine's cookie ALG */
};
_Static_assert(sizeof(struct lease_params) <= NAT_SPARAMS_SIZE, "params fit");

/* A GPN definition (step 701): the protocol it is for, and pcp_gpn's layout fields. */
struct lease_def {
	uint8_t proto;
	uint16_t port; /* the transport port with PCP_GPN_F_TRANSPORT, else 0 */
	struct pcp_gpn g;
	uint32_t leases; /* live records using it: packets skip definitions without */
};

/* One lease: exactly FIG. 6's fields, and what ties it to its request and entry. */
struct lease {
	uint8_t proto;	   /* 601 (with def: ISAKMP is UDP port 500) */
	uint32_t priv_ip;  /* 602 */
	uint64_t priv_gpn; /* 603 */
	uint32_t glob_ip;  /* 604 */
	uint64_t glob_gpn; /* 605 */
	uint32_t foreign;  /* 606, 0: any */
	sp_time expire;	   /* 607 */
	uint8_t def;
	bool used;
	uint8_t nonce[PCP_NONCE_LEN];
	uint32_t entry;
	uint32_t next_free;
};

struct lease_ctx {
	struct lease *l;
	uint32_t max, free_head, used;
	struct lease_def defs[LEASE_DEFS_MAX];
	unsigned ndefs;
	sp_time epoch_base; /* when the state began: PCP's epoch (RFC 6887 8.5) */
	bool epoch_set;
};

static void lease_defaults(void *params)
{
	struct lease_params *p = params;

	p->lifetime = SP_SEC(600);
	p->lifetime_max = SP_SEC(86400);
	p->max = 4096;
	p->per_client = 64;
	p->pcp_server = 0;
	p->ike = LEASE_IKE_LEASE;
}

static int lease_conf(struct conf_sec *s, void *params)
{
	static const char *const ike_names[] = { "lease", "alg", NULL };
	struct lease_params *p = params;
	int r;

	if ((r = nat_conf_time(s, "lease_lifetime", p->lifetime, &p->lifetime)) != 0 ||
	    (r = nat_conf_time(s, "lease_lifetime_max", p->lifetime_max, &p->lifetime_max)) != 0 ||
	    (r = conf_get_u32(s, "lease_max", p->max, 1, 1u << 20, &p->max)) != 0 ||
	    (r = conf_get_u32(s, "lease_per_client", p->per_client, 1, 1u << 20, &p->per_client)) !=
		    0 ||
	    (r = conf_get_ip4(s, "lease_pcp_address", p->pcp_server, &p->pcp_server)) != 0 ||
	    (r = conf_get_enum(s, "lease_ike", ike_names, p->ike, &p->ike)) != 0)
		return r;
	if (p->lifetime < SP_SEC(1) || p->lifetime_max < p->lifetime)
		return conf_fail(s, "lease_lifetime: at least 1 s and at most lease_lifetime_max");
	if (p->lifetime_max > SP_SEC(UINT32_MAX))
		return conf_fail(s, "lease_lifetime_max: at most 2^32-1 s (RFC 6887 lifetimes)");
	return 0;
}

static void builtin_defs(struct lease_ctx *c)
{
	/* TCP and UDP ports: source port 0 bits and destination port 16 bits after the IP
	 * header (RFC 793 3.1, RFC 768), 16 bits, 1-65535, 0 unspecified. */
	memset(c->defs, 0, sizeof(c->defs));
	for (unsigned i = 0; i < 2; i++) {
		c->defs[i].proto = i == DEF_TCP ? IPV4_PROTO_TCP : IPV4_PROTO_UDP;
		c->defs[i].g.pcp_gpn_bits = 16;
		c->defs[i].g.pcp_gpn_src_off = 0;
		c->defs[i].g.pcp_gpn_dst_off = 16;
		c->defs[i].g.pcp_gpn_min = 1;
		c->defs[i].g.pcp_gpn_max = 65535;
	}
	c->ndefs = 2;
}

static void pool_init(struct lease_ctx *c)
{
	memset(c->l, 0, (size_t)c->max * sizeof(*c->l));
	for (uint32_t i = 0; i < c->max; i++)
		c->l[i].next_free = i + 1 < c->max ? i + 1 : NAT_NIL;
	c->free_head = 0;
	c->used = 0;
	builtin_defs(c);
	c->epoch_set = false;
}

static int lease_init(struct nat *n, void *ctx)
{
	const struct lease_params *par = nat_sparams(n);
	struct lease_ctx *c = ctx;

	c->max = par->max;
	if ((c->l = calloc(c->max, sizeof(*c->l))) == NULL)
		return SP_ENOMEM;
	pool_init(c);
	return 0;
}

static void lease_fini(struct nat *n, void *ctx)
{
	struct lease_ctx *c = ctx;

	(void)n;
	free(c->l);
	c->l = NULL;
}

static void lease_reset(struct nat *n, void *ctx)
{
	(void)n;
	pool_init(ctx); /* the table entries go with the engine's table */
}

static inline void key_gpn(struct nat_key *k, uint8_t kind, uint8_t proto, uint32_t a, uint64_t gpn)
{
	nat_key_set(k, kind, proto, a, (uint32_t)(gpn >> 32), (uint32_t)gpn);
}

/* Free record i and its entry (step 712 or a release). */
static void lease_free(struct nat *n, struct lease_ctx *c, uint32_t i)
{
	struct lease *l = &c->l[i];

	if (!l->used)
		return;
	if (c->defs[l->def].leases > 0)
		c->defs[l->def].leases--;
	nat_table_free(nat_table_of(n), l->entry);
	memset(l, 0, sizeof(*l));
	l->next_free = c->free_head;
	c->free_head = i;
	c->used--;
}

static void lease_expire(struct nat *n, void *ctx, uint32_t idx)
{
	struct lease_ctx *c = ctx;
	uint32_t i = nat_entry_at(nat_table_of(n), idx)->aux;

	if (i < c->max && c->l[i].used && c->l[i].entry == idx) {
		lease_free(n, c, i);
		nat_sctr_inc(n, LEASE_CTR_EXPIRED, 1);
		return;
	}
	nat_table_free(nat_table_of(n), idx);
}

static bool foreign_ok(const struct lease *l, uint32_t remote)
{
	return l->foreign == 0 || l->foreign == remote;
}

/* The live lease of definition d under key k whose foreign address admits remote. */
static struct lease *find(struct nat *n, struct lease_ctx *c, sp_time now, const struct nat_key *k,
			  unsigned d, uint32_t remote)
{
	struct nat_table *t = nat_table_of(n);
	uint32_t it = NAT_NIL, idx;

	while ((idx = nat_table_next_match(t, k, &it)) != NAT_NIL) {
		const struct nat_entry *e = nat_entry_at(t, idx);
		struct lease *l;

		if (!nat_entry_live(e, now) || e->owner != NAT_O_STRAT || e->aux >= c->max)
			continue;
		l = &c->l[e->aux];
		if (l->used && l->def == d && foreign_ok(l, remote))
			return l;
	}
	return NULL;
}

/* Where definition d's field is in a TCP/UDP/other packet (dst: the destination field),
 * or NULL when the packet is too short or is not of the definition's transport port. */
static uint8_t *field_of(const struct lease_def *d, const struct nat_ip *ip, bool dst)
{
	uint32_t base = 0, off = (dst ? d->g.pcp_gpn_dst_off : d->g.pcp_gpn_src_off) / 8;
	uint32_t w = d->g.pcp_gpn_bits / 8;

	if (d->g.pcp_gpn_flags & PCP_GPN_F_TRANSPORT) {
		if (ip->proto == IPV4_PROTO_UDP) {
			if (ip->l4len < UDP_HDR_LEN)
				return NULL;
			base = UDP_HDR_LEN;
		} else {
			if (ip->l4len < TCP_HDR_MIN)
				return NULL;
			base = (uint32_t)(ip->l4[12] >> 4) * 4 /* RFC 793 3.1 data offset */;
		}
		if (sp_load_be16(ip->l4 + (dst ? 2 : 0)) != d->port &&
		    sp_load_be16(ip->l4 + (dst ? 0 : 2)) != d->port)
			return NULL;
	}
	if (ip->l4len < base || ip->l4len - base < off + w)
		return NULL;
	return ip->l4 + base + off;
}

static uint64_t load_gpn(const uint8_t *f, uint8_t bits)
{
	return bits == 16 ? sp_load_be16(f) : bits == 32 ? sp_load_be32(f) : sp_load_be64(f);
}

/* Rewrite a GPN field from old to new, keeping a TCP/UDP checksum over it right. */
static void store_gpn(struct nat_ip *ip, uint8_t *f, uint8_t bits, uint64_t old, uint64_t new_)
{
	const struct nat_l4_layout *L = ip->proto == IPV4_PROTO_TCP   ? &nat_lay_tcp
					: ip->proto == IPV4_PROTO_UDP ? &nat_lay_udp
								      : NULL;

	for (unsigned i = 0; i < bits / 16; i++) {
		unsigned sh = bits - 16 * (i + 1);
		uint16_t o = (uint16_t)(old >> sh), v = (uint16_t)(new_ >> sh);

		sp_store_be16(f + 2 * i, v);
		/* offsets are multiples of 16 bits: the words line up with the checksum's */
		if (L != NULL)
			nat_l4_csum_fix16(ip->l4 + L->csum, L->udp, o, v);
	}
}

static bool covers_pseudo(const struct nat_ip *ip)
{
	return (ip->proto == IPV4_PROTO_TCP && ip->l4len >= TCP_HDR_MIN) ||
	       (ip->proto == IPV4_PROTO_UDP && ip->l4len >= UDP_HDR_LEN);
}

/* Steps 706-707 for TCP/UDP and ISAKMP leases. */
static int translate_out(struct nat *n, struct lease_ctx *c, sp_time now, struct nat_ip *ip)
{
	for (unsigned d = 0; d < c->ndefs; d++) {
		const struct lease_def *D = &c->defs[d];
		struct lease *l;
		struct nat_key k;
		uint8_t *f;
		uint64_t v;

		if (D->proto != ip->proto || D->leases == 0 ||
		    (D->g.pcp_gpn_flags & PCP_GPN_F_RECEIVER) ||
		    (f = field_of(D, ip, false)) == NULL)
			continue;
		v = load_gpn(f, D->g.pcp_gpn_bits);
		key_gpn(&k, K_OUT, ip->proto, ip->src, v);
		if ((l = find(n, c, now, &k, d, ip->dst)) == NULL)
			continue;
		if (l->glob_gpn != v)
			store_gpn(ip, f, D->g.pcp_gpn_bits, v, l->glob_gpn);
		if (covers_pseudo(ip))
			nat_l4_csum_fix32(ip->l4 + (ip->proto == IPV4_PROTO_TCP ? TCP_OFF_CSUM
										: UDP_OFF_CSUM),
					  ip->proto == IPV4_PROTO_UDP, ip->src, l->glob_ip);
		nat_rewrite_src(ip, l->glob_ip);
		nat_sctr_inc(n, LEASE_CTR_IN2OUT, 1);
		return NAT_TO_OUTSIDE;
	}
	return NAT_CONTINUE;
}

/* Steps 708-709 for TCP/UDP and ISAKMP leases. */
static int lease_pre_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	struct lease_ctx *c = ctx;

	(void)p;
	for (unsigned d = 0; d < c->ndefs; d++) {
		const struct lease_def *D = &c->defs[d];
		struct lease *l;
		struct nat_key k;
		uint8_t *f;
		uint64_t v;

		if (D->proto != ip->proto || D->leases == 0 || (f = field_of(D, ip, true)) == NULL)
			continue;
		v = load_gpn(f, D->g.pcp_gpn_bits);
		key_gpn(&k, K_IN, ip->proto, ip->dst, v);
		if ((l = find(n, c, now, &k, d, ip->src)) == NULL)
			continue;
		if (l->priv_gpn != v && !(D->g.pcp_gpn_flags & PCP_GPN_F_RECEIVER))
			store_gpn(ip, f, D->g.pcp_gpn_bits, v, l->priv_gpn);
		if (covers_pseudo(ip))
			nat_l4_csum_fix32(ip->l4 + (ip->proto == IPV4_PROTO_TCP ? TCP_OFF_CSUM
										: UDP_OFF_CSUM),
					  ip->proto == IPV4_PROTO_UDP, ip->dst, l->priv_ip);
		nat_rewrite_dst(ip, l->priv_ip);
		nat_sctr_inc(n, LEASE_CTR_OUT2IN, 1);
		return NAT_TO_INSIDE;
	}
	return NAT_CONTINUE;
}

static unsigned def_of_proto(const struct lease_ctx *c, uint8_t proto)
{
	for (unsigned d = 0; d < c->ndefs; d++)
		if (c->defs[d].proto == proto &&
		    !(c->defs[d].g.pcp_gpn_flags & PCP_GPN_F_TRANSPORT))
			return d;
	return LEASE_DEFS_MAX;
}

/* ESP and AH out (706-707): the SPI names the foreign end's SA, so any lease of the
 * protocol by this client for this foreign address (or any) admits the packet. */
static int lease_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			struct pkt *p)
{
	struct lease_ctx *c = ctx;
	unsigned d = def_of_proto(c, ip->proto);
	struct lease *l = NULL;
	struct nat_key k;

	(void)p;
	if (d < LEASE_DEFS_MAX && (c->defs[d].g.pcp_gpn_flags & PCP_GPN_F_RECEIVER)) {
		nat_key_set(&k, K_OUT, ip->proto, ip->client, 0, 0);
		l = find(n, c, now, &k, d, ip->server);
	}
	if (l == NULL) {
		nat_sctr_inc(n, LEASE_CTR_DROP_NO_LEASE_OUT, 1);
		return NAT_DROP;
	}
	ip->global = l->glob_ip;
	nat_sctr_inc(n, LEASE_CTR_IN2OUT, 1);
	return NAT_TO_OUTSIDE;
}

/* ESP and AH in (708-709): by protocol, global address and SPI, and foreign source. */
static int lease_out2in(struct nat *n, void *ctx, sp_time now, struct nat_ipsec_pkt *ip,
			struct pkt *p)
{
	struct lease_ctx *c = ctx;
	unsigned d = def_of_proto(c, ip->proto);
	struct lease *l = NULL;
	struct nat_key k;

	if (d < LEASE_DEFS_MAX) {
		key_gpn(&k, K_IN, ip->proto, ip->global, ip->spi);
		l = find(n, c, now, &k, d, ip->server);
	}
	if (l == NULL) {
		nat_sctr_inc(n, LEASE_CTR_DROP_NO_LEASE_IN, 1);
		return NAT_DROP;
	}
	if (l->priv_gpn != l->glob_gpn) {
		uint8_t *h = pkt_data(p);
		size_t hl = (size_t)(h[0] & 0x0f) * 4;

		/* validated by the engine: ESP >= 8, AH >= 12 octets after the header */
		sp_store_be32(h + hl + (ip->proto == IPV4_PROTO_AH ? 4 : 0), (uint32_t)l->priv_gpn);
	}
	ip->client = l->priv_ip;
	nat_sctr_inc(n, LEASE_CTR_OUT2IN, 1);
	return NAT_TO_INSIDE;
}

static bool lease_port_taken(const struct nat *n, const void *ctx, sp_time now, uint8_t proto,
			     uint32_t global, uint16_t port)
{
	const struct lease_ctx *c = ctx;
	unsigned d = proto == IPV4_PROTO_TCP ? DEF_TCP : DEF_UDP;
	struct nat_key k;

	struct nat_table *t = nat_table_of((struct nat *)n);
	uint32_t it = NAT_NIL, idx;

	if ((proto != IPV4_PROTO_TCP && proto != IPV4_PROTO_UDP) || c->defs[d].leases == 0)
		return false;
	/* Whatever foreign address the lease names: NAPT's mappings admit any (RFC 4787
	 * REQ-8), so they may not share the port. */
	key_gpn(&k, K_IN, proto, global, port);
	while ((idx = nat_table_next_match(t, &k, &it)) != NAT_NIL) {
		const struct nat_entry *e = nat_entry_at(t, idx);

		if (nat_entry_live(e, now) && e->owner == NAT_O_STRAT && e->aux < c->max &&
		    c->l[e->aux].used && c->l[e->aux].def == d)
			return true;
	}
	return false;
}

/* The PCP server (001 module 110 steps 701-705, 711 by release). */

struct req {
	struct pcp_msg m;
	uint32_t src;	  /* the request's source: the only private address it may name */
	unsigned d;	  /* definition */
	uint64_t priv;	  /* private GPN, or the definition's unspecified value */
	uint64_t sugg;	  /* suggested global GPN, or unspecified */
	uint32_t foreign; /* 0: any */
	sp_time life;	  /* granted lifetime, 0: release */
	uint32_t life_s;
};

static uint32_t epoch_now(struct lease_ctx *c, sp_time now)
{
	if (!c->epoch_set) {
		c->epoch_base = now;
		c->epoch_set = true;
	}
	return (uint32_t)((now - c->epoch_base) / SP_SEC(1));
}

static const struct {
	uint8_t result;
	uint8_t ctr;
} refusal_ctr[] = {
	{ PCP_R_UNSUPP_VERSION, LEASE_CTR_REFUSED_VERSION },
	{ PCP_R_UNSUPP_OPCODE, LEASE_CTR_REFUSED_OPCODE },
	{ PCP_R_MALFORMED_REQUEST, LEASE_CTR_REFUSED_MALFORMED },
	{ PCP_R_UNSUPP_OPTION, LEASE_CTR_REFUSED_OPTION },
	{ PCP_R_MALFORMED_OPTION, LEASE_CTR_REFUSED_MALFORMED_OPTION },
	{ PCP_R_ADDRESS_MISMATCH, LEASE_CTR_REFUSED_ADDRESS },
	{ PCP_R_UNSUPP_PROTOCOL, LEASE_CTR_REFUSED_PROTOCOL },
	{ PCP_R_USER_EX_QUOTA, LEASE_CTR_REFUSED_QUOTA },
	{ PCP_R_NO_RESOURCES, LEASE_CTR_REFUSED_NO_RESOURCES },
	{ PCP_R_CANNOT_PROVIDE_EXTERNAL, LEASE_CTR_REFUSED_UNAVAILABLE },
};

/* Count a refusal under its own name (ctr) or by its result code (ctr < 0). */
static void count_refusal(struct nat *n, uint8_t result, int ctr)
{
	if (ctr >= 0) {
		nat_sctr_inc(n, (unsigned)ctr, 1);
		return;
	}
	for (unsigned i = 0; i < SP_NELEM(refusal_ctr); i++)
		if (refusal_ctr[i].result == result)
			nat_sctr_inc(n, refusal_ctr[i].ctr, 1);
}

static uint32_t error_lifetime(uint8_t result)
{
	return result == PCP_R_NO_RESOURCES || result == PCP_R_USER_EX_QUOTA ||
			       result == PCP_R_CANNOT_PROVIDE_EXTERNAL
		       ? ERR_SHORT
		       : ERR_LONG;
}

/* Step 701: the request's definition, found or added; a PCP result. */
static uint8_t take_def(struct nat *n, struct lease_ctx *c, struct req *q, int *ctr)
{
	const struct lease_params *par = nat_sparams(n);
	const struct pcp_gpn *g = &q->m.pcp_gpn;
	bool transport;
	uint16_t port;

	*ctr = -1;
	if (!q->m.pcp_has_gpn) {
		/* Ordinary PCP: TCP and UDP ports (RFC 6887 11, 12). */
		if (q->m.pcp_proto == IPV4_PROTO_TCP || q->m.pcp_proto == IPV4_PROTO_UDP) {
			if (q->m.pcp_int_port == 0)
				return PCP_R_UNSUPP_PROTOCOL; /* "all ports" is not leased */
			q->d = q->m.pcp_proto == IPV4_PROTO_TCP ? DEF_TCP : DEF_UDP;
			return PCP_R_SUCCESS;
		}
		return PCP_R_UNSUPP_PROTOCOL; /* a GPN needs its definition */
	}
	transport = (g->pcp_gpn_flags & PCP_GPN_F_TRANSPORT) != 0;
	port = transport ? q->m.pcp_int_port : 0;
	if ((g->pcp_gpn_src_off % 16) != 0 || (g->pcp_gpn_dst_off % 16) != 0 ||
	    (transport && (g->pcp_gpn_flags & PCP_GPN_F_RECEIVER)))
		return PCP_R_MALFORMED_OPTION;
	if (transport ? (q->m.pcp_proto != IPV4_PROTO_UDP && q->m.pcp_proto != IPV4_PROTO_TCP) ||
				port == 0
		      : q->m.pcp_proto == 0) {
		*ctr = LEASE_CTR_REFUSED_PROTOCOL;
		return PCP_R_UNSUPP_PROTOCOL;
	}
	/* Steps 702-703: protocols the NAT has its own ALG for. */
	if ((!transport && (q->m.pcp_proto == IPV4_PROTO_TCP || q->m.pcp_proto == IPV4_PROTO_UDP ||
			    q->m.pcp_proto == IPV4_PROTO_ICMP)) ||
	    (transport && q->m.pcp_proto == IPV4_PROTO_UDP && port == UDP_PORT_IKE &&
	     par->ike == LEASE_IKE_ALG)) {
		*ctr = LEASE_CTR_REFUSED_OWN_ALG;
		return PCP_R_UNSUPP_PROTOCOL;
	}
	for (unsigned d = 0; d < c->ndefs; d++) {
		struct lease_def *D = &c->defs[d];

		if (D->proto != q->m.pcp_proto || D->port != port ||
		    (D->g.pcp_gpn_flags & PCP_GPN_F_TRANSPORT) !=
			    (g->pcp_gpn_flags & PCP_GPN_F_TRANSPORT))
			continue;
		if (D->g.pcp_gpn_bits != g->pcp_gpn_bits ||
		    D->g.pcp_gpn_src_off != g->pcp_gpn_src_off ||
		    D->g.pcp_gpn_dst_off != g->pcp_gpn_dst_off ||
		    D->g.pcp_gpn_min != g->pcp_gpn_min || D->g.pcp_gpn_max != g->pcp_gpn_max ||
		    D->g.pcp_gpn_unspec != g->pcp_gpn_unspec ||
		    (D->g.pcp_gpn_flags & PCP_GPN_F_RECEIVER) !=
			    (g->pcp_gpn_flags & PCP_GPN_F_RECEIVER)) {
			*ctr = LEASE_CTR_REFUSED_DEF_CONFLICT;
			return PCP_R_UNSUPP_PROTOCOL;
		}
		q->d = d;
		return PCP_R_SUCCESS;
	}
	if (c->ndefs == LEASE_DEFS_MAX)
		return PCP_R_NO_RESOURCES;
	q->d = c->ndefs;
	c->defs[c->ndefs].proto = q->m.pcp_proto;
	c->defs[c->ndefs].port = port;
	c->defs[c->ndefs].g = *g;
	c->defs[c->ndefs].g.pcp_gpn_flags &= PCP_GPN_F_TRANSPORT | PCP_GPN_F_RECEIVER;
	c->defs[c->ndefs].g.pcp_gpn_private = c->defs[c->ndefs].g.pcp_gpn_global = 0;
	c->defs[c->ndefs].leases = 0;
	c->ndefs++;
	return PCP_R_SUCCESS;
}

static uint64_t unspec_of(const struct lease_def *D)
{
	return D->g.pcp_gpn_unspec;
}

/* Whether global GPN v on g is free for a lease of definition d to foreign (step 705: at
 * most one private address and GPN per protocol, foreign, global address and GPN). */
static bool gpn_free(struct nat *n, struct lease_ctx *c, sp_time now, unsigned d, uint32_t g,
		     uint64_t v, uint32_t foreign)
{
	const struct lease_def *D = &c->defs[d];
	struct nat_table *t = nat_table_of(n);
	uint32_t it = NAT_NIL, idx;
	struct nat_key k;

	if (v < D->g.pcp_gpn_min || v > D->g.pcp_gpn_max || v == D->g.pcp_gpn_unspec)
		return false;
	key_gpn(&k, K_IN, D->proto, g, v);
	while ((idx = nat_table_next_match(t, &k, &it)) != NAT_NIL) {
		const struct nat_entry *e = nat_entry_at(t, idx);
		const struct lease *l;

		if (!nat_entry_live(e, now) || e->owner != NAT_O_STRAT || e->aux >= c->max)
			continue;
		l = &c->l[e->aux];
		if (l->used && l->def == d &&
		    (l->foreign == 0 || foreign == 0 || l->foreign == foreign))
			return false;
	}
	if (d == DEF_TCP || d == DEF_UDP) {
		/* Nor a port NAPT uses, nor IKE's port 500, nor the PCP port itself. */
		nat_key_set(&k, NAT_K_OUT, D->proto, g, 0, (uint32_t)v);
		if (nat_table_lookup(t, &k, now) != NAT_NIL ||
		    (D->proto == IPV4_PROTO_UDP && (v == UDP_PORT_IKE || v == PCP_PORT)))
			return false;
	}
	return true;
}

static bool pick_gpn(struct nat *n, struct lease_ctx *c, sp_time now, const struct req *q,
		     uint32_t g, uint64_t *out)
{
	const struct lease_def *D = &c->defs[q->d];
	const struct nat_config *cfg = nat_config_of(n);
	uint64_t lo = D->g.pcp_gpn_min, hi = D->g.pcp_gpn_max;

	if (q->sugg != unspec_of(D) && gpn_free(n, c, now, q->d, g, q->sugg, q->foreign)) {
		*out = q->sugg;
		return true;
	}
	if (q->m.pcp_prefer_failure && q->sugg != unspec_of(D))
		return false;
	if (q->priv != unspec_of(D) && gpn_free(n, c, now, q->d, g, q->priv, q->foreign)) {
		*out = q->priv; /* preservation, as NAPT does (RFC 4787 REQ-3) */
		return true;
	}
	if (q->d == DEF_TCP || q->d == DEF_UDP) {
		lo = cfg->port_min;
		hi = cfg->port_max;
	}
	for (unsigned i = 0; i < PICK_TRIES; i++) {
		uint64_t span = hi - lo, v = sp_rng_u64(nat_rng(n));

		v = span == UINT64_MAX ? v : lo + v % (span + 1);
		if (gpn_free(n, c, now, q->d, g, v, q->foreign)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* The client's existing lease the request names: same definition and foreign address, and
 * the same private GPN or, when that is unspecified, the suggested global one (a renewal
 * "fully specifying" the entry, 001). */
static struct lease *existing(struct nat *n, struct lease_ctx *c, sp_time now, const struct req *q)
{
	const struct lease_def *D = &c->defs[q->d];
	struct nat_key k;
	struct lease *l;

	/* A retransmission (RFC 6887 8.1.1: the same request, the same nonce) is answered
	 * with the lease it made, never a second one. */
	for (uint32_t i = 0; i < c->max; i++) {
		l = &c->l[i];
		if (l->used && l->priv_ip == q->src && l->def == q->d && l->foreign == q->foreign &&
		    l->expire > now && memcmp(l->nonce, q->m.pcp_nonce, PCP_NONCE_LEN) == 0 &&
		    (q->priv == unspec_of(D) || q->priv == l->priv_gpn))
			return l;
	}
	if (q->priv != unspec_of(D)) {
		if (D->g.pcp_gpn_flags & PCP_GPN_F_RECEIVER) {
			/* keyed by foreign only: walk them for the GPN */
			struct nat_table *t = nat_table_of(n);
			uint32_t it = NAT_NIL, idx;

			nat_key_set(&k, K_OUT, D->proto, q->src, 0, 0);
			while ((idx = nat_table_next_match(t, &k, &it)) != NAT_NIL) {
				const struct nat_entry *e = nat_entry_at(t, idx);

				if (!nat_entry_live(e, now) || e->owner != NAT_O_STRAT ||
				    e->aux >= c->max)
					continue;
				l = &c->l[e->aux];
				if (l->used && l->def == q->d && l->priv_gpn == q->priv &&
				    l->foreign == q->foreign)
					return l;
			}
			return NULL;
		}
		key_gpn(&k, K_OUT, D->proto, q->src, q->priv);
	} else if (q->sugg != unspec_of(D)) {
		key_gpn(&k, K_IN, D->proto, nat_global_for(n, q->src), q->sugg);
	} else {
		return NULL;
	}
	l = find(n, c, now, &k, q->d, q->foreign);
	if (l != NULL && (l->priv_ip != q->src || l->foreign != q->foreign))
		return NULL;
	return l;
}

static unsigned client_leases(const struct lease_ctx *c, sp_time now, uint32_t client)
{
	unsigned cnt = 0;

	for (uint32_t i = 0; i < c->max; i++)
		if (c->l[i].used && c->l[i].priv_ip == client && c->l[i].expire > now)
			cnt++;
	return cnt;
}

static void answer(const struct lease_def *D, const struct lease *l, struct req *q)
{
	struct pcp_msg *m = &q->m;

	m->pcp_response = true;
	m->pcp_result = PCP_R_SUCCESS;
	m->pcp_lifetime = q->life_s;
	if (l == NULL)
		return; /* a release of nothing: success, lifetime 0 (RFC 6887 15) */
	m->pcp_ext_ip = l->glob_ip;
	if (!m->pcp_has_gpn) {
		m->pcp_ext_port = (uint16_t)l->glob_gpn;
		return;
	}
	m->pcp_ext_port = (D->g.pcp_gpn_flags & PCP_GPN_F_TRANSPORT) ? m->pcp_int_port : 0;
	m->pcp_gpn.pcp_gpn_private = l->priv_gpn;
	m->pcp_gpn.pcp_gpn_global = l->glob_gpn;
}

/* Steps 704-705, renewal and release: a PCP result, *ctr a named counter or -1. */
static uint8_t serve(struct nat *n, struct lease_ctx *c, sp_time now, struct req *q, int *ctr)
{
	const struct lease_params *par = nat_sparams(n);
	struct pcp_msg *m = &q->m;
	const struct lease_def *D;
	struct nat_table *t = nat_table_of(n);
	struct lease *l;
	uint32_t i, idx, g;
	uint64_t glob;
	uint8_t r;

	*ctr = -1;
	/* RFC 6887 8.1: the client address must be the packet's source; a client leases
	 * only for itself (no THIRD_PARTY, 13.1). */
	if (!m->pcp_client_v4 || m->pcp_client != q->src)
		return PCP_R_ADDRESS_MISMATCH;
	if (m->pcp_third_party && m->pcp_third_party_ip != q->src) {
		*ctr = LEASE_CTR_REFUSED_THIRD_PARTY;
		return PCP_R_NOT_AUTHORIZED;
	}
	if ((r = take_def(n, c, q, ctr)) != PCP_R_SUCCESS)
		return r;
	D = &c->defs[q->d];
	if (m->pcp_has_gpn) {
		q->priv = m->pcp_gpn.pcp_gpn_private;
		q->sugg = m->pcp_gpn.pcp_gpn_global;
	} else {
		q->priv = m->pcp_int_port;
		q->sugg = m->pcp_ext_port;
	}
	if (q->priv != unspec_of(D) && (q->priv < D->g.pcp_gpn_min || q->priv > D->g.pcp_gpn_max))
		return m->pcp_has_gpn ? PCP_R_MALFORMED_OPTION : PCP_R_MALFORMED_REQUEST;
	if (m->pcp_opcode == PCP_OP_PEER) {
		if (m->pcp_peer_ip == 0)
			return PCP_R_MALFORMED_REQUEST;
		q->foreign = m->pcp_peer_ip;
	}
	if (m->pcp_lifetime == 0)
		q->life = 0;
	else if (m->pcp_has_gpn && (m->pcp_gpn.pcp_gpn_flags & PCP_GPN_F_DEFAULT_LIFETIME))
		q->life = par->lifetime;
	else
		q->life = SP_MIN(SP_SEC((sp_time)m->pcp_lifetime), par->lifetime_max);
	q->life_s = (uint32_t)(q->life / SP_SEC(1));

	if ((l = existing(n, c, now, q)) != NULL) {
		if (memcmp(l->nonce, m->pcp_nonce, PCP_NONCE_LEN) != 0) {
			*ctr = LEASE_CTR_REFUSED_NONCE; /* RFC 6887 11.3 */
			return PCP_R_NOT_AUTHORIZED;
		}
		if (q->life == 0) {
			lease_free(n, c, (uint32_t)(l - c->l));
			nat_sctr_inc(n, LEASE_CTR_RELEASED, 1);
			answer(D, NULL, q);
			return PCP_R_SUCCESS;
		}
		l->expire = now + q->life;
		nat_table_schedule(t, l->entry, l->expire, now);
		nat_sctr_inc(n, LEASE_CTR_RENEWED, 1);
		answer(D, l, q);
		return PCP_R_SUCCESS;
	}
	if (q->life == 0) {
		answer(D, NULL, q);
		return PCP_R_SUCCESS;
	}
	if (client_leases(c, now, q->src) >= par->per_client)
		return PCP_R_USER_EX_QUOTA;
	if (c->free_head == NAT_NIL)
		return PCP_R_NO_RESOURCES;
	g = nat_global_for(n, q->src);
	if (!pick_gpn(n, c, now, q, g, &glob))
		return m->pcp_prefer_failure ? PCP_R_CANNOT_PROVIDE_EXTERNAL : PCP_R_NO_RESOURCES;
	if ((idx = nat_strat_alloc(n, now)) == NAT_NIL)
		return PCP_R_NO_RESOURCES;
	i = c->free_head;
	l = &c->l[i];
	c->free_head = l->next_free;
	c->used++;
	memset(l, 0, sizeof(*l));
	l->used = true;
	l->proto = D->proto;
	l->priv_ip = q->src;
	l->priv_gpn = q->priv != unspec_of(D) ? q->priv : glob; /* 001: the same value */
	l->glob_ip = g;
	l->glob_gpn = glob;
	l->foreign = q->foreign;
	l->expire = now + q->life;
	l->def = (uint8_t)q->d;
	l->entry = idx;
	memcpy(l->nonce, m->pcp_nonce, PCP_NONCE_LEN);
	c->defs[q->d].leases++;
	{
		struct nat_entry *e = nat_entry_at(t, idx);

		if (D->g.pcp_gpn_flags & PCP_GPN_F_RECEIVER)
			nat_key_set(&e->k[0], K_OUT, D->proto, l->priv_ip, 0, 0);
		else
			key_gpn(&e->k[0], K_OUT, D->proto, l->priv_ip, l->priv_gpn);
		key_gpn(&e->k[1], K_IN, D->proto, l->glob_ip, l->glob_gpn);
		e->aux = i;
		nat_table_hash_add(t, idx, 0);
		nat_table_hash_add(t, idx, 1);
		nat_table_schedule(t, idx, l->expire, now);
	}
	nat_sctr_inc(n, LEASE_CTR_GRANTED, 1);
	answer(D, l, q);
	return PCP_R_SUCCESS;
}

/* Turn a copy of the request into the reply: from the address it was sent to, back to the
 * client's port. SP_ENOSPACE when the reply does not fit the packet's buffer. */
static int reply_in_place(struct pkt *p, const struct nat_ip *ip, uint16_t cport,
			  const uint8_t *msg, size_t len)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	uint32_t need = IPV4_HDR_MIN + UDP_HDR_LEN + (uint32_t)len;
	uint32_t client = ip->src, server = ip->dst;
	int r;

	if (p->cap - p->off < need)
		return SP_ENOSPACE;
	pkt_reset(p, p->off + IPV4_HDR_MIN + UDP_HDR_LEN);
	h.ip_src = server;
	h.ip_dst = client;
	if ((r = pkt_append(p, msg, (uint32_t)len)) != 0 ||
	    (r = udp_build(p, PCP_PORT, cport, server, client, true)) != 0)
		return r;
	return ipv4_build(p, &h, NULL, 0);
}

static int pcp_in(struct nat *n, struct lease_ctx *c, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	uint8_t out[PCP_MSG_MAX], res;
	uint16_t ulen = sp_load_be16(ip->l4 + UDP_OFF_LEN), cport;
	struct pkt *reply;
	const uint8_t *msg;
	struct req q;
	struct wcur w;
	struct cur cu;
	int ctr = -1;

	nat_sctr_inc(n, LEASE_CTR_PCP_REQUESTS, 1);
	if (ulen < UDP_HDR_LEN || ulen > ip->l4len || ip->frag_first ||
	    !udp_csum_ok(ip->l4, ulen, ip->src, ip->dst)) {
		NAT_INC(n, DROP_MALFORMED);
		return NAT_DROP;
	}
	cport = sp_load_be16(ip->l4 + UDP_OFF_SPORT);
	msg = ip->l4 + UDP_HDR_LEN;
	memset(&q, 0, sizeof(q));
	q.src = ip->src;
	cur_init(&cu, msg, ulen - UDP_HDR_LEN);
	wcur_init(&w, out, sizeof(out));
	if (pcp_parse(&cu, false, &q.m, &res) != 0) {
		if (res == PCP_R_NONE) {
			nat_sctr_inc(n, LEASE_CTR_DROP_PCP_SILENT, 1);
			return NAT_DROP;
		}
	} else if (q.m.pcp_opcode == PCP_OP_ANNOUNCE) {
		/* RFC 6887 14.1: an ANNOUNCE request is answered with the epoch. */
		nat_sctr_inc(n, LEASE_CTR_PCP_ANNOUNCE, 1);
		q.m.pcp_response = true;
		res = PCP_R_SUCCESS;
	} else {
		res = serve(n, c, now, &q, &ctr);
	}
	if (res == PCP_R_SUCCESS) {
		q.m.pcp_epoch = epoch_now(c, now);
		if (pcp_build(&w, &q.m) != 0)
			res = PCP_R_NO_RESOURCES;
	}
	if (res != PCP_R_SUCCESS) {
		count_refusal(n, res, ctr);
		wcur_init(&w, out, sizeof(out));
		if (pcp_build_error(&w, msg, ulen - UDP_HDR_LEN, res, error_lifetime(res),
				    epoch_now(c, now)) != 0) {
			nat_sctr_inc(n, LEASE_CTR_DROP_PCP_SILENT, 1);
			return NAT_DROP;
		}
	}
	/* The answer leaves from the gateway itself, in a copy of the request's buffer; the
	 * request ends here. */
	if ((reply = nat_clone(n, p)) == NULL)
		return NAT_DROP; /* counted as drop_no_buffer */
	if (reply_in_place(reply, ip, cport, out, w.off) != 0) {
		pkt_free(reply);
		nat_sctr_inc(n, LEASE_CTR_DROP_PCP_NO_ROOM, 1);
		return NAT_DROP;
	}
	if (nat_emit(n, NAT_INSIDE, reply) != 0)
		return NAT_DROP;
	nat_sctr_inc(n, LEASE_CTR_PCP_ANSWERS, 1);
	return NAT_TAKEN;
}

static int lease_pre_in2out(struct nat *n, void *ctx, sp_time now, struct nat_ip *ip, struct pkt *p)
{
	const struct lease_params *par = nat_sparams(n);
	struct lease_ctx *c = ctx;

	if (ip->proto == IPV4_PROTO_UDP && ip->l4len >= UDP_HDR_LEN &&
	    sp_load_be16(ip->l4 + UDP_OFF_DPORT) == PCP_PORT &&
	    (par->pcp_server == 0 || par->pcp_server == ip->dst))
		return pcp_in(n, c, now, ip, p);
	return translate_out(n, c, now, ip);
}

static bool lease_row(const struct nat *n, const void *ctx, const struct nat_entry *e,
		      struct nat_row *r)
{
	(void)n;
	(void)ctx;
	(void)e;
	(void)r;
	return false; /* leases are listed in FIG. 6's own columns, by lease_show() */
}

static const char *proto_label(const struct lease_def *D, char *buf, size_t len)
{
	const char *p = D->proto == IPV4_PROTO_TCP   ? "tcp"
			: D->proto == IPV4_PROTO_UDP ? "udp"
			: D->proto == IPV4_PROTO_ESP ? "esp"
			: D->proto == IPV4_PROTO_AH  ? "ah"
						     : NULL;

	if (D->proto == IPV4_PROTO_UDP && D->port == UDP_PORT_IKE)
		snprintf(buf, len, "isakmp");
	else if (p != NULL && D->port != 0)
		snprintf(buf, len, "%s/%u", p, D->port);
	else if (p != NULL)
		snprintf(buf, len, "%s", p);
	else
		snprintf(buf, len, "ip/%u", D->proto);
	return buf;
}

static void gpn_fmt(char *buf, size_t len, uint64_t v, uint8_t bits)
{
	if (bits == 16)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else if (bits == 32)
		snprintf(buf, len, "0x%08llX", (unsigned long long)v);
	else
		snprintf(buf, len, "0x%016llX", (unsigned long long)v);
}

/* `show nat`: the leases in FIG. 6's columns 601-607. */
static void lease_show(const struct nat *n, const void *ctx, sp_time now, FILE *f)
{
	const struct lease_ctx *c = ctx;
	uint32_t shown = 0;

	(void)n;
	fprintf(f, "\nLeases (001 FIG. 6)\n%-8s %-15s %-18s %-15s %-18s %-15s %10s\n", "Protocol",
		"Private IP", "Private GPN", "Global IP", "Global GPN", "Foreign", "Expiration");
	{
		for (uint32_t i = 0; i < c->max; i++) {
			const struct lease *l = &c->l[i];
			const struct lease_def *D;
			char pr[16], a[SP_IP4_STRLEN], b[SP_IP4_STRLEN], fo[SP_IP4_STRLEN];
			char pg[24], gg[24];

			if (!l->used || l->expire <= now)
				continue;
			D = &c->defs[l->def];
			gpn_fmt(pg, sizeof(pg), l->priv_gpn, D->g.pcp_gpn_bits);
			gpn_fmt(gg, sizeof(gg), l->glob_gpn, D->g.pcp_gpn_bits);
			fprintf(f, "%-8s %-15s %-18s %-15s %-18s %-15s %10llu\n",
				proto_label(D, pr, sizeof(pr)), sp_ip4_fmt(l->priv_ip, a), pg,
				sp_ip4_fmt(l->glob_ip, b), gg,
				l->foreign ? sp_ip4_fmt(l->foreign, fo) : "any",
				(unsigned long long)((l->expire - now + SP_SEC(1) - 1) /
						     SP_SEC(1)));
			shown++;
		}
	}
	fprintf(f, "%u leases of %u\n", shown, c->max);
}

const struct nat_strategy nat_strategy_lease = {
	.name = "lease",
	.help = "client leases of global addresses and GPNs over PCP, client-side compensation "
		"(001)",
	.defaults = lease_defaults,
	.conf = lease_conf,
	.ctx_size = sizeof(struct lease_ctx),
	.ctr_names = lease_ctr_names,
	.n_ctrs = LEASE_CTR_N,
	.init = lease_init,
	.fini = lease_fini,
	.in2out = lease_in2out,
	.out2in = lease_out2in,
	.expire = lease_expire,
	.row = lease_row,
	.reset = lease_reset,
	.pre_in2out = lease_pre_in2out,
	.pre_out2in = lease_pre_out2in,
	.port_taken = lease_port_taken,
	.show = lease_show,
};
