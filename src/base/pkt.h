/*
 * struct pkt: the one packet type. One buffer with head- and tailroom, so headers are
 * pushed and pulled without copying. A pkt_pool owns preallocated packets; the packet
 * path takes from and returns to a pool and never calls malloc.
 */
#ifndef SP_BASE_PKT_H
#define SP_BASE_PKT_H

#include "base/sp.h"

/* Room for IPv4 + UDP 4500 + ESP + IV + L2TP + PPP + outer IP in front of an inner packet. */
#define PKT_HEADROOM 256
/* Storage per pooled packet: headroom + a 1500-byte MTU + ESP trailer/ICV and slack. */
#define PKT_BUFSIZE  2048

struct pkt_pool;

struct pkt {
	uint8_t *buf;	       /* storage; not owned when pool == NULL */
	uint32_t cap;	       /* bytes of storage */
	uint32_t off;	       /* first valid byte: headroom == off */
	uint32_t len;	       /* valid bytes from off */
	uint32_t ifindex;      /* interface the packet arrived on or leaves by */
	uint32_t mark;	       /* free for the owner of the packet (e.g. tunnel id) */
	uint32_t tag;	       /* accounting tag that travels with the packet through
				  encapsulation; the simulator tags its flow packets */
	uint64_t ts;	       /* time stamp in ns, set by whoever received it */
	struct pkt_pool *pool; /* owner, NULL for a packet over caller storage */
	struct pkt *next_free; /* pool free list / batch link */
};

struct pkt_pool {
	struct pkt *pkts; /* all packet descriptors */
	uint8_t *mem;	  /* all packet storage */
	struct pkt *free; /* free list */
	uint32_t n;	  /* packets in the pool */
	uint32_t bufsize; /* storage per packet */
	uint32_t nfree;
	uint64_t alloc_fail; /* pkt_alloc() found the pool empty */
};

/* Preallocate n packets of bufsize bytes each. */
int pkt_pool_init(struct pkt_pool *pool, uint32_t n, uint32_t bufsize) SP_MUST_CHECK;
void pkt_pool_destroy(struct pkt_pool *pool);

/* A packet with PKT_HEADROOM headroom and no data, or NULL when the pool is empty. */
struct pkt *pkt_alloc(struct pkt_pool *pool);
/* Return a packet to its pool; accepts NULL and packets without a pool. */
void pkt_free(struct pkt *p);
/* A copy of p (data and metadata, same headroom) from pool, or NULL. */
struct pkt *pkt_clone(struct pkt_pool *pool, const struct pkt *p);

/* Wrap caller storage (stack, benchmark buffers); the packet has no pool. */
void pkt_init(struct pkt *p, void *buf, uint32_t cap, uint32_t headroom);
/* Empty the packet and set its headroom, keeping its storage. */
void pkt_reset(struct pkt *p, uint32_t headroom);

static inline uint8_t *pkt_data(const struct pkt *p)
{
	return p->buf + p->off;
}
static inline uint32_t pkt_headroom(const struct pkt *p)
{
	return p->off;
}
static inline uint32_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - p->off - p->len;
}

/* Grow the front by n bytes; returns the new start or NULL when headroom is short. */
uint8_t *pkt_push(struct pkt *p, uint32_t n) SP_MUST_CHECK;
/* Drop n bytes from the front; returns the new start or NULL when len < n. */
uint8_t *pkt_pull(struct pkt *p, uint32_t n) SP_MUST_CHECK;
/* Grow the tail by n bytes; returns the first new byte or NULL when tailroom is short. */
uint8_t *pkt_put(struct pkt *p, uint32_t n) SP_MUST_CHECK;
/* Shorten to len bytes; SP_EINVAL if len is longer than the packet. */
int pkt_trim(struct pkt *p, uint32_t len) SP_MUST_CHECK;
/* Append bytes at the tail. */
int pkt_append(struct pkt *p, const void *data, uint32_t n) SP_MUST_CHECK;

#endif
