/*
 * An IPsec endpoint receiving whatever arrives (ipsec_input), and sending whatever its
 * stack hands it (ipsec_output): ESP in every mode and transform, ESP in UDP, AH, NAT-T
 * keepalives and IKE markers, against SAs that hold state (replay windows) only for the
 * one input. Every packet must end in exactly one place: a callback, or one named drop
 * (or a consumed keepalive). Nothing leaks from the packet pool.
 */
#include "fuzz.h"
#include "ipsec_fuzz.h"

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

static void one(bool input, const uint8_t *data, size_t size, struct pkt_pool *pool,
		struct sp_rng *rng)
{
	struct ipsec_cfg cfg = { .name = "fuzz",
				 .rng = rng,
				 .pool = pool,
				 .net_out = take,
				 .local_out = take,
				 .ike_in = take_ike,
				 .bypass_unmatched = !input };
	struct ipsec *e;
	struct pkt *p;

	FUZZ_CHECK(ipsec_new(&e, &cfg) == 0);
	for (unsigned i = 0; i < SP_NELEM(ipsec_fuzz_sas); i++)
		FUZZ_CHECK(ipsec_fuzz_install(e, i, input ? SA_DIR_IN : SA_DIR_OUT) == 0);
	p = pkt_alloc(pool);
	FUZZ_CHECK(p != NULL);
	if (pkt_append(p, data, (uint32_t)size) != 0) {
		pkt_free(p);
		ipsec_free(e);
		return;
	}
	fix_header(p);
	outcomes = 0;
	if (input)
		ipsec_input(e, SP_SEC(1), p);
	else
		ipsec_output(e, SP_SEC(1), p);
	FUZZ_CHECK(outcomes + finished(e) == 1);
	ipsec_tick(e, SP_SEC(100)); /* keepalives */
	ipsec_free(e);
	FUZZ_CHECK(pool->nfree == pool->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool pool;
	static struct sp_xoshiro rng;

	if (pool.n == 0) {
		FUZZ_CHECK(pkt_pool_init(&pool, 8, PKT_BUFSIZE) == 0);
		sp_xoshiro_seed(&rng, 1);
	}
	if (size > PKT_BUFSIZE - PKT_HEADROOM)
		return 0;
	one(true, data, size, &pool, &rng.rng);
	one(false, data, size, &pool, &rng.rng);
	return 0;
}
