/*
 * Persistent volumes of an app: the slice spec's "volumes" ({"name",
 * "size", "path"}, read by its own parser, common/spec_volumes.c), given
 * to each instance as a volume of its own.  A node keeps a volume by its
 * name, so instance N's is named APP-N-NAME: a replacement of instance N
 * on the same node finds its data, and no two instances share one.
 */
#include "internal.h"

/* The widest index an instance's volume is named with (stand-ins go past the wanted ones). */
#define WIDEST_INDEX "1999999"

int app_volume_name(const struct app_spec *spec, size_t i, unsigned index, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%u-%s", spec->name, index, spec->volumes[i].name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int app_volumes_parse(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	struct acre_slice_spec held = {0};
	int rc = acre_volumes_parse_spec(j, &held, err);
	spec->volumes = held.volumes;
	spec->nvolumes = held.nvolumes;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < spec->nvolumes; i++) {
		size_t len = strlen(spec->name) + strlen(WIDEST_INDEX) +
			     strlen(spec->volumes[i].name) + 2;
		if (len > ACRE_VOLUME_NAME_MAX)
			return acre_error_set(err, EINVAL, "volumes",
					      "volumes[%zu].name: each instance's volume is named "
					      "%s-N-%s, which must fit in %d characters",
					      i, spec->name, spec->volumes[i].name,
					      ACRE_VOLUME_NAME_MAX);
	}
	return 0;
}

json_t *app_volumes_to_json(const struct app_spec *spec)
{
	const struct acre_slice_spec held = {.volumes = spec->volumes, .nvolumes = spec->nvolumes};
	return acre_volumes_to_json(&held);
}

int app_instance_volumes(const struct app_spec *spec, unsigned index, json_t **out,
			 struct acre_error *err)
{
	_cleanup_json_ json_t *a = app_volumes_to_json(spec);
	char name[ACRE_VOLUME_NAME_MAX + 1];
	if (!a)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < spec->nvolumes; i++) {
		if (app_volume_name(spec, i, index, name, sizeof(name)) < 0)
			return acre_error_set(err, ENAMETOOLONG, "volumes",
					      "volumes[%zu]: instance %u's volume name is too long",
					      i, index);
		json_object_set_new(json_array_get(a, i), "name", json_string(name));
	}
	*out = TAKE_PTR(a);
	return 0;
}

void app_volumes_free(struct app_spec *spec)
{
	struct acre_slice_spec held = {.volumes = spec->volumes, .nvolumes = spec->nvolumes};
	acre_volumes_free(&held);
	spec->volumes = NULL;
	spec->nvolumes = 0;
}
