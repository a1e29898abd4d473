/*
 * Errors that reach a user: a message saying what was being done and why it
 * failed, plus the errno and the field at fault.  Functions return -errno and
 * fill the struct; callers add context as the error travels up.
 */
#include "common.h"

int acre_error_set(struct acre_error *err, int code, const char *field, const char *fmt, ...)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL;
	if (!err)
		return -code;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -code;
}

int acre_error_prefix(struct acre_error *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	char prefix[256], old[sizeof(err->message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
	return -(err->code ? err->code : EINVAL);
}

const char *acre_error_code_name(int code)
{
	switch (code < 0 ? -code : code) {
	case EINVAL:
		return "invalid";
	case ENOENT:
		return "not_found";
	case EEXIST:
		return "exists";
	case EACCES:
	case EPERM:
		return "denied";
	case EBUSY:
		return "busy";
	case ENOSPC:
		return "no_space";
	case EMSGSIZE:
		return "too_long";
	case EPROTO:
		return "protocol";
	case EOPNOTSUPP:
		return "unsupported";
	case ENOMEM:
		return "no_memory";
	case ETIMEDOUT:
		return "timeout";
	case ESRCH:
		return "not_running";
	case ENOTCONN:
		return "unavailable";
	case E2BIG:
		return "unplaceable"; /* no node could ever take it */
	case EALREADY:
		return "already";
	case EAGAIN:
		return "not_ready";
	default:
		return "internal";
	}
}
