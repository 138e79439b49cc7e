/*
 * spinat-bench nat: packets per second on one core through the NAT engine's translation
 * path, in memory: 64-byte UDP packets against warm tables of 1 k, 100 k and 1 M mappings,
 * raw ESP demultiplexed among 10 k established SAs, and how fast mappings are made. The
 * same run forwards 64-byte UDP through the Linux kernel's own NAT (iptables MASQUERADE)
 * between network namespaces it creates, and reports the ratio. Allocations made while
 * forwarding are counted (bench_alloc.c) and must be zero.
 */
#include "bench.h"
#include "base/addr.h"
#include "base/conf.h"
#include "base/cursor.h"
#include "base/rand.h"
#include "nat/nat.h"
#include "crypto/spihash_scheme.h"
#include "proto/esp.h"
#include "proto/pap.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PKT_LEN	  64 /* IPv4 20 + UDP 8 + 36 bytes: the classic 64-byte packet */
#define BURST	  64
#define NTMPL_MAX (1u << 18)
#define SERVER	  SP_IP4(198, 51, 100, 1)

struct fwd {
	struct nat *n;
	enum nat_side side;
	sp_time now;
	const uint8_t *tmpl; /* ntmpl packets of len bytes */
	uint32_t ntmpl, next, len;
	struct pkt pk[BURST];
	struct pkt *pp[BURST];
	uint8_t buf[BURST][PKT_HEADROOM + 128];
	uint8_t v[BURST];
	uint64_t fwd, drop;
};

static void fwd_init(struct fwd *f, struct nat *n, enum nat_side side, sp_time now,
		     const uint8_t *tmpl, uint32_t ntmpl)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->side = side;
	f->now = now;
	f->tmpl = tmpl;
	f->ntmpl = ntmpl;
	f->len = PKT_LEN;
	for (unsigned i = 0; i < BURST; i++) {
		pkt_init(&f->pk[i], f->buf[i], sizeof(f->buf[i]), PKT_HEADROOM);
		f->pp[i] = &f->pk[i];
	}
}

/* One burst: the "NIC" writes BURST packets into the buffers, the engine translates. */
static void fwd_run(void *arg, uint64_t batch)
{
	struct fwd *f = arg;

	for (uint64_t done = 0; done < batch; done += BURST) {
		for (unsigned i = 0; i < BURST; i++) {
			struct pkt *p = &f->pk[i];

			p->off = PKT_HEADROOM;
			p->len = f->len;
			memcpy(p->buf + PKT_HEADROOM, f->tmpl + (size_t)f->next * f->len, f->len);
			if (++f->next == f->ntmpl)
				f->next = 0;
		}
		nat_translate_burst(f->n, f->now, f->side, f->pp, BURST, f->v);
		for (unsigned i = 0; i < BURST; i++) {
			if (f->v[i] == NAT_DROP)
				f->drop++;
			else
				f->fwd++;
		}
	}
}

struct rate {
	double cpu, wall;
};

static struct rate measure(const struct bench_opts *o, void (*fn)(void *, uint64_t), void *arg,
			   uint64_t batch)
{
	uint64_t ops = 0, w0, c0, w1, c1, limit = (uint64_t)(o->seconds * 1e9);
	struct rate r;

	fn(arg, batch); /* warm caches */
	w0 = bench_now();
	c0 = bench_cpu_now();
	do {
		fn(arg, batch);
		ops += batch;
		c1 = bench_cpu_now();
	} while (c1 - c0 < limit);
	w1 = bench_now();
	r.cpu = (double)ops * 1e9 / (double)(c1 - c0);
	r.wall = (double)ops * 1e9 / (double)(w1 - w0);
	return r;
}

static void put_udp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct pkt p;
	struct ipv4_hdr h = { 0 };
	uint8_t tmp[PKT_HEADROOM + 128];

	pkt_init(&p, tmp, sizeof(tmp), PKT_HEADROOM);
	memset(pkt_put(&p, PKT_LEN - 28), 0x5a, PKT_LEN - 28);
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_UDP;
	h.ip_src = src;
	h.ip_dst = dst;
	if (udp_build(&p, sport, dport, src, dst, true) != 0 || ipv4_build(&p, &h, NULL, 0) != 0)
		abort();
	memcpy(b, pkt_data(&p), PKT_LEN);
}

static void put_esp(uint8_t *b, uint32_t src, uint32_t dst, uint32_t spi)
{
	struct pkt p;
	struct ipv4_hdr h = { 0 };
	uint8_t tmp[PKT_HEADROOM + 128];

	pkt_init(&p, tmp, sizeof(tmp), PKT_HEADROOM);
	memset(pkt_put(&p, PKT_LEN - 28), 0x5a, PKT_LEN - 28);
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_ESP;
	h.ip_src = src;
	h.ip_dst = dst;
	if (esp_build_hdr(&p, spi, 1) != 0 || ipv4_build(&p, &h, NULL, 0) != 0)
		abort();
	memcpy(b, pkt_data(&p), PKT_LEN);
}

/* Inside endpoint i: 16 ports on each of N/16 hosts of 10.0.0.0/8. */
static uint32_t in_addr_of(uint32_t i)
{
	return SP_IP4(10, 0, 0, 0) + 1 + i / 16;
}

static uint16_t in_port_of(uint32_t i)
{
	return (uint16_t)(20000 + i % 16);
}

static struct sp_xoshiro bench_rng;

static int new_nat(struct nat **n, const char *strategy, uint32_t max, unsigned npool)
{
	struct nat_config c;
	struct nat_env env = { .name = "bench", .rng = &bench_rng.rng };
	int r;

	nat_config_defaults(&c);
	for (unsigned i = 0; i < npool; i++)
		if ((r = nat_config_add_pool(&c, SP_IP4(203, 0, 113, 1) + i)) != 0)
			return r;
	if ((r = nat_config_set_strategy(&c, strategy)) != 0)
		return r;
	c.max_entries = max;
	return nat_new(n, &c, &env);
}

/* Make n mappings; returns mappings per second, and the global endpoints in gl[]. */
static double populate(struct nat *n, uint32_t count, uint32_t *gaddr, uint16_t *gport)
{
	uint8_t buf[PKT_HEADROOM + 128];
	uint64_t t0 = bench_cpu_now(), t1;
	struct pkt p;

	for (uint32_t i = 0; i < count; i++) {
		pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
		p.len = PKT_LEN;
		put_udp(pkt_data(&p), in_addr_of(i), in_port_of(i), SERVER, 53);
		if (nat_translate(n, SP_SEC(10), NAT_INSIDE, &p) != NAT_TO_OUTSIDE)
			return -1;
		gaddr[i] = sp_load_be32(pkt_data(&p) + IPV4_OFF_SRC);
		gport[i] = sp_load_be16(pkt_data(&p) + 20);
	}
	t1 = bench_cpu_now();
	return (double)count * 1e9 / (double)(t1 - t0);
}

struct udp_fig {
	struct rate in2out, out2in;
	double create, bytes_per_mapping;
	uint64_t allocs;
};

static int udp_figures(const struct bench_opts *o, uint32_t count, struct udp_fig *fig)
{
	uint32_t npool = count / 32768 + 1, ntmpl = SP_MIN(count * 4, NTMPL_MAX);
	uint32_t *gaddr = malloc(count * sizeof(*gaddr));
	uint16_t *gport = malloc(count * sizeof(*gport));
	uint8_t *tin = malloc((size_t)ntmpl * PKT_LEN), *tout = malloc((size_t)ntmpl * PKT_LEN);
	struct fwd *f = malloc(sizeof(*f));
	struct nat *n = NULL;
	uint64_t a0;
	int r = -1;

	if (gaddr == NULL || gport == NULL || tin == NULL || tout == NULL || f == NULL)
		goto out;
	if (new_nat(&n, "masq", count + count / 4 + 16, npool) != 0)
		goto out;
	if ((fig->create = populate(n, count, gaddr, gport)) < 0)
		goto out;
	fig->bytes_per_mapping = (double)nat_memory(n) / (count + count / 4 + 16);
	/* Packets of random mappings, so the table is visited as traffic would. */
	for (uint32_t t = 0; t < ntmpl; t++) {
		uint32_t i = sp_rng_below(&bench_rng.rng, count);

		put_udp(tin + (size_t)t * PKT_LEN, in_addr_of(i), in_port_of(i), SERVER, 53);
		put_udp(tout + (size_t)t * PKT_LEN, SERVER, 53, gaddr[i], gport[i]);
	}
	a0 = bench_alloc_count();
	fwd_init(f, n, NAT_INSIDE, SP_SEC(11), tin, ntmpl);
	fig->in2out = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0) {
		fprintf(stderr, "bench nat: %llu in2out drops\n", (unsigned long long)f->drop);
		goto out;
	}
	fwd_init(f, n, NAT_OUTSIDE, SP_SEC(11), tout, ntmpl);
	fig->out2in = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0) {
		fprintf(stderr, "bench nat: %llu out2in drops\n", (unsigned long long)f->drop);
		goto out;
	}
	fig->allocs = bench_alloc_count() - a0;
	r = 0;
out:
	nat_free(n);
	free(gaddr);
	free(gport);
	free(tin);
	free(tout);
	free(f);
	return r;
}

/* ESP: nsa clients each with one SA to one server, associated, then demultiplexed. */
static int esp_figures(const struct bench_opts *o, const char *strategy, uint32_t nsa,
		       struct rate *in, struct rate *out)
{
	uint8_t *tin = malloc((size_t)nsa * PKT_LEN), *tout = malloc((size_t)nsa * PKT_LEN);
	uint8_t buf[PKT_HEADROOM + 128];
	struct fwd *f = malloc(sizeof(*f));
	struct nat *n = NULL;
	struct pkt p;
	int r = -1;

	if (tin == NULL || tout == NULL || f == NULL || new_nat(&n, strategy, nsa * 4 + 64, 1) != 0)
		goto out;
	for (uint32_t i = 0; i < nsa; i++) {
		uint32_t c = SP_IP4(10, 0, 0, 0) + 1 + i, spi_out = 0x10000000u + i,
			 spi_in = 0x20000000u + i;

		/* spihash: the server derives its SPI from the client's (000 [0101]) */
		if (strcmp(strategy, "spihash") == 0)
			spi_in = nat_spihash_result(nat_spihash_scheme_get(NAT_SPIHASH_MD5),
						    spi_out);

		put_esp(tin + (size_t)i * PKT_LEN, c, SERVER, spi_out);
		put_esp(tout + (size_t)i * PKT_LEN, SERVER, SP_IP4(203, 0, 113, 1), spi_in);
		/* associate: the client sends, the server answers (masq, serial, oldest) */
		pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
		p.len = PKT_LEN;
		memcpy(pkt_data(&p), tin + (size_t)i * PKT_LEN, PKT_LEN);
		if (nat_translate(n, SP_SEC(10), NAT_INSIDE, &p) != NAT_TO_OUTSIDE)
			goto out;
		pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
		p.len = PKT_LEN;
		memcpy(pkt_data(&p), tout + (size_t)i * PKT_LEN, PKT_LEN);
		if (nat_translate(n, SP_SEC(10), NAT_OUTSIDE, &p) != NAT_TO_INSIDE ||
		    sp_load_be32(pkt_data(&p) + IPV4_OFF_DST) != c)
			goto out;
	}
	fwd_init(f, n, NAT_OUTSIDE, SP_SEC(11), tout, nsa);
	*in = measure(o, fwd_run, f, BURST * 256);
	fwd_init(f, n, NAT_INSIDE, SP_SEC(11), tin, nsa);
	*out = measure(o, fwd_run, f, BURST * 256);
	r = f->drop == 0 ? 0 : -1;
out:
	nat_free(n);
	free(tin);
	free(tout);
	free(f);
	return r;
}

/*
 * 002's router: the same kind of 64-byte UDP flows and ESP SAs through strategy dnat,
 * which forwards without translating. Hosts 10.0.0.1-200 (not .7, the router) each get a
 * block of 255 ports from 10,000 and 64 SPIs by PAP; outbound packets are the flows'
 * packets in a 20-octet tunnel header to the router, inbound ones get that header pushed.
 */
#define DNAT_LEN  (PKT_LEN + IPV4_HDR_MIN)
#define DNAT_ROUT SP_IP4(10, 0, 0, 7)
#define DNAT_GLOB SP_IP4(203, 0, 113, 1)

struct dnat_fig {
	struct rate in2out, out2in, esp_in, esp_out, napt_in2out, napt_out2in;
	uint32_t flows;
	uint64_t allocs;
};

/* Wrap the 64-byte packet at b + IPV4_HDR_MIN in a tunnel header from host. */
static void put_tunnel(uint8_t *b, uint32_t host)
{
	struct ipv4_hdr h = { 0 };
	struct pkt p;

	pkt_init(&p, b, DNAT_LEN, IPV4_HDR_MIN);
	p.len = PKT_LEN;
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_IPIP;
	h.ip_src = host;
	h.ip_dst = DNAT_ROUT;
	if (ipv4_build(&p, &h, NULL, 0) != 0)
		abort();
}

/* One PAP request from host, answered in place; the granted lowest value or 0. */
/* The router's answers leave as its own packets (nat_env.emit): the last one is kept. */
static struct pkt *dnat_emitted;

static void dnat_emit(void *arg, enum nat_side side, struct pkt *p)
{
	(void)arg;
	(void)side;
	if (dnat_emitted != NULL)
		pkt_free(dnat_emitted);
	dnat_emitted = p;
}

static uint32_t dnat_ask(struct nat *n, uint32_t host, bool spi, uint32_t *count)
{
	uint8_t buf[PKT_HEADROOM + 128];
	struct ipv4_hdr h = { 0 };
	struct pap_msg m;
	struct wcur w;
	struct pkt p;
	struct cur c;
	int r;

	pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
	if (spi)
		pap_spi_request(&m, 64);
	else
		pap_port_request(&m, 255, true);
	wcur_init(&w, pkt_put(&p, PAP_LEN), PAP_LEN);
	h.ip_ttl = 64;
	h.ip_proto = IPV4_PROTO_ICMP;
	h.ip_src = host;
	h.ip_dst = DNAT_ROUT;
	if (pap_build(&w, &m) != 0 || ipv4_build(&p, &h, NULL, 0) != 0 ||
	    nat_translate(n, SP_SEC(10), NAT_INSIDE, &p) != NAT_TAKEN || dnat_emitted == NULL)
		return 0;
	cur_init(&c, pkt_data(dnat_emitted) + IPV4_HDR_MIN, dnat_emitted->len - IPV4_HDR_MIN);
	r = pap_parse(&c, PAP_FROM_ROUTER, &m);
	pkt_free(dnat_emitted);
	dnat_emitted = NULL;
	if (r != 0 || m.pap_code != PAP_CODE_OK)
		return 0;
	*count = m.pap_count;
	return spi ? m.pap_spi : m.pap_port;
}

/* strategy dnat from its configuration keys: with or without FIG. 12's IAPTT. */
static int new_dnat(struct nat **n, struct pkt_pool *pool, uint32_t max, bool iaptt)
{
	struct nat_env env = {
		.name = "bench", .rng = &bench_rng.rng, .pool = pool, .emit = dnat_emit
	};
	struct nat_config c;
	struct conf *cf = NULL;
	char text[256];
	int r;

	*n = NULL;
	snprintf(text, sizeof(text),
		 "[gateway]\npool = 203.0.113.1\nstrategy = dnat\nmax_mappings = %u\n"
		 "dnat_iaptt = %s\n",
		 max, iaptt ? "yes" : "no");
	if ((r = conf_parse_string(text, "bench", &cf)) == 0 &&
	    (r = nat_config_read(&c, conf_find(cf, "gateway", NULL))) == 0)
		r = nat_new(n, &c, &env);
	conf_free(cf);
	return r;
}

static int dnat_figures(const struct bench_opts *o, uint32_t hosts, bool iaptt,
			struct dnat_fig *fig)
{
	uint32_t ntmpl = o->smoke ? 1u << 10 : 1u << 16, *lo = calloc(hosts, sizeof(uint32_t)),
		 *spi = calloc(hosts, sizeof(uint32_t));
	uint8_t *tin = malloc((size_t)ntmpl * DNAT_LEN), *tout = malloc((size_t)ntmpl * PKT_LEN);
	uint8_t *ein = malloc((size_t)ntmpl * PKT_LEN), *eout = malloc((size_t)ntmpl * DNAT_LEN);
	uint8_t *nin = malloc((size_t)ntmpl * PKT_LEN), *nout = malloc((size_t)ntmpl * PKT_LEN);
	struct fwd *f = malloc(sizeof(*f));
	struct nat *n = NULL, *napt = NULL;
	struct pkt_pool pool;
	bool pooled = false;
	uint64_t a0;
	int r = -1;

	if (lo == NULL || spi == NULL || tin == NULL || tout == NULL || ein == NULL ||
	    eout == NULL || nin == NULL || nout == NULL || f == NULL ||
	    !(pooled = pkt_pool_init(&pool, 64, 2048) == 0) ||
	    new_dnat(&n, &pool, 2 * ntmpl + 4 * hosts, iaptt) != 0 ||
	    new_nat(&napt, "masq", 2 * ntmpl, 1) != 0)
		goto out;
	for (uint32_t i = 0; i < hosts; i++) {
		uint32_t host = SP_IP4(10, 0, 0, 1) + i + (i >= 6), cnt = 0, scnt = 0;

		if ((lo[i] = dnat_ask(n, host, false, &cnt)) == 0 || cnt != 255 ||
		    (spi[i] = dnat_ask(n, host, true, &scnt)) == 0 || scnt != 64)
			goto out;
	}
	for (uint32_t t = 0; t < ntmpl; t++) {
		uint32_t i = sp_rng_below(&bench_rng.rng, hosts);
		uint32_t host = SP_IP4(10, 0, 0, 1) + i + (i >= 6);
		uint16_t port = (uint16_t)(lo[i] + sp_rng_below(&bench_rng.rng, 255));
		uint32_t s = spi[i] + sp_rng_below(&bench_rng.rng, 64);

		put_udp(tin + (size_t)t * DNAT_LEN + IPV4_HDR_MIN, DNAT_GLOB, port, SERVER, 53);
		put_tunnel(tin + (size_t)t * DNAT_LEN, host);
		put_udp(tout + (size_t)t * PKT_LEN, SERVER, 53, DNAT_GLOB, port);
		put_esp(ein + (size_t)t * PKT_LEN, SERVER, DNAT_GLOB, s);
		put_esp(eout + (size_t)t * DNAT_LEN + IPV4_HDR_MIN, DNAT_GLOB, SERVER,
			0x30000000u + t);
		put_tunnel(eout + (size_t)t * DNAT_LEN, host);
		/* The same flows as NAPT sees them: inside host and port, one global address. */
		put_udp(nin + (size_t)t * PKT_LEN, host, port, SERVER, 53);
	}
	/* NAPT's mappings, made by one pass, and its inbound packets to them. */
	fwd_init(f, napt, NAT_INSIDE, SP_SEC(10), nin, ntmpl);
	fwd_run(f, ntmpl);
	for (uint32_t t = 0; t < ntmpl; t++) {
		uint8_t buf[PKT_HEADROOM + 128];
		struct pkt p;

		pkt_init(&p, buf, sizeof(buf), PKT_HEADROOM);
		p.len = PKT_LEN;
		memcpy(pkt_data(&p), nin + (size_t)t * PKT_LEN, PKT_LEN);
		if (nat_translate(napt, SP_SEC(10), NAT_INSIDE, &p) != NAT_TO_OUTSIDE)
			goto out;
		put_udp(nout + (size_t)t * PKT_LEN, SERVER, 53,
			sp_load_be32(pkt_data(&p) + IPV4_OFF_SRC), sp_load_be16(pkt_data(&p) + 20));
	}
	a0 = bench_alloc_count();
	fwd_init(f, n, NAT_INSIDE, SP_SEC(11), tin, ntmpl);
	f->len = DNAT_LEN;
	fig->in2out = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fwd_init(f, n, NAT_OUTSIDE, SP_SEC(11), tout, ntmpl);
	fig->out2in = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fwd_init(f, n, NAT_OUTSIDE, SP_SEC(11), ein, ntmpl);
	fig->esp_in = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fwd_init(f, n, NAT_INSIDE, SP_SEC(11), eout, ntmpl);
	f->len = DNAT_LEN;
	fig->esp_out = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fig->allocs = bench_alloc_count() - a0;
	fig->flows = nat_entries(napt);
	r = 0;
	if (!iaptt)
		goto out;
	fwd_init(f, napt, NAT_INSIDE, SP_SEC(11), nin, ntmpl);
	fig->napt_in2out = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fwd_init(f, napt, NAT_OUTSIDE, SP_SEC(11), nout, ntmpl);
	fig->napt_out2in = measure(o, fwd_run, f, BURST * 256);
	if (f->drop != 0)
		goto drops;
	fig->flows = nat_entries(napt);
	r = 0;
	goto out;
drops:
	r = -1;
	fprintf(stderr, "bench nat: dnat comparison dropped %llu packets\n",
		(unsigned long long)f->drop);
out:
	nat_free(n);
	nat_free(napt);
	if (dnat_emitted != NULL)
		pkt_free(dnat_emitted);
	dnat_emitted = NULL;
	if (pooled)
		pkt_pool_destroy(&pool);
	free(lo);
	free(spi);
	free(tin);
	free(tout);
	free(ein);
	free(eout);
	free(nin);
	free(nout);
	free(f);
	return r;
}

/* The kernel's NAT between namespaces: in -> nat (MASQUERADE) -> out. */

static int sh(const char *fmt, ...) SP_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t rx_packets(const char *ns, const char *dev)
{
	char cmd[256], line[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/%s/statistics/rx_packets",
		 ns, dev);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = 0;
	pclose(f);
	return strtoull(line, NULL, 10);
}

/* Child: in namespace ns, send 64-byte IP packets (36-byte UDP payloads) from nflows
 * source ports to dst:9 as fast as sendmmsg goes, until killed. */
static void blast(const char *ns, uint32_t dst, unsigned nflows)
{
	char path[128];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	static char payload[PKT_LEN - 28];
	struct mmsghdr msgs[64];
	struct iovec iov = { payload, sizeof(payload) };
	int fds[256], fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY)) < 0 || setns(fd, CLONE_NEWNET) != 0)
		_exit(1);
	to.sin_addr.s_addr = htonl(dst);
	nflows = SP_MIN(nflows, 256u);
	for (unsigned i = 0; i < nflows; i++) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(30000 + i) };

		if ((fds[i] = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
		    bind(fds[i], (struct sockaddr *)&me, sizeof(me)) != 0 ||
		    connect(fds[i], (struct sockaddr *)&to, sizeof(to)) != 0)
			_exit(1);
	}
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < 64; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (unsigned k = 0;; k++)
		(void)sendmmsg(fds[k % nflows], msgs, 64, 0);
}

/* Forwarded packets per second through the kernel's NAT, or a negative value. */
static double kernel_nat(const struct bench_opts *o, char *why, size_t whylen)
{
	char nin[32], nnat[32], nout[32];
	pid_t pid = getpid(), child;
	uint64_t r0, r1, t0, t1;
	double rate = -1;

	if (geteuid() != 0) {
		snprintf(why, whylen, "needs root for network namespaces");
		return -1;
	}
	snprintf(nin, sizeof(nin), "sbn-i-%d", (int)pid);
	snprintf(nnat, sizeof(nnat), "sbn-n-%d", (int)pid);
	snprintf(nout, sizeof(nout), "sbn-o-%d", (int)pid);
	if (sh("ip netns add %s && ip netns add %s && ip netns add %s", nin, nnat, nout) != 0 ||
	    sh("ip link add sbi%d type veth peer name sbj%d && ip link add sbo%d type veth peer "
	       "name sbp%d",
	       (int)pid, (int)pid, (int)pid, (int)pid) != 0 ||
	    sh("ip link set sbi%d netns %s name eth0 && ip link set sbj%d netns %s name in0 && "
	       "ip link set sbo%d netns %s name out0 && ip link set sbp%d netns %s name eth0",
	       (int)pid, nin, (int)pid, nnat, (int)pid, nnat, (int)pid, nout) != 0 ||
	    sh("ip -n %s addr add 10.77.0.2/24 dev eth0 && ip -n %s link set eth0 up && "
	       "ip -n %s link set lo up && ip -n %s route add default via 10.77.0.1",
	       nin, nin, nin, nin) != 0 ||
	    sh("ip -n %s addr add 10.77.0.1/24 dev in0 && ip -n %s addr add 192.0.2.1/24 dev out0 "
	       "&& ip -n %s link set in0 up && ip -n %s link set out0 up && "
	       "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 && "
	       "ip netns exec %s iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE",
	       nnat, nnat, nnat, nnat, nnat, nnat) != 0 ||
	    sh("ip -n %s addr add 192.0.2.2/24 dev eth0 && ip -n %s link set eth0 up && "
	       "ip netns exec %s iptables -A INPUT -p udp --dport 9 -j DROP",
	       nout, nout, nout) != 0) {
		snprintf(why, whylen, "namespace setup failed (ip, iptables)");
		goto out;
	}
	if ((child = fork()) == 0)
		blast(nin, SP_IP4(192, 0, 2, 2), 64);
	if (child < 0)
		goto out;
	usleep(300000); /* warm up: ARP, conntrack entries for every flow */
	r0 = rx_packets(nout, "eth0");
	t0 = bench_now();
	usleep((useconds_t)(o->seconds * 1e6));
	r1 = rx_packets(nout, "eth0");
	t1 = bench_now();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	rate = (double)(r1 - r0) * 1e9 / (double)(t1 - t0);
out:
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null",
	   nin, nnat, nout);
	return rate;
}

int bench_nat_main(const struct bench_opts *o, int argc, char **argv)
{
	static const uint32_t sizes[] = { 1000, 100000, 1000000 };
	static const char *const esp_strats[] = { "spihash", "masq" };
	struct udp_fig fig[3];
	struct rate in, out;
	double best = 0, kern;
	char why[128] = "";
	/* --smoke: one small table of each kind, no kernel reference */
	unsigned nsizes = o->smoke ? 1 : o->quick ? 2 : 3;
	uint32_t nsa = o->smoke ? 100 : o->quick ? 1000 : 10000, dnat_hosts = o->smoke ? 20 : 200;
	double load[1] = { 0 };

	(void)argv;
	if (argc > 0) {
		fprintf(stderr, "usage: spinat-bench nat\n");
		return 2;
	}
	sp_xoshiro_seed(&bench_rng, 1);
	if (getloadavg(load, 1) == 1)
		printf("nat: load average %.1f; rates are packets per CPU-second of the forwarding "
		       "thread (wall-clock in brackets)\n",
		       load[0]);
	printf("nat: 64-byte UDP through the translation path, one core, in memory, bursts of %d\n",
	       BURST);
	printf("  %-9s %24s %24s %12s %10s %7s\n", "mappings", "in2out pps", "out2in pps",
	       "create/s", "bytes/map", "allocs");
	for (unsigned s = 0; s < nsizes; s++) {
		if (udp_figures(o, sizes[s], &fig[s]) != 0) {
			fprintf(stderr, "bench nat: UDP run with %u mappings failed\n", sizes[s]);
			return 1;
		}
		printf("  %-9u %11.0f (%10.0f) %11.0f (%10.0f) %12.0f %10.1f %7llu\n", sizes[s],
		       fig[s].in2out.cpu, fig[s].in2out.wall, fig[s].out2in.cpu, fig[s].out2in.wall,
		       fig[s].create, fig[s].bytes_per_mapping, (unsigned long long)fig[s].allocs);
		best = fig[s].out2in.cpu;
	}
	printf("nat: raw ESP demultiplexed among %u associated SAs\n", nsa);
	for (unsigned i = 0; i < SP_NELEM(esp_strats); i++) {
		if (esp_figures(o, esp_strats[i], nsa, &in, &out) != 0) {
			fprintf(stderr, "bench nat: ESP run (%s) failed\n", esp_strats[i]);
			return 1;
		}
		printf("  %-9s in %11.0f (%10.0f) pps   out %11.0f (%10.0f) pps\n", esp_strats[i],
		       in.cpu, in.wall, out.cpu, out.wall);
	}
	{
		struct dnat_fig d, b;

		if (dnat_figures(o, dnat_hosts, true, &d) != 0 ||
		    dnat_figures(o, dnat_hosts, false, &b) != 0) {
			fprintf(stderr, "bench nat: dnat run failed\n");
			return 1;
		}
		printf("nat: 002's dnat router (tunnel strip/push, no rewriting) against masq's "
		       "NAPT "
		       "on the same %u UDP flows of %u hosts; ns of router CPU per packet\n",
		       d.flows, dnat_hosts);
		printf("  %-26s %9s %9s\n", "", "in2out", "out2in");
		printf("  %-26s %9.1f %9.1f\n", "masq (NAPT, rewrites)", 1e9 / d.napt_in2out.cpu,
		       1e9 / d.napt_out2in.cpu);
		printf("  %-26s %9.1f %9.1f\n", "dnat (UDP by port)", 1e9 / d.in2out.cpu,
		       1e9 / d.out2in.cpu);
		printf("  %-26s %9.1f %9.1f\n", "dnat (ESP by SPI block)", 1e9 / d.esp_out.cpu,
		       1e9 / d.esp_in.cpu);
		printf("  %-26s %9.1f %9.1f\n", "dnat, no IAPTT (FIG. 8)", 1e9 / b.in2out.cpu,
		       1e9 / b.out2in.cpu);
		printf("  ratio dnat/masq CPU per packet: in2out %.2f, out2in %.2f; allocations "
		       "while forwarding: %llu\n",
		       d.napt_in2out.cpu / d.in2out.cpu, d.napt_out2in.cpu / d.out2in.cpu,
		       (unsigned long long)d.allocs);
	}
	if (o->smoke) {
		printf("kernel NAT: skipped (--smoke)\n");
		return 0;
	}
	kern = kernel_nat(o, why, sizeof(why));
	if (kern > 0)
		printf("kernel NAT (iptables MASQUERADE between namespaces, 64 UDP flows, one "
		       "sender): "
		       "%.0f pps forwarded (wall clock)\n"
		       "ratio spinat out2in (%u mappings, per core) / kernel: %.1f\n",
		       kern, sizes[nsizes - 1], best / kern);
	else
		printf("kernel NAT: skipped (%s)\n", why);
	return 0;
}
