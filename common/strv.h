/*
 * NULL-terminated string vectors (argv, env) and a UTF-8 check.
 */
#ifndef ACRE_COMMON_STRV_H
#define ACRE_COMMON_STRV_H

#include <stdbool.h>
#include <stddef.h>

char **acre_strv_copy(char *const *v);
size_t acre_strv_length(char *const *v);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int acre_strv_push(char ***v, const char *s);
bool acre_str_is_utf8(const char *s, size_t len);
/*
 * The length of the UTF-8 sequence that the byte p[0] >= 0x80 starts, of
 * the `avail` bytes there, or 0 if it is not a valid one (the rules of
 * acre_str_is_utf8).  A NUL ends any sequence, so a NUL-terminated string
 * may pass SIZE_MAX.
 */
size_t acre_utf8_sequence_len(const unsigned char *p, size_t avail);

#endif
