/*
 * Packages loaded and expanded: the shipped redis and memcached read from
 * packages/ as an install reads them, their templates rendered with the
 * install's options (a lone placeholder typed, text in longer strings,
 * variants chosen by "when"), every object labelled with its install, the
 * result checked whole (each app by the apps module's parser, names
 * unique, dependencies resolved), deterministic, planned and diffed; and
 * broken packages, written by the test in a directory of its own, refused
 * naming the file and the JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <libgen.h>
#include <sys/stat.h>

#include "controller/packages/packages.h"
#include "json_q.h"
#include "tmpdir.h"

#define SUM "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

/* The shipped library: ./packages from the source tree, or two levels above build/test/. */
static const char *repo(void)
{
	static char path[4096];
	char exe[4096];
	struct stat st;
	if (stat("packages/redis", &st) == 0)
		return "packages";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../../packages", dirname(exe));
	return path;
}

static void load(const char *name, struct pkg *p)
{
	struct acre_error err = {0};
	if (pkg_repo_dir_load(repo(), name, NULL, p, &err) < 0)
		fail_msg("%s: %s", name, err.message);
}

/* Options checked, then expanded as install `install`. */
static int expand(const struct pkg *p, const char *install, const char *options,
		  struct pkg_expansion *x, struct acre_error *err)
{
	_cleanup_json_ json_t *given = options ? json_q(options) : NULL;
	_cleanup_json_ json_t *full = NULL;
	int rc = pkg_options_check(p->schema, given, &full, err);
	if (rc < 0)
		return rc;
	struct pkg_context ctx = {
		.install = install, .package = p->name, .version = p->version, .options = full};
	return pkg_expand(p, &ctx, x, err);
}

static void expand_ok(const struct pkg *p, const char *install, const char *options,
		      struct pkg_expansion *x)
{
	struct acre_error err = {0};
	if (expand(p, install, options, x, &err) < 0)
		fail_msg("expanding %s: %s", p->name, err.message);
}

static const json_t *app_at(const struct pkg_expansion *x, size_t i)
{
	return json_array_get(x->apps, i);
}

static void test_shipped_load(void **state)
{
	(void)state;
	struct pkg p;
	struct acre_error err = {0};
	json_t *list = NULL;
	assert_int_equal(pkg_repo_dir_list(repo(), &list, &err), 0);
	assert_non_null(json_object_get(list, "redis"));
	assert_non_null(json_object_get(list, "memcached"));
	json_decref(list);

	load("redis", &p);
	assert_string_equal(p.name, "redis");
	assert_int_equal(p.ntemplates, 2);
	assert_string_equal(p.templates[0].file, "templates/redis.json");
	assert_int_equal(p.nartifacts, 1);
	assert_int_equal(p.artifacts[0].kind, PKG_ARTIFACT_BINARY);
	assert_string_equal(p.artifacts[0].binary, "/usr/bin/redis-server");
	assert_string_equal(p.artifacts[0].deb, "redis-server");
	assert_non_null(p.icon);
	assert_int_equal(pkg_check_acre_version(&p, ACRE_VERSION, &err), 0);
	assert_int_equal(pkg_check_acre_version(&p, "0.0.9", &err), -EPROTO);
	assert_contains(err.message, "needs acre 0.1.0 or newer");
	_cleanup_json_ json_t *shown = pkg_to_json(&p);
	assert_string_equal(json_string_value(json_object_get(shown, "name")), "redis");
	assert_non_null(json_object_get(shown, "config"));
	pkg_free(&p);

	assert_int_equal(pkg_repo_dir_load(repo(), "redis", "9.9.9", &p, &err), -ENOENT);
	assert_contains(err.message, "redis has no version 9.9.9");
	assert_int_equal(pkg_repo_dir_load(repo(), "nosuch", NULL, &p, &err), -ENOENT);
	assert_contains(err.message, "no package nosuch");
}

static bool has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* Binaries become each app's constraints, URIs each app's slice artifacts; the plan says so. */
static void test_artifacts_reach_every_app(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion x;
	load("redis", &p);
	expand_ok(&p, "cache", "{'replicas': {'enabled': true}}", &x);
	assert_int_equal(json_array_size(x.apps), 2);
	for (size_t i = 0; i < 2; i++) {
		const json_t *c =
			json_object_get(json_object_get(app_at(&x, i), "placement"), "constraints");
		assert_true(has_string(c, "bin:/usr/bin/redis-server==true"));
		assert_int_equal(json_array_size(c), 1);
	}
	_cleanup_json_ json_t *plan = pkg_plan(&x);
	json_t *b = json_array_get(json_object_get(plan, "binaries"), 0);
	assert_string_equal(json_string_value(json_object_get(b, "binary")),
			    "/usr/bin/redis-server");
	assert_string_equal(json_string_value(json_object_get(b, "deb")), "redis-server");
	json_object_set_new(b, "nodes", json_integer(0));
	json_object_set_new(b, "of", json_integer(3));
	_cleanup_strv_free_ char **lines = pkg_plan_lines(plan);
	bool said = false;
	for (char **l = lines; l && *l; l++)
		said |= !strcmp(*l, "needs /usr/bin/redis-server (Debian package redis-server), on "
				    "no node of the pool: apt-get install redis-server there");
	assert_true(said);
	pkg_expansion_free(&x);
	pkg_free(&p);

	/* Spark's release, verified against the SHA-512 Apache publishes, in every app at /opt. */
	load("spark", &p);
	expand_ok(&p, "sp", NULL, &x);
	assert_true(json_array_size(x.apps) >= 2);
	size_t i;
	json_t *app;
	json_array_foreach (x.apps, i, app) {
		json_t *a = json_array_get(
			json_object_get(json_object_get(app, "slice"), "artifacts"), 0);
		assert_string_equal(json_string_value(json_object_get(a, "uri")),
				    "https://archive.apache.org/dist/spark/spark-3.5.1/"
				    "spark-3.5.1-bin-hadoop3.tgz");
		assert_string_equal(json_string_value(json_object_get(a, "sha512_from")),
				    "https://archive.apache.org/dist/spark/spark-3.5.1/"
				    "spark-3.5.1-bin-hadoop3.tgz.sha512");
		assert_string_equal(json_string_value(json_object_get(a, "path")), "/opt");
		assert_true(json_is_true(json_object_get(a, "extract"))); /* by its name */
		assert_true(has_string(
			json_object_get(json_object_get(app, "placement"), "constraints"),
			"bin:/usr/bin/java==true"));
	}
	pkg_expansion_free(&x);
	pkg_free(&p);
}

static void test_redis_default(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion x;
	load("redis", &p);
	expand_ok(&p, "cache", NULL, &x);
	assert_int_equal(json_array_size(x.apps), 1);
	const json_t *a = app_at(&x, 0);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "cache");
	const json_t *cmd = json_object_get(json_object_get(a, "slice"), "command");
	/* "{{options.port | text}}": text in a command line; the rest as the template wrote. */
	assert_string_equal(json_string_value(json_array_get(cmd, 2)), "6379");
	assert_string_equal(json_string_value(json_array_get(cmd, 14)), "allkeys-lru");
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "ports"), 0)),
			    "redis:6379");
	assert_string_equal(pkg_owner(a), "cache");
	_cleanup_json_ json_t *owned = pkg_owned(x.apps, "cache");
	assert_int_equal(json_array_size(owned), 1);
	_cleanup_json_ json_t *others = pkg_owned(x.apps, "cache2");
	assert_int_equal(json_array_size(others), 0);
	pkg_expansion_free(&x);
	pkg_free(&p);
}

static void test_redis_replicas_variant(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion x;
	load("redis", &p);
	expand_ok(&p, "kv", "{'port': 7000, 'replicas': {'enabled': true, 'count': 3}}", &x);
	assert_int_equal(json_array_size(x.apps), 2);
	/* Start order: the primary before the replicas that depend on it. */
	assert_string_equal(json_string_value(json_object_get(app_at(&x, 0), "name")), "kv");
	const json_t *r = app_at(&x, 1);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "kv-replica");
	/* "instances": "{{options.replicas.count}}" takes the option's type: an integer. */
	assert_true(json_is_integer(json_object_get(r, "instances")));
	assert_int_equal(json_integer_value(json_object_get(r, "instances")), 3);
	const json_t *cmd = json_object_get(json_object_get(r, "slice"), "command");
	assert_string_equal(json_string_value(json_array_get(cmd, 11)), "--replicaof");
	assert_string_equal(json_string_value(json_array_get(cmd, 12)), "kv.acre");
	assert_string_equal(json_string_value(json_array_get(cmd, 13)), "7000");
	assert_string_equal(pkg_owner(r), "kv");
	assert_string_equal(json_string_value(json_object_get(x.sources, "app kv-replica")),
			    "templates/replicas.json");

	_cleanup_json_ json_t *plan = pkg_plan(&x);
	const json_t *pa = json_array_get(json_object_get(plan, "apps"), 1);
	assert_int_equal(json_integer_value(json_object_get(pa, "instances")), 3);
	assert_int_equal(json_integer_value(json_object_get(pa, "start")), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(pa, "placement"), "unique")),
		"node");
	assert_string_equal(json_string_value(json_array_get(json_object_get(plan, "order"), 1)),
			    "kv-replica");
	_cleanup_strv_free_ char **lines = pkg_plan_lines(plan);
	assert_non_null(lines);
	assert_contains(lines[0], "app kv: 1 instance");
	bool replicas = false, after = false;
	for (char **l = lines; *l; l++) {
		replicas |= strstr(*l, "app kv-replica: 3 instances") && strstr(*l, "unique node");
		after |= !strcmp(*l, "  starts after kv");
	}
	assert_true(replicas);
	assert_true(after);
	assert_string_equal(lines[acre_strv_length(lines) - 1], "start order: kv, kv-replica");
	pkg_expansion_free(&x);
	pkg_free(&p);
}

static void test_deterministic(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion a, b;
	load("redis", &p);
	expand_ok(&p, "kv", "{'replicas': {'enabled': true}}", &a);
	expand_ok(&p, "kv", "{'replicas': {'enabled': true}}", &b);
	_cleanup_json_ json_t *pa = pkg_plan(&a), *pb = pkg_plan(&b);
	_cleanup_free_ char *ta = json_dumps(pa, JSON_SORT_KEYS | JSON_COMPACT);
	_cleanup_free_ char *tb = json_dumps(pb, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(ta, tb);
	pkg_expansion_free(&a);
	pkg_expansion_free(&b);
	pkg_free(&p);
}

static void test_diff(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion a, b, c;
	load("redis", &p);
	expand_ok(&p, "kv", NULL, &a);
	expand_ok(&p, "kv", "{'replicas': {'enabled': true}, 'maxmemory_policy': 'noeviction'}",
		  &b);
	expand_ok(&p, "kv", NULL, &c);
	_cleanup_json_ json_t *pa = pkg_plan(&a), *pb = pkg_plan(&b), *pc = pkg_plan(&c);
	_cleanup_json_ json_t *same = pkg_plan_diff(pa, pc);
	assert_true(pkg_diff_empty(same));
	_cleanup_json_ json_t *d = pkg_plan_diff(pa, pb);
	assert_false(pkg_diff_empty(d));
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "added"), 0)),
			    "kv-replica");
	const json_t *ch = json_array_get(json_object_get(d, "changed"), 0);
	assert_string_equal(json_string_value(json_object_get(ch, "name")), "kv");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "fields"), 0)),
			    "slice.command");
	assert_true(json_is_true(json_object_get(ch, "replaces")));
	_cleanup_json_ json_t *back = pkg_plan_diff(pb, pa);
	assert_string_equal(json_string_value(json_array_get(json_object_get(back, "removed"), 0)),
			    "kv-replica");
	_cleanup_strv_free_ char **lines = pkg_diff_lines(d);
	assert_string_equal(lines[0], "+ app kv-replica");
	assert_string_equal(lines[1], "~ app kv: slice.command (instances replaced)");

	/* A scale is changed in place, not replaced. */
	struct pkg m;
	struct pkg_expansion m1, m3;
	load("memcached", &m);
	expand_ok(&m, "mc", NULL, &m1);
	expand_ok(&m, "mc", "{'instances': 3}", &m3);
	_cleanup_json_ json_t *q1 = pkg_plan(&m1), *q3 = pkg_plan(&m3);
	_cleanup_json_ json_t *scale = pkg_plan_diff(q1, q3);
	_cleanup_strv_free_ char **sl = pkg_diff_lines(scale);
	assert_string_equal(sl[0], "~ app mc: instances (in place)");
	pkg_expansion_free(&m1);
	pkg_expansion_free(&m3);
	pkg_free(&m);
	pkg_expansion_free(&a);
	pkg_expansion_free(&b);
	pkg_expansion_free(&c);
	pkg_free(&p);
}

static void test_bad_install_options(void **state)
{
	(void)state;
	struct pkg p;
	struct pkg_expansion x;
	struct acre_error err = {0};
	load("redis", &p);
	assert_true(expand(&p, "kv", "{'port': 70000}", &x, &err) < 0);
	assert_string_equal(err.message, "options.port: 70000 is above the maximum 65535");
	assert_true(expand(&p, "kv", "{'replicas': {'count': 9}}", &x, &err) < 0);
	assert_string_equal(err.message, "options.replicas.count: 9 is above the maximum 5");
	assert_true(expand(&p, "kv", "{'maxmemory_policy': 'lru'}", &x, &err) < 0);
	assert_contains(err.message, "options.maxmemory_policy: \"lru\" is not one of");
	/* The slice spec's own parser refuses what the options made of it. */
	assert_true(expand(&p, "kv", "{'memory': '1K'}", &x, &err) < 0);
	assert_contains(err.message, "templates/redis.json: app: slice.resources.memory");
	assert_true(expand(&p, "Bad_Name", NULL, &x, &err) < 0);
	assert_contains(err.message, "install name \"Bad_Name\"");
	pkg_free(&p);
}

/* ---- broken packages written by the test ------------------------------------------------- */

static int setup(void **state)
{
	return tmp_setup(state, "pkg");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

static void put(struct tmp *t, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t->path, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (const char *c = text; *c; c++)
		fputc(*c == '\'' ? '"' : *c, f);
	fclose(f);
}

static const char manifest[] = "{'name': 'demo', 'version': '1.2.0', 'description': 'a demo',"
			       " 'upgrades_from': ['1.0.0', '1.1.0']}";
static const char config[] = "{'type': 'object', 'properties': {"
			     " 'count': {'type': 'integer', 'default': 2, 'minimum': 0},"
			     " 'extra': {'type': 'boolean', 'default': false},"
			     " 'opt': {'type': 'string'},"
			     " 'pw': {'type': 'string', 'secret': true}}}";
static const char web[] = "{'app': {'name': '{{install.name}}-web', 'instances': "
			  "'{{options.count}}', 'slice': {'command': ['/bin/sleep', '1000']},"
			  " 'labels': {'package': '{{package.name}}-{{package.version}}'}}}";

/* A package in the test's directory with the given templates only (NULL: none). */
static void write_package(struct tmp *t, const char *pkg_json, const char *cfg,
			  const char *const *templates)
{
	char dir[512];
	struct dirent *e;
	snprintf(dir, sizeof(dir), "%s/templates", t->path);
	mkdir(dir, 0755);
	DIR *d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	put(t, "package.json", pkg_json);
	put(t, "config.json", cfg);
	for (size_t i = 0; templates && templates[i]; i += 2) {
		char name[128];
		snprintf(name, sizeof(name), "templates/%s", templates[i]);
		put(t, name, templates[i + 1]);
	}
}

static void expect_load_refused(struct tmp *t, const char *needle)
{
	struct pkg p;
	struct acre_error err = {0};
	assert_true(pkg_load(t->path, &p, &err) < 0);
	assert_contains(err.message, needle);
}

static void test_written_package(void **state)
{
	struct tmp *t = *state;
	const char *const templates[] = {
		"web.json",
		web,
		"data.json",
		"{'volume': {'name': '{{install.name}}-data', 'size': '1G'}}",
		"extra.json",
		"{'when': {'options.extra': true}, 'app': {'name': '{{install.name}}-extra',"
		" 'slice': {'command': ['/bin/true']}, 'dependencies': ['{{install.name}}-web']}}",
		NULL};
	struct pkg p;
	struct pkg_expansion x;
	struct acre_error err = {0};
	write_package(t, manifest, config, templates);
	if (pkg_load(t->path, &p, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(p.templates[0].file, "templates/data.json");
	expand_ok(&p, "d1", "{'extra': true, 'count': 4}", &x);
	assert_int_equal(json_array_size(x.apps), 2);
	const json_t *w = app_at(&x, 0);
	assert_string_equal(json_string_value(json_object_get(w, "name")), "d1-web");
	assert_int_equal(json_integer_value(json_object_get(w, "instances")), 4);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(w, "labels"), "package")),
		"demo-1.2.0");
	const json_t *v = json_array_get(x.volumes, 0);
	assert_string_equal(json_string_value(json_object_get(v, "name")), "d1-data");
	assert_int_equal(json_integer_value(json_object_get(v, "size")), 1 << 30);
	assert_string_equal(pkg_owner(v), "d1");
	_cleanup_json_ json_t *plan = pkg_plan(&x);
	_cleanup_strv_free_ char **lines = pkg_plan_lines(plan);
	size_t n = acre_strv_length(lines);
	assert_true(n >= 2);
	assert_string_equal(lines[n - 2], "volume d1-data: 1G");
	assert_string_equal(lines[n - 1], "start order: d1-web, d1-extra");
	pkg_expansion_free(&x);

	/* Without the variant, only the app and the volume. */
	expand_ok(&p, "d1", NULL, &x);
	assert_int_equal(json_array_size(x.apps), 1);
	/* An option without a value read by a template. */
	pkg_expansion_free(&x);

	/* Upgrades: from a listed version, never down, never unlisted. */
	assert_int_equal(pkg_upgrade_check(&p, "1.1.0", &err), 0);
	assert_int_equal(pkg_upgrade_check(&p, "1.2.0", &err), 0);
	assert_int_equal(pkg_upgrade_check(&p, "0.9.0", &err), -EPERM);
	assert_string_equal(err.message,
			    "demo 1.2.0 cannot upgrade 0.9.0 in place: its upgrades_from lists "
			    "1.0.0, 1.1.0");
	assert_int_equal(pkg_upgrade_check(&p, "1.3.0", &err), -EPERM);
	assert_contains(err.message, "is older than the installed 1.3.0");
	pkg_free(&p);
}

static void test_unset_option_and_conflicts(void **state)
{
	struct tmp *t = *state;
	const char *const unset[] = {
		"web.json",
		"{'app': {'name': 'x', 'slice': {'command': ['/bin/echo', '{{options.opt}}']}}}",
		NULL};
	struct pkg p;
	struct pkg_expansion x;
	struct acre_error err = {0};
	write_package(t, manifest, config, unset);
	assert_int_equal(pkg_load(t->path, &p, &err), 0);
	assert_true(expand(&p, "d", NULL, &x, &err) < 0);
	assert_string_equal(err.message, "templates/web.json: app.slice.command[1]: unknown "
					 "placeholder {{options.opt}}: no such option, or it has "
					 "no value");
	assert_int_equal(expand(&p, "d", "{'opt': 'hi'}", &x, &err), 0);
	pkg_expansion_free(&x);
	pkg_free(&p);

	const char *const twice[] = {"a.json", web, "b.json", web, NULL};
	write_package(t, manifest, config, twice);
	assert_int_equal(pkg_load(t->path, &p, &err), 0);
	assert_true(expand(&p, "d", NULL, &x, &err) < 0);
	assert_string_equal(err.message, "templates/b.json: app d-web: also made by "
					 "templates/a.json");
	pkg_free(&p);

	const char *const dep[] = {
		"a.json",
		"{'app': {'name': 'a', 'slice': {'command': ['/bin/true']}, 'dependencies': "
		"['nope']}}",
		NULL};
	write_package(t, manifest, config, dep);
	assert_int_equal(pkg_load(t->path, &p, &err), 0);
	assert_true(expand(&p, "d", NULL, &x, &err) < 0);
	assert_contains(err.message, "no app named nope");
	pkg_free(&p);
}

static void test_load_refused(void **state)
{
	struct tmp *t = *state;
	const char *const unknown[] = {"web.json",
				       "{'app': {'name': 'x', 'slice': {'command': ['/bin/echo', "
				       "'at {{options.nope}}']}}}",
				       NULL};
	write_package(t, manifest, config, unknown);
	expect_load_refused(t, "templates/web.json: app.slice.command[1]: unknown placeholder "
			       "{{options.nope}}: no such option");

	const char *const other[] = {"web.json", "{'app': {'name': '{{install.nam}}'}}", NULL};
	write_package(t, manifest, config, other);
	expect_load_refused(t, "templates/web.json: app.name: unknown placeholder "
			       "{{install.nam}}");
	const char *const open[] = {"web.json", "{'app': {'name': 'x{{install.name'}}", NULL};
	write_package(t, manifest, config, open);
	expect_load_refused(t, "templates/web.json: app.name: \"{{\" opens no placeholder");
	const char *const when[] = {
		"web.json", "{'when': {'options.extra': 'yes'}, 'app': {'name': 'x'}}", NULL};
	write_package(t, manifest, config, when);
	expect_load_refused(t, "templates/web.json: when: options.extra: \"yes\" is a string, "
			       "not a boolean");
	const char *const secret[] = {
		"web.json",
		"{'app': {'name': 'x', 'slice': {'command': ['/bin/x'], 'env': {'PW': "
		"'{{options.pw}}'}}}}",
		NULL};
	write_package(t, manifest, config, secret);
	expect_load_refused(t, "templates/web.json: app.slice.env.PW: {{options.pw}} is a secret: "
			       "it reaches the task as a file in /run/secrets");
	const char *const both[] = {"web.json", "{'app': {}, 'volume': {}}", NULL};
	write_package(t, manifest, config, both);
	expect_load_refused(t, "templates/web.json: must have one of app and volume");
	const char *const good[] = {"web.json", web, NULL};
	write_package(t, manifest, config, good);

	write_package(t, "{'name': 'demo', 'version': '1.2', 'description': 'd', 'tag': []}",
		      config, NULL);
	expect_load_refused(t, "package.json: tag: unknown field");
	write_package(t, "{'name': 'Demo', 'version': '1.2', 'description': 'd'}", config, NULL);
	expect_load_refused(t, "package.json: name: \"Demo\" must be 1 to 32");
	write_package(t, "{'name': 'demo', 'version': 'one', 'description': 'd'}", config, NULL);
	expect_load_refused(t, "package.json: version: \"one\" is not a version");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', "
		      "'upgrades_from': ['1.3']}",
		      config, NULL);
	expect_load_refused(t, "package.json: upgrades_from[0]: 1.3 is not older");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://example.org/x.tgz'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: give one of sha256");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'ftp://example.org/x.tgz', 'sha256': 'ab'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: uri: \"ftp://example.org/x.tgz\"");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'binary': 'redis-server', 'deb': 'redis-server'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: binary: \"redis-server\" must be an "
			       "absolute path");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://e.org/x.tgz', 'sha256_from': 'https://e.org/x.sha256'},"
		      " {'binary': '/usr/bin/x', 'deb': 'x', 'sha256': 'x'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[1]: sha256: unknown field");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://e.org/x.tgz', 'sha256_from': 'https://e.org/S'},"
		      " {'uri': 'https://e.org/y.tgz', 'sha512_from': 'https://e.org/y.sha512'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[1]: path: /opt is taken by artifacts[0]");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://e.org/x.tgz', 'sha512_from': 'https://e.org/x.sha512', "
		      "'path': '/tmp/x'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: path: \"/tmp/x\" must be");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://e.org/x.tgz', 'sha256': '" SUM "', 'extract': 'yes'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: extract: true or false");
	write_package(t,
		      "{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		      "[{'uri': 'https://e.org/x.tgz', 'sha256_from': 'https://e.org/S', "
		      "'sha512_from': 'https://e.org/x.sha512'}]}",
		      config, NULL);
	expect_load_refused(t, "package.json: artifacts[0]: give one of sha256");
	write_package(
		t,
		"{'name': 'demo', 'version': '1.2', 'description': 'd', 'artifacts': "
		"[{'binary': '/usr/lib/a/very/long/path/that/does/not/fit/in/an/attribute/x', "
		"'deb': 'x'}]}",
		config, NULL);
	expect_load_refused(t, "must be an absolute path of at most 59");
	write_package(t, manifest, config, good);
	put(t, "icon.svg", "<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>");
	struct pkg p;
	struct acre_error err = {0};
	if (pkg_load(t->path, &p, &err) < 0)
		fail_msg("%s", err.message);
	pkg_free(&p);
	put(t, "icon.svg", "<svg><SCRIPT>alert(1)</SCRIPT></svg>");
	expect_load_refused(t, "icon.svg: <script: not in an icon");
	put(t, "icon.svg", "<svg><rect\n  ONload = 'x()'/></svg>");
	expect_load_refused(t, "icon.svg: an event handler attribute");
	/* Words in text are not attributes. */
	put(t, "icon.svg", "<svg><text>on the left = fine, one</text></svg>");
	assert_int_equal(pkg_load(t->path, &p, &err), 0);
	pkg_free(&p);
	put(t, "icon.svg", "not a picture");
	expect_load_refused(t, "icon.svg: not an SVG image");
	char icon[512];
	snprintf(icon, sizeof(icon), "%s/icon.svg", t->path);
	unlink(icon);

	write_package(t, manifest, "{'type': 'object', 'properties': {'a': {'type': 'x'}}}", NULL);
	expect_load_refused(t, "config.json: properties.a.type");
	write_package(t, "{'name': 'demo', 'version': '1.2', 'description': 'd',}", config, NULL);
	expect_load_refused(t, "package.json: line 1:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_load),
		cmocka_unit_test(test_artifacts_reach_every_app),
		cmocka_unit_test(test_redis_default),
		cmocka_unit_test(test_redis_replicas_variant),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_bad_install_options),
		cmocka_unit_test_setup_teardown(test_written_package, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unset_option_and_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("package expansion", tests, NULL, NULL);
}
