/* Certificates, chains, CRLs, distinguished names and RFC 7427 signatures over OpenSSL. */
#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CRL_URIS_MAX  16 /* distribution points whose last fetch time is kept */
#define CHAIN_DEPTH   8	 /* a peer's chain longer than this is refused */
#define DIR_FILES_MAX 1024
#define URI_MAX	      256

/* A distribution point: when it was last fetched and what came (one CRL, replaced by the
 * next fetch, so the memory held stays bounded however long the daemon runs). */
struct crl_uri {
	char uri[URI_MAX];
	sp_time fetched;
	bool used;
	X509_CRL *crl;
};

struct crypto_cred {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) * chain; /* ours, [0] the end entity */
	uint8_t *chain_der[CRYPTO_CERT_CHAIN];
	size_t chain_len[CRYPTO_CERT_CHAIN];
	size_t n_chain;
	uint8_t *subject;
	size_t subject_len;
	X509_STORE *store;	/* trust anchors and CRLs */
	STACK_OF(X509) * inter; /* configured untrusted intermediates */
	uint8_t ca_keyids[20 * CRYPTO_CA_KEYIDS_MAX];
	size_t ca_keyids_len;
	unsigned n_crls;
	enum crypto_revocation revocation;
	crypto_crl_fetch_fn crl_fetch;
	void *crl_fetch_arg;
	sp_time crl_refetch;
	struct crl_uri uris[CRL_URIS_MAX];
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

static void say(char *buf, size_t len, const char *fmt, ...) SP_PRINTF(3, 4);

static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- reading files and folders ---- */

/* What stat() or fopen() said, in the words a configuration error needs. */
static int path_error(const char *what, const char *path, int e, char *err, size_t len)
{
	if (e == ENOENT) {
		say(err, len, "%s %s: not found", what, path);
		return SP_ENOTFOUND;
	}
	if (e == EACCES || e == EPERM) {
		say(err, len, "%s %s: permission denied", what, path);
		return SP_EPERM;
	}
	say(err, len, "%s %s: %s", what, path, strerror(e));
	return SP_EIO;
}

/* Every certificate and CRL in one file (PEM, or a single DER object). */
static int read_objects(const char *what, const char *path, STACK_OF(X509) * certs,
			STACK_OF(X509_CRL) * crls, char *err, size_t len)
{
	STACK_OF(X509_INFO) * info;
	BIO *b;
	int n = 0;

	if ((b = BIO_new_file(path, "rb")) == NULL) {
		int e = errno;

		ERR_clear_error();
		return path_error(what, path, e != 0 ? e : EIO, err, len);
	}
	info = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	ERR_clear_error();
	for (int i = 0; info != NULL && i < sk_X509_INFO_num(info); i++) {
		X509_INFO *xi = sk_X509_INFO_value(info, i);

		if (xi->x509 != NULL && certs != NULL && sk_X509_push(certs, xi->x509) > 0) {
			xi->x509 = NULL;
			n++;
		}
		if (xi->crl != NULL && crls != NULL && sk_X509_CRL_push(crls, xi->crl) > 0) {
			xi->crl = NULL;
			n++;
		}
	}
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	if (n == 0 && BIO_reset(b) == 0) {
		/* Not PEM: perhaps one DER certificate or CRL (as CRL distribution points
		 * usually serve them). */
		X509 *x = certs != NULL ? d2i_X509_bio(b, NULL) : NULL;
		X509_CRL *crl = NULL;

		if (x == NULL && crls != NULL && BIO_reset(b) == 0)
			crl = d2i_X509_CRL_bio(b, NULL);
		if (x != NULL && sk_X509_push(certs, x) > 0)
			n++;
		else
			X509_free(x);
		if (crl != NULL && sk_X509_CRL_push(crls, crl) > 0)
			n++;
		else
			X509_CRL_free(crl);
		ERR_clear_error();
	}
	BIO_free(b);
	return n;
}

/* A file, or every regular file of a folder; an error when nothing of the kind is found. */
static int read_path(const char *what, const char *path, STACK_OF(X509) * certs,
		     STACK_OF(X509_CRL) * crls, char *err, size_t len)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int n = 0, r;
	unsigned files = 0;

	if (stat(path, &st) != 0)
		return path_error(what, path, errno, err, len);
	if (!S_ISDIR(st.st_mode)) {
		if ((r = read_objects(what, path, certs, crls, err, len)) < 0)
			return r;
		if (r == 0) {
			say(err, len, "%s %s: no %s in it (PEM or DER)", what, path,
			    certs != NULL ? "certificate" : "CRL");
			return SP_EINVAL;
		}
		return 0;
	}
	if ((d = opendir(path)) == NULL)
		return path_error(what, path, errno, err, len);
	while ((de = readdir(d)) != NULL && files < DIR_FILES_MAX) {
		char f[4096];

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(f, sizeof(f), "%s/%s", path, de->d_name) >= sizeof(f) ||
		    stat(f, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		files++;
		if ((r = read_objects(what, f, certs, crls, err, len)) < 0) {
			closedir(d);
			return r;
		}
		n += r;
	}
	closedir(d);
	if (n == 0) {
		say(err, len, "%s %s: a folder with no %s in it", what, path,
		    certs != NULL ? "certificate" : "CRL");
		return SP_EINVAL;
	}
	return 0;
}

/* ---- the credential ---- */

void crypto_cred_free(struct crypto_cred *c)
{
	if (c == NULL)
		return;
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	sk_X509_pop_free(c->chain, X509_free);
	for (size_t i = 0; i < c->n_chain; i++)
		OPENSSL_free(c->chain_der[i]);
	OPENSSL_free(c->subject);
	X509_STORE_free(c->store);
	sk_X509_pop_free(c->inter, X509_free);
	for (size_t i = 0; i < CRL_URIS_MAX; i++)
		X509_CRL_free(c->uris[i].crl);
	free(c);
}

static bool self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/* Our chain: the end entity, what followed it in its file, then issuers found among the
 * intermediates, up to (not including) a self-signed root. */
static int build_own_chain(struct crypto_cred *c, STACK_OF(X509) * file)
{
	X509 *cur;

	if ((c->chain = sk_X509_new_null()) == NULL)
		return SP_ENOMEM;
	for (int i = 0; i < sk_X509_num(file) && sk_X509_num(c->chain) < CRYPTO_CERT_CHAIN; i++) {
		X509 *x = sk_X509_value(file, i);

		if (!X509_up_ref(x) || sk_X509_push(c->chain, x) <= 0)
			return SP_ENOMEM;
	}
	cur = sk_X509_value(c->chain, sk_X509_num(c->chain) - 1);
	while (sk_X509_num(c->chain) < CRYPTO_CERT_CHAIN && !self_signed(cur)) {
		X509 *issuer = NULL;

		for (int i = 0; i < sk_X509_num(c->inter) && issuer == NULL; i++) {
			X509 *x = sk_X509_value(c->inter, i);

			if (X509_check_issued(x, cur) == X509_V_OK && !self_signed(x))
				issuer = x;
		}
		for (int i = 0; issuer != NULL && i < sk_X509_num(c->chain); i++)
			if (X509_cmp(issuer, sk_X509_value(c->chain, i)) == 0)
				issuer = NULL; /* a loop */
		if (issuer == NULL)
			break;
		if (!X509_up_ref(issuer) || sk_X509_push(c->chain, issuer) <= 0)
			return SP_ENOMEM;
		cur = issuer;
	}
	for (int i = 0; i < sk_X509_num(c->chain); i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(sk_X509_value(c->chain, i), &der);

		if (n <= 0)
			return SP_ECRYPTO;
		c->chain_der[c->n_chain] = der;
		c->chain_len[c->n_chain++] = (size_t)n;
	}
	return 0;
}

static int read_key(const char *path, EVP_PKEY **key, char *err, size_t len)
{
	BIO *b;

	if ((b = BIO_new_file(path, "rb")) == NULL) {
		int e = errno;

		ERR_clear_error();
		return path_error("key", path, e != 0 ? e : EIO, err, len);
	}
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (*key == NULL) {
		say(err, len, "key %s: no PEM private key in it (or it is encrypted)", path);
		return SP_EINVAL;
	}
	return 0;
}

static int add_anchors(struct crypto_cred *c, STACK_OF(X509) * cas)
{
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);
		unsigned char *spki = NULL;
		unsigned mdlen = 0;
		int n;

		if (!X509_STORE_add_cert(c->store, x))
			return SP_ECRYPTO;
		if (c->ca_keyids_len + 20 > sizeof(c->ca_keyids))
			continue;
		/* RFC 7296 3.7: CERTREQ names a CA by the SHA-1 of its subjectPublicKeyInfo. */
		if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0)
			return SP_ECRYPTO;
		if (!EVP_Digest(spki, (size_t)n, c->ca_keyids + c->ca_keyids_len, &mdlen,
				EVP_sha1(), NULL)) {
			OPENSSL_free(spki);
			return SP_ECRYPTO;
		}
		OPENSSL_free(spki);
		c->ca_keyids_len += 20;
	}
	return 0;
}

int crypto_cred_open(const struct crypto_cred_paths *p, struct crypto_cred **out, char *err,
		     size_t err_len)
{
	STACK_OF(X509) *own = sk_X509_new_null(), *cas = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	struct crypto_cred *c;
	unsigned char *der = NULL;
	int n, r = SP_ENOMEM;

	*out = NULL;
	say(err, err_len, "%s", "");
	if ((c = calloc(1, sizeof(*c))) == NULL || own == NULL || cas == NULL || crls == NULL ||
	    (c->store = X509_STORE_new()) == NULL || (c->inter = sk_X509_new_null()) == NULL)
		goto out;
	c->revocation = p->revocation;
	c->crl_fetch = p->crl_fetch;
	c->crl_fetch_arg = p->crl_fetch_arg;
	c->crl_refetch = p->crl_refetch;
	if ((r = read_path("cert", p->cert, own, NULL, err, err_len)) != 0 ||
	    (r = read_key(p->key, &c->key, err, err_len)) != 0 ||
	    (r = read_path("ca", p->ca, cas, NULL, err, err_len)) != 0 ||
	    (p->intermediates != NULL && (r = read_path("intermediates", p->intermediates, c->inter,
							NULL, err, err_len)) != 0) ||
	    (p->crl != NULL && (r = read_path("crl", p->crl, NULL, crls, err, err_len)) != 0))
		goto out;
	c->cert = sk_X509_value(own, 0);
	if (!X509_up_ref(c->cert)) {
		c->cert = NULL;
		r = SP_ECRYPTO;
		goto out;
	}
	if (X509_check_private_key(c->cert, c->key) != 1) {
		ERR_clear_error();
		say(err, err_len, "key %s is not the key of the certificate in %s", p->key,
		    p->cert);
		r = SP_EINVAL;
		goto out;
	}
	if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA &&
	    EVP_PKEY_get_base_id(c->key) != EVP_PKEY_EC) {
		say(err, err_len, "key %s: only RSA and ECDSA keys are supported", p->key);
		r = SP_EUNSUPP;
		goto out;
	}
	if ((r = add_anchors(c, cas)) != 0 || (r = build_own_chain(c, own)) != 0)
		goto out;
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		if (!X509_STORE_add_crl(c->store, sk_X509_CRL_value(crls, i))) {
			r = SP_ECRYPTO;
			goto out;
		}
		c->n_crls++;
	}
	if ((n = i2d_X509_NAME(X509_get_subject_name(c->cert), &der)) <= 0) {
		r = SP_ECRYPTO;
		goto out;
	}
	c->subject = der;
	c->subject_len = (size_t)n;
	*out = c;
	c = NULL;
	r = 0;
out:
	if (r == SP_ENOMEM || r == SP_ECRYPTO)
		say(err, err_len, "loading credentials: %s", sp_strerror(r));
	ERR_clear_error();
	sk_X509_pop_free(own, X509_free);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	crypto_cred_free(c);
	return r;
}

int crypto_cred_chain_der(const struct crypto_cred *c, size_t i, const uint8_t **der, size_t *len)
{
	if (i >= c->n_chain)
		return SP_ENOTFOUND;
	*der = c->chain_der[i];
	*len = c->chain_len[i];
	return 0;
}

void crypto_cred_ca_keyids(const struct crypto_cred *c, const uint8_t **ids, size_t *len)
{
	*ids = c->ca_keyids;
	*len = c->ca_keyids_len;
}

void crypto_cred_subject_der(const struct crypto_cred *c, const uint8_t **der, size_t *len)
{
	*der = c->subject;
	*len = c->subject_len;
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
	ERR_clear_error();
	return r;
}

/* ---- names ---- */

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	out[0] = 0;
	if (b == NULL)
		return;
	/* In the order of the encoding, as configurations write it: C=.., O=.., CN=.. */
	if (X509_NAME_print_ex(b, n, 0,
			       (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
				       XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN) >= 0 &&
	    (len = BIO_read(b, out, (int)cap - 1)) > 0)
		out[len] = 0;
	BIO_free(b);
}

static X509_NAME *name_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)len);

	if (n != NULL && p != der + len) {
		X509_NAME_free(n);
		n = NULL;
	}
	ERR_clear_error();
	return n;
}

int crypto_dn_parse(const char *text, uint8_t *der, size_t cap, size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	char buf[1024], key[64], *s, *save = NULL, *rdn;
	const char *sep = ",";
	unsigned char *out = NULL;
	int dl, r = SP_EINVAL;

	if (n == NULL)
		return SP_ENOMEM;
	if (strlen(text) >= sizeof(buf))
		goto out;
	strcpy(buf, text);
	s = buf;
	if (*s == '/') {
		sep = "/"; /* OpenSSL's one-line form: /C=CH/O=Example/CN=host */
		s++;
	}
	for (rdn = strtok_r(s, sep, &save); rdn != NULL; rdn = strtok_r(NULL, sep, &save)) {
		char *eq = strchr(rdn, '='), *k = rdn, *v, *e;

		if (eq == NULL)
			goto out;
		*eq = 0;
		v = eq + 1;
		while (*k == ' ')
			k++;
		for (e = eq; e > k && e[-1] == ' ';)
			*--e = 0;
		while (*v == ' ')
			v++;
		for (e = v + strlen(v); e > v && e[-1] == ' ';)
			*--e = 0;
		if (*k == 0 || *v == 0 || strlen(k) >= sizeof(key))
			goto out;
		/* Attribute names as OpenSSL spells them (CN, O, OU, C, ...), in any case; E is
		 * emailAddress, as strongSwan writes it. */
		for (size_t i = 0; k[i] != 0; i++)
			key[i] = (char)toupper((unsigned char)k[i]);
		key[strlen(k)] = 0;
		if (strcmp(key, "E") == 0 || strcmp(key, "EMAIL") == 0 ||
		    strcmp(key, "EMAILADDRESS") == 0)
			strcpy(key, "emailAddress");
		if (OBJ_txt2nid(key) == NID_undef)
			snprintf(key, sizeof(key), "%s", k); /* a long name: commonName */
		if (!X509_NAME_add_entry_by_txt(n, key, MBSTRING_UTF8, (const unsigned char *)v, -1,
						-1, 0))
			goto out;
	}
	if (X509_NAME_entry_count(n) == 0 || (dl = i2d_X509_NAME(n, &out)) <= 0)
		goto out;
	if ((size_t)dl > cap) {
		r = SP_ENOSPACE;
		goto out;
	}
	memcpy(der, out, (size_t)dl);
	*len = (size_t)dl;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(out);
	X509_NAME_free(n);
	return r;
}

bool crypto_dn_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	X509_NAME *x = name_from_der(a, alen), *y = name_from_der(b, blen);
	bool eq = x != NULL && y != NULL && X509_NAME_cmp(x, y) == 0;

	X509_NAME_free(x);
	X509_NAME_free(y);
	ERR_clear_error();
	return eq;
}

void crypto_dn_format(const uint8_t *der, size_t len, char *out, size_t cap)
{
	X509_NAME *n = name_from_der(der, len);

	if (n == NULL) {
		snprintf(out, cap, "(not a DER name)");
		return;
	}
	name_text(n, out, cap);
	X509_NAME_free(n);
}

/* The subjectAltNames of x as "DNS:a, IP:1.2.3.4, email:u@h", for failure messages. */
static void san_text(X509 *x, char *out, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = 0;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && used + 1 < cap; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *sep = used > 0 ? ", " : "";
		int n = 0;

		if (g->type == GEN_DNS || g->type == GEN_EMAIL) {
			const ASN1_IA5STRING *s =
				g->type == GEN_DNS ? g->d.dNSName : g->d.rfc822Name;

			n = snprintf(out + used, cap - used, "%s%s:%.*s", sep,
				     g->type == GEN_DNS ? "DNS" : "email", SP_MIN(s->length, 64),
				     (const char *)s->data);
		} else if (g->type == GEN_IPADD && g->d.iPAddress->length == 4) {
			const uint8_t *a = g->d.iPAddress->data;

			n = snprintf(out + used, cap - used, "%sIP:%u.%u.%u.%u", sep, a[0], a[1],
				     a[2], a[3]);
		}
		if (n > 0)
			used = SP_MIN(used + (size_t)n, cap - 1);
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	if (used == 0)
		snprintf(out, cap, "none");
}

static const char *id_type_name(uint8_t type)
{
	switch (type) {
	case 1:
		return "ID_IPV4_ADDR";
	case 2:
		return "ID_FQDN";
	case 3:
		return "ID_RFC822_ADDR";
	case 9:
		return "ID_DER_ASN1_DN";
	case 11:
		return "ID_KEY_ID";
	default:
		return "ID type";
	}
}

/* RFC 4945 3.1: the identity must be vouched for by the certificate. */
static int check_id(X509 *x, uint8_t type, const uint8_t *id, size_t id_len, char *why, size_t wlen)
{
	char name[256], sans[160];
	X509_NAME *dn;
	int ok = 0;

	switch (type) {
	case 1: /* ID_IPV4_ADDR: a subjectAltName iPAddress (3.1.1) */
		ok = id_len == 4 && X509_check_ip(x, id, 4, 0) == 1;
		snprintf(name, sizeof(name), "%u.%u.%u.%u", id_len == 4 ? id[0] : 0,
			 id_len == 4 ? id[1] : 0, id_len == 4 ? id[2] : 0, id_len == 4 ? id[3] : 0);
		break;
	case 2: /* ID_FQDN: a dNSName (3.1.2) */
	case 3: /* ID_RFC822_ADDR: an rfc822Name (3.1.3) */
		if (id_len >= sizeof(name) || memchr(id, 0, id_len) != NULL) {
			say(why, wlen, "identity: %s of %zu octets is unusable", id_type_name(type),
			    id_len);
			return SP_EAUTH;
		}
		memcpy(name, id, id_len);
		name[id_len] = 0;
		ok = type == 2 ? X509_check_host(x, name, id_len, X509_CHECK_FLAG_NO_WILDCARDS,
						 NULL) == 1
			       : X509_check_email(x, name, id_len, 0) == 1;
		break;
	case 9: /* ID_DER_ASN1_DN: the subject (3.1.5) */
		if ((dn = name_from_der(id, id_len)) == NULL) {
			say(why, wlen, "identity: ID_DER_ASN1_DN is not a DER name");
			return SP_EAUTH;
		}
		ok = X509_NAME_cmp(dn, X509_get_subject_name(x)) == 0;
		name_text(dn, name, sizeof(name));
		X509_NAME_free(dn);
		if (!ok) {
			char subj[256];

			name_text(X509_get_subject_name(x), subj, sizeof(subj));
			say(why, wlen,
			    "identity: ID_DER_ASN1_DN \"%s\" is not the certificate's "
			    "subject \"%s\"",
			    name, subj);
			return SP_EAUTH;
		}
		return 0;
	default:
		say(why, wlen, "identity: %s is no certificate identity (RFC 4945 3.1)",
		    id_type_name(type));
		return SP_EAUTH;
	}
	ERR_clear_error();
	if (ok)
		return 0;
	san_text(x, sans, sizeof(sans));
	say(why, wlen, "identity: %s %s is not in the certificate's subjectAltName (%s)",
	    id_type_name(type), name, sans);
	return SP_EAUTH;
}

/* ---- path validation ---- */

static int verify_relaxed(int ok, X509_STORE_CTX *ctx)
{
	/* RFC 5280 6.3 leaves it to local policy what a missing or stale CRL means; relaxed
	 * (strongSwan's default too) refuses only what a CRL at hand says is revoked. */
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return 1;
	default:
		return ok;
	}
}

/* One run of OpenSSL's verifier; with chain non-NULL, the built chain is handed back. */
static int verify_path(struct crypto_cred *c, X509 *ee, STACK_OF(X509) * untrusted, bool crls,
		       STACK_OF(X509) * *chain, char *why, size_t wlen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509_CRL) *fetched = NULL;
	int r = SP_EAUTH;

	if (ctx == NULL)
		return SP_ENOMEM;
	if (!X509_STORE_CTX_init(ctx, c->store, ee, untrusted)) {
		r = SP_ECRYPTO;
		goto out;
	}
	X509_STORE_CTX_set_depth(ctx, CHAIN_DEPTH);
	if (crls) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		if (c->revocation == CRYPTO_REV_RELAXED)
			X509_STORE_CTX_set_verify_cb(ctx, verify_relaxed);
		/* The fetched CRLs beside the store's (configured) ones. */
		if ((fetched = sk_X509_CRL_new_null()) == NULL) {
			r = SP_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < CRL_URIS_MAX; i++)
			if (c->uris[i].crl != NULL &&
			    sk_X509_CRL_push(fetched, c->uris[i].crl) <= 0) {
				r = SP_ENOMEM;
				goto out;
			}
		X509_STORE_CTX_set0_crls(ctx, fetched);
	}
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		X509 *at = X509_STORE_CTX_get_current_cert(ctx);
		char subj[200] = "?";

		if (at != NULL)
			name_text(X509_get_subject_name(at), subj, sizeof(subj));
		say(why, wlen, "chain: %s (depth %d, \"%s\")", X509_verify_cert_error_string(e),
		    X509_STORE_CTX_get_error_depth(ctx), subj);
		goto out;
	}
	if (chain != NULL && (*chain = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_CRL_free(fetched); /* the CRLs stay the slots' */
	return r;
}

static struct crl_uri *uri_slot(struct crypto_cred *c, const char *uri)
{
	struct crl_uri *old = &c->uris[0];

	for (size_t i = 0; i < CRL_URIS_MAX; i++) {
		if (c->uris[i].used && strcmp(c->uris[i].uri, uri) == 0)
			return &c->uris[i];
		if (!c->uris[i].used || c->uris[i].fetched < old->fetched)
			old = &c->uris[i];
	}
	X509_CRL_free(old->crl);
	memset(old, 0, sizeof(*old));
	snprintf(old->uri, sizeof(old->uri), "%s", uri);
	old->used = true;
	return old;
}

/* Fetch the CRLs of x's http: distribution points not fetched lately; notes what failed. */
static void fetch_crls(struct crypto_cred *c, sp_time now, X509 *x, char *note, size_t nlen)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);

	for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			STACK_OF(X509_CRL) * crls;
			struct crl_uri *slot;
			char uri[URI_MAX];
			uint8_t *buf = NULL;
			size_t blen = 0;
			BIO *b;
			int r, n;

			if (g->type != GEN_URI || g->d.uniformResourceIdentifier->length <= 7 ||
			    g->d.uniformResourceIdentifier->length >= URI_MAX)
				continue;
			memcpy(uri, g->d.uniformResourceIdentifier->data,
			       (size_t)g->d.uniformResourceIdentifier->length);
			uri[g->d.uniformResourceIdentifier->length] = 0;
			if (strncmp(uri, "http://", 7) != 0)
				continue;
			slot = uri_slot(c, uri);
			if (slot->fetched != 0 && now < slot->fetched + c->crl_refetch)
				continue;
			slot->fetched = now != 0 ? now : 1;
			if ((r = c->crl_fetch(c->crl_fetch_arg, uri, &buf, &blen)) != 0) {
				say(note, nlen, "CRL %s: %s", uri, sp_strerror(r));
				continue;
			}
			if ((crls = sk_X509_CRL_new_null()) == NULL ||
			    (b = BIO_new_mem_buf(buf, (int)SP_MIN(blen, CRYPTO_CRL_MAX))) == NULL) {
				sk_X509_CRL_free(crls);
				free(buf);
				continue;
			}
			/* Parse through the same reader as files: a memory BIO in a stack. */
			n = 0;
			{
				STACK_OF(X509_INFO) *info =
					PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);

				for (int k = 0; info != NULL && k < sk_X509_INFO_num(info); k++) {
					X509_INFO *xi = sk_X509_INFO_value(info, k);

					if (xi->crl != NULL &&
					    sk_X509_CRL_push(crls, xi->crl) > 0) {
						xi->crl = NULL;
						n++;
					}
				}
				sk_X509_INFO_pop_free(info, X509_INFO_free);
			}
			if (n == 0) {
				const unsigned char *p = buf;
				X509_CRL *crl =
					d2i_X509_CRL(NULL, &p, (long)SP_MIN(blen, CRYPTO_CRL_MAX));

				if (crl != NULL && sk_X509_CRL_push(crls, crl) > 0)
					n++;
				else
					X509_CRL_free(crl);
			}
			ERR_clear_error();
			if (n == 0)
				say(note, nlen, "CRL %s: not a CRL (%zu octets)", uri, blen);
			if (n > 0) {
				X509_CRL_free(slot->crl);
				slot->crl =
					sk_X509_CRL_shift(crls); /* a distribution point has one */
			}
			sk_X509_CRL_pop_free(crls, X509_CRL_free);
			BIO_free(b);
			free(buf);
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
}

static bool have_fetched(const struct crypto_cred *c)
{
	for (size_t i = 0; i < CRL_URIS_MAX; i++)
		if (c->uris[i].crl != NULL)
			return true;
	return false;
}

static int check_sig(X509 *x, const uint8_t *octets, size_t len, const uint8_t *auth,
		     size_t auth_len, char *why, size_t wlen)
{
	const struct sig_alg *a = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pk;
	size_t alen;
	int r = SP_EAUTH;

	if (auth_len < 2 || (alen = auth[0]) + 1 >= auth_len) {
		say(why, wlen, "signature: AUTH data too short for RFC 7427");
		return SP_EAUTH;
	}
	for (size_t i = 0; i < SP_NELEM(sig_algs); i++)
		if (sig_algs[i].len == alen && memcmp(sig_algs[i].der, auth + 1, alen) == 0)
			a = &sig_algs[i];
	if (a == NULL) {
		say(why, wlen, "signature: algorithm not supported (RSA or ECDSA with SHA-2 are)");
		return SP_EAUTH;
	}
	if ((pk = X509_get0_pubkey(x)) == NULL || EVP_PKEY_get_base_id(pk) != a->key_type) {
		say(why, wlen, "signature: %s signature, but the certificate's key is not",
		    a->key_type == EVP_PKEY_RSA ? "an RSA" : "an ECDSA");
		goto out;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(mctx, NULL, a->md, NULL, NULL, pk, NULL) != 1 ||
	    EVP_DigestVerify(mctx, auth + 1 + alen, auth_len - 1 - alen, octets, len) != 1) {
		say(why, wlen, "signature: does not verify with the certificate's key");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return r;
}

int crypto_cred_verify_peer(struct crypto_cred *c, sp_time now, const struct crypto_der *certs,
			    size_t ncerts, uint8_t id_type, const uint8_t *id, size_t id_len,
			    const uint8_t *octets, size_t len, const uint8_t *auth, size_t auth_len,
			    char *why, size_t why_len)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *chain = NULL;
	X509 *ee = NULL;
	char note[CRYPTO_WHY_MAX] = "";
	int r = SP_EAUTH;

	say(why, why_len, "%s", "");
	if (untrusted == NULL)
		return SP_ENOMEM;
	if (ncerts == 0) {
		say(why, why_len, "chain: no CERT payload");
		goto out;
	}
	for (size_t i = 0; i < ncerts; i++) {
		const unsigned char *p = certs[i].p;
		X509 *x = d2i_X509(NULL, &p, (long)certs[i].len);

		if (x == NULL || p != certs[i].p + certs[i].len) {
			X509_free(x);
			say(why, why_len, "chain: CERT payload %zu is not a DER certificate",
			    i + 1);
			goto out;
		}
		if (i == 0)
			ee = x;
		else if (sk_X509_push(untrusted, x) <= 0)
			X509_free(x);
	}
	/* RFC 7296 3.6: the others may be the chain's intermediates; so may configured ones. */
	for (int i = 0; i < sk_X509_num(c->inter); i++) {
		X509 *x = sk_X509_value(c->inter, i);

		if (X509_up_ref(x) && sk_X509_push(untrusted, x) <= 0)
			X509_free(x);
	}
	if (c->crl_fetch != NULL) {
		/* Fetch only for a chain our anchors vouch for: no fetches at a stranger's
		 * request. */
		if ((r = verify_path(c, ee, untrusted, false, &chain, why, why_len)) != 0)
			goto out;
		for (int i = 0; i + 1 < sk_X509_num(chain); i++)
			fetch_crls(c, now, sk_X509_value(chain, i), note, sizeof(note));
	}
	if ((r = verify_path(c, ee, untrusted,
			     c->n_crls > 0 || have_fetched(c) || c->revocation == CRYPTO_REV_STRICT,
			     NULL, why, why_len)) != 0) {
		if (note[0] != 0 && why != NULL) {
			size_t l = strlen(why);

			snprintf(why + l, why_len - l, "; %s", note);
		}
		goto out;
	}
	if ((r = check_id(ee, id_type, id, id_len, why, why_len)) != 0 ||
	    (r = check_sig(ee, octets, len, auth, auth_len, why, why_len)) != 0)
		goto out;
	say(why, why_len, "%s", note); /* what went wrong along the way, if anything */
	r = 0;
out:
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(ee);
	return r == 0 ? 0 : r == SP_ENOMEM ? r : SP_EAUTH;
}
