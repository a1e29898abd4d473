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

#endif
