/*
 * Issuing X.509 certificates and CRLs (RFC 5280) for the Local Certificate Authority of
 * 002: a root, a subordinate CA for a router restricted by name constraints to the
 * router's global address (RFC 5280 4.2.1.10, iPAddress permitted subtree /32), and
 * end-entity certificates that bind a host's public key to that address
 * (subjectAltName iPAddress) and to its block of locally unique ports (a private,
 * non-critical extension, CRYPTO_OID_PORT_BLOCK). Keys are ECDSA P-256, signatures
 * ecdsa-with-SHA256. Times are Unix seconds handed in by the caller (no clock here).
 */
#ifndef SP_CRYPTO_X509_ISSUE_H
#define SP_CRYPTO_X509_ISSUE_H

#include "base/sp.h"

/*
 * The port block extension: OID 2.25.<UUID 1a18a94a-4d60-443f-bba1-3a8f6c516f50 as an
 * integer> (ITU-T X.667 UUID arc, no registration needed), value
 *   DnatPortBlock ::= SEQUENCE { lowestPort INTEGER (1..65535), numberOfPorts INTEGER (1..65535) }
 * The certificate's holder may use ports lowestPort .. lowestPort + numberOfPorts - 1 of
 * the subjectAltName address (002 "binding between a public encryption key and a
 * combination of a common external network address ... and the one or more locally
 * unique ports").
 */
#define CRYPTO_OID_PORT_BLOCK "2.25.34687976629066416677958782903081070416"

struct crypto_ca;

/* A new ECDSA P-256 private key as PEM (PKCS #8), NUL-terminated; free with
 * crypto_pem_free(), which wipes it. */
int crypto_key_new_pem(char **pem) SP_MUST_CHECK;
void crypto_pem_free(char *pem);
/* The DER SubjectPublicKeyInfo of a PEM private or public key; free with free(). */
int crypto_key_spki(const char *pem, uint8_t **der, size_t *len) SP_MUST_CHECK;

/* A self-signed root CA named cn, valid from now for days. */
int crypto_ca_new_root(const char *cn, int64_t now, uint32_t days,
		       struct crypto_ca **out) SP_MUST_CHECK;
/* A CA for the router with global address ip (host order), issued by issuer: name
 * constraints permit iPAddress ip/32 only, pathLenConstraint 0, SAN iPAddress ip. */
int crypto_ca_new_lca(const struct crypto_ca *issuer, uint32_t ip, uint64_t serial, int64_t now,
		      uint32_t days, struct crypto_ca **out) SP_MUST_CHECK;
/* A CA from PEM files (certificate, private key). */
int crypto_ca_load(const char *cert_path, const char *key_path,
		   struct crypto_ca **out) SP_MUST_CHECK;
/* Write the certificate and key as PEM files (the key file mode 0600). */
int crypto_ca_write(const struct crypto_ca *ca, const char *cert_path,
		    const char *key_path) SP_MUST_CHECK;
void crypto_ca_free(struct crypto_ca *ca);
void crypto_ca_cert_der(const struct crypto_ca *ca, const uint8_t **der, size_t *len);

/* What an end-entity certificate says. port_count 0: no port block extension. */
struct crypto_ee_profile {
	uint32_t ip; /* subjectAltName iPAddress, host order */
	uint16_t port_lowest;
	uint16_t port_count;
	uint64_t serial;
	int64_t not_before, not_after;
};

/* Issue a certificate for the key in spki (DER SubjectPublicKeyInfo); *der is malloc'd. */
int crypto_ca_issue(const struct crypto_ca *ca, const uint8_t *spki, size_t spki_len,
		    const struct crypto_ee_profile *p, uint8_t **der, size_t *len) SP_MUST_CHECK;

struct crypto_revoked {
	uint64_t serial;
	int64_t when;
};

/* A CRL (RFC 5280 5) listing n revoked serials; *der is malloc'd. */
int crypto_ca_crl(const struct crypto_ca *ca, const struct crypto_revoked *r, unsigned n,
		  uint64_t number, int64_t this_update, int64_t next_update, uint8_t **der,
		  size_t *len) SP_MUST_CHECK;

/* Write DER as PEM of the given label ("CERTIFICATE", "X509 CRL"). */
int crypto_der_write_pem(const char *path, const char *label, const uint8_t *der,
			 size_t len) SP_MUST_CHECK;

/* The port block of a certificate (DER): SP_ENOTFOUND without the extension,
 * SP_EMALFORMED when its value is not a DnatPortBlock. */
int crypto_cert_port_block(const uint8_t *der, size_t len, uint16_t *lowest,
			   uint16_t *count) SP_MUST_CHECK;

#endif
