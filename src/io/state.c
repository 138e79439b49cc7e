#include "io/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_counter(const char *path, uint64_t *v)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	*v = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : SP_EIO;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return SP_EMALFORMED;
	buf[n] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0'))
		return SP_EMALFORMED;
	return 0;
}

static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (copy == NULL)
		return SP_ENOMEM;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		r = SP_EIO;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int io_state_bump(const char *path, uint64_t *out)
{
	char tmp[4096], text[32];
	uint64_t v;
	int fd = -1, r, len;

	if ((r = read_counter(path, &v)) != 0)
		return r;
	if (v == UINT64_MAX)
		return SP_EINVAL;
	v++;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return SP_EINVAL;
	len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)v);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		r = SP_EIO;
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0 || (r = sync_dir(path)) != 0) {
		r = SP_EIO;
		goto out;
	}
	*out = v;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	return r;
}
