#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int crypto_secret_read(const char *path, uint8_t *buf, size_t cap, size_t *len, char *err,
		       size_t err_len)
{
	struct stat st;
	size_t n = 0;
	ssize_t got;
	int fd, r = 0;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;

		snprintf(err, err_len, "%s: %s", path,
			 e == ENOENT		     ? "not found"
			 : e == EACCES || e == EPERM ? "permission denied"
						     : strerror(e));
		return e == ENOENT ? SP_ENOTFOUND : e == EACCES || e == EPERM ? SP_EPERM : SP_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", path);
		close(fd);
		return SP_EINVAL;
	}
	while (n < cap && (got = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)got;
	/* One octet more tells an over-long secret from one that fills buf. */
	if (n == cap) {
		uint8_t extra;

		if (read(fd, &extra, 1) == 1) {
			crypto_wipe(&extra, 1);
			r = SP_ENOSPACE;
		}
	}
	close(fd);
	if (r == 0 && n > 0 && buf[n - 1] == '\n')
		n--;
	if (r == 0 && n > 0 && buf[n - 1] == '\r')
		n--;
	if (r != 0 || n == 0) {
		crypto_wipe(buf, cap);
		if (r == SP_ENOSPACE)
			snprintf(err, err_len, "%s: longer than %zu octets", path, cap);
		else
			snprintf(err, err_len, "%s: empty", path);
		return r != 0 ? r : SP_EINVAL;
	}
	*len = n;
	return 0;
}
