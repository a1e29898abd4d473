/*
 * The restart back-off: 1 s × 1.15^n, at most an hour, and back to 1 s
 * for an instance that was healthy for reset_after before it failed
 * again; a spec's own curve is followed the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/apps/apps.h"

static const struct app_backoff dflt = {APP_BACKOFF_INITIAL_MS, APP_BACKOFF_FACTOR_MILLI,
					APP_BACKOFF_MAX_MS, APP_BACKOFF_RESET_AFTER_MS};

static void test_curve(void **state)
{
	(void)state;
	assert_int_equal(app_backoff_delay_ms(&dflt, 0), 1000);
	assert_int_equal(app_backoff_delay_ms(&dflt, 1), 1150);
	assert_int_equal(app_backoff_delay_ms(&dflt, 2), 1323); /* 1322.5 */
	assert_int_equal(app_backoff_delay_ms(&dflt, 10), 4046);
	assert_int_equal(app_backoff_delay_ms(&dflt, 50), 1083657);
	/* 1.15^59 s is past the hour: capped from there on, however many failures. */
	assert_int_equal(app_backoff_delay_ms(&dflt, 58), 3314933);
	assert_int_equal(app_backoff_delay_ms(&dflt, 59), 3600000);
	assert_int_equal(app_backoff_delay_ms(&dflt, 100000), 3600000);
	assert_int_equal(app_backoff_delay_ms(&dflt, UINT32_MAX), 3600000);
	/* Never shorter for a later failure. */
	for (unsigned n = 1; n < 200; n++)
		assert_true(app_backoff_delay_ms(&dflt, n) >= app_backoff_delay_ms(&dflt, n - 1));
	/* A flat curve, and one whose cap is its start. */
	struct app_backoff flat = {500, 1000, 3600000, 0};
	assert_int_equal(app_backoff_delay_ms(&flat, 1000000), 500);
	struct app_backoff capped = {2000, 2000, 2000, 0};
	assert_int_equal(app_backoff_delay_ms(&capped, 3), 2000);
}

static void test_restarts(void **state)
{
	(void)state;
	struct app_restarts r = {0};
	int64_t now = 1000000;
	/* A crash loop: each failure waits longer. */
	assert_int_equal(app_restarts_failed(&dflt, &r, now), 1000);
	assert_int_equal(r.not_before_ms, now + 1000);
	assert_int_equal(app_restarts_failed(&dflt, &r, now + 2000), 1150);
	assert_int_equal(app_restarts_failed(&dflt, &r, now + 5000), 1323);
	assert_int_equal(r.n, 3);
	/* Healthy for a while, but less than reset_after: the count goes on. */
	app_restarts_healthy(&r, now + 10000);
	assert_int_equal(app_restarts_failed(&dflt, &r, now + 10000 + 60000), 1521);
	/* Healthy for reset_after (10 min): the next failure starts the curve again. */
	app_restarts_healthy(&r, now + 100000);
	app_restarts_healthy(&r, now + 500000); /* still the same healthy period */
	assert_int_equal(app_restarts_failed(&dflt, &r, now + 100000 + 600000), 1000);
	assert_int_equal(r.n, 1);
	assert_false(r.healthy);
}

static void test_spec_curve(void **state)
{
	(void)state;
	struct app_spec s;
	struct acre_error err = {0};
	_cleanup_json_ json_t *j = json_pack(
		"{s:s,s:{s:[s]},s:{s:s,s:f,s:s,s:s}}", "name", "a", "slice", "command", "/x",
		"backoff", "initial", "500ms", "factor", 2.0, "max", "4s", "reset_after", "1m");
	assert_int_equal(app_spec_parse(j, &s, &err), 0);
	assert_int_equal(app_backoff_delay_ms(&s.backoff, 0), 500);
	assert_int_equal(app_backoff_delay_ms(&s.backoff, 3), 4000);
	assert_int_equal(app_backoff_delay_ms(&s.backoff, 4), 4000);
	struct app_restarts r = {0};
	app_restarts_healthy(&r, 0);
	assert_int_equal(app_restarts_failed(&s.backoff, &r, 59999), 500);
	assert_int_equal(app_restarts_failed(&s.backoff, &r, 70000), 1000);
	app_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curve),
		cmocka_unit_test(test_restarts),
		cmocka_unit_test(test_spec_curve),
	};
	return cmocka_run_group_tests_name("app backoff", tests, NULL, NULL);
}
