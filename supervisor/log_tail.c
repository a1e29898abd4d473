/*
 * The start of a log's last N lines, found by reading the file backwards
 * a block at a time (a log may be gigabytes; only its end is read).
 */
#include "log_tail.h"

#include <sys/stat.h>

#define BLOCK 65536

int log_tail_offset(int fd, int64_t lines, off_t *out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	off_t end = st.st_size;
	*out = 0;
	if (lines <= 0) {
		*out = end;
		return 0;
	}
	char last;
	/* A newline that ends the file closes the last line; it does not open another. */
	if (end > 0 && pread(fd, &last, 1, end - 1) == 1 && last == '\n')
		end--;
	static char buf[BLOCK];
	int64_t seen = 0;
	while (end > 0) {
		size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
		ssize_t r = pread(fd, buf, n, end - (off_t)n);
		if (r != (ssize_t)n)
			return r < 0 ? -errno : -EIO;
		for (size_t i = n; i-- > 0;) {
			if (buf[i] == '\n' && ++seen == lines) {
				*out = end - (off_t)n + (off_t)i + 1;
				return 0;
			}
		}
		end -= (off_t)n;
	}
	return 0;
}
