/*
 * Apps' rows, in tables of their own in the pool's store, written in the
 * pass's transaction (the pool's `committing`): an app is one row (its
 * versions, its instances' slots, what stop remembered), a deployment one
 * row, the nodes being drained one row each.  Rows are JSON: they are
 * read once, at start, and written whole when they changed.
 */
#include "runtime.h"

#include <sqlite3.h>

#include "controller/store/store.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS apps (name TEXT PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS app_deployments (id INTEGER PRIMARY KEY, app TEXT NOT NULL,"
	" body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS app_deployments_app ON app_deployments (app, id);"
	"CREATE TABLE IF NOT EXISTS app_drains (node TEXT PRIMARY KEY);";

static sqlite3 *db_of(struct apps *a)
{
	return store_sqlite(pool_store(a->pool));
}

static int db_error(struct apps *a, struct acre_error *err, const char *what)
{
	return acre_error_set(err, EIO, NULL, "apps: %s: %s", what, sqlite3_errmsg(db_of(a)));
}

static int prepare(struct apps *a, const char *sql, sqlite3_stmt **out, struct acre_error *err)
{
	if (sqlite3_prepare_v3(db_of(a), sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) !=
	    SQLITE_OK)
		return db_error(a, err, "preparing statements");
	return 0;
}

int apps_store_open(struct apps *a, struct acre_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db_of(a), schema, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = acre_error_set(err, EIO, NULL, "apps: creating their tables: %s",
					msg ? msg : sqlite3_errmsg(db_of(a)));
		sqlite3_free(msg);
		return rc;
	}
	int rc = prepare(a, "INSERT OR REPLACE INTO apps (name, body) VALUES (?, ?)", &a->put_app,
			 err);
	if (rc == 0)
		rc = prepare(a, "DELETE FROM apps WHERE name = ?", &a->del_app, err);
	if (rc == 0)
		rc = prepare(
			a,
			"INSERT OR REPLACE INTO app_deployments (id, app, body) VALUES (?, ?, ?)",
			&a->put_deploy, err);
	if (rc == 0)
		rc = prepare(a, "DELETE FROM app_deployments WHERE app = ? AND id < ?",
			     &a->del_deploys, err);
	if (rc == 0)
		rc = prepare(a, "INSERT OR REPLACE INTO app_drains (node) VALUES (?)",
			     &a->put_drains, err);
	return rc;
}

void apps_store_close(struct apps *a)
{
	sqlite3_finalize(a->put_app);
	sqlite3_finalize(a->del_app);
	sqlite3_finalize(a->put_deploy);
	sqlite3_finalize(a->del_deploys);
	sqlite3_finalize(a->put_drains);
}

/* ---- an app's row ------------------------------------------------------------------------- */

/*
 * The slots that remember something (a volume's node, a host port, a
 * restart count), each with its index: at 100,000 instances a slot of each
 * was megabytes of JSON written at every change of the app's row.
 */
static json_t *slots_json(const struct app *app)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < app->nslots; i++) {
		const struct app_slot *s = &app->slots[i];
		bool ports = false;
		for (size_t k = 0; k < app->spec.nports && !ports; k++)
			ports = s->host_ports[k] != 0;
		if (!s->volume_node[0] && !ports && !s->restarts.n)
			continue;
		json_t *list = json_array();
		for (size_t k = 0; list && k < app->spec.nports; k++)
			json_array_append_new(list, json_integer(s->host_ports[k]));
		json_array_append_new(
			arr, json_pack("{s:I,s:s,s:o,s:i,s:I}", "index", (json_int_t)i,
				       "volume_node", s->volume_node, "host_ports",
				       list ? list : json_array(), "restarts", (int)s->restarts.n,
				       "healthy_since", (json_int_t)s->restarts.healthy_since_ms));
	}
	return arr;
}

json_t *app_state_json(const struct app *app)
{
	json_t *versions = app_versions_to_json(&app->versions);
	if (!versions)
		return NULL;
	return json_pack("{s:s,s:o,s:i,s:i,s:i,s:i,s:b,s:b,s:o,s:I,s:I}", "name", app->name,
			 "versions", versions, "version", (int)app->version, "target",
			 (int)app->target, "rollback_to", (int)app->rollback_to,
			 "stopped_instances", app->stopped_instances, "removing", app->removing,
			 "keep_volumes", app->keep_volumes, "slots", slots_json(app), "created_at",
			 (json_int_t)app->created_at, "updated_at", (json_int_t)app->updated_at);
}

/* Each entry at its "index" (rows of an earlier release: at its position in the array). */
static void slots_from_json(struct app *app, const json_t *arr)
{
	size_t i;
	json_t *s;
	json_array_foreach (arr, i, s) {
		json_t *at = json_object_get(s, "index");
		json_int_t index = at ? json_integer_value(at) : (json_int_t)i;
		if (index < 0 || index >= 2 * APP_INSTANCES_MAX ||
		    app_slots_reserve(app, (size_t)index + 1) < 0)
			continue;
		struct app_slot *slot = &app->slots[index];
		const char *node = json_string_value(json_object_get(s, "volume_node"));
		snprintf(slot->volume_node, sizeof(slot->volume_node), "%s", node ? node : "");
		size_t k;
		json_t *port;
		json_array_foreach (json_object_get(s, "host_ports"), k, port)
			if (k < APP_PORTS_MAX)
				slot->host_ports[k] = (uint16_t)json_integer_value(port);
		slot->restarts.n = (unsigned)json_integer_value(json_object_get(s, "restarts"));
		slot->restarts.healthy_since_ms =
			json_integer_value(json_object_get(s, "healthy_since"));
	}
}

int app_state_from_json(struct app *app, const json_t *j, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	if (!name || !app_name_valid(name))
		return acre_error_set(err, EINVAL, "apps", "a stored app has no valid name");
	snprintf(app->name, sizeof(app->name), "%s", name);
	int rc = app_versions_from_json(json_object_get(j, "versions"), &app->versions, err);
	if (rc < 0)
		return rc;
	app->version = (uint32_t)json_integer_value(json_object_get(j, "version"));
	app->target = (uint32_t)json_integer_value(json_object_get(j, "target"));
	app->rollback_to = (uint32_t)json_integer_value(json_object_get(j, "rollback_to"));
	app->stopped_instances = (int)json_integer_value(json_object_get(j, "stopped_instances"));
	app->removing = json_is_true(json_object_get(j, "removing"));
	app->keep_volumes = json_is_true(json_object_get(j, "keep_volumes"));
	app->created_at = json_integer_value(json_object_get(j, "created_at"));
	app->updated_at = json_integer_value(json_object_get(j, "updated_at"));
	const struct app_version *v = app_versions_find(&app->versions, app->version);
	if (!v)
		return acre_error_set(err, EINVAL, "apps", "app %s: its version %u is not kept",
				      app->name, app->version);
	if ((rc = app_spec_parse(v->spec, &app->spec, err)) < 0 ||
	    (rc = app_spec_for_instances(app, app->target, &app->target_spec, err)) < 0)
		return rc;
	slots_from_json(app, json_object_get(j, "slots"));
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

static int load_apps(struct apps *a, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare(a, "SELECT body FROM apps ORDER BY name", &q, err);
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		json_error_t je;
		_cleanup_json_ json_t *j =
			json_loads((const char *)sqlite3_column_text(q, 0), 0, &je);
		struct app *app = calloc(1, sizeof(*app));
		if (!app) {
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
			break;
		}
		if (!j)
			rc = acre_error_set(err, EINVAL, "apps", "a stored app is not JSON: %s",
					    je.text);
		else
			rc = app_state_from_json(app, j, err);
		if (rc == 0)
			rc = apps_insert(a, app) < 0
				     ? acre_error_set(err, ENOMEM, NULL, "out of memory")
				     : 0;
		if (rc < 0)
			app_free(app);
	}
	sqlite3_finalize(q);
	return rc;
}

static int load_deploys(struct apps *a, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare(a, "SELECT id, app, body FROM app_deployments ORDER BY id", &q, err);
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		if (id >= a->next_deploy_id)
			a->next_deploy_id = id + 1;
		struct app *app = apps_find(a, (const char *)sqlite3_column_text(q, 1));
		if (!app)
			continue; /* its app is gone: the row goes with the next trim */
		json_error_t je;
		_cleanup_json_ json_t *j =
			json_loads((const char *)sqlite3_column_text(q, 2), 0, &je);
		struct deploy *d = calloc(1, sizeof(*d));
		if (!d) {
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
			break;
		}
		if (!j || deploy_from_json(j, d, err) < 0 || acre_vec_push(&app->deploys, d) < 0) {
			deploy_free(d);
			rc = acre_error_set(err, EINVAL, "deployments",
					    "stored deployment %lld is unreadable", (long long)id);
			break;
		}
		if (d->state == DEPLOY_RUNNING)
			app->dep = d; /* it goes on where it was */
	}
	sqlite3_finalize(q);
	return rc;
}

static int load_drains(struct apps *a, struct acre_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare(a, "SELECT node FROM app_drains ORDER BY node", &q, err);
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		char *node = strdup((const char *)sqlite3_column_text(q, 0));
		if (!node || acre_vec_push(&a->drains, node) < 0) {
			free(node);
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
	}
	sqlite3_finalize(q);
	return rc;
}

int apps_store_load(struct apps *a, struct acre_error *err)
{
	int rc = load_apps(a, err);
	if (rc == 0)
		rc = load_deploys(a, err);
	return rc < 0 ? rc : load_drains(a, err);
}

/* ---- writing ------------------------------------------------------------------------------ */

static int put_deploy(struct apps *a, const struct deploy *d, struct acre_error *err)
{
	_cleanup_json_ json_t *j = deploy_json(d);
	if (!j || json_object_set_new(j, "target", json_integer(d->target)) < 0 ||
	    json_object_set_new(j, "progress_at", json_integer(d->progress_at)) < 0 ||
	    json_object_set_new(j, "deadline", json_integer(d->deadline)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	sqlite3_reset(a->put_deploy);
	sqlite3_bind_int64(a->put_deploy, 1, d->id);
	sqlite3_bind_text(a->put_deploy, 2, d->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->put_deploy, 3, text, -1, free);
	return sqlite3_step(a->put_deploy) == SQLITE_DONE
		       ? 0
		       : db_error(a, err, "writing a deployment");
}

static int put_app(struct apps *a, struct app *app, struct acre_error *err)
{
	_cleanup_json_ json_t *j = app_state_json(app);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	sqlite3_reset(a->put_app);
	sqlite3_bind_text(a->put_app, 1, app->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->put_app, 2, text, -1, free);
	if (sqlite3_step(a->put_app) != SQLITE_DONE)
		return db_error(a, err, "writing an app");
	/* Deployments older than the oldest kept go with it. */
	int64_t oldest = app->deploys.n ? app->deploys.v[0]->id : INT64_MAX;
	sqlite3_reset(a->del_deploys);
	sqlite3_bind_text(a->del_deploys, 1, app->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a->del_deploys, 2, oldest);
	return sqlite3_step(a->del_deploys) == SQLITE_DONE
		       ? 0
		       : db_error(a, err, "trimming deployments");
}

static int delete_app(struct apps *a, struct app *app, struct acre_error *err)
{
	sqlite3_reset(a->del_app);
	sqlite3_bind_text(a->del_app, 1, app->name, -1, SQLITE_STATIC);
	if (sqlite3_step(a->del_app) != SQLITE_DONE)
		return db_error(a, err, "deleting an app");
	sqlite3_reset(a->del_deploys);
	sqlite3_bind_text(a->del_deploys, 1, app->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a->del_deploys, 2, INT64_MAX);
	return sqlite3_step(a->del_deploys) == SQLITE_DONE
		       ? 0
		       : db_error(a, err, "deleting deployments");
}

static int write_drains(struct apps *a, struct acre_error *err)
{
	if (sqlite3_exec(db_of(a), "DELETE FROM app_drains", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(a, err, "writing drains");
	for (size_t i = 0; i < a->drains.n; i++) {
		sqlite3_reset(a->put_drains);
		sqlite3_bind_text(a->put_drains, 1, a->drains.v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(a->put_drains) != SQLITE_DONE)
			return db_error(a, err, "writing drains");
	}
	a->drains_dirty = false;
	return 0;
}

static bool any_dirty(const struct apps *a)
{
	if (a->gone.n || a->drains_dirty || a->kept_dirty)
		return true;
	for (size_t i = 0; i < a->apps.n; i++) {
		const struct app *app = a->apps.v[i];
		if (app->row_dirty)
			return true;
		for (size_t k = app->deploys.n; k-- > 0;)
			if (app->deploys.v[k]->dirty)
				return true;
	}
	return false;
}

int apps_store_write(struct apps *a, struct acre_error *err)
{
	struct store *st = pool_store(a->pool);
	if (!st || !any_dirty(a))
		return 0;
	int rc = store_begin(st, err);
	for (size_t i = 0; rc == 0 && i < a->gone.n; i++)
		rc = delete_app(a, a->gone.v[i], err);
	for (size_t i = 0; rc == 0 && i < a->apps.n; i++) {
		struct app *app = a->apps.v[i];
		for (size_t k = 0; rc == 0 && k < app->deploys.n; k++) {
			struct deploy *d = app->deploys.v[k];
			if (d->dirty && (rc = put_deploy(a, d, err)) == 0)
				d->dirty = false;
		}
		if (rc == 0 && app->row_dirty && (rc = put_app(a, app, err)) == 0)
			app->row_dirty = false;
	}
	if (rc == 0 && a->drains_dirty)
		rc = write_drains(a, err);
	if (rc == 0)
		rc = app_kept_volumes_write(a, err);
	return rc;
}
