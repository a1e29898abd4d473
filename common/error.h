/*
 * What the user reads when something fails: struct acre_error, filled where
 * the failure is found and prefixed with context by each caller on the way out.
 */
#ifndef ACRE_COMMON_ERROR_H
#define ACRE_COMMON_ERROR_H

/*
 * What the user reads when something fails.  `code` is a positive errno,
 * `field` names the spec field or flag at fault when there is one.
 */
struct acre_error {
	int code;
	char field[64];
	char message[512];
};

/* Fill err (if not NULL) and return -code, so callers can `return acre_error_set(...)`. */
int acre_error_set(struct acre_error *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix the existing message with context ("creating cgroup x: <old>"); returns -err->code. */
int acre_error_prefix(struct acre_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A short stable identifier for an errno, used as the protocol's error code. */
const char *acre_error_code_name(int code);

#endif
