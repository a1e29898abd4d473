/*
 * The app spec: a full spec read exactly, the defaults filled in for a
 * minimal one, the canonical JSON that parses back to the same spec, each
 * mistake refused with the field (and its path) it names, the slice spec
 * of instance N as the pool will run it, and the checks of a set of apps
 * (unknown dependencies, cycles, names taken by instances).  Specs are
 * written with single quotes and turned into JSON by json_q().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "controller/apps/apps.h"
#include "json_q.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static const char full[] =
	"{'name': 'web', 'instances': 3,"
	" 'slice': {'command': ['/usr/bin/server', '--port', '8080'],"
	"           'env': {'LANG': 'C.UTF-8'}, 'user': 'nobody',"
	"           'resources': {'cpus': 0.5, 'memory': '256M'},"
	"           'network': {'mode': 'bridge'}},"
	" 'placement': {'constraints': ['zone!=c'], 'spread': 'zone', 'strategy': 'spread',"
	"               'unique': 'node'},"
	" 'ports': ['http:8080', 'metrics:9100', 'dns:53/udp'],"
	" 'publish': ['18080:http'],"
	" 'checks': [{'kind': 'http', 'port': 'http', 'path': '/healthz'},"
	"            {'kind': 'tcp', 'port': 'metrics', 'grace': '30s', 'interval': 10,"
	"             'timeout': '1500ms', 'failures': 5},"
	"            {'kind': 'command', 'command': ['/bin/check', '-q']}],"
	" 'readiness': [{'kind': 'http', 'port': 'http', 'path': '/ready', 'interval': 0.25,"
	"              'timeout': 0.1}],"
	" 'backoff': {'initial': '2s', 'factor': 1.5, 'max': '10m', 'reset_after': '1h'},"
	" 'labels': {'team': 'blue'}, 'vip': true, 'dependencies': ['db', 'cache'],"
	" 'volumes': [{'name': 'data', 'size': '1G', 'path': '/var/lib/web'}], 'ordered': false,"
	" 'min_healthy': '66%', 'max_surge': 2, 'max_unavailable': '10%', 'history': 5,"
	" 'auto_rollback': false}";

static const char minimal[] = "{'name': 'api', 'slice': {'command': ['/bin/api']}}";

static void parse_ok(const char *text, struct app_spec *s)
{
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_error err = {0};
	if (app_spec_parse(j, s, &err) < 0)
		fail_msg("refused: %s (field %s): %s", err.message, err.field, text);
}

static void expect_refused(const char *text, const char *field, const char *needle)
{
	_cleanup_json_ json_t *j = json_q(text);
	struct app_spec s;
	struct acre_error err = {0};
	if (app_spec_parse(j, &s, &err) == 0) {
		app_spec_free(&s);
		fail_msg("%s: accepted", text);
	}
	if (strcmp(err.field, field))
		fail_msg("%s: field \"%s\", expected \"%s\" (%s)", text, err.field, field,
			 err.message);
	assert_contains(err.message, needle);
}

/* The minimal spec with one more top-level field (text without the braces). */
static void expect_refused_with(const char *extra, const char *field, const char *needle)
{
	char text[2048];
	snprintf(text, sizeof(text), "{'name': 'api', 'slice': {'command': ['/bin/api']}, %s}",
		 extra);
	expect_refused(text, field, needle);
}

static void test_full(void **state)
{
	(void)state;
	struct app_spec s;
	parse_ok(full, &s);
	assert_string_equal(s.name, "web");
	assert_int_equal(s.instances, 3);
	assert_string_equal(s.slice.command[0], "/usr/bin/server");
	assert_int_equal(s.slice.net_mode, ACRE_NET_BRIDGE);
	assert_int_equal(s.slice.resources.cpus_milli, 500);
	assert_int_equal(s.placement.nconstraints, 1);
	assert_string_equal(s.placement.spread, "zone");
	assert_int_equal(s.placement.strategy, ACRE_STRATEGY_SPREAD);
	assert_string_equal(s.placement.unique, "node");
	assert_int_equal(s.nports, 3);
	assert_string_equal(s.ports[1].name, "metrics");
	assert_int_equal(s.ports[1].port, 9100);
	assert_int_equal(s.ports[2].proto, IPPROTO_UDP);
	assert_int_equal(s.npublish, 1);
	assert_int_equal(s.publish[0].node_port, 18080);
	assert_int_equal(s.publish[0].port, 0);
	assert_int_equal(s.checks.n, 3);
	assert_int_equal(s.checks.c[0].kind, ACRE_CHECK_HTTP);
	assert_string_equal(s.checks.c[0].path, "/healthz");
	assert_int_equal(s.checks.c[0].grace_ms, 15000);
	assert_int_equal(s.checks.c[0].interval_ms, 5000);
	assert_int_equal(s.checks.c[0].timeout_ms, 2000);
	assert_int_equal(s.checks.c[0].failures, 3);
	assert_int_equal(s.checks.c[1].kind, ACRE_CHECK_TCP);
	assert_int_equal(s.checks.port[1], 1); /* metrics */
	assert_int_equal(s.checks.c[1].port, 9100);
	assert_int_equal(s.checks.c[1].grace_ms, 30000);
	assert_int_equal(s.checks.c[1].interval_ms, 10000);
	assert_int_equal(s.checks.c[1].timeout_ms, 1500);
	assert_int_equal(s.checks.c[1].failures, 5);
	assert_string_equal(s.checks.c[2].command[1], "-q");
	assert_int_equal(s.readiness.n, 1);
	assert_string_equal(s.readiness.c[0].path, "/ready");
	assert_int_equal(s.readiness.c[0].interval_ms, 250);
	assert_int_equal(s.backoff.initial_ms, 2000);
	assert_int_equal(s.backoff.factor_milli, 1500);
	assert_int_equal(s.backoff.max_ms, 600000);
	assert_int_equal(s.backoff.reset_after_ms, 3600000);
	assert_string_equal(json_string_value(json_object_get(s.labels, "team")), "blue");
	assert_true(s.vip);
	assert_string_equal(s.dependencies[1], "cache");
	assert_int_equal(s.nvolumes, 1);
	assert_int_equal(s.volumes[0].size, 1ULL << 30);
	assert_string_equal(s.volumes[0].path, "/var/lib/web");
	assert_int_equal(s.on_partition, APP_PARTITION_WAIT); /* it has a volume */
	assert_true(s.min_healthy.percent);
	assert_int_equal(s.min_healthy.value, 66);
	assert_int_equal(s.max_surge.value, 2);
	assert_false(s.max_surge.percent);
	assert_int_equal(s.max_unavailable.value, 10);
	assert_int_equal(s.history, 5);
	assert_false(s.auto_rollback);
	app_spec_free(&s);
}

static void test_defaults(void **state)
{
	(void)state;
	struct app_spec s;
	parse_ok(minimal, &s);
	assert_int_equal(s.instances, 1);
	assert_int_equal(s.nports, 0);
	assert_int_equal(s.checks.n, 0);
	assert_int_equal(s.readiness.n, 0);
	assert_int_equal(s.backoff.initial_ms, 1000);
	assert_int_equal(s.backoff.factor_milli, 1150);
	assert_int_equal(s.backoff.max_ms, 3600000);
	assert_true(s.min_healthy.percent);
	assert_int_equal(s.min_healthy.value, 100);
	assert_int_equal(s.max_surge.value, 1);
	assert_int_equal(s.max_unavailable.value, 1);
	assert_int_equal(s.history, 10);
	assert_true(s.auto_rollback);
	assert_false(s.vip);
	assert_false(s.ordered);
	assert_null(s.dependencies[0]);
	assert_int_equal(s.on_partition, APP_PARTITION_REPLACE); /* no volume */
	assert_int_equal(json_object_size(s.labels), 0);
	/* The template keeps the slice spec's safe defaults. */
	assert_int_equal(s.slice.isolation.namespaces, ACRE_NS_ALL);
	assert_true(s.slice.isolation.readonly_root);
	app_spec_free(&s);
	/* instances 0 is an app kept with nothing running (acre app stop). */
	parse_ok("{'name': 'api', 'instances': 0, 'slice': {'command': ['/bin/api']}}", &s);
	assert_int_equal(s.instances, 0);
	app_spec_free(&s);
}

static void round_trip(const char *text)
{
	struct app_spec a, b;
	struct acre_error err = {0};
	parse_ok(text, &a);
	_cleanup_json_ json_t *ja = app_spec_to_json(&a);
	assert_non_null(ja);
	if (app_spec_parse(ja, &b, &err) < 0) {
		_cleanup_free_ char *dump = json_dumps(ja, 0);
		fail_msg("canonical %s refused: %s", dump, err.message);
	}
	_cleanup_json_ json_t *jb = app_spec_to_json(&b);
	if (!json_equal(ja, jb)) {
		_cleanup_free_ char *da = json_dumps(ja, JSON_SORT_KEYS);
		_cleanup_free_ char *db = json_dumps(jb, JSON_SORT_KEYS);
		fail_msg("round trip differs:\n%s\n%s", da, db);
	}
	app_spec_free(&a);
	app_spec_free(&b);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip(full);
	round_trip(minimal);
	round_trip("{'name': 'h', 'slice': {'command': ['/x'], 'network': {'mode': 'host'}},"
		   " 'ports': ['http', 'admin:9000'], 'volumes': [{'name': 'v', 'size': '1536M', "
		   "'path': '/v'}],"
		   " 'on_partition': 'replace', 'max_surge': '25%',"
		   " 'backoff': {'initial': '1500ms', 'factor': 1.001}}");
	/* Defaults written or not, the canonical form is one. */
	struct app_spec a, b;
	parse_ok(minimal, &a);
	parse_ok("{'name': 'api', 'instances': 1, 'slice': {'command': ['/bin/api'],"
		 " 'isolation': {'readonly_root': true}}, 'min_healthy': '100%', 'max_surge': 1,"
		 " 'history': 10, 'checks': [], 'ports': [], 'vip': false,"
		 " 'backoff': {'initial': '1000ms', 'factor': 1.15, 'max': '60m'}}",
		 &b);
	_cleanup_json_ json_t *ja = app_spec_to_json(&a), *jb = app_spec_to_json(&b);
	assert_true(json_equal(ja, jb));
	app_spec_free(&a);
	app_spec_free(&b);
}

static void test_canonical_forms(void **state)
{
	(void)state;
	struct app_spec s;
	parse_ok(full, &s);
	_cleanup_json_ json_t *j = app_spec_to_json(&s);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "ports"), 2)),
			    "dns:53/udp");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "publish"), 0)),
			    "18080:http");
	json_t *vol = json_array_get(json_object_get(j, "volumes"), 0);
	assert_string_equal(json_string_value(json_object_get(vol, "name")), "data");
	assert_int_equal(json_integer_value(json_object_get(vol, "size")), 1LL << 30);
	json_t *h1 = json_array_get(json_object_get(j, "checks"), 1);
	assert_string_equal(json_string_value(json_object_get(h1, "timeout")), "1500ms");
	assert_string_equal(json_string_value(json_object_get(h1, "interval")), "10s");
	assert_string_equal(json_string_value(json_object_get(h1, "kind")), "tcp");
	assert_string_equal(json_string_value(json_object_get(h1, "port")), "metrics");
	assert_string_equal(json_string_value(json_object_get(j, "min_healthy")), "66%");
	assert_int_equal(json_integer_value(json_object_get(j, "max_surge")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "on_partition")), "wait");
	json_t *b = json_object_get(j, "backoff");
	assert_string_equal(json_string_value(json_object_get(b, "max")), "10m");
	assert_string_equal(json_string_value(json_object_get(b, "reset_after")), "1h");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "placement"), "unique")),
		"node");
	/* The template holds no name, labels or restart: the app sets them per instance. */
	json_t *t = json_object_get(j, "slice");
	assert_null(json_object_get(t, "name"));
	assert_null(json_object_get(t, "labels"));
	assert_null(json_object_get(t, "restart"));
	app_spec_free(&s);
}

static void test_unknown_fields(void **state)
{
	(void)state;
	expect_refused_with("'replicas': 3", "replicas", "replicas: unknown field");
	expect_refused("{'name': 'api', 'slice': {'command': ['/x'], 'resources': {'cpu': 1}}}",
		       "slice.resources.cpu", "slice.resources.cpu: unknown field");
	expect_refused("{'name': 'api', 'slice': {'command': ['/x'], 'comand': []}}",
		       "slice.comand", "unknown field");
	expect_refused_with("'checks': [{'kind': 'http', 'port': 'http', 'intervall': '1s'}],"
			    " 'ports': ['http:80'], 'slice': {'command': ['/x'],"
			    " 'network': {'mode': 'bridge'}}",
			    "checks[0].intervall", "checks[0].intervall: unknown field");
	expect_refused_with("'readiness': [{'kind': 'command', 'command': ['/x'], 'paht': '/'}]",
			    "readiness[0].paht", "readiness[0].paht: unknown field");
	expect_refused_with("'backoff': {'initial': '1s', 'cap': '1h'}", "backoff.cap",
			    "unknown field");
	expect_refused_with("'placement': {'zone': 'a'}", "placement", "placement.zone: unknown");
}

static void test_name_and_instances(void **state)
{
	(void)state;
	expect_refused("{'slice': {'command': ['/x']}}", "name", "name: required");
	expect_refused("{'name': 'web_1', 'slice': {'command': ['/x']}}", "name", "DNS label");
	expect_refused("{'name': '-web', 'slice': {'command': ['/x']}}", "name", "DNS label");
	char text[256], name[APP_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "{'name': '%s', 'slice': {'command': ['/x']}}", name);
	expect_refused(text, "name", "1 to 56");
	assert_true(app_name_valid(name + 1));
	expect_refused_with("'instances': -1", "instances", "from 0 to 1000000");
	expect_refused_with("'instances': 1000001", "instances", "from 0 to 1000000");
	expect_refused_with("'instances': '3'", "instances", "must be an integer");
	expect_refused("{'name': 'api'}", "slice", "slice: required");
	expect_refused("{'name': 'api', 'slice': []}", "slice", "must be an object");
}

static void test_template(void **state)
{
	(void)state;
	/* The slice spec's own errors, moved under slice. */
	expect_refused("{'name': 'a', 'slice': {'command': ['/x'], 'resources': {'memory': '1K'}}}",
		       "slice.resources.memory", "slice.resources.memory 1K: below the minimum");
	expect_refused("{'name': 'a', 'slice': {'command': []}}", "slice.command",
		       "slice.command: must be a non-empty array");
	expect_refused(
		"{'name': 'a', 'slice': {'command': ['/x'], 'resources': {'memory': 'lots'}}}",
		"slice.resources.memory", "slice.resources.memory");
	/* What the app sets per instance. */
	expect_refused("{'name': 'a', 'slice': {'name': 'x', 'command': ['/x']}}", "slice",
		       "slice.name: each instance is named APP-N");
	expect_refused("{'name': 'a', 'slice': {'labels': {}, 'command': ['/x']}}", "slice",
		       "slice.labels");
	expect_refused("{'name': 'a', 'slice': {'restart': 'always', 'command': ['/x']}}", "slice",
		       "back-off");
	expect_refused("{'name': 'a', 'slice': {'command': ['/x'], 'checks': []}}", "slice",
		       "slice.checks: give the app's checks (checks), with the ports named");
	expect_refused("{'name': 'a', 'slice': {'command': ['/x'], 'network': {'mode': 'bridge',"
		       " 'publish': [{'node_port': 80, 'port': 80}]}}}",
		       "slice.network.publish", "publish the app's named ports");
	expect_refused("{'name': 'a', 'slice': {'command': ['/x'], 'env': {'ACRE_INSTANCE': '1'}}}",
		       "slice.env", "slice.env.ACRE_INSTANCE: set by the app");
	expect_refused("{'name': 'a', 'slice': {'command': ['/x'], 'network': {'mode': 'host'},"
		       " 'env': {'PORT_WEB_UI': '1'}}, 'ports': ['web-ui']}",
		       "slice.env", "PORT_WEB_UI");
}

static void test_ports(void **state)
{
	(void)state;
	const char *bridge = "'slice': {'command': ['/x'], 'network': {'mode': 'bridge'}}";
	char text[512];
	assert_true(app_port_name_valid("http"));
	assert_true(app_port_name_valid("h2c-1"));
	assert_false(app_port_name_valid("HTTP"));
	assert_false(app_port_name_valid("8080"));
	assert_false(app_port_name_valid("a--b"));
	assert_false(app_port_name_valid("-a"));
	assert_false(app_port_name_valid("web_ui"));
	assert_false(app_port_name_valid("abcdefghijklmnop"));
#define BRIDGED(extra) (snprintf(text, sizeof(text), "{'name': 'a', %s, %s}", bridge, extra), text)
	expect_refused(BRIDGED("'ports': ['Http:80']"), "ports", "ports[0] Http:80: the name");
	expect_refused(BRIDGED("'ports': ['http:0']"), "ports", "1 to 65535");
	expect_refused(BRIDGED("'ports': ['http:70000']"), "ports", "1 to 65535");
	expect_refused(BRIDGED("'ports': ['http:80/sctp']"), "ports", "tcp or udp");
	expect_refused(BRIDGED("'ports': ['http']"), "ports",
		       "on the bridge give the slice's port");
	expect_refused(BRIDGED("'ports': ['http:80', 'http:81']"), "ports", "declared twice");
	expect_refused(BRIDGED("'ports': ['http:80', 'web:80']"), "ports", "port 80/tcp is also");
	expect_refused(BRIDGED("'ports': [80]"), "ports", "must be a string");
	expect_refused_with("'ports': ['http']", "ports", "need slice.network.mode host or bridge");
	expect_refused(BRIDGED("'ports': ['http:80'], 'publish': ['80:web']"), "publish",
		       "web is not a declared port");
	expect_refused(BRIDGED("'ports': ['http:80'], 'publish': ['80']"), "publish",
		       "NODE_PORT:NAME");
	expect_refused(BRIDGED("'ports': ['http:80', 'h2:81'], 'publish': ['80:http', '80:h2']"),
		       "publish", "published twice");
	expect_refused_with("'slice': {'command': ['/x'], 'network': {'mode': 'host'}},"
			    " 'ports': ['http'], 'publish': ['80:http']",
			    "publish", "needs slice.network.mode bridge");
	expect_refused(BRIDGED("'vip': true"), "vip", "at least one port");
	expect_refused_with("'slice': {'command': ['/x'], 'network': {'mode': 'host'}},"
			    " 'ports': ['http'], 'vip': true",
			    "vip", "needs slice.network.mode bridge");
	/* The same number twice is fine across protocols (DNS on 53 both ways). */
	struct app_spec s;
	parse_ok(BRIDGED("'ports': ['dns:53', 'dns-udp:53/udp']"), &s);
	assert_int_equal(app_port_find(&s, "dns-udp"), 1);
	assert_int_equal(app_port_find(&s, "nope"), -1);
	app_spec_free(&s);
#undef BRIDGED
}

static void test_checks(void **state)
{
	(void)state;
	char text[1024];
#define WITH_PORTS(checks)                                                                         \
	(snprintf(text, sizeof(text),                                                              \
		  "{'name': 'a', 'slice': {'command': ['/x'], 'network': {'mode': 'bridge'}},"     \
		  " 'ports': ['http:80', 'dns:53/udp'], %s}",                                      \
		  checks),                                                                         \
	 text)
	expect_refused(WITH_PORTS("'checks': [{'kind': 'http', 'port': 'admin'}]"),
		       "checks[0].port", "\"admin\" is not a port of the app (http, dns)");
	expect_refused_with("'checks': [{'kind': 'tcp', 'port': 'admin'}]", "checks[0].port",
			    "(none declared)");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp'}]"), "checks[0].port", "required");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'dns'}]"), "checks[0].port",
		       "udp port");
	expect_refused(WITH_PORTS("'checks': [{'port': 'http'}]"), "checks[0].kind",
		       "command, tcp or http");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'grpc'}]"), "checks[0].kind",
		       "command, tcp or http");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'http', 'port': 'http', 'path': 'x'}]"),
		       "checks[0].path", "must start with /");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'command'}]"), "checks[0].command",
		       "required for kind command");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'timeout': '6s'}]"),
		       "checks[0].timeout", "from 10ms to the interval (5000ms)");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'interval': true}]"),
		       "checks[0].interval", "must be seconds or a duration");
	expect_refused(
		WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'interval': '20ms'}]"),
		"checks[0].interval", "at least 50ms");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'grace': -1}]"),
		       "checks[0].grace", "0 to 3600 seconds");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'grace': '2h'}]"),
		       "checks[0].grace", "at most 1h");
	expect_refused(WITH_PORTS("'checks': [{'kind': 'tcp', 'port': 'http', 'failures': 0}]"),
		       "checks[0].failures", "from 1 to 100");
	expect_refused(WITH_PORTS("'checks': {'kind': 'tcp', 'port': 'http'}"), "checks",
		       "must be an array of at most 8 checks");
	expect_refused(WITH_PORTS("'readiness': [{'kind': 'http', 'port': 'nope'}]"),
		       "readiness[0].port", "not a port of the app");
	expect_refused(WITH_PORTS("'readiness': {'kind': 'http', 'port': 'http'}"), "readiness",
		       "must be an array of at most 8 checks");
#undef WITH_PORTS
}

static void test_volumes_and_policy(void **state)
{
	(void)state;
	/* The slice spec's own checks and errors. */
	expect_refused_with("'volumes': [{'name': 'data', 'size': '1G'}]", "volumes[0]",
			    "volumes[0].path: an absolute path");
	expect_refused_with("'volumes': [{'name': 'data', 'size': 'lots', 'path': '/d'}]",
			    "volumes[0].size", "not a size");
	expect_refused_with("'volumes': [{'name': 'data', 'size': '1M', 'path': '/d'}]",
			    "volumes[0].size", "from 16M to 16T");
	expect_refused_with("'volumes': [{'name': 'data', 'size': '1G', 'path': 'd'}]",
			    "volumes[0]", "an absolute path");
	expect_refused_with("'volumes': [{'name': 'data', 'size': '1G', 'path': '/a/../b'}]",
			    "volumes[0]", "an absolute path");
	expect_refused_with("'volumes': [{'name': '-d', 'size': '1G', 'path': '/d'}]", "volumes[0]",
			    "volumes[0].name");
	expect_refused_with("'volumes': [{'name': 'd', 'size': '1G', 'path': '/d'},"
			    " {'name': 'd', 'size': '1G', 'path': '/e'}]",
			    "volumes[1]", "named twice");
	expect_refused_with("'volumes': ['data:1G:/d']", "volumes[0]", "must be an object");
	/* Each instance's own is APP-N-NAME, a name the node must be able to keep. */
	char text[256], name[64];
	memset(name, 'v', 52);
	name[52] = '\0';
	snprintf(text, sizeof(text), "'volumes': [{'name': '%s', 'size': '1G', 'path': '/d'}]",
		 name);
	expect_refused_with(text, "volumes", "api-N-vvvv");
	expect_refused(
		"{'name': 'a', 'slice': {'command': ['/x'], 'volumes': []}}", "slice",
		"slice.volumes: give the app's volumes (volumes): each instance gets its own");
	expect_refused_with("'min_healthy': '110%'", "min_healthy", "percentage");
	expect_refused_with("'min_healthy': -1", "min_healthy", "count of instances");
	expect_refused_with("'max_surge': '5'", "max_surge", "percentage");
	expect_refused_with("'history': 0", "history", "from 1 to 1000");
	expect_refused_with("'on_partition': 'kill'", "on_partition", "replace or wait");
	expect_refused_with("'backoff': {'factor': 0.5}", "backoff.factor", "from 1 to 10");
	expect_refused_with("'backoff': {'factor': 1.0001}", "backoff.factor", "three decimals");
	expect_refused_with("'backoff': {'initial': '10s', 'max': '1s'}", "backoff.max",
			    "at least backoff.initial");
	expect_refused_with("'backoff': {'initial': '0s'}", "backoff.initial", "above 0");
	expect_refused_with("'labels': {'acre.app': 'x'}", "labels", "set by acre");
	expect_refused_with("'labels': {'k': 1}", "labels", "must be a string");
	expect_refused_with("'dependencies': ['api']", "dependencies", "depend on itself");
	expect_refused_with("'dependencies': ['db', 'db']", "dependencies", "listed twice");
	expect_refused_with("'dependencies': ['no_such']", "dependencies", "an app name");
	expect_refused_with("'ordered': 'yes'", "ordered", "true or false");
	expect_refused_with("'placement': {'unique': 'a b'}", "placement.unique", "attribute name");
	/* A rolling update that could never move is refused before it is tried. */
	expect_refused_with("'instances': 3, 'max_surge': 0", "max_surge",
			    "min_healthy 3 of 3 instances");
	expect_refused_with("'instances': 3, 'max_surge': '0%', 'min_healthy': 3", "max_surge",
			    "neither stop an instance nor start an extra one");
	struct app_spec s;
	parse_ok("{'name': 'a', 'instances': 3, 'slice': {'command': ['/x']}, 'max_surge': 0,"
		 " 'min_healthy': '66%'}",
		 &s);
	app_spec_free(&s);
	/* Ordered apps replace one at a time, with no surge. */
	parse_ok("{'name': 'a', 'instances': 3, 'slice': {'command': ['/x']}, 'max_surge': 0,"
		 " 'ordered': true}",
		 &s);
	app_spec_free(&s);
	/* An explicit policy wins over the default of apps with volumes. */
	parse_ok("{'name': 'a', 'slice': {'command': ['/x']},"
		 " 'volumes': [{'name': 'd', 'size': '1G', 'path': '/d'}],"
		 " 'on_partition': 'replace'}",
		 &s);
	assert_int_equal(s.on_partition, APP_PARTITION_REPLACE);
	app_spec_free(&s);
}

static void test_instance_spec(void **state)
{
	(void)state;
	struct app_spec s;
	struct acre_error err = {0};
	json_t *j = NULL;
	parse_ok(full, &s);
	assert_int_equal(app_instance_spec(&s, 2, 7, NULL, &j, &err), 0);
	/* What the pool gets is a valid slice spec, read by the slice spec's parser. */
	struct acre_slice_spec slice;
	if (acre_slice_spec_parse(j, &slice, &err) < 0)
		fail_msg("instance spec refused: %s", err.message);
	assert_string_equal(slice.name, "web-2");
	assert_int_equal(slice.restart, ACRE_RESTART_NEVER);
	assert_int_equal(slice.resources.cpus_milli, 500);
	assert_int_equal(slice.net_npublish, 1);
	assert_int_equal(slice.net_publish[0].node_port, 18080);
	assert_int_equal(slice.net_publish[0].port, 8080);
	/* Its checks in the slice spec's own sections, each port a number. */
	assert_int_equal(slice.nchecks, 3);
	assert_int_equal(slice.checks[0].kind, ACRE_CHECK_HTTP);
	assert_int_equal(slice.checks[0].port, 8080);
	assert_string_equal(slice.checks[0].path, "/healthz");
	assert_int_equal(slice.checks[1].port, 9100);
	assert_int_equal(slice.checks[1].failures, 5);
	assert_int_equal(slice.nreadiness, 1);
	assert_string_equal(slice.readiness[0].path, "/ready");
	/* Its own volume, under a name a replacement of instance 2 finds again. */
	assert_int_equal(slice.nvolumes, 1);
	assert_string_equal(slice.volumes[0].name, "web-2-data");
	assert_string_equal(slice.volumes[0].path, "/var/lib/web");
	assert_int_equal(slice.volumes[0].size, 1ULL << 30);
	acre_slice_spec_free(&slice);
	json_t *env = json_object_get(j, "env"), *labels = json_object_get(j, "labels");
	assert_string_equal(json_string_value(json_object_get(env, "ACRE_INSTANCE")), "2");
	assert_string_equal(json_string_value(json_object_get(env, "ACRE_INSTANCES")), "3");
	assert_string_equal(json_string_value(json_object_get(env, "PORT_HTTP")), "8080");
	assert_string_equal(json_string_value(json_object_get(env, "PORT_DNS")), "53");
	assert_string_equal(json_string_value(json_object_get(env, "LANG")), "C.UTF-8");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.app")), "web");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.service")), "web");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.instance")), "2");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.version")), "7");
	/* Its node reads the policy when cut off: this app has a volume, so it waits. */
	assert_string_equal(json_string_value(json_object_get(labels, "acre.on-partition")),
			    "wait");
	assert_string_equal(json_string_value(json_object_get(labels, "team")), "blue");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.vip.ports")),
			    "http:8080/tcp,metrics:9100/tcp,dns:53/udp");
	json_decref(j);

	char name[ACRE_NAME_MAX + 1];
	assert_int_equal(app_instance_name(&s, 12, name, sizeof(name)), 0);
	assert_string_equal(name, "web-12");
	assert_int_equal(app_instance_name(&s, 12, name, 5), -ENAMETOOLONG);
	app_spec_free(&s);
}

static void test_instance_host_ports(void **state)
{
	(void)state;
	struct app_spec s;
	struct acre_error err = {0};
	json_t *j = NULL;
	parse_ok("{'name': 'h', 'slice': {'command': ['/x'], 'network': {'mode': 'host'}},"
		 " 'ports': ['http', 'admin:9000'],"
		 " 'checks': [{'kind': 'tcp', 'port': 'http'}]}",
		 &s);
	/*
	 * "http" is asked of the pool, which picks it from its node's --port-range:
	 * no PORT_HTTP, no acre.ports entry, the check names it.
	 */
	assert_int_equal(app_instance_spec(&s, 0, 1, NULL, &j, &err), 0);
	json_t *env = json_object_get(j, "env"), *labels = json_object_get(j, "labels");
	assert_null(json_object_get(env, "PORT_HTTP"));
	assert_string_equal(json_string_value(json_object_get(env, "PORT_ADMIN")), "9000");
	assert_string_equal(json_string_value(json_object_get(labels, "acre.ports")),
			    "admin:9000/tcp");
	assert_null(json_object_get(labels, "acre.vip.ports"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "host_ports"), 0)),
			    "http");
	json_t *check = json_array_get(json_object_get(j, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(check, "port")), "http");
	/* No volume: replaced on a partition, so its node stops it when cut off. */
	assert_string_equal(json_string_value(json_object_get(labels, "acre.on-partition")),
			    "replace");
	json_decref(j);
	/* The one it had is asked for first. */
	const uint16_t had[] = {21000, 0};
	assert_int_equal(app_instance_spec(&s, 0, 1, had, &j, &err), 0);
	assert_int_equal(json_array_size(json_object_get(j, "host_ports")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "host_ports"), 0)),
			    "http:21000");
	json_decref(j);
	app_spec_free(&s);
}

static void test_replaces(void **state)
{
	(void)state;
	struct app_spec a, b;
	parse_ok(minimal, &a);
	_cleanup_json_ json_t *ja = app_spec_to_json(&a);
	/* A scale, a new policy: a version, not a rollout. */
	parse_ok("{'name': 'api', 'instances': 7, 'slice': {'command': ['/bin/api']},"
		 " 'max_surge': '50%', 'history': 3, 'backoff': {'initial': '5s'}}",
		 &b);
	_cleanup_json_ json_t *jb = app_spec_to_json(&b);
	assert_false(json_equal(ja, jb));
	assert_false(app_spec_json_replaces(ja, jb));
	app_spec_free(&b);
	/* What an instance runs: a rollout. */
	parse_ok("{'name': 'api', 'slice': {'command': ['/bin/api', '-v']}}", &b);
	_cleanup_json_ json_t *jc = app_spec_to_json(&b);
	assert_true(app_spec_json_replaces(ja, jc));
	app_spec_free(&b);
	app_spec_free(&a);
}

static struct app_spec *app(const char *name, const char *deps)
{
	char text[512];
	struct app_spec *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	snprintf(text, sizeof(text),
		 "{'name': '%s', 'slice': {'command': ['/x']},"
		 " 'dependencies': [%s]}",
		 name, deps);
	parse_ok(text, s);
	return s;
}

static void free_apps(struct app_spec **apps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		app_spec_free(apps[i]);
		free(apps[i]);
	}
}

static size_t position(const struct app_spec *const *apps, const size_t *order, size_t n,
		       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(apps[order[i]]->name, name))
			return i;
	fail_msg("%s not in the order", name);
	return n;
}

static void test_dependencies(void **state)
{
	(void)state;
	struct acre_error err = {0};
	size_t order[5];
	struct app_spec *ok[] = {app("web", "'api', 'cache'"), app("api", "'db'"), app("db", ""),
				 app("cache", ""), app("batch", "'db'")};
	const struct app_spec *const *set = (const struct app_spec *const *)ok;
	assert_int_equal(app_deps_check(set, 5, order, &err), 0);
	assert_true(position(set, order, 5, "db") < position(set, order, 5, "api"));
	assert_true(position(set, order, 5, "api") < position(set, order, 5, "web"));
	assert_true(position(set, order, 5, "cache") < position(set, order, 5, "web"));
	assert_true(position(set, order, 5, "db") < position(set, order, 5, "batch"));
	free_apps(ok, 5);

	struct app_spec *unknown[] = {app("web", "'api'"), app("db", "")};
	set = (const struct app_spec *const *)unknown;
	assert_int_equal(app_deps_check(set, 2, NULL, &err), -ENOENT);
	assert_string_equal(err.field, "dependencies");
	assert_contains(err.message, "app web: dependencies[0]: no app named api");
	free_apps(unknown, 2);

	struct app_spec *cycle[] = {app("web", "'api'"), app("api", "'db'"), app("db", "'web'"),
				    app("x", "")};
	set = (const struct app_spec *const *)cycle;
	assert_int_equal(app_deps_check(set, 4, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "dependencies");
	assert_contains(err.message, "a cycle: api -> db -> web -> api");
	free_apps(cycle, 4);

	struct app_spec *names[] = {app("web", ""), app("web-1", "")};
	set = (const struct app_spec *const *)names;
	assert_int_equal(app_deps_check(set, 2, NULL, &err), -EEXIST);
	assert_contains(err.message, "app web-1: the name of an instance of app web");
	free_apps(names, 2);

	struct app_spec *twice[] = {app("web", ""), app("web", "")};
	set = (const struct app_spec *const *)twice;
	assert_int_equal(app_deps_check(set, 2, NULL, &err), -EEXIST);
	free_apps(twice, 2);
	assert_int_equal(app_deps_check(NULL, 0, NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),	       cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_canonical_forms),
		cmocka_unit_test(test_unknown_fields), cmocka_unit_test(test_name_and_instances),
		cmocka_unit_test(test_template),       cmocka_unit_test(test_ports),
		cmocka_unit_test(test_checks),	       cmocka_unit_test(test_volumes_and_policy),
		cmocka_unit_test(test_instance_spec),  cmocka_unit_test(test_instance_host_ports),
		cmocka_unit_test(test_replaces),       cmocka_unit_test(test_dependencies),
	};
	return cmocka_run_group_tests_name("app spec", tests, NULL, NULL);
}
