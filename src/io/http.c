/* HTTP/1.0 GET with a deadline, for CRL distribution points. */
#include "io/http.h"

#include "io/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_HOST_MAX 256
#define HTTP_PATH_MAX 1024
#define HTTP_HEAD_MAX 8192 /* status line and headers */

static int parse_url(const char *url, char *host, char *port, char *path)
{
	const char *h, *p, *s;
	size_t hl;

	if (strncmp(url, "http://", 7) != 0)
		return SP_EINVAL;
	h = url + 7;
	s = strchr(h, '/');
	if (s == NULL)
		s = h + strlen(h);
	p = memchr(h, ':', (size_t)(s - h));
	hl = (size_t)((p != NULL ? p : s) - h);
	if (hl == 0 || hl >= HTTP_HOST_MAX || strlen(s) >= HTTP_PATH_MAX)
		return SP_EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	if (p != NULL) {
		size_t pl = (size_t)(s - p - 1);

		if (pl == 0 || pl > 5 || strspn(p + 1, "0123456789") < pl)
			return SP_EINVAL;
		memcpy(port, p + 1, pl);
		port[pl] = 0;
	} else {
		strcpy(port, "80");
	}
	strcpy(path, *s != 0 ? s : "/");
	return 0;
}

/* Wait for events on fd until the deadline: 0, or SP_ETIMEOUT. */
static int wait_fd(int fd, short events, sp_time deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	sp_time now;
	int n;

	for (;;) {
		if ((now = io_now()) >= deadline)
			return SP_ETIMEOUT;
		n = poll(&pfd, 1, (int)SP_MAX((deadline - now) / SP_MSEC(1), 1));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return SP_EIO;
	}
}

static int say(char *err, size_t len, int r, const char *fmt, ...) SP_PRINTF(4, 5);

static int say(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return r;
}

int io_http_get(const char *url, sp_time timeout, size_t max, uint8_t **body, size_t *len,
		char *err, size_t err_len)
{
	char host[HTTP_HOST_MAX], port[8], path[HTTP_PATH_MAX], req[HTTP_PATH_MAX + 400];
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	sp_time deadline = io_now() + timeout;
	uint8_t *buf = NULL;
	size_t used = 0, cap = HTTP_HEAD_MAX + max;
	int fd = -1, r, e, status = 0, reqlen;
	socklen_t elen = sizeof(e);
	char *hdr_end, *sp;

	*body = NULL;
	*len = 0;
	if (parse_url(url, host, port, path) != 0)
		return say(err, err_len, SP_EINVAL, "%s: not an http://host[:port]/path URL", url);
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		return say(err, err_len, SP_ENOTFOUND, "host %s unknown", host);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		r = say(err, err_len, SP_EIO, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		r = say(err, err_len, SP_EIO, "connect: %s", strerror(errno));
		goto out;
	}
	if ((r = wait_fd(fd, POLLOUT, deadline)) != 0) {
		say(err, err_len, r, "%s",
		    r == SP_ETIMEOUT ? "no connection in time" : "poll failed");
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0 || e != 0) {
		r = say(err, err_len, SP_EIO, "connect: %s", strerror(e != 0 ? e : errno));
		goto out;
	}
	reqlen = snprintf(req, sizeof(req),
			  "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: spinat\r\nConnection: close"
			  "\r\n\r\n",
			  path, host);
	if (send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
		r = say(err, err_len, SP_EIO, "sending the request: %s", strerror(errno));
		goto out;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		r = SP_ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLIN, deadline)) != 0) {
			say(err, err_len, r, "%s",
			    r == SP_ETIMEOUT ? "no answer in time" : "poll failed");
			goto out;
		}
		if ((n = recv(fd, buf + used, cap + 1 - used, 0)) == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			r = say(err, err_len, SP_EIO, "receiving: %s", strerror(errno));
			goto out;
		}
		used += (size_t)n;
		if (used > cap) {
			r = say(err, err_len, SP_ENOSPACE, "%s", "answer larger than the cap");
			goto out;
		}
	}
	buf[used] = 0;
	if (used < 12 || strncmp((char *)buf, "HTTP/1.", 7) != 0 ||
	    (hdr_end = strstr((char *)buf, "\r\n\r\n")) == NULL) {
		r = say(err, err_len, SP_EIO, "%s", "not an HTTP answer");
		goto out;
	}
	status = atoi((char *)buf + 9);
	if (status != 200) {
		char line[80];

		if ((sp = strstr((char *)buf, "\r\n")) != NULL)
			*sp = 0;
		snprintf(line, sizeof(line), "%s", (char *)buf + 9);
		r = say(err, err_len, SP_EIO, "HTTP %s", line);
		goto out;
	}
	hdr_end += 4;
	*len = used - (size_t)((uint8_t *)hdr_end - buf);
	if (*len > max) {
		*len = 0;
		r = say(err, err_len, SP_ENOSPACE, "%s", "body larger than the cap");
		goto out;
	}
	memmove(buf, hdr_end, *len);
	*body = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	return r;
}
