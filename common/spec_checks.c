/*
 * Health and readiness checks of the slice spec: "checks" and "readiness",
 * each an array of
 *
 *   {"kind": "http", "port": 8000, "path": "/healthz",
 *    "grace": "15s", "interval": "5s", "timeout": "2s", "failures": 3}
 *   {"kind": "tcp", "port": 6379}
 *   {"kind": "command", "command": ["redis-cli", "ping"]}
 *
 * Durations are seconds as a JSON number (fractions allowed) or strings with
 * a unit ("200ms", "0.5s"), so that tests and fast services can check more
 * than once a second.  The timeout may not exceed the interval: a check that
 * is still running when the next is due would pile up probes on a slow slice
 * (without a timeout of its own, a check shorter than 2 s takes its interval).
 */
#include "common.h"

#define PATH_MAX_LEN	1024
#define MAX_DURATION_MS 3600000U
#define MIN_TIMEOUT_MS	10U
#define MAX_FAILURES	100
#define MAX_CHECK_ARGS	256

static const char *const kind_names[] = {"command", "tcp", "http"};

const char *acre_check_kind_name(enum acre_check_kind k)
{
	return (size_t)k < ACRE_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

static const char *const health_names[] = {"none", "starting", "healthy", "unhealthy"};

const char *acre_health_name(enum acre_health h)
{
	return (size_t)h < ACRE_ARRAY_SIZE(health_names) ? health_names[h] : "?";
}

int acre_health_parse(const char *s, enum acre_health *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(health_names); i++) {
		if (strcmp(s, health_names[i]) == 0) {
			*out = (enum acre_health)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool acre_health_serving(enum acre_health h, bool ready)
{
	return ready && (h == ACRE_HEALTH_NONE || h == ACRE_HEALTH_HEALTHY);
}

void acre_checks_free(struct acre_check *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		acre_strv_free(c[i].command);
		free(c[i].path);
	}
	free(c);
}

/* A path an HTTP request line can carry as it is: no space, no control character. */
static bool path_valid(const char *p)
{
	if (p[0] != '/' || strlen(p) > PATH_MAX_LEN)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int acre_check_http_target_parse(const char *s, uint16_t *port, char **path, struct acre_error *err,
				 const char *field)
{
	unsigned long v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9' && p - s < 6)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (p == s || v < 1 || v > 65535 || (*p && *p != '/') || (*p && !path_valid(p)))
		return acre_error_set(err, EINVAL, field,
				      "%s %s: must be PORT[/PATH], a port of 1 to 65535 and a path "
				      "without spaces",
				      field, s);
	*port = (uint16_t)v;
	*path = strdup(*p ? p : "/");
	return *path ? 0 : -ENOMEM;
}

/* A number of seconds, or a string with a unit; into ms. */
static int duration(const json_t *v, const char *field, uint32_t *out, struct acre_error *err)
{
	uint64_t ms;
	if (json_is_number(v)) {
		double d = json_number_value(v);
		if (!(d >= 0) || d * 1000 > MAX_DURATION_MS)
			return acre_error_set(err, EINVAL, field, "%s: must be 0 to 3600 seconds",
					      field);
		ms = (uint64_t)(d * 1000 + 0.5);
	} else if (json_is_string(v)) {
		int rc = acre_parse_duration(json_string_value(v), &ms, err, field);
		if (rc < 0)
			return rc;
		if (ms > MAX_DURATION_MS)
			return acre_error_set(err, EINVAL, field, "%s: at most 1h", field);
	} else {
		return acre_error_set(err, EINVAL, field,
				      "%s: must be seconds or a duration like \"500ms\"", field);
	}
	*out = (uint32_t)ms;
	return 0;
}

static int parse_command(const json_t *v, const char *field, struct acre_check *c,
			 struct acre_error *err)
{
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_CHECK_ARGS)
		return acre_error_set(err, EINVAL, field,
				      "%s: required for kind command, a non-empty array of strings",
				      field);
	c->command = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!c->command)
		return -ENOMEM;
	size_t i;
	json_t *a;
	json_array_foreach (v, i, a) {
		if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a) ||
		    (i == 0 && !json_string_length(a)))
			return acre_error_set(err, EINVAL, field,
					      "%s[%zu]: must be a non-empty string without NUL "
					      "bytes",
					      field, i);
		if (!(c->command[i] = strdup(json_string_value(a))))
			return -ENOMEM;
	}
	return 0;
}

static int parse_target(const json_t *j, const char *f, struct acre_check *c,
			struct acre_error *err)
{
	char field[96];
	json_t *v;
	snprintf(field, sizeof(field), "%s.command", f);
	if (c->kind == ACRE_CHECK_COMMAND)
		return parse_command(json_object_get(j, "command"), field, c, err);
	if (json_object_get(j, "command"))
		return acre_error_set(err, EINVAL, field, "%s: only for kind command", field);
	snprintf(field, sizeof(field), "%s.port", f);
	v = json_object_get(j, "port");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return acre_error_set(err, EINVAL, field,
				      "%s: required for kind %s, a port of 1 to 65535", field,
				      acre_check_kind_name(c->kind));
	c->port = (uint16_t)json_integer_value(v);
	snprintf(field, sizeof(field), "%s.path", f);
	v = json_object_get(j, "path");
	if (c->kind == ACRE_CHECK_TCP) {
		if (v)
			return acre_error_set(err, EINVAL, field, "%s: only for kind http", field);
		return 0;
	}
	if (v && (!json_is_string(v) || !path_valid(json_string_value(v))))
		return acre_error_set(err, EINVAL, field,
				      "%s: must start with / and hold no space or control "
				      "character (%d bytes at most)",
				      field, PATH_MAX_LEN);
	c->path = strdup(v ? json_string_value(v) : "/");
	return c->path ? 0 : -ENOMEM;
}

static int parse_timing(const json_t *j, const char *f, struct acre_check *c,
			struct acre_error *err)
{
	static const char *const names[] = {"grace", "interval", "timeout"};
	uint32_t *dst[] = {&c->grace_ms, &c->interval_ms, &c->timeout_ms};
	char field[96];
	for (size_t k = 0; k < ACRE_ARRAY_SIZE(names); k++) {
		json_t *v = json_object_get(j, names[k]);
		snprintf(field, sizeof(field), "%s.%s", f, names[k]);
		int rc = v ? duration(v, field, dst[k], err) : 0;
		if (rc < 0)
			return rc;
	}
	/* Unless given, the timeout is the default's or the interval's, the shorter. */
	if (!json_object_get(j, "timeout") && c->timeout_ms > c->interval_ms)
		c->timeout_ms = c->interval_ms;
	if (c->interval_ms < ACRE_CHECK_MIN_INTERVAL_MS) {
		snprintf(field, sizeof(field), "%s.interval", f);
		return acre_error_set(err, EINVAL, field, "%s: at least %ums", field,
				      ACRE_CHECK_MIN_INTERVAL_MS);
	}
	if (c->timeout_ms < MIN_TIMEOUT_MS || c->timeout_ms > c->interval_ms) {
		snprintf(field, sizeof(field), "%s.timeout", f);
		return acre_error_set(err, EINVAL, field, "%s: from %ums to the interval (%ums)",
				      field, MIN_TIMEOUT_MS, c->interval_ms);
	}
	json_t *v = json_object_get(j, "failures");
	if (v) {
		snprintf(field, sizeof(field), "%s.failures", f);
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > MAX_FAILURES)
			return acre_error_set(err, EINVAL, field,
					      "%s: must be an integer from 1 to %d", field,
					      MAX_FAILURES);
		c->failures = (unsigned)json_integer_value(v);
	}
	return 0;
}

static int parse_one(const json_t *j, const char *f, struct acre_check *c, struct acre_error *err)
{
	static const char *const keys[] = {"kind",     "command", "port",     "path", "grace",
					   "interval", "timeout", "failures", NULL};
	*c = (struct acre_check){.grace_ms = ACRE_CHECK_GRACE_MS,
				 .interval_ms = ACRE_CHECK_INTERVAL_MS,
				 .timeout_ms = ACRE_CHECK_TIMEOUT_MS,
				 .failures = ACRE_CHECK_FAILURES};
	char field[96];
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an object with a kind", f);
	snprintf(field, sizeof(field), "%s.", f);
	int rc = acre_json_check_keys(j, field, keys, err);
	if (rc < 0)
		return rc;
	snprintf(field, sizeof(field), "%s.kind", f);
	const char *kind = json_string_value(json_object_get(j, "kind"));
	size_t k = 0;
	while (kind && k < ACRE_ARRAY_SIZE(kind_names) && strcmp(kind, kind_names[k]))
		k++;
	if (!kind || k == ACRE_ARRAY_SIZE(kind_names))
		return acre_error_set(err, EINVAL, field, "%s: must be command, tcp or http",
				      field);
	c->kind = (enum acre_check_kind)k;
	rc = parse_target(j, f, c, err);
	return rc < 0 ? rc : parse_timing(j, f, c, err);
}

int acre_checks_parse_spec(const json_t *j, const char *field, struct acre_check **out, size_t *n,
			   struct acre_error *err)
{
	*out = NULL;
	*n = 0;
	if (!j)
		return 0;
	if (!json_is_array(j) || json_array_size(j) > ACRE_CHECKS_MAX)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be an array of at most %d checks", field,
				      ACRE_CHECKS_MAX);
	struct acre_check *c = calloc(json_array_size(j) + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		char f[64];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		int rc = parse_one(v, f, &c[i], err);
		if (rc < 0) {
			acre_checks_free(c, i + 1);
			return rc;
		}
	}
	*out = c;
	*n = json_array_size(j);
	return 0;
}

/* "5s" or "200ms": what acre_parse_duration reads back. */
static json_t *duration_json(uint32_t ms)
{
	char buf[24];
	if (ms % 1000 == 0)
		snprintf(buf, sizeof(buf), "%us", ms / 1000);
	else
		snprintf(buf, sizeof(buf), "%ums", ms);
	return json_string(buf);
}

json_t *acre_checks_to_json(const struct acre_check *c, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_pack(
			"{s:s,s:o,s:o,s:o,s:i}", "kind", acre_check_kind_name(c[i].kind), "grace",
			duration_json(c[i].grace_ms), "interval", duration_json(c[i].interval_ms),
			"timeout", duration_json(c[i].timeout_ms), "failures", (int)c[i].failures);
		if (!o)
			continue;
		if (c[i].kind == ACRE_CHECK_COMMAND) {
			json_t *cmd = json_array();
			for (char **p = c[i].command; p && *p; p++)
				json_array_append_new(cmd, json_string(*p));
			json_object_set_new(o, "command", cmd);
		} else {
			json_object_set_new(o, "port", json_integer(c[i].port));
		}
		if (c[i].kind == ACRE_CHECK_HTTP)
			json_object_set_new(o, "path", json_string(c[i].path));
		json_array_append_new(a, o);
	}
	return a;
}
