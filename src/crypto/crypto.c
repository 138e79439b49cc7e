#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdlib.h>

static long n_alloc;

bool crypto_memeq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int crypto_sha1(const void *in, size_t n, uint8_t out[20])
{
	unsigned len = 0;

	return EVP_Digest(in, n, out, &len, EVP_sha1(), NULL) && len == 20 ? 0 : SP_EIO;
}

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	n_alloc++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

bool crypto_alloc_count_start(void)
{
	return CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;
}

long crypto_alloc_count(void)
{
	return n_alloc;
}
