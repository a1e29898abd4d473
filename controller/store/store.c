/*
 * SQLite behind the controller: schema, prepared statements, one
 * transaction per loop iteration, and loading everything back at start.
 * Slices are keyed by an INTEGER PRIMARY KEY so that an insert touches one
 * B-tree; names are kept unique by the controller's own index in memory.
 */
#include "store.h"

#include <sqlite3.h>
#include <sys/stat.h>

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_NODE_PUT,
	ST_SLICE_INSERT,
	ST_SLICE_UPDATE,
	ST_SLICE_DELETE,
	ST_SLICE_SPEC,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_NODE_PUT] = "INSERT OR REPLACE INTO nodes (id, hostname, secret_hash, attributes, "
			"state, address, cpus, memory, last_seq, registered_at, updated_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_SLICE_INSERT] = "INSERT INTO slices (id, name, spec, placement, node_id, state, reason, "
			    "desired, exit, spread, spread_group, cpus, memory, restart, "
			    "restarts, assigned, created_at, updated_at, replacements, last_node_id) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
			    "?16, ?17, ?18, ?19, ?20)",
	[ST_SLICE_UPDATE] = "UPDATE slices SET node_id = ?2, state = ?3, reason = ?4, desired = ?5, "
			    "exit = ?6, spread = ?7, spread_group = ?8, restarts = ?9, "
			    "assigned = ?10, updated_at = ?11, replacements = ?12, last_node_id = ?13 "
			    "WHERE id = ?1",
	[ST_SLICE_DELETE] = "DELETE FROM slices WHERE id = ?1",
	[ST_SLICE_SPEC] = "SELECT spec, placement FROM slices WHERE id = ?1",
};

static const char schema[] =
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

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	bool in_txn;
	char path[4096];
	struct store_stats stats;
};

static int db_error(struct store *st, struct acre_error *err, const char *what)
{
	int code = sqlite3_errcode(st->db);
	int e = code == SQLITE_FULL ? ENOSPC : code == SQLITE_BUSY ? EBUSY : EIO;
	return acre_error_set(err, e, NULL, "%s (%s): %s", what, st->path, sqlite3_errmsg(st->db));
}

static int exec(struct store *st, const char *sql, struct acre_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = acre_error_set(err, EIO, NULL, "%s: %s", st->path, msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* Columns added after the first schema: a store written by an older build gains them. */
static const struct {
	const char *column, *ddl;
} added_columns[] = {
	{"replacements", "ALTER TABLE slices ADD COLUMN replacements INTEGER NOT NULL DEFAULT 0"},
	{"last_node_id", "ALTER TABLE slices ADD COLUMN last_node_id TEXT"},
};

static int migrate(struct store *st, struct acre_error *err)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(added_columns); i++) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM pragma_table_info('slices') WHERE name = ?1",
				       -1, &q, NULL) != SQLITE_OK)
			return db_error(st, err, "reading the schema");
		sqlite3_bind_text(q, 1, added_columns[i].column, -1, SQLITE_STATIC);
		bool present = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
		int rc = present ? 0 : exec(st, added_columns[i].ddl, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int store_open(const char *dir, struct store **out, struct acre_error *err)
{
	*out = NULL;
	int rc = acre_mkdir_p(dir, 0700);
	if (rc < 0)
		return acre_error_set(err, -rc, "--data-dir", "--data-dir %s: %s", dir,
				      strerror(-rc));
	struct store *st = calloc(1, sizeof(*st));
	if (!st)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	snprintf(st->path, sizeof(st->path), "%s/%s", dir, STORE_FILE);
	if (sqlite3_open_v2(st->path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = db_error(st, err, "opening the store");
		store_close(st);
		return rc;
	}
	chmod(st->path, 0600);
	/*
	 * WAL: a commit appends and fsyncs the log only.  synchronous=FULL makes
	 * that fsync part of every commit, which is what an acknowledgement
	 * promises.  A large autocheckpoint keeps checkpoints rare under load.
	 */
	if ((rc = exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "PRAGMA wal_autocheckpoint=8192; PRAGMA cache_size=-65536;"
			   "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;",
		       err)) < 0 ||
	    (rc = exec(st, schema, err)) < 0 || (rc = migrate(st, err)) < 0) {
		store_close(st);
		return rc;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			rc = db_error(st, err, "preparing statements");
			store_close(st);
			return rc;
		}
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_txn)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

static int step_done(struct store *st, enum stmt which, struct acre_error *err, const char *what)
{
	sqlite3_stmt *s = st->stmt[which];
	int r = sqlite3_step(s);
	int rc = r == SQLITE_DONE ? 0 : db_error(st, err, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int store_begin(struct store *st, struct acre_error *err)
{
	if (st->in_txn)
		return 0;
	int rc = step_done(st, ST_BEGIN, err, "beginning a transaction");
	if (rc == 0)
		st->in_txn = true;
	return rc;
}

bool store_in_transaction(const struct store *st)
{
	return st->in_txn;
}

int store_commit(struct store *st, struct acre_error *err)
{
	if (!st->in_txn)
		return 0;
	uint64_t t0 = acre_monotonic_ns();
	int rc = step_done(st, ST_COMMIT, err, "committing");
	if (rc < 0) {
		/* Some errors leave the transaction open: end it, nothing of it is kept. */
		if (!sqlite3_get_autocommit(st->db))
			step_done(st, ST_ROLLBACK, NULL, "rolling back");
		st->in_txn = false;
		return rc;
	}
	st->in_txn = false;
	uint64_t ns = acre_monotonic_ns() - t0;
	st->stats.commits++;
	st->stats.commit_ns_total += ns;
	if (ns > st->stats.commit_ns_max)
		st->stats.commit_ns_max = ns;
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

int store_node_put(struct store *st, const struct store_node_row *r, struct acre_error *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s = st->stmt[ST_NODE_PUT];
	bind_text(s, 1, r->id);
	bind_text(s, 2, r->hostname ? r->hostname : "");
	bind_text(s, 3, r->secret_hash);
	bind_text(s, 4, r->attributes ? r->attributes : "{}");
	bind_text(s, 5, r->state);
	bind_text(s, 6, r->address);
	sqlite3_bind_int64(s, 7, r->cpus);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->memory);
	sqlite3_bind_int64(s, 9, r->last_seq);
	sqlite3_bind_int64(s, 10, r->registered_at);
	sqlite3_bind_int64(s, 11, r->updated_at);
	st->stats.rows_written++;
	return step_done(st, ST_NODE_PUT, err, "writing a node");
}

int store_slice_insert(struct store *st, const struct store_slice_row *r, struct acre_error *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s = st->stmt[ST_SLICE_INSERT];
	sqlite3_bind_int64(s, 1, r->id);
	bind_text(s, 2, r->name);
	bind_text(s, 3, r->spec);
	bind_text(s, 4, r->placement);
	bind_text(s, 5, r->node_id);
	bind_text(s, 6, r->state);
	bind_text(s, 7, r->reason);
	bind_text(s, 8, r->desired);
	bind_text(s, 9, r->exit);
	bind_text(s, 10, r->spread);
	bind_text(s, 11, r->spread_group);
	sqlite3_bind_int64(s, 12, r->cpus);
	sqlite3_bind_int64(s, 13, (sqlite3_int64)r->memory);
	bind_text(s, 14, r->restart);
	sqlite3_bind_int64(s, 15, r->restarts);
	sqlite3_bind_int(s, 16, r->assigned);
	sqlite3_bind_int64(s, 17, r->created_at);
	sqlite3_bind_int64(s, 18, r->updated_at);
	sqlite3_bind_int64(s, 19, r->replacements);
	bind_text(s, 20, r->last_node_id);
	st->stats.rows_written++;
	return step_done(st, ST_SLICE_INSERT, err, "inserting a slice");
}

int store_slice_update(struct store *st, const struct store_slice_row *r, struct acre_error *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s = st->stmt[ST_SLICE_UPDATE];
	sqlite3_bind_int64(s, 1, r->id);
	bind_text(s, 2, r->node_id);
	bind_text(s, 3, r->state);
	bind_text(s, 4, r->reason);
	bind_text(s, 5, r->desired);
	bind_text(s, 6, r->exit);
	bind_text(s, 7, r->spread);
	bind_text(s, 8, r->spread_group);
	sqlite3_bind_int64(s, 9, r->restarts);
	sqlite3_bind_int(s, 10, r->assigned);
	sqlite3_bind_int64(s, 11, r->updated_at);
	sqlite3_bind_int64(s, 12, r->replacements);
	bind_text(s, 13, r->last_node_id);
	st->stats.rows_written++;
	return step_done(st, ST_SLICE_UPDATE, err, "updating a slice");
}

int store_slice_delete(struct store *st, int64_t id, struct acre_error *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st->stmt[ST_SLICE_DELETE], 1, id);
	st->stats.rows_written++;
	return step_done(st, ST_SLICE_DELETE, err, "deleting a slice");
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int store_load_nodes(struct store *st, store_node_fn fn, void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, hostname, secret_hash, attributes, state, address, cpus, "
			       "memory, last_seq, registered_at, updated_at FROM nodes ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "reading nodes");
	int r, rc = 0;
	while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_node_row row = {
			.id = col_text(s, 0),
			.hostname = col_text(s, 1),
			.secret_hash = col_text(s, 2),
			.attributes = col_text(s, 3),
			.state = col_text(s, 4),
			.address = col_text(s, 5),
			.cpus = (uint32_t)sqlite3_column_int64(s, 6),
			.memory = (uint64_t)sqlite3_column_int64(s, 7),
			.last_seq = sqlite3_column_int64(s, 8),
			.registered_at = sqlite3_column_int64(s, 9),
			.updated_at = sqlite3_column_int64(s, 10),
		};
		rc = fn(&row, ud);
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = db_error(st, err, "reading nodes");
	else if (rc < 0)
		acre_error_set(err, -rc, NULL, "loading nodes: %s", strerror(-rc));
	sqlite3_finalize(s);
	return rc;
}

static void slice_from_row(sqlite3_stmt *s, struct store_slice_row *row, bool with_spec)
{
	*row = (struct store_slice_row){
		.id = sqlite3_column_int64(s, 0),
		.name = col_text(s, 1),
		.placement = col_text(s, 2),
		.node_id = col_text(s, 3),
		.state = col_text(s, 4),
		.reason = col_text(s, 5),
		.desired = col_text(s, 6),
		.exit = col_text(s, 7),
		.spread = col_text(s, 8),
		.spread_group = col_text(s, 9),
		.cpus = (uint32_t)sqlite3_column_int64(s, 10),
		.memory = (uint64_t)sqlite3_column_int64(s, 11),
		.restart = col_text(s, 12),
		.restarts = (unsigned)sqlite3_column_int64(s, 13),
		.assigned = sqlite3_column_int(s, 14) != 0,
		.created_at = sqlite3_column_int64(s, 15),
		.updated_at = sqlite3_column_int64(s, 16),
		.replacements = (unsigned)sqlite3_column_int64(s, 17),
		.last_node_id = col_text(s, 18),
	};
	if (with_spec)
		row->spec = col_text(s, 19);
}

#define SLICE_COLUMNS                                                                              \
	"id, name, placement, node_id, state, reason, desired, exit, spread, spread_group, cpus, " \
	"memory, restart, restarts, assigned, created_at, updated_at, replacements, last_node_id"

static int run_slice_query(struct store *st, sqlite3_stmt *s, bool with_spec, store_slice_fn fn,
			   void *ud, struct acre_error *err)
{
	int r, rc = 0;
	while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_slice_row row;
		slice_from_row(s, &row, with_spec);
		rc = fn(&row, ud);
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = db_error(st, err, "reading slices");
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

int store_load_slices(struct store *st, store_slice_fn fn, void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT " SLICE_COLUMNS " FROM slices ORDER BY id", -1, &s,
			       NULL) != SQLITE_OK)
		return db_error(st, err, "reading slices");
	int rc = run_slice_query(st, s, false, fn, ud, err);
	if (rc < 0 && err && !err->message[0])
		acre_error_set(err, -rc, NULL, "loading slices: %s", strerror(-rc));
	return rc;
}

int store_slice_list(struct store *st, const struct store_slice_query *q, store_slice_fn fn,
		     void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	const char *sql = q->with_spec
				  ? "SELECT " SLICE_COLUMNS ", spec FROM slices WHERE id > ?1 AND "
				    "(?2 IS NULL OR node_id = ?2) AND (?3 IS NULL OR state = ?3) "
				    "ORDER BY id LIMIT ?4"
				  : "SELECT " SLICE_COLUMNS " FROM slices WHERE id > ?1 AND "
				    "(?2 IS NULL OR node_id = ?2) AND (?3 IS NULL OR state = ?3) "
				    "ORDER BY id LIMIT ?4";
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, "listing slices");
	sqlite3_bind_int64(s, 1, q->after_id);
	bind_text(s, 2, q->node_id);
	bind_text(s, 3, q->state);
	sqlite3_bind_int64(s, 4, q->limit ? (sqlite3_int64)q->limit : -1);
	return run_slice_query(st, s, q->with_spec, fn, ud, err);
}

int store_slice_spec(struct store *st, int64_t id, char **spec, char **placement,
		     struct acre_error *err)
{
	*spec = *placement = NULL;
	sqlite3_stmt *s = st->stmt[ST_SLICE_SPEC];
	sqlite3_bind_int64(s, 1, id);
	int r = sqlite3_step(s);
	int rc = 0;
	if (r == SQLITE_ROW) {
		const char *a = col_text(s, 0), *b = col_text(s, 1);
		*spec = a ? strdup(a) : NULL;
		*placement = b ? strdup(b) : NULL;
		if (!*spec || (b && !*placement)) {
			free(*spec);
			free(*placement);
			*spec = *placement = NULL;
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
	} else if (r == SQLITE_DONE) {
		rc = acre_error_set(err, ENOENT, NULL, "slice %lld is not in the store",
				    (long long)id);
	} else {
		rc = db_error(st, err, "reading a slice's spec");
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

const struct store_stats *store_get_stats(const struct store *st)
{
	return &st->stats;
}

int64_t store_file_size(const struct store *st)
{
	struct stat a, b;
	char wal[sizeof(st->path) + 8];
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	int64_t n = stat(st->path, &a) == 0 ? (int64_t)a.st_size : 0;
	if (stat(wal, &b) == 0)
		n += (int64_t)b.st_size;
	return n;
}
