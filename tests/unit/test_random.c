/*
 * Random bytes and their hex text (node secrets, node ids, slice and cgroup
 * names): the encoding against known values, and two draws that differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

static void test_hex_encode(void **state)
{
	(void)state;
	static const unsigned char raw[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(raw) + 1];
	memset(out, 'x', sizeof(out));
	acre_hex_encode(raw, sizeof(raw), out);
	assert_string_equal(out, "00017f80abff");
	acre_hex_encode(raw, 0, out);
	assert_string_equal(out, "");
}

static void test_random_bytes(void **state)
{
	(void)state;
	unsigned char a[32] = {0}, b[32] = {0};
	assert_int_equal(acre_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(acre_random_bytes(b, sizeof(b)), 0);
	/* 2^-256 of failing by chance. */
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
