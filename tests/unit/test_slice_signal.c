/*
 * The signal of a kill as the supervisor reads it (supervisor/slice_ops_signal.c):
 * its socket and its pool link both call this one parser, so a name or a
 * number means the same signal whichever protocol carries it, as a JSON
 * string or a JSON integer, and the same values are refused by both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>

#include "supervisor/slice_ops.h"

/* The signal a JSON value (as text) stands for; fails the test when it is refused. */
static int signal_of(const char *json)
{
	json_error_t jerr;
	_cleanup_json_ json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("test input %s: %s", json, jerr.text);
	struct acre_error err = {0};
	int sig = 0;
	int r = slice_ops_parse_signal(v, &sig, &err);
	if (r != 0)
		fail_msg("signal %s refused: %d %s", json, r, err.message);
	return sig;
}

/* A refused value: EINVAL, the field named, the message saying what was wrong. */
static void refused(const char *json, const char *words)
{
	_cleanup_json_ json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	struct acre_error err = {0};
	int sig = -1;
	assert_int_equal(slice_ops_parse_signal(v, &sig, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.field, "signal");
	if (!strstr(err.message, words))
		fail_msg("signal %s: \"%s\" does not say \"%s\"", json, err.message, words);
}

static void test_names_as_either_caller_sends_them(void **state)
{
	(void)state;
	assert_int_equal(signal_of("\"TERM\""), SIGTERM);
	assert_int_equal(signal_of("\"SIGTERM\""), SIGTERM);
	assert_int_equal(signal_of("\"term\""), SIGTERM);
	assert_int_equal(signal_of("\"SigHup\""), SIGHUP);
	assert_int_equal(signal_of("\"USR1\""), SIGUSR1);
	assert_int_equal(signal_of("\"usr2\""), SIGUSR2);
	assert_int_equal(signal_of("\"KILL\""), SIGKILL);
}

/* The controller sends integers, the CLI on the socket too; a string of digits is the same. */
static void test_numbers_as_integer_or_string(void **state)
{
	(void)state;
	for (int n = 1; n <= SIGRTMAX; n++) {
		char as_int[16], as_text[16];
		snprintf(as_int, sizeof(as_int), "%d", n);
		snprintf(as_text, sizeof(as_text), "\"%d\"", n);
		assert_int_equal(signal_of(as_int), n);
		assert_int_equal(signal_of(as_text), n);
	}
	assert_int_equal(signal_of("15"), signal_of("\"TERM\""));
	assert_int_equal(signal_of("10"), signal_of("\"SIGUSR1\""));
}

static void test_refused_alike(void **state)
{
	(void)state;
	refused("0", "no such signal");
	refused("\"0\"", "no such signal");
	refused("65", "no such signal");
	refused("\"65\"", "no such signal");
	refused("-1", "no such signal");
	refused("4294967311", "no such signal"); /* 2^32 + 15: no wrap to TERM */
	refused("\"15x\"", "no such signal");
	refused("\"NOPE\"", "NOPE");
	refused("\"\"", "empty");
	refused("true", "a name (TERM) or a number");
	refused("null", "a name (TERM) or a number");
	refused("15.0", "a name (TERM) or a number");
	refused("[15]", "a name (TERM) or a number");
	refused("{\"name\": \"TERM\"}", "a name (TERM) or a number");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_as_either_caller_sends_them),
		cmocka_unit_test(test_numbers_as_integer_or_string),
		cmocka_unit_test(test_refused_alike),
	};
	return cmocka_run_group_tests_name("slice_signal", tests, NULL, NULL);
}
