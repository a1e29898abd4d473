/*
 * The slice record the supervisor checkpoints, and the exit record acre-init
 * writes: what survives a save and load, which files are refused, and how a
 * task's end is shown ("exit 3", "signal 9") and turned into an exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>

#include "common/common.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static void record_init(struct acre_slice_record *rec, const char *spec_text)
{
	memset(rec, 0, sizeof(*rec));
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loads(spec_text, 0, &jerr);
	if (!j)
		fail_msg("test JSON: %s", jerr.text);
	struct acre_error err = {0};
	if (acre_slice_spec_parse(j, &rec->spec, &err) < 0)
		fail_msg("spec: %s", err.message);
	snprintf(rec->cgroup, sizeof(rec->cgroup), "s00c0ffee");
}

static void record_round_trip(const struct acre_slice_record *a, struct acre_slice_record *b)
{
	_cleanup_json_ json_t *j = acre_slice_record_to_json(a);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "state")),
			    acre_slice_state_name(a->state));
	/* Through text, as the state file stores it. */
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	_cleanup_json_ json_t *loaded = json_loads(text, 0, NULL);
	assert_non_null(loaded);
	struct acre_error err = {0};
	if (acre_slice_record_from_json(loaded, b, &err) < 0)
		fail_msg("%s: %s (field %s)", text, err.message, err.field);
}

static void assert_exit_equal(const struct acre_exit *a, const struct acre_exit *b)
{
	assert_int_equal(a->known, b->known);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->oom, b->oom);
	assert_string_equal(a->launch_failed, b->launch_failed);
}

static void assert_record_equal(const struct acre_slice_record *a,
				const struct acre_slice_record *b)
{
	assert_string_equal(a->spec.name, b->spec.name);
	_cleanup_json_ json_t *sa = acre_slice_spec_to_json(&a->spec);
	_cleanup_json_ json_t *sb = acre_slice_spec_to_json(&b->spec);
	assert_true(json_equal(sa, sb));
	assert_string_equal(a->cgroup, b->cgroup);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->reason, b->reason);
	assert_exit_equal(&a->exit, &b->exit);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->pid_start, b->pid_start);
	assert_int_equal(a->task_pid, b->task_pid);
	assert_int_equal(a->restarts, b->restarts);
	assert_int_equal(a->foreground, b->foreground);
	assert_int_equal(a->remove_on_exit, b->remove_on_exit);
	assert_int_equal(a->killed_by_user, b->killed_by_user);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->started_at, b->started_at);
	assert_int_equal(a->finished_at, b->finished_at);
}

static void test_round_trip_pending(void **state)
{
	(void)state;
	_cleanup_(acre_slice_record_free) struct acre_slice_record a, b = {0};
	record_init(&a, "{\"name\":\"web-1\",\"command\":[\"nginx\",\"-g\",\"daemon off;\"]}");
	a.state = ACRE_SLICE_PENDING;
	a.created_at = 1732550000123;
	a.foreground = true;
	record_round_trip(&a, &b);
	assert_record_equal(&a, &b);
	assert_false(b.exit.known);
	assert_string_equal(b.spec.command[2], "daemon off;");
}

static void test_round_trip_running(void **state)
{
	(void)state;
	_cleanup_(acre_slice_record_free) struct acre_slice_record a, b = {0};
	record_init(&a, "{\"name\":\"cache-1\",\"command\":[\"redis-server\"],"
			"\"resources\":{\"memory\":\"256M\",\"cpus\":0.5,\"pids\":128},"
			"\"restart\":\"on-failure:3\",\"labels\":{\"tier\":\"cache\"}}");
	a.state = ACRE_SLICE_RUNNING;
	a.pid = 41234;
	a.pid_start = 987654321012ULL;
	a.task_pid = 1;
	a.restarts = 2;
	a.remove_on_exit = true;
	a.created_at = 1732550000000;
	a.started_at = 1732550000450;
	record_round_trip(&a, &b);
	assert_record_equal(&a, &b);
	assert_int_equal(b.spec.resources.memory, 256ULL << 20);
	assert_int_equal(b.spec.restart_max, 3);
}

static void test_round_trip_final_states(void **state)
{
	(void)state;
	static const struct {
		enum acre_slice_state state;
		struct acre_exit exit;
		const char *reason;
	} cases[] = {
		{ACRE_SLICE_EXITED, {.known = true, .exit_code = 3}, "exit 3"},
		{ACRE_SLICE_EXITED, {.known = true, .exit_code = 0}, "exit 0"},
		{ACRE_SLICE_KILLED, {.known = true, .signal = SIGKILL}, "signal 9"},
		{ACRE_SLICE_FAILED, {.known = true, .signal = SIGKILL, .oom = true}, "oom"},
		{ACRE_SLICE_FAILED,
		 {.known = true, .exit_code = 127, .launch_failed = "exec /x: No such file"},
		 "launch_failed: exec /x: No such file"},
		{ACRE_SLICE_LOST, {.known = false}, "acre-init vanished"},
		{ACRE_SLICE_DESTROYED, {.known = true, .signal = SIGTERM}, "signal 15"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(cases); i++) {
		_cleanup_(acre_slice_record_free) struct acre_slice_record a, b = {0};
		record_init(&a, "{\"name\":\"job-7\",\"command\":[\"make\"]}");
		a.state = cases[i].state;
		a.exit = cases[i].exit;
		snprintf(a.reason, sizeof(a.reason), "%s", cases[i].reason);
		a.pid = 500;
		a.killed_by_user = cases[i].state == ACRE_SLICE_KILLED;
		a.created_at = 1;
		a.started_at = 2;
		a.finished_at = 3;
		record_round_trip(&a, &b);
		assert_record_equal(&a, &b);
	}
}

static void test_round_trip_long_utf8_launch_failure(void **state)
{
	(void)state;
	/* acre-init reports an exec of a long non-ASCII path; the record must still save. */
	char path[600] = "{\"launch_failed\":\"exec /";
	for (int i = 0; i < 150; i++)
		strcat(path, "\xd0\xbf");
	strcat(path, ": No such file or directory\"}");
	_cleanup_(acre_slice_record_free) struct acre_slice_record a, b = {0};
	record_init(&a, "{\"name\":\"ru\",\"command\":[\"x\"]}");
	a.state = ACRE_SLICE_FAILED;
	assert_int_equal(acre_exit_record_parse(path, strlen(path), &a.exit), 0);
	/* 255 bytes would end in half a character: the whole character is dropped. */
	assert_int_equal(strlen(a.exit.launch_failed), 254);
	assert_true(acre_str_is_utf8(a.exit.launch_failed, strlen(a.exit.launch_failed)));
	acre_exit_reason(&a.exit, a.reason, sizeof(a.reason));
	record_round_trip(&a, &b);
	assert_record_equal(&a, &b);
	assert_true(strncmp(b.exit.launch_failed, "exec /\xd0\xbf", 8) == 0);
}

/* A valid record as text, with one member replaced. */
static json_t *record_with(const char *key, json_t *value)
{
	_cleanup_(acre_slice_record_free) struct acre_slice_record a;
	record_init(&a, "{\"name\":\"web-1\",\"command\":[\"true\"]}");
	a.state = ACRE_SLICE_RUNNING;
	json_t *j = acre_slice_record_to_json(&a);
	assert_non_null(j);
	if (value)
		json_object_set_new(j, key, value);
	else
		json_object_del(j, key);
	return j;
}

static void expect_record_rejected(json_t *j, const char *field, const char *needle)
{
	_cleanup_json_ json_t *owned = j;
	struct acre_slice_record rec;
	struct acre_error err = {0};
	assert_int_equal(acre_slice_record_from_json(j, &rec, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.field, field);
	assert_contains(err.message, needle);
	/* Nothing is left allocated in a refused record. */
	assert_null(rec.spec.command);
	assert_null(rec.spec.labels);
}

static void test_reject_version(void **state)
{
	(void)state;
	expect_record_rejected(record_with("version", json_integer(2)), "version",
			       "unknown version 2");
	expect_record_rejected(record_with("version", json_integer(0)), "version",
			       "unknown version 0");
	expect_record_rejected(record_with("version", NULL), "", "slice record: ");
	expect_record_rejected(record_with("version", json_string("1")), "", "slice record: ");
}

static void test_reject_state(void **state)
{
	(void)state;
	expect_record_rejected(record_with("state", json_string("zombie")), "state",
			       "unknown state zombie");
	expect_record_rejected(record_with("state", json_string("")), "state", "unknown state");
	expect_record_rejected(record_with("state", NULL), "", "slice record: ");
	expect_record_rejected(record_with("state", json_integer(2)), "", "slice record: ");
}

static void test_reject_spec(void **state)
{
	(void)state;
	expect_record_rejected(record_with("spec", NULL), "", "slice record: ");
	expect_record_rejected(
		record_with("spec", json_pack("{s:s,s:[s],s:{s:s}}", "name", "web-1", "command",
					      "true", "resources", "memory", "12Q")),
		"resources.memory", "slice record: resources.memory 12Q: unknown unit");
	expect_record_rejected(record_with("spec", json_pack("{s:[s]}", "command", "true")),
			       "spec.name", "spec has no name");
	expect_record_rejected(record_with("pid", json_string("41")), "", "slice record: ");
	expect_record_rejected(record_with("cgroup", json_string("../x")), "cgroup",
			       "invalid cgroup name");
	expect_record_rejected(record_with("cgroup", NULL), "", "slice record: ");
}

static void test_reject_not_object(void **state)
{
	(void)state;
	expect_record_rejected(json_array(), "", "slice record: ");
}

static struct acre_exit exit_parse_ok(const char *text)
{
	struct acre_exit e;
	assert_int_equal(acre_exit_record_parse(text, strlen(text), &e), 0);
	assert_true(e.known);
	return e;
}

static void test_exit_record_parse(void **state)
{
	(void)state;
	struct acre_exit e = exit_parse_ok("{\"exit_code\":3}");
	assert_int_equal(e.exit_code, 3);
	assert_int_equal(e.signal, 0);
	assert_false(e.oom);
	assert_string_equal(e.launch_failed, "");

	e = exit_parse_ok("{\"signal\":9}\n");
	assert_int_equal(e.signal, 9);
	assert_int_equal(e.exit_code, 0);

	e = exit_parse_ok("{\"launch_failed\":\"exec /x: No such file\"}");
	assert_string_equal(e.launch_failed, "exec /x: No such file");
	assert_int_equal(e.exit_code, 127);

	e = exit_parse_ok("{\"launch_failed\":\"exec /x: Permission denied\","
			  "\"exit_code_hint\":126}");
	assert_int_equal(e.exit_code, 126);
}

static void test_exit_record_garbage(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"garbage",
		"{\"exit_code\":3",
		"[3]",
		"{}",
		"{\"exit_code\":\"3\"}",
		"{\"signal\":null}",
		"{\"launch_failed\":5}",
		"3",
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_exit e = {.known = true, .exit_code = 99};
		assert_int_equal(acre_exit_record_parse(bad[i], strlen(bad[i]), &e), -EINVAL);
		assert_false(e.known);
		assert_int_equal(e.exit_code, 0);
	}
	/* Only `len` bytes are read: a record cut short is garbage too. */
	const char *text = "{\"exit_code\":3}";
	struct acre_exit e;
	assert_int_equal(acre_exit_record_parse(text, 5, &e), -EINVAL);
}

static const char *reason(const struct acre_exit *e)
{
	static char buf[300];
	acre_exit_reason(e, buf, sizeof(buf));
	return buf;
}

static void test_exit_reason(void **state)
{
	(void)state;
	assert_string_equal(reason(&(struct acre_exit){.known = true, .exit_code = 3}), "exit 3");
	assert_string_equal(reason(&(struct acre_exit){.known = true}), "exit 0");
	assert_string_equal(reason(&(struct acre_exit){.known = true, .signal = 9}), "signal 9");
	assert_string_equal(reason(&(struct acre_exit){.known = true, .signal = 9, .oom = true}),
			    "oom");
	assert_string_equal(reason(&(struct acre_exit){.known = true,
						       .exit_code = 127,
						       .launch_failed = "exec /x: No such file"}),
			    "launch_failed: exec /x: No such file");
	assert_string_equal(reason(&(struct acre_exit){.known = false, .exit_code = 3}), "unknown");

	char small[7];
	acre_exit_reason(&(struct acre_exit){.known = true, .signal = 15}, small, sizeof(small));
	assert_string_equal(small, "signal");
}

static void test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = true, .exit_code = 3}), 3);
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = true}), 0);
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = true, .signal = 9}), 137);
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = true, .signal = 15}),
			 128 + 15);
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = true, .oom = true}), 137);
	struct acre_exit killed_by_oom = {.known = true, .signal = 9, .oom = true};
	assert_int_equal(acre_exit_status(&killed_by_oom), 137);
	struct acre_exit e = exit_parse_ok("{\"launch_failed\":\"exec /x: No such file\"}");
	assert_int_equal(acre_exit_status(&e), 127);
	assert_int_equal(
		acre_exit_status(&(struct acre_exit){.known = true, .launch_failed = "bad"}), 125);
	assert_int_equal(acre_exit_status(&(struct acre_exit){.known = false}), 125);
}

static void test_state_names(void **state)
{
	(void)state;
	static const struct {
		enum acre_slice_state state;
		const char *name;
		bool final;
	} states[] = {
		{ACRE_SLICE_PENDING, "pending", false}, {ACRE_SLICE_STARTING, "starting", false},
		{ACRE_SLICE_RUNNING, "running", false}, {ACRE_SLICE_EXITED, "exited", true},
		{ACRE_SLICE_FAILED, "failed", true},	{ACRE_SLICE_KILLED, "killed", true},
		{ACRE_SLICE_LOST, "lost", true},	{ACRE_SLICE_DESTROYED, "destroyed", true},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(states); i++) {
		assert_string_equal(acre_slice_state_name(states[i].state), states[i].name);
		enum acre_slice_state parsed = ACRE_SLICE_LOST;
		assert_int_equal(acre_slice_state_parse(states[i].name, &parsed), 0);
		assert_int_equal(parsed, states[i].state);
		assert_int_equal(acre_slice_state_is_final(states[i].state), states[i].final);
	}
	enum acre_slice_state s;
	assert_int_equal(acre_slice_state_parse("Running", &s), -EINVAL);
	assert_int_equal(acre_slice_state_parse("?", &s), -EINVAL);
	assert_string_equal(acre_slice_state_name((enum acre_slice_state)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_pending),
		cmocka_unit_test(test_round_trip_running),
		cmocka_unit_test(test_round_trip_final_states),
		cmocka_unit_test(test_round_trip_long_utf8_launch_failure),
		cmocka_unit_test(test_reject_version),
		cmocka_unit_test(test_reject_state),
		cmocka_unit_test(test_reject_spec),
		cmocka_unit_test(test_reject_not_object),
		cmocka_unit_test(test_exit_record_parse),
		cmocka_unit_test(test_exit_record_garbage),
		cmocka_unit_test(test_exit_reason),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
