/*
 * The dnat strategy (002): PAP answers laid out as FIGS. 5 and 5A, the FIG. 8 and FIG. 21
 * tables, the router's half of the worked example (Tables 2-5 and 9-11) octet by octet,
 * and refusals: a host using another's port or SPI, forged invalidations, exhaustion,
 * unknown ports and SPIs, the restart announcement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "samples.h"
#include "nat/nat_strategy.h"
#include "proto/pap.h"

#include <stdio.h>

#define GLOBAL IP(198, 10, 20, 30) /* 002 FIG. 1 common address 28 */
#define SERVER IP(192, 200, 20, 3) /* 002 web server 39 */
#define ROUTER IP(10, 0, 0, 7)
#define HOST1  IP(10, 0, 0, 1)
#define HOST3  IP(10, 0, 0, 3)

static int setup_fx(struct fx *f, const char *extra_hosts_unused)
{
	(void)extra_hosts_unused;
	memset(f, 0, sizeof(*f));
	if (pkt_pool_init(&f->pool, 256, PKT_BUFSIZE) != 0)
		return -1;
	sp_xoshiro_seed(&f->rng, 42);
	sp_ctr_registry_init(&f->ctrs);
	nat_config_defaults(&f->cfg);
	if (nat_config_add_pool(&f->cfg, GLOBAL) != 0 ||
	    nat_config_set_strategy(&f->cfg, "dnat") != 0)
		return -1;
	f->cfg.max_entries = 1024;
	return fx_start(f);
}

static struct pkt *bytes_pkt(struct fx *f, const uint8_t *b, size_t len)
{
	struct pkt *p = samples_bytes(&f->pool, b, len);

	assert_non_null(p);
	return p;
}

/* A PAP message from host to the router; returns the router's verdict (NAT_TAKEN for a
 * request), the answer it sent in *out. */
static int pap_send(struct fx *f, sp_time now, uint32_t host, const struct pap_msg *m,
		    struct pkt **out)
{
	uint8_t b[PAP_MAX_LEN];
	struct wcur w;
	struct pkt *p = pkt_alloc(&f->pool);
	int v;

	wcur_init(&w, b, sizeof(b));
	assert_int_equal(pap_build(&w, m), 0);
	assert_int_equal(pkt_append(p, b, (uint32_t)w.off), 0);
	assert_non_null(tp_ip(p, IPV4_PROTO_ICMP, host, ROUTER));
	v = fx_xlate(f, now, NAT_INSIDE, p, out);
	/* An answer leaves as the router's own packet (emitted), the request taken. */
	if (v == NAT_TAKEN && f->nemitted > 0) {
		assert_int_equal(f->side[f->nemitted - 1], NAT_INSIDE);
		*out = f->emitted[--f->nemitted];
	}
	return v;
}

/* Ask for ports (or SPIs); the answer parsed, its IP header checked. */
static void ask(struct fx *f, uint32_t host, bool spi, uint16_t count, struct pap_msg *resp)
{
	struct pap_msg m;
	struct pkt *out;
	struct cur c;

	if (spi)
		pap_spi_request(&m, count);
	else
		pap_port_request(&m, (uint8_t)count, false);
	assert_int_equal(pap_send(f, 0, host, &m, &out), NAT_TAKEN);
	assert_non_null(out);
	assert_int_equal(tp_src(out), ROUTER);
	assert_int_equal(tp_dst(out), host);
	assert_true(tp_csum_ok(out));
	cur_init(&c, pkt_data(out) + 20, out->len - 20);
	assert_int_equal(pap_parse(&c, PAP_FROM_ROUTER, resp), 0);
	assert_true(resp->pap_csum_ok);
	pkt_free(out);
}

static void show_contains(struct fx *f, sp_time now, const char *needle)
{
	char buf[8192];
	FILE *m = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(m);
	nat_show(f->n, now, m, NAT_SHOW_ALL, 0);
	fclose(m);
	if (strstr(buf, needle) == NULL)
		fail_msg("show nat lacks '%s':\n%s", needle, buf);
}

/* FIG. 8 rows 126 and the next, FIG. 21 rows 300 and 302, from four requests. */
static void fig8_fig21_tables(void **state)
{
	struct pap_msg r;
	struct fx f;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, false, 32, &r);
	assert_int_equal(r.pap_kind, PAP_PORT_RESPONSE);
	assert_int_equal(r.pap_code, PAP_CODE_OK);
	assert_int_equal(r.pap_port, 1026);
	assert_int_equal(r.pap_count, 32);
	ask(&f, HOST3, false, 16, &r);
	assert_int_equal(r.pap_port, 1058);
	assert_int_equal(r.pap_count, 16);
	ask(&f, HOST1, true, 32, &r);
	assert_int_equal(r.pap_kind, PAP_SPI_RESPONSE);
	assert_int_equal(r.pap_spi, 280);
	assert_int_equal(r.pap_count, 32);
	ask(&f, HOST3, true, 16, &r);
	assert_int_equal(r.pap_spi, 312);
	assert_int_equal(r.pap_count, 16);
	show_contains(&f, 0, "ports 1026-1057 (32)");
	show_contains(&f, 0, "ports 1058-1073 (16)");
	show_contains(&f, 0, "spis 280-311 (32)");
	show_contains(&f, 0, "spis 312-327 (16)");
	assert_int_equal(fx_ctr(&f, "dnat_pap_port_blocks_granted"), 2);
	assert_int_equal(fx_ctr(&f, "dnat_pap_spi_blocks_granted"), 2);
	fx_fini(&f);
}

/* Tables 2-5 and 9-11: the router strips and prepends headers and changes nothing else. */
static void worked_example_tables(void **state)
{
	struct pap_msg r;
	struct pkt *p, *out;
	struct fx f;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, false, 32, &r); /* 1026-1057 holds 1032 */

	/* Table 3 (= Table 8) in, Table 2 out: the outer header gone, not one octet else. */
	p = bytes_pkt(&f, sample_002_table2, sizeof(sample_002_table2));
	assert_non_null(pkt_push(p, sizeof(sample_002_outer_to_router)));
	memcpy(pkt_data(p), sample_002_outer_to_router, sizeof(sample_002_outer_to_router));
	assert_int_equal(fx_xlate(&f, SP_MSEC(10048), NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_equal(out->len, sizeof(sample_002_table2));
	assert_memory_equal(pkt_data(out), sample_002_table2, sizeof(sample_002_table2));
	pkt_free(out);

	/* Table 9: the IAPTT row the use made, with its millisecond timestamp. */
	show_contains(&f, SP_MSEC(10048), "timestamp 10048 ms");
	show_contains(&f, SP_MSEC(10048), "10.0.0.1:1032");

	/* Table 4 (= Table 10) in, Table 5 (= Table 11) out. */
	p = bytes_pkt(&f, sample_002_table4, sizeof(sample_002_table4));
	assert_int_equal(fx_xlate(&f, SP_MSEC(10060), NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	assert_int_equal(out->len, sizeof(sample_002_outer_to_host) + sizeof(sample_002_table4));
	assert_memory_equal(pkt_data(out), sample_002_outer_to_host,
			    sizeof(sample_002_outer_to_host));
	assert_memory_equal(pkt_data(out) + sizeof(sample_002_outer_to_host), sample_002_table4,
			    sizeof(sample_002_table4));
	pkt_free(out);
	show_contains(&f, SP_MSEC(10060), "timestamp 10060 ms");
	assert_int_equal(fx_ctr(&f, "dnat_tunnel_out"), 1);
	assert_int_equal(fx_ctr(&f, "dnat_tunnel_in"), 1);
	fx_fini(&f);
}

/* A tunnel packet from host, inner TCP from GLOBAL:sport to SERVER:80. */
static struct pkt *tunnelled_tcp(struct fx *f, uint32_t host, uint16_t sport)
{
	struct pkt *p = tp_tcp(&f->pool, GLOBAL, sport, SERVER, 80, 0x02);

	return tp_ip(p, IPV4_PROTO_IPIP, host, ROUTER);
}

static struct pkt *tunnelled_esp(struct fx *f, uint32_t host, uint32_t spi)
{
	struct pkt *p = tp_esp(&f->pool, GLOBAL, SERVER, spi, 1);

	return tp_ip(p, IPV4_PROTO_IPIP, host, ROUTER);
}

/* ESP in by the SPI of FIG. 21; unknown SPIs and ports dropped and counted. */
static void spi_demux_and_unknowns(void **state)
{
	struct pap_msg r;
	struct pkt *out;
	struct fx f;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, true, 32, &r); /* 280-311 */
	ask(&f, HOST3, true, 16, &r); /* 312-327 */
	assert_int_equal(
		fx_xlate(&f, 1, NAT_OUTSIDE, tp_esp(&f.pool, SERVER, GLOBAL, 300, 1), &out),
		NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), HOST1);
	pkt_free(out);
	assert_int_equal(
		fx_xlate(&f, 1, NAT_OUTSIDE, tp_esp(&f.pool, SERVER, GLOBAL, 327, 1), &out),
		NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), HOST3);
	pkt_free(out);
	/* Outbound ESP carries the server's SPI: only the inner source is checked. */
	assert_int_equal(fx_xlate(&f, 1, NAT_INSIDE, tunnelled_esp(&f, HOST1, 0xdeadbeef), &out),
			 NAT_TO_OUTSIDE);
	pkt_free(out);
	assert_int_equal(
		fx_xlate(&f, 1, NAT_OUTSIDE, tp_esp(&f.pool, SERVER, GLOBAL, 328, 1), &out),
		NAT_DROP);
	assert_int_equal(
		fx_xlate(&f, 1, NAT_OUTSIDE, tp_esp(&f.pool, SERVER, GLOBAL, 279, 1), &out),
		NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_unknown_spi"), 2);
	assert_int_equal(
		fx_xlate(&f, 1, NAT_OUTSIDE, tp_tcp(&f.pool, SERVER, 80, GLOBAL, 1032, 0x12), &out),
		NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_unknown_port"), 1);
	fx_fini(&f);
}

/* Bad input from one host costs the others nothing. */
static void hosts_cannot_take_from_each_other(void **state)
{
	struct pap_msg r, m;
	struct pkt *out;
	struct fx f;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, false, 32, &r); /* 1026-1057 */
	ask(&f, HOST3, false, 16, &r); /* 1058-1073 */
	ask(&f, HOST1, true, 32, &r);  /* SPIs 280-311 */

	/* HOST3 sends from HOST1's port: refused. */
	assert_int_equal(fx_xlate(&f, 1, NAT_INSIDE, tunnelled_tcp(&f, HOST3, 1032), &out),
			 NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_port_not_owned"), 1);
	/* ... from no block at all, or with an inner source other than the global address. */
	assert_int_equal(fx_xlate(&f, 1, NAT_INSIDE, tunnelled_tcp(&f, HOST3, 2000), &out),
			 NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_port_not_owned"), 2);
	{
		struct pkt *p = tp_tcp(&f.pool, IP(10, 0, 0, 3), 1060, SERVER, 80, 0x02);

		p = tp_ip(p, IPV4_PROTO_IPIP, HOST3, ROUTER);
		assert_int_equal(fx_xlate(&f, 1, NAT_INSIDE, p, &out), NAT_DROP);
		assert_int_equal(fx_ctr(&f, "dnat_drop_inner_src_not_global"), 1);
	}
	/* Untunnelled traffic does not pass. */
	assert_int_equal(
		fx_xlate(&f, 1, NAT_INSIDE, tp_tcp(&f.pool, HOST3, 1060, SERVER, 80, 0x02), &out),
		NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_not_tunnelled"), 1);

	/* HOST3 invalidates HOST1's port block and SPI block: refused, nothing lost. */
	pap_port_invalidate(&m, 1040);
	assert_int_equal(pap_send(&f, 1, HOST3, &m, &out), NAT_DROP);
	pap_spi_invalidate(&m, 290);
	assert_int_equal(pap_send(&f, 1, HOST3, &m, &out), NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_pap_invalidate_not_owner"), 2);
	/* ... and "all my blocks" from HOST3 frees only HOST3's. */
	pap_port_invalidate(&m, 0);
	assert_int_equal(pap_send(&f, 1, HOST3, &m, &out), NAT_TAKEN);
	assert_int_equal(fx_ctr(&f, "dnat_pap_blocks_invalidated"), 1);
	assert_int_equal(fx_xlate(&f, 2, NAT_INSIDE, tunnelled_tcp(&f, HOST1, 1032), &out),
			 NAT_TO_OUTSIDE);
	pkt_free(out);
	assert_int_equal(
		fx_xlate(&f, 2, NAT_OUTSIDE, tp_esp(&f.pool, SERVER, GLOBAL, 290, 1), &out),
		NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), HOST1);
	pkt_free(out);
	/* HOST3's ports are free again: the next request gets 1058 back. */
	ask(&f, HOST3, false, 16, &r);
	assert_int_equal(r.pap_port, 1058);

	/* A certified block survives its owner's invalidation until uncertified. */
	assert_int_equal(nat_dnat_certify(f.n, HOST1, 1030, true), 0);
	assert_int_equal(nat_dnat_certify(f.n, HOST3, 1030, true), SP_ENOTFOUND);
	pap_port_invalidate(&m, 1026);
	assert_int_equal(pap_send(&f, 3, HOST1, &m, &out), NAT_DROP);
	assert_int_equal(fx_ctr(&f, "dnat_drop_pap_invalidate_certified"), 1);
	assert_int_equal(nat_dnat_certify(f.n, HOST1, 1030, false), 0);
	assert_int_equal(pap_send(&f, 3, HOST1, &m, &out), NAT_TAKEN);
	assert_int_equal(fx_xlate(&f, 4, NAT_INSIDE, tunnelled_tcp(&f, HOST1, 1032), &out),
			 NAT_DROP);
	fx_fini(&f);
}

/* Exhaustion: smaller blocks while any are free, then failure; the per-host limit. */
static void exhaustion(void **state)
{
	struct pap_msg r;
	struct fx f;
	unsigned granted = 0;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	/* 1026-9999 is 8974 ports: 35 blocks of 255 and one of 49 across 36 hosts. */
	for (uint32_t h = 1; h <= 40; h++) {
		if (h == 7)
			continue; /* the router */
		ask(&f, IP(10, 0, 0, h), false, 255, &r);
		if (r.pap_code == PAP_CODE_OK)
			granted += r.pap_count;
	}
	assert_int_equal(granted, 9999 - 1026 + 1);
	assert_int_equal(fx_ctr(&f, "dnat_pap_port_blocks_smaller"), 1);
	assert_int_equal(fx_ctr(&f, "dnat_pap_refused_exhausted"), 3);
	/* Per host: 8 blocks by default, the ninth is refused. */
	for (int i = 0; i < 9; i++)
		ask(&f, IP(10, 0, 0, 50), true, 1, &r);
	assert_int_equal(r.pap_code, PAP_CODE_FAIL);
	assert_int_equal(fx_ctr(&f, "dnat_pap_refused_host_limit"), 1);
	/* A forged source (the router's own, outside the hosts) gets nothing. */
	{
		struct pap_msg m;
		struct pkt *out;

		pap_port_request(&m, 4, true);
		assert_int_equal(pap_send(&f, 0, IP(192, 168, 1, 1), &m, &out), NAT_DROP);
		assert_int_equal(fx_ctr(&f, "dnat_drop_pap_not_a_host"), 1);
	}
	fx_fini(&f);
}

/* 002 [0683]: a block bound to a valid certificate outlives its host's invalidation and is
 * what the host gets when it asks again (a restarted host); [0685]: revoked, the router
 * takes it back and tells the host with an invalidation naming it. */
static void certified_block_regranted_then_revoked(void **state)
{
	struct pap_msg r, m;
	struct pkt *out;
	struct fx f;
	struct cur c;
	uint16_t lo, a, b;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, false, 32, &r);
	lo = r.pap_port;
	assert_int_equal(nat_dnat_certify(f.n, HOST1, (uint16_t)(lo + 3), true), 0);
	pap_port_invalidate(&m, 0);
	assert_int_equal(pap_send(&f, 1, HOST1, &m, &out), NAT_TAKEN);
	assert_null(out);
	assert_int_equal(fx_ctr(&f, "dnat_drop_pap_invalidate_certified"), 1);
	/* Kept for the certificate: another host does not get it, its own host does. */
	ask(&f, HOST3, false, 32, &r);
	assert_int_equal(r.pap_code, PAP_CODE_OK);
	assert_int_not_equal(r.pap_port, lo);
	ask(&f, HOST1, false, 32, &r);
	assert_int_equal(r.pap_code, PAP_CODE_OK);
	assert_int_equal(r.pap_port, lo);
	assert_int_equal(r.pap_count, 32);
	assert_int_equal(fx_ctr(&f, "dnat_pap_certified_block_regranted"), 1);
	/* Asked once more, the host gets a new block, not the same one twice. */
	ask(&f, HOST1, false, 32, &r);
	assert_int_not_equal(r.pap_port, lo);
	/* Revoked: the block is gone and the host is told which. */
	fx_clear_emitted(&f);
	assert_int_equal(nat_dnat_certify(f.n, HOST1, lo, false), 0);
	assert_int_equal(nat_dnat_revoke(f.n, HOST1, lo), 0);
	assert_int_equal(nat_dnat_port_block(f.n, HOST1, lo, &a, &b), SP_ENOTFOUND);
	assert_int_equal(f.nemitted, 1);
	assert_int_equal(f.side[0], NAT_INSIDE);
	assert_int_equal(tp_src(f.emitted[0]), ROUTER);
	assert_int_equal(tp_dst(f.emitted[0]), HOST1);
	cur_init(&c, pkt_data(f.emitted[0]) + 20, f.emitted[0]->len - 20);
	assert_int_equal(pap_parse(&c, PAP_FROM_ROUTER, &m), 0);
	assert_int_equal(m.pap_kind, PAP_PORT_INVALIDATE);
	assert_int_equal(m.pap_port, lo);
	assert_int_equal(fx_ctr(&f, "dnat_pap_revocation_invalidations_sent"), 1);
	/* A port HOST1 does not hold: nothing to revoke. */
	assert_int_equal(nat_dnat_revoke(f.n, HOST1, r.pap_port + 100), SP_ENOTFOUND);
	fx_fini(&f);
}

/* [0292]: a restarted router tells every host its blocks are gone. */
static void restart_invalidates_every_block(void **state)
{
	struct pap_msg r, m;
	struct pkt *out;
	struct fx f;
	struct cur c;
	unsigned port_inval = 0, spi_inval = 0;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	/* The first ticks announce to 10.0.0.1-254 but .7, two messages each. */
	for (int i = 0; i < 16 && nat_next_deadline(f.n) == 0; i++) {
		nat_tick(f.n, 0);
		fx_clear_emitted(&f);
	}
	assert_int_equal(fx_ctr(&f, "dnat_pap_restart_invalidations_sent"), 2 * 253);
	ask(&f, HOST1, false, 32, &r);
	nat_reset(f.n);
	assert_int_equal(nat_next_deadline(f.n), 0);
	nat_tick(f.n, 5);
	assert_true(f.nemitted > 0);
	for (unsigned i = 0; i < f.nemitted; i++) {
		struct pkt *p = f.emitted[i];

		assert_int_equal(f.side[i], NAT_INSIDE);
		assert_int_equal(tp_src(p), ROUTER);
		cur_init(&c, pkt_data(p) + 20, p->len - 20);
		assert_int_equal(pap_parse(&c, PAP_FROM_ROUTER, &m), 0);
		assert_true(m.pap_csum_ok);
		port_inval +=
			m.pap_kind == PAP_PORT_INVALIDATE && m.pap_port == 0 && tp_dst(p) == HOST1;
		spi_inval +=
			m.pap_kind == PAP_SPI_INVALIDATE && m.pap_spi == 0 && tp_dst(p) == HOST1;
	}
	assert_int_equal(port_inval, 1);
	assert_int_equal(spi_inval, 1);
	/* The block is gone: HOST1's old port no longer passes. */
	assert_int_equal(fx_xlate(&f, 6, NAT_INSIDE, tunnelled_tcp(&f, HOST1, 1032), &out),
			 NAT_DROP);
	fx_fini(&f);
}

/* The burst path (prefetch hints of the strategy) gives the verdicts of one at a time. */
static void burst_matches_single(void **state)
{
	struct pkt *pp[4];
	uint8_t v[4];
	struct pap_msg r;
	struct fx f;

	(void)state;
	assert_int_equal(setup_fx(&f, NULL), 0);
	ask(&f, HOST1, false, 32, &r); /* 1026-1057 */
	ask(&f, HOST3, false, 16, &r); /* 1058-1073 */
	pp[0] = tunnelled_tcp(&f, HOST1, 1032);
	pp[1] = tunnelled_tcp(&f, HOST3, 1032); /* not HOST3's */
	pp[2] = tunnelled_tcp(&f, HOST3, 1060);
	pp[3] = tunnelled_tcp(&f, HOST1, 1026);
	nat_translate_burst(f.n, 1, NAT_INSIDE, pp, 4, v);
	assert_int_equal(v[0], NAT_TO_OUTSIDE);
	assert_int_equal(v[1], NAT_DROP);
	assert_int_equal(v[2], NAT_TO_OUTSIDE);
	assert_int_equal(v[3], NAT_TO_OUTSIDE);
	assert_int_equal(tp_src(pp[2]), GLOBAL);
	for (int i = 0; i < 4; i++)
		pkt_free(pp[i]);
	pp[0] = tp_tcp(&f.pool, SERVER, 80, GLOBAL, 1060, 0x12);
	pp[1] = tp_tcp(&f.pool, SERVER, 80, GLOBAL, 1032, 0x12);
	pp[2] = tp_tcp(&f.pool, SERVER, 80, GLOBAL, 2000, 0x12);
	nat_translate_burst(f.n, 2, NAT_OUTSIDE, pp, 3, v);
	assert_int_equal(v[0], NAT_TO_INSIDE);
	assert_int_equal(tp_dst(pp[0]), HOST3);
	assert_int_equal(v[1], NAT_TO_INSIDE);
	assert_int_equal(tp_dst(pp[1]), HOST1);
	assert_int_equal(v[2], NAT_DROP);
	for (int i = 0; i < 3; i++)
		pkt_free(pp[i]);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fig8_fig21_tables),
		cmocka_unit_test(worked_example_tables),
		cmocka_unit_test(spi_demux_and_unknowns),
		cmocka_unit_test(hosts_cannot_take_from_each_other),
		cmocka_unit_test(exhaustion),
		cmocka_unit_test(certified_block_regranted_then_revoked),
		cmocka_unit_test(restart_invalidates_every_block),
		cmocka_unit_test(burst_matches_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
