/*
 * A node's disk as the pool keeps it: the free bytes a node reports at
 * registration and in heartbeats, shown with the node and read as the most
 * free of the ready nodes; and the removal of a volume on a node, queued
 * for a connected node only, with a bad name refused before anything goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/internal.h"

#define GIB (1ULL << 30)

static int conns[3]; /* stand for connections: the pool only compares them */

static int setup(void **state)
{
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct acre_error err = {0};
	struct pool *p;
	assert_int_equal(pool_open(NULL, &o, &p, &err), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	pool_close(*state);
	return 0;
}

static struct pool_node *join(struct pool *p, const char *id, int *conn, uint64_t disk,
			      uint64_t disk_free)
{
	_cleanup_json_ json_t *attrs = json_object();
	struct pool_registration r = {.id = id,
				      .secret_hash = "00",
				      .hostname = id,
				      .version = "",
				      .address = "test",
				      .cpus = 1000,
				      .memory = GIB,
				      .disk = disk,
				      .disk_free = disk_free,
				      .attributes = attrs};
	struct acre_error err = {0};
	struct pool_node *n;
	if (pool_node_register(p, &r, conn, &n, &err) < 0)
		fail_msg("registering %s: %s", id, err.message);
	pool_node_sync(p, n, NULL, 0, NULL);
	return n;
}

static void heartbeat(struct pool *p, struct pool_node *n, const char *usage_text)
{
	json_error_t jerr;
	_cleanup_json_ json_t *usage = json_loads(usage_text, 0, &jerr);
	assert_non_null(usage);
	pool_node_heartbeat(p, n, NULL, usage);
}

static void test_most_free_of_ready_nodes(void **state)
{
	struct pool *p = *state;
	assert_int_equal(pool_max_disk_free(p), 0); /* no node */
	struct pool_node *a = join(p, "a", &conns[0], 100 * GIB, 5 * GIB);
	struct pool_node *b = join(p, "b", &conns[1], 100 * GIB, 9 * GIB);
	join(p, "c", &conns[2], 0, 0); /* an older node: says nothing */
	assert_int_equal(pool_max_disk_free(p), 9 * GIB);
	/* A heartbeat's figure replaces the registration's; one without it changes nothing. */
	heartbeat(p, a, "{\"slices\": 0, \"disk_free\": 12884901888}");
	assert_int_equal(a->disk_free, 12 * GIB);
	assert_int_equal(pool_max_disk_free(p), 12 * GIB);
	heartbeat(p, a, "{\"slices\": 1}");
	assert_int_equal(a->disk_free, 12 * GIB);
	/* A node not ready does not count. */
	pool_node_set_state(p, a, POOL_NODE_UNREACHABLE, "test");
	assert_int_equal(pool_max_disk_free(p), 9 * GIB);
	pool_node_set_state(p, b, POOL_NODE_DOWN, "test");
	assert_int_equal(pool_max_disk_free(p), 0);
}

static void test_node_json_shows_disk(void **state)
{
	struct pool *p = *state;
	struct pool_node *a = join(p, "a", &conns[0], 100 * GIB, 5 * GIB);
	struct pool_node *c = join(p, "c", &conns[2], 0, 0);
	_cleanup_json_ json_t *ja = pool_node_json(a);
	_cleanup_json_ json_t *jc = pool_node_json(c);
	json_t *cap = json_object_get(ja, "capacity"), *avail = json_object_get(ja, "free");
	assert_int_equal(json_integer_value(json_object_get(cap, "disk")), 100 * GIB);
	assert_int_equal(json_integer_value(json_object_get(avail, "disk")), 5 * GIB);
	/* Unknown is null, never a 0 that reads as a full disk. */
	assert_true(json_is_null(json_object_get(json_object_get(jc, "capacity"), "disk")));
	assert_true(json_is_null(json_object_get(json_object_get(jc, "free"), "disk")));
}

static void test_volume_remove_queued_for_a_connected_node(void **state)
{
	struct pool *p = *state;
	struct pool_node *a = join(p, "a", &conns[0], 0, 0);
	struct acre_error err = {0};
	assert_int_equal(pool_node_volume_remove(p, a, "web-1-data", &err), 0);
	struct pool_outbound *o = pool_outbound_take(p);
	assert_non_null(o);
	assert_int_equal(o->op, POOL_OP_VOLUME_REMOVE);
	assert_ptr_equal(o->node, a);
	assert_string_equal(o->name, "web-1-data");
	assert_null(o->out_next);
	pool_outbound_free(o);
}

static void test_volume_remove_refused(void **state)
{
	struct pool *p = *state;
	struct pool_node *a = join(p, "a", &conns[0], 0, 0);
	struct acre_error err = {0};
	assert_int_equal(pool_node_volume_remove(p, a, "../etc", &err), -EINVAL);
	assert_string_equal(err.field, "volume");
	assert_non_null(strstr(err.message, "../etc"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(pool_node_volume_remove(p, a, "", &err), -EINVAL);
	pool_node_disconnected(p, a, &conns[0]);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pool_node_volume_remove(p, a, "data", &err), -ENOTCONN);
	assert_non_null(strstr(err.message, "node a is not connected"));
	assert_null(pool_outbound_take(p)); /* nothing queued for later */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_most_free_of_ready_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_json_shows_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volume_remove_queued_for_a_connected_node,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_volume_remove_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("pool_disk", tests, NULL, NULL);
}
