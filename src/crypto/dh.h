/*
 * Diffie-Hellman key exchange for IKEv2 (RFC 7296 2.14, 3.4): MODP-2048 (group 14,
 * RFC 3526 3), ECP-256, -384 and -521 (groups 19-21, RFC 5903) and Curve25519 (group 31,
 * RFC 8031). The
 * private key is made from bytes of the caller's struct sp_rng, so the simulator's seeded
 * runs repeat exactly; public values and shared secrets use the wire encodings of the KE
 * payload (RFC 5903 7: x | y, shared secret x only; RFC 8031 2: 32-byte u).
 */
#ifndef SP_CRYPTO_DH_H
#define SP_CRYPTO_DH_H

#include "base/rand.h"
#include "base/sp.h"

/* Transform Type 4 IDs (IANA "Transform Type 4 - Key Exchange Method Transform IDs"). */
#define CRYPTO_DH_MODP2048 14
#define CRYPTO_DH_ECP256   19
#define CRYPTO_DH_ECP384   20
#define CRYPTO_DH_ECP521   21
#define CRYPTO_DH_X25519   31

#define CRYPTO_DH_PUB_MAX    256 /* MODP-2048 */
#define CRYPTO_DH_SECRET_MAX 256

struct crypto_dh;

/* True for the groups above. */
bool crypto_dh_supported(uint16_t group);
/* Bytes of the public value in a KE payload (0 for an unknown group). */
size_t crypto_dh_pub_len(uint16_t group);
/* Bytes of the shared secret g^ir. */
size_t crypto_dh_secret_len(uint16_t group);
/* Short name for logs and `show sa` ("modp2048", "ecp256", "ecp384", "curve25519"). */
const char *crypto_dh_name(uint16_t group);

/* A fresh key pair whose private key is drawn from rng. */
int crypto_dh_new(uint16_t group, struct sp_rng *rng, struct crypto_dh **out) SP_MUST_CHECK;
/*
 * A key pair from a given private key (known-answer tests): the big-endian exponent or
 * scalar for MODP and ECP, the 32-byte scalar for Curve25519.
 */
int crypto_dh_new_priv(uint16_t group, const uint8_t *priv, size_t len,
		       struct crypto_dh **out) SP_MUST_CHECK;
void crypto_dh_free(struct crypto_dh *dh);

uint16_t crypto_dh_group(const struct crypto_dh *dh);
/* The public value; valid while dh lives; crypto_dh_pub_len() bytes. */
const uint8_t *crypto_dh_pub(const struct crypto_dh *dh);

/*
 * Shared secret with the peer's public value (exactly crypto_dh_pub_len() bytes) into
 * secret (crypto_dh_secret_len() bytes). Public values outside the group (RFC 6989: MODP
 * 1 < y < p-1; ECP point not on the curve) and an all-zero X25519 result (RFC 8031 2.3)
 * are SP_EINVAL.
 */
int crypto_dh_derive(const struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *secret, size_t secret_len) SP_MUST_CHECK;

#endif
