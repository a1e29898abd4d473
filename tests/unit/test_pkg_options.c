/*
 * A package's options schema and the options checked against it: each
 * keyword of the schema subset (type, default, enum, minimum/maximum,
 * pattern, required, nested properties, items, secret), errors naming the
 * option's path, defaults filled in, --set typed by the schema, secrets
 * redacted; and the schema's own mistakes refused with their place in
 * config.json.  JSON is written with single quotes (json_q).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/packages/packages.h"
#include "json_q.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static const char schema_text[] =
	"{'type': 'object', 'required': ['name'],"
	" 'properties': {"
	"  'name': {'type': 'string', 'pattern': '^[a-z]+$', 'title': 'Name'},"
	"  'mode': {'type': 'string', 'enum': ['fast', 'safe'], 'default': 'safe'},"
	"  'ratio': {'type': 'number', 'minimum': 0, 'maximum': 1, 'default': 0.5},"
	"  'debug': {'type': 'boolean', 'default': false},"
	"  'hosts': {'type': 'array', 'items': {'type': 'integer', 'minimum': 1}},"
	"  'password': {'type': 'string', 'secret': true},"
	"  'redis': {'type': 'object', 'properties': {"
	"    'port': {'type': 'integer', 'minimum': 1, 'maximum': 65535, 'default': 6379},"
	"    'auth': {'type': 'object', 'properties': {"
	"      'token': {'type': 'string', 'secret': true, 'default': 'tok'}}}}}}}";

static json_t *schema(void)
{
	json_t *s = json_q(schema_text);
	struct acre_error err = {0};
	if (pkg_schema_check(s, &err) < 0)
		fail_msg("schema refused: %s", err.message);
	return s;
}

static json_t *check_ok(const json_t *s, const char *options)
{
	_cleanup_json_ json_t *o = options ? json_q(options) : NULL;
	struct acre_error err = {0};
	json_t *out = NULL;
	if (pkg_options_check(s, o, &out, &err) < 0)
		fail_msg("refused: %s (%s)", err.message, options);
	return out;
}

static void expect_refused(const json_t *s, const char *options, const char *field,
			   const char *message)
{
	_cleanup_json_ json_t *o = json_q(options);
	struct acre_error err = {0};
	json_t *out = NULL;
	assert_true(pkg_options_check(s, o, &out, &err) < 0);
	assert_null(out);
	assert_string_equal(err.field, field);
	assert_string_equal(err.message, message);
}

static void test_defaults_filled(void **state)
{
	(void)state;
	_cleanup_json_ json_t *s = schema();
	_cleanup_json_ json_t *o = check_ok(s, "{'name': 'web'}");
	_cleanup_json_ json_t *want =
		json_q("{'name': 'web', 'mode': 'safe', 'ratio': 0.5, 'debug': false,"
		       " 'redis': {'port': 6379, 'auth': {'token': 'tok'}}}");
	assert_true(json_equal(o, want));

	_cleanup_json_ json_t *given = check_ok(
		s, "{'name': 'web', 'mode': 'fast', 'ratio': 1, 'debug': true, 'hosts': [1, 2],"
		   " 'redis': {'port': 7000}}");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(given, "redis"), "port")), 7000);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(given, "redis"), "auth"), "token")),
		"tok");
	assert_true(json_is_true(json_object_get(given, "debug")));

	_cleanup_json_ json_t *d = pkg_options_defaults(s);
	assert_null(json_object_get(d, "name"));
	assert_string_equal(json_string_value(json_object_get(d, "mode")), "safe");
}

static void test_each_keyword_refused(void **state)
{
	(void)state;
	_cleanup_json_ json_t *s = schema();
	expect_refused(s, "{'name': 'web', 'redis': {'port': 70000}}", "options.redis.port",
		       "options.redis.port: 70000 is above the maximum 65535");
	expect_refused(s, "{'name': 'web', 'redis': {'port': 0}}", "options.redis.port",
		       "options.redis.port: 0 is below the minimum 1");
	expect_refused(s, "{'name': 'web', 'redis': {'port': '80'}}", "options.redis.port",
		       "options.redis.port: \"80\" is a string, not an integer");
	expect_refused(s, "{'name': 'web', 'redis': {'port': 1.5}}", "options.redis.port",
		       "options.redis.port: 1.5 is a number, not an integer");
	expect_refused(s, "{'name': 'Web'}", "options.name",
		       "options.name: \"Web\" does not match the pattern ^[a-z]+$");
	expect_refused(s, "{'name': 'web', 'mode': 'slow'}", "options.mode",
		       "options.mode: \"slow\" is not one of \"fast\", \"safe\"");
	expect_refused(s, "{'name': 'web', 'ratio': 1.5}", "options.ratio",
		       "options.ratio: 1.5 is above the maximum 1");
	expect_refused(s, "{'name': 'web', 'debug': 'yes'}", "options.debug",
		       "options.debug: \"yes\" is a string, not a boolean");
	expect_refused(s, "{}", "options.name", "options.name: required");
	expect_refused(s, "{'name': 'web', 'nmae': 'x'}", "options.nmae",
		       "options.nmae: unknown option");
	expect_refused(s, "{'name': 'web', 'redis': {'auth': {'user': 'x'}}}",
		       "options.redis.auth.user", "options.redis.auth.user: unknown option");
	expect_refused(s, "{'name': 'web', 'redis': 5}", "options.redis",
		       "options.redis: 5 is an integer, not an object");
	expect_refused(s, "{'name': 'web', 'hosts': [1, 0]}", "options.hosts[1]",
		       "options.hosts[1]: 0 is below the minimum 1");
	expect_refused(s, "{'name': 'web', 'mode': {}}", "options.mode",
		       "options.mode: {} is an object, not a string");
	expect_refused(s, "{'name': 'web', 'hosts': 3}", "options.hosts",
		       "options.hosts: 3 is an integer, not an array");
}

static void test_set(void **state)
{
	(void)state;
	_cleanup_json_ json_t *s = schema();
	_cleanup_json_ json_t *o = json_object();
	struct acre_error err = {0};
	assert_int_equal(pkg_options_set(s, o, "name=web", &err), 0);
	assert_int_equal(pkg_options_set(s, o, "redis.port=7001", &err), 0);
	assert_int_equal(pkg_options_set(s, o, "options.ratio=0.25", &err), 0);
	assert_int_equal(pkg_options_set(s, o, "debug=true", &err), 0);
	assert_int_equal(pkg_options_set(s, o, "hosts=3,4", &err), 0);
	assert_int_equal(pkg_options_set(s, o, "redis.auth.token=s3cret", &err), 0);
	_cleanup_json_ json_t *want =
		json_q("{'name': 'web', 'redis': {'port': 7001, 'auth': {'token': 's3cret'}},"
		       " 'ratio': 0.25, 'debug': true, 'hosts': [3, 4]}");
	assert_true(json_equal(o, want));

	assert_true(pkg_options_set(s, o, "redis.port=80x", &err) < 0);
	assert_string_equal(err.message, "options.redis.port: \"80x\" is not an integer");
	assert_true(pkg_options_set(s, o, "debug=yes", &err) < 0);
	assert_string_equal(err.message, "options.debug: \"yes\" is not a boolean (true or false)");
	assert_true(pkg_options_set(s, o, "redis.nope=1", &err) < 0);
	assert_string_equal(err.message, "options.redis.nope: unknown option");
	assert_true(pkg_options_set(s, o, "redis=1", &err) < 0);
	assert_contains(err.message, "options.redis: an object is set by its fields");
	assert_true(pkg_options_set(s, o, "hosts=1,x", &err) < 0);
	assert_string_equal(err.field, "options.hosts[1]");
	assert_true(pkg_options_set(s, o, "=1", &err) < 0);
	assert_true(pkg_options_set(s, o, "name", &err) < 0);
	assert_contains(err.message, "must be NAME=VALUE");

	/* What --set typed is then checked whole, bounds included. */
	assert_int_equal(pkg_options_set(s, o, "redis.port=70000", &err), 0);
	json_t *out = NULL;
	assert_true(pkg_options_check(s, o, &out, &err) < 0);
	assert_string_equal(err.message, "options.redis.port: 70000 is above the maximum 65535");
}

static void test_redact(void **state)
{
	(void)state;
	_cleanup_json_ json_t *s = schema();
	_cleanup_json_ json_t *o = check_ok(
		s, "{'name': 'web', 'password': 'hunter2', 'redis': {'auth': {'token': 'z'}}}");
	_cleanup_json_ json_t *r = pkg_options_redact(s, o);
	assert_string_equal(json_string_value(json_object_get(r, "password")), PKG_SECRET_REDACTED);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(r, "redis"), "auth"), "token")),
			    PKG_SECRET_REDACTED);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "web");
	/* The original keeps its values: only the copy shown is redacted. */
	assert_string_equal(json_string_value(json_object_get(o, "password")), "hunter2");
	_cleanup_free_ char *text = json_dumps(r, 0);
	assert_null(strstr(text, "hunter2"));

	/* What the files in /run/secrets are to hold, by option path. */
	_cleanup_json_ json_t *files = pkg_options_secrets(s, o);
	_cleanup_json_ json_t *want = json_q("{'password': 'hunter2', 'redis.auth.token': 'z'}");
	assert_true(json_equal(files, want));
}

static void expect_schema_refused(const char *text, const char *message)
{
	_cleanup_json_ json_t *s = json_q(text);
	struct acre_error err = {0};
	assert_true(pkg_schema_check(s, &err) < 0);
	assert_string_equal(err.message, message);
}

static void test_schema_mistakes(void **state)
{
	(void)state;
	expect_schema_refused("{'type': 'string'}", "config.json: type: the top is an object");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'int'}}}",
			      "config.json: properties.a.type: must be one of object, array, "
			      "string, integer, number, boolean");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'string', "
			      "'minimum': 1}}}",
			      "config.json: properties.a.minimum: only for type integer or "
			      "number (this is string)");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'integer', "
			      "'default': 70000, 'maximum': 65535}}}",
			      "config.json: properties.a.default: options.a: 70000 is above the "
			      "maximum 65535");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'string', "
			      "'pattern': '(['}}}",
			      "config.json: properties.a.pattern: ([: Invalid regular expression");
	expect_schema_refused("{'type': 'object', 'required': ['b'], 'properties': {'a': "
			      "{'type': 'string'}}}",
			      "config.json: required[0]: not one of the properties");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'string', "
			      "'enum': ['x', 3]}}}",
			      "config.json: properties.a.enum[1]: not of type string");
	expect_schema_refused("{'type': 'object', 'properties': {'a': {'type': 'string', "
			      "'secrett': true}}}",
			      "config.json: properties.a.secrett: unknown field");
	expect_schema_refused("{'type': 'object', 'properties': {'a.b': {'type': 'string'}}}",
			      "config.json: properties.a.b: an option's name is a letter, then "
			      "letters, digits, '_' and '-'");
	_cleanup_json_ json_t *s = json_q(schema_text);
	assert_non_null(pkg_schema_find(s, "options.redis.auth.token"));
	assert_non_null(pkg_schema_find(s, "redis.port"));
	assert_null(pkg_schema_find(s, "redis.port.x"));
	assert_null(pkg_schema_find(s, "redis."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_each_keyword_refused),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_schema_mistakes),
	};
	return cmocka_run_group_tests_name("package options", tests, NULL, NULL);
}
