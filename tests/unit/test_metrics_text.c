/*
 * The Prometheus text format (supervisor/metrics_text.c): label values
 * escape backslash, double quote and line feed and nothing else; HELP text
 * escapes backslash and line feed; integers print exactly; a histogram's
 * buckets come out cumulative with +Inf equal to _count; values print as
 * the shortest text that reads back the same, with +Inf and NaN spelled as
 * the format spells them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/metrics_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What was written, as a string to free. */
static char *text_of(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static char *label_value(const char *v)
{
	struct evbuffer *b = evbuffer_new();
	metrics_label_value(b, v);
	return text_of(b);
}

static void test_label_escaping(void **state)
{
	(void)state;
	const struct {
		const char *in, *out;
	} cases[] = {
		{"web", "\"web\""},
		{"", "\"\""},
		{"a\\b", "\"a\\\\b\""},
		{"say \"hi\"", "\"say \\\"hi\\\"\""},
		{"two\nlines", "\"two\\nlines\""},
		{"\\\"\n", "\"\\\\\\\"\\n\""},
		/* Only those three: tabs, braces, commas, equals signs and UTF-8 pass as they are.
		 */
		{"t\tb{c},d=e é", "\"t\tb{c},d=e é\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = label_value(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	char *got = label_value(NULL);
	assert_string_equal(got, "\"\"");
	free(got);
}

static void test_family_and_samples(void **state)
{
	(void)state;
	struct evbuffer *b = evbuffer_new();
	metrics_family(b, "acre_slice_pids", "gauge", "Processes\nof a \\ slice \"quoted\".");
	struct metrics_label l[] = {{"slice", "web-1"}, {"app", "a\"p\\p\n"}, {"install", NULL}};
	metrics_sample(b, "acre_slice_pids", l, 3, 12);
	metrics_sample(b, "acre_node_up", NULL, 0, 0.25);
	metrics_sample_u64(b, "acre_big_total", l, 1, UINT64_MAX);
	metrics_sample(b, "acre_x", NULL, 0, INFINITY);
	metrics_sample(b, "acre_x", NULL, 0, -INFINITY);
	metrics_sample(b, "acre_x", NULL, 0, NAN);
	metrics_sample(b, "acre_x", NULL, 0, 0.1);
	metrics_sample(b, "acre_x", NULL, 0, 1e-6);
	char *got = text_of(b);
	assert_string_equal(
		got, "# HELP acre_slice_pids Processes\\nof a \\\\ slice \"quoted\".\n"
		     "# TYPE acre_slice_pids gauge\n"
		     "acre_slice_pids{slice=\"web-1\",app=\"a\\\"p\\\\p\\n\",install=\"\"} 12\n"
		     "acre_node_up 0.25\n"
		     "acre_big_total{slice=\"web-1\"} 18446744073709551615\n"
		     "acre_x +Inf\n"
		     "acre_x -Inf\n"
		     "acre_x NaN\n"
		     "acre_x 0.1\n"
		     "acre_x 1e-06\n");
	free(got);
}

static void test_histogram(void **state)
{
	(void)state;
	const double bounds[] = {2e-6, 4e-6, 8e-6};
	const uint64_t counts[] = {3, 0, 2, 1}; /* the last: above 8 us */
	struct metrics_histogram h = {.bounds = bounds, .counts = counts, .nbounds = 3, .sum = 0.5};
	struct metrics_label l[] = {{"slice", "x\"y"}};
	struct evbuffer *b = evbuffer_new();
	metrics_histogram(b, "acre_h_seconds", l, 1, &h);
	metrics_histogram(b, "acre_plain_seconds", NULL, 0, &h);
	char *got = text_of(b);
	assert_string_equal(got, "acre_h_seconds_bucket{slice=\"x\\\"y\",le=\"2e-06\"} 3\n"
				 "acre_h_seconds_bucket{slice=\"x\\\"y\",le=\"4e-06\"} 3\n"
				 "acre_h_seconds_bucket{slice=\"x\\\"y\",le=\"8e-06\"} 5\n"
				 "acre_h_seconds_bucket{slice=\"x\\\"y\",le=\"+Inf\"} 6\n"
				 "acre_h_seconds_sum{slice=\"x\\\"y\"} 0.5\n"
				 "acre_h_seconds_count{slice=\"x\\\"y\"} 6\n"
				 "acre_plain_seconds_bucket{le=\"2e-06\"} 3\n"
				 "acre_plain_seconds_bucket{le=\"4e-06\"} 3\n"
				 "acre_plain_seconds_bucket{le=\"8e-06\"} 5\n"
				 "acre_plain_seconds_bucket{le=\"+Inf\"} 6\n"
				 "acre_plain_seconds_sum 0.5\n"
				 "acre_plain_seconds_count 6\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_histogram),
	};
	return cmocka_run_group_tests_name("metrics_text", tests, NULL, NULL);
}
