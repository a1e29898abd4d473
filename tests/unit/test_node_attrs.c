/*
 * A node that registers again with other attributes: the --spread and
 * unique counts of the slices it holds move from the old attribute values
 * to the new ones, so that releasing those slices later leaves every count
 * where it started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/internal.h"

#define GIB (1024ULL * 1024 * 1024)

struct fixture {
	struct pool *p;
	struct pool_node *n;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct acre_error err = {0};
	assert_int_equal(pool_open(NULL, &o, &f->p, &err), 0);
	f->n = pool_node_create(f->p, "n1");
	assert_non_null(f->n);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pool_close(f->p);
	free(f);
	return 0;
}

static void describe(struct fixture *f, const char *zone)
{
	json_t *attrs = json_pack("{s:s}", "zone", zone);
	assert_int_equal(pool_node_describe(f->p, f->n, "host-1", 8, 16 * GIB, attrs), 0);
	json_decref(attrs);
}

/* A slice of group "web" spread over zone, placed and reserved on the node. */
static struct pool_slice *place(struct fixture *f, const char *name)
{
	struct pool_slice *sl = pool_slice_new(f->p, name);
	assert_non_null(sl);
	sl->spread = strdup("zone");
	sl->group = strdup("web");
	sl->cpus = 1000;
	sl->mem = GIB;
	pool_node_attach(f->p, f->n, sl);
	pool_slice_reserve(f->p, sl);
	return sl;
}

static unsigned in_zone(struct fixture *f, const char *zone)
{
	return sched_spread_get(f->p->sched, "web", "zone", zone);
}

static void test_spread_counts_follow_new_attributes(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct pool_slice *s1 = place(f, "s1"), *s2 = place(f, "s2");
	assert_int_equal(in_zone(f, "a"), 2);

	describe(f, "b"); /* the node comes back in another zone */
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 2);

	pool_slice_unreserve(f->p, s1);
	assert_int_equal(in_zone(f, "b"), 1);
	pool_slice_unreserve(f->p, s2);
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 0);
}

static void test_unchanged_attributes_keep_counts(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct pool_slice *s1 = place(f, "s1");
	describe(f, "a");
	describe(f, "a");
	assert_int_equal(in_zone(f, "a"), 1);
	pool_slice_unreserve(f->p, s1);
	assert_int_equal(in_zone(f, "a"), 0);
}

static void test_released_slices_are_not_moved(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct pool_slice *s1 = place(f, "s1");
	pool_slice_unreserve(f->p, s1); /* ended, still listed on the node */
	describe(f, "b");
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 0);
}

/* A slice of group "db" unique by zone: counted from its node's attach to its detach. */
static struct pool_slice *place_unique(struct fixture *f, const char *name)
{
	struct pool_slice *sl = pool_slice_new(f->p, name);
	assert_non_null(sl);
	sl->group = strdup("db");
	sl->placement = calloc(1, sizeof(*sl->placement));
	assert_non_null(sl->placement);
	snprintf(sl->placement->unique, sizeof(sl->placement->unique), "zone");
	pool_node_attach(f->p, f->n, sl);
	return sl;
}

static void test_unique_counts_follow_new_attributes(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct pool_slice *s1 = place_unique(f, "s1");
	assert_int_equal(sched_unique_get(f->p->sched, "db", "zone", "a"), 1);
	describe(f, "b");
	assert_int_equal(sched_unique_get(f->p->sched, "db", "zone", "a"), 0);
	assert_int_equal(sched_unique_get(f->p->sched, "db", "zone", "b"), 1);
	/* Detached (removed, lost, its node down), it frees the value. */
	pool_node_detach(f->p, s1);
	assert_int_equal(sched_unique_get(f->p->sched, "db", "zone", "b"), 0);
	assert_true(f->p->retry_pending);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spread_counts_follow_new_attributes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_attributes_keep_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_released_slices_are_not_moved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unique_counts_follow_new_attributes, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
