/*
 * Persistent volumes on the node: each an ext4 filesystem in an image file
 * of its own, on a loop device, mounted under the supervisor's state
 * directory, and handed to slices as a detached copy of that mount.
 *
 * Why a loop-mounted image rather than a project quota on the node's own
 * filesystem: a quota needs that filesystem to be ext4 or XFS mounted with
 * prjquota, which a stock host is not, while an image works on any
 * filesystem, its size is a hard limit the kernel enforces (ENOSPC), it is
 * sparse (only what is written takes room), and it is one file to keep,
 * move or remove.  The loop device is set to clear itself when the last
 * mount of the filesystem goes.
 */
#include "isolation.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

/* mkfs.ext4 on the image: no reserved blocks, metadata initialised lazily (seconds less). */
static int make_fs(const char *image, uid_t uid, gid_t gid, struct acre_error *err)
{
	char owner[64];
	snprintf(owner, sizeof(owner), "lazy_itable_init=1,lazy_journal_init=1,root_owner=%u:%u",
		 (unsigned)uid, (unsigned)gid);
	char *const argv[] = {"mkfs.ext4", "-q", "-F", "-m", "0", "-E", owner, (char *)image, NULL};
	pid_t pid = fork();
	if (pid < 0)
		return acre_error_set(err, errno, NULL, "making volume %s: fork: %s", image,
				      strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		static const char *const dirs[] = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"};
		for (size_t i = 0; i < ACRE_ARRAY_SIZE(dirs); i++)
			execv(dirs[i], argv);
		dprintf(STDERR_FILENO, "mkfs.ext4 (e2fsprogs) not found\n");
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return acre_error_set(err, EIO, NULL, "making volume %s: mkfs.ext4 failed (%s %d)",
				      image, WIFEXITED(status) ? "exit" : "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

/* Whether mnt is a mountpoint: a filesystem other than its parent's. */
static bool mounted(const char *mnt)
{
	struct stat a, b;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s/..", mnt);
	return stat(mnt, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* The image on a free loop device (cleared with its last mount), mounted on mnt. */
static int mount_image(const char *image, const char *mnt, struct acre_error *err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return acre_error_set(err, errno, NULL, "volume %s: /dev/loop-control: %s", image,
				      strerror(errno));
	_cleanup_close_ int file = open(image, O_RDWR | O_CLOEXEC);
	if (file < 0)
		return acre_error_set(err, errno, NULL, "volume %s: %s", image, strerror(errno));
	/* Another process may take the device between asking and configuring: ask again. */
	for (int tries = 0; tries < 8; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return acre_error_set(err, errno, NULL,
					      "volume %s: no free loop device: %s", image,
					      strerror(errno));
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		_cleanup_close_ int loop = open(dev, O_RDWR | O_CLOEXEC);
		if (loop < 0)
			return acre_error_set(err, errno, NULL, "volume %s: %s: %s", image, dev,
					      strerror(errno));
		struct loop_config cfg = {.fd = (unsigned)file,
					  .info = {.lo_flags = LO_FLAGS_AUTOCLEAR}};
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", image);
		if (ioctl(loop, LOOP_CONFIGURE, &cfg) < 0) {
			if (errno == EBUSY)
				continue;
			return acre_error_set(err, errno, NULL, "volume %s: configuring %s: %s",
					      image, dev, strerror(errno));
		}
		if (mount(dev, mnt, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
			int e = errno;
			ioctl(loop, LOOP_CLR_FD, 0);
			return acre_error_set(err, e, NULL, "volume %s: mounting %s on %s: %s",
					      image, dev, mnt, strerror(e));
		}
		return 0; /* the mount holds the device now; closing ours lets autoclear work */
	}
	return acre_error_set(err, EBUSY, NULL, "volume %s: every free loop device was taken",
			      image);
}

int acre_volume_ensure(const char *image, const char *mnt, uint64_t size, uid_t uid, gid_t gid,
		       bool *made, struct acre_error *err)
{
	*made = false;
	struct stat st;
	if (stat(image, &st) == 0) {
		if ((uint64_t)st.st_size != size)
			return acre_error_set(
				err, EEXIST, NULL, "it exists with %llu bytes, not %llu",
				(unsigned long long)st.st_size, (unsigned long long)size);
	} else {
		_cleanup_close_ int fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return acre_error_set(err, errno, NULL, "creating %s: %s", image,
					      strerror(errno));
		int rc = ftruncate(fd, (off_t)size) < 0
				 ? acre_error_set(err, errno, NULL, "sizing %s: %s", image,
						  strerror(errno))
				 : make_fs(image, uid, gid, err);
		if (rc < 0) {
			unlink(image);
			return rc;
		}
		*made = true;
	}
	if (mkdir(mnt, 0700) < 0 && errno != EEXIST)
		return acre_error_set(err, errno, NULL, "creating %s: %s", mnt, strerror(errno));
	return mounted(mnt) ? 0 : mount_image(image, mnt, err);
}

int acre_volume_tree(const char *mnt, struct acre_error *err)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, mnt, OPEN_TREE_CLONE | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "a copy of the mount %s: %s", mnt,
				      strerror(errno));
	return fd;
}

int acre_readonly_tree(const char *dir, struct acre_error *err)
{
	_cleanup_close_ int fd = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "a copy of %s: %s", dir, strerror(errno));
	struct mount_attr attr = {.attr_set =
					  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return acre_error_set(err, errno, NULL, "making the copy of %s read-only: %s", dir,
				      strerror(errno));
	return TAKE_FD(fd);
}

int acre_volume_unmount(const char *mnt, struct acre_error *err)
{
	if (!mounted(mnt))
		return 0;
	/* Detached: slices still using the volume keep their own mounts of it. */
	if (umount2(mnt, MNT_DETACH) < 0)
		return acre_error_set(err, errno, NULL, "unmounting %s: %s", mnt, strerror(errno));
	return 0;
}

int acre_root_dir_exists(const char *rootfs, const char *path)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT};
	int fd = (int)syscall(SYS_openat2, root, path[0] == '/' ? path + 1 : path, &how,
			      sizeof(how));
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool acre_volume_mounted(const char *mnt)
{
	return mounted(mnt);
}
