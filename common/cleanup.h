/*
 * Cleanup attributes for owned resources, as systemd's: a variable that owns
 * memory, an fd, a FILE, a DIR or a JSON value releases it when it goes out of
 * scope, so early returns cannot leak; TAKE_PTR/TAKE_FD hand ownership on.
 */
#ifndef ACRE_COMMON_CLEANUP_H
#define ACRE_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

static inline void acre_freep(void *p)
{
	free(*(void **)p);
}
static inline void acre_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void acre_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void acre_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
void acre_strv_free(char **v);
static inline void acre_strv_freep(char ***v)
{
	acre_strv_free(*v);
}

#define _cleanup_(f)	    __attribute__((cleanup(f)))
#define _cleanup_free_	    _cleanup_(acre_freep)
#define _cleanup_close_	    _cleanup_(acre_closep)
#define _cleanup_fclose_    _cleanup_(acre_fclosep)
#define _cleanup_dir_	    _cleanup_(acre_closedirp)
#define _cleanup_json_	    _cleanup_(json_decrefp) /* json_decrefp comes with jansson */
#define _cleanup_strv_free_ _cleanup_(acre_strv_freep)

/* Hand ownership on: return the value and leave the variable empty. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define ACRE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
