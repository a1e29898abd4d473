/*
 * An install's expansion: each template whose "when" holds rendered with
 * the install's options, each app checked by the apps module's own
 * parser, then the whole checked together (names unique, dependencies
 * among the install's apps, a start order) before anything starts.  Each
 * app gets the package's artifacts (artifacts.c): a placement constraint
 * per host binary, a slice artifact per URI.  Every
 * object gets the install's label, acre.install=NAME, by which the
 * install owns exactly what it made.
 */
#include "internal.h"

struct made {
	const struct pkg *pkg;
	struct app_spec *specs;
	size_t napps;
	json_t *apps;	 /* canonical, in template order */
	json_t *volumes; /* in template order */
	json_t *sources;
};

/* Whether every "options.X": value of when equals the option's value. */
static bool when_holds(const json_t *when, const json_t *options)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)when, key, v) {
		const json_t *have = pkg_options_get(options, key + 8);
		if (!have || !json_equal(have, v))
			return false;
	}
	return true;
}

static int add_source(struct made *m, const char *kind, const char *name, const char *file,
		      struct acre_error *err)
{
	char key[128];
	snprintf(key, sizeof(key), "%s %s", kind, name);
	const char *other = json_string_value(json_object_get(m->sources, key));
	if (other)
		return acre_error_set(err, EEXIST, "name", "%s: %s %s: also made by %s", file, kind,
				      name, other);
	return json_object_set_new(m->sources, key, json_string(file)) < 0 ? -ENOMEM : 0;
}

static json_t *owner_labels(const json_t *labels, const char *install)
{
	json_t *l = labels ? json_deep_copy(labels) : json_object();
	if (l && json_object_set_new(l, PKG_LABEL_INSTALL, json_string(install)) < 0) {
		json_decref(l);
		return NULL;
	}
	return l;
}

static int make_app(struct made *m, const json_t *j, const char *file, const char *install,
		    struct acre_error *err)
{
	struct app_spec *spec = &m->specs[m->napps];
	/* What its nodes need, as the app's own: the scheduler and the node see to it. */
	int rc = pkg_artifacts_apply(m->pkg, (json_t *)j, err);
	if (rc < 0)
		return acre_error_prefix(err, "%s: app", file);
	rc = app_spec_parse(j, spec, err);
	if (rc < 0)
		return acre_error_prefix(err, "%s: app", file);
	m->napps++;
	if ((rc = add_source(m, "app", spec->name, file, err)) < 0)
		return rc;
	_cleanup_json_ json_t *canon = app_spec_to_json(spec);
	json_t *labels = canon ? owner_labels(json_object_get(canon, "labels"), install) : NULL;
	if (!labels || json_object_set_new(canon, "labels", labels) < 0)
		return -ENOMEM;
	return json_array_append(m->apps, canon) < 0 ? -ENOMEM : 0;
}

static int make_volume(struct made *m, const json_t *j, const char *file, const char *install,
		       struct acre_error *err)
{
	static const char *const keys[] = {"name", "size", NULL};
	char where[300];
	uint64_t size = 0;
	snprintf(where, sizeof(where), "%s: volume", file);
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "volume", "%s: must be an object", where);
	int rc = pkg_check_keys(j, where, "", keys, err);
	const char *name = acre_json_c_string(json_object_get(j, "name"));
	const char *sz = acre_json_c_string(json_object_get(j, "size"));
	if (rc < 0)
		return rc;
	if (!name || !acre_volume_name_valid(name))
		return acre_error_set(err, EINVAL, "name",
				      "%s: name: must be a volume name (a DNS label)", where);
	if (!sz)
		return acre_error_set(err, EINVAL, "size", "%s: size: required, as 1G or 512M",
				      where);
	if ((rc = acre_parse_size(sz, &size, err, "size")) < 0)
		return acre_error_prefix(err, "%s", where);
	if ((rc = add_source(m, "volume", name, file, err)) < 0)
		return rc;
	json_t *v = json_pack("{s:s, s:I, s:o}", "name", name, "size", (json_int_t)size, "labels",
			      owner_labels(NULL, install));
	return json_array_append_new(m->volumes, v) < 0 ? -ENOMEM : 0;
}

static int expand_one(struct made *m, const struct pkg_template *t, const struct pkg_context *ctx,
		      struct acre_error *err)
{
	const json_t *when = json_object_get(t->body, "when");
	const char *kind = json_object_get(t->body, "app") ? "app" : "volume";
	_cleanup_json_ json_t *body = json_copy(t->body), *out = NULL;
	if (when && !when_holds(when, ctx->options))
		return 0;
	/* The body rendered whole, so that errors name the path from its top ("app.slice"). */
	if (!body)
		return -ENOMEM;
	json_object_del(body, "when");
	int rc = pkg_template_render(body, ctx, t->file, &out, err);
	if (rc < 0)
		return rc;
	if (!strcmp(kind, "app"))
		return make_app(m, json_object_get(out, kind), t->file, ctx->install, err);
	return make_volume(m, json_object_get(out, kind), t->file, ctx->install, err);
}

static int volume_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* The apps in start order and the volumes in name order, into out. */
static int order(struct made *m, struct pkg_expansion *out, struct acre_error *err)
{
	_cleanup_free_ const struct app_spec **set = calloc(m->napps + 1, sizeof(*set));
	_cleanup_free_ size_t *order = calloc(m->napps + 1, sizeof(size_t));
	_cleanup_free_ json_t **vols = calloc(json_array_size(m->volumes) + 1, sizeof(json_t *));
	size_t nvols = json_array_size(m->volumes);
	if (!set || !order || !vols)
		return -ENOMEM;
	for (size_t i = 0; i < m->napps; i++)
		set[i] = &m->specs[i];
	int rc = app_deps_check(set, m->napps, order, err);
	if (rc < 0)
		return acre_error_prefix(err, "the install's apps");
	for (size_t i = 0; i < m->napps; i++)
		if (json_array_append(out->apps, json_array_get(m->apps, order[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < nvols; i++)
		vols[i] = json_array_get(m->volumes, i);
	qsort(vols, nvols, sizeof(json_t *), volume_cmp);
	for (size_t i = 0; i < nvols; i++)
		if (json_array_append(out->volumes, vols[i]) < 0)
			return -ENOMEM;
	return 0;
}

int pkg_expand(const struct pkg *pkg, const struct pkg_context *ctx, struct pkg_expansion *out,
	       struct acre_error *err)
{
	struct made m = {.pkg = pkg,
			 .apps = json_array(),
			 .volumes = json_array(),
			 .sources = json_object()};
	int rc = -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (!pkg_name_valid(ctx->install)) {
		rc = acre_error_set(err, EINVAL, "name",
				    "install name \"%s\": must be 1 to %d lower-case letters, "
				    "digits and '-', not first or last",
				    ctx->install, PKG_INSTALL_NAME_MAX);
		goto done;
	}
	m.specs = calloc(pkg->ntemplates + 1, sizeof(*m.specs));
	out->apps = json_array();
	out->volumes = json_array();
	if (!m.apps || !m.volumes || !m.sources || !m.specs || !out->apps || !out->volumes)
		goto done;
	for (size_t i = 0; i < pkg->ntemplates; i++)
		if ((rc = expand_one(&m, &pkg->templates[i], ctx, err)) < 0)
			goto done;
	if (m.napps == 0 && json_array_size(m.volumes) == 0) {
		rc = acre_error_set(err, EINVAL, "",
				    "%s %s: no template applies with these options", pkg->name,
				    pkg->version);
		goto done;
	}
	if ((rc = order(&m, out, err)) < 0)
		goto done;
	out->sources = json_incref(m.sources);
	out->binaries = pkg_artifacts_binaries(pkg);
done:
	for (size_t i = 0; i < m.napps; i++)
		app_spec_free(&m.specs[i]);
	free(m.specs);
	json_decref(m.apps);
	json_decref(m.volumes);
	json_decref(m.sources);
	if (rc < 0)
		pkg_expansion_free(out);
	return rc;
}

void pkg_expansion_free(struct pkg_expansion *x)
{
	json_decref(x->apps);
	json_decref(x->volumes);
	json_decref(x->sources);
	json_decref(x->binaries);
	memset(x, 0, sizeof(*x));
}
