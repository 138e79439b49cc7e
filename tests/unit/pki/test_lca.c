/*
 * The Local Certificate Authority (002): a root, the router's LCA name-constrained to
 * 198.10.20.30, a host certificate for that address and ports 1026-1057 that the
 * ordinary `openssl verify` accepts through the chain, one for another address that it
 * refuses (the name constraint, not the LCA's goodwill, stops it), the port binding that
 * keeps blocks allocated, revocation and the CRL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pki/lca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GLOBAL 0xc60a141eu /* 198.10.20.30 */
#define HOST1  0x0a000001u
#define HOST3  0x0a000003u
#define NOW    1764979200 /* 2025-12-06 00:00:00 UTC */

static char dir[64];

static const char *path(const char *name)
{
	static char buf[4][160];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

/* Run openssl verify at time NOW + dt; returns its exit status, output in out. */
static int verify(const char *leaf, const char *crl, long dt, char *out, size_t len)
{
	char cmd[1024];
	FILE *f;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "openssl verify -attime %ld -CAfile %s -untrusted %s %s%s%s %s 2>&1",
		 (long)NOW + dt, path("root.pem"), path("lca.pem"),
		 crl ? "-crl_check -CRLfile " : "", crl ? crl : "", crl ? "" : "", leaf);
	assert_non_null(f = popen(cmd, "r"));
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_der(const char *name, const char *label, const uint8_t *der, size_t len)
{
	assert_int_equal(crypto_der_write_pem(path(name), label, der, len), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/spinat-lca-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void chain_constraints_revocation(void **state)
{
	struct crypto_ca *root, *lca_ca;
	struct lca_conf conf;
	struct lca *l;
	char *key_pem, out[4096];
	uint8_t *spki, *der, *crl;
	size_t spki_len, der_len, crl_len;
	uint64_t serial;
	uint16_t lo, cnt;

	(void)state;
	if (system("openssl version >/dev/null 2>&1") != 0)
		skip();
	assert_int_equal(crypto_ca_new_root("spinat test root", NOW - 60, 3650, &root), 0);
	assert_int_equal(crypto_ca_new_lca(root, GLOBAL, 2, NOW - 60, 365, &lca_ca), 0);
	assert_int_equal(crypto_ca_write(root, path("root.pem"), path("root.key")), 0);
	assert_int_equal(crypto_ca_write(lca_ca, path("lca.pem"), path("lca.key")), 0);
	crypto_ca_free(root);

	/* The host's key pair; only the public half goes to the router. */
	assert_int_equal(crypto_key_new_pem(&key_pem), 0);
	assert_int_equal(crypto_key_spki(key_pem, &spki, &spki_len), 0);
	crypto_pem_free(key_pem);

	lca_conf_defaults(&conf);
	assert_int_equal(lca_new(&l, lca_ca, &conf), 0);
	assert_int_equal(
		lca_issue(l, NOW, HOST1, 1026, 32, spki, spki_len, &der, &der_len, &serial), 0);
	write_der("host1.pem", "CERTIFICATE", der, der_len);
	assert_int_equal(crypto_cert_port_block(der, der_len, &lo, &cnt), 0);
	assert_int_equal(lo, 1026);
	assert_int_equal(cnt, 32);
	free(der);
	if (verify(path("host1.pem"), NULL, 10, out, sizeof(out)) != 0)
		fail_msg("openssl verify refused the LCA's certificate: %s", out);
	/* Expired after the lifetime. */
	assert_int_not_equal(verify(path("host1.pem"), NULL, 86400 + 10, out, sizeof(out)), 0);

	/* The LCA's key signing another address: openssl refuses it by the name constraint. */
	{
		struct crypto_ee_profile p = { 0 };

		p.ip = GLOBAL + 1;
		p.port_lowest = 1026;
		p.port_count = 32;
		p.serial = 0x999;
		p.not_before = NOW;
		p.not_after = NOW + 3600;
		assert_int_equal(crypto_ca_issue(l->ca, spki, spki_len, &p, &der, &der_len), 0);
		write_der("rogue.pem", "CERTIFICATE", der, der_len);
		free(der);
		assert_int_not_equal(verify(path("rogue.pem"), NULL, 10, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "permitted subtree violation"));
	}

	/* The binding keeps ports: bound for HOST1's block only. */
	assert_true(lca_port_bound(l, NOW + 1, HOST1, 1057));
	assert_false(lca_port_bound(l, NOW + 1, HOST1, 1058));
	assert_false(lca_port_bound(l, NOW + 1, HOST3, 1030));
	assert_false(lca_port_bound(l, NOW + 86400, HOST1, 1030));

	/* A CRL without it, then revocation and a CRL with it. */
	assert_int_equal(lca_crl(l, NOW + 20, &crl, &crl_len), 0);
	write_der("crl1.pem", "X509 CRL", crl, crl_len);
	free(crl);
	if (verify(path("host1.pem"), path("crl1.pem"), 30, out, sizeof(out)) != 0)
		fail_msg("refused with an empty CRL: %s", out);
	assert_int_equal(lca_revoke_port(l, NOW + 40, HOST3, 1030), 0);
	assert_int_equal(lca_revoke_port(l, NOW + 40, HOST1, 1030), 1);
	assert_int_equal(lca_revoke(l, NOW + 41, serial), SP_ESTATE);
	assert_false(lca_port_bound(l, NOW + 41, HOST1, 1030));
	assert_int_equal(lca_crl(l, NOW + 50, &crl, &crl_len), 0);
	write_der("crl2.pem", "X509 CRL", crl, crl_len);
	free(crl);
	assert_int_not_equal(verify(path("host1.pem"), path("crl2.pem"), 60, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "revoked"));

	/* Refusals: no ports, ports past 65535, more than LCA_HOST_MAX valid certificates. */
	assert_int_equal(lca_issue(l, NOW, HOST1, 0, 32, spki, spki_len, &der, &der_len, &serial),
			 SP_EINVAL);
	assert_int_equal(
		lca_issue(l, NOW, HOST1, 65530, 32, spki, spki_len, &der, &der_len, &serial),
		SP_EINVAL);
	for (int i = 0; i < LCA_HOST_MAX; i++) {
		assert_int_equal(
			lca_issue(l, NOW, HOST3, 2000, 16, spki, spki_len, &der, &der_len, &serial),
			0);
		free(der);
	}
	assert_int_equal(
		lca_issue(l, NOW, HOST3, 2000, 16, spki, spki_len, &der, &der_len, &serial),
		SP_EFULL);
	assert_int_equal(l->ctr[LCA_CTR_REFUSED_HOST_MAX], 1);
	free(spki);
	lca_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_constraints_revocation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
