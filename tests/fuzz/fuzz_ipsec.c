/*
 * An IPsec endpoint receiving whatever arrives (ipsec_input), and sending whatever its
 * stack hands it (ipsec_output): ESP in every mode and transform, ESP in UDP, AH, NAT-T
 * keepalives and IKE markers, against SAs that hold state (replay windows) only for the
 * one input. Every packet must end in exactly one place: a callback, or one named drop
 * (or a consumed keepalive). Nothing leaks from the packet pool.
 *
 * The two engines (one with the SAs inbound, one outbound) are made once; after each
 * input every SA is put back as it was installed (sequence number, replay window,
 * lifetimes, statistics, NAT-T peer), keeping its crypto contexts and database links, so
 * an input meets the SAs as new without a key schedule per SA per input.
 */
#include "fuzz.h"
#include "ipsec_fuzz.h"

#include <string.h>

struct engine {
	struct ipsec *e;
	unsigned nsa;
	struct sa image[SP_NELEM(ipsec_fuzz_sas)]; /* each SA as installed */
	struct sa *sa[SP_NELEM(ipsec_fuzz_sas)];
};

static unsigned outcomes;

static void take(void *arg, struct pkt *p)
{
	(void)arg;
	FUZZ_CHECK(p->len >= IPV4_HDR_MIN || p->len == 0);
	outcomes++;
	pkt_free(p);
}

static void take_ike(void *arg, struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport,
		     uint16_t dport)
{
	(void)src;
	(void)dst;
	(void)sport;
	(void)dport;
	take(arg, p);
}

static uint64_t finished(const struct ipsec *e)
{
	uint64_t n = ipsec_counter(e, IPSEC_CTR_RX_KEEPALIVE);

	for (int c = IPSEC_DROP_NO_SA; c <= IPSEC_DROP_IKE_NO_HANDLER; c++)
		n += ipsec_counter(e, (enum ipsec_ctr)c);
	return n;
}

/* Make the outer header consistent with the input so mutations go past it. */
static void fix_header(struct pkt *p)
{
	uint8_t *ip = pkt_data(p);
	size_t hl;

	if (p->len < IPV4_HDR_MIN || (ip[0] >> 4) != 4)
		return;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_MIN || hl > p->len)
		return;
	sp_store_be16(ip + IPV4_OFF_LEN, (uint16_t)p->len);
	ipv4_set_csum(ip, hl);
}

static void make(struct engine *g, bool input, struct pkt_pool *pool, struct sp_rng *rng)
{
	struct ipsec_cfg cfg = { .name = "fuzz",
				 .rng = rng,
				 .pool = pool,
				 .max_sa = 64,
				 .net_out = take,
				 .local_out = take,
				 .ike_in = take_ike,
				 .bypass_unmatched = !input };
	const struct sa *s = NULL;

	FUZZ_CHECK(ipsec_new(&g->e, &cfg) == 0);
	for (unsigned i = 0; i < SP_NELEM(ipsec_fuzz_sas); i++)
		FUZZ_CHECK(ipsec_fuzz_install(g->e, i, input ? SA_DIR_IN : SA_DIR_OUT) == 0);
	g->nsa = 0;
	while ((s = ipsec_sa_next(g->e, s)) != NULL) {
		FUZZ_CHECK(g->nsa < SP_NELEM(ipsec_fuzz_sas));
		g->sa[g->nsa] = (struct sa *)(uintptr_t)s; /* the harness's own engine */
		g->image[g->nsa++] = *s;
	}
	FUZZ_CHECK(g->nsa == SP_NELEM(ipsec_fuzz_sas));
}

/* Every SA as installed: state from the image; contexts, window memory and database
 * links are the live ones (the image's are the same pointers, the links may differ). */
static void restore(struct engine *g)
{
	for (unsigned i = 0; i < g->nsa; i++) {
		struct sa *s = g->sa[i];
		uint32_t hnext = s->hnext, idx = s->idx;
		uint64_t *bits = s->win.bits;

		FUZZ_CHECK(s->xf.aead == g->image[i].xf.aead &&
			   s->xf.cipher == g->image[i].xf.cipher &&
			   s->xf.hmac == g->image[i].xf.hmac && s->lanes == g->image[i].lanes &&
			   bits == g->image[i].win.bits);
		*s = g->image[i];
		s->hnext = hnext;
		s->idx = idx;
		if (bits != NULL)
			memset(bits, 0, s->win.words * sizeof(*bits));
	}
}

static void one(struct engine *g, bool input, const uint8_t *data, size_t size,
		struct pkt_pool *pool)
{
	uint64_t before = finished(g->e);
	struct pkt *p;

	p = pkt_alloc(pool);
	FUZZ_CHECK(p != NULL);
	if (pkt_append(p, data, (uint32_t)size) != 0) {
		pkt_free(p);
		return;
	}
	fix_header(p);
	outcomes = 0;
	if (input)
		ipsec_input(g->e, SP_SEC(1), p);
	else
		ipsec_output(g->e, SP_SEC(1), p);
	FUZZ_CHECK(outcomes + (finished(g->e) - before) == 1);
	ipsec_tick(g->e, SP_SEC(100)); /* keepalives */
	restore(g);
	FUZZ_CHECK(pool->nfree == pool->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool pool;
	static struct sp_xoshiro rng;
	static struct engine in, out;

	if (pool.n == 0) {
		FUZZ_CHECK(pkt_pool_init(&pool, 8, PKT_BUFSIZE) == 0);
		sp_xoshiro_seed(&rng, 1);
		make(&in, true, &pool, &rng.rng);
		make(&out, false, &pool, &rng.rng);
	}
	if (size > PKT_BUFSIZE - PKT_HEADROOM)
		return 0;
	sp_xoshiro_seed(&rng, 1);
	one(&in, true, data, size, &pool);
	one(&out, false, data, size, &pool);
	return 0;
}
