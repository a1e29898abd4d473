/*
 * The blocking steps of a repository that is not a directory, for the
 * controller's fetch children (repo_fetch.c) and the bundles (bundle.c):
 * a download (http(s):// with proto's client, file:// a copy), tar run
 * as a program (GNU tar, as the supervisor's fetcher runs it), a package
 * archive verified against its SHA-256 and unpacked, a tree removed.
 * Nothing here touches the controller's state or its event loop.
 */
#include "internal.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/file.h"
#include "proto/proto.h"

#define TAR "/bin/tar"

static int copy_file(const char *from, int to, struct acre_error *err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t n;
	if (in < 0)
		return acre_error_set(err, errno, "", "%s: %s", from, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			return acre_error_set(err, errno ? errno : EIO, "", "writing: %s",
					      strerror(errno ? errno : EIO));
	return n < 0 ? acre_error_set(err, errno, "", "reading %s: %s", from, strerror(errno)) : 0;
}

int pkg_get_url(const char *url, const char *path, struct acre_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return acre_error_set(err, errno, "", "%s: %s", path, strerror(errno));
	if (!strncmp(url, "file://", 7))
		return copy_file(url + 7, fd, err);
	char why[512] = "";
	uint64_t size = 0;
	int rc = acre_proto_http_get(url, fd, NULL, &size, why, sizeof(why));
	if (rc < 0)
		return acre_error_set(err, -rc, "", "%s: %s", url, why);
	return 0;
}

int pkg_tar(const char *const *args, struct acre_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return acre_error_set(err, errno, "", "tar: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return acre_error_set(err, errno, "", "tar: %s", strerror(errno));
	}
	if (pid == 0) {
		const char *argv[16] = {"tar"};
		size_t n = 1;
		for (; args[n - 1] && n < ACRE_ARRAY_SIZE(argv) - 1; n++)
			argv[n] = args[n - 1];
		argv[n] = NULL;
		dup2(p[1], STDERR_FILENO);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		execv(TAR, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char out[2048] = "";
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(out) - 1 && (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	out[got] = '\0';
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (got && out[got - 1] == '\n')
		out[--got] = '\0';
	const char *last = strrchr(out, '\n');
	return acre_error_set(err, EIO, "", "tar: %s", got ? (last ? last + 1 : out) : "failed");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int pkg_remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int pkg_archive_unpack(const char *tarball, const char *sha256, const char *name,
		       const char *version, const char *into, struct acre_error *err)
{
	char got[65], path[4096];
	int rc = pkg_sha256_file(tarball, got, err);
	if (rc < 0)
		return rc;
	if (strcasecmp(got, sha256))
		return acre_error_set(
			err, EBADMSG, "sha256",
			"package %s %s: checksum mismatch: expected sha256 %s, got %s", name,
			version, sha256, got);
	if (acre_mkdir_p(into, 0755) < 0)
		return acre_error_set(err, errno, "", "%s: %s", into, strerror(errno));
	const char *const args[] = {
		"-x", "-z", "-f", tarball, "-C", into, "--no-same-owner", "--no-same-permissions",
		NULL};
	if ((rc = pkg_tar(args, err)) < 0) {
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", err->message);
		return acre_error_set(err, -rc, "", "package %s %s: unpacking: %s", name, version,
				      why);
	}
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/%s/package.json", into, name, version);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return acre_error_set(err, ENOENT, "archive",
				      "package %s %s: the archive holds no %s/%s/package.json",
				      name, version, name, version);
	return 0;
}
