/*
 * 000's worked example (FIG. 4, FIG. 5A, FIG. 5B, [0091]-[0103]) in the simulator: IPsec
 * originators 10.6.1.2 and 10.6.1.3 behind the NAT 171.69.68.10, the responder
 * 204.71.200.69, both starting at the same time; the NAT runs the spihash strategy with
 * the md5 scheme ([0101]). The translation table before the responder answers must be
 * FIG. 5A (rows 504, 508) and after it FIG. 5B (rows 504, 506, 508, 510), with the SPIs
 * MD5 really yields.
 *
 * First with the document's own originator SPIs (0xD4560CA1, 0xB7285662) on manually keyed
 * SAs (sim/ipsec_sim.h); then with IKEv2 negotiating everything (the spihash technique:
 * the gateway derives its SPIs), where the table must pair SPIs by the same scheme.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/addr.h"
#include "sim/ipsec_sim.h"
#include "sim/nat_sim.h"
#include "crypto/spihash_scheme.h"
#include "sim/flow.h"
#include "sim/ipnode.h"
#include "sim/link.h"
#include "sim/sim.h"
#include "sim/technique.h"

#define NAT_G  SP_IP4(171, 69, 68, 10)
#define RESP   SP_IP4(204, 71, 200, 69)
#define SRV    SP_IP4(10, 9, 0, 10)
#define SPI410 0xD4560CA1u
#define SPI420 0xB7285662u

struct world {
	struct sim *sim;
	struct sim_node *c[2], *nat, *isp, *gw, *srv;
	struct sim_tech_ctx tc;
	uint32_t down[2];
};

static void build(struct world *w)
{
	struct sim_cfg cfg = { .seed = 1, .log_level = SP_LOG_ERR, .pool_pkts = 4096 };
	struct sim_link_params lp = { .delay = SP_MSEC(5) };
	struct sim_link *lan, *acc, *inet, *corp;
	unsigned out;

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, &cfg), 0);
	assert_int_equal(sim_link_new(w->sim, "lan", &lp, &lan), 0);
	assert_int_equal(sim_link_new(w->sim, "access", &lp, &acc), 0);
	assert_int_equal(sim_link_new(w->sim, "internet", &lp, &inet), 0);
	assert_int_equal(sim_link_new(w->sim, "corp", &lp, &corp), 0);
	assert_int_equal(sim_router_new(w->sim, "nat", &w->nat), 0);
	assert_int_equal(sim_iface_add(w->nat, "lan0", SP_IP4(10, 6, 1, 1), 24, lan, NULL), 0);
	assert_int_equal(sim_iface_add(w->nat, "wan0", NAT_G, 30, acc, &out), 0);
	assert_int_equal(sim_route_add(w->nat, 0, 0, NAT_G ^ 3, -1, 0, 0), 0);
	assert_int_equal(sim_router_new(w->sim, "isp", &w->isp), 0);
	assert_int_equal(sim_iface_add(w->isp, "cust0", NAT_G ^ 3, 30, acc, NULL), 0);
	assert_int_equal(sim_iface_add(w->isp, "core0", RESP ^ 3, 30, inet, NULL), 0);
	assert_int_equal(sim_router_new(w->sim, "gw", &w->gw), 0);
	assert_int_equal(sim_iface_add(w->gw, "wan0", RESP, 30, inet, NULL), 0);
	assert_int_equal(sim_iface_add(w->gw, "corp0", SP_IP4(10, 9, 0, 1), 24, corp, NULL), 0);
	assert_int_equal(sim_route_add(w->gw, 0, 0, RESP ^ 3, -1, 0, 0), 0);
	assert_int_equal(sim_host_new(w->sim, "srv", &w->srv), 0);
	assert_int_equal(sim_iface_add(w->srv, "eth0", SRV, 24, corp, NULL), 0);
	assert_int_equal(sim_route_add(w->srv, 0, 0, SP_IP4(10, 9, 0, 1), -1, 0, 0), 0);
	for (unsigned i = 0; i < 2; i++) {
		char name[4] = { 'c', (char)('1' + i), 0 };

		assert_int_equal(sim_host_new(w->sim, name, &w->c[i]), 0);
		assert_int_equal(
			sim_iface_add(w->c[i], "eth0", SP_IP4(10, 6, 1, 2 + i), 24, lan, NULL), 0);
		assert_int_equal(sim_route_add(w->c[i], 0, 0, SP_IP4(10, 6, 1, 1), -1, 0, 0), 0);
	}
	w->tc = (struct sim_tech_ctx){
		.sim = w->sim,
		.nats = { { .node = w->nat, .outside_ifi = out, .ext = { NAT_G }, .next = 1 } },
		.nnats = 1,
		.clients = w->c,
		.nclients = 2,
		.gateways = &w->gw,
		.ngateways = 1,
		.protected_net = SP_IP4(10, 9, 0, 0),
		.protected_plen = 24
	};
}

/* Both originators send at t_up, the responder side answers from t_down. */
static void flows(struct world *w, sp_time t_up, sp_time t_down)
{
	for (unsigned i = 0; i < 2; i++) {
		struct sim_flow_spec f = { .name = "up",
					   .src = w->c[i],
					   .dst = w->srv,
					   .dst_addr = SRV,
					   .reply_to = SIM_FLOW_NONE,
					   .sport = 5001,
					   .size = 100,
					   .start = t_up,
					   .interval = SP_MSEC(50),
					   .count = 10 };

		assert_int_equal(sim_flow_add(w->sim, &f, NULL), 0);
		f.name = "down";
		f.src = w->srv;
		f.dst = w->c[i];
		f.dst_addr = SP_IP4(10, 6, 1, 2 + i);
		f.start = t_down;
		assert_int_equal(sim_flow_add(w->sim, &f, &w->down[i]), 0);
	}
}

static char *table(struct world *w)
{
	char *buf = NULL, *copy;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	nat_show(nat_sim_engine(sim_ip_nat_ctx(w->nat)), sim_now(w->sim), m, NAT_SHOW_IPSEC, 0);
	fclose(m);
	copy = strdup(buf);
	free(buf);
	return copy;
}

static void attach_nat(struct world *w)
{
	struct nat_sim_cfg ncfg;

	nat_config_defaults(&ncfg.nat);
	assert_int_equal(nat_config_set_strategy(&ncfg.nat, "spihash"), 0); /* md5 */
	assert_int_equal(sim_tech_attach_nat(&w->tc, &nat_sim_ops, &ncfg), 0);
}

/* Manual keys: a client's SAs and policy, or the gateway's pair for one client. */
static void sa_conf(char *buf, size_t len, bool gw, uint32_t client, uint32_t spi_c)
{
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	uint32_t spi_r = nat_spihash_result(md5, spi_c);
	char c[SP_IP4_STRLEN];
	size_t n = strlen(buf);

	sp_ip4_fmt(client, c);
	if (!gw)
		snprintf(buf + n, len - n,
			 "[policy p%u]\nsrc = %s/32\ndst = 10.9.0.0/24\naction = esp\n"
			 "mode = tunnel\nreqid = 1\n"
			 "[sa out%u]\ndir = out\nspi = %u\nsrc = %s\ndst = 204.71.200.69\n"
			 "mode = tunnel\nenc = aes-gcm-16\nenc_key = 0x%08x%08x%08x%08x%08x\n"
			 "reqid = 1\n"
			 "[sa in%u]\ndir = in\nspi = %u\nsrc = 204.71.200.69\ndst = %s\n"
			 "mode = tunnel\nenc = aes-gcm-16\nenc_key = 0x%08x%08x%08x%08x%08x\n"
			 "reqid = 1\n",
			 spi_c, c, spi_c, spi_c, c, spi_c, spi_c, spi_c, spi_c, spi_c, spi_r, spi_r,
			 c, spi_r, spi_r, spi_r, spi_r, spi_r);
	else
		/* The responder sends with the SPI derived from the originator's ([0101]) to
		 * the NAT's global address, the only one it knows. */
		snprintf(buf + n, len - n,
			 "[policy p%u]\nsrc = 10.9.0.0/24\ndst = %s/32\naction = esp\n"
			 "mode = tunnel\nreqid = %u\n"
			 "[sa out%u]\ndir = out\nspi = %u\nsrc = 204.71.200.69\n"
			 "dst = 171.69.68.10\nmode = tunnel\nenc = aes-gcm-16\n"
			 "enc_key = 0x%08x%08x%08x%08x%08x\nreqid = %u\n"
			 "[sa in%u]\ndir = in\nspi = %u\nsrc = 171.69.68.10\n"
			 "dst = 204.71.200.69\nmode = tunnel\nenc = aes-gcm-16\n"
			 "enc_key = 0x%08x%08x%08x%08x%08x\nreqid = %u\n",
			 spi_c, c, spi_c & 0xffff, spi_r, spi_r, spi_r, spi_r, spi_r, spi_r, spi_r,
			 spi_c & 0xffff, spi_c, spi_c, spi_c, spi_c, spi_c, spi_c, spi_c,
			 spi_c & 0xffff);
}

static void manual_keys(void **state)
{
	static const uint32_t spis[2] = { SPI410, SPI420 };
	char gwconf[4096] = "", cconf[2][2048] = { "", "" };
	struct ipsec_sim_cfg cfg;
	struct world w;
	const char *r504, *r506, *r508, *r510;
	char *t;

	(void)state;
	build(&w);
	attach_nat(&w);
	for (unsigned i = 0; i < 2; i++) {
		sa_conf(cconf[i], sizeof(cconf[i]), false, SP_IP4(10, 6, 1, 2 + i), spis[i]);
		cfg.conf = cconf[i];
		assert_int_equal(sim_ip_attach_ep(w.c[i], &ipsec_sim_ops, &cfg), 0);
		sa_conf(gwconf, sizeof(gwconf), true, SP_IP4(10, 6, 1, 2 + i), spis[i]);
	}
	cfg.conf = gwconf;
	assert_int_equal(sim_ip_attach_ep(w.gw, &ipsec_sim_ops, &cfg), 0);
	/* both originators at once; the answers 100 ms later */
	flows(&w, SP_SEC(1), SP_SEC(1) + SP_MSEC(100));

	sim_run_until(w.sim, SP_SEC(1) + SP_MSEC(60));
	t = table(&w);
	print_message("000 FIG. 5A (the originators have sent, no answer yet):\n%s", t);
	assert_non_null(strstr(t, "esp   171.69.68.10           10.6.1.2:0xD4560CA1    "
				  "204.71.200.69:0          204.71.200.69:0          unmatched"));
	assert_non_null(strstr(t, "esp   171.69.68.10           10.6.1.3:0xB7285662    "
				  "204.71.200.69:0          204.71.200.69:0          unmatched"));
	assert_null(strstr(t, "association"));
	free(t);

	sim_run_until(w.sim, SP_SEC(3));
	t = table(&w);
	print_message("000 FIG. 5B (the answers matched by MD5):\n%s", t);
	/* rows 504, 506, 508, 510 in the figure's order; MD5(d4560ca1) = 46e0ecc1...,
	 * MD5(b7285662) = ca0d0306... */
	r504 = strstr(t, "esp   171.69.68.10           10.6.1.2:0xD4560CA1    "
			 "204.71.200.69:0          204.71.200.69:0          matched");
	r506 = strstr(t, "esp   171.69.68.10           10.6.1.2:0             "
			 "204.71.200.69:0x46E0ECC1 204.71.200.69:0x46E0ECC1 association");
	r508 = strstr(t, "esp   171.69.68.10           10.6.1.3:0xB7285662    "
			 "204.71.200.69:0          204.71.200.69:0          matched");
	r510 = strstr(t, "esp   171.69.68.10           10.6.1.3:0             "
			 "204.71.200.69:0xCA0D0306 204.71.200.69:0xCA0D0306 association");
	assert_non_null(r504);
	assert_non_null(r506);
	assert_non_null(r508);
	assert_non_null(r510);
	assert_true(r504 < r506 && r506 < r508 && r508 < r510);
	free(t);
	/* and the traffic went where it belonged */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(sim_flow_stats(w.sim, w.down[i])->delivered, 10);
		assert_int_equal(sim_flow_stats(w.sim, w.down[i])->misdelivered, 0);
	}
	sim_free(w.sim);
}

/* The same with IKEv2: random originator SPIs, the gateway deriving its own. */
static void ike_negotiated(void **state)
{
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	const struct sim_technique *tech = sim_technique_find("spihash");
	static struct sim_params ps;
	struct world w;
	char *t, *line;
	unsigned pairs = 0;
	uint32_t out_spi[2] = { 0, 0 }, in_spi[2] = { 0, 0 };

	(void)state;
	assert_non_null(tech);
	build(&w);
	sim_params_init(&ps);
	assert_int_equal(sim_params_add(&ps, tech->params, tech->name), 0);
	w.tc.params = &ps;
	w.tc.tech = tech;
	assert_int_equal(tech->setup(&w.tc), 0); /* NAT spihash, clients and gateway IKE */
	flows(&w, SP_SEC(1), SP_SEC(1) + SP_MSEC(100));
	sim_run_until(w.sim, SP_SEC(1) + SP_MSEC(60));
	t = table(&w);
	print_message("FIG. 5A with IKEv2's SPIs:\n%s", t);
	assert_null(strstr(t, "association"));
	free(t);
	sim_run_until(w.sim, SP_SEC(3));
	t = table(&w);
	print_message("FIG. 5B with IKEv2's SPIs:\n%s", t);
	/* Each client's row pairs the SPI it sends with (the gateway's, derived) and the one
	 * it receives (its own, the originator SPI): stored = MD5(received), [0074]. */
	for (line = strtok(t, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		unsigned a, b, c, d, spi;
		unsigned idx;

		if (sscanf(line, "esp %*s %u.%u.%u.%u:0x%x", &a, &b, &c, &d, &spi) == 5 &&
		    strstr(line, " matched") != NULL) {
			idx = d - 2;
			assert_true(idx < 2);
			out_spi[idx] = spi;
		} else if (sscanf(line, "esp %*s %u.%u.%u.%u:0 %*u.%*u.%*u.%*u:0x%x", &a, &b, &c,
				  &d, &spi) == 5 &&
			   strstr(line, "association") != NULL) {
			idx = d - 2;
			assert_true(idx < 2);
			in_spi[idx] = spi;
			pairs++;
		}
	}
	free(t);
	assert_int_equal(pairs, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_not_equal(in_spi[i], 0);
		assert_int_equal(out_spi[i], nat_spihash_result(md5, in_spi[i]));
		assert_int_equal(sim_flow_stats(w.sim, w.down[i])->delivered, 10);
	}
	sim_free(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manual_keys),
		cmocka_unit_test(ike_negotiated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
