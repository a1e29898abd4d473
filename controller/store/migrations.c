/*
 * The schema's history, as numbered migrations.  A store carries the
 * number of the last one it had (PRAGMA user_version); opening it applies
 * each later one in order, each in its own transaction with the new
 * number, so a crash in the middle leaves a store at one version or the
 * next, never between.  A store at this build's number is opened without
 * writing anything; one from a newer build is refused.
 *
 * Migration N creates the tables as version N has them (columns whose
 * `since` is at most N) where they are missing, adds the columns version
 * N has to tables that lack them, then runs its own statement, if any, to
 * fill what it added.  Stores written before the schema had a number
 * (user_version 0) have version 1's tables, perhaps without its last
 * columns: migration 1 adds those.
 */
#include "internal.h"

struct migration {
	unsigned version;
	const char *what;
	const char *sql; /* after the tables: data the new columns need */
};

static const struct migration migrations[] = {
	{1, "nodes and slices",
	 "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	 "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '1');"},
	{2, "a slice's labels in a column of their own, taken from its spec",
	 "UPDATE slices SET labels = json_extract(spec, '$.labels') "
	 "WHERE json_valid(spec) AND json_type(spec, '$.labels') = 'object' "
	 "AND json_extract(spec, '$.labels') != '{}';"},
	{3,
	 "pool networking: a node's subnet, address, VTEP and bandwidth; a slice's net_rate, "
	 "address and VIP",
	 NULL},
	{4, "a node cordoned by an admin takes no new placement", NULL},
	{5, "a slice's host ports, picked from its node's --port-range", NULL},
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

static const struct store_table *const tables[] = {&store_nodes, &store_slices};

static int user_version(struct store *st, unsigned *out, struct acre_error *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return store_db_error(st, err, "reading the schema's version");
	int rc = sqlite3_step(q) == SQLITE_ROW
			 ? 0
			 : store_db_error(st, err, "reading the schema's version");
	*out = rc == 0 ? (unsigned)sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return rc;
}

static int has_column(struct store *st, const char *table, const char *column, bool *out,
		      struct acre_error *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1,
			       &q, NULL) != SQLITE_OK)
		return store_db_error(st, err, "reading the schema");
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
	*out = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return 0;
}

/* The table as version v has it: created if missing, its missing columns added. */
static int shape_table(struct store *st, const struct store_table *t, unsigned v,
		       struct acre_error *err)
{
	_cleanup_free_ char *create = store_sql_create(t, v);
	if (!create)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = store_exec(st, create, err);
	for (size_t i = 0; rc == 0 && i < t->ncols; i++) {
		const struct store_column *c = &t->cols[i];
		bool present = false;
		if (c->since > v || (rc = has_column(st, t->name, c->name, &present, err)) < 0 ||
		    present)
			continue;
		_cleanup_free_ char *col = store_sql_column(c);
		char sql[512];
		if (!col)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s", t->name, col);
		rc = store_exec(st, sql, err);
	}
	return rc;
}

static int apply(struct store *st, const struct migration *m, struct acre_error *err)
{
	int rc = store_exec(st, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; rc == 0 && i < ACRE_ARRAY_SIZE(tables); i++)
		rc = shape_table(st, tables[i], m->version, err);
	if (rc == 0 && m->sql)
		rc = store_exec(st, m->sql, err);
	if (rc == 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", m->version);
		rc = store_exec(st, sql, err);
	}
	if (rc == 0)
		rc = store_exec(st, "COMMIT", err);
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return acre_error_prefix(err, "migrating the store to schema %u (%s)", m->version,
					 m->what);
	}
	acre_log(ACRE_LOG_INFO, "event=store_migrated schema=%u what=\"%s\"", m->version, m->what);
	st->migrated++;
	return 0;
}

int store_migrate(struct store *st, struct acre_error *err)
{
	unsigned v = 0;
	int rc = user_version(st, &v, err);
	if (rc < 0)
		return rc;
	if (v > STORE_SCHEMA_VERSION)
		return acre_error_set(
			err, EPROTO, "--data-dir",
			"%s: schema %u is newer than this controller's (%u): written by "
			"a newer acre-controller",
			st->path, v, STORE_SCHEMA_VERSION);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(migrations); i++) {
		if (migrations[i].version <= v)
			continue;
		if ((rc = apply(st, &migrations[i], err)) < 0)
			return rc;
		v = migrations[i].version;
	}
	st->version = v;
	return 0;
}
