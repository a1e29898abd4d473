/*
 * The signal of a kill, as the socket and the pool link both receive it:
 * one rule for the two, acre_parse_signal's, whatever JSON type carries it.
 * Pure (it calls only common/), so tests/unit/test_slice_signal.c links it alone.
 */
#include "slice_ops.h"

int slice_ops_parse_signal(const json_t *v, int *sig, struct acre_error *err)
{
	char buf[32];
	const char *text = json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		text = buf;
	}
	if (!text)
		return acre_error_set(err, EINVAL, "signal", "signal: a name (TERM) or a number");
	return acre_parse_signal(text, sig, err, "signal");
}
