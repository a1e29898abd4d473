/*
 * `--set a.b=VALUE`: one option from the command line, typed by the
 * schema (the shell gives only text), put into the user's options object
 * at its path.  The whole object is checked afterwards by
 * pkg_options_check; here only what the text itself can get wrong.
 */
#include <ctype.h>
#include <math.h>

#include "internal.h"

static int typed(const char *type, const char *text, const char *path, json_t **out,
		 struct acre_error *err)
{
	char *end;
	errno = 0;
	if (!strcmp(type, "string")) {
		*out = json_string(text);
	} else if (!strcmp(type, "integer")) {
		long long v = strtoll(text, &end, 10);
		if (!*text || *end || errno || isspace((unsigned char)*text))
			return acre_error_set(err, EINVAL, path, "%s: \"%s\" is not an integer",
					      path, text);
		*out = json_integer(v);
	} else if (!strcmp(type, "number")) {
		double v = strtod(text, &end);
		if (!*text || *end || errno || !isfinite(v) || isspace((unsigned char)*text))
			return acre_error_set(err, EINVAL, path, "%s: \"%s\" is not a number", path,
					      text);
		*out = json_real(v);
	} else if (!strcmp(type, "boolean")) {
		if (strcmp(text, "true") && strcmp(text, "false"))
			return acre_error_set(err, EINVAL, path,
					      "%s: \"%s\" is not a boolean (true or false)", path,
					      text);
		*out = json_boolean(!strcmp(text, "true"));
	} else {
		return acre_error_set(err, EINVAL, path,
				      "%s: an %s is set by its fields (%s.NAME=...)", path, type,
				      path);
	}
	return *out ? 0 : -ENOMEM;
}

/* "a,b,c" as an array of items' type; "" is the empty array. */
static int typed_array(const json_t *schema, const char *text, const char *path, json_t **out,
		       struct acre_error *err)
{
	const char *itype =
		json_string_value(json_object_get(json_object_get(schema, "items"), "type"));
	_cleanup_json_ json_t *a = json_array();
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	size_t i = 0;
	if (!a || !copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), i++) {
		char sub[256];
		json_t *v = NULL;
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		int rc = typed(itype ? itype : "string", t, sub, &v, err);
		if (rc < 0)
			return rc;
		if (json_array_append_new(a, v) < 0)
			return -ENOMEM;
	}
	*out = TAKE_PTR(a);
	return 0;
}

/* The object at path's parent in options, made as needed. */
static json_t *parent_of(json_t *options, const char *path, const char **leaf)
{
	_cleanup_free_ char *copy = strdup(path);
	json_t *o = options;
	if (!copy)
		return NULL;
	char *p = copy, *dot;
	while ((dot = strchr(p, '.'))) {
		*dot = '\0';
		json_t *next = json_object_get(o, p);
		if (!next) {
			next = json_object();
			if (!next || json_object_set_new(o, p, next) < 0)
				return NULL;
		}
		if (!json_is_object(next))
			return NULL;
		o = next;
		p = dot + 1;
	}
	*leaf = path + (p - copy);
	return o;
}

int pkg_options_set(const json_t *schema, json_t *options, const char *assignment,
		    struct acre_error *err)
{
	const char *eq = strchr(assignment, '=');
	char path[256], opath[272];
	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(path))
		return acre_error_set(err, EINVAL, "set", "--set %s: must be NAME=VALUE (a.b=v)",
				      assignment);
	memcpy(path, assignment, eq - assignment);
	path[eq - assignment] = '\0';
	const char *name = strncmp(path, "options.", 8) ? path : path + 8;
	snprintf(opath, sizeof(opath), "options.%s", name);
	const json_t *s = pkg_schema_find(schema, name);
	if (!s)
		return acre_error_set(err, EINVAL, opath, "%s: unknown option", opath);
	const char *type = json_string_value(json_object_get(s, "type"));
	json_t *v = NULL;
	int rc = !strcmp(type, "array") ? typed_array(s, eq + 1, opath, &v, err)
					: typed(type, eq + 1, opath, &v, err);
	if (rc < 0)
		return rc;
	const char *leaf = NULL;
	json_t *parent = parent_of(options, name, &leaf);
	if (!parent) {
		json_decref(v);
		return acre_error_set(err, EINVAL, opath,
				      "%s: its parent is set to a value that is "
				      "not an object",
				      opath);
	}
	return json_object_set_new(parent, leaf, v) < 0 ? -ENOMEM : 0;
}
