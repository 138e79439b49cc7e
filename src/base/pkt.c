#include "base/pkt.h"

#include <stdlib.h>
#include <string.h>

int pkt_pool_init(struct pkt_pool *pool, uint32_t n, uint32_t bufsize)
{
	memset(pool, 0, sizeof(*pool));
	if (n == 0 || bufsize <= PKT_HEADROOM)
		return SP_EINVAL;
	pool->pkts = calloc(n, sizeof(*pool->pkts));
	pool->mem = malloc((size_t)n * bufsize);
	if (pool->pkts == NULL || pool->mem == NULL) {
		pkt_pool_destroy(pool);
		return SP_ENOMEM;
	}
	pool->n = n;
	pool->bufsize = bufsize;
	for (uint32_t i = n; i-- > 0;) {
		struct pkt *p = &pool->pkts[i];
		p->buf = pool->mem + (size_t)i * bufsize;
		p->cap = bufsize;
		p->pool = pool;
		p->next_free = pool->free;
		pool->free = p;
	}
	pool->nfree = n;
	return 0;
}

void pkt_pool_destroy(struct pkt_pool *pool)
{
	free(pool->pkts);
	free(pool->mem);
	memset(pool, 0, sizeof(*pool));
}

void pkt_reset(struct pkt *p, uint32_t headroom)
{
	p->off = headroom <= p->cap ? headroom : p->cap;
	p->len = 0;
	p->ifindex = 0;
	p->mark = 0;
	p->tag = 0;
	p->ts = 0;
}

struct pkt *pkt_alloc(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;

	if (SP_UNLIKELY(p == NULL)) {
		pool->alloc_fail++;
		return NULL;
	}
	pool->free = p->next_free;
	pool->nfree--;
	p->next_free = NULL;
	pkt_reset(p, PKT_HEADROOM);
	return p;
}

void pkt_free(struct pkt *p)
{
	if (p == NULL || p->pool == NULL)
		return;
	p->next_free = p->pool->free;
	p->pool->free = p;
	p->pool->nfree++;
}

struct pkt *pkt_clone(struct pkt_pool *pool, const struct pkt *p)
{
	struct pkt *c;

	if (p->off + p->len > pool->bufsize)
		return NULL;
	if ((c = pkt_alloc(pool)) == NULL)
		return NULL;
	c->off = p->off;
	c->len = p->len;
	c->ifindex = p->ifindex;
	c->mark = p->mark;
	c->tag = p->tag;
	c->ts = p->ts;
	memcpy(pkt_data(c), pkt_data(p), p->len);
	return c;
}

void pkt_init(struct pkt *p, void *buf, uint32_t cap, uint32_t headroom)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->cap = cap;
	pkt_reset(p, headroom);
}

uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
	if (SP_UNLIKELY(n > p->off))
		return NULL;
	p->off -= n;
	p->len += n;
	return pkt_data(p);
}

uint8_t *pkt_pull(struct pkt *p, uint32_t n)
{
	if (SP_UNLIKELY(n > p->len))
		return NULL;
	p->off += n;
	p->len -= n;
	return pkt_data(p);
}

uint8_t *pkt_put(struct pkt *p, uint32_t n)
{
	uint8_t *tail;

	if (SP_UNLIKELY(n > pkt_tailroom(p)))
		return NULL;
	tail = pkt_data(p) + p->len;
	p->len += n;
	return tail;
}

int pkt_trim(struct pkt *p, uint32_t len)
{
	if (len > p->len)
		return SP_EINVAL;
	p->len = len;
	return 0;
}

int pkt_append(struct pkt *p, const void *data, uint32_t n)
{
	uint8_t *t = pkt_put(p, n);

	if (t == NULL)
		return SP_ENOSPACE;
	if (n > 0)
		memcpy(t, data, n);
	return 0;
}
