/*
 * Repositories that are not directories, on real files and the real tar:
 * an index's packages listed with their versions in order, a package
 * archive verified against its SHA-256 (a mismatch names the package and
 * both sums, and unpacks nothing) and unpacked, and a bundle written and
 * read back with every sum verified — a tampered artifact or archive
 * refused, naming what does not match.
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

static int setup(void **state)
{
	return tmp_setup(state, "pkg-bundle");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void test_index_list(void **state)
{
	(void)state;
	static const char *const z =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char text[1024];
	snprintf(text, sizeof(text),
		 "{'packages': [{'name': 'kv', 'description': 'a store', 'versions': ["
		 " {'version': '1.10.0', 'archive': 'a', 'sha256': '%s'},"
		 " {'version': '1.2.0', 'archive': 'b', 'sha256': '%s'},"
		 " {'version': '1.2.0-rc.1', 'archive': 'c', 'sha256': '%s'}]},"
		 " {'name': 'web', 'versions': [{'version': '2', 'archive': 'd', 'sha256': "
		 "'%s'}]}]}",
		 z, z, z, z);
	_cleanup_json_ json_t *index = json_q(text);
	struct acre_error err = {0};
	assert_int_equal(pkg_index_parse(index, &err), 0);
	_cleanup_json_ json_t *list = pkg_index_list(index);
	_cleanup_free_ char *s = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"kv\":[\"1.2.0-rc.1\",\"1.2.0\",\"1.10.0\"],\"web\":[\"2\"]}");
	assert_string_equal(pkg_index_description(index, "kv"), "a store");
	assert_null(pkg_index_description(index, "web"));
	assert_null(pkg_index_description(index, "nope"));
}

/* T/src/kv/1.0.0/package.json and the artifact T/blob; the package as a bundle sees it. */
static void make_package(struct tmp *t, struct pkg *pkg, struct pkg_artifact *a, char sha[65])
{
	char path[512];
	sh("mkdir -p %s/src/kv/1.0.0/templates", t->path);
	snprintf(path, sizeof(path), "%s/src/kv/1.0.0/package.json", t->path);
	write_file(path, "{\"name\": \"kv\", \"version\": \"1.0.0\"}\n");
	snprintf(path, sizeof(path), "%s/blob", t->path);
	write_file(path, "the artifact's bytes\n");
	struct acre_error err = {0};
	assert_int_equal(pkg_sha256_file(path, sha, &err), 0);
	memset(pkg, 0, sizeof(*pkg));
	snprintf(pkg->name, sizeof(pkg->name), "kv");
	snprintf(pkg->version, sizeof(pkg->version), "1.0.0");
	pkg->description = (char *)"a store";
	*a = (struct pkg_artifact){.kind = PKG_ARTIFACT_URI};
	assert_true(asprintf(&a->uri, "file://%s", path) > 0);
	snprintf(a->sha256, sizeof(a->sha256), "%s", sha);
	pkg->artifacts = a;
	pkg->nartifacts = 1;
}

static void test_archive_unpack(void **state)
{
	struct tmp *t = *state;
	struct pkg pkg;
	struct pkg_artifact a;
	char blob[65], sum[65], tarball[512], into[512], path[600];
	struct acre_error err = {0};
	make_package(t, &pkg, &a, blob);
	snprintf(tarball, sizeof(tarball), "%s/kv.tar.gz", t->path);
	sh("tar -czf %s -C %s/src kv/1.0.0", tarball, t->path);
	assert_int_equal(pkg_sha256_file(tarball, sum, &err), 0);

	snprintf(into, sizeof(into), "%s/bad", t->path);
	assert_int_equal(pkg_archive_unpack(tarball, blob, "kv", "1.0.0", into, &err), -EBADMSG);
	assert_contains(err.message, "package kv 1.0.0: checksum mismatch");
	assert_contains(err.message, blob);
	assert_contains(err.message, sum);
	assert_int_equal(access(into, F_OK), -1); /* nothing unpacked */

	snprintf(into, sizeof(into), "%s/good", t->path);
	assert_int_equal(pkg_archive_unpack(tarball, sum, "kv", "1.0.0", into, &err), 0);
	snprintf(path, sizeof(path), "%s/kv/1.0.0/package.json", into);
	assert_int_equal(access(path, R_OK), 0);
	/* An archive of another layout is refused, naming what it lacks. */
	snprintf(into, sizeof(into), "%s/other", t->path);
	assert_int_equal(pkg_archive_unpack(tarball, sum, "kv", "2.0.0", into, &err), -ENOENT);
	assert_contains(err.message, "holds no kv/2.0.0/package.json");
	free(a.uri);
}

static void test_bundle_round_trip(void **state)
{
	struct tmp *t = *state;
	struct pkg pkg;
	struct pkg_artifact a;
	char blob[65], staging[512], file[512], src[512], into[512], path[700], sum[65];
	struct acre_error err = {0};
	make_package(t, &pkg, &a, blob);
	snprintf(staging, sizeof(staging), "%s/staging", t->path);
	snprintf(file, sizeof(file), "%s/kv.bundle", t->path);
	snprintf(src, sizeof(src), "%s/src", t->path);
	assert_int_equal(pkg_bundle_stage(staging, &err), 0);
	assert_int_equal(pkg_bundle_add(staging, src, &pkg, &err), 0);
	assert_int_equal(pkg_bundle_add(staging, src, &pkg, &err), 0); /* twice: once */
	assert_int_equal(pkg_bundle_pack(staging, file, &err), 0);

	/* Read back: the index lists kv once, its archive and artifact verified. */
	json_t *index = NULL;
	snprintf(into, sizeof(into), "%s/read", t->path);
	assert_int_equal(pkg_bundle_unpack(file, into, &index, &err), 0);
	const json_t *v = pkg_index_find(index, "kv", NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "archive")),
			    "archives/kv-1.0.0.tar.gz");
	assert_int_equal(
		json_array_size(json_object_get(
			json_array_get(json_object_get(index, "packages"), 0), "versions")),
		1);
	snprintf(path, sizeof(path), "%s/archives/kv-1.0.0.tar.gz", into);
	assert_int_equal(pkg_sha256_file(path, sum, &err), 0);
	assert_string_equal(sum, json_string_value(json_object_get(v, "sha256")));
	snprintf(path, sizeof(path), "%s/artifacts/%s", into, blob);
	assert_int_equal(pkg_sha256_verify(path, blob, &err), 0);
	json_decref(index);

	/* A tampered artifact: refused, naming it and both sums. */
	sh("cp -r %s %s/t1 && echo more >>%s/t1/artifacts/%s && "
	   "tar -cf %s/t1.bundle -C %s/t1 index.json archives artifacts",
	   into, t->path, t->path, blob, t->path, t->path);
	snprintf(path, sizeof(path), "%s/t1.bundle", t->path);
	snprintf(into, sizeof(into), "%s/read-t1", t->path);
	assert_int_equal(pkg_bundle_unpack(path, into, NULL, &err), -EBADMSG);
	assert_contains(err.message, "artifact");
	assert_contains(err.message, "checksum mismatch");
	assert_contains(err.message, blob);

	/* A tampered archive: refused, naming the package. */
	sh("cp -r %s/read %s/t2 && echo more >>%s/t2/archives/kv-1.0.0.tar.gz && "
	   "tar -cf %s/t2.bundle -C %s/t2 index.json archives artifacts",
	   t->path, t->path, t->path, t->path, t->path);
	snprintf(path, sizeof(path), "%s/t2.bundle", t->path);
	snprintf(into, sizeof(into), "%s/read-t2", t->path);
	assert_int_equal(pkg_bundle_unpack(path, into, NULL, &err), -EBADMSG);
	assert_contains(err.message, "package kv 1.0.0: checksum mismatch");

	/* A file that is no bundle at all. */
	snprintf(path, sizeof(path), "%s/blob", t->path);
	snprintf(into, sizeof(into), "%s/read-t3", t->path);
	assert_true(pkg_bundle_unpack(path, into, NULL, &err) < 0);
	assert_contains(err.message, "tar:");

	/* An artifact whose download does not match its sum: the bundle is not written. */
	snprintf(a.sha256, sizeof(a.sha256), "%s",
		 "0000000000000000000000000000000000000000000000000000000000000000");
	snprintf(staging, sizeof(staging), "%s/staging2", t->path);
	assert_int_equal(pkg_bundle_stage(staging, &err), 0);
	assert_int_equal(pkg_bundle_add(staging, src, &pkg, &err), -EBADMSG);
	assert_contains(err.message, "package kv: artifact:");

	/* Named by a SHA-512 list (Spark's, Hadoop's): refused, saying so. */
	a.sha256[0] = '\0';
	a.sha512_from = (char *)"file:///nonexistent.sha512";
	assert_int_equal(pkg_bundle_add(staging, src, &pkg, &err), -ENOTSUP);
	assert_contains(err.message, "named by sha512_from");
	a.sha512_from = NULL;
	free(a.uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_list),
		cmocka_unit_test_setup_teardown(test_archive_unpack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests_name("package bundles", tests, NULL, NULL);
}
