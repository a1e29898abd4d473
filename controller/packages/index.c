/*
 * An HTTP(S) repository's index: which packages it has, at which
 * versions, where each version's archive is and the SHA-256 it must have
 * when downloaded.  Checked whole when the repository is added or
 * refreshed, so a bad entry is named before any install reads it.
 */
#include "internal.h"

#define WHERE "index"

static bool url_ok(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7) || !strncmp(s, "file://", 7);
}

/* A relative archive: a path below the index's folder, without ".." or a scheme. */
static bool relative_ok(const char *s)
{
	return *s && *s != '/' && !strstr(s, "..") && !strstr(s, "://");
}

static int check_version(const json_t *v, const char *at, struct acre_error *err)
{
	static const char *const keys[] = {"version", "archive", "sha256", NULL};
	const char *version = acre_json_c_string(json_object_get(v, "version"));
	const char *archive = acre_json_c_string(json_object_get(v, "archive"));
	const char *sha = acre_json_c_string(json_object_get(v, "sha256"));
	int rc;
	if (!json_is_object(v))
		return acre_error_set(err, EINVAL, "versions", WHERE ": %s: must be an object", at);
	if ((rc = pkg_check_keys(v, WHERE, at, keys, err)) < 0)
		return rc;
	if (!version || !pkg_version_valid(version))
		return acre_error_set(err, EINVAL, "version", WHERE ": %sversion: not a version",
				      at);
	if (!archive || !(url_ok(archive) || relative_ok(archive)))
		return acre_error_set(err, EINVAL, "archive",
				      WHERE ": %sarchive: an http(s):// or file:// URL, or a path "
					    "relative to the index",
				      at);
	if (!sha || !pkg_sha256_valid(sha))
		return acre_error_set(err, EINVAL, "sha256", WHERE ": %ssha256: not 64 hex digits",
				      at);
	return 0;
}

static int check_package(const json_t *p, size_t i, struct acre_error *err)
{
	static const char *const keys[] = {"name", "description", "versions", NULL};
	const char *name = acre_json_c_string(json_object_get(p, "name"));
	const json_t *versions = json_object_get(p, "versions"), *v;
	char at[64];
	size_t k;
	int rc;
	snprintf(at, sizeof(at), "packages[%zu].", i);
	if (!json_is_object(p))
		return acre_error_set(err, EINVAL, "packages",
				      WHERE ": packages[%zu]: must be an "
					    "object",
				      i);
	if ((rc = pkg_check_keys(p, WHERE, at, keys, err)) < 0)
		return rc;
	if (!name || !pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name", WHERE ": %sname: not a package name",
				      at);
	if (json_object_get(p, "description") && !json_is_string(json_object_get(p, "description")))
		return acre_error_set(err, EINVAL, "description",
				      WHERE ": %sdescription: must be a string", at);
	if (!json_is_array(versions) || json_array_size(versions) == 0)
		return acre_error_set(err, EINVAL, "versions",
				      WHERE ": %sversions: must be a non-empty array", at);
	json_array_foreach (versions, k, v) {
		char sub[96];
		snprintf(sub, sizeof(sub), "packages[%zu].versions[%zu].", i, k);
		if ((rc = check_version(v, sub, err)) < 0)
			return rc;
		for (size_t j = 0; j < k; j++)
			if (!pkg_version_compare(json_string_value(json_object_get(
							 json_array_get(versions, j), "version")),
						 json_string_value(json_object_get(v, "version"))))
				return acre_error_set(err, EEXIST, "version",
						      WHERE ": %sversion: listed twice", sub);
	}
	return 0;
}

int pkg_index_parse(const json_t *j, struct acre_error *err)
{
	static const char *const keys[] = {"packages", NULL};
	const json_t *pkgs = json_object_get(j, "packages"), *p;
	size_t i;
	int rc;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "", WHERE ": must be a JSON object");
	if ((rc = pkg_check_keys(j, WHERE, "", keys, err)) < 0)
		return rc;
	if (!json_is_array(pkgs))
		return acre_error_set(err, EINVAL, "packages",
				      WHERE ": packages: must be an array");
	json_array_foreach (pkgs, i, p) {
		if ((rc = check_package(p, i, err)) < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(json_string_value(
					    json_object_get(json_array_get(pkgs, k), "name")),
				    json_string_value(json_object_get(p, "name"))))
				return acre_error_set(
					err, EEXIST, "name",
					WHERE ": packages[%zu].name: %s listed twice", i,
					json_string_value(json_object_get(p, "name")));
	}
	return 0;
}

const json_t *pkg_index_find(const json_t *index, const char *name, const char *version)
{
	const json_t *p, *v, *best = NULL;
	size_t i, k;
	json_array_foreach (json_object_get(index, "packages"), i, p) {
		if (strcmp(json_string_value(json_object_get(p, "name")), name))
			continue;
		json_array_foreach (json_object_get(p, "versions"), k, v) {
			const char *have = json_string_value(json_object_get(v, "version"));
			if (version ? !pkg_version_compare(have, version)
				    : !best || pkg_version_compare(
						       have, json_string_value(json_object_get(
								     best, "version"))) > 0)
				best = v;
		}
	}
	return best;
}

char *pkg_index_archive_url(const char *index_url, const char *archive)
{
	char *out = NULL;
	if (url_ok(archive))
		return strdup(archive);
	const char *slash = strrchr(index_url, '/');
	int len = slash ? (int)(slash - index_url) : 0;
	if (asprintf(&out, "%.*s/%s", len, index_url, archive) < 0)
		return NULL;
	return out;
}

static int version_cmp(const void *a, const void *b)
{
	return pkg_version_compare(json_string_value(*(json_t *const *)a),
				   json_string_value(*(json_t *const *)b));
}

json_t *pkg_index_list(const json_t *index)
{
	json_t *out = json_object(), *p, *v;
	size_t i, k;
	json_array_foreach (json_object_get(index, "packages"), i, p) {
		size_t n = json_array_size(json_object_get(p, "versions"));
		json_t **vs = calloc(n ? n : 1, sizeof(*vs));
		if (!out || !vs) {
			free(vs);
			break;
		}
		json_array_foreach (json_object_get(p, "versions"), k, v)
			vs[k] = json_object_get(v, "version");
		qsort(vs, n, sizeof(*vs), version_cmp);
		json_t *arr = json_array();
		for (k = 0; arr && k < n; k++)
			json_array_append(arr, vs[k]);
		free(vs);
		json_object_set_new(out, json_string_value(json_object_get(p, "name")), arr);
	}
	return out;
}

const char *pkg_index_description(const json_t *index, const char *name)
{
	const json_t *p;
	size_t i;
	json_array_foreach (json_object_get(index, "packages"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "name")), name))
			return json_string_value(json_object_get(p, "description"));
	return NULL;
}
