/*
 * What a slice's checks add up to: starting until each health check has
 * passed, unhealthy after `failures` in a row, healthy again at a pass;
 * grace forgives failures until the first pass; readiness on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/health_verdict.h"

static const struct acre_check http = {.kind = ACRE_CHECK_HTTP,
				       .grace_ms = 1000,
				       .interval_ms = 200,
				       .timeout_ms = 200,
				       .failures = 3};

struct verdict {
	enum acre_health health;
	bool ready;
	unsigned failures;
};

static struct verdict of(const struct health_standing *st, size_t n)
{
	struct verdict v;
	health_verdict(st, n, &v.health, &v.ready, &v.failures);
	return v;
}

static void test_none(void **state)
{
	(void)state;
	struct verdict v = of(NULL, 0);
	assert_int_equal(v.health, ACRE_HEALTH_NONE);
	assert_true(v.ready);
	assert_true(acre_health_serving(v.health, v.ready));
}

static void test_health_transitions(void **state)
{
	(void)state;
	struct health_standing st = {.check = &http};
	assert_int_equal(of(&st, 1).health, ACRE_HEALTH_STARTING);
	assert_false(acre_health_serving(ACRE_HEALTH_STARTING, true));
	/* Within grace, before a first pass: forgiven. */
	for (int i = 0; i < 5; i++)
		health_standing_record(&st, false, 100 + 200 * (uint64_t)i);
	assert_int_equal(st.failures, 0);
	assert_int_equal(of(&st, 1).health, ACRE_HEALTH_STARTING);
	health_standing_record(&st, true, 900);
	assert_int_equal(of(&st, 1).health, ACRE_HEALTH_HEALTHY);
	/* Once it passed, failures count even within grace; two are not enough. */
	health_standing_record(&st, false, 950);
	health_standing_record(&st, false, 980);
	struct verdict v = of(&st, 1);
	assert_int_equal(v.health, ACRE_HEALTH_HEALTHY);
	assert_int_equal(v.failures, 2);
	health_standing_record(&st, false, 1200);
	v = of(&st, 1);
	assert_int_equal(v.health, ACRE_HEALTH_UNHEALTHY);
	assert_int_equal(v.failures, 3);
	assert_false(acre_health_serving(v.health, v.ready));
	health_standing_record(&st, true, 1400);
	v = of(&st, 1);
	assert_int_equal(v.health, ACRE_HEALTH_HEALTHY);
	assert_int_equal(v.failures, 0);
}

static void test_grace_over(void **state)
{
	(void)state;
	/* Never passed: after grace, its failures count and it ends unhealthy. */
	struct health_standing st = {.check = &http};
	health_standing_record(&st, false, 500);
	health_standing_record(&st, false, 1000);
	health_standing_record(&st, false, 1200);
	assert_int_equal(of(&st, 1).health, ACRE_HEALTH_STARTING);
	health_standing_record(&st, false, 1400);
	assert_int_equal(of(&st, 1).health, ACRE_HEALTH_UNHEALTHY);
}

static void test_two_checks(void **state)
{
	(void)state;
	struct health_standing st[2] = {{.check = &http}, {.check = &http}};
	health_standing_record(&st[0], true, 0);
	assert_int_equal(of(st, 2).health, ACRE_HEALTH_STARTING); /* the second has not passed */
	health_standing_record(&st[1], true, 0);
	assert_int_equal(of(st, 2).health, ACRE_HEALTH_HEALTHY);
	for (int i = 0; i < 3; i++)
		health_standing_record(&st[1], false, 2000);
	assert_int_equal(of(st, 2).health, ACRE_HEALTH_UNHEALTHY); /* one down is enough */
}

static void test_readiness(void **state)
{
	(void)state;
	struct health_standing st[2] = {{.check = &http, .readiness = true}, {.check = &http}};
	struct verdict v = of(st, 1);
	assert_int_equal(v.health, ACRE_HEALTH_NONE); /* readiness alone: no health */
	assert_false(v.ready);
	health_standing_record(&st[0], true, 0);
	assert_true(of(st, 1).ready);
	assert_true(acre_health_serving(ACRE_HEALTH_NONE, true));
	health_standing_record(&st[0], false, 2000);
	health_standing_record(&st[0], false, 2000);
	assert_true(of(st, 1).ready);
	health_standing_record(&st[0], false, 2000);
	assert_false(of(st, 1).ready);
	/* With a health check too: both must say yes. */
	health_standing_record(&st[0], true, 2200);
	v = of(st, 2);
	assert_true(v.ready);
	assert_int_equal(v.health, ACRE_HEALTH_STARTING);
	assert_false(acre_health_serving(v.health, v.ready));
	health_standing_record(&st[1], true, 2200);
	v = of(st, 2);
	assert_true(acre_health_serving(v.health, v.ready));
}

static void test_names(void **state)
{
	(void)state;
	enum acre_health h;
	const char *names[] = {"none", "starting", "healthy", "unhealthy"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(names); i++) {
		assert_int_equal(acre_health_parse(names[i], &h), 0);
		assert_int_equal(h, i);
		assert_string_equal(acre_health_name(h), names[i]);
	}
	assert_int_equal(acre_health_parse("ok", &h), -EINVAL);
	assert_int_equal(acre_health_parse(NULL, &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),	   cmocka_unit_test(test_health_transitions),
		cmocka_unit_test(test_grace_over), cmocka_unit_test(test_two_checks),
		cmocka_unit_test(test_readiness),  cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("health_verdict", tests, NULL, NULL);
}
