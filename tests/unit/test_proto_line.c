/*
 * NDJSON framing: how the sockets cut a byte stream into requests, through
 * both line readers — the fd reader (bytes fed in) and the libevent one
 * (lines read in place in an evbuffer).  Reads arrive in arbitrary pieces,
 * so a line may be split across feeds or several may come at once; an
 * over-long line costs one error reply and never the connection, and the
 * line after it is read as usual.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#define SMALL_MAX 16

static void feed_str(struct acre_proto_frame *r, const char *s)
{
	assert_int_equal(acre_proto_frame_feed(r, s, strlen(s)), 0);
}

static void expect_line(struct acre_proto_frame *r, const char *want)
{
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(acre_proto_frame_next(r, &line, &len), ACRE_PROTO_LINE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(line[len], '\0');
}

static void expect(struct acre_proto_frame *r, enum acre_proto_line want)
{
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(acre_proto_frame_next(r, &line, &len), want);
}

static void test_line_split_across_feeds(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "{\"op\"");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, ":");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "\"ps\"}\n");
	expect_line(&r, "{\"op\":\"ps\"}");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_several_lines_in_one_feed(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "one\ntwo\nthree\nfou");
	expect_line(&r, "one");
	expect_line(&r, "two");
	expect_line(&r, "three");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "r\n");
	expect_line(&r, "four");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_crlf(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "a\r\nb\r");
	expect_line(&r, "a");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "\n\r\nc\rd\n");
	expect_line(&r, "b");
	expect_line(&r, "");
	/* Only a CR right before the newline is part of the line ending. */
	expect_line(&r, "c\rd");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_empty_lines(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "\n\nx\n\n");
	expect_line(&r, "");
	expect_line(&r, "");
	expect_line(&r, "x");
	expect_line(&r, "");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_nothing_fed(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	expect(&r, ACRE_PROTO_LINE_WAIT);
	assert_int_equal(acre_proto_frame_feed(&r, "", 0), 0);
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_line_of_exactly_max(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "0123456789abcdef\n");
	expect_line(&r, "0123456789abcdef");

	/* Without its newline yet, a full-length line is still only pending. */
	feed_str(&r, "fedcba9876543210");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "\n");
	expect_line(&r, "fedcba9876543210");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_line_of_exactly_default_max(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, ACRE_PROTO_LINE_MAX);
	_cleanup_free_ char *big = malloc(ACRE_PROTO_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', ACRE_PROTO_LINE_MAX + 1);
	big[ACRE_PROTO_LINE_MAX] = '\n';
	assert_int_equal(acre_proto_frame_feed(&r, big, ACRE_PROTO_LINE_MAX + 1), 0);
	char *line;
	size_t len;
	assert_int_equal(acre_proto_frame_next(&r, &line, &len), ACRE_PROTO_LINE);
	assert_int_equal(len, ACRE_PROTO_LINE_MAX);

	big[ACRE_PROTO_LINE_MAX] = 'x';
	big[ACRE_PROTO_LINE_MAX + 1] = '\n';
	assert_int_equal(acre_proto_frame_feed(&r, big, ACRE_PROTO_LINE_MAX + 2), 0);
	feed_str(&r, "{}\n");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	expect_line(&r, "{}");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_too_long_ending_in_same_feed(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "first\n0123456789abcdefX\n{\"ok\":1}\n");
	expect_line(&r, "first");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	expect_line(&r, "{\"ok\":1}");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_too_long_by_one(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	/* Pending and one byte over the limit: reported before its newline comes. */
	feed_str(&r, "0123456789abcdefX");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "\ngood\n");
	expect_line(&r, "good");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_too_long_across_many_feeds(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	unsigned too_long = 0, lines = 0;
	/* 500 bytes without a newline, read five at a time. */
	for (int i = 0; i < 100; i++) {
		feed_str(&r, "xxxxx");
		char *line;
		size_t len;
		enum acre_proto_line res;
		while ((res = acre_proto_frame_next(&r, &line, &len)) != ACRE_PROTO_LINE_WAIT) {
			if (res == ACRE_PROTO_LINE_TOO_LONG)
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
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_too_long_fed_before_reading(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	for (int i = 0; i < 10; i++)
		feed_str(&r, "yyyyyyyy");
	feed_str(&r, "\nnext\n");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	expect_line(&r, "next");
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

static void test_too_long_then_discarding_feed_holds_next_lines(void **state)
{
	(void)state;
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, SMALL_MAX);
	feed_str(&r, "zzzzzzzzzzzzzzzzzzzz");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	feed_str(&r, "zzzz");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	feed_str(&r, "zz\na\nb\n");
	expect_line(&r, "a");
	expect_line(&r, "b");
	expect(&r, ACRE_PROTO_LINE_WAIT);
	/* A second over-long line is reported again. */
	feed_str(&r, "0123456789abcdefghij\nc\n");
	expect(&r, ACRE_PROTO_LINE_TOO_LONG);
	expect_line(&r, "c");
}

static void test_encode_ends_with_one_newline(void **state)
{
	(void)state;
	_cleanup_json_ json_t *msg =
		json_pack("{s:s,s:i,s:s}", "op", "run", "id", 7, "text", "two\nlines \xc3\xa9");
	assert_non_null(msg);
	size_t len = 0;
	_cleanup_free_ char *s = acre_proto_frame_encode(msg, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_true(len >= 2);
	assert_int_equal(s[len - 1], '\n');
	/* The newline inside the string is escaped, so the frame has exactly one. */
	assert_ptr_equal(strchr(s, '\n'), s + len - 1);

	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, ACRE_PROTO_LINE_MAX);
	assert_int_equal(acre_proto_frame_feed(&r, s, len), 0);
	char *line;
	size_t n;
	assert_int_equal(acre_proto_frame_next(&r, &line, &n), ACRE_PROTO_LINE);
	assert_int_equal(n, len - 1);
	_cleanup_json_ json_t *back = json_loadb(line, n, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(msg, back));
	expect(&r, ACRE_PROTO_LINE_WAIT);
}

/* ---- over 1 MiB, for real: through a socket into the fd reader ---- */

/* Writes `n` bytes of `c` (and then `tail`) into `w`, reading each piece back from `rd`
 * into the reader as the supervisor does, 64 KiB at a time; counts what comes out. */
static void pump(int w, int rd, struct acre_proto_frame *r, char c, size_t n, const char *tail,
		 unsigned *too_long, unsigned *lines, char *last, size_t last_size)
{
	static char chunk[65536];
	size_t tail_len = strlen(tail);
	while (n > 0 || tail_len > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
		if (k > 0) {
			memset(chunk, c, k);
			n -= k;
		} else {
			memcpy(chunk, tail, tail_len);
			k = tail_len;
			tail_len = 0;
		}
		assert_int_equal(write(w, chunk, k), (ssize_t)k);
		char buf[65536];
		size_t got = 0;
		while (got < k) {
			ssize_t m = read(rd, buf, sizeof(buf));
			assert_true(m > 0);
			got += (size_t)m;
			assert_int_equal(acre_proto_frame_feed(r, buf, (size_t)m), 0);
			char *line;
			size_t len;
			enum acre_proto_line res;
			while ((res = acre_proto_frame_next(r, &line, &len)) !=
			       ACRE_PROTO_LINE_WAIT) {
				if (res == ACRE_PROTO_LINE_TOO_LONG) {
					(*too_long)++;
					continue;
				}
				(*lines)++;
				snprintf(last, last_size, "%s", line);
			}
			/* Never more than one maximal line and one read held. */
			assert_true(r->len <= ACRE_PROTO_LINE_MAX + sizeof(buf));
		}
	}
}

static void test_fd_reader_over_one_mib(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	_cleanup_(acre_proto_frame_free) struct acre_proto_frame r;
	acre_proto_frame_init(&r, ACRE_PROTO_LINE_MAX);
	unsigned too_long = 0, lines = 0;
	char last[64] = "";
	/* 3 MiB and a bit on one line: said once, however many reads it takes. */
	pump(sv[0], sv[1], &r, 'x', 3 * ACRE_PROTO_LINE_MAX + 17, "\n{\"id\":1}\n", &too_long,
	     &lines, last, sizeof(last));
	assert_int_equal(too_long, 1);
	assert_int_equal(lines, 1);
	assert_string_equal(last, "{\"id\":1}");
	/* Exactly the limit is still a line; one byte more is not. */
	pump(sv[0], sv[1], &r, 'y', ACRE_PROTO_LINE_MAX, "\n", &too_long, &lines, last,
	     sizeof(last));
	assert_int_equal(too_long, 1);
	assert_int_equal(lines, 2);
	pump(sv[0], sv[1], &r, 'z', ACRE_PROTO_LINE_MAX + 1, "\nnext\n", &too_long, &lines, last,
	     sizeof(last));
	assert_int_equal(too_long, 2);
	assert_int_equal(lines, 3);
	assert_string_equal(last, "next");
	close(sv[0]);
	close(sv[1]);
}

/* ---- the libevent reader ---- */

static void evbuffer_freep(struct evbuffer **b)
{
	if (*b)
		evbuffer_free(*b);
}

static void add_str(struct evbuffer *b, const char *s)
{
	assert_int_equal(evbuffer_add(b, s, strlen(s)), 0);
}

static void add_bytes(struct evbuffer *b, char c, size_t n)
{
	char *p = malloc(n);
	assert_non_null(p);
	memset(p, c, n);
	assert_int_equal(evbuffer_add(b, p, n), 0);
	free(p);
}

/* The next line is `want`; drained as the node port's readers do once they handled it. */
static void expect_ev_line(struct evbuffer *b, bool *discarding, const char *want)
{
	char *line = NULL;
	size_t len = 0;
	assert_int_equal(acre_proto_line_next(b, discarding, &line, &len), ACRE_PROTO_LINE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(line[len], '\0');
	evbuffer_drain(b, len + 1);
}

static void expect_ev(struct evbuffer *b, bool *discarding, enum acre_proto_line want)
{
	char *line;
	size_t len;
	assert_int_equal(acre_proto_line_next(b, discarding, &line, &len), want);
}

static void test_evbuffer_lines(void **state)
{
	(void)state;
	_cleanup_(evbuffer_freep) struct evbuffer *b = evbuffer_new();
	bool discarding = false;
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	add_str(b, "{\"op\"");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	add_str(b, ":\"sync\"}\none\n\ntw");
	expect_ev_line(b, &discarding, "{\"op\":\"sync\"}");
	expect_ev_line(b, &discarding, "one");
	expect_ev_line(b, &discarding, "");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	add_str(b, "o\n");
	expect_ev_line(b, &discarding, "two");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	assert_int_equal(evbuffer_get_length(b), 0);
}

static void test_evbuffer_over_one_mib(void **state)
{
	(void)state;
	_cleanup_(evbuffer_freep) struct evbuffer *b = evbuffer_new();
	bool discarding = false;
	/* Exactly the limit, even without its newline yet, may still become a line. */
	add_bytes(b, 'x', ACRE_PROTO_LINE_MAX);
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	add_str(b, "\n");
	char *line;
	size_t len;
	assert_int_equal(acre_proto_line_next(b, &discarding, &line, &len), ACRE_PROTO_LINE);
	assert_int_equal(len, ACRE_PROTO_LINE_MAX);
	evbuffer_drain(b, len + 1);

	/* One byte over, its end not here yet: reported once, and nothing of it kept. */
	add_bytes(b, 'y', ACRE_PROTO_LINE_MAX + 1);
	expect_ev(b, &discarding, ACRE_PROTO_LINE_TOO_LONG);
	assert_int_equal(evbuffer_get_length(b), 0);
	for (int i = 0; i < 40; i++) {
		add_bytes(b, 'y', 65536);
		expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
		assert_int_equal(evbuffer_get_length(b), 0);
	}
	/* Its end, and the next line in the same read: read as usual. */
	add_str(b, "yyy\n{\"id\":2}\n");
	expect_ev_line(b, &discarding, "{\"id\":2}");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
	assert_false(discarding);

	/* An over-long line that arrives whole with its newline, then a second one. */
	add_bytes(b, 'z', ACRE_PROTO_LINE_MAX + 5);
	add_str(b, "\na\n");
	add_bytes(b, 'w', 2 * ACRE_PROTO_LINE_MAX);
	add_str(b, "\nb\n");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_TOO_LONG);
	expect_ev_line(b, &discarding, "a");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_TOO_LONG);
	expect_ev_line(b, &discarding, "b");
	expect_ev(b, &discarding, ACRE_PROTO_LINE_WAIT);
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
		cmocka_unit_test(test_fd_reader_over_one_mib),
		cmocka_unit_test(test_evbuffer_lines),
		cmocka_unit_test(test_evbuffer_over_one_mib),
	};
	return cmocka_run_group_tests_name("proto_line", tests, NULL, NULL);
}
