/*
 * A store written by the build before schema numbers (its tables made by
 * exactly the CREATE statements below, copied from that build's
 * controller/store.c) opens with this build: migrated to the current
 * schema, its rows all there, each slice's labels taken from its spec
 * into a column of their own; a second open changes nothing.  A fresh
 * store gets the same tables, and a store from a newer build is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "controller/store/store.h"

/* The schema of main at 038cc23 (controller/store.c), word for word. */
static const char old_schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS nodes ("
	" id TEXT PRIMARY KEY, hostname TEXT NOT NULL, secret_hash TEXT NOT NULL,"
	" attributes TEXT NOT NULL, state TEXT NOT NULL, address TEXT,"
	" cpus INTEGER NOT NULL, memory INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
	" registered_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS slices ("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, placement TEXT,"
	" node_id TEXT, state TEXT NOT NULL, reason TEXT, desired TEXT NOT NULL, exit TEXT,"
	" spread TEXT, spread_group TEXT, cpus INTEGER NOT NULL, memory INTEGER NOT NULL,"
	" restart TEXT NOT NULL, restarts INTEGER NOT NULL, assigned INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" replacements INTEGER NOT NULL DEFAULT 0, last_node_id TEXT);"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '1');";

/* Rows as that build wrote them. */
static const char old_rows[] =
	"INSERT INTO nodes VALUES ('n1', 'host-1', 'ab12', '{\"zone\":\"a\"}', 'ready',"
	" '10.0.0.1:4000', 4000, 8589934592, 17, 1000, 2000);"
	"INSERT INTO slices VALUES (1, 'web-1',"
	" '{\"name\":\"web-1\",\"command\":[\"sleep\",\"9\"],\"labels\":{\"app\":\"web\",\"tier\":"
	"\"front\"}}',"
	" NULL, 'n1', 'running', NULL, 'run', NULL, NULL, NULL, 500, 67108864, 'always', 0, 1, 10, "
	"11,"
	" 0, 'n1');"
	"INSERT INTO slices VALUES (2, 'plain',"
	" '{\"name\":\"plain\",\"command\":[\"true\"]}', '{\"spread\":\"zone\"}', NULL, 'exited',"
	" 'exit 0', 'run', '{\"exit_code\":0,\"status\":0,\"oom\":false}', 'zone', '', 100, 0,"
	" 'never', 0, 1, 20, 21, 1, 'n1');"
	"INSERT INTO slices VALUES (3, 'empty-labels',"
	" '{\"name\":\"empty-labels\",\"command\":[\"true\"],\"labels\":{}}', NULL, NULL, "
	"'pending',"
	" 'no room', 'run', NULL, NULL, NULL, 100, 0, 'on-failure:3', 0, 0, 30, 31, 0, NULL);";

struct tmp {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/acre-test-migration.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, STORE_FILE);
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

static void sql(const char *path, const char *text)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(db);
}

/* One text value of a query, or "(null)". */
static void query_text(const char *path, const char *q, char *out, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	const char *v = (const char *)sqlite3_column_text(s, 0);
	snprintf(out, len, "%s", v ? v : "(null)");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

struct seen {
	int slices, nodes;
	char labels[4][128];
	char names[4][32];
	int64_t ids[4];
	char exit[4][128];
	unsigned replacements[4];
	char last_node[4][16];
};

static int on_slice(const struct store_slice_row *r, void *ud)
{
	struct seen *s = ud;
	if (s->slices >= 4)
		return -E2BIG;
	int i = s->slices++;
	s->ids[i] = r->id;
	snprintf(s->names[i], sizeof(s->names[i]), "%s", r->name);
	snprintf(s->labels[i], sizeof(s->labels[i]), "%s", r->labels ? r->labels : "(none)");
	snprintf(s->exit[i], sizeof(s->exit[i]), "%s", r->exit ? r->exit : "(none)");
	snprintf(s->last_node[i], sizeof(s->last_node[i]), "%s",
		 r->last_node_id ? r->last_node_id : "(none)");
	s->replacements[i] = r->replacements;
	return 0;
}

static int on_node(const struct store_node_row *r, void *ud)
{
	struct seen *s = ud;
	s->nodes++;
	assert_string_equal(r->id, "n1");
	assert_string_equal(r->attributes, "{\"zone\":\"a\"}");
	assert_int_equal(r->last_seq, 17);
	assert_int_equal(r->memory, 8589934592ULL);
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

static void check_rows(struct store *st)
{
	struct acre_error err = {0};
	struct seen s = {0};
	assert_int_equal(store_load_nodes(st, on_node, &s, &err), 0);
	assert_int_equal(s.nodes, 1);
	assert_int_equal(store_load_slices(st, on_slice, &s, &err), 0);
	assert_int_equal(s.slices, 3);
	assert_int_equal(s.ids[0], 1);
	assert_string_equal(s.names[0], "web-1");
	assert_string_equal(s.labels[0], "{\"app\":\"web\",\"tier\":\"front\"}");
	assert_string_equal(s.last_node[0], "n1");
	assert_string_equal(s.names[1], "plain");
	assert_string_equal(s.labels[1], "(none)");
	assert_string_equal(s.exit[1], "{\"exit_code\":0,\"status\":0,\"oom\":false}");
	assert_int_equal(s.replacements[1], 1);
	assert_string_equal(s.labels[2], "(none)"); /* an empty object is no labels */
	char *spec, *placement;
	assert_int_equal(store_slice_spec(st, 2, &spec, &placement, &err), 0);
	assert_string_equal(placement, "{\"spread\":\"zone\"}");
	free(spec);
	free(placement);
}

static void test_todays_store_migrates(void **state)
{
	struct tmp *t = *state;
	sql(t->path, old_schema);
	sql(t->path, old_rows);
	struct store *st = open_store(t);
	assert_int_equal(store_migrations_applied(st), 5);
	assert_int_equal(store_schema_version(st), 5);
	check_rows(st);
	/* It keeps working: a new slice with labels, and an update of a migrated one. */
	struct acre_error err = {0};
	struct store_slice_row r = {.id = 4,
				    .name = "new",
				    .spec = "{}",
				    .state = "pending",
				    .desired = "run",
				    .restart = "never",
				    .labels = "{\"a\":\"b\"}"};
	assert_int_equal(store_slice_insert(st, &r, &err), 0);
	r = (struct store_slice_row){.id = 1,
				     .name = "web-1",
				     .state = "exited",
				     .desired = "run",
				     .restart = "always",
				     .updated_at = 99};
	assert_int_equal(store_slice_update(st, &r, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
	char v[128];
	query_text(t->path, "SELECT labels FROM slices WHERE id = 1", v, sizeof(v));
	assert_string_equal(v, "{\"app\":\"web\",\"tier\":\"front\"}"); /* fixed at creation */
	query_text(t->path, "SELECT state FROM slices WHERE id = 1", v, sizeof(v));
	assert_string_equal(v, "exited");
	query_text(t->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "5");
}

static void test_second_open_is_a_no_op(void **state)
{
	struct tmp *t = *state;
	sql(t->path, old_schema);
	sql(t->path, old_rows);
	store_close(open_store(t));
	struct stat before, after;
	assert_int_equal(stat(t->path, &before), 0);
	char schema_before[4096], schema_after[4096];
	query_text(t->path, "SELECT group_concat(sql, ';') FROM sqlite_master", schema_before,
		   sizeof(schema_before));
	struct store *st = open_store(t);
	assert_int_equal(store_migrations_applied(st), 0);
	assert_int_equal(store_schema_version(st), 5);
	check_rows(st);
	store_close(st);
	query_text(t->path, "SELECT group_concat(sql, ';') FROM sqlite_master", schema_after,
		   sizeof(schema_after));
	assert_string_equal(schema_before, schema_after);
	assert_int_equal(stat(t->path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
}

/* A store older still (before replacements and last_node_id), with no nodes table. */
static void test_older_columns_are_added(void **state)
{
	struct tmp *t = *state;
	sql(t->path,
	    "CREATE TABLE slices (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	    " spec TEXT NOT NULL, placement TEXT, node_id TEXT, state TEXT NOT NULL,"
	    " reason TEXT, desired TEXT NOT NULL, exit TEXT, spread TEXT, spread_group TEXT,"
	    " cpus INTEGER NOT NULL, memory INTEGER NOT NULL, restart TEXT NOT NULL,"
	    " restarts INTEGER NOT NULL, assigned INTEGER NOT NULL,"
	    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	    "INSERT INTO slices VALUES (7, 'old', '{\"labels\":{\"k\":\"v\"}}', NULL, NULL,"
	    " 'lost', NULL, 'run', NULL, NULL, NULL, 1, 0, 'never', 0, 1, 1, 1);");
	struct store *st = open_store(t);
	assert_int_equal(store_migrations_applied(st), 5);
	struct acre_error err = {0};
	struct seen s = {0};
	assert_int_equal(store_load_slices(st, on_slice, &s, &err), 0);
	assert_int_equal(s.slices, 1);
	assert_string_equal(s.labels[0], "{\"k\":\"v\"}");
	assert_int_equal(s.replacements[0], 0);
	store_close(st);
}

/* A fresh store and a migrated one have the same tables. */
static void test_fresh_equals_migrated(void **state)
{
	struct tmp *t = *state;
	store_close(open_store(t));
	char fresh[4096], migrated[4096];
	/* Column by column (the CREATE texts differ in spaces only). */
	const char *q = "SELECT group_concat(t.name || '.' || c.name || ' ' || c.type || ' ' || "
			"c.\"notnull\" || ' ' || coalesce(c.dflt_value, '-') || ' ' || c.pk, ', ') "
			"FROM (SELECT 'nodes' AS name UNION ALL SELECT 'slices') t, "
			"pragma_table_info(t.name) c";
	query_text(t->path, q, fresh, sizeof(fresh));
	remove(t->path);
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", t->path);
	remove(wal);
	snprintf(wal, sizeof(wal), "%s-shm", t->path);
	remove(wal);
	sql(t->path, old_schema);
	store_close(open_store(t));
	query_text(t->path, q, migrated, sizeof(migrated));
	assert_string_equal(fresh, migrated);
}

static void test_newer_store_is_refused(void **state)
{
	struct tmp *t = *state;
	sql(t->path, "PRAGMA user_version = 99;");
	struct store *st;
	struct acre_error err = {0};
	assert_true(store_open(t->dir, &st, &err) < 0);
	assert_non_null(strstr(err.message, "newer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_todays_store_migrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_open_is_a_no_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_columns_are_added, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_equals_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_store_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("store_migration", tests, NULL, NULL);
}
