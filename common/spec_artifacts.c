/*
 * Artifacts of the slice spec: "artifacts", an array of
 *
 *   {"uri": "https://example.org/redis.tgz", "sha256": "<64 hex>",
 *    "extract": true, "path": "/opt/redis"}
 *
 * The node fetches each before the launch into its cache, keyed by the
 * checksum, so a checksum is required: it is what makes a cached copy
 * trustworthy and shareable between slices.  In place of "sha256", a
 * project that publishes its sums may be named instead of pinned:
 * "sha256_from" or "sha512_from", the URL of its checksum file (SHA256SUMS,
 * NAME.sha512), which the node fetches and reads for the URI's file name
 * (common/checksum_file.c) before it verifies the download.  "extract" defaults to true
 * for a name that says tar (.tar, .tar.gz, .tgz, .tar.xz, .txz, .tar.bz2,
 * .tbz2), false otherwise; a file not extracted appears under its own
 * name in the directory at path.
 */
#include "common.h"

#include <ctype.h>

static const char *const schemes[] = {"file:///", "http://", "https://"};
static const char *const tar_suffixes[] = {".tar", ".tar.gz",  ".tgz", ".tar.xz",
					   ".txz", ".tar.bz2", ".tbz2"};

static bool has_scheme(const char *uri)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(schemes); i++)
		if (!strncmp(uri, schemes[i], strlen(schemes[i])))
			return true;
	return false;
}

/* The part of the URI that names the file: up to a '?' or '#'. */
static size_t path_end(const char *uri)
{
	return strcspn(uri, "?#");
}

static bool looks_like_tar(const char *uri)
{
	size_t n = path_end(uri);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(tar_suffixes); i++) {
		size_t k = strlen(tar_suffixes[i]);
		if (n > k && !strncasecmp(uri + n - k, tar_suffixes[i], k))
			return true;
	}
	return false;
}

const char *acre_artifact_file_name(const struct acre_artifact *a, char *buf, size_t len)
{
	size_t n = path_end(a->uri);
	size_t start = n;
	while (start > 0 && a->uri[start - 1] != '/')
		start--;
	if (start == n) /* a URI ending in '/': a name all the same */
		snprintf(buf, len, "artifact");
	else
		snprintf(buf, len, "%.*s", (int)(n - start), a->uri + start);
	return buf;
}

static bool uri_valid(const char *uri)
{
	size_t n = strlen(uri);
	if (n >= ACRE_ARTIFACT_URI_MAX || !has_scheme(uri))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 || uri[i] == 0x7f)
			return false;
	/* A name to give the file: not empty, nor "." or "..". */
	char name[256];
	struct acre_artifact a = {.uri = (char *)uri};
	acre_artifact_file_name(&a, name, sizeof(name));
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	/* A host path: absolute, past "file://", and no ".." part to climb out of what it names. */
	if (!strncmp(uri, "file://", 7) && (strstr(uri, "/../") || strstr(uri, "/./")))
		return false;
	return true;
}

static int parse_sha256(const json_t *v, char out[ACRE_SHA256_HEX_LEN + 1])
{
	const char *s = acre_json_c_string(v);
	if (!s || strlen(s) != ACRE_SHA256_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < ACRE_SHA256_HEX_LEN; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[ACRE_SHA256_HEX_LEN] = '\0';
	return 0;
}

/* sha256 (pinned), or sha256_from / sha512_from (the project's checksum file): one of them. */
static int parse_sum(const json_t *j, const char *f, struct acre_artifact *a,
		     struct acre_error *err)
{
	const json_t *pinned = json_object_get(j, "sha256");
	const json_t *from256 = json_object_get(j, "sha256_from");
	const json_t *from512 = json_object_get(j, "sha512_from");
	if (!!pinned + !!from256 + !!from512 != 1)
		return acre_error_set(err, EINVAL, f,
				      "%s.sha256: required, the file's SHA-256 as 64 hex digits "
				      "(or, instead, sha256_from or sha512_from: the URL of the "
				      "project's checksum file)",
				      f);
	if (pinned) {
		if (parse_sha256(pinned, a->sha256) < 0)
			return acre_error_set(
				err, EINVAL, f,
				"%s.sha256: required, the file's SHA-256 as 64 hex digits", f);
		return 0;
	}
	const char *from = acre_json_c_string(from256 ? from256 : from512);
	const char *key = from256 ? "sha256_from" : "sha512_from";
	if (!from || !uri_valid(from))
		return acre_error_set(err, EINVAL, f,
				      "%s.%s: a file:///PATH, http:// or https:// URI of the "
				      "checksum file, of under %d characters, with no blanks",
				      f, key, ACRE_ARTIFACT_URI_MAX);
	a->sha512 = !from256;
	a->sum_from = strdup(from);
	return a->sum_from ? 0 : -ENOMEM;
}

static int parse_one(const json_t *j, size_t i, struct acre_artifact *a, struct acre_error *err)
{
	char f[64];
	snprintf(f, sizeof(f), "artifacts[%zu]", i);
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, f,
				      "%s: must be an object with uri, sha256, path (and extract)",
				      f);
	const char *key;
	json_t *val;
	json_object_foreach ((json_t *)j, key, val)
		if (strcmp(key, "uri") && strcmp(key, "sha256") && strcmp(key, "sha256_from") &&
		    strcmp(key, "sha512_from") && strcmp(key, "extract") && strcmp(key, "path"))
			return acre_error_set(err, EINVAL, f, "%s.%s: unknown field", f, key);
	const char *uri = acre_json_c_string(json_object_get(j, "uri"));
	if (!uri || !uri_valid(uri))
		return acre_error_set(err, EINVAL, f,
				      "%s.uri: required, a file:///PATH, http:// or https:// URI "
				      "of under %d characters naming a file, with no blanks",
				      f, ACRE_ARTIFACT_URI_MAX);
	int rc = parse_sum(j, f, a, err);
	if (rc < 0)
		return rc;
	json_t *extract = json_object_get(j, "extract");
	if (extract && !json_is_boolean(extract) && !json_is_null(extract))
		return acre_error_set(err, EINVAL, f, "%s.extract: true or false", f);
	a->extract = json_is_boolean(extract) ? json_is_true(extract) : looks_like_tar(uri);
	const char *path = acre_json_c_string(json_object_get(j, "path"));
	if (!path || !acre_mount_path_valid(path))
		return acre_error_set(err, EINVAL, f,
				      "%s.path: required, an absolute path in the slice, not / nor "
				      "under /proc, /sys, /dev, /run or /tmp (which are the "
				      "slice's own)",
				      f);
	a->uri = strdup(uri);
	a->path = strdup(path);
	return a->uri && a->path ? 0 : -ENOMEM;
}

/* A path taken already, by a volume or an earlier artifact. */
static bool path_taken(const struct acre_slice_spec *spec, size_t i)
{
	const char *p = spec->artifacts[i].path;
	for (size_t k = 0; k < spec->nvolumes; k++)
		if (!strcmp(spec->volumes[k].path, p))
			return true;
	for (size_t k = 0; k < i; k++)
		if (!strcmp(spec->artifacts[k].path, p))
			return true;
	return false;
}

int acre_artifacts_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > ACRE_ARTIFACTS_MAX)
		return acre_error_set(err, EINVAL, "artifacts", "artifacts: an array of at most %d",
				      ACRE_ARTIFACTS_MAX);
	size_t n = json_array_size(j);
	if (n == 0)
		return 0;
	spec->artifacts = calloc(n, sizeof(*spec->artifacts));
	if (!spec->artifacts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_one(json_array_get(j, i), i, &spec->artifacts[i], err);
		spec->nartifacts = i + 1; /* so that a failure frees what was made */
		if (rc < 0)
			return rc;
		if (path_taken(spec, i)) {
			char f[64];
			snprintf(f, sizeof(f), "artifacts[%zu]", i);
			return acre_error_set(err, EINVAL, f,
					      "%s.path: %s is taken by a volume or another "
					      "artifact",
					      f, spec->artifacts[i].path);
		}
	}
	return 0;
}

json_t *acre_artifacts_to_json(const struct acre_slice_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->nartifacts; i++) {
		const struct acre_artifact *x = &spec->artifacts[i];
		const char *key = !x->sum_from ? "sha256"
				  : x->sha512  ? "sha512_from"
					       : "sha256_from";
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:s}", "uri", x->uri, key,
						   x->sum_from ? x->sum_from : x->sha256, "extract",
						   x->extract, "path", x->path));
	}
	return a;
}

void acre_artifacts_free(struct acre_slice_spec *spec)
{
	for (size_t i = 0; i < spec->nartifacts; i++) {
		free(spec->artifacts[i].uri);
		free(spec->artifacts[i].sum_from);
		free(spec->artifacts[i].path);
	}
	free(spec->artifacts);
	spec->artifacts = NULL;
	spec->nartifacts = 0;
}
