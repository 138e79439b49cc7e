/* Rate-limited logging: a burst, then one line per interval, and the suppressed count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/log.h"

#include <stdio.h>
#include <string.h>

struct lines {
	unsigned n;
	char last[512];
};

static void sink(void *arg, int level, const char *module, const char *msg)
{
	struct lines *l = arg;

	(void)level;
	(void)module;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

static void bucket_refills_at_its_rate(void **state)
{
	struct sp_ratelimit rl;
	unsigned ok = 0;

	(void)state;
	sp_ratelimit_init(&rl, SP_SEC(1), 3);
	for (unsigned i = 0; i < 100; i++)
		ok += sp_ratelimit_ok(&rl, SP_SEC(10));
	assert_int_equal(ok, 3);
	assert_int_equal(rl.suppressed, 97);
	/* 2.5 s later: two tokens */
	ok = 0;
	for (unsigned i = 0; i < 10; i++)
		ok += sp_ratelimit_ok(&rl, SP_SEC(10) + SP_MSEC(2500));
	assert_int_equal(ok, 2);
	/* the half second left over counts toward the next token */
	assert_true(sp_ratelimit_ok(&rl, SP_SEC(13)));
	assert_false(sp_ratelimit_ok(&rl, SP_SEC(13)));
	/* a long pause fills the bucket, never beyond burst */
	ok = 0;
	for (unsigned i = 0; i < 10; i++)
		ok += sp_ratelimit_ok(&rl, SP_SEC(1000));
	assert_int_equal(ok, 3);
}

/* A flood of 100000 lines in 10 s writes burst + 10 lines; the first line after a
 * suppression says how many were lost. A zeroed bucket has the defaults. */
static void flood_is_bounded_and_reported(void **state)
{
	struct lines l = { 0 };
	struct sp_log lg = { sink, &l, SP_LOG_INFO };
	struct sp_ratelimit rl;

	(void)state;
	memset(&rl, 0, sizeof(rl));
	for (unsigned i = 0; i < 100000; i++)
		sp_logf_rl(&lg, &rl, SP_USEC(100) * i, SP_LOG_INFO, "t", "bad packet %u", i);
	assert_int_equal(l.n, SP_RL_BURST + 9);
	assert_non_null(strstr(l.last, "similar lines suppressed"));
	assert_int_equal(rl.suppressed_total, 100000 - 19);
	/* lines above the level take no token */
	lg.level = SP_LOG_WARN;
	for (unsigned i = 0; i < 100; i++)
		sp_logf_rl(&lg, &rl, SP_SEC(100), SP_LOG_INFO, "t", "quiet");
	assert_int_equal(rl.suppressed_total, 100000 - 19);
	lg.level = SP_LOG_INFO;
	l.n = 0;
	for (unsigned i = 0; i < 20; i++)
		sp_logf_rl(&lg, &rl, SP_SEC(100), SP_LOG_INFO, "t", "again");
	assert_int_equal(l.n, SP_RL_BURST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bucket_refills_at_its_rate),
		cmocka_unit_test(flood_is_bounded_and_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
