/*
 * Where a log's last N lines begin (supervisor/log_tail.c), on real files:
 * a final newline closes the last line, a last line without one counts,
 * 0 lines is the end, more lines than the file has is its start, and
 * lines that straddle the reader's 64 KiB blocks are counted once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/log_tail.h"

#include <fcntl.h>

static int file_of(const char *text, size_t len)
{
	char path[] = "/tmp/acre-test-log-tail.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	return fd;
}

static off_t tail_of(const char *text, int64_t lines)
{
	int fd = file_of(text, strlen(text));
	off_t at = -1;
	assert_int_equal(log_tail_offset(fd, lines, &at), 0);
	close(fd);
	return at;
}

static void test_lines_with_final_newline(void **state)
{
	(void)state;
	const char *log = "one\ntwo\nthree\n";
	assert_int_equal(tail_of(log, 1), 8); /* "three\n" */
	assert_int_equal(tail_of(log, 2), 4); /* "two\nthree\n" */
	assert_int_equal(tail_of(log, 3), 0);
	assert_int_equal(tail_of(log, 4), 0);
	assert_int_equal(tail_of(log, 0), 14);
}

static void test_last_line_unfinished(void **state)
{
	(void)state;
	const char *log = "one\ntwo\nthr";
	assert_int_equal(tail_of(log, 1), 8); /* "thr" */
	assert_int_equal(tail_of(log, 2), 4);
	assert_int_equal(tail_of(log, 3), 0);
}

static void test_empty_and_blank_lines(void **state)
{
	(void)state;
	assert_int_equal(tail_of("", 5), 0);
	assert_int_equal(tail_of("", 0), 0);
	assert_int_equal(tail_of("\n", 1), 0);
	assert_int_equal(tail_of("a\n\n\n", 1), 3); /* the last, empty line */
	assert_int_equal(tail_of("a\n\n\n", 2), 2);
}

static void test_across_blocks(void **state)
{
	(void)state;
	/* 3000 lines of 100 bytes: several of the reader's 64 KiB blocks, lines across them. */
	size_t n = 3000, width = 100;
	char *text = malloc(n * width + 1);
	for (size_t i = 0; i < n; i++) {
		memset(text + i * width, 'a' + (int)(i % 26), width - 1);
		text[i * width + width - 1] = '\n';
	}
	text[n * width] = '\0';
	int64_t asks[] = {1, 655, 656, 1311, 2999, 3000, 3001};
	for (size_t k = 0; k < sizeof(asks) / sizeof(asks[0]); k++) {
		int64_t want = asks[k] > (int64_t)n ? (int64_t)n : asks[k];
		assert_int_equal(tail_of(text, asks[k]), (off_t)((n - (size_t)want) * width));
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_with_final_newline),
		cmocka_unit_test(test_last_line_unfinished),
		cmocka_unit_test(test_empty_and_blank_lines),
		cmocka_unit_test(test_across_blocks),
	};
	return cmocka_run_group_tests_name("log_tail", tests, NULL, NULL);
}
