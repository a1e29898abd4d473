/*
 * The catalog: the packages the controller knows, from its repositories —
 * the shipped directory ("acre", --packages-dir) first, then those added
 * with `acre pkg repo add` (kept in the store).  A repository is of a
 * kind; "dir" (a repository directory, repo_dir.c) is the one there is,
 * and every read goes through kind_list/kind_load so that another kind (an
 * HTTP index) is one more case there.  The first repository that has a
 * package at a version gives it.  Where the nodes fetch a package's URI
 * artifacts is asked of its repository too (catalog_artifact_uri), so that
 * a kind that mirrors them gives its own copies.
 */
#include "runtime.h"

#include <strings.h>
#include <sys/stat.h>

void repo_free(struct pkg_repo *r)
{
	if (!r)
		return;
	free(r->dir);
	free(r);
}

/* {"NAME": ["VERSION", ...]} of one repository; an empty object when it cannot be read. */
static json_t *kind_list(const struct pkg_repo *r)
{
	json_t *out = NULL;
	struct acre_error err = {0};
	if (!strcmp(r->kind, "dir") && pkg_repo_dir_list(r->dir, &out, &err) == 0)
		return out;
	return json_object();
}

static int kind_load(const struct pkg_repo *r, const char *name, const char *version,
		     struct pkg *pkg, struct acre_error *err)
{
	if (!strcmp(r->kind, "dir"))
		return pkg_repo_dir_load(r->dir, name, version, pkg, err);
	return acre_error_set(err, EOPNOTSUPP, "kind", "repository %s: kind %s is not served",
			      r->name, r->kind);
}

char *catalog_artifact_uri(const struct pkg_repo *r, const char *uri)
{
	/* A "dir" repository holds no copies: the nodes fetch from the project itself. */
	(void)r;
	return strdup(uri);
}

/* Each URI artifact (and its checksum file) as the nodes are to fetch it from r. */
static int artifact_uris(const struct pkg_repo *r, struct pkg *pkg, struct acre_error *err)
{
	for (size_t i = 0; i < pkg->nartifacts; i++) {
		struct pkg_artifact *a = &pkg->artifacts[i];
		char **uris[] = {&a->uri, &a->sha256_from, &a->sha512_from};
		for (size_t k = 0; a->kind == PKG_ARTIFACT_URI && k < ACRE_ARRAY_SIZE(uris); k++) {
			if (!*uris[k])
				continue;
			char *to = catalog_artifact_uri(r, *uris[k]);
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

int catalog_load(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		 struct acre_error *err)
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
	int rc = kind_load(r, name, v, pkg, err);
	if (rc == 0 && (rc = artifact_uris(r, pkg, err)) < 0)
		pkg_free(pkg);
	return rc;
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
			struct pkg pkg = {0};
			struct acre_error err = {0};
			if (catalog_load(s, name, NULL, &pkg, &err) < 0)
				continue; /* a broken package is not offered */
			if (matches(&pkg, q)) {
				json_t *tags = json_array();
				for (char **t = pkg.tags; *t; t++)
					json_array_append_new(tags, json_string(*t));
				json_array_append_new(
					out, json_pack("{s:s,s:o,s:s,s:s,s:o,s:s}", "name", name,
						       "versions", all_versions(s, name), "latest",
						       pkg.version, "description",
						       pkg.description ? pkg.description : "",
						       "tags", tags, "repo", s->repos.v[i]->name));
			}
			pkg_free(&pkg);
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

json_t *installs_repos_json(struct installs *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < s->repos.n; i++) {
		const struct pkg_repo *r = s->repos.v[i];
		json_array_append_new(arr,
				      json_pack("{s:s,s:s,s:s,s:b}", "name", r->name, "kind",
						r->kind, "dir", r->dir, "builtin", r->builtin));
	}
	return json_pack("{s:o}", "repos", arr ? arr : json_array());
}

static struct pkg_repo *repo_find(struct installs *s, const char *name, size_t *at)
{
	for (size_t i = 0; i < s->repos.n; i++)
		if (!strcmp(s->repos.v[i]->name, name)) {
			if (at)
				*at = i;
			return s->repos.v[i];
		}
	return NULL;
}

int installs_repo_add(struct installs *s, const json_t *body, json_t **out, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *dir = json_string_value(json_object_get(body, "dir"));
	const char *kind = json_string_value(json_object_get(body, "kind"));
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v)
		if (strcmp(k, "name") && strcmp(k, "dir") && strcmp(k, "kind"))
			return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	if (!name || !pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name",
				      "name: required, a DNS label of at most %d", PKG_NAME_MAX);
	if (kind && strcmp(kind, "dir"))
		return acre_error_set(err, EINVAL, "kind", "kind: %s is not served (dir)", kind);
	struct stat st;
	if (!dir || dir[0] != '/')
		return acre_error_set(err, EINVAL, "dir", "dir: required, an absolute path");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return acre_error_set(err, ENOENT, "dir", "dir: %s: %s", dir,
				      errno ? strerror(errno) : "not a directory");
	if (repo_find(s, name, NULL))
		return acre_error_set(err, EEXIST, "name", "a repository is named %s", name);
	struct pkg_repo *r = calloc(1, sizeof(*r));
	if (!r || !(r->dir = strdup(dir)) || acre_vec_push(&s->repos, r) < 0) {
		repo_free(r);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->kind, sizeof(r->kind), "dir");
	s->repos_dirty = true;
	*out = json_pack("{s:s,s:s,s:s}", "name", r->name, "kind", r->kind, "dir", r->dir);
	return 0;
}

int installs_repo_remove(struct installs *s, const char *name, struct acre_error *err)
{
	size_t at = 0;
	struct pkg_repo *r = repo_find(s, name, &at);
	if (!r)
		return acre_error_set(err, ENOENT, "name", "no repository named %s", name);
	if (r->builtin)
		return acre_error_set(err, EPERM, "name",
				      "repository %s is the shipped one (--packages-dir)", name);
	memmove(&s->repos.v[at], &s->repos.v[at + 1], (s->repos.n - at - 1) * sizeof(r));
	s->repos.n--;
	repo_free(r);
	s->repos_dirty = true;
	return 0;
}
