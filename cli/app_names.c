/*
 * The names of apps, as `acre app` checks them before anything is sent:
 * an app's (a DNS label of at most 56, so that APP-999999 still is one),
 * its ports' (IANA service names, RFC 6335 section 5.1: they become DNS
 * SRV services and PORT_<NAME> variables), a port's text ("http",
 * "http:8080", "dns:53/udp") and an instance's ("web-2"), with the rules
 * the controller uses (common/names.c), which checks the rest of the
 * spec; checking here names the flag.  Pure.
 */
#include "cli.h"

#include <ctype.h>

/* 1..65535 in decimal and nothing else. */
static bool port_number(const char *s, size_t n)
{
	unsigned long v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

int cli_app_port_parse(const char *text, const char *flag, char *name, size_t len,
		       struct acre_error *err)
{
	size_t n = strcspn(text, ":/");
	const char *num = text[n] == ':' ? text + n + 1 : NULL;
	const char *proto = strchr(text, '/');
	if (num && proto && proto < num)
		num = NULL;
	if (proto && strcmp(proto + 1, "tcp") && strcmp(proto + 1, "udp"))
		return acre_error_set(err, EINVAL, flag, "%s %s: the protocol is tcp or udp", flag,
				      text);
	if (num && !port_number(num, proto ? (size_t)(proto - num) : strlen(num)))
		return acre_error_set(err, EINVAL, flag, "%s %s: the port must be 1 to 65535", flag,
				      text);
	char buf[ACRE_PORT_NAME_MAX + 2];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), text);
	if (n >= sizeof(buf) || !acre_port_name_valid(buf) || (!num && text[n] == ':'))
		return acre_error_set(err, EINVAL, flag,
				      "%s %s: expected NAME[:PORT][/udp], NAME 1 to %d lower-case "
				      "letters, digits or '-' (with a letter, no '-' first, last "
				      "or twice in a row), as in http, http:8080 or dns:53/udp",
				      flag, text, ACRE_PORT_NAME_MAX);
	snprintf(name, len, "%s", buf);
	return 0;
}

int cli_app_instance_parse(const char *text, char *app, size_t len, unsigned *index,
			   struct acre_error *err)
{
	const char *dash = strrchr(text, '-');
	char *end;
	errno = 0;
	unsigned long v = dash && isdigit((unsigned char)dash[1]) ? strtoul(dash + 1, &end, 10) : 0;
	if (!dash || !isdigit((unsigned char)dash[1]) || *end || errno || v >= 1000000 ||
	    (size_t)(dash - text) >= len)
		return acre_error_set(err, EINVAL, "instance",
				      "%s: expected an app's instance, APP-N (web-2)", text);
	snprintf(app, len, "%.*s", (int)(dash - text), text);
	if (!acre_app_name_valid(app))
		return acre_error_set(err, EINVAL, "instance",
				      "%s: expected an app's instance, APP-N (web-2)", text);
	*index = (unsigned)v;
	return 0;
}
