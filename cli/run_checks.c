/*
 * The check flags of `acre slice run`, onto the spec's checks and readiness:
 *
 *   --check-http PORT[/PATH]   {"kind": "http", "port", "path"} in checks
 *   --check-tcp PORT           {"kind": "tcp", "port"}
 *   --check-cmd 'CMD'          {"kind": "command", "command": ["/bin/sh", "-c", CMD]}
 *   --ready-http, --ready-tcp, --ready-cmd: the same, in readiness
 *   --check-grace, --check-interval, --check-timeout DURATION, --check-failures N:
 *                              those fields, of every check given on the line
 *
 * An app's checks name their port instead (controller/README.md, "Apps"):
 * --check-http http/healthz is {"kind": "http", "port": "http", "path":
 * "/healthz"}, --check-tcp http is {"kind": "tcp", "port": "http"}.
 *
 * Each value is checked here so that the error names the flag.
 */
#include "cli.h"

static json_t *list_at(json_t *spec, const char *key)
{
	json_t *a = json_object_get(spec, key);
	if (!a) {
		a = json_array();
		json_object_set_new(spec, key, a);
	}
	return a;
}

static int port_of(const char *arg, const char *flag, int *port, struct acre_error *err)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 1 || v > 65535)
		return acre_error_set(err, EINVAL, flag, "%s %s: a port of 1 to 65535", flag, arg);
	*port = (int)v;
	return 0;
}

/* "http" or "http/healthz": a named port of an app, and the path ("/" when none). */
static json_t *named_target(const char *kind, const char *arg, const char *flag,
			    struct acre_error *err)
{
	size_t n = strcspn(arg, "/");
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), arg);
	if (n >= sizeof(name) || !acre_port_name_valid(name)) {
		acre_error_set(
			err, EINVAL, flag,
			"%s %s: expected a port's name%s, as declared with --port (\"http\")", flag,
			arg, strcmp(kind, "http") ? "" : " and a path (http/healthz)");
		return NULL;
	}
	if (strcmp(kind, "tcp") == 0) {
		if (arg[n]) {
			acre_error_set(err, EINVAL, flag, "%s %s: a port's name alone", flag, arg);
			return NULL;
		}
		return json_pack("{s:s,s:s}", "kind", kind, "port", name);
	}
	return json_pack("{s:s,s:s,s:s}", "kind", kind, "port", name, "path",
			 arg[n] ? arg + n : "/");
}

static int add_check(bool ready, const char *kind, const char *arg, bool named, json_t *spec,
		     struct acre_error *err)
{
	char flag[32];
	snprintf(flag, sizeof(flag), "--%s-%s", ready ? "ready" : "check",
		 strcmp(kind, "command") == 0 ? "cmd" : kind);
	json_t *c;
	int port = 0;
	if (named && strcmp(kind, "command")) {
		if (!(c = named_target(kind, arg, flag, err)))
			return -EINVAL;
	} else if (strcmp(kind, "http") == 0) {
		uint16_t p;
		_cleanup_free_ char *path = NULL;
		if (acre_check_http_target_parse(arg, &p, &path, err, flag) < 0)
			return -EINVAL;
		c = json_pack("{s:s,s:i,s:s}", "kind", kind, "port", (int)p, "path", path);
	} else if (strcmp(kind, "tcp") == 0) {
		if (port_of(arg, flag, &port, err) < 0)
			return -EINVAL;
		c = json_pack("{s:s,s:i}", "kind", kind, "port", port);
	} else {
		if (!*arg)
			return acre_error_set(err, EINVAL, flag, "%s: an empty command", flag);
		c = json_pack("{s:s,s:[s,s,s]}", "kind", kind, "command", "/bin/sh", "-c", arg);
	}
	if (!c)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_array_append_new(list_at(spec, ready ? "readiness" : "checks"), c);
	return 0;
}

int run_checks_apply(enum run_check_flag f, const char *arg, json_t *spec, json_t *timing,
		     bool named, struct acre_error *err)
{
	static const char *const names[] = {"grace", "interval", "timeout"};
	uint64_t ms;
	switch (f) {
	case RUN_CHECK_HTTP:
	case RUN_CHECK_TCP:
	case RUN_CHECK_CMD:
	case RUN_READY_HTTP:
	case RUN_READY_TCP:
	case RUN_READY_CMD: {
		static const char *const kinds[] = {"http", "tcp", "command"};
		bool ready = f >= RUN_READY_HTTP;
		return add_check(ready, kinds[(f - RUN_CHECK_HTTP) % 3], arg, named, spec, err);
	}
	case RUN_CHECK_GRACE:
	case RUN_CHECK_INTERVAL:
	case RUN_CHECK_TIMEOUT: {
		const char *name = names[f - RUN_CHECK_GRACE];
		char flag[32];
		snprintf(flag, sizeof(flag), "--check-%s", name);
		if (acre_parse_duration(arg, &ms, err, flag) < 0)
			return -EINVAL;
		json_object_set_new(timing, name, json_string(arg));
		return 0;
	}
	case RUN_CHECK_FAILURES: {
		char *end;
		long v = strtol(arg, &end, 10);
		if (!*arg || *end || v < 1 || v > 100)
			return acre_error_set(err, EINVAL, "--check-failures",
					      "--check-failures %s: an integer from 1 to 100", arg);
		json_object_set_new(timing, "failures", json_integer(v));
		return 0;
	}
	}
	return -EINVAL;
}

int run_checks_finish(json_t *spec, json_t *timing, struct acre_error *err)
{
	static const char *const lists[] = {"checks", "readiness"};
	bool any = false;
	for (size_t l = 0; l < ACRE_ARRAY_SIZE(lists); l++) {
		size_t i;
		json_t *c;
		json_array_foreach (json_object_get(spec, lists[l]), i, c) {
			json_object_update(c, timing);
			any = true;
		}
	}
	if (!any && json_object_size(timing))
		return acre_error_set(err, EINVAL, "--check-interval",
				      "--check-grace, --check-interval, --check-timeout and "
				      "--check-failures need a check (--check-http, --check-tcp, "
				      "--check-cmd or a --ready-... one)");
	return 0;
}

/* "checks[0].interval: ..." -> "--check-interval: ..." (the same for every check). */
void run_checks_reword(struct acre_error *err)
{
	static const char *const prefixes[] = {"checks[", "readiness["};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		const char *dot = strchr(err->field, '.');
		if (strncmp(err->field, prefixes[i], n) || !dot)
			continue;
		const char *name = dot + 1;
		if (strcmp(name, "grace") && strcmp(name, "interval") && strcmp(name, "timeout") &&
		    strcmp(name, "failures"))
			return;
		size_t flen = strlen(err->field);
		if (strncmp(err->message, err->field, flen) != 0)
			return;
		char rest[sizeof(err->message)];
		snprintf(rest, sizeof(rest), "%s", err->message + flen);
		char flag[32];
		snprintf(flag, sizeof(flag), "--check-%s", name);
		snprintf(err->message, sizeof(err->message), "%s%s", flag, rest);
		snprintf(err->field, sizeof(err->field), "%s", flag);
		return;
	}
}
