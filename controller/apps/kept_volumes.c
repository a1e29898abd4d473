/*
 * Where the volumes of an app removed with keep_volumes stay: the node of
 * each instance's volumes, kept by the app's name after the app is gone,
 * so that an app of that name made again (an install uninstalled with
 * --keep-volumes and installed again) places each instance where its
 * volumes are, not on whichever node has room, where it would start on new
 * volumes, empty.  A pool does not know its nodes' volumes otherwise: an
 * app's slots remember them, and they go with the app.  Kept in the
 * store's table app_kept_volumes, one row an app name:
 *
 *   [{"index": 0, "volume_node": "NODE"}, ...]
 *
 * and taken (the row deleted) by the app of that name that is made next.
 */
#include "runtime.h"

#include <sqlite3.h>

#include "controller/store/store.h"

void app_kept_volumes_record(struct apps *a, const struct app *app)
{
	json_t *slots = json_array();
	for (size_t i = 0; slots && i < app->nslots; i++)
		if (app->slots[i].volume_node[0])
			json_array_append_new(slots,
					      json_pack("{s:I,s:s}", "index", (json_int_t)i,
							"volume_node", app->slots[i].volume_node));
	if (!json_array_size(slots)) {
		json_decref(slots);
		return;
	}
	if (!a->kept)
		a->kept = json_object();
	if (!a->kept || json_object_set_new(a->kept, app->name, slots) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=apps_failed action=exit error=\"out of memory\"");
		_exit(1);
	}
	a->kept_dirty = true;
	acre_log(ACRE_LOG_INFO, "event=app_volumes_kept app=%s instances=%zu", app->name,
		 json_array_size(slots));
}

void app_kept_volumes_claim(struct apps *a, struct app *app)
{
	json_t *slots = json_object_get(a->kept, app->name), *s;
	size_t i;
	if (!slots)
		return;
	json_array_foreach (slots, i, s) {
		json_int_t index = json_integer_value(json_object_get(s, "index"));
		const char *node = json_string_value(json_object_get(s, "volume_node"));
		if (!node || index < 0 || index >= 2 * APP_INSTANCES_MAX ||
		    app_slots_reserve(app, (size_t)index + 1) < 0)
			continue;
		snprintf(app->slots[index].volume_node, sizeof(app->slots[index].volume_node), "%s",
			 node);
	}
	acre_log(ACRE_LOG_INFO, "event=app_volumes_found app=%s instances=%zu", app->name,
		 json_array_size(slots));
	json_object_del(a->kept, app->name);
	a->kept_dirty = true;
	app->row_dirty = true;
}

/* ---- the store --------------------------------------------------------------------------- */

int app_kept_volumes_load(struct apps *a, struct acre_error *err)
{
	sqlite3 *db = store_sqlite(pool_store(a->pool));
	sqlite3_stmt *q = NULL;
	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS app_kept_volumes (app TEXT PRIMARY KEY,"
			 " body TEXT NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT app, body FROM app_kept_volumes", -1, &q, NULL) !=
		    SQLITE_OK)
		return acre_error_set(err, EIO, NULL, "apps: kept volumes: %s", sqlite3_errmsg(db));
	a->kept = json_object();
	while (a->kept && sqlite3_step(q) == SQLITE_ROW) {
		json_t *slots = json_loads((const char *)sqlite3_column_text(q, 1), 0, NULL);
		if (json_is_array(slots))
			json_object_set_new(a->kept, (const char *)sqlite3_column_text(q, 0),
					    slots);
		else
			json_decref(slots); /* not ours to read: the row goes at the next write */
	}
	sqlite3_finalize(q);
	return a->kept ? 0 : acre_error_set(err, ENOMEM, NULL, "out of memory");
}

/* The table written whole (a row per app removed with its volumes kept: a few). */
int app_kept_volumes_write(struct apps *a, struct acre_error *err)
{
	if (!a->kept_dirty)
		return 0;
	sqlite3 *db = store_sqlite(pool_store(a->pool));
	sqlite3_stmt *put = NULL;
	int rc = sqlite3_exec(db, "DELETE FROM app_kept_volumes", NULL, NULL, NULL) == SQLITE_OK &&
				 sqlite3_prepare_v2(db,
						    "INSERT INTO app_kept_volumes (app, body) "
						    "VALUES (?, ?)",
						    -1, &put, NULL) == SQLITE_OK
			 ? 0
			 : -EIO;
	const char *name;
	json_t *slots;
	json_object_foreach (a->kept, name, slots) {
		if (rc < 0)
			break;
		char *text = json_dumps(slots, JSON_COMPACT);
		sqlite3_reset(put);
		sqlite3_bind_text(put, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 2, text ? text : "[]", -1, SQLITE_TRANSIENT);
		free(text);
		if (sqlite3_step(put) != SQLITE_DONE)
			rc = -EIO;
	}
	sqlite3_finalize(put);
	if (rc < 0)
		return acre_error_set(err, EIO, NULL, "apps: writing kept volumes: %s",
				      sqlite3_errmsg(db));
	a->kept_dirty = false;
	return 0;
}
