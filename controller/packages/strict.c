/*
 * The strict readers every file of a package goes through: unknown keys
 * refused by name, strings that are strings, lists of strings, and the
 * dotted paths by which templates and --set name options.
 */
#include "internal.h"

int pkg_check_keys(const json_t *obj, const char *where, const char *prefix,
		   const char *const *allowed, struct acre_error *err)
{
	int rc = acre_json_check_keys(obj, prefix, allowed, err);
	return rc < 0 ? acre_error_prefix(err, "%s", where) : 0;
}

int pkg_read_string(const json_t *obj, const char *key, bool required, const char *where,
		    char **out, struct acre_error *err)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			return acre_error_set(err, EINVAL, key, "%s: %s: required", where, key);
		return 0;
	}
	const char *s = acre_json_c_string(v);
	if (!s || !*s)
		return acre_error_set(err, EINVAL, key, "%s: %s: must be a non-empty string", where,
				      key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int pkg_read_strv(const json_t *obj, const char *key, const char *where, char ***out,
		  struct acre_error *err)
{
	const json_t *a = json_object_get(obj, key);
	size_t i, n = a ? json_array_size(a) : 0;
	json_t *v;
	*out = NULL;
	if (a && !json_is_array(a))
		return acre_error_set(err, EINVAL, key, "%s: %s: must be an array of strings",
				      where, key);
	_cleanup_strv_free_ char **list = calloc(n + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	json_array_foreach (a, i, v) {
		const char *s = acre_json_c_string(v);
		if (!s || !*s)
			return acre_error_set(err, EINVAL, key,
					      "%s: %s[%zu]: must be a non-empty string", where, key,
					      i);
		if (!(list[i] = strdup(s)))
			return -ENOMEM;
	}
	*out = TAKE_PTR(list);
	return 0;
}

const json_t *pkg_options_get(const json_t *options, const char *path)
{
	const json_t *v = options;
	const char *p = path;
	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char key[256];
		if (len == 0 || len >= sizeof(key) || !json_is_object(v))
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		v = json_object_get(v, key);
		p += len + (dot ? 1 : 0);
		if (dot && !*p)
			return NULL;
	}
	return v;
}

const char *pkg_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}
