#include "base/conf.h"
#include "base/addr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return end;
}

static int perr(struct conf *c, unsigned line, const char *msg)
{
	snprintf(c->err, sizeof(c->err), "%s:%u: %s", c->path, line, msg);
	return SP_ECONFIG;
}

/* A value ends at an unquoted '#' preceded by white space; "..." keeps everything. */
static int parse_value(struct conf *c, unsigned line, const char *s, const char *end, char **out)
{
	s = skip_ws(s, end);
	if (s < end && *s == '"') {
		const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
		const char *rest;

		if (q == NULL)
			return perr(c, line, "unterminated quoted value");
		rest = skip_ws(q + 1, end);
		if (rest < end && *rest != '#')
			return perr(c, line, "text after quoted value");
		*out = xstrndup(s + 1, (size_t)(q - s - 1));
	} else {
		const char *e = s;

		while (e < end && !(*e == '#' && (e == s || e[-1] == ' ' || e[-1] == '\t')))
			e++;
		e = trim_end(s, e);
		*out = xstrndup(s, (size_t)(e - s));
	}
	return *out != NULL ? 0 : SP_ENOMEM;
}

static bool valid_word(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static int parse_header(struct conf *c, unsigned line, const char *s, const char *end,
			struct conf_sec ***tailp, struct conf_sec **cur)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	const char *t, *te, *n, *ne;
	struct conf_sec *sec;

	if (close == NULL || skip_ws(close + 1, end) != end)
		return perr(c, line, "section header must be '[type]' or '[type name]'");
	t = skip_ws(s + 1, close);
	te = t;
	while (te < close && *te != ' ' && *te != '\t')
		te++;
	n = skip_ws(te, close);
	ne = trim_end(n, close);
	if (!valid_word(t, (size_t)(te - t)) || (n < ne && !valid_word(n, (size_t)(ne - n))))
		return perr(c, line, "section type and name are letters, digits, '_', '-', '.'");
	if ((sec = calloc(1, sizeof(*sec))) == NULL)
		return SP_ENOMEM;
	sec->conf = c;
	sec->line = line;
	sec->type = xstrndup(t, (size_t)(te - t));
	sec->name = n < ne ? xstrndup(n, (size_t)(ne - n)) : NULL;
	**tailp = sec;
	*tailp = &sec->next;
	*cur = sec;
	if (sec->type == NULL || (n < ne && sec->name == NULL))
		return SP_ENOMEM;
	for (struct conf_sec *o = c->secs; o != sec; o = o->next) {
		if (strcmp(o->type, sec->type) == 0 &&
		    ((o->name == NULL && sec->name == NULL) ||
		     (o->name && sec->name && strcmp(o->name, sec->name) == 0))) {
			char msg[160];

			snprintf(msg, sizeof(msg), "section [%s%s%s] repeats the one at line %u",
				 sec->type, sec->name ? " " : "", sec->name ? sec->name : "",
				 o->line);
			return perr(c, line, msg);
		}
	}
	return 0;
}

static int parse_kv(struct conf *c, unsigned line, const char *s, const char *end,
		    struct conf_sec *sec)
{
	const char *eq = memchr(s, '=', (size_t)(end - s));
	const char *ke;
	struct conf_kv *kv, **pp;
	int r;

	if (sec == NULL)
		return perr(c, line, "setting before the first [section]");
	if (eq == NULL)
		return perr(c, line, "expected 'key = value'");
	ke = trim_end(s, eq);
	if (!valid_word(s, (size_t)(ke - s)))
		return perr(c, line, "keys are letters, digits, '_', '-', '.'");
	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return SP_ENOMEM;
	for (pp = &sec->kv; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = kv;
	kv->line = line;
	if ((kv->key = xstrndup(s, (size_t)(ke - s))) == NULL)
		return SP_ENOMEM;
	if ((r = parse_value(c, line, eq + 1, end, &kv->val)) != 0)
		return r;
	return 0;
}

int conf_parse_string(const char *text, const char *name, struct conf **out)
{
	struct conf *c;
	struct conf_sec **tail, *cur = NULL;
	unsigned line = 0;
	int r = 0;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SP_ENOMEM;
	*out = c;
	if ((c->path = strdup(name)) == NULL)
		return SP_ENOMEM;
	tail = &c->secs;
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		const char *end = nl ? nl : text + strlen(text);
		const char *s = skip_ws(text, end);

		line++;
		end = trim_end(s, end);
		if ((size_t)(end - text) > CONF_MAX_LINE) {
			r = perr(c, line, "line too long");
			break;
		}
		if (s == end || *s == '#' || *s == ';')
			r = 0;
		else if (*s == '[')
			r = parse_header(c, line, s, end, &tail, &cur);
		else
			r = parse_kv(c, line, s, end, cur);
		if (r != 0)
			break;
		text = nl ? nl + 1 : end;
		if (nl == NULL)
			break;
	}
	if (r == SP_ENOMEM)
		snprintf(c->err, sizeof(c->err), "%s: out of memory", name);
	return r;
}

int conf_parse_file(const char *path, struct conf **out)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		struct conf *c = calloc(1, sizeof(*c));

		if (c == NULL)
			return SP_ENOMEM;
		c->path = strdup(path);
		snprintf(c->err, sizeof(c->err), "%s: %s", path, strerror(errno));
		*out = c;
		return SP_EIO;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *t = realloc(text, cap + 65536);

			if (t == NULL) {
				free(text);
				fclose(f);
				return SP_ENOMEM;
			}
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		r = conf_parse_string("", path, out);
		if (*out != NULL)
			snprintf((*out)->err, sizeof((*out)->err), "%s: contains a NUL byte", path);
		return r == 0 ? SP_ECONFIG : r;
	}
	r = conf_parse_string(text, path, out);
	explicit_bzero(text, len); /* PSKs and manual keys */
	free(text);
	return r;
}

void conf_free(struct conf *c)
{
	struct conf_sec *s, *sn;
	struct conf_kv *kv, *kn;

	if (c == NULL)
		return;
	for (s = c->secs; s != NULL; s = sn) {
		sn = s->next;
		for (kv = s->kv; kv != NULL; kv = kn) {
			kn = kv->next;
			/* Any value may be a secret (psk, enc_key, auth_key): wipe them all. */
			if (kv->val != NULL) /* NULL when parsing stopped half-way */
				explicit_bzero(kv->val, strlen(kv->val));
			free(kv->key);
			free(kv->val);
			free(kv);
		}
		free(s->type);
		free(s->name);
		free(s);
	}
	free(c->path);
	free(c);
}

const char *conf_error(const struct conf *c)
{
	return c != NULL ? c->err : "no configuration";
}

struct conf_sec *conf_next(struct conf *c, struct conf_sec *after, const char *type)
{
	struct conf_sec *s = after ? after->next : c->secs;

	for (; s != NULL; s = s->next) {
		if (type == NULL || strcmp(s->type, type) == 0) {
			s->used = true;
			return s;
		}
	}
	return NULL;
}

struct conf_sec *conf_find(struct conf *c, const char *type, const char *name)
{
	for (struct conf_sec *s = c->secs; s != NULL; s = s->next) {
		if (strcmp(s->type, type) != 0)
			continue;
		if ((name == NULL && s->name == NULL) ||
		    (name != NULL && s->name != NULL && strcmp(name, s->name) == 0)) {
			s->used = true;
			return s;
		}
	}
	return NULL;
}

struct conf_kv *conf_next_kv(struct conf_sec *s, const char *key, struct conf_kv *prev)
{
	struct conf_kv *kv = prev ? prev->next : s->kv;

	for (; kv != NULL; kv = kv->next) {
		if (strcmp(kv->key, key) == 0) {
			kv->used = true;
			return kv;
		}
	}
	return NULL;
}

/* The value of a single-value key; a repeat is reported by conf_check_unused(). */
static struct conf_kv *last_kv(struct conf_sec *s, const char *key)
{
	struct conf_kv *kv = NULL, *last = NULL;

	while ((kv = conf_next_kv(s, key, kv)) != NULL) {
		kv->scalar = true;
		last = kv;
	}
	return last;
}

const char *conf_get(struct conf_sec *s, const char *key)
{
	struct conf_kv *kv = last_kv(s, key);

	return kv ? kv->val : NULL;
}

static void sec_label(const struct conf_sec *s, char *buf, size_t len)
{
	snprintf(buf, len, "[%s%s%s]", s->type, s->name ? " " : "", s->name ? s->name : "");
}

int conf_fail(struct conf_sec *s, const char *fmt, ...)
{
	char msg[200], label[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sec_label(s, label, sizeof(label));
	snprintf(s->conf->err, sizeof(s->conf->err), "%s:%u: in %s: %s", s->conf->path, s->line,
		 label, msg);
	return SP_ECONFIG;
}

static int bad_value(struct conf_sec *s, struct conf_kv *kv, const char *what)
{
	char label[96];

	sec_label(s, label, sizeof(label));
	snprintf(s->conf->err, sizeof(s->conf->err), "%s:%u: in %s: %s = '%s': %s", s->conf->path,
		 kv->line, label, kv->key, kv->val, what);
	return SP_ECONFIG;
}

int conf_require(struct conf_sec *s, const char *key)
{
	for (struct conf_kv *kv = s->kv; kv != NULL; kv = kv->next)
		if (strcmp(kv->key, key) == 0)
			return 0;
	return conf_fail(s, "required key '%s' is missing", key);
}

int conf_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return SP_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return SP_EINVAL;
	*out = v;
	return 0;
}

/* Number followed by an optional unit from table; a bare number uses unit 1. */
static int parse_unit(const char *s, const char *const *units, const uint64_t *mult, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t m = 1;

	if (*s < '0' || *s > '9')
		return SP_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return SP_EINVAL;
	if (*end != '\0') {
		size_t i;

		for (i = 0; units[i] != NULL; i++)
			if (strcmp(end, units[i]) == 0)
				break;
		if (units[i] == NULL)
			return SP_EINVAL;
		m = mult[i];
	}
	if (m != 0 && v > UINT64_MAX / m)
		return SP_EINVAL;
	*out = v * m;
	return 0;
}

int conf_parse_time(const char *s, sp_time *out)
{
	static const char *const u[] = { "ns", "us", "ms", "s", "m", "h", "d", NULL };
	static const uint64_t m[] = { 1,	  SP_USEC(1),	SP_MSEC(1),   SP_SEC(1),
				      SP_SEC(60), SP_SEC(3600), SP_SEC(86400) };
	uint64_t v;

	/* A bare number means seconds. */
	if (conf_parse_u64(s, &v) == 0) {
		if (v > UINT64_MAX / SP_SEC(1))
			return SP_EINVAL;
		*out = SP_SEC(v);
		return 0;
	}
	return parse_unit(s, u, m, out);
}

int conf_parse_size(const char *s, uint64_t *out)
{
	static const char *const u[] = { "K", "M", "G", "k", NULL };
	static const uint64_t m[] = { 1024, 1024 * 1024, 1024ull * 1024 * 1024, 1024 };

	return parse_unit(s, u, m, out);
}

int conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < SP_NELEM(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return SP_EINVAL;
}

int conf_get_str(struct conf_sec *s, const char *key, const char *def, const char **out)
{
	struct conf_kv *kv = last_kv(s, key);

	*out = kv ? kv->val : def;
	return 0;
}

int conf_get_u64(struct conf_sec *s, const char *key, uint64_t def, uint64_t min, uint64_t max,
		 uint64_t *out)
{
	struct conf_kv *kv = last_kv(s, key);
	char what[96];
	uint64_t v;

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	if (conf_parse_u64(kv->val, &v) != 0)
		return bad_value(s, kv, "not a number");
	if (v < min || v > max) {
		snprintf(what, sizeof(what), "must be from %llu to %llu", (unsigned long long)min,
			 (unsigned long long)max);
		return bad_value(s, kv, what);
	}
	*out = v;
	return 0;
}

int conf_get_u32(struct conf_sec *s, const char *key, uint32_t def, uint32_t min, uint32_t max,
		 uint32_t *out)
{
	uint64_t v;
	int r = conf_get_u64(s, key, def, min, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

int conf_get_bool(struct conf_sec *s, const char *key, bool def, bool *out)
{
	struct conf_kv *kv = last_kv(s, key);

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	if (conf_parse_bool(kv->val, out) != 0)
		return bad_value(s, kv, "expected yes or no");
	return 0;
}

int conf_get_time(struct conf_sec *s, const char *key, sp_time def, sp_time *out)
{
	struct conf_kv *kv = last_kv(s, key);

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	if (conf_parse_time(kv->val, out) != 0)
		return bad_value(s, kv, "expected a duration such as 500ms, 30s, 5m, 8h");
	return 0;
}

int conf_get_size(struct conf_sec *s, const char *key, uint64_t def, uint64_t *out)
{
	struct conf_kv *kv = last_kv(s, key);

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	if (conf_parse_size(kv->val, out) != 0)
		return bad_value(s, kv, "expected a size such as 1500, 64K, 10M");
	return 0;
}

int conf_get_ip4(struct conf_sec *s, const char *key, uint32_t def, uint32_t *out)
{
	struct conf_kv *kv = last_kv(s, key);

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	if (sp_ip4_parse(kv->val, out) != 0)
		return bad_value(s, kv, "expected an IPv4 address a.b.c.d");
	return 0;
}

int conf_get_enum(struct conf_sec *s, const char *key, const char *const *names, int def, int *out)
{
	struct conf_kv *kv = last_kv(s, key);
	char what[200];
	size_t off;

	if (kv == NULL) {
		*out = def;
		return 0;
	}
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(kv->val, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	off = (size_t)snprintf(what, sizeof(what), "expected one of:");
	for (int i = 0; names[i] != NULL && off < sizeof(what); i++)
		off += (size_t)snprintf(what + off, sizeof(what) - off, " %s", names[i]);
	return bad_value(s, kv, what);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int conf_get_hex(struct conf_sec *s, const char *key, uint8_t *buf, size_t len, bool required)
{
	struct conf_kv *kv = last_kv(s, key);
	const char *p;
	char what[80];

	if (kv == NULL)
		return required ? conf_fail(s, "required key '%s' is missing", key) : 0;
	p = kv->val;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (strlen(p) != 2 * len) {
		snprintf(what, sizeof(what), "expected %zu hex bytes", len);
		return bad_value(s, kv, what);
	}
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return bad_value(s, kv, "not hexadecimal");
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int conf_check_unused(struct conf *c)
{
	for (struct conf_sec *s = c->secs; s != NULL; s = s->next) {
		char label[96];

		sec_label(s, label, sizeof(label));
		if (!s->used) {
			snprintf(c->err, sizeof(c->err), "%s:%u: unknown section %s", c->path,
				 s->line, label);
			return SP_ECONFIG;
		}
		for (struct conf_kv *kv = s->kv; kv != NULL; kv = kv->next) {
			if (!kv->used) {
				snprintf(c->err, sizeof(c->err), "%s:%u: unknown key '%s' in %s",
					 c->path, kv->line, kv->key, label);
				return SP_ECONFIG;
			}
			if (!kv->scalar)
				continue;
			for (struct conf_kv *o = s->kv; o != kv; o = o->next) {
				if (strcmp(o->key, kv->key) != 0)
					continue;
				snprintf(c->err, sizeof(c->err),
					 "%s:%u: key '%s' in %s repeats the one at line %u (only "
					 "list keys may repeat)",
					 c->path, kv->line, kv->key, label, o->line);
				return SP_ECONFIG;
			}
		}
	}
	return 0;
}

int conf_check_file(struct conf_sec *s, const struct conf_kv *kv, bool pem)
{
	char label[96], why[160], head[4096];
	struct stat st;
	FILE *f;
	size_t n;

	sec_label(s, label, sizeof(label));
	if (stat(kv->val, &st) != 0) {
		snprintf(why, sizeof(why), "%s", errno == ENOENT ? "not found" : strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		snprintf(why, sizeof(why), "is a directory, not a file");
	} else if ((f = fopen(kv->val, "r")) == NULL) {
		if (errno == EACCES)
			snprintf(why, sizeof(why),
				 "permission denied (mode %04o, owner uid %u; this process runs as "
				 "uid %u)",
				 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
				 (unsigned)geteuid());
		else
			snprintf(why, sizeof(why), "%s", strerror(errno));
	} else {
		n = fread(head, 1, sizeof(head) - 1, f);
		fclose(f);
		head[n] = '\0';
		if (n == 0)
			snprintf(why, sizeof(why), "is empty");
		else if (pem && strstr(head, "-----BEGIN ") == NULL)
			snprintf(why, sizeof(why), "not a PEM file (no '-----BEGIN ' line)");
		else
			return 0;
	}
	snprintf(s->conf->err, sizeof(s->conf->err), "%s:%u: in %s: %s = '%s': %s", s->conf->path,
		 kv->line, label, kv->key, kv->val, why);
	return SP_ECONFIG;
}
