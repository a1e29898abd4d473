/*
 * A user's options against a package's schema: each value of its type,
 * in its bounds, one of its enum, matching its pattern; unknown options
 * refused; defaults filled in.  The path of the option at fault is the
 * first word of every error ("options.redis.port: 70000 is above the
 * maximum 65535"), as the user wrote it with --set.
 */
#include <regex.h>

#include "internal.h"

bool pkg_type_matches(const char *type, const json_t *v)
{
	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	return false;
}

/* "an integer", "a string": the article of a type's name. */
static const char *article(const char *type)
{
	return strchr("aeiou", type[0]) ? "an" : "a";
}

/* The value as a message shows it: JSON, compact, shortened. */
static void show(const json_t *v, char *buf, size_t len)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf, len, "%.60s%s", s ? s : "?", s && strlen(s) > 60 ? "..." : "");
}

static int check_bounds(const json_t *schema, const json_t *v, const char *path,
			struct acre_error *err)
{
	const json_t *min = json_object_get(schema, "minimum");
	const json_t *max = json_object_get(schema, "maximum");
	double x = json_number_value(v);
	char a[80], b[80];
	show(v, a, sizeof(a));
	if (min && x < json_number_value(min)) {
		show(min, b, sizeof(b));
		return acre_error_set(err, ERANGE, path, "%s: %s is below the minimum %s", path, a,
				      b);
	}
	if (max && x > json_number_value(max)) {
		show(max, b, sizeof(b));
		return acre_error_set(err, ERANGE, path, "%s: %s is above the maximum %s", path, a,
				      b);
	}
	return 0;
}

static int check_pattern(const json_t *schema, const json_t *v, const char *path,
			 struct acre_error *err)
{
	const char *pattern = json_string_value(json_object_get(schema, "pattern"));
	regex_t re;
	if (!pattern)
		return 0;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return acre_error_set(err, EINVAL, path, "%s: the pattern %s does not compile",
				      path, pattern);
	int rc = regexec(&re, json_string_value(v), 0, NULL, 0);
	regfree(&re);
	if (rc != 0) {
		char a[80];
		show(v, a, sizeof(a));
		return acre_error_set(err, EINVAL, path, "%s: %s does not match the pattern %s",
				      path, a, pattern);
	}
	return 0;
}

static int check_enum(const json_t *schema, const json_t *v, const char *path,
		      struct acre_error *err)
{
	const json_t *e = json_object_get(schema, "enum"), *x;
	size_t i;
	char a[80], list[256] = "";
	size_t used = 0;
	if (!e)
		return 0;
	json_array_foreach (e, i, x) {
		if (json_equal(x, v))
			return 0;
		char one[80];
		show(x, one, sizeof(one));
		if (used < sizeof(list))
			used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 one);
	}
	show(v, a, sizeof(a));
	return acre_error_set(err, EINVAL, path, "%s: %s is not one of %s", path, a, list);
}

static int check_object(const json_t *schema, const json_t *v, const char *path, json_t **out,
			struct acre_error *err);

static int check_array(const json_t *schema, const json_t *v, const char *path, json_t **out,
		       struct acre_error *err)
{
	const json_t *items = json_object_get(schema, "items"), *x;
	_cleanup_json_ json_t *copy = json_array();
	size_t i;
	if (!copy)
		return -ENOMEM;
	json_array_foreach (v, i, x) {
		char sub[256];
		json_t *item = NULL;
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		int rc = items ? pkg_value_check(items, x, sub, &item, err)
			       : ((item = json_deep_copy(x)) ? 0 : -ENOMEM);
		if (rc < 0)
			return rc;
		if (json_array_append_new(copy, item) < 0)
			return -ENOMEM;
	}
	*out = TAKE_PTR(copy);
	return 0;
}

int pkg_value_check(const json_t *schema, const json_t *v, const char *path, json_t **out,
		    struct acre_error *err)
{
	const char *type = json_string_value(json_object_get(schema, "type"));
	int rc;
	*out = NULL;
	if (!type)
		return acre_error_set(err, EINVAL, path, "%s: its schema has no type", path);
	if (!strcmp(type, "object"))
		return check_object(schema, v, path, out, err);
	if (!pkg_type_matches(type, v)) {
		char a[80];
		show(v, a, sizeof(a));
		return acre_error_set(err, EINVAL, path, "%s: %s is %s %s, not %s %s", path, a,
				      article(pkg_json_type_name(v)), pkg_json_type_name(v),
				      article(type), type);
	}
	if ((rc = check_enum(schema, v, path, err)) < 0)
		return rc;
	if (json_is_number(v) && (rc = check_bounds(schema, v, path, err)) < 0)
		return rc;
	if (json_is_string(v) && (rc = check_pattern(schema, v, path, err)) < 0)
		return rc;
	if (json_is_array(v))
		return check_array(schema, v, path, out, err);
	*out = json_deep_copy(v);
	return *out ? 0 : -ENOMEM;
}

static bool required_has(const json_t *schema, const char *name)
{
	const json_t *r = json_object_get(schema, "required"), *x;
	size_t i;
	json_array_foreach (r, i, x)
		if (!strcmp(json_string_value(x), name))
			return true;
	return false;
}

/* One property of an object: given, its default, an object of defaults, or required. */
static int check_property(const json_t *prop, const char *name, const json_t *given, bool required,
			  const char *path, json_t *into, struct acre_error *err)
{
	const json_t *def = json_object_get(prop, "default");
	const char *type = json_string_value(json_object_get(prop, "type"));
	json_t *value = NULL;
	int rc;
	if (given)
		rc = pkg_value_check(prop, given, path, &value, err);
	else if (def)
		rc = pkg_value_check(prop, def, path, &value, err);
	else if (type && !strcmp(type, "object"))
		rc = check_object(prop, NULL, path, &value, err);
	else if (required)
		return acre_error_set(err, EINVAL, path, "%s: required", path);
	else
		return 0;
	if (rc < 0)
		return rc;
	return json_object_set_new(into, name, value) < 0 ? -ENOMEM : 0;
}

/* v NULL: the object was not given; its properties' defaults make it. */
static int check_object(const json_t *schema, const json_t *v, const char *path, json_t **out,
			struct acre_error *err)
{
	const json_t *props = json_object_get(schema, "properties"), *prop, *x;
	_cleanup_json_ json_t *copy = json_object();
	const char *key;
	if (!copy)
		return -ENOMEM;
	if (v && !json_is_object(v)) {
		char a[80];
		show(v, a, sizeof(a));
		return acre_error_set(err, EINVAL, path, "%s: %s is %s %s, not an object", path, a,
				      article(pkg_json_type_name(v)), pkg_json_type_name(v));
	}
	json_object_foreach ((json_t *)v, key, x) {
		if (!json_object_get(props, key)) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", path, key);
			return acre_error_set(err, EINVAL, sub, "%s: unknown option", sub);
		}
	}
	json_object_foreach ((json_t *)props, key, prop) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		int rc = check_property(prop, key, json_object_get(v, key),
					required_has(schema, key), sub, copy, err);
		if (rc < 0)
			return rc;
	}
	*out = TAKE_PTR(copy);
	return 0;
}

int pkg_options_check(const json_t *schema, const json_t *options, json_t **out,
		      struct acre_error *err)
{
	*out = NULL;
	return check_object(schema, options, "options", out, err);
}

static json_t *defaults_of(const json_t *schema)
{
	const json_t *props = json_object_get(schema, "properties"), *prop;
	json_t *out = json_object();
	const char *key;
	json_object_foreach ((json_t *)props, key, prop) {
		const json_t *def = json_object_get(prop, "default");
		const char *type = json_string_value(json_object_get(prop, "type"));
		if (def)
			json_object_set_new(out, key, json_deep_copy(def));
		else if (type && !strcmp(type, "object"))
			json_object_set_new(out, key, defaults_of(prop));
	}
	return out;
}

json_t *pkg_options_defaults(const json_t *schema)
{
	return defaults_of(schema);
}
