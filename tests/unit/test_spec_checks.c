/*
 * Health and readiness checks of the slice spec: the defaults (grace 15 s,
 * interval 5 s, timeout 2 s, 3 failures), sub-second durations, the three
 * kinds, a round trip through JSON, the CLI's PORT[/PATH], and for each
 * mistake the field the error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"
#include "json_q.h"

/* `members` added to {"command": ["true"]}. */
static void parse_ok(const char *members, struct acre_slice_spec *s)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], %s}", members) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_error err = {0};
	if (acre_slice_spec_parse(j, s, &err) < 0)
		fail_msg("%s: rejected: %s (field %s)", text, err.message, err.field);
}

static void expect_rejected(const char *members, const char *field, const char *needle)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], %s}", members) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_slice_spec s;
	struct acre_error err = {0};
	int rc = acre_slice_spec_parse(j, &s, &err);
	if (rc >= 0) {
		acre_slice_spec_free(&s);
		fail_msg("%s: accepted", text);
	}
	if (strcmp(err.field, field) != 0 || !strstr(err.message, needle))
		fail_msg("%s: got field \"%s\", message \"%s\"; want field \"%s\" and \"%s\"", text,
			 err.field, err.message, field, needle);
	assert_int_equal(rc, -EINVAL);
	assert_null(s.checks);
	assert_null(s.readiness);
}

static void test_none_by_default(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	parse_ok("'name': 'a'", &s);
	assert_null(s.checks);
	assert_int_equal(s.nchecks, 0);
	assert_int_equal(s.nreadiness, 0);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	assert_null(json_object_get(j, "checks"));
	assert_null(json_object_get(j, "readiness"));
	acre_slice_spec_free(&s);
}

static void test_defaults(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	parse_ok("'checks': [{'kind': 'http', 'port': 8000}]", &s);
	assert_int_equal(s.nchecks, 1);
	const struct acre_check *c = &s.checks[0];
	assert_int_equal(c->kind, ACRE_CHECK_HTTP);
	assert_int_equal(c->port, 8000);
	assert_string_equal(c->path, "/");
	assert_int_equal(c->grace_ms, 15000);
	assert_int_equal(c->interval_ms, 5000);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->failures, 3);
	acre_slice_spec_free(&s);
}

static void test_kinds_and_durations(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	parse_ok("'checks': [{'kind': 'tcp', 'port': 6379, 'interval': 0.2, 'timeout': '150ms',"
		 " 'grace': '0s', 'failures': 2},"
		 " {'kind': 'command', 'command': ['/bin/sh', '-c', 'test -e /tmp/ok'],"
		 "  'interval': '1.5s', 'timeout': 1}],"
		 "'readiness': [{'kind': 'http', 'port': 80, 'path': '/ready?x=1'},"
		 " {'kind': 'tcp', 'port': 80, 'interval': '1s'}]",
		 &s);
	/* An interval below the default timeout, the timeout not given: the interval's. */
	assert_int_equal(s.readiness[1].timeout_ms, 1000);
	assert_int_equal(s.nchecks, 2);
	assert_int_equal(s.checks[0].kind, ACRE_CHECK_TCP);
	assert_int_equal(s.checks[0].interval_ms, 200);
	assert_int_equal(s.checks[0].timeout_ms, 150);
	assert_int_equal(s.checks[0].grace_ms, 0);
	assert_int_equal(s.checks[0].failures, 2);
	assert_null(s.checks[0].path);
	assert_int_equal(s.checks[1].kind, ACRE_CHECK_COMMAND);
	assert_string_equal(s.checks[1].command[2], "test -e /tmp/ok");
	assert_null(s.checks[1].command[3]);
	assert_int_equal(s.checks[1].interval_ms, 1500);
	assert_int_equal(s.checks[1].timeout_ms, 1000);
	assert_int_equal(s.nreadiness, 2);
	assert_string_equal(s.readiness[0].path, "/ready?x=1");
	acre_slice_spec_free(&s);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct acre_slice_spec a, b;
	parse_ok("'checks': [{'kind': 'http', 'port': 8000, 'path': '/x', 'interval': 0.25,"
		 " 'timeout': 0.1, 'grace': 1, 'failures': 4},"
		 " {'kind': 'command', 'command': ['true']}],"
		 "'readiness': [{'kind': 'tcp', 'port': 1}]",
		 &a);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&a);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "checks"), 0), "interval")),
			    "250ms");
	struct acre_error err = {0};
	assert_int_equal(acre_slice_spec_parse(j, &b, &err), 0);
	assert_int_equal(b.nchecks, 2);
	assert_int_equal(b.nreadiness, 1);
	for (size_t i = 0; i < a.nchecks; i++) {
		assert_int_equal(a.checks[i].kind, b.checks[i].kind);
		assert_int_equal(a.checks[i].port, b.checks[i].port);
		assert_int_equal(a.checks[i].grace_ms, b.checks[i].grace_ms);
		assert_int_equal(a.checks[i].interval_ms, b.checks[i].interval_ms);
		assert_int_equal(a.checks[i].timeout_ms, b.checks[i].timeout_ms);
		assert_int_equal(a.checks[i].failures, b.checks[i].failures);
	}
	assert_string_equal(b.checks[0].path, "/x");
	assert_string_equal(b.checks[1].command[0], "true");
	assert_int_equal(b.readiness[0].port, 1);
	acre_slice_spec_free(&a);
	acre_slice_spec_free(&b);
}

static void test_rejected(void **state)
{
	(void)state;
	expect_rejected("'checks': {}", "checks", "array");
	expect_rejected("'checks': [1]", "checks[0]", "object");
	expect_rejected("'checks': [{'port': 80}]", "checks[0].kind", "command, tcp or http");
	expect_rejected("'checks': [{'kind': 'udp', 'port': 80}]", "checks[0].kind", "tcp");
	expect_rejected("'checks': [{'kind': 'tcp'}]", "checks[0].port", "required");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 70000}]", "checks[0].port", "65535");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'path': '/'}]", "checks[0].path",
			"only for kind http");
	expect_rejected("'checks': [{'kind': 'http', 'port': 80, 'path': 'x'}]", "checks[0].path",
			"start with /");
	expect_rejected("'checks': [{'kind': 'http', 'port': 80, 'path': '/a b'}]",
			"checks[0].path", "space");
	expect_rejected("'checks': [{'kind': 'command'}]", "checks[0].command", "required");
	expect_rejected("'checks': [{'kind': 'command', 'command': []}]", "checks[0].command",
			"non-empty");
	expect_rejected("'checks': [{'kind': 'command', 'command': ['']}]", "checks[0].command",
			"non-empty string");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'command': ['x']}]",
			"checks[0].command", "only for kind command");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'interval': '10ms'}]",
			"checks[0].interval", "at least 50ms");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'interval': 'soon'}]",
			"checks[0].interval", "not a duration");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'grace': -1}]", "checks[0].grace",
			"0 to 3600");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'interval': 1, 'timeout': 2}]",
			"checks[0].timeout", "to the interval");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'failures': 0}]",
			"checks[0].failures", "1 to 100");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80, 'retries': 1}]",
			"checks[0].retries", "unknown field");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 80}, {'kind': 'tcp', 'port': 0}]",
			"checks[1].port", "1 to 65535");
	expect_rejected("'readiness': [{'kind': 'http', 'port': 'x'}]", "readiness[0].port",
			"required");
	expect_rejected("'checks': [{'kind': 'tcp', 'port': 1}, {'kind': 'tcp', 'port': 2},"
			"{'kind': 'tcp', 'port': 3}, {'kind': 'tcp', 'port': 4},"
			"{'kind': 'tcp', 'port': 5}, {'kind': 'tcp', 'port': 6},"
			"{'kind': 'tcp', 'port': 7}, {'kind': 'tcp', 'port': 8},"
			"{'kind': 'tcp', 'port': 9}]",
			"checks", "at most 8");
}

static void test_http_target(void **state)
{
	(void)state;
	uint16_t port;
	struct acre_error err = {0};
	_cleanup_free_ char *a = NULL, *b = NULL;
	assert_int_equal(acre_check_http_target_parse("8000", &port, &a, &err, "--check-http"), 0);
	assert_int_equal(port, 8000);
	assert_string_equal(a, "/");
	assert_int_equal(
		acre_check_http_target_parse("80/index.html", &port, &b, &err, "--check-http"), 0);
	assert_int_equal(port, 80);
	assert_string_equal(b, "/index.html");
	char *c = NULL;
	const char *bad[] = {"", "x", "0", "65536", "80x", "80/a b", "/x"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(
			acre_check_http_target_parse(bad[i], &port, &c, &err, "--check-http"),
			-EINVAL);
		assert_string_equal(err.field, "--check-http");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_by_default),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_kinds_and_durations),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_http_target),
	};
	return cmocka_run_group_tests_name("spec_checks", tests, NULL, NULL);
}
