/*
 * Health and readiness checks of an app: the slice spec's "checks" and
 * "readiness" (common/spec_checks.c reads them, with its defaults, bounds
 * and errors), except that a port is one of the app's named ports, since
 * a port on the host's network is only known at placement.  Each name is
 * checked here (declared, tcp) and stands as a number while the slice
 * spec's parser reads the rest; the number the instance really uses is
 * put in when its slice spec is made (app_instance.c).
 */
#include "internal.h"

#include <netinet/in.h>

static void declared_ports(const struct app_spec *spec, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < spec->nports && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", spec->ports[i].name);
	if (!spec->nports)
		snprintf(buf, len, "none declared");
}

/* One check's "port": a declared tcp port's name; replaced in the copy by a number. */
static int name_port(const struct app_spec *spec, json_t *check, const char *at, unsigned *out,
		     struct acre_error *err)
{
	const char *kind = json_string_value(json_object_get(check, "kind"));
	json_t *v = json_object_get(check, "port");
	char field[64], declared[APP_PORTS_MAX * (APP_PORT_NAME_MAX + 2) + 16];
	bool needs = kind && (!strcmp(kind, "tcp") || !strcmp(kind, "http"));
	snprintf(field, sizeof(field), "%s.port", at);
	if (!v && !needs)
		return 0;
	if (!v)
		return acre_error_set(err, EINVAL, field,
				      "%s: required for kind %s: the name of a port of the app",
				      field, kind);
	const char *s = acre_json_c_string(v);
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
	*out = (unsigned)port;
	/* A port the node picks at placement has no number yet: any valid one stands in. */
	json_object_set_new(check, "port",
			    json_integer(spec->ports[port].port ? spec->ports[port].port : 1));
	return 0;
}

static int parse_list(const struct app_spec *spec, const json_t *j, const char *field,
		      struct app_checks *out, struct acre_error *err)
{
	_cleanup_json_ json_t *copy = json_is_array(j) ? json_deep_copy(j) : NULL;
	size_t i;
	json_t *v;
	if (json_is_array(j) && !copy)
		return -ENOMEM;
	json_array_foreach (copy, i, v) {
		char at[32];
		snprintf(at, sizeof(at), "%s[%zu]", field, i);
		int rc = json_is_object(v) && i < ACRE_CHECKS_MAX
				 ? name_port(spec, v, at, &out->port[i], err)
				 : 0;
		if (rc < 0)
			return rc;
	}
	/* Anything not an array is the slice spec's parser's to refuse, in its words. */
	return acre_checks_parse_spec(copy ? copy : j, field, &out->c, &out->n, err);
}

int app_checks_parse(const json_t *checks, const json_t *readiness, struct app_spec *spec,
		     struct acre_error *err)
{
	int rc = parse_list(spec, checks, "checks", &spec->checks, err);
	return rc < 0 ? rc : parse_list(spec, readiness, "readiness", &spec->readiness, err);
}

int app_checks_to_json(const struct app_spec *spec, const struct app_checks *k, bool named,
		       const uint16_t *host_ports, json_t **out, struct acre_error *err)
{
	_cleanup_json_ json_t *a = acre_checks_to_json(k->c, k->n);
	if (!a)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < k->n; i++) {
		if (k->c[i].kind == ACRE_CHECK_COMMAND)
			continue;
		/* A port its node picks is named; the pool numbers it
		 * (controller/pool/host_ports.c). */
		bool by_name = named || app_port_picked(spec, k->port[i]);
		int n = by_name ? 0 : app_port_number(spec, k->port[i], host_ports, err);
		if (n < 0)
			return n;
		json_object_set_new(json_array_get(a, i), "port",
				    by_name ? json_string(spec->ports[k->port[i]].name)
					    : json_integer(n));
	}
	*out = TAKE_PTR(a);
	return 0;
}

void app_checks_free(struct app_spec *spec)
{
	acre_checks_free(spec->checks.c, spec->checks.n);
	acre_checks_free(spec->readiness.c, spec->readiness.n);
	memset(&spec->checks, 0, sizeof(spec->checks));
	memset(&spec->readiness, 0, sizeof(spec->readiness));
}
