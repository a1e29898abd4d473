/*
 * Placement as users write it: constraints on node attributes
 * ("zone==a", "rack!=r1"), an attribute to spread over, one to keep its
 * group's slices apart by (unique: "node" or an attribute), and a strategy.
 * Parsed the same way for `acre slice run --constraint` and for the
 * "placement" object of POST /v1/slices, so both word errors alike.
 */
#include "proto.h"

#include <ctype.h>

static const char *const strategy_names[] = {"binpack", "spread"};

bool acre_proto_attr_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > ACRE_ATTR_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (!isalnum(c) && !strchr(".-_/:", c))
			return false;
	}
	return true;
}

bool acre_proto_attr_value_valid(const char *value)
{
	size_t n = strlen(value);
	if (n == 0 || n > ACRE_ATTR_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return false;
	return acre_str_is_utf8(value, n);
}

/* Copies s[0..n) without the blanks at either end; false when it does not fit. */
static bool trimmed(char *out, size_t cap, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

int acre_proto_constraint_parse(const char *text, struct acre_constraint *c, const char *field,
				struct acre_error *err)
{
	memset(c, 0, sizeof(*c));
	const char *eq = strstr(text, "=="), *ne = strstr(text, "!=");
	const char *op = eq && (!ne || eq < ne) ? eq : ne;
	if (!op)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: expected ATTR==VALUE or ATTR!=VALUE", field, text);
	c->op = op == eq ? ACRE_CONSTRAINT_EQ : ACRE_CONSTRAINT_NE;
	size_t klen = (size_t)(op - text), vlen = strlen(op + 2);
	if (!trimmed(c->attr, sizeof(c->attr), text, klen) ||
	    !trimmed(c->value, sizeof(c->value), op + 2, vlen))
		return acre_error_set(err, EINVAL, field,
				      "%s: attribute (at most %d) or value (at most %d) too long",
				      field, ACRE_ATTR_KEY_MAX, ACRE_ATTR_VALUE_MAX);
	if (!acre_proto_attr_key_valid(c->attr))
		return acre_error_set(err, EINVAL, field,
				      "%s %s: the attribute must be 1 to %d letters, digits, "
				      "'.', '-', '_', '/' or ':'",
				      field, text, ACRE_ATTR_KEY_MAX);
	if (!acre_proto_attr_value_valid(c->value))
		return acre_error_set(err, EINVAL, field,
				      "%s %s: the value must be 1 to %d printable characters",
				      field, text, ACRE_ATTR_VALUE_MAX);
	return 0;
}

void acre_proto_constraint_format(const struct acre_constraint *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->attr, c->op == ACRE_CONSTRAINT_EQ ? "==" : "!=", c->value);
}

int acre_proto_strategy_parse(const char *text, enum acre_strategy *out, struct acre_error *err)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(strategy_names); i++) {
		if (strcmp(text, strategy_names[i]) == 0) {
			*out = (enum acre_strategy)i;
			return 0;
		}
	}
	return acre_error_set(err, EINVAL, "strategy", "strategy %s: one of binpack, spread", text);
}

const char *acre_proto_strategy_name(enum acre_strategy s)
{
	return (size_t)s < ACRE_ARRAY_SIZE(strategy_names) ? strategy_names[s] : "?";
}

const char *acre_proto_unique_attr(const struct acre_placement *p)
{
	if (!p || !p->unique[0])
		return NULL;
	return strcmp(p->unique, ACRE_UNIQUE_NODE) == 0 ? ACRE_ATTR_NODE_ID : p->unique;
}

static int parse_constraints(const json_t *j, struct acre_placement *p, struct acre_error *err)
{
	if (!json_is_array(j))
		return acre_error_set(err, EINVAL, "placement.constraints",
				      "placement.constraints: must be an array of strings like "
				      "\"zone==a\"");
	if (json_array_size(j) > ACRE_PLACEMENT_MAX_CONSTRAINTS)
		return acre_error_set(err, EINVAL, "placement.constraints",
				      "placement.constraints: at most %d",
				      ACRE_PLACEMENT_MAX_CONSTRAINTS);
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		char field[64];
		snprintf(field, sizeof(field), "placement.constraints[%zu]", i);
		if (!json_is_string(v))
			return acre_error_set(err, EINVAL, field, "%s: must be a string", field);
		int rc = acre_proto_constraint_parse(json_string_value(v),
						     &p->constraints[p->nconstraints], field, err);
		if (rc < 0)
			return rc;
		p->nconstraints++;
	}
	return 0;
}

int acre_proto_placement_from_json(const json_t *j, struct acre_placement *p,
				   struct acre_error *err)
{
	memset(p, 0, sizeof(*p));
	p->strategy = ACRE_STRATEGY_BINPACK;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "placement", "placement: must be an object");
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)j, key, v) {
		int rc = 0;
		if (!strcmp(key, "constraints")) {
			rc = parse_constraints(v, p, err);
		} else if (!strcmp(key, "spread")) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v) || !acre_proto_attr_key_valid(json_string_value(v)))
				return acre_error_set(
					err, EINVAL, "placement.spread",
					"placement.spread: must be an attribute name");
			snprintf(p->spread, sizeof(p->spread), "%s", json_string_value(v));
		} else if (!strcmp(key, "unique")) {
			if (json_is_null(v))
				continue;
			/* "node" is an attribute name too; a NUL inside is not. */
			if (!json_is_string(v) ||
			    strlen(json_string_value(v)) != json_string_length(v) ||
			    !acre_proto_attr_key_valid(json_string_value(v)))
				return acre_error_set(err, EINVAL, "placement.unique",
						      "placement.unique: \"node\" or an attribute "
						      "name (\"zone\")");
			snprintf(p->unique, sizeof(p->unique), "%s", json_string_value(v));
		} else if (!strcmp(key, "strategy")) {
			if (!json_is_string(v))
				return acre_error_set(err, EINVAL, "placement.strategy",
						      "placement.strategy: binpack or spread");
			rc = acre_proto_strategy_parse(json_string_value(v), &p->strategy, err);
			if (rc < 0)
				snprintf(err->field, sizeof(err->field), "placement.strategy");
		} else {
			return acre_error_set(err, EINVAL, "placement",
					      "placement.%s: unknown field", key);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

json_t *acre_proto_placement_to_json(const struct acre_placement *p)
{
	json_t *cons = json_array();
	for (unsigned i = 0; i < p->nconstraints; i++) {
		char buf[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 4];
		acre_proto_constraint_format(&p->constraints[i], buf, sizeof(buf));
		json_array_append_new(cons, json_string(buf));
	}
	json_t *j = json_pack("{s:o,s:s}", "constraints", cons, "strategy",
			      acre_proto_strategy_name(p->strategy));
	if (j && p->spread[0])
		json_object_set_new(j, "spread", json_string(p->spread));
	if (j && p->unique[0])
		json_object_set_new(j, "unique", json_string(p->unique));
	return j;
}
