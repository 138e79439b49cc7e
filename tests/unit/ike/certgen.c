#include "certgen.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <string.h>

static EVP_PKEY *newkey(bool rsa)
{
	return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

static int write_pem(const char *dir, const char *name, const char *ext, X509 *x, EVP_PKEY *k)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = x != NULL ? PEM_write_X509(f, x)
		       : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
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

static X509 *newcert(const char *cn, EVP_PKEY *k, long serial)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	return x;
}

int certgen_ca(const char *dir, const char *name, bool rsa)
{
	EVP_PKEY *k = newkey(rsa);
	X509 *x;
	int r = -1;

	if (k == NULL)
		return -1;
	x = newcert(name, k, 1);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
	    X509_sign(x, k, EVP_sha256()) > 0 && write_pem(dir, name, "pem", x, NULL) == 0 &&
	    write_pem(dir, name, "key", NULL, k) == 0)
		r = 0;
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

int certgen_ee(const char *dir, const char *ca, const char *name, bool rsa, const char *ip,
	       const char *dns)
{
	static long serial = 100;
	X509 *cax = read_x509(dir, ca), *x = NULL;
	EVP_PKEY *cak = read_key(dir, ca), *k = newkey(rsa);
	char san[256];
	int r = -1;

	if (cax == NULL || cak == NULL || k == NULL)
		goto out;
	x = newcert(name, k, serial++);
	X509_set_issuer_name(x, X509_get_subject_name(cax));
	snprintf(san, sizeof(san), "%s%s%s%s%s", ip ? "IP:" : "", ip ? ip : "",
		 ip && dns ? "," : "", dns ? "DNS:" : "", dns ? dns : "");
	if (add_ext(x, cax, NID_subject_alt_name, san) == 0 &&
	    add_ext(x, cax, NID_basic_constraints, "CA:FALSE") == 0 &&
	    X509_sign(x, cak, EVP_sha256()) > 0 && write_pem(dir, name, "pem", x, NULL) == 0 &&
	    write_pem(dir, name, "key", NULL, k) == 0)
		r = 0;
out:
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	return r;
}
