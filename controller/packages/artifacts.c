/*
 * A package's artifacts: what each node needs to run it.  A host binary
 * that a Debian package provides (the supervisor reports which it has, so
 * instances go only where they can run), or a file fetched by URI and
 * verified: against a pinned sha256, or against the checksum the project
 * publishes (sha256_from) where no value could be confirmed to pin.
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
	if (a->binary[0] != '/')
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: binary: \"%s\" must be an "
				      "absolute path",
				      where, a->binary);
	return 0;
}

static int parse_uri(const json_t *j, const char *where, struct pkg_artifact *a,
		     struct acre_error *err)
{
	static const char *const keys[] = {"uri", "sha256", "sha256_from", NULL};
	_cleanup_free_ char *sha = NULL;
	int rc = pkg_check_keys(j, where, "", keys, err);
	if (rc == 0)
		rc = pkg_read_string(j, "uri", true, where, &a->uri, err);
	if (rc == 0)
		rc = pkg_read_string(j, "sha256", false, where, &sha, err);
	if (rc == 0)
		rc = pkg_read_string(j, "sha256_from", false, where, &a->sha256_from, err);
	if (rc < 0)
		return rc;
	a->kind = PKG_ARTIFACT_URI;
	if (!uri_scheme_ok(a->uri, true))
		return acre_error_set(err, EINVAL, "artifacts",
				      "%s: uri: \"%s\" must be a file://, http:// or https:// URL",
				      where, a->uri);
	if (!sha == !a->sha256_from)
		return acre_error_set(
			err, EINVAL, "artifacts",
			"%s: give one of sha256 (the pinned checksum) and sha256_from "
			"(the URL of the project's published checksum file)",
			where);
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
	return 0;
}

static void artifact_free(struct pkg_artifact *a)
{
	free(a->binary);
	free(a->deb);
	free(a->uri);
	free(a->sha256_from);
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
					    "%s: must have binary (with deb) or uri (with sha256 "
					    "or sha256_from)",
					    where);
		pkg->nartifacts = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

void pkg_artifacts_free(struct pkg *pkg)
{
	for (size_t i = 0; i < pkg->nartifacts; i++)
		artifact_free(&pkg->artifacts[i]);
	free(pkg->artifacts);
	pkg->artifacts = NULL;
	pkg->nartifacts = 0;
}
