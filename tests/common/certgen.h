/*
 * Test certificates made at run time and written as PEM: CAs (root or intermediate, with
 * X.509 name constraints if asked), end entities with subjectAltName iPAddress, dNSName,
 * rfc822Name, a subject DN and a CRL distribution point, RSA-2048 or ECDSA P-256; CRLs
 * revoking some of them; chains through an intermediate CA; and a temporary folder for
 * them.
 */
#ifndef SP_TESTS_CERTGEN_H
#define SP_TESTS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>

struct certgen_opts {
	const char
		*issuer; /* the CA's name in the folder (NAME.pem, NAME.key); NULL: self-signed */
	const char *subject; /* "C=CH, O=spinat, CN=a" (crypto_dn_parse's form); NULL: CN=NAME */
	bool ca;
	bool rsa;
	const char *ip, *dns, *email; /* subjectAltName entries, each may be NULL */
	const char *crl_uri;	      /* a CRL distribution point, or NULL */
	/* nameConstraints in OpenSSL's config syntax ("permitted;DNS:.example"), or NULL */
	const char *name_constraints;
	int days; /* validity from an hour ago; 0: a year; negative: expired that long ago */
};

/* Write DIR/NAME.pem and DIR/NAME.key. 0 on success. */
int certgen(const char *dir, const char *name, const struct certgen_opts *o);
/* Write DIR/NAME.crl (PEM) and DIR/NAME.crl.der: CA's CRL revoking the n certificates
 * DIR/revoked[i].pem. */
int certgen_crl(const char *dir, const char *ca, const char *name, const char *const *revoked,
		size_t n);

/* Shorthands: a self-signed CA (ECDSA unless rsa); an end entity signed by DIR/CA with SAN
 * IP:ip and DNS:dns (either may be NULL). */
int certgen_ca(const char *dir, const char *name, bool rsa);
int certgen_ee(const char *dir, const char *ca, const char *name, bool rsa, const char *ip,
	       const char *dns);

/* An end entity of certgen_chain: DIR/NAME.pem and .key with the options o (its issuer and
 * CRL distribution point are the chain's), on the intermediate's CRL when revoked. */
struct certgen_peer {
	const char *name;
	struct certgen_opts o;
	bool revoked;
};

/* A chain through an intermediate CA: DIR/inter.pem and .key, a CA with the options inter
 * (NULL: subject CN=inter) issued by the CA DIR/ROOT, and under it the n peers, each
 * naming crl_uri (unless NULL) as its CRL distribution point; when a peer is revoked,
 * inter's CRL revoking those that are: DIR/inter.crl and inter.crl.der. 0 on success. */
int certgen_chain(const char *dir, const char *root, const struct certgen_opts *inter,
		  const char *crl_uri, const struct certgen_peer *peers, size_t n);

/* A fresh folder for a test program's certificates, $TMPDIR (or /tmp)/spinat-TAG.XXXXXX,
 * its path in dir (len octets); and its removal with all in it. 0 on success. */
int certgen_dir(char *dir, size_t len, const char *tag);
int certgen_dir_remove(const char *dir);

#endif
