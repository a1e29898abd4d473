/*
 * An artifact named by its project's published checksum file
 * (sha256_from, sha512_from) rather than by a pinned sum: in the fetch
 * child, the checksum file is downloaded beside the artifact, read for the
 * line of the URI's file name (common/checksum_file.c knows the shapes
 * projects publish) and its sum is what the download must match.  The
 * cache keeps entries by SHA-256 alone, so an artifact verified against a
 * SHA-512 gets its SHA-256 computed as it downloads, and the node
 * remembers which entry the artifact turned out to be (artifact_cache.c):
 * a later launch finds it there without asking the server again.
 */
#include "fetch_internal.h"

#include <fcntl.h>

/* A checksum file lists a release's files: far below this; more is not one. */
#define SUMS_MAX (1024 * 1024)

static void md_freep(EVP_MD_CTX **md)
{
	EVP_MD_CTX_free(*md);
}

int fetch_file_digest(const char *path, const EVP_MD *type, char *hex)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (fd < 0)
		return -errno;
	if (!md || EVP_DigestInit_ex(md, type, NULL) != 1)
		return -ENOMEM;
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	if (n < 0)
		return -errno;
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_DigestFinal_ex(md, sum, &len);
	acre_hex_encode(sum, len, hex);
	return 0;
}

/* dir/sums: the checksum file, read whole into *text. */
static int get_sums(const struct acre_artifact *a, const char *dir, char **text, char *why,
		    size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/sums", dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	_cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (fd < 0 || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		snprintf(why, len, "starting the download of its checksum file: %s",
			 strerror(errno ? errno : ENOMEM));
		return -EIO;
	}
	uint64_t size = 0;
	char inner[160];
	int rc = fetch_get(a->sum_from, fd, md, &size, inner, sizeof(inner));
	if (rc < 0) {
		snprintf(why, len, "its checksum file %s: %s", a->sum_from, inner);
		return rc;
	}
	if (size > SUMS_MAX) {
		snprintf(why, len, "its checksum file %s: over %d bytes", a->sum_from, SUMS_MAX);
		return -EFBIG;
	}
	*text = calloc(1, (size_t)size + 1);
	if (!*text || pread(fd, *text, (size_t)size, 0) != (ssize_t)size) {
		snprintf(why, len, "reading its checksum file: %s", strerror(errno ? errno : EIO));
		return -EIO;
	}
	return 0;
}

int fetch_published_sum(const struct acre_artifact *a, const char *dir, char *want, char *why,
			size_t len)
{
	_cleanup_free_ char *text = NULL;
	int rc = get_sums(a, dir, &text, why, len);
	if (rc < 0)
		return rc;
	char name[256];
	struct acre_error err = {0};
	acre_artifact_file_name(a, name, sizeof(name));
	rc = acre_checksum_file_find(
		text, name, a->sha512 ? ACRE_SHA512_HEX_LEN : ACRE_SHA256_HEX_LEN, want, &err);
	if (rc < 0)
		snprintf(why, len, "%s (%s)", err.message, a->sum_from);
	return rc;
}
