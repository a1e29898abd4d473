/*
 * String vectors (a slice's argv and envp) and the strict UTF-8 check every
 * request line passes before it is parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

static void test_push_and_length(void **state)
{
	(void)state;
	_cleanup_strv_free_ char **v = NULL;
	assert_int_equal(acre_strv_length(v), 0);
	assert_int_equal(acre_strv_push(&v, "redis-server"), 0);
	assert_int_equal(acre_strv_push(&v, "--port"), 0);
	assert_int_equal(acre_strv_push(&v, ""), 0);
	assert_int_equal(acre_strv_length(v), 3);
	assert_string_equal(v[0], "redis-server");
	assert_string_equal(v[1], "--port");
	assert_string_equal(v[2], "");
	assert_null(v[3]);
}

static void test_copy(void **state)
{
	(void)state;
	char a[] = "sh", b[] = "-c";
	char *src[] = {a, b, NULL};
	_cleanup_strv_free_ char **copy = acre_strv_copy(src);
	assert_non_null(copy);
	assert_int_equal(acre_strv_length(copy), 2);
	/* A deep copy: changing the source does not show through. */
	a[0] = 'X';
	assert_string_equal(copy[0], "sh");
	assert_string_equal(copy[1], "-c");
	assert_null(copy[2]);

	_cleanup_strv_free_ char **empty = acre_strv_copy(NULL);
	assert_non_null(empty);
	assert_null(empty[0]);
	acre_strv_free(NULL);
}

static void test_many(void **state)
{
	(void)state;
	_cleanup_strv_free_ char **v = NULL;
	char buf[16];
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "A%d=%d", i, i);
		assert_int_equal(acre_strv_push(&v, buf), 0);
	}
	assert_int_equal(acre_strv_length(v), 1000);
	assert_string_equal(v[999], "A999=999");
}

static bool utf8(const char *s)
{
	return acre_str_is_utf8(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(utf8(""));
	assert_true(utf8("plain ascii {\"op\":\"ps\"}"));
	assert_true(utf8("caf\xc3\xa9"));      /* U+00E9 */
	assert_true(utf8("\xc2\x80"));	       /* U+0080, smallest two-byte */
	assert_true(utf8("\xe0\xa0\x80"));     /* U+0800, smallest three-byte */
	assert_true(utf8("\xe2\x82\xac"));     /* U+20AC */
	assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
	assert_true(utf8("\xee\x80\x80"));     /* U+E000, just above them */
	assert_true(utf8("\xef\xbf\xbf"));     /* U+FFFF */
	assert_true(utf8("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
	/* Only len bytes count: a NUL inside is a character like others. */
	assert_true(acre_str_is_utf8("a\0b", 3));
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xff", /* never valid */
		"\xfe",
		"\x80", /* continuation without a lead */
		"a\xbf",
		"\xc3", /* sequence cut short */
		"caf\xc3",
		"\xe2\x82",
		"\xf0\x9f\x98",
		"\xc3\x28",		/* lead followed by a non-continuation */
		"\xc0\xaf",		/* overlong '/' */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\xaf",		/* overlong three-byte */
		"\xf0\x80\x80\xaf",	/* overlong four-byte */
		"\xed\xa0\x80",		/* U+D800, a surrogate */
		"\xed\xbf\xbf",		/* U+DFFF */
		"\xf4\x90\x80\x80",	/* U+110000, beyond Unicode */
		"\xf8\x88\x80\x80\x80", /* five-byte form */
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		if (utf8(bad[i]))
			fail_msg("bad[%zu] accepted", i);
	/* A valid sequence cut by the length given. */
	assert_false(acre_str_is_utf8("\xe2\x82\xac", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_and_length),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
	};
	return cmocka_run_group_tests_name("strv", tests, NULL, NULL);
}
