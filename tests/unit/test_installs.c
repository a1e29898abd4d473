/*
 * The installs runtime over a pool in memory, its nodes played in the
 * test as in test_apps_runtime.c: a package written to a repository
 * directory of the test's own, installed, upgraded, rolled back and
 * uninstalled through the real apps runtime, reconciliation and pool
 * verbs.  The end-to-end test on real nodes is tests/integration/test_pkg.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>

#include "controller/packages/packages.h"
#include "controller/packages/runtime.h" /* the row, to see the secret kept */
#include "controller/pool/pool.h"

struct world {
	struct pool *p;
	struct apps *a;
	struct installs *s;
	struct pool_node *n[2];
	int64_t seq[2];
	char dir[64];
	const char *fail_app, *fail_version; /* its instances at that version fail as they start */
};

static int conn[2];

static void put(const char *dir, const char *path, const char *text)
{
	char full[512];
	snprintf(full, sizeof(full), "%s/%s", dir, path);
	for (char *s = full + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(full, 0755);
		*s = '/';
	}
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* kv VERSION: one app INSTALL running /bin/kv-VERSION --port PORT, and a second one when extra. */
static void write_kv(const char *dir, const char *version, const char *from, const char *command)
{
	char path[128], text[1024];
	snprintf(path, sizeof(path), "kv/%s/package.json", version);
	snprintf(text, sizeof(text),
		 "{\"name\": \"kv\", \"version\": \"%s\", \"description\": \"a key-value store\","
		 " \"tags\": [\"database\"], \"upgrades_from\": [%s]}",
		 version, from);
	put(dir, path, text);
	snprintf(path, sizeof(path), "kv/%s/config.json", version);
	put(dir, path,
	    "{\"type\": \"object\", \"properties\": {"
	    "\"port\": {\"type\": \"integer\", \"default\": 6000, \"minimum\": 1, \"maximum\": "
	    "65535},"
	    "\"extra\": {\"type\": \"boolean\", \"default\": false},"
	    "\"token\": {\"type\": \"string\", \"secret\": true}}}");
	snprintf(path, sizeof(path), "kv/%s/templates/kv.json", version);
	snprintf(text, sizeof(text),
		 "{\"app\": {\"name\": \"{{install.name}}\", \"instances\": 2, \"slice\": {"
		 "\"command\": [\"%s\", \"--port\", \"{{options.port | text}}\"],"
		 " \"resources\": {\"cpus\": 0.5, \"memory\": \"64M\"}}}}",
		 command);
	put(dir, path, text);
	snprintf(path, sizeof(path), "kv/%s/templates/side.json", version);
	put(dir, path,
	    "{\"when\": {\"options.extra\": true}, \"app\": {\"name\": \"{{install.name}}-side\","
	    " \"instances\": 1, \"dependencies\": [\"{{install.name}}\"], \"slice\": {"
	    "\"command\": [\"/bin/side\"], \"resources\": {\"cpus\": 0.5, \"memory\": "
	    "\"64M\"}}}}");
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct acre_error err = {0};
	snprintf(w->dir, sizeof(w->dir), "/tmp/acre-test-installs-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	write_kv(w->dir, "1.0.0", "", "/bin/kv-1");
	write_kv(w->dir, "2.0.0", "\"1.0.0\"", "/bin/kv-2");
	write_kv(w->dir, "3.0.0", "\"2.0.0\"", "/bin/kv-3");
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
	struct installs_options io = {.packages_dir = w->dir};
	assert_int_equal(installs_open(w->p, w->a, &io, &w->s, &err), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	installs_close(w->s);
	apps_close(w->a);
	pool_close(w->p);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	assert_int_equal(system(cmd), 0);
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

static bool fails(struct world *w, const struct pool_outbound *o)
{
	const struct pool_slice *sl = pool_slice_find(w->p, o->name);
	const char *app = sl ? pool_slice_label(sl, "acre.app") : NULL;
	const char *v = sl ? pool_slice_label(sl, "acre.version") : NULL;
	return w->fail_app && app && v && !strcmp(app, w->fail_app) && !strcmp(v, w->fail_version);
}

static int pass(struct world *w)
{
	apps_reconcile(w->a);
	installs_tick(w->s);
	pool_commit(w->p);
	int count = 0;
	struct pool_outbound *o = pool_outbound_take(w->p), *next;
	for (; o; o = next) {
		next = o->out_next;
		count++;
		if (o->op == POOL_OP_ASSIGN && pool_assign_current(w->p, o)) {
			pool_assign_result(w->p, o->node, o->name, o->slice_id, NULL);
			report(w, o->node, o->name,
			       fails(w, o) ? ACRE_SLICE_FAILED : ACRE_SLICE_RUNNING);
		} else if (o->op == POOL_OP_KILL) {
			report(w, o->node, o->name, ACRE_SLICE_KILLED);
		} else if (o->op == POOL_OP_REMOVE) {
			pool_remove_gone(w->p, o->node, o->name, o->slice_id);
		}
		pool_outbound_free(o);
	}
	return count;
}

/* Passes until the install's operation ended (at most 300). */
static json_t *settle(struct world *w, const char *name)
{
	for (int i = 0; i < 300; i++) {
		pass(w);
		json_t *out = NULL;
		struct acre_error err = {0};
		if (installs_show(w->s, name, &out, &err) < 0)
			return NULL;
		if (json_is_null(json_object_get(out, "operation")))
			return out;
		json_decref(out);
	}
	fail_msg("install %s never settled", name);
	return NULL;
}

static const char *sget(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void test_catalog(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	_cleanup_json_ json_t *all = installs_catalog_json(w->s, NULL);
	json_t *kv = json_array_get(json_object_get(all, "packages"), 0);
	assert_string_equal(sget(kv, "name"), "kv");
	assert_string_equal(sget(kv, "latest"), "3.0.0");
	assert_int_equal(json_array_size(json_object_get(kv, "versions")), 3);
	_cleanup_json_ json_t *hit = installs_catalog_json(w->s, "DATABASE");
	assert_int_equal(json_array_size(json_object_get(hit, "packages")), 1);
	_cleanup_json_ json_t *miss = installs_catalog_json(w->s, "nothing-like-it");
	assert_int_equal(json_array_size(json_object_get(miss, "packages")), 0);
	json_t *show = NULL;
	assert_int_equal(installs_package_json(w->s, "kv", "1.0.0", &show, &err), 0);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(show, "defaults"), "port")),
		6000);
	json_decref(show);
	assert_int_equal(installs_package_json(w->s, "kv", "9.9.9", &show, &err), -ENOENT);
	assert_string_equal(err.field, "version");
	/* A repository added and removed; the shipped one stays. */
	_cleanup_json_ json_t *body = json_pack("{s:s,s:s}", "name", "mine", "dir", "/nonexistent");
	assert_int_equal(installs_repo_add(w->s, body, &show, &err), -ENOENT);
	json_object_set_new(body, "dir", json_string(w->dir));
	assert_int_equal(installs_repo_add(w->s, body, &show, &err), 0);
	json_decref(show);
	assert_int_equal(installs_repo_add(w->s, body, &show, &err), -EEXIST);
	assert_int_equal(installs_repo_remove(w->s, "acre", &err), -EPERM);
	assert_int_equal(installs_repo_remove(w->s, "mine", &err), 0);
}

static void test_install_upgrade_uninstall(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL, *out = NULL;
	/* A bad option is refused, naming it, before anything is made. */
	_cleanup_json_ json_t *bad = json_pack("{s:i}", "port", 70000);
	struct install_request r = {.package = "kv", .version = "1.0.0", .options = bad};
	assert_int_equal(installs_install(w->s, &r, &reply, &err), -EINVAL);
	assert_non_null(strstr(err.message, "options.port: 70000"));
	assert_int_equal(installs_show(w->s, "kv", &out, &err), -ENOENT);
	assert_int_equal(apps_show(w->a, "kv", &out, &err), -ENOENT);
	/* --set is typed by the schema: a word for a port is refused, naming it. */
	_cleanup_json_ json_t *set = json_pack("[s]", "port=abc");
	struct install_request rs = {.package = "kv", .set = set, .dry_run = true};
	assert_int_equal(installs_install(w->s, &rs, &reply, &err), -EINVAL);
	assert_string_equal(err.field, "options.port");
	json_array_set_new(set, 0, json_string("port=7000"));
	assert_int_equal(installs_install(w->s, &rs, &reply, &err), 0);
	assert_string_equal(sget(reply, "version"), "3.0.0"); /* the newest, when none is given */
	json_decref(reply);
	/* A dry run shows the plan and makes nothing. */
	_cleanup_json_ json_t *opts = json_pack("{s:s}", "token", "s3cret");
	r.options = opts;
	r.dry_run = true;
	assert_int_equal(installs_install(w->s, &r, &reply, &err), 0);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(reply, "plan"), "order"), 0)),
			    "kv");
	assert_string_equal(sget(json_object_get(reply, "options"), "token"), PKG_SECRET_REDACTED);
	json_decref(reply);
	assert_int_equal(apps_show(w->a, "kv", &out, &err), -ENOENT);
	/* The install: running once its apps' deployments succeed. */
	r.dry_run = false;
	assert_int_equal(installs_install(w->s, &r, &reply, &err), 0);
	assert_string_equal(sget(json_object_get(reply, "install"), "state"), "installing");
	json_decref(reply);
	/* A second operation meanwhile is refused with the running one's id. */
	struct install_request up = {.name = "kv", .version = "2.0.0"};
	assert_int_equal(installs_upgrade(w->s, &up, &reply, &err), -EBUSY);
	assert_non_null(strstr(err.message, "o-1"));
	assert_int_equal(installs_install(w->s, &r, &reply, &err), -EBUSY);
	assert_int_equal(
		installs_rollback(w->s, &(struct install_request){.name = "kv"}, &reply, &err),
		-EBUSY);
	assert_string_equal(err.field, "operation");
	out = settle(w, "kv");
	assert_string_equal(sget(out, "state"), "running");
	assert_int_equal(json_integer_value(json_object_get(out, "revision")), 1);
	assert_string_equal(sget(json_object_get(out, "options"), "token"), PKG_SECRET_REDACTED);
	assert_string_equal(sget(json_object_get(out, "last_operation"), "result"), "succeeded");
	json_decref(out);
	const struct pool_slice *sl = pool_slice_find(w->p, "kv-1");
	assert_non_null(sl);
	assert_string_equal(pool_slice_label(sl, PKG_LABEL_INSTALL), "kv");
	/* The secret option reaches the instance as a slice secret, shown redacted. */
	_cleanup_json_ json_t *shown = NULL;
	assert_int_equal(apps_show(w->a, "kv", &shown, &err), 0);
	assert_string_equal(
		sget(json_object_get(json_object_get(json_object_get(shown, "spec"), "slice"),
				     "secrets"),
		     "token"),
		"<redacted>");
	assert_non_null(strstr(sl->spec ? sl->spec->text : "", "s3cret"));
	/* A user may not change the install's app. */
	_cleanup_json_ json_t *mine = json_pack("{s:s,s:i,s:{s:[s]}}", "name", "kv", "instances", 1,
						"slice", "command", "/bin/x");
	struct apps_request ar = {.name = "kv"};
	bool created;
	assert_int_equal(apps_update(w->a, mine, &ar, &reply, &created, &err), -EPERM);
	/* 3.0.0 upgrades from 2.0.0 only. */
	up.version = "3.0.0";
	assert_int_equal(installs_upgrade(w->s, &up, &reply, &err), -EPERM);
	assert_non_null(strstr(err.message, "2.0.0"));
	/* A dry run of 2.0.0 with the side app: the diff, nothing changed. */
	/* The secret sent back masked, as the API shows it: it keeps its value. */
	_cleanup_json_ json_t *extra =
		json_pack("{s:b,s:s}", "extra", 1, "token", PKG_SECRET_REDACTED);
	up.version = "2.0.0";
	up.options = extra;
	up.dry_run = true;
	assert_int_equal(installs_upgrade(w->s, &up, &reply, &err), 0);
	json_t *diff = json_object_get(reply, "diff");
	assert_string_equal(json_string_value(json_array_get(json_object_get(diff, "added"), 0)),
			    "kv-side");
	assert_string_equal(sget(json_array_get(json_object_get(diff, "changed"), 0), "name"),
			    "kv");
	json_decref(reply);
	assert_int_equal(apps_show(w->a, "kv-side", &out, &err), -ENOENT);
	up.dry_run = false;
	assert_int_equal(installs_upgrade(w->s, &up, &reply, &err), 0);
	json_decref(reply);
	out = settle(w, "kv");
	assert_string_equal(sget(out, "state"), "running");
	assert_string_equal(sget(out, "version"), "2.0.0");
	assert_int_equal(json_integer_value(json_object_get(out, "revision")), 2);
	json_decref(out);
	const struct install *in = install_find(w->s, "kv");
	assert_string_equal(sget(json_object_get(in->row, "options"), "token"), "s3cret");
	assert_int_equal(apps_show(w->a, "kv-side", &out, &err), 0);
	json_decref(out);
	/* Rollback to revision 1: the side app goes, kv runs 1.0.0's command again. */
	struct install_request rb = {.name = "kv", .revision = 1};
	assert_int_equal(installs_rollback(w->s, &rb, &reply, &err), 0);
	json_decref(reply);
	out = settle(w, "kv");
	assert_string_equal(sget(out, "version"), "1.0.0");
	assert_int_equal(json_integer_value(json_object_get(out, "revision")), 3);
	json_decref(out);
	for (int i = 0; i < 20; i++)
		pass(w);
	assert_int_equal(apps_show(w->a, "kv-side", &out, &err), -ENOENT);
	/* Uninstall: nothing left, no app and no slice. */
	struct install_request un = {.name = "kv"};
	assert_int_equal(installs_uninstall(w->s, &un, &reply, &err), 0);
	assert_string_equal(sget(json_object_get(reply, "install"), "state"), "uninstalling");
	json_decref(reply);
	assert_null(settle(w, "kv"));
	assert_int_equal(apps_show(w->a, "kv", &out, &err), -ENOENT);
	assert_null(pool_slice_find(w->p, "kv-0"));
	assert_null(pool_slice_find(w->p, "kv-1"));
}

/* Uninstall takes over an install that cannot end (no room), and a second uninstall waits. */
static void test_uninstall_takes_over(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	pool_node_cordon(w->p, w->n[0], true);
	pool_node_cordon(w->p, w->n[1], true);
	struct install_request r = {.package = "kv", .version = "1.0.0"};
	assert_int_equal(installs_install(w->s, &r, &reply, &err), 0);
	json_decref(reply);
	for (int i = 0; i < 5; i++)
		pass(w);
	struct install_request un = {.name = "kv"};
	assert_int_equal(installs_uninstall(w->s, &un, &reply, &err), 0);
	json_decref(reply);
	assert_int_equal(installs_uninstall(w->s, &un, &reply, &err), -EBUSY);
	assert_null(settle(w, "kv"));
	json_t *out = NULL;
	assert_int_equal(apps_show(w->a, "kv", &out, &err), -ENOENT);
}

/* An upgrade whose app fails goes back to the revision before by itself. */
static void test_failed_upgrade_rolls_back(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	struct install_request r = {.package = "kv", .version = "1.0.0", .name = "cache"};
	assert_int_equal(installs_install(w->s, &r, &reply, &err), 0);
	json_decref(reply);
	json_t *out = settle(w, "cache");
	assert_string_equal(sget(out, "state"), "running");
	json_decref(out);
	w->fail_app = "cache";
	w->fail_version = "2";
	struct install_request up = {.name = "cache", .version = "2.0.0"};
	assert_int_equal(installs_upgrade(w->s, &up, &reply, &err), 0);
	json_decref(reply);
	out = settle(w, "cache");
	assert_string_equal(sget(out, "state"), "running");
	assert_string_equal(sget(out, "version"), "1.0.0");
	assert_string_equal(sget(json_object_get(out, "last_operation"), "result"), "rolled_back");
	json_decref(out);
	/*
	 * Rolled back means back: the app's own rollback deployment (its
	 * failed instance stopped) is followed to its end, not cancelled.
	 */
	assert_int_equal(apps_show(w->a, "cache", &out, &err), 0);
	const json_t *dep = json_object_get(out, "deployment");
	assert_true(json_is_null(dep) || strcmp(sget(dep, "state"), "running"));
	json_decref(out);
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cache-%d", i);
		const struct pool_slice *sl = pool_slice_find(w->p, name);
		const char *v = sl ? pool_slice_label(sl, "acre.version") : NULL;
		if (v)
			assert_string_not_equal(v, "2");
	}
	json_t *ds = apps_deployments_json(w->a, "cache", false);
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(ds, "deployments"), i, d)
		assert_string_not_equal(sget(d, "state"), "cancelled");
	json_decref(ds);
}

/*
 * A first install that fails leaves nothing behind: its instances fail
 * and keep failing (a first version has nothing to go back to) until its
 * deployment is ended, here cancelled as a user would.
 */
static void test_failed_install_leaves_nothing(void **state)
{
	struct world *w = *state;
	struct acre_error err = {0};
	json_t *reply = NULL;
	w->fail_app = "kv";
	w->fail_version = "1";
	struct install_request r = {.package = "kv", .version = "1.0.0"};
	assert_int_equal(installs_install(w->s, &r, &reply, &err), 0);
	json_decref(reply);
	for (int i = 0; i < 5; i++)
		pass(w);
	assert_int_equal(apps_deployment_cancel(w->a, "d-1", false, &reply, &err), 0);
	json_decref(reply);
	json_t *out = settle(w, "kv");
	assert_string_equal(sget(out, "state"), "failed");
	json_decref(out);
	for (int i = 0; i < 20; i++)
		pass(w);
	assert_int_equal(apps_show(w->a, "kv", &out, &err), -ENOENT);
	assert_null(pool_slice_find(w->p, "kv-0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_upgrade_uninstall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_upgrade_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uninstall_takes_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_install_leaves_nothing, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
