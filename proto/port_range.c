/*
 * A node's --port-range, "A-B": read by the supervisor from its flag and
 * by the controller from a node's registration, with the same checks and
 * the same words in the error.
 */
#include "proto.h"

#include <ctype.h>

/* A decimal of 1 to 65535 from *s, advancing it. */
static bool port_number(const char **s, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = *s;
	size_t n = 0;
	for (; isdigit((unsigned char)*p) && n < 6; p++, n++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (n == 0 || n > 5 || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	*s = p;
	return true;
}

int acre_proto_port_range_parse(const char *text, uint16_t *first, uint16_t *last,
				const char *field, struct acre_error *err)
{
	const char *s = text ? text : "";
	uint16_t a, b;
	if (!port_number(&s, &a) || *s++ != '-' || !port_number(&s, &b) || *s)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: expected FIRST-LAST, ports of 1 to 65535 (as in "
				      "%d-%d)",
				      field, text ? text : "", ACRE_PORT_RANGE_FIRST,
				      ACRE_PORT_RANGE_LAST);
	if (a > b)
		return acre_error_set(err, EINVAL, field, "%s %s: the first port is above the last",
				      field, text);
	*first = a;
	*last = b;
	return 0;
}
