/*
 * Health and readiness checks as the app spec states them, in the words
 * of the slice spec's "checks" and "readiness" (kind command, tcp or http;
 * grace, interval, timeout, failures: 15 s, 5 s, 2 s and 3 by default;
 * durations as seconds or with a unit) except that the port is one of the
 * app's named ports: a port on the host's network may only be known at
 * placement.  The supervisor of the instance's node runs them, so names
 * become numbers only for an instance (app_instance.c); here a check on a
 * port the app does not declare is refused.
 */
#include "internal.h"

#include <netinet/in.h>

#define MAX_COMMAND_ARGS 256
#define MAX_PATH_LEN	 1024
#define MAX_DURATION_MS	 (3600ULL * 1000)
#define MAX_FAILURES	 100

static const char *const kind_names[] = {"command", "tcp", "http"};

const char *app_check_kind_name(enum app_check_kind k)
{
	return (size_t)k < ACRE_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

static int parse_kind(const json_t *v, const char *at, struct app_check *c, struct acre_error *err)
{
	const char *s = app_c_string(v);
	char field[64];
	snprintf(field, sizeof(field), "%s.kind", at);
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(kind_names); i++) {
		if (!strcmp(s, kind_names[i])) {
			c->kind = (enum app_check_kind)i;
			return 0;
		}
	}
	return acre_error_set(err, EINVAL, field, "%s: %s", field,
			      v ? "must be command, tcp or http"
				: "required (command, tcp or http)");
}

static int parse_command(const json_t *v, const char *field, struct app_check *c,
			 struct acre_error *err)
{
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_COMMAND_ARGS)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be an array of 1 to %d strings (the command run "
				      "inside the slice)",
				      field, MAX_COMMAND_ARGS);
	if (!(c->command = calloc(1, sizeof(char *))))
		return -ENOMEM;
	size_t i;
	json_t *a;
	json_array_foreach (v, i, a) {
		const char *s = app_c_string(a);
		if (!s || (i == 0 && !*s))
			return acre_error_set(err, EINVAL, field, "%s[%zu]: must be a %sstring",
					      field, i, i == 0 ? "non-empty " : "");
		if (acre_strv_push(&c->command, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void declared_ports(const struct app_spec *spec, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < spec->nports && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", spec->ports[i].name);
	if (!spec->nports)
		snprintf(buf, len, "none declared");
}

static int parse_port(const struct app_spec *spec, const json_t *v, const char *field,
		      struct app_check *c, struct acre_error *err)
{
	const char *s = app_c_string(v);
	char declared[APP_PORTS_MAX * (APP_PORT_NAME_MAX + 2) + 16];
	if (!v)
		return acre_error_set(err, EINVAL, field,
				      "%s: required: the name of a port of the app", field);
	int port = s ? app_port_find(spec, s) : -1;
	if (port < 0) {
		declared_ports(spec, declared, sizeof(declared));
		return acre_error_set(err, EINVAL, field,
				      "%s: %s%s%s is not a port of the app (%s)", field,
				      s ? "\"" : "", s ? s : "the value", s ? "\"" : "", declared);
	}
	if (spec->ports[port].proto != IPPROTO_TCP)
		return acre_error_set(err, EINVAL, field,
				      "%s: %s is a udp port; tcp and http checks need a tcp one",
				      field, s);
	c->port = (unsigned)port;
	return 0;
}

static int parse_path(const json_t *v, const char *field, struct app_check *c,
		      struct acre_error *err)
{
	const char *s = v ? app_c_string(v) : "/";
	if (!s || s[0] != '/' || strlen(s) > MAX_PATH_LEN)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be a path starting with '/' (at most %d bytes)",
				      field, MAX_PATH_LEN);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return acre_error_set(err, EINVAL, field,
					      "%s: no spaces or control characters (encode them)",
					      field);
	c->path = strdup(s);
	return c->path ? 0 : -ENOMEM;
}

/* Which fields each kind takes: a field of another kind is a mistake worth saying. */
static int check_fields(const json_t *j, const char *at, const struct app_check *c,
			struct acre_error *err)
{
	static const char *const common[] = {"kind", "grace", "interval", "timeout", "failures"};
	static const char *const command[] = {"command"}, *const tcp[] = {"port"},
				 *const http[] = {"port", "path"};
	const char *const *own = c->kind == APP_CHECK_COMMAND ? command
				 : c->kind == APP_CHECK_TCP   ? tcp
							      : http;
	size_t nown = c->kind == APP_CHECK_HTTP ? 2 : 1;
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)j, key, v) {
		bool ok = false;
		for (size_t i = 0; i < ACRE_ARRAY_SIZE(common) && !ok; i++)
			ok = !strcmp(key, common[i]);
		for (size_t i = 0; i < nown && !ok; i++)
			ok = !strcmp(key, own[i]);
		if (ok)
			continue;
		char field[64];
		snprintf(field, sizeof(field), "%s.%s", at, key);
		bool known =
			!strcmp(key, "command") || !strcmp(key, "port") || !strcmp(key, "path");
		return acre_error_set(err, EINVAL, field, "%s: %s", field,
				      known ? "not a field of this kind of check"
					    : "unknown field");
	}
	return 0;
}

/* Seconds as a JSON number (fractions allowed), or a string with a unit, as the slice spec. */
static int duration(const json_t *v, const char *field, uint64_t *ms, struct acre_error *err)
{
	if (!json_is_number(v))
		return app_duration_parse(v, field, MAX_DURATION_MS, ms, err);
	double d = json_number_value(v);
	if (!(d >= 0) || d * 1000 > (double)MAX_DURATION_MS)
		return acre_error_set(err, EINVAL, field, "%s: must be 0 to 3600 seconds", field);
	*ms = (uint64_t)(d * 1000 + 0.5);
	return 0;
}

static int parse_timing(const json_t *j, const char *at, struct app_check *c,
			struct acre_error *err)
{
	static const char *const names[] = {"grace", "interval", "timeout"};
	uint64_t *dst[] = {&c->grace_ms, &c->interval_ms, &c->timeout_ms};
	char field[64];
	json_t *v;
	c->grace_ms = APP_CHECK_GRACE_MS;
	c->interval_ms = APP_CHECK_INTERVAL_MS;
	c->timeout_ms = APP_CHECK_TIMEOUT_MS;
	c->failures = APP_CHECK_FAILURES;
	for (size_t k = 0; k < ACRE_ARRAY_SIZE(names); k++) {
		snprintf(field, sizeof(field), "%s.%s", at, names[k]);
		int rc = (v = json_object_get(j, names[k])) ? duration(v, field, dst[k], err) : 0;
		if (rc < 0)
			return rc;
	}
	snprintf(field, sizeof(field), "%s.interval", at);
	if (c->interval_ms < APP_CHECK_MIN_INTERVAL_MS)
		return acre_error_set(err, EINVAL, field, "%s: at least %dms", field,
				      APP_CHECK_MIN_INTERVAL_MS);
	/* A check still running when the next is due would pile up on a slow instance. */
	snprintf(field, sizeof(field), "%s.timeout", at);
	if (c->timeout_ms < APP_CHECK_MIN_TIMEOUT_MS || c->timeout_ms > c->interval_ms) {
		char iv[32];
		app_duration_format(c->interval_ms, iv, sizeof(iv));
		return acre_error_set(err, EINVAL, field, "%s: from %dms to the interval (%s)",
				      field, APP_CHECK_MIN_TIMEOUT_MS, iv);
	}
	snprintf(field, sizeof(field), "%s.failures", at);
	if ((v = json_object_get(j, "failures"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > MAX_FAILURES)
			return acre_error_set(err, EINVAL, field,
					      "%s: must be an integer from 1 to %d", field,
					      MAX_FAILURES);
		c->failures = (unsigned)json_integer_value(v);
	}
	return 0;
}

static int parse_check(const struct app_spec *spec, const json_t *j, const char *at,
		       struct app_check *c, struct acre_error *err)
{
	char field[64];
	int rc;
	memset(c, 0, sizeof(*c));
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, at,
				      "%s: must be an object {\"kind\": \"http\", \"port\": "
				      "\"http\", ...}",
				      at);
	if ((rc = parse_kind(json_object_get(j, "kind"), at, c, err)) < 0 ||
	    (rc = check_fields(j, at, c, err)) < 0)
		return rc;
	if (c->kind == APP_CHECK_COMMAND) {
		snprintf(field, sizeof(field), "%s.command", at);
		rc = parse_command(json_object_get(j, "command"), field, c, err);
	} else {
		snprintf(field, sizeof(field), "%s.port", at);
		rc = parse_port(spec, json_object_get(j, "port"), field, c, err);
	}
	if (rc == 0 && c->kind == APP_CHECK_HTTP) {
		snprintf(field, sizeof(field), "%s.path", at);
		rc = parse_path(json_object_get(j, "path"), field, c, err);
	}
	return rc < 0 ? rc : parse_timing(j, at, c, err);
}

static int parse_list(const struct app_spec *spec, const json_t *j, const char *field,
		      struct app_check *out, size_t *n, struct acre_error *err)
{
	if (!j)
		return 0;
	if (!json_is_array(j) || json_array_size(j) > APP_CHECKS_MAX)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be an array of at most %d checks", field,
				      APP_CHECKS_MAX);
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		char at[32];
		snprintf(at, sizeof(at), "%s[%zu]", field, i);
		*n = i + 1;
		int rc = parse_check(spec, v, at, &out[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int app_checks_parse(const json_t *checks, const json_t *readiness, struct app_spec *spec,
		     struct acre_error *err)
{
	int rc = parse_list(spec, checks, "checks", spec->checks, &spec->nchecks, err);
	return rc < 0 ? rc
		      : parse_list(spec, readiness, "readiness", spec->readiness, &spec->nreadiness,
				   err);
}

json_t *app_check_to_json(const struct app_spec *spec, const struct app_check *c, int resolved_port)
{
	char grace[32], interval[32], timeout[32];
	app_duration_format(c->grace_ms, grace, sizeof(grace));
	app_duration_format(c->interval_ms, interval, sizeof(interval));
	app_duration_format(c->timeout_ms, timeout, sizeof(timeout));
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "kind", app_check_kind_name(c->kind),
			      "grace", grace, "interval", interval, "timeout", timeout, "failures",
			      (json_int_t)c->failures);
	if (!j)
		return NULL;
	if (c->kind == APP_CHECK_COMMAND) {
		json_t *a = json_array();
		for (char **p = c->command; p && *p; p++)
			json_array_append_new(a, json_string(*p));
		json_object_set_new(j, "command", a);
		return j;
	}
	json_object_set_new(j, "port",
			    resolved_port > 0 ? json_integer(resolved_port)
					      : json_string(spec->ports[c->port].name));
	if (c->kind == APP_CHECK_HTTP)
		json_object_set_new(j, "path", json_string(c->path));
	return j;
}

static void check_free(struct app_check *c)
{
	acre_strv_free(c->command);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

void app_checks_free(struct app_spec *spec)
{
	for (size_t i = 0; i < spec->nchecks; i++)
		check_free(&spec->checks[i]);
	for (size_t i = 0; i < spec->nreadiness; i++)
		check_free(&spec->readiness[i]);
	spec->nchecks = spec->nreadiness = 0;
}
