/*
 * spinat's cryptography: a thin layer over OpenSSL libcrypto (3.0). Every context is keyed
 * once (per SA, per IKE SA direction) so that the packet path only sets an IV and runs, and
 * allocates nothing. This header holds the helpers all users of keys need.
 */
#ifndef SP_CRYPTO_CRYPTO_H
#define SP_CRYPTO_CRYPTO_H

#include "base/sp.h"

/* Directions a context is prepared for (a bit mask at creation). */
enum crypto_dir {
	CRYPTO_ENC = 1,
	CRYPTO_DEC = 2,
	CRYPTO_BOTH = 3,
};

/* Constant-time equality of two byte strings (CRYPTO_memcmp): true when equal. */
bool crypto_memeq(const void *a, const void *b, size_t n);

/* Wipe key material so it does not linger in freed memory (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

/* SHA-1 of n bytes (RFC 7296 2.23's NAT detection hashes); SP_EIO on a library failure. */
int crypto_sha1(const void *in, size_t n, uint8_t out[20]) SP_MUST_CHECK;

/*
 * Read a secret (a PSK) from a file into buf (cap octets), without a trailing newline.
 * Every copy on the way is wiped. Errors name the file and what is wrong in err:
 * SP_ENOTFOUND "not found", SP_EPERM "permission denied", SP_EINVAL "empty" or "not a
 * regular file", SP_ENOSPACE "longer than N octets".
 */
int crypto_secret_read(const char *path, uint8_t *buf, size_t cap, size_t *len, char *err,
		       size_t err_len) SP_MUST_CHECK;

/* Count libcrypto's allocations from now on, so tests and benchmarks can show that the
 * packet path allocates nothing. Only possible before libcrypto's first allocation: false
 * when too late. */
bool crypto_alloc_count_start(void);

/* libcrypto allocations (malloc and realloc) since crypto_alloc_count_start(). */
long crypto_alloc_count(void);

#endif
