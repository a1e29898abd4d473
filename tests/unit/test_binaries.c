/*
 * Which host binaries a node has (supervisor/binaries.c), against files
 * made for the test: an executable, one without an execute bit, a
 * directory, a symlink to the executable and a dangling one; and the
 * requests refused, naming "paths".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/binaries.h"
#include "tmpdir.h"

static int setup(void **state)
{
	return tmp_setup(state, "binaries");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

static void make_file(const struct tmp *t, const char *name, mode_t mode)
{
	int fd = openat(t->dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0); /* whatever the umask */
	close(fd);
}

static char *at(const struct tmp *t, const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", t->path, name) > 0);
	return p;
}

static void test_present_and_absent(void **state)
{
	struct tmp *t = *state;
	make_file(t, "tool", 0755);
	make_file(t, "data", 0644);
	assert_int_equal(mkdirat(t->dirfd, "dir", 0755), 0);
	assert_int_equal(symlinkat("tool", t->dirfd, "link"), 0);
	assert_int_equal(symlinkat("none", t->dirfd, "dangling"), 0);
	_cleanup_free_ char *tool = at(t, "tool"), *data = at(t, "data"), *dir = at(t, "dir"),
			    *link = at(t, "link"), *dangling = at(t, "dangling");
	_cleanup_json_ json_t *req =
		json_pack("{s:[s,s,s,s,s]}", "paths", tool, data, dir, link, dangling);
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = binaries_check(req, &err);
	assert_non_null(res);
	json_t *present = json_object_get(res, "present"), *absent = json_object_get(res, "absent");
	assert_int_equal(json_array_size(present), 2);
	assert_string_equal(json_string_value(json_array_get(present, 0)), tool);
	assert_string_equal(json_string_value(json_array_get(present, 1)), link);
	assert_int_equal(json_array_size(absent), 3);
	assert_string_equal(json_string_value(json_array_get(absent, 0)), data);
	assert_string_equal(json_string_value(json_array_get(absent, 1)), dir);
	assert_string_equal(json_string_value(json_array_get(absent, 2)), dangling);
}

static void expect_refused(const char *text, const char *needle)
{
	_cleanup_json_ json_t *req = json_loads(text, 0, NULL);
	assert_non_null(req);
	struct acre_error err = {0};
	json_t *res = binaries_check(req, &err);
	if (res) {
		json_decref(res);
		fail_msg("%s: accepted", text);
	}
	assert_string_equal(err.field, "paths");
	if (!strstr(err.message, needle))
		fail_msg("%s: \"%s\", want \"%s\"", text, err.message, needle);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("{}", "paths: required, an array of at most 256");
	expect_refused("{\"paths\": \"/bin/sh\"}", "paths: required");
	expect_refused("{\"paths\": [\"sh\"]}", "paths[0]: an absolute path");
	expect_refused("{\"paths\": [\"/bin/sh\", 3]}", "paths[1]: an absolute path");
	expect_refused("{\"paths\": [\"/bin/\\u0001sh\"]}", "paths[0]");
	_cleanup_json_ json_t *many = json_array();
	for (int i = 0; i <= BINARIES_CHECK_MAX; i++)
		json_array_append_new(many, json_string("/bin/sh"));
	_cleanup_json_ json_t *req = json_pack("{s:O}", "paths", many);
	struct acre_error err = {0};
	assert_null(binaries_check(req, &err));
	assert_string_equal(err.field, "paths");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_present_and_absent, setup, teardown),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("binaries", tests, NULL, NULL);
}
