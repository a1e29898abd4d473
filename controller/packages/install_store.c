/*
 * Installs' rows and the repositories added, in tables of their own in the
 * pool's store, written in the pass's transaction (the pool's
 * `committing`), as the apps' are: an install is one JSON row, read once
 * at start and written whole when it changed.  The row holds the secret
 * options; nothing else does.
 */
#include "runtime.h"

#include <sqlite3.h>

#include "controller/store/store.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS installs (name TEXT PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pkg_repos (name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
	" dir TEXT NOT NULL);";

static sqlite3 *db_of(struct installs *s)
{
	return store_sqlite(pool_store(s->pool));
}

static int db_error(struct installs *s, struct acre_error *err, const char *what)
{
	return acre_error_set(err, EIO, NULL, "installs: %s: %s", what, sqlite3_errmsg(db_of(s)));
}

static int load_installs(struct installs *s, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db_of(s), "SELECT name, body FROM installs ORDER BY name", -1, &q,
			       NULL) != SQLITE_OK)
		return db_error(s, err, "reading installs");
	int rc = 0;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		json_error_t je;
		json_t *row = json_loads((const char *)sqlite3_column_text(q, 1), 0, &je);
		if (!row) {
			rc = acre_error_set(err, EINVAL, "installs", "install %s: not JSON: %s",
					    (const char *)sqlite3_column_text(q, 0), je.text);
			break;
		}
		if (!install_add(s, (const char *)sqlite3_column_text(q, 0), row))
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	sqlite3_finalize(q);
	return rc;
}

static int load_repos(struct installs *s, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db_of(s), "SELECT name, kind, dir FROM pkg_repos ORDER BY name", -1,
			       &q, NULL) != SQLITE_OK)
		return db_error(s, err, "reading repositories");
	int rc = 0;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		struct pkg_repo *r = calloc(1, sizeof(*r));
		if (!r || !(r->dir = strdup((const char *)sqlite3_column_text(q, 2))) ||
		    acre_vec_push(&s->repos, r) < 0) {
			repo_free(r);
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
			break;
		}
		snprintf(r->name, sizeof(r->name), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(r->kind, sizeof(r->kind), "%s", (const char *)sqlite3_column_text(q, 1));
		if (strcmp(r->kind, "dir"))
			repo_index_load(s, r);
	}
	sqlite3_finalize(q);
	return rc;
}

int install_store_open(struct installs *s, struct acre_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db_of(s), schema, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = acre_error_set(err, EIO, NULL, "installs: creating their tables: %s",
					msg ? msg : sqlite3_errmsg(db_of(s)));
		sqlite3_free(msg);
		return rc;
	}
	int rc = load_installs(s, err);
	return rc < 0 ? rc : load_repos(s, err);
}

static int exec_bound(struct installs *s, const char *sql, const char *a, const char *b,
		      const char *c, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db_of(s), sql, -1, &q, NULL) != SQLITE_OK)
		return db_error(s, err, "preparing a statement");
	const char *v[] = {a, b, c};
	for (int i = 0; i < 3; i++)
		if (v[i])
			sqlite3_bind_text(q, i + 1, v[i], -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : db_error(s, err, "writing");
	sqlite3_finalize(q);
	return rc;
}

static int write_repos(struct installs *s, struct acre_error *err)
{
	int rc = exec_bound(s, "DELETE FROM pkg_repos", NULL, NULL, NULL, err);
	for (size_t i = 0; rc == 0 && i < s->repos.n; i++) {
		const struct pkg_repo *r = s->repos.v[i];
		if (!r->builtin)
			rc = exec_bound(s, "INSERT INTO pkg_repos (name, kind, dir) VALUES (?,?,?)",
					r->name, r->kind, r->dir, err);
	}
	if (rc == 0)
		s->repos_dirty = false;
	return rc;
}

static bool any_dirty(const struct installs *s)
{
	if (s->gone.n || s->repos_dirty)
		return true;
	for (size_t i = 0; i < s->list.n; i++)
		if (s->list.v[i]->dirty)
			return true;
	return false;
}

int install_store_write(struct installs *s, struct acre_error *err)
{
	struct store *st = pool_store(s->pool);
	if (!st || !any_dirty(s))
		return 0;
	int rc = store_begin(st, err);
	for (size_t i = 0; rc == 0 && i < s->gone.n; i++)
		rc = exec_bound(s, "DELETE FROM installs WHERE name = ?", s->gone.v[i]->name, NULL,
				NULL, err);
	for (size_t i = 0; rc == 0 && i < s->list.n; i++) {
		struct install *in = s->list.v[i];
		if (!in->dirty)
			continue;
		_cleanup_free_ char *text = json_dumps(in->row, JSON_COMPACT);
		if (!text)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		rc = exec_bound(s, "INSERT OR REPLACE INTO installs (name, body) VALUES (?, ?)",
				in->name, text, NULL, err);
		if (rc == 0)
			in->dirty = false;
	}
	if (rc == 0 && s->repos_dirty)
		rc = write_repos(s, err);
	return rc;
}
