/*
 * What the fetch child does for one artifact, away from the supervisor's
 * event loop: the file downloaded (or copied, for file://) into a
 * temporary directory of the cache while its SHA-256 is computed, checked
 * (against the pinned sum, or the one its project's checksum file gives:
 * fetch_sums.c),
 * unpacked when it is a tar archive, and only then renamed into place, so
 * the cache never holds a half-written or unverified entry.  An entry that
 * is there already and lacks only the view asked for (the tree of an
 * archive first fetched as a plain file, or the reverse) gets it the same
 * way: made aside, renamed in.
 *
 * Archives are unpacked by GNU tar (/bin/tar, in every Debian system):
 * it reads .tar, .tar.gz, .tgz, .tar.xz and .tar.bz2 by their contents,
 * refuses members that climb out with "..", strips a leading "/" and makes
 * links to outside the tree only after every file, never writing through
 * them; a library for this (libarchive) would be a dependency for one
 * call.  Owners are not kept (the tree is root's, read-only in the slice).
 */
#include "fetch_internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define TAR "/bin/tar"

static void md_freep(EVP_MD_CTX **md)
{
	EVP_MD_CTX_free(*md);
}

/* file:///PATH into fd, through md. */
static int copy_file(const char *uri, int fd, EVP_MD_CTX *md, uint64_t *size, char *why, size_t len)
{
	const char *path = uri + strlen("file://");
	_cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		int e = errno;
		snprintf(why, len, "%s: %s", path, strerror(e));
		return -e;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			int e = errno ? errno : EIO;
			snprintf(why, len, "writing to the cache: %s", strerror(e));
			return -e;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	if (n < 0) {
		int e = errno;
		snprintf(why, len, "reading %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int fetch_get(const char *uri, int fd, EVP_MD_CTX *md, uint64_t *size, char *why, size_t len)
{
	return !strncmp(uri, "file://", 7) ? copy_file(uri, fd, md, size, why, len)
					   : acre_proto_http_get(uri, fd, md, size, why, len);
}

/* The first digits of a long sum, enough to tell two apart in a one-line reason. */
static const char *brief(const char *hex, char *buf, size_t len)
{
	snprintf(buf, len, "%.16s%s", hex, strlen(hex) > 16 ? "..." : "");
	return buf;
}

/* The download against what it should be: the pinned sum, or the published one. */
static int verify(const struct acre_artifact *a, const char *blob, const char *want,
		  const char *got256, char *why, size_t len)
{
	if (!a->sum_from) {
		if (strcmp(got256, want)) {
			snprintf(why, len, "sha256 mismatch (expected %s, got %s)", want, got256);
			return -EBADMSG;
		}
		return 0;
	}
	char got512[ACRE_SHA512_HEX_LEN + 1], b1[24], b2[24];
	const char *got = got256;
	if (a->sha512) {
		int rc = fetch_file_digest(blob, EVP_sha512(), got512);
		if (rc < 0) {
			snprintf(why, len, "reading the download: %s", strerror(-rc));
			return rc;
		}
		got = got512;
	}
	if (strcmp(got, want)) {
		snprintf(why, len, "%s mismatch (the checksum file gives %s, got %s)",
			 a->sha512 ? "sha512" : "sha256", brief(want, b1, sizeof(b1)),
			 brief(got, b2, sizeof(b2)));
		return -EBADMSG;
	}
	return 0;
}

/*
 * dir/blob: the artifact, verified against want (the pinned or the
 * published sum); got, its SHA-256, names its entry in the cache.
 */
static int download(const struct acre_artifact *a, const char *dir, const char *want,
		    uint64_t *size, char got[ACRE_SHA256_HEX_LEN + 1], char *why, size_t len)
{
	char blob[PATH_MAX];
	snprintf(blob, sizeof(blob), "%s/blob", dir);
	_cleanup_close_ int fd = open(blob, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	_cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (fd < 0 || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		snprintf(why, len, "starting the download: %s", strerror(errno));
		return -EIO;
	}
	*size = 0;
	int rc = fetch_get(a->uri, fd, md, size, why, len);
	if (rc < 0)
		return rc;
	if (fsync(fd) < 0) {
		int e = errno;
		snprintf(why, len, "writing to the cache: %s", strerror(e));
		return -e;
	}
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, sum, &n);
	acre_hex_encode(sum, n, got);
	return verify(a, blob, want, got, why, len);
}

/* tar -xf blob -C into; its last words of stderr in why when it fails. */
static int untar(const char *blob, const char *into, char *why, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		execl(TAR, "tar", "-x", "-f", blob, "-C", into, "--no-same-owner",
		      "--no-same-permissions", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char out[4096] = "";
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0 && got < sizeof(out) - 1)
		got += (size_t)n;
	close(p[0]);
	out[got] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (got && out[got - 1] == '\n')
		out[--got] = '\0';
	const char *last = strrchr(out, '\n');
	snprintf(why, len, "unpacking: %s", got ? (last ? last + 1 : out) : "tar failed");
	return -EIO;
}

/* entry/tree, or entry/plain/NAME: the view the artifact is mounted from. */
static int make_view(const struct acre_artifact *a, const char *entry, char *why, size_t len)
{
	char blob[PATH_MAX], target[PATH_MAX], aside[PATH_MAX];
	snprintf(blob, sizeof(blob), "%s/blob", entry);
	if (!a->extract) {
		char name[256];
		snprintf(target, sizeof(target), "%s/plain", entry);
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			goto fail;
		snprintf(target, sizeof(target), "%s/plain/%s", entry,
			 acre_artifact_file_name(a, name, sizeof(name)));
		if (link(blob, target) < 0 && errno != EEXIST)
			goto fail;
		return 0;
	}
	snprintf(target, sizeof(target), "%s/tree", entry);
	snprintf(aside, sizeof(aside), "%s/.tree-%d", entry, (int)getpid());
	if (mkdir(aside, 0755) < 0)
		goto fail;
	int rc = untar(blob, aside, why, len);
	if (rc == 0 && rename(aside, target) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		rc = -errno;
	artifact_remove_tree(aside); /* gone when renamed; what is left of a failure otherwise */
	return rc;
fail:;
	int e = errno;
	snprintf(why, len, "%s: %s", target, strerror(e));
	return -e;
}

static int write_meta(const struct acre_artifact *a, const char *dir, uint64_t size)
{
	_cleanup_json_ json_t *meta =
		json_pack("{s:s,s:I,s:I}", "uri", a->uri, "size", (json_int_t)size, "fetched_at",
			  (json_int_t)acre_now_ms());
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	return meta && json_dump_file(meta, path, JSON_COMPACT) == 0 ? 0 : -EIO;
}

/*
 * A new entry: made whole under a temporary name, renamed in.  An
 * artifact named by its checksum file gets that file first (into the
 * temporary directory, so a failure leaves nothing), and its alias
 * once its entry is in.
 */
static int fetch_new(const struct fetcher *f, const struct acre_artifact *a, char *why, size_t len)
{
	char tmp[PATH_MAX], key[FETCH_KEY_LEN + 1], entry[PATH_MAX];
	char want[ACRE_SHA512_HEX_LEN + 1], got[ACRE_SHA256_HEX_LEN + 1] = "";
	artifact_key(a, key);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%d", f->dir, key, (int)getpid());
	if (mkdir(tmp, 0755) < 0) {
		int e = errno;
		snprintf(why, len, "%s: %s", tmp, strerror(e));
		return -e;
	}
	uint64_t size = 0;
	int rc = 0;
	if (a->sum_from)
		rc = fetch_published_sum(a, tmp, want, why, len);
	else
		snprintf(want, sizeof(want), "%s", a->sha256);
	if (rc == 0)
		rc = download(a, tmp, want, &size, got, why, len);
	if (rc == 0)
		rc = make_view(a, tmp, why, len);
	if (rc == 0 && (rc = write_meta(a, tmp, size)) < 0)
		snprintf(why, len, "writing %s/meta.json", tmp);
	if (rc == 0 && !artifact_path(f, got, NULL, entry, sizeof(entry))) {
		rc = -ENAMETOOLONG;
		snprintf(why, len, "the cache's path is too long");
	}
	/* Another fetch of the same sum got there first: its entry is as good as ours. */
	if (rc == 0 && rename(tmp, entry) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		rc = -errno;
		snprintf(why, len, "%s: %s", entry, strerror(-rc));
	}
	if (rc == 0 && a->sum_from && (rc = artifact_alias_write(f, a, got)) < 0)
		snprintf(why, len, "recording its sum in the cache: %s", strerror(-rc));
	artifact_remove_tree(tmp);
	return rc;
}

int fetch_child_run(const struct fetcher *f, const struct acre_artifact *a, char *why, size_t len)
{
	char sum[ACRE_SHA256_HEX_LEN + 1], entry[PATH_MAX], blob[PATH_MAX];
	umask(022); /* the tree is readable by the slice's user, whoever it is */
	/* Named by its checksum file and not verified here yet: nothing to look for. */
	if (!artifact_sum(f, a, sum))
		return fetch_new(f, a, why, len);
	if (!artifact_path(f, sum, NULL, entry, sizeof(entry)) ||
	    !artifact_path(f, sum, "blob", blob, sizeof(blob))) {
		snprintf(why, len, "the cache's path is too long");
		return -ENAMETOOLONG;
	}
	if (access(blob, F_OK) < 0)
		return fetch_new(f, a, why, len);
	return make_view(a, entry, why, len);
}
