/*
 * The controller's SQLite store: rows read back as written, updates and
 * deletes, listing with filters and pages — and durability: what a
 * committed transaction holds survives a process that dies without
 * closing anything, what an uncommitted one holds never appears.  Each
 * test works in its own mkdtemp directory, removed in the teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "controller/store/store.h"

struct tmp {
	char dir[64];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/acre-test-store.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static struct store *open_store(struct tmp *t)
{
	struct store *st;
	struct acre_error err = {0};
	if (store_open(t->dir, &st, &err) < 0)
		fail_msg("store_open: %s", err.message);
	return st;
}

static struct store_slice_row slice_row(int64_t id, const char *name, const char *node,
					const char *state)
{
	return (struct store_slice_row){
		.id = id,
		.name = name,
		.spec = "{\"command\":[\"sleep\",\"1\"]}",
		.placement = id % 2 ? "{\"constraints\":[\"zone==a\"]}" : NULL,
		.node_id = node,
		.state = state,
		.reason = "",
		.desired = "run",
		.cpus = (uint32_t)(100 * id),
		.memory = (uint64_t)id << 20,
		.restart = "on-failure:3",
		.restarts = 0,
		.assigned = false,
		.created_at = 1000 + id,
		.updated_at = 1000 + id,
	};
}

struct collected {
	int n;
	int64_t ids[64];
	char names[64][64];
	char states[64][32];
	char nodes[64][64];
	unsigned restarts[64];
	bool assigned[64];
	bool had_spec[64];
	uint64_t memory[64];
	char restart[64][32];
};

static int collect(const struct store_slice_row *r, void *ud)
{
	struct collected *c = ud;
	if (c->n >= 64)
		return -E2BIG;
	c->ids[c->n] = r->id;
	snprintf(c->names[c->n], sizeof(c->names[0]), "%s", r->name);
	snprintf(c->states[c->n], sizeof(c->states[0]), "%s", r->state);
	snprintf(c->nodes[c->n], sizeof(c->nodes[0]), "%s", r->node_id ? r->node_id : "-");
	snprintf(c->restart[c->n], sizeof(c->restart[0]), "%s", r->restart);
	c->restarts[c->n] = r->restarts;
	c->assigned[c->n] = r->assigned;
	c->had_spec[c->n] = r->spec != NULL;
	c->memory[c->n] = r->memory;
	c->n++;
	return 0;
}

static int count_nodes(const struct store_node_row *r, void *ud)
{
	struct store_node_row *out = ud;
	if (!strcmp(r->id, "n1")) {
		assert_string_equal(r->hostname, "host-1");
		assert_string_equal(r->state, "unreachable");
		assert_string_equal(r->attributes, "{\"zone\":\"b\"}");
		assert_int_equal(r->cpus, 4000);
		assert_int_equal(r->memory, 8ULL << 30);
		assert_int_equal(r->last_seq, 42);
	}
	out->last_seq++; /* used as a counter */
	return 0;
}

static void test_nodes_round_trip(void **state)
{
	struct tmp *t = *state;
	struct store *st = open_store(t);
	struct acre_error err = {0};
	struct store_node_row n = {.id = "n1",
				   .hostname = "host-1",
				   .secret_hash = "ab",
				   .attributes = "{\"zone\":\"a\"}",
				   .state = "ready",
				   .cpus = 4000,
				   .memory = 8ULL << 30,
				   .last_seq = 7};
	assert_int_equal(store_node_put(st, &n, &err), 0);
	n.id = "n2";
	assert_int_equal(store_node_put(st, &n, &err), 0);
	/* The same id again replaces it. */
	n.id = "n1";
	n.attributes = "{\"zone\":\"b\"}";
	n.state = "unreachable";
	n.last_seq = 42;
	assert_int_equal(store_node_put(st, &n, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
	st = open_store(t);
	struct store_node_row counter = {0};
	assert_int_equal(store_load_nodes(st, count_nodes, &counter, &err), 0);
	assert_int_equal(counter.last_seq, 2);
	store_close(st);
}

static void test_slices_insert_update_delete(void **state)
{
	struct tmp *t = *state;
	struct store *st = open_store(t);
	struct acre_error err = {0};
	char name[16];
	for (int64_t i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "s%lld", (long long)i);
		struct store_slice_row r = slice_row(i, name, NULL, "pending");
		assert_int_equal(store_slice_insert(st, &r, &err), 0);
	}
	struct store_slice_row u = slice_row(2, "s2", "n1", "running");
	u.restarts = 2;
	u.assigned = true;
	assert_int_equal(store_slice_update(st, &u, &err), 0);
	assert_int_equal(store_slice_delete(st, 3, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);

	st = open_store(t);
	struct collected c = {0};
	assert_int_equal(store_load_slices(st, collect, &c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], 1);
	assert_int_equal(c.ids[1], 2);
	assert_string_equal(c.states[0], "pending");
	assert_string_equal(c.states[1], "running");
	assert_string_equal(c.nodes[1], "n1");
	assert_int_equal(c.restarts[1], 2);
	assert_true(c.assigned[1]);
	assert_false(c.had_spec[0]); /* loading leaves the specs on disk */
	assert_int_equal(c.memory[1], 2ULL << 20);
	assert_string_equal(c.restart[0], "on-failure:3");
	char *spec, *placement;
	assert_int_equal(store_slice_spec(st, 1, &spec, &placement, &err), 0);
	assert_string_equal(spec, "{\"command\":[\"sleep\",\"1\"]}");
	assert_string_equal(placement, "{\"constraints\":[\"zone==a\"]}");
	free(spec);
	free(placement);
	assert_int_equal(store_slice_spec(st, 2, &spec, &placement, &err), 0);
	assert_null(placement);
	free(spec);
	assert_int_equal(store_slice_spec(st, 3, &spec, &placement, &err), -ENOENT);
	store_close(st);
}

static void test_uncommitted_is_not_kept(void **state)
{
	struct tmp *t = *state;
	struct store *st = open_store(t);
	struct acre_error err = {0};
	struct store_slice_row r = slice_row(1, "kept", NULL, "pending");
	assert_int_equal(store_slice_insert(st, &r, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	r = slice_row(2, "dropped", NULL, "pending");
	assert_int_equal(store_slice_insert(st, &r, &err), 0);
	assert_true(store_in_transaction(st));
	store_close(st); /* no commit */
	st = open_store(t);
	struct collected c = {0};
	assert_int_equal(store_load_slices(st, collect, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.names[0], "kept");
	store_close(st);
}

/* A child writes and dies without closing anything, as kill -9 would leave it. */
static void crash_after(struct tmp *t, bool commit)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st;
		struct acre_error err = {0};
		if (store_open(t->dir, &st, &err) < 0)
			_exit(2);
		for (int64_t i = 10; i < 20; i++) {
			struct store_slice_row r =
				slice_row(i, commit ? "c" : "u", NULL, "pending");
			if (store_slice_insert(st, &r, &err) < 0)
				_exit(3);
		}
		if (commit && store_commit(st, &err) < 0)
			_exit(4);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_commit_survives_a_crash(void **state)
{
	struct tmp *t = *state;
	struct acre_error err = {0};
	crash_after(t, false);
	struct store *st = open_store(t);
	struct collected c = {0};
	assert_int_equal(store_load_slices(st, collect, &c, &err), 0);
	assert_int_equal(c.n, 0);
	store_close(st);
	crash_after(t, true);
	/* WAL mode: the commit is in the log the dead process left, not yet in the database. */
	char wal[128];
	struct stat sb;
	snprintf(wal, sizeof(wal), "%s/%s-wal", t->dir, STORE_FILE);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	st = open_store(t);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_load_slices(st, collect, &c, &err), 0);
	assert_int_equal(c.n, 10);
	assert_int_equal(c.ids[0], 10);
	assert_string_equal(c.names[9], "c");
	store_close(st);
}

static void test_list_filters_and_pages(void **state)
{
	struct tmp *t = *state;
	struct store *st = open_store(t);
	struct acre_error err = {0};
	char names[40][16];
	for (int64_t i = 1; i <= 40; i++) {
		snprintf(names[i - 1], sizeof(names[0]), "s%02lld", (long long)i);
		struct store_slice_row r = slice_row(i, names[i - 1], i % 4 ? "n1" : "n2",
						     i % 2 ? "running" : "exited");
		assert_int_equal(store_slice_insert(st, &r, &err), 0);
	}
	assert_int_equal(store_commit(st, &err), 0);
	struct collected c = {0};
	struct store_slice_query q = {.limit = 15};
	assert_int_equal(store_slice_list(st, &q, collect, &c, &err), 0);
	assert_int_equal(c.n, 15);
	assert_int_equal(c.ids[14], 15);
	memset(&c, 0, sizeof(c));
	q.after_id = 15;
	assert_int_equal(store_slice_list(st, &q, collect, &c, &err), 0);
	assert_int_equal(c.ids[0], 16);
	memset(&c, 0, sizeof(c));
	q = (struct store_slice_query){.node_id = "n2", .with_spec = true};
	assert_int_equal(store_slice_list(st, &q, collect, &c, &err), 0);
	assert_int_equal(c.n, 10);
	assert_true(c.had_spec[0]);
	for (int i = 0; i < c.n; i++)
		assert_int_equal(c.ids[i] % 4, 0);
	memset(&c, 0, sizeof(c));
	q = (struct store_slice_query){.node_id = "n1", .state = "running"};
	assert_int_equal(store_slice_list(st, &q, collect, &c, &err), 0);
	assert_int_equal(c.n, 20);
	store_close(st);
}

static void test_one_transaction_many_rows(void **state)
{
	struct tmp *t = *state;
	struct store *st = open_store(t);
	struct acre_error err = {0};
	for (int64_t i = 1; i <= 20000; i++) {
		struct store_slice_row r = slice_row(i, "bulk", "n1", "starting");
		assert_int_equal(store_slice_insert(st, &r, &err), 0);
	}
	assert_int_equal(store_commit(st, &err), 0);
	const struct store_stats *s = store_get_stats(st);
	assert_int_equal(s->commits, 1);
	assert_int_equal(s->rows_written, 20000);
	/* A commit with nothing open is a no-op, not an error. */
	assert_int_equal(store_commit(st, &err), 0);
	assert_int_equal(s->commits, 1);
	assert_true(store_file_size(st) > 20000 * 30);
	store_close(st);
}

/* A store written before columns were added is brought up to date, its rows kept. */
static void test_older_schema(void **state)
{
	struct tmp *t = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", t->dir, STORE_FILE);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE slices (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			     " spec TEXT NOT NULL, placement TEXT, node_id TEXT, state TEXT NOT"
			     " NULL, reason TEXT, desired TEXT NOT NULL, exit TEXT, spread TEXT,"
			     " spread_group TEXT, cpus INTEGER NOT NULL, memory INTEGER NOT NULL,"
			     " restart TEXT NOT NULL, restarts INTEGER NOT NULL, assigned INTEGER"
			     " NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT"
			     " NULL);"
			     "INSERT INTO slices VALUES (7, 'old', '{}', NULL, 'n1', 'running',"
			     " NULL, 'run', NULL, NULL, NULL, 100, 0, 'never', 2, 1, 1, 1);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	struct store *st = open_store(t);
	struct acre_error err = {0};
	struct collected c = {0};
	assert_int_equal(store_load_slices(st, collect, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ids[0], 7);
	assert_int_equal(c.restarts[0], 2);
	struct store_slice_row u = slice_row(7, "old", "n2", "exited");
	u.replacements = 1;
	u.last_node_id = "n2";
	assert_int_equal(store_slice_update(st, &u, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
}

static void test_bad_directory(void **state)
{
	struct tmp *t = *state;
	char file[128];
	snprintf(file, sizeof(file), "%s/plain-file", t->dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	struct store *st;
	struct acre_error err = {0};
	assert_true(store_open(file, &st, &err) < 0);
	assert_non_null(strstr(err.message, "--data-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nodes_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slices_insert_update_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted_is_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_survives_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters_and_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_transaction_many_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_directory, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
