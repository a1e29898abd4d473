/*
 * The catalog's repositories that are not folders, over a pool in memory
 * and a real event loop: an index (at a file:// URL, so no network) added
 * once its fetch child ended, a package described from the index before
 * its archive is fetched, then fetched, verified and loaded; a bad sum
 * refused naming the package and both sums; an index that does not parse
 * refused at add; a bundle written, added as a repository, its artifact
 * offered at /v1/artifacts/SHA256 (installs_artifact_mirror), and its
 * files gone with it.  test_pkg_repos.sh does the same on real nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <sys/stat.h>

#include "controller/packages/packages.h"
#include "controller/pool/pool.h"
#include "json_q.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

struct world {
	struct event_base *base;
	struct pool *p;
	struct apps *a;
	struct installs *s;
	char dir[64];
	int fetched;
	char blob[65], sum[65];
};

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void on_fetched(void *arg)
{
	((struct world *)arg)->fetched++;
}

/* Until the fetch under way ends. */
static void wait_fetch(struct world *w)
{
	int before = w->fetched;
	for (int i = 0; i < 2000 && w->fetched == before; i++)
		event_base_loop(w->base, EVLOOP_ONCE);
	assert_int_not_equal(w->fetched, before);
}

/* W/www: kv 1.0.0's archive (with a URI artifact, W/www/blob), index.json, bad.json, broken.json.
 */
static void make_repo(struct world *w)
{
	char path[256], text[1024];
	struct acre_error err = {0};
	sh("mkdir -p %s/www %s/src/kv/1.0.0/templates %s/data", w->dir, w->dir, w->dir);
	snprintf(path, sizeof(path), "%s/www/blob", w->dir);
	put(path, "the artifact\n");
	assert_int_equal(pkg_sha256_file(path, w->blob, &err), 0);
	snprintf(text, sizeof(text),
		 "{\"name\": \"kv\", \"version\": \"1.0.0\", \"description\": \"from the archive\","
		 " \"artifacts\": [{\"uri\": \"file://%s\", \"sha256\": \"%s\"}]}",
		 path, w->blob);
	snprintf(path, sizeof(path), "%s/src/kv/1.0.0/package.json", w->dir);
	put(path, text);
	snprintf(path, sizeof(path), "%s/src/kv/1.0.0/templates/kv.json", w->dir);
	put(path,
	    "{\"app\": {\"name\": \"{{install.name}}\", \"instances\": 1, \"slice\": {"
	    "\"command\": [\"/bin/kv\"], \"resources\": {\"cpus\": 0.5, \"memory\": \"64M\"}}}}");
	sh("tar -czf %s/www/kv-1.0.0.tar.gz -C %s/src kv/1.0.0", w->dir, w->dir);
	snprintf(path, sizeof(path), "%s/www/kv-1.0.0.tar.gz", w->dir);
	assert_int_equal(pkg_sha256_file(path, w->sum, &err), 0);
	static const char *const fmt =
		"{\"packages\": [{\"name\": \"%s\", \"description\": \"from the index\", "
		"\"versions\": [{\"version\": \"1.0.0\", \"archive\": \"kv-1.0.0.tar.gz\", "
		"\"sha256\": \"%s\"}]}]}";
	snprintf(path, sizeof(path), "%s/www/index.json", w->dir);
	snprintf(text, sizeof(text), fmt, "kv", w->sum);
	put(path, text);
	snprintf(path, sizeof(path), "%s/www/bad.json", w->dir);
	snprintf(text, sizeof(text), fmt, "kvbad",
		 "0000000000000000000000000000000000000000000000000000000000000000");
	put(path, text);
	snprintf(path, sizeof(path), "%s/www/broken.json", w->dir);
	put(path, "{\"packages\": [");
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct acre_error err = {0};
	char data[128];
	snprintf(w->dir, sizeof(w->dir), "/tmp/acre-test-repos-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	make_repo(w);
	assert_non_null(w->base = event_base_new());
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(NULL, &o, &w->p, &err), 0);
	struct apps_options ao = {.step_deadline_ms = 60000};
	assert_int_equal(apps_open(w->p, &ao, &w->a, &err), 0);
	snprintf(data, sizeof(data), "%s/data", w->dir);
	struct installs_options io = {
		.packages_dir = "/nonexistent", .data_dir = data, .base = w->base};
	assert_int_equal(installs_open(w->p, w->a, &io, &w->s, &err), 0);
	installs_on_fetched(w->s, on_fetched, w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	installs_close(w->s);
	apps_close(w->a);
	pool_close(w->p);
	event_base_free(w->base);
	sh("rm -rf %s", w->dir);
	free(w);
	return 0;
}

/* POST /v1/repos with body: -EINPROGRESS, the fetch, then the verb's answer. */
static int add(struct world *w, const char *body, struct acre_error *err)
{
	_cleanup_json_ json_t *b = json_q(body), *out = NULL;
	int rc = installs_repo_add(w->s, b, &out, err);
	if (rc != -EINPROGRESS)
		return rc;
	wait_fetch(w);
	json_decref(out);
	out = NULL;
	return installs_repo_add(w->s, b, &out, err);
}

static void test_index_repository(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	char body[512];
	snprintf(body, sizeof(body), "{'name': 'web', 'url': 'file://%s/www/index.json'}", w->dir);
	assert_int_equal(add(w, body, &err), 0);
	snprintf(body, sizeof(body), "{'name': 'broken', 'url': 'file://%s/www/broken.json'}",
		 w->dir);
	assert_int_equal(add(w, body, &err), -EINVAL);
	assert_contains(err.message, "repository broken: ");
	assert_contains(err.message, "the index does not parse");

	/* Described from the index: nothing fetched by a search. */
	_cleanup_json_ json_t *list = installs_catalog_json(w->s, "kv");
	const json_t *kv = json_array_get(json_object_get(list, "packages"), 0);
	assert_string_equal(json_string_value(json_object_get(kv, "description")),
			    "from the index");
	assert_string_equal(json_string_value(json_object_get(kv, "repo")), "web");

	/* Shown: the archive fetched, verified, unpacked, loaded. */
	json_t *out = NULL;
	assert_int_equal(installs_package_json(w->s, "kv", NULL, &out, &err), -EINPROGRESS);
	wait_fetch(w);
	assert_int_equal(installs_package_json(w->s, "kv", NULL, &out, &err), 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(out, "package"), "description")),
		"from the archive");
	json_decref(out);
	/* Cached: at once from now on. */
	assert_int_equal(installs_package_json(w->s, "kv", "1.0.0", &out, &err), 0);
	json_decref(out);

	/* A bad sum: refused naming the package and both sums. */
	snprintf(body, sizeof(body), "{'name': 'bad', 'url': 'file://%s/www/bad.json'}", w->dir);
	assert_int_equal(add(w, body, &err), 0);
	assert_int_equal(installs_package_json(w->s, "kvbad", NULL, &out, &err), -EINPROGRESS);
	wait_fetch(w);
	assert_int_equal(installs_package_json(w->s, "kvbad", NULL, &out, &err), -EBADMSG);
	assert_contains(err.message, "package kvbad 1.0.0: checksum mismatch");
	assert_contains(err.message, "expected sha256 000000");
	assert_contains(err.message, w->sum);

	/* Refreshed: read again; removed: its index gone with it. */
	assert_int_equal(installs_repo_refresh(w->s, "web", &out, &err), -EINPROGRESS);
	wait_fetch(w);
	assert_int_equal(installs_repo_refresh(w->s, "web", &out, &err), 0);
	json_decref(out);
	char path[256];
	snprintf(path, sizeof(path), "%s/data/repos/bad/index.json", w->dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(installs_repo_remove(w->s, "bad", &err), 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_bundle_repository(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	char body[512], *file = NULL, mirror[256], kept[512];
	snprintf(body, sizeof(body), "{'name': 'web', 'url': 'file://%s/www/index.json'}", w->dir);
	assert_int_equal(add(w, body, &err), 0);
	_cleanup_json_ json_t *ask = json_q("{'packages': ['kv@1.0.0']}");
	/* The archive first, then the bundle: each a fetch of its own. */
	int rc;
	while ((rc = installs_bundle(w->s, ask, &file, &err)) == -EINPROGRESS)
		wait_fetch(w);
	assert_int_equal(rc, 0);
	snprintf(kept, sizeof(kept), "%s/kv.bundle", w->dir);
	assert_int_equal(rename(file, kept), 0);
	free(file);
	assert_int_equal(installs_repo_remove(w->s, "web", &err), 0);
	assert_null(installs_artifact_mirror(w->s, w->blob, "http://c:1", mirror, sizeof(mirror)));

	snprintf(body, sizeof(body), "{'name': 'offline', 'bundle': '%s'}", kept);
	assert_int_equal(add(w, body, &err), 0);
	assert_string_equal(
		installs_artifact_mirror(w->s, w->blob, "http://c:1/", mirror, sizeof(mirror)),
		mirror);
	char want[256];
	snprintf(want, sizeof(want), "http://c:1/v1/artifacts/%s", w->blob);
	assert_string_equal(mirror, want);
	assert_null(installs_artifact_mirror(w->s, w->sum, "http://c:1", mirror, sizeof(mirror)));
	json_t *out = NULL;
	while ((rc = installs_package_json(w->s, "kv", NULL, &out, &err)) == -EINPROGRESS)
		wait_fetch(w);
	assert_int_equal(rc, 0);
	json_decref(out);
	assert_int_equal(installs_repo_remove(w->s, "offline", &err), 0);
	assert_null(installs_artifact_mirror(w->s, w->blob, "http://c:1", mirror, sizeof(mirror)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_repository, setup, teardown),
	};
	return cmocka_run_group_tests_name("package repositories at run time", tests, NULL, NULL);
}
