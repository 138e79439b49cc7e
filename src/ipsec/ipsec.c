/* The IPsec engine: SPD/SAD processing around esp_*() and ah_*(). */
#include "ipsec/ipsec.h"
#include "base/addr.h"
#include "base/cursor.h"
#include "ipsec/ah.h"
#include "ipsec/esp.h"
#include "proto/ah.h"
#include "proto/esp.h"
#include "proto/ipv4.h"
#include "proto/natt.h"
#include "proto/udp.h"

#include <stdlib.h>
#include <string.h>

#define SPI_ATTEMPTS	64
/* Non-ESN SAs ask for a rekey this far before the 32-bit counter runs out. */
#define SEQ_SOFT_MARGIN 0x100000u

static const char *const ipsec_ctr_names[] = { SP_CTR_NAMES(foreach_ipsec_drop)
						       SP_CTR_NAMES(foreach_ipsec_other) };

struct ipsec {
	struct ipsec_cfg cfg;
	char name[32];
	struct sadb sadb;
	struct spd spd;
	uint16_t ip_id;
	uint64_t ctr[IPSEC_CTR_N - 1];
	struct sp_ctrs ctrs;
	struct ipsec_drop cur;	     /* the packet in hand, as it entered */
	struct ipsec_drop last_drop; /* why == IPSEC_OK: none yet */
	uint32_t sa_gen;	     /* SAs installed so far */
	/* Crypto lanes (ipsec.h): the jobs of the batch in hand. */
	struct esp_job jobs[IPSEC_JOBS_MAX];
	unsigned njobs, next_job; /* next_job: where the next opened packet's job should be */
	size_t job_bytes;
	bool defer;  /* seals are deferred */
	bool opened; /* the jobs are inbound messages opened ahead */
};

static void count(struct ipsec *e, enum ipsec_ctr c)
{
	e->ctr[c - 1]++;
}

static void drop(struct ipsec *e, struct pkt *p, enum ipsec_ctr why)
{
	count(e, why);
	e->last_drop = e->cur;
	e->last_drop.why = why;
	pkt_free(p);
}

const struct ipsec_drop *ipsec_last_drop(const struct ipsec *e)
{
	return e->last_drop.why != IPSEC_OK ? &e->last_drop : NULL;
}

uint64_t ipsec_counter(const struct ipsec *e, enum ipsec_ctr c)
{
	return c > IPSEC_OK && c < IPSEC_CTR_N ? e->ctr[c - 1] : 0;
}

const char *ipsec_counter_name(enum ipsec_ctr c)
{
	return c > IPSEC_OK && c < IPSEC_CTR_N ? ipsec_ctr_names[c - 1] : "?";
}

static void emit(struct ipsec *e, struct ipsec_event *ev)
{
	if (e->cfg.event != NULL)
		e->cfg.event(e->cfg.arg, ev);
}

static void sa_describe(const struct sa *sa, char *buf, size_t len)
{
	char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

	snprintf(buf, len, "%s spi 0x%08x %s %s->%s", sa->proto == IPV4_PROTO_AH ? "ah" : "esp",
		 sa->spi, sa->dir == SA_DIR_IN ? "in" : "out", sp_ip4_fmt(sa->src, s),
		 sp_ip4_fmt(sa->dst, d));
}

int ipsec_new(struct ipsec **out, const struct ipsec_cfg *cfg)
{
	struct ipsec *e;
	int r;

	*out = NULL;
	if (cfg->rng == NULL || cfg->net_out == NULL || cfg->local_out == NULL ||
	    cfg->lanes > SA_LANES_MAX)
		return SP_EINVAL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SP_ENOMEM;
	e->cfg = *cfg;
	snprintf(e->name, sizeof(e->name), "%s", cfg->name ? cfg->name : "ipsec");
	e->cfg.name = e->name;
	e->cfg.boot_counter_file = NULL; /* the configuration's; read by the owner only */
	if (e->cfg.max_sa == 0)
		e->cfg.max_sa = IPSEC_DEFAULT_MAX_SA;
	if (e->cfg.natt_port == 0)
		e->cfg.natt_port = IPSEC_DEFAULT_NATT_PORT;
	if (e->cfg.natt_keepalive == 0)
		e->cfg.natt_keepalive = IPSEC_DEFAULT_NATT_KEEPALIVE;
	if (e->cfg.acquire_retry == 0)
		e->cfg.acquire_retry = IPSEC_DEFAULT_ACQUIRE_RETRY;
	if (e->cfg.larval_lifetime == 0)
		e->cfg.larval_lifetime = IPSEC_DEFAULT_LARVAL_LIFETIME;
	if ((r = sadb_init(&e->sadb, e->cfg.max_sa, sp_rng_u64(cfg->rng))) != 0) {
		free(e);
		return r;
	}
	spd_init(&e->spd);
	e->ip_id = (uint16_t)sp_rng_u32(cfg->rng);
	sp_ctrs_init(&e->ctrs, "ipsec", e->name, ipsec_ctr_names, e->ctr, IPSEC_CTR_N - 1);
	if (cfg->ctrs != NULL)
		sp_ctr_register(cfg->ctrs, &e->ctrs);
	*out = e;
	return 0;
}

uint32_t ipsec_iv_epoch(const struct ipsec *e)
{
	return e->cfg.iv_epoch;
}

void ipsec_free(struct ipsec *e)
{
	if (e == NULL)
		return;
	if (e->cfg.ctrs != NULL)
		sp_ctr_unregister(e->cfg.ctrs, &e->ctrs);
	sadb_destroy(&e->sadb);
	spd_destroy(&e->spd);
	free(e);
}

/* The newest usable outbound SA with this reqid, for unpinned policies. */
static struct sa *newest_out(const struct ipsec *e, uint32_t reqid, const struct sa *skip)
{
	struct sa *best = NULL;

	if (reqid == 0)
		return NULL;
	for (struct sa *sa = sadb_next(&e->sadb, NULL); sa; sa = sadb_next(&e->sadb, sa)) {
		if (sa == skip || sa->dir != SA_DIR_OUT || sa->reqid != reqid ||
		    (sa->state != SA_STATE_MATURE && sa->state != SA_STATE_DYING))
			continue;
		if (best == NULL || sa->stats.installed >= best->stats.installed)
			best = sa;
	}
	return best;
}

/* sa is about to be freed: deferred seals with it run now, on the engine's thread. */
static void settle_jobs(struct ipsec *e, const struct sa *sa)
{
	for (unsigned i = 0; e->defer && i < e->njobs; i++) {
		struct esp_job *j = &e->jobs[i];

		if (j->sa == sa && !j->done) {
			j->r = esp_seal_lane(j->sa, 0, j->esp, j->n, j->seq);
			j->done = true;
		}
	}
}

static void delete_sa(struct ipsec *e, struct sa *sa)
{
	char d[80];

	for (struct spd_policy *p = spd_next(&e->spd, NULL); p; p = spd_next(&e->spd, p)) {
		if (p->sa != sa)
			continue;
		/* The chosen SA is gone: fall back to the newest with the reqid. */
		p->sa_pinned = false;
		p->sa = newest_out(e, p->reqid, sa);
	}
	if (sa->dir == SA_DIR_IN && e->cfg.spi_policy.release != NULL)
		e->cfg.spi_policy.release(e->cfg.spi_policy.arg, sa->proto, sa->dst, sa->spi);
	sa_describe(sa, d, sizeof(d));
	SP_INFO(e->cfg.log, "ipsec", "%s: deleted %s", e->name, d);
	settle_jobs(e, sa);
	sadb_remove(&e->sadb, sa);
	sa_free(sa);
}

static void expire_hard(struct ipsec *e, struct sa *sa, enum ipsec_limit lim)
{
	struct ipsec_event ev = { .type = IPSEC_EV_HARD_EXPIRE, .sa = sa, .limit = lim };

	sa->state = SA_STATE_DEAD;
	count(e, IPSEC_CTR_EV_HARD);
	emit(e, &ev);
	delete_sa(e, sa);
}

static void expire_soft(struct ipsec *e, struct sa *sa, enum ipsec_limit lim)
{
	struct ipsec_event ev = { .type = IPSEC_EV_SOFT_EXPIRE, .sa = sa, .limit = lim };

	if (sa->soft_fired)
		return;
	sa->soft_fired = true;
	sa->state = SA_STATE_DYING;
	count(e, IPSEC_CTR_EV_SOFT);
	emit(e, &ev);
}

/* Would one more packet of len bytes pass a hard packet or byte limit? */
static bool over_hard(const struct sa *sa, size_t len)
{
	return (sa->hard.packets != 0 && sa->stats.packets >= sa->hard.packets) ||
	       (sa->hard.bytes != 0 && sa->stats.bytes + len > sa->hard.bytes);
}

static void account(struct ipsec *e, sp_time now, struct sa *sa, size_t len)
{
	sa->stats.packets++;
	sa->stats.bytes += len;
	if (sa->stats.first_used == 0)
		sa->stats.first_used = now ? now : 1;
	sa->stats.last_used = now;
	if (sa->soft_fired)
		return;
	if (sa->soft.packets != 0 && sa->stats.packets >= sa->soft.packets)
		expire_soft(e, sa, IPSEC_LIMIT_PACKETS);
	else if (sa->soft.bytes != 0 && sa->stats.bytes >= sa->soft.bytes)
		expire_soft(e, sa, IPSEC_LIMIT_BYTES);
	else if (sa->dir == SA_DIR_OUT && !sa->esn && sa->seq >= UINT32_MAX - SEQ_SOFT_MARGIN)
		expire_soft(e, sa, IPSEC_LIMIT_SEQ);
}

static void acquire(struct ipsec *e, sp_time now, struct spd_policy *pol, const struct spd_tuple *t)
{
	struct ipsec_event ev = { .type = IPSEC_EV_ACQUIRE, .policy = pol, .tuple = *t };

	if (now < pol->acquire_next)
		return;
	pol->acquire_next = now + e->cfg.acquire_retry;
	count(e, IPSEC_CTR_EV_ACQUIRE);
	emit(e, &ev);
}

/* Note the addresses of a packet entering the engine, for ipsec_last_drop(). */
static void note(struct ipsec *e, const struct pkt *p, bool inbound)
{
	e->cur.inbound = inbound;
	if (p->len >= IPV4_HDR_MIN)
		spd_tuple_of(pkt_data(p), p->len, &e->cur.t);
	else
		memset(&e->cur.t, 0, sizeof(e->cur.t));
}

/* Parse and trim a whole IPv4 packet entering the engine (inbound or outbound); false
 * (counted drop) when malformed. */
static bool take_ipv4(struct ipsec *e, struct pkt *p, struct ipv4_hdr *h, bool inbound)
{
	struct cur c;

	note(e, p, inbound);
	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, h) != 0 || !h->ip_csum_ok || pkt_trim(p, h->ip_len) != 0) {
		drop(e, p, IPSEC_DROP_MALFORMED);
		return false;
	}
	return true;
}

/* Protect p with the outbound SA sa and send it; consumes p. */
static void protect(struct ipsec *e, sp_time now, struct sa *sa, struct pkt *p)
{
	enum ipsec_ctr r;
	size_t len;

	if (over_hard(sa, p->len)) {
		expire_hard(e, sa,
			    sa->hard.packets != 0 && sa->stats.packets >= sa->hard.packets
				    ? IPSEC_LIMIT_PACKETS
				    : IPSEC_LIMIT_BYTES);
		return drop(e, p, IPSEC_DROP_EXPIRED);
	}
	if (e->cfg.pre_protect != NULL && e->cfg.pre_protect(e->cfg.arg, sa, p) != 0)
		return drop(e, p, IPSEC_DROP_HOOK);
	len = p->len;
	if (sa->proto == IPV4_PROTO_ESP && e->defer && e->njobs < IPSEC_JOBS_MAX) {
		struct esp_job *j = &e->jobs[e->njobs];

		if ((r = esp_output(sa, p, e->cfg.rng, e->ip_id++, j)) == IPSEC_OK) {
			e->njobs++;
			e->job_bytes += j->n;
		}
	} else if (sa->proto == IPV4_PROTO_ESP)
		r = esp_output(sa, p, e->cfg.rng, e->ip_id++, NULL);
	else
		r = ah_output(sa, p, e->ip_id++);
	if (r == IPSEC_DROP_SEQ_OVERFLOW) {
		expire_hard(e, sa, IPSEC_LIMIT_SEQ);
		return drop(e, p, r);
	}
	if (r != IPSEC_OK) {
		sa->stats.drop_other++;
		return drop(e, p, r);
	}
	count(e, sa->proto == IPV4_PROTO_AH ? IPSEC_CTR_TX_AH
		 : sa->encap_sport	    ? IPSEC_CTR_TX_ESP_UDP
					    : IPSEC_CTR_TX_ESP);
	account(e, now, sa, len);
	e->cfg.net_out(e->cfg.arg, p);
}

void ipsec_output(struct ipsec *e, sp_time now, struct pkt *p)
{
	struct spd_policy *pol;
	struct spd_tuple t;
	struct ipv4_hdr h;
	struct sa *sa;

	if (!take_ipv4(e, p, &h, false))
		return;
	spd_tuple_of(pkt_data(p), p->len, &t);
	if ((pol = spd_lookup(&e->spd, SA_DIR_OUT, &t)) == NULL) {
		if (!e->cfg.bypass_unmatched)
			return drop(e, p, IPSEC_DROP_NO_POLICY);
		count(e, IPSEC_CTR_TX_BYPASS);
		return e->cfg.net_out(e->cfg.arg, p);
	}
	pol->packets++;
	if (pol->action == SPD_DISCARD)
		return drop(e, p, IPSEC_DROP_DISCARD);
	if (pol->action == SPD_BYPASS) {
		count(e, IPSEC_CTR_TX_BYPASS);
		return e->cfg.net_out(e->cfg.arg, p);
	}
	if ((sa = pol->sa) == NULL) {
		acquire(e, now, pol, &t);
		return drop(e, p, IPSEC_DROP_ACQUIRE);
	}
	protect(e, now, sa, p);
}

int ipsec_output_via(struct ipsec *e, sp_time now, struct pkt *p, const struct sa_key *k)
{
	struct ipv4_hdr h;
	struct sa *sa;

	note(e, p, false);
	if (sadb_find(&e->sadb, k, &sa) != 0 || sa->dir != SA_DIR_OUT ||
	    (sa->state != SA_STATE_MATURE && sa->state != SA_STATE_DYING)) {
		drop(e, p, IPSEC_DROP_NO_SA);
		return SP_ENOTFOUND;
	}
	if (!take_ipv4(e, p, &h, false))
		return SP_EMALFORMED;
	protect(e, now, sa, p);
	return 0;
}

/* RFC 4301 5.2 step 4: the decapsulated packet must match an inbound policy that this SA
 * may carry. */
static bool tuple_allowed(const struct ipsec *e, const struct sa *sa, const struct spd_tuple *t)
{
	const struct spd_policy *pol = spd_lookup(&e->spd, SA_DIR_IN, t);

	return pol != NULL && pol->action == SPD_PROTECT && pol->proto == sa->proto &&
	       pol->mode == sa->mode && (pol->reqid == 0 || pol->reqid == sa->reqid);
}

static void count_sa_drop(struct sa *sa, enum ipsec_ctr r)
{
	switch (r) {
	case IPSEC_DROP_REPLAY:
		sa->stats.drop_replay++;
		break;
	case IPSEC_DROP_ICV:
		sa->stats.drop_icv++;
		break;
	case IPSEC_DROP_PADDING:
		sa->stats.drop_padding++;
		break;
	default:
		sa->stats.drop_other++;
		break;
	}
}

/* Common tail of ESP and AH input once the transform succeeded. The inbound policy may
 * name the packet as the hook restored it (001 step 824: a leased global port back to the
 * private one the host's selectors name) or as it came out of the SA (002's transport
 * mode: the selectors name the router's global address, which the hook turns back into
 * the application's): either passes. */
static void deliver(struct ipsec *e, sp_time now, struct sa *sa, struct pkt *p)
{
	struct spd_tuple t, wire;

	spd_tuple_of(pkt_data(p), p->len, &t);
	wire = t;
	if (e->cfg.post_unprotect != NULL) {
		if (e->cfg.post_unprotect(e->cfg.arg, sa, p) != 0)
			return drop(e, p, IPSEC_DROP_HOOK);
		spd_tuple_of(pkt_data(p), p->len, &t);
	}
	if (!tuple_allowed(e, sa, &t) && !tuple_allowed(e, sa, &wire)) {
		sa->stats.drop_other++;
		return drop(e, p, IPSEC_DROP_POLICY);
	}
	account(e, now, sa, p->len);
	count(e, IPSEC_CTR_RX_DECAP);
	e->cfg.local_out(e->cfg.arg, p);
}

/* The SA a protected packet names, or a counted drop. */
static struct sa *inbound_sa(struct ipsec *e, struct pkt *p, uint32_t spi, uint8_t proto,
			     uint32_t dst)
{
	struct sa *sa = sadb_lookup_in(&e->sadb, spi, proto, dst);

	if (sa == NULL || sa->state == SA_STATE_LARVAL) {
		drop(e, p, IPSEC_DROP_NO_SA);
		return NULL;
	}
	if (over_hard(sa, p->len)) {
		expire_hard(e, sa,
			    sa->hard.packets != 0 && sa->stats.packets >= sa->hard.packets
				    ? IPSEC_LIMIT_PACKETS
				    : IPSEC_LIMIT_BYTES);
		drop(e, p, IPSEC_DROP_EXPIRED);
		return NULL;
	}
	return sa;
}

/* Set the peer of sa: where an outbound SA sends, where an inbound one hears from. */
static void set_peer(struct sa *sa, uint32_t addr, uint16_t port)
{
	if (sa->dir == SA_DIR_OUT) {
		sa->dst = addr;
		if (sa->encap_sport != 0)
			sa->encap_dport = port;
	} else {
		sa->src = addr;
		if (sa->encap_sport != 0)
			sa->encap_sport = port;
	}
}

static void ep_fmt(uint32_t addr, uint16_t port, char *buf, size_t len)
{
	char a[SP_IP4_STRLEN];

	snprintf(buf, len, "%s:%u", sp_ip4_fmt(addr, a), port);
}

/*
 * RFC 7296 2.23 (and RFC 3948): a packet whose integrity protection validates came from
 * another address or port than the SA's, typically because a NAT in front of the peer
 * restarted and mapped it anew. An end not behind a NAT (the SA's natt_follow, set by IKE)
 * sends everything to the address and port of the validated packet from now on: the
 * inbound SA and the SAs of its reqid that had the old peer follow. Only for a packet that
 * advanced the anti-replay window, so an old packet replayed from elsewhere cannot move
 * the peer back (2.23: "only ... in response to a new packet").
 */
static void follow_peer(struct ipsec *e, struct sa *in, uint32_t addr, uint16_t port)
{
	struct ipsec_event ev = {
		.type = IPSEC_EV_PEER_MOVED, .sa = in, .addr = addr, .port = port
	};
	char from[32], to[32], d[80], stay[64] = "";
	unsigned n = 0, refused = 0;

	ev.old_addr = in->src;
	ev.old_port = in->encap_sport;
	for (struct sa *sa = sadb_next(&e->sadb, NULL); sa; sa = sadb_next(&e->sadb, sa)) {
		bool in_dir = sa->dir == SA_DIR_IN;

		if (sa->reqid != in->reqid || sa->encap_sport == 0 ||
		    (in_dir ? sa->src : sa->dst) != ev.old_addr ||
		    (in_dir ? sa->encap_sport : sa->encap_dport) != ev.old_port)
			continue;
		if (!in_dir && sadb_taken(&e->sadb, sa, addr)) {
			refused++; /* logged below; the SA keeps its old peer */
			continue;
		}
		set_peer(sa, addr, port);
		n++;
	}
	count(e, IPSEC_CTR_PEER_MOVED);
	sa_describe(in, d, sizeof(d));
	ep_fmt(ev.old_addr, ev.old_port, from, sizeof(from));
	ep_fmt(addr, port, to, sizeof(to));
	if (refused != 0)
		snprintf(stay, sizeof(stay), ", %u stay (their SPI is taken there)", refused);
	SP_INFO(e->cfg.log, "ipsec",
		"%s: %s: peer moved from %s to %s (RFC 7296 2.23): %u SAs follow%s", e->name, d,
		from, to, n, stay);
	emit(e, &ev);
}

/* The job of p when it was opened ahead (ipsec_preopen()), or NULL. */
static const struct esp_job *opened_job(struct ipsec *e, const struct pkt *p)
{
	if (!e->opened)
		return NULL;
	for (unsigned i = 0; i < e->njobs; i++) {
		unsigned k = (e->next_job + i) % e->njobs;

		if (e->jobs[k].p == p) {
			e->next_job = k + 1;
			return &e->jobs[k];
		}
	}
	return NULL;
}

/* ESP, raw or UDP-encapsulated (encap) from the peer's port sport. */
static void esp_in(struct ipsec *e, sp_time now, struct pkt *p, const struct ipv4_hdr *h,
		   size_t esp_off, bool encap, uint16_t sport)
{
	const uint8_t *esp = pkt_data(p) + esp_off;
	const struct esp_job *pre;
	enum ipsec_ctr r;
	uint64_t seq, top;
	struct sa *sa;

	if (ipv4_is_fragment(h))
		return drop(e, p, IPSEC_DROP_FRAGMENT);
	if (p->len - esp_off < ESP_HDR_LEN || sp_load_be32(esp) < ESP_SPI_MIN)
		return drop(e, p, IPSEC_DROP_MALFORMED);
	if ((sa = inbound_sa(e, p, sp_load_be32(esp), IPV4_PROTO_ESP, h->ip_dst)) == NULL)
		return;
	/* RFC 3948 3.1: an SA uses UDP encapsulation or not, not both. */
	if (encap != (sa->encap_sport != 0)) {
		sa->stats.drop_other++;
		return drop(e, p, IPSEC_DROP_POLICY);
	}
	top = sa->win.top;
	if ((pre = opened_job(e, p)) != NULL &&
	    (pre->sa != sa || pre->gen != sa->gen || pre->esp != esp)) {
		sa->stats.drop_other++; /* decrypted in place, for the SA this one replaced */
		return drop(e, p, IPSEC_DROP_NO_SA);
	}
	r = esp_input(sa, p, esp_off, &seq, pre);
	if ((r == IPSEC_OK || r == IPSEC_DROP_DUMMY) && encap && sa->natt_follow &&
	    sa->win.size != 0 && seq > top && (h->ip_src != sa->src || sport != sa->encap_sport))
		follow_peer(e, sa, h->ip_src, sport);
	if (r == IPSEC_DROP_DUMMY) {
		/* Authenticated: the peer is alive even though nothing is delivered. */
		account(e, now, sa, 0);
		return drop(e, p, r);
	}
	if (r != IPSEC_OK) {
		count_sa_drop(sa, r);
		return drop(e, p, r);
	}
	deliver(e, now, sa, p);
}

static void ah_in(struct ipsec *e, sp_time now, struct pkt *p, const struct ipv4_hdr *h)
{
	enum ipsec_ctr r;
	struct sa *sa;
	uint32_t spi;
	uint64_t seq;

	if (p->len - h->ip_hl < AH_HDR_FIXED)
		return drop(e, p, IPSEC_DROP_MALFORMED);
	spi = sp_load_be32(pkt_data(p) + h->ip_hl + 4);
	if ((sa = inbound_sa(e, p, spi, IPV4_PROTO_AH, h->ip_dst)) == NULL)
		return;
	if ((r = ah_input(sa, p, &seq)) != IPSEC_OK) {
		count_sa_drop(sa, r);
		return drop(e, p, r);
	}
	deliver(e, now, sa, p);
}

/* UDP to the NAT-T port (RFC 3948 2): keepalive, IKE behind the non-ESP marker, or ESP. */
static void natt_in(struct ipsec *e, sp_time now, struct pkt *p, const struct ipv4_hdr *h,
		    const struct udp_hdr *u)
{
	size_t off = (size_t)h->ip_hl + UDP_HDR_LEN;
	enum natt_kind kind;
	struct cur c;

	if (pkt_trim(p, (uint32_t)(off + u->udp_len - UDP_HDR_LEN)) != 0)
		return drop(e, p, IPSEC_DROP_MALFORMED);
	cur_init(&c, pkt_data(p) + off, p->len - off);
	if (natt_classify(&c, &kind) != 0)
		return drop(e, p, IPSEC_DROP_MALFORMED);
	switch (kind) {
	case NATT_KEEPALIVE:
		count(e, IPSEC_CTR_RX_KEEPALIVE); /* RFC 3948 2.3: consumed */
		return pkt_free(p);
	case NATT_IKE:
		if (e->cfg.ike_in == NULL)
			return drop(e, p, IPSEC_DROP_IKE_NO_HANDLER);
		if (pkt_pull(p, (uint32_t)(off + NATT_MARKER_LEN)) == NULL)
			return drop(e, p, IPSEC_DROP_MALFORMED);
		count(e, IPSEC_CTR_RX_IKE);
		return e->cfg.ike_in(e->cfg.arg, p, h->ip_src, h->ip_dst, u->udp_sport,
				     u->udp_dport);
	case NATT_ESP:
		break;
	}
	count(e, IPSEC_CTR_RX_ESP_UDP);
	esp_in(e, now, p, h, off, true, u->udp_sport);
}

/* Not IPsec: allowed unless an inbound policy says it must have been protected. */
static void cleartext_in(struct ipsec *e, struct pkt *p)
{
	const struct spd_policy *pol;
	struct spd_tuple t;

	spd_tuple_of(pkt_data(p), p->len, &t);
	pol = spd_lookup(&e->spd, SA_DIR_IN, &t);
	if (pol != NULL && pol->action == SPD_PROTECT)
		return drop(e, p, IPSEC_DROP_POLICY);
	if (pol != NULL && pol->action == SPD_DISCARD)
		return drop(e, p, IPSEC_DROP_DISCARD);
	count(e, IPSEC_CTR_RX_BYPASS);
	e->cfg.local_out(e->cfg.arg, p);
}

void ipsec_input(struct ipsec *e, sp_time now, struct pkt *p)
{
	struct ipv4_hdr h;

	if (!take_ipv4(e, p, &h, true))
		return;
	switch (h.ip_proto) {
	case IPV4_PROTO_ESP:
		count(e, IPSEC_CTR_RX_ESP);
		return esp_in(e, now, p, &h, h.ip_hl, false, 0);
	case IPV4_PROTO_AH:
		count(e, IPSEC_CTR_RX_AH);
		return ah_in(e, now, p, &h);
	case IPV4_PROTO_UDP: {
		struct udp_hdr u;
		struct cur c;

		if (ipv4_is_fragment(&h))
			break;
		cur_init(&c, pkt_data(p) + h.ip_hl, p->len - h.ip_hl);
		if (udp_parse(&c, &u) != 0)
			return drop(e, p, IPSEC_DROP_MALFORMED);
		if (u.udp_dport == e->cfg.natt_port)
			return natt_in(e, now, p, &h, &u);
		break;
	}
	}
	cleartext_in(e, p);
}

/* ---- crypto lanes (ipsec.h) ---- */

void ipsec_seal_defer(struct ipsec *e)
{
	e->defer = e->cfg.lanes > 1 && !e->opened;
}

unsigned ipsec_seal_done(struct ipsec *e)
{
	unsigned failed = 0;

	if (!e->defer)
		return 0; /* no deferral: no jobs, or those of an inbound batch */
	for (unsigned i = 0; i < e->njobs; i++) {
		struct esp_job *j = &e->jobs[i];

		/* A job no lane ran is sealed here: nothing leaves unsealed. Its SA lives
		 * (settle_jobs() ran those of SAs deleted meanwhile). */
		if (!j->done) {
			j->r = esp_seal_lane(j->sa, 0, j->esp, j->n, j->seq);
			j->done = true;
		}
		if (j->r == IPSEC_OK)
			continue;
		/* Counted as sent already: withdrawn now (the SA may be gone). */
		count(e, j->r);
		j->p->len = 0;
		failed++;
	}
	e->njobs = 0;
	e->job_bytes = 0;
	e->defer = false;
	return failed;
}

/*
 * The ESP message p would carry to esp_input(), found the way ipsec_input() finds it
 * (take_ipv4(), natt_in(), esp_in()) without counting: false when it would not get
 * there, or not with a usable SA and a number the window takes now.
 */
static bool preopen_one(struct ipsec *e, struct pkt *p, struct esp_job *j)
{
	struct esp_hdr eh;
	struct ipv4_hdr h;
	size_t off, hlen;
	struct sa *sa;
	struct cur c;
	uint64_t seq;

	cur_init(&c, pkt_data(p), p->len);
	if (ipv4_parse(&c, &h) != 0 || !h.ip_csum_ok || pkt_trim(p, h.ip_len) != 0 ||
	    ipv4_is_fragment(&h))
		return false;
	off = h.ip_hl;
	if (h.ip_proto == IPV4_PROTO_UDP) {
		enum natt_kind kind;
		struct udp_hdr u;

		if (udp_parse(&c, &u) != 0 || u.udp_dport != e->cfg.natt_port ||
		    pkt_trim(p, (uint32_t)(off + u.udp_len)) != 0)
			return false;
		off += UDP_HDR_LEN;
		cur_init(&c, pkt_data(p) + off, p->len - off);
		if (natt_classify(&c, &kind) != 0 || kind != NATT_ESP)
			return false;
	} else if (h.ip_proto != IPV4_PROTO_ESP) {
		return false;
	}
	cur_init(&c, pkt_data(p) + off, p->len - off);
	if (esp_parse(&c, &eh) != 0 || eh.esp_spi < ESP_SPI_MIN)
		return false;
	sa = sadb_lookup_in(&e->sadb, eh.esp_spi, IPV4_PROTO_ESP, h.ip_dst);
	if (sa == NULL || sa->state == SA_STATE_LARVAL || sa->nlanes < e->cfg.lanes ||
	    (h.ip_proto == IPV4_PROTO_UDP) != (sa->encap_sport != 0))
		return false;
	hlen = ESP_HDR_LEN + sa->iv_len;
	if (p->len - off < hlen + sa->icv_len + ESP_TRAILER_MIN ||
	    replay_check(&sa->win, eh.esp_seq, sa->esn, &seq) != 0)
		return false;
	*j = (struct esp_job){ .sa = sa,
			       .p = p,
			       .esp = pkt_data(p) + off,
			       .n = (uint32_t)(p->len - off),
			       .gen = sa->gen,
			       .seq = seq };
	return true;
}

unsigned ipsec_preopen(struct ipsec *e, struct pkt *const *p, unsigned n)
{
	if (e->cfg.lanes <= 1 || e->njobs != 0)
		return 0;
	for (unsigned i = 0; i < n && e->njobs < IPSEC_JOBS_MAX; i++) {
		struct esp_job *j = &e->jobs[e->njobs];

		if (preopen_one(e, p[i], j)) {
			e->njobs++;
			e->job_bytes += j->n;
		}
	}
	e->opened = e->njobs != 0;
	e->next_job = 0;
	return e->njobs;
}

void ipsec_preopen_done(struct ipsec *e)
{
	if (!e->opened)
		return;
	e->opened = false;
	e->njobs = 0;
	e->job_bytes = 0;
}

unsigned ipsec_jobs(const struct ipsec *e, size_t *bytes)
{
	if (bytes != NULL)
		*bytes = e->job_bytes;
	return e->njobs;
}

void ipsec_lane_run(struct ipsec *e, unsigned lane, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to && i < e->njobs; i++) {
		struct esp_job *j = &e->jobs[i];

		if (j->done)
			continue;
		j->r = e->opened ? esp_open_lane(j->sa, lane, j->esp, j->n, j->seq)
				 : esp_seal_lane(j->sa, lane, j->esp, j->n, j->seq);
		j->done = true;
	}
}

/* Management: SAs. */

static void bind_policies(struct ipsec *e, struct sa *sa)
{
	if (sa->dir != SA_DIR_OUT || sa->reqid == 0)
		return;
	for (struct spd_policy *p = spd_next(&e->spd, NULL); p; p = spd_next(&e->spd, p))
		if (p->dir == SA_DIR_OUT && p->action == SPD_PROTECT && p->reqid == sa->reqid &&
		    !p->sa_pinned)
			p->sa = sa;
}

/* A new SA keyed for the engine's lanes. */
static int new_sa(struct ipsec *e, struct sa **out, const struct sa_params *p, sp_time now,
		  const char **why)
{
	int r;

	if ((r = sa_new(out, p, now, why)) != 0)
		return r;
	if (e->cfg.lanes > 1 && (r = sa_add_lanes(*out, p, e->cfg.lanes)) != 0) {
		if (why != NULL)
			*why = "cannot key the crypto lanes";
		sa_free(*out);
		*out = NULL;
		return r;
	}
	(*out)->gen = ++e->sa_gen;
	return 0;
}

int ipsec_sa_add(struct ipsec *e, sp_time now, const struct sa_params *p, const char **why)
{
	struct sa *sa;
	char d[80];
	int r;

	if ((r = new_sa(e, &sa, p, now, why)) != 0)
		return r;
	if ((r = sadb_insert(&e->sadb, sa)) != 0) {
		if (why != NULL)
			*why = r == SP_EEXIST ? "an SA with this SPI, protocol and destination "
						"exists (outbound: with the same reqid, or reqid 0)"
					      : "SA database full";
		sa_free(sa);
		return r;
	}
	bind_policies(e, sa);
	sa_describe(sa, d, sizeof(d));
	SP_INFO(e->cfg.log, "ipsec", "%s: installed %s %s %s/%s reqid %u", e->name, d,
		sa->mode == SA_MODE_TUNNEL ? "tunnel" : "transport", sa_enc_name(sa->enc),
		sa_auth_name(sa->auth), sa->reqid);
	return 0;
}

static uint32_t random_spi(void *arg, const struct sa_spi_req *req)
{
	(void)req;
	for (;;) {
		uint32_t spi = sp_rng_u32(arg);

		if (spi >= ESP_SPI_MIN)
			return spi;
	}
}

int ipsec_sa_getspi(struct ipsec *e, sp_time now, uint8_t proto, uint32_t src, uint32_t dst,
		    uint32_t peer_spi, uint32_t *spi)
{
	struct sa_spi_req req = { .proto = proto, .src = src, .dst = dst, .peer_spi = peer_spi };
	struct sa *sa;
	int r;

	for (req.attempt = 0; req.attempt < SPI_ATTEMPTS; req.attempt++) {
		uint32_t s;

		if (e->cfg.spi_policy.alloc != NULL) {
			if ((r = e->cfg.spi_policy.alloc(e->cfg.spi_policy.arg, &req, &s)) != 0)
				return r;
			if (s < ESP_SPI_MIN)
				return SP_EINVAL;
		} else {
			s = random_spi(e->cfg.rng, &req);
		}
		/* Unique on the SPI alone, so lookups by SPI (NAT-T, demultiplexers) work. */
		if (sadb_lookup_spi(&e->sadb, s) != NULL)
			continue;
		if ((r = sa_new_larval(&sa, s, proto, src, dst, now + e->cfg.larval_lifetime)) != 0)
			return r;
		if ((r = sadb_insert(&e->sadb, sa)) != 0) {
			sa_free(sa);
			return r;
		}
		*spi = s;
		return 0;
	}
	return SP_EFULL;
}

int ipsec_sa_update(struct ipsec *e, sp_time now, const struct sa_params *p, const char **why)
{
	struct sa_key k = { p->spi, p->proto, p->dst, p->reqid };
	struct sa *old, *sa;
	int r;

	/* A reserved SPI is inbound, and with its peer's SPI an outbound SA is found by reqid
	 * too where several share it. */
	if (p->dir == SA_DIR_IN)
		r = (old = sadb_lookup_in(&e->sadb, p->spi, p->proto, p->dst)) ? 0 : SP_ENOTFOUND;
	else
		r = sadb_find(&e->sadb, &k, &old);
	if (r != 0) {
		if (why != NULL)
			*why = r == SP_EINVAL ? "several outbound SAs have this SPI, protocol and "
						"destination: the reqid tells which"
					      : "no SA with this SPI, protocol and destination";
		return r;
	}
	if ((r = new_sa(e, &sa, p, now, why)) != 0)
		return r;
	/* The new SA takes the old one's place; its policies follow. */
	sadb_replace(&e->sadb, old, sa);
	for (struct spd_policy *pol = spd_next(&e->spd, NULL); pol; pol = spd_next(&e->spd, pol))
		if (pol->sa == old)
			pol->sa = sa;
	settle_jobs(e, old);
	sa_free(old);
	bind_policies(e, sa);
	return 0;
}

int ipsec_sa_del(struct ipsec *e, const struct sa_key *k)
{
	struct sa *sa;
	int r;

	if ((r = sadb_find(&e->sadb, k, &sa)) != 0)
		return r;
	if (sa->state == SA_STATE_DEAD)
		return 0; /* being deleted by a hard expiry right now */
	delete_sa(e, sa);
	return 0;
}

int ipsec_sa_move(struct ipsec *e, const struct sa_key *k, uint32_t addr, uint16_t port)
{
	struct sa *sa;
	int r;

	if ((r = sadb_find(&e->sadb, k, &sa)) != 0)
		return r;
	if (sa->dir == SA_DIR_OUT && sadb_taken(&e->sadb, sa, addr))
		return SP_EEXIST;
	set_peer(sa, addr, port);
	return 0;
}

const struct sa *ipsec_sa_lookup(const struct ipsec *e, const struct sa_key *k)
{
	struct sa *sa;

	return sadb_find(&e->sadb, k, &sa) == 0 ? sa : NULL;
}

int ipsec_sa_set_asif(struct ipsec *e, const struct sa_key *k, uint32_t asif_src, uint32_t asif_dst)
{
	struct sa *sa;
	int r;

	if ((r = sadb_find(&e->sadb, k, &sa)) != 0)
		return r;
	sa->asif_src = asif_src;
	sa->asif_dst = asif_dst;
	return 0;
}

const struct sa *ipsec_sa_next(const struct ipsec *e, const struct sa *prev)
{
	return sadb_next(&e->sadb, prev);
}

/* Management: policies. */

int ipsec_policy_add(struct ipsec *e, const struct spd_policy_params *p, uint32_t *id)
{
	struct spd_policy *pol;
	uint32_t pid;
	int r;

	if ((r = spd_add(&e->spd, p, &pid)) != 0)
		return r;
	pol = spd_get(&e->spd, pid);
	if (pol->dir == SA_DIR_OUT && pol->action == SPD_PROTECT)
		pol->sa = newest_out(e, pol->reqid, NULL);
	if (id != NULL)
		*id = pid;
	return 0;
}

int ipsec_policy_del(struct ipsec *e, uint32_t id)
{
	return spd_del(&e->spd, id);
}

int ipsec_policy_set_sa(struct ipsec *e, uint32_t id, const struct sa_key *key)
{
	struct spd_policy *pol = spd_get(&e->spd, id);
	struct sa *sa;
	int r;

	if (pol == NULL)
		return SP_ENOTFOUND;
	if (pol->dir != SA_DIR_OUT || pol->action != SPD_PROTECT)
		return SP_EINVAL;
	if (key == NULL) {
		pol->sa_pinned = false;
		pol->sa = newest_out(e, pol->reqid, NULL);
		return 0;
	}
	if (key->spi == 0) {
		/* Held: no SA until one is chosen (003: a first epoch not yet tried). */
		pol->sa = NULL;
		pol->sa_pinned = true;
		return 0;
	}
	if ((r = sadb_find(&e->sadb, key, &sa)) != 0)
		return r;
	if (sa->dir != SA_DIR_OUT || sa->proto != pol->proto || sa->mode != pol->mode ||
	    sa->state == SA_STATE_LARVAL || sa->state == SA_STATE_DEAD)
		return SP_EINVAL;
	pol->sa = sa;
	pol->sa_pinned = true;
	return 0;
}

const struct spd_policy *ipsec_policy_get(const struct ipsec *e, uint32_t id)
{
	return spd_get(&e->spd, id);
}

const struct spd_policy *ipsec_policy_next(const struct ipsec *e, const struct spd_policy *prev)
{
	return spd_next(&e->spd, prev);
}

/* Time. */

static void send_keepalive(struct ipsec *e, sp_time now, struct sa *sa)
{
	struct ipv4_hdr h = { .ip_ttl = 64, .ip_proto = IPV4_PROTO_UDP };
	struct pkt *p;

	sa->keepalive_sent = now;
	if (e->cfg.pool == NULL || (p = pkt_alloc(e->cfg.pool)) == NULL)
		return;
	h.ip_src = sa->src;
	h.ip_dst = sa->dst;
	h.ip_id = e->ip_id++;
	/* RFC 3948 2.3 and 4: to the peer's NAT-T port, from ours. */
	if (natt_build_keepalive(p) != 0 ||
	    udp_build(p, sa->encap_sport, sa->encap_dport, sa->src, sa->dst, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0)
		return drop(e, p, IPSEC_DROP_NO_SPACE); /* the pool's buffers are too small */
	count(e, IPSEC_CTR_TX_KEEPALIVE);
	e->cfg.net_out(e->cfg.arg, p);
}

int ipsec_send_keepalive(struct ipsec *e, sp_time now, const struct sa_key *k)
{
	struct sa *sa;
	int r;

	if ((r = sadb_find(&e->sadb, k, &sa)) != 0)
		return r;
	if (sa->dir != SA_DIR_OUT || sa->encap_sport == 0)
		return SP_EINVAL;
	send_keepalive(e, now, sa);
	return 0;
}

static sp_time add_limit(sp_time base, sp_time d)
{
	return d == 0 || base == 0 ? SP_TIME_NEVER : base + d;
}

/* When the keepalive of an outbound encapsulated SA is due: an interval after the last
 * packet or keepalive sent (RFC 3948 4: only when nothing else was sent). */
static sp_time keepalive_due(const struct ipsec *e, const struct sa *sa)
{
	sp_time last;

	if (sa->dir != SA_DIR_OUT || sa->encap_sport == 0 ||
	    e->cfg.natt_keepalive == SP_TIME_NEVER || e->cfg.pool == NULL ||
	    sa->state == SA_STATE_LARVAL)
		return SP_TIME_NEVER;
	last = SP_MAX(SP_MAX(sa->stats.last_used, sa->keepalive_sent), sa->stats.installed);
	return last + e->cfg.natt_keepalive;
}

static sp_time sa_deadline(const struct ipsec *e, const struct sa *sa)
{
	sp_time t;

	if (sa->state == SA_STATE_LARVAL)
		return sa->larval_expires;
	t = sp_time_min(add_limit(sa->stats.installed ? sa->stats.installed : 1, sa->hard.add_time),
			add_limit(sa->stats.first_used, sa->hard.use_time));
	if (!sa->soft_fired)
		t = sp_time_min(t,
				sp_time_min(add_limit(sa->stats.installed ? sa->stats.installed : 1,
						      sa->soft.add_time),
					    add_limit(sa->stats.first_used, sa->soft.use_time)));
	return sp_time_min(t, keepalive_due(e, sa));
}

uint16_t ipsec_natt_port(const struct ipsec *e)
{
	return e->cfg.natt_port;
}

sp_time ipsec_next_deadline(const struct ipsec *e)
{
	sp_time t = SP_TIME_NEVER;

	for (struct sa *sa = sadb_next(&e->sadb, NULL); sa; sa = sadb_next(&e->sadb, sa))
		t = sp_time_min(t, sa_deadline(e, sa));
	return t;
}

static void tick_sa(struct ipsec *e, sp_time now, struct sa *sa)
{
	sp_time inst = sa->stats.installed ? sa->stats.installed : 1;

	if (sa->state == SA_STATE_LARVAL) {
		if (now >= sa->larval_expires) {
			struct ipsec_event ev = { .type = IPSEC_EV_LARVAL_EXPIRE, .sa = sa };

			sa->state = SA_STATE_DEAD;
			count(e, IPSEC_CTR_EV_LARVAL);
			emit(e, &ev);
			delete_sa(e, sa);
		}
		return;
	}
	if (now >= add_limit(inst, sa->hard.add_time))
		return expire_hard(e, sa, IPSEC_LIMIT_ADD_TIME);
	if (now >= add_limit(sa->stats.first_used, sa->hard.use_time))
		return expire_hard(e, sa, IPSEC_LIMIT_USE_TIME);
	if (now >= add_limit(inst, sa->soft.add_time))
		expire_soft(e, sa, IPSEC_LIMIT_ADD_TIME);
	else if (now >= add_limit(sa->stats.first_used, sa->soft.use_time))
		expire_soft(e, sa, IPSEC_LIMIT_USE_TIME);
	if (now >= keepalive_due(e, sa))
		send_keepalive(e, now, sa);
}

void ipsec_tick(struct ipsec *e, sp_time now)
{
	/* By slot: tick_sa() may delete the SA it looks at, never another one. */
	for (uint32_t i = 0; i < e->sadb.nslots; i++)
		if (e->sadb.slots[i] != NULL)
			tick_sa(e, now, e->sadb.slots[i]);
}

/* Show. */

static const char *state_name(uint8_t s)
{
	static const char *const n[] = { "larval", "mature", "dying", "dead" };

	return s < SP_NELEM(n) ? n[s] : "?";
}

static void show_age(FILE *f, const char *what, sp_time now, sp_time t)
{
	if (t == 0 || t > now)
		fprintf(f, " %s -", what);
	else
		fprintf(f, " %s %.1fs", what, sp_time_sec(now - t));
}

void ipsec_show_sa(const struct ipsec *e, sp_time now, FILE *f)
{
	for (const struct sa *sa = sadb_next(&e->sadb, NULL); sa; sa = sadb_next(&e->sadb, sa)) {
		char d[80];

		sa_describe(sa, d, sizeof(d));
		fprintf(f, "%s %s reqid %u state %s\n", d,
			sa->mode == SA_MODE_TUNNEL ? "tunnel" : "transport", sa->reqid,
			state_name(sa->state));
		if (sa->state == SA_STATE_LARVAL) {
			show_age(f, "    expires-in", sa->larval_expires, now);
			fputc('\n', f);
			continue;
		}
		fprintf(f, "    enc %s auth %s esn %s", sa_enc_name(sa->enc),
			sa_auth_name(sa->auth), sa->esn ? "yes" : "no");
		if (sa->dir == SA_DIR_IN)
			fprintf(f, " replay-window %u top %llu", sa->win.size,
				(unsigned long long)sa->win.top);
		else
			fprintf(f, " seq %llu", (unsigned long long)sa->seq);
		if (sa->encap_sport)
			fprintf(f, " udp %u->%u", sa->encap_sport, sa->encap_dport);
		if (sa->asif_src || sa->asif_dst) {
			char a[SP_IP4_STRLEN], b[SP_IP4_STRLEN];

			fprintf(f, " as-if %s/%s", sa->asif_src ? sp_ip4_fmt(sa->asif_src, a) : "-",
				sa->asif_dst ? sp_ip4_fmt(sa->asif_dst, b) : "-");
		}
		fprintf(f, "\n    packets %llu bytes %llu", (unsigned long long)sa->stats.packets,
			(unsigned long long)sa->stats.bytes);
		show_age(f, "installed", now, sa->stats.installed);
		show_age(f, "last-used", now, sa->stats.last_used);
		fprintf(f, " drops replay %llu icv %llu padding %llu other %llu\n",
			(unsigned long long)sa->stats.drop_replay,
			(unsigned long long)sa->stats.drop_icv,
			(unsigned long long)sa->stats.drop_padding,
			(unsigned long long)sa->stats.drop_other);
	}
}

static const char *action_name(uint8_t a)
{
	return a == SPD_PROTECT ? "protect" : a == SPD_BYPASS ? "bypass" : "discard";
}

void ipsec_show_policy(const struct ipsec *e, FILE *f)
{
	for (const struct spd_policy *p = spd_next(&e->spd, NULL); p; p = spd_next(&e->spd, p)) {
		char s[SP_IP4_STRLEN], d[SP_IP4_STRLEN];

		fprintf(f,
			"policy %u %s%s%s %s prio %u %s/%u -> %s/%u proto %u sport %u-%u dport "
			"%u-%u %s",
			p->id, p->name[0] ? "\"" : "", p->name, p->name[0] ? "\"" : "",
			p->dir == SA_DIR_IN ? "in" : "out", p->priority, sp_ip4_fmt(p->sel.src, s),
			p->sel.src_len, sp_ip4_fmt(p->sel.dst, d), p->sel.dst_len, p->sel.proto,
			p->sel.sport_lo, p->sel.sport_hi, p->sel.dport_lo, p->sel.dport_hi,
			action_name(p->action));
		if (p->action == SPD_PROTECT)
			fprintf(f, " %s %s reqid %u", p->proto == IPV4_PROTO_AH ? "ah" : "esp",
				p->mode == SA_MODE_TUNNEL ? "tunnel" : "transport", p->reqid);
		if (p->dir == SA_DIR_OUT && p->action == SPD_PROTECT) {
			if (p->sa != NULL)
				fprintf(f, " sa 0x%08x%s", p->sa->spi,
					p->sa_pinned ? " (pinned)" : "");
			else
				fprintf(f, " sa none");
		}
		fprintf(f, " packets %llu\n", (unsigned long long)p->packets);
	}
}
