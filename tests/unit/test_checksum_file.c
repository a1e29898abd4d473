/*
 * Published checksum files (common/checksum_file.c): the sum of one file
 * found in each shape projects publish — sha256sum's and sha512sum's
 * lines, BSD's "SHA512 (NAME) = HEX", gpg's wrapped groups, the sum
 * alone — and the errors for a name it does not list and for a line that
 * names it with no proper sum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

#define S256A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define S256B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
#define S512                                                                                       \
	"3d8b2d5d8b9f5bd4bd2a2d0a38d4e9e0b5c8a4d0dcb4fbd80ef0fd1e0a3d2c8b"                         \
	"e61d9330125746a24d7784166a15b41514546cad874357c98dca0a2c39fa7303"

static char got[129];

static int find(const char *text, const char *name, size_t len, struct acre_error *err)
{
	memset(got, 0, sizeof(got));
	return acre_checksum_file_find(text, name, len, got, err);
}

static void test_coreutils_lines(void **state)
{
	(void)state;
	struct acre_error err = {0};
	const char *sums = S256A "  etcd-v3.5.12-darwin-amd64.zip\n"
				 "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A0"
				 "8 *./release/etcd-v3.5.12-linux-amd64.tar.gz\r\n" S256B
				 "  etcd-v3.5.12-linux-arm64.tar.gz\n";
	assert_int_equal(find(sums, "etcd-v3.5.12-linux-amd64.tar.gz", 64, &err), 0);
	assert_string_equal(got, S256A); /* lower case, the binary-mode '*' and path dropped */
	assert_int_equal(find(sums, "etcd-v3.5.12-linux-arm64.tar.gz", 64, &err), 0);
	assert_string_equal(got, S256B);
	/* Spark 3's .sha512: sha512sum's output. */
	assert_int_equal(find(S512 "  spark-3.5.1-bin-hadoop3.tgz\n", "spark-3.5.1-bin-hadoop3.tgz",
			      128, &err),
			 0);
	assert_string_equal(got, S512);
}

static void test_bsd_line(void **state)
{
	(void)state;
	struct acre_error err = {0};
	/* Hadoop's .sha512, as `openssl dgst -sha512` or BSD's sha512 writes it. */
	assert_int_equal(
		find("SHA512 (hadoop-3.3.6.tar.gz) = " S512 "\n", "hadoop-3.3.6.tar.gz", 128, &err),
		0);
	assert_string_equal(got, S512);
	assert_int_equal(find("SHA512 (hadoop-3.3.6-src.tar.gz) = " S512 "\n",
			      "hadoop-3.3.6.tar.gz", 128, &err),
			 -ENOENT);
}

static void test_gpg_wrapped_groups(void **state)
{
	(void)state;
	struct acre_error err = {0};
	/* Spark 2's .sha512 (gpg --print-md SHA512): groups of eight, continued indented. */
	const char *text = "spark-2.3.2-bin-hadoop2.7.tgz: 3D8B2D5D 8B9F5BD4 BD2A2D0A 38D4E9E0 "
			   "B5C8A4D0\n"
			   "                               DCB4FBD8 0EF0FD1E 0A3D2C8B E61D9330 "
			   "125746A2\n"
			   "                               4D778416 6A15B415 14546CAD 874357C9 "
			   "8DCA0A2C\n"
			   "                               39FA7303\n";
	assert_int_equal(find(text, "spark-2.3.2-bin-hadoop2.7.tgz", 128, &err), 0);
	assert_string_equal(got, S512);
}

static void test_sum_alone(void **state)
{
	(void)state;
	struct acre_error err = {0};
	/* Kubernetes' kubelet.sha256: the sum of the file beside it, no name. */
	assert_int_equal(find(S256B "\n", "kubelet", 64, &err), 0);
	assert_string_equal(got, S256B);
	assert_int_equal(find("\n  " S256A "  \n\n", "kubelet", 64, &err), 0);
	assert_string_equal(got, S256A);
	/* A bare sum of another length is not a SHA-512. */
	assert_int_equal(find(S256B "\n", "spark.tgz", 128, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "not a SHA-512"));
}

static void test_name_not_listed(void **state)
{
	(void)state;
	struct acre_error err = {0};
	const char *sums = S256A "  a.tgz\n" S256B "  b.tgz\n";
	assert_int_equal(find(sums, "c.tgz", 64, &err), -ENOENT);
	assert_string_equal(err.message, "the checksum file lists no SHA-256 for c.tgz");
	/* Only the last part of a listed path counts: "a.tgz" is not "xa.tgz". */
	assert_int_equal(find(sums, "xa.tgz", 64, &err), -ENOENT);
	assert_int_equal(find("", "a.tgz", 64, &err), -ENOENT);
	assert_int_equal(find("<html>Not Found</html>\n", "a.tgz", 128, &err), -ENOENT);
	assert_string_equal(err.message, "the checksum file lists no SHA-512 for a.tgz");
}

static void test_malformed_line(void **state)
{
	(void)state;
	struct acre_error err = {0};
	/* The line that names the file holds a short sum: an error, not "not listed". */
	assert_int_equal(find("abc123  a.tgz\n", "a.tgz", 64, &err), -EBADMSG);
	assert_string_equal(err.message, "the checksum file's line 1 for a.tgz: not a SHA-256 "
					 "(64 hex digits)");
	/* A SHA-256 list given where a SHA-512 was meant. */
	assert_int_equal(find("x\n" S256A "  a.tgz\n", "a.tgz", 128, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "line 2 for a.tgz: not a SHA-512"));
	assert_int_equal(find("SHA512 (a.tgz) = zz" S512 "\n", "a.tgz", 128, &err), -EBADMSG);
	assert_int_equal(find("a.tgz: 3D8B2D5D XYZ\n", "a.tgz", 128, &err), -EBADMSG);
	assert_int_equal(find(S256A "  a.tgz\n", "", 64, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coreutils_lines),	   cmocka_unit_test(test_bsd_line),
		cmocka_unit_test(test_gpg_wrapped_groups), cmocka_unit_test(test_sum_alone),
		cmocka_unit_test(test_name_not_listed),	   cmocka_unit_test(test_malformed_line),
	};
	return cmocka_run_group_tests_name("checksum_file", tests, NULL, NULL);
}
