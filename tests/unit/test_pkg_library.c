/*
 * The shipped library, every package of it: each loaded from packages/ as
 * an install reads it, its templates rendered with the defaults and with
 * options that are not (zookeeper of 5, more workers, other ports), the
 * expansion checked whole, and its plan read for what the package is
 * meant to run: instances, spread and unique, ports, volumes, dependencies
 * and start order (cassandra ordered with a volume each, hadoop's name
 * nodes after the journal, kubernetes' API server after etcd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <libgen.h>
#include <sys/stat.h>

#include "controller/packages/packages.h"
#include "json_q.h"

/* Every package the library ships; test_every_package_listed keeps this list true. */
static const char *const shipped[] = {
	"cassandra", "etcd",	   "hadoop",	 "haproxy",  "kubernetes", "mariadb", "memcached",
	"nginx",     "postgresql", "prometheus", "rabbitmq", "redis",	   "spark",   "zookeeper",
};

/* Options an install of each must give: kubernetes' two secrets have no default. */
static const char *required_options(const char *name)
{
	if (!strcmp(name, "kubernetes"))
		return "{'service_account_key': 'PEM', 'admin_token': 'token'}";
	return NULL;
}

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

/* The plan of install `install` of package `name` with `options` (NULL: the defaults). */
static json_t *plan_of(const char *name, const char *install, const char *options)
{
	struct pkg p;
	struct pkg_expansion x;
	struct acre_error err = {0};
	load(name, &p);
	_cleanup_json_ json_t *given = options ? json_q(options) : NULL;
	_cleanup_json_ json_t *full = NULL;
	if (pkg_options_check(p.schema, given, &full, &err) < 0)
		fail_msg("%s: options %s: %s", name, options ? options : "(none)", err.message);
	struct pkg_context ctx = {
		.install = install, .package = p.name, .version = p.version, .options = full};
	if (pkg_expand(&p, &ctx, &x, &err) < 0)
		fail_msg("%s: expanding: %s", name, err.message);
	/* Every object the install makes carries its label. */
	size_t i;
	json_t *a;
	json_array_foreach (x.apps, i, a)
		assert_string_equal(pkg_owner(a), install);
	json_t *plan = pkg_plan(&x);
	pkg_expansion_free(&x);
	pkg_free(&p);
	return plan;
}

static const json_t *plan_app(const json_t *plan, const char *name)
{
	size_t i;
	const json_t *a;
	json_array_foreach (json_object_get(plan, "apps"), i, a)
		if (!strcmp(json_string_value(json_object_get(a, "name")), name))
			return a;
	fail_msg("the plan has no app %s", name);
	return NULL;
}

static json_int_t instances(const json_t *app)
{
	return json_integer_value(json_object_get(app, "instances"));
}

static const char *unique(const json_t *app)
{
	return json_string_value(json_object_get(json_object_get(app, "placement"), "unique"));
}

static bool ordered(const json_t *app)
{
	return json_is_true(json_object_get(app, "ordered"));
}

static bool vip(const json_t *app)
{
	return json_is_true(json_object_get(app, "vip"));
}

/* Whether the app declares a port named `port` numbered `number`. */
static bool has_port(const json_t *app, const char *port, int number)
{
	char want[64];
	snprintf(want, sizeof(want), "%s:%d", port, number);
	size_t i;
	const json_t *p;
	json_array_foreach (json_object_get(app, "ports"), i, p) {
		const char *s = json_string_value(p);
		if (!strncmp(s, want, strlen(want)) && (!s[strlen(want)] || s[strlen(want)] == '/'))
			return true;
	}
	return false;
}

/* The app's volume `name`: its size in bytes, where it is mounted. */
static void assert_volume(const json_t *app, const char *name, json_int_t bytes, const char *path)
{
	size_t i;
	const json_t *v;
	json_array_foreach (json_object_get(app, "volumes"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")), name)) {
			assert_int_equal(json_integer_value(json_object_get(v, "size")), bytes);
			assert_string_equal(json_string_value(json_object_get(v, "path")), path);
			return;
		}
	fail_msg("app %s has no volume %s", json_string_value(json_object_get(app, "name")), name);
}

static bool depends_on(const json_t *app, const char *other)
{
	size_t i;
	const json_t *d;
	json_array_foreach (json_object_get(app, "dependencies"), i, d)
		if (!strcmp(json_string_value(d), other))
			return true;
	return false;
}

/* The app's position in the plan's start order. */
static size_t order_of(const json_t *plan, const char *name)
{
	size_t i;
	const json_t *n;
	json_array_foreach (json_object_get(plan, "order"), i, n)
		if (!strcmp(json_string_value(n), name))
			return i;
	fail_msg("%s is not in the start order", name);
	return 0;
}

/* The instance's slice command joined by spaces (the shell script of most packages). */
static char *command_text(const json_t *plan, const char *app)
{
	const json_t *spec = json_object_get(json_object_get(plan, "spec"), app);
	const json_t *cmd = json_object_get(json_object_get(spec, "slice"), "command");
	size_t i, len = 1;
	const json_t *a;
	json_array_foreach (cmd, i, a)
		len += strlen(json_string_value(a)) + 1;
	char *s = calloc(1, len);
	assert_non_null(s);
	json_array_foreach (cmd, i, a) {
		if (i)
			strcat(s, " ");
		strcat(s, json_string_value(a));
	}
	return s;
}

static const char *slice_env(const json_t *plan, const char *app, const char *key)
{
	const json_t *spec = json_object_get(json_object_get(plan, "spec"), app);
	return json_string_value(
		json_object_get(json_object_get(json_object_get(spec, "slice"), "env"), key));
}

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static void test_every_package_listed(void **state)
{
	(void)state;
	struct acre_error err = {0};
	_cleanup_json_ json_t *list = NULL;
	assert_int_equal(pkg_repo_dir_list(repo(), &list, &err), 0);
	assert_int_equal(json_object_size(list), ACRE_ARRAY_SIZE(shipped));
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(shipped); i++)
		if (!json_object_get(list, shipped[i]))
			fail_msg("packages/ has no %s", shipped[i]);
}

/*
 * Each package loads whole (package.json, the schema, every template
 * checked against it, the icon), shows, runs on this acre, and expands
 * with its defaults alone: the defaults themselves valid, every app one
 * the apps module takes, every app named after the install.
 */
static void test_every_package_loads_and_expands(void **state)
{
	(void)state;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(shipped); i++) {
		struct pkg p;
		struct acre_error err = {0};
		load(shipped[i], &p);
		assert_string_equal(p.name, shipped[i]);
		assert_non_null(p.icon);
		assert_non_null(p.description);
		assert_non_null(p.post_install);
		assert_true(p.nartifacts > 0);
		for (size_t k = 0; k < p.nartifacts; k++)
			if (p.artifacts[k].kind == PKG_ARTIFACT_URI)
				/* Nothing is pinned that could not be confirmed here. */
				assert_true(p.artifacts[k].sha256_from ||
					    p.artifacts[k].sha512_from);
		if (pkg_check_acre_version(&p, ACRE_VERSION, &err) < 0)
			fail_msg("%s: %s", shipped[i], err.message);
		/* Every option is documented for the install form. */
		_cleanup_json_ json_t *defaults = pkg_options_defaults(p.schema);
		assert_non_null(defaults);
		json_t *shown = pkg_to_json(&p);
		assert_non_null(json_object_get(shown, "config"));
		json_decref(shown);
		pkg_free(&p);

		_cleanup_json_ json_t *plan =
			plan_of(shipped[i], "inst", required_options(shipped[i]));
		size_t n;
		const json_t *a;
		assert_true(json_array_size(json_object_get(plan, "apps")) > 0);
		json_array_foreach (json_object_get(plan, "apps"), n, a) {
			const char *name = json_string_value(json_object_get(a, "name"));
			if (strncmp(name, "inst", 4) || (name[4] && name[4] != '-'))
				fail_msg("%s: app %s is not named after the install", shipped[i],
					 name);
			assert_true(instances(a) >= 1);
		}
		_cleanup_strv_free_ char **lines = pkg_plan_lines(plan);
		assert_non_null(lines);
	}
}

static void check_schema_titles(const json_t *schema, const char *where)
{
	const json_t *props = json_object_get(schema, "properties");
	const char *k;
	const json_t *v;
	json_object_foreach ((json_t *)props, k, v) {
		if (!json_is_string(json_object_get(v, "title")))
			fail_msg("%s.%s: no title", where, k);
		if (json_object_get(v, "properties")) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", where, k);
			check_schema_titles(v, sub);
		} else if (!json_is_string(json_object_get(v, "description")))
			fail_msg("%s.%s: no description", where, k);
	}
}

static void test_every_option_has_a_title(void **state)
{
	(void)state;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(shipped); i++) {
		struct pkg p;
		load(shipped[i], &p);
		check_schema_titles(p.schema, shipped[i]);
		pkg_free(&p);
	}
}

static void test_nginx_and_haproxy(void **state)
{
	(void)state;
	_cleanup_json_ json_t *web = plan_of("nginx", "web", NULL);
	const json_t *a = plan_app(web, "web");
	assert_int_equal(instances(a), 2);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "placement"), "strategy")),
		"spread");
	assert_true(has_port(a, "http", 80));
	assert_true(vip(a));
	assert_string_equal(slice_env(web, "web", "PAGE"), "Welcome to acre");

	_cleanup_json_ json_t *web5 = plan_of("nginx", "site",
					      "{'instances': 5, 'port': 8080, "
					      "'page': 'Hello, pool'}");
	assert_int_equal(instances(plan_app(web5, "site")), 5);
	assert_true(has_port(plan_app(web5, "site"), "http", 8080));
	assert_string_equal(slice_env(web5, "site", "PAGE"), "Hello, pool");

	/* A page that would be markup is refused before anything renders. */
	struct pkg p;
	struct acre_error err = {0};
	load("nginx", &p);
	_cleanup_json_ json_t *bad = json_q("{'page': '<script>'}");
	json_t *full = NULL;
	assert_true(pkg_options_check(p.schema, bad, &full, &err) < 0);
	assert_contains(err.message, "options.page");
	pkg_free(&p);

	/* haproxy fronts another install by its DNS name. */
	_cleanup_json_ json_t *lb = plan_of("haproxy", "lb",
					    "{'backend': 'site', "
					    "'backend_port': 8080}");
	const json_t *h = plan_app(lb, "lb");
	assert_string_equal(unique(h), "node");
	assert_true(has_port(h, "http", 80));
	assert_string_equal(slice_env(lb, "lb", "BACKEND"), "site");
	assert_string_equal(slice_env(lb, "lb", "BACKEND_PORT"), "8080");
	_cleanup_free_ char *cmd = command_text(lb, "lb");
	assert_contains(cmd, "server-template srv $SERVERS $BACKEND.acre:$BACKEND_PORT");
	assert_contains(cmd, "monitor-uri /haproxy-health");
	load("haproxy", &p);
	_cleanup_json_ json_t *badb = json_q("{'backend': 'Site.x'}");
	assert_true(pkg_options_check(p.schema, badb, &full, &err) < 0);
	assert_contains(err.message, "options.backend");
	pkg_free(&p);
}

static void test_databases_keep_their_data(void **state)
{
	(void)state;
	_cleanup_json_ json_t *pg = plan_of("postgresql", "db", NULL);
	const json_t *a = plan_app(pg, "db");
	assert_int_equal(instances(a), 1);
	assert_true(has_port(a, "postgres", 5432));
	assert_volume(a, "data", 1LL << 30, "/var/lib/postgresql");
	_cleanup_free_ char *cmd = command_text(pg, "db");
	assert_contains(cmd, "initdb");
	assert_contains(cmd, "/run/secrets/password");
	_cleanup_json_ json_t *pg2 = plan_of("postgresql", "db",
					     "{'volume_size': '8G', "
					     "'password': 'hunter2'}");
	assert_volume(plan_app(pg2, "db"), "data", 8LL << 30, "/var/lib/postgresql");
	/* The password reaches the task as a file only: nowhere in what the apps show. */
	_cleanup_free_ char *shown = json_dumps(pg2, JSON_COMPACT);
	assert_null(strstr(shown, "hunter2"));

	_cleanup_json_ json_t *my = plan_of("mariadb", "my", "{'port': 3307}");
	assert_true(has_port(plan_app(my, "my"), "mysql", 3307));
	assert_volume(plan_app(my, "my"), "data", 1LL << 30, "/var/lib/mysql");
	_cleanup_free_ char *mcmd = command_text(my, "my");
	assert_contains(mcmd, "mariadb-install-db");

	_cleanup_json_ json_t *mq = plan_of("rabbitmq", "mq", NULL);
	assert_true(has_port(plan_app(mq, "mq"), "amqp", 5672));
	assert_volume(plan_app(mq, "mq"), "data", 1LL << 30, "/var/lib/rabbitmq");
}

static void test_zookeeper_ensembles(void **state)
{
	(void)state;
	_cleanup_json_ json_t *zk = plan_of("zookeeper", "zk", NULL);
	assert_int_equal(json_array_size(json_object_get(zk, "apps")), 1);
	const json_t *a = plan_app(zk, "zk");
	assert_int_equal(instances(a), 3);
	assert_string_equal(unique(a), "node");
	assert_true(ordered(a));
	assert_true(has_port(a, "client", 2181));
	assert_true(has_port(a, "peer", 2888));
	assert_true(has_port(a, "election", 3888));
	assert_volume(a, "data", 1LL << 30, "/var/lib/zookeeper");
	_cleanup_free_ char *cmd = command_text(zk, "zk");
	assert_contains(cmd, "server.3=$NAME-2.acre:2888:3888");
	assert_null(strstr(cmd, "server.4"));
	assert_contains(cmd, "$((ACRE_INSTANCE + 1))");

	/* members 5: the other variant, five servers listed. */
	_cleanup_json_ json_t *zk5 = plan_of("zookeeper", "zk", "{'members': 5}");
	assert_int_equal(json_array_size(json_object_get(zk5, "apps")), 1);
	assert_int_equal(instances(plan_app(zk5, "zk")), 5);
	_cleanup_free_ char *cmd5 = command_text(zk5, "zk");
	assert_contains(cmd5, "server.5=$NAME-4.acre:2888:3888");

	struct pkg p;
	struct acre_error err = {0};
	load("zookeeper", &p);
	_cleanup_json_ json_t *four = json_q("{'members': 4}");
	json_t *full = NULL;
	assert_true(pkg_options_check(p.schema, four, &full, &err) < 0);
	assert_string_equal(err.message, "options.members: 4 is not one of 3, 5");
	pkg_free(&p);
}

static void test_etcd_cluster(void **state)
{
	(void)state;
	_cleanup_json_ json_t *e = plan_of("etcd", "kv", NULL);
	const json_t *a = plan_app(e, "kv");
	assert_int_equal(instances(a), 3);
	assert_string_equal(unique(a), "node");
	/* The members bootstrap together: none waits for another to be healthy. */
	assert_false(ordered(a));
	assert_true(has_port(a, "client", 2379));
	assert_true(has_port(a, "peer", 2380));
	assert_volume(a, "data", 3LL << 30, "/var/lib/etcd");
	_cleanup_free_ char *cmd = command_text(e, "kv");
	assert_contains(cmd, "--initial-cluster $NAME-0=http://$NAME-0.acre:2380,"
			     "$NAME-1=http://$NAME-1.acre:2380,$NAME-2=http://$NAME-2.acre:2380 ");
	assert_string_equal(slice_env(e, "kv", "NAME"), "kv");
	_cleanup_json_ json_t *e5 = plan_of("etcd", "kv", "{'members': 5}");
	assert_int_equal(instances(plan_app(e5, "kv")), 5);
	_cleanup_free_ char *cmd5 = command_text(e5, "kv");
	assert_contains(cmd5, "$NAME-4=http://$NAME-4.acre:2380 ");
}

static void test_prometheus_targets(void **state)
{
	(void)state;
	_cleanup_json_ json_t *pr = plan_of("prometheus", "mon", NULL);
	const json_t *a = plan_app(pr, "mon");
	assert_true(has_port(a, "http", 9090));
	assert_volume(a, "data", 4LL << 30, "/var/lib/prometheus");
	assert_string_equal(slice_env(pr, "mon", "SUPERVISORS"), "");
	_cleanup_json_ json_t *pr2 = plan_of("prometheus", "mon",
					     "{'controller': '198.18.0.1:7443', 'supervisors': "
					     "'198.18.0.2:9100,198.18.0.3:9100'}");
	assert_string_equal(slice_env(pr2, "mon", "CONTROLLER"), "198.18.0.1:7443");
	assert_string_equal(slice_env(pr2, "mon", "SUPERVISORS"),
			    "198.18.0.2:9100,198.18.0.3:9100");
	struct pkg p;
	struct acre_error err = {0};
	load("prometheus", &p);
	_cleanup_json_ json_t *bad = json_q("{'supervisors': '198.18.0.2:9100;rm -rf /'}");
	json_t *full = NULL;
	assert_true(pkg_options_check(p.schema, bad, &full, &err) < 0);
	assert_contains(err.message, "options.supervisors");
	pkg_free(&p);
}

static void test_spark(void **state)
{
	(void)state;
	_cleanup_json_ json_t *s = plan_of("spark", "sp", "{'workers': 4}");
	const json_t *m = plan_app(s, "sp-master"), *w = plan_app(s, "sp-worker");
	assert_int_equal(instances(m), 1);
	assert_true(has_port(m, "spark", 7077));
	assert_true(has_port(m, "rest", 6066));
	assert_int_equal(instances(w), 4);
	assert_string_equal(unique(w), "node");
	assert_true(depends_on(w, "sp-master"));
	assert_true(order_of(s, "sp-master") < order_of(s, "sp-worker"));
	assert_string_equal(slice_env(s, "sp-worker", "MASTER"), "sp-master");
}

static void test_cassandra_ordered_ring(void **state)
{
	(void)state;
	_cleanup_json_ json_t *c = plan_of("cassandra", "ring", NULL);
	const json_t *a = plan_app(c, "ring");
	assert_int_equal(instances(a), 3);
	assert_true(ordered(a));
	assert_string_equal(unique(a), "node");
	assert_true(has_port(a, "cql", 9042));
	assert_volume(a, "data", 10LL << 30, "/var/lib/cassandra");
	_cleanup_free_ char *cmd = command_text(c, "ring");
	assert_contains(cmd, "seeds: \"$NAME-0.acre:$PORT_GOSSIP,$NAME-1.acre:$PORT_GOSSIP\"");
	_cleanup_json_ json_t *c5 =
		plan_of("cassandra", "ring", "{'nodes': 5, 'volume_size': '50G'}");
	assert_int_equal(instances(plan_app(c5, "ring")), 5);
	assert_volume(plan_app(c5, "ring"), "data", 50LL << 30, "/var/lib/cassandra");
}

static void test_hadoop(void **state)
{
	(void)state;
	_cleanup_json_ json_t *h = plan_of("hadoop", "hd", NULL);
	assert_int_equal(json_array_size(json_object_get(h, "apps")), 5);
	const json_t *j = plan_app(h, "hd-journal"), *n = plan_app(h, "hd-name"),
		     *d = plan_app(h, "hd-data"), *rm = plan_app(h, "hd-resourcemanager"),
		     *nm = plan_app(h, "hd-nodemanager");
	assert_int_equal(instances(j), 3);
	assert_int_equal(instances(n), 2);
	assert_int_equal(instances(d), 3);
	assert_int_equal(instances(rm), 1);
	assert_int_equal(instances(nm), 3);
	assert_string_equal(unique(j), "node");
	assert_string_equal(unique(n), "node");
	assert_string_equal(unique(d), "node");
	/* Name node 0 formats before name node 1 copies it. */
	assert_true(ordered(n));
	assert_volume(j, "journal", 10LL << 30, "/var/lib/hadoop");
	assert_volume(n, "name", 10LL << 30, "/var/lib/hadoop");
	assert_volume(d, "data", 10LL << 30, "/var/lib/hadoop");
	assert_true(depends_on(n, "hd-journal"));
	assert_true(depends_on(d, "hd-name"));
	assert_true(depends_on(rm, "hd-name"));
	assert_true(depends_on(nm, "hd-resourcemanager"));
	assert_true(order_of(h, "hd-journal") < order_of(h, "hd-name"));
	assert_true(order_of(h, "hd-name") < order_of(h, "hd-data"));
	assert_true(order_of(h, "hd-resourcemanager") < order_of(h, "hd-nodemanager"));
	_cleanup_free_ char *cmd = command_text(h, "hd-name");
	assert_contains(cmd, "qjournal://$NAME-journal-0.acre:8485;$NAME-journal-1.acre:8485;"
			     "$NAME-journal-2.acre:8485/$NAME");
	_cleanup_json_ json_t *h2 = plan_of("hadoop", "hd", "{'datanodes': 6, 'nodemanagers': 2}");
	assert_int_equal(instances(plan_app(h2, "hd-data")), 6);
	assert_int_equal(instances(plan_app(h2, "hd-nodemanager")), 2);
}

static void test_kubernetes(void **state)
{
	(void)state;
	_cleanup_json_ json_t *k = plan_of("kubernetes", "k8s", required_options("kubernetes"));
	assert_int_equal(json_array_size(json_object_get(k, "apps")), 5);
	const json_t *e = plan_app(k, "k8s-etcd"), *api = plan_app(k, "k8s-apiserver"),
		     *cm = plan_app(k, "k8s-controller-manager"),
		     *sc = plan_app(k, "k8s-scheduler"), *kl = plan_app(k, "k8s-kubelet");
	assert_int_equal(instances(e), 3);
	assert_string_equal(unique(e), "node");
	assert_volume(e, "data", 4LL << 30, "/var/lib/etcd");
	assert_true(depends_on(api, "k8s-etcd"));
	assert_true(depends_on(cm, "k8s-apiserver"));
	assert_true(depends_on(sc, "k8s-apiserver"));
	assert_true(depends_on(kl, "k8s-apiserver"));
	assert_true(has_port(api, "https", 6443));
	assert_true(vip(api));
	assert_int_equal(instances(kl), 3);
	assert_string_equal(unique(kl), "node");
	assert_true(order_of(k, "k8s-etcd") < order_of(k, "k8s-apiserver"));
	assert_true(order_of(k, "k8s-apiserver") < order_of(k, "k8s-scheduler"));
	/* The secrets reach the tasks as files; their values are nowhere in the plan. */
	_cleanup_free_ char *shown = json_dumps(k, JSON_COMPACT);
	assert_null(strstr(shown, "PEM"));
	assert_non_null(strstr(shown, "/run/secrets/admin_token"));

	/* Without its secrets the install is refused, naming the option. */
	struct pkg p;
	struct acre_error err = {0};
	load("kubernetes", &p);
	json_t *full = NULL;
	assert_true(pkg_options_check(p.schema, NULL, &full, &err) < 0);
	assert_contains(err.message, "required");
	pkg_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_package_listed),
		cmocka_unit_test(test_every_package_loads_and_expands),
		cmocka_unit_test(test_every_option_has_a_title),
		cmocka_unit_test(test_nginx_and_haproxy),
		cmocka_unit_test(test_databases_keep_their_data),
		cmocka_unit_test(test_zookeeper_ensembles),
		cmocka_unit_test(test_etcd_cluster),
		cmocka_unit_test(test_prometheus_targets),
		cmocka_unit_test(test_spark),
		cmocka_unit_test(test_cassandra_ordered_ring),
		cmocka_unit_test(test_hadoop),
		cmocka_unit_test(test_kubernetes),
	};
	return cmocka_run_group_tests_name("the shipped package library", tests, NULL, NULL);
}
