#include "io/ctl.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CMDS   64
/* Refused clients are logged at most once per this period. */
#define CTL_LOG_PERIOD SP_SEC(10)

struct ctl_cmd {
	char *words[4];
	int nwords;
	io_ctl_fn fn, json;
	void *arg;
	char *help;
};

struct ctl_client {
	struct io_ctl *ctl;
	int fd; /* -1: slot free */
	char in[IO_CTL_MAX_LINE];
	size_t inlen;
	char *out; /* the whole answer, written as the client reads it */
	size_t outlen, outoff;
	struct io_timer timer; /* IO_CTL_CLIENT_TIMEOUT from the accept */
};

struct io_ctl {
	struct io_loop *loop;
	int fd;
	char *path;
	dev_t dev; /* the socket file we made, so we never remove another one */
	ino_t ino;
	gid_t group;
	struct sp_log *log;
	sp_time last_log;
	uint64_t refused, busy, timeouts;
	struct ctl_cmd cmds[CTL_MAX_CMDS];
	int ncmds;
	struct ctl_client clients[IO_CTL_MAX_CLIENTS];
};

static int split_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == max)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void io_ctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
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

static int ctl_commands(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: commands");
		return SP_EINVAL;
	}
	list_commands(arg, out);
	return 0;
}

static int ctl_commands_json(void *arg, int argc, char **argv, FILE *out, FILE *err)
{
	struct io_ctl *ctl = arg;

	(void)argv;
	if (argc != 0) {
		fprintf(err, "usage: commands");
		return SP_EINVAL;
	}
	fputs("[", out);
	for (int i = 0; i < ctl->ncmds; i++) {
		struct ctl_cmd *c = &ctl->cmds[i];
		char words[128];
		size_t off = 0;

		for (int j = 0; j < c->nwords && off < sizeof(words); j++)
			off += (size_t)snprintf(words + off, sizeof(words) - off, "%s%s",
						j ? " " : "", c->words[j]);
		fprintf(out, "%s{\"command\": ", i ? ", " : "");
		io_ctl_json_str(out, words);
		fputs(", \"help\": ", out);
		io_ctl_json_str(out, c->help);
		fprintf(out, ", \"json\": %s}", c->json ? "true" : "false");
	}
	fputs("]\n", out);
	return 0;
}

/* A command without a JSON form: its text, line by line. */
static void text_as_json(FILE *out, const char *words, char *text, size_t len)
{
	char *line, *save = NULL;
	bool first = true;

	text[len] = '\0';
	fputs("{\"command\": ", out);
	io_ctl_json_str(out, words);
	fputs(", \"lines\": [", out);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		fputs(first ? "" : ", ", out);
		io_ctl_json_str(out, line);
		first = false;
	}
	fputs("]}\n", out);
}

/* Run one command line; the answer ("OK\n..." or "ERR ...\n...") into *ans. */
static void dispatch(struct io_ctl *ctl, char *line, char **ans, size_t *anslen)
{
	char *argv[IO_CTL_MAX_ARGS], words[IO_CTL_MAX_LINE] = "";
	int argc = split_words(line, argv, IO_CTL_MAX_ARGS);
	struct ctl_cmd *best = NULL;
	char *obuf = NULL, *ebuf = NULL, *tbuf = NULL;
	size_t olen = 0, elen = 0, tlen = 0, off = 0;
	FILE *out = NULL, *err = NULL, *ans_f = NULL;
	bool json = false;
	int r;

	*ans = NULL;
	*anslen = 0;
	if (argc > 0 && strcmp(argv[0], "--json") == 0) {
		json = true;
		argc--;
		memmove(argv, argv + 1, (size_t)argc * sizeof(argv[0]));
	}
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
	for (int i = 0; best != NULL && i < best->nwords && off < sizeof(words); i++)
		off += (size_t)snprintf(words + off, sizeof(words) - off, "%s%s", i ? " " : "",
					best->words[i]);
	if ((ans_f = open_memstream(ans, anslen)) == NULL)
		return;
	out = open_memstream(&obuf, &olen);
	err = open_memstream(&ebuf, &elen);
	if (out == NULL || err == NULL) {
		fputs("ERR out of memory\n", ans_f);
		goto done;
	}
	if (argc < 0) {
		fprintf(err, "more than %d words", IO_CTL_MAX_ARGS);
		r = SP_EINVAL;
	} else if (best == NULL) {
		fprintf(err, "unknown command; this daemon answers:");
		r = SP_EINVAL;
		list_commands(ctl, out);
	} else if (json && best->json != NULL) {
		r = best->json(best->arg, argc - best->nwords, argv + best->nwords, out, err);
	} else if (json) {
		FILE *t = open_memstream(&tbuf, &tlen);

		if (t == NULL) {
			r = SP_ENOMEM;
		} else {
			r = best->fn(best->arg, argc - best->nwords, argv + best->nwords, t, err);
			fputc('\0', t); /* room for text_as_json()'s terminator */
			fclose(t);
			if (r == 0)
				text_as_json(out, words, tbuf, tlen - 1);
		}
	} else {
		r = best->fn(best->arg, argc - best->nwords, argv + best->nwords, out, err);
	}
	fflush(out);
	fflush(err);
	if (r == 0) {
		fputs("OK\n", ans_f);
	} else {
		fputs("ERR ", ans_f);
		fwrite(elen ? ebuf : sp_strerror(r), 1, elen ? elen : strlen(sp_strerror(r)),
		       ans_f);
		fputc('\n', ans_f);
	}
	fwrite(obuf, 1, olen, ans_f);
done:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	fclose(ans_f);
	free(obuf);
	free(ebuf);
	free(tbuf);
	if (*anslen > IO_CTL_MAX_ANSWER) {
		static const char big[] = "ERR answer larger than 32 MiB: ask for less (e.g. show "
					  "nat limit N)\n";

		free(*ans);
		*ans = strdup(big);
		*anslen = *ans ? strlen(big) : 0;
	}
}

static void client_close(struct ctl_client *c)
{
	struct io_ctl *ctl = c->ctl;

	if (c->fd < 0)
		return;
	io_timer_cancel(ctl->loop, &c->timer);
	io_loop_del_fd(ctl->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
}

static void client_timeout(struct io_loop *loop, void *arg)
{
	struct ctl_client *c = arg;

	(void)loop;
	c->ctl->timeouts++;
	client_close(c);
}

static void client_answer(struct ctl_client *c, char *ans, size_t len)
{
	c->out = ans;
	c->outlen = ans != NULL ? len : 0;
	c->outoff = 0;
	if (c->out == NULL || io_loop_mod_fd(c->ctl->loop, c->fd, EPOLLOUT) != 0)
		client_close(c);
}

static void client_io(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_client *c = arg;
	ssize_t n;

	(void)loop;
	(void)fd;
	if (c->out != NULL) {
		/* Writing the answer: as much as the socket takes now. */
		while (c->outoff < c->outlen) {
			n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0)
				break;
			c->outoff += (size_t)n;
		}
		client_close(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		char *ans, *nl;
		size_t anslen;

		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* the rest of the line later: the loop goes on meanwhile */
		if (n > 0)
			c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		if ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
			*nl = '\0';
			dispatch(c->ctl, c->in, &ans, &anslen);
			client_answer(c, ans, anslen);
			return;
		}
		if (n <= 0 || c->inlen == sizeof(c->in) - 1) {
			static const char bad[] = "ERR command line missing or too long\n";

			client_answer(c, strdup(bad), sizeof(bad) - 1);
			return;
		}
	}
}

/* Root, our own user, or (with a group) a client whose primary group it is. */
static bool peer_allowed(struct io_ctl *ctl, int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) != 0 || len != sizeof(*cr))
		return false;
	return cr->uid == 0 || cr->uid == geteuid() ||
	       (ctl->group != (gid_t)-1 && cr->gid == ctl->group);
}

static void note_refused(struct io_ctl *ctl, const char *why, const struct ucred *cr)
{
	sp_time now = io_now();

	if (ctl->log == NULL || (ctl->last_log != 0 && now - ctl->last_log < CTL_LOG_PERIOD))
		return;
	ctl->last_log = now;
	if (cr != NULL)
		SP_WARN(ctl->log, "ctl",
			"refused a control client (pid %ld, uid %ld): %s; %llu refused so far",
			(long)cr->pid, (long)cr->uid, why, (unsigned long long)ctl->refused);
	else
		SP_WARN(ctl->log, "ctl", "refused a control client: %s; %llu so far", why,
			(unsigned long long)ctl->busy);
}

static void on_accept(struct io_loop *loop, int fd, uint32_t events, void *arg)
{
	struct io_ctl *ctl = arg;
	struct ctl_client *c = NULL;
	struct ucred cr;
	int cfd;

	(void)loop;
	(void)events;
	for (int round = 0; round < IO_CTL_MAX_CLIENTS; round++) {
		if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
			return;
		if (!peer_allowed(ctl, cfd, &cr)) {
			static const char no[] = "ERR permission denied: root or the daemon's user "
						 "(or its control group) only\n";

			ctl->refused++;
			note_refused(ctl, "not root, not the daemon's user or group", &cr);
			write_all(cfd, no, sizeof(no) - 1); /* non-blocking: best effort */
			close(cfd);
			continue;
		}
		c = NULL;
		for (int i = 0; i < IO_CTL_MAX_CLIENTS; i++)
			if (ctl->clients[i].fd < 0) {
				c = &ctl->clients[i];
				break;
			}
		if (c == NULL) {
			static const char busy[] = "ERR busy: too many control clients\n";

			ctl->busy++;
			note_refused(ctl, "too many control clients at once", NULL);
			write_all(cfd, busy, sizeof(busy) - 1);
			close(cfd);
			continue;
		}
		c->fd = cfd;
		if (io_loop_add_fd(ctl->loop, cfd, EPOLLIN, client_io, c) != 0) {
			close(cfd);
			c->fd = -1;
			continue;
		}
		if (io_timer_arm(ctl->loop, &c->timer, io_now() + IO_CTL_CLIENT_TIMEOUT) != 0)
			client_close(c);
	}
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

/* The path exists: a stale socket (nobody answers) may go, anything else stays. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : SP_EIO;
	if (!S_ISSOCK(st.st_mode))
		return SP_EEXIST;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return SP_EIO;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return SP_EBUSY;
	return unlink(sa->sun_path) == 0 ? 0 : SP_EIO;
}

int io_ctl_open(struct io_ctl **out, struct io_loop *loop, const char *path,
		const struct io_ctl_cfg *cfg)
{
	struct sockaddr_un sa;
	struct io_ctl *ctl;
	struct stat st;
	mode_t mask;
	int r;

	*out = NULL;
	if (make_addr(path, &sa) != 0)
		return SP_EINVAL;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return SP_ENOMEM;
	ctl->loop = loop;
	ctl->fd = -1;
	ctl->group = cfg != NULL ? cfg->group : (gid_t)-1;
	ctl->log = cfg != NULL ? cfg->log : NULL;
	for (int i = 0; i < IO_CTL_MAX_CLIENTS; i++) {
		ctl->clients[i].ctl = ctl;
		ctl->clients[i].fd = -1;
		io_timer_init(&ctl->clients[i].timer, client_timeout, &ctl->clients[i]);
	}
	if ((ctl->path = strdup(path)) == NULL) {
		r = SP_ENOMEM;
		goto fail;
	}
	mkdir_parent(path);
	if ((r = clear_stale(&sa)) != 0)
		goto fail;
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		r = SP_EIO;
		goto fail;
	}
	/* Created without group or other access, then given its mode (and group). */
	mask = umask(0077);
	r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (r != 0) {
		r = errno == EACCES || errno == EPERM ? SP_EPERM
		    : errno == EADDRINUSE	      ? SP_EBUSY
						      : SP_EIO;
		goto fail;
	}
	if (lstat(path, &st) != 0) {
		r = SP_EIO;
		goto fail;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if ((ctl->group != (gid_t)-1 &&
	     (chown(path, (uid_t)-1, ctl->group) != 0 || chmod(path, 0660) != 0)) ||
	    (ctl->group == (gid_t)-1 && chmod(path, 0600) != 0) || listen(ctl->fd, 16) != 0) {
		r = errno == EPERM ? SP_EPERM : SP_EIO;
		goto fail;
	}
	if ((r = io_loop_add_fd(loop, ctl->fd, EPOLLIN, on_accept, ctl)) != 0)
		goto fail;
	if ((r = io_ctl_add(ctl, "commands", ctl_commands, ctl,
			    "the commands this daemon answers")) != 0 ||
	    (r = io_ctl_add_json(ctl, "commands", ctl_commands_json)) != 0)
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
	for (int i = 0; i < IO_CTL_MAX_CLIENTS; i++)
		client_close(&ctl->clients[i]);
	if (ctl->fd >= 0) {
		struct stat st;

		io_loop_del_fd(ctl->loop, ctl->fd);
		close(ctl->fd);
		/* Only our own socket: another daemon's, or a file put there since, stays. */
		if (ctl->ino != 0 && lstat(ctl->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == ctl->dev && st.st_ino == ctl->ino)
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

static struct ctl_cmd *find_cmd(struct io_ctl *ctl, char **argv, int n)
{
	for (int i = 0; i < ctl->ncmds; i++) {
		struct ctl_cmd *c = &ctl->cmds[i];
		int j;

		if (c->nwords != n)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(c->words[j], argv[j]) != 0)
				break;
		if (j == n)
			return c;
	}
	return NULL;
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
	if (find_cmd(ctl, argv, n) != NULL)
		return SP_EEXIST;
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

int io_ctl_add_json(struct io_ctl *ctl, const char *words, io_ctl_fn fn)
{
	char buf[128], *argv[4];
	struct ctl_cmd *c;
	int n;

	if (strlen(words) >= sizeof(buf))
		return SP_EINVAL;
	strcpy(buf, words);
	if ((n = split_words(buf, argv, 4)) <= 0 || (c = find_cmd(ctl, argv, n)) == NULL)
		return SP_ENOTFOUND;
	c->json = fn;
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
		int e = errno;

		fprintf(err, "cannot reach spinatd at %s: %s%s\n", path, strerror(e),
			e == ENOENT   ? " (is spinatd running? --socket PATH names another)"
			: e == EACCES ? " (the socket is for root and the daemon's user)"
				      : "");
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

int io_pidfile_lock(const char *path, int *fd, long *holder)
{
	char buf[32];
	struct stat st, now;
	ssize_t n;
	int f;

	*fd = -1;
	*holder = 0;
	mkdir_parent(path);
	for (int tries = 0; tries < 8; tries++) {
		if ((f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
			return errno == EACCES || errno == EPERM   ? SP_EPERM
			       : errno == ELOOP || errno == EISDIR ? SP_EEXIST
								   : SP_EIO;
		if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(f);
			return SP_EEXIST;
		}
		if (flock(f, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;

			if ((n = pread(f, buf, sizeof(buf) - 1, 0)) > 0) {
				buf[n] = '\0';
				*holder = strtol(buf, NULL, 10);
			}
			close(f);
			return e == EWOULDBLOCK ? SP_EBUSY : SP_EIO;
		}
		/* The holder may have removed the file between our open and our lock. */
		if (stat(path, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			break;
		close(f);
		f = -1;
	}
	if (f < 0)
		return SP_EBUSY;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 || pwrite(f, buf, (size_t)n, 0) != n) {
		close(f);
		return SP_EIO;
	}
	*fd = f;
	return 0;
}

void io_pidfile_release(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path); /* while still locked: a new daemon locks a fresh file */
	close(fd);
}
