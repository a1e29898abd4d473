/*
 * Directory listings with the fd handling in one place: openat with
 * O_DIRECTORY|O_CLOEXEC, fdopendir, and the DIR closed whatever fn returns.
 */
#include "common/common.h"

#include <fcntl.h>

int acre_dir_foreach(int at, const char *name,
		     int (*fn)(int dfd, const char *entry, unsigned char type, void *ud), void *ud)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int r = fn(dirfd(d), de->d_name, de->d_type, ud);
		if (r < 0)
			return r;
	}
	return 0;
}
