/*
 * NDJSON framing: how the sockets cut a byte stream into requests.  Reads
 * arrive in arbitrary pieces, so a line may be split across feeds or several
 * may come at once; an over-long line costs one error reply and never the
 * connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

#define SMALL_MAX 16

static void feed_str(struct acre_frame_reader *r, const char *s)
{
	assert_int_equal(acre_frame_feed(r, s, strlen(s)), 0);
}

static void expect_line(struct acre_frame_reader *r, const char *want)
{
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(acre_frame_next(r, &line, &len), ACRE_FRAME_LINE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(line[len], '\0');
}

static void expect(struct acre_frame_reader *r, enum acre_frame_result want)
{
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(acre_frame_next(r, &line, &len), want);
}

static void test_line_split_across_feeds(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "{\"op\"");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, ":");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "\"ps\"}\n");
	expect_line(&r, "{\"op\":\"ps\"}");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_several_lines_in_one_feed(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "one\ntwo\nthree\nfou");
	expect_line(&r, "one");
	expect_line(&r, "two");
	expect_line(&r, "three");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "r\n");
	expect_line(&r, "four");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_crlf(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "a\r\nb\r");
	expect_line(&r, "a");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "\n\r\nc\rd\n");
	expect_line(&r, "b");
	expect_line(&r, "");
	/* Only a CR right before the newline is part of the line ending. */
	expect_line(&r, "c\rd");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_empty_lines(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "\n\nx\n\n");
	expect_line(&r, "");
	expect_line(&r, "");
	expect_line(&r, "x");
	expect_line(&r, "");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_nothing_fed(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	expect(&r, ACRE_FRAME_NONE);
	assert_int_equal(acre_frame_feed(&r, "", 0), 0);
	expect(&r, ACRE_FRAME_NONE);
}

static void test_line_of_exactly_max(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "0123456789abcdef\n");
	expect_line(&r, "0123456789abcdef");

	/* Without its newline yet, a full-length line is still only pending. */
	feed_str(&r, "fedcba9876543210");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "\n");
	expect_line(&r, "fedcba9876543210");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_line_of_exactly_default_max(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, ACRE_FRAME_MAX);
	_cleanup_free_ char *big = malloc(ACRE_FRAME_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', ACRE_FRAME_MAX + 1);
	big[ACRE_FRAME_MAX] = '\n';
	assert_int_equal(acre_frame_feed(&r, big, ACRE_FRAME_MAX + 1), 0);
	char *line;
	size_t len;
	assert_int_equal(acre_frame_next(&r, &line, &len), ACRE_FRAME_LINE);
	assert_int_equal(len, ACRE_FRAME_MAX);

	big[ACRE_FRAME_MAX] = 'x';
	big[ACRE_FRAME_MAX + 1] = '\n';
	assert_int_equal(acre_frame_feed(&r, big, ACRE_FRAME_MAX + 2), 0);
	feed_str(&r, "{}\n");
	expect(&r, ACRE_FRAME_TOO_LONG);
	expect_line(&r, "{}");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_too_long_ending_in_same_feed(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "first\n0123456789abcdefX\n{\"ok\":1}\n");
	expect_line(&r, "first");
	expect(&r, ACRE_FRAME_TOO_LONG);
	expect_line(&r, "{\"ok\":1}");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_too_long_by_one(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	/* Pending and one byte over the limit: reported before its newline comes. */
	feed_str(&r, "0123456789abcdefX");
	expect(&r, ACRE_FRAME_TOO_LONG);
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "\ngood\n");
	expect_line(&r, "good");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_too_long_across_many_feeds(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	unsigned too_long = 0, lines = 0;
	/* 500 bytes without a newline, read five at a time. */
	for (int i = 0; i < 100; i++) {
		feed_str(&r, "xxxxx");
		char *line;
		size_t len;
		enum acre_frame_result res;
		while ((res = acre_frame_next(&r, &line, &len)) != ACRE_FRAME_NONE) {
			if (res == ACRE_FRAME_TOO_LONG)
				too_long++;
			else
				lines++;
		}
	}
	assert_int_equal(too_long, 1);
	assert_int_equal(lines, 0);
	/* The reader holds none of the dropped bytes. */
	assert_true(r.len <= SMALL_MAX);

	feed_str(&r, "tail\n{\"id\":2}\n");
	expect_line(&r, "{\"id\":2}");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_too_long_fed_before_reading(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	for (int i = 0; i < 10; i++)
		feed_str(&r, "yyyyyyyy");
	feed_str(&r, "\nnext\n");
	expect(&r, ACRE_FRAME_TOO_LONG);
	expect_line(&r, "next");
	expect(&r, ACRE_FRAME_NONE);
}

static void test_too_long_then_discarding_feed_holds_next_lines(void **state)
{
	(void)state;
	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, SMALL_MAX);
	feed_str(&r, "zzzzzzzzzzzzzzzzzzzz");
	expect(&r, ACRE_FRAME_TOO_LONG);
	feed_str(&r, "zzzz");
	expect(&r, ACRE_FRAME_NONE);
	feed_str(&r, "zz\na\nb\n");
	expect_line(&r, "a");
	expect_line(&r, "b");
	expect(&r, ACRE_FRAME_NONE);
	/* A second over-long line is reported again. */
	feed_str(&r, "0123456789abcdefghij\nc\n");
	expect(&r, ACRE_FRAME_TOO_LONG);
	expect_line(&r, "c");
}

static void test_encode_ends_with_one_newline(void **state)
{
	(void)state;
	_cleanup_json_ json_t *msg =
		json_pack("{s:s,s:i,s:s}", "op", "run", "id", 7, "text", "two\nlines \xc3\xa9");
	assert_non_null(msg);
	size_t len = 0;
	_cleanup_free_ char *s = acre_frame_encode(msg, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_true(len >= 2);
	assert_int_equal(s[len - 1], '\n');
	/* The newline inside the string is escaped, so the frame has exactly one. */
	assert_ptr_equal(strchr(s, '\n'), s + len - 1);

	_cleanup_(acre_frame_free) struct acre_frame_reader r;
	acre_frame_init(&r, ACRE_FRAME_MAX);
	assert_int_equal(acre_frame_feed(&r, s, len), 0);
	char *line;
	size_t n;
	assert_int_equal(acre_frame_next(&r, &line, &n), ACRE_FRAME_LINE);
	assert_int_equal(n, len - 1);
	_cleanup_json_ json_t *back = json_loadb(line, n, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(msg, back));
	expect(&r, ACRE_FRAME_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_split_across_feeds),
		cmocka_unit_test(test_several_lines_in_one_feed),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_nothing_fed),
		cmocka_unit_test(test_line_of_exactly_max),
		cmocka_unit_test(test_line_of_exactly_default_max),
		cmocka_unit_test(test_too_long_ending_in_same_feed),
		cmocka_unit_test(test_too_long_by_one),
		cmocka_unit_test(test_too_long_across_many_feeds),
		cmocka_unit_test(test_too_long_fed_before_reading),
		cmocka_unit_test(test_too_long_then_discarding_feed_holds_next_lines),
		cmocka_unit_test(test_encode_ends_with_one_newline),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
