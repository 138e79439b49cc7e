/*
 * A small HTTP/1.0 client for what the daemons fetch themselves, CRLs from a certificate's
 * distribution point (RFC 5280 4.2.1.13): one GET of an http:// URL, over IPv4, under a
 * deadline and a size cap. It blocks its caller for at most the timeout.
 */
#ifndef SP_IO_HTTP_H
#define SP_IO_HTTP_H

#include "base/sp.h"
#include "base/time.h"

/*
 * GET url ("http://host[:port]/path"): 0 with a malloc'd body of at most max octets in
 * *body, or SP_EINVAL (not such a URL), SP_ENOTFOUND (host unknown), SP_EIO (no connection,
 * not HTTP, a status other than 200), SP_ETIMEOUT, SP_ENOSPACE (body longer than max);
 * err (err_len) says it in words ("HTTP 404 Not Found", "connection refused", ...).
 */
int io_http_get(const char *url, sp_time timeout, size_t max, uint8_t **body, size_t *len,
		char *err, size_t err_len) SP_MUST_CHECK;

#endif
