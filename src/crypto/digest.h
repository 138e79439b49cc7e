/*
 * One-shot message digests over a message in pieces, for protocols that hash a short
 * concatenation once per handshake (CHAP, RFC 1994 4.1; L2TP tunnel authentication, RFC
 * 2661 5.1.1). Not for the packet path: HMAC contexts (crypto/hmac.h) are.
 */
#ifndef SP_CRYPTO_DIGEST_H
#define SP_CRYPTO_DIGEST_H

#include "crypto/crypto.h"

#define CRYPTO_MD5_LEN 16

/* One piece of a message. */
struct crypto_piece {
	const void *p;
	size_t len;
};

/* MD5 (RFC 1321) of the n pieces concatenated, into out (16 octets). */
void crypto_md5(const struct crypto_piece *pieces, size_t n, uint8_t out[CRYPTO_MD5_LEN]);

#endif
