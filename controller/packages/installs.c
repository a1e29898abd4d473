/*
 * The installs of a pool: the registry (sorted by name), opening it from
 * the store, the views, and installs_tick, which carries each running
 * operation forward from its apps' deployments: every app's deployment
 * step said once as an install event, the operation done when all
 * succeeded, and on a failure what the operation's kind asks — a first
 * install's apps removed, an upgrade rolled back to the revision before.
 */
#include "runtime.h"

#include "controller/store/store.h"

struct install *install_find(struct installs *s, const char *name)
{
	for (size_t i = 0; name && i < s->list.n; i++)
		if (!strcmp(s->list.v[i]->name, name))
			return s->list.v[i];
	return NULL;
}

struct install *install_add(struct installs *s, const char *name, json_t *row)
{
	struct install *in = calloc(1, sizeof(*in));
	if (!in || acre_vec_reserve(&s->list, 1) < 0) {
		free(in);
		json_decref(row);
		return NULL;
	}
	snprintf(in->name, sizeof(in->name), "%s", name);
	in->row = row;
	size_t i = 0;
	while (i < s->list.n && strcmp(s->list.v[i]->name, name) < 0)
		i++;
	memmove(&s->list.v[i + 1], &s->list.v[i], (s->list.n - i) * sizeof(in));
	s->list.v[i] = in;
	s->list.n++;
	const char *op =
		json_string_value(json_object_get(json_object_get(row, "operation"), "id"));
	if (op && atoll(op + 2) > s->last_op)
		s->last_op = atoll(op + 2);
	return in;
}

static void install_free(struct install *in)
{
	if (in)
		json_decref(in->row);
	free(in);
}

void install_drop(struct installs *s, struct install *in)
{
	for (size_t i = 0; i < s->list.n; i++)
		if (s->list.v[i] == in) {
			memmove(&s->list.v[i], &s->list.v[i + 1], (s->list.n - i - 1) * sizeof(in));
			s->list.n--;
			break;
		}
	in->gone = true;
	if (acre_vec_push(&s->gone, in) < 0) {
		acre_log(ACRE_LOG_ERROR,
			 "event=installs_failed action=exit error=\"out of memory\"");
		_exit(1);
	}
}

const char *install_state(const struct install *in)
{
	return json_string_value(json_object_get(in->row, "state"));
}

void install_set_state(struct install *in, const char *state, const char *reason)
{
	json_object_set_new(in->row, "state", json_string(state));
	json_object_set_new(in->row, "reason", json_string(reason ? reason : ""));
}

static json_t *revisions_brief(const json_t *revs)
{
	json_t *out = json_array(), *r;
	size_t i;
	json_array_foreach (revs, i, r) {
		json_t *names = json_array(), *app;
		size_t k;
		json_array_foreach (json_object_get(r, "apps"), k, app)
			json_array_append(names, json_object_get(app, "name"));
		json_array_append_new(out, json_pack("{s:O,s:O,s:O,s:o}", "revision",
						     json_object_get(r, "revision"), "version",
						     json_object_get(r, "version"), "at",
						     json_object_get(r, "at"), "apps", names));
	}
	return out;
}

json_t *install_view(const struct install *in)
{
	json_t *v = json_deep_copy(in->row);
	const json_t *schema = json_object_get(in->row, "schema");
	if (!v)
		return NULL;
	json_object_set_new(v, "options",
			    pkg_options_redact(schema, json_object_get(in->row, "options")));
	json_object_set_new(v, "revisions", revisions_brief(json_object_get(in->row, "revisions")));
	json_object_del(v, "schema");
	json_t *op = json_object_get(v, "operation");
	if (json_is_object(op)) {
		json_object_del(op, "apps");
		json_object_del(op, "options");
	}
	json_t *apps = json_array(), *app;
	size_t i;
	json_array_foreach (json_object_get(in->row, "apps"), i, app)
		json_array_append(apps, json_object_get(app, "name"));
	json_object_set_new(v, "apps", apps);
	return v;
}

void install_changed(struct installs *s, struct install *in, const char *event)
{
	in->dirty = true;
	json_object_set_new(in->row, "updated_at", json_integer(acre_now_ms()));
	_cleanup_json_ json_t *view = install_view(in);
	_cleanup_json_ json_t *labels = json_pack("{s:s}", PKG_LABEL_INSTALL, in->name);
	if (view && labels)
		pool_publish_object(s->pool, "install", event, view, labels);
	acre_log(ACRE_LOG_INFO, "event=install_%s install=%s state=%s", event, in->name,
		 install_state(in));
}

json_t *installs_list_json(struct installs *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < s->list.n; i++)
		json_array_append_new(arr, install_view(s->list.v[i]));
	return json_pack("{s:o}", "installs", arr ? arr : json_array());
}

int installs_show(struct installs *s, const char *name, json_t **out, struct acre_error *err)
{
	struct install *in = install_find(s, name);
	if (!in)
		return acre_error_set(err, ENOENT, "name", "no install named %s", name ? name : "");
	*out = install_view(in);
	return 0;
}

/* ---- operations moving on ---------------------------------------------------------------- */

static void op_end(struct installs *s, struct install *in, const char *result, const char *state,
		   const char *reason, const char *event)
{
	json_t *op = json_object_get(in->row, "operation");
	json_object_set_new(in->row, "last_operation",
			    json_pack("{s:O,s:O,s:s,s:s}", "id", json_object_get(op, "id"), "kind",
				      json_object_get(op, "kind"), "result", result, "reason",
				      reason ? reason : ""));
	json_object_set_new(in->row, "operation", json_null());
	install_set_state(in, state, reason);
	install_changed(s, in, event);
}

/* The operation's apps become the install's newest revision. */
static void op_commit_revision(struct install *in, const json_t *op)
{
	json_t *revs = json_object_get(in->row, "revisions");
	json_int_t n = json_integer_value(json_object_get(in->row, "revision_last")) + 1;
	json_array_append_new(revs, json_pack("{s:I,s:O,s:O,s:O,s:I}", "revision", n, "version",
					      json_object_get(op, "version"), "options",
					      json_object_get(op, "options"), "apps",
					      json_object_get(op, "apps"), "at",
					      (json_int_t)acre_now_ms()));
	while (json_array_size(revs) > INSTALLS_REVISIONS_KEPT)
		json_array_remove(revs, 0);
	json_object_set_new(in->row, "revision_last", json_integer(n));
	json_object_set_new(in->row, "revision", json_integer(n));
	json_object_set(in->row, "version", json_object_get(op, "version"));
	json_object_set(in->row, "options", json_object_get(op, "options"));
	json_object_set(in->row, "apps", json_object_get(op, "apps"));
	if (json_object_get(op, "schema"))
		json_object_set(in->row, "schema", json_object_get(op, "schema"));
}

/* Removes every app of specs (force: whatever runs ends), as a failed first install does. */
static void remove_apps(struct installs *s, const json_t *specs, bool keep_volumes)
{
	for (size_t i = json_array_size(specs); i-- > 0;) {
		const char *app =
			json_string_value(json_object_get(json_array_get(specs, i), "name"));
		struct apps_request r = {.name = app, .force = true, .keep_volumes = keep_volumes};
		json_t *reply = NULL;
		struct acre_error err = {0};
		if (apps_remove(s->apps, &r, &reply, &err) == 0)
			json_decref(reply);
	}
}

/*
 * The deployment's steps not said yet, each an install event "step"
 * (steps[app]: how many were; a deployment keeps its first and newest
 * steps only, so a count past its end starts again from the end).
 */
static void relay_steps(struct installs *s, struct install *in, const char *app, json_t *id,
			const char *state, const json_t *all, json_t *steps)
{
	size_t n = (size_t)json_integer_value(json_object_get(steps, app));
	size_t total = json_array_size(all);
	if (n > total)
		n = total;
	for (size_t i = n; i < total; i++) {
		const char *text =
			json_string_value(json_object_get(json_array_get(all, i), "text"));
		_cleanup_json_ json_t *ev =
			json_pack("{s:s,s:s,s:O,s:s,s:s}", "install", in->name, "app", app,
				  "deployment", id, "state", state, "text", text ? text : "");
		_cleanup_json_ json_t *labels = json_pack("{s:s}", PKG_LABEL_INSTALL, in->name);
		if (ev && labels)
			pool_publish_object(s->pool, "install", "step", ev, labels);
	}
	if (total != n || !json_object_get(steps, app)) {
		json_object_set_new(steps, app, json_integer((json_int_t)total));
		in->dirty = true;
	}
}

/*
 * Each app's deployment: its new steps said once; *done when all
 * succeeded, the first failure's reason in why.
 */
static void op_watch(struct installs *s, struct install *in, json_t *op, bool *done, char *why,
		     size_t len)
{
	json_t *deps = json_object_get(op, "deployments"), *steps = json_object_get(op, "steps");
	const char *app;
	json_t *id;
	*done = true;
	json_object_set_new(op, "waiting_for", json_string(""));
	json_object_foreach (deps, app, id) {
		json_t *d = NULL;
		struct acre_error err = {0};
		if (apps_deployment_show(s->apps, json_string_value(id), &d, &err) < 0) {
			snprintf(why, len, "app %s: its deployment %s is gone", app,
				 json_string_value(id));
			*done = false;
			return;
		}
		const char *state = json_string_value(json_object_get(d, "state"));
		const char *waiting = json_string_value(json_object_get(d, "waiting_for"));
		waiting = waiting ? waiting : "";
		relay_steps(s, in, app, id, state, json_object_get(d, "steps"), steps);
		if (strcmp(state, "succeeded")) {
			*done = false;
			if (!why[0] && strcmp(state, "running"))
				snprintf(why, len, "app %s: deployment %s %s: %s", app,
					 json_string_value(id), state,
					 json_string_value(json_object_get(d, "reason")));
			else if (!strcmp(state, "running") && *waiting)
				json_object_set_new(op, "waiting_for",
						    json_pack("s++", app, ": ", waiting));
		}
		json_decref(d);
	}
}

static void op_failed(struct installs *s, struct install *in, json_t *op, const char *why)
{
	const char *kind = json_string_value(json_object_get(op, "kind"));
	const char *phase = json_string_value(json_object_get(op, "phase"));
	const json_t *prev = json_object_get(in->row, "apps");
	if (!strcmp(kind, "install")) {
		remove_apps(s, json_object_get(op, "apps"), false);
		op_end(s, in, "failed", "failed", why, "failed");
		return;
	}
	if (!strcmp(phase, "rollback") || !json_array_size(prev)) {
		op_end(s, in, "failed", "failed", why, "failed");
		return;
	}
	/* An upgrade (or a rollback) that failed goes back to what ran before it. */
	struct acre_error err = {0};
	json_object_set_new(op, "phase", json_string("rollback"));
	json_object_set_new(op, "reason", json_string(why));
	install_set_state(in, "rolling_back", why);
	if (install_apply(s, in, op, prev, &err) < 0) {
		op_end(s, in, "failed", "failed", err.message, "failed");
		return;
	}
	install_changed(s, in, "rolling_back");
}

static void op_forward(struct installs *s, struct install *in, json_t *op)
{
	char why[600] = "";
	bool done = false;
	op_watch(s, in, op, &done, why, sizeof(why));
	if (!done && !why[0])
		install_binaries_waiting(s, op);
	const char *phase = json_string_value(json_object_get(op, "phase"));
	if (why[0]) {
		op_failed(s, in, op, why);
	} else if (done && !strcmp(phase, "rollback")) {
		char reason[800];
		snprintf(reason, sizeof(reason), "%s; rolled back to revision %lld",
			 json_string_value(json_object_get(op, "reason")),
			 (long long)json_integer_value(json_object_get(in->row, "revision")));
		op_end(s, in, "rolled_back", "running", reason, "rolled_back");
	} else if (done) {
		op_commit_revision(in, op);
		op_end(s, in, "succeeded", "running", NULL, "running");
	}
}

/* Apps go in reverse start order, each gone before the next is asked to go. */
static void uninstall_forward(struct installs *s, struct install *in, json_t *op)
{
	json_t *order = json_object_get(op, "remove");
	bool keep = json_is_true(json_object_get(op, "keep_volumes"));
	for (size_t i = 0; i < json_array_size(order); i++) {
		const char *app = json_string_value(json_array_get(order, i));
		_cleanup_json_ json_t *shown = NULL;
		struct acre_error err = {0};
		if (apps_show(s->apps, app, &shown, &err) < 0)
			continue;
		struct apps_request r = {.name = app, .force = true, .keep_volumes = keep};
		json_t *reply = NULL;
		if (apps_remove(s->apps, &r, &reply, &err) == 0)
			json_decref(reply);
		/* What the app's removal waits for, when it says (an instance stopping, where). */
		const char *dep_waiting = json_string_value(json_object_get(
			json_object_get(shown, "deployment_detail"), "waiting_for"));
		char waiting[640];
		snprintf(waiting, sizeof(waiting), "app %s to be removed%s%s", app,
			 dep_waiting && dep_waiting[0] ? ": " : "", dep_waiting ? dep_waiting : "");
		const char *was = json_string_value(json_object_get(op, "waiting_for"));
		if (!was || strcmp(was, waiting)) {
			json_object_set_new(op, "waiting_for", json_string(waiting));
			install_changed(s, in, "uninstalling");
		}
		return;
	}
	json_object_set_new(op, "waiting_for", json_string(""));
	install_set_state(in, "uninstalled", NULL);
	install_changed(s, in, "removed");
	install_drop(s, in);
}

void installs_tick(struct installs *s)
{
	for (size_t i = s->list.n; i-- > 0;) {
		struct install *in = s->list.v[i];
		json_t *op = json_object_get(in->row, "operation");
		if (!json_is_object(op))
			continue;
		if (!strcmp(json_string_value(json_object_get(op, "kind")), "uninstall"))
			uninstall_forward(s, in, op);
		else
			op_forward(s, in, op);
	}
}

/* ---- opening and closing ----------------------------------------------------------------- */

static int committing(void *ud, struct acre_error *err)
{
	return install_store_write(ud, err);
}

static void committed(void *ud)
{
	struct installs *s = ud;
	for (size_t i = 0; i < s->gone.n; i++)
		install_free(s->gone.v[i]);
	s->gone.n = 0;
}

/* The shipped packages: the repository "acre", first, neither stored nor removed. */
static int add_shipped(struct installs *s, const char *dir)
{
	struct pkg_repo *shipped = &s->shipped;
	snprintf(shipped->name, sizeof(shipped->name), "acre");
	snprintf(shipped->kind, sizeof(shipped->kind), "dir");
	shipped->builtin = true;
	shipped->dir = strdup(dir ? dir : "");
	return shipped->dir && acre_vec_push(&s->repos, shipped) == 0 ? 0 : -ENOMEM;
}

int installs_open(struct pool *p, struct apps *apps, const struct installs_options *o,
		  struct installs **out, struct acre_error *err)
{
	*out = NULL;
	struct installs *s = calloc(1, sizeof(*s));
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	s->pool = p;
	s->apps = apps;
	s->base = o->base;
	if (o->api_url && !(s->api_url = strdup(o->api_url))) {
		free(s);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	/* Absolute: a bundle's index is read through a file:// URL. */
	if (o->data_dir && !(s->data_dir = realpath(o->data_dir, NULL)) &&
	    !(s->data_dir = strdup(o->data_dir))) {
		free(s->api_url);
		free(s);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	int rc = add_shipped(s, o->packages_dir) < 0
			 ? acre_error_set(err, ENOMEM, NULL, "out of memory")
			 : 0;
	if (rc == 0 && pool_store(p))
		rc = install_store_open(s, err);
	if (rc == 0)
		repo_sweep(s);
	struct pool_subscriber sub = {.committing = committing, .committed = committed, .ud = s};
	if (rc == 0 && pool_subscribe(p, &sub) < 0)
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc < 0) {
		installs_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void installs_close(struct installs *s)
{
	if (!s)
		return;
	pool_unsubscribe(s->pool, s);
	committed(s);
	for (size_t i = 0; i < s->list.n; i++)
		install_free(s->list.v[i]);
	for (size_t i = 0; i < s->repos.n; i++)
		if (!s->repos.v[i]->builtin)
			repo_free(s->repos.v[i]);
	for (size_t i = 0; i < s->jobs.n; i++)
		repo_job_free(s->jobs.v[i]); /* a child still running ends on its own */
	acre_vec_free(&s->jobs);
	json_decref(s->shipped.index);
	free(s->data_dir);
	free(s->api_url);
	free(s->shipped.dir);
	acre_vec_free(&s->list);
	acre_vec_free(&s->gone);
	acre_vec_free(&s->repos);
	free(s);
}
