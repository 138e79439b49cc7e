/*
 * The lease strategy (001 module 110, FIGS. 6-7) through its PCP server: leases of ESP and
 * AH SPIs, IKE initiator cookies and TCP ports; translation by lease (706-710); renewal,
 * release and expiry (711-712); every refusal changes nothing and is counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nat_fixture.h"
#include "proto/ah.h"
#include "proto/pcp.h"

#include <stdio.h>

#define C1     IP(10, 0, 0, 2)
#define C2     IP(10, 0, 0, 3)
#define NAT_IN IP(10, 0, 0, 1)
#define G      IP(171, 69, 68, 10)
#define SRV    IP(198, 51, 100, 7)
#define OTHER  IP(198, 51, 100, 8)
#define T0     SP_SEC(1000)

static void lease_msg(struct pcp_msg *m, uint8_t op, uint32_t client, uint8_t proto, uint32_t peer,
		      uint8_t nonce)
{
	memset(m, 0, sizeof(*m));
	m->pcp_opcode = op;
	m->pcp_lifetime = 600;
	m->pcp_client = client;
	memset(m->pcp_nonce, nonce, PCP_NONCE_LEN);
	m->pcp_proto = proto;
	m->pcp_peer_ip = peer;
}

static void spi_def(struct pcp_msg *m, uint8_t proto)
{
	m->pcp_has_gpn = true;
	m->pcp_gpn.pcp_gpn_bits = 32;
	m->pcp_gpn.pcp_gpn_flags = PCP_GPN_F_RECEIVER;
	m->pcp_gpn.pcp_gpn_src_off = m->pcp_gpn.pcp_gpn_dst_off = proto == IPV4_PROTO_AH ? 32 : 0;
	m->pcp_gpn.pcp_gpn_min = 256;
	m->pcp_gpn.pcp_gpn_max = 0xffffffff;
}

static void cookie_def(struct pcp_msg *m)
{
	m->pcp_int_port = UDP_PORT_IKE;
	m->pcp_peer_port = UDP_PORT_IKE;
	m->pcp_has_gpn = true;
	m->pcp_gpn.pcp_gpn_bits = 64;
	m->pcp_gpn.pcp_gpn_flags = PCP_GPN_F_TRANSPORT;
	m->pcp_gpn.pcp_gpn_min = 1;
	m->pcp_gpn.pcp_gpn_max = UINT64_MAX;
}

/* Send a request from src (its UDP payload), return the parsed answer's result. */
static uint8_t ask_raw(struct fx *f, sp_time now, uint32_t src, const uint8_t *b, size_t len,
		       struct pcp_msg *ans)
{
	struct pkt *p = tp_udp(&f->pool, src, 40100, NAT_IN, PCP_PORT, b, len), *out;
	uint8_t res;
	struct cur c;
	int v;

	assert_non_null(p);
	fx_clear_emitted(f);
	v = fx_xlate(f, now, NAT_INSIDE, p, &out);
	assert_null(out);
	if (v != NAT_TAKEN)
		return PCP_R_NONE;
	/* The answer leaves from the gateway itself, on the inside. */
	assert_int_equal(f->nemitted, 1);
	assert_int_equal(f->side[0], NAT_INSIDE);
	out = f->emitted[0];
	f->nemitted = 0;
	/* The answer: from the address asked, to the client's port, checksums right. */
	assert_int_equal(tp_src(out), NAT_IN);
	assert_int_equal(tp_dst(out), src);
	assert_int_equal(tp_sport(out), PCP_PORT);
	assert_int_equal(tp_dport(out), 40100);
	assert_true(tp_csum_ok(out));
	cur_init(&c, pkt_data(out) + tp_hl(out) + UDP_HDR_LEN, out->len - tp_hl(out) - UDP_HDR_LEN);
	assert_int_equal(pcp_parse(&c, true, ans, &res), 0);
	pkt_free(out);
	return ans->pcp_result;
}

static uint8_t ask(struct fx *f, sp_time now, uint32_t src, const struct pcp_msg *m,
		   struct pcp_msg *ans)
{
	uint8_t b[PCP_MSG_MAX];
	struct wcur w;

	wcur_init(&w, b, sizeof(b));
	assert_int_equal(pcp_build(&w, m), 0);
	return ask_raw(f, now, src, b, w.off, ans);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fx_init(f, "lease", 1024), 0);
	assert_int_equal(fx_start(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fx_fini(f);
	free(f);
	return 0;
}

static int send_esp(struct fx *f, sp_time now, enum nat_side from, uint32_t src, uint32_t dst,
		    uint32_t spi, uint32_t *to)
{
	struct pkt *p = tp_esp(&f->pool, src, dst, spi, 1), *out;
	int v;

	assert_non_null(p);
	v = fx_xlate(f, now, from, p, &out);
	if (out != NULL) {
		*to = from == NAT_INSIDE ? tp_src(out) : tp_dst(out);
		assert_int_equal(sp_load_be32(pkt_data(out) + tp_hl(out)), spi);
		assert_true(tp_csum_ok(out));
		pkt_free(out);
	}
	return v;
}

/* Step 802: a client leases its incoming ESP SPI for one server; the NAT picks the value
 * and uses it privately too; packets then follow the lease, others drop. */
static void esp_spi_lease(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	uint32_t spi, to = 0;

	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_ESP, SRV, 1);
	spi_def(&m, IPV4_PROTO_ESP);
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_lifetime, 600);
	assert_int_equal(a.pcp_ext_ip, G);
	assert_true(a.pcp_has_gpn);
	spi = (uint32_t)a.pcp_gpn.pcp_gpn_global;
	assert_int_equal(a.pcp_gpn.pcp_gpn_private, spi);
	assert_true(spi >= 256);
	assert_int_equal(fx_ctr(f, "lease_granted"), 1);
	/* The same request again (a retransmission): the same lease, not a second one. */
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_gpn.pcp_gpn_global, spi);
	assert_int_equal(fx_ctr(f, "lease_granted"), 1);

	/* 706-707: out by client and foreign; the server's SPI is whatever it chose. */
	assert_int_equal(send_esp(f, T0 + 1, NAT_INSIDE, C1, SRV, 0xabcdef01, &to), NAT_TO_OUTSIDE);
	assert_int_equal(to, G);
	/* No lease: C2, or C1 to another foreign address. */
	assert_int_equal(send_esp(f, T0 + 1, NAT_INSIDE, C2, SRV, 0xabcdef02, &to), NAT_DROP);
	assert_int_equal(send_esp(f, T0 + 1, NAT_INSIDE, C1, OTHER, 0xabcdef01, &to), NAT_DROP);
	assert_int_equal(fx_ctr(f, "lease_drop_no_lease_out"), 2);
	/* 708-709: in by global address and SPI from the foreign address. */
	assert_int_equal(send_esp(f, T0 + 2, NAT_OUTSIDE, SRV, G, spi, &to), NAT_TO_INSIDE);
	assert_int_equal(to, C1);
	assert_int_equal(send_esp(f, T0 + 2, NAT_OUTSIDE, SRV, G, spi ^ 1, &to), NAT_DROP);
	assert_int_equal(send_esp(f, T0 + 2, NAT_OUTSIDE, OTHER, G, spi, &to), NAT_DROP);
	assert_int_equal(fx_ctr(f, "lease_drop_no_lease_in"), 2);

	/* Another client suggesting the same SPI for the same server gets another one
	 * (705: one private address and GPN per protocol, foreign, global address, GPN). */
	lease_msg(&m, PCP_OP_PEER, C2, IPV4_PROTO_ESP, SRV, 2);
	spi_def(&m, IPV4_PROTO_ESP);
	m.pcp_gpn.pcp_gpn_private = spi;
	assert_int_equal(ask(f, T0 + 3, C2, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_gpn.pcp_gpn_private, spi);
	assert_int_not_equal(a.pcp_gpn.pcp_gpn_global, spi);
	/* ...and its inbound SPI is rewritten back to its private value. */
	{
		struct pkt *p = tp_esp(&f->pool, SRV, G, (uint32_t)a.pcp_gpn.pcp_gpn_global, 1);
		struct pkt *out;

		assert_int_equal(fx_xlate(f, T0 + 4, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
		assert_int_equal(tp_dst(out), C2);
		assert_int_equal(sp_load_be32(pkt_data(out) + tp_hl(out)), spi);
		pkt_free(out);
	}
	/* With PREFER_FAILURE a suggestion that is taken fails (MAP only). */
	lease_msg(&m, PCP_OP_MAP, C2, IPV4_PROTO_ESP, 0, 3);
	spi_def(&m, IPV4_PROTO_ESP);
	m.pcp_gpn.pcp_gpn_global = spi;
	m.pcp_prefer_failure = true;
	assert_int_equal(ask(f, T0 + 5, C2, &m, &a), PCP_R_CANNOT_PROVIDE_EXTERNAL);
	assert_int_equal(fx_ctr(f, "lease_refused_cannot_provide_external"), 1);
}

/* AH's SPI is 32 bits in (RFC 4302 2); the lease follows it. */
static void ah_spi_lease(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	struct pkt *p, *out;
	uint8_t body[24] = { 0 };
	uint32_t spi;

	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_AH, SRV, 4);
	spi_def(&m, IPV4_PROTO_AH);
	m.pcp_gpn.pcp_gpn_private = 0x00005001;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	spi = (uint32_t)a.pcp_gpn.pcp_gpn_global;
	assert_int_equal(spi, 0x5001); /* preserved */
	body[0] = IPV4_PROTO_TCP;
	body[1] = 4; /* (24 / 4) - 2 */
	sp_store_be32(body + 4, spi);
	p = pkt_alloc(&f->pool);
	assert_int_equal(pkt_append(p, body, sizeof(body)), 0);
	p = tp_ip(p, IPV4_PROTO_AH, SRV, G);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), C1);
	pkt_free(out);
}

/* Step 801: the IKE initiator SPI leased; IKE packets with it follow the lease. */
static void ike_cookie_lease(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	struct pkt *p, *out;
	uint64_t ck;

	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_UDP, SRV, 5);
	cookie_def(&m);
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	ck = a.pcp_gpn.pcp_gpn_global;
	assert_true(ck != 0 && a.pcp_gpn.pcp_gpn_private == ck);
	assert_int_equal(a.pcp_ext_port, UDP_PORT_IKE);
	p = tp_ike(&f->pool, C1, SRV, ck, 0);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_equal(tp_src(out), G);
	assert_int_equal(tp_sport(out), UDP_PORT_IKE);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
	p = tp_ike(&f->pool, SRV, G, ck, 0x77);
	assert_int_equal(fx_xlate(f, T0 + 2, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), C1);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
	assert_int_equal(fx_ctr(f, "lease_in2out"), 1);
	assert_int_equal(fx_ctr(f, "lease_out2in"), 1);
	assert_int_equal(fx_ctr(f, "ike_in2out"), 0); /* not the cookie ALG */
	/* IKE without a lease still works through the NAT's own cookie ALG. */
	p = tp_ike(&f->pool, C2, SRV, 0x99, 0);
	assert_int_equal(fx_xlate(f, T0 + 3, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	pkt_free(out);
	assert_int_equal(fx_ctr(f, "ike_in2out"), 1);
}

/* TCP ports used inside ESP: an ordinary PCP MAP; NAPT then never hands the port out. */
static void tcp_port_lease(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	struct pkt *p, *out;

	lease_msg(&m, PCP_OP_MAP, C1, IPV4_PROTO_TCP, 0, 6);
	m.pcp_int_port = 40000;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_ext_port, 40000);
	assert_int_equal(a.pcp_ext_ip, G);
	/* C2 wants the same port: another one. */
	lease_msg(&m, PCP_OP_MAP, C2, IPV4_PROTO_TCP, 0, 7);
	m.pcp_int_port = 40000;
	assert_int_equal(ask(f, T0, C2, &m, &a), PCP_R_SUCCESS);
	assert_int_not_equal(a.pcp_ext_port, 40000);
	/* A PEER lease (one foreign address) of port 40100 keeps NAPT off it too. */
	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_TCP, SRV, 8);
	m.pcp_int_port = 40100;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_ext_port, 40100);
	p = tp_tcp(&f->pool, IP(10, 0, 0, 9), 40100, OTHER, 80, TCP_SYN);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_not_equal(tp_sport(out), 40100);
	pkt_free(out);
	lease_msg(&m, PCP_OP_MAP, C2, IPV4_PROTO_TCP, 0, 7);
	m.pcp_int_port = 40000;
	assert_int_equal(ask(f, T0, C2, &m, &a), PCP_R_SUCCESS); /* C2's lease again */
	/* A third host's plain TCP from port 40000 gets another port from NAPT. */
	p = tp_tcp(&f->pool, IP(10, 0, 0, 9), 40000, SRV, 80, TCP_SYN);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_not_equal(tp_sport(out), 40000);
	pkt_free(out);
	/* Plain TCP of C2 follows its lease both ways, checksums right. */
	p = tp_tcp(&f->pool, C2, 40000, SRV, 80, TCP_SYN);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_INSIDE, p, &out), NAT_TO_OUTSIDE);
	assert_int_equal(tp_sport(out), a.pcp_ext_port);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
	p = tp_tcp(&f->pool, SRV, 80, G, a.pcp_ext_port, TCP_SYN | TCP_ACK);
	assert_int_equal(fx_xlate(f, T0 + 1, NAT_OUTSIDE, p, &out), NAT_TO_INSIDE);
	assert_int_equal(tp_dst(out), C2);
	assert_int_equal(tp_dport(out), 40000);
	assert_true(tp_csum_ok(out));
	pkt_free(out);
}

/* Renewal (same request, same nonce), release (lifetime 0), expiry (711-712), reset. */
static void renew_release_expire(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	uint32_t spi, to;
	char buf[4096];
	FILE *mf;

	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_ESP, SRV, 8);
	spi_def(&m, IPV4_PROTO_ESP);
	m.pcp_lifetime = 100;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	spi = (uint32_t)a.pcp_gpn.pcp_gpn_global;
	/* `show nat`: FIG. 6's columns. */
	mf = fmemopen(buf, sizeof(buf), "w");
	nat_show(f->n, T0, mf, NAT_SHOW_ALL, 0);
	fclose(mf);
	assert_non_null(strstr(buf, "Protocol Private IP      Private GPN        Global IP       "
				    "Global GPN         Foreign         Expiration"));
	{
		char row[160];

		snprintf(row, sizeof(row),
			 "esp      10.0.0.2        0x%08X         171.69.68.10    "
			 "0x%08X         198.51.100.7           100",
			 spi, spi);
		assert_non_null(strstr(buf, row));
	}
	/* Renew at T0+90 with the assigned value, to T0+90+100. */
	m.pcp_gpn.pcp_gpn_private = spi;
	assert_int_equal(ask(f, T0 + SP_SEC(90), C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_gpn.pcp_gpn_global, spi);
	assert_int_equal(fx_ctr(f, "lease_renewed"), 1);
	nat_tick(f->n, T0 + SP_SEC(150));
	assert_int_equal(send_esp(f, T0 + SP_SEC(150), NAT_OUTSIDE, SRV, G, spi, &to),
			 NAT_TO_INSIDE);
	/* A renewal with another nonce is someone else's: refused, nothing changes. */
	m.pcp_nonce[0] ^= 1;
	assert_int_equal(ask(f, T0 + SP_SEC(151), C1, &m, &a), PCP_R_NOT_AUTHORIZED);
	assert_int_equal(fx_ctr(f, "lease_refused_nonce_mismatch"), 1);
	m.pcp_nonce[0] ^= 1;
	/* Step 711-712: past its expiry the lease is gone. */
	nat_tick(f->n, T0 + SP_SEC(192));
	assert_int_equal(fx_ctr(f, "lease_expired"), 1);
	assert_int_equal(send_esp(f, T0 + SP_SEC(192), NAT_OUTSIDE, SRV, G, spi, &to), NAT_DROP);
	/* Lease again, then release. */
	assert_int_equal(ask(f, T0 + SP_SEC(200), C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_gpn.pcp_gpn_global, spi);
	m.pcp_lifetime = 0;
	assert_int_equal(ask(f, T0 + SP_SEC(201), C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_lifetime, 0);
	assert_int_equal(fx_ctr(f, "lease_released"), 1);
	assert_int_equal(send_esp(f, T0 + SP_SEC(202), NAT_OUTSIDE, SRV, G, spi, &to), NAT_DROP);
	/* A NAT restart forgets leases and starts a new epoch (RFC 6887 8.5). */
	m.pcp_lifetime = 600;
	assert_int_equal(ask(f, T0 + SP_SEC(300), C1, &m, &a), PCP_R_SUCCESS);
	assert_true(a.pcp_epoch >= 300);
	nat_reset(f->n);
	assert_int_equal(send_esp(f, T0 + SP_SEC(301), NAT_OUTSIDE, SRV, G, spi, &to), NAT_DROP);
	assert_int_equal(ask(f, T0 + SP_SEC(302), C1, &m, &a), PCP_R_SUCCESS);
	assert_int_equal(a.pcp_epoch, 0);
	assert_int_equal(a.pcp_gpn.pcp_gpn_global, spi);
}

/* Malformed, foreign, own-ALG and over-limit requests: a result code, a counter, and no
 * lease. */
static void refusals(void **state)
{
	struct fx *f = *state;
	struct pcp_msg m, a;
	uint8_t b[PCP_MSG_MAX];
	struct wcur w;

	/* A lease for another client's address (RFC 6887 8.1). */
	lease_msg(&m, PCP_OP_PEER, C2, IPV4_PROTO_ESP, SRV, 9);
	spi_def(&m, IPV4_PROTO_ESP);
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_ADDRESS_MISMATCH);
	assert_int_equal(fx_ctr(f, "lease_refused_address_mismatch"), 1);
	/* ... or through THIRD_PARTY. */
	m.pcp_client = C1;
	m.pcp_third_party = true;
	m.pcp_third_party_ip = C2;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_NOT_AUTHORIZED);
	assert_int_equal(fx_ctr(f, "lease_refused_third_party"), 1);
	/* Steps 702-703: a GPN definition for TCP ports, which NAPT translates itself. */
	lease_msg(&m, PCP_OP_MAP, C1, IPV4_PROTO_TCP, 0, 10);
	m.pcp_int_port = 80;
	m.pcp_has_gpn = true;
	m.pcp_gpn.pcp_gpn_bits = 16;
	m.pcp_gpn.pcp_gpn_dst_off = 16;
	m.pcp_gpn.pcp_gpn_max = 65535;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_UNSUPP_PROTOCOL);
	assert_int_equal(fx_ctr(f, "lease_refused_own_alg"), 1);
	/* A protocol with no definition (GRE) and no option. */
	lease_msg(&m, PCP_OP_MAP, C1, 47, 0, 11);
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_UNSUPP_PROTOCOL);
	/* A definition that contradicts the one in use. */
	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_ESP, SRV, 12);
	spi_def(&m, IPV4_PROTO_ESP);
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_SUCCESS);
	m.pcp_gpn.pcp_gpn_src_off = 64;
	m.pcp_nonce[0] = 13;
	assert_int_equal(ask(f, T0, C1, &m, &a), PCP_R_UNSUPP_PROTOCOL);
	assert_int_equal(fx_ctr(f, "lease_refused_definition_conflict"), 1);
	/* Cut short: MALFORMED_REQUEST with the request copied back. */
	lease_msg(&m, PCP_OP_PEER, C1, IPV4_PROTO_ESP, SRV, 14);
	wcur_init(&w, b, sizeof(b));
	assert_int_equal(pcp_build(&w, &m), 0);
	assert_int_equal(ask_raw(f, T0, C1, b, 40, &a), PCP_R_MALFORMED_REQUEST);
	assert_int_equal(fx_ctr(f, "lease_refused_malformed_request"), 1);
	/* A response sent to the server, and one octet: dropped unanswered. */
	b[1] |= PCP_R_BIT;
	assert_int_equal(ask_raw(f, T0, C1, b, w.off, &a), PCP_R_NONE);
	assert_int_equal(ask_raw(f, T0, C1, b, 1, &a), PCP_R_NONE);
	assert_int_equal(fx_ctr(f, "lease_drop_pcp_unanswerable"), 2);
	assert_int_equal(fx_ctr(f, "lease_granted"), 1);
}

static void per_client_limit(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct conf *conf = NULL;
	struct pcp_msg m, a;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fx_init(f, "lease", 1024), 0);
	/* The configuration keys, read as spinatd reads them. */
	assert_int_equal(conf_parse_string("[gateway]\npool = 171.69.68.10\nstrategy = lease\n"
					   "lease_per_client = 3\nlease_lifetime = 60s\n",
					   "t", &conf),
			 0);
	assert_int_equal(nat_config_read(&f->cfg, conf_find(conf, "gateway", NULL)), 0);
	conf_free(conf);
	assert_int_equal(fx_start(f), 0);
	for (unsigned i = 0; i < 4; i++) {
		lease_msg(&m, PCP_OP_MAP, C1, IPV4_PROTO_UDP, 0, (uint8_t)(20 + i));
		m.pcp_int_port = (uint16_t)(30000 + i);
		assert_int_equal(ask(f, T0, C1, &m, &a),
				 i < 3 ? PCP_R_SUCCESS : PCP_R_USER_EX_QUOTA);
	}
	assert_int_equal(fx_ctr(f, "lease_refused_client_quota"), 1);
	assert_int_equal(fx_ctr(f, "lease_granted"), 3);
	/* Another client is not limited by C1's leases. */
	lease_msg(&m, PCP_OP_MAP, C2, IPV4_PROTO_UDP, 0, 30);
	m.pcp_int_port = 30000;
	assert_int_equal(ask(f, T0, C2, &m, &a), PCP_R_SUCCESS);
	fx_fini(f);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(esp_spi_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(ah_spi_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(ike_cookie_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(tcp_port_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(renew_release_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test(per_client_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
