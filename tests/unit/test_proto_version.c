/*
 * The node protocol's version negotiation (proto/version.c), for a build
 * that speaks versions 2 and 3: the highest version both sides speak, a
 * node too old or too new refused with both ranges and the side to
 * upgrade named, a range that is none refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* This side as a release that speaks 2 and 3 (the function is built here with them). */
#define ACRE_PROTOCOL_MIN 2
#define ACRE_PROTOCOL_MAX 3
#include "proto/version.c"

static void test_highest_common(void **state)
{
	(void)state;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_negotiate(2, 3, &err), 3);
	assert_int_equal(acre_proto_negotiate(1, 2, &err), 2); /* an older node */
	assert_int_equal(acre_proto_negotiate(3, 5, &err), 3); /* a newer node */
	assert_int_equal(acre_proto_negotiate(1, 9, &err), 3);
}

static void test_no_common_version(void **state)
{
	(void)state;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_negotiate(1, 1, &err), -EOPNOTSUPP);
	assert_string_equal(err.field, "protocol");
	assert_non_null(
		strstr(err.message, "this node speaks 1 to 1, this side 2 to 3: upgrade the node"));
	assert_int_equal(acre_proto_negotiate(4, 5, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.message, "upgrade the controller"));
}

static void test_not_a_range(void **state)
{
	(void)state;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_negotiate(3, 2, &err), -EINVAL);
	assert_int_equal(acre_proto_negotiate(0, 2, &err), -EINVAL);
	assert_non_null(strstr(err.message, "is none"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_highest_common),
		cmocka_unit_test(test_no_common_version),
		cmocka_unit_test(test_not_a_range),
	};
	return cmocka_run_group_tests_name("proto_version", tests, NULL, NULL);
}
