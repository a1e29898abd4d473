/*
 * A bundle: packages and their URI artifacts in one tar file, for a pool
 * without a network.  Its layout:
 *
 *   index.json                    an index (index.c), each archive
 *                                 "archives/NAME-VERSION.tar.gz"
 *   archives/NAME-VERSION.tar.gz  NAME/VERSION/ as in a repository directory
 *   artifacts/SHA256              each URI artifact's file, named by its SHA-256
 *
 * Written from packages the controller has (staged in a directory, then
 * tarred) and read back whole: every archive and every artifact is
 * verified against its sum before the bundle is taken, so a tampered one
 * is refused naming what does not match.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/file.h"

static int copy_why(struct acre_error *err, int rc, const char *fmt, const char *arg)
{
	char why[sizeof(err->message)];
	snprintf(why, sizeof(why), "%s", err->message);
	return acre_error_set(err, rc < 0 ? -rc : rc, err->field, fmt, arg, why);
}

int pkg_bundle_stage(const char *staging, struct acre_error *err)
{
	char path[4096];
	json_t *index = json_pack("{s:[]}", "packages");
	snprintf(path, sizeof(path), "%s/archives", staging);
	int rc = acre_mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/artifacts", staging);
	if (rc == 0)
		rc = acre_mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/index.json", staging);
	if (rc == 0 && index)
		rc = json_dump_file(index, path, JSON_INDENT(1)) < 0 ? -EIO : 0;
	json_decref(index);
	return rc < 0 ? acre_error_set(err, -rc, "", "staging a bundle in %s: %s", staging,
				       strerror(-rc))
		      : 0;
}

/* The URI artifact's file, fetched into artifacts/SHA256 and verified. */
static int add_artifact(const char *staging, const struct pkg *pkg, const struct pkg_artifact *a,
			struct acre_error *err)
{
	char sha[65], path[4096], tmp[4096];
	snprintf(sha, sizeof(sha), "%s", a->sha256);
	/* Its file goes by its SHA-256, which a SHA-512 list does not give before the download. */
	if (!sha[0] && !a->sha256_from)
		return acre_error_set(err, ENOTSUP, "artifacts",
				      "package %s: artifact %s: named by sha512_from, which a "
				      "bundle cannot carry yet (only a sha256 or sha256_from)",
				      pkg->name, a->uri);
	if (!sha[0]) { /* sha256_from: the project's checksum file names it */
		snprintf(tmp, sizeof(tmp), "%s/artifacts/.sums", staging);
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int rc = pkg_get_url(a->sha256_from, tmp, err);
		if (rc == 0 && acre_file_read(AT_FDCWD, tmp, &text, &len, 1 << 20) < 0)
			rc = acre_error_set(err, EIO, "", "%s: unreadable", a->sha256_from);
		unlink(tmp);
		if (rc == 0)
			rc = pkg_sha256_from_text(text, a->uri, sha, err);
		if (rc < 0)
			return copy_why(err, rc, "package %s: sha256_from: %s", pkg->name);
	}
	snprintf(path, sizeof(path), "%s/artifacts/%s", staging, sha);
	if (access(path, F_OK) == 0)
		return 0; /* two packages, one file */
	snprintf(tmp, sizeof(tmp), "%s/artifacts/.new", staging);
	int rc = pkg_get_url(a->uri, tmp, err);
	if (rc == 0)
		rc = pkg_sha256_verify(tmp, sha, err);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = acre_error_set(err, errno, "", "%s: %s", path, strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		return copy_why(err, rc, "package %s: artifact: %s", pkg->name);
	}
	return 0;
}

int pkg_bundle_add(const char *staging, const char *repo_dir, const struct pkg *pkg,
		   struct acre_error *err)
{
	char index_path[4096], archive[PKG_NAME_MAX + PKG_VERSION_MAX + 32], path[4096],
		member[PKG_NAME_MAX + PKG_VERSION_MAX + 2], sha[65];
	snprintf(index_path, sizeof(index_path), "%s/index.json", staging);
	json_error_t je;
	_cleanup_json_ json_t *index = json_load_file(index_path, 0, &je);
	if (!index)
		return acre_error_set(err, EIO, "", "%s: %s", index_path, je.text);
	if (pkg_index_find(index, pkg->name, pkg->version))
		return 0; /* asked twice */
	snprintf(archive, sizeof(archive), "archives/%s-%s.tar.gz", pkg->name, pkg->version);
	snprintf(path, sizeof(path), "%s/%s", staging, archive);
	snprintf(member, sizeof(member), "%s/%s", pkg->name, pkg->version);
	const char *const args[] = {"-c",     "-z",	   "-f",	path,	"-C",
				    repo_dir, "--owner=0", "--group=0", member, NULL};
	int rc = pkg_tar(args, err);
	if (rc == 0)
		rc = pkg_sha256_file(path, sha, err);
	if (rc < 0)
		return copy_why(err, rc, "package %s: %s", pkg->name);
	for (size_t i = 0; i < pkg->nartifacts; i++)
		if (pkg->artifacts[i].kind == PKG_ARTIFACT_URI &&
		    (rc = add_artifact(staging, pkg, &pkg->artifacts[i], err)) < 0)
			return rc;
	json_t *entry = json_pack("{s:s,s:s,s:s}", "version", pkg->version, "archive", archive,
				  "sha256", sha);
	json_t *p;
	size_t i;
	bool listed = false;
	json_array_foreach (json_object_get(index, "packages"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "name")), pkg->name)) {
			json_array_append_new(json_object_get(p, "versions"), entry);
			listed = true;
		}
	if (!listed)
		json_array_append_new(json_object_get(index, "packages"),
				      json_pack("{s:s,s:s,s:[o]}", "name", pkg->name, "description",
						pkg->description ? pkg->description : "",
						"versions", entry));
	if (json_dump_file(index, index_path, JSON_INDENT(1)) < 0)
		return acre_error_set(err, EIO, "", "%s: cannot write", index_path);
	return 0;
}

int pkg_bundle_pack(const char *staging, const char *out, struct acre_error *err)
{
	const char *const args[] = {"-c",	"-f",	     out,	  "-C",
				    staging,	"--owner=0", "--group=0", "index.json",
				    "archives", "artifacts", NULL};
	return pkg_tar(args, err);
}

/* Every file of artifacts/ is named by its SHA-256 and has it. */
static int verify_artifacts(const char *dir, struct acre_error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/artifacts", dir);
	_cleanup_dir_ DIR *d = opendir(path);
	struct dirent *e;
	if (!d)
		return errno == ENOENT ? 0
				       : acre_error_set(err, errno, "", "bundle: artifacts: %s",
							strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!pkg_sha256_valid(e->d_name))
			return acre_error_set(err, EINVAL, "artifacts",
					      "bundle: artifacts/%s: not named by a SHA-256",
					      e->d_name);
		snprintf(path, sizeof(path), "%s/artifacts/%s", dir, e->d_name);
		char got[65];
		int rc = pkg_sha256_file(path, got, err);
		if (rc < 0)
			return rc;
		if (strcmp(got, e->d_name))
			return acre_error_set(err, EBADMSG, "artifacts",
					      "bundle: artifact %s: checksum mismatch: expected "
					      "sha256 %s, got %s",
					      e->d_name, e->d_name, got);
	}
	return 0;
}

/* Every archive the index lists is in the bundle, with the sum the index gives. */
static int verify_archives(const char *dir, const json_t *index, struct acre_error *err)
{
	const json_t *p, *v;
	size_t i, k;
	json_array_foreach (json_object_get(index, "packages"), i, p)
		json_array_foreach (json_object_get(p, "versions"), k, v) {
			const char *name = json_string_value(json_object_get(p, "name"));
			const char *version = json_string_value(json_object_get(v, "version"));
			const char *archive = json_string_value(json_object_get(v, "archive"));
			const char *want = json_string_value(json_object_get(v, "sha256"));
			char path[4096], got[65];
			if (strncmp(archive, "archives/", 9) || strchr(archive + 9, '/'))
				return acre_error_set(err, EINVAL, "archive",
						      "bundle: package %s %s: archive %s is not "
						      "under archives/",
						      name, version, archive);
			snprintf(path, sizeof(path), "%s/%s", dir, archive);
			int rc = pkg_sha256_file(path, got, err);
			if (rc < 0)
				return copy_why(err, rc, "bundle: package %s: %s", name);
			if (strcasecmp(got, want))
				return acre_error_set(err, EBADMSG, "sha256",
						      "bundle: package %s %s: checksum mismatch: "
						      "expected sha256 %s, got %s",
						      name, version, want, got);
		}
	return 0;
}

int pkg_bundle_verify(const char *dir, json_t **index_out, struct acre_error *err)
{
	char path[4096];
	json_error_t je;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	_cleanup_json_ json_t *index = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!index)
		return acre_error_set(err, EINVAL, "", "bundle: index.json: %s", je.text);
	int rc = pkg_index_parse(index, err);
	if (rc < 0)
		return copy_why(err, rc, "bundle: %s%s", "");
	if ((rc = verify_archives(dir, index, err)) < 0 || (rc = verify_artifacts(dir, err)) < 0)
		return rc;
	if (index_out)
		*index_out = TAKE_PTR(index);
	return 0;
}

int pkg_bundle_unpack(const char *file, const char *into, json_t **index, struct acre_error *err)
{
	struct stat st;
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return acre_error_set(err, errno ? errno : EINVAL, "bundle",
				      "bundle %s: not a file", file);
	if (acre_mkdir_p(into, 0755) < 0)
		return acre_error_set(err, errno, "", "%s: %s", into, strerror(errno));
	const char *const args[] = {
		"-x", "-f", file, "-C", into, "--no-same-owner", "--no-same-permissions", NULL};
	int rc = pkg_tar(args, err);
	if (rc < 0)
		return copy_why(err, rc, "bundle %s: %s", file);
	return pkg_bundle_verify(into, index, err);
}
