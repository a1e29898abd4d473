/*
 * A node that registers again with other attributes: the --spread counts of
 * the slices it holds move from the old attribute values to the new ones, so
 * that releasing those slices later leaves every count where it started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/ctl.h"
#include "controller/pool/sched.h"

#define GIB (1024ULL * 1024 * 1024)

struct fixture {
	struct ctl c;
	struct ctl_node *n;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->c.sched = sched_new();
	f->c.nodes = acre_map_new();
	assert_non_null(f->c.sched);
	assert_non_null(f->c.nodes);
	f->n = node_create(&f->c, "n1");
	assert_non_null(f->n);
	*state = f;
	return 0;
}

/* What place() allocated; the table's slabs go with slice_table_free. */
static void free_slice_strings(struct ctl_slice *sl, void *ud)
{
	(void)ud;
	free(sl->spread);
	free(sl->group);
	sl->spread = sl->group = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	slice_table_foreach(&f->c.slices, free_slice_strings, NULL);
	slice_table_free(&f->c.slices);
	sched_node_forget(f->c.sched, &f->n->sn);
	acre_map_remove(f->c.nodes, f->n->id);
	node_free(f->n);
	acre_map_free(f->c.nodes);
	sched_free(f->c.sched);
	free(f);
	return 0;
}

static void describe(struct fixture *f, const char *zone)
{
	json_t *attrs = json_pack("{s:s}", "zone", zone);
	assert_int_equal(node_describe(&f->c, f->n, "host-1", 8, 16 * GIB, attrs), 0);
	json_decref(attrs);
}

/* A slice of group "web" spread over zone, placed and reserved on the node. */
static struct ctl_slice *place(struct fixture *f, const char *name)
{
	struct ctl_slice *sl = slice_new(&f->c, name);
	assert_non_null(sl);
	sl->spread = strdup("zone");
	sl->group = strdup("web");
	sl->cpus = 1000;
	sl->mem = GIB;
	node_attach(f->n, sl);
	slice_reserve(&f->c, sl);
	return sl;
}

static unsigned in_zone(struct fixture *f, const char *zone)
{
	return sched_spread_get(f->c.sched, "web", "zone", zone);
}

static void test_spread_counts_follow_new_attributes(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct ctl_slice *s1 = place(f, "s1"), *s2 = place(f, "s2");
	assert_int_equal(in_zone(f, "a"), 2);

	describe(f, "b"); /* the node comes back in another zone */
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 2);

	slice_unreserve(&f->c, s1);
	assert_int_equal(in_zone(f, "b"), 1);
	slice_unreserve(&f->c, s2);
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 0);
}

static void test_unchanged_attributes_keep_counts(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct ctl_slice *s1 = place(f, "s1");
	describe(f, "a");
	describe(f, "a");
	assert_int_equal(in_zone(f, "a"), 1);
	slice_unreserve(&f->c, s1);
	assert_int_equal(in_zone(f, "a"), 0);
}

static void test_released_slices_are_not_moved(void **state)
{
	struct fixture *f = *state;
	describe(f, "a");
	struct ctl_slice *s1 = place(f, "s1");
	slice_unreserve(&f->c, s1); /* ended, still listed on the node */
	describe(f, "b");
	assert_int_equal(in_zone(f, "a"), 0);
	assert_int_equal(in_zone(f, "b"), 0);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
