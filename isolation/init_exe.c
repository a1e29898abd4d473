/*
 * What a slice's PID 1 is executed from.  If acre-init were exec'd from its
 * file on a writable host mount, a task could reopen /proc/1/exe for writing
 * and replace the binary the next slice runs (CVE-2019-5736).  Instead the
 * supervisor clones a private, read-only mount of that one file and keeps
 * an O_PATH fd into it: /proc/1/exe then resolves to a read-only mount.
 * Where the new mount API is missing, a sealed memfd copy serves instead.
 */
#include "isolation.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

static int ro_mount_fd(const char *path)
{
	int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	struct mount_attr attr = {.attr_set =
					  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(tree);
		return -e;
	}
	return tree;
}

static int sealed_copy_fd(const char *path)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	_cleanup_close_ int mfd = memfd_create("acre-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	if (fchmod(mfd, 0555) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	return TAKE_FD(mfd);
}

int acre_init_exe_open(const char *path, int *fd, struct acre_error *err)
{
	if (access(path, X_OK) < 0)
		return acre_error_set(err, errno, "--init", "acre-init %s: %s", path,
				      strerror(errno));
	int r = ro_mount_fd(path);
	if (r < 0)
		r = sealed_copy_fd(path);
	if (r < 0)
		return acre_error_set(err, -r, "--init", "preparing acre-init %s: %s", path,
				      strerror(-r));
	*fd = r;
	return 0;
}
