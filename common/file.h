/*
 * Small files written atomically and read whole.
 */
#ifndef ACRE_COMMON_FILE_H
#define ACRE_COMMON_FILE_H

#include <sys/types.h>
#include "common/error.h"

/* Write-temp, fsync, rename (and fsync the directory): the file is old or new, never torn. */
int acre_file_write_atomic(int dirfd, const char *name, const void *data, size_t len,
			   struct acre_error *err);
/* Reads a whole (small) file relative to dirfd; caller frees *data. */
int acre_file_read(int dirfd, const char *name, char **data, size_t *len, size_t max);
int acre_mkdir_p(const char *path, mode_t mode);

#endif
