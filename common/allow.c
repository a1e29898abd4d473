/*
 * `--allow CIDR[:PORT]` rules, parsed once for everyone: the CLI and the
 * spec validate them before anything is created, and bpf/ turns them into
 * the connect policy the kernel enforces.
 */
#include "common.h"

#include <arpa/inet.h>
#include <sys/socket.h>

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535 || *s == '+' || *s == '-')
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static bool host_bits_clear(const struct acre_allow *a)
{
	size_t bytes = a->family == AF_INET ? 4 : 16;
	for (size_t bit = a->prefix_len; bit < bytes * 8; bit++)
		if (a->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* "ADDR[/LEN]" into out's family, addr and prefix_len. */
static int parse_prefix(char *s, struct acre_allow *out)
{
	char *slash = strchr(s, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, s, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, s, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = out->family == AF_INET ? 32 : 128;
	out->prefix_len = (uint8_t)max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > max || slash[1] == '+' ||
		    slash[1] == '-')
			return -EINVAL;
		out->prefix_len = (uint8_t)len;
	}
	return 0;
}

int acre_allow_parse(const char *s, struct acre_allow *out, struct acre_error *err)
{
	char buf[128];
	if (!s || strlen(s) >= sizeof(buf))
		return acre_error_set(err, EINVAL, NULL, "allow rule %s: too long", s ? s : "");
	snprintf(buf, sizeof(buf), "%s", s);
	*out = (struct acre_allow){0};
	char *prefix = buf, *port = NULL;
	if (buf[0] == '[') {
		/* [IPv6[/LEN]][:PORT]: brackets are how an IPv6 address takes a port. */
		char *close = strchr(buf, ']');
		if (!close || (close[1] && close[1] != ':'))
			return acre_error_set(err, EINVAL, NULL,
					      "allow rule %s: expected [IPV6[/LEN]]:PORT", s);
		*close = 0;
		prefix = buf + 1;
		port = close[1] ? close + 2 : NULL;
	} else {
		char *colon = strchr(buf, ':');
		/* One colon: IPv4 with a port.  More: a bare IPv6 prefix, no port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = 0;
			port = colon + 1;
		}
	}
	if (parse_prefix(prefix, out) < 0)
		return acre_error_set(err, EINVAL, NULL,
				      "allow rule %s: expected CIDR[:PORT], as 198.18.0.0/15:5201 "
				      "or [2001:db8::/32]:443",
				      s);
	if (buf[0] == '[' && out->family != AF_INET6)
		return acre_error_set(err, EINVAL, NULL,
				      "allow rule %s: brackets are for IPv6 addresses", s);
	if (port && parse_port(port, &out->port) < 0)
		return acre_error_set(err, EINVAL, NULL, "allow rule %s: port must be 1-65535", s);
	if (!host_bits_clear(out))
		return acre_error_set(err, EINVAL, NULL,
				      "allow rule %s: the address has bits set beyond the /%u "
				      "prefix",
				      s, out->prefix_len);
	return 0;
}
