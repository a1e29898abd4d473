/*
 * Ports of the host's network picked from each node's --port-range: over
 * a pool in memory with the apps runtime, its nodes played in the test as
 * in test_apps_runtime.c, each assign's spec read as the node would get it
 * (pool_outbound_spec).  Node n0 has the range 21000-21002, n1 the
 * default; apps are kept on n0 by a constraint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>

#include "controller/apps/apps.h"
#include "controller/pool/pool.h"
#include "controller/store/store.h"

#include <ftw.h>
#include <sys/stat.h>

struct world {
	struct pool *p;
	struct apps *a;
	struct pool_node *n[2];
	int64_t seq[2];
	json_t *sent; /* slice name -> the spec its node got last */
};

static int conn[2]; /* stand for connections: the pool only compares them */

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct acre_error err = {0};
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(NULL, &o, &w->p, &err), 0);
	_cleanup_json_ json_t *attrs = json_object();
	for (int i = 0; i < 2; i++) {
		char id[8];
		snprintf(id, sizeof(id), "n%d", i);
		struct pool_registration r = {.id = id,
					      .secret_hash = "00",
					      .hostname = id,
					      .version = "",
					      .address = "test",
					      .cpus = 4000,
					      .memory = 8ULL << 30,
					      .port_first = i == 0 ? 21000 : 0,
					      .port_last = i == 0 ? 21002 : 0,
					      .attributes = attrs};
		assert_int_equal(pool_node_register(w->p, &r, &conn[i], &w->n[i], &err), 0);
		pool_node_sync(w->p, w->n[i], NULL, 0, NULL);
	}
	struct apps_options ao = {.step_deadline_ms = 60000};
	assert_int_equal(apps_open(w->p, &ao, &w->a, &err), 0);
	w->sent = json_object();
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	apps_close(w->a);
	pool_close(w->p);
	json_decref(w->sent);
	free(w);
	return 0;
}

static void report(struct world *w, struct pool_node *n, const char *slice,
		   enum acre_slice_state st)
{
	int i = n == w->n[0] ? 0 : 1;
	struct pool_report r = {.seq = ++w->seq[i], .slice = slice, .state = st, .reason = ""};
	pool_node_update(w->p, n, &r, 1);
}

/* One pass and the nodes' answers; an assign's spec is kept as its node got it. */
static int pass(struct world *w)
{
	if (w->a)
		apps_reconcile(w->a);
	pool_commit(w->p);
	int count = 0;
	struct pool_outbound *o = pool_outbound_take(w->p), *next;
	for (; o; o = next) {
		next = o->out_next;
		count++;
		struct acre_error err = {0};
		switch (o->op) {
		case POOL_OP_ASSIGN:
			if (!pool_assign_current(w->p, o))
				break;
			assert_int_equal(pool_outbound_spec(w->p, o, &err), 0);
			json_object_set_new(w->sent, o->name, json_loads(o->spec->text, 0, NULL));
			pool_assign_result(w->p, o->node, o->name, o->slice_id, NULL);
			report(w, o->node, o->name, ACRE_SLICE_RUNNING);
			break;
		case POOL_OP_KILL:
			report(w, o->node, o->name, ACRE_SLICE_KILLED);
			break;
		case POOL_OP_REMOVE:
			pool_remove_gone(w->p, o->node, o->name, o->slice_id);
			break;
		default:
			break;
		}
		pool_outbound_free(o);
	}
	return count;
}

static void settle(struct world *w)
{
	for (int i = 0; i < 50; i++)
		if (pass(w) == 0 && pass(w) == 0)
			return;
	fail_msg("the pool never settled");
}

static json_t *web(unsigned instances)
{
	return json_pack("{s:s,s:i,s:{s:[s],s:{s:s},s:{s:f,s:s}},s:[s],s:{s:[s]}}", "name", "web",
			 "instances", (int)instances, "slice", "command", "/bin/web", "network",
			 "mode", "host", "resources", "cpus", 0.1, "memory", "16M", "ports", "http",
			 "placement", "constraints", "node.id==n0");
}

/* A plain slice on n0 asking for a host port (wanted first when not 0). */
static struct pool_slice *plain(struct world *w, const char *name, const char *port)
{
	struct acre_error err = {0};
	struct acre_placement pl = {0};
	assert_int_equal(acre_proto_constraint_parse("node.id==n0", &pl.constraints[0], "p", &err),
			 0);
	pl.nconstraints = 1;
	json_t *spec = json_pack("{s:s,s:[s],s:{s:s},s:[s],s:[{s:s,s:s}]}", "name", name, "command",
				 "/bin/x", "network", "mode", "host", "host_ports", port, "checks",
				 "kind", "tcp", "port", "p");
	struct pool_slice *sl = NULL;
	int rc = pool_slice_create(w->p, spec, &pl, &sl, &err);
	json_decref(spec);
	if (rc < 0)
		fail_msg("pool_slice_create: %s", err.message);
	return sl;
}

/* What the node of `name` got: PORT_HTTP, checked against the acre.ports label. */
static unsigned sent_port(struct world *w, const char *name)
{
	json_t *spec = json_object_get(w->sent, name);
	assert_non_null(spec);
	const char *env =
		json_string_value(json_object_get(json_object_get(spec, "env"), "PORT_HTTP"));
	assert_non_null(env);
	char label[64];
	snprintf(label, sizeof(label), "http:%s/tcp", env);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(spec, "labels"), "acre.ports")),
		label);
	assert_null(json_object_get(spec, "host_ports")); /* the pool's own, not the node's */
	return (unsigned)atoi(env);
}

static unsigned held(struct world *w, const char *name)
{
	struct pool_slice *sl = pool_slice_find(w->p, name);
	assert_non_null(sl);
	return pool_slice_host_port(sl, "http");
}

static void test_picked_from_the_nodes_range(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	_cleanup_json_ json_t *s = web(2);
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	unsigned a = sent_port(w, "web-0"), b = sent_port(w, "web-1");
	/* From n0's range, not the pool's default; two slices on one node, two ports. */
	assert_true(a >= 21000 && a <= 21002);
	assert_true(b >= 21000 && b <= 21002);
	assert_int_not_equal(a, b);
	assert_int_equal(held(w, "web-0"), a);
	assert_int_equal(held(w, "web-1"), b);
	/* The API's instance shows it. */
	json_t *inst = NULL;
	assert_int_equal(apps_instances_json(w->a, "web", &inst, &err), 0);
	json_t *x = json_array_get(json_object_get(inst, "instances"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "ports"), "http")),
			 a);
	json_decref(inst);
	/* And the node's view its range, with what is left of it. */
	json_t *n = pool_node_json(w->n[0]);
	assert_string_equal(json_string_value(json_object_get(n, "port_range")), "21000-21002");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(n, "free"), "ports")),
			 1);
	json_decref(n);
	n = pool_node_json(w->n[1]);
	assert_string_equal(json_string_value(json_object_get(n, "port_range")), "20000-29999");
	json_decref(n);
}

static void test_a_full_range_does_not_fit(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	_cleanup_json_ json_t *s = web(4);
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	/* Three ports in n0's range: three instances run, the fourth waits, and says why. */
	unsigned ports = 0;
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "web-%d", i);
		ports |= 1u << (sent_port(w, name) - 21000);
	}
	assert_int_equal(ports, 7);
	struct pool_slice *sl = pool_slice_find(w->p, "web-3");
	assert_non_null(sl);
	assert_int_equal(sl->state, ACRE_SLICE_PENDING);
	assert_null(sl->node);
	assert_non_null(strstr(sl->reason, "no free port in the node's --port-range 21000-21002"));
	json_t *why = pool_why_slice(w->p, sl);
	char *text = json_dumps(why, 0);
	assert_non_null(strstr(text, "no free port in the node's --port-range 21000-21002"));
	free(text);
	json_decref(why);
	/*
	 * web-2 ends: kept as it ended (its log) while it waits for its
	 * back-off, its port given back meanwhile: web-3 takes it.
	 */
	unsigned freed = held(w, "web-2");
	report(w, pool_slice_find(w->p, "web-2")->node, "web-2", ACRE_SLICE_EXITED);
	settle(w);
	sl = pool_slice_find(w->p, "web-3");
	assert_non_null(sl->node);
	assert_int_equal(held(w, "web-3"), freed);
	assert_int_equal(sent_port(w, "web-3"), freed);
}

static void test_kept_across_a_restart(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	/* A plain slice takes 21000 first, so the app's instances get 21001 and 21002. */
	plain(w, "squat", "p");
	settle(w);
	json_t *squat = json_object_get(w->sent, "squat");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(squat, "env"), "PORT_P")),
		"21000");
	/* Its check names the port: the node gets the number. */
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(squat, "checks"), 0), "port")),
			 21000);
	_cleanup_json_ json_t *s = web(2);
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	unsigned before = held(w, "web-1");
	assert_true(before == 21001 || before == 21002);
	/* 21000 comes free; web-1 ends and starts again after its back-off: same port. */
	struct pool_slice *sq = pool_slice_find(w->p, "squat");
	assert_int_equal(pool_slice_kill(w->p, sq, 0, &err), 1);
	settle(w);
	assert_int_equal(pool_slice_remove(w->p, pool_slice_find(w->p, "squat"), true, &err), 1);
	settle(w);
	assert_null(pool_slice_find(w->p, "squat"));
	struct pool_slice *sl = pool_slice_find(w->p, "web-1");
	int64_t id = sl->id;
	report(w, sl->node, "web-1", ACRE_SLICE_EXITED);
	settle(w);
	/* Kept as it ended (its log) while it waits, its port given back meanwhile. */
	assert_int_equal(pool_slice_find(w->p, "web-1")->id, id);
	assert_int_equal(pool_slice_find(w->p, "web-1")->state, ACRE_SLICE_EXITED);
	struct timespec ts = {1, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	apps_tick(w->a);
	settle(w);
	sl = pool_slice_find(w->p, "web-1");
	assert_non_null(sl);
	assert_true(sl->id != id);
	assert_int_equal(sl->state, ACRE_SLICE_RUNNING);
	assert_int_equal(held(w, "web-1"), before); /* not 21000, the lowest free */
	assert_int_equal(sent_port(w, "web-1"), before);
}

static void test_bad_host_ports(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct pool_slice *sl = NULL;
	/* Not on the host's network: refused, naming the field. */
	json_t *spec = json_pack("{s:s,s:[s],s:[s]}", "name", "b1", "command", "/bin/x",
				 "host_ports", "http");
	assert_int_equal(pool_slice_create(w->p, spec, NULL, &sl, &err), -EINVAL);
	assert_string_equal(err.field, "spec.host_ports");
	json_decref(spec);
	spec = json_pack("{s:s,s:[s],s:{s:s},s:[s]}", "name", "b2", "command", "/bin/x", "network",
			 "mode", "host", "host_ports", "Not A Name");
	assert_int_equal(pool_slice_create(w->p, spec, NULL, &sl, &err), -EINVAL);
	assert_non_null(strstr(err.message, "host_ports[0]"));
	json_decref(spec);
	assert_null(pool_slice_find(w->p, "b1"));
	assert_null(pool_slice_find(w->p, "b2"));
	/* An empty list asks for none, and does not reach the node. */
	spec = json_pack("{s:s,s:[s],s:{s:s},s:[]}", "name", "e1", "command", "/bin/x", "network",
			 "mode", "host", "host_ports");
	assert_int_equal(pool_slice_create(w->p, spec, NULL, &sl, &err), 0);
	json_decref(spec);
	settle(w);
	assert_non_null(json_object_get(w->sent, "e1"));
	assert_null(json_object_get(json_object_get(w->sent, "e1"), "host_ports"));
	/* The one asked for first is taken when free, even above the lowest free. */
	plain(w, "asks", "p:21002");
	settle(w);
	assert_int_equal(pool_slice_host_port(pool_slice_find(w->p, "asks"), "p"), 21002);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A restarted controller finds each slice's port, held on its node or asked for. */
static void test_ports_come_back_from_the_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/acre-test-host-ports.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct acre_error err = {0};
	struct store *st;
	assert_int_equal(store_open(dir, &st, &err), 0);
	struct world w = {.sent = json_object()};
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(st, &o, &w.p, &err), 0);
	_cleanup_json_ json_t *attrs = json_object();
	struct pool_registration r = {.id = "n0",
				      .secret_hash = "00",
				      .hostname = "n0",
				      .version = "",
				      .address = "test",
				      .cpus = 4000,
				      .memory = 8ULL << 30,
				      .port_first = 21000,
				      .port_last = 21001,
				      .attributes = attrs};
	assert_int_equal(pool_node_register(w.p, &r, &conn[0], &w.n[0], &err), 0);
	pool_node_sync(w.p, w.n[0], NULL, 0, NULL);
	plain(&w, "s1", "p");
	plain(&w, "s2", "p");
	pool_commit(w.p);
	/* Pending, its spec in the store: bound after the commit, it is resolved from there. */
	struct pool_slice *s3 = plain(&w, "s3", "p:21001");
	assert_null(s3->node);
	pool_commit(w.p);
	struct pool_outbound *out = pool_outbound_take(w.p);
	for (struct pool_outbound *o2 = out, *next; o2; o2 = next) {
		next = o2->out_next;
		pool_outbound_free(o2);
	}
	pool_close(w.p);
	w.p = NULL;
	assert_int_equal(pool_open(st, &o, &w.p, &err), 0);
	w.n[0] = NULL;
	assert_int_equal(pool_slice_host_port(pool_slice_find(w.p, "s1"), "p"), 21000);
	assert_int_equal(pool_slice_host_port(pool_slice_find(w.p, "s2"), "p"), 21001);
	assert_int_equal(pool_slice_host_port(pool_slice_find(w.p, "s3"), "p"), 21001);
	/* The node registers again with its range: both held, none free. */
	assert_int_equal(pool_node_register(w.p, &r, &conn[0], &w.n[0], &err), 0);
	json_t *n = pool_node_json(w.n[0]);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(n, "free"), "ports")),
			 0);
	json_decref(n);
	/* s1 goes: s3 is bound there, asking 21001 first, getting 21000, from the stored spec. */
	struct pool_slice *s1 = pool_slice_find(w.p, "s1");
	pool_node_sync(w.p, w.n[0], NULL, 0, NULL);
	settle(&w);
	s1 = pool_slice_find(w.p, "s1");
	if (s1)
		assert_true(pool_slice_remove(w.p, s1, true, &err) >= 0);
	settle(&w);
	struct pool_slice *s3b = pool_slice_find(w.p, "s3");
	assert_non_null(s3b->node);
	assert_int_equal(pool_slice_host_port(s3b, "p"), 21000);
	json_t *spec = json_object_get(w.sent, "s3");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(spec, "env"), "PORT_P")),
		"21000");
	pool_close(w.p);
	store_close(st);
	json_decref(w.sent);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_port_range_flag(void **state)
{
	(void)state;
	struct acre_error err = {0};
	uint16_t a = 0, b = 0;
	assert_int_equal(acre_proto_port_range_parse("30000-30010", &a, &b, "--port-range", &err),
			 0);
	assert_int_equal(a, 30000);
	assert_int_equal(b, 30010);
	assert_int_equal(acre_proto_port_range_parse("5-5", &a, &b, "--port-range", &err), 0);
	const char *bad[] = {"", "1000", "0-10", "10-70000", "20-10", "a-b", "10-20x", "-5", NULL};
	for (int i = 0; bad[i]; i++) {
		err = (struct acre_error){0};
		assert_int_equal(acre_proto_port_range_parse(bad[i], &a, &b, "--port-range", &err),
				 -EINVAL);
		assert_non_null(strstr(err.message, "--port-range"));
	}
}

int main(void)
{
	acre_log_set_level(ACRE_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_picked_from_the_nodes_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_full_range_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_across_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_host_ports, setup, teardown),
		cmocka_unit_test(test_ports_come_back_from_the_store),
		cmocka_unit_test(test_port_range_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
