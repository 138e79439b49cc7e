/*
 * Test certificates made at run time and written as PEM: CAs (root or intermediate, with
 * X.509 name constraints if asked), end entities with subjectAltName iPAddress, dNSName,
 * rfc822Name, a subject DN and a CRL distribution point, RSA-2048 or ECDSA P-256; and CRLs
 * revoking some of them.
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

#endif
