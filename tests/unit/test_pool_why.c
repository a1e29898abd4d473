/*
 * Why something does not run (controller/pool/why.c), on a hand-built pool
 * in memory: every node's reasons grouped and counted, the smallest
 * changes suggested (free room on the closest node, relax the one
 * constraint in the way, wait for a node that is away, add a node), a
 * large pool's groups with a few examples each, a cordoned node, an app's
 * slices unique by zone (the value taken, by which slice, and more slices
 * than zones can never all run); and a pending slice
 * retried later is placed by its bandwidth too, as at its creation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/internal.h"
#include "tmpdir.h"

static int conns[20000]; /* stand for connections: the pool only compares them */

static struct pool *new_pool(void)
{
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct pool *p = NULL;
	struct acre_error err = {0};
	assert_int_equal(pool_open(NULL, &o, &p, &err), 0);
	return p;
}

static struct pool_node *join(struct pool *p, int i, const char *zone, uint32_t millicpus,
			      uint64_t memory, uint64_t net)
{
	char id[32];
	snprintf(id, sizeof(id), "n%d", i);
	_cleanup_json_ json_t *attrs = json_pack("{s:s}", "zone", zone);
	struct pool_registration r = {.id = id,
				      .secret_hash = "00",
				      .hostname = id,
				      .version = "",
				      .address = "test",
				      .cpus = millicpus,
				      .memory = memory,
				      .net = net,
				      .attributes = attrs};
	struct pool_node *n = NULL;
	struct acre_error err = {0};
	assert_int_equal(pool_node_register(p, &r, &conns[i], &n, &err), 0);
	pool_node_sync(p, n, NULL, 0, NULL);
	return n;
}

static struct pool_slice *create(struct pool *p, const char *spec_text, const char *placement_text)
{
	json_error_t jerr;
	_cleanup_json_ json_t *spec = json_loads(spec_text, 0, &jerr);
	assert_non_null(spec);
	struct acre_placement placement;
	struct acre_error err = {0};
	_cleanup_json_ json_t *pj = placement_text ? json_loads(placement_text, 0, &jerr) : NULL;
	assert_int_equal(acre_proto_placement_from_json(pj, &placement, &err), 0);
	struct pool_slice *sl = NULL;
	if (pool_slice_create(p, spec, &placement, &sl, &err) < 0)
		fail_msg("creating a slice: %s", err.message);
	pool_commit(p);
	return sl;
}

/* The group of reason `kind`, or NULL. */
static json_t *reason(json_t *why, const char *kind)
{
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(why, "reasons"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "reason")), kind))
			return r;
	return NULL;
}

static json_int_t count_of(json_t *why, const char *kind)
{
	json_t *r = reason(why, kind);
	return r ? json_integer_value(json_object_get(r, "nodes")) : 0;
}

/* The first suggestion that starts with `prefix`, or NULL. */
static const char *suggestion(json_t *why, const char *prefix)
{
	size_t i;
	json_t *s;
	json_array_foreach (json_object_get(why, "suggestions"), i, s)
		if (!strncmp(json_string_value(s), prefix, strlen(prefix)))
			return json_string_value(s);
	return NULL;
}

static void test_room_and_a_constraint(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	join(p, 2, "a", 1000, 2ULL << 30, 0);
	join(p, 3, "b", 4000, 8ULL << 30, 0);
	create(p, "{\"name\": \"fill-1\", \"command\": [\"true\"], \"resources\": {\"cpus\": 1.5}}",
	       "{\"constraints\": [\"node.id==n1\"]}");
	create(p, "{\"name\": \"fill-2\", \"command\": [\"true\"], \"resources\": {\"cpus\": 0.8}}",
	       "{\"constraints\": [\"node.id==n2\"]}");
	struct pool_slice *w = create(
		p, "{\"name\": \"wants\", \"command\": [\"true\"], \"resources\": {\"cpus\": 1}}",
		"{\"constraints\": [\"zone==a\"]}");
	assert_int_equal(w->state, ACRE_SLICE_PENDING);
	_cleanup_json_ json_t *why = pool_why_slice(p, w);
	assert_non_null(why);
	assert_string_equal(json_string_value(json_object_get(why, "state")), "pending");
	assert_int_equal(json_integer_value(json_object_get(why, "nodes")), 3);
	assert_int_equal(json_integer_value(json_object_get(why, "fit")), 0);
	assert_int_equal(count_of(why, "not enough cpus"), 2);
	assert_int_equal(count_of(why, "constraint zone==a"), 1);
	/* Most nodes first. */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(why, "reasons"), 0), "reason")),
			    "not enough cpus");
	json_t *ex = json_object_get(reason(why, "constraint zone==a"), "examples");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "node")),
			    "n3");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "detail")),
			    "node is zone=b");
	/* Every node's own list, in a small pool: n1 has 0.5 free. */
	size_t i;
	json_t *bn;
	bool saw_n1 = false;
	json_array_foreach (json_object_get(why, "by_node"), i, bn) {
		if (strcmp(json_string_value(json_object_get(bn, "node")), "n1"))
			continue;
		saw_n1 = true;
		json_t *r0 = json_array_get(json_object_get(bn, "reasons"), 0);
		assert_string_equal(json_string_value(json_object_get(r0, "detail")),
				    "has 0.5 free, needs 1");
	}
	assert_true(saw_n1);
	/* The closest by its capacity: n1 lacks a quarter, n2 most of its one CPU. */
	assert_non_null(suggestion(why, "free 0.5 cpus on node n1"));
	assert_non_null(suggestion(why, "relax constraint zone==a: 1 node would take it"));
	assert_null(suggestion(why, "add a node"));
	pool_close(p);
}

static void test_nothing_could_ever(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	join(p, 2, "b", 4000, 8ULL << 30, 0);
	struct acre_placement pl;
	struct acre_error err = {0};
	_cleanup_json_ json_t *pj = json_pack("{s:[s]}", "constraints", "zone==a");
	assert_int_equal(acre_proto_placement_from_json(pj, &pl, &err), 0);
	struct pool_why_request r = {.cpus = 8000, .mem = 16ULL << 30, .placement = &pl};
	_cleanup_json_ json_t *why = pool_why(p, &r);
	assert_non_null(why);
	assert_int_equal(json_integer_value(json_object_get(why, "could_ever")), 0);
	assert_int_equal(count_of(why, "not enough cpus"), 2);
	assert_int_equal(count_of(why, "not enough memory"), 2);
	assert_int_equal(count_of(why, "constraint zone==a"), 1);
	const char *detail = json_string_value(json_object_get(
		json_array_get(json_object_get(reason(why, "not enough memory"), "examples"), 0),
		"detail"));
	assert_non_null(strstr(detail, "needs 16"));
	/* n1 is zone a but short of room; n2 has no zone a: no change of one node is enough. */
	const char *add = suggestion(why, "add a node");
	assert_non_null(add);
	assert_non_null(strstr(add, "8 cpus"));
	assert_non_null(strstr(add, "16G of memory"));
	assert_non_null(strstr(add, "zone=a"));
	pool_close(p);
}

static void test_a_node_away(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 1000, 1ULL << 30, 0);
	struct pool_node *big = join(p, 2, "a", 8000, 8ULL << 30, 0);
	pool_node_disconnected(p, big, big->conn);
	pool_commit(p);
	struct pool_why_request r = {.cpus = 4000};
	_cleanup_json_ json_t *why = pool_why(p, &r);
	assert_int_equal(count_of(why, "node is disconnected"), 1);
	assert_int_equal(count_of(why, "not enough cpus"), 1);
	assert_non_null(
		suggestion(why, "1 node not ready (n2: disconnected) would take it once back"));
	pool_close(p);
}

static void test_cordoned(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 1000, 1ULL << 30, 0);
	struct pool_node *big = join(p, 2, "a", 8000, 8ULL << 30, 0);
	pool_node_cordon(p, big, true);
	pool_commit(p);
	struct pool_slice *sl = create(
		p, "{\"name\": \"wide\", \"command\": [\"true\"], \"resources\": {\"cpus\": 4}}",
		NULL);
	assert_int_equal(sl->state, ACRE_SLICE_PENDING);
	_cleanup_json_ json_t *why = pool_why_slice(p, sl);
	assert_int_equal(count_of(why, "node is cordoned"), 1);
	assert_non_null(suggestion(why, "uncordon node n2: it would take it"));
	/* Uncordoned: the pending slice goes there at the next pass. */
	pool_node_cordon(p, big, false);
	pool_commit(p);
	assert_non_null(sl->node);
	assert_string_equal(sl->node->id, "n2");
	pool_close(p);
}

static void test_fits_now(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	struct pool_why_request r = {.cpus = 500};
	_cleanup_json_ json_t *why = pool_why(p, &r);
	assert_int_equal(json_integer_value(json_object_get(why, "fit")), 1);
	assert_int_equal(json_array_size(json_object_get(why, "reasons")), 0);
	assert_non_null(suggestion(why, "1 node would take it now"));
	pool_close(p);
}

/* 10,000 nodes: groups with five examples each, no per-node list. */
static void test_a_large_pool(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	for (int i = 1; i <= 10000; i++)
		join(p, i, i % 2 ? "a" : "b", 2000, 4ULL << 30, 0);
	pool_commit(p);
	_cleanup_json_ json_t *pj = json_pack("{s:[s]}", "constraints", "zone==a");
	struct acre_placement pl;
	struct acre_error err = {0};
	assert_int_equal(acre_proto_placement_from_json(pj, &pl, &err), 0);
	struct pool_why_request r = {.cpus = 3000, .placement = &pl};
	uint64_t t0 = acre_monotonic_ns();
	_cleanup_json_ json_t *why = pool_why(p, &r);
	uint64_t ms = (acre_monotonic_ns() - t0) / 1000000;
	print_message("why over 10,000 nodes: %llu ms\n", (unsigned long long)ms);
	assert_int_equal(count_of(why, "not enough cpus"), 10000);
	assert_int_equal(count_of(why, "constraint zone==a"), 5000);
	assert_int_equal(
		json_array_size(json_object_get(reason(why, "not enough cpus"), "examples")), 5);
	assert_null(json_object_get(why, "by_node"));
	assert_non_null(suggestion(why, "add a node with at least 3 cpus and attribute zone=a"));
	pool_close(p);
}

/* A pending slice tried again is placed by its bandwidth too. */
static void test_retry_places_by_bandwidth(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 4000, 4ULL << 30, 100000000); /* 100 Mbit/s */
	create(p,
	       "{\"name\": \"first\", \"command\": [\"true\"], \"network\": {\"mode\": "
	       "\"bridge\"}, \"resources\": {\"net_rate\": \"80mbit\"}}",
	       NULL);
	struct pool_slice *second =
		create(p,
		       "{\"name\": \"second\", \"command\": [\"true\"], \"network\": {\"mode\": "
		       "\"bridge\"}, \"resources\": {\"net_rate\": \"50mbit\"}}",
		       NULL);
	assert_int_equal(second->state, ACRE_SLICE_PENDING);
	/* Room appears, but not bandwidth enough: it waits. */
	join(p, 2, "a", 4000, 4ULL << 30, 10000000); /* 10 Mbit/s */
	pool_commit(p);
	assert_int_equal(second->state, ACRE_SLICE_PENDING);
	_cleanup_json_ json_t *why = pool_why_slice(p, second);
	assert_int_equal(count_of(why, "not enough bandwidth"), 2);
	join(p, 3, "a", 4000, 4ULL << 30, 1000000000);
	pool_commit(p);
	assert_non_null(second->node);
	assert_string_equal(second->node->id, "n3");
	pool_close(p);
}

static struct pool_slice *create_web(struct pool *p, int i, const char *labels)
{
	char spec[256];
	snprintf(spec, sizeof(spec),
		 "{\"name\": \"web-%d\", \"command\": [\"true\"], \"labels\": %s}", i, labels);
	return create(p, spec, "{\"unique\": \"zone\"}");
}

static void test_unique_zone(void **state)
{
	(void)state;
	struct pool *p = new_pool();
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	join(p, 2, "b", 2000, 4ULL << 30, 0);
	join(p, 3, "a", 2000, 4ULL << 30, 0);
	/* acre.app groups an app's instances; a plain "app" label is only the fallback. */
	struct pool_slice *w1 = create_web(p, 1, "{\"acre.app\": \"web\"}");
	struct pool_slice *w2 = create_web(p, 2, "{\"acre.app\": \"web\", \"app\": \"x\"}");
	struct pool_slice *w3 = create_web(p, 3, "{\"acre.app\": \"web\"}");
	assert_non_null(w1->node);
	assert_non_null(w2->node);
	assert_string_not_equal(sched_node_attr(&w1->node->sn, "zone"),
				sched_node_attr(&w2->node->sn, "zone"));
	assert_int_equal(w3->state, ACRE_SLICE_PENDING);
	if (!strstr(w3->reason, "unique zone"))
		fail_msg("reason: %s", w3->reason);
	/* Another app's slice, unique by zone as well, is not held back by web's. */
	assert_non_null(create_web(p, 4, "{\"app\": \"api\"}")->node);
	_cleanup_json_ json_t *why = pool_why_slice(p, w3);
	assert_non_null(why);
	assert_int_equal(count_of(why, "unique zone"), 3);
	json_t *ex = json_object_get(reason(why, "unique zone"), "examples");
	size_t i;
	json_t *e;
	json_array_foreach (ex, i, e) {
		/* n2 is zone b, n1 and n3 zone a: each names the slice in its zone. */
		const char *node = json_string_value(json_object_get(e, "node"));
		const char *zone = !strcmp(node, "n2") ? "b" : "a";
		bool w1_here = !strcmp(sched_node_attr(&w1->node->sn, "zone"), zone);
		char want[64];
		snprintf(want, sizeof(want), "zone=%s already runs %s", zone,
			 w1_here ? "web-1" : "web-2");
		assert_string_equal(json_string_value(json_object_get(e, "detail")), want);
	}
	json_t *u = json_object_get(why, "unique");
	assert_string_equal(json_string_value(json_object_get(u, "attr")), "zone");
	assert_int_equal(json_integer_value(json_object_get(u, "values")), 2);
	assert_int_equal(json_integer_value(json_object_get(u, "slices")), 3);
	assert_non_null(suggestion(why,
				   "3 slices of app web are unique by zone, and the nodes "
				   "they may use have 2 values of zone: at most 2 can ever run"));
	assert_non_null(suggestion(why, "remove web-"));
	assert_null(suggestion(why, "add a node with at least any room"));
	/* Removing web-1 frees its zone: web-3 runs there. */
	const char *zone1 = sched_node_attr(&w1->node->sn, "zone");
	char zone[8];
	snprintf(zone, sizeof(zone), "%s", zone1);
	pool_slice_delete(p, w1);
	pool_commit(p);
	assert_non_null(w3->node);
	assert_string_equal(sched_node_attr(&w3->node->sn, "zone"), zone);
	pool_close(p);
}

static struct pool *open_stored(const char *dir, struct store **st)
{
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct pool *p = NULL;
	struct acre_error err = {0};
	assert_int_equal(store_open(dir, st, &err), 0);
	if (pool_open(*st, &o, &p, &err) < 0)
		fail_msg("opening the pool: %s", err.message);
	return p;
}

/* The placement (unique included) and the group are stored: a restart holds the same values. */
static void test_unique_survives_restart(void **state)
{
	struct tmp *t = *state;
	struct store *st = NULL;
	struct pool *p = open_stored(t->path, &st);
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	join(p, 2, "a", 2000, 4ULL << 30, 0);
	assert_non_null(create_web(p, 1, "{\"acre.app\": \"web\"}")->node);
	assert_null(create_web(p, 2, "{\"acre.app\": \"web\"}")->node);
	pool_close(p);
	store_close(st);

	p = open_stored(t->path, &st);
	struct pool_slice *w1 = pool_slice_find(p, "web-1"), *w2 = pool_slice_find(p, "web-2");
	assert_non_null(w1);
	assert_non_null(w1->placement);
	assert_string_equal(w1->placement->unique, "zone");
	assert_string_equal(w1->group, "web");
	assert_int_equal(sched_unique_get(p->sched, "web", "zone", "a"), 1);
	join(p, 1, "a", 2000, 4ULL << 30, 0);
	join(p, 2, "a", 2000, 4ULL << 30, 0);
	pool_commit(p);
	assert_null(w2->node); /* zone a is still web-1's */
	assert_int_equal(w2->state, ACRE_SLICE_PENDING);
	pool_close(p);
	store_close(st);
}

static int tmp_up(void **state)
{
	return tmp_setup(state, "pool-why");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_and_a_constraint),
		cmocka_unit_test(test_nothing_could_ever),
		cmocka_unit_test(test_a_node_away),
		cmocka_unit_test(test_cordoned),
		cmocka_unit_test(test_fits_now),
		cmocka_unit_test(test_a_large_pool),
		cmocka_unit_test(test_retry_places_by_bandwidth),
		cmocka_unit_test(test_unique_zone),
		cmocka_unit_test_setup_teardown(test_unique_survives_restart, tmp_up, tmp_teardown),
	};
	return cmocka_run_group_tests_name("pool_why", tests, NULL, NULL);
}
