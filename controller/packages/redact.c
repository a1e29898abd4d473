/*
 * Secrets: a secret option's value is kept in the store only and shown
 * nowhere else (show, events, logs, the API), so every copy of the
 * options meant for eyes goes through here; and it reaches the task as a
 * file, never through a template, so pkg_options_secrets lists what the
 * files are to hold.
 */
#include "internal.h"

static void redact(const json_t *schema, json_t *v)
{
	const json_t *props = json_object_get(schema, "properties");
	const char *key;
	json_t *x;
	json_object_foreach (v, key, x) {
		const json_t *s = json_object_get(props, key);
		if (!s)
			continue;
		if (json_is_true(json_object_get(s, "secret")))
			json_object_set_new(v, key, json_string(PKG_SECRET_REDACTED));
		else if (json_is_object(x))
			redact(s, x);
	}
}

json_t *pkg_options_redact(const json_t *schema, const json_t *options)
{
	json_t *copy = json_deep_copy(options);
	if (copy)
		redact(schema, copy);
	return copy;
}

static int collect(const json_t *schema, const json_t *v, const char *prefix, json_t *out)
{
	const json_t *props = json_object_get(schema, "properties");
	const char *key;
	json_t *x;
	json_object_foreach ((json_t *)v, key, x) {
		const json_t *s = json_object_get(props, key);
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!s)
			continue;
		if (json_is_true(json_object_get(s, "secret"))) {
			_cleanup_free_ char *text =
				json_is_string(x) ? strdup(json_string_value(x))
						  : json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
			if (!text || json_object_set_new(out, path, json_string(text)) < 0)
				return -ENOMEM;
		} else if (json_is_object(x) && collect(s, x, path, out) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

json_t *pkg_options_secrets(const json_t *schema, const json_t *options)
{
	json_t *out = json_object();
	if (out && collect(schema, options, "", out) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
