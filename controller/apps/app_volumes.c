/*
 * Persistent volumes as the app spec states them: "NAME:SIZE:PATH", a
 * directory of each instance's own on its node, SIZE at most, mounted
 * read-write at PATH in the slice and kept across restarts and updates.
 * Names become part of the directory's name on the node, so they are
 * lower-case DNS labels; whether a node has the room is the placement's
 * to say.
 */
#include "internal.h"

#include <ctype.h>

static bool volume_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > APP_VOLUME_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool path_valid(const char *p)
{
	if (p[0] != '/' || strlen(p) >= 4096)
		return false;
	bool root = true;
	for (const char *s = p; *s; s++) {
		if (*s != '/')
			root = false;
		if ((unsigned char)*s < 0x20)
			return false;
	}
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return false;
	return !root;
}

static int parse_one(const char *s, size_t i, struct app_volume *v, struct acre_error *err)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char size[32], field[32];
	snprintf(field, sizeof(field), "volumes[%zu]", i);
	if (!c2)
		return acre_error_set(
			err, EINVAL, "volumes",
			"%s %s: must be NAME:SIZE:PATH, as in \"data:1G:/var/lib/app\"", field, s);
	if (!volume_name_valid(s, (size_t)(c1 - s)))
		return acre_error_set(err, EINVAL, "volumes",
				      "%s %s: the name must be 1 to %d lower-case letters, digits "
				      "or '-', not first or last",
				      field, s, APP_VOLUME_NAME_MAX);
	snprintf(v->name, sizeof(v->name), "%.*s", (int)(c1 - s), s);
	if ((size_t)(c2 - c1 - 1) >= sizeof(size))
		return acre_error_set(err, EINVAL, "volumes", "%s %s: not a size", field, s);
	snprintf(size, sizeof(size), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	int rc = acre_parse_size(size, &v->size, err, field);
	if (rc < 0) {
		if (err)
			snprintf(err->field, sizeof(err->field), "volumes");
		return rc;
	}
	if (v->size == 0)
		return acre_error_set(err, EINVAL, "volumes", "%s %s: the size must be above 0",
				      field, s);
	if (!path_valid(c2 + 1))
		return acre_error_set(err, EINVAL, "volumes",
				      "%s %s: the path must be absolute, not /, without \"..\"",
				      field, s);
	v->path = strdup(c2 + 1);
	return v->path ? 0 : -ENOMEM;
}

int app_volumes_parse(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	if (!j)
		return 0;
	if (!json_is_array(j) || json_array_size(j) > APP_VOLUMES_MAX)
		return acre_error_set(err, EINVAL, "volumes",
				      "volumes: must be an array of at most %d \"NAME:SIZE:PATH\"",
				      APP_VOLUMES_MAX);
	size_t i;
	json_t *a;
	json_array_foreach (j, i, a) {
		const char *s = app_c_string(a);
		struct app_volume *v = &spec->volumes[i];
		if (!s)
			return acre_error_set(err, EINVAL, "volumes",
					      "volumes[%zu]: must be a string", i);
		spec->nvolumes = i + 1;
		int rc = parse_one(s, i, v, err);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < i; k++) {
			if (!strcmp(spec->volumes[k].name, v->name))
				return acre_error_set(err, EINVAL, "volumes",
						      "volumes[%zu]: %s is named twice", i,
						      v->name);
			if (!strcmp(spec->volumes[k].path, v->path))
				return acre_error_set(err, EINVAL, "volumes",
						      "volumes[%zu]: %s is mounted twice", i,
						      v->path);
		}
	}
	return 0;
}

json_t *app_volumes_to_json(const struct app_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->nvolumes; i++) {
		const struct app_volume *v = &spec->volumes[i];
		char size[32];
		_cleanup_free_ char *s = NULL;
		app_size_format(v->size, size, sizeof(size));
		if (asprintf(&s, "%s:%s:%s", v->name, size, v->path) < 0)
			return json_decref(a), NULL;
		json_array_append_new(a, json_string(s));
	}
	return a;
}

void app_volumes_free(struct app_spec *spec)
{
	for (size_t i = 0; i < spec->nvolumes; i++)
		free(spec->volumes[i].path);
	spec->nvolumes = 0;
}
