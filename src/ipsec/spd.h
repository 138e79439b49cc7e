/*
 * The security policy database (RFC 4301 4.4.1): ordered policies whose traffic selectors
 * say which packets are protected, passed in the clear or discarded, and, for protected
 * outbound traffic, which SA carries them now. The outbound SA of a policy is a pointer
 * the owner may switch at any time (003's epoch guard does); by default the newest SA
 * installed with the policy's reqid takes over.
 */
#ifndef SP_IPSEC_SPD_H
#define SP_IPSEC_SPD_H

#include "base/time.h"
#include "ipsec/sa.h"

/* A traffic selector (RFC 4301 4.4.1.1) in the direction of the packets it matches. */
struct spd_sel {
	uint32_t src, dst; /* networks, host order */
	uint8_t src_len, dst_len;
	uint8_t proto;					 /* 0: any */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi; /* 0-65535: any (or not TCP/UDP) */
};

/* The fields of a packet a selector looks at; ports 0 for protocols without them (and
 * for non-first fragments, RFC 4301 4.4.1.1 "OPAQUE"). For ICMP the ports carry type and
 * code as RFC 4301 4.4.1.3 suggests. */
struct spd_tuple {
	uint32_t src, dst;
	uint8_t proto;
	uint16_t sport, dport;
};

enum spd_action {
	SPD_PROTECT = 0,
	SPD_BYPASS = 1,
	SPD_DISCARD = 2,
};

struct spd_policy_params {
	uint8_t dir;	   /* enum sa_dir */
	uint32_t priority; /* lower matches first; ties: earlier first */
	struct spd_sel sel;
	uint8_t action; /* enum spd_action */
	/* PROTECT: the SA template. */
	uint8_t proto; /* IPV4_PROTO_ESP or IPV4_PROTO_AH */
	uint8_t mode;  /* enum sa_mode */
	uint32_t reqid;
	uint32_t tun_src, tun_dst; /* tunnel mode outer addresses, for "acquire" */
	const char *name;	   /* for show output; copied, may be NULL */
};

struct spd_policy {
	uint32_t id; /* assigned, never reused within one database */
	uint8_t dir;
	uint32_t priority;
	struct spd_sel sel;
	uint8_t action, proto, mode;
	uint32_t reqid;
	uint32_t tun_src, tun_dst;
	char name[32];
	/* Outbound: the SA that protects matching packets now, NULL when none (acquire). */
	struct sa *sa;
	bool sa_pinned;	      /* chosen by the owner: new SAs with the reqid do not take over */
	sp_time acquire_next; /* no new acquire event before this */
	uint64_t packets;     /* matched */
};

struct spd {
	struct spd_policy **pol; /* sorted by (dir, priority, id) */
	uint32_t n, cap;
	uint32_t next_id;
};

void spd_init(struct spd *spd);
void spd_destroy(struct spd *spd);

int spd_add(struct spd *spd, const struct spd_policy_params *p, uint32_t *id) SP_MUST_CHECK;
int spd_del(struct spd *spd, uint32_t id) SP_MUST_CHECK;
struct spd_policy *spd_get(const struct spd *spd, uint32_t id);
/* The first policy of direction dir whose selector matches t, or NULL. */
struct spd_policy *spd_lookup(const struct spd *spd, uint8_t dir, const struct spd_tuple *t);
bool spd_sel_match(const struct spd_sel *s, const struct spd_tuple *t);
/* Iterate all policies: pass NULL first. */
struct spd_policy *spd_next(const struct spd *spd, const struct spd_policy *prev);

/* The selector fields of an IPv4 packet (len bytes at ip, header already validated). */
void spd_tuple_of(const uint8_t *ip, size_t len, struct spd_tuple *t);

#endif
