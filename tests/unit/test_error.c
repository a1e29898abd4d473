/*
 * Errors as the user reads them: the errno and field kept, context added in
 * front as the error travels up, the stable code names the protocol sends,
 * and the log level names flags accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

static void test_set(void **state)
{
	(void)state;
	struct acre_error err = {0};
	assert_int_equal(acre_error_set(&err, EACCES, "isolation.rootfs", "opening %s: %s",
					"/srv/root", strerror(EACCES)),
			 -EACCES);
	assert_int_equal(err.code, EACCES);
	assert_string_equal(err.field, "isolation.rootfs");
	assert_string_equal(err.message, "opening /srv/root: Permission denied");
}

static void test_set_normalises_code(void **state)
{
	(void)state;
	struct acre_error err = {.field = "old"};
	/* -errno as functions return it, or 0 for "failed, no errno". */
	assert_int_equal(acre_error_set(&err, -ENOENT, NULL, "gone"), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.field, "");
	assert_int_equal(acre_error_set(&err, 0, "f", "x"), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_int_equal(acre_error_set(NULL, EBUSY, "f", "x"), -EBUSY);
	assert_int_equal(acre_error_set(NULL, 0, "f", "x"), -EINVAL);
}

static void test_set_truncates(void **state)
{
	(void)state;
	struct acre_error err;
	char long_text[1000];
	memset(long_text, 'm', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	acre_error_set(&err, EINVAL, long_text, "%s", long_text);
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
	assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
}

static void test_prefix(void **state)
{
	(void)state;
	struct acre_error err = {0};
	acre_error_set(&err, EPERM, "resources.memory", "writing memory.max: %s", strerror(EPERM));
	assert_int_equal(acre_error_prefix(&err, "creating cgroup acre/%s", "web-1"), -EPERM);
	assert_string_equal(err.message, "creating cgroup acre/web-1: "
					 "writing memory.max: Operation not permitted");
	assert_int_equal(acre_error_prefix(&err, "starting web-1"), -EPERM);
	assert_string_equal(err.message, "starting web-1: creating cgroup acre/web-1: writing "
					 "memory.max: Operation not permitted");
	/* The field and code stay those of the original failure. */
	assert_string_equal(err.field, "resources.memory");
	assert_int_equal(err.code, EPERM);
}

static void test_prefix_edge_cases(void **state)
{
	(void)state;
	assert_int_equal(acre_error_prefix(NULL, "x"), -EINVAL);
	struct acre_error err = {0};
	assert_int_equal(acre_error_prefix(&err, "ctx"), -EINVAL);
	assert_string_equal(err.message, "ctx: ");

	char long_text[600];
	memset(long_text, 'p', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	acre_error_set(&err, EIO, NULL, "cause");
	/* An over-long context is cut, never the cause after it. */
	acre_error_prefix(&err, "%s", long_text);
	assert_int_equal(err.message[0], 'p');
	size_t n = strlen(err.message);
	assert_true(n > strlen(": cause"));
	assert_string_equal(err.message + n - strlen(": cause"), ": cause");
}

static void test_code_names(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{EINVAL, "invalid"},	     {ENOENT, "not_found"},  {EEXIST, "exists"},
		{EACCES, "denied"},	     {EPERM, "denied"},	     {EBUSY, "busy"},
		{ENOSPC, "no_space"},	     {EMSGSIZE, "too_long"}, {EPROTO, "protocol"},
		{EOPNOTSUPP, "unsupported"}, {ENOMEM, "no_memory"},  {ETIMEDOUT, "timeout"},
		{ESRCH, "not_running"},	     {EIO, "internal"},	     {0, "internal"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(names); i++) {
		assert_string_equal(acre_error_code_name(names[i].code), names[i].name);
		assert_string_equal(acre_error_code_name(-names[i].code), names[i].name);
	}
}

static void test_log_levels(void **state)
{
	(void)state;
	enum acre_log_level l = ACRE_LOG_ERROR;
	assert_int_equal(acre_log_parse_level("debug", &l), 0);
	assert_int_equal(l, ACRE_LOG_DEBUG);
	assert_int_equal(acre_log_parse_level("warn", &l), 0);
	assert_int_equal(l, ACRE_LOG_WARN);
	assert_int_equal(acre_log_parse_level("error", &l), 0);
	assert_int_equal(l, ACRE_LOG_ERROR);
	assert_int_equal(acre_log_parse_level("info", &l), 0);
	assert_int_equal(l, ACRE_LOG_INFO);
	assert_int_equal(acre_log_parse_level("verbose", &l), -EINVAL);
	assert_int_equal(acre_log_parse_level("INFO", &l), -EINVAL);
	assert_int_equal(l, ACRE_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_normalises_code),
		cmocka_unit_test(test_set_truncates),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_edge_cases),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_log_levels),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
