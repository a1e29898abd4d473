/*
 * Secrets redacted: a secret option's value is kept in the store only and
 * shown nowhere else (show, events, logs, the API), so every copy of the
 * options meant for eyes goes through here.
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
