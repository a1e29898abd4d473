/*
 * What the fetch child does for one artifact, away from the supervisor's
 * event loop: the file downloaded (or copied, for file://) into a
 * temporary directory of the cache while its SHA-256 is computed, checked,
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

/* dir/blob: the artifact, verified against its checksum. */
static int download(const struct acre_artifact *a, const char *dir, uint64_t *size, char *why,
		    size_t len)
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
	int rc = !strncmp(a->uri, "file://", 7)
			 ? copy_file(a->uri, fd, md, size, why, len)
			 : acre_proto_http_get(a->uri, fd, md, size, why, len);
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
	char got[2 * EVP_MAX_MD_SIZE + 1];
	acre_hex_encode(sum, n, got);
	if (strcmp(got, a->sha256)) {
		snprintf(why, len, "sha256 mismatch (expected %s, got %s)", a->sha256, got);
		return -EBADMSG;
	}
	return 0;
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

/* A new entry: made whole under a temporary name, renamed in. */
static int fetch_new(const struct fetcher *f, const struct acre_artifact *a, const char *entry,
		     char *why, size_t len)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%d", f->dir, a->sha256, (int)getpid());
	if (mkdir(tmp, 0755) < 0) {
		int e = errno;
		snprintf(why, len, "%s: %s", tmp, strerror(e));
		return -e;
	}
	uint64_t size = 0;
	int rc = download(a, tmp, &size, why, len);
	if (rc == 0)
		rc = make_view(a, tmp, why, len);
	if (rc == 0 && (rc = write_meta(a, tmp, size)) < 0)
		snprintf(why, len, "writing %s/meta.json", tmp);
	/* Another fetch of the same sum got there first: its entry is as good as ours. */
	if (rc == 0 && rename(tmp, entry) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		rc = -errno;
		snprintf(why, len, "%s: %s", entry, strerror(-rc));
	}
	artifact_remove_tree(tmp);
	return rc;
}

int fetch_child_run(const struct fetcher *f, const struct acre_artifact *a, char *why, size_t len)
{
	char entry[PATH_MAX], blob[PATH_MAX];
	if (!artifact_path(f, a->sha256, NULL, entry, sizeof(entry)) ||
	    !artifact_path(f, a->sha256, "blob", blob, sizeof(blob))) {
		snprintf(why, len, "the cache's path is too long");
		return -ENAMETOOLONG;
	}
	umask(022); /* the tree is readable by the slice's user, whoever it is */
	if (access(blob, F_OK) < 0)
		return fetch_new(f, a, entry, why, len);
	return make_view(a, entry, why, len);
}
