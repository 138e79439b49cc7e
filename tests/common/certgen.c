#include "certgen.h"

#include "crypto/x509.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_obj(const char *dir, const char *name, const char *ext, X509 *x, EVP_PKEY *k,
		     X509_CRL *crl, bool der)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (crl != NULL)
		ok = der ? i2d_X509_CRL_fp(f, crl) : PEM_write_X509_CRL(f, crl);
	else if (x != NULL)
		ok = PEM_write_X509(f, x);
	else
		ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return ok ? 0 : -1;
}

static X509 *read_x509(const char *dir, const char *name)
{
	char path[512];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
	char path[512];
	FILE *f;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return 0;
}

static int set_subject(X509 *x, const char *name, const char *subject)
{
	uint8_t der[CRYPTO_DN_MAX];
	const unsigned char *p = der;
	size_t len;
	X509_NAME *n;
	int ok;

	if (subject == NULL)
		return X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
						  (const unsigned char *)name, -1, -1, 0)
			       ? 0
			       : -1;
	if (crypto_dn_parse(subject, der, sizeof(der), &len) != 0 ||
	    (n = d2i_X509_NAME(NULL, &p, (long)len)) == NULL)
		return -1;
	ok = X509_set_subject_name(x, n);
	X509_NAME_free(n);
	return ok ? 0 : -1;
}

static int random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL && BN_rand(bn, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok ? 0 : -1;
}

int certgen(const char *dir, const char *name, const struct certgen_opts *o)
{
	EVP_PKEY *k = o->rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new(), *cax = NULL;
	EVP_PKEY *cak = NULL;
	char san[512] = "";
	long days = o->days == 0 ? 365 : o->days;
	int r = -1;

	if (k == NULL || x == NULL)
		goto out;
	if (o->issuer != NULL &&
	    ((cax = read_x509(dir, o->issuer)) == NULL || (cak = read_key(dir, o->issuer)) == NULL))
		goto out;
	X509_set_version(x, 2);
	if (random_serial(x) != 0 || set_subject(x, name, o->subject) != 0)
		goto out;
	if (days > 0) {
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * days);
	} else {
		X509_gmtime_adj(X509_getm_notBefore(x), 3600L * 24 * (days - 30));
		X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * days);
	}
	X509_set_pubkey(x, k);
	X509_set_issuer_name(x, X509_get_subject_name(cax != NULL ? cax : x));
	if (o->ip != NULL || o->dns != NULL || o->email != NULL)
		snprintf(san, sizeof(san), "%s%s%s%s%s%s%s%s", o->ip ? "IP:" : "",
			 o->ip ? o->ip : "", o->ip && (o->dns || o->email) ? "," : "",
			 o->dns ? "DNS:" : "", o->dns ? o->dns : "", o->dns && o->email ? "," : "",
			 o->email ? "email:" : "", o->email ? o->email : "");
	if (o->ca) {
		if (add_ext(x, cax ? cax : x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
		    add_ext(x, cax ? cax : x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
		    add_ext(x, x, NID_subject_key_identifier, "hash") != 0)
			goto out;
		if (o->name_constraints != NULL &&
		    add_ext(x, cax ? cax : x, NID_name_constraints, o->name_constraints) != 0)
			goto out;
	} else if (add_ext(x, cax ? cax : x, NID_basic_constraints, "CA:FALSE") != 0) {
		goto out;
	}
	if (cax != NULL && add_ext(x, cax, NID_authority_key_identifier, "keyid:always") != 0)
		goto out;
	if (san[0] != 0 && add_ext(x, cax ? cax : x, NID_subject_alt_name, san) != 0)
		goto out;
	if (o->crl_uri != NULL) {
		char v[300];

		snprintf(v, sizeof(v), "URI:%s", o->crl_uri);
		if (add_ext(x, cax ? cax : x, NID_crl_distribution_points, v) != 0)
			goto out;
	}
	if (X509_sign(x, cak != NULL ? cak : k, EVP_sha256()) <= 0 ||
	    write_obj(dir, name, "pem", x, NULL, NULL, false) != 0 ||
	    write_obj(dir, name, "key", NULL, k, NULL, false) != 0)
		goto out;
	r = 0;
out:
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	return r;
}

int certgen_crl(const char *dir, const char *ca, const char *name, const char *const *revoked,
		size_t n)
{
	X509 *cax = read_x509(dir, ca);
	EVP_PKEY *cak = read_key(dir, ca);
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	int r = -1;

	if (cax == NULL || cak == NULL || crl == NULL || t == NULL)
		goto out;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(cax));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 3600L * 24 * 7);
	X509_CRL_set1_nextUpdate(crl, t);
	for (size_t i = 0; i < n; i++) {
		X509 *x = read_x509(dir, revoked[i]);
		X509_REVOKED *rv = X509_REVOKED_new();
		ASN1_TIME *when = ASN1_TIME_new();
		int ok = x != NULL && rv != NULL && when != NULL &&
			 X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(x)) &&
			 X509_gmtime_adj(when, -60) != NULL &&
			 X509_REVOKED_set_revocationDate(rv, when) &&
			 X509_CRL_add0_revoked(crl, rv);

		ASN1_TIME_free(when);
		X509_free(x);
		if (!ok) {
			X509_REVOKED_free(rv);
			goto out;
		}
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, cak, EVP_sha256()) <= 0 ||
	    write_obj(dir, name, "crl", NULL, NULL, crl, false) != 0 ||
	    write_obj(dir, name, "crl.der", NULL, NULL, crl, true) != 0)
		goto out;
	r = 0;
out:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(cax);
	EVP_PKEY_free(cak);
	return r;
}

int certgen_ca(const char *dir, const char *name, bool rsa)
{
	struct certgen_opts o = { .ca = true, .rsa = rsa };

	return certgen(dir, name, &o);
}

int certgen_ee(const char *dir, const char *ca, const char *name, bool rsa, const char *ip,
	       const char *dns)
{
	struct certgen_opts o = { .issuer = ca, .rsa = rsa, .ip = ip, .dns = dns };

	return certgen(dir, name, &o);
}

int certgen_chain(const char *dir, const char *root, const struct certgen_opts *inter,
		  const char *crl_uri, const struct certgen_peer *peers, size_t n)
{
	struct certgen_opts ca = { .subject = "CN=inter" };
	const char *revoked[16];
	size_t nrev = 0;

	if (inter != NULL)
		ca = *inter;
	ca.ca = true;
	ca.issuer = root;
	if (n > sizeof(revoked) / sizeof(revoked[0]) || certgen(dir, "inter", &ca) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct certgen_opts o = peers[i].o;

		o.issuer = "inter";
		o.crl_uri = crl_uri;
		if (certgen(dir, peers[i].name, &o) != 0)
			return -1;
		if (peers[i].revoked)
			revoked[nrev++] = peers[i].name;
	}
	return nrev > 0 ? certgen_crl(dir, "inter", "inter", revoked, nrev) : 0;
}

int certgen_dir(char *dir, size_t len, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	if ((size_t)snprintf(dir, len, "%s/spinat-%s.XXXXXX", tmp != NULL ? tmp : "/tmp", tag) >=
	    len)
		return -1;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

int certgen_dir_remove(const char *dir)
{
	char cmd[600];

	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}
