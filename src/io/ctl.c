#include "io/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CMDS 64

struct ctl_cmd {
	char *words[4];
	int nwords;
	io_ctl_fn fn;
	void *arg;
	char *help;
};

struct io_ctl {
	struct io_loop *loop;
	int fd;
	char *path;
	struct ctl_cmd cmds[CTL_MAX_CMDS];
	int ncmds;
};

static int split_words(char *line, char **argv, int max)
{
	int argc = 0;

	for (char *tok = strtok(line, " \t\r\n"); tok != NULL; tok = strtok(NULL, " \t\r\n")) {
		if (argc == max)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void list_commands(struct io_ctl *ctl, FILE *f)
{
	for (int i = 0; i < ctl->ncmds; i++) {
		struct ctl_cmd *c = &ctl->cmds[i];
		int w = 0;

		for (int j = 0; j < c->nwords; j++)
			w += fprintf(f, "%s%s", j ? " " : "", c->words[j]);
		fprintf(f, "%*s  %s\n", w < 20 ? 20 - w : 0, "", c->help);
	}
}

static void dispatch(struct io_ctl *ctl, int cfd, char *line)
{
	char *argv[IO_CTL_MAX_ARGS];
	int argc = split_words(line, argv, IO_CTL_MAX_ARGS);
	struct ctl_cmd *best = NULL;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	FILE *out, *err;
	int r;

	for (int i = 0; argc > 0 && i < ctl->ncmds; i++) {
		struct ctl_cmd *c = &ctl->cmds[i];
		int j;

		if (c->nwords > argc)
			continue;
		for (j = 0; j < c->nwords; j++)
			if (strcmp(c->words[j], argv[j]) != 0)
				break;
		if (j == c->nwords && (best == NULL || c->nwords > best->nwords))
			best = c;
	}
	out = open_memstream(&obuf, &olen);
	err = open_memstream(&ebuf, &elen);
	if (out == NULL || err == NULL) {
		write_all(cfd, "ERR out of memory\n", 18);
		goto done;
	}
	if (best == NULL) {
		fprintf(err, "unknown command; this daemon answers:");
		r = SP_EINVAL;
		fflush(err);
		list_commands(ctl, out);
	} else {
		r = best->fn(best->arg, argc - best->nwords, argv + best->nwords, out, err);
	}
	fflush(out);
	fflush(err);
	if (r == 0) {
		write_all(cfd, "OK\n", 3);
	} else {
		write_all(cfd, "ERR ", 4);
		write_all(cfd, elen ? ebuf : sp_strerror(r), elen ? elen : strlen(sp_strerror(r)));
		write_all(cfd, "\n", 1);
	}
	write_all(cfd, obuf, olen);
done:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	free(obuf);
	free(ebuf);
}

static void on_accept(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct io_ctl *ctl = arg;
	char line[IO_CTL_MAX_LINE];
	struct timeval tv = { .tv_sec = 1 };
	size_t len = 0;
	int cfd;

	(void)loop;
	(void)events;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len < sizeof(line) - 1) {
		ssize_t n = read(cfd, line + len, sizeof(line) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	if (memchr(line, '\n', len) == NULL)
		write_all(cfd, "ERR command line missing or too long\n", 37);
	else
		dispatch(ctl, cfd, line);
	close(cfd);
}

static int make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return SP_EINVAL;
	strcpy(sa->sun_path, path);
	return 0;
}

static void mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
}

int io_ctl_open(struct io_ctl **out, struct io_loop *loop, const char *path)
{
	struct sockaddr_un sa;
	struct io_ctl *ctl;
	int r;

	*out = NULL;
	if (make_addr(path, &sa) != 0)
		return SP_EINVAL;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return SP_ENOMEM;
	ctl->loop = loop;
	ctl->fd = -1;
	if ((ctl->path = strdup(path)) == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	mkdir_parent(path);
	unlink(path);
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ctl->fd, 8) < 0) {
		r = SP_EIO;
		goto fail;
	}
	if ((r = io_loop_add_fd(loop, ctl->fd, EPOLLIN, on_accept, ctl)) != 0)
		goto fail;
	*out = ctl;
	return 0;
fail:
	io_ctl_close(ctl);
	return r;
}

void io_ctl_close(struct io_ctl *ctl)
{
	if (ctl == NULL)
		return;
	if (ctl->fd >= 0) {
		io_loop_del_fd(ctl->loop, ctl->fd);
		close(ctl->fd);
		unlink(ctl->path);
	}
	for (int i = 0; i < ctl->ncmds; i++) {
		for (int j = 0; j < ctl->cmds[i].nwords; j++)
			free(ctl->cmds[i].words[j]);
		free(ctl->cmds[i].help);
	}
	free(ctl->path);
	free(ctl);
}

int io_ctl_add(struct io_ctl *ctl, const char *words, io_ctl_fn fn, void *arg, const char *help)
{
	struct ctl_cmd *c;
	char buf[128], *argv[4];
	int n;

	if (ctl->ncmds == CTL_MAX_CMDS || strlen(words) >= sizeof(buf))
		return SP_EFULL;
	strcpy(buf, words);
	if ((n = split_words(buf, argv, 4)) <= 0)
		return SP_EINVAL;
	c = &ctl->cmds[ctl->ncmds];
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < n; i++)
		if ((c->words[i] = strdup(argv[i])) == NULL)
			return SP_ENOMEM;
	c->nwords = n;
	c->fn = fn;
	c->arg = arg;
	if ((c->help = strdup(help)) == NULL)
		return SP_ENOMEM;
	ctl->ncmds++;
	return 0;
}

int io_ctl_request(const char *path, int argc, char **argv, FILE *out, FILE *err)
{
	struct sockaddr_un sa;
	char line[IO_CTL_MAX_LINE], buf[4096];
	size_t len = 0;
	bool header = true, ok = false;
	ssize_t n;
	int fd;

	if (make_addr(path, &sa) != 0) {
		fprintf(err, "socket path too long: %s\n", path);
		return SP_EINVAL;
	}
	for (int i = 0; i < argc; i++) {
		int w = snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(line) - len - 1) {
			fprintf(err, "command too long\n");
			return SP_EINVAL;
		}
		len += (size_t)w;
	}
	line[len++] = '\n';
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(err, "cannot reach spinatd at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SP_EIO;
	}
	write_all(fd, line, len);
	shutdown(fd, SHUT_WR);
	/* The first line is the status; the rest is copied through. */
	len = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		while (header && off < (size_t)n) {
			char ch = buf[off++];

			if (ch != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = ch;
				continue;
			}
			line[len] = '\0';
			ok = strcmp(line, "OK") == 0;
			if (!ok)
				fprintf(err, "%s\n",
					strncmp(line, "ERR ", 4) == 0 ? line + 4 : line);
			header = false;
		}
		if (!header)
			fwrite(buf + off, 1, (size_t)n - off, ok ? out : err);
	}
	close(fd);
	if (header) {
		fprintf(err, "spinatd closed the connection without an answer\n");
		return SP_EIO;
	}
	return ok ? 0 : SP_EINVAL;
}
