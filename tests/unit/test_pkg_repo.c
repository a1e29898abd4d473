/*
 * What a repository rests on: versions (valid forms, semver-like order),
 * an HTTP(S) index checked whole with errors naming the entry, the
 * newest or a given version found in it, archive URLs resolved beside
 * the index, and SHA-256 of real files (a file the test writes, checked
 * against the value sha256sum gives for the same bytes) with a mismatch
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/packages/packages.h"
#include "json_q.h"
#include "tmpdir.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static void test_version_forms(void **state)
{
	(void)state;
	const char *good[] = {"1", "1.2.3", "7.0.15-2", "1.0-rc.1", "0.0.0", "1.2.3.4.5.6.7.8"};
	const char *bad[] = {"",      "v1", "1.", ".1", "1..2", "1-", "1.2 ", "1.2.3.4.5.6.7.8.9",
			     "1-a_b", "-1"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(good); i++)
		if (!pkg_version_valid(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		if (pkg_version_valid(bad[i]))
			fail_msg("%s taken", bad[i]);
}

static void test_version_order(void **state)
{
	(void)state;
	/* Each before the next. */
	const char *order[] = {"0.9",	   "1.0-alpha",	 "1.0-alpha.1", "1.0-alpha.beta",
			       "1.0-beta", "1.0-beta.2", "1.0-beta.11", "1.0-rc.1",
			       "1.0",	   "1.0.1",	 "1.2",		"1.10",
			       "2",	   "10.0.0"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(order); i++)
		for (size_t j = 0; j < ACRE_ARRAY_SIZE(order); j++) {
			int c = pkg_version_compare(order[i], order[j]);
			int want = i < j ? -1 : i > j ? 1 : 0;
			if ((c > 0) - (c < 0) != want)
				fail_msg("%s vs %s: %d", order[i], order[j], c);
		}
	assert_int_equal(pkg_version_compare("1.2", "1.2.0"), 0);
	assert_int_equal(pkg_version_compare("01.2", "1.2"), 0);
}

static const char index_text[] =
	"{'packages': ["
	" {'name': 'redis', 'description': 'Redis', 'versions': ["
	"  {'version': '1.0.0', 'archive': 'redis-1.0.0.tar.gz', 'sha256': "
	"'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'},"
	"  {'version': '1.1.0', 'archive': 'https://mirror.example.org/redis-1.1.0.tar.gz', "
	"'sha256': 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'}]},"
	" {'name': 'memcached', 'versions': ["
	"  {'version': '1.0.0', 'archive': 'file:///srv/mc.tar.gz', 'sha256': "
	"'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}]}]}";

static void expect_index_refused(const char *text, const char *message)
{
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_error err = {0};
	int rc = pkg_index_parse(j, &err);
	assert_true(err.code > 0);
	assert_int_equal(rc, -err.code);
	assert_string_equal(err.message, message);
}

static void test_index(void **state)
{
	(void)state;
	_cleanup_json_ json_t *j = json_q(index_text);
	struct acre_error err = {0};
	if (pkg_index_parse(j, &err) < 0)
		fail_msg("refused: %s", err.message);
	const json_t *newest = pkg_index_find(j, "redis", NULL);
	assert_string_equal(json_string_value(json_object_get(newest, "version")), "1.1.0");
	const json_t *old = pkg_index_find(j, "redis", "1.0.0");
	assert_string_equal(json_string_value(json_object_get(old, "archive")),
			    "redis-1.0.0.tar.gz");
	assert_null(pkg_index_find(j, "redis", "2.0"));
	assert_null(pkg_index_find(j, "nginx", NULL));

	_cleanup_free_ char *rel =
		pkg_index_archive_url("https://pkgs.example.org/acre/index.json", "redis.tgz");
	assert_string_equal(rel, "https://pkgs.example.org/acre/redis.tgz");
	_cleanup_free_ char *abs =
		pkg_index_archive_url("https://pkgs.example.org/index.json", "file:///x.tgz");
	assert_string_equal(abs, "file:///x.tgz");

	expect_index_refused("[]", "index: must be a JSON object");
	expect_index_refused("{'packages': {}}", "index: packages: must be an array");
	expect_index_refused("{'packages': [], 'extra': 1}", "index: extra: unknown field");
	expect_index_refused("{'packages': [{'name': 'Redis', 'versions': []}]}",
			     "index: packages[0].name: not a package name");
	expect_index_refused("{'packages': [{'name': 'redis', 'versions': []}]}",
			     "index: packages[0].versions: must be a non-empty array");
	expect_index_refused("{'packages': [{'name': 'redis', 'versions': [{'version': '1', "
			     "'archive': 'a.tgz', 'sha256': 'abc'}]}]}",
			     "index: packages[0].versions[0].sha256: not 64 hex digits");
	expect_index_refused("{'packages': [{'name': 'redis', 'versions': [{'version': 'x', "
			     "'archive': 'a.tgz', 'sha256': 'abc'}]}]}",
			     "index: packages[0].versions[0].version: not a version");
	expect_index_refused("{'packages': [{'name': 'redis', 'versions': [{'version': '1', "
			     "'archive': '../../etc/passwd', 'sha256': 'abc'}]}]}",
			     "index: packages[0].versions[0].archive: an http(s):// or file:// "
			     "URL, or a path relative to the index");
	expect_index_refused("{'packages': [{'name': 'redis', 'versions': [{'version': '1', "
			     "'archive': 'a', 'sha256': "
			     "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', "
			     "'size': 3}]}]}",
			     "index: packages[0].versions[0].size: unknown field");
	expect_index_refused(
		"{'packages': [{'name': 'a', 'versions': [{'version': '1', 'archive': 'a', "
		"'sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}]},"
		" {'name': 'a', 'versions': [{'version': '1', 'archive': 'a', 'sha256': "
		"'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}]}]}",
		"index: packages[1].name: a listed twice");
}

static int setup(void **state)
{
	return tmp_setup(state, "pkgrepo");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

/* sha256sum's answer for the file, from the coreutils binary, not from our code. */
static void sha256sum(const char *path, char out[65])
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 65, p));
	pclose(p);
}

static void test_sha256(void **state)
{
	struct tmp *t = *state;
	char path[256], hex[65], want[65], empty[256];
	struct acre_error err = {0};
	snprintf(path, sizeof(path), "%s/archive.tar", t->path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200000; i++) /* more than one read's buffer */
		fputc(i * 7 % 251, f);
	fclose(f);
	assert_int_equal(pkg_sha256_file(path, hex, &err), 0);
	sha256sum(path, want);
	assert_string_equal(hex, want);
	assert_int_equal(pkg_sha256_verify(path, want, &err), 0);
	for (char *c = want; *c; c++)
		*c = (char)((*c >= 'a' && *c <= 'f') ? *c - 32 : *c);
	assert_int_equal(pkg_sha256_verify(path, want, &err), 0);

	snprintf(empty, sizeof(empty), "%s/empty", t->path);
	fclose(fopen(empty, "w"));
	assert_int_equal(pkg_sha256_file(empty, hex, &err), 0);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(pkg_sha256_verify(path, hex, &err), -EBADMSG);
	assert_contains(err.message, "checksum mismatch");
	assert_contains(err.message, "expected e3b0c442");
	assert_int_equal(pkg_sha256_verify(path, "abc", &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", t->path);
	assert_int_equal(pkg_sha256_file(path, hex, &err), -ENOENT);
	assert_contains(err.message, "missing: No such file or directory");
}

static void test_sha256_from(void **state)
{
	(void)state;
	static const char sums[] = "111111111111111111111111111111111111111111111111111111111111111"
				   "1  spark-3.5.1-bin-hadoop3.tgz.asc\n"
				   "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABC"
				   "D *spark-3.5.1-bin-hadoop3.tgz\r\n"
				   "not a checksum line\n";
	char hex[65];
	struct acre_error err = {0};
	assert_int_equal(pkg_sha256_from_text(sums,
					      "https://dlcdn.example.org/spark/spark-3.5.1-bin-"
					      "hadoop3.tgz",
					      hex, &err),
			 0);
	assert_string_equal(hex,
			    "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd");
	assert_int_equal(pkg_sha256_from_text(sums, "spark-3.5.1-bin-hadoop3.tgz.asc", hex, &err),
			 0);
	assert_string_equal(hex,
			    "1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(pkg_sha256_from_text(sums, "https://e.org/spark.tgz", hex, &err), -ENOENT);
	assert_string_equal(err.message, "the checksum file lists no SHA-256 for spark.tgz");
	/* A .sha256 file holding the hex alone. */
	assert_int_equal(
		pkg_sha256_from_text(
			"2222222222222222222222222222222222222222222222222222222222222222\n",
			"https://e.org/x.tgz", hex, &err),
		0);
	assert_string_equal(hex,
			    "2222222222222222222222222222222222222222222222222222222222222222");
	assert_int_equal(pkg_sha256_from_text("", "x", hex, &err), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_forms),
		cmocka_unit_test(test_version_order),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_sha256_from),
		cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
	};
	return cmocka_run_group_tests_name("package repositories", tests, NULL, NULL);
}
