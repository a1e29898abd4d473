/*
 * Labels as data in the pool: slices created with labels are found by
 * them (one label, several at once, in creation order), leave the index
 * when removed, and carry them in the changes the pool publishes; the
 * KEY=VALUE filter is parsed as the API takes it.  A pool in memory with
 * one node, driven through its verbs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/internal.h"

#include <ftw.h>
#include <sys/stat.h>

struct fixture {
	struct pool *p;
	struct pool_node *n;
	char seen[8][64]; /* the labels of the "created" changes published */
	int nseen;
};

static void changed(void *ud, const struct pool_change *ch)
{
	struct fixture *f = ud;
	if (ch->kind != POOL_CHANGE_SLICE || strcmp(ch->event, "created") || f->nseen == 8)
		return;
	_cleanup_json_ json_t *labels = pool_change_labels(ch);
	_cleanup_free_ char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(f->seen[f->nseen++], sizeof(f->seen[0]), "%s", text);
	assert_true(pool_change_has_label(ch, "app", "web") == !!strstr(text, "\"app\":\"web\""));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct acre_error err = {0};
	assert_int_equal(pool_open(NULL, &o, &f->p, &err), 0);
	_cleanup_json_ json_t *attrs = json_pack("{s:s}", "zone", "a");
	struct pool_registration r = {.id = "n1",
				      .secret_hash = "00",
				      .hostname = "h1",
				      .version = "",
				      .address = "test",
				      .cpus = 64000,
				      .memory = 1ULL << 40,
				      .attributes = attrs};
	static int conn; /* stands for a connection: the pool only compares it */
	assert_int_equal(pool_node_register(f->p, &r, &conn, &f->n, &err), 0);
	pool_node_sync(f->p, f->n, NULL, 0, NULL);
	struct pool_subscriber s = {.changed = changed, .ud = f};
	assert_int_equal(pool_subscribe(f->p, &s), 0);
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

static struct pool_slice *create(struct fixture *f, const char *name, const char *labels)
{
	json_error_t jerr;
	_cleanup_json_ json_t *spec = json_loads(labels, 0, &jerr);
	assert_non_null(spec);
	json_object_set_new(spec, "name", json_string(name));
	json_object_set_new(spec, "command", json_pack("[s]", "true"));
	struct pool_slice *sl;
	struct acre_error err = {0};
	if (pool_slice_create(f->p, spec, NULL, &sl, &err) < 0)
		fail_msg("creating %s: %s", name, err.message);
	return sl;
}

struct names {
	char v[8][32];
	int n;
};

static int collect(struct pool_slice *sl, void *ud)
{
	struct names *out = ud;
	snprintf(out->v[out->n++], sizeof(out->v[0]), "%s", sl->name);
	return out->n == 8;
}

static struct names query(struct fixture *f, const char *a, const char *b)
{
	struct pool_label_filter flt = {0};
	struct acre_error err = {0};
	struct names out = {0};
	assert_int_equal(pool_label_filter_add(&flt, a, &err), 0);
	if (b)
		assert_int_equal(pool_label_filter_add(&flt, b, &err), 0);
	assert_int_equal(pool_slices_labelled(f->p, &flt, collect, &out), 0);
	return out;
}

static void test_add_query_remove(void **state)
{
	struct fixture *f = *state;
	create(f, "web-1", "{\"labels\": {\"app\": \"web\", \"tier\": \"front\"}}");
	struct pool_slice *db = create(f, "db-1", "{\"labels\": {\"app\": \"db\"}}");
	create(f, "web-2", "{\"labels\": {\"app\": \"web\", \"tier\": \"back\"}}");
	create(f, "bare", "{}");
	create(f, "web-3", "{\"labels\": {\"tier\": \"front\", \"app\": \"web\"}}");

	struct names got = query(f, "app=web", NULL);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.v[0], "web-1"); /* in creation order */
	assert_string_equal(got.v[1], "web-2");
	assert_string_equal(got.v[2], "web-3");
	got = query(f, "app=web", "tier=front");
	assert_int_equal(got.n, 2);
	assert_string_equal(got.v[0], "web-1");
	assert_string_equal(got.v[1], "web-3");
	got = query(f, "tier=back", "app=web");
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0], "web-2");
	assert_int_equal(query(f, "app=db", "tier=front").n, 0);
	assert_int_equal(query(f, "app=nothing", NULL).n, 0);
	assert_int_equal(query(f, "tier=", NULL).n, 0);

	/* Removed: out of the index at once; the set of app=db goes with its last slice. */
	pool_slice_delete(f->p, db);
	assert_int_equal(query(f, "app=db", NULL).n, 0);
	pool_slice_delete(f->p, pool_slice_find(f->p, "web-1"));
	got = query(f, "tier=front", NULL);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0], "web-3");
	pool_commit(f->p);
	assert_int_equal(query(f, "app=web", NULL).n, 2);
	assert_null(pool_slice_find(f->p, "web-1"));
}

static void test_labels_of_a_slice_and_its_changes(void **state)
{
	struct fixture *f = *state;
	struct pool_slice *sl = create(f, "s1", "{\"labels\": {\"b\": \"2\", \"a\": \"1\"}}");
	create(f, "s2", "{\"labels\": {\"app\": \"web\"}}");
	_cleanup_json_ json_t *j = pool_slice_labels_json(sl);
	_cleanup_json_ json_t *want = json_pack("{s:s,s:s}", "a", "1", "b", "2");
	assert_true(json_equal(j, want));
	assert_int_equal(f->nseen, 2);
	assert_string_equal(f->seen[0], "{\"a\":\"1\",\"b\":\"2\"}");
	assert_string_equal(f->seen[1], "{\"app\":\"web\"}");
	struct pool_label_filter flt = {0};
	struct acre_error err = {0};
	assert_int_equal(pool_label_filter_add(&flt, "a=1", &err), 0);
	assert_true(pool_slice_has_labels(sl, &flt));
	assert_int_equal(pool_label_filter_add(&flt, "b=3", &err), 0);
	assert_false(pool_slice_has_labels(sl, &flt));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Labels written with the slices come back with them when the pool is opened again. */
static void test_labels_come_back_from_the_store(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/acre-test-labels.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct acre_error err = {0};
	struct store *st;
	assert_int_equal(store_open(dir, &st, &err), 0);
	/* The fixture's pool has the node; this one, over a store, gets its own. */
	pool_close(f->p);
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(st, &o, &f->p, &err), 0);
	_cleanup_json_ json_t *attrs = json_object();
	struct pool_registration r = {.id = "n1",
				      .secret_hash = "00",
				      .hostname = "h1",
				      .version = "",
				      .address = "test",
				      .cpus = 64000,
				      .memory = 1ULL << 40,
				      .attributes = attrs};
	static int conn;
	assert_int_equal(pool_node_register(f->p, &r, &conn, &f->n, &err), 0);
	pool_node_sync(f->p, f->n, NULL, 0, NULL);
	create(f, "a1", "{\"labels\": {\"app\": \"a\", \"tier\": \"x\"}}");
	create(f, "a2", "{\"labels\": {\"app\": \"a\", \"tier\": \"x\"}}");
	create(f, "b1", "{\"labels\": {\"app\": \"b\"}}");
	create(f, "none", "{}");
	create(f, "a3", "{\"labels\": {\"app\": \"a\", \"tier\": \"x\"}}");
	pool_commit(f->p);
	pool_close(f->p);
	f->p = NULL;
	assert_int_equal(pool_open(st, &o, &f->p, &err), 0);
	struct names got = query(f, "app=a", "tier=x");
	assert_int_equal(got.n, 3);
	assert_string_equal(got.v[0], "a1");
	assert_string_equal(got.v[1], "a2");
	assert_string_equal(got.v[2], "a3");
	got = query(f, "app=b", NULL);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0], "b1");
	assert_null(pool_slice_find(f->p, "none")->labels);
	pool_close(f->p);
	f->p = NULL;
	store_close(st);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	struct pool_options o2 = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(NULL, &o2, &f->p, &err), 0); /* for the teardown */
}

static void test_filter_parsing(void **state)
{
	(void)state;
	struct pool_label_filter flt = {0};
	struct acre_error err = {0};
	assert_int_equal(pool_label_filter_add(&flt, "k=v=w", &err), 0);
	assert_int_equal(flt.l[0].key_len, 1);
	assert_string_equal(flt.l[0].value, "v=w");
	assert_int_equal(pool_label_filter_add(&flt, "k=", &err), 0);
	assert_string_equal(flt.l[1].value, "");
	assert_true(pool_label_filter_add(&flt, "=v", &err) < 0);
	assert_string_equal(err.field, "label");
	assert_true(pool_label_filter_add(&flt, "novalue", &err) < 0);
	char long_key[80];
	memset(long_key, 'k', 64);
	strcpy(long_key + 64, "=v");
	assert_true(pool_label_filter_add(&flt, long_key, &err) < 0);
	while (flt.n < POOL_LABEL_FILTER_MAX)
		assert_int_equal(pool_label_filter_add(&flt, "a=b", &err), 0);
	assert_true(pool_label_filter_add(&flt, "a=b", &err) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_query_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_of_a_slice_and_its_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_labels_come_back_from_the_store, setup,
						teardown),
		cmocka_unit_test(test_filter_parsing),
	};
	return cmocka_run_group_tests_name("pool_labels", tests, NULL, NULL);
}
