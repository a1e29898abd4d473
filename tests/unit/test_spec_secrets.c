/*
 * Secrets of the slice spec (common/spec_secrets.c): parsed, printed back
 * whole for the checkpoint and redacted for every view, a spec as given
 * redacted in place, and for each mistake an error that names the field
 * and never repeats a value, with nothing left allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"
#include "json_q.h"

static int parse(const char *secrets, struct acre_slice_spec *s, struct acre_error *err)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], 'secrets': %s}", secrets) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	return acre_slice_spec_parse(j, s, err);
}

static void expect_rejected_json(json_t *j, const char *needle, const char *value)
{
	struct acre_slice_spec s;
	struct acre_error err = {0};
	int rc = acre_slice_spec_parse(j, &s, &err);
	if (rc >= 0) {
		acre_slice_spec_free(&s);
		fail_msg("accepted: %s", needle);
	}
	if (strcmp(err.field, "secrets") != 0 || !strstr(err.message, needle))
		fail_msg("got field \"%s\", message \"%s\"; want field secrets and \"%s\"",
			 err.field, err.message, needle);
	if (value && strstr(err.message, value))
		fail_msg("the error repeats the value: %s", err.message);
	assert_null(s.secrets);
	assert_int_equal(s.nsecrets, 0);
}

static void expect_rejected(const char *secrets, const char *needle, const char *value)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], 'secrets': %s}", secrets) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	expect_rejected_json(j, needle, value);
}

static void test_parsed_printed_back_and_redacted(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(
		parse("{'db_password': 'hunter2', 'api.key': 'line1\\nline2', 'e': ''}", &s, &err),
		0);
	assert_int_equal(s.nsecrets, 3);
	assert_string_equal(s.secrets[0].name, "db_password");
	assert_string_equal(s.secrets[0].value, "hunter2");
	assert_string_equal(s.secrets[1].value, "line1\nline2");
	assert_string_equal(s.secrets[2].value, "");

	/* Whole, for the checkpoint: it parses back to the same values. */
	_cleanup_json_ json_t *whole = acre_slice_spec_to_json(&s);
	struct acre_slice_spec back;
	assert_int_equal(acre_slice_spec_parse(whole, &back, &err), 0);
	assert_int_equal(back.nsecrets, 3);
	assert_string_equal(back.secrets[0].value, "hunter2");
	assert_string_equal(back.secrets[1].value, "line1\nline2");
	acre_slice_spec_free(&back);

	/* Shown: every name, no value. */
	_cleanup_json_ json_t *shown = acre_slice_spec_to_json_redacted(&s);
	json_t *sec = json_object_get(shown, "secrets");
	assert_int_equal(json_object_size(sec), 3);
	assert_string_equal(json_string_value(json_object_get(sec, "db_password")), "<redacted>");
	assert_string_equal(json_string_value(json_object_get(sec, "e")), "<redacted>");
	_cleanup_free_ char *text = json_dumps(shown, 0);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "line1"));
	/* The rest is the same as the whole form's. */
	json_object_del(shown, "secrets");
	json_object_del(whole, "secrets");
	assert_true(json_equal(shown, whole));
	acre_slice_spec_free(&s);
}

static void test_none_and_empty(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(parse("{}", &s, &err), 0);
	assert_int_equal(s.nsecrets, 0);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json_redacted(&s);
	assert_null(json_object_get(j, "secrets"));
	acre_slice_spec_free(&s);
	assert_int_equal(parse("null", &s, &err), 0);
	acre_slice_spec_free(&s);
}

static void test_redact_json_in_place(void **state)
{
	(void)state;
	_cleanup_json_ json_t *j = json_q(
		"{'command': ['true'], 'secrets': {'a': 'v1', 'b': 'v2'}, 'env': {'a': 'x'}}");
	acre_secrets_redact_json(j);
	json_t *sec = json_object_get(j, "secrets");
	assert_string_equal(json_string_value(json_object_get(sec, "a")), "<redacted>");
	assert_string_equal(json_string_value(json_object_get(sec, "b")), "<redacted>");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "env"), "a")),
			    "x");
	/* A spec without secrets, or no spec, is left alone. */
	_cleanup_json_ json_t *plain = json_q("{'command': ['true']}");
	acre_secrets_redact_json(plain);
	assert_null(json_object_get(plain, "secrets"));
	acre_secrets_redact_json(NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(acre_secret_name_valid("db_password"));
	assert_true(acre_secret_name_valid("a"));
	assert_true(acre_secret_name_valid("tls.key-2"));
	assert_true(acre_secret_name_valid("_x"));
	char longest[ACRE_SECRET_NAME_MAX + 2];
	memset(longest, 'a', ACRE_SECRET_NAME_MAX);
	longest[ACRE_SECRET_NAME_MAX] = '\0';
	assert_true(acre_secret_name_valid(longest));
	longest[ACRE_SECRET_NAME_MAX] = 'a';
	longest[ACRE_SECRET_NAME_MAX + 1] = '\0';
	assert_false(acre_secret_name_valid(longest));
	assert_false(acre_secret_name_valid(""));
	assert_false(acre_secret_name_valid(".hidden"));
	assert_false(acre_secret_name_valid(".."));
	assert_false(acre_secret_name_valid("a/b"));
	assert_false(acre_secret_name_valid("a b"));
	assert_false(acre_secret_name_valid("a=b"));
}

static void test_mistakes_name_their_field(void **state)
{
	(void)state;
	expect_rejected("['a']", "secrets: an object of at most 32", NULL);
	expect_rejected("'x'", "secrets: an object", NULL);
	expect_rejected("{'.env': 'topsecret'}", "secrets: name \".env\"", "topsecret");
	expect_rejected("{'a/b': 'topsecret'}", "secrets: name \"a/b\"", "topsecret");
	expect_rejected("{'': 'topsecret'}", "secrets: name \"\"", "topsecret");
	expect_rejected("{'a': 5}", "secrets.a: a string of at most 65536 bytes", NULL);
	expect_rejected("{'a': null}", "secrets.a: a string", NULL);
	expect_rejected("{'a': '<redacted>'}", "secrets.a: \"<redacted>\" is how a secret is shown",
			NULL);
	expect_rejected("{'ok': 'fine', 'a': 'top\\u0000secret'}", "secrets.a: a string", "top");

	/* 64 KiB exactly is taken; a byte more is not. */
	char *big = malloc(ACRE_SECRET_VALUE_MAX + 2);
	assert_non_null(big);
	memset(big, 'v', ACRE_SECRET_VALUE_MAX + 1);
	big[ACRE_SECRET_VALUE_MAX + 1] = '\0';
	_cleanup_json_ json_t *j =
		json_pack("{s:[s],s:{s:s}}", "command", "true", "secrets", "big", big);
	expect_rejected_json(j, "secrets.big: a string of at most", "vvvv");
	big[ACRE_SECRET_VALUE_MAX] = '\0';
	_cleanup_json_ json_t *ok =
		json_pack("{s:[s],s:{s:s}}", "command", "true", "secrets", "big", big);
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(acre_slice_spec_parse(ok, &s, &err), 0);
	assert_int_equal(strlen(s.secrets[0].value), ACRE_SECRET_VALUE_MAX);
	acre_slice_spec_free(&s);
	free(big);

	/* Four of 64 KiB are taken; a byte more in all is not. */
	char *quarter = malloc(ACRE_SECRET_VALUE_MAX + 1);
	assert_non_null(quarter);
	memset(quarter, 'q', ACRE_SECRET_VALUE_MAX);
	quarter[ACRE_SECRET_VALUE_MAX] = '\0';
	_cleanup_json_ json_t *four =
		json_pack("{s:[s],s:{s:s,s:s,s:s,s:s}}", "command", "true", "secrets", "a", quarter,
			  "b", quarter, "c", quarter, "d", quarter);
	assert_int_equal(acre_slice_spec_parse(four, &s, &err), 0);
	acre_slice_spec_free(&s);
	json_object_set_new(json_object_get(four, "secrets"), "e", json_string("q"));
	expect_rejected_json(four, "secrets: at most 262144 bytes of values in all", "qqqq");
	free(quarter);

	/* 32 are taken, 33 are not. */
	_cleanup_json_ json_t *many = json_pack("{s:[s],s:{}}", "command", "true", "secrets");
	json_t *sec = json_object_get(many, "secrets");
	for (int i = 0; i < ACRE_SECRETS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		json_object_set_new(sec, name, json_string("v"));
	}
	assert_int_equal(acre_slice_spec_parse(many, &s, &err), 0);
	assert_int_equal(s.nsecrets, ACRE_SECRETS_MAX);
	acre_slice_spec_free(&s);
	json_object_set_new(sec, "one_more", json_string("v"));
	expect_rejected_json(many, "secrets: an object of at most 32", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsed_printed_back_and_redacted),
		cmocka_unit_test(test_none_and_empty),
		cmocka_unit_test(test_redact_json_in_place),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mistakes_name_their_field),
	};
	return cmocka_run_group_tests_name("spec_secrets", tests, NULL, NULL);
}
