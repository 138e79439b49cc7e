/* The low-level MD5 API (deprecated in OpenSSL 3.0, still in libcrypto) hashes on a stack
 * context without allocating, as hmac.c does. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/digest.h"

#include <openssl/crypto.h>
#include <openssl/md5.h>

void crypto_md5(const struct crypto_piece *pieces, size_t n, uint8_t out[CRYPTO_MD5_LEN])
{
	MD5_CTX ctx;

	MD5_Init(&ctx);
	for (size_t i = 0; i < n; i++)
		if (pieces[i].len > 0)
			MD5_Update(&ctx, pieces[i].p, pieces[i].len);
	MD5_Final(out, &ctx);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}
