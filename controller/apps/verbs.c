/*
 * The verbs on apps: create, update, scale, restart, rollback, stop,
 * start, move, remove.  Each checks everything before it changes
 * anything, makes a new version when the spec changes, and starts the
 * deployment that the reconciliation then carries out; the reply is the
 * app and that deployment.  One deployment per app at a time: a verb on a
 * busy app is refused with the running deployment's id, unless forced.
 */
#include "runtime.h"

static int not_found(const char *name, struct acre_error *err)
{
	return acre_error_set(err, ENOENT, "name", "no app named %s", name ? name : "");
}

static struct app *find(struct apps *a, const char *name, struct acre_error *err)
{
	struct app *app = name ? apps_find(a, name) : NULL;
	if (!app)
		not_found(name, err);
	return app;
}

/* A running deployment refuses the verb, or is cancelled by force. */
static int busy(struct apps *a, struct app *app, bool force, struct acre_error *err)
{
	if (app->removing)
		return acre_error_set(err, EBUSY, "name", "app %s is being removed", app->name);
	struct deploy *d = app->dep;
	if (!d || d->state != DEPLOY_RUNNING) {
		if (d) /* paused: a new change takes over */
			deploy_end(a, app, DEPLOY_CANCELLED, "replaced by a new deployment");
		return 0;
	}
	if (!force)
		return acre_error_set(err, EBUSY, "deployment",
				      "app %s has deployment d-%lld (%s) running: wait for it, "
				      "cancel it, or force",
				      app->name, (long long)d->id, d->kind);
	deploy_end(a, app, DEPLOY_CANCELLED, "replaced by a forced deployment");
	return 0;
}

static json_t *reply_of(struct apps *a, struct app *app, const struct deploy *d)
{
	return json_pack("{s:o,s:o}", "app", app_brief_json(a, app), "deployment",
			 d ? deploy_json(d) : json_null());
}

/* Dependencies over the pool's apps with spec in place of its own app's (or added). */
static int check_deps(struct apps *a, const struct app_spec *spec, struct acre_error *err)
{
	const struct app_spec **set = calloc(a->apps.n + 1, sizeof(*set));
	if (!set)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < a->apps.n; i++)
		if (strcmp(a->apps.v[i]->name, spec->name))
			set[n++] = &a->apps.v[i]->spec;
	set[n++] = spec;
	int rc = app_deps_check(set, n, NULL, err);
	free(set);
	if (rc == -ENOENT) {
		/* An unknown dependency is a fault of the spec, not a missing resource. */
		err->code = EINVAL;
		rc = -EINVAL;
	}
	return rc;
}

struct ever {
	const struct app_spec *spec;
	struct acre_placement placement; /* without bin:PATH: a binary may come */
	bool any;
};

static void ever_one(struct pool_node *n, void *ud)
{
	struct ever *e = ud;
	const struct acre_slice_spec *s = &e->spec->slice;
	if (!e->any && sched_node_matches(&n->sn, &e->placement) &&
	    n->sn.cap_cpus >= s->resources.cpus_milli && n->sn.cap_mem >= s->resources.memory)
		e->any = true;
}

/* A constraint no node can ever meet is said as such, not left pending for ever. */
static int check_fits_ever(struct apps *a, const struct app_spec *spec, struct acre_error *err)
{
	struct ever e = {.spec = spec};
	if (!pool_node_count(a->pool) || !spec->instances)
		return 0;
	pool_binaries_strip(&spec->placement, &e.placement);
	pool_node_foreach(a->pool, ever_one, &e);
	if (e.any)
		return 0;
	struct pool_why_request r = {.cpus = spec->slice.resources.cpus_milli,
				     .mem = spec->slice.resources.memory,
				     .net = spec->slice.resources.net_rate,
				     .placement = &spec->placement,
				     .group = spec->name};
	_cleanup_json_ json_t *why = pool_why(a->pool, &r);
	json_t *first = json_array_get(json_object_get(why, "reasons"), 0);
	json_t *ex = json_array_get(json_object_get(first, "examples"), 0);
	const char *reason = json_string_value(json_object_get(first, "reason"));
	const char *detail = json_string_value(json_object_get(ex, "detail"));
	return acre_error_set(err, E2BIG, "placement",
			      "no node of the pool could ever run an instance of %s: %s%s%s",
			      spec->name, reason ? reason : "none meets its placement",
			      detail ? " — " : "", detail ? detail : "");
}

/* An instance's volumes must fit in some node's free disk (when nodes say how much they have). */
static int check_disk(struct apps *a, const struct app_spec *spec, struct acre_error *err)
{
	uint64_t need = 0, most = pool_max_disk_free(a->pool);
	for (size_t i = 0; i < spec->nvolumes; i++)
		need += spec->volumes[i].size;
	if (!need || !most || need <= most || !spec->instances)
		return 0;
	return acre_error_set(err, E2BIG, "volumes",
			      "volumes: an instance of %s needs %llu MiB of disk, and the most any "
			      "ready node has free is %llu MiB",
			      spec->name, (unsigned long long)(need >> 20),
			      (unsigned long long)(most >> 20));
}

/*
 * Makes spec the app's newest version (taken: *spec is emptied) and
 * starts a deployment of kind; *d NULL when the spec did not change.
 */
static int apply(struct apps *a, struct app *app, struct app_spec *spec, const char *kind,
		 bool restart, struct deploy **d, struct acre_error *err)
{
	*d = NULL;
	int64_t now = acre_now_ms();
	uint32_t number = 0, from = app->version;
	int rc = restart ? app_versions_restart(&app->versions, spec->history, now, &number, err)
			 : app_versions_add(&app->versions, spec, now, &number, err);
	if (rc < 0)
		return rc;
	if (!restart && rc == 0) {
		app_spec_free(spec);
		return 0;
	}
	uint32_t target = app_versions_latest(&app->versions)->instance_version;
	struct app_spec target_spec = {0};
	if ((rc = app_spec_for_instances(app, target, &target_spec, err)) < 0)
		return rc;
	app_spec_free(&app->spec);
	app->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	app->version = number;
	if (target != app->target) {
		const struct app_version *good =
			app_versions_rollback_target(&app->versions, target);
		app->rollback_to = good ? good->instance_version : 0;
		app->target = target;
	}
	app_spec_free(&app->target_spec);
	app->target_spec = target_spec;
	app_changed(a, app, from ? "updated" : "created");
	*d = deploy_start(a, app, kind, from);
	return 0;
}

/*
 * A change of an existing app to spec (parsed; always freed here): refused
 * while a deployment runs unless force, then a new version and its
 * deployment (*d NULL when the spec did not change).
 */
static int change(struct apps *a, struct app *app, struct app_spec *spec, const char *kind,
		  bool restart, bool force, struct deploy **d, struct acre_error *err)
{
	*d = NULL;
	/*
	 * Forced to the spec the app already goes to (an install taking its app
	 * back to the version the app is rolling back to by itself): the
	 * running deployment is the change asked for, followed, not cancelled.
	 */
	if (force && !restart && !app->removing && app->dep && app->dep->state == DEPLOY_RUNNING &&
	    app_versions_is_latest(&app->versions, spec)) {
		app_spec_free(spec);
		*d = app->dep;
		return 0;
	}
	int rc = busy(a, app, force, err);
	if (rc == 0)
		rc = apply(a, app, spec, kind, restart, d, err);
	app_spec_free(spec);
	return rc;
}

/*
 * The owner's label: acre.install in a spec is acre's to set, through
 * r->owner alone; an app an install made is changed by that install only.
 */
static int check_owner(const struct app *app, struct app_spec *spec, const struct apps_request *r,
		       struct acre_error *err)
{
	const char *given = json_string_value(json_object_get(spec->labels, APP_LABEL_OWNER));
	const char *had =
		app ? json_string_value(json_object_get(app->spec.labels, APP_LABEL_OWNER)) : NULL;
	if (given && (!r->owner || strcmp(given, r->owner)))
		return acre_error_set(err, EINVAL, "labels",
				      "labels.%s: keys under acre. are set by acre",
				      APP_LABEL_OWNER);
	if (had && (!r->owner || strcmp(had, r->owner)))
		return acre_error_set(err, EPERM, "name",
				      "app %s belongs to install %s: change it with acre pkg",
				      app->name, had);
	if (r->owner &&
	    json_object_set_new(spec->labels, APP_LABEL_OWNER, json_string(r->owner)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

int apps_create(struct apps *a, const json_t *json, const struct apps_request *r, json_t **reply,
		struct acre_error *err)
{
	*reply = NULL;
	struct app_spec spec = {0};
	int rc = app_spec_parse(json, &spec, err);
	if (rc == 0)
		rc = check_owner(NULL, &spec, r, err);
	if (rc < 0) {
		app_spec_free(&spec);
		return rc;
	}
	if (apps_find(a, spec.name))
		rc = acre_error_set(err, EEXIST, "name", "app %s exists (update it with PUT)",
				    spec.name);
	else if (pool_slice_find(a->pool, spec.name))
		rc = acre_error_set(err, EEXIST, "name",
				    "a slice of the pool is named %s: an app may not take its name",
				    spec.name);
	if (rc == 0)
		rc = check_deps(a, &spec, err);
	if (rc == 0)
		rc = check_fits_ever(a, &spec, err);
	if (rc == 0)
		rc = check_disk(a, &spec, err);
	if (rc == 0 && r->dry_run) {
		struct pool_why_request w = {.cpus = spec.slice.resources.cpus_milli,
					     .mem = spec.slice.resources.memory,
					     .net = spec.slice.resources.net_rate,
					     .ports = app_ports_picked(&spec),
					     .placement = &spec.placement,
					     .group = spec.name};
		json_t *shown = app_spec_to_json(&spec);
		app_spec_json_redact(shown);
		*reply = json_pack("{s:o,s:o}", "spec", shown, "fit", pool_why(a->pool, &w));
	}
	if (rc < 0 || r->dry_run) {
		app_spec_free(&spec);
		return rc;
	}
	struct app *app = calloc(1, sizeof(*app));
	if (app)
		snprintf(app->name, sizeof(app->name), "%s", spec.name);
	if (!app || apps_insert(a, app) < 0) {
		free(app);
		app_spec_free(&spec);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	app->stopped_instances = -1;
	app->created_at = acre_now_ms();
	if (spec.nvolumes)
		app_kept_volumes_claim(a, app);
	struct deploy *d = NULL;
	if ((rc = apply(a, app, &spec, "create", false, &d, err)) < 0) {
		app_spec_free(&spec);
		app_changed(a, app, "removed");
		return rc;
	}
	*reply = reply_of(a, app, d);
	return 0;
}

/*
 * What a GET of the app shows and an update PUTs back has its secrets
 * redacted: a secret given as ACRE_SECRET_REDACTED keeps the app's value
 * of that name (one it does not have is refused by the spec's parser).
 */
static void keep_redacted_secrets(const struct app *app, json_t *spec)
{
	json_t *secrets = json_object_get(json_object_get(spec, "slice"), "secrets");
	const char *key;
	json_t *val;
	json_object_foreach (secrets, key, val) {
		if (!json_is_string(val) || strcmp(json_string_value(val), ACRE_SECRET_REDACTED))
			continue;
		const struct acre_slice_spec *cur = &app->spec.slice;
		for (size_t i = 0; i < cur->nsecrets; i++)
			if (!strcmp(cur->secrets[i].name, key))
				json_object_set_new(secrets, key,
						    json_string(cur->secrets[i].value));
	}
}

int apps_update(struct apps *a, const json_t *json, const struct apps_request *r, json_t **reply,
		bool *created, struct acre_error *err)
{
	*created = false;
	const char *name = json_string_value(json_object_get(json, "name"));
	if (name && strcmp(name, r->name))
		return acre_error_set(err, EINVAL, "name",
				      "name: %s in the body, %s in the path: an app is not renamed",
				      name, r->name);
	_cleanup_json_ json_t *copy = json_deep_copy(json);
	if (!copy || json_object_set_new(copy, "name", json_string(r->name)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct app *app = apps_find(a, r->name);
	if (!app) {
		*created = true;
		return apps_create(a, copy, r, reply, err);
	}
	keep_redacted_secrets(app, copy);
	struct app_spec spec = {0};
	int rc = app_spec_parse(copy, &spec, err);
	if (rc == 0)
		rc = check_owner(app, &spec, r, err);
	if (rc == 0)
		rc = check_deps(a, &spec, err);
	if (rc == 0)
		rc = check_fits_ever(a, &spec, err);
	if (rc == 0)
		rc = check_disk(a, &spec, err);
	struct deploy *d = NULL;
	if (rc < 0)
		app_spec_free(&spec);
	else if ((rc = change(a, app, &spec, "update", false, r->force, &d, err)) == 0)
		*reply = reply_of(a, app, d);
	return rc;
}

/* The app's spec with instances changed: a scale, a stop, a start. */
static int rescale(struct apps *a, struct app *app, unsigned n, const char *kind, bool force,
		   struct deploy **d, struct acre_error *err)
{
	_cleanup_json_ json_t *j = app_spec_to_json(&app->spec);
	if (!j || json_object_set_new(j, "instances", json_integer(n)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct app_spec spec = {0};
	int rc = app_spec_parse(j, &spec, err);
	return rc < 0 ? rc : change(a, app, &spec, kind, false, force, d, err);
}

int apps_scale(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	struct deploy *d = NULL;
	int rc = rescale(a, app, r->instances, "scale", r->force, &d, err);
	if (rc == 0) {
		app->stopped_instances = -1;
		*reply = reply_of(a, app, d);
	}
	return rc;
}

int apps_stop(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	if (app->stopped_instances >= 0)
		return acre_error_set(err, EALREADY, "name", "app %s is stopped already",
				      app->name);
	unsigned was = app->spec.instances;
	struct deploy *d = NULL;
	int rc = rescale(a, app, 0, "stop", r->force, &d, err);
	if (rc == 0) {
		app->stopped_instances = (int)was;
		app->row_dirty = true;
		*reply = reply_of(a, app, d);
	}
	return rc;
}

int apps_start(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	if (app->stopped_instances < 0)
		return acre_error_set(err, EALREADY, "name",
				      "app %s is not stopped (scale it to change its instances)",
				      app->name);
	struct deploy *d = NULL;
	int rc = rescale(a, app, (unsigned)app->stopped_instances, "start", r->force, &d, err);
	if (rc == 0) {
		app->stopped_instances = -1;
		app->row_dirty = true;
		*reply = reply_of(a, app, d);
	}
	return rc;
}

int apps_restart(struct apps *a, const struct apps_request *r, json_t **reply,
		 struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	_cleanup_json_ json_t *j = app_spec_to_json(&app->spec);
	struct app_spec spec = {0};
	int rc = j ? app_spec_parse(j, &spec, err) : acre_error_set(err, ENOMEM, NULL, "no memory");
	struct deploy *d = NULL;
	if (rc == 0 && (rc = change(a, app, &spec, "restart", true, r->force, &d, err)) == 0)
		*reply = reply_of(a, app, d);
	return rc;
}

int apps_rollback(struct apps *a, const struct apps_request *r, json_t **reply,
		  struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	const struct app_version *to =
		r->version ? app_versions_find(&app->versions, r->version)
			   : app_versions_rollback_target(&app->versions, app->target);
	if (!to)
		return r->version ? acre_error_set(err, ENOENT, "version",
						   "app %s keeps no version %u (see its versions)",
						   app->name, r->version)
				  : acre_error_set(err, ENOENT, "version",
						   "app %s has no earlier healthy version to roll "
						   "back to",
						   app->name);
	struct app_spec spec = {0};
	int rc = app_spec_parse(to->spec, &spec, err);
	struct deploy *d = NULL;
	if (rc == 0)
		rc = change(a, app, &spec, "rollback", false, r->force, &d, err);
	if (rc == 0 && !d)
		rc = acre_error_set(err, EALREADY, "version", "app %s runs that spec already",
				    app->name);
	if (rc == 0)
		*reply = reply_of(a, app, d);
	return rc;
}

int apps_move(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	if (r->index >= app->spec.instances)
		return acre_error_set(err, ENOENT, "instance",
				      "app %s has no instance %u (it has %u)", app->name, r->index,
				      app->spec.instances);
	if (app->spec.nvolumes)
		return acre_error_set(err, EPERM, "instance",
				      "%s-%u keeps its volumes on its node: moving it would leave "
				      "its data behind",
				      app->name, r->index);
	struct pool_node *n = r->node ? pool_node_find(a->pool, r->node) : NULL;
	if (!n)
		return acre_error_set(err, ENOENT, "to", "no node %s in the pool",
				      r->node ? r->node : "");
	const struct app_spec *s = &app->target_spec;
	if (n->state != POOL_NODE_READY || !n->conn)
		return acre_error_set(err, EAGAIN, "to", "node %s is not ready", n->id);
	if (n->cordoned)
		return acre_error_set(err, EPERM, "to", "node %s is cordoned", n->id);
	if (!sched_node_matches(&n->sn, &s->placement))
		return acre_error_set(err, EPERM, "to",
				      "node %s does not meet the app's placement constraints",
				      n->id);
	if (!sched_node_fits(&n->sn, s->slice.resources.cpus_milli, s->slice.resources.memory))
		return acre_error_set(err, ENOSPC, "to",
				      "node %s has not the room for an instance (cpus or memory)",
				      n->id);
	struct app_instance_view *views = NULL;
	size_t nviews = 0;
	if (app_instances_collect(a, app, &views, &nviews) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct pool_slice *sl = NULL;
	for (size_t i = 0; i < nviews; i++)
		if (views[i].index == r->index)
			sl = views[i].slice;
	free(views);
	if (sl && sl->node == n)
		return acre_error_set(err, EALREADY, "to", "%s runs on %s already", sl->name,
				      n->id);
	int rc = busy(a, app, r->force, err);
	if (rc < 0 || (rc = app_slots_reserve(app, (size_t)r->index + 1)) < 0)
		return rc == -ENOMEM ? acre_error_set(err, ENOMEM, NULL, "out of memory") : rc;
	snprintf(app->slots[r->index].move_to, sizeof(app->slots[r->index].move_to), "%s", n->id);
	struct deploy *d = deploy_start(a, app, "move", app->version);
	deploy_step(a, d, "moving %s-%u to %s", app->name, r->index, n->id);
	if (sl)
		pool_slice_kill(a->pool, sl, 0, NULL);
	*reply = reply_of(a, app, d);
	return 0;
}

int apps_remove(struct apps *a, const struct apps_request *r, json_t **reply,
		struct acre_error *err)
{
	struct app *app = find(a, r->name, err);
	if (!app)
		return -ENOENT;
	for (size_t i = 0; i < a->apps.n; i++) {
		const struct app *other = a->apps.v[i];
		for (char **dep = other->spec.dependencies; dep && *dep; dep++)
			if (other != app && !strcmp(*dep, app->name) && !other->removing)
				return acre_error_set(err, EBUSY, "name",
						      "app %s depends on %s: remove it first",
						      other->name, app->name);
	}
	if (app->removing)
		return acre_error_set(err, EALREADY, "name", "app %s is being removed already",
				      app->name);
	int rc = busy(a, app, r->force, err);
	if (rc < 0)
		return rc;
	app->removing = true;
	app->keep_volumes = r->keep_volumes;
	app_changed(a, app, "updated");
	struct deploy *d = deploy_start(a, app, "remove", app->version);
	d->wanted = 0;
	*reply = json_pack("{s:o}", "deployment", deploy_json(d));
	return 0;
}

int apps_deployment_cancel(struct apps *a, const char *id, bool force, json_t **out,
			   struct acre_error *err)
{
	struct app *app = NULL;
	char *end = NULL;
	int64_t n = id && !strncmp(id, "d-", 2) ? strtoll(id + 2, &end, 10) : 0;
	struct deploy *d = n > 0 && end && !*end ? apps_deploy_find(a, n, &app) : NULL;
	if (!d)
		return acre_error_set(err, ENOENT, "id", "no deployment %s", id ? id : "");
	if (d->state != DEPLOY_RUNNING && d->state != DEPLOY_PAUSED)
		return acre_error_set(err, EALREADY, "id", "deployment %s has ended (%s)", id,
				      deploy_state_name(d->state));
	if (app->removing)
		return acre_error_set(err, EPERM, "id",
				      "deployment %s removes app %s: it cannot be cancelled", id,
				      app->name);
	uint32_t back = d->from_version;
	deploy_end(a, app, DEPLOY_CANCELLED, force ? "cancelled" : "cancelled: going back");
	*out = deploy_json(d);
	const struct app_version *v = back ? app_versions_find(&app->versions, back) : NULL;
	if (force || !v)
		return 0;
	struct app_spec spec = {0};
	struct deploy *nd = NULL;
	int rc = app_spec_parse(v->spec, &spec, err);
	if (rc == 0)
		rc = apply(a, app, &spec, "rollback", false, &nd, err);
	app_spec_free(&spec);
	return rc;
}
