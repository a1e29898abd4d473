/*
 * A repository that is a directory (the shipped packages/ and any other):
 * one folder per package, one folder per version in it,
 * REPO/NAME/VERSION/package.json, so that several versions of a package
 * sit side by side and an upgrade finds the one it moves to.
 */
#include <dirent.h>

#include "internal.h"

static int version_cmp(const void *a, const void *b)
{
	return pkg_version_compare(*(char *const *)a, *(char *const *)b);
}

/* The version folders of REPO/NAME, oldest first; an empty list when there are none. */
static int versions_of(const char *repo, const char *name, char ***out)
{
	char path[4096];
	struct dirent *e;
	snprintf(path, sizeof(path), "%s/%s", repo, name);
	_cleanup_dir_ DIR *d = opendir(path);
	if (!d)
		return -errno;
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while ((e = readdir(d)))
		if (pkg_version_valid(e->d_name) && acre_strv_push(&v, e->d_name) < 0)
			return -ENOMEM;
	qsort(v, acre_strv_length(v), sizeof(char *), version_cmp);
	*out = TAKE_PTR(v);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pkg_repo_dir_list(const char *repo, json_t **out, struct acre_error *err)
{
	_cleanup_dir_ DIR *d = opendir(repo);
	struct dirent *e;
	if (!d)
		return acre_error_set(err, errno, "", "repository %s: %s", repo, strerror(errno));
	_cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
	_cleanup_json_ json_t *o = json_object();
	if (!names || !o)
		return -ENOMEM;
	while ((e = readdir(d)))
		if (pkg_name_valid(e->d_name) && acre_strv_push(&names, e->d_name) < 0)
			return -ENOMEM;
	qsort(names, acre_strv_length(names), sizeof(char *), name_cmp);
	for (char **n = names; *n; n++) {
		_cleanup_strv_free_ char **v = NULL;
		if (versions_of(repo, *n, &v) < 0 || !v[0])
			continue;
		json_t *a = json_array();
		for (char **x = v; *x; x++)
			json_array_append_new(a, json_string(*x));
		json_object_set_new(o, *n, a);
	}
	*out = TAKE_PTR(o);
	return 0;
}

int pkg_repo_dir_load(const char *repo, const char *name, const char *version, struct pkg *pkg,
		      struct acre_error *err)
{
	_cleanup_strv_free_ char **v = NULL;
	const char *pick = NULL;
	char path[4096];
	memset(pkg, 0, sizeof(*pkg));
	if (!pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name", "%s: not a package name", name);
	if (version && !pkg_version_valid(version))
		return acre_error_set(err, EINVAL, "version", "%s: not a version", version);
	if (versions_of(repo, name, &v) < 0 || !v[0])
		return acre_error_set(err, ENOENT, "name", "no package %s in %s", name, repo);
	for (char **x = v; *x; x++)
		if (!version || pkg_version_compare(*x, version) == 0)
			pick = *x; /* the last: the newest */
	if (!pick)
		return acre_error_set(err, ENOENT, "version", "%s has no version %s in %s", name,
				      version, repo);
	snprintf(path, sizeof(path), "%s/%s/%s", repo, name, pick);
	int rc = pkg_load(path, pkg, err);
	if (rc < 0)
		return rc;
	if (strcmp(pkg->name, name) || strcmp(pkg->version, pick)) {
		rc = acre_error_set(err, EINVAL, "",
				    "%s: package.json says %s %s, its folder %s %s", path,
				    pkg->name, pkg->version, name, pick);
		pkg_free(pkg);
	}
	return rc;
}
