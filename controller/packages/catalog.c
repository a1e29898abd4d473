/*
 * The catalog: the packages the controller knows, from its repositories —
 * the shipped directory ("acre", --packages-dir) first, then those added
 * with `acre pkg repo add` (kept in the store; repos.c).  A repository is
 * of a kind, and every read goes through kind_list/kind_load: "dir" reads
 * a repository directory (repo_dir.c); "http" and "bundle" read their
 * index, and a version's archive once fetched, verified and unpacked into
 * the cache (repo_fetch.c), which is a repository directory too.  The
 * first repository that has a package at a version gives it.
 * Where the nodes fetch a package's URI artifacts is asked of its
 * repository too (catalog_artifact_uri), so that a kind that mirrors them
 * (a bundle, served by the controller) gives its own copies.
 */
#include "runtime.h"

#include <strings.h>
#include <sys/stat.h>

/* {"NAME": ["VERSION", ...]} of one repository; an empty object when it cannot be read. */
static json_t *kind_list(const struct pkg_repo *r)
{
	json_t *out = NULL;
	struct acre_error err = {0};
	if (!strcmp(r->kind, "dir") && pkg_repo_dir_list(r->dir, &out, &err) == 0)
		return out;
	if (r->index)
		return pkg_index_list(r->index);
	return json_object();
}

/* The URL an http or bundle repository's archives are resolved against. */
static char *index_url(const struct installs *s, const struct pkg_repo *r)
{
	char path[4096];
	if (!strcmp(r->kind, "http"))
		return strdup(r->dir);
	if (repo_path(s, path, sizeof(path), "%s/bundle/index.json", r->name) < 0)
		return NULL;
	char *out = NULL;
	return asprintf(&out, "file://%s", path) < 0 ? NULL : out;
}

/* Starts fetching the archive of entry into cache, or takes the result of the fetch that ended. */
static int fetch_archive(struct installs *s, const struct pkg_repo *r, const char *name,
			 const json_t *entry, const char *cache, struct acre_error *err)
{
	const char *sha = json_string_value(json_object_get(entry, "sha256"));
	const char *version = json_string_value(json_object_get(entry, "version"));
	char key[128];
	snprintf(key, sizeof(key), "archive:%s", sha);
	struct repo_job *j = repo_job_find(s, key);
	if (j && !j->done)
		return acre_error_set(err, EINPROGRESS, "", "fetching package %s %s", name,
				      version);
	if (j) {
		int rc = j->rc;
		if (rc < 0)
			acre_error_set(err, -rc, "package", "repository %s: %s", r->name, j->why);
		repo_job_free(repo_job_take(s, j));
		struct stat st;
		if (rc < 0 || stat(cache, &st) == 0)
			return rc < 0 ? rc : 1; /* 1: the cache has it now */
						/* Gone since (removed by hand): fetched again. */
	}
	_cleanup_free_ char *base = index_url(s, r);
	if (!(j = calloc(1, sizeof(*j))) || !base ||
	    !(j->url = pkg_index_archive_url(
		      base, json_string_value(json_object_get(entry, "archive")))) ||
	    !(j->dest = strdup(cache))) {
		repo_job_free(j);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	snprintf(j->key, sizeof(j->key), "%s", key);
	j->kind = REPO_JOB_ARCHIVE;
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->version, sizeof(j->version), "%s", version);
	snprintf(j->sha256, sizeof(j->sha256), "%s", sha);
	int rc = repo_job_start(s, j, err);
	if (rc < 0) {
		repo_job_free(j);
		return rc;
	}
	return acre_error_set(err, EINPROGRESS, "", "fetching package %s %s", name, version);
}

/*
 * NAME at version from r; *dir (when asked) the directory that holds its
 * NAME/VERSION/.  An archive not in the cache yet: -ENODATA when fetch is
 * false, else its fetch starts and -EINPROGRESS says to ask again when it
 * ended (installs_on_fetched).
 */
static int kind_load(struct installs *s, const struct pkg_repo *r, const char *name,
		     const char *version, bool fetch, struct pkg *pkg, char **dir,
		     struct acre_error *err)
{
	char cache[4096];
	struct stat st;
	if (!strcmp(r->kind, "dir")) {
		if (dir && !(*dir = strdup(r->dir)))
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		return pkg_repo_dir_load(r->dir, name, version, pkg, err);
	}
	const json_t *entry = r->index ? pkg_index_find(r->index, name, version) : NULL;
	if (!entry)
		return acre_error_set(err, ENOENT, "package", "repository %s has no %s %s", r->name,
				      name, version ? version : "");
	if (repo_path(s, cache, sizeof(cache), "archives/%s",
		      json_string_value(json_object_get(entry, "sha256"))) < 0)
		return acre_error_set(err, ENAMETOOLONG, "",
				      "the data directory's path is too long");
	if (stat(cache, &st) < 0) {
		if (!fetch)
			return -ENODATA;
		int rc = fetch_archive(s, r, name, entry, cache, err);
		if (rc <= 0)
			return rc;
	}
	/* A fetch another request waited on too ended: its result is in the cache. */
	char key[128];
	snprintf(key, sizeof(key), "archive:%s",
		 json_string_value(json_object_get(entry, "sha256")));
	struct repo_job *j = repo_job_find(s, key);
	if (j && j->done && j->rc == 0)
		repo_job_free(repo_job_take(s, j));
	if (dir && !(*dir = strdup(cache)))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return pkg_repo_dir_load(cache, name, version, pkg, err);
}

char *catalog_artifact_uri(struct installs *s, const struct pkg_repo *r, const char *uri,
			   const char *sha256)
{
	/*
	 * A bundle's copy, by its pinned sum, from the controller's API; the
	 * rest from the project itself.  An artifact named by sha256_from is
	 * not mirrored: its sum is known only from the checksum file.
	 */
	char buf[1024];
	const char *mirror = NULL;
	if (!strcmp(r->kind, "bundle") && s->api_url && sha256 && sha256[0])
		mirror = installs_artifact_mirror(s, sha256, s->api_url, buf, sizeof(buf));
	return strdup(mirror ? mirror : uri);
}

/* Each URI artifact (and its checksum file) as the nodes are to fetch it from r. */
static int artifact_uris(struct installs *s, const struct pkg_repo *r, struct pkg *pkg,
			 struct acre_error *err)
{
	for (size_t i = 0; i < pkg->nartifacts; i++) {
		struct pkg_artifact *a = &pkg->artifacts[i];
		char **uris[] = {&a->uri, &a->sha256_from, &a->sha512_from};
		for (size_t k = 0; a->kind == PKG_ARTIFACT_URI && k < ACRE_ARRAY_SIZE(uris); k++) {
			if (!*uris[k])
				continue;
			char *to = catalog_artifact_uri(s, r, *uris[k], k == 0 ? a->sha256 : NULL);
			if (!to)
				return acre_error_set(err, ENOMEM, NULL, "out of memory");
			free(*uris[k]);
			*uris[k] = to;
		}
	}
	return 0;
}

static bool has_version(const json_t *versions, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach (versions, i, x)
		if (!strcmp(json_string_value(x), v))
			return true;
	return false;
}

/* The repository that gives NAME at version (NULL: the newest of all), and that version. */
static const struct pkg_repo *where(struct installs *s, const char *name, const char *version,
				    char best[PKG_VERSION_MAX + 1])
{
	const struct pkg_repo *found = NULL;
	best[0] = '\0';
	for (size_t i = 0; i < s->repos.n; i++) {
		_cleanup_json_ json_t *list = kind_list(s->repos.v[i]);
		const json_t *versions = json_object_get(list, name);
		size_t n = json_array_size(versions);
		if (!n)
			continue;
		if (version) {
			if (has_version(versions, version)) {
				snprintf(best, PKG_VERSION_MAX + 1, "%s", version);
				return s->repos.v[i];
			}
			continue;
		}
		const char *newest = json_string_value(json_array_get(versions, n - 1));
		if (!found || pkg_version_compare(newest, best) > 0) {
			found = s->repos.v[i];
			snprintf(best, PKG_VERSION_MAX + 1, "%s", newest);
		}
	}
	return found;
}

static int load(struct installs *s, const char *name, const char *version, bool fetch,
		struct pkg *pkg, char **dir, struct acre_error *err)
{
	char v[PKG_VERSION_MAX + 1];
	if (!name || !pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "package",
				      "package: \"%s\" is not a package name", name ? name : "");
	const struct pkg_repo *r = where(s, name, version, v);
	if (!r && version)
		return acre_error_set(err, ENOENT, "version", "package %s has no version %s", name,
				      version);
	if (!r)
		return acre_error_set(err, ENOENT, "package", "no package named %s", name);
	int rc = kind_load(s, r, name, v, fetch, pkg, dir, err);
	if (rc == 0 && (rc = artifact_uris(s, r, pkg, err)) < 0) {
		pkg_free(pkg);
		if (dir) {
			free(*dir);
			*dir = NULL;
		}
	}
	return rc;
}

int catalog_load(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		 struct acre_error *err)
{
	return load(s, name, version, true, pkg, NULL, err);
}

int catalog_locate(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		   char **dir, struct acre_error *err)
{
	return load(s, name, version, true, pkg, dir, err);
}

/* Every version of name across the repositories, oldest first, each once. */
static json_t *all_versions(struct installs *s, const char *name)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < s->repos.n; i++) {
		_cleanup_json_ json_t *list = kind_list(s->repos.v[i]);
		size_t k;
		json_t *v;
		json_array_foreach (json_object_get(list, name), k, v)
			if (!has_version(out, json_string_value(v)))
				json_array_append(out, v);
	}
	/* Insertion sort: a handful of versions. */
	for (size_t i = 1; out && i < json_array_size(out); i++)
		for (size_t k = i; k > 0; k--) {
			json_t *a = json_array_get(out, k - 1), *b = json_array_get(out, k);
			if (pkg_version_compare(json_string_value(a), json_string_value(b)) <= 0)
				break;
			json_incref(a);
			json_array_set(out, k - 1, b);
			json_array_set_new(out, k, a);
		}
	return out;
}

static bool matches(const struct pkg *pkg, const char *q)
{
	if (!q || !*q || strcasestr(pkg->name, q) ||
	    (pkg->description && strcasestr(pkg->description, q)))
		return true;
	for (char **t = pkg->tags; *t; t++)
		if (strcasestr(*t, q))
			return true;
	return false;
}

/*
 * {"name", "latest", "description", "tags"} of NAME's newest version when it
 * matches q; NULL when it does not or is broken (not offered).  A version
 * whose archive is not fetched yet is described by its index.
 */
static json_t *describe(struct installs *s, const char *name, const char *q)
{
	struct pkg pkg = {0};
	struct acre_error err = {0};
	char v[PKG_VERSION_MAX + 1];
	int rc = load(s, name, NULL, false, &pkg, NULL, &err);
	if (rc == -ENODATA) {
		const struct pkg_repo *r = where(s, name, NULL, v);
		const char *d = r ? pkg_index_description(r->index, name) : NULL;
		if (q && *q && !strcasestr(name, q) && !(d && strcasestr(d, q)))
			return NULL;
		return json_pack("{s:s,s:s,s:s,s:[]}", "name", name, "latest", v, "description",
				 d ? d : "", "tags");
	}
	if (rc < 0)
		return NULL;
	json_t *out = NULL;
	if (matches(&pkg, q)) {
		json_t *tags = json_array();
		for (char **t = pkg.tags; *t; t++)
			json_array_append_new(tags, json_string(*t));
		out = json_pack("{s:s,s:s,s:s,s:o}", "name", name, "latest", pkg.version,
				"description", pkg.description ? pkg.description : "", "tags",
				tags);
	}
	pkg_free(&pkg);
	return out;
}

json_t *installs_catalog_json(struct installs *s, const char *q)
{
	json_t *out = json_array(), *seen = json_object();
	for (size_t i = 0; out && seen && i < s->repos.n; i++) {
		_cleanup_json_ json_t *list = kind_list(s->repos.v[i]);
		const char *name;
		json_t *v;
		json_object_foreach (list, name, v) {
			if (json_object_get(seen, name))
				continue;
			json_object_set_new(seen, name, json_true());
			json_t *entry = describe(s, name, q);
			if (entry) {
				json_object_set_new(entry, "versions", all_versions(s, name));
				json_object_set_new(entry, "repo",
						    json_string(s->repos.v[i]->name));
				json_array_append_new(out, entry);
			}
		}
	}
	json_decref(seen);
	return json_pack("{s:o}", "packages", out ? out : json_array());
}

int installs_package_json(struct installs *s, const char *name, const char *version, json_t **out,
			  struct acre_error *err)
{
	struct pkg pkg = {0};
	int rc = catalog_load(s, name, version, &pkg, err);
	if (rc < 0)
		return rc;
	*out = json_pack("{s:s,s:o,s:o,s:o}", "name", pkg.name, "versions", all_versions(s, name),
			 "package", pkg_to_json(&pkg), "defaults",
			 pkg_options_defaults(pkg.schema));
	pkg_free(&pkg);
	return *out ? 0 : acre_error_set(err, ENOMEM, NULL, "out of memory");
}
