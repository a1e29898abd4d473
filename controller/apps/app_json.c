/*
 * The strict readers and the canonical printers every part of the app
 * spec shares: unknown keys refused by name, strings without NUL bytes,
 * durations read as users write them and printed in the one form that
 * parses back to the same value (so canonical specs compare equal exactly
 * when the specs are).
 */
#include "internal.h"

int app_duration_parse(const json_t *v, const char *field, uint64_t max_ms, uint64_t *ms,
		       struct acre_error *err)
{
	const char *s = acre_json_c_string(v);
	char max[32];
	if (!s)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be a duration like \"15s\" or \"500ms\"", field);
	int rc = acre_parse_duration(s, ms, err, field);
	if (rc < 0)
		return rc;
	app_duration_format(max_ms, max, sizeof(max));
	if (*ms > max_ms)
		return acre_error_set(err, ERANGE, field, "%s %s: at most %s", field, s, max);
	return 0;
}

void app_duration_format(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};
	for (size_t i = 0; ms && i < ACRE_ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].ms),
				 units[i].unit);
			return;
		}
	}
	if (ms == 0)
		snprintf(buf, len, "0s");
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}
