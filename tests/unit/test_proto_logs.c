/*
 * A slice's log over the node port (proto/logs.c): base64 both ways for
 * every length around the padding, bytes that are not UTF-8 intact, a
 * whole chunk within a line's bound, and malformed text refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

static void round_trip(const unsigned char *data, size_t len)
{
	size_t tlen = 0;
	char *text = acre_proto_base64_encode(data, len, &tlen);
	assert_non_null(text);
	assert_int_equal(strlen(text), tlen);
	assert_int_equal(tlen % 4, 0);
	unsigned char *back = NULL;
	size_t blen = 0;
	assert_int_equal(acre_proto_base64_decode(text, tlen, &back, &blen), 0);
	assert_int_equal(blen, len);
	if (len)
		assert_memory_equal(back, data, len);
	free(back);
	free(text);
}

static void test_round_trip_every_padding(void **state)
{
	(void)state;
	unsigned char bytes[300];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] =
			(unsigned char)(i * 37 + 11); /* every value, NUL and invalid UTF-8 too */
	for (size_t len = 0; len <= sizeof(bytes); len++)
		round_trip(bytes, len);
}

static void test_known_values(void **state)
{
	(void)state;
	char *t = acre_proto_base64_encode("hello\n", 6, NULL);
	assert_string_equal(t, "aGVsbG8K");
	free(t);
	t = acre_proto_base64_encode("\xff\xfe", 2, NULL);
	assert_string_equal(t, "//4=");
	free(t);
	unsigned char *out;
	size_t n;
	assert_int_equal(acre_proto_base64_decode("//4=", 4, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xfe);
	free(out);
}

static void test_chunk_fits_a_line(void **state)
{
	(void)state;
	unsigned char *chunk = calloc(1, ACRE_LOGS_CHUNK);
	size_t n = 0;
	char *t = acre_proto_base64_encode(chunk, ACRE_LOGS_CHUNK, &n);
	assert_non_null(t);
	/* The data and its envelope, with room to spare, under the line's bound. */
	assert_true(n + 256 < ACRE_PROTO_LINE_MAX / 8);
	free(t);
	free(chunk);
}

static void test_malformed_refused(void **state)
{
	(void)state;
	const char *bad[] = {"abc", "ab=c", "a===", "ab c", "ab\nc", "====", "ab*d", "Zm9v\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *out = (unsigned char *)"x";
		size_t n = 9;
		assert_int_equal(acre_proto_base64_decode(bad[i], strlen(bad[i]), &out, &n),
				 -EINVAL);
		assert_null(out);
		assert_int_equal(n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_padding),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_chunk_fits_a_line),
		cmocka_unit_test(test_malformed_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
