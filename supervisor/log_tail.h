/*
 * Where the last N lines of a slice's log begin (log_tail.c), for
 * logs.open's `tail`: pure file reading, unit-tested
 * (tests/unit/test_log_tail.c).
 */
#ifndef ACRE_SUPERVISOR_LOG_TAIL_H
#define ACRE_SUPERVISOR_LOG_TAIL_H

#include "common/common.h"

#include <sys/types.h>

/*
 * The offset of the first byte of the file's last `lines` lines (0: the
 * end of the file; more lines than it has: its start).  A newline that
 * ends the file closes the last line, it does not open another; a last
 * line without one counts as a line.  0 or -errno.
 */
int log_tail_offset(int fd, int64_t lines, off_t *out);

#endif
