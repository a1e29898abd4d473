/*
 * The options schema (config.json): a documented subset of JSON Schema,
 * checked when a package is loaded so that a mistake of the package's
 * author is found before any user's install.  Each keyword is allowed
 * only with the types it means something for; defaults and enum values
 * must satisfy the schema they sit in.
 */
#include <ctype.h>
#include <regex.h>

#include "internal.h"

#define WHERE "config.json"

static const char *const types[] = {"object", "array",	 "string", "integer",
				    "number", "boolean", NULL};

static bool option_name_valid(const char *s)
{
	if (!*s || strlen(s) > 63 || !isalpha((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool type_known(const char *t)
{
	for (const char *const *x = types; *x; x++)
		if (!strcmp(*x, t))
			return true;
	return false;
}

/* Refuses a keyword given with a type it means nothing for. */
static int only_for(const json_t *s, const char *key, const char *type, const char *type2,
		    const char *at, struct acre_error *err)
{
	const char *t = json_string_value(json_object_get(s, "type"));
	if (!json_object_get(s, key) || !strcmp(t, type) || (type2 && !strcmp(t, type2)))
		return 0;
	return acre_error_set(err, EINVAL, key, WHERE ": %s%s: only for type %s%s%s (this is %s)",
			      at, key, type, type2 ? " or " : "", type2 ? type2 : "", t);
}

static int check_node(const json_t *s, const char *at, const char *opath, struct acre_error *err);

static int check_properties(const json_t *s, const char *at, const char *opath,
			    struct acre_error *err)
{
	const json_t *props = json_object_get(s, "properties"),
		     *req = json_object_get(s, "required"), *x;
	const char *key;
	size_t i;
	if (props && !json_is_object(props))
		return acre_error_set(err, EINVAL, "properties",
				      WHERE ": %sproperties: must be an object", at);
	json_object_foreach ((json_t *)props, key, x) {
		char sub[256], osub[256];
		if (!option_name_valid(key))
			return acre_error_set(err, EINVAL, "properties",
					      WHERE ": %sproperties.%s: an option's name is a "
						    "letter, then letters, digits, '_' and '-'",
					      at, key);
		snprintf(sub, sizeof(sub), "%sproperties.%s.", at, key);
		snprintf(osub, sizeof(osub), "%s.%s", opath, key);
		int rc = check_node(x, sub, osub, err);
		if (rc < 0)
			return rc;
	}
	if (req && !json_is_array(req))
		return acre_error_set(err, EINVAL, "required",
				      WHERE ": %srequired: must be an array of names", at);
	json_array_foreach (req, i, x) {
		const char *name = json_string_value(x);
		if (!name || !json_object_get(props, name))
			return acre_error_set(err, EINVAL, "required",
					      WHERE ": %srequired[%zu]: not one of the properties",
					      at, i);
	}
	return 0;
}

static int check_keywords(const json_t *s, const char *at, struct acre_error *err)
{
	static const char *const strings[] = {"title", "description", "pattern", NULL};
	const json_t *e = json_object_get(s, "enum"), *min = json_object_get(s, "minimum"),
		     *max = json_object_get(s, "maximum"), *sec = json_object_get(s, "secret");
	for (const char *const *k = strings; *k; k++)
		if (json_object_get(s, *k) && !json_is_string(json_object_get(s, *k)))
			return acre_error_set(err, EINVAL, *k, WHERE ": %s%s: must be a string", at,
					      *k);
	if (e && (!json_is_array(e) || json_array_size(e) == 0))
		return acre_error_set(err, EINVAL, "enum",
				      WHERE ": %senum: must be a non-empty array", at);
	if ((min && !json_is_number(min)) || (max && !json_is_number(max)))
		return acre_error_set(err, EINVAL, "minimum",
				      WHERE ": %sminimum, maximum: must be numbers", at);
	if (min && max && json_number_value(min) > json_number_value(max))
		return acre_error_set(err, EINVAL, "minimum",
				      WHERE ": %sminimum: above the maximum", at);
	if (sec && !json_is_boolean(sec))
		return acre_error_set(err, EINVAL, "secret",
				      WHERE ": %ssecret: must be true or false", at);
	const char *pattern = json_string_value(json_object_get(s, "pattern"));
	regex_t re;
	if (pattern) {
		int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[128];
			regerror(rc, &re, why, sizeof(why));
			return acre_error_set(err, EINVAL, "pattern", WHERE ": %spattern: %s: %s",
					      at, pattern, why);
		}
		regfree(&re);
	}
	return 0;
}

/* Default and enum values checked against the schema they belong to. */
static int check_values(const json_t *s, const char *at, const char *opath, struct acre_error *err)
{
	const json_t *def = json_object_get(s, "default"), *x;
	size_t i;
	json_t *copy = NULL;
	int rc;
	json_array_foreach (json_object_get(s, "enum"), i, x) {
		const char *t = json_string_value(json_object_get(s, "type"));
		if (!pkg_type_matches(t, x))
			return acre_error_set(err, EINVAL, "enum",
					      WHERE ": %senum[%zu]: not of type %s", at, i, t);
	}
	if (!def)
		return 0;
	rc = pkg_value_check(s, def, opath, &copy, err);
	json_decref(copy);
	if (rc < 0)
		return acre_error_prefix(err, WHERE ": %sdefault", at);
	return 0;
}

static int check_node(const json_t *s, const char *at, const char *opath, struct acre_error *err)
{
	static const char *const keys[] = {
		"type",	   "title",    "description", "default", "enum",   "minimum", "maximum",
		"pattern", "required", "properties",  "items",	 "secret", NULL};
	const char *type;
	int rc;
	if (!json_is_object(s))
		return acre_error_set(err, EINVAL, "", WHERE ": %s: a schema must be an object",
				      *at ? at : "the top");
	if ((rc = pkg_check_keys(s, WHERE, at, keys, err)) < 0)
		return rc;
	type = json_string_value(json_object_get(s, "type"));
	if (!type || !type_known(type))
		return acre_error_set(err, EINVAL, "type",
				      WHERE ": %stype: must be one of object, array, string, "
					    "integer, number, boolean",
				      at);
	if ((rc = only_for(s, "properties", "object", NULL, at, err)) < 0 ||
	    (rc = only_for(s, "required", "object", NULL, at, err)) < 0 ||
	    (rc = only_for(s, "items", "array", NULL, at, err)) < 0 ||
	    (rc = only_for(s, "pattern", "string", NULL, at, err)) < 0 ||
	    (rc = only_for(s, "minimum", "integer", "number", at, err)) < 0 ||
	    (rc = only_for(s, "maximum", "integer", "number", at, err)) < 0 ||
	    (rc = check_keywords(s, at, err)) < 0 || (rc = check_properties(s, at, opath, err)) < 0)
		return rc;
	if (json_object_get(s, "items")) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%sitems.", at);
		if ((rc = check_node(json_object_get(s, "items"), sub, opath, err)) < 0)
			return rc;
	}
	return check_values(s, at, opath, err);
}

int pkg_schema_check(const json_t *schema, struct acre_error *err)
{
	const char *type = json_string_value(json_object_get(schema, "type"));
	int rc = check_node(schema, "", "options", err);
	if (rc == 0 && strcmp(type, "object"))
		return acre_error_set(err, EINVAL, "type", WHERE ": type: the top is an object");
	return rc;
}

const json_t *pkg_schema_at(const json_t *schema, const char *path)
{
	const json_t *s = schema;
	const char *p = path;
	while (s && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char key[256];
		if (len == 0 || len >= sizeof(key))
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		s = json_object_get(json_object_get(s, "properties"), key);
		p += len + (dot ? 1 : 0);
		if (dot && !*p)
			return NULL;
	}
	return s;
}

const json_t *pkg_schema_find(const json_t *schema, const char *path)
{
	if (!strncmp(path, "options.", 8))
		path += 8;
	return *path ? pkg_schema_at(schema, path) : NULL;
}
