/*
 * Health and readiness checks as the app spec states them: a command run
 * inside the slice, a TCP connect or an HTTP GET to one of the app's named
 * ports, with a grace period, an interval, a timeout and a number of
 * consecutive failures (15 s, 5 s, 2 s and 3 by default).  The supervisor
 * of the instance's node runs them, so the names are resolved to port
 * numbers only for an instance (app_instance.c); here a check on a port
 * the app does not declare is refused.
 */
#include "internal.h"

#include <netinet/in.h>

#define MAX_COMMAND_ARGS 256
#define MAX_PATH_LEN	 1024
#define MAX_GRACE_MS	 (3600ULL * 1000)
#define MAX_INTERVAL_MS	 (3600ULL * 1000)
#define MIN_INTERVAL_MS	 100
#define MAX_FAILURES	 100

static const char *const type_names[] = {"command", "tcp", "http"};

const char *app_check_type_name(enum app_check_type t)
{
	return (size_t)t < ACRE_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

static int parse_type(const json_t *v, const char *at, struct app_check *c, struct acre_error *err)
{
	const char *s = app_c_string(v);
	char field[64];
	snprintf(field, sizeof(field), "%s.type", at);
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(type_names); i++) {
		if (!strcmp(s, type_names[i])) {
			c->type = (enum app_check_type)i;
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

/* Which fields each type takes: a field of another type is a mistake worth saying. */
static int check_fields(const json_t *j, const char *at, const struct app_check *c,
			struct acre_error *err)
{
	static const char *const common[] = {"type", "grace", "interval", "timeout", "failures"};
	static const char *const command[] = {"command"}, *const tcp[] = {"port"},
				 *const http[] = {"port", "path"};
	const char *const *own = c->type == APP_CHECK_COMMAND ? command
				 : c->type == APP_CHECK_TCP   ? tcp
							      : http;
	size_t nown = c->type == APP_CHECK_HTTP ? 2 : 1;
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
				      known ? "not a field of this type of check"
					    : "unknown field");
	}
	return 0;
}

static int parse_timing(const json_t *j, const char *at, struct app_check *c,
			struct acre_error *err)
{
	char field[64];
	json_t *v;
	int rc;
	c->grace_ms = APP_CHECK_GRACE_MS;
	c->interval_ms = APP_CHECK_INTERVAL_MS;
	c->timeout_ms = APP_CHECK_TIMEOUT_MS;
	c->failures = APP_CHECK_FAILURES;
	snprintf(field, sizeof(field), "%s.grace", at);
	if ((v = json_object_get(j, "grace")) &&
	    (rc = app_duration_parse(v, field, MAX_GRACE_MS, &c->grace_ms, err)) < 0)
		return rc;
	snprintf(field, sizeof(field), "%s.interval", at);
	if ((v = json_object_get(j, "interval")) &&
	    (rc = app_duration_parse(v, field, MAX_INTERVAL_MS, &c->interval_ms, err)) < 0)
		return rc;
	if (c->interval_ms < MIN_INTERVAL_MS)
		return acre_error_set(err, EINVAL, field, "%s: at least %dms", field,
				      MIN_INTERVAL_MS);
	snprintf(field, sizeof(field), "%s.timeout", at);
	if ((v = json_object_get(j, "timeout")) &&
	    (rc = app_duration_parse(v, field, MAX_INTERVAL_MS, &c->timeout_ms, err)) < 0)
		return rc;
	/* A check still running when the next is due would pile up on a slow instance. */
	if (c->timeout_ms == 0 || c->timeout_ms > c->interval_ms) {
		char iv[32];
		app_duration_format(c->interval_ms, iv, sizeof(iv));
		return acre_error_set(err, EINVAL, field,
				      "%s: must be above 0 and at most the interval (%s)", field,
				      iv);
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
				      "%s: must be an object {\"type\": \"http\", \"port\": "
				      "\"http\", ...}",
				      at);
	if ((rc = parse_type(json_object_get(j, "type"), at, c, err)) < 0 ||
	    (rc = check_fields(j, at, c, err)) < 0)
		return rc;
	if (c->type == APP_CHECK_COMMAND) {
		snprintf(field, sizeof(field), "%s.command", at);
		rc = parse_command(json_object_get(j, "command"), field, c, err);
	} else {
		snprintf(field, sizeof(field), "%s.port", at);
		rc = parse_port(spec, json_object_get(j, "port"), field, c, err);
	}
	if (rc == 0 && c->type == APP_CHECK_HTTP) {
		snprintf(field, sizeof(field), "%s.path", at);
		rc = parse_path(json_object_get(j, "path"), field, c, err);
	}
	return rc < 0 ? rc : parse_timing(j, at, c, err);
}

int app_checks_parse(const json_t *health, const json_t *readiness, struct app_spec *spec,
		     struct acre_error *err)
{
	int rc;
	if (health && (!json_is_array(health) || json_array_size(health) > APP_CHECKS_MAX))
		return acre_error_set(err, EINVAL, "health",
				      "health: must be an array of at most %d checks",
				      APP_CHECKS_MAX);
	size_t i;
	json_t *v;
	json_array_foreach (health, i, v) {
		char at[32];
		snprintf(at, sizeof(at), "health[%zu]", i);
		spec->nhealth = i + 1;
		if ((rc = parse_check(spec, v, at, &spec->health[i], err)) < 0)
			return rc;
	}
	if (!readiness || json_is_null(readiness))
		return 0;
	spec->has_readiness = true;
	return parse_check(spec, readiness, "readiness", &spec->readiness, err);
}

json_t *app_check_to_json(const struct app_spec *spec, const struct app_check *c, int resolved_port)
{
	char grace[32], interval[32], timeout[32];
	app_duration_format(c->grace_ms, grace, sizeof(grace));
	app_duration_format(c->interval_ms, interval, sizeof(interval));
	app_duration_format(c->timeout_ms, timeout, sizeof(timeout));
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "type", app_check_type_name(c->type),
			      "grace", grace, "interval", interval, "timeout", timeout, "failures",
			      (json_int_t)c->failures);
	if (!j)
		return NULL;
	if (c->type == APP_CHECK_COMMAND) {
		json_t *a = json_array();
		for (char **p = c->command; p && *p; p++)
			json_array_append_new(a, json_string(*p));
		json_object_set_new(j, "command", a);
		return j;
	}
	json_object_set_new(j, "port",
			    resolved_port > 0 ? json_integer(resolved_port)
					      : json_string(spec->ports[c->port].name));
	if (c->type == APP_CHECK_HTTP)
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
	for (size_t i = 0; i < spec->nhealth; i++)
		check_free(&spec->health[i]);
	spec->nhealth = 0;
	check_free(&spec->readiness);
	spec->has_readiness = false;
}
