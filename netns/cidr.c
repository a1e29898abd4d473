/*
 * IPv4 networks as acre's flags write them ("198.18.0.0/15"): strict parsing
 * (a typo must not become some other network), formatting, and the
 * arithmetic the bridge and the IPAM need.  Pure: no kernel, no libnl.
 */
#include "netns.h"

#include <ctype.h>

/* One decimal octet, no sign, no leading zero (inet_aton would read "010" as octal). */
static int parse_octet(const char **p, uint32_t *out)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	if (s[0] == '0' && isdigit((unsigned char)s[1]))
		return -EINVAL;
	uint32_t v = 0;
	int n = 0;
	for (; isdigit((unsigned char)*s); s++) {
		if (++n > 3)
			return -EINVAL;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	if (v > 255)
		return -EINVAL;
	*out = v;
	*p = s;
	return 0;
}

/* Parses a dotted quad at *p and leaves *p after it. */
static int parse_quad(const char **p, uint32_t *addr)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t o;
		if (i > 0) {
			if (**p != '.')
				return -EINVAL;
			(*p)++;
		}
		if (parse_octet(p, &o) < 0)
			return -EINVAL;
		a = (a << 8) | o;
	}
	*addr = a;
	return 0;
}

int acre_cidr_addr_parse(const char *s, uint32_t *addr)
{
	if (!s)
		return -EINVAL;
	const char *p = s;
	uint32_t a;
	if (parse_quad(&p, &a) < 0 || *p)
		return -EINVAL;
	*addr = a;
	return 0;
}

uint32_t acre_cidr_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix);
}

struct acre_cidr acre_cidr_of(uint32_t addr, uint8_t prefix)
{
	if (prefix > 32)
		prefix = 32;
	return (struct acre_cidr){.network = addr & acre_cidr_mask(prefix), .prefix = prefix};
}

int acre_cidr_parse(const char *s, struct acre_cidr *out, struct acre_error *err, const char *field)
{
	if (!field)
		field = "CIDR";
	if (!s || !*s)
		return acre_error_set(err, EINVAL, field, "%s: empty CIDR (use e.g. 10.88.0.0/16)",
				      field);
	const char *p = s;
	uint32_t addr;
	if (parse_quad(&p, &addr) < 0)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: not an IPv4 network (use e.g. 10.88.0.0/16)", field,
				      s);
	if (*p != '/')
		return acre_error_set(err, EINVAL, field,
				      "%s %s: missing the /prefix (use e.g. 10.88.0.0/16)", field,
				      s);
	p++;
	if (!isdigit((unsigned char)*p) || (p[0] == '0' && p[1]) || strlen(p) > 2)
		return acre_error_set(err, EINVAL, field, "%s %s: the prefix must be 0 to 32",
				      field, s);
	unsigned prefix = 0;
	for (; isdigit((unsigned char)*p); p++)
		prefix = prefix * 10 + (unsigned)(*p - '0');
	if (*p || prefix > 32)
		return acre_error_set(err, EINVAL, field, "%s %s: the prefix must be 0 to 32",
				      field, s);
	struct acre_cidr c = acre_cidr_of(addr, (uint8_t)prefix);
	if (c.network != addr) {
		char want[ACRE_CIDR_STRLEN];
		acre_cidr_format(&c, want, sizeof(want));
		return acre_error_set(err, EINVAL, field,
				      "%s %s: host bits are set (the network is %s)", field, s,
				      want);
	}
	*out = c;
	return 0;
}

void acre_cidr_addr_format(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void acre_cidr_format(const struct acre_cidr *c, char *buf, size_t len)
{
	char a[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(c->network, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}

uint32_t acre_cidr_broadcast(const struct acre_cidr *c)
{
	return c->network | ~acre_cidr_mask(c->prefix);
}

uint32_t acre_cidr_gateway(const struct acre_cidr *c)
{
	return c->network + 1;
}

bool acre_cidr_contains(const struct acre_cidr *c, uint32_t addr)
{
	return (addr & acre_cidr_mask(c->prefix)) == c->network;
}

bool acre_cidr_overlaps(const struct acre_cidr *a, const struct acre_cidr *b)
{
	/* Two prefixes overlap exactly when the shorter one contains the other's network. */
	uint8_t shorter = a->prefix < b->prefix ? a->prefix : b->prefix;
	uint32_t m = acre_cidr_mask(shorter);
	return (a->network & m) == (b->network & m);
}

int acre_cidr_check_subnet(const struct acre_cidr *c, struct acre_error *err, const char *field)
{
	if (!field)
		field = "subnet";
	char s[ACRE_CIDR_STRLEN];
	acre_cidr_format(c, s, sizeof(s));
	if (c->prefix < 8 || c->prefix > 30)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: a slice subnet must be /8 to /30 (a gateway and at "
				      "least one slice)",
				      field, s);
	/* Networks the kernel or IP itself gives another meaning. */
	static const struct {
		uint32_t network;
		uint8_t prefix;
		const char *what;
	} reserved[] = {
		{0x00000000, 8, "0.0.0.0/8 (this network)"},
		{0x7f000000, 8, "127.0.0.0/8 (loopback)"},
		{0xa9fe0000, 16, "169.254.0.0/16 (link-local)"},
		{0xe0000000, 4, "224.0.0.0/4 (multicast)"},
		{0xf0000000, 4, "240.0.0.0/4 (reserved)"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(reserved); i++) {
		struct acre_cidr r = {reserved[i].network, reserved[i].prefix};
		if (acre_cidr_overlaps(c, &r))
			return acre_error_set(err, EINVAL, field, "%s %s: overlaps %s", field, s,
					      reserved[i].what);
	}
	return 0;
}
