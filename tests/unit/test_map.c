/*
 * The string map behind the supervisor's slice table: lookups after puts,
 * overwrites and removals, growth to thousands of slices, tombstones left by
 * removals, and the sorted listing `acre ps` prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

static void map_freep(struct acre_map **m)
{
	acre_map_free(*m);
}
#define _cleanup_map_ _cleanup_(map_freep)

#define MANY 10000

/* Values are small integers stored as pointers; 0 would read as "absent". */
#define VAL(i) ((void *)(uintptr_t)((i) + 1))

static void key_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "slice-%05d", i);
}

static void test_put_get_remove(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	assert_non_null(m);
	int web = 1, db = 2;
	assert_int_equal(acre_map_size(m), 0);
	assert_null(acre_map_get(m, "web-1"));

	assert_int_equal(acre_map_put(m, "web-1", &web), 0);
	assert_int_equal(acre_map_put(m, "db-1", &db), 0);
	assert_int_equal(acre_map_size(m), 2);
	assert_ptr_equal(acre_map_get(m, "web-1"), &web);
	assert_ptr_equal(acre_map_get(m, "db-1"), &db);
	assert_null(acre_map_get(m, "web-2"));
	assert_null(acre_map_get(m, "web"));
	assert_null(acre_map_get(m, ""));

	assert_ptr_equal(acre_map_remove(m, "web-1"), &web);
	assert_null(acre_map_get(m, "web-1"));
	assert_ptr_equal(acre_map_get(m, "db-1"), &db);
	assert_int_equal(acre_map_size(m), 1);
	assert_null(acre_map_remove(m, "web-1"));
	assert_null(acre_map_remove(m, "never-there"));
	assert_int_equal(acre_map_size(m), 1);
}

static void test_add_refuses_a_key_in_use(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	int a = 1, b = 2;
	assert_int_equal(acre_map_add(m, "web-1", &a), 0);
	assert_int_equal(acre_map_add(m, "web-1", &b), -EEXIST);
	assert_ptr_equal(acre_map_get(m, "web-1"), &a);
	assert_int_equal(acre_map_size(m), 1);
	assert_ptr_equal(acre_map_remove(m, "web-1"), &a);
	assert_int_equal(acre_map_add(m, "web-1", &b), 0);
	assert_ptr_equal(acre_map_get(m, "web-1"), &b);
}

static void test_overwrite(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	int a = 1, b = 2;
	assert_int_equal(acre_map_put(m, "web-1", &a), 0);
	assert_int_equal(acre_map_put(m, "web-1", &b), 0);
	assert_int_equal(acre_map_size(m), 1);
	assert_ptr_equal(acre_map_get(m, "web-1"), &b);
	assert_ptr_equal(acre_map_remove(m, "web-1"), &b);
	assert_int_equal(acre_map_size(m), 0);
}

static void test_keys_are_copied(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	char key[16] = "web-1";
	int a = 1;
	assert_int_equal(acre_map_put(m, key, &a), 0);
	strcpy(key, "XXXXX");
	assert_ptr_equal(acre_map_get(m, "web-1"), &a);
	assert_null(acre_map_get(m, key));
	const char **keys = acre_map_sorted_keys(m);
	assert_non_null(keys);
	assert_string_equal(keys[0], "web-1");
	free(keys);
}

static void test_empty_and_removed_keys(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	int a = 1;
	/* The empty string is a key like any other. */
	assert_int_equal(acre_map_put(m, "", &a), 0);
	assert_ptr_equal(acre_map_get(m, ""), &a);
	assert_ptr_equal(acre_map_remove(m, ""), &a);
	const char **keys = acre_map_sorted_keys(m);
	assert_non_null(keys);
	assert_null(keys[0]);
	free(keys);
	acre_map_free(NULL);
}

static void test_many_keys(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	char key[32];
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(acre_map_put(m, key, VAL(i)), 0);
	}
	assert_int_equal(acre_map_size(m), MANY);
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_ptr_equal(acre_map_get(m, key), VAL(i));
	}
	assert_null(acre_map_get(m, "slice-10000"));

	/* Remove the even ones: tombstones must not hide the odd ones behind them. */
	for (int i = 0; i < MANY; i += 2) {
		key_of(i, key, sizeof(key));
		assert_ptr_equal(acre_map_remove(m, key), VAL(i));
	}
	assert_int_equal(acre_map_size(m), MANY / 2);
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		if (i % 2)
			assert_ptr_equal(acre_map_get(m, key), VAL(i));
		else
			assert_null(acre_map_get(m, key));
	}

	/* Put them back with other values; nothing is duplicated. */
	for (int i = 0; i < MANY; i += 2) {
		key_of(i, key, sizeof(key));
		assert_int_equal(acre_map_put(m, key, VAL(i + MANY)), 0);
	}
	assert_int_equal(acre_map_size(m), MANY);
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_ptr_equal(acre_map_get(m, key), i % 2 ? VAL(i) : VAL(i + MANY));
	}
}

static void test_tombstone_churn(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	char key[32];
	int keep = 1;
	assert_int_equal(acre_map_put(m, "keep", &keep), 0);
	/*
	 * Slices come and go: ten times the table's growth threshold of distinct
	 * keys, each removed right after.  Lookups of absent keys must still end.
	 */
	for (int i = 0; i < 10 * MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(acre_map_put(m, key, VAL(i)), 0);
		assert_ptr_equal(acre_map_remove(m, key), VAL(i));
		assert_null(acre_map_get(m, key));
	}
	assert_int_equal(acre_map_size(m), 1);
	assert_ptr_equal(acre_map_get(m, "keep"), &keep);
	assert_null(acre_map_get(m, "slice-99999"));
	assert_null(acre_map_get(m, "absent"));
}

static void test_sorted_keys(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	static const char *const in[] = {"web-2", "b", "web-10", "a", "c", "Z"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(in); i++)
		assert_int_equal(acre_map_put(m, in[i], VAL(i)), 0);
	assert_ptr_equal(acre_map_remove(m, "c"), VAL(4));
	const char **keys = acre_map_sorted_keys(m);
	assert_non_null(keys);
	/* Byte order, as strcmp sorts: uppercase first, "web-10" before "web-2". */
	static const char *const want[] = {"Z", "a", "b", "web-10", "web-2"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(want); i++)
		assert_string_equal(keys[i], want[i]);
	assert_null(keys[ACRE_ARRAY_SIZE(want)]);
	free(keys);
}

static void test_sorted_keys_many(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	char key[32];
	/* Inserted in a scrambled order (7919 is prime, so i*7919 mod MANY is a permutation). */
	for (int i = 0; i < MANY; i++) {
		key_of((i * 7919) % MANY, key, sizeof(key));
		assert_int_equal(acre_map_put(m, key, VAL(i)), 0);
	}
	const char **keys = acre_map_sorted_keys(m);
	assert_non_null(keys);
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_string_equal(keys[i], key);
	}
	assert_null(keys[MANY]);
	free(keys);
}

struct visit {
	size_t count;
	bool seen[MANY];
	bool bad;
};

static void visit(const char *key, void *value, void *ud)
{
	struct visit *v = ud;
	int i;
	if (sscanf(key, "slice-%d", &i) != 1 || i < 0 || i >= MANY || v->seen[i] ||
	    value != VAL(i)) {
		v->bad = true;
		return;
	}
	v->seen[i] = true;
	v->count++;
}

static void test_foreach(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new();
	_cleanup_free_ struct visit *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	acre_map_foreach(m, visit, v);
	assert_int_equal(v->count, 0);

	char key[32];
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(acre_map_put(m, key, VAL(i)), 0);
	}
	for (int i = 0; i < MANY; i += 3) {
		key_of(i, key, sizeof(key));
		acre_map_remove(m, key);
	}
	acre_map_foreach(m, visit, v);
	assert_false(v->bad);
	assert_int_equal(v->count, acre_map_size(m));
	assert_int_equal(v->count, MANY - (MANY + 2) / 3);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(v->seen[i], i % 3 != 0);
}

/* Borrowed keys: the key is the value's own name, never copied nor freed by the map. */
struct named {
	char name[32];
	int n;
};

static void test_borrowed_keys(void **state)
{
	(void)state;
	_cleanup_map_ struct acre_map *m = acre_map_new_borrowed();
	assert_non_null(m);
	struct named *v = calloc(MANY, sizeof(*v));
	assert_non_null(v);
	for (int i = 0; i < MANY; i++) {
		key_of(i, v[i].name, sizeof(v[i].name));
		v[i].n = i;
		assert_int_equal(acre_map_put(m, v[i].name, &v[i]), 0);
	}
	assert_int_equal(acre_map_size(m), MANY);
	char key[32];
	for (int i = 0; i < MANY; i++) {
		key_of(i, key, sizeof(key));
		struct named *got = acre_map_get(m, key);
		assert_non_null(got);
		assert_int_equal(got->n, i);
		assert_ptr_equal(got, &v[i]);
	}
	for (int i = 0; i < MANY; i += 2) {
		key_of(i, key, sizeof(key));
		assert_ptr_equal(acre_map_remove(m, key), &v[i]);
	}
	assert_int_equal(acre_map_size(m), MANY / 2);
	/* A new value under a key in use: the map now borrows the new value's name. */
	struct named *again = malloc(sizeof(*again));
	assert_non_null(again);
	snprintf(again->name, sizeof(again->name), "%s", v[1].name);
	again->n = -1;
	assert_int_equal(acre_map_put(m, again->name, again), 0);
	memset(v[1].name, 0, sizeof(v[1].name)); /* the old value's key is gone */
	key_of(1, key, sizeof(key));
	assert_ptr_equal(acre_map_get(m, key), again);
	const char **keys = acre_map_sorted_keys(m);
	assert_non_null(keys);
	assert_ptr_equal(keys[0], again->name);
	free(keys);
	acre_map_free(m); /* frees no key: ASan would tell */
	m = NULL;
	free(again);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_remove),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_add_refuses_a_key_in_use),
		cmocka_unit_test(test_keys_are_copied),
		cmocka_unit_test(test_empty_and_removed_keys),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_tombstone_churn),
		cmocka_unit_test(test_sorted_keys),
		cmocka_unit_test(test_sorted_keys_many),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_borrowed_keys),
	};
	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
