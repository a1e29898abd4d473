/*
 * Artifacts of the slice spec (common/spec_artifacts.c): the checksum
 * normalised, extract's default from the name, a round trip through JSON,
 * the file name a plain artifact gets, and for each mistake the field the
 * error names, with nothing left allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"
#include "json_q.h"

#define SUM  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SUMU "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"

static int parse(const char *artifacts, struct acre_slice_spec *s, struct acre_error *err)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text,
			     "{'command': ['true'], 'volumes': [{'name': 'd', 'size': '1G', "
			     "'path': '/data'}], 'artifacts': %s}",
			     artifacts) > 0);
	_cleanup_json_ json_t *j = json_q(text);
	return acre_slice_spec_parse(j, s, err);
}

static void expect_rejected(const char *artifacts, const char *field, const char *needle)
{
	struct acre_slice_spec s;
	struct acre_error err = {0};
	int rc = parse(artifacts, &s, &err);
	if (rc >= 0) {
		acre_slice_spec_free(&s);
		fail_msg("%s: accepted", artifacts);
	}
	if (strcmp(err.field, field) != 0 || !strstr(err.message, needle))
		fail_msg("%s: got field \"%s\", message \"%s\"; want field \"%s\" and \"%s\"",
			 artifacts, err.field, err.message, field, needle);
	assert_null(s.artifacts);
	assert_int_equal(s.nartifacts, 0);
}

static void test_parsed_and_printed_back(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(
		parse("[{'uri': 'https://example.org/r/redis-7.tar.gz?x=1', 'sha256': '" SUMU
		      "', 'path': '/opt/redis'},"
		      " {'uri': 'file:///srv/tool.bin', 'sha256': '" SUM "', 'path': '/opt/tool'},"
		      " {'uri': 'http://198.18.0.1:8000/a.TGZ', 'sha256': '" SUM
		      "', 'extract': false, 'path': '/opt/a'}]",
		      &s, &err),
		0);
	assert_int_equal(s.nartifacts, 3);
	assert_string_equal(s.artifacts[0].sha256, SUM); /* lower case */
	assert_true(s.artifacts[0].extract);		 /* by its name, before the query */
	assert_false(s.artifacts[1].extract);
	assert_false(s.artifacts[2].extract); /* as asked */
	char name[256];
	assert_string_equal(acre_artifact_file_name(&s.artifacts[0], name, sizeof(name)),
			    "redis-7.tar.gz");
	assert_string_equal(acre_artifact_file_name(&s.artifacts[1], name, sizeof(name)),
			    "tool.bin");
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	struct acre_slice_spec back;
	assert_int_equal(acre_slice_spec_parse(j, &back, &err), 0);
	assert_int_equal(back.nartifacts, 3);
	assert_string_equal(back.artifacts[0].uri, "https://example.org/r/redis-7.tar.gz?x=1");
	assert_string_equal(back.artifacts[1].path, "/opt/tool");
	assert_false(back.artifacts[2].extract);
	acre_slice_spec_free(&back);
	acre_slice_spec_free(&s);
}

static void test_sum_from_checksum_file(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(
		parse("[{'uri': 'https://e.org/spark-3.5.1-bin-hadoop3.tgz', "
		      "'sha512_from': 'https://e.org/spark-3.5.1-bin-hadoop3.tgz.sha512', "
		      "'path': '/opt/spark'},"
		      " {'uri': 'http://h/etcd.tar.gz', 'sha256_from': 'http://h/SHA256SUMS', "
		      "'path': '/opt/etcd'}]",
		      &s, &err),
		0);
	assert_true(s.artifacts[0].sha512);
	assert_string_equal(s.artifacts[0].sha256, ""); /* known once the node has verified it */
	assert_string_equal(s.artifacts[0].sum_from,
			    "https://e.org/spark-3.5.1-bin-hadoop3.tgz.sha512");
	assert_false(s.artifacts[1].sha512);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	json_t *a = json_array_get(json_object_get(j, "artifacts"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "sha512_from")),
			    "https://e.org/spark-3.5.1-bin-hadoop3.tgz.sha512");
	assert_null(json_object_get(a, "sha256"));
	struct acre_slice_spec back;
	assert_int_equal(acre_slice_spec_parse(j, &back, &err), 0);
	assert_string_equal(back.artifacts[1].sum_from, "http://h/SHA256SUMS");
	assert_false(back.artifacts[1].sha512);
	acre_slice_spec_free(&back);
	acre_slice_spec_free(&s);
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM
			"', 'sha256_from': 'http://h/S', 'path': '/opt/a'}]",
			"artifacts[0]", "or, instead, sha256_from or sha512_from");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha512_from': 'ftp://h/S', "
			"'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].sha512_from: a file:///PATH");
}

static void test_none(void **state)
{
	(void)state;
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(parse("[]", &s, &err), 0);
	assert_int_equal(s.nartifacts, 0);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	assert_null(json_object_get(j, "artifacts"));
	acre_slice_spec_free(&s);
}

static void test_mistakes_name_their_field(void **state)
{
	(void)state;
	expect_rejected("{}", "artifacts", "artifacts: an array of at most 8");
	expect_rejected("['x']", "artifacts[0]", "artifacts[0]: must be an object");
	expect_rejected("[{'uri': 'ftp://h/a.tgz', 'sha256': '" SUM "', 'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].uri: required, a file:///PATH");
	expect_rejected("[{'uri': 'file://relative/a', 'sha256': '" SUM "', 'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].uri");
	expect_rejected("[{'uri': 'file:///srv/../etc/shadow', 'sha256': '" SUM
			"', 'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].uri");
	expect_rejected("[{'uri': 'http://h/a b.tgz', 'sha256': '" SUM "', 'path': '/opt/a'}]",
			"artifacts[0]", "with no blanks");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'path': '/opt/a'}]", "artifacts[0]",
			"artifacts[0].sha256: required, the file's SHA-256 as 64 hex digits");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': 'abc', 'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].sha256");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "', 'extract': 'yes', "
			"'path': '/opt/a'}]",
			"artifacts[0]", "artifacts[0].extract: true or false");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "'}]", "artifacts[0]",
			"artifacts[0].path: required");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "', 'path': '/proc/x'}]",
			"artifacts[0]", "artifacts[0].path");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "', 'path': '/opt/a', "
			"'mode': 1}]",
			"artifacts[0]", "artifacts[0].mode: unknown field");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "', 'path': '/opt/a'},"
			" {'uri': 'http://h/b.tgz', 'sha256': '" SUM "', 'path': '/opt/a'}]",
			"artifacts[1]", "artifacts[1].path: /opt/a is taken");
	expect_rejected("[{'uri': 'http://h/a.tgz', 'sha256': '" SUM "', 'path': '/data'}]",
			"artifacts[0]", "artifacts[0].path: /data is taken");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsed_and_printed_back),
		cmocka_unit_test(test_sum_from_checksum_file),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_mistakes_name_their_field),
	};
	return cmocka_run_group_tests_name("spec_artifacts", tests, NULL, NULL);
}
