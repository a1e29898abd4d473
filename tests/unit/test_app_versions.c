/*
 * An app's versions: a change of spec is a new number, an equal spec is
 * no change, a scale is a version whose instances stay those of the one
 * before, a rollback finds the last healthy version and takes its
 * instances back, only `history` versions are kept (and the newest healthy
 * one besides), and the whole history survives a trip through JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/apps/apps.h"

/* An app whose command line and size vary, to make changes of either kind. */
static void spec(struct app_spec *s, const char *arg, unsigned instances, unsigned history)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *j =
		json_pack("{s:s,s:i,s:i,s:{s:[s,s]}}", "name", "web", "instances", instances,
			  "history", history, "slice", "command", "/bin/web", arg);
	assert_non_null(j);
	if (app_spec_parse(j, s, &err) < 0)
		fail_msg("spec refused: %s", err.message);
}

static uint32_t add(struct app_versions *h, const char *arg, unsigned instances, unsigned history,
		    int expect)
{
	struct app_spec s;
	struct acre_error err = {0};
	uint32_t n = 0;
	spec(&s, arg, instances, history);
	assert_int_equal(app_versions_add(h, &s, 1000, &n, &err), expect);
	app_spec_free(&s);
	return n;
}

static void test_numbers_and_equality(void **state)
{
	(void)state;
	struct app_versions h = {0};
	assert_null(app_versions_latest(&h));
	assert_int_equal(add(&h, "v1", 3, 10, 1), 1);
	/* The same spec again is no change, whatever the caller thinks. */
	assert_int_equal(add(&h, "v1", 3, 10, 0), 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(add(&h, "v2", 3, 10, 1), 2);
	assert_int_equal(app_versions_latest(&h)->number, 2);
	assert_int_equal(app_versions_latest(&h)->instance_version, 2);
	assert_int_equal(app_versions_latest(&h)->created_at, 1000);
	assert_non_null(app_versions_find(&h, 1));
	assert_null(app_versions_find(&h, 9));
	app_versions_free(&h);
}

static void test_scale_keeps_instances(void **state)
{
	(void)state;
	struct app_versions h = {0};
	add(&h, "v1", 3, 10, 1);
	/* Scaling is a version, and its instances are version 1's: nothing is replaced. */
	assert_int_equal(add(&h, "v1", 10, 10, 1), 2);
	assert_int_equal(app_versions_latest(&h)->instance_version, 1);
	assert_int_equal(add(&h, "v2", 10, 10, 1), 3);
	assert_int_equal(app_versions_latest(&h)->instance_version, 3);
	app_versions_free(&h);
}

static void test_rollback_target(void **state)
{
	(void)state;
	struct app_versions h = {0};
	add(&h, "v1", 3, 10, 1);
	/* A first deployment has nothing to go back to. */
	assert_null(app_versions_rollback_target(&h, 1));
	assert_int_equal(app_versions_mark_healthy(&h, 1), 0);
	assert_int_equal(app_versions_mark_healthy(&h, 7), -ENOENT);
	add(&h, "v1", 5, 10, 1); /* 2: a scale, healthy too */
	assert_int_equal(app_versions_mark_healthy(&h, 2), 0);
	add(&h, "bad", 5, 10, 1); /* 3: fails */
	const struct app_version *to = app_versions_rollback_target(&h, 3);
	assert_non_null(to);
	assert_int_equal(to->number, 2);
	/* Going back is a new version whose instances are those still running. */
	struct app_spec s;
	struct acre_error err = {0};
	uint32_t n;
	assert_int_equal(app_spec_parse(to->spec, &s, &err), 0);
	assert_int_equal(app_versions_add(&h, &s, 2000, &n, &err), 1);
	assert_int_equal(n, 4);
	assert_int_equal(app_versions_latest(&h)->instance_version, 1);
	app_spec_free(&s);
	app_versions_free(&h);
}

static void test_history_kept(void **state)
{
	(void)state;
	struct app_versions h = {0};
	char arg[16];
	add(&h, "v1", 3, 3, 1);
	app_versions_mark_healthy(&h, 1);
	for (int i = 2; i <= 6; i++) {
		snprintf(arg, sizeof(arg), "v%d", i);
		assert_int_equal(add(&h, arg, 3, 3, 1), (uint32_t)i);
	}
	/* The newest three, and version 1: the newest healthy one, which a rollback needs. */
	assert_int_equal(h.n, 4);
	assert_int_equal(h.v[0].number, 1);
	assert_int_equal(h.v[1].number, 4);
	assert_int_equal(h.v[3].number, 6);
	assert_int_equal(app_versions_rollback_target(&h, 6)->number, 1);
	/* Once a newer one is healthy, the old one goes. */
	app_versions_mark_healthy(&h, 5);
	add(&h, "v7", 3, 3, 1);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.v[0].number, 5);
	/* Numbers are never reused, whatever was dropped. */
	assert_int_equal(h.last, 7);
	app_versions_free(&h);
}

static void test_json(void **state)
{
	(void)state;
	struct app_versions h = {0}, back;
	struct acre_error err = {0};
	add(&h, "v1", 3, 10, 1);
	app_versions_mark_healthy(&h, 1);
	add(&h, "v1", 4, 10, 1);
	_cleanup_json_ json_t *j = app_versions_to_json(&h);
	assert_non_null(j);
	assert_int_equal(app_versions_from_json(j, &back, &err), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.last, 2);
	assert_true(back.v[0].healthy);
	assert_int_equal(back.v[1].instance_version, 1);
	assert_true(json_equal(back.v[1].spec, h.v[1].spec));
	/* The next change goes on from the numbers read. */
	assert_int_equal(add(&back, "v3", 4, 10, 1), 3);
	app_versions_free(&back);

	_cleanup_json_ json_t *bad =
		json_pack("{s:i,s:[{s:i}]}", "last", 1, "versions", "number", 1);
	assert_int_equal(app_versions_from_json(bad, &back, &err), -EINVAL);
	assert_string_equal(err.field, "versions");
	_cleanup_json_ json_t *order = json_deep_copy(j);
	json_t *vs = json_object_get(order, "versions");
	json_array_append(vs, json_array_get(vs, 0));
	assert_int_equal(app_versions_from_json(order, &back, &err), -EINVAL);
	app_versions_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_and_equality),
		cmocka_unit_test(test_scale_keeps_instances),
		cmocka_unit_test(test_rollback_target),
		cmocka_unit_test(test_history_kept),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests_name("app versions", tests, NULL, NULL);
}
