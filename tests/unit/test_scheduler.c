/*
 * The scheduler: filtering (room in both dimensions, constraints, nodes
 * that take no placements), scoring (binpack fills the fullest node that
 * fits, spread the emptiest), --spread over attribute values, unique by
 * node and by zone (a value taken until its slice leaves), the errors
 * that tell "no room now" from "never", and the index itself — a pool of
 * 10,000 nodes is placed into without visiting more than a handful of
 * nodes per placement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/pool/sched_internal.h"

#define GIB (1024ULL * 1024 * 1024)

struct pool {
	struct sched *s;
	struct sched_node *nodes;
	struct sched_attr (*attrs)[3];
	char (*ids)[32];
	size_t n;
};

/* n nodes of `cpus` CPUs and `mem` bytes; node i is in zone z(i % zones), rack r(i / 2). */
static struct pool *pool_new(size_t n, uint32_t cpus, uint64_t mem, unsigned zones)
{
	static const char *const zone_names[] = {"a", "b", "c", "d"};
	static const char *const rack_names[] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
	struct pool *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->s = sched_new();
	p->nodes = calloc(n, sizeof(*p->nodes));
	p->attrs = calloc(n, sizeof(*p->attrs));
	p->ids = calloc(n, sizeof(*p->ids));
	p->n = n;
	assert_non_null(p->s);
	for (size_t i = 0; i < n; i++) {
		snprintf(p->ids[i], sizeof(p->ids[i]), "n%zu", i);
		p->attrs[i][0] = (struct sched_attr){"node.id", p->ids[i]};
		p->attrs[i][1] = (struct sched_attr){"zone", zone_names[i % zones]};
		p->attrs[i][2] = (struct sched_attr){"rack", rack_names[(i / 2) % 8]};
		p->nodes[i] = (struct sched_node){.id = p->ids[i],
						  .cap_cpus = cpus,
						  .cap_mem = mem,
						  .attrs = p->attrs[i],
						  .nattrs = 3};
		assert_int_equal(sched_node_add(p->s, &p->nodes[i]), 0);
		assert_int_equal(sched_node_set_eligible(p->s, &p->nodes[i], true), 0);
	}
	return p;
}

static void pool_free(struct pool *p)
{
	sched_free(p->s);
	free(p->nodes);
	free(p->attrs);
	free(p->ids);
	free(p);
}

static size_t index_of(struct pool *p, struct sched_node *n)
{
	return (size_t)(n - p->nodes);
}

/* Places and reserves; returns the node's index, or -errno. */
static long place(struct pool *p, uint32_t cpus, uint64_t mem, const struct acre_placement *pl,
		  const char *group)
{
	struct sched_request r = {
		.cpus = cpus, .mem = mem, .placement = pl, .group = group, .check_capacity = true};
	struct sched_node *n;
	struct acre_error err = {0};
	int rc = sched_place(p->s, &r, &n, &err);
	if (rc < 0) {
		assert_true(err.message[0] != '\0');
		return rc;
	}
	sched_reserve(p->s, n, cpus, mem, pl ? pl->strategy : ACRE_STRATEGY_BINPACK);
	if (pl && pl->spread[0])
		sched_spread_count(p->s, group, pl->spread, n, +1);
	if (acre_proto_unique_attr(pl))
		sched_unique_count(p->s, group, acre_proto_unique_attr(pl), n, +1);
	return (long)index_of(p, n);
}

/* What the pool does when a unique slice leaves its node (removed, lost). */
static void leave(struct pool *p, long at, const struct acre_placement *pl, const char *group)
{
	sched_release(p->s, &p->nodes[at], 100, 0);
	sched_unique_count(p->s, group, acre_proto_unique_attr(pl), &p->nodes[at], -1);
}

static struct acre_placement placement(enum acre_strategy st, const char *spread,
				       const char *const *constraints)
{
	struct acre_placement pl = {.strategy = st};
	if (spread)
		snprintf(pl.spread, sizeof(pl.spread), "%s", spread);
	for (; constraints && *constraints; constraints++)
		assert_int_equal(acre_proto_constraint_parse(*constraints,
							     &pl.constraints[pl.nconstraints++],
							     "test", NULL),
				 0);
	return pl;
}

static void test_binpack_fills_one_node_first(void **state)
{
	(void)state;
	struct pool *p = pool_new(3, 4000, 8 * GIB, 1);
	unsigned count[3] = {0};
	for (int i = 0; i < 6; i++) {
		long at = place(p, 1000, GIB, NULL, "");
		assert_true(at >= 0);
		count[at]++;
	}
	/* One node full (4), the next holds the rest (2), the third is untouched. */
	unsigned sorted[3] = {count[0], count[1], count[2]};
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (sorted[j] > sorted[i]) {
				unsigned t = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	assert_int_equal(sorted[0], 4);
	assert_int_equal(sorted[1], 2);
	assert_int_equal(sorted[2], 0);
	pool_free(p);
}

static void test_binpack_prefers_the_fullest_that_fits(void **state)
{
	(void)state;
	struct pool *p = pool_new(3, 4000, 8 * GIB, 1);
	/* Node 1 is nearly full, node 2 half full: a small slice goes to node 1. */
	sched_reserve(p->s, &p->nodes[1], 3500, 7 * GIB, ACRE_STRATEGY_BINPACK);
	sched_reserve(p->s, &p->nodes[2], 2000, 4 * GIB, ACRE_STRATEGY_BINPACK);
	assert_int_equal(place(p, 500, 512 << 20, NULL, ""), 1);
	/* Node 1 is now full: a 1-CPU slice goes to node 2, the fuller of the rest. */
	assert_int_equal(place(p, 1000, GIB, NULL, ""), 2);
	pool_free(p);
}

static void test_spread_strategy_evens_out(void **state)
{
	(void)state;
	struct pool *p = pool_new(3, 4000, 8 * GIB, 1);
	struct acre_placement pl = placement(ACRE_STRATEGY_SPREAD, NULL, NULL);
	unsigned count[3] = {0};
	for (int i = 0; i < 9; i++) {
		long at = place(p, 500, 256 << 20, &pl, "");
		assert_true(at >= 0);
		count[at]++;
	}
	assert_int_equal(count[0], 3);
	assert_int_equal(count[1], 3);
	assert_int_equal(count[2], 3);
	pool_free(p);
}

static void test_constraints_filter(void **state)
{
	(void)state;
	struct pool *p = pool_new(6, 4000, 8 * GIB, 3); /* zones a b c a b c */
	static const char *const in_b[] = {"zone==b", NULL};
	static const char *const not_a[] = {"zone!=a", NULL};
	static const char *const b_and_r2[] = {"zone==b", "rack==r2", NULL};
	struct acre_placement eq = placement(ACRE_STRATEGY_SPREAD, NULL, in_b);
	struct acre_placement ne = placement(ACRE_STRATEGY_SPREAD, NULL, not_a);
	struct acre_placement both = placement(ACRE_STRATEGY_BINPACK, NULL, b_and_r2);
	for (int i = 0; i < 6; i++) {
		long at = place(p, 100, 0, &eq, "");
		assert_true(at == 1 || at == 4);
	}
	for (int i = 0; i < 8; i++) {
		long at = place(p, 100, 0, &ne, "");
		assert_true(at >= 0);
		assert_string_not_equal(sched_node_attr(&p->nodes[at], "zone"), "a");
	}
	/* zone b and rack r2: node 4 alone (rack of node i is r(i/2)). */
	for (int i = 0; i < 3; i++)
		assert_int_equal(place(p, 100, 0, &both, ""), 4);
	pool_free(p);
}

static void test_fit_needs_both_dimensions(void **state)
{
	(void)state;
	struct pool *p = pool_new(2, 4000, 8 * GIB, 1);
	sched_reserve(p->s, &p->nodes[0], 0, 7 * GIB, ACRE_STRATEGY_BINPACK); /* CPUs, no memory */
	sched_reserve(p->s, &p->nodes[1], 3900, 0, ACRE_STRATEGY_BINPACK);    /* memory, no CPUs */
	assert_false(sched_node_fits(&p->nodes[0], 500, 2 * GIB));
	assert_true(sched_node_fits(&p->nodes[0], 500, 512 << 20));
	assert_int_equal(place(p, 500, 2 * GIB, NULL, ""), -ENOSPC);
	assert_int_equal(place(p, 500, 512 << 20, NULL, ""), 0);
	assert_int_equal(place(p, 50, 2 * GIB, NULL, ""), 1);
	pool_free(p);
}

static void test_no_room_versus_never(void **state)
{
	(void)state;
	struct pool *p = pool_new(2, 2000, 4 * GIB, 2);
	static const char *const nowhere[] = {"zone==z", NULL};
	struct acre_placement pl = placement(ACRE_STRATEGY_BINPACK, NULL, nowhere);
	struct sched_request r = {.cpus = 8000, .mem = GIB, .group = "", .check_capacity = true};
	struct sched_node *n;
	struct acre_error err = {0};
	/* More CPUs than any node has: never, and the error names the resources. */
	assert_int_equal(sched_place(p->s, &r, &n, &err), -E2BIG);
	assert_string_equal(err.field, "resources");
	assert_non_null(strstr(err.message, "more than any node has"));
	/* A constraint no node matches: never, naming the placement. */
	r.cpus = 100;
	r.placement = &pl;
	assert_int_equal(sched_place(p->s, &r, &n, &err), -E2BIG);
	assert_string_equal(err.field, "placement");
	/* Fits a node's capacity, but the pool is full: no room now. */
	sched_reserve(p->s, &p->nodes[0], 2000, 0, ACRE_STRATEGY_BINPACK);
	sched_reserve(p->s, &p->nodes[1], 2000, 0, ACRE_STRATEGY_BINPACK);
	r.placement = NULL;
	assert_int_equal(sched_place(p->s, &r, &n, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "no node has room"));
	/* Room again once a slice ends. */
	sched_release(p->s, &p->nodes[1], 1000, 0);
	assert_int_equal(sched_place(p->s, &r, &n, &err), 0);
	assert_ptr_equal(n, &p->nodes[1]);
	pool_free(p);
}

static void test_ineligible_nodes_take_nothing(void **state)
{
	(void)state;
	struct pool *p = pool_new(3, 4000, 8 * GIB, 3);
	static const char *const in_a[] = {"zone==a", NULL};
	struct acre_placement pl = placement(ACRE_STRATEGY_BINPACK, NULL, in_a);
	assert_int_equal(place(p, 100, 0, &pl, ""), 0); /* builds the zone==a group */
	assert_int_equal(sched_node_set_eligible(p->s, &p->nodes[0], false), 0);
	assert_int_equal(sched_eligible_count(p->s), 2);
	assert_int_equal(place(p, 100, 0, &pl, ""), -ENOSPC);
	for (int i = 0; i < 20; i++)
		assert_int_not_equal(place(p, 100, 0, NULL, ""), 0);
	/* Back: it rejoins the groups it was in, the lazily built one too. */
	assert_int_equal(sched_node_set_eligible(p->s, &p->nodes[0], true), 0);
	assert_int_equal(place(p, 100, 0, &pl, ""), 0);
	/* Forgotten: gone from the capacity check as well. */
	sched_node_forget(p->s, &p->nodes[0]);
	struct sched_request r = {
		.cpus = 100, .placement = &pl, .group = "", .check_capacity = true};
	struct sched_node *n;
	assert_int_equal(sched_place(p->s, &r, &n, NULL), -E2BIG);
	pool_free(p);
}

static void test_spread_over_attribute(void **state)
{
	(void)state;
	struct pool *p = pool_new(4, 8000, 16 * GIB, 2); /* zones a b a b */
	struct acre_placement pl = placement(ACRE_STRATEGY_BINPACK, "zone", NULL);
	unsigned per_zone[2] = {0};
	for (int i = 0; i < 10; i++) {
		long at = place(p, 100, 0, &pl, "web");
		assert_true(at >= 0);
		per_zone[at % 2]++;
	}
	assert_int_equal(per_zone[0], 5);
	assert_int_equal(per_zone[1], 5);
	assert_int_equal(sched_spread_get(p->s, "web", "zone", "a"), 5);
	/* Another app is counted apart: it starts even again. */
	assert_int_equal(sched_spread_get(p->s, "db", "zone", "a"), 0);
	/* Within a zone binpack still applies: the first node of zone a took all five. */
	unsigned on_zero = 0;
	for (int i = 0; i < 4; i++)
		on_zero += p->nodes[i].used_cpus == 500;
	assert_int_equal(on_zero, 2);
	/* When zone a is full, spread places in b rather than fail. */
	sched_reserve(p->s, &p->nodes[0], 8000 - p->nodes[0].used_cpus, 0, ACRE_STRATEGY_BINPACK);
	sched_reserve(p->s, &p->nodes[2], 8000 - p->nodes[2].used_cpus, 0, ACRE_STRATEGY_BINPACK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(place(p, 100, 0, &pl, "web") % 2, 1);
	pool_free(p);
}

static void test_unique_node(void **state)
{
	(void)state;
	struct pool *p = pool_new(2, 8000, 16 * GIB, 2);
	struct acre_placement pl = placement(ACRE_STRATEGY_BINPACK, NULL, NULL);
	snprintf(pl.unique, sizeof(pl.unique), "node");
	/* Binpack would put both on one node; unique node keeps them apart. */
	long first = place(p, 100, 0, &pl, "u"), second = place(p, 100, 0, &pl, "u");
	assert_true(first >= 0 && second >= 0);
	assert_int_not_equal(first, second);
	assert_int_equal(sched_unique_get(p->s, "u", "node.id", p->ids[first]), 1);
	/* A third has room on either node but no node of its own: no room now, not never. */
	struct sched_request r = {
		.cpus = 100, .placement = &pl, .group = "u", .check_capacity = true};
	struct sched_node *n;
	struct acre_error err = {0};
	assert_int_equal(sched_place(p->s, &r, &n, &err), -ENOSPC);
	if (!strstr(err.message, "unique node") || !strstr(err.message, "app u"))
		fail_msg("reason: %s", err.message);
	/* Another app, or a slice not placed unique, is not held back by u's. */
	assert_true(place(p, 100, 0, &pl, "v") >= 0);
	assert_true(place(p, 100, 0, NULL, "u") >= 0);
	/* Its node freed: it goes there. */
	leave(p, first, &pl, "u");
	assert_int_equal(place(p, 100, 0, &pl, "u"), first);
	pool_free(p);
}

static void test_unique_zone(void **state)
{
	(void)state;
	struct pool *p = pool_new(4, 8000, 16 * GIB, 2); /* zones a b a b */
	struct acre_placement pl = placement(ACRE_STRATEGY_BINPACK, NULL, NULL);
	snprintf(pl.unique, sizeof(pl.unique), "zone");
	long a = place(p, 100, 0, &pl, "db"), b = place(p, 100, 0, &pl, "db");
	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a % 2, b % 2); /* one per zone */
	assert_int_equal(sched_unique_get(p->s, "db", "zone", "a"), 1);
	assert_int_equal(sched_unique_get(p->s, "db", "zone", "b"), 1);
	/* Four nodes, two zones: the third waits, though two nodes are empty. */
	assert_int_equal(place(p, 100, 0, &pl, "db"), -ENOSPC);
	/* Zone b freed: the third goes to a node of zone b, either one. */
	long in_b = a % 2 ? a : b;
	leave(p, in_b, &pl, "db");
	assert_int_equal(sched_unique_get(p->s, "db", "zone", "b"), 0);
	long c = place(p, 100, 0, &pl, "db");
	assert_true(c >= 0);
	assert_int_equal(c % 2, 1);
	/* A node without the attribute never takes a unique-by-zone slice. */
	struct sched_node bare = p->nodes[0];
	bare.nattrs = 1; /* node.id only */
	assert_false(sched_node_matches(&bare, &pl));
	assert_true(sched_node_matches(&p->nodes[0], &pl));
	pool_free(p);
}

static void test_bucket_bitmap(void **state)
{
	(void)state;
	struct sched_group g = {0};
	const enum sched_dim C = SCHED_CPU, M = SCHED_MEM;
	assert_int_equal(sched_next_nonempty(&g, C, 0), -1);
	assert_int_equal(sched_prev_nonempty(&g, C, SCHED_BUCKETS - 1), -1);
	g.nonempty[C][0] = 1ULL << 5;
	g.nonempty[C][2] = 1ULL << 63;
	g.nonempty[M][3] = 1ULL;
	assert_int_equal(sched_next_nonempty(&g, C, 0), 5);
	assert_int_equal(sched_next_nonempty(&g, C, 5), 5);
	assert_int_equal(sched_next_nonempty(&g, C, 6), 191);
	assert_int_equal(sched_next_nonempty(&g, C, 192), -1);
	assert_int_equal(sched_next_nonempty(&g, C, SCHED_BUCKETS), -1);
	assert_int_equal(sched_prev_nonempty(&g, C, 255), 191);
	assert_int_equal(sched_prev_nonempty(&g, C, 190), 5);
	assert_int_equal(sched_prev_nonempty(&g, C, 4), -1);
	assert_int_equal(sched_prev_nonempty(&g, C, -1), -1);
	assert_int_equal(sched_next_nonempty(&g, M, 0), 192);
	assert_int_equal(sched_prev_nonempty(&g, M, 191), -1);
	/* Buckets grow with the amount, eight to a doubling, 0 for nothing. */
	assert_int_equal(sched_bucket_of_amount(0), 0);
	assert_int_equal(sched_bucket_of_amount(1), 1);
	assert_int_equal(sched_bucket_of_amount(2), 9);
	assert_int_equal(sched_bucket_of_amount(3), 13);
	assert_int_equal(sched_bucket_of_amount(8), 25);
	assert_int_equal(sched_bucket_of_amount(9), 26);
	unsigned last = 0;
	for (uint64_t v = 1; v < (1ULL << 40); v = v * 17 / 16 + 1) {
		unsigned b = sched_bucket_of_amount(v);
		assert_true(b >= last);
		assert_true(b < SCHED_BUCKETS);
		last = b;
	}
	struct sched_node n = {.cap_cpus = 1000, .cap_mem = 1ULL << 30};
	assert_int_equal(sched_bucket_of(&n, C), sched_bucket_of_amount(1000));
	assert_int_equal(sched_bucket_of(&n, M), sched_bucket_of_amount(1024));
	n.used_cpus = 1000;
	assert_int_equal(sched_bucket_of(&n, C), 0);
	n.used_cpus = 1200; /* over-committed by what the node runs alone */
	assert_int_equal(sched_bucket_of(&n, C), 0);
	n.used_cpus = 500;
	assert_int_equal(sched_bucket_of(&n, C), sched_bucket_of_amount(500));
}

/* The property the pool depends on: placements do not scan the pool. */
static void test_ten_thousand_nodes_few_visits(void **state)
{
	(void)state;
	const size_t nodes = 10000, slices = 200000;
	struct pool *p = pool_new(nodes, 32000, 128 * GIB, 4);
	struct acre_placement spread = placement(ACRE_STRATEGY_SPREAD, NULL, NULL);
	static const char *const in_c[] = {"zone==c", NULL};
	struct acre_placement zc = placement(ACRE_STRATEGY_BINPACK, NULL, in_c);
	for (size_t i = 0; i < slices; i++) {
		const struct acre_placement *pl = i % 3 == 0 ? NULL : i % 3 == 1 ? &spread : &zc;
		long at = place(p, 100, 64 << 20, pl, "");
		assert_true(at >= 0);
		if (pl == &zc)
			assert_string_equal(sched_node_attr(&p->nodes[at], "zone"), "c");
	}
	const struct sched_stats *st = sched_get_stats(p->s);
	assert_int_equal(st->placements, slices);
	/* A handful per placement, not thousands. */
	print_message("visited %.2f nodes per placement\n", (double)st->visited / (double)slices);
	assert_true(st->visited / slices <= 8);
	/* And the room is all accounted: every reservation landed on some node. */
	uint64_t used = 0;
	for (size_t i = 0; i < nodes; i++)
		used += p->nodes[i].used_cpus;
	assert_int_equal(used, (uint64_t)slices * 100);
	pool_free(p);
}

static void test_full_pool_fails_fast(void **state)
{
	(void)state;
	struct pool *p = pool_new(5000, 1000, GIB, 1);
	for (size_t i = 0; i < 5000; i++)
		sched_reserve(p->s, &p->nodes[i], 1000, 0, ACRE_STRATEGY_BINPACK);
	uint64_t before = sched_get_stats(p->s)->visited;
	struct sched_request r = {.cpus = 100, .group = ""};
	struct sched_node *n;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sched_place(p->s, &r, &n, NULL), -ENOSPC);
	/* Full nodes sit in the lowest bucket, below what the request needs: never visited. */
	assert_int_equal(sched_get_stats(p->s)->visited - before, 0);
	pool_free(p);
}

/* A request for host ports fits only a node with that many free in its --port-range. */
static void test_host_ports_need_free_ports(void **state)
{
	(void)state;
	struct pool *p = pool_new(2, 4000, 8 * GIB, 1);
	p->nodes[0].port_first = 21000;
	p->nodes[0].port_last = 21001;
	p->nodes[0].ports_free = 0;
	p->nodes[1].port_first = 22000;
	p->nodes[1].port_last = 22009;
	p->nodes[1].ports_free = 1;
	struct sched_request r = {.cpus = 100, .mem = GIB, .ports = 1};
	struct sched_node *out = NULL;
	struct acre_error err = {0};
	/* Binpack would take either: only n1 has a port free. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sched_place(p->s, &r, &out, &err), 0);
		assert_ptr_equal(out, &p->nodes[1]);
	}
	/* Two ports: none has them; the error names the node's range. */
	r.ports = 2;
	assert_int_equal(sched_place(p->s, &r, &out, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "no free port in the --port-range of the 2 nodes"));
	p->nodes[0].ports_free = 2;
	assert_int_equal(sched_place(p->s, &r, &out, &err), 0);
	assert_ptr_equal(out, &p->nodes[0]);
	p->nodes[0].ports_free = 0;
	r.ports = 1;
	p->nodes[1].ports_free = 0;
	assert_int_equal(sched_node_set_eligible(p->s, &p->nodes[1], false), 0);
	assert_int_equal(sched_place(p->s, &r, &out, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "no free port in the node's --port-range 21000-21001"));
	/* No ports asked: a full range is no reason. */
	r.ports = 0;
	assert_int_equal(sched_place(p->s, &r, &out, &err), 0);
	assert_ptr_equal(out, &p->nodes[0]);
	pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binpack_fills_one_node_first),
		cmocka_unit_test(test_binpack_prefers_the_fullest_that_fits),
		cmocka_unit_test(test_spread_strategy_evens_out),
		cmocka_unit_test(test_constraints_filter),
		cmocka_unit_test(test_fit_needs_both_dimensions),
		cmocka_unit_test(test_no_room_versus_never),
		cmocka_unit_test(test_ineligible_nodes_take_nothing),
		cmocka_unit_test(test_spread_over_attribute),
		cmocka_unit_test(test_unique_node),
		cmocka_unit_test(test_unique_zone),
		cmocka_unit_test(test_bucket_bitmap),
		cmocka_unit_test(test_ten_thousand_nodes_few_visits),
		cmocka_unit_test(test_full_pool_fails_fast),
		cmocka_unit_test(test_host_ports_need_free_ports),
	};
	return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
