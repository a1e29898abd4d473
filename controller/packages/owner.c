/*
 * The install's label on what it made.  Removing an install removes
 * exactly the objects that carry acre.install=NAME, nothing else, so
 * ownership is read from the objects themselves, never from a list kept
 * beside them that could drift.
 */
#include "internal.h"

const char *pkg_owner(const json_t *object)
{
	return json_string_value(
		json_object_get(json_object_get(object, "labels"), PKG_LABEL_INSTALL));
}

json_t *pkg_owned(const json_t *objects, const char *install)
{
	json_t *out = json_array(), *o;
	size_t i;
	if (!out)
		return NULL;
	json_array_foreach (objects, i, o) {
		const char *owner = pkg_owner(o);
		if (owner && !strcmp(owner, install) && json_array_append(out, o) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
