/*
 * Placement as users write it: constraints ("zone==a", "rack != r1"),
 * attribute names and values, the strategy, and the "placement" object of
 * the API — good input parsed exactly, bad input refused with an error
 * that names the flag or field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

static void test_constraint_equal_and_not(void **state)
{
	(void)state;
	struct acre_constraint c;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_constraint_parse("zone==a", &c, "--constraint", &err), 0);
	assert_string_equal(c.attr, "zone");
	assert_string_equal(c.value, "a");
	assert_int_equal(c.op, ACRE_CONSTRAINT_EQ);
	assert_int_equal(acre_proto_constraint_parse("rack!=r1", &c, "--constraint", &err), 0);
	assert_string_equal(c.attr, "rack");
	assert_string_equal(c.value, "r1");
	assert_int_equal(c.op, ACRE_CONSTRAINT_NE);
	/* Blanks around the operator are the shell's business, not the attribute's. */
	assert_int_equal(acre_proto_constraint_parse("  node.hostname ==  web 1 ", &c, "x", &err),
			 0);
	assert_string_equal(c.attr, "node.hostname");
	assert_string_equal(c.value, "web 1");
	/* The first operator splits: the value may hold '=' and '!'. */
	assert_int_equal(acre_proto_constraint_parse("k==a==b", &c, "x", &err), 0);
	assert_string_equal(c.value, "a==b");
	assert_int_equal(acre_proto_constraint_parse("k!=x==y", &c, "x", &err), 0);
	assert_int_equal(c.op, ACRE_CONSTRAINT_NE);
	assert_string_equal(c.value, "x==y");
	assert_int_equal(
		acre_proto_constraint_parse("topology.kubernetes.io/zone==eu-1", &c, "x", &err), 0);
	char buf[128];
	acre_proto_constraint_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "topology.kubernetes.io/zone==eu-1");
}

static void check_bad(const char *text, const char *needle)
{
	struct acre_constraint c;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_constraint_parse(text, &c, "--constraint", &err), -EINVAL);
	assert_string_equal(err.field, "--constraint");
	if (!strstr(err.message, needle))
		fail_msg("%s: \"%s\" lacks \"%s\"", text, err.message, needle);
}

static void test_constraint_bad(void **state)
{
	(void)state;
	check_bad("zone=a", "expected ATTR==VALUE");
	check_bad("zone", "expected ATTR==VALUE");
	check_bad("", "expected ATTR==VALUE");
	check_bad("==a", "the attribute must be");
	check_bad("zone==", "the value must be");
	check_bad("zo ne==a", "the attribute must be");
	check_bad("zone$==a", "the attribute must be");
	check_bad("zone==a\tb", "the value must be");
	char longkey[100];
	memset(longkey, 'k', 64);
	snprintf(longkey + 64, sizeof(longkey) - 64, "==v");
	check_bad(longkey, "too long");
	char longval[400];
	snprintf(longval, sizeof(longval), "k==");
	memset(longval + 3, 'v', 300);
	longval[303] = '\0';
	check_bad(longval, "too long");
}

static void test_attribute_names(void **state)
{
	(void)state;
	assert_true(acre_proto_attr_key_valid("zone"));
	assert_true(acre_proto_attr_key_valid("a.b-c_d/e9"));
	assert_false(acre_proto_attr_key_valid(""));
	assert_false(acre_proto_attr_key_valid("a b"));
	assert_false(acre_proto_attr_key_valid("a=b"));
	assert_true(acre_proto_attr_value_valid("eu-west 1"));
	assert_true(acre_proto_attr_value_valid("zürich"));
	assert_false(acre_proto_attr_value_valid(""));
	assert_false(acre_proto_attr_value_valid("a\nb"));
	assert_false(acre_proto_attr_value_valid("\xff\xfe"));
}

static void test_strategy(void **state)
{
	(void)state;
	enum acre_strategy s;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_strategy_parse("spread", &s, &err), 0);
	assert_int_equal(s, ACRE_STRATEGY_SPREAD);
	assert_int_equal(acre_proto_strategy_parse("binpack", &s, &err), 0);
	assert_int_equal(s, ACRE_STRATEGY_BINPACK);
	assert_int_equal(acre_proto_strategy_parse("random", &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "binpack, spread"));
	assert_string_equal(acre_proto_strategy_name(ACRE_STRATEGY_SPREAD), "spread");
}

static json_t *parse_json(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_placement_json(void **state)
{
	(void)state;
	struct acre_placement p;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_placement_from_json(NULL, &p, &err), 0);
	assert_int_equal(p.nconstraints, 0);
	assert_int_equal(p.strategy, ACRE_STRATEGY_BINPACK);
	json_t *j = parse_json("{\"constraints\": [\"zone==a\", \"rack!=r2\"], \"spread\": "
			       "\"rack\", \"unique\": \"zone\", \"strategy\": \"spread\"}");
	assert_int_equal(acre_proto_placement_from_json(j, &p, &err), 0);
	assert_int_equal(p.nconstraints, 2);
	assert_string_equal(p.constraints[1].attr, "rack");
	assert_int_equal(p.constraints[1].op, ACRE_CONSTRAINT_NE);
	assert_string_equal(p.spread, "rack");
	assert_int_equal(p.strategy, ACRE_STRATEGY_SPREAD);
	assert_string_equal(p.unique, "zone");
	assert_string_equal(acre_proto_unique_attr(&p), "zone");
	/* Round trip: what is stored reads back the same. */
	json_t *out = acre_proto_placement_to_json(&p);
	struct acre_placement q;
	assert_int_equal(acre_proto_placement_from_json(out, &q, &err), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	json_decref(out);
	json_decref(j);
	/* "node" is kept as written (it reads back the same) and counts by node.id. */
	j = parse_json("{\"unique\": \"node\"}");
	assert_int_equal(acre_proto_placement_from_json(j, &p, &err), 0);
	assert_string_equal(p.unique, "node");
	assert_string_equal(acre_proto_unique_attr(&p), ACRE_ATTR_NODE_ID);
	out = acre_proto_placement_to_json(&p);
	assert_string_equal(json_string_value(json_object_get(out, "unique")), "node");
	json_decref(out);
	json_decref(j);
	p.unique[0] = '\0';
	assert_null(acre_proto_unique_attr(&p));
	assert_null(acre_proto_unique_attr(NULL));
}

static void check_bad_json(const char *text, const char *field)
{
	struct acre_placement p;
	struct acre_error err = {0};
	json_t *j = parse_json(text);
	assert_int_equal(acre_proto_placement_from_json(j, &p, &err), -EINVAL);
	if (strcmp(err.field, field))
		fail_msg("%s: field \"%s\", wanted \"%s\" (%s)", text, err.field, field,
			 err.message);
	json_decref(j);
}

static void test_placement_json_bad(void **state)
{
	(void)state;
	check_bad_json("[]", "placement");
	check_bad_json("{\"constraint\": []}", "placement");
	check_bad_json("{\"constraints\": \"zone==a\"}", "placement.constraints");
	check_bad_json("{\"constraints\": [\"zone==a\", 3]}", "placement.constraints[1]");
	check_bad_json("{\"constraints\": [\"zone=a\"]}", "placement.constraints[0]");
	check_bad_json("{\"spread\": \"a b\"}", "placement.spread");
	check_bad_json("{\"spread\": 1}", "placement.spread");
	check_bad_json("{\"unique\": \"a b\"}", "placement.unique");
	check_bad_json("{\"unique\": true}", "placement.unique");
	check_bad_json("{\"unique\": \"\"}", "placement.unique");
	check_bad_json("{\"strategy\": \"fast\"}", "placement.strategy");
	check_bad_json("{\"strategy\": null}", "placement.strategy");
	char many[2048] = "{\"constraints\": [";
	for (int i = 0; i < ACRE_PLACEMENT_MAX_CONSTRAINTS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"k%d==v\"",
			 i ? "," : "", i);
	snprintf(many + strlen(many), sizeof(many) - strlen(many), "]}");
	check_bad_json(many, "placement.constraints");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constraint_equal_and_not),
		cmocka_unit_test(test_constraint_bad),
		cmocka_unit_test(test_attribute_names),
		cmocka_unit_test(test_strategy),
		cmocka_unit_test(test_placement_json),
		cmocka_unit_test(test_placement_json_bad),
	};
	return cmocka_run_group_tests_name("proto_placement", tests, NULL, NULL);
}
