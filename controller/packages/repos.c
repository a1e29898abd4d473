/*
 * The repositories added to the catalog: add, refresh, remove and list
 * (a directory, an HTTP(S) index, a bundle file), and what a bundle
 * brings besides packages: its URI artifacts, served to the pool's nodes
 * by their SHA-256.  An index or a bundle is fetched and checked in a
 * child (repo_fetch.c); the verb that started it answers -EINPROGRESS
 * and, asked again once the job ended, takes its result.
 */
#include "runtime.h"

#include <dirent.h>
#include <sys/stat.h>

#include "common/file.h"

void repo_free(struct pkg_repo *r)
{
	if (!r)
		return;
	json_decref(r->index);
	free(r->dir);
	free(r);
}

/* Where a repository's index is kept: DATA/repos/NAME/index.json or .../bundle/index.json. */
static int index_path(const struct installs *s, const char *kind, const char *name, char *buf,
		      size_t len)
{
	return repo_path(s, buf, len, "%s/%sindex.json", name,
			 !strcmp(kind, "bundle") ? "bundle/" : "");
}

void repo_index_load(struct installs *s, struct pkg_repo *r)
{
	char path[4096];
	struct acre_error err = {0};
	json_error_t je;
	json_decref(r->index);
	r->index = NULL;
	if (s->data_dir && index_path(s, r->kind, r->name, path, sizeof(path)) == 0)
		r->index = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (r->index && pkg_index_parse(r->index, &err) == 0)
		return;
	acre_log(ACRE_LOG_WARN, "event=repo_unreadable repo=%s error=\"%s\"", r->name,
		 r->index ? err.message : "no index in the data directory");
	json_decref(r->index);
	r->index = json_pack("{s:[]}", "packages");
}

void repo_sweep(struct installs *s)
{
	char dir[4096], path[4400];
	if (!s->data_dir || repo_path(s, dir, sizeof(dir), "%s", "") < 0)
		return;
	_cleanup_dir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			pkg_remove_tree(path);
		}
}

json_t *installs_repos_json(struct installs *s)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < s->repos.n; i++) {
		const struct pkg_repo *r = s->repos.v[i];
		const char *field = !strcmp(r->kind, "http")	 ? "url"
				    : !strcmp(r->kind, "bundle") ? "bundle"
								 : "dir";
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", r->name,
						     "kind", r->kind, field, r->dir, "source",
						     r->dir, "builtin", r->builtin));
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

static json_t *repo_json(const struct pkg_repo *r)
{
	return json_pack("{s:s,s:s,s:s}", "name", r->name, "kind", r->kind, "source", r->dir);
}

/*
 * The index (http) or the bundle (bundle) of repository name from source:
 * its job started (-EINPROGRESS), still running (-EINPROGRESS), or ended:
 * then taken, and on success its result moved where the repository keeps
 * it (0).
 */
static int fetch_source(struct installs *s, const char *kind, const char *name, const char *source,
			struct acre_error *err)
{
	char key[64], dest[4096], keep[4096], dir[4096];
	bool bundle = !strcmp(kind, "bundle");
	snprintf(key, sizeof(key), "%s:%s", bundle ? "bundle" : "index", name);
	struct repo_job *j = repo_job_find(s, key);
	if (j && !j->done)
		return acre_error_set(err, EINPROGRESS, "", "fetching repository %s", name);
	if (j) {
		repo_job_take(s, j);
		int rc = j->rc;
		if (rc < 0)
			acre_error_set(err, -rc, bundle ? "bundle" : "url", "repository %s: %s",
				       name, j->why);
		if (rc == 0 && strcmp(j->url, source))
			rc = acre_error_set(err, EBUSY, "name",
					    "repository %s: another source was being fetched",
					    name);
		if (rc == 0 && repo_path(s, dir, sizeof(dir), "%s", name) == 0 &&
		    acre_mkdir_p(dir, 0755) < 0)
			rc = acre_error_set(err, errno, "", "%s: %s", dir, strerror(errno));
		if (rc == 0) {
			if (bundle)
				repo_path(s, keep, sizeof(keep), "%s/bundle", name);
			else
				index_path(s, kind, name, keep, sizeof(keep));
			if (bundle)
				pkg_remove_tree(keep);
			if (rename(j->dest, keep) < 0)
				rc = acre_error_set(err, errno, "", "%s: %s", keep,
						    strerror(errno));
		}
		repo_job_free(j);
		return rc;
	}
	if (!s->data_dir)
		return acre_error_set(
			err, EOPNOTSUPP, "kind",
			"repositories of kind %s need the controller's data directory", kind);
	if (repo_path(s, dest, sizeof(dest), ".new-%s", name) < 0 ||
	    repo_path(s, dir, sizeof(dir), "%s", "") < 0 || acre_mkdir_p(dir, 0755) < 0)
		return acre_error_set(err, errno ? errno : ENAMETOOLONG, "", "%s: %s", dir,
				      strerror(errno ? errno : ENAMETOOLONG));
	if (!(j = calloc(1, sizeof(*j))) || !(j->url = strdup(source)) ||
	    !(j->dest = strdup(dest))) {
		repo_job_free(j);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	snprintf(j->key, sizeof(j->key), "%s", key);
	j->kind = bundle ? REPO_JOB_BUNDLE_ADD : REPO_JOB_INDEX;
	int rc = repo_job_start(s, j, err);
	if (rc < 0) {
		repo_job_free(j);
		return rc;
	}
	return acre_error_set(err, EINPROGRESS, "", "fetching repository %s", name);
}

/* The kind, and where it comes from, that a body asks for; errors name the field. */
static int source_of(const json_t *body, const char **kind, const char **source,
		     struct acre_error *err)
{
	static const char *const kinds[][2] = {
		{"dir", "dir"}, {"http", "url"}, {"bundle", "bundle"}};
	const char *given = json_string_value(json_object_get(body, "kind"));
	*kind = *source = NULL;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(kinds); i++) {
		const char *v = json_string_value(json_object_get(body, kinds[i][1]));
		if (!v)
			continue;
		if (*source)
			return acre_error_set(err, EINVAL, kinds[i][1],
					      "%s: only one of dir, url and bundle", kinds[i][1]);
		*kind = kinds[i][0];
		*source = v;
	}
	if (!*source)
		return acre_error_set(err, EINVAL, "dir",
				      "dir, url or bundle: required (a directory, an index's "
				      "http(s):// or file:// URL, a bundle file)");
	if (given && strcmp(given, *kind))
		return acre_error_set(err, EINVAL, "kind", "kind: %s does not go with that source",
				      given);
	if (!strcmp(*kind, "http") && strncmp(*source, "http://", 7) &&
	    strncmp(*source, "https://", 8) && strncmp(*source, "file:///", 8))
		return acre_error_set(err, EINVAL, "url",
				      "url: %s is not an http(s):// or file:/// URL", *source);
	if (strcmp(*kind, "http") && (*source)[0] != '/')
		return acre_error_set(err, EINVAL, !strcmp(*kind, "dir") ? "dir" : "bundle",
				      "%s: an absolute path on the controller's host", *kind);
	struct stat st;
	if (!strcmp(*kind, "dir") && (stat(*source, &st) < 0 || !S_ISDIR(st.st_mode)))
		return acre_error_set(err, ENOENT, "dir", "dir: %s: %s", *source,
				      errno ? strerror(errno) : "not a directory");
	if (!strcmp(*kind, "bundle") && (stat(*source, &st) < 0 || !S_ISREG(st.st_mode)))
		return acre_error_set(err, ENOENT, "bundle", "bundle: %s: %s", *source,
				      errno ? strerror(errno) : "not a file");
	return 0;
}

int installs_repo_add(struct installs *s, const json_t *body, json_t **out, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *kind, *source, *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v)
		if (strcmp(k, "name") && strcmp(k, "dir") && strcmp(k, "kind") &&
		    strcmp(k, "url") && strcmp(k, "bundle"))
			return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	if (!name || !pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name",
				      "name: required, a DNS label of at most %d", PKG_NAME_MAX);
	int rc = source_of(body, &kind, &source, err);
	if (rc < 0)
		return rc;
	if (repo_find(s, name, NULL))
		return acre_error_set(err, EEXIST, "name", "a repository is named %s", name);
	if (strcmp(kind, "dir") && (rc = fetch_source(s, kind, name, source, err)) < 0)
		return rc;
	struct pkg_repo *r = calloc(1, sizeof(*r));
	if (!r || !(r->dir = strdup(source)) || acre_vec_push(&s->repos, r) < 0) {
		repo_free(r);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	if (strcmp(kind, "dir"))
		repo_index_load(s, r);
	s->repos_dirty = true;
	*out = repo_json(r);
	if (r->index)
		json_object_set_new(*out, "packages",
				    json_integer((json_int_t)json_array_size(
					    json_object_get(r->index, "packages"))));
	return 0;
}

int installs_repo_refresh(struct installs *s, const char *name, json_t **out,
			  struct acre_error *err)
{
	struct pkg_repo *r = repo_find(s, name, NULL);
	if (!r)
		return acre_error_set(err, ENOENT, "name", "no repository named %s", name);
	if (!strcmp(r->kind, "http")) {
		int rc = fetch_source(s, r->kind, r->name, r->dir, err);
		if (rc < 0)
			return rc;
		repo_index_load(s, r);
	}
	*out = repo_json(r);
	if (r->index)
		json_object_set_new(*out, "packages",
				    json_integer((json_int_t)json_array_size(
					    json_object_get(r->index, "packages"))));
	return 0;
}

int installs_repo_remove(struct installs *s, const char *name, struct acre_error *err)
{
	size_t at = 0;
	struct pkg_repo *r = repo_find(s, name, &at);
	char dir[4096];
	if (!r)
		return acre_error_set(err, ENOENT, "name", "no repository named %s", name);
	if (r->builtin)
		return acre_error_set(err, EPERM, "name",
				      "repository %s is the shipped one (--packages-dir)", name);
	memmove(&s->repos.v[at], &s->repos.v[at + 1], (s->repos.n - at - 1) * sizeof(r));
	s->repos.n--;
	/* Its index and bundle go; unpacked archives stay, by sum, for another that lists them. */
	if (strcmp(r->kind, "dir") && s->data_dir &&
	    repo_path(s, dir, sizeof(dir), "%s", r->name) == 0)
		pkg_remove_tree(dir);
	repo_free(r);
	s->repos_dirty = true;
	return 0;
}

int installs_artifact_path(struct installs *s, const char *sha256, char *buf, size_t len)
{
	struct stat st;
	if (!pkg_sha256_valid(sha256) || !s->data_dir)
		return -ENOENT;
	for (size_t i = 0; i < s->repos.n; i++)
		if (!strcmp(s->repos.v[i]->kind, "bundle") &&
		    repo_path(s, buf, len, "%s/bundle/artifacts/%s", s->repos.v[i]->name, sha256) ==
			    0 &&
		    stat(buf, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	return -ENOENT;
}

const char *installs_artifact_mirror(struct installs *s, const char *sha256, const char *api_url,
				     char *buf, size_t len)
{
	char path[4096];
	size_t n = strlen(api_url);
	if (installs_artifact_path(s, sha256, path, sizeof(path)) < 0)
		return NULL;
	if ((size_t)snprintf(buf, len, "%.*s/v1/artifacts/%s",
			     (int)(n && api_url[n - 1] == '/' ? n - 1 : n), api_url, sha256) >= len)
		return NULL;
	return buf;
}
