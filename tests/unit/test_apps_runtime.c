/*
 * The apps runtime over a pool in memory, its nodes played in the test:
 * after each pass (apps_reconcile, then pool_commit) the pool's messages
 * are answered as a supervisor would — an assign accepted and the slice
 * reported running, a kill reported as killed, a removal as gone — so a
 * deployment runs through the real reconciliation, planner and pool verbs
 * (and under ASan and UBSan with the other unit tests).  The end-to-end
 * tests on real nodes are tests/integration/test_apps*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>

#include "controller/apps/apps.h"
#include "controller/pool/pool.h"

struct world {
	struct pool *p;
	struct apps *a;
	struct pool_node *n[2];
	int64_t seq[2];
};

static int conn[2]; /* stand for connections: the pool only compares them */

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct acre_error err = {0};
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	assert_int_equal(pool_open(NULL, &o, &w->p, &err), 0);
	for (int i = 0; i < 2; i++) {
		char id[8];
		snprintf(id, sizeof(id), "n%d", i);
		struct pool_registration r = {.id = id,
					      .secret_hash = "00",
					      .hostname = id,
					      .version = "",
					      .address = "test",
					      .cpus = 4000,
					      .memory = 8ULL << 30};
		assert_int_equal(pool_node_register(w->p, &r, &conn[i], &w->n[i], &err), 0);
		pool_node_sync(w->p, w->n[i], NULL, 0, NULL);
	}
	struct apps_options ao = {.step_deadline_ms = 60000};
	assert_int_equal(apps_open(w->p, &ao, &w->a, &err), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	apps_close(w->a);
	pool_close(w->p);
	free(w);
	return 0;
}

static int node_index(struct world *w, const struct pool_node *n)
{
	return n == w->n[0] ? 0 : 1;
}

static void report(struct world *w, struct pool_node *n, const char *slice,
		   enum acre_slice_state st)
{
	int i = node_index(w, n);
	struct pool_report r = {.seq = ++w->seq[i], .slice = slice, .state = st, .reason = ""};
	pool_node_update(w->p, n, &r, 1);
}

/* One pass and the nodes' answers to its messages; returns how many messages there were. */
static int pass(struct world *w)
{
	apps_reconcile(w->a);
	pool_commit(w->p);
	int count = 0;
	struct pool_outbound *o = pool_outbound_take(w->p), *next;
	for (; o; o = next) {
		next = o->out_next;
		if (!o->node || !o->node->conn) {
			pool_outbound_free(
				o); /* as the node port does: the node reconciles when back */
			continue;
		}
		count++;
		switch (o->op) {
		case POOL_OP_ASSIGN:
			if (pool_assign_current(w->p, o)) {
				pool_assign_result(w->p, o->node, o->name, o->slice_id, NULL);
				report(w, o->node, o->name, ACRE_SLICE_RUNNING);
			}
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

/* Passes until nothing more happens (at most 50). */
static void settle(struct world *w)
{
	for (int i = 0; i < 50; i++)
		if (pass(w) == 0 && pass(w) == 0)
			return;
	fail_msg("the pool never settled");
}

static json_t *spec(const char *name, unsigned instances, const char *v)
{
	return json_pack("{s:s,s:i,s:{s:[s],s:{s:s},s:{s:f,s:s}},s:i}", "name", name, "instances",
			 (int)instances, "slice", "command", "/bin/web", "env", "V", v, "resources",
			 "cpus", 0.5, "memory", "64M", "max_surge", 1);
}

static const char *field(struct world *w, const char *app, const char *key, char *buf, size_t len)
{
	json_t *out = NULL;
	struct acre_error err = {0};
	assert_int_equal(apps_show(w->a, app, &out, &err), 0);
	json_t *v = json_object_get(out, key);
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	json_decref(out);
	return buf;
}

static const char *deploy_state(struct world *w, const json_t *reply)
{
	static char buf[32];
	const char *id =
		json_string_value(json_object_get(json_object_get(reply, "deployment"), "id"));
	json_t *d = NULL;
	struct acre_error err = {0};
	assert_int_equal(apps_deployment_show(w->a, id, &d, &err), 0);
	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(d, "state")));
	json_decref(d);
	return buf;
}

static void test_create_update_scale_remove(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	char buf[64];
	_cleanup_json_ json_t *s1 = spec("web", 3, "1");
	assert_int_equal(apps_create(w->a, s1, &r, &reply, &err), 0);
	settle(w);
	assert_string_equal(deploy_state(w, reply), "succeeded");
	assert_string_equal(field(w, "web", "state", buf, sizeof(buf)), "running");
	assert_string_equal(field(w, "web", "healthy", buf, sizeof(buf)), "3");
	assert_non_null(pool_slice_find(w->p, "web-2"));
	json_decref(reply);

	/* A second app by the same name, and one named like an instance: refused. */
	assert_int_equal(apps_create(w->a, s1, &r, &reply, &err), -EEXIST);

	/* A rolling update replaces every instance, in place, under the same names. */
	_cleanup_json_ json_t *s2 = spec("web", 3, "2");
	struct apps_request u = {.name = "web"};
	bool created = true;
	assert_int_equal(apps_update(w->a, s2, &u, &reply, &created, &err), 0);
	assert_false(created);
	/* Busy: another change is refused, naming the running deployment. */
	json_t *other = NULL;
	struct apps_request sc = {.name = "web", .instances = 5};
	if (strcmp(deploy_state(w, reply), "running") == 0) {
		assert_int_equal(apps_scale(w->a, &sc, &other, &err), -EBUSY);
		assert_non_null(strstr(err.message, "running"));
	}
	settle(w);
	assert_string_equal(deploy_state(w, reply), "succeeded");
	json_decref(reply);
	json_t *inst = NULL;
	assert_int_equal(apps_instances_json(w->a, "web", &inst, &err), 0);
	size_t i;
	json_t *x;
	assert_int_equal(json_array_size(json_object_get(inst, "instances")), 3);
	json_array_foreach (json_object_get(inst, "instances"), i, x)
		assert_int_equal(json_integer_value(json_object_get(x, "version")), 2);
	json_decref(inst);

	/* Scale down: the highest indexes go. */
	sc.instances = 1;
	assert_int_equal(apps_scale(w->a, &sc, &reply, &err), 0);
	settle(w);
	assert_string_equal(deploy_state(w, reply), "succeeded");
	json_decref(reply);
	assert_non_null(pool_slice_find(w->p, "web-0"));
	assert_null(pool_slice_find(w->p, "web-1"));
	assert_null(pool_slice_find(w->p, "web-2"));

	/* Versions: create, update, scale. */
	json_t *v = NULL;
	assert_int_equal(apps_versions_json(w->a, "web", &v, &err), 0);
	assert_int_equal(json_array_size(json_object_get(v, "versions")), 3);
	json_decref(v);

	/* Removal: its instances go, then the app. */
	struct apps_request rm = {.name = "web"};
	assert_int_equal(apps_remove(w->a, &rm, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	assert_null(pool_slice_find(w->p, "web-0"));
	json_t *out = NULL;
	assert_int_equal(apps_show(w->a, "web", &out, &err), -ENOENT);
}

/* An install's app: the owner's label on the app and its instances, its changes the owner's only.
 */
static void test_owner_label(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	/* A spec alone may not claim an owner. */
	_cleanup_json_ json_t *claim = spec("cache", 1, "1");
	json_object_set_new(claim, "labels", json_pack("{s:s}", APP_LABEL_OWNER, "x"));
	struct apps_request user = {0};
	assert_int_equal(apps_create(w->a, claim, &user, &reply, &err), -EINVAL);
	assert_string_equal(err.field, "labels");
	assert_int_equal(apps_show(w->a, "cache", &reply, &err), -ENOENT);
	_cleanup_json_ json_t *s = spec("cache", 2, "1");
	struct apps_request owned = {.owner = "kv"};
	assert_int_equal(apps_create(w->a, s, &owned, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	for (int i = 0; i < 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cache-%d", i);
		const struct pool_slice *sl = pool_slice_find(w->p, name);
		assert_non_null(sl);
		assert_string_equal(pool_slice_label(sl, APP_LABEL_OWNER), "kv");
	}
	json_t *out = NULL;
	assert_int_equal(apps_show(w->a, "cache", &out, &err), 0);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(out, "spec"), "labels"), APP_LABEL_OWNER)),
		"kv");
	json_decref(out);
	/* A user's update, or another install's, is refused; the owner's goes through. */
	_cleanup_json_ json_t *v2 = spec("cache", 2, "2");
	struct apps_request upd = {.name = "cache"};
	bool created = false;
	assert_int_equal(apps_update(w->a, v2, &upd, &reply, &created, &err), -EPERM);
	assert_non_null(strstr(err.message, "belongs to install kv"));
	upd.owner = "other";
	assert_int_equal(apps_update(w->a, v2, &upd, &reply, &created, &err), -EPERM);
	upd.owner = "kv";
	assert_int_equal(apps_update(w->a, v2, &upd, &reply, &created, &err), 0);
	json_decref(reply);
	settle(w);
	const struct pool_slice *sl = pool_slice_find(w->p, "cache-0");
	assert_non_null(sl);
	assert_string_equal(pool_slice_label(sl, APP_LABEL_OWNER), "kv");
	assert_string_equal(pool_slice_label(sl, APP_LABEL_VERSION), "2");
}

static void test_bad_requests(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	/* Unknown dependency: the field is named and nothing exists afterwards. */
	_cleanup_json_ json_t *s = spec("front", 1, "1");
	json_object_set_new(s, "dependencies", json_pack("[s]", "db"));
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), -EINVAL);
	assert_string_equal(err.field, "dependencies");
	assert_int_equal(apps_show(w->a, "front", &reply, &err), -ENOENT);
	/* Larger than any node could ever hold. */
	_cleanup_json_ json_t *big = spec("big", 1, "1");
	json_object_set_new(json_object_get(json_object_get(big, "slice"), "resources"), "cpus",
			    json_real(8));
	assert_int_equal(apps_create(w->a, big, &r, &reply, &err), -E2BIG);
	assert_int_equal(apps_show(w->a, "big", &reply, &err), -ENOENT);
	/* Verbs on an app that does not exist. */
	struct apps_request sc = {.name = "nope", .instances = 2};
	assert_int_equal(apps_scale(w->a, &sc, &reply, &err), -ENOENT);
	assert_int_equal(apps_deployment_show(w->a, "d-999", &reply, &err), -ENOENT);
	assert_int_equal(apps_deployment_show(w->a, "garbage", &reply, &err), -ENOENT);
}

static void test_stop_start_and_crash_restart(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct apps_request r = {0};
	json_t *reply = NULL;
	char buf[64];
	_cleanup_json_ json_t *s = spec("svc", 2, "1");
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	struct apps_request st = {.name = "svc"};
	assert_int_equal(apps_stop(w->a, &st, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	assert_string_equal(field(w, "svc", "state", buf, sizeof(buf)), "stopped");
	assert_string_equal(field(w, "svc", "stopped_instances", buf, sizeof(buf)), "2");
	assert_int_equal(apps_stop(w->a, &st, &reply, &err), -EALREADY);
	assert_int_equal(apps_start(w->a, &st, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	assert_string_equal(field(w, "svc", "healthy", buf, sizeof(buf)), "2");
	/* An instance that ends is started again after its back-off, under its name. */
	struct pool_slice *sl = pool_slice_find(w->p, "svc-1");
	assert_non_null(sl);
	int64_t id = sl->id;
	report(w, sl->node, "svc-1", ACRE_SLICE_EXITED);
	settle(w);
	/* Kept, ended, while it waits for its back-off (1 s): its log says why it ended. */
	sl = pool_slice_find(w->p, "svc-1");
	assert_non_null(sl);
	assert_int_equal(sl->id, id);
	assert_int_equal(sl->state, ACRE_SLICE_EXITED);
	assert_false(sl->removed);
	struct timespec ts = {1, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	apps_tick(w->a);
	settle(w);
	sl = pool_slice_find(w->p, "svc-1");
	assert_non_null(sl);
	assert_true(sl->id != id);
	assert_int_equal(sl->state, ACRE_SLICE_RUNNING);
}

static int count_one(struct pool_slice *sl, void *ud)
{
	unsigned *n = ud;
	n[0]++;
	n[1] += sl->state == ACRE_SLICE_RUNNING;
	return 0;
}

/* Instances of the app name in the pool, and how many of them run. */
static unsigned count_slices(struct world *w, const char *app, unsigned *running)
{
	char text[64];
	snprintf(text, sizeof(text), "acre.app=%s", app);
	struct pool_label_filter f = {0};
	assert_int_equal(pool_label_filter_add(&f, text, NULL), 0);
	unsigned n[2] = {0, 0};
	pool_slices_labelled(w->p, &f, count_one, n);
	*running = n[1];
	return n[0];
}

/*
 * A scale to 10,000 goes to the nodes in batches, not all in one pass, and
 * its instances coming up are counted without a reconciliation each; an
 * ordered app, whose planner holds starts back, still gets each started.
 */
static void test_scale_up_in_batches(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	struct pool_registration big = {.id = "big",
					.secret_hash = "00",
					.hostname = "big",
					.version = "",
					.address = "test",
					.cpus = 1000 * 1000,
					.memory = 1ULL << 40};
	struct pool_node *n = NULL;
	assert_int_equal(pool_node_register(w->p, &big, &conn[0], &n, &err), 0);
	pool_node_sync(w->p, n, NULL, 0, NULL);
	w->n[0] = n; /* the test's answers go to it as node 0's */
	json_t *reply = NULL;
	struct apps_request r = {0};
	_cleanup_json_ json_t *s =
		json_pack("{s:s,s:i,s:{s:[s],s:{s:f,s:s}},s:{s:[s]}}", "name", "many", "instances",
			  0, "slice", "command", "/bin/many", "resources", "cpus", 0.01, "memory",
			  "4M", "placement", "constraints", "node.id==big");
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	struct apps_request sc = {.name = "many", .instances = 10000};
	assert_int_equal(apps_scale(w->a, &sc, &reply, &err), 0);
	unsigned running = 0;
	pass(w);
	unsigned first = count_slices(w, "many", &running);
	assert_true(first > 0 && first < 10000);
	settle(w);
	assert_int_equal(count_slices(w, "many", &running), 10000);
	assert_int_equal(running, 10000);
	assert_string_equal(deploy_state(w, reply), "succeeded");
	json_decref(reply);
	char buf[64];
	assert_string_equal(field(w, "many", "healthy", buf, sizeof(buf)), "10000");
	assert_string_equal(field(w, "many", "state", buf, sizeof(buf)), "running");

	_cleanup_json_ json_t *o = json_pack("{s:s,s:i,s:b,s:{s:[s],s:{s:f,s:s}}}", "name", "ord",
					     "instances", 3, "ordered", 1, "slice", "command",
					     "/bin/ord", "resources", "cpus", 0.01, "memory", "4M");
	assert_int_equal(apps_create(w->a, o, &r, &reply, &err), 0);
	settle(w);
	assert_string_equal(deploy_state(w, reply), "succeeded");
	json_decref(reply);
	assert_string_equal(field(w, "ord", "healthy", buf, sizeof(buf)), "3");
}

/*
 * Every checked instance on a node fails at once: the node is suspect (its
 * view says so) and nothing of it is killed; one healthy again ends it.
 */
static void test_suspect_node_kills_nothing(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	struct apps_request r = {0};
	_cleanup_json_ json_t *s =
		json_pack("{s:s,s:i,s:{s:[s],s:{s:f,s:s}},s:{s:[s]},s:[s],s:[{s:s,s:s}]}", "name",
			  "chk", "instances", 2, "slice", "command", "/bin/chk", "resources",
			  "cpus", 0.1, "memory", "16M", "placement", "constraints", "node.id==n0",
			  "ports", "http:8080", "checks", "kind", "tcp", "port", "http");
	/* A tcp check needs a network with the port on it. */
	json_object_set_new(json_object_get(s, "slice"), "network",
			    json_pack("{s:s}", "mode", "bridge"));
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	int64_t t = acre_now_ms();
	for (int i = 0; i < 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "chk-%d", i);
		struct pool_slice *sl = pool_slice_find(w->p, name);
		assert_non_null(sl);
		assert_int_equal(
			pool_node_health(w->p, w->n[0], name, ACRE_HEALTH_HEALTHY, true, t), 0);
	}
	settle(w);
	assert_false(pool_node_suspect(w->n[0]));
	int64_t ids[2];
	for (int i = 0; i < 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "chk-%d", i);
		struct pool_slice *sl = pool_slice_find(w->p, name);
		ids[i] = sl->id;
		assert_int_equal(
			pool_node_health(w->p, w->n[0], name, ACRE_HEALTH_UNHEALTHY, false, t + 1),
			0);
	}
	assert_true(pool_node_suspect(w->n[0]));
	_cleanup_json_ json_t *view = pool_node_json(w->n[0]);
	assert_true(json_is_true(json_object_get(view, "suspect")));
	settle(w);
	for (int i = 0; i < 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "chk-%d", i);
		struct pool_slice *sl = pool_slice_find(w->p, name);
		assert_non_null(sl);
		assert_int_equal(sl->id, ids[i]);
		assert_int_equal(sl->state, ACRE_SLICE_RUNNING);
		assert_int_equal(sl->desired, POOL_DESIRED_RUN);
	}
	/* One back: the node is not the cause, and the failing one is replaced. */
	assert_int_equal(pool_node_health(w->p, w->n[0], "chk-0", ACRE_HEALTH_HEALTHY, true, t + 2),
			 0);
	assert_false(pool_node_suspect(w->n[0]));
	settle(w);
	struct pool_slice *sl = pool_slice_find(w->p, "chk-1");
	assert_true(!sl || sl->id != ids[1] || sl->desired != POOL_DESIRED_RUN);
}

/* The node of the first slice of app, or NULL. */
static int node_of(struct pool_slice *sl, void *ud)
{
	const struct pool_node **n = ud;
	if (!*n)
		*n = sl->node;
	return 0;
}

static const struct pool_node *app_node(struct world *w, const char *app)
{
	char text[64];
	snprintf(text, sizeof(text), "acre.app=%s", app);
	struct pool_label_filter f = {0};
	assert_int_equal(pool_label_filter_add(&f, text, NULL), 0);
	const struct pool_node *n = NULL;
	pool_slices_labelled(w->p, &f, node_of, &n);
	return n;
}

/*
 * An app removed with its volumes kept and made again goes where its
 * volumes are: while that node is cordoned its instance waits, on no other
 * node, and once uncordoned it starts there.
 */
static void test_kept_volumes_found_again(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	struct apps_request r = {.name = "db"};
	json_t *s = spec("db", 1, "1");
	json_object_set_new(
		s, "volumes",
		json_pack("[{s:s,s:s,s:s}]", "name", "data", "size", "64M", "path", "/data"));
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	const struct pool_node *had = app_node(w, "db");
	assert_non_null(had);
	struct pool_node *held = (struct pool_node *)had, *other = w->n[had == w->n[0] ? 1 : 0];
	r.keep_volumes = true;
	assert_int_equal(apps_remove(w->a, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	assert_int_equal(apps_show(w->a, "db", &reply, &err), -ENOENT);
	pool_node_cordon(w->p, held, true);
	r.keep_volumes = false;
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	unsigned running = 0;
	assert_int_equal(count_slices(w, "db", &running), 1);
	assert_int_equal(running, 0);
	assert_ptr_not_equal(app_node(w, "db"), other);
	pool_node_cordon(w->p, held, false);
	settle(w);
	assert_int_equal(count_slices(w, "db", &running), 1);
	assert_int_equal(running, 1);
	assert_ptr_equal(app_node(w, "db"), held);
	json_decref(s);
}

/*
 * An app removed while a node is away ends without waiting for it: its
 * instance there is the pool's to remove, which happens when the node is
 * back and lists it.
 */
static void test_remove_with_a_node_away(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	struct apps_request r = {0};
	_cleanup_json_ json_t *s =
		json_pack("{s:s,s:i,s:{s:[s],s:{s:f,s:s}},s:{s:s}}", "name", "web", "instances", 2,
			  "slice", "command", "/bin/web", "resources", "cpus", 0.5, "memory", "64M",
			  "placement", "unique", "node");
	assert_int_equal(apps_create(w->a, s, &r, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	struct pool_slice *away = pool_slice_find(w->p, "web-0");
	assert_non_null(away);
	struct pool_node *n = away->node;
	int i = node_index(w, n);
	pool_node_disconnected(w->p, n, &conn[i]);

	struct apps_request rm = {.name = "web"};
	assert_int_equal(apps_remove(w->a, &rm, &reply, &err), 0);
	json_decref(reply);
	settle(w);
	json_t *shown = NULL;
	assert_int_equal(apps_show(w->a, "web", &shown, &err), -ENOENT); /* removed */
	away = pool_slice_find(w->p, "web-0");
	assert_non_null(away); /* on the node away, to be removed there */
	assert_int_equal(away->desired, POOL_DESIRED_REMOVE);
	assert_null(pool_slice_find(w->p, "web-1"));

	/* Back, it lists web-0 still running: the pool removes it. */
	struct pool_node *back = NULL;
	char id[8];
	snprintf(id, sizeof(id), "n%d", i);
	struct pool_registration reg = {.id = id,
					.secret_hash = "00",
					.hostname = id,
					.version = "",
					.address = "test",
					.cpus = 4000,
					.memory = 8ULL << 30};
	assert_int_equal(pool_node_register(w->p, &reg, &conn[i], &back, &err), 0);
	struct pool_report listed = {.seq = w->seq[i],
				     .slice = "web-0",
				     .reason = "",
				     .state = ACRE_SLICE_RUNNING,
				     .managed = true};
	pool_node_sync(w->p, back, &listed, 1, NULL);
	settle(w);
	assert_null(pool_slice_find(w->p, "web-0"));
}

int main(void)
{
	acre_log_set_level(ACRE_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_update_scale_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_start_and_crash_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scale_up_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspect_node_kills_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_volumes_found_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_with_a_node_away, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
