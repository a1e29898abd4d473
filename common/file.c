/*
 * Small-file I/O for state: atomic replacement (write-temp, fsync, rename,
 * fsync the directory) so a crash leaves the old file or the new one, never
 * a torn one, and bounded whole-file reads.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int acre_file_write_atomic(int dirfd, const char *name, const void *data, size_t len,
			   struct acre_error *err)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "creating %s: %s", tmp, strerror(errno));
	int rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		return acre_error_set(err, -rc, NULL, "writing %s: %s", name, strerror(-rc));
	}
	/* The rename is durable only once the directory itself is synced. */
	if (fsync(dirfd) < 0)
		return acre_error_set(err, errno, NULL, "syncing directory of %s: %s", name,
				      strerror(errno));
	return 0;
}

int acre_file_read(int dirfd, const char *name, char **data, size_t *len, size_t max)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			char *b = realloc(buf, cap + 1);
			if (!b)
				return -ENOMEM;
			buf = b;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* max is the largest size accepted, checked on bytes read, not on the buffer. */
		if (n > max)
			return -EFBIG;
	}
	buf[n] = '\0';
	*data = TAKE_PTR(buf);
	*len = n;
	return 0;
}

int acre_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (!*path)
		return -ENOENT; /* the loop below starts after the first byte */
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0) {
		if (errno != EEXIST)
			return -errno;
		/* Something is there already: only a directory will do. */
		struct stat st;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

int64_t acre_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t acre_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
