/*
 * The CLI's pure pieces: values as tables show them, the error object -j
 * prints, each backend's replies put into the one documented slice shape
 * (the same keys from a node and from the pool), and `slice list`'s filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli.h"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("test JSON: %s at column %d", jerr.text, jerr.column);
	return j;
}

/* The object's keys, sorted, as one comma-separated string. */
static void keys_of(const json_t *o, char *buf, size_t len)
{
	_cleanup_free_ const char **keys = calloc(json_object_size(o) + 1, sizeof(char *));
	assert_non_null(keys);
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)o, k, v)
		keys[n++] = k;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			const char *t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", keys[i]);
}

static void test_values(void **state)
{
	(void)state;
	char buf[64];
	_cleanup_json_ json_t *o = parse("{\"s\": \"web\", \"n\": 3}");
	assert_string_equal(render_str(o, "s"), "web");
	assert_string_equal(render_str(o, "n"), "");
	assert_string_equal(render_str(o, "missing"), "");
	assert_string_equal(render_str(NULL, "s"), "");

	_cleanup_json_ json_t *half = json_real(0.5), *two = json_integer(2);
	render_cpus(half, buf, sizeof(buf));
	assert_string_equal(buf, "0.5");
	render_cpus(two, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	render_cpus(json_null(), buf, sizeof(buf));
	assert_string_equal(buf, "-");
	render_int(two, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	render_int(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "-");

	_cleanup_json_ json_t *mem = json_integer(64LL << 20), *odd = json_integer(1536);
	render_bytes(mem, buf, sizeof(buf));
	assert_string_equal(buf, "64M");
	render_bytes(odd, buf, sizeof(buf));
	assert_string_equal(buf, "1.5K");
	render_bytes(json_null(), buf, sizeof(buf));
	assert_string_equal(buf, "-");

	/* What a node cannot measure is n/a, never a zero that looks measured. */
	render_rate(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "n/a");
	render_latency(json_null(), buf, sizeof(buf));
	assert_string_equal(buf, "n/a");
	_cleanup_json_ json_t *us = json_integer(15000), *ms = json_integer(1200000);
	render_latency(us, buf, sizeof(buf));
	assert_string_equal(buf, "15us");
	render_latency(ms, buf, sizeof(buf));
	assert_string_equal(buf, "1.2ms");

	render_age(json_null(), buf, sizeof(buf));
	assert_string_equal(buf, "-");
	_cleanup_json_ json_t *now = json_integer(acre_now_ms() - 5000);
	render_age(now, buf, sizeof(buf));
	assert_string_equal(buf, "5s");

	_cleanup_json_ json_t *pairs = parse("{\"zone\": \"a\", \"rack\": \"r1\"}");
	render_pairs(pairs, buf, sizeof(buf));
	assert_string_equal(buf, "zone=a,rack=r1");
	_cleanup_json_ json_t *none = json_object();
	render_pairs(none, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void test_error(void **state)
{
	(void)state;
	struct acre_error err = {0};
	acre_error_set(&err, ENOENT, "name", "no slice named web");
	_cleanup_json_ json_t *j = render_error(&err);
	_cleanup_json_ json_t *want =
		parse("{\"error\": {\"code\": \"not_found\", \"message\": \"no slice named web\", "
		      "\"field\": \"name\"}}");
	assert_true(json_equal(j, want));

	/* No field: no key.  An errno without a name of its own: "internal". */
	acre_error_set(&err, ECONNREFUSED, NULL, "reaching the controller: connection refused");
	_cleanup_json_ json_t *k = render_error(&err);
	assert_null(json_object_get(json_object_get(k, "error"), "field"));
	assert_string_equal(render_str(json_object_get(k, "error"), "code"), "internal");

	/* A message cut inside a UTF-8 character is still printed. */
	acre_error_set(&err, EINVAL, "--name", "--name caf\xc3");
	_cleanup_json_ json_t *cut = render_error(&err);
	assert_string_equal(render_str(json_object_get(cut, "error"), "message"), "--name caf?");
}

static const char node_summary[] =
	"{\"name\": \"web\", \"state\": \"running\", \"reason\": \"\", \"pid\": 412, "
	"\"restarts\": 1, \"command\": \"sleep 600\", \"resources\": {\"memory\": 67108864}, "
	"\"created_at\": 1700000000000, \"started_at\": 1700000000100, \"finished_at\": 0, "
	"\"foreground\": false, \"labels\": {\"app\": \"web\"}}";

static const char node_detail[] =
	"{\"name\": \"web\", \"state\": \"exited\", \"reason\": \"exit 0\", \"pid\": 0, "
	"\"restarts\": 0, \"command\": \"true\", \"resources\": {\"cpus\": 0.5, \"pids\": 64}, "
	"\"created_at\": 1700000000000, \"started_at\": 1700000000100, "
	"\"finished_at\": 1700000000200, \"foreground\": false, \"labels\": {}, "
	"\"spec\": {\"name\": \"web\", \"restart\": \"on-failure:3\"}, "
	"\"exit\": {\"oom\": false, \"status\": 0, \"exit_code\": 0}, \"task_pid\": 2, "
	"\"remove_on_exit\": false, \"network\": {\"mode\": \"none\"}, "
	"\"cgroup\": {\"root\": \"acre\", \"name\": \"s1\", \"id\": 7}}";

static const char pool_item[] =
	"{\"id\": \"web\", \"name\": \"web\", \"uid\": 3, \"state\": \"running\", \"reason\": "
	"\"\", "
	"\"node\": \"vm-1\", \"assigned\": true, \"desired\": \"run\", \"restart\": \"never\", "
	"\"restarts\": 0, \"resources\": {\"cpus\": 0.0, \"memory\": 268435456}, "
	"\"created_at\": 1700000000000, \"updated_at\": 1700000000300, \"exit\": null, "
	"\"replacements\": 0, \"command\": \"sleep 600\", \"labels\": {\"app\": \"web\"}}";

static const char pool_detail[] =
	"{\"id\": \"web\", \"name\": \"web\", \"uid\": 3, \"state\": \"pending\", "
	"\"reason\": \"no node has room\", \"node\": null, \"assigned\": false, "
	"\"desired\": \"run\", \"restart\": \"always\", \"restarts\": 0, "
	"\"resources\": {\"cpus\": 1.0, \"memory\": 0}, \"created_at\": 1700000000000, "
	"\"updated_at\": 1700000000300, \"exit\": null, \"replacements\": 0, "
	"\"placement\": {\"strategy\": \"binpack\", \"constraints\": [\"zone==a\"]}, "
	"\"command\": \"sleep 600\", \"labels\": {}, "
	"\"spec\": {\"resources\": {\"cpus\": 1, \"pids\": 32}}}";

static void test_shape_node(void **state)
{
	(void)state;
	_cleanup_json_ json_t *in = parse(node_summary);
	_cleanup_json_ json_t *s = slice_shape_node(in, false);
	_cleanup_json_ json_t *want = parse(
		"{\"name\": \"web\", \"state\": \"running\", \"reason\": \"\", \"node\": null, "
		"\"command\": \"sleep 600\", \"labels\": {\"app\": \"web\"}, "
		"\"resources\": {\"cpus\": null, \"memory\": 67108864, \"pids\": null}, "
		"\"restarts\": 1, \"pid\": 412, \"created_at\": 1700000000000, "
		"\"started_at\": 1700000000100, \"finished_at\": null, \"updated_at\": null, "
		"\"health\": null}");
	assert_true(json_equal(s, want));

	_cleanup_json_ json_t *din = parse(node_detail);
	_cleanup_json_ json_t *d = slice_shape_node(din, true);
	assert_true(json_is_null(json_object_get(d, "pid")));
	assert_int_equal(json_integer_value(json_object_get(d, "task_pid")), 2);
	assert_string_equal(render_str(d, "restart"), "on-failure:3");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "cgroup"), "id")),
			 7);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "exit"), "status")),
			 0);
	assert_true(json_is_null(json_object_get(d, "placement")));
	assert_true(json_is_null(json_object_get(d, "desired")));
	json_t *r = json_object_get(d, "resources");
	assert_true(json_number_value(json_object_get(r, "cpus")) == 0.5);
	assert_int_equal(json_integer_value(json_object_get(r, "pids")), 64);
}

static void test_shape_pool(void **state)
{
	(void)state;
	_cleanup_json_ json_t *in = parse(pool_item);
	_cleanup_json_ json_t *s = slice_shape_pool(in, false);
	assert_string_equal(render_str(s, "node"), "vm-1");
	assert_true(json_is_null(json_object_get(s, "pid")));
	/* 0 CPUs is no limit: null, as from a node. */
	json_t *r = json_object_get(s, "resources");
	assert_true(json_is_null(json_object_get(r, "cpus")));
	assert_int_equal(json_integer_value(json_object_get(r, "memory")), 268435456);
	assert_int_equal(json_integer_value(json_object_get(s, "updated_at")), 1700000000300);
	/* The API's own ids stay out: name is the one key. */
	assert_null(json_object_get(s, "uid"));
	assert_null(json_object_get(s, "assigned"));

	_cleanup_json_ json_t *din = parse(pool_detail);
	_cleanup_json_ json_t *d = slice_shape_pool(din, true);
	assert_true(json_is_null(json_object_get(d, "node")));
	assert_string_equal(render_str(d, "desired"), "run");
	assert_string_equal(render_str(d, "restart"), "always");
	assert_string_equal(render_str(json_object_get(d, "placement"), "strategy"), "binpack");
	assert_true(json_is_null(json_object_get(d, "cgroup")));
	r = json_object_get(d, "resources");
	assert_true(json_is_null(json_object_get(r, "memory")));
	assert_int_equal(json_integer_value(json_object_get(r, "pids")), 32);
}

/* The point of the shapes: a script reads the same keys whoever answered. */
static void test_same_keys(void **state)
{
	(void)state;
	char a[1024], b[1024];
	_cleanup_json_ json_t *n = parse(node_summary), *p = parse(pool_item);
	_cleanup_json_ json_t *ns = slice_shape_node(n, false), *ps = slice_shape_pool(p, false);
	keys_of(ns, a, sizeof(a));
	keys_of(ps, b, sizeof(b));
	assert_string_equal(a, b);
	assert_string_equal(a, "command,created_at,finished_at,health,labels,name,node,pid,reason,"
			       "resources,restarts,started_at,state,updated_at");
	keys_of(json_object_get(ns, "resources"), a, sizeof(a));
	keys_of(json_object_get(ps, "resources"), b, sizeof(b));
	assert_string_equal(a, b);

	_cleanup_json_ json_t *nd = parse(node_detail), *pd = parse(pool_detail);
	_cleanup_json_ json_t *nds = slice_shape_node(nd, true), *pds = slice_shape_pool(pd, true);
	keys_of(nds, a, sizeof(a));
	keys_of(pds, b, sizeof(b));
	assert_string_equal(a, b);

	/* Odd replies still give every key. */
	_cleanup_json_ json_t *empty = json_object();
	_cleanup_json_ json_t *es = slice_shape_pool(empty, true);
	keys_of(es, b, sizeof(b));
	assert_string_equal(a, b);
}

static void test_shape_results(void **state)
{
	(void)state;
	_cleanup_json_ json_t *node_kill = parse("{\"name\": \"web\", \"signal\": \"TERM\"}");
	_cleanup_json_ json_t *k = slice_shape_kill(node_kill, "web");
	_cleanup_json_ json_t *want_k =
		parse("{\"name\": \"web\", \"node\": null, \"signal\": \"TERM\"}");
	assert_true(json_equal(k, want_k));
	/* The pool killing a slice it never placed answers with the slice: no signal. */
	_cleanup_json_ json_t *pending = parse(pool_detail);
	_cleanup_json_ json_t *kp = slice_shape_kill(pending, "web");
	assert_true(json_is_null(json_object_get(kp, "signal")));

	_cleanup_json_ json_t *pool_rm =
		parse("{\"name\": \"web\", \"removing\": true, \"node\": \"vm-1\"}");
	_cleanup_json_ json_t *r = slice_shape_rm(pool_rm, "web");
	_cleanup_json_ json_t *want_r = parse(
		"{\"name\": \"web\", \"node\": \"vm-1\", \"removed\": false, \"removing\": true}");
	assert_true(json_equal(r, want_r));
	_cleanup_json_ json_t *node_rm = parse("{\"name\": \"web\", \"removed\": true}");
	_cleanup_json_ json_t *nr = slice_shape_rm(node_rm, "other");
	assert_string_equal(render_str(nr, "name"), "web");
	assert_true(json_is_true(json_object_get(nr, "removed")));
}

static void test_filter(void **state)
{
	(void)state;
	struct acre_error err = {0};
	struct slice_filter f = {0};
	_cleanup_json_ json_t *web = parse("{\"name\": \"w\", \"state\": \"running\", \"labels\": "
					   "{\"app\": \"web\", \"t\": \"a=b\"}}");
	_cleanup_json_ json_t *db =
		parse("{\"name\": \"d\", \"state\": \"exited\", \"labels\": {\"app\": \"db\"}}");
	assert_true(slice_filter_match(&f, web));

	assert_int_equal(slice_filter_add_label(&f, "novalue", &err), -EINVAL);
	assert_string_equal(err.field, "--label");
	assert_int_equal(slice_filter_add_label(&f, "=web", &err), -EINVAL);
	assert_int_equal(slice_filter_add_label(&f, "app=web", &err), 0);
	assert_true(slice_filter_match(&f, web));
	assert_false(slice_filter_match(&f, db));
	/* Every label must match; a value may hold '='. */
	assert_int_equal(slice_filter_add_label(&f, "t=a=b", &err), 0);
	assert_true(slice_filter_match(&f, web));
	assert_int_equal(slice_filter_add_label(&f, "t=other", &err), 0);
	assert_false(slice_filter_match(&f, web));
	acre_vec_free(&f.labels);

	struct slice_filter g = {0};
	assert_int_equal(slice_filter_set_state(&g, "sleeping", &err), -EINVAL);
	assert_string_equal(err.field, "--state");
	assert_int_equal(slice_filter_set_state(&g, "exited", &err), 0);
	assert_false(slice_filter_match(&g, web));
	assert_true(slice_filter_match(&g, db));
	/* An empty label value is a value: app= matches only app "". */
	assert_int_equal(slice_filter_add_label(&g, "app=", &err), 0);
	assert_false(slice_filter_match(&g, db));
	acre_vec_free(&g.labels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),	   cmocka_unit_test(test_error),
		cmocka_unit_test(test_shape_node), cmocka_unit_test(test_shape_pool),
		cmocka_unit_test(test_same_keys),  cmocka_unit_test(test_shape_results),
		cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests_name("cli_render", tests, NULL, NULL);
}
