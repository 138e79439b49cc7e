/*
 * crypto/x509: path validation with intermediates from CERT payloads and from
 * configuration (RFC 7296 3.6, RFC 5280 6), X.509 name constraints (002's local CA under a
 * root: root -> LCA -> host), CRLs from files and from a distribution point, identities
 * (RFC 4945 3.1: IPv4, FQDN, RFC 822, DN), the signature, and the words each failure and
 * each unusable file is reported with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "certgen.h"
#include "crypto/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static const uint8_t octets[] = "octets signed in IKE_AUTH (RFC 7296 2.15)";

static char *path(const char *name)
{
	static char buf[64][512]; /* a ring: a few paths are alive at once */
	static int i;

	i = (i + 1) % 64;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int setup(void **state)
{
	struct certgen_opts root = { .ca = true };
	struct certgen_opts inter = { .subject = "C=CH, O=spinat, CN=Inter CA" };
	struct certgen_opts lca = { .ca = true,
				    .issuer = "root",
				    .subject = "CN=Local CA",
				    .name_constraints = "permitted;DNS:.lca.example,permitted;IP:"
							"198.51.100.0/255.255.255.0" };
	struct certgen_opts ee = { .subject = "C=CH, O=spinat, CN=b",
				   .ip = "10.0.0.2",
				   .dns = "b.example",
				   .email = "b@example.org" };
	/* b, and rev with the same names but its subject, revoked */
	struct certgen_peer peers[] = { { "b", ee, false }, { "rev", ee, true } };
	struct certgen_opts expired = ee,
			    in = { .issuer = "lca", .ip = "198.51.100.7", .dns = "h.lca.example" },
			    out = { .issuer = "lca", .dns = "evil.example" },
			    other = { .ca = true, .rsa = true };

	(void)state;
	peers[1].o.subject = "C=CH, O=spinat, CN=revoked";
	expired.issuer = "inter";
	expired.crl_uri = "http://192.0.2.1/inter.crl";
	expired.subject = "CN=expired";
	expired.days = -2;
	if (certgen_dir(dir, sizeof(dir), "x509") != 0 || certgen(dir, "root", &root) != 0 ||
	    certgen_chain(dir, "root", &inter, "http://192.0.2.1/inter.crl", peers, 2) != 0 ||
	    certgen(dir, "lca", &lca) != 0 || certgen(dir, "expired", &expired) != 0 ||
	    certgen(dir, "host_in", &in) != 0 || certgen(dir, "host_out", &out) != 0 ||
	    certgen(dir, "other", &other) != 0 ||
	    certgen_crl(dir, "inter", "inter_empty", NULL, 0) != 0)
		return -1;
	/* a folder of trust anchors, and an empty file */
	if (mkdir(path("cas"), 0755) != 0 || system("true") != 0)
		return -1;
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "cp %s %s/cas/1.pem && cp %s %s/cas/2.pem && : > %s",
			 path("other.pem"), dir, path("root.pem"), dir, path("empty.pem"));
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return certgen_dir_remove(dir);
}

/* The peer's credential: it signs; ours verifies with the given trust settings. */
struct peer {
	struct crypto_cred *c;
	uint8_t sig[CRYPTO_SIG_MAX];
	size_t sig_len;
};

static void peer_open(struct peer *p, const char *name)
{
	struct crypto_cred_paths cp = { .cert = path(name),
					.key = path(name),
					.ca = path("root.pem") };
	char err[CRYPTO_WHY_MAX], cert[64], key[64];

	snprintf(cert, sizeof(cert), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	cp.cert = path(cert);
	cp.key = path(key);
	assert_int_equal(crypto_cred_open(&cp, &p->c, err, sizeof(err)), 0);
	assert_int_equal(crypto_cred_sign(p->c, octets, sizeof(octets), p->sig, &p->sig_len), 0);
}

static struct crypto_cred *ours(const char *ca, const char *inter, const char *crl,
				enum crypto_revocation rev)
{
	struct crypto_cred_paths cp = { .cert = path("host_in.pem"),
					.key = path("host_in.key"),
					.ca = path(ca),
					.intermediates = inter ? path(inter) : NULL,
					.crl = crl ? path(crl) : NULL,
					.revocation = rev };
	struct crypto_cred *c;
	char err[CRYPTO_WHY_MAX];

	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), 0);
	return c;
}

static int der_of(const char *name, uint8_t *buf, size_t cap, struct crypto_der *d)
{
	struct crypto_cred_paths cp = { 0 };
	struct crypto_cred *c;
	char cert[64], key[64];
	const uint8_t *p;
	size_t len;

	snprintf(cert, sizeof(cert), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	cp.cert = path(cert);
	cp.key = path(key);
	cp.ca = path("root.pem");
	if (crypto_cred_open(&cp, &c, NULL, 0) != 0 || crypto_cred_chain_der(c, 0, &p, &len) != 0 ||
	    len > cap) {
		crypto_cred_free(c);
		return -1;
	}
	memcpy(buf, p, len);
	d->p = buf;
	d->len = len;
	crypto_cred_free(c);
	return 0;
}

/* Verify b (or name) with its chain as sent: [ee] or [ee, intermediate]. */
static int check(struct crypto_cred *c, const char *name, bool send_inter, uint8_t id_type,
		 const void *id, size_t id_len, char *why)
{
	static uint8_t b1[4096], b2[4096];
	struct crypto_der d[2];
	struct peer p;
	int r;

	peer_open(&p, name);
	assert_int_equal(der_of(name, b1, sizeof(b1), &d[0]), 0);
	assert_int_equal(
		der_of(strncmp(name, "host", 4) == 0 ? "lca" : "inter", b2, sizeof(b2), &d[1]), 0);
	r = crypto_cred_verify_peer(c, SP_SEC(100), d, send_inter ? 2 : 1, id_type, id, id_len,
				    octets, sizeof(octets), p.sig, p.sig_len, why, CRYPTO_WHY_MAX);
	crypto_cred_free(p.c);
	return r;
}

static const uint8_t ip_b[4] = { 10, 0, 0, 2 };

static void intermediate_from_cert_payloads(void **state)
{
	struct crypto_cred *c = ours("root.pem", NULL, NULL, CRYPTO_REV_RELAXED);
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(check(c, "b", true, 1, ip_b, 4, why), 0);
	/* without it the chain is broken, and the log line says where */
	assert_int_equal(check(c, "b", false, 1, ip_b, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "chain: unable to get local issuer certificate"));
	assert_non_null(strstr(why, "CN=b"));
	crypto_cred_free(c);
}

static void intermediate_from_configuration(void **state)
{
	struct crypto_cred *c = ours("root.pem", "inter.pem", NULL, CRYPTO_REV_RELAXED);
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(check(c, "b", false, 1, ip_b, 4, why), 0);
	crypto_cred_free(c);
}

static void trust_anchors_from_a_folder(void **state)
{
	struct crypto_cred *c = ours("cas", NULL, NULL, CRYPTO_REV_RELAXED);
	const uint8_t *ids;
	size_t len;
	char why[CRYPTO_WHY_MAX];

	(void)state;
	crypto_cred_ca_keyids(c, &ids, &len);
	assert_int_equal(len, 40); /* CERTREQ names both anchors */
	assert_int_equal(check(c, "b", true, 1, ip_b, 4, why), 0);
	crypto_cred_free(c);
}

static void own_chain_is_sent(void **state)
{
	struct crypto_cred_paths cp = { .cert = path("b.pem"),
					.key = path("b.key"),
					.ca = path("root.pem"),
					.intermediates = path("cas") };
	struct crypto_cred *c;
	const uint8_t *p;
	size_t len;

	(void)state;
	/* no issuer of b among the intermediates: b alone */
	assert_int_equal(crypto_cred_open(&cp, &c, NULL, 0), 0);
	assert_int_equal(crypto_cred_chain_der(c, 0, &p, &len), 0);
	assert_int_equal(crypto_cred_chain_der(c, 1, &p, &len), SP_ENOTFOUND);
	crypto_cred_free(c);
	/* with inter there: b, inter, and not the self-signed root */
	cp.intermediates = path("inter.pem");
	assert_int_equal(crypto_cred_open(&cp, &c, NULL, 0), 0);
	assert_int_equal(crypto_cred_chain_der(c, 1, &p, &len), 0);
	assert_int_equal(crypto_cred_chain_der(c, 2, &p, &len), SP_ENOTFOUND);
	crypto_cred_free(c);
}

static void revoked_certificate_refused(void **state)
{
	struct crypto_cred *c = ours("root.pem", NULL, "inter.crl", CRYPTO_REV_RELAXED);
	const uint8_t *ip = ip_b;
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(check(c, "rev", true, 1, ip, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "certificate revoked"));
	assert_non_null(strstr(why, "CN=revoked"));
	/* b is not on the CRL; the root publishes none for inter, which relaxed allows */
	assert_int_equal(check(c, "b", true, 1, ip, 4, why), 0);
	crypto_cred_free(c);
	/* strict: the missing CRL of the root is a failure */
	c = ours("root.pem", NULL, "inter.crl", CRYPTO_REV_STRICT);
	assert_int_equal(check(c, "b", true, 1, ip, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "unable to get certificate CRL"));
	crypto_cred_free(c);
	/* a DER CRL file serves as well */
	c = ours("root.pem", NULL, "inter.crl.der", CRYPTO_REV_RELAXED);
	assert_int_equal(check(c, "rev", true, 1, ip, 4, why), SP_EAUTH);
	crypto_cred_free(c);
}

static unsigned fetches;
static const char *fetch_file;

static int fetch(void *arg, const char *uri, uint8_t **crl, size_t *len)
{
	FILE *f;
	long n;

	(void)arg;
	fetches++;
	assert_string_equal(uri, "http://192.0.2.1/inter.crl");
	if (fetch_file == NULL)
		return SP_ETIMEOUT;
	assert_non_null(f = fopen(path(fetch_file), "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*crl = malloc((size_t)n);
	assert_int_equal(fread(*crl, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static void crl_fetched_from_distribution_point(void **state)
{
	struct crypto_cred_paths cp = { .cert = path("host_in.pem"),
					.key = path("host_in.key"),
					.ca = path("root.pem"),
					.crl_fetch = fetch,
					.crl_refetch = SP_SEC(60) };
	struct crypto_cred *c;
	struct crypto_der d[2];
	static uint8_t b1[4096], b2[4096];
	struct peer p;
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(crypto_cred_open(&cp, &c, NULL, 0), 0);
	/* a stranger's certificate makes no fetch */
	fetches = 0;
	assert_int_equal(check(c, "host_out", false, 2, "evil.example", 12, why), SP_EAUTH);
	assert_int_equal(fetches, 0);
	/* the fetch fails: relaxed goes on, and says what happened */
	fetch_file = NULL;
	assert_int_equal(check(c, "b", true, 1, ip_b, 4, why), 0);
	assert_int_equal(fetches, 1);
	assert_non_null(strstr(why, "CRL http://192.0.2.1/inter.crl: timed out"));
	/* a minute later the CRL (DER) comes, and rev is refused */
	fetch_file = "inter.crl.der";
	peer_open(&p, "rev");
	assert_int_equal(der_of("rev", b1, sizeof(b1), &d[0]), 0);
	assert_int_equal(der_of("inter", b2, sizeof(b2), &d[1]), 0);
	assert_int_equal(crypto_cred_verify_peer(c, SP_SEC(100) + SP_SEC(61), d, 2, 1, ip_b, 4,
						 octets, sizeof(octets), p.sig, p.sig_len, why,
						 sizeof(why)),
			 SP_EAUTH);
	assert_int_equal(fetches, 2);
	assert_non_null(strstr(why, "certificate revoked"));
	crypto_cred_free(p.c);
	/* and not fetched again within the minute */
	assert_int_equal(check(c, "b", true, 1, ip_b, 4, why), 0);
	assert_int_equal(fetches, 2);
	crypto_cred_free(c);
}

static void name_constraints_enforced(void **state)
{
	struct crypto_cred *c = ours("root.pem", NULL, NULL, CRYPTO_REV_RELAXED);
	char why[CRYPTO_WHY_MAX];

	(void)state;
	/* 002: root -> local CA (permitted .lca.example, 198.51.100.0/24) -> host */
	assert_int_equal(check(c, "host_in", true, 2, "h.lca.example", 13, why), 0);
	assert_int_equal(check(c, "host_out", true, 2, "evil.example", 12, why), SP_EAUTH);
	assert_non_null(strstr(why, "permitted subtree violation"));
	crypto_cred_free(c);
}

static void identities(void **state)
{
	struct crypto_cred *c = ours("root.pem", NULL, NULL, CRYPTO_REV_RELAXED);
	static const uint8_t ip_other[4] = { 10, 0, 0, 9 };
	uint8_t dn[CRYPTO_DN_MAX];
	size_t dn_len;
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(check(c, "b", true, 2, "b.example", 9, why), 0);
	assert_int_equal(check(c, "b", true, 3, "b@example.org", 13, why), 0);
	assert_int_equal(check(c, "b", true, 3, "c@example.org", 13, why), SP_EAUTH);
	assert_non_null(strstr(why, "ID_RFC822_ADDR c@example.org is not in the certificate's "
				    "subjectAltName (IP:10.0.0.2, DNS:b.example, "
				    "email:b@example.org)"));
	assert_int_equal(check(c, "b", true, 1, ip_other, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "ID_IPV4_ADDR 10.0.0.9"));
	/* RFC 4945 3.1.5: a DN is the subject; case and spaces of values do not matter */
	assert_int_equal(crypto_dn_parse("C=CH,O=Spinat,  CN=b", dn, sizeof(dn), &dn_len), 0);
	assert_int_equal(check(c, "b", true, 9, dn, dn_len, why), 0);
	assert_int_equal(crypto_dn_parse("/C=CH/O=spinat/CN=b", dn, sizeof(dn), &dn_len), 0);
	assert_int_equal(check(c, "b", true, 9, dn, dn_len, why), 0);
	assert_int_equal(crypto_dn_parse("C=CH, O=spinat, CN=c", dn, sizeof(dn), &dn_len), 0);
	assert_int_equal(check(c, "b", true, 9, dn, dn_len, why), SP_EAUTH);
	assert_non_null(strstr(why, "ID_DER_ASN1_DN \"C=CH, O=spinat, CN=c\" is not the "
				    "certificate's subject \"C=CH, O=spinat, CN=b\""));
	/* a DN in another order is another name */
	assert_int_equal(crypto_dn_parse("CN=b, O=spinat, C=CH", dn, sizeof(dn), &dn_len), 0);
	assert_int_equal(check(c, "b", true, 9, dn, dn_len, why), SP_EAUTH);
	assert_int_equal(check(c, "b", true, 11, "b", 1, why), SP_EAUTH);
	assert_non_null(strstr(why, "ID_KEY_ID is no certificate identity"));
	crypto_cred_free(c);
}

static void dn_text(void **state)
{
	uint8_t a[CRYPTO_DN_MAX], b[CRYPTO_DN_MAX];
	size_t al, bl;
	char t[256];

	(void)state;
	assert_int_equal(crypto_dn_parse("C=DE, O=Example GmbH, CN=vpn.example", a, sizeof(a), &al),
			 0);
	crypto_dn_format(a, al, t, sizeof(t));
	assert_string_equal(t, "C=DE, O=Example GmbH, CN=vpn.example");
	assert_int_equal(crypto_dn_parse("c=de,o=EXAMPLE  GMBH,cn=VPN.example", b, sizeof(b), &bl),
			 0);
	assert_true(crypto_dn_equal(a, al, b, bl));
	assert_int_equal(crypto_dn_parse("C=DE, O=Example, CN=vpn.example", b, sizeof(b), &bl), 0);
	assert_false(crypto_dn_equal(a, al, b, bl));
	assert_false(crypto_dn_equal(a, al - 1, a, al)); /* truncated DER is no name */
	assert_int_equal(crypto_dn_parse("vpn.example", a, sizeof(a), &al), SP_EINVAL);
	assert_int_equal(crypto_dn_parse("C=DE, XX=1", a, sizeof(a), &al), SP_EINVAL);
	assert_int_equal(crypto_dn_parse("CN=", a, sizeof(a), &al), SP_EINVAL);
}

static void failures_named(void **state)
{
	struct crypto_cred *c = ours("root.pem", NULL, NULL, CRYPTO_REV_RELAXED);
	struct crypto_der d[2];
	static uint8_t b1[4096], b2[4096];
	struct peer p;
	char why[CRYPTO_WHY_MAX];

	(void)state;
	assert_int_equal(check(c, "expired", true, 1, ip_b, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "chain: certificate has expired"));
	/* a chain to another anchor */
	assert_int_equal(check(c, "other", false, 1, ip_b, 4, why), SP_EAUTH);
	assert_non_null(strstr(why, "chain: "));
	/* a signature over other octets */
	peer_open(&p, "b");
	assert_int_equal(der_of("b", b1, sizeof(b1), &d[0]), 0);
	assert_int_equal(der_of("inter", b2, sizeof(b2), &d[1]), 0);
	assert_int_equal(crypto_cred_verify_peer(c, 0, d, 2, 1, ip_b, 4, octets, sizeof(octets) - 1,
						 p.sig, p.sig_len, why, sizeof(why)),
			 SP_EAUTH);
	assert_string_equal(why, "signature: does not verify with the certificate's key");
	/* garbage where a certificate belongs */
	d[1].len = 10;
	assert_int_equal(crypto_cred_verify_peer(c, 0, d, 2, 1, ip_b, 4, octets, sizeof(octets),
						 p.sig, p.sig_len, why, sizeof(why)),
			 SP_EAUTH);
	assert_string_equal(why, "chain: CERT payload 2 is not a DER certificate");
	assert_int_equal(crypto_cred_verify_peer(c, 0, d, 0, 1, ip_b, 4, octets, sizeof(octets),
						 p.sig, p.sig_len, why, sizeof(why)),
			 SP_EAUTH);
	assert_string_equal(why, "chain: no CERT payload");
	crypto_cred_free(p.c);
	crypto_cred_free(c);
}

static void file_errors(void **state)
{
	struct crypto_cred_paths cp = { .cert = path("b.pem"),
					.key = path("b.key"),
					.ca = path("root.pem") };
	struct crypto_cred *c;
	char err[CRYPTO_WHY_MAX], want[600];
	pid_t pid;
	int st;

	(void)state;
	cp.ca = path("nothere.pem");
	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), SP_ENOTFOUND);
	snprintf(want, sizeof(want), "ca %s: not found", path("nothere.pem"));
	assert_string_equal(err, want);
	cp.ca = path("empty.pem");
	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), SP_EINVAL);
	snprintf(want, sizeof(want), "ca %s: no certificate in it (PEM or DER)", path("empty.pem"));
	assert_string_equal(err, want);
	cp.ca = path("root.pem");
	cp.key = path("inter.key");
	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), SP_EINVAL);
	assert_non_null(strstr(err, "is not the key of the certificate"));
	cp.key = path("b.pem");
	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), SP_EINVAL);
	assert_non_null(strstr(err, "no PEM private key in it"));
	cp.key = path("b.key");
	cp.crl = path("root.pem");
	assert_int_equal(crypto_cred_open(&cp, &c, err, sizeof(err)), SP_EINVAL);
	assert_non_null(strstr(err, "no CRL in it"));
	cp.crl = NULL;
	/* unreadable: as an unprivileged user (root reads everything), in a child */
	if ((pid = fork()) == 0) {
		int r;

		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(3);
		r = crypto_cred_open(&cp, &c, err, sizeof(err));
		snprintf(want, sizeof(want), "cert %s: permission denied", path("b.pem"));
		_exit(r == SP_EPERM && strcmp(err, want) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(intermediate_from_cert_payloads),
		cmocka_unit_test(intermediate_from_configuration),
		cmocka_unit_test(trust_anchors_from_a_folder),
		cmocka_unit_test(own_chain_is_sent),
		cmocka_unit_test(revoked_certificate_refused),
		cmocka_unit_test(crl_fetched_from_distribution_point),
		cmocka_unit_test(name_constraints_enforced),
		cmocka_unit_test(identities),
		cmocka_unit_test(dn_text),
		cmocka_unit_test(failures_named),
		cmocka_unit_test(file_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
