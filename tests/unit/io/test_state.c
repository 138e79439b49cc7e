/* The persisted start counter: it counts up across calls, survives as a file, and a
 * damaged file is an error rather than a silent restart at 1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void counts_and_refuses_damage(void **state)
{
	char dir[] = "/tmp/spinat-state.XXXXXX", path[256];
	uint64_t v = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/boots", dir);
	assert_int_equal(io_state_bump(path, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(io_state_bump(path, &v), 0);
	assert_int_equal(io_state_bump(path, &v), 0);
	assert_int_equal(v, 3);
	/* what a restarted daemon finds */
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fscanf(f, "%llu", (unsigned long long *)&v), 1);
	fclose(f);
	assert_int_equal(v, 3);
	assert_non_null(f = fopen(path, "w"));
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(io_state_bump(path, &v), SP_EMALFORMED);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(io_state_bump(path, &v), SP_EMALFORMED);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_and_refuses_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
