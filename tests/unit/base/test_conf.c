/* Configuration parser: syntax errors name the line, typed getters reject bad values,
 * unread keys are reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/conf.h"

static const char *good = "# top comment\n"
			  "[spinatd]\n"
			  "role = gateway   # trailing comment\n"
			  "\n"
			  "[conn office]\n"
			  "remote = 198.51.100.1\n"
			  "lifetime = 8h\n"
			  "margin = 540\n"
			  "window = 128\n"
			  "ts = 10.0.0.0/8\n"
			  "ts = 192.168.0.0/16\n"
			  "enabled = yes\n"
			  "note = \"hash # kept\"\n"
			  "key = 0x00112233\n"
			  "mode = tunnel\n";

static void parse_and_get(void **state)
{
	struct conf *c;
	struct conf_sec *s;
	const char *str;
	sp_time t;
	uint32_t u;
	uint32_t ip;
	bool b;
	int mode;
	uint8_t key[4];
	static const char *const modes[] = { "transport", "tunnel", NULL };
	int n = 0;

	(void)state;
	assert_int_equal(conf_parse_string(good, "t.conf", &c), 0);
	assert_non_null(s = conf_find(c, "spinatd", NULL));
	assert_int_equal(conf_get_str(s, "role", NULL, &str), 0);
	assert_string_equal(str, "gateway");
	assert_non_null(s = conf_find(c, "conn", "office"));
	assert_int_equal(conf_get_ip4(s, "remote", 0, &ip), 0);
	assert_int_equal(ip, 0xc6336401);
	assert_int_equal(conf_get_time(s, "lifetime", 0, &t), 0);
	assert_true(t == SP_SEC(8 * 3600));
	assert_int_equal(conf_get_time(s, "margin", 0, &t), 0);
	assert_true(t == SP_SEC(540));
	assert_int_equal(conf_get_u32(s, "window", 64, 32, 1024, &u), 0);
	assert_int_equal(u, 128);
	assert_int_equal(conf_get_u32(s, "absent", 64, 32, 1024, &u), 0);
	assert_int_equal(u, 64);
	for (struct conf_kv *kv = NULL; (kv = conf_next_kv(s, "ts", kv)) != NULL;)
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(conf_get_bool(s, "enabled", false, &b), 0);
	assert_true(b);
	assert_int_equal(conf_get_str(s, "note", NULL, &str), 0);
	assert_string_equal(str, "hash # kept");
	assert_int_equal(conf_get_hex(s, "key", key, 4, true), 0);
	assert_int_equal(key[3], 0x33);
	assert_int_equal(conf_get_enum(s, "mode", modes, 0, &mode), 0);
	assert_int_equal(mode, 1);
	assert_int_equal(conf_check_unused(c), 0);
	conf_free(c);
}

static void errors_name_file_line_key(void **state)
{
	struct conf *c;
	struct conf_sec *s;
	uint32_t u;
	sp_time t;

	(void)state;
	assert_int_equal(conf_parse_string("[a]\nx = 1\n[a]\n", "f.conf", &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "f.conf:3"));
	conf_free(c);
	assert_int_equal(conf_parse_string("x = 1\n", "f.conf", &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "before the first"));
	conf_free(c);
	assert_int_equal(conf_parse_string("[a\n", "f.conf", &c), SP_ECONFIG);
	conf_free(c);
	assert_int_equal(conf_parse_string("[a]\nnovalue\n", "f.conf", &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "f.conf:2"));
	conf_free(c);

	assert_int_equal(
		conf_parse_string("[a]\nwin = 5000\nt = 5 minutes\ntypo = 1\n", "g.conf", &c), 0);
	s = conf_find(c, "a", NULL);
	assert_int_equal(conf_get_u32(s, "win", 64, 32, 1024, &u), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "g.conf:2"));
	assert_non_null(strstr(conf_error(c), "from 32 to 1024"));
	assert_int_equal(conf_get_time(s, "t", 0, &t), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "'5 minutes'"));
	assert_int_equal(conf_check_unused(c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "unknown key 'typo'"));
	assert_non_null(strstr(conf_error(c), "g.conf:4"));
	conf_free(c);

	assert_int_equal(conf_parse_string("[zzz]\n", "h.conf", &c), 0);
	assert_int_equal(conf_check_unused(c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "unknown section [zzz]"));
	conf_free(c);
}

static void units(void **state)
{
	sp_time t;
	uint64_t v;

	(void)state;
	assert_int_equal(conf_parse_time("250ms", &t), 0);
	assert_true(t == SP_MSEC(250));
	assert_int_equal(conf_parse_time("2m", &t), 0);
	assert_true(t == SP_SEC(120));
	assert_int_equal(conf_parse_time("1d", &t), 0);
	assert_int_equal(conf_parse_time("1y", &t), SP_EINVAL);
	assert_int_equal(conf_parse_time("-1s", &t), SP_EINVAL);
	assert_int_equal(conf_parse_time("99999999999999999999", &t), SP_EINVAL);
	assert_int_equal(conf_parse_size("64K", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(conf_parse_size("1.5M", &v), SP_EINVAL);
}

/* A key read as one value may not repeat; a list key may. Both lines are named. */
static void duplicate_scalar_is_an_error(void **state)
{
	struct conf *c;
	struct conf_sec *s;
	const char *str;

	(void)state;
	assert_int_equal(conf_parse_string("[conn a]\npsk = one\nts = 10.0.0.0/8\n"
					   "ts = 10.1.0.0/16\npsk = two\n",
					   "d.conf", &c),
			 0);
	s = conf_find(c, "conn", "a");
	assert_int_equal(conf_get_str(s, "psk", NULL, &str), 0);
	for (struct conf_kv *kv = NULL; (kv = conf_next_kv(s, "ts", kv)) != NULL;)
		;
	assert_int_equal(conf_check_unused(c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "d.conf:5: key 'psk' in [conn a] repeats the one at "
					      "line 2"));
	conf_free(c);
	/* the list alone is fine */
	assert_int_equal(
		conf_parse_string("[conn a]\nts = 10.0.0.0/8\nts = 10.1.0.0/16\n", "d.conf", &c),
		0);
	s = conf_find(c, "conn", "a");
	for (struct conf_kv *kv = NULL; (kv = conf_next_kv(s, "ts", kv)) != NULL;)
		;
	assert_int_equal(conf_check_unused(c), 0);
	conf_free(c);
}

/* '#' starts a comment only after white space; quotes keep everything (docs/CONFIG.md). */
static void hash_in_values(void **state)
{
	struct conf *c;
	struct conf_sec *s;
	const char *a, *b, *q;

	(void)state;
	assert_int_equal(conf_parse_string("[x]\na = secret #comment\nb = sec#ret\n"
					   "q = \"secret #kept\"   # comment\n",
					   "h.conf", &c),
			 0);
	s = conf_find(c, "x", NULL);
	assert_int_equal(conf_get_str(s, "a", NULL, &a), 0);
	assert_int_equal(conf_get_str(s, "b", NULL, &b), 0);
	assert_int_equal(conf_get_str(s, "q", NULL, &q), 0);
	assert_string_equal(a, "secret");
	assert_string_equal(b, "sec#ret");
	assert_string_equal(q, "secret #kept");
	conf_free(c);
	assert_int_equal(conf_parse_string("[x]\nq = \"open\n", "h.conf", &c), SP_ECONFIG);
	assert_non_null(strstr(conf_error(c), "h.conf:2: unterminated quoted value"));
	conf_free(c);
}

/* Files named in a configuration: what is wrong with them, not just "not found". */
static void file_errors_say_what(void **state)
{
	char dir[] = "/tmp/spinat-conf-XXXXXX", path[128], text[512];
	struct conf *c;
	struct conf_sec *s;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text),
		 "[conn a]\ncert = %s/none.pem\nkey = %s\nca = %s/empty.pem\n"
		 "cert = %s/text.pem\nca = %s/ok.pem\n",
		 dir, dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/empty.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/text.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("just text\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ok.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
	assert_int_equal(conf_parse_string(text, "f.conf", &c), 0);
	s = conf_find(c, "conn", "a");
	{
		struct conf_kv *kv = s->kv;
		static const char *const want[] = { "f.conf:2: in [conn a]: cert = ",
						    "not found",
						    "f.conf:3:",
						    "is a directory",
						    "f.conf:4:",
						    "is empty",
						    "f.conf:5:",
						    "not a PEM file" };

		for (int i = 0; i < 4; i++, kv = kv->next) {
			assert_int_equal(conf_check_file(s, kv, true), SP_ECONFIG);
			assert_non_null(strstr(conf_error(c), want[2 * i]));
			assert_non_null(strstr(conf_error(c), want[2 * i + 1]));
		}
		assert_int_equal(conf_check_file(s, kv, true), 0);
		assert_false(kv->used);
	}
	if (geteuid() == 0) {
		/* root reads anything: the permission case is for other users (interop) */
	} else {
		snprintf(path, sizeof(path), "%s/ok.pem", dir);
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(conf_check_file(s, s->kv->next->next->next->next, true),
				 SP_ECONFIG);
		assert_non_null(strstr(conf_error(c), "permission denied (mode 0000"));
	}
	conf_free(c);
	snprintf(text, sizeof(text), "rm -rf %s", dir);
	assert_int_equal(system(text), 0);
}

/* A value that does not parse leaves its key without a value: freeing it (and wiping
 * every value on the way) must cope. Found by fuzz_conf. */
static void free_after_bad_value(void **state)
{
	struct conf *c = NULL;

	(void)state;
	assert_int_not_equal(conf_parse_string("[s]\npsk = secret\nnote = \"a # open\n", "t", &c),
			     0);
	assert_non_null(c);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_and_get),
		cmocka_unit_test(errors_name_file_line_key),
		cmocka_unit_test(units),
		cmocka_unit_test(duplicate_scalar_is_an_error),
		cmocka_unit_test(hash_in_values),
		cmocka_unit_test(file_errors_say_what),
		cmocka_unit_test(free_after_bad_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
