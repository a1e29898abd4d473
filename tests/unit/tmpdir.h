/*
 * A fresh mkdtemp directory per test (cmocka setup/teardown), removed with
 * everything in it afterwards.  Shared by the unit tests that touch files.
 */
#ifndef ACRE_TEST_TMPDIR_H
#define ACRE_TEST_TMPDIR_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct tmp {
	char path[64];
	int dirfd;
};

static inline int tmp_setup(void **state, const char *name)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/acre-test-%s.XXXXXX", name);
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	t->dirfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		rmdir(t->path);
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static inline int tmp_remove_entry(const char *path, const struct stat *st, int type,
				   struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static inline int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	close(t->dirfd);
	int r = nftw(t->path, tmp_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return r;
}

#endif
