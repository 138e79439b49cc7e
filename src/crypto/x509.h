/*
 * Certificates and signatures for IKEv2 authentication: an own certificate and private key
 * (RSA or ECDSA), a trust anchor, verification of the peer's end-entity certificate against
 * it, the identity check of RFC 7296 3.5 / RFC 4945 3.1 (subjectAltName iPAddress or
 * dNSName), and the Digital Signature authentication data of RFC 7427 3: one length octet,
 * the DER AlgorithmIdentifier, the signature (sha256WithRSAEncryption, ecdsa-with-SHA256).
 */
#ifndef SP_CRYPTO_X509_H
#define SP_CRYPTO_X509_H

#include "base/sp.h"

#define CRYPTO_SIG_MAX 1024 /* RFC 7427 AUTH data for keys up to 4096-bit RSA */

struct crypto_cred;

/* PEM files: own certificate, own private key, trust anchor (CA certificate). Errors:
 * SP_ENOTFOUND, SP_EPERM (a file cannot be opened), SP_EMALFORMED (not PEM), SP_EINVAL
 * (the key is not the certificate's), SP_EUNSUPP (neither RSA nor EC). */
int crypto_cred_load(const char *cert, const char *key, const char *ca,
		     struct crypto_cred **out) SP_MUST_CHECK;
void crypto_cred_free(struct crypto_cred *c);

/* The own certificate, DER, for the CERT payload. */
void crypto_cred_cert_der(const struct crypto_cred *c, const uint8_t **der, size_t *len);
/* SHA-1 of the trust anchor's subjectPublicKeyInfo, for CERTREQ (RFC 7296 3.7). */
const uint8_t *crypto_cred_ca_keyid(const struct crypto_cred *c);

/* RFC 7427 3 AUTH data over octets (SHA-256), into out (CRYPTO_SIG_MAX bytes). */
int crypto_cred_sign(const struct crypto_cred *c, const uint8_t *octets, size_t len, uint8_t *out,
		     size_t *out_len) SP_MUST_CHECK;

/*
 * Verify the peer: cert (DER) must chain to c's trust anchor, carry the identity (IKEv2 ID
 * type and data: IPv4 address or FQDN in subjectAltName; key ID is never a certificate
 * identity), and its key must have made auth (RFC 7427 3 format) over octets. SP_EAUTH
 * when anything does not hold.
 */
int crypto_cred_verify(const struct crypto_cred *c, const uint8_t *cert, size_t cert_len,
		       uint8_t id_type, const uint8_t *id, size_t id_len, const uint8_t *octets,
		       size_t len, const uint8_t *auth, size_t auth_len) SP_MUST_CHECK;

#endif
