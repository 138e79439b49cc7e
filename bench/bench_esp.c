/*
 * spinat-bench esp: ESP encapsulation and decapsulation through the whole engine
 * (ipsec_output / ipsec_input: policy or SA lookup, anti-replay, crypto, headers, tunnel
 * mode), per transform and packet size, next to OpenSSL's own EVP doing the same
 * cryptography on the same sizes in the same run, and their ratio. Packets are processed
 * in place in batches; preparing a batch (copying the cleartext in, or making genuine
 * ciphertext to decapsulate) is not timed, for spinat or for EVP.
 */
#include "bench.h"
#include "base/addr.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "io/lanes.h"
#include "ipsec/ipsec.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256

static const struct xform {
	const char *name;
	uint16_t enc, auth;
	size_t ek, ak;
	const char *evp; /* the EVP cipher of the baseline, NULL for none */
	const char *md;	 /* the HMAC digest of the baseline, NULL for none */
	size_t icv;
} xforms[] = {
	{ "aes128-gcm16", SA_ENC_AES_GCM_16, SA_AUTH_NONE, 20, 0, "AES-128-GCM", NULL, 16 },
	{ "aes256-gcm16", SA_ENC_AES_GCM_16, SA_AUTH_NONE, 36, 0, "AES-256-GCM", NULL, 16 },
	{ "aes128-gmac", SA_ENC_NULL_AUTH_AES_GMAC, SA_AUTH_NONE, 20, 0, "AES-128-GCM", NULL, 16 },
	{ "aes128-cbc/sha1", SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA1_96, 16, 20, "AES-128-CBC", "SHA1",
	  12 },
	{ "aes256-cbc/sha256", SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA2_256_128, 32, 32, "AES-256-CBC",
	  "SHA256", 16 },
	{ "null/sha256", SA_ENC_NULL, SA_AUTH_HMAC_SHA2_256_128, 0, 32, NULL, "SHA256", 16 },
};

static const uint8_t key[64] = { 1,  2,	 3,  4,	 5,  6,	 7,  8,	 9,  10, 11, 12,
				 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
				 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36 };

struct batch {
	struct pkt pkt[BATCH];
	uint8_t *mem;
	struct pkt *out[BATCH]; /* what the engine passed to a callback */
	unsigned nout;
};

static void collect(void *arg, struct pkt *p)
{
	struct batch *b = arg;

	if (b->nout < BATCH)
		b->out[b->nout++] = p;
}

struct side {
	struct ipsec *e;
	struct batch *sink;
};

static struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->mem = malloc((size_t)BATCH * PKT_BUFSIZE)) == NULL) {
		free(b);
		return NULL;
	}
	for (unsigned i = 0; i < BATCH; i++)
		pkt_init(&b->pkt[i], b->mem + (size_t)i * PKT_BUFSIZE, PKT_BUFSIZE, PKT_HEADROOM);
	return b;
}

static void batch_free(struct batch *b)
{
	if (b != NULL)
		free(b->mem);
	free(b);
}

/* An engine with one tunnel-mode SA (out on A, in on B) and its policy. */
static int engine(struct ipsec **out, const struct xform *x, uint8_t dir, struct sp_rng *rng,
		  struct batch *sink, unsigned lanes)
{
	struct ipsec_cfg cfg = { .name = "bench",
				 .rng = rng,
				 .lanes = lanes,
				 .net_out = collect,
				 .local_out = collect,
				 .arg = sink };
	struct spd_policy_params pp = {
		.dir = dir,
		.action = SPD_PROTECT,
		.proto = IPV4_PROTO_ESP,
		.mode = SA_MODE_TUNNEL,
		.reqid = 1,
		.sel = { .src = SP_IP4(192, 168, 1, 0),
			 .src_len = 24,
			 .dst = SP_IP4(192, 168, 2, 0),
			 .dst_len = 24,
			 .sport_hi = 65535,
			 .dport_hi = 65535 },
	};
	struct sa_params p = {
		.spi = 0x1234,
		.proto = IPV4_PROTO_ESP,
		.mode = SA_MODE_TUNNEL,
		.dir = dir,
		.src = SP_IP4(10, 0, 0, 1),
		.dst = SP_IP4(10, 0, 0, 2),
		.enc = x->enc,
		.auth = x->auth,
		.enc_key = key,
		.enc_key_len = x->ek,
		.auth_key = key + 3,
		.auth_key_len = x->ak,
		.replay_window = 1024,
		.reqid = 1,
	};
	int r;

	if ((r = ipsec_new(out, &cfg)) != 0 || (r = ipsec_policy_add(*out, &pp, NULL)) != 0 ||
	    (r = ipsec_sa_add(*out, 1, &p, NULL)) != 0)
		return r;
	return 0;
}

/* The inner packet: IPv4/UDP of exactly size bytes. */
static void inner(struct pkt *p, size_t size)
{
	struct ipv4_hdr h = { .ip_ttl = 64,
			      .ip_proto = IPV4_PROTO_UDP,
			      .ip_src = SP_IP4(192, 168, 1, 2),
			      .ip_dst = SP_IP4(192, 168, 2, 2) };
	uint8_t *d;

	pkt_reset(p, PKT_HEADROOM);
	d = pkt_put(p, (uint32_t)(size - 28));
	for (size_t i = 0; d != NULL && i < size - 28; i++)
		d[i] = (uint8_t)i;
	if (udp_build(p, 1000, 2000, h.ip_src, h.ip_dst, true) != 0 ||
	    ipv4_build(p, &h, NULL, 0) != 0)
		abort();
}

/* Fill the batch with copies of tmpl (whole packets as they start). */
static void refill(struct batch *b, const struct pkt *tmpl)
{
	for (unsigned i = 0; i < BATCH; i++) {
		struct pkt *p = &b->pkt[i];

		pkt_reset(p, pkt_headroom(tmpl));
		memcpy(pkt_data(p), pkt_data(tmpl), tmpl->len);
		p->len = tmpl->len;
	}
	b->nout = 0;
}

struct rate {
	double pps;
	long allocs;	  /* libcrypto allocations in the timed part */
	uint64_t mallocs; /* malloc & co. called from spinat's code (bench_alloc.c) */
	uint64_t pkts;
};

static void rate_done(struct rate *r, uint64_t ns, uint64_t pkts, long allocs, uint64_t mallocs)
{
	r->pps = (double)pkts * 1e9 / (double)ns;
	r->allocs = allocs;
	r->mallocs = mallocs;
	r->pkts = pkts;
}

/* OpenSSL's own EVP on the same cryptography: the cipher over the packet (padded to the
 * block for CBC), 8 bytes of AAD, the tag; or EVP_MAC HMAC over header, IV and text. */
struct evp {
	const struct xform *x;
	EVP_CIPHER_CTX *ctx;
	EVP_MAC_CTX *mac;
	size_t len; /* bytes the cipher runs over */
};

static int evp_setup(struct evp *v, const struct xform *x, size_t size, bool enc)
{
	EVP_CIPHER *c = NULL;
	EVP_MAC *m = NULL;
	int r = SP_ECRYPTO;

	memset(v, 0, sizeof(*v));
	v->x = x;
	v->len = x->enc == SA_ENC_AES_CBC ? (size + 2 + 15) / 16 * 16 : size + 2;
	if (x->evp != NULL) {
		if ((c = EVP_CIPHER_fetch(NULL, x->evp, NULL)) == NULL ||
		    (v->ctx = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_CipherInit_ex2(v->ctx, c, key, NULL, enc, NULL) != 1)
			goto out;
		EVP_CIPHER_CTX_set_padding(v->ctx, 0);
	}
	if (x->md != NULL) {
		OSSL_PARAM prm[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
								      (char *)x->md, 0),
				     OSSL_PARAM_construct_end() };

		if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
		    (v->mac = EVP_MAC_CTX_new(m)) == NULL ||
		    EVP_MAC_init(v->mac, key + 3, x->ak, prm) != 1)
			goto out;
	}
	r = 0;
out:
	EVP_CIPHER_free(c);
	EVP_MAC_free(m);
	return r;
}

static void evp_free(struct evp *v)
{
	EVP_CIPHER_CTX_free(v->ctx);
	EVP_MAC_CTX_free(v->mac);
}

/* One packet: buf holds 8 bytes of header, 16 of IV room, then the text and a tag. */
static int evp_one(struct evp *v, uint8_t *buf, bool enc)
{
	uint8_t iv[16] = { 1 }, *text = buf + 24, tag[64];
	int l;
	size_t ml;

	if (v->x->enc == SA_ENC_AES_GCM_16 || v->x->enc == SA_ENC_NULL_AUTH_AES_GMAC) {
		bool gmac = v->x->enc == SA_ENC_NULL_AUTH_AES_GMAC;

		if (EVP_CipherInit_ex2(v->ctx, NULL, NULL, iv, enc, NULL) != 1 ||
		    EVP_CipherUpdate(v->ctx, NULL, &l, buf, 8) != 1)
			return -1;
		if (gmac ? EVP_CipherUpdate(v->ctx, NULL, &l, text - 8, (int)v->len + 8) != 1
			 : EVP_CipherUpdate(v->ctx, text, &l, text, (int)v->len) != 1)
			return -1;
		if (!enc &&
		    EVP_CIPHER_CTX_ctrl(v->ctx, EVP_CTRL_AEAD_SET_TAG, 16, text + v->len) != 1)
			return -1;
		if (EVP_CipherFinal_ex(v->ctx, tag, &l) != 1)
			return -1;
		if (enc &&
		    EVP_CIPHER_CTX_ctrl(v->ctx, EVP_CTRL_AEAD_GET_TAG, 16, text + v->len) != 1)
			return -1;
		return 0;
	}
	/* Encrypt then MAC (RFC 4303 3.3.2); to decapsulate, MAC then decrypt. */
	if (!enc && (EVP_MAC_init(v->mac, NULL, 0, NULL) != 1 ||
		     EVP_MAC_update(v->mac, buf, 24 + v->len) != 1 ||
		     EVP_MAC_final(v->mac, tag, &ml, sizeof(tag)) != 1 ||
		     CRYPTO_memcmp(tag, text + v->len, v->x->icv) != 0))
		return -1;
	if (v->ctx != NULL && (EVP_CipherInit_ex2(v->ctx, NULL, NULL, iv, enc, NULL) != 1 ||
			       EVP_CipherUpdate(v->ctx, text, &l, text, (int)v->len) != 1))
		return -1;
	if (enc && (EVP_MAC_init(v->mac, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(v->mac, buf, 24 + v->len) != 1 ||
		    EVP_MAC_final(v->mac, tag, &ml, sizeof(tag)) != 1))
		return -1;
	if (enc)
		memcpy(text + v->len, tag, v->x->icv);
	return 0;
}

/*
 * One transform and size: spinat and EVP batch by batch, alternating, so both see the same
 * machine. spinat's decapsulation takes the batch it just encapsulated (genuine ESP).
 */
struct measure {
	struct rate enc, dec, evp_enc, evp_dec;
};

struct acc {
	uint64_t ns;
	long allocs;
	uint64_t mallocs;
};

static int measure(const struct bench_opts *o, const struct xform *x, size_t size,
		   struct measure *m)
{
	struct batch *in = batch_new(), *mid = batch_new(), *sink = batch_new();
	uint8_t *bufs = malloc((size_t)BATCH * PKT_BUFSIZE), *tmpl = calloc(1, PKT_BUFSIZE);
	uint64_t n = 0, limit = (uint64_t)(o->seconds * 1e9);
	struct acc acc[4] = { { 0, 0, 0 } };
	struct ipsec *a = NULL, *b = NULL;
	struct evp e = { 0 }, d = { 0 };
	struct sp_xoshiro rng;
	uint8_t tbuf[PKT_BUFSIZE];
	struct pkt t;
	int r = SP_ENOMEM;

	sp_xoshiro_seed(&rng, 3);
	if (in == NULL || mid == NULL || sink == NULL || bufs == NULL || tmpl == NULL)
		goto out;
	if ((r = engine(&a, x, SA_DIR_OUT, &rng.rng, mid, 1)) != 0 ||
	    (r = engine(&b, x, SA_DIR_IN, &rng.rng, sink, 1)) != 0 ||
	    (r = evp_setup(&e, x, size, true)) != 0 || (r = evp_setup(&d, x, size, false)) != 0)
		goto out;
	pkt_init(&t, tbuf, sizeof(tbuf), PKT_HEADROOM);
	inner(&t, size);
	for (size_t i = 0; i < PKT_BUFSIZE; i++)
		tmpl[i] = (uint8_t)i;
	r = SP_EIO;
	while (acc[0].ns < limit || acc[1].ns < limit || acc[2].ns < limit || acc[3].ns < limit) {
		uint64_t t0, t1, t2, t3, t4, m0, m1, m2;
		long c0, c1, c2, c3, c4;

		refill(in, &t);
		for (unsigned i = 0; i < BATCH; i++)
			memcpy(bufs + (size_t)i * PKT_BUFSIZE, tmpl, 24 + e.len + 64);
		sink->nout = mid->nout = 0;
		c0 = crypto_alloc_count();
		m0 = bench_alloc_count();
		t0 = bench_cpu_now();
		for (unsigned i = 0; i < BATCH; i++)
			ipsec_output(a, 1, &in->pkt[i]);
		t1 = bench_cpu_now();
		c1 = crypto_alloc_count();
		m1 = bench_alloc_count();
		for (unsigned i = 0; i < BATCH && i < mid->nout; i++)
			ipsec_input(b, 1, mid->out[i]);
		t2 = bench_cpu_now();
		c2 = crypto_alloc_count();
		m2 = bench_alloc_count();
		if (mid->nout != BATCH || sink->nout != BATCH)
			goto out; /* something was dropped: the figures would lie */
		for (unsigned i = 0; i < BATCH; i++)
			if (evp_one(&e, bufs + (size_t)i * PKT_BUFSIZE, true) != 0)
				goto out;
		t3 = bench_cpu_now();
		c3 = crypto_alloc_count();
		for (unsigned i = 0; i < BATCH; i++)
			if (evp_one(&d, bufs + (size_t)i * PKT_BUFSIZE, false) != 0)
				goto out;
		t4 = bench_cpu_now();
		c4 = crypto_alloc_count();
		acc[0].ns += t1 - t0;
		acc[1].ns += t2 - t1;
		acc[2].ns += t3 - t2;
		acc[3].ns += t4 - t3;
		acc[0].allocs += c1 - c0;
		acc[1].allocs += c2 - c1;
		acc[2].allocs += c3 - c2;
		acc[3].allocs += c4 - c3;
		acc[0].mallocs += m1 - m0;
		acc[1].mallocs += m2 - m1;
		n += BATCH;
	}
	rate_done(&m->enc, acc[0].ns, n, acc[0].allocs, acc[0].mallocs);
	rate_done(&m->dec, acc[1].ns, n, acc[1].allocs, acc[1].mallocs);
	rate_done(&m->evp_enc, acc[2].ns, n, acc[2].allocs, 0);
	rate_done(&m->evp_dec, acc[3].ns, n, acc[3].allocs, 0);
	r = 0;
out:
	ipsec_free(a);
	ipsec_free(b);
	evp_free(&e);
	evp_free(&d);
	batch_free(in);
	batch_free(mid);
	batch_free(sink);
	free(bufs);
	free(tmpl);
	return r;
}

static double gbps(const struct rate *r, size_t size)
{
	return r->pps * (double)size * 8 / 1e9;
}

int bench_esp_main(const struct bench_opts *o, int argc, char **argv)
{
	static const size_t all_sizes[] = { 64, 512, 1400 };
	const size_t *sizes = o->quick ? all_sizes + 2 : all_sizes;
	size_t nsizes = o->quick ? 1 : SP_NELEM(all_sizes);
	size_t nx = o->quick ? 1 : SP_NELEM(xforms);
	const char *only = argc > 0 ? argv[0] : NULL;
	/* Only possible before libcrypto's first allocation (spinat-bench esp alone). */
	bool counting = crypto_alloc_count_start();
	long ours_allocs = 0, evp_allocs = 0;
	uint64_t ours_pkts = 0, evp_pkts = 0, ours_mallocs = 0;

	printf("ESP, tunnel mode, one core: whole-engine encapsulation and decapsulation\n"
	       "(ipsec_output/ipsec_input) against OpenSSL EVP doing the same cryptography on\n"
	       "the same sizes; size = the inner IPv4 packet; Gbit/s of inner packets;\n"
	       "batches of %d packets in place, alternating between spinat and EVP;\n"
	       "%.1f s of this thread's CPU time per figure.\n\n",
	       BATCH, o->seconds);
	printf("%-18s %5s | %8s %8s %8s %6s | %8s %8s %8s %6s\n", "transform", "size", "encap",
	       "Gbit/s", "EVP", "ratio", "decap", "Gbit/s", "EVP", "ratio");
	printf("%-18s %5s | %8s %8s %8s %6s | %8s %8s %8s %6s\n", "", "bytes", "Mpps", "", "Gbit/s",
	       "", "Mpps", "", "Gbit/s", "");
	for (size_t i = 0; i < nx; i++) {
		if (only != NULL && strcmp(only, xforms[i].name) != 0)
			continue;
		for (size_t j = 0; j < nsizes; j++) {
			struct measure m;

			if (measure(o, &xforms[i], sizes[j], &m) != 0) {
				fprintf(stderr, "spinat-bench esp: %s %zu failed\n", xforms[i].name,
					sizes[j]);
				return 1;
			}
			printf("%-18s %5zu | %8.3f %8.2f %8.2f %5.0f%% | %8.3f %8.2f %8.2f "
			       "%5.0f%%\n",
			       xforms[i].name, sizes[j], m.enc.pps / 1e6, gbps(&m.enc, sizes[j]),
			       gbps(&m.evp_enc, sizes[j]), 100 * m.enc.pps / m.evp_enc.pps,
			       m.dec.pps / 1e6, gbps(&m.dec, sizes[j]), gbps(&m.evp_dec, sizes[j]),
			       100 * m.dec.pps / m.evp_dec.pps);
			fflush(stdout);
			ours_allocs += m.enc.allocs + m.dec.allocs;
			ours_mallocs += m.enc.mallocs + m.dec.mallocs;
			ours_pkts += m.enc.pkts + m.dec.pkts;
			evp_allocs += m.evp_enc.allocs + m.evp_dec.allocs;
			evp_pkts += m.evp_enc.pkts + m.evp_dec.pkts;
		}
	}
	printf("\nallocations per packet while timed: spinat's code %.3f",
	       ours_pkts ? (double)ours_mallocs / (double)ours_pkts : 0.0);
	if (counting)
		printf(", libcrypto for spinat %.3f, libcrypto for the EVP baseline %.3f\n",
		       ours_pkts ? (double)ours_allocs / (double)ours_pkts : 0.0,
		       evp_pkts ? (double)evp_allocs / (double)evp_pkts : 0.0);
	else
		printf(" (libcrypto's not counted: run 'spinat-bench esp' alone)\n");
	return 0;
}

/*
 * spinat-bench lanes: the crypto lanes (ipsec.h, the endpoint's crypto_lanes) in memory.
 * Batches of 64 packets (what the endpoint shares out at most) through ipsec_output() with
 * the seals deferred and then run on 1, 2, ... lanes (io/lanes.h), and back through
 * ipsec_preopen(), the lanes, and ipsec_input(). Wall-clock time, since the point is
 * several cores at once, and the cores the process used meanwhile (its CPU time over the
 * wall-clock time of its slices, refills included); the lane counts take turns in slices
 * of 200 ms (a pool's threads spin a little after each batch, which would count against
 * the next pool's figure, and the kernel books a running thread's time at its ticks).
 */
#define LBATCH	   64
#define LANES_MAXB 4
#define SLICE_NS   200000000ull

struct lane_cfg {
	unsigned lanes;
	struct ipsec *a, *b, *cur; /* cur: the engine whose jobs the pool runs */
	struct io_lanes *pool;	   /* one for both engines, as in one daemon */
	struct batch *in, *mid, *sink;
	uint64_t enc_ns, dec_ns, cpu_ns, wall_ns, pkts;
};

static void lane_fn(void *arg, unsigned lane, unsigned from, unsigned to)
{
	struct lane_cfg *c = arg;

	ipsec_lane_run(c->cur, lane, from, to);
}

static void lane_jobs(struct lane_cfg *c, struct ipsec *e)
{
	unsigned n = ipsec_jobs(e, NULL);

	c->cur = e;
	if (c->pool != NULL)
		io_lanes_run(c->pool, n);
	else
		ipsec_lane_run(e, 0, 0, n);
}

/* One batch of c's through both engines; false when a packet was lost. */
static bool lane_batch(struct lane_cfg *c, const struct pkt *tmpl)
{
	uint64_t t0, t1, t2;

	refill(c->in, tmpl);
	c->mid->nout = c->sink->nout = 0;
	t0 = bench_now();
	ipsec_seal_defer(c->a);
	for (unsigned i = 0; i < LBATCH; i++)
		ipsec_output(c->a, 1, &c->in->pkt[i]);
	lane_jobs(c, c->a);
	if (ipsec_seal_done(c->a) != 0 || c->mid->nout != LBATCH)
		return false;
	t1 = bench_now();
	ipsec_preopen(c->b, c->mid->out, c->mid->nout);
	lane_jobs(c, c->b);
	for (unsigned i = 0; i < LBATCH; i++)
		ipsec_input(c->b, 1, c->mid->out[i]);
	ipsec_preopen_done(c->b);
	t2 = bench_now();
	c->enc_ns += t1 - t0;
	c->dec_ns += t2 - t1;
	c->pkts += LBATCH;
	return c->sink->nout == LBATCH;
}

static void lane_cfg_free(struct lane_cfg *c)
{
	io_lanes_free(c->pool);
	ipsec_free(c->a);
	ipsec_free(c->b);
	batch_free(c->in);
	batch_free(c->mid);
	batch_free(c->sink);
}

int bench_lanes_main(const struct bench_opts *o, int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nl = ncpu < 2 ? 2 : ncpu > LANES_MAXB ? LANES_MAXB : (unsigned)ncpu;
	const struct xform *x = &xforms[0];
	size_t size = 1400;
	struct lane_cfg cfg[LANES_MAXB];
	uint64_t limit = (uint64_t)(o->seconds * 1e9);
	struct sp_xoshiro rng;
	uint8_t tbuf[PKT_BUFSIZE];
	struct pkt t;
	double load[3] = { 0 };
	int rc = 1;

	if (argc > 0) {
		for (size_t i = 0; i < SP_NELEM(xforms); i++)
			if (strcmp(argv[0], xforms[i].name) == 0)
				x = &xforms[i];
		if (strcmp(argv[0], x->name) != 0) {
			fprintf(stderr, "spinat-bench lanes: unknown transform %s\n", argv[0]);
			return 1;
		}
	}
	if (o->smoke)
		size = 512;
	memset(cfg, 0, sizeof(cfg));
	sp_xoshiro_seed(&rng, 5);
	pkt_init(&t, tbuf, sizeof(tbuf), PKT_HEADROOM);
	inner(&t, size);
	for (unsigned k = 0; k < nl; k++) {
		struct lane_cfg *c = &cfg[k];

		c->lanes = k + 1;
		if ((c->in = batch_new()) == NULL || (c->mid = batch_new()) == NULL ||
		    (c->sink = batch_new()) == NULL ||
		    engine(&c->a, x, SA_DIR_OUT, &rng.rng, c->mid, c->lanes) != 0 ||
		    engine(&c->b, x, SA_DIR_IN, &rng.rng, c->sink, c->lanes) != 0 ||
		    (k > 0 && io_lanes_new(&c->pool, k, lane_fn, c) != 0)) {
			fprintf(stderr, "spinat-bench lanes: setting up %u lanes failed\n", k + 1);
			goto out;
		}
	}
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("Crypto lanes: ESP %s, tunnel mode, inner packets of %zu bytes in batches of %d,\n"
	       "sealed (ipsec_output, deferred) and opened (ipsec_preopen, ipsec_input) on 1-%u\n"
	       "lanes; wall-clock time, %.1f s per figure; cores = the process's CPU time over\n"
	       "the wall-clock time of the slices; %ld CPUs, load average %.2f as it started.\n\n",
	       x->name, size, LBATCH, nl, o->seconds, ncpu, load[0]);
	printf("%5s | %8s %8s | %8s %8s | %5s\n", "lanes", "encap", "x 1", "decap", "x 1", "cores");
	printf("%5s | %8s %8s | %8s %8s | %5s\n", "", "Gbit/s", "lane", "Gbit/s", "lane", "");
	for (bool more = true; more;) {
		more = false;
		for (unsigned k = 0; k < nl; k++) {
			uint64_t start = bench_now(), c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID);

			do {
				if (!lane_batch(&cfg[k], &t)) {
					fprintf(stderr,
						"spinat-bench lanes: %u lanes lost packets\n",
						k + 1);
					goto out;
				}
			} while (bench_now() - start < SLICE_NS);
			cfg[k].cpu_ns += bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;
			cfg[k].wall_ns += bench_now() - start;
			more |= cfg[k].enc_ns < limit || cfg[k].dec_ns < limit;
		}
	}
	for (unsigned k = 0; k < nl; k++) {
		const struct lane_cfg *c = &cfg[k];
		double enc = (double)c->pkts * (double)size * 8 / (double)c->enc_ns,
		       dec = (double)c->pkts * (double)size * 8 / (double)c->dec_ns,
		       enc1 = (double)cfg[0].pkts * (double)size * 8 / (double)cfg[0].enc_ns,
		       dec1 = (double)cfg[0].pkts * (double)size * 8 / (double)cfg[0].dec_ns;

		printf("%5u | %8.2f %7.2fx | %8.2f %7.2fx | %5.2f\n", c->lanes, enc, enc / enc1,
		       dec, dec / dec1, (double)c->cpu_ns / (double)c->wall_ns);
	}
	rc = 0;
out:
	for (unsigned k = 0; k < nl; k++)
		lane_cfg_free(&cfg[k]);
	return rc;
}
