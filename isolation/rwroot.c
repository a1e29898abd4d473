/*
 * The slice's own layer of a writable host root, on the host side: a tmpfs
 * with upper/ and work/ for the overlay acre-init mounts over the host's /
 * (init/mount.c).  It lives in the supervisor's mount namespace, so it
 * outlives the slice's processes (a restarted task finds what it wrote, as
 * in Docker) and goes only when the slice is removed.
 */
#include "isolation.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Lets go of everything mounted on dir; stacked mounts go one by one. */
static int unmount_all(const char *dir, struct acre_error *err)
{
	while (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		;
	if (errno == EINVAL || errno == ENOENT)
		return 0;
	return acre_error_set(err, errno, NULL, "unmounting the writable layer %s: %s", dir,
			      strerror(errno));
}

int acre_rwroot_create(const char *dir, uint64_t size, struct acre_error *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return acre_error_set(err, errno, NULL, "creating the writable layer %s: %s", dir,
				      strerror(errno));
	/* mount(2) follows a symlink: the layer goes on this very directory or nowhere. */
	struct stat st;
	int e = lstat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e)
		return acre_error_set(err, e, NULL, "the writable layer %s: %s", dir, strerror(e));
	int rc = unmount_all(dir, err); /* a layer left by a crash is not inherited */
	if (rc < 0)
		return rc;
	char opts[64] = "mode=700";
	if (size)
		snprintf(opts, sizeof(opts), "mode=700,size=%llu", (unsigned long long)size);
	/* nosuid, nodev: the overlay takes them too, but the layer itself must not offer them. */
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return acre_error_set(err, errno, NULL, "mounting the writable layer on %s: %s",
				      dir, strerror(errno));
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || mkdirat(fd, "upper", 0755) < 0 || mkdirat(fd, "work", 0700) < 0) {
		rc = acre_error_set(err, errno, NULL, "preparing the writable layer %s: %s", dir,
				    strerror(errno));
		acre_rwroot_remove(dir, NULL);
		return rc;
	}
	return 0;
}

int acre_rwroot_remove(const char *dir, struct acre_error *err)
{
	int rc = unmount_all(dir, err);
	if (rc < 0)
		return rc;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return acre_error_set(err, errno, NULL, "removing the writable layer %s: %s", dir,
				      strerror(errno));
	return 0;
}
