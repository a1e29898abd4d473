/*
 * The surplus chooser: after a partition heals an app may have two
 * instances of one index, or instances above the ones it wants.  Those
 * kept are the healthy over the unhealthy, then the older, then the one at
 * the current version, then the lower id; those above wanted all go; and
 * the choice is the same in whatever order the instances come.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/apps/apps.h"

#define H APP_INSTANCE_HEALTHY
#define U APP_INSTANCE_UNHEALTHY

static struct app_instance inst(unsigned index, uint32_t version, enum app_instance_state st,
				int64_t started, int64_t id)
{
	return (struct app_instance){index, version, st, st == H, started, id};
}

/* Which of the two copies of index 0 stays (0 or 1). */
static int kept(struct app_instance a, struct app_instance b, uint32_t current)
{
	struct app_instance v[2] = {a, b};
	bool stop[2];
	assert_int_equal(app_surplus_choose(v, 2, 1, current, stop), 1);
	assert_true(stop[0] != stop[1]);
	/* The same answer the other way round. */
	struct app_instance w[2] = {b, a};
	bool stop2[2];
	app_surplus_choose(w, 2, 1, current, stop2);
	assert_int_equal(stop2[0], stop[1]);
	return stop[0] ? 1 : 0;
}

static void test_preferences(void **state)
{
	(void)state;
	/* Healthy first, even when younger and at an older version. */
	assert_int_equal(kept(inst(0, 1, U, 10, 1), inst(0, 1, H, 20, 2), 1), 1);
	assert_int_equal(kept(inst(0, 2, U, 10, 1), inst(0, 1, H, 20, 2), 2), 1);
	/* Then the older one: it has served longest, and its clients are on it. */
	assert_int_equal(kept(inst(0, 1, H, 10, 2), inst(0, 2, H, 20, 1), 2), 0);
	assert_int_equal(kept(inst(0, 1, U, 30, 2), inst(0, 1, U, 20, 1), 1), 1);
	/* Then the current version. */
	assert_int_equal(kept(inst(0, 1, H, 10, 1), inst(0, 2, H, 10, 2), 2), 1);
	assert_int_equal(kept(inst(0, 1, H, 10, 2), inst(0, 2, H, 10, 1), 1), 0);
	/* Then the lower id, so that two equal copies still give one answer. */
	assert_int_equal(kept(inst(0, 1, H, 10, 7), inst(0, 1, H, 10, 3), 1), 1);
}

static void test_partition_heals(void **state)
{
	(void)state;
	/*
	 * Three wanted.  The node that was cut off comes back with 1 and 2
	 * (started long ago, still healthy); their replacements run elsewhere,
	 * one healthy and one still unhealthy; and 3 is left of a scale-down.
	 */
	struct app_instance v[] = {
		inst(0, 1, H, 100, 1), inst(1, 1, H, 100, 2), inst(2, 1, H, 100, 3),
		inst(1, 1, H, 500, 4), inst(2, 1, U, 500, 5), inst(3, 1, H, 50, 6),
	};
	bool stop[ACRE_ARRAY_SIZE(v)];
	assert_int_equal(app_surplus_choose(v, ACRE_ARRAY_SIZE(v), 3, 1, stop), 3);
	assert_false(stop[0]);
	assert_false(stop[1]); /* older */
	assert_false(stop[2]); /* healthy */
	assert_true(stop[3]);
	assert_true(stop[4]);
	assert_true(stop[5]); /* above wanted, however old */
	/* Exactly the wanted count: nothing to stop. */
	assert_int_equal(app_surplus_choose(v, 3, 3, 1, stop), 0);
	assert_int_equal(app_surplus_choose(v, 0, 3, 1, stop), 0);
}

static void test_any_order(void **state)
{
	(void)state;
	enum { N = 40 };
	struct app_instance v[N], w[N];
	bool stop[N], stop2[N];
	uint64_t seed = 42;
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned r = (unsigned)(seed >> 33);
		v[i] = inst(r % 12, 1 + r % 3, r % 5 ? H : U, (int64_t)(r % 7), i + 1);
	}
	size_t n = app_surplus_choose(v, N, 10, 2, stop);
	/* Every index below 10 that has instances keeps exactly one. */
	for (unsigned idx = 0; idx < 12; idx++) {
		unsigned have = 0, keep = 0;
		for (int i = 0; i < N; i++)
			if (v[i].index == idx) {
				have++;
				keep += !stop[i];
			}
		assert_int_equal(keep, idx < 10 && have ? 1 : 0);
	}
	/* Reversed, the same instances (by id) are kept. */
	for (int i = 0; i < N; i++)
		w[i] = v[N - 1 - i];
	assert_int_equal(app_surplus_choose(w, N, 10, 2, stop2), n);
	for (int i = 0; i < N; i++)
		assert_int_equal(stop2[N - 1 - i], stop[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preferences),
		cmocka_unit_test(test_partition_heals),
		cmocka_unit_test(test_any_order),
	};
	return cmocka_run_group_tests_name("app surplus", tests, NULL, NULL);
}
