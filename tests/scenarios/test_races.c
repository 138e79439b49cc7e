/*
 * 003's race conditions and incoming-SPI collision, staged with IKEv2 endpoints (scenarios
 * race1-race4, collision of src/sim/scn_races.c), under the NAT strategies: VPN Masquerade
 * misdelivers as 003 predicts in every race and in the collision, SPI-hash matching and
 * NAT-T never do, and the serialisation baseline shares masq's weakness where it
 * associates by timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/scenario.h"

static void run(const char *scn_name, const char *tech_name, struct sim_result *res)
{
	const struct sim_scenario *scn = sim_scenario_find(scn_name);
	const struct sim_technique *tech = sim_technique_find(tech_name);
	static struct sim_params ps;
	struct sim_run_opts o = { .seed = 1, .log_level = SP_LOG_ERR };
	int r;

	assert_non_null(scn);
	assert_non_null(tech);
	sim_params_init(&ps);
	assert_int_equal(sim_scenario_params(scn, &ps), 0);
	r = scn->run(&ps, tech, &o, res);
	if (r != 0)
		print_message("%s/%s: %s\n", scn_name, tech_name, ps.err);
	assert_int_equal(r, 0);
	print_message("%-9s %-10s tunnels %u/%u sent %llu delivered %llu misdelivered %llu "
		      "(foreign %llu) lost %llu\n",
		      scn_name, tech_name, res->tunnels_up, res->tunnels_wanted,
		      (unsigned long long)res->flows.sent, (unsigned long long)res->flows.delivered,
		      (unsigned long long)res->flows.misdelivered,
		      (unsigned long long)res->rx_foreign, (unsigned long long)res->flows.lost);
}

static uint64_t misdelivered(const struct sim_result *r)
{
	return r->flows.misdelivered + r->rx_foreign;
}

/* A technique that survives: every tunnel up, nothing to the wrong client. */
static void survives(const char *scn, const char *tech, uint64_t max_lost)
{
	struct sim_result r;

	run(scn, tech, &r);
	assert_int_equal(r.tunnels_up, r.tunnels_wanted);
	assert_int_equal(misdelivered(&r), 0);
	assert_true(r.flows.lost <= max_lost);
}

/* 003 FIG. 1: after the rekey S sends first; masq has no item and multicasts. */
static void race1(void **state)
{
	struct sim_result r;

	(void)state;
	run("race1", "masq", &r);
	assert_true(misdelivered(&r) > 0); /* the copies that reached c2 */
	assert_true(r.drops > 0);
	survives("race1", "natt", 0);
	/* spihash cannot match before c1 uses its new SA: a few drops, no misdelivery */
	survives("race1", "spihash", 50);
	survives("race1", "serial", 50);
	/* 001: SPIs leased from the NAT, unique per global address and server */
	survives("race1", "lease", 0);
	survives("race1", "lease-ah", 0);
}

/* 003 FIG. 2: c1's outstanding item takes c2's incoming SPI; then the reverse. */
static void race2(void **state)
{
	struct sim_result r;

	(void)state;
	run("race2", "masq", &r);
	/* "neither C1 nor C2 receive their packets sent by S": most of both flows go astray */
	assert_true(misdelivered(&r) > 200);
	survives("race2", "natt", 0);
	survives("race2", "spihash", 60);
	survives("race2", "lease", 0);
	survives("race2", "lease-ah", 0);
	run("race2", "serial", &r);
	assert_true(misdelivered(&r) > 200); /* serialisation associates the same way */
}

/* 003: c1's outstanding item expires before S answers; c2's item takes c1's SPI. */
static void race3(void **state)
{
	struct sim_result r;

	(void)state;
	run("race3", "masq", &r);
	assert_true(misdelivered(&r) >= 50); /* c1's answers went to c2 */
	survives("race3", "natt", 0);
	survives("race3", "spihash", 0);
	survives("race3", "lease", 0);
	survives("race3", "lease-ah", 0);
}

/* 003: both established items expire in a silence; c2 speaks first. */
static void race4(void **state)
{
	struct sim_result r;

	(void)state;
	run("race4", "masq", &r);
	assert_true(misdelivered(&r) > 100);
	survives("race4", "natt", 0);
	survives("race4", "spihash", 20);
	survives("race4", "lease", 0);
	survives("race4", "lease-ah", 0);
}

/*
 * Both clients lease the same inbound SPIs (spi = leased), so the gateway has two outbound
 * SAs with the same (SPI, ESP, destination) and keeps both (only inbound SPIs must be
 * unique, RFC 4301 4.1). masq: "VPN Masquerade will forward to the client whose item is
 * first established all packets sent by the server using the given incoming SPI, and
 * remaining clients will not receive their packets" (003 Background): every packet the
 * gateway sends c2 (1 s, then 3 s, at 50 a second) reaches c1, whose SA refuses it. NAT-T
 * tells the clients apart by their UDP ports: nothing is lost. spihash: the gateway derives
 * its SPI from the client's, the same for both, and refuses c2's CHILD SA as a collision
 * (000 [0104]): c2 has no tunnel, nothing goes astray.
 */
static void collision(void **state)
{
	struct sim_result r;

	(void)state;
	run("collision", "masq", &r);
	assert_int_equal(r.tunnels_up, 2);
	assert_int_equal(r.tunnels_wanted, 2);
	assert_int_equal(misdelivered(&r), 200);
	assert_true(r.flows.delivered <= r.flows.sent - 200);
	run("collision", "serial", &r);
	assert_int_equal(misdelivered(&r), 200); /* serialisation associates the same way */
	survives("collision", "natt", 0);
	run("collision", "spihash", &r);
	assert_int_equal(r.tunnels_up, 1);
	assert_int_equal(misdelivered(&r), 0);
	assert_int_equal(r.flows.lost, 400); /* c2's flows, without a tunnel */
	/* 001: the clients' own lists give way to the NAT's leases (the module's SPI hook
	 * comes first), which never hand one SPI to two clients for one server. */
	survives("collision", "lease", 0);
	survives("collision", "lease-ah", 0);
}

/*
 * 002's dnat: SPIs come from the router's blocks and ports from the clients' own, so
 * neither the rekey races nor the SPI collision of 003 can send anything astray.
 */
static void dnat_every_race(void **state)
{
	static const char *const scns[] = { "race1", "race2", "race3", "race4", "collision" };

	(void)state;
	for (size_t i = 0; i < sizeof(scns) / sizeof(scns[0]); i++)
		survives(scns[i], "dnat", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(race1),     cmocka_unit_test(race2),
		cmocka_unit_test(race3),     cmocka_unit_test(race4),
		cmocka_unit_test(collision), cmocka_unit_test(dnat_every_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
