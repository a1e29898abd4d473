/*
 * `acre pkg bundle`: the packages asked for, each from the repository the
 * catalog gives it (its archive fetched first when it comes from an
 * index), written with their URI artifacts into one bundle file by a
 * child (repo_fetch.c, bundle.c), which the API then sends and removes.
 */
#include "runtime.h"

/* "NAME" or "NAME@VERSION", each loaded with the directory that holds it. */
static int resolve(struct installs *s, const json_t *list, struct repo_job *j,
		   struct acre_error *err)
{
	size_t n = json_array_size(list), i;
	const json_t *v;
	j->pkgs = calloc(n, sizeof(*j->pkgs));
	j->dirs = calloc(n, sizeof(*j->dirs));
	if (!j->pkgs || !j->dirs)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_array_foreach (list, i, v) {
		char name[PKG_NAME_MAX + PKG_VERSION_MAX + 2];
		const char *text = json_string_value(v);
		if (!text || strlen(text) >= sizeof(name))
			return acre_error_set(err, EINVAL, "packages",
					      "packages[%zu]: NAME or NAME@VERSION", i);
		snprintf(name, sizeof(name), "%s", text);
		char *at = strchr(name, '@');
		if (at)
			*at++ = '\0';
		int rc = catalog_locate(s, name, at, &j->pkgs[i], &j->dirs[i], err);
		j->npkgs = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int installs_bundle(struct installs *s, const json_t *body, char **path, struct acre_error *err)
{
	const json_t *list = json_object_get(body, "packages");
	const char *k;
	json_t *v;
	char key[512] = "make:", dest[4096];
	size_t i;
	*path = NULL;
	json_object_foreach ((json_t *)body, k, v)
		if (strcmp(k, "packages"))
			return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	if (!json_is_array(list) || json_array_size(list) == 0)
		return acre_error_set(err, EINVAL, "packages",
				      "packages: a non-empty array of NAME or NAME@VERSION");
	if (!s->data_dir)
		return acre_error_set(err, EOPNOTSUPP, "", "bundles need the data directory");
	json_array_foreach (list, i, v) {
		size_t used = strlen(key);
		snprintf(key + used, sizeof(key) - used, "%s ", json_string_value(v) ?: "");
	}
	struct repo_job *j = repo_job_find(s, key);
	if (j && !j->done)
		return acre_error_set(err, EINPROGRESS, "", "writing the bundle");
	if (j) {
		repo_job_take(s, j);
		int rc = j->rc;
		if (rc < 0)
			acre_error_set(err, -rc, "packages", "bundle: %s", j->why);
		else
			*path = TAKE_PTR(j->dest);
		repo_job_free(j);
		return rc;
	}
	/* Each package loaded now: an archive not fetched yet starts its fetch first. */
	if (!(j = calloc(1, sizeof(*j))))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	j->fd = -1;
	int rc = resolve(s, list, j, err);
	if (rc == 0 && (repo_path(s, dest, sizeof(dest), ".bundle-%llu.tar",
				  (unsigned long long)acre_monotonic_ns()) < 0 ||
			!(j->dest = strdup(dest))))
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc == 0) {
		snprintf(j->key, sizeof(j->key), "%s", key);
		j->kind = REPO_JOB_BUNDLE_MAKE;
		rc = repo_job_start(s, j, err);
	}
	if (rc < 0) {
		repo_job_free(j);
		return rc;
	}
	return acre_error_set(err, EINPROGRESS, "", "writing the bundle");
}
