/*
 * The configuration file format shared by spinatd's roles and spinat-sim: INI-like
 * sections with a type and an optional name, and `key = value` lines (see docs/CONFIG.md).
 *
 *   # comment
 *   [gateway]
 *   strategy = masq
 *   [conn office]
 *   remote = 198.51.100.1
 *   lifetime = 8h
 *
 * A key may repeat (a list). Consumers read the keys they know with the typed getters,
 * which mark them used; conf_check_unused() then names any key nobody read, with its file
 * and line, so a typo is an error and not a silently ignored setting. Every getter error
 * leaves a message naming file, line, section, key and value in conf_error().
 */
#ifndef SP_BASE_CONF_H
#define SP_BASE_CONF_H

#include "base/sp.h"
#include "base/time.h"

#define CONF_MAX_LINE 1024

struct conf;

struct conf_kv {
	char *key;
	char *val;
	unsigned line;
	bool used;
	bool scalar; /* read by a single-value getter: may not repeat */
	struct conf_kv *next;
};

struct conf_sec {
	char *type;
	char *name; /* NULL when the header had no name */
	unsigned line;
	bool used;
	struct conf_kv *kv;
	struct conf_sec *next;
	struct conf *conf;
};

struct conf {
	char *path;
	struct conf_sec *secs;
	char err[320];
};

int conf_parse_file(const char *path, struct conf **out) SP_MUST_CHECK;
/* Parse text; name is used in messages. On a syntax error *out holds the conf whose
 * conf_error() explains it, and must still be freed. */
int conf_parse_string(const char *text, const char *name, struct conf **out) SP_MUST_CHECK;
void conf_free(struct conf *c);
const char *conf_error(const struct conf *c);

/* Next section of the given type after `after` (NULL: the first); type NULL: any. */
struct conf_sec *conf_next(struct conf *c, struct conf_sec *after, const char *type);
/* The section of this type and name (name NULL: the unnamed one), or NULL. */
struct conf_sec *conf_find(struct conf *c, const char *type, const char *name);

/* Raw value (the last one when repeated), or NULL when absent. Marks it used. */
const char *conf_get(struct conf_sec *s, const char *key);
/* Iterate the values of a repeated key: pass NULL first, then the previous kv. */
struct conf_kv *conf_next_kv(struct conf_sec *s, const char *key, struct conf_kv *prev);

/* Typed getters: absent key gives def; a present but bad value gives SP_ECONFIG. */
int conf_get_str(struct conf_sec *s, const char *key, const char *def,
		 const char **out) SP_MUST_CHECK;
int conf_get_u64(struct conf_sec *s, const char *key, uint64_t def, uint64_t min, uint64_t max,
		 uint64_t *out) SP_MUST_CHECK;
int conf_get_u32(struct conf_sec *s, const char *key, uint32_t def, uint32_t min, uint32_t max,
		 uint32_t *out) SP_MUST_CHECK;
/* yes/no, true/false, on/off, 1/0. */
int conf_get_bool(struct conf_sec *s, const char *key, bool def, bool *out) SP_MUST_CHECK;
/* Durations: "250ms", "30s", "5m", "2h", "1d"; a bare number is seconds. */
int conf_get_time(struct conf_sec *s, const char *key, sp_time def, sp_time *out) SP_MUST_CHECK;
/* Sizes: "1500", "64K", "10M", "1G" (powers of 1024). */
int conf_get_size(struct conf_sec *s, const char *key, uint64_t def, uint64_t *out) SP_MUST_CHECK;
int conf_get_ip4(struct conf_sec *s, const char *key, uint32_t def, uint32_t *out) SP_MUST_CHECK;
/* One of the NULL-terminated names; *out is its index. */
int conf_get_enum(struct conf_sec *s, const char *key, const char *const *names, int def,
		  int *out) SP_MUST_CHECK;
/* Hex bytes "0x0123..." or "0123..." of exactly len bytes (keys for manual keying). */
int conf_get_hex(struct conf_sec *s, const char *key, uint8_t *buf, size_t len,
		 bool required) SP_MUST_CHECK;
/* Fail with a message when a required key is absent. */
int conf_require(struct conf_sec *s, const char *key) SP_MUST_CHECK;

/* Record an error about a section (e.g. a cross-key check); returns SP_ECONFIG. */
int conf_fail(struct conf_sec *s, const char *fmt, ...) SP_PRINTF(2, 3);
/* SP_ECONFIG naming the first unread key or section (sections of ignored types count), or
 * the first key read as a single value (conf_get, conf_get_*) that appears more than once
 * in its section, with both lines. */
int conf_check_unused(struct conf *c) SP_MUST_CHECK;
/* A file named by kv: SP_ECONFIG naming file, line, key and path when it cannot be read, and
 * why (not found, permission denied for our uid, a directory, empty, or with pem not a PEM
 * file: no "-----BEGIN " line). Does not mark kv used. */
int conf_check_file(struct conf_sec *s, const struct conf_kv *kv, bool pem) SP_MUST_CHECK;

/* Parse helpers usable on strings from other sources (command lines). */
int conf_parse_time(const char *s, sp_time *out) SP_MUST_CHECK;
int conf_parse_size(const char *s, uint64_t *out) SP_MUST_CHECK;
int conf_parse_u64(const char *s, uint64_t *out) SP_MUST_CHECK;
int conf_parse_bool(const char *s, bool *out) SP_MUST_CHECK;

#endif
