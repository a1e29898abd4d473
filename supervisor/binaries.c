/*
 * Which of a list of host binaries this node has.  The controller keeps
 * the binary paths that slices and apps ask for and sends them here at
 * registration and whenever the list grows (binaries.check); the node
 * answers with those present, and the pool records them as the node's
 * attributes bin:PATH=true.  A path is present when it names a regular
 * file (a symlink, as /usr/bin/java through the alternatives, is followed)
 * with an execute bit that root may run: what exec(2) in a slice that
 * sees the host's root would find.  Nothing is scanned ahead of time: a
 * node has thousands of executables and the pool cares about a handful.
 */
#include "binaries.h"

#include <sys/stat.h>

static bool path_valid(const char *p)
{
	size_t n = strlen(p);
	if (p[0] != '/' || n >= 4096)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
	       access(path, X_OK) == 0;
}

json_t *binaries_check(const json_t *req, struct acre_error *err)
{
	const json_t *paths = json_object_get(req, "paths");
	if (!json_is_array(paths) || json_array_size(paths) > BINARIES_CHECK_MAX) {
		acre_error_set(err, EINVAL, "paths",
			       "paths: required, an array of at most %d absolute paths",
			       BINARIES_CHECK_MAX);
		return NULL;
	}
	_cleanup_json_ json_t *present = json_array(), *absent = json_array();
	if (!present || !absent) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
		return NULL;
	}
	size_t i;
	const json_t *v;
	json_array_foreach (paths, i, v) {
		const char *p = acre_json_c_string(v);
		if (!p || !path_valid(p)) {
			acre_error_set(err, EINVAL, "paths", "paths[%zu]: an absolute path", i);
			return NULL;
		}
		json_array_append_new(executable(p) ? present : absent, json_string(p));
	}
	return json_pack("{s:O,s:O}", "present", present, "absent", absent);
}
