/*
 * The pool's objects in one shape, whichever encoder writes them: every
 * change a pool publishes while its slices are created (with labels, a
 * placement, odd characters), run, fail with an exit record, are killed
 * and removed, and while its node comes and goes, is written by the JSON
 * writer (pool_change_write, what the event log stores and streams)
 * exactly as json_dumps writes the jansson objects the API shows
 * (pool_change_json), labels included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonw.h"
#include "controller/pool/internal.h"

struct fixture {
	struct pool *p;
	struct pool_node *n;
	struct acre_jsonw w;
	int compared;
};

static void expect_same(struct acre_jsonw *w, json_t *j, const char *what,
			const struct pool_change *ch)
{
	_cleanup_free_ char *want = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	assert_non_null(want);
	const char *got = acre_jsonw_text(w);
	if (!got || strcmp(got, want))
		fail_msg("%s of %s %s: the writer gave\n%s\njansson gives\n%s", what,
			 pool_change_type(ch), ch->event, got ? got : "(nothing)", want);
}

static void changed(void *ud, const struct pool_change *ch)
{
	struct fixture *f = ud;
	acre_jsonw_reset(&f->w);
	pool_change_write(&f->w, ch);
	expect_same(&f->w, pool_change_json(ch), "the object", ch);
	acre_jsonw_reset(&f->w);
	pool_change_write_labels(&f->w, ch);
	expect_same(&f->w, pool_change_labels(ch), "the labels", ch);
	f->compared++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct pool_options o = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	struct acre_error err = {0};
	assert_int_equal(pool_open(NULL, &o, &f->p, &err), 0);
	struct pool_subscriber s = {.changed = changed, .ud = f};
	assert_int_equal(pool_subscribe(f->p, &s), 0);
	acre_jsonw_init(&f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pool_close(f->p);
	acre_jsonw_free(&f->w);
	free(f);
	return 0;
}

static void node_joins(struct fixture *f)
{
	static int conn; /* stands for a connection: the pool only compares it */
	_cleanup_json_ json_t *attrs = json_pack("{s:s,s:s}", "zone", "a", "rack", "r\"1");
	struct pool_registration r = {.id = "n1",
				      .secret_hash = "00",
				      .hostname = "h\\1",
				      .version = "",
				      .address = "test",
				      .cpus = 3000,
				      .memory = 1ULL << 40,
				      .attributes = attrs};
	struct acre_error err = {0};
	assert_int_equal(pool_node_register(f->p, &r, &conn, &f->n, &err), 0);
	pool_node_sync(f->p, f->n, NULL, 0, NULL);
}

static struct pool_slice *create(struct fixture *f, const char *spec_text,
				 const char *placement_text)
{
	json_error_t jerr;
	_cleanup_json_ json_t *spec = json_loads(spec_text, 0, &jerr);
	assert_non_null(spec);
	struct acre_placement placement;
	struct acre_error err = {0};
	if (placement_text) {
		_cleanup_json_ json_t *pj = json_loads(placement_text, 0, &jerr);
		assert_non_null(pj);
		assert_int_equal(acre_proto_placement_from_json(pj, &placement, &err), 0);
	}
	struct pool_slice *sl;
	if (pool_slice_create(f->p, spec, placement_text ? &placement : NULL, &sl, &err) < 0)
		fail_msg("creating a slice: %s", err.message);
	return sl;
}

static void test_one_shape_whichever_encoder(void **state)
{
	struct fixture *f = *state;
	node_joins(f);
	struct pool_slice *web = create(
		f,
		"{\"name\": \"web-1\", \"command\": [\"true\"], \"resources\": {\"cpus\": 0.1},"
		" \"labels\": {\"app\": \"web\", \"tier\": \"front \\\"1\\\"\", "
		"\"\\u00e9t\\u00e9\": \"\\u2603\"}}",
		NULL);
	struct pool_slice *bare = create(
		f,
		"{\"name\": \"bare\", \"command\": [\"true\"], \"resources\": {\"cpus\": 1.25},"
		" \"restart\": \"on-failure:3\"}",
		NULL);
	create(f, "{\"name\": \"again\", \"command\": [\"true\"], \"restart\": \"always\"}", NULL);
	create(f,
	       "{\"name\": \"placed\", \"command\": [\"true\"], \"resources\": {\"cpus\": 1},"
	       " \"labels\": {\"app\": \"db\"}}",
	       "{\"constraints\": [\"zone==a\"], \"spread\": \"zone\", \"strategy\": \"spread\"}");
	/* Too big for the room left: pending, with its reason. */
	create(f, "{\"name\": \"waits\", \"command\": [\"true\"], \"resources\": {\"cpus\": 2}}",
	       NULL);
	_cleanup_json_ json_t *exit =
		json_pack("{s:i,s:i,s:b}", "exit_code", 3, "status", 3, "oom", 0);
	struct pool_report u[] = {
		{.seq = 1, .slice = "web-1", .state = ACRE_SLICE_RUNNING, .reason = ""},
		{.seq = 2,
		 .slice = "bare",
		 .state = ACRE_SLICE_FAILED,
		 .reason = "exit 3: \"bad\"\n\ttab",
		 .restarts = 2,
		 .exit = exit},
	};
	pool_node_update(f->p, f->n, u, ACRE_ARRAY_SIZE(u));
	struct acre_error err = {0};
	assert_true(pool_slice_kill(f->p, web, 0, &err) >= 0);
	assert_true(pool_slice_remove(f->p, bare, true, &err) >= 0);
	pool_commit(f->p);
	pool_node_disconnected(f->p, f->n, f->n->conn);
	pool_commit(f->p);
	/* created x4, states, kill, removal, node registered / ready / disconnected, and more */
	assert_true(f->compared >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_shape_whichever_encoder, setup, teardown),
	};
	return cmocka_run_group_tests_name("pool_view", tests, NULL, NULL);
}
