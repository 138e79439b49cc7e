/*
 * IKE_AUTH with certificates and RFC 7427 signatures (RFC 7296 2.15, 3.6, 3.8): RSA and
 * ECDSA end entities under one CA, identities as IPv4 address and FQDN checked against
 * subjectAltName, the CERT and CERTREQ payloads; and the refusals: a certificate from
 * another CA, an identity the certificate does not carry, a key ID as identity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "certgen.h"
#include "ike_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/spinat-ikecert.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (certgen_ca(dir, "ca", false) != 0 || certgen_ca(dir, "otherca", true) != 0 ||
	    certgen_ee(dir, "ca", "a_ec", false, "10.0.0.1", "a.example") != 0 ||
	    certgen_ee(dir, "ca", "b_ec", false, "10.0.0.2", "b.example") != 0 ||
	    certgen_ee(dir, "ca", "a_rsa", true, "10.0.0.1", "a.example") != 0 ||
	    certgen_ee(dir, "ca", "b_rsa", true, "10.0.0.2", "b.example") != 0 ||
	    certgen_ee(dir, "otherca", "b_other", true, "10.0.0.2", "b.example") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void conf(char *buf, size_t len, bool init, const char *me, const char *ca,
		 const char *local_id, const char *remote_id)
{
	snprintf(buf, len,
		 "[conn c]\nlocal = %s\nremote = %s\n%sauth = pubkey\ncert = %s/%s.pem\n"
		 "key = %s/%s.key\nca = %s/%s.pem\nlocal_id = %s\nremote_id = %s\n"
		 "local_ts = %s\nremote_ts = %s\n",
		 init ? "10.0.0.1" : "10.0.0.2", init ? "10.0.0.2" : "%any",
		 init ? "auto = start\n" : "", dir, me, dir, me, dir, ca, local_id, remote_id,
		 init ? "10.1.0.0/24" : "10.2.0.0/24", init ? "10.2.0.0/24" : "10.1.0.0/24");
}

static void run(const char *ci, const char *cr, struct h_world *w)
{
	assert_int_equal(h_init(w, ci, cr, 13), 0);
	h_run(w, w->now + SP_SEC(10));
}

static void pair_ok(const char *a, const char *b, const char *ida, const char *idb)
{
	char ci[2048], cr[2048];
	struct h_world w;

	conf(ci, sizeof(ci), true, a, "ca", ida, idb);
	conf(cr, sizeof(cr), false, b, "ca", idb, ida);
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	assert_int_equal(h_ctr(&w.n[0], "auth_failed"), 0);
	h_free(&w);
}

static void ecdsa_with_ip_ids(void **state)
{
	(void)state;
	pair_ok("a_ec", "b_ec", "10.0.0.1", "10.0.0.2");
}

static void rsa_with_fqdn_ids(void **state)
{
	(void)state;
	pair_ok("a_rsa", "b_rsa", "fqdn:a.example", "fqdn:b.example");
}

static void mixed_rsa_and_ecdsa(void **state)
{
	(void)state;
	pair_ok("a_rsa", "b_ec", "a.example", "10.0.0.2");
}

static void refused(const char *b, const char *idb_claimed, const char *idb_expected)
{
	char ci[2048], cr[2048];
	struct h_world w;

	conf(ci, sizeof(ci), true, "a_ec", "ca", "10.0.0.1", idb_expected);
	conf(cr, sizeof(cr), false, b, b[2] == 'o' ? "otherca" : "ca", idb_claimed, "10.0.0.1");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	h_free(&w);
}

static void certificate_of_another_ca(void **state)
{
	(void)state;
	refused("b_other", "10.0.0.2", "10.0.0.2");
}

static void identity_not_in_certificate(void **state)
{
	(void)state;
	/* b claims c.example, which its certificate does not carry */
	refused("b_ec", "fqdn:c.example", "fqdn:c.example");
}

static void key_id_is_no_certificate_identity(void **state)
{
	(void)state;
	refused("b_ec", "keyid:b", "keyid:b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ecdsa_with_ip_ids),
		cmocka_unit_test(rsa_with_fqdn_ids),
		cmocka_unit_test(mixed_rsa_and_ecdsa),
		cmocka_unit_test(certificate_of_another_ca),
		cmocka_unit_test(identity_not_in_certificate),
		cmocka_unit_test(key_id_is_no_certificate_identity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
