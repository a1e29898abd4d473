/*
 * A package's artifacts: what each node needs to run it.  A host binary
 * that a Debian package provides (the supervisor reports which it has, so
 * instances go only where they can run), or a file fetched by URI and
 * verified: against a pinned sha256, or against the checksum the project
 * publishes (sha256_from, or sha512_from for projects that publish only
 * SHA-512) where no value could be confirmed to pin.  Every app of an
 * install gets them all (pkg_artifacts_apply): a constraint per binary, a
 * slice artifact per URI.
 */
#include "internal.h"

#define WHERE "package.json"

static bool uri_scheme_ok(const char *uri, bool file_ok)
{
	return !strncmp(uri, "https://", 8) || !strncmp(uri, "http://", 7) ||
	       (file_ok && !strncmp(uri, "file://", 7));
}

static int parse_binary(const json_t *j, const char *where, struct pkg_artifact *a,
			struct acre_error *err)
{
	static const char *const keys[] = {"binary", "deb", NULL};
	int rc = pkg_check_keys(j, where, "", keys, err);
	if (rc == 0)
		rc = pkg_read_string(j, "binary", true, where, &a->binary, err);
	if (rc == 0)
		rc = pkg_read_string(j, "deb", true, where, &a->deb, err);
	if (rc < 0)
		return rc;
	a->kind = PKG_ARTIFACT_BINARY;
	char key[ACRE_ATTR_KEY_MAX + 2];
	snprintf(key, sizeof(key), "bin:%s", a->binary);
	if (a->binary[0] != '/' || strlen(a->binary) > PKG_BINARY_PATH_MAX ||
	    !acre_proto_attr_key_valid(key))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: binary: \"%s\" must be an absolute path of at most "
				      "%d letters, digits and . - _ / (its nodes are found by "
				      "the constraint bin:PATH)",
				      where, a->binary, PKG_BINARY_PATH_MAX);
	return 0;
}

/* extract and path: how the tasks see it. */
static int parse_mount(const json_t *j, const char *where, struct pkg_artifact *a,
		       struct acre_error *err)
{
	const json_t *extract = json_object_get(j, "extract");
	a->extract = -1;
	if (extract && !json_is_boolean(extract))
		return acre_error_set(err, EINVAL, "artifacts", "%s: extract: true or false",
				      where);
	if (extract)
		a->extract = json_is_true(extract);
	int rc = pkg_read_string(j, "path", false, where, &a->path, err);
	if (rc < 0)
		return rc;
	if (!a->path && !(a->path = strdup(PKG_ARTIFACT_PATH)))
		return -ENOMEM;
	if (!acre_mount_path_valid(a->path))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: path: \"%s\" must be an absolute path in the slice, not "
				      "/ nor under /proc, /sys, /dev, /run or /tmp",
				      where, a->path);
	return 0;
}

static int parse_uri(const json_t *j, const char *where, struct pkg_artifact *a,
		     struct acre_error *err)
{
	static const char *const keys[] = {"uri",  "sha256",  "sha256_from", "sha512_from",
					   "path", "extract", NULL};
	_cleanup_free_ char *sha = NULL;
	int rc = pkg_check_keys(j, where, "", keys, err);
	if (rc == 0)
		rc = pkg_read_string(j, "uri", true, where, &a->uri, err);
	if (rc == 0)
		rc = pkg_read_string(j, "sha256", false, where, &sha, err);
	if (rc == 0)
		rc = pkg_read_string(j, "sha256_from", false, where, &a->sha256_from, err);
	if (rc == 0)
		rc = pkg_read_string(j, "sha512_from", false, where, &a->sha512_from, err);
	if (rc < 0)
		return rc;
	a->kind = PKG_ARTIFACT_URI;
	if (!uri_scheme_ok(a->uri, true))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: uri: \"%s\" must be a file://, http:// or https:// URL",
				      where, a->uri);
	if (!!sha + !!a->sha256_from + !!a->sha512_from != 1)
		return acre_error_set(
			err, EINVAL, "artifacts",
			"%s: give one of sha256 (the pinned checksum), sha256_from and "
			"sha512_from (the URL of the project's published checksum file)",
			where);
	if ((rc = parse_mount(j, where, a, err)) < 0)
		return rc;
	if (sha && !pkg_sha256_valid(sha))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: sha256: \"%s\" is not 64 hex digits", where, sha);
	if (sha)
		for (size_t i = 0; i < 64; i++)
			a->sha256[i] = (char)(sha[i] | 0x20); /* lower case: digits are unchanged */
	if (a->sha256_from && !uri_scheme_ok(a->sha256_from, false))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: sha256_from: \"%s\" must be an http(s):// URL", where,
				      a->sha256_from);
	if (a->sha512_from && !uri_scheme_ok(a->sha512_from, false))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: sha512_from: \"%s\" must be an http(s):// URL", where,
				      a->sha512_from);
	return 0;
}

static void artifact_free(struct pkg_artifact *a)
{
	free(a->binary);
	free(a->deb);
	free(a->uri);
	free(a->sha256_from);
	free(a->sha512_from);
	free(a->path);
}

int pkg_artifacts_parse(const json_t *j, struct pkg *pkg, struct acre_error *err)
{
	size_t i, n = j ? json_array_size(j) : 0;
	json_t *v;
	if (j && !json_is_array(j))
		return acre_error_set(err, EINVAL, "artifacts",
				      WHERE ": artifacts: must be an array");
	if (n > PKG_ARTIFACTS_MAX)
		return acre_error_set(err, E2BIG, "artifacts", WHERE ": artifacts: at most %d",
				      PKG_ARTIFACTS_MAX);
	pkg->artifacts = calloc(n + 1, sizeof(*pkg->artifacts));
	if (!pkg->artifacts)
		return -ENOMEM;
	json_array_foreach (j, i, v) {
		char where[64];
		int rc;
		snprintf(where, sizeof(where), WHERE ": artifacts[%zu]", i);
		if (!json_is_object(v))
			rc = acre_error_set(err, EINVAL, "artifacts", "%s: must be an object",
					    where);
		else if (json_object_get(v, "binary"))
			rc = parse_binary(v, where, &pkg->artifacts[i], err);
		else if (json_object_get(v, "uri"))
			rc = parse_uri(v, where, &pkg->artifacts[i], err);
		else
			rc = acre_error_set(err, EINVAL, "artifacts",
					    "%s: must have binary (with deb) or uri (with sha256, "
					    "sha256_from or sha512_from)",
					    where);
		pkg->nartifacts = i + 1;
		if (rc < 0)
			return rc;
		for (size_t k = 0; pkg->artifacts[i].path && k < i; k++)
			if (pkg->artifacts[k].path &&
			    !strcmp(pkg->artifacts[k].path, pkg->artifacts[i].path))
				return acre_error_set(err, EINVAL, "artifacts",
						      "%s: path: %s is taken by artifacts[%zu]: "
						      "give each URI artifact a path of its own",
						      where, pkg->artifacts[i].path, k);
	}
	return 0;
}

/* obj[key] as an array, made when it is missing; NULL when it is something else. */
static json_t *array_in(json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);
	if (!a && json_object_set_new(obj, key, json_array()) == 0)
		a = json_object_get(obj, key);
	return json_is_array(a) ? a : NULL;
}

static bool has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

json_t *pkg_artifact_uri_json(const struct pkg_artifact *a)
{
	const char *key = a->sha256_from   ? "sha256_from"
			  : a->sha512_from ? "sha512_from"
					   : "sha256";
	const char *sum = a->sha256_from   ? a->sha256_from
			  : a->sha512_from ? a->sha512_from
					   : a->sha256;
	json_t *j = json_pack("{s:s,s:s,s:s}", "uri", a->uri, key, sum, "path", a->path);
	if (j && a->extract >= 0)
		json_object_set_new(j, "extract", json_boolean(a->extract));
	return j;
}

int pkg_artifacts_apply(const struct pkg *pkg, json_t *app, struct acre_error *err)
{
	if (!pkg->nartifacts || !json_is_object(app))
		return 0; /* not an app: its parser says what is wrong */
	json_t *placement = json_object_get(app, "placement");
	json_t *slice = json_object_get(app, "slice");
	if (!placement && json_object_set_new(app, "placement", json_object()) == 0)
		placement = json_object_get(app, "placement");
	if (!json_is_object(placement) || !json_is_object(slice))
		return 0;
	json_t *constraints = array_in(placement, "constraints");
	json_t *artifacts = NULL;
	for (size_t i = 0; i < pkg->nartifacts; i++) {
		const struct pkg_artifact *a = &pkg->artifacts[i];
		if (a->kind == PKG_ARTIFACT_BINARY) {
			char c[ACRE_ATTR_KEY_MAX + 16];
			snprintf(c, sizeof(c), "bin:%s==true", a->binary);
			if (!constraints)
				return acre_error_set(err, EINVAL, "placement.constraints",
						      "app: placement.constraints: must be an "
						      "array");
			if (!has_string(constraints, c) &&
			    json_array_append_new(constraints, json_string(c)) < 0)
				return -ENOMEM;
			continue;
		}
		if (!artifacts && !(artifacts = array_in(slice, "artifacts")))
			return acre_error_set(err, EINVAL, "slice.artifacts",
					      "app: slice.artifacts: must be an array");
		if (json_array_append_new(artifacts, pkg_artifact_uri_json(a)) < 0)
			return -ENOMEM;
	}
	/* A template without constraints of its own gets none but the binaries'. */
	if (constraints && !json_array_size(constraints))
		json_object_del(placement, "constraints");
	if (!json_object_size(placement))
		json_object_del(app, "placement");
	return 0;
}

json_t *pkg_artifacts_binaries(const struct pkg *pkg)
{
	json_t *out = NULL;
	for (size_t i = 0; i < pkg->nartifacts; i++) {
		const struct pkg_artifact *a = &pkg->artifacts[i];
		if (a->kind != PKG_ARTIFACT_BINARY)
			continue;
		if (!out && !(out = json_array()))
			return NULL;
		json_array_append_new(out,
				      json_pack("{s:s,s:s}", "binary", a->binary, "deb", a->deb));
	}
	return out;
}

void pkg_artifacts_free(struct pkg *pkg)
{
	for (size_t i = 0; i < pkg->nartifacts; i++)
		artifact_free(&pkg->artifacts[i]);
	free(pkg->artifacts);
	pkg->artifacts = NULL;
	pkg->nartifacts = 0;
}
