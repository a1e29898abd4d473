/*
 * Persistent volumes of the slice spec: "volumes", an array of
 *
 *   {"name": "data", "size": "1G", "path": "/var/lib/app"}
 *
 * (the CLI's --volume data:1G:/var/lib/app).  A volume is the node's, by
 * its name: made at the first slice that names it, kept when the slice
 * ends or is removed, so the next slice that names it (a replacement of an
 * app's instance) finds its data; removed only when asked (`acre volume
 * rm`).  Its size is a hard limit (supervisor/volume.c says how).
 */
#include "common.h"

#include <ctype.h>

#define VOLUME_MIN_SIZE (16ULL << 20) /* room for the filesystem's own metadata */
#define VOLUME_MAX_SIZE (16ULL << 40)

bool acre_volume_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ACRE_VOLUME_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool acre_mount_path_valid(const char *p)
{
	static const char *const own[] = {"/proc", "/sys", "/dev", "/run", "/tmp"};
	if (p[0] != '/' || strlen(p) < 2 || strlen(p) >= 1024 || p[strlen(p) - 1] == '/' ||
	    strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return false;
	const char *last = strrchr(p, '/');
	if (!strcmp(last, "/.") || !strcmp(last, "/.."))
		return false;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(own); i++) {
		size_t n = strlen(own[i]);
		if (!strncmp(p, own[i], n) && (p[n] == '\0' || p[n] == '/'))
			return false;
	}
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static int parse_one(const json_t *j, size_t i, struct acre_volume *v, struct acre_error *err)
{
	char f[64];
	snprintf(f, sizeof(f), "volumes[%zu]", i);
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an object with name, size, path",
				      f);
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)j, key, val)
		if (strcmp(key, "name") && strcmp(key, "size") && strcmp(key, "path"))
			return acre_error_set(err, EINVAL, f, "%s.%s: unknown field", f, key);
	const char *name = json_string_value(json_object_get(j, "name"));
	if (!name || !acre_volume_name_valid(name))
		return acre_error_set(err, EINVAL, f,
				      "%s.name: 1 to %d letters, digits, '-', '_' or '.', starting "
				      "with a letter or digit",
				      f, ACRE_VOLUME_NAME_MAX);
	snprintf(v->name, sizeof(v->name), "%s", name);
	json_t *size = json_object_get(j, "size");
	char field[80];
	snprintf(field, sizeof(field), "%s.size", f);
	if (json_is_integer(size) && json_integer_value(size) > 0)
		v->size = (uint64_t)json_integer_value(size);
	else if (!json_is_string(size) ||
		 acre_parse_size(json_string_value(size), &v->size, err, field) < 0)
		return err->message[0] ? -EINVAL
				       : acre_error_set(err, EINVAL, field,
							"%s: required, a size (1G, 512M)", field);
	if (v->size < VOLUME_MIN_SIZE || v->size > VOLUME_MAX_SIZE)
		return acre_error_set(err, EINVAL, field, "%s: from 16M to 16T", field);
	const char *path = json_string_value(json_object_get(j, "path"));
	if (!path || !acre_mount_path_valid(path))
		return acre_error_set(err, EINVAL, f,
				      "%s.path: an absolute path in the slice, not / nor under "
				      "/proc, /sys, /dev, /run or /tmp (which are the slice's own)",
				      f);
	v->path = strdup(path);
	return v->path ? 0 : -ENOMEM;
}

int acre_volumes_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > ACRE_VOLUMES_MAX)
		return acre_error_set(err, EINVAL, "volumes", "volumes: an array of at most %d",
				      ACRE_VOLUMES_MAX);
	size_t n = json_array_size(j);
	if (n == 0)
		return 0;
	spec->volumes = calloc(n, sizeof(*spec->volumes));
	if (!spec->volumes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_one(json_array_get(j, i), i, &spec->volumes[i], err);
		spec->nvolumes = i + 1; /* so that a failure frees what was made */
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < i; k++) {
			char f[64];
			snprintf(f, sizeof(f), "volumes[%zu]", i);
			if (!strcmp(spec->volumes[k].name, spec->volumes[i].name))
				return acre_error_set(err, EINVAL, f, "%s.name: %s named twice", f,
						      spec->volumes[i].name);
			if (!strcmp(spec->volumes[k].path, spec->volumes[i].path))
				return acre_error_set(err, EINVAL, f, "%s.path: %s mounted twice",
						      f, spec->volumes[i].path);
		}
	}
	return 0;
}

int acre_volume_parse(const char *s, struct acre_volume *out, struct acre_error *err)
{
	/* NAME:SIZE:PATH, the path last: it is the one part that may hold a ':'. */
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		return acre_error_set(err, EINVAL, "--volume",
				      "--volume %s: NAME:SIZE:PATH, as data:1G:/var/lib/app", s);
	char name[ACRE_VOLUME_NAME_MAX + 2], size[32];
	snprintf(name, sizeof(name), "%.*s", (int)(c1 - s), s);
	snprintf(size, sizeof(size), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	json_t *j = json_pack("{s:s,s:s,s:s}", "name", name, "size", size, "path", c2 + 1);
	if (!j)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	memset(out, 0, sizeof(*out));
	int rc = parse_one(j, 0, out, err);
	json_decref(j);
	if (rc < 0) {
		free(out->path);
		out->path = NULL;
		char msg[sizeof(err->message)];
		snprintf(msg, sizeof(msg), "%s", err->message);
		/* "volumes[0].size: ..." reads as the flag's. */
		const char *rest = strchr(msg, '.');
		acre_error_set(err, EINVAL, "--volume", "--volume %s: %s", s,
			       rest ? rest + 1 : msg);
	}
	return rc;
}

json_t *acre_volumes_to_json(const struct acre_slice_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->nvolumes; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:s}", "name", spec->volumes[i].name,
						   "size", (json_int_t)spec->volumes[i].size,
						   "path", spec->volumes[i].path));
	return a;
}

void acre_volumes_free(struct acre_slice_spec *spec)
{
	for (size_t i = 0; i < spec->nvolumes; i++)
		free(spec->volumes[i].path);
	free(spec->volumes);
	spec->volumes = NULL;
	spec->nvolumes = 0;
}
