/* Certificates, trust anchor checks and RFC 7427 signatures over OpenSSL. */
#include "crypto/x509.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crypto_cred {
	X509 *cert;
	EVP_PKEY *key;
	X509 *ca;
	X509_STORE *store;
	uint8_t *der;
	size_t der_len;
	uint8_t ca_keyid[20];
};

/* RFC 7427 Appendix A: DER AlgorithmIdentifiers. */
static const uint8_t alg_rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					  0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
static const uint8_t alg_rsa_sha384[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					  0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 };
static const uint8_t alg_rsa_sha512[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					  0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00 };
static const uint8_t alg_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t alg_ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					    0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const uint8_t alg_ecdsa_sha512[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					    0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };

static const struct sig_alg {
	const uint8_t *der;
	size_t len;
	int key_type;
	const char *md;
} sig_algs[] = {
	{ alg_rsa_sha256, sizeof(alg_rsa_sha256), EVP_PKEY_RSA, "SHA256" },
	{ alg_rsa_sha384, sizeof(alg_rsa_sha384), EVP_PKEY_RSA, "SHA384" },
	{ alg_rsa_sha512, sizeof(alg_rsa_sha512), EVP_PKEY_RSA, "SHA512" },
	{ alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256), EVP_PKEY_EC, "SHA256" },
	{ alg_ecdsa_sha384, sizeof(alg_ecdsa_sha384), EVP_PKEY_EC, "SHA384" },
	{ alg_ecdsa_sha512, sizeof(alg_ecdsa_sha512), EVP_PKEY_EC, "SHA512" },
};

/* errno of a file that would not open: what the caller reports. */
static int open_error(void)
{
	return errno == ENOENT ? SP_ENOTFOUND : errno == EACCES ? SP_EPERM : SP_EIO;
}

/* 0 with *out, or SP_ENOTFOUND, SP_EPERM, SP_EIO, SP_EMALFORMED (not a PEM certificate). */
static int read_cert(const char *path, X509 **out)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return open_error();
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return *out != NULL ? 0 : SP_EMALFORMED;
}

void crypto_cred_free(struct crypto_cred *c)
{
	if (c == NULL)
		return;
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	X509_free(c->ca);
	X509_STORE_free(c->store);
	free(c->der);
	free(c);
}

int crypto_cred_load(const char *cert, const char *key, const char *ca, struct crypto_cred **out)
{
	struct crypto_cred *c;
	unsigned char *der = NULL, *spki = NULL;
	unsigned mdlen = 0;
	FILE *f;
	int n, r = SP_ECRYPTO;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SP_ENOMEM;
	if ((r = read_cert(cert, &c->cert)) != 0 || (r = read_cert(ca, &c->ca)) != 0)
		goto out;
	if ((f = fopen(key, "r")) == NULL) {
		r = open_error();
		goto out;
	}
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (c->key == NULL) {
		r = SP_EMALFORMED; /* not a PEM private key */
		goto out;
	}
	r = SP_ECRYPTO;
	if (X509_check_private_key(c->cert, c->key) != 1) {
		r = SP_EINVAL; /* not a key, or not the certificate's */
		goto out;
	}
	if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA &&
	    EVP_PKEY_get_base_id(c->key) != EVP_PKEY_EC) {
		r = SP_EUNSUPP;
		goto out;
	}
	if ((n = i2d_X509(c->cert, &der)) <= 0)
		goto out;
	c->der = malloc((size_t)n);
	if (c->der == NULL) {
		OPENSSL_free(der);
		r = SP_ENOMEM;
		goto out;
	}
	memcpy(c->der, der, (size_t)n);
	c->der_len = (size_t)n;
	OPENSSL_free(der);
	/* RFC 7296 3.7: CERTREQ names a CA by the SHA-1 of its subjectPublicKeyInfo. */
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->ca), &spki)) <= 0)
		goto out;
	if (!EVP_Digest(spki, (size_t)n, c->ca_keyid, &mdlen, EVP_sha1(), NULL)) {
		OPENSSL_free(spki);
		goto out;
	}
	OPENSSL_free(spki);
	if ((c->store = X509_STORE_new()) == NULL || !X509_STORE_add_cert(c->store, c->ca))
		goto out;
	*out = c;
	return 0;
out:
	crypto_cred_free(c);
	return r;
}

void crypto_cred_cert_der(const struct crypto_cred *c, const uint8_t **der, size_t *len)
{
	*der = c->der;
	*len = c->der_len;
}

const uint8_t *crypto_cred_ca_keyid(const struct crypto_cred *c)
{
	return c->ca_keyid;
}

int crypto_cred_sign(const struct crypto_cred *c, const uint8_t *octets, size_t len, uint8_t *out,
		     size_t *out_len)
{
	const struct sig_alg *a =
		EVP_PKEY_get_base_id(c->key) == EVP_PKEY_RSA ? &sig_algs[0] : &sig_algs[3];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t slen;
	int r = SP_ECRYPTO;

	if (ctx == NULL)
		return SP_ENOMEM;
	/* RFC 7427 3: ASN.1 Length | AlgorithmIdentifier | Signature Value. */
	out[0] = (uint8_t)a->len;
	memcpy(out + 1, a->der, a->len);
	slen = CRYPTO_SIG_MAX - 1 - a->len;
	if (EVP_DigestSignInit_ex(ctx, NULL, a->md, NULL, NULL, c->key, NULL) != 1 ||
	    EVP_DigestSign(ctx, out + 1 + a->len, &slen, octets, len) != 1)
		goto out;
	*out_len = 1 + a->len + slen;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int check_id(X509 *x, uint8_t type, const uint8_t *id, size_t id_len)
{
	char name[256];

	switch (type) {
	case 1: /* ID_IPV4_ADDR: a subjectAltName iPAddress (RFC 4945 3.1.1) */
		return id_len == 4 && X509_check_ip(x, id, 4, 0) == 1 ? 0 : SP_EAUTH;
	case 2: /* ID_FQDN: a dNSName (RFC 4945 3.1.2) */
	case 3: /* ID_RFC822_ADDR: an rfc822Name (3.1.3) */
		if (id_len >= sizeof(name))
			return SP_EAUTH;
		memcpy(name, id, id_len);
		name[id_len] = 0;
		if (type == 2)
			return X509_check_host(x, name, id_len, X509_CHECK_FLAG_NO_WILDCARDS,
					       NULL) == 1
				       ? 0
				       : SP_EAUTH;
		return X509_check_email(x, name, id_len, 0) == 1 ? 0 : SP_EAUTH;
	default:
		return SP_EAUTH;
	}
}

int crypto_cred_verify(const struct crypto_cred *c, const uint8_t *cert, size_t cert_len,
		       uint8_t id_type, const uint8_t *id, size_t id_len, const uint8_t *octets,
		       size_t len, const uint8_t *auth, size_t auth_len)
{
	const unsigned char *p = cert;
	const struct sig_alg *a = NULL;
	X509 *x = d2i_X509(NULL, &p, (long)cert_len);
	X509_STORE_CTX *sctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pk;
	size_t alen;
	int r = SP_EAUTH;

	if (x == NULL || p != cert + cert_len)
		goto out;
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(sctx, c->store, x, NULL) || X509_verify_cert(sctx) != 1)
		goto out;
	if (check_id(x, id_type, id, id_len) != 0)
		goto out;
	if (auth_len < 2 || (alen = auth[0]) + 1 >= auth_len)
		goto out;
	for (size_t i = 0; i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
		if (sig_algs[i].len == alen && memcmp(sig_algs[i].der, auth + 1, alen) == 0)
			a = &sig_algs[i];
	if (a == NULL || (pk = X509_get0_pubkey(x)) == NULL ||
	    EVP_PKEY_get_base_id(pk) != a->key_type)
		goto out;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(mctx, NULL, a->md, NULL, NULL, pk, NULL) != 1 ||
	    EVP_DigestVerify(mctx, auth + 1 + alen, auth_len - 1 - alen, octets, len) != 1)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	X509_STORE_CTX_free(sctx);
	X509_free(x);
	return r;
}
