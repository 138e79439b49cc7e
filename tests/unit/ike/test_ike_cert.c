/*
 * IKE_AUTH with certificates and RFC 7427 signatures (RFC 7296 2.15, 3.6, 3.8): RSA and
 * ECDSA end entities under one CA, identities as IPv4 address and FQDN checked against
 * subjectAltName, the CERT and CERTREQ payloads; chains through an intermediate CA sent
 * as CERT payloads, DN identities (RFC 4945 3.1.5), revocation by a CRL file and by a
 * CRL fetched from the distribution point; and the refusals: a certificate from another
 * CA (the responder told after the fact, 2.21.2), an identity the certificate does not
 * carry, a key ID as identity, a revoked certificate.
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
	/* root -> inter -> a_i, b_i and brev_i (b_i's name and address, revoked) */
	const struct certgen_peer peers[] = {
		{ "a_i", { .subject = "C=CH, O=spinat, CN=a", .ip = "10.0.0.1" } },
		{ "b_i", { .subject = "C=CH, O=spinat, CN=b", .ip = "10.0.0.2", .rsa = true } },
		{ "brev_i", { .subject = "C=CH, O=spinat, CN=b", .ip = "10.0.0.2" }, true },
	};

	(void)state;
	if (certgen_dir(dir, sizeof(dir), "ikecert") != 0)
		return -1;
	if (certgen_ca(dir, "ca", false) != 0 || certgen_ca(dir, "otherca", true) != 0 ||
	    certgen_ee(dir, "ca", "a_ec", false, "10.0.0.1", "a.example") != 0 ||
	    certgen_ee(dir, "ca", "b_ec", false, "10.0.0.2", "b.example") != 0 ||
	    certgen_ee(dir, "ca", "a_rsa", true, "10.0.0.1", "a.example") != 0 ||
	    certgen_ee(dir, "ca", "b_rsa", true, "10.0.0.2", "b.example") != 0 ||
	    certgen_ee(dir, "otherca", "b_other", true, "10.0.0.2", "b.example") != 0 ||
	    certgen_chain(dir, "ca", NULL, "http://192.0.2.9/inter.crl", peers, 3) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return certgen_dir_remove(dir);
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

static void refused(const char *b, const char *idb_claimed, const char *idb_expected,
		    const char *why)
{
	char ci[2048], cr[2048];
	struct h_world w;

	conf(ci, sizeof(ci), true, "a_ec", "ca", "10.0.0.1", idb_expected);
	conf(cr, sizeof(cr), false, b, b[2] == 'o' ? "otherca" : "ca", idb_claimed, "10.0.0.1");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	/* the log line names the exchange, the peer, its identity and the failed check */
	assert_true(h_logged(&w.n[0], why));
	h_free(&w);
}

static void certificate_of_another_ca(void **state)
{
	(void)state;
	refused("b_other", "10.0.0.2", "10.0.0.2",
		"c: IKE_AUTH response from 10.0.0.2 (no identity): AUTHENTICATION_FAILED: the "
		"peer refused our identity, certificate or PSK");
}

static void identity_not_in_certificate(void **state)
{
	(void)state;
	/* b claims c.example, which its certificate does not carry */
	refused("b_ec", "fqdn:c.example", "fqdn:c.example",
		"responder not authenticated: identity: ID_FQDN c.example is not in the "
		"certificate's subjectAltName (IP:10.0.0.2, DNS:b.example)");
}

static void key_id_is_no_certificate_identity(void **state)
{
	(void)state;
	refused("b_ec", "keyid:b", "keyid:b",
		"responder not authenticated: identity: ID_KEY_ID is no certificate identity");
}

/* root -> inter -> a_i, b_i: each sends its intermediate; each trusts only the root. */
static void chain_conf(char *buf, size_t len, bool init, const char *me, const char *extra)
{
	snprintf(buf, len,
		 "[conn c]\nlocal = %s\nremote = %s\n%sauth = pubkey\ncert = %s/%s.pem\n"
		 "key = %s/%s.key\nca = %s/ca.pem\nintermediates = %s/inter.pem\n"
		 "local_id = C=CH, O=spinat, CN=%s\nremote_id = C=CH, O=spinat, CN=%s\n"
		 "local_ts = %s\nremote_ts = %s\n%s",
		 init ? "10.0.0.1" : "10.0.0.2", init ? "10.0.0.2" : "%any",
		 init ? "auto = start\n" : "", dir, me, dir, me, dir, dir, init ? "a" : "b",
		 init ? "b" : "a", init ? "10.1.0.0/24" : "10.2.0.0/24",
		 init ? "10.2.0.0/24" : "10.1.0.0/24", extra);
}

static void chain_and_dn_identities(void **state)
{
	char ci[4096], cr[4096];
	struct h_world w;

	(void)state;
	chain_conf(ci, sizeof(ci), true, "a_i", "");
	chain_conf(cr, sizeof(cr), false, "b_i", "");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	h_free(&w);
	/* a DN that is not the peer's subject: refused */
	chain_conf(ci, sizeof(ci), true, "a_i", "");
	chain_conf(cr, sizeof(cr), false, "b_i", "");
	*strstr(ci, "CN=b") = 0;
	strcat(ci, "CN=c\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	h_free(&w);
}

static void refusal_after_the_fact_reaches_responder(void **state)
{
	char ci[2048], cr[2048];
	struct h_world w;

	(void)state;
	/* b_other chains to otherca, which b trusts itself; a refuses it after IKE_AUTH */
	conf(ci, sizeof(ci), true, "a_ec", "ca", "10.0.0.1", "10.0.0.2");
	conf(cr, sizeof(cr), false, "b_other", "ca", "10.0.0.2", "10.0.0.1");
	run(ci, cr, &w);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	/* 2.21.2: the responder, established already, heard it and removed everything */
	assert_int_equal(h_events(&w.n[1], IKE_EV_IKE_UP), 1);
	assert_int_equal(h_events(&w.n[1], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	assert_int_equal(h_sa_count(&w.n[1]), 0);
	/* and the initiator does not try again */
	assert_int_equal(h_ctr(&w.n[0], "retry"), 0);
	h_free(&w);
}

static void revoked_by_crl_file(void **state)
{
	char ci[4096], cr[4096], crl[600];
	struct h_world w;

	(void)state;
	snprintf(crl, sizeof(crl), "crl = %s/inter.crl\n", dir);
	chain_conf(ci, sizeof(ci), true, "a_i", crl);
	chain_conf(cr, sizeof(cr), false, "brev_i", "");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 0);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	h_free(&w);
	/* b_i is not on it */
	chain_conf(ci, sizeof(ci), true, "a_i", crl);
	chain_conf(cr, sizeof(cr), false, "b_i", "");
	run(ci, cr, &w);
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	h_free(&w);
}

static unsigned fetched;

static int fetch(void *arg, const char *uri, uint8_t **crl, size_t *len)
{
	char path[300];
	FILE *f;
	long n;

	(void)arg;
	fetched++;
	assert_string_equal(uri, "http://192.0.2.9/inter.crl");
	snprintf(path, sizeof(path), "%s/inter.crl.der", dir);
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(*crl = malloc((size_t)n));
	assert_int_equal(fread(*crl, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static void revoked_by_fetched_crl(void **state)
{
	char ci[4096], cr[4096];
	struct h_world w;

	(void)state;
	chain_conf(ci, sizeof(ci), true, "a_i", "crl_fetch = yes\n");
	chain_conf(cr, sizeof(cr), false, "brev_i", "");
	fetched = 0;
	assert_int_equal(h_init_with(&w, ci, cr, 17, fetch, NULL), 0);
	h_run(&w, w.now + SP_SEC(10));
	assert_int_equal(fetched, 1);
	assert_int_equal(h_events(&w.n[0], IKE_EV_AUTH_FAILED), 1);
	assert_int_equal(ike_sa_count(w.n[1].ike, false), 0);
	h_free(&w);
	/* without a fetcher the key is refused when read */
	assert_int_not_equal(h_init(&w, ci, cr, 17), 0);
	h_free(&w);
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
		cmocka_unit_test(chain_and_dn_identities),
		cmocka_unit_test(refusal_after_the_fact_reaches_responder),
		cmocka_unit_test(revoked_by_crl_file),
		cmocka_unit_test(revoked_by_fetched_crl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
