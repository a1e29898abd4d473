/*
 * Persistent volumes of the slice spec (common/spec_volumes.c): sizes as
 * numbers or with units, a round trip through JSON, the CLI's
 * NAME:SIZE:PATH, and for each mistake the field the error names, with
 * nothing left allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"
#include "json_q.h"

static int parse(const char *volumes, struct acre_slice_spec *s, struct acre_error *err)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], 'volumes': %s}", volumes) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	return acre_slice_spec_parse(j, s, err);
}

static void expect_rejected(const char *volumes, const char *field, const char *needle)
{
	struct acre_slice_spec s;
	struct acre_error err = {0};
	int rc = parse(volumes, &s, &err);
	if (rc >= 0) {
		acre_slice_spec_free(&s);
		fail_msg("%s: accepted", volumes);
	}
	if (strcmp(err.field, field) != 0 || !strstr(err.message, needle))
		fail_msg("%s: got field \"%s\", message \"%s\"; want field \"%s\" and \"%s\"",
			 volumes, err.field, err.message, field, needle);
	assert_null(s.volumes);
	assert_int_equal(s.nvolumes, 0);
}

static void test_parsed_and_printed_back(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(parse("[{'name': 'data', 'size': '1G', 'path': '/var/lib/app'},"
			       " {'name': 'logs.2', 'size': 33554432, 'path': '/srv/logs'}]",
			       &s, &err),
			 0);
	assert_int_equal(s.nvolumes, 2);
	assert_string_equal(s.volumes[0].name, "data");
	assert_int_equal(s.volumes[0].size, 1ULL << 30);
	assert_string_equal(s.volumes[0].path, "/var/lib/app");
	assert_int_equal(s.volumes[1].size, 32ULL << 20);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	struct acre_slice_spec back;
	assert_int_equal(acre_slice_spec_parse(j, &back, &err), 0);
	assert_int_equal(back.nvolumes, 2);
	assert_string_equal(back.volumes[1].name, "logs.2");
	assert_string_equal(back.volumes[1].path, "/srv/logs");
	assert_int_equal(back.volumes[1].size, s.volumes[1].size);
	acre_slice_spec_free(&back);
	acre_slice_spec_free(&s);
}

static void test_none(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(parse("[]", &s, &err), 0);
	assert_int_equal(s.nvolumes, 0);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	assert_null(json_object_get(j, "volumes"));
	acre_slice_spec_free(&s);
}

static void test_mistakes_name_their_field(void **state)
{
	(void)state;
	expect_rejected("{}", "volumes", "an array");
	expect_rejected("['data']", "volumes[0]", "must be an object");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/x', 'mode': 'rw'}]", "volumes[0]",
			"volumes[0].mode: unknown field");
	expect_rejected("[{'name': '-d', 'size': '1G', 'path': '/x'}]", "volumes[0]",
			"volumes[0].name");
	expect_rejected("[{'name': 'd', 'path': '/x'}]", "volumes[0].size", "required");
	expect_rejected("[{'name': 'd', 'size': '1Q', 'path': '/x'}]", "volumes[0].size", "1Q");
	expect_rejected("[{'name': 'd', 'size': '1M', 'path': '/x'}]", "volumes[0].size",
			"from 16M to 16T");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': 'x'}]", "volumes[0]",
			"volumes[0].path");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/'}]", "volumes[0]", "path");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/a/../etc'}]", "volumes[0]", "path");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/proc/x'}]", "volumes[0]", "/proc");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/tmp'}]", "volumes[0]", "/tmp");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/a'},"
			" {'name': 'd', 'size': '1G', 'path': '/b'}]",
			"volumes[1]", "named twice");
	expect_rejected("[{'name': 'd', 'size': '1G', 'path': '/a'},"
			" {'name': 'e', 'size': '1G', 'path': '/a'}]",
			"volumes[1]", "mounted twice");
	expect_rejected("[{'name': 'a', 'size': '16M', 'path': '/a'}, {'name': 'b', 'size': '16M',"
			" 'path': '/b'}, {'name': 'c', 'size': '16M', 'path': '/c'}, {'name': 'd',"
			" 'size': '16M', 'path': '/d'}, {'name': 'e', 'size': '16M', 'path': '/e'},"
			" {'name': 'f', 'size': '16M', 'path': '/f'}, {'name': 'g', 'size': '16M',"
			" 'path': '/g'}, {'name': 'h', 'size': '16M', 'path': '/h'}, {'name': 'i',"
			" 'size': '16M', 'path': '/i'}]",
			"volumes", "at most 8");
}

static void test_the_flag(void **state)
{
	(void)state;
	struct acre_volume v;
	struct acre_error err = {0};
	assert_int_equal(acre_volume_parse("data:1G:/var/lib/a:b", &v, &err), 0);
	assert_string_equal(v.name, "data");
	assert_int_equal(v.size, 1ULL << 30);
	assert_string_equal(v.path, "/var/lib/a:b"); /* the path last: it may hold a ':' */
	free(v.path);
	assert_true(acre_volume_parse("data:1G", &v, &err) < 0);
	assert_string_equal(err.field, "--volume");
	assert_non_null(strstr(err.message, "--volume data:1G: NAME:SIZE:PATH"));
	assert_true(acre_volume_parse("data:2M:/x", &v, &err) < 0);
	assert_non_null(strstr(err.message, "--volume data:2M:/x: size: from 16M to 16T"));
	assert_null(v.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsed_and_printed_back),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_mistakes_name_their_field),
		cmocka_unit_test(test_the_flag),
	};
	return cmocka_run_group_tests_name("spec_volumes", tests, NULL, NULL);
}
