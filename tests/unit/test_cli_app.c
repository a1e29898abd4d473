/*
 * `acre app run|update` flags onto the app spec, through the functions
 * --print-spec uses (cli/app_flags.c): each flag to its field, one to one;
 * what the controller's own parser (controller/apps/app_spec.c) makes of
 * the result; the flags applied to an app's current spec (update: lists
 * replaced, keys set, the rest kept); and the errors of bad flags, each
 * naming its flag.  Also the names `acre app` checks (cli/app_names.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "controller/apps/apps.h"
#include "json_q.h"

/* argv from a NULL-terminated list; argv[0] is the verb. */
static int build(const char *verb, const char *const *words, char **argv, int max)
{
	int n = 0;
	argv[n++] = (char *)verb;
	for (; words[n - 1] && n < max - 1; n++)
		argv[n] = (char *)words[n - 1];
	argv[n] = NULL;
	return n;
}

/* The spec the words make over base (NULL: a new app), or NULL with err filled. */
static json_t *spec_of(const char *verb, const json_t *base, const char *const *words,
		       struct acre_error *err)
{
	char *argv[128];
	int argc = build(verb, words, argv, 128);
	struct app_flags f;
	json_t *spec = base ? json_deep_copy(base) : json_object();
	int rc = app_flags_parse(verb, argc, argv, &f, err);
	if (rc == 0)
		rc = app_flags_apply(&f, verb, spec, err);
	app_flags_free(&f);
	if (rc < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

static json_t *ok(const char *verb, const json_t *base, const char *const *words)
{
	struct acre_error err = {0};
	json_t *spec = spec_of(verb, base, words, &err);
	if (!spec)
		fail_msg("flags refused: %s (field %s)", err.message, err.field);
	return spec;
}

static void assert_json(const json_t *got, const char *want_q)
{
	_cleanup_json_ json_t *want = json_q(want_q);
	if (!json_equal(got, want)) {
		_cleanup_free_ char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
		_cleanup_free_ char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
		fail_msg("got %s\nwant %s", g, w);
	}
}

static const json_t *at(const json_t *o, const char *key)
{
	return json_object_get(o, key);
}

static void test_every_flag(void **state)
{
	(void)state;
	static const char *const words[] = {
		"web",
		"--instances",
		"3",
		"--port",
		"http:8080",
		"--port",
		"dns:53/udp",
		"--publish",
		"18080:http",
		"--vip",
		"--net",
		"bridge",
		"--cpus",
		"0.5",
		"--memory",
		"256M",
		"--pids",
		"64",
		"--user",
		"nobody",
		"--cwd",
		"/srv",
		"--env",
		"LANG=C.UTF-8",
		"--cap",
		"NET_BIND_SERVICE",
		"--check-http",
		"http/healthz",
		"--ready-tcp",
		"http",
		"--check-cmd",
		"test -f /tmp/ok",
		"--check-interval",
		"2s",
		"--constraint",
		"zone!=c",
		"--spread",
		"zone",
		"--strategy",
		"spread",
		"--unique",
		"node",
		"--depends",
		"db",
		"--depends",
		"cache",
		"--volume",
		"data:1G:/var/lib/web",
		"--ordered",
		"--on-partition",
		"wait",
		"--min-healthy",
		"90%",
		"--max-surge",
		"2",
		"--max-unavailable",
		"25%",
		"--history",
		"5",
		"--no-auto-rollback",
		"--backoff-initial",
		"2s",
		"--backoff-factor",
		"1.5",
		"--backoff-max",
		"10m",
		"--backoff-reset-after",
		"30m",
		"--label",
		"team=blue",
		"--",
		"/usr/bin/server",
		"--port",
		"8080",
		NULL,
	};
	_cleanup_json_ json_t *spec = ok("run", NULL, words);
	assert_string_equal(json_string_value(at(spec, "name")), "web");
	assert_int_equal(json_integer_value(at(spec, "instances")), 3);
	assert_json(at(spec, "ports"), "['http:8080', 'dns:53/udp']");
	assert_json(at(spec, "publish"), "['18080:http']");
	assert_true(json_is_true(at(spec, "vip")));
	assert_json(at(spec, "slice"),
		    "{'command': ['/usr/bin/server', '--port', '8080'], 'user': 'nobody',"
		    " 'cwd': '/srv', 'env': {'LANG': 'C.UTF-8'},"
		    " 'resources': {'cpus': 0.5, 'memory': '256M', 'pids': 64},"
		    " 'isolation': {'capabilities': ['NET_BIND_SERVICE']},"
		    " 'network': {'mode': 'bridge'}}");
	assert_json(at(spec, "checks"),
		    "[{'kind': 'http', 'port': 'http', 'path': '/healthz', 'interval': '2s'},"
		    " {'kind': 'command', 'command': ['/bin/sh', '-c', 'test -f /tmp/ok'],"
		    "  'interval': '2s'}]");
	assert_json(at(spec, "readiness"), "[{'kind': 'tcp', 'port': 'http', 'interval': '2s'}]");
	assert_json(at(spec, "placement"),
		    "{'constraints': ['zone!=c'], 'spread': 'zone', 'strategy': 'spread',"
		    " 'unique': 'node'}");
	assert_json(at(spec, "dependencies"), "['db', 'cache']");
	assert_json(at(spec, "volumes"),
		    "[{'name': 'data', 'size': 1073741824, 'path': '/var/lib/web'}]");
	assert_true(json_is_true(at(spec, "ordered")));
	assert_string_equal(json_string_value(at(spec, "on_partition")), "wait");
	assert_string_equal(json_string_value(at(spec, "min_healthy")), "90%");
	assert_int_equal(json_integer_value(at(spec, "max_surge")), 2);
	assert_string_equal(json_string_value(at(spec, "max_unavailable")), "25%");
	assert_int_equal(json_integer_value(at(spec, "history")), 5);
	assert_true(json_is_false(at(spec, "auto_rollback")));
	assert_json(at(spec, "backoff"),
		    "{'initial': '2s', 'factor': 1.5, 'max': '10m', 'reset_after': '30m'}");
	assert_json(at(spec, "labels"), "{'team': 'blue'}");
}

/* What the flags make is an app spec the controller takes, field for field. */
static void test_controller_takes_it(void **state)
{
	(void)state;
	static const char *const words[] = {
		"web",
		"--instances",
		"2",
		"--port",
		"http:8080",
		"--publish",
		"18080:http",
		"--vip",
		"--net",
		"bridge",
		"--memory",
		"128M",
		"--check-http",
		"http/healthz",
		"--check-timeout",
		"500ms",
		"--unique",
		"node",
		"--volume",
		"data:64M:/data",
		"--min-healthy",
		"50%",
		"--max-surge",
		"0",
		"--history",
		"3",
		"--backoff-factor",
		"1.25",
		"--label",
		"team=blue",
		"--",
		"/bin/server",
		NULL,
	};
	_cleanup_json_ json_t *spec = ok("run", NULL, words);
	struct app_spec parsed;
	struct acre_error err = {0};
	if (app_spec_parse(spec, &parsed, &err) < 0)
		fail_msg("the controller refuses it: %s", err.message);
	assert_string_equal(parsed.name, "web");
	assert_int_equal(parsed.instances, 2);
	assert_int_equal(parsed.nports, 1);
	assert_int_equal(parsed.ports[0].port, 8080);
	assert_int_equal(parsed.npublish, 1);
	assert_int_equal(parsed.publish[0].node_port, 18080);
	assert_true(parsed.vip);
	assert_int_equal(parsed.checks.n, 1);
	assert_int_equal(parsed.checks.port[0], 0);
	assert_int_equal(parsed.checks.c[0].timeout_ms, 500);
	assert_string_equal(parsed.placement.unique, "node");
	assert_int_equal(parsed.nvolumes, 1);
	assert_true(parsed.min_healthy.percent);
	assert_int_equal(parsed.min_healthy.value, 50);
	assert_int_equal(parsed.max_surge.value, 0);
	assert_int_equal(parsed.history, 3);
	assert_int_equal(parsed.backoff.factor_milli, 1250);
	assert_int_equal(parsed.slice.resources.memory, 128ULL << 20);
	assert_int_equal(parsed.on_partition, APP_PARTITION_WAIT); /* the default with a volume */
	/* ... and its canonical form goes through the flags of an update unchanged. */
	_cleanup_json_ json_t *canonical = app_spec_to_json(&parsed);
	app_spec_free(&parsed);
	static const char *const none[] = {"web", NULL};
	_cleanup_json_ json_t *again = ok("update", canonical, none);
	assert_true(json_equal(again, canonical));
}

/* update: the app's current spec, with what the flags say changed and nothing else. */
static void test_update_over_current(void **state)
{
	(void)state;
	_cleanup_json_ json_t *current =
		json_q("{'name': 'web', 'instances': 3, 'ports': ['http:8080', 'admin:9000'],"
		       " 'slice': {'command': ['/bin/old'], 'env': {'A': '1', 'B': '2'},"
		       "           'isolation': {'capabilities': ['CHOWN']}, 'network': {'mode': "
		       "'bridge'}},"
		       " 'checks': [{'kind': 'tcp', 'port': 'admin'}], 'labels': {'team': 'red'},"
		       " 'dependencies': ['db'], 'history': 10}");
	static const char *const words[] = {
		"web",	 "--port", "http:8081",	  "--port", "metrics:9100", "--env",	"B=3",
		"--cap", "KILL",   "--check-tcp", "http",   "--label",	    "tier=web", NULL};
	_cleanup_json_ json_t *spec = ok("update", current, words);
	assert_json(at(spec, "ports"), "['http:8081', 'metrics:9100']");
	assert_json(at(at(spec, "slice"), "env"), "{'A': '1', 'B': '3'}");
	assert_json(at(at(at(spec, "slice"), "isolation"), "capabilities"), "['KILL']");
	assert_json(at(spec, "checks"), "[{'kind': 'tcp', 'port': 'http'}]");
	assert_json(at(spec, "labels"), "{'team': 'red', 'tier': 'web'}");
	assert_json(at(spec, "dependencies"), "['db']");
	assert_json(at(at(spec, "slice"), "command"), "['/bin/old']");
	assert_int_equal(json_integer_value(at(spec, "instances")), 3);

	/* A new command replaces the old; a check on a port the update removes is refused. */
	static const char *const cmd[] = {"web", "--", "/bin/new", "-v", NULL};
	_cleanup_json_ json_t *renewed = ok("update", current, cmd);
	assert_json(at(at(renewed, "slice"), "command"), "['/bin/new', '-v']");
	static const char *const drop[] = {"web", "--port", "http:8080", NULL};
	struct acre_error err = {0};
	assert_null(spec_of("update", current, drop, &err));
	assert_string_equal(err.field, "--check-tcp");
}

static void test_names_and_files(void **state)
{
	(void)state;
	/* NAME after the flags, as `slice run` takes its command. */
	static const char *const late[] = {"--instances", "2", "api", "--", "/bin/api", NULL};
	_cleanup_json_ json_t *spec = ok("run", NULL, late);
	assert_string_equal(json_string_value(at(spec, "name")), "api");
	assert_json(at(at(spec, "slice"), "command"), "['/bin/api']");

	/* A spec's own name, or NAME matching it. */
	_cleanup_json_ json_t *file = json_q("{'name': 'db', 'slice': {'command': ['/bin/db']}}");
	static const char *const nameless[] = {"--instances", "1", NULL};
	_cleanup_json_ json_t *from_file = ok("run", file, nameless);
	assert_string_equal(json_string_value(at(from_file, "name")), "db");
	static const char *const other[] = {"web", NULL};
	struct acre_error err = {0};
	assert_null(spec_of("run", file, other, &err));
	assert_string_equal(err.field, "name");

	/* --net host takes the net namespace out; another mode puts it back. */
	static const char *const host[] = {"web", "--net", "host", "--", "/bin/x", NULL};
	_cleanup_json_ json_t *h = ok("run", NULL, host);
	assert_json(at(at(at(h, "slice"), "isolation"), "namespaces"),
		    "['pid', 'mount', 'uts', 'ipc', 'cgroup']");
	static const char *const bridge[] = {"web", "--net", "bridge", NULL};
	_cleanup_json_ json_t *b = ok("update", h, bridge);
	assert_json(at(at(at(b, "slice"), "isolation"), "namespaces"),
		    "['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net']");
}

/* Each bad flag is refused before anything is sent, naming the flag. */
static void test_bad_flags(void **state)
{
	(void)state;
	static const struct {
		const char *words[8];
		const char *field, *message;
	} cases[] = {
		{{"web", "--port", "Http:80"}, "--port", "--port Http:80: expected NAME"},
		{{"web", "--port", "http:0"}, "--port", "--port http:0: the port must be 1 to"},
		{{"web", "--port", "http:80/sctp"}, "--port", "--port http:80/sctp: the protocol"},
		{{"web", "--port", "a-very-long-port-name"}, "--port", "--port a-very-long"},
		{{"web", "--port", "http:80", "--port", "http:81"},
		 "--port",
		 "--port http:81: the"},
		{{"web", "--port", "http:80", "--publish", "18080:admin"},
		 "--publish",
		 "--publish 18080:admin: admin is not a declared port (--port: http)"},
		{{"web", "--publish", "http"}, "--publish", "--publish http: expected NODE_PORT"},
		{{"web", "--port", "dns:53/udp", "--check-tcp", "dns"},
		 "--check-tcp",
		 "--check-tcp dns: a udp port"},
		{{"web", "--check-http", "8080/healthz"}, "--check-http", "--check-http 8080/"},
		{{"web", "--instances", "-1"}, "--instances", "--instances -1: an integer from 0"},
		{{"web", "--instances", "1000001"}, "--instances", "--instances 1000001"},
		{{"web", "--min-healthy", "101%"}, "--min-healthy", "--min-healthy 101%: a count"},
		{{"web", "--max-surge", "1.5"}, "--max-surge", "--max-surge 1.5: a count"},
		{{"web", "--max-unavailable", "%"}, "--max-unavailable", "--max-unavailable %"},
		{{"web", "--history", "0"}, "--history", "--history 0: an integer from 1 to 1000"},
		{{"web", "--on-partition", "maybe"}, "--on-partition", "--on-partition maybe"},
		{{"web", "--unique", "a b"}, "--unique", "--unique a b: node, or an attribute"},
		{{"web", "--depends", "Not_an_app"}, "--depends", "--depends Not_an_app"},
		{{"web", "--label", "acre.app=x"},
		 "--label",
		 "--label acre.app=x: keys under acre."},
		{{"web", "--label", "novalue"}, "--label", "--label novalue: expected KEY=VALUE"},
		{{"web", "--volume", "data:lots:/d"}, "--volume", "--volume data:lots:/d"},
		{{"web", "--backoff-factor", "0.5"}, "--backoff-factor", "--backoff-factor 0.5"},
		{{"web", "--backoff-max", "soon"}, "--backoff-max", "--backoff-max soon"},
		{{"web", "--memory", "12Q"}, "--memory", "--memory 12Q"},
		{{"web", "--cap", "FLY"}, "--cap", "--cap FLY: unknown capability"},
		{{"web", "--net", "wifi"}, "--net", "--net wifi: one of none, host, bridge"},
		{{"web", "--constraint", "=x"}, "--constraint", "--constraint"},
		{{"web", "--strategy", "random"}, "--strategy", "--strategy random"},
		{{"web", "--check-interval", "1s"}, "--check-interval", "--check-grace"},
		{{"web-", "--instances", "1"}, "name", "app run web-: the name"},
		{{"web", "--instances", "1"}, "command", "app run: no command"},
		{{"--instances", "1"}, "name", "app run: no name"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(cases); i++) {
		const char *words[12] = {0};
		size_t n = 0;
		while (cases[i].words[n]) {
			words[n] = cases[i].words[n];
			n++;
		}
		/* every case but the command's own has one */
		if (strcmp(cases[i].field, "command") != 0) {
			words[n++] = "--";
			words[n++] = "/bin/true";
		}
		struct acre_error err = {0};
		json_t *spec = spec_of("run", NULL, words, &err);
		if (spec) {
			json_decref(spec);
			fail_msg("case %zu (%s %s) was taken", i, words[0], words[1]);
		}
		if (strcmp(err.field, cases[i].field) ||
		    strncmp(err.message, cases[i].message, strlen(cases[i].message)))
			fail_msg("case %zu: field %s, message %s", i, err.field, err.message);
	}
	/* An unknown flag names itself. */
	static const char *const unknown[] = {"web", "--replicas", "3", "--", "/bin/true", NULL};
	struct acre_error err = {0};
	assert_null(spec_of("run", NULL, unknown, &err));
	assert_non_null(strstr(err.message, "--replicas: unknown option"));
}

static void test_names(void **state)
{
	(void)state;
	char name[ACRE_APP_NAME_MAX + 1];
	unsigned index;
	struct acre_error err = {0};
	assert_int_equal(cli_app_instance_parse("web-2", name, sizeof(name), &index, &err), 0);
	assert_string_equal(name, "web");
	assert_int_equal(index, 2);
	assert_int_equal(cli_app_instance_parse("my-app-10", name, sizeof(name), &index, &err), 0);
	assert_string_equal(name, "my-app");
	assert_int_equal(index, 10);
	assert_true(cli_app_instance_parse("web", name, sizeof(name), &index, &err) < 0);
	assert_true(cli_app_instance_parse("web-", name, sizeof(name), &index, &err) < 0);
	assert_true(cli_app_instance_parse("web-x", name, sizeof(name), &index, &err) < 0);
	assert_true(cli_app_instance_parse("-3", name, sizeof(name), &index, &err) < 0);
	assert_true(cli_app_instance_parse("web-1000000", name, sizeof(name), &index, &err) < 0);

	char port[ACRE_PORT_NAME_MAX + 1];
	assert_int_equal(cli_app_port_parse("http", "--port", port, sizeof(port), &err), 0);
	assert_string_equal(port, "http");
	assert_int_equal(cli_app_port_parse("metrics-2:9100", "--port", port, sizeof(port), &err),
			 0);
	assert_string_equal(port, "metrics-2");
	assert_int_equal(cli_app_port_parse("dns:53/udp", "--port", port, sizeof(port), &err), 0);
	assert_int_equal(cli_app_port_parse("dns/udp", "--port", port, sizeof(port), &err), 0);
	static const char *const bad[] = {"",	   "80",	 "a--b",    "-a",	 "a-",
					  "http:", "http:65536", "http:8o", "http/sctp", "HTTP"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		if (cli_app_port_parse(bad[i], "--port", port, sizeof(port), &err) == 0)
			fail_msg("port %s was taken", bad[i]);
	/* The same verdicts as the controller's. */
	static const char *const names[] = {"http",
					    "a1",
					    "1a",
					    "metrics-2",
					    "a--b",
					    "123",
					    "abcdefghijklmno",
					    "abcdefghijklmnop"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(names); i++)
		assert_int_equal(acre_port_name_valid(names[i]), app_port_name_valid(names[i]));
	static const char *const apps[] = {"web", "Web-1", "-web", "web_1", "a"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(apps); i++)
		assert_int_equal(acre_app_name_valid(apps[i]), app_name_valid(apps[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_flag),
		cmocka_unit_test(test_controller_takes_it),
		cmocka_unit_test(test_update_over_current),
		cmocka_unit_test(test_names_and_files),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("cli_app", tests, NULL, NULL);
}
