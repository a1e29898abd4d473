/*
 * The app spec: its top level, its name, its slice template (read by the
 * slice spec's own parser, so an app's slices obey exactly the rules of
 * any slice), its placement, labels and dependencies; the parts with more
 * to them are read in files of their own (ports, checks, volumes, policy).
 * Everything is checked before anything is created, and every error names
 * the field with its path.
 */
#include "internal.h"

#include <ctype.h>

static const char *const top_keys[] = {
	"name",	   "instances",	    "slice",	    "placement",   "ports",	"publish",
	"checks",  "readiness",	    "backoff",	    "labels",	   "vip",	"dependencies",
	"volumes", "ordered",	    "on_partition", "min_healthy", "max_surge", "max_unavailable",
	"history", "auto_rollback", NULL,
};

bool app_name_valid(const char *s)
{
	return acre_app_name_valid(s);
}

static int parse_name(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	const char *s = acre_json_c_string(j);
	if (!j)
		return acre_error_set(err, EINVAL, "name", "name: required");
	if (!s || !app_name_valid(s))
		return acre_error_set(err, EINVAL, "name",
				      "name: 1 to %d letters, digits or '-', not first or last (a "
				      "DNS label, which APP-N must stay)",
				      APP_NAME_MAX);
	snprintf(spec->name, sizeof(spec->name), "%s", s);
	return 0;
}

static int parse_instances(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	spec->instances = 1;
	if (!j)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    json_integer_value(j) > APP_INSTANCES_MAX)
		return acre_error_set(err, EINVAL, "instances",
				      "instances: must be an integer from 0 to %d",
				      APP_INSTANCES_MAX);
	spec->instances = (unsigned)json_integer_value(j);
	return 0;
}

/* The slice parser's error, moved under "slice.": its field and its message both start there. */
static int template_error(struct acre_error *err, int rc)
{
	if (!err || rc == -ENOMEM || !err->field[0])
		return rc;
	char field[sizeof(err->field)], message[sizeof(err->message)];
	snprintf(field, sizeof(field), "slice.%s", err->field);
	snprintf(message, sizeof(message), "slice.%s", err->message);
	memcpy(err->field, field, sizeof(field));
	memcpy(err->message, message, sizeof(message));
	return rc;
}

static int parse_template(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	/* What each instance gets from the app, so the template may not say it. */
	static const struct {
		const char *key, *why;
	} owned[] = {
		{"name", "each instance is named APP-N"},
		{"labels", "give the app's labels (labels)"},
		{"restart", "the app restarts its instances, with its back-off (backoff)"},
		{"checks", "give the app's checks (checks), with the ports named"},
		{"readiness", "give the app's readiness checks (readiness), with the ports named"},
		{"volumes", "give the app's volumes (volumes): each instance gets its own"},
	};
	if (!j)
		return acre_error_set(err, EINVAL, "slice",
				      "slice: required (the instances' slice spec: command, "
				      "resources, isolation, network, user)");
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "slice", "slice: must be an object");
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(owned); i++)
		if (json_object_get(j, owned[i].key))
			return acre_error_set(err, EINVAL, "slice", "slice.%s: %s", owned[i].key,
					      owned[i].why);
	json_t *net = json_object_get(j, "network");
	if (json_is_object(net) && json_object_get(net, "publish"))
		return acre_error_set(err, EINVAL, "slice.network.publish",
				      "slice.network.publish: publish the app's named ports "
				      "(publish: [\"18080:http\"])");
	int rc = acre_slice_spec_parse(j, &spec->slice, err);
	return rc < 0 ? template_error(err, rc) : 0;
}

/* ACRE_INSTANCE, ACRE_INSTANCES and PORT_<NAME> are the app's to give. */
static int check_env(const struct app_spec *spec, struct acre_error *err)
{
	for (char **e = spec->slice.env; e && *e; e++) {
		size_t klen = strcspn(*e, "=");
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)klen, *e);
		bool owned = !strcmp(key, APP_ENV_INSTANCE) || !strcmp(key, APP_ENV_INSTANCES);
		for (size_t i = 0; i < spec->nports && !owned; i++) {
			char port[64];
			app_port_env_name(spec->ports[i].name, port, sizeof(port));
			owned = !strcmp(key, port);
		}
		if (owned)
			return acre_error_set(err, EINVAL, "slice.env",
					      "slice.env.%s: set by the app", key);
	}
	return 0;
}

/* The slice placement of proto/placement.c, "unique" included: the pool enforces it. */
static int parse_placement(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	return acre_proto_placement_from_json(j, &spec->placement, err);
}

static int parse_labels(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	int rc = acre_labels_check(j, APP_LABELS_MAX, err);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)j, k, v)
		if (rc == 0 && !strncmp(k, "acre.", 5) && strcmp(k, APP_LABEL_OWNER))
			rc = acre_error_set(err, EINVAL, "labels",
					    "labels.%s: keys under acre. are set by acre", k);
	if (rc < 0)
		return rc;
	spec->labels = j ? json_deep_copy(j) : json_object();
	return spec->labels ? 0 : -ENOMEM;
}

static bool strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

static int parse_dependencies(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	if (!(spec->dependencies = calloc(1, sizeof(char *))))
		return -ENOMEM;
	if (!j)
		return 0;
	if (!json_is_array(j) || json_array_size(j) > APP_DEPS_MAX)
		return acre_error_set(err, EINVAL, "dependencies",
				      "dependencies: must be an array of at most %d app names",
				      APP_DEPS_MAX);
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		const char *s = acre_json_c_string(v);
		if (!s || !app_name_valid(s))
			return acre_error_set(err, EINVAL, "dependencies",
					      "dependencies[%zu]: must be an app name", i);
		if (!strcmp(s, spec->name))
			return acre_error_set(err, EINVAL, "dependencies",
					      "dependencies[%zu]: %s cannot depend on itself", i,
					      s);
		if (strv_has(spec->dependencies, s))
			return acre_error_set(err, EINVAL, "dependencies",
					      "dependencies[%zu]: %s is listed twice", i, s);
		if (acre_strv_push(&spec->dependencies, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_bool(const json_t *j, const char *field, bool dflt, bool *out,
		      struct acre_error *err)
{
	*out = dflt;
	if (!j)
		return 0;
	if (!json_is_boolean(j))
		return acre_error_set(err, EINVAL, field, "%s: must be true or false", field);
	*out = json_is_true(j);
	return 0;
}

/* A virtual IP balances over the members' own addresses, at the same port each. */
static int check_vip(const struct app_spec *spec, struct acre_error *err)
{
	if (!spec->vip)
		return 0;
	if (spec->slice.net_mode != ACRE_NET_BRIDGE)
		return acre_error_set(err, EINVAL, "vip",
				      "vip: needs slice.network.mode bridge (instances on the "
				      "host's network have no address of their own)");
	if (!spec->nports)
		return acre_error_set(err, EINVAL, "vip", "vip: needs at least one port (ports)");
	return 0;
}

static int parse_all(const json_t *json, struct app_spec *spec, struct acre_error *err)
{
	int rc;
	if (!json_is_object(json))
		return acre_error_set(err, EINVAL, "spec", "app spec: must be a JSON object");
	if ((rc = acre_json_check_keys(json, "", top_keys, err)) < 0 ||
	    (rc = parse_name(json_object_get(json, "name"), spec, err)) < 0 ||
	    (rc = parse_instances(json_object_get(json, "instances"), spec, err)) < 0 ||
	    (rc = parse_template(json_object_get(json, "slice"), spec, err)) < 0 ||
	    (rc = app_ports_parse(json_object_get(json, "ports"), spec, err)) < 0 ||
	    (rc = check_env(spec, err)) < 0 ||
	    (rc = app_publish_parse(json_object_get(json, "publish"), spec, err)) < 0 ||
	    (rc = app_checks_parse(json_object_get(json, "checks"),
				   json_object_get(json, "readiness"), spec, err)) < 0 ||
	    (rc = parse_placement(json_object_get(json, "placement"), spec, err)) < 0 ||
	    (rc = parse_labels(json_object_get(json, "labels"), spec, err)) < 0 ||
	    (rc = parse_bool(json_object_get(json, "vip"), "vip", false, &spec->vip, err)) < 0 ||
	    (rc = check_vip(spec, err)) < 0 ||
	    (rc = parse_dependencies(json_object_get(json, "dependencies"), spec, err)) < 0 ||
	    (rc = app_volumes_parse(json_object_get(json, "volumes"), spec, err)) < 0 ||
	    (rc = parse_bool(json_object_get(json, "ordered"), "ordered", false, &spec->ordered,
			     err)) < 0 ||
	    (rc = parse_bool(json_object_get(json, "auto_rollback"), "auto_rollback", true,
			     &spec->auto_rollback, err)) < 0)
		return rc;
	return app_policy_parse(json, spec, err);
}

int app_spec_parse(const json_t *json, struct app_spec *spec, struct acre_error *err)
{
	memset(spec, 0, sizeof(*spec));
	int rc = parse_all(json, spec, err);
	if (rc < 0) {
		if (rc == -ENOMEM)
			acre_error_set(err, ENOMEM, NULL, "out of memory");
		app_spec_free(spec);
	}
	return rc;
}

void app_spec_free(struct app_spec *spec)
{
	acre_slice_spec_free(&spec->slice);
	app_checks_free(spec);
	app_volumes_free(spec);
	json_decref(spec->labels);
	json_decref(spec->instance_base);
	acre_strv_free(spec->dependencies);
	memset(spec, 0, sizeof(*spec));
}

const char *app_on_partition_name(enum app_on_partition p)
{
	return p == APP_PARTITION_WAIT ? "wait" : "replace";
}
