/*
 * State files: atomic replacement leaves the old content or the new, never a
 * mix and never a stray temporary; bounded reads refuse what is too large;
 * acre_mkdir_p creates what is missing.  Each test works in its own mkdtemp
 * directory, removed in the teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "common/common.h"
#include "tmpdir.h"

static int setup(void **state)
{
	return tmp_setup(state, "file");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

/* Names in the directory, sorted and joined by spaces. */
static char *list_dir(struct tmp *t)
{
	struct dirent **names;
	int n = scandir(t->path, &names, NULL, alphasort);
	assert_true(n >= 0);
	char *out = calloc(1, 4096);
	assert_non_null(out);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (*out)
				strcat(out, " ");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static void write_file(struct tmp *t, const char *name, const void *data, size_t len)
{
	_cleanup_close_ int fd =
		openat(t->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void assert_content(struct tmp *t, const char *name, const char *want)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	assert_int_equal(acre_file_read(t->dirfd, name, &data, &len, 1 << 20), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(data, want);
}

static void test_write_atomic_creates_and_replaces(void **state)
{
	struct tmp *t = *state;
	struct acre_error err = {0};
	const char *v1 = "{\"version\":1,\"state\":\"running\"}";
	assert_int_equal(acre_file_write_atomic(t->dirfd, "web-1.json", v1, strlen(v1), &err), 0);
	assert_content(t, "web-1.json", v1);

	const char *v2 = "{\"version\":1,\"state\":\"exited\",\"exit\":{\"exit_code\":3}}";
	assert_int_equal(acre_file_write_atomic(t->dirfd, "web-1.json", v2, strlen(v2), &err), 0);
	assert_content(t, "web-1.json", v2);

	/* Shorter content leaves nothing of the longer one behind. */
	assert_int_equal(acre_file_write_atomic(t->dirfd, "web-1.json", "{}", 2, &err), 0);
	assert_content(t, "web-1.json", "{}");

	_cleanup_free_ char *names = list_dir(t);
	assert_string_equal(names, "web-1.json");
}

static void test_write_atomic_mode_and_empty(void **state)
{
	struct tmp *t = *state;
	assert_int_equal(acre_file_write_atomic(t->dirfd, "empty", "", 0, NULL), 0);
	assert_content(t, "empty", "");
	struct stat st;
	assert_int_equal(fstatat(t->dirfd, "empty", &st, 0), 0);
	assert_true(S_ISREG(st.st_mode));
	/* State files may hold environments: only the owner reads them. */
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_write_atomic_replaces_a_file_of_another_mode(void **state)
{
	struct tmp *t = *state;
	write_file(t, "state", "old", 3);
	assert_int_equal(acre_file_write_atomic(t->dirfd, "state", "new", 3, NULL), 0);
	assert_content(t, "state", "new");
	_cleanup_free_ char *names = list_dir(t);
	assert_string_equal(names, "state");
}

static void test_write_atomic_error(void **state)
{
	struct tmp *t = *state;
	struct acre_error err = {0};
	assert_int_equal(acre_file_write_atomic(t->dirfd, "missing/x.json", "x", 1, &err), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.message, "No such file or directory"));

	/* The target is a directory: the rename fails and the temporary is removed. */
	assert_int_equal(mkdirat(t->dirfd, "dir", 0755), 0);
	assert_int_equal(acre_file_write_atomic(t->dirfd, "dir", "x", 1, &err), -EISDIR);
	assert_non_null(strstr(err.message, "writing dir"));
	_cleanup_free_ char *names = list_dir(t);
	assert_string_equal(names, "dir");
}

static void test_read_limit(void **state)
{
	struct tmp *t = *state;
	char buf[5000];
	memset(buf, 'x', sizeof(buf));
	write_file(t, "small", buf, 100);
	write_file(t, "page", buf, 4096);
	write_file(t, "big", buf, 5000);

	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	assert_int_equal(acre_file_read(t->dirfd, "small", &data, &len, 10), -EFBIG);
	assert_null(data);
	assert_int_equal(acre_file_read(t->dirfd, "small", &data, &len, 99), -EFBIG);
	assert_int_equal(acre_file_read(t->dirfd, "small", &data, &len, 100), 0);
	assert_int_equal(len, 100);
	free(TAKE_PTR(data));

	/* The limit is the largest size accepted, whatever the buffer sizes inside. */
	assert_int_equal(acre_file_read(t->dirfd, "page", &data, &len, 4096), 0);
	assert_int_equal(len, 4096);
	free(TAKE_PTR(data));
	assert_int_equal(acre_file_read(t->dirfd, "page", &data, &len, 4095), -EFBIG);
	assert_int_equal(acre_file_read(t->dirfd, "big", &data, &len, 4999), -EFBIG);
	assert_int_equal(acre_file_read(t->dirfd, "big", &data, &len, 5000), 0);
	assert_int_equal(len, 5000);
	assert_memory_equal(data, buf, 5000);
	assert_int_equal(data[5000], '\0');
}

static void test_read_large(void **state)
{
	struct tmp *t = *state;
	size_t n = 3 << 20;
	_cleanup_free_ char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	write_file(t, "large", buf, n);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	assert_int_equal(acre_file_read(t->dirfd, "large", &data, &len, 4 << 20), 0);
	assert_int_equal(len, n);
	assert_memory_equal(data, buf, n);
	free(TAKE_PTR(data));
	assert_int_equal(acre_file_read(t->dirfd, "large", &data, &len, 2 << 20), -EFBIG);
}

static void test_read_missing_and_directory(void **state)
{
	struct tmp *t = *state;
	char *data = NULL;
	size_t len = 7;
	assert_int_equal(acre_file_read(t->dirfd, "nope.json", &data, &len, 4096), -ENOENT);
	assert_null(data);
	assert_int_equal(len, 7);
	assert_int_equal(mkdirat(t->dirfd, "d", 0755), 0);
	assert_int_equal(acre_file_read(t->dirfd, "d", &data, &len, 4096), -EISDIR);
	assert_null(data);
}

static void test_read_empty(void **state)
{
	struct tmp *t = *state;
	write_file(t, "empty", "", 0);
	_cleanup_free_ char *data = NULL;
	size_t len = 9;
	assert_int_equal(acre_file_read(t->dirfd, "empty", &data, &len, 4096), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
}

static bool is_dir(const char *path, mode_t *mode)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	if (mode)
		*mode = st.st_mode & 07777;
	return true;
}

static void test_mkdir_p(void **state)
{
	struct tmp *t = *state;
	char path[256];
	snprintf(path, sizeof(path), "%s/state/slices/web-1", t->path);
	mode_t old = umask(022);
	assert_int_equal(acre_mkdir_p(path, 0700), 0);
	umask(old);
	mode_t mode;
	assert_true(is_dir(path, &mode));
	assert_int_equal(mode, 0700);
	/* Existing directories are fine, trailing and doubled slashes too. */
	assert_int_equal(acre_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s//state/other/", t->path);
	assert_int_equal(acre_mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/state/other", t->path);
	assert_true(is_dir(path, NULL));
}

static void test_mkdir_p_errors(void **state)
{
	struct tmp *t = *state;
	write_file(t, "file", "x", 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/file/sub", t->path);
	assert_int_equal(acre_mkdir_p(path, 0755), -ENOTDIR);
	/* A file where the directory should be is not a success. */
	snprintf(path, sizeof(path), "%s/file", t->path);
	assert_int_equal(acre_mkdir_p(path, 0755), -ENOTDIR);
	assert_int_equal(acre_mkdir_p("", 0755), -ENOENT);

	char long_path[5000];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(acre_mkdir_p(long_path, 0755), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic_creates_and_replaces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_mode_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_replaces_a_file_of_another_mode,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing_and_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_errors, setup, teardown),
	};
	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
