/* Issuing certificates and CRLs over OpenSSL (crypto/x509_issue.h). */
#include "crypto/x509_issue.h"
#include "base/cursor.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct crypto_ca {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t *der;
	size_t der_len;
};

/* Move DER that an i2d_*() call allocated (n octets at ossl, or n <= 0 on failure) into a
 * malloc'd buffer the caller frees with free(). */
static int der_out(unsigned char *ossl, int n, uint8_t **out, size_t *outlen)
{
	int r = SP_ECRYPTO;

	if (n > 0 && ossl != NULL && (*out = malloc((size_t)n)) != NULL) {
		memcpy(*out, ossl, (size_t)n);
		*outlen = (size_t)n;
		r = 0;
	} else if (n > 0 && ossl != NULL) {
		r = SP_ENOMEM;
	}
	OPENSSL_free(ossl);
	return r;
}

#define TO_DER(fn, obj, out, outlen) to_der_##fn(obj, out, outlen)
#define DEF_TO_DER(fn, type)                                                   \
	static int to_der_##fn(const type *obj, uint8_t **out, size_t *outlen) \
	{                                                                      \
		unsigned char *b = NULL;                                       \
		int n = fn(obj, &b);                                           \
                                                                               \
		return der_out(b, n, out, outlen);                             \
	}
DEF_TO_DER(i2d_X509, X509)
DEF_TO_DER(i2d_PUBKEY, EVP_PKEY)
DEF_TO_DER(i2d_X509_CRL, X509_CRL)

void crypto_pem_free(char *pem)
{
	if (pem != NULL) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
}

static EVP_PKEY *new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

int crypto_key_new_pem(char **pem)
{
	EVP_PKEY *k = new_key();
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int r = SP_ECRYPTO;

	*pem = NULL;
	if (k == NULL || b == NULL ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	if ((n = BIO_get_mem_data(b, &data)) <= 0)
		goto out;
	if ((*pem = malloc((size_t)n + 1)) == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	OPENSSL_cleanse(data, (size_t)n);
	r = 0;
out:
	BIO_free(b);
	EVP_PKEY_free(k);
	return r;
}

int crypto_key_spki(const char *pem, uint8_t **der, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = NULL;
	int r = SP_EMALFORMED;

	*der = NULL;
	*len = 0;
	if (b == NULL)
		return SP_ENOMEM;
	if ((k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		BIO_free(b);
		if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
			return SP_ENOMEM;
		k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	}
	if (k != NULL)
		r = TO_DER(i2d_PUBKEY, k, der, len);
	EVP_PKEY_free(k);
	BIO_free(b);
	return r;
}

void crypto_ca_free(struct crypto_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->der);
	free(ca);
}

void crypto_ca_cert_der(const struct crypto_ca *ca, const uint8_t **der, size_t *len)
{
	*der = ca->der;
	*len = ca->der_len;
}

/* One extension in OpenSSL's configuration syntax, issuer and subject from ctx. */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : SP_ECRYPTO;
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* A certificate's frame: version 3, serial, validity, subject CN, key, issuer. */
static X509 *frame(const X509 *issuer, const char *cn, uint64_t serial, int64_t nb, int64_t na,
		   EVP_PKEY *pub)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (x == NULL || name == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"spinat dnat", -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0) !=
		    1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) != 1 ||
	    X509_set_pubkey(x, pub) != 1) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(name);
	return x;
}

static int finish_ca(X509 *x, EVP_PKEY *key, EVP_PKEY *signer, struct crypto_ca **out)
{
	struct crypto_ca *ca;
	int r;

	if (X509_sign(x, signer, EVP_sha256()) <= 0)
		return SP_ECRYPTO;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return SP_ENOMEM;
	if ((r = TO_DER(i2d_X509, x, &ca->der, &ca->der_len)) != 0) {
		free(ca);
		return r;
	}
	ca->cert = x;
	ca->key = key;
	*out = ca;
	return 0;
}

int crypto_ca_new_root(const char *cn, int64_t now, uint32_t days, struct crypto_ca **out)
{
	EVP_PKEY *k = new_key();
	X509V3_CTX ctx;
	X509 *x = NULL;
	int r = SP_ECRYPTO;

	*out = NULL;
	if (k == NULL || (x = frame(NULL, cn, 1, now, now + (int64_t)days * 86400, k)) == NULL)
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
	    (r = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign")) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_key_identifier, "hash")) != 0)
		goto out;
	if ((r = finish_ca(x, k, k, out)) != 0)
		goto out;
	return 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

int crypto_ca_new_lca(const struct crypto_ca *issuer, uint32_t ip, uint64_t serial, int64_t now,
		      uint32_t days, struct crypto_ca **out)
{
	char addr[16], cn[64], nc[64], san[32];
	EVP_PKEY *k = new_key();
	X509V3_CTX ctx;
	X509 *x = NULL;
	int r = SP_ECRYPTO;

	*out = NULL;
	ip_text(ip, addr, sizeof(addr));
	snprintf(cn, sizeof(cn), "LCA %s", addr);
	/* RFC 5280 4.2.1.10: an iPAddress subtree is address and mask. */
	snprintf(nc, sizeof(nc), "critical,permitted;IP:%s/255.255.255.255", addr);
	snprintf(san, sizeof(san), "IP:%s", addr);
	if (k == NULL ||
	    (x = frame(issuer->cert, cn, serial, now, now + (int64_t)days * 86400, k)) == NULL)
		goto out;
	X509V3_set_ctx(&ctx, issuer->cert, x, NULL, NULL, 0);
	if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) != 0 ||
	    (r = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign")) != 0 ||
	    (r = add_ext(x, &ctx, NID_name_constraints, nc)) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_alt_name, san)) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_key_identifier, "hash")) != 0 ||
	    (r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if ((r = finish_ca(x, k, issuer->key, out)) != 0)
		goto out;
	return 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

int crypto_ca_load(const char *cert_path, const char *key_path, struct crypto_ca **out)
{
	FILE *f = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int r = SP_EIO;

	*out = NULL;
	if ((f = fopen(cert_path, "r")) == NULL)
		goto out;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if ((f = fopen(key_path, "r")) == NULL)
		goto out;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	r = SP_EMALFORMED;
	if (x == NULL || k == NULL || X509_check_private_key(x, k) != 1)
		goto out;
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	if ((r = TO_DER(i2d_X509, x, &(*out)->der, &(*out)->der_len)) != 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	(*out)->cert = x;
	(*out)->key = k;
	return 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

int crypto_ca_write(const struct crypto_ca *ca, const char *cert_path, const char *key_path)
{
	FILE *f;
	int fd, ok;

	if ((f = fopen(cert_path, "w")) == NULL)
		return SP_EIO;
	ok = PEM_write_X509(f, ca->cert) == 1;
	if (fclose(f) != 0 || !ok)
		return SP_EIO;
	if ((fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return SP_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return SP_EIO;
	}
	ok = PEM_write_PrivateKey(f, ca->key, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok)
		return SP_EIO;
	return 0;
}

/* DER INTEGER of a small non-negative value (X.690 8.3: minimal, a leading zero octet
 * when the top bit is set). */
static int put_int(struct wcur *w, uint32_t v)
{
	uint8_t b[5];
	int n = 0, r;

	do {
		b[4 - n++] = (uint8_t)v;
		v >>= 8;
	} while (v != 0);
	if (b[5 - n] & 0x80)
		b[4 - n++] = 0;
	if ((r = cur_put_u8(w, 0x02)) != 0 || (r = cur_put_u8(w, (uint8_t)n)) != 0)
		return r;
	return cur_put_bytes(w, b + 5 - n, (size_t)n);
}

static int port_block_ext(X509 *x, uint16_t lowest, uint16_t count)
{
	uint8_t body[16], seq[18];
	struct wcur w, s;
	ASN1_OBJECT *oid = OBJ_txt2obj(CRYPTO_OID_PORT_BLOCK, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int r = SP_ECRYPTO;

	wcur_init(&w, body, sizeof(body));
	wcur_init(&s, seq, sizeof(seq));
	if (put_int(&w, lowest) != 0 || put_int(&w, count) != 0 || cur_put_u8(&s, 0x30) != 0 ||
	    cur_put_u8(&s, (uint8_t)w.off) != 0 || cur_put_bytes(&s, body, w.off) != 0)
		goto out;
	if (oid == NULL || os == NULL || ASN1_OCTET_STRING_set(os, seq, (int)s.off) != 1 ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		goto out;
	r = 0;
out:
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	return r;
}

int crypto_ca_issue(const struct crypto_ca *ca, const uint8_t *spki, size_t spki_len,
		    const struct crypto_ee_profile *p, uint8_t **der, size_t *len)
{
	const uint8_t *sp = spki;
	char addr[16], cn[64], san[32];
	EVP_PKEY *pub = NULL;
	X509V3_CTX ctx;
	X509 *x = NULL;
	int r = SP_EMALFORMED;

	*der = NULL;
	*len = 0;
	if (spki_len > INT32_MAX || (pub = d2i_PUBKEY(NULL, &sp, (long)spki_len)) == NULL ||
	    sp != spki + spki_len)
		goto out;
	ip_text(p->ip, addr, sizeof(addr));
	if (p->port_count != 0)
		snprintf(cn, sizeof(cn), "%s ports %u-%u", addr, p->port_lowest,
			 (unsigned)p->port_lowest + p->port_count - 1);
	else
		snprintf(cn, sizeof(cn), "%s", addr);
	snprintf(san, sizeof(san), "IP:%s", addr);
	r = SP_ECRYPTO;
	if ((x = frame(ca->cert, cn, p->serial, p->not_before, p->not_after, pub)) == NULL)
		goto out;
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
	    (r = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature")) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_alt_name, san)) != 0 ||
	    (r = add_ext(x, &ctx, NID_subject_key_identifier, "hash")) != 0 ||
	    (r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if (p->port_count != 0 && (r = port_block_ext(x, p->port_lowest, p->port_count)) != 0)
		goto out;
	r = SP_ECRYPTO;
	if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
		goto out;
	r = TO_DER(i2d_X509, x, der, len);
out:
	X509_free(x);
	EVP_PKEY_free(pub);
	return r;
}

int crypto_ca_crl(const struct crypto_ca *ca, const struct crypto_revoked *rv, unsigned n,
		  uint64_t number, int64_t this_update, int64_t next_update, uint8_t **der,
		  size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)this_update);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, (time_t)next_update);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_EXTENSION *akid = NULL;
	X509V3_CTX ctx;
	int r = SP_ECRYPTO;

	*der = NULL;
	*len = 0;
	if (crl == NULL || t1 == NULL || t2 == NULL || num == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, t1) != 1 || X509_CRL_set1_nextUpdate(crl, t2) != 1)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		X509_REVOKED *e = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)rv[i].when);
		int ok = e != NULL && s != NULL && when != NULL &&
			 ASN1_INTEGER_set_uint64(s, rv[i].serial) == 1 &&
			 X509_REVOKED_set_serialNumber(e, s) == 1 &&
			 X509_REVOKED_set_revocationDate(e, when) == 1 &&
			 X509_CRL_add0_revoked(crl, e) == 1;

		ASN1_INTEGER_free(s);
		ASN1_TIME_free(when);
		if (!ok) {
			X509_REVOKED_free(e);
			goto out;
		}
	}
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	if (X509_CRL_sort(crl) != 1 || ASN1_INTEGER_set_uint64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    (akid = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
					"keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, akid, -1) != 1 || X509_CRL_sign(crl, ca->key, EVP_sha256()) <= 0)
		goto out;
	r = TO_DER(i2d_X509_CRL, crl, der, len);
out:
	X509_EXTENSION_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
	return r;
}

int crypto_der_write_pem(const char *path, const char *label, const uint8_t *der, size_t len)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return SP_EIO;
	ok = PEM_write(f, label, "", der, (long)len) > 0;
	if (fclose(f) != 0 || !ok)
		return SP_EIO;
	return 0;
}

/* A DER INTEGER of at most three value octets, non-negative. */
static int get_int(struct cur *c, uint32_t *v)
{
	const uint8_t *b;
	uint8_t tag, n;
	int r;

	*v = 0;
	if ((r = cur_get_u8(c, &tag)) != 0 || (r = cur_get_u8(c, &n)) != 0)
		return r;
	if (tag != 0x02 || n == 0 || n > 3)
		return SP_EMALFORMED;
	if ((r = cur_get_ptr(c, n, &b)) != 0)
		return r;
	if (b[0] & 0x80)
		return SP_EMALFORMED;
	for (unsigned i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return 0;
}

int crypto_cert_port_block(const uint8_t *der, size_t len, uint16_t *lowest, uint16_t *count)
{
	const uint8_t *p = der;
	ASN1_OBJECT *oid = OBJ_txt2obj(CRYPTO_OID_PORT_BLOCK, 1);
	X509 *x = NULL;
	const ASN1_OCTET_STRING *os;
	uint32_t lo, cnt;
	uint8_t tag, slen;
	struct cur c;
	int i, r = SP_EMALFORMED;

	*lowest = *count = 0;
	if (oid == NULL || len > INT32_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		goto out;
	r = SP_ENOTFOUND;
	if ((i = X509_get_ext_by_OBJ(x, oid, -1)) < 0)
		goto out;
	os = X509_EXTENSION_get_data(X509_get_ext(x, i));
	cur_init(&c, ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os));
	r = SP_EMALFORMED;
	if (cur_get_u8(&c, &tag) != 0 || cur_get_u8(&c, &slen) != 0 || tag != 0x30 ||
	    slen != cur_left(&c) || get_int(&c, &lo) != 0 || get_int(&c, &cnt) != 0 ||
	    cur_left(&c) != 0 || lo == 0 || lo > 65535 || cnt == 0 || cnt > 65535)
		goto out;
	*lowest = (uint16_t)lo;
	*count = (uint16_t)cnt;
	r = 0;
out:
	X509_free(x);
	ASN1_OBJECT_free(oid);
	return r;
}
