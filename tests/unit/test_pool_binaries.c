/*
 * Host binaries as node attributes (controller/pool/node_binaries.c): a
 * bin:PATH constraint makes the pool ask every connected node for PATH
 * (binaries.check, queued for after the commit) and each node that
 * registers later; a node's answer becomes its attribute bin:PATH=true, and
 * a slice pending for it is then placed (a binary no node has yet is no
 * refusal); a node that registers again loses its bin: attributes until it
 * answers again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/internal.h"

#define GIB	(1ULL << 30)
#define REDIS	"/usr/bin/redis-server"
#define REDIS_A "bin:" REDIS

static int conns[2]; /* stand for connections: the pool only compares them */

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

static struct pool_node *join(struct pool *p, const char *id, int *conn)
{
	_cleanup_json_ json_t *attrs = json_pack("{s:s}", "zone", "a");
	struct pool_registration r = {.id = id,
				      .secret_hash = "00",
				      .hostname = id,
				      .version = "",
				      .address = "test",
				      .cpus = 4000,
				      .memory = 4 * GIB,
				      .attributes = attrs};
	struct acre_error err = {0};
	struct pool_node *n;
	if (pool_node_register(p, &r, conn, &n, &err) < 0)
		fail_msg("registering %s: %s", id, err.message);
	pool_node_sync(p, n, NULL, 0, NULL);
	return n;
}

/* The binaries.check messages queued, as "node:path" in order; the queue is emptied. */
static void expect_asked(struct pool *p, const char *want)
{
	char got[512] = "";
	size_t len = 0;
	struct pool_outbound *o = pool_outbound_take(p);
	while (o) {
		struct pool_outbound *next = o->out_next;
		if (o->op == POOL_OP_BINARIES_CHECK)
			len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s:%s",
						len ? " " : "", o->node->id, o->name);
		pool_outbound_free(o);
		o = next;
	}
	assert_string_equal(got, want);
}

static int try_create(struct pool *p, const char *name, const char *constraint,
		      struct pool_slice **sl, struct acre_error *err)
{
	struct acre_placement pl = {0};
	assert_int_equal(
		acre_proto_constraint_parse(constraint, &pl.constraints[0], "constraint", err), 0);
	pl.nconstraints = 1;
	_cleanup_json_ json_t *spec = json_pack("{s:s,s:[s]}", "name", name, "command", "true");
	return pool_slice_create(p, spec, &pl, sl, err);
}

static struct pool_slice *create(struct pool *p, const char *name, const char *constraint)
{
	struct pool_slice *sl;
	struct acre_error err = {0};
	if (try_create(p, name, constraint, &sl, &err) < 0)
		fail_msg("creating %s: %s", name, err.message);
	return sl;
}

static void test_asked_and_placed_where_present(void **state)
{
	struct pool *p = *state;
	struct pool_node *a = join(p, "a", &conns[0]);
	expect_asked(p, ""); /* nothing named yet */
	struct pool_slice *sl = create(p, "cache-1", REDIS_A "==true");
	expect_asked(p, "a:" REDIS);
	assert_null(sl->node);
	assert_int_equal(sl->state, ACRE_SLICE_PENDING);

	struct pool_node *b = join(p, "b", &conns[1]);
	expect_asked(p, "b:" REDIS); /* a node that comes is asked what was named */
	create(p, "cache-2", REDIS_A "==true");
	expect_asked(p, ""); /* named already */

	pool_node_binary_result(p, a, REDIS, false);
	assert_null(json_object_get(a->attributes, REDIS_A));
	pool_node_binary_result(p, b, REDIS, true);
	assert_string_equal(json_string_value(json_object_get(b->attributes, REDIS_A)), "true");
	assert_string_equal(json_string_value(json_object_get(b->attributes, "zone")), "a");
	assert_true(p->retry_pending);
	pool_place_retry_pending(p);
	assert_ptr_equal(sl->node, b);

	/* Registered again: its description is what it declares, and it is asked again. */
	join(p, "b", &conns[1]);
	assert_null(json_object_get(b->attributes, REDIS_A));
	expect_asked(p, "b:" REDIS);
	pool_node_binary_result(p, b, REDIS, true);
	pool_node_binary_result(p, b, REDIS, false); /* uninstalled since */
	assert_null(json_object_get(b->attributes, REDIS_A));
}

/*
 * A path named for the first time: what asks for it waits for every node
 * asked to answer, not the first one (an app spread over three nodes ran
 * all on the node that answered first).
 */
static void test_placed_once_every_node_answered(void **state)
{
	struct pool *p = *state;
	struct pool_node *a = join(p, "a", &conns[0]);
	struct pool_node *b = join(p, "b", &conns[1]);
	struct pool_slice *sl = create(p, "cache-1", REDIS_A "==true");
	expect_asked(p, "b:" REDIS " a:" REDIS); /* in the node map's order */
	assert_null(sl->node);
	assert_non_null(
		strstr(sl->reason, "waiting for the nodes to say whether they have " REDIS));

	pool_node_binary_result(p, a, REDIS, true);
	pool_place_retry_pending(p);
	assert_null(sl->node); /* b has not answered */
	pool_node_binary_result(p, b, REDIS, true);
	assert_true(p->retry_pending);
	pool_place_retry_pending(p);
	assert_non_null(sl->node);
}

static void test_other_constraints_ask_nothing(void **state)
{
	struct pool *p = *state;
	join(p, "a", &conns[0]);
	create(p, "web-1", "zone==a");
	/* Not a path: an attribute like any, which no node has, so refused. */
	struct pool_slice *sl;
	struct acre_error err = {0};
	assert_int_equal(try_create(p, "web-2", "bin:relative==true", &sl, &err), -E2BIG);
	assert_string_equal(err.field, "placement");
	expect_asked(p, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_asked_and_placed_where_present, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_placed_once_every_node_answered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_constraints_ask_nothing, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("pool_binaries", tests, NULL, NULL);
}
