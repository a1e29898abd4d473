/*
 * The verbs on installs: install, upgrade, rollback, uninstall.  Each
 * checks everything before it changes anything — the options against the
 * schema first (the error names the option), then the expansion whole —
 * and a dry run stops there with the plan (install) or the diff against
 * what runs (upgrade).  Otherwise it starts an operation: the apps made
 * what the revision says through apps_update, the install as their owner,
 * and installs_tick carries it on.  One operation per install at a time.
 */
#include "runtime.h"

static int busy(const struct install *in, struct acre_error *err)
{
	const json_t *op = json_object_get(in->row, "operation");
	if (!json_is_object(op))
		return 0;
	return acre_error_set(err, EBUSY, "operation",
			      "install %s has operation %s (%s) running: wait for it", in->name,
			      json_string_value(json_object_get(op, "id")),
			      json_string_value(json_object_get(op, "kind")));
}

static struct install *find(struct installs *s, const char *name, struct acre_error *err)
{
	struct install *in = install_find(s, name);
	if (!in)
		acre_error_set(err, ENOENT, "name", "no install named %s", name ? name : "");
	return in;
}

json_t *install_op_new(struct installs *s, const char *kind, const json_t *apps)
{
	char id[32];
	int64_t now = acre_now_ms();
	s->last_op = s->last_op + 1;
	snprintf(id, sizeof(id), "o-%lld", (long long)s->last_op);
	return json_pack("{s:s,s:s,s:s,s:I,s:O,s:{},s:{},s:s}", "id", id, "kind", kind, "phase",
			 "apply", "started_at", (json_int_t)now, "apps", apps, "deployments",
			 "steps", "waiting_for", "");
}

static bool among(const json_t *specs, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach (specs, i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return true;
	return false;
}

int install_apply(struct installs *s, struct install *in, json_t *op, const json_t *specs,
		  struct acre_error *err)
{
	json_t *deps = json_object(), *spec;
	size_t i;
	/*
	 * Secret options reach the tasks as files in /run/secrets (slice
	 * secrets, redacted wherever a spec is shown), never through a
	 * template: added to each app as it is sent, not to the specs kept.
	 */
	const json_t *schema = json_object_get(op, "schema"), *options;
	if (!schema)
		schema = json_object_get(in->row, "schema");
	options = json_object_get(op, "options");
	if (!options)
		options = json_object_get(in->row, "options");
	_cleanup_json_ json_t *secrets =
		schema && options ? pkg_options_secrets(schema, options) : NULL;
	json_object_set_new(op, "deployments", deps);
	json_object_set_new(op, "steps", json_object());
	/* What ran and is no more goes first, from the last started. */
	const json_t *had = json_object_get(in->row, "apps");
	for (i = json_array_size(had); i-- > 0;) {
		const char *name =
			json_string_value(json_object_get(json_array_get(had, i), "name"));
		if (among(specs, name))
			continue;
		struct apps_request r = {.name = name, .force = true};
		json_t *reply = NULL;
		struct acre_error e = {0};
		if (apps_remove(s->apps, &r, &reply, &e) == 0)
			json_decref(reply);
	}
	json_array_foreach (specs, i, spec) {
		const char *name = json_string_value(json_object_get(spec, "name"));
		struct apps_request r = {.name = name, .force = true, .owner = in->name};
		json_t *reply = NULL;
		bool created = false;
		_cleanup_json_ json_t *sent = json_deep_copy(spec);
		json_t *slice = json_object_get(sent, "slice");
		if (!sent || !json_is_object(slice))
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		if (json_object_size(secrets))
			json_object_set(slice, "secrets", secrets);
		int rc = apps_update(s->apps, sent, &r, &reply, &created, err);
		if (rc < 0)
			return acre_error_prefix(err, "app %s", name);
		json_t *id = json_object_get(json_object_get(reply, "deployment"), "id");
		if (json_is_string(id))
			json_object_set(deps, name, id);
		json_decref(reply);
	}
	return 0;
}

/* The plan of what the install runs now: its apps as an expansion. */
static json_t *plan_of_row(const struct install *in)
{
	struct pkg_expansion x = {.apps = json_object_get(in->row, "apps"),
				  .volumes = json_object_get(in->row, "volumes")};
	_cleanup_json_ json_t *none = json_array();
	if (!x.apps)
		x.apps = none;
	if (!x.volumes)
		x.volumes = none;
	return pkg_plan(&x);
}

/* Loads, checks the options and expands: everything before a change. */
/* The options given with each `--set a.b=VALUE` put over them, typed by the schema. */
static int options_with_set(const json_t *schema, const json_t *options, const json_t *set,
			    json_t **out, struct acre_error *err)
{
	*out = options ? json_deep_copy(options) : json_object();
	if (!*out)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (set && !json_is_array(set))
		return acre_error_set(err, EINVAL, "set", "set: must be an array of \"a.b=VALUE\"");
	size_t i;
	json_t *a;
	json_array_foreach (set, i, a) {
		int rc = json_is_string(a)
				 ? pkg_options_set(schema, *out, json_string_value(a), err)
				 : acre_error_set(err, EINVAL, "set",
						  "set[%zu]: must be \"a.b=VALUE\"", i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int prepare(struct installs *s, const char *install, const char *package,
		   const char *version, const json_t *options, const json_t *set, struct pkg *pkg,
		   json_t **opts, struct pkg_expansion *x, struct acre_error *err)
{
	_cleanup_json_ json_t *given = NULL;
	int rc = catalog_load(s, package, version, pkg, err);
	if (rc < 0)
		return rc;
	if ((rc = pkg_check_acre_version(pkg, ACRE_VERSION, err)) < 0 ||
	    (rc = options_with_set(pkg->schema, options, set, &given, err)) < 0 ||
	    (rc = pkg_options_check(pkg->schema, given, opts, err)) < 0) {
		pkg_free(pkg);
		if (err->code == ERANGE) /* out of bounds: the request's fault */
			err->code = EINVAL;
		return rc == -ERANGE ? -EINVAL : rc;
	}
	struct pkg_context ctx = {.install = install,
				  .package = pkg->name,
				  .version = pkg->version,
				  .options = *opts};
	if ((rc = pkg_expand(pkg, &ctx, x, err)) < 0) {
		json_decref(*opts);
		*opts = NULL;
		pkg_free(pkg);
	}
	return rc;
}

/* An app of the expansion that exists and is not the install's would be taken over: refused. */
static int check_names(struct installs *s, const char *install, const json_t *specs,
		       struct acre_error *err)
{
	size_t i;
	json_t *spec;
	json_array_foreach (specs, i, spec) {
		const char *name = json_string_value(json_object_get(spec, "name"));
		json_t *shown = NULL;
		struct acre_error e = {0};
		if (apps_show(s->apps, name, &shown, &e) < 0)
			continue;
		const char *owner = pkg_owner(json_object_get(shown, "spec"));
		bool ours = owner && !strcmp(owner, install);
		json_decref(shown);
		if (!ours)
			return acre_error_set(err, EEXIST, "name",
					      "app %s exists%s%s: the install would take its name",
					      name, owner ? " in install " : "",
					      owner ? owner : "");
	}
	return 0;
}

static json_t *reply_of(const struct install *in, const char *key, json_t *extra)
{
	json_t *r = json_pack("{s:o}", "install", install_view(in));
	if (r && key)
		json_object_set_new(r, key, extra);
	return r;
}

int installs_install(struct installs *s, const struct install_request *r, json_t **reply,
		     struct acre_error *err)
{
	*reply = NULL;
	const char *name = r->name ? r->name : r->package;
	if (!r->package)
		return acre_error_set(err, EINVAL, "package", "package: required");
	if (!name || !pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name",
				      "name \"%s\": must be 1 to %d lower-case letters, digits and "
				      "'-', not first or last",
				      name ? name : "", PKG_INSTALL_NAME_MAX);
	struct install *old = install_find(s, name);
	if (old && (busy(old, err) < 0))
		return -EBUSY;
	if (old && strcmp(install_state(old), "failed"))
		return acre_error_set(err, EEXIST, "name",
				      "install %s exists (upgrade it, or install under --name)",
				      name);
	struct pkg pkg = {0};
	struct pkg_expansion x = {0};
	_cleanup_json_ json_t *opts = NULL;
	int rc = prepare(s, name, r->package, r->version, r->options, r->set, &pkg, &opts, &x, err);
	if (rc < 0)
		return rc;
	rc = check_names(s, name, x.apps, err);
	if (rc == 0 && r->dry_run) {
		json_t *plan = pkg_plan(&x);
		if (plan && x.binaries)
			json_object_set_new(plan, "binaries", install_binaries_seen(s, x.binaries));
		*reply = json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", name, "package", pkg.name,
				   "version", pkg.version, "options",
				   pkg_options_redact(pkg.schema, opts), "plan", plan);
	}
	if (rc < 0 || r->dry_run)
		goto done;
	if (old)
		install_drop(s, old);
	int64_t now = acre_now_ms();
	json_t *row = json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:O,s:O,s:[],s:[],s:O,s:n,s:I,s:I}",
				"name", name, "package", pkg.name, "version", pkg.version,
				"revision", 0, "revision_last", 0, "state", "installing", "reason",
				"", "options", opts, "schema", pkg.schema, "revisions", "apps",
				"volumes", x.volumes, "last_operation", "created_at",
				(json_int_t)now, "updated_at", (json_int_t)now);
	struct install *in = row ? install_add(s, name, row) : NULL;
	json_t *op = in ? install_op_new(s, "install", x.apps) : NULL;
	if (!op) {
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		goto done;
	}
	json_object_set_new(op, "version", json_string(pkg.version));
	json_object_set(op, "options", opts);
	if (x.binaries)
		json_object_set(op, "binaries", x.binaries);
	json_object_set_new(in->row, "operation", op);
	if ((rc = install_apply(s, in, op, x.apps, err)) < 0) {
		/* Nothing left behind: what was made goes again. */
		for (size_t i = json_array_size(x.apps); i-- > 0;) {
			const char *app = json_string_value(
				json_object_get(json_array_get(x.apps, i), "name"));
			json_t *shown = NULL;
			struct acre_error e = {0};
			struct apps_request ar = {.name = app, .force = true};
			if (apps_show(s->apps, app, &shown, &e) == 0 &&
			    apps_remove(s->apps, &ar, &shown, &e) == 0)
				json_decref(shown);
		}
		install_drop(s, in);
		goto done;
	}
	install_changed(s, in, "installing");
	*reply = reply_of(in, NULL, NULL);
done:
	pkg_expansion_free(&x);
	pkg_free(&pkg);
	return rc;
}

/*
 * A secret shown redacted and sent back as it was shown (options read
 * from GET and PUT again) keeps the value it has, never becoming the mask.
 */
static void keep_redacted(json_t *merged, const json_t *had)
{
	const char *k;
	json_t *v;
	json_object_foreach (merged, k, v) {
		const json_t *old = json_object_get(had, k);
		if (json_is_object(v))
			keep_redacted(v, old);
		else if (old && json_is_string(v) &&
			 !strcmp(json_string_value(v), PKG_SECRET_REDACTED))
			json_object_set(merged, k, (json_t *)old);
	}
}

/* The options of an upgrade: those it has, with the ones given over them. */
static json_t *merged_options(const struct install *in, const json_t *given)
{
	json_t *o = json_deep_copy(json_object_get(in->row, "options"));
	if (!o)
		o = json_object();
	if (o && given && json_object_update_recursive(o, (json_t *)given) < 0) {
		json_decref(o);
		return NULL;
	}
	keep_redacted(o, json_object_get(in->row, "options"));
	return o;
}

/*
 * An upgrade or a rollback begun: op is the install's operation, in state,
 * and its apps are sent.  Half applied, it goes back to what ran, through
 * the same rollback as a failed operation.
 */
static int op_start(struct installs *s, struct install *in, json_t *op, const json_t *apps,
		    const char *state, struct acre_error *err)
{
	json_object_set_new(in->row, "operation", op);
	install_set_state(in, state, NULL);
	int rc = install_apply(s, in, op, apps, err);
	if (rc < 0) {
		struct acre_error e = {0};
		json_object_set_new(op, "phase", json_string("rollback"));
		json_object_set_new(op, "reason", json_string(err->message));
		install_set_state(in, "rolling_back", err->message);
		install_apply(s, in, op, json_object_get(in->row, "apps"), &e);
	}
	install_changed(s, in, rc < 0 ? "rolling_back" : state);
	return rc;
}

int installs_upgrade(struct installs *s, const struct install_request *r, json_t **reply,
		     struct acre_error *err)
{
	*reply = NULL;
	struct install *in = find(s, r->name, err);
	if (!in)
		return -ENOENT;
	if (busy(in, err) < 0)
		return -EBUSY;
	if (!json_array_size(json_object_get(in->row, "apps")))
		return acre_error_set(err, EINVAL, "name",
				      "install %s runs nothing to upgrade (%s): install it again",
				      in->name, install_state(in));
	const char *package = json_string_value(json_object_get(in->row, "package"));
	const char *from = json_string_value(json_object_get(in->row, "version"));
	if (r->options && !json_is_object(r->options))
		return acre_error_set(err, EINVAL, "options", "options: must be an object");
	_cleanup_json_ json_t *given = merged_options(in, r->options), *opts = NULL;
	struct pkg pkg = {0};
	struct pkg_expansion x = {0};
	if (!given)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = catalog_load(s, package, r->version ? r->version : from, &pkg, err);
	if (rc == 0)
		rc = pkg_upgrade_check(&pkg, from, err);
	pkg_free(&pkg);
	if (rc < 0)
		return rc;
	rc = prepare(s, in->name, package, r->version ? r->version : from, given, r->set, &pkg,
		     &opts, &x, err);
	if (rc < 0)
		return rc;
	_cleanup_json_ json_t *now = plan_of_row(in), *next = pkg_plan(&x);
	json_t *diff = pkg_plan_diff(now, next);
	bool same = pkg_diff_empty(diff) && !strcmp(from, pkg.version);
	if (r->dry_run || same) {
		*reply = reply_of(in, "diff", json_incref(diff));
		json_object_set_new(*reply, "changes", json_boolean(!same));
		goto done;
	}
	json_t *op = install_op_new(s, "upgrade", x.apps);
	json_object_set_new(op, "version", json_string(pkg.version));
	json_object_set(op, "options", opts);
	json_object_set(op, "schema", pkg.schema);
	json_object_set(op, "diff", diff);
	if (x.binaries)
		json_object_set(op, "binaries", x.binaries);
	if ((rc = op_start(s, in, op, x.apps, "upgrading", err)) == 0)
		*reply = reply_of(in, "diff", json_incref(diff));
done:
	json_decref(diff);
	pkg_expansion_free(&x);
	pkg_free(&pkg);
	return rc;
}

int installs_rollback(struct installs *s, const struct install_request *r, json_t **reply,
		      struct acre_error *err)
{
	*reply = NULL;
	struct install *in = find(s, r->name, err);
	if (!in)
		return -ENOENT;
	if (busy(in, err) < 0)
		return -EBUSY;
	const json_t *revs = json_object_get(in->row, "revisions");
	json_int_t cur = json_integer_value(json_object_get(in->row, "revision"));
	const json_t *to = NULL, *rev;
	size_t i;
	json_array_foreach (revs, i, rev) {
		json_int_t n = json_integer_value(json_object_get(rev, "revision"));
		if (r->revision ? n == (json_int_t)r->revision : n < cur)
			to = rev;
	}
	if (!to && r->revision)
		return acre_error_set(err, ENOENT, "revision", "install %s keeps no revision %u",
				      in->name, r->revision);
	if (!to)
		return acre_error_set(err, ENOENT, "revision",
				      "install %s has no revision before %lld", in->name,
				      (long long)cur);
	json_t *op = install_op_new(s, "rollback", json_object_get(to, "apps"));
	json_object_set(op, "version", json_object_get(to, "version"));
	json_object_set(op, "options", json_object_get(to, "options"));
	json_object_set(op, "to_revision", json_object_get(to, "revision"));
	int rc = op_start(s, in, op, json_object_get(to, "apps"), "rolling_back", err);
	if (rc == 0)
		*reply = reply_of(in, NULL, NULL);
	return rc;
}

int installs_uninstall(struct installs *s, const struct install_request *r, json_t **reply,
		       struct acre_error *err)
{
	*reply = NULL;
	struct install *in = find(s, r->name, err);
	if (!in)
		return -ENOENT;
	/*
	 * The one operation that does not wait for another: it is the way out
	 * of one that cannot end (an install whose instances find no room).
	 */
	const json_t *running = json_object_get(in->row, "operation");
	if (json_is_object(running) &&
	    !strcmp(json_string_value(json_object_get(running, "kind")), "uninstall"))
		return busy(in, err);
	/* What it runs and what the running operation makes, from the last started. */
	json_t *order = json_array();
	const json_t *lists[] = {json_object_get(running, "apps"),
				 json_object_get(in->row, "apps")};
	for (size_t k = 0; k < 2; k++)
		for (size_t i = json_array_size(lists[k]); i-- > 0;) {
			json_t *name = json_object_get(json_array_get(lists[k], i), "name");
			size_t j;
			json_t *have;
			bool dup = false;
			json_array_foreach (order, j, have)
				dup = dup || json_equal(have, name);
			if (!dup)
				json_array_append(order, name);
		}
	_cleanup_json_ json_t *none = json_array();
	json_t *op = install_op_new(s, "uninstall", none);
	json_object_set_new(op, "remove", order);
	json_object_set_new(op, "keep_volumes", json_boolean(r->keep_volumes));
	json_object_set_new(in->row, "operation", op);
	install_set_state(in, "uninstalling", NULL);
	install_changed(s, in, "uninstalling");
	*reply = reply_of(in, NULL, NULL);
	return 0;
}
