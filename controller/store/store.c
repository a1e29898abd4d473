/*
 * SQLite behind the controller: opening (and migrating) the file, one
 * transaction per loop pass, rows written and read as schema.c describes
 * them, and loading everything back at start.  Slices are keyed by an
 * INTEGER PRIMARY KEY so that an insert touches one B-tree; names are kept
 * unique by the pool's own index in memory.
 */
#include "internal.h"

#include <sys/stat.h>

int store_db_error(struct store *st, struct acre_error *err, const char *what)
{
	int code = sqlite3_errcode(st->db);
	int e = code == SQLITE_FULL ? ENOSPC : code == SQLITE_BUSY ? EBUSY : EIO;
	return acre_error_set(err, e, NULL, "%s (%s): %s", what, st->path, sqlite3_errmsg(st->db));
}

int store_exec(struct store *st, const char *sql, struct acre_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = acre_error_set(err, EIO, NULL, "%s: %s", st->path, msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int prepare(struct store *st, enum store_stmt which, char *text, struct acre_error *err)
{
	_cleanup_free_ char *sql = text;
	if (!sql)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[which],
			       NULL) != SQLITE_OK)
		return store_db_error(st, err, "preparing statements");
	return 0;
}

static int prepare_all(struct store *st, struct acre_error *err)
{
	int rc = 0;
	if (rc == 0)
		rc = prepare(st, ST_BEGIN, strdup("BEGIN IMMEDIATE"), err);
	if (rc == 0)
		rc = prepare(st, ST_COMMIT, strdup("COMMIT"), err);
	if (rc == 0)
		rc = prepare(st, ST_ROLLBACK, strdup("ROLLBACK"), err);
	if (rc == 0)
		rc = prepare(st, ST_NODE_PUT, store_sql(&store_nodes, STORE_SQL_UPSERT), err);
	if (rc == 0)
		rc = prepare(st, ST_NODE_DELETE, store_sql(&store_nodes, STORE_SQL_DELETE), err);
	if (rc == 0)
		rc = prepare(st, ST_SLICE_INSERT, store_sql(&store_slices, STORE_SQL_INSERT), err);
	if (rc == 0)
		rc = prepare(st, ST_SLICE_UPDATE, store_sql(&store_slices, STORE_SQL_UPDATE), err);
	if (rc == 0)
		rc = prepare(st, ST_SLICE_DELETE, store_sql(&store_slices, STORE_SQL_DELETE), err);
	if (rc == 0)
		rc = prepare(st, ST_SLICE_SPEC,
			     strdup("SELECT spec, placement FROM slices WHERE id = ?1"), err);
	return rc;
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
		rc = store_db_error(st, err, "opening the store");
		store_close(st);
		return rc;
	}
	chmod(st->path, 0600);
	/*
	 * WAL: a commit appends and fsyncs the log only.  synchronous=FULL makes
	 * that fsync part of every commit, which is what an acknowledgement
	 * promises.  A large autocheckpoint keeps checkpoints rare under load.
	 */
	if ((rc = store_exec(st,
			     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			     "PRAGMA wal_autocheckpoint=8192; PRAGMA cache_size=-65536;"
			     "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;",
			     err)) < 0 ||
	    (rc = store_migrate(st, err)) < 0 || (rc = prepare_all(st, err)) < 0) {
		store_close(st);
		return rc;
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

unsigned store_schema_version(const struct store *st)
{
	return st->version;
}

unsigned store_migrations_applied(const struct store *st)
{
	return st->migrated;
}

struct sqlite3 *store_sqlite(struct store *st)
{
	return st->db;
}

static int step_done(struct store *st, enum store_stmt which, struct acre_error *err,
		     const char *what)
{
	sqlite3_stmt *s = st->stmt[which];
	int r = sqlite3_step(s);
	int rc = r == SQLITE_DONE ? 0 : store_db_error(st, err, what);
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

/* One row written by a prepared statement, inside the pass's transaction. */
static int write_row(struct store *st, enum store_stmt which, const struct store_table *t,
		     const void *row, bool update, struct acre_error *err, const char *what)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	store_bind_row(st->stmt[which], t, row, update);
	st->stats.rows_written++;
	return step_done(st, which, err, what);
}

int store_node_put(struct store *st, const struct store_node_row *r, struct acre_error *err)
{
	return write_row(st, ST_NODE_PUT, &store_nodes, r, false, err, "writing a node");
}

int store_node_delete(struct store *st, const char *id, struct acre_error *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st->stmt[ST_NODE_DELETE], 1, id, -1, SQLITE_TRANSIENT);
	st->stats.rows_written++;
	return step_done(st, ST_NODE_DELETE, err, "deleting a node");
}

int store_slice_insert(struct store *st, const struct store_slice_row *r, struct acre_error *err)
{
	return write_row(st, ST_SLICE_INSERT, &store_slices, r, false, err, "inserting a slice");
}

int store_slice_update(struct store *st, const struct store_slice_row *r, struct acre_error *err)
{
	return write_row(st, ST_SLICE_UPDATE, &store_slices, r, true, err, "updating a slice");
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

/* Where rows read go: a node callback or a slice callback. */
struct feed {
	store_node_fn node;
	store_slice_fn slice;
	void *ud;
};

/* Rows of a query made from store_sql_select(t, lazy), to f; a callback returning non-zero stops.
 */
static int read_rows(struct store *st, sqlite3_stmt *s, const struct store_table *t, bool lazy,
		     const struct feed *f, struct acre_error *err, const char *what)
{
	int r, rc = 0;
	while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
		if (f->node) {
			struct store_node_row row = {0};
			store_read_row(s, t, &row, lazy);
			rc = f->node(&row, f->ud);
		} else {
			struct store_slice_row row = {0};
			store_read_row(s, t, &row, lazy);
			rc = f->slice(&row, f->ud);
		}
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_db_error(st, err, what);
	else if (rc < 0 && err && !err->message[0])
		acre_error_set(err, -rc, NULL, "%s: %s", what, strerror(-rc));
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

static int query(struct store *st, const struct store_table *t, bool lazy, const char *tail,
		 sqlite3_stmt **out, struct acre_error *err, const char *what)
{
	_cleanup_free_ char *select = store_sql_select(t, lazy);
	_cleanup_free_ char *sql = NULL;
	if (!select || asprintf(&sql, "%s %s", select, tail) < 0) {
		sql = NULL;
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return store_db_error(st, err, what);
	return 0;
}

int store_load_nodes(struct store *st, store_node_fn fn, void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	struct feed f = {.node = fn, .ud = ud};
	int rc = query(st, &store_nodes, false, "ORDER BY id", &s, err, "reading nodes");
	return rc < 0 ? rc : read_rows(st, s, &store_nodes, false, &f, err, "loading nodes");
}

int store_load_slices(struct store *st, store_slice_fn fn, void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	struct feed f = {.slice = fn, .ud = ud};
	int rc = query(st, &store_slices, false, "ORDER BY id", &s, err, "reading slices");
	return rc < 0 ? rc : read_rows(st, s, &store_slices, false, &f, err, "loading slices");
}

int store_slice_list(struct store *st, const struct store_slice_query *q, store_slice_fn fn,
		     void *ud, struct acre_error *err)
{
	sqlite3_stmt *s;
	struct feed f = {.slice = fn, .ud = ud};
	int rc = query(st, &store_slices, q->with_spec,
		       "WHERE id > ?1 AND (?2 IS NULL OR node_id = ?2) AND "
		       "(?3 IS NULL OR state = ?3) ORDER BY id LIMIT ?4",
		       &s, err, "listing slices");
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(s, 1, q->after_id);
	if (q->node_id)
		sqlite3_bind_text(s, 2, q->node_id, -1, SQLITE_STATIC);
	if (q->state)
		sqlite3_bind_text(s, 3, q->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, q->limit ? (sqlite3_int64)q->limit : -1);
	return read_rows(st, s, &store_slices, q->with_spec, &f, err, "listing slices");
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
		const char *a = (const char *)sqlite3_column_text(s, 0);
		const char *b = (const char *)sqlite3_column_text(s, 1);
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
		rc = store_db_error(st, err, "reading a slice's spec");
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
