/*
 * Test certificates made at run time: a CA and end-entity certificates with
 * subjectAltName iPAddress and dNSName, RSA-2048 or ECDSA P-256, written as PEM.
 */
#ifndef SP_TESTS_CERTGEN_H
#define SP_TESTS_CERTGEN_H

#include <stdbool.h>

/* Write DIR/ca.pem and DIR/ca.key (ECDSA unless rsa). 0 on success. */
int certgen_ca(const char *dir, const char *name, bool rsa);
/* Write DIR/NAME.pem and DIR/NAME.key signed by DIR/CA.pem/.key, with SAN IP:ip (dotted)
 * and DNS:dns (either may be NULL). */
int certgen_ee(const char *dir, const char *ca, const char *name, bool rsa, const char *ip,
	       const char *dns);

#endif
