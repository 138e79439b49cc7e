/*
 * The conference scenario (003 FIG. 3): what the comparison table must show for the
 * baseline technique, under each kind of fault, for raw ESP through an address-only NAT
 * (the engine's ipaddr strategy: one client per server, the problem spinat exists to
 * solve), and for NAT-T after a NAT restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/runs.h"
#include "sim/scenario.h"
#include "../unit/sim/toy_tunnel.h"

static int run(const char *tech_name, const struct sim_technique *tech, const char *const *sets,
	       struct sim_result *res)
{
	const struct sim_scenario *scn = sim_scenario_find("conference");
	static struct sim_params ps;
	struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };
	int r;

	assert_non_null(scn);
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(scn, &ps), 0);
	for (; sets != NULL && *sets != NULL; sets++)
		assert_int_equal(sim_params_set(&ps, *sets), 0);
	if (tech == NULL)
		assert_non_null(tech = sim_technique_find(tech_name));
	r = scn->run(&ps, tech, &o, res);
	if (r != 0)
		print_message("conference: %s\n", ps.err);
	return r;
}

static void plain_defaults_nat_crash(void **state)
{
	/* The default fault (crash:nat@5s+1s) over a 10 s run. */
	static const char *const sets[] = { "duration=10s", NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("plain", NULL, sets, &r), 0);
	/* 4 clients, both ways, 50 pps for 10 s. */
	assert_int_equal(r.flows.sent, 4000);
	assert_int_equal(r.flows.not_sent, 0);
	/* The NAT is down 1 s of 10: about a tenth is lost, nothing else. */
	assert_in_range(r.flows.lost, 380, 420);
	assert_int_equal(r.flows.delivered + r.flows.lost, r.flows.sent);
	assert_true(r.has_fault && r.flows.recovered);
	assert_true(r.flows.recovery < SP_MSEC(100));
	assert_non_null(strstr(r.drop_list, "nat node.drop_crashed="));
	/* Endpoint-independent NAPT: one entry per client. */
	assert_true(r.has_nat);
	assert_int_equal(r.nat_entries_peak, 4);
	/* Plain UDP: 28 bytes of IPv4 and UDP header per packet, a little ICMP besides. */
	assert_true(r.ovh_per_pkt >= 28.0 && r.ovh_per_pkt < 30.0);
	assert_false(r.has_tunnels);
}

static void plain_no_fault_is_lossless(void **state)
{
	static const char *const sets[] = { "fault=none", "clients=40", "duration=3s", NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("plain", NULL, sets, &r), 0);
	assert_int_equal(r.flows.sent, 40 * 2 * 150);
	assert_int_equal(r.flows.delivered, r.flows.sent);
	assert_int_equal(r.flows.lost + r.flows.misdelivered + r.flows.duplicated, 0);
	assert_false(r.has_fault);
	assert_int_equal(r.drops, 0);
	assert_int_equal(r.nat_entries_peak, 40);
	assert_int_equal(r.nat_entries_end, 40);
}

static void plain_access_cut(void **state)
{
	static const char *const sets[] = { "fault=cut:access@3s+2s", "duration=6s", NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("plain", NULL, sets, &r), 0);
	/* 2 s of 6 s cut: a third lost (plus what was in flight). */
	assert_in_range(r.flows.lost, 800 - 20, 800 + 40);
	assert_non_null(strstr(r.drop_list, "access link.drop_cut="));
	/* The NAT kept its mappings: the first packets after the repair get through. */
	assert_true(r.flows.recovered);
	assert_true(r.flows.recovery < SP_MSEC(60));
	assert_int_equal(r.flows.misdelivered, 0);
}

/* 003 FIG. 3: router 303 dies for good; the clients fail over to router 311 and the
 * gateway answers the new global address as soon as it sees it. */
static void plain_failover_to_backup_nat(void **state)
{
	static const char *const sets[] = { "backup=yes", "fault=crash:nat@5s", NULL };
	static const char *const nobackup[] = { "fault=crash:nat@5s", NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("plain", NULL, sets, &r), 0);
	assert_true(r.flows.recovered);
	assert_true(r.flows.recovery < SP_MSEC(150));
	/* Only what was on its way to the dead router is lost. */
	assert_true(r.flows.lost > 0 && r.flows.lost < 40);
	assert_int_equal(r.flows.misdelivered, 0);
	assert_int_equal(r.nat_entries_end, 4); /* all on nat2 now */
	/* Without the backup nothing recovers. */
	assert_int_equal(run("plain", NULL, nobackup, &r), 0);
	assert_false(r.flows.recovered);
	assert_true(r.flows.lost > 1900);
}

static void plain_lossy_access(void **state)
{
	static const char *const sets[] = { "fault=none", "access_loss=0.05", "duration=10s",
					    NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("plain", NULL, sets, &r), 0);
	/* Every packet crosses the access link once: Binomial(4000, 0.05), sd 14. */
	assert_in_range(r.flows.lost, 200 - 56, 200 + 56);
	assert_non_null(strstr(r.drop_list, "access link.lost="));
}

/*
 * Raw ESP through an address-only NAT (the engine's ipaddr strategy, what Linux's generic
 * conntrack, libalias and pf do), with the toy tunnel engine (an ESP-like header, no
 * crypto) on every client and on the gateway: the NAT maps ESP by (server) only, so one
 * client holds the gateway and the others' packets are dropped (003 Background).
 */
static int rawesp_setup(struct sim_tech_ctx *tc)
{
	static struct toy_cfg gw = { .gateway = true, .proto = IPV4_PROTO_ESP };
	struct toy_cfg c = { .proto = IPV4_PROTO_ESP };
	int r;

	if ((r = sim_tech_attach_engine(tc, "ipaddr", NULL)) != 0)
		return r;
	c.peer = sim_node_addr(tc->gateways[0]);
	c.net = tc->protected_net;
	c.plen = tc->protected_plen;
	for (unsigned i = 0; i < tc->nclients; i++) {
		c.spi = 0x1000 + i;
		if ((r = sim_ip_attach_ep(tc->clients[i], &toy_ops, &c)) != 0)
			return r;
	}
	return sim_ip_attach_ep(tc->gateways[0], &toy_ops, &gw);
}

static const struct sim_technique rawesp = {
	.name = "rawesp",
	.descr = "test: unkeyed ESP-like tunnels through an address-only NAT (ipaddr)",
	.flags = SIM_TECH_TUNNEL,
	.setup = rawesp_setup,
};

static void raw_esp_one_client_per_server(void **state)
{
	static const char *const sets[] = { "fault=none", "duration=10s", NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run(NULL, &rawesp, sets, &r), 0);
	assert_true(r.has_tunnels);
	assert_int_equal(r.tunnels_wanted, 4);
	assert_int_equal(r.tunnels_up, 1);
	/* One client's two flows get through; three clients' do not. */
	assert_int_equal(r.flows.sent, 4000 - r.flows.not_sent);
	assert_int_equal(r.flows.delivered, 1000);
	assert_non_null(strstr(r.drop_list, "nat nat.ipaddr_drop_server_busy="));
	/* Nothing of theirs reaches the gateway, so it never sends them anything. */
	assert_non_null(strstr(r.drop_list, "isp ip.drop_no_route="));
	/* ESP: one entry for the one client that holds the server. */
	assert_int_equal(r.nat_entries_peak, 1);
	/* IPv4 + UDP inside, outer IPv4 + 8-byte header outside. */
	assert_true(r.ovh_per_pkt >= 56.0 && r.ovh_per_pkt < 57.0);
}

/*
 * The table spinat-sim prints by default: every technique over the scenario's runs, seeds
 * 1, 2, ... Run k of the set is exactly the single run with seed 1 + k, the runs differ
 * from one another, and what a technique promises holds in every run: plain and spihash
 * recover from the NAT crash each time and deliver nothing to the wrong client.
 */
static void runs_aggregate_seeded_runs(void **state)
{
	const struct sim_scenario *scn = sim_scenario_find("conference");
	static struct sim_params ps;
	static struct sim_agg a;
	static const char *const ten_seconds[] = { "duration=10s", NULL };
	struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };
	struct sim_result r;
	bool differ = false;

	(void)state;
	assert_true(scn->runs > 1);
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(scn, &ps), 0);
	assert_int_equal(sim_params_set(&ps, "duration=10s"), 0); /* 4000 packets a run */
	assert_int_equal(
		sim_scenario_run_many(scn, &ps, sim_technique_find("plain"), &o, scn->runs, &a), 0);
	assert_int_equal(a.runs, scn->runs);
	assert_int_equal(a.sent, 4000ull * scn->runs);
	assert_int_equal(a.delivered + a.dropped + a.misdelivered, a.sent);
	assert_int_equal(a.with_traffic, a.runs);
	assert_int_equal(a.recovered, a.runs);
	assert_true(sim_agg_median(&a) <= sim_agg_worst(&a));
	assert_true(sim_agg_worst(&a) < SP_MSEC(100));
	assert_string_equal(a.drop[0].name, "nat node.drop_crashed");
	assert_in_range(a.drop[0].n, 380ull * scn->runs, 420ull * scn->runs);
	for (unsigned k = 1; k < a.runs; k++)
		differ = differ || a.rec[k] != a.rec[0];
	assert_true(differ); /* independently seeded: start times and jitter differ */
	/* runs 1 and 3 of the set, alone */
	assert_int_equal(run("plain", NULL, ten_seconds, &r), 0); /* seed 1 */
	assert_int_equal(r.flows.recovery, a.rec[0]);
	o.seed = sim_run_seed(1, 2);
	assert_int_equal(scn->run(&ps, sim_technique_find("plain"), &o, &r), 0);
	assert_int_equal(r.flows.recovery, a.rec[2]);
	o.seed = 1;
	/* spihash: every run recovers, nothing misdelivered (000's promise) */
	assert_int_equal(
		sim_scenario_run_many(scn, &ps, sim_technique_find("spihash"), &o, scn->runs, &a),
		0);
	assert_int_equal(a.recovered, a.runs);
	assert_int_equal(a.misdelivered, 0);
	assert_int_equal(a.tunnels_up, a.tunnels_wanted);
}

/*
 * NAT-T through the NAT engine's NAPT (technique natt). The NAT crashes at 5 s and comes
 * back at 6 s with an empty table: the clients' UDP 4500 is mapped anew, some to other
 * ports than before. The gateway is not behind a NAT, so it follows each client to the
 * source of its first authenticated ESP after the restart (RFC 7296 2.23): every flow
 * delivers again within a flow interval (20 ms) of the client's, a one-way trip (25 ms),
 * the gateway's next interval and the trip back, plus jitter. And with a second NAT the
 * clients fail over to (another address), the same.
 */
static void natt_recovers_after_nat_restart(void **state)
{
	static const char *const backup[] = { "backup=yes", "fault=crash:nat@5s", "duration=25s",
					      NULL };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("natt", NULL, NULL, &r), 0);
	print_message("natt, NAT crash 5s+1s: delivered %llu of %llu, misdelivered %llu, "
		      "recovery %.3fs\n",
		      (unsigned long long)r.flows.delivered, (unsigned long long)r.flows.sent,
		      (unsigned long long)(r.flows.misdelivered + r.rx_foreign),
		      r.flows.recovered ? sp_time_sec(r.flows.recovery) : -1.0);
	assert_int_equal(r.tunnels_up, 4);
	assert_int_equal(r.tunnels_wanted, 4);
	assert_true(r.has_fault && r.flows.recovered);
	assert_true(r.flows.recovery <= SP_MSEC(120));
	/* Only what the gateway sent to a stale port before the client's first packet. */
	assert_true(r.flows.misdelivered + r.rx_foreign <= 12);
	assert_true(r.flows.lost <= 430); /* the NAT's 400 while down, and those */
	/* The same in every run of the table's set (seeds 1, 2, ...). */
	{
		const struct sim_scenario *scn = sim_scenario_find("conference");
		static struct sim_params ps;
		static struct sim_agg a;
		struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };

		sim_params_init(&ps);
		assert_int_equal(sim_scenario_params(scn, &ps), 0);
		assert_int_equal(sim_scenario_run_many(scn, &ps, sim_technique_find("natt"), &o,
						       scn->runs, &a),
				 0);
		print_message("natt over %u runs: recovered %u, median %.3fs, worst %.3fs, "
			      "misdelivered %llu\n",
			      a.runs, a.recovered, sp_time_sec(sim_agg_median(&a)),
			      sp_time_sec(sim_agg_worst(&a)), (unsigned long long)a.misdelivered);
		assert_int_equal(a.recovered, a.runs);
		assert_true(sim_agg_worst(&a) <= SP_MSEC(120));
		assert_true(a.misdelivered <= 12ull * a.runs);
		assert_int_equal(a.tunnels_up, a.tunnels_wanted);
	}

	assert_int_equal(run("natt", NULL, backup, &r), 0);
	print_message("natt, NAT A dead at 5s, NAT B beside it: delivered %llu of %llu, "
		      "recovery %.3fs\n",
		      (unsigned long long)r.flows.delivered, (unsigned long long)r.flows.sent,
		      r.flows.recovered ? sp_time_sec(r.flows.recovery) : -1.0);
	assert_true(r.flows.recovered);
	assert_true(r.flows.recovery <= SP_MSEC(120));
	assert_true(r.flows.lost <= 50);
}

/*
 * 002's dnat through the default NAT crash (5 s + 1 s): the restarted router announces
 * that every block is invalid, the clients ask again, rekey their SAs onto SPIs of the new
 * blocks and their IKE onto a new port, and every flow delivers again; nothing reaches the
 * wrong client, in every run of the table's set.
 */
static void dnat_recovers_after_router_restart(void **state)
{
	const struct sim_scenario *scn = sim_scenario_find("conference");
	static struct sim_params ps;
	static struct sim_agg a;
	struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };
	struct sim_result r;

	(void)state;
	assert_int_equal(run("dnat", NULL, NULL, &r), 0);
	print_message("dnat, router crash 5s+1s: delivered %llu of %llu, misdelivered %llu, "
		      "recovery %.3fs\n",
		      (unsigned long long)r.flows.delivered, (unsigned long long)r.flows.sent,
		      (unsigned long long)(r.flows.misdelivered + r.rx_foreign),
		      r.flows.recovered ? sp_time_sec(r.flows.recovery) : -1.0);
	assert_int_equal(r.tunnels_up, 4);
	assert_int_equal(r.tunnels_wanted, 4);
	assert_true(r.has_fault && r.flows.recovered);
	assert_true(r.flows.recovery <= SP_MSEC(120));
	assert_int_equal(r.flows.misdelivered + r.rx_foreign, 0);
	assert_true(r.flows.lost <= 430);
	/* The router keeps blocks (two per client) and IKE's IAPTT rows, no per-SA state. */
	assert_true(r.nat_entries_peak <= 12);
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(scn, &ps), 0);
	assert_int_equal(
		sim_scenario_run_many(scn, &ps, sim_technique_find("dnat"), &o, scn->runs, &a), 0);
	assert_int_equal(a.recovered, a.runs);
	assert_int_equal(a.misdelivered, 0);
	assert_int_equal(a.tunnels_up, a.tunnels_wanted);
	assert_true(sim_agg_worst(&a) <= SP_MSEC(120));
}

/*
 * 001: every client leases its IKE SPI and incoming SPIs; nothing reaches the wrong
 * client. After the NAT's crash its leases are gone until each client's next renewal
 * (lease.lifetime 10 s: every 5 s), which gets the same values back: every run recovers
 * within that bound. The crash at 7 s falls mid-way between renewals.
 */
static void lease_recovers_by_renewal(void **state)
{
	static const char *const techs[] = { "lease", "lease-ah" };
	const struct sim_scenario *scn = sim_scenario_find("conference");

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		static struct sim_params ps;
		static struct sim_agg a;
		struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };

		sim_params_init(&ps);
		assert_int_equal(sim_scenario_params(scn, &ps), 0);
		assert_int_equal(sim_params_set(&ps, "fault=crash:nat@7s+1s"), 0);
		assert_int_equal(sim_scenario_run_many(scn, &ps, sim_technique_find(techs[i]), &o,
						       scn->runs, &a),
				 0);
		print_message("%s, NAT crash 7s+1s, %u runs: recovered %u, median %.3fs, worst "
			      "%.3fs, misdelivered %llu\n",
			      techs[i], a.runs, a.recovered, sp_time_sec(sim_agg_median(&a)),
			      sp_time_sec(sim_agg_worst(&a)), (unsigned long long)a.misdelivered);
		assert_int_equal(a.tunnels_up, a.tunnels_wanted);
		assert_int_equal(a.misdelivered, 0);
		assert_int_equal(a.recovered, a.runs);
		assert_true(sim_agg_worst(&a) <= SP_SEC(5) + SP_MSEC(200));
		/* not before a renewal: the NAT had really forgotten the leases */
		assert_true(sim_agg_median(&a) >= SP_SEC(1));
	}
}

static void bad_parameters_are_named(void **state)
{
	const struct sim_scenario *scn = sim_scenario_find("conference");
	static struct sim_params ps;
	struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };
	struct sim_result r;

	(void)state;
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(scn, &ps), 0);
	assert_int_equal(sim_params_set(&ps, "cliens=3"), SP_ENOTFOUND);
	assert_non_null(strstr(ps.err, "cliens"));
	assert_int_equal(sim_params_set(&ps, "clients=0"), 0);
	assert_int_equal(scn->run(&ps, sim_technique_find("plain"), &o, &r), SP_ECONFIG);
	assert_non_null(strstr(ps.err, "clients"));
	assert_int_equal(sim_params_set(&ps, "clients=2"), 0);
	assert_int_equal(sim_params_set(&ps, "fault=crash:nobody@1s"), 0);
	assert_int_equal(scn->run(&ps, sim_technique_find("plain"), &o, &r), SP_ECONFIG);
	assert_non_null(strstr(ps.err, "nobody"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_defaults_nat_crash),
		cmocka_unit_test(plain_no_fault_is_lossless),
		cmocka_unit_test(plain_access_cut),
		cmocka_unit_test(plain_failover_to_backup_nat),
		cmocka_unit_test(plain_lossy_access),
		cmocka_unit_test(raw_esp_one_client_per_server),
		cmocka_unit_test(runs_aggregate_seeded_runs),
		cmocka_unit_test(natt_recovers_after_nat_restart),
		cmocka_unit_test(dnat_recovers_after_router_restart),
		cmocka_unit_test(lease_recovers_by_renewal),
		cmocka_unit_test(bad_parameters_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
