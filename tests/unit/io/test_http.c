/*
 * io/http: the GET that fetches CRLs, against a server on loopback in a child process:
 * the body of a 200, a 404 named, a server that never answers (the deadline holds), a
 * body over the cap, a refused connection, and URLs that are not http://host[:port]/path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/http.h"
#include "io/loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A one-connection server on 127.0.0.1: answers with `answer` (NULL: says nothing). */
static pid_t serve(const char *answer, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t sl = sizeof(sin);
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	assert_true(ls >= 0);
	assert_int_equal(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		char req[2048];
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			_exit(1);
		if (recv(c, req, sizeof(req), 0) <= 0)
			_exit(1);
		if (answer == NULL)
			pause();
		(void)!send(c, answer, strlen(answer), 0);
		close(c);
		_exit(strncmp(req, "GET /ca/inter.crl HTTP/1.0\r\n", 28) == 0 ? 0 : 2);
	}
	close(ls);
	return pid;
}

static void finish(pid_t pid, bool check)
{
	int st;

	if (!check)
		kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (check)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void get(const char *answer, int want, const char *want_err, const char *want_body,
		sp_time timeout)
{
	char url[128], err[128] = "";
	uint8_t *body = NULL;
	size_t len = 0;
	uint16_t port;
	pid_t pid = serve(answer, &port);
	sp_time t0 = io_now();

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ca/inter.crl", port);
	assert_int_equal(io_http_get(url, timeout, 64, &body, &len, err, sizeof(err)), want);
	if (want_err != NULL)
		assert_string_equal(err, want_err);
	if (want_body != NULL) {
		assert_int_equal(len, strlen(want_body));
		assert_memory_equal(body, want_body, len);
	} else {
		assert_null(body);
	}
	free(body);
	assert_true(io_now() - t0 < timeout + SP_MSEC(500));
	finish(pid, answer != NULL && want != SP_ENOSPACE);
}

static void ok_body(void **state)
{
	(void)state;
	get("HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n0\x82\x01\x00crl", 0,
	    NULL, "0\x82\x01\x00crl", SP_SEC(5));
}

static void not_found_named(void **state)
{
	(void)state;
	get("HTTP/1.0 404 Not Found\r\n\r\nno", SP_EIO, "HTTP 404 Not Found", NULL, SP_SEC(5));
}

static void deadline_holds(void **state)
{
	(void)state;
	get(NULL, SP_ETIMEOUT, "no answer in time", NULL, SP_MSEC(300));
}

static void body_over_cap(void **state)
{
	char big[400];

	(void)state;
	snprintf(big, sizeof(big), "HTTP/1.0 200 OK\r\n\r\n%0200d", 7);
	get(big, SP_ENOSPACE, "body larger than the cap", NULL, SP_SEC(5));
}

static void refused_and_bad_urls(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t sl = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char url[64], err[128];
	uint8_t *body;
	size_t len;

	(void)state;
	/* a port bound but not listening refuses */
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x.crl", ntohs(sin.sin_port));
	assert_int_equal(io_http_get(url, SP_SEC(2), 64, &body, &len, err, sizeof(err)), SP_EIO);
	assert_string_equal(err, "connect: Connection refused");
	close(s);
	assert_int_equal(
		io_http_get("https://127.0.0.1/x", SP_SEC(1), 64, &body, &len, err, sizeof(err)),
		SP_EINVAL);
	assert_int_equal(io_http_get("http://127.0.0.1:99999x/x", SP_SEC(1), 64, &body, &len, err,
				     sizeof(err)),
			 SP_EINVAL);
	assert_int_equal(io_http_get("http:///x", SP_SEC(1), 64, &body, &len, err, sizeof(err)),
			 SP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ok_body),
		cmocka_unit_test(not_found_named),
		cmocka_unit_test(deadline_holds),
		cmocka_unit_test(body_over_cap),
		cmocka_unit_test(refused_and_bad_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
