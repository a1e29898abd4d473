/*
 * An app's instances as the pool takes them: the slice specs that
 * app_instance_spec makes are created through the pool's own verb, on a
 * pool in memory with one node, named APP-N, found by their acre.app
 * label, in the DNS group APP.acre and behind one virtual IP; and a name
 * already taken in .acre refuses an instance as it would any slice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/apps/apps.h"
#include "controller/pool/pool.h"

static const char web[] = "{\"name\": \"web\", \"instances\": 3,"
			  " \"slice\": {\"command\": [\"/bin/web\"],"
			  "           \"resources\": {\"cpus\": 0.1, \"memory\": \"64M\"},"
			  "           \"network\": {\"mode\": \"bridge\"}},"
			  " \"ports\": [\"http:8080\"], \"vip\": true,"
			  " \"checks\": [{\"kind\": \"http\", \"port\": \"http\"}]}";

static struct pool *pool_with_node(void)
{
	struct pool *p;
	struct pool_node *n;
	struct acre_error err = {0};
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(NULL, &o, &p, &err), 0);
	struct pool_registration r = {.id = "n1",
				      .secret_hash = "00",
				      .hostname = "h1",
				      .version = "",
				      .address = "test",
				      .cpus = 64000,
				      .memory = 1ULL << 40};
	static int conn; /* stands for a connection: the pool only compares it */
	assert_int_equal(pool_node_register(p, &r, &conn, &n, &err), 0);
	pool_node_sync(p, n, NULL, 0, NULL);
	return p;
}

static int count(struct pool_slice *sl, void *ud)
{
	(void)sl;
	(*(int *)ud)++;
	return 0;
}

static void test_instances_in_the_pool(void **state)
{
	(void)state;
	struct pool *p = pool_with_node();
	struct app_spec s;
	struct acre_error err = {0};
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loads(web, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(app_spec_parse(j, &s, &err), 0);
	struct pool_slice *sl[3];
	for (unsigned i = 0; i < 3; i++) {
		_cleanup_json_ json_t *spec = NULL;
		assert_int_equal(app_instance_spec(&s, i, 1, NULL, &spec, &err), 0);
		if (pool_slice_create(p, spec, &s.placement, &sl[i], &err) < 0)
			fail_msg("instance %u refused by the pool: %s (%s)", i, err.message,
				 err.field);
	}
	assert_string_equal(sl[2]->name, "web-2");
	assert_string_equal(pool_slice_label(sl[1], APP_LABEL_APP), "web");
	assert_string_equal(pool_slice_label(sl[1], ACRE_LABEL_SERVICE), "web");
	/* One virtual IP for the group, the same for every member. */
	assert_int_not_equal(sl[0]->vip, 0);
	assert_int_equal(sl[0]->vip, sl[2]->vip);
	struct pool_label_filter f = {0};
	assert_int_equal(pool_label_filter_add(&f, "acre.app=web", &err), 0);
	int n = 0;
	pool_slices_labelled(p, &f, count, &n);
	assert_int_equal(n, 3);
	/* A second start of instance 1 while it exists: refused, one name runs once. */
	_cleanup_json_ json_t *again = NULL;
	struct pool_slice *dup;
	assert_int_equal(app_instance_spec(&s, 1, 2, NULL, &again, &err), 0);
	assert_int_equal(pool_slice_create(p, again, &s.placement, &dup, &err), -EEXIST);
	app_spec_free(&s);
	pool_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instances_in_the_pool),
	};
	return cmocka_run_group_tests_name("app instances in the pool", tests, NULL, NULL);
}
