#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/addr.h"

static void parse_and_format(void **state)
{
	uint32_t a;
	char buf[SP_IP4_STRLEN];

	(void)state;
	assert_int_equal(sp_ip4_parse("171.69.68.10", &a), 0);
	assert_int_equal(a, SP_IP4(171, 69, 68, 10));
	assert_string_equal(sp_ip4_fmt(a, buf), "171.69.68.10");
	assert_string_equal(sp_ip4_fmt(0xffffffff, buf), "255.255.255.255");
	static const char *const bad[] = { "",		"1.2.3",      "1.2.3.4.5",
					   "256.1.1.1", "1.2.3.4 ",   "a.b.c.d",
					   "1..2.3",	"1.2.3.1234", "01.2.3.-4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sp_ip4_parse(bad[i], &a), SP_EINVAL);
}

static void prefixes(void **state)
{
	uint32_t net;
	uint8_t len;

	(void)state;
	assert_int_equal(sp_ip4_prefix_parse("10.6.1.0/24", &net, &len, true), 0);
	assert_int_equal(net, SP_IP4(10, 6, 1, 0));
	assert_int_equal(len, 24);
	assert_true(sp_ip4_in_prefix(SP_IP4(10, 6, 1, 3), net, len));
	assert_false(sp_ip4_in_prefix(SP_IP4(10, 6, 2, 3), net, len));
	assert_int_equal(sp_ip4_prefix_parse("10.6.1.1/24", &net, &len, true), SP_EINVAL);
	assert_int_equal(sp_ip4_prefix_parse("10.6.1.1/24", &net, &len, false), 0);
	assert_int_equal(sp_ip4_prefix_parse("10.6.1.1/33", &net, &len, false), SP_EINVAL);
	assert_int_equal(sp_ip4_prefix_parse("0.0.0.0/0", &net, &len, true), 0);
	assert_int_equal(len, 0);
	assert_true(sp_ip4_in_prefix(SP_IP4(8, 8, 8, 8), net, len));
	assert_int_equal(sp_ip4_prefix_parse("1.2.3.4", &net, &len, true), 0);
	assert_int_equal(len, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_and_format),
		cmocka_unit_test(prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
