/*
 * The app spec back to JSON, in canonical form: every field present,
 * defaults written out, each value in the one form it parses back from.
 * Versions are compared on this form (app_versions.c), and what a change
 * does to running instances is read from it too.
 */
#include "internal.h"

/* The template as the slice spec prints it, without what the app sets per instance. */
static json_t *template_json(const struct app_spec *spec)
{
	json_t *t = acre_slice_spec_to_json(&spec->slice);
	if (t) {
		json_object_del(t, "name");
		json_object_del(t, "labels");
		json_object_del(t, "restart");
	}
	return t;
}

static json_t *placement_json(const struct app_spec *spec)
{
	return acre_proto_placement_to_json(&spec->placement);
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *checks_json(const struct app_spec *spec, const struct app_checks *k)
{
	json_t *a = NULL;
	return app_checks_to_json(spec, k, true, NULL, &a, NULL) < 0 ? NULL : a;
}

json_t *app_spec_to_json(const struct app_spec *spec)
{
	json_t *out = json_pack(
		"{s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:O,s:b,s:o,s:o,s:b,s:b}", "name", spec->name,
		"instances", (json_int_t)spec->instances, "slice", template_json(spec), "placement",
		placement_json(spec), "ports", app_ports_to_json(spec), "publish",
		app_publish_to_json(spec), "checks", checks_json(spec, &spec->checks), "readiness",
		checks_json(spec, &spec->readiness), "labels", spec->labels, "vip", spec->vip,
		"dependencies", strv_json(spec->dependencies), "volumes", app_volumes_to_json(spec),
		"ordered", spec->ordered, "auto_rollback", spec->auto_rollback);
	if (out)
		app_policy_to_json(spec, out);
	return out;
}

void app_spec_json_redact(json_t *app_spec_json)
{
	acre_secrets_redact_json(json_object_get(app_spec_json, "slice"));
}

/* The fields a deployment applies without touching a running instance. */
static const char *const in_place[] = {
	"instances", "history",	     "min_healthy", "max_surge",    "max_unavailable",
	"backoff",   "dependencies", "ordered",	    "on_partition", "auto_rollback",
};

bool app_spec_json_replaces(const json_t *from, const json_t *to)
{
	_cleanup_json_ json_t *a = json_copy((json_t *)from), *b = json_copy((json_t *)to);
	if (!a || !b)
		return true;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(in_place); i++) {
		json_object_del(a, in_place[i]);
		json_object_del(b, in_place[i]);
	}
	return !json_equal(a, b);
}
