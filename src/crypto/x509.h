/*
 * Certificates and signatures for IKEv2 authentication: an own certificate, its private key
 * (RSA or ECDSA) and the intermediates that chain it; trust anchors, untrusted
 * intermediates and CRLs (PEM or DER files, or folders of them) to verify the peer's chain
 * with (RFC 5280 6: path validation, name constraints and revocation by OpenSSL's
 * verifier); the identity check of RFC 7296 3.5 / RFC 4945 3.1 (subjectAltName iPAddress,
 * dNSName, rfc822Name; the subject for ID_DER_ASN1_DN); and the Digital Signature
 * authentication data of RFC 7427 3: one length octet, the DER AlgorithmIdentifier, the
 * signature (sha256WithRSAEncryption, ecdsa-with-SHA256).
 */
#ifndef SP_CRYPTO_X509_H
#define SP_CRYPTO_X509_H

#include "base/sp.h"
#include "base/time.h"

#define CRYPTO_SIG_MAX	     1024	/* RFC 7427 AUTH data for keys up to 4096-bit RSA */
#define CRYPTO_CERT_CHAIN    4		/* own certificates sent: end entity and intermediates */
#define CRYPTO_CA_KEYIDS_MAX 16		/* trust anchors named in CERTREQ */
#define CRYPTO_WHY_MAX	     256	/* room for a failure's explanation */
#define CRYPTO_DN_MAX	     255	/* DER distinguished names, as IKE identities carry them */
#define CRYPTO_CRL_MAX	     (1u << 20) /* a fetched CRL larger than this is refused */

struct crypto_cred;

/* A DER object handed in (a CERT payload's data). */
struct crypto_der {
	const uint8_t *p;
	size_t len;
};

/* Revocation checking (RFC 5280 6.3) when CRLs are configured or fetched. */
enum crypto_revocation {
	CRYPTO_REV_RELAXED, /* refuse a revoked certificate; no CRL at hand is no failure */
	CRYPTO_REV_STRICT,  /* refuse also a certificate whose issuer's CRL is missing */
};

/*
 * Fetches a CRL from a certificate's distribution point (an http: URI): the owner's I/O,
 * called by crypto_cred_verify_peer() after the chain verified without revocation data (so only
 * certificates our trust anchors issued cause fetches). Returns 0 with a malloc'd buffer
 * (DER or PEM, at most CRYPTO_CRL_MAX octets) in *crl, or a negative SP_E* code.
 */
typedef int (*crypto_crl_fetch_fn)(void *arg, const char *uri, uint8_t **crl, size_t *len);

/* Where one connection's credentials come from; only cert, key and ca are required. */
struct crypto_cred_paths {
	const char *cert; /* own certificate (PEM), optionally followed by its intermediates */
	const char *key;  /* its private key (PEM) */
	const char *ca;	  /* trust anchors: PEM file or folder */
	const char *intermediates; /* untrusted CA certificates: file or folder, or NULL */
	const char *crl;	   /* CRLs (PEM or DER): file or folder, or NULL */
	enum crypto_revocation revocation;
	crypto_crl_fetch_fn crl_fetch; /* NULL: no fetching */
	void *crl_fetch_arg;
	sp_time crl_refetch; /* the least time between two fetches of one URI */
};

/*
 * Load and check the credentials: every file readable, the key the certificate's, at least
 * one trust anchor. On failure, err (CRYPTO_WHY_MAX) says which file and what is wrong
 * ("not found", "permission denied", "no PEM certificate in it", ...).
 */
int crypto_cred_open(const struct crypto_cred_paths *p, struct crypto_cred **out, char *err,
		     size_t err_len) SP_MUST_CHECK;
void crypto_cred_free(struct crypto_cred *c);

/* The i-th certificate of our chain (0: ours), DER, for CERT payloads; SP_ENOTFOUND past
 * the end. Intermediates come from the cert file and the intermediates that issued it. */
int crypto_cred_chain_der(const struct crypto_cred *c, size_t i, const uint8_t **der,
			  size_t *len) SP_MUST_CHECK;
/* SHA-1 hashes of the trust anchors' subjectPublicKeyInfo, concatenated, for CERTREQ
 * (RFC 7296 3.7). */
void crypto_cred_ca_keyids(const struct crypto_cred *c, const uint8_t **ids, size_t *len);
/* Our certificate's subject (DER), for ID_DER_ASN1_DN. */
void crypto_cred_subject_der(const struct crypto_cred *c, const uint8_t **der, size_t *len);

/* RFC 7427 3 AUTH data over octets (SHA-256), into out (CRYPTO_SIG_MAX bytes). */
int crypto_cred_sign(const struct crypto_cred *c, const uint8_t *octets, size_t len, uint8_t *out,
		     size_t *out_len) SP_MUST_CHECK;

/*
 * Verify the peer: certs[0] (the end entity, RFC 7296 3.6) must chain to one of
 * c's trust anchors, with the other certs and the configured intermediates offered as
 * untrusted intermediates, name constraints and revocation checked; it must carry the
 * identity (IKEv2 ID type and data: IPv4 address, FQDN, RFC 822 address in subjectAltName,
 * or a DER DN equal to its subject; a key ID is never a certificate identity); and its key
 * must have made auth (RFC 7427 3 format) over octets. SP_EAUTH when anything does not
 * hold, with why (CRYPTO_WHY_MAX) naming the check and the reason. now (the caller's clock)
 * only paces CRL fetches; validity periods are checked by OpenSSL against the system's
 * calendar time, as certificates require.
 */
int crypto_cred_verify_peer(struct crypto_cred *c, sp_time now, const struct crypto_der *certs,
			    size_t ncerts, uint8_t id_type, const uint8_t *id, size_t id_len,
			    const uint8_t *octets, size_t len, const uint8_t *auth, size_t auth_len,
			    char *why, size_t why_len) SP_MUST_CHECK;

/*
 * Distinguished names (ID_DER_ASN1_DN, RFC 4945 3.1.5). crypto_dn_parse turns text in
 * the form "C=CH, O=Example, CN=host" (or "/C=CH/O=Example/CN=host") into DER;
 * crypto_dn_equal compares two DER names in OpenSSL's canonical form (case and runs of
 * spaces in string values do not matter, string types do not); crypto_dn_format writes
 * one as text ("C=CH, O=Example, CN=host").
 */
int crypto_dn_parse(const char *text, uint8_t *der, size_t cap, size_t *len) SP_MUST_CHECK;
bool crypto_dn_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
void crypto_dn_format(const uint8_t *der, size_t len, char *out, size_t cap);

#endif
