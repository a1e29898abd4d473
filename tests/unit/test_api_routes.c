/*
 * The HTTP API's route table: a method and path find their route and its
 * {parameters}; a path no route has is 404; a path that routes have for
 * other methods is 405 with the methods that would do, in a stable order.
 * Checked on a table of its own and on the API's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/api/api.h"

#include <event2/http.h>

static const struct api_route table[] = {
	{EVHTTP_REQ_GET, "/healthz", NULL, true},
	{EVHTTP_REQ_GET, "/v1/things", NULL, false},
	{EVHTTP_REQ_POST, "/v1/things", NULL, false},
	{EVHTTP_REQ_GET, "/v1/things/{id}", NULL, false},
	{EVHTTP_REQ_DELETE, "/v1/things/{id}", NULL, false},
	{EVHTTP_REQ_POST, "/v1/things/{id}/kill", NULL, false},
	{EVHTTP_REQ_GET, "/v1/a/{x}/b/{y}", NULL, false},
};
#define N ACRE_ARRAY_SIZE(table)

static int match(int method, const char *path, const struct api_route **r, struct api_params *p,
		 char *allow)
{
	return api_route_match(table, N, method, path, r, p, allow, 64);
}

static void test_literal_paths(void **state)
{
	(void)state;
	const struct api_route *r;
	struct api_params p;
	char allow[64];
	assert_int_equal(match(EVHTTP_REQ_GET, "/healthz", &r, &p, allow), 0);
	assert_ptr_equal(r, &table[0]);
	assert_true(r->public);
	assert_int_equal(p.n, 0);
	assert_int_equal(match(EVHTTP_REQ_POST, "/v1/things", &r, &p, allow), 0);
	assert_ptr_equal(r, &table[2]);
	assert_int_equal(match(EVHTTP_REQ_GET, "/v1/things", &r, &p, allow), 0);
	assert_ptr_equal(r, &table[1]);
}

static void test_parameters(void **state)
{
	(void)state;
	const struct api_route *r;
	struct api_params p;
	char allow[64];
	assert_int_equal(match(EVHTTP_REQ_POST, "/v1/things/web-1/kill", &r, &p, allow), 0);
	assert_ptr_equal(r, &table[5]);
	assert_int_equal(p.n, 1);
	assert_string_equal(api_param(&p, "id"), "web-1");
	assert_null(api_param(&p, "i"));
	assert_null(api_param(&p, "idx"));
	assert_int_equal(match(EVHTTP_REQ_DELETE, "/v1/things/x.y_z", &r, &p, allow), 0);
	assert_ptr_equal(r, &table[4]);
	assert_string_equal(api_param(&p, "id"), "x.y_z");
	assert_int_equal(match(EVHTTP_REQ_GET, "/v1/a/1/b/two", &r, &p, allow), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(api_param(&p, "x"), "1");
	assert_string_equal(api_param(&p, "y"), "two");
	/* At most API_PARAM_MAX bytes: a longer segment matches nothing. */
	char path[400];
	snprintf(path, sizeof(path), "/v1/things/%0*d", API_PARAM_MAX, 0);
	assert_int_equal(match(EVHTTP_REQ_GET, path, &r, &p, allow), 0);
	assert_int_equal(strlen(api_param(&p, "id")), API_PARAM_MAX);
	snprintf(path, sizeof(path), "/v1/things/%0*d", API_PARAM_MAX + 1, 0);
	assert_int_equal(match(EVHTTP_REQ_GET, path, &r, &p, allow), -ENOENT);
}

static void test_unknown_paths_are_404(void **state)
{
	(void)state;
	const struct api_route *r;
	struct api_params p;
	char allow[64];
	const char *paths[] = {"/",
			       "/v1",
			       "/v1/nothing",
			       "/v1/things/",
			       "//v1/things",
			       "/v1/things/a/b",
			       "/v1/things//kill",
			       "/v1/thingsx",
			       "/healthz/x",
			       "/v1/a/1/b",
			       "/v1/a//b/2"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(paths); i++) {
		r = (void *)1;
		assert_int_equal(match(EVHTTP_REQ_GET, paths[i], &r, &p, allow), -ENOENT);
		assert_null(r);
	}
}

static void test_wrong_method_is_405_with_allow(void **state)
{
	(void)state;
	const struct api_route *r;
	struct api_params p;
	char allow[64];
	assert_int_equal(match(EVHTTP_REQ_PUT, "/v1/things", &r, &p, allow), -EOPNOTSUPP);
	assert_null(r);
	assert_string_equal(allow, "GET, POST");
	assert_int_equal(match(EVHTTP_REQ_PATCH, "/v1/things/t1", &r, &p, allow), -EOPNOTSUPP);
	assert_string_equal(allow, "GET, DELETE");
	assert_int_equal(match(EVHTTP_REQ_GET, "/v1/things/t1/kill", &r, &p, allow), -EOPNOTSUPP);
	assert_string_equal(allow, "POST");
	assert_int_equal(match(EVHTTP_REQ_DELETE, "/healthz", &r, &p, allow), -EOPNOTSUPP);
	assert_string_equal(allow, "GET");
}

/* The API's own table: every route is found by its own method and path. */
static void test_the_api_table(void **state)
{
	(void)state;
	const struct api_route *r;
	struct api_params p;
	char allow[64], path[128];
	for (size_t i = 0; i < api_nroutes; i++) {
		snprintf(path, sizeof(path), "%s", api_routes[i].pattern);
		char *brace = strchr(path, '{');
		if (brace) /* one parameter at most, in the API's table */
			snprintf(brace, sizeof(path) - (size_t)(brace - path), "x1%s",
				 strchr(api_routes[i].pattern, '}') + 1);
		assert_int_equal(api_route_match(api_routes, api_nroutes, api_routes[i].method,
						 path, &r, &p, allow, sizeof(allow)),
				 0);
		assert_ptr_equal(r, &api_routes[i]);
		assert_non_null(r->handler);
		/* Without a token: health, and bundled artifacts for the nodes (by their sum). */
		assert_int_equal(r->public, !strcmp(r->pattern, "/healthz") ||
						    !strcmp(r->pattern, "/v1/artifacts/{sha256}"));
	}
	assert_int_equal(api_route_match(api_routes, api_nroutes, EVHTTP_REQ_DELETE, "/v1/nodes",
					 &r, &p, allow, sizeof(allow)),
			 -EOPNOTSUPP);
	assert_string_equal(allow, "GET");
	assert_int_equal(api_route_match(api_routes, api_nroutes, EVHTTP_REQ_PUT, "/v1/slices/s",
					 &r, &p, allow, sizeof(allow)),
			 -EOPNOTSUPP);
	assert_string_equal(allow, "GET, DELETE");
	assert_int_equal(api_route_match(api_routes, api_nroutes, EVHTTP_REQ_GET, "/v1/nope", &r,
					 &p, allow, sizeof(allow)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_paths),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_unknown_paths_are_404),
		cmocka_unit_test(test_wrong_method_is_405_with_allow),
		cmocka_unit_test(test_the_api_table),
	};
	return cmocka_run_group_tests_name("api_routes", tests, NULL, NULL);
}
