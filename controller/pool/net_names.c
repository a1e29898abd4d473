/*
 * Names in .acre, and the ports a group's virtual IP serves: what a
 * slice's name and its acre.service and acre.vip.ports labels must be
 * before the slice may exist.  Every running bridged slice is NAME.acre
 * and every group GROUP.acre, in one namespace compared without case, so
 * both must be DNS labels (RFC 1123 section 2.1: letters, digits and
 * hyphens, 63 at most, no hyphen first or last).  Pure code.
 */
#include "net_internal.h"

#include <ctype.h>

bool pool_dns_label_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pool_dns_lower(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n + 1 > len)
		return false;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	return true;
}

#define FIELD "spec.labels." ACRE_LABEL_VIP_PORTS

/* One "[NAME:]PORT/PROTO". */
static int parse_one(const char *s, size_t len, struct pool_vip_port *out, struct acre_error *err)
{
	char item[64];
	if (len == 0 || len >= sizeof(item))
		return acre_error_set(err, EINVAL, FIELD,
				      FIELD ": each port is [NAME:]PORT/tcp or [NAME:]PORT/udp, "
					    "separated by commas (\"80/tcp,53/udp\")");
	memcpy(item, s, len);
	item[len] = '\0';
	*out = (struct pool_vip_port){0};
	char *port = item, *colon = strchr(item, ':');
	if (colon) {
		*colon = '\0';
		port = colon + 1;
		if (!pool_dns_label_valid(item) || strlen(item) >= sizeof(out->service))
			return acre_error_set(err, EINVAL, FIELD,
					      FIELD
					      ": service name \"%s\": 1 to 15 letters, digits "
					      "or '-'",
					      item);
		snprintf(out->service, sizeof(out->service), "%s", item);
	}
	char *slash = strchr(port, '/');
	if (!slash)
		return acre_error_set(err, EINVAL, FIELD,
				      FIELD ": \"%s\" names no protocol (PORT/tcp or PORT/udp)",
				      port);
	*slash = '\0';
	const char *proto = slash + 1;
	if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
		return acre_error_set(err, EINVAL, FIELD, FIELD ": protocol \"%s\": tcp or udp",
				      proto);
	char *end;
	unsigned long n = strtoul(port, &end, 10);
	if (!*port || *end || port[0] < '0' || port[0] > '9' || n == 0 || n > 65535)
		return acre_error_set(err, EINVAL, FIELD, FIELD ": port \"%s\": 1 to 65535", port);
	out->port = (uint16_t)n;
	out->udp = proto[0] == 'u';
	if (!colon)
		snprintf(out->service, sizeof(out->service), "%u", out->port);
	return 0;
}

int pool_vip_ports_parse(const char *s, struct pool_vip_port *out, size_t *n,
			 struct acre_error *err)
{
	*n = 0;
	for (const char *p = s;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (*n == POOL_VIP_PORTS_MAX)
			return acre_error_set(err, EINVAL, FIELD, FIELD ": at most %d ports",
					      POOL_VIP_PORTS_MAX);
		int rc = parse_one(p, len, &out[*n], err);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < *n; i++)
			if (out[i].port == out[*n].port && out[i].udp == out[*n].udp)
				return acre_error_set(err, EINVAL, FIELD,
						      FIELD ": port %u/%s given twice", out[i].port,
						      out[i].udp ? "udp" : "tcp");
		(*n)++;
		if (!comma)
			return 0;
		p = comma;
	}
}
