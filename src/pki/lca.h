/*
 * The router as Local Certificate Authority (002 FIGS. 22-23, Method 312): it issues a
 * host an X.509 certificate binding the host's public key to the router's global address
 * and the host's block of locally unique ports, keeps the list of every certificate it
 * issued, says which ports a valid certificate still binds (so the router never
 * de-allocates them, 002 "as long as the security certificates with bindings to these
 * DNAT ports are still valid"), revokes, and publishes the CRL. The LCA's own
 * certificate is issued by a higher CA and name-constrained to the global address
 * (crypto/x509_issue.h has the certificate profile). Times are Unix seconds from the
 * caller; nothing here reads a clock.
 */
#ifndef SP_PKI_LCA_H
#define SP_PKI_LCA_H

#include "base/counter.h"
#include "base/sp.h"
#include "crypto/x509_issue.h"

#include <stdio.h>

#define LCA_CERTS_MAX 4096 /* certificates remembered (valid, or revoked and unexpired) */
#define LCA_HOST_MAX  8	   /* valid certificates per host */

struct lca_conf {
	uint32_t global;  /* the router's global address, host order */
	int64_t lifetime; /* of an issued certificate, seconds */
	int64_t crl_next; /* a CRL's nextUpdate after its thisUpdate, seconds */
};

struct lca_cert {
	uint64_t serial;
	uint32_t host; /* the internal address it was issued to */
	uint16_t lowest, count;
	int64_t not_before, not_after;
	int64_t revoked_at;
	bool revoked;
};

#define foreach_lca_ctr(_)                          \
	_(ISSUED, "lca_issued")                     \
	_(REVOKED, "lca_revoked")                   \
	_(PRUNED, "lca_pruned_expired")             \
	_(CRLS, "lca_crls_published")               \
	_(REFUSED_HOST_MAX, "lca_refused_host_max") \
	_(REFUSED_FULL, "lca_refused_full")         \
	_(REFUSED_BAD, "lca_refused_bad_request")

enum lca_ctr {
#define _(sym, str) LCA_CTR_##sym,
	foreach_lca_ctr(_)
#undef _
		LCA_CTR_N
};
extern const char *const lca_ctr_names[];

struct lca {
	struct crypto_ca *ca;
	struct lca_conf c;
	struct lca_cert *certs;
	unsigned n;
	uint64_t next_serial;
	uint64_t crl_number;
	uint64_t ctr[LCA_CTR_N];
};

/* The documented defaults: 002's global address 198.10.20.30, one day, one hour. */
void lca_conf_defaults(struct lca_conf *c);
/* An LCA signing with ca (consumed, also on failure). */
int lca_new(struct lca **out, struct crypto_ca *ca, const struct lca_conf *c) SP_MUST_CHECK;
void lca_free(struct lca *l);

/*
 * Issue host a certificate for the key spki (DER SubjectPublicKeyInfo) binding the
 * global address and ports lowest .. lowest + count - 1, valid from now for
 * conf.lifetime. The caller has checked that host holds those ports (the NAT's block
 * table). *der is malloc'd; *serial names the certificate.
 */
int lca_issue(struct lca *l, int64_t now, uint32_t host, uint16_t lowest, uint16_t count,
	      const uint8_t *spki, size_t spki_len, uint8_t **der, size_t *der_len,
	      uint64_t *serial) SP_MUST_CHECK;

/* Whether a valid (begun, unexpired, unrevoked) certificate of host binds port. */
bool lca_port_bound(const struct lca *l, int64_t now, uint32_t host, uint16_t port);
/* Revoke one certificate: SP_ENOTFOUND, or SP_ESTATE when already revoked. */
int lca_revoke(struct lca *l, int64_t now, uint64_t serial) SP_MUST_CHECK;
/* Revoke every valid certificate of host binding port; returns how many. */
unsigned lca_revoke_port(struct lca *l, int64_t now, uint32_t host, uint16_t port);
/* The CRL as of now: every revoked certificate not yet expired. *der is malloc'd. */
int lca_crl(struct lca *l, int64_t now, uint8_t **der, size_t *len) SP_MUST_CHECK;

/* The issued list, one line per certificate. */
void lca_show(const struct lca *l, int64_t now, FILE *f);

#endif
