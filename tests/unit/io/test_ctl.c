/* The control socket and the PID file lock: what is never replaced or removed, the mode,
 * the JSON forms, bounded clients. The clients run in a child process while the parent
 * runs the event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], sock[96], pidf[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/spinat-ctl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/d.sock", dir);
	snprintf(pidf, sizeof(pidf), "%s/d.pid", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void pidfile_lock(void **state)
{
	char buf[32];
	long holder;
	int fd, fd2;
	FILE *f;

	(void)state;
	assert_int_equal(io_pidfile_lock(pidf, &fd, &holder), 0);
	assert_non_null(f = fopen(pidf, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strtol(buf, NULL, 10), (long)getpid());
	/* a second holder is refused and told who holds it */
	assert_int_equal(io_pidfile_lock(pidf, &fd2, &holder), SP_EBUSY);
	assert_int_equal(fd2, -1);
	assert_int_equal(holder, (long)getpid());
	io_pidfile_release(pidf, fd);
	assert_int_not_equal(access(pidf, F_OK), 0);
	assert_int_equal(io_pidfile_lock(pidf, &fd, &holder), 0);
	io_pidfile_release(pidf, fd);
	/* not a regular file: refused, left alone */
	assert_int_equal(mkdir(pidf, 0700), 0);
	assert_int_equal(io_pidfile_lock(pidf, &fd, &holder), SP_EEXIST);
	assert_int_equal(rmdir(pidf), 0);
}

static void stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* the file stays: a crashed daemon's socket */
}

static void socket_paths(void **state)
{
	struct io_ctl_cfg cfg = { .group = (gid_t)-1 };
	struct io_loop *loop;
	struct io_ctl *a, *b;
	struct stat st;
	char buf[16] = "";
	FILE *f;

	(void)state;
	assert_int_equal(io_loop_new(&loop), 0);
	/* a regular file is refused and not touched */
	assert_non_null(f = fopen(sock, "w"));
	fputs("keep", f);
	fclose(f);
	assert_int_equal(io_ctl_open(&a, loop, sock, &cfg), SP_EEXIST);
	assert_non_null(f = fopen(sock, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep");
	assert_int_equal(unlink(sock), 0);
	/* a stale socket is replaced; ours is 0600 */
	stale_socket(sock);
	assert_int_equal(io_ctl_open(&a, loop, sock, &cfg), 0);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a live one is refused */
	assert_int_equal(io_ctl_open(&b, loop, sock, &cfg), SP_EBUSY);
	io_ctl_close(a);
	assert_int_not_equal(lstat(sock, &st), 0);
	/* at close, a path that is no longer our socket stays */
	assert_int_equal(io_ctl_open(&a, loop, sock, &cfg), 0);
	assert_int_equal(unlink(sock), 0);
	assert_non_null(f = fopen(sock, "w"));
	fclose(f);
	io_ctl_close(a);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(sock), 0);
	/* with a group: 0660 and that group */
	cfg.group = getegid();
	assert_int_equal(io_ctl_open(&a, loop, sock, &cfg), 0);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, getegid());
	io_ctl_close(a);
	io_loop_free(loop);
}

static int hello(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)arg;
	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: hello");
		return SP_EINVAL;
	}
	fputs("hi \"there\"\nsecond line\n", out);
	return 0;
}

/* The child: requests, and the answers into a file the parent checks. */
static void client(const char *path, const char *outpath)
{
	char *hello_w[] = { "hello" }, *json_w[] = { "--json", "hello" },
	     *cmds_w[] = { "--json", "commands" }, *bad_w[] = { "nonesuch" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int idle[IO_CTL_MAX_CLIENTS], extra;
	char busy[64] = "";
	FILE *o = fopen(outpath, "w");
	ssize_t n;

	if (o == NULL)
		_exit(1);
	fprintf(o, "rc %d\n", io_ctl_request(path, 1, hello_w, o, o));
	fprintf(o, "rc %d\n", io_ctl_request(path, 2, json_w, o, o));
	fprintf(o, "rc %d\n", io_ctl_request(path, 2, cmds_w, o, o));
	fprintf(o, "rc %d\n", io_ctl_request(path, 1, bad_w, o, o));
	/* IO_CTL_MAX_CLIENTS silent clients, then one more: told busy at once */
	strcpy(sa.sun_path, path);
	for (int i = 0; i < IO_CTL_MAX_CLIENTS; i++) {
		idle[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(idle[i], (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(2);
	}
	usleep(200000);
	extra = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(extra, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		_exit(3);
	n = read(extra, busy, sizeof(busy) - 1);
	fprintf(o, "extra %s", n > 0 ? busy : "nothing\n");
	for (int i = 0; i < IO_CTL_MAX_CLIENTS; i++)
		close(idle[i]);
	close(extra);
	fclose(o);
	_exit(0);
}

struct waiter {
	pid_t pid;
	int status;
	struct io_timer t;
};

static void poll_child(struct io_loop *loop, void *arg)
{
	struct waiter *w = arg;

	if (waitpid(w->pid, &w->status, WNOHANG) == w->pid) {
		io_loop_stop(loop);
		return;
	}
	assert_int_equal(io_timer_arm(loop, &w->t, io_now() + SP_MSEC(10)), 0);
}

static void requests(void **state)
{
	struct io_ctl_cfg cfg = { .group = (gid_t)-1 };
	struct waiter w = { 0 };
	struct io_loop *loop;
	struct io_ctl *ctl;
	char outpath[128], *text;
	long len;
	FILE *f;

	(void)state;
	snprintf(outpath, sizeof(outpath), "%s/answers", dir);
	assert_int_equal(io_loop_new(&loop), 0);
	assert_int_equal(io_ctl_open(&ctl, loop, sock, &cfg), 0);
	assert_int_equal(io_ctl_add(ctl, "hello", hello, NULL, "says hi"), 0);
	assert_int_equal(io_ctl_add(ctl, "hello", hello, NULL, "twice"), SP_EEXIST);
	assert_int_equal(io_ctl_add_json(ctl, "nothing here", hello), SP_ENOTFOUND);
	fflush(NULL);
	if ((w.pid = fork()) == 0)
		client(sock, outpath);
	assert_true(w.pid > 0);
	io_timer_init(&w.t, poll_child, &w);
	assert_int_equal(io_timer_arm(loop, &w.t, io_now()), 0);
	assert_int_equal(io_loop_run(loop), 0);
	assert_true(WIFEXITED(w.status));
	assert_int_equal(WEXITSTATUS(w.status), 0);
	io_ctl_close(ctl);
	io_loop_free(loop);

	assert_non_null(f = fopen(outpath, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* text form, then the JSON wrapper of a command without a JSON form */
	assert_non_null(strstr(text, "hi \"there\"\nsecond line\nrc 0\n"));
	assert_non_null(strstr(text, "{\"command\": \"hello\", \"lines\": [\"hi \\\"there\\\"\", "
				     "\"second line\"]}\nrc 0\n"));
	/* commands, built in, with its JSON form */
	assert_non_null(strstr(text, "{\"command\": \"hello\", \"help\": \"says hi\", \"json\": "
				     "false}"));
	/* unknown command: refused with the list */
	assert_non_null(strstr(text, "unknown command; this daemon answers:"));
	assert_non_null(strstr(text, "rc -3\n"));
	assert_non_null(strstr(text, "extra ERR busy: too many control clients\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pidfile_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(socket_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
