/*
 * Secrets of the slice spec: "secrets", an object NAME -> value
 *
 *   {"db_password": "hunter2", "api.key": "..."}
 *
 * (the CLI's --secret NAME=VALUE and --secret-file NAME=PATH): at most
 * 32, each value up to 64 KiB and 256 KiB in all, so that a spec still
 * travels to its node as one protocol line (1 MiB).  The task
 * finds each as the file /run/secrets/NAME on a tmpfs of its own, never in
 * its environment.  Every view of a spec a user reads (acre slice show,
 * the API, events) shows the names with "<redacted>" for the values: only
 * the controller's store and the node's checkpoint keep them.
 */
#include "common.h"

#include <ctype.h>

bool acre_secret_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ACRE_SECRET_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

int acre_secrets_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j) || json_object_size(j) > ACRE_SECRETS_MAX)
		return acre_error_set(err, EINVAL, "secrets",
				      "secrets: an object of at most %d NAME: value strings",
				      ACRE_SECRETS_MAX);
	size_t n = json_object_size(j);
	if (n == 0)
		return 0;
	spec->secrets = calloc(n, sizeof(*spec->secrets));
	if (!spec->secrets)
		return -ENOMEM;
	size_t total = 0;
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)j, key, val) {
		if (!acre_secret_name_valid(key))
			return acre_error_set(err, EINVAL, "secrets",
					      "secrets: name \"%.64s\": 1 to %d letters, digits, "
					      "'.', '_' or '-', not starting with '.'",
					      key, ACRE_SECRET_NAME_MAX);
		/* The value is never repeated in an error: errors are logged and shown. */
		const char *s = acre_json_c_string(val);
		if (!s || strlen(s) > ACRE_SECRET_VALUE_MAX)
			return acre_error_set(
				err, EINVAL, "secrets",
				"secrets.%s: a string of at most %d bytes without NUL", key,
				ACRE_SECRET_VALUE_MAX);
		/* What a view shows sent back (a GET then a PUT) would become the value. */
		if (!strcmp(s, ACRE_SECRET_REDACTED))
			return acre_error_set(err, EINVAL, "secrets",
					      "secrets.%s: \"%s\" is how a secret is shown, not a "
					      "value (give the value)",
					      key, ACRE_SECRET_REDACTED);
		if ((total += strlen(s)) > ACRE_SECRETS_TOTAL_MAX)
			return acre_error_set(err, EINVAL, "secrets",
					      "secrets: at most %d bytes of values in all",
					      ACRE_SECRETS_TOTAL_MAX);
		struct acre_secret *x = &spec->secrets[spec->nsecrets++];
		snprintf(x->name, sizeof(x->name), "%s", key);
		if (!(x->value = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

json_t *acre_secrets_to_json(const struct acre_slice_spec *spec, bool redact)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < spec->nsecrets; i++)
		json_object_set_new(
			o, spec->secrets[i].name,
			json_string(redact ? ACRE_SECRET_REDACTED : spec->secrets[i].value));
	return o;
}

void acre_secrets_redact_json(json_t *spec)
{
	json_t *secrets = json_object_get(spec, "secrets");
	if (!json_is_object(secrets))
		return;
	const char *key;
	json_t *val;
	json_object_foreach (secrets, key, val)
		json_object_set_new(secrets, key, json_string(ACRE_SECRET_REDACTED));
}

void acre_secrets_free(struct acre_slice_spec *spec)
{
	for (size_t i = 0; i < spec->nsecrets; i++) {
		char *v = spec->secrets[i].value;
		if (v)
			explicit_bzero(v, strlen(v));
		free(v);
	}
	free(spec->secrets);
	spec->secrets = NULL;
	spec->nsecrets = 0;
}
