/*
 * The apps of a pool: the registry (sorted by name), opening it from the
 * store, and the subscription to the pool's changes that marks an app to
 * reconcile whenever one of its instances changes.  The reconciliation
 * itself runs at the end of the pass (apps_reconcile), never inside the
 * pool's callback: the pool's verbs are not to be called from within a
 * change they publish.
 */
#include "runtime.h"

#include "controller/store/store.h"

struct app *apps_find(struct apps *a, const char *name)
{
	size_t lo = 0, hi = a->apps.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(a->apps.v[mid]->name, name);
		if (!c)
			return a->apps.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int apps_insert(struct apps *a, struct app *app)
{
	if (acre_vec_reserve(&a->apps, 1) < 0)
		return -ENOMEM;
	size_t i = 0;
	while (i < a->apps.n && strcmp(a->apps.v[i]->name, app->name) < 0)
		i++;
	memmove(&a->apps.v[i + 1], &a->apps.v[i], (a->apps.n - i) * sizeof(*a->apps.v));
	a->apps.v[i] = app;
	a->apps.n++;
	return 0;
}

/* Out of the registry; freed once its row is deleted at the commit. */
static void unlink_app(struct apps *a, struct app *app)
{
	for (size_t i = 0; i < a->apps.n; i++) {
		if (a->apps.v[i] == app) {
			memmove(&a->apps.v[i], &a->apps.v[i + 1],
				(a->apps.n - i - 1) * sizeof(*a->apps.v));
			a->apps.n--;
			break;
		}
	}
}

void app_free(struct app *app)
{
	if (!app)
		return;
	app_versions_free(&app->versions);
	app_spec_free(&app->spec);
	app_spec_free(&app->target_spec);
	for (size_t i = 0; i < app->deploys.n; i++)
		deploy_free(app->deploys.v[i]);
	acre_vec_free(&app->deploys);
	acre_vec_free(&app->backlog);
	free(app->slots);
	free(app);
}

void app_touch(struct app *app)
{
	app->dirty = true;
	app->converging = false;
}

int app_slots_reserve(struct app *app, size_t n)
{
	if (n <= app->nslots)
		return 0;
	struct app_slot *s = realloc(app->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(&s[app->nslots], 0, (n - app->nslots) * sizeof(*s));
	app->slots = s;
	app->nslots = n;
	return 0;
}

int app_spec_for_instances(struct app *app, uint32_t v, struct app_spec *out,
			   struct acre_error *err)
{
	for (size_t i = app->versions.n; i-- > 0;)
		if (app->versions.v[i].instance_version == v)
			return app_spec_parse(app->versions.v[i].spec, out, err);
	return acre_error_set(err, ENOENT, "version",
			      "no kept version of %s runs instances of version %u", app->name, v);
}

void app_changed(struct apps *a, struct app *app, const char *event)
{
	app->row_dirty = true;
	app->updated_at = acre_now_ms();
	_cleanup_json_ json_t *j = app_brief_json(a, app);
	_cleanup_json_ json_t *labels = json_pack("{s:s}", APP_LABEL_APP, app->name);
	if (j && labels)
		pool_publish_object(a->pool, "app", event, j, labels);
	if (!strcmp(event, "removed")) {
		app->gone = true;
		unlink_app(a, app);
		if (acre_vec_push(&a->gone, app) < 0) {
			acre_log(ACRE_LOG_ERROR, "event=apps_failed action=exit "
						 "error=\"out of memory\"");
			_exit(1);
		}
	}
}

/*
 * A converging app's instance came further up (started, running, healthy
 * and ready): counted, not reconciled, since the planner would do nothing
 * but wait for the rest (a scale to 100,000 is 300,000 such changes).
 * Anything else, and the last one up, asks for a reconciliation.
 */
static bool counted(struct app *app, const struct pool_change *ch)
{
	const struct pool_slice *sl = ch->slice;
	/* A slice created or removed is never progress of one listed. */
	if (!app->converging || sl->removed ||
	    (strcmp(ch->event, "state") && strcmp(ch->event, "health")))
		return false;
	unsigned i;
	uint32_t version;
	if (!app_instance_labels(sl, &i, &version) || i >= app->nslots ||
	    i >= (unsigned)app->spec.instances || version != app->target)
		return false;
	enum app_instance_state st;
	if (!app_instance_state_from_slice(sl->state, sl->desired != POOL_DESIRED_RUN,
					   sl->checked ? sl->health : ACRE_HEALTH_NONE, &st) ||
	    (st != APP_INSTANCE_STARTING && st != APP_INSTANCE_HEALTHY))
		return false;
	struct app_slot *slot = &app->slots[i];
	uint8_t level = app_instance_level(sl);
	if (!slot->listed || level < slot->level)
		return false;
	app->running += slot->level == 0 && level >= 1;
	if (slot->level < 2 && level == 2) {
		app->healthy++;
		app_restarts_healthy(&slot->restarts, acre_now_ms());
	}
	slot->level = level;
	if (app->healthy < app->spec.instances)
		return true;
	/* The last one up: the deployment ends now, not at a large app's next pass. */
	app->next_pass_ms = 0;
	return false;
}

/* An instance of an app changed (or a node, whose instances may have): reconcile it. */
static void changed(void *ud, const struct pool_change *ch)
{
	struct apps *a = ud;
	if (ch->kind == POOL_CHANGE_NODE) {
		/*
		 * A node that comes, goes or is cordoned changes where instances may
		 * run.  A converging app waits only for its instances, and what a node
		 * does to those (placed once it has room, lost with it) comes as
		 * their own changes.
		 */
		if (strcmp(ch->event, "updated") != 0)
			for (size_t i = 0; i < a->apps.n; i++)
				if (!a->apps.v[i]->converging)
					app_touch(a->apps.v[i]);
		return;
	}
	if (ch->kind != POOL_CHANGE_SLICE || ch->quiet)
		return;
	const char *name = pool_slice_label(ch->slice, APP_LABEL_APP);
	struct app *app = name ? apps_find(a, name) : NULL;
	if (app && !app->reconciling && !counted(app, ch))
		app_touch(app);
}

static int committing(void *ud, struct acre_error *err)
{
	return apps_store_write(ud, err);
}

static void committed(void *ud)
{
	struct apps *a = ud;
	for (size_t i = 0; i < a->gone.n; i++)
		app_free(a->gone.v[i]);
	a->gone.n = 0;
}

int apps_open(struct pool *p, const struct apps_options *o, struct apps **out,
	      struct acre_error *err)
{
	*out = NULL;
	struct apps *a = calloc(1, sizeof(*a));
	if (!a)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	a->pool = p;
	a->opt = *o;
	if (!a->opt.step_deadline_ms)
		a->opt.step_deadline_ms = 5 * 60 * 1000;
	if (!a->opt.deployments_kept)
		a->opt.deployments_kept = 100;
	a->next_deploy_id = 1;
	int rc = 0;
	if (pool_store(p))
		rc = apps_store_open(a, err);
	if (rc == 0 && pool_store(p))
		rc = apps_store_load(a, err);
	if (rc == 0 && pool_store(p))
		rc = app_kept_volumes_load(a, err);
	struct pool_subscriber s = {
		.changed = changed, .committing = committing, .committed = committed, .ud = a};
	if (rc == 0 && pool_subscribe(p, &s) < 0)
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc < 0) {
		apps_close(a);
		return rc;
	}
	/* What happened while the controller was down is looked at in the first pass. */
	for (size_t i = 0; i < a->apps.n; i++)
		a->apps.v[i]->dirty = true;
	*out = a;
	return 0;
}

void apps_close(struct apps *a)
{
	if (!a)
		return;
	pool_unsubscribe(a->pool, a);
	for (size_t i = 0; i < a->apps.n; i++)
		app_free(a->apps.v[i]);
	acre_vec_free(&a->apps);
	committed(a);
	acre_vec_free(&a->gone);
	for (size_t i = 0; i < a->drains.n; i++)
		free(a->drains.v[i]);
	acre_vec_free(&a->drains);
	json_decref(a->kept);
	apps_store_close(a);
	free(a);
}

void apps_reconcile(struct apps *a)
{
	int64_t now = acre_now_ms();
	/* An app reconciled may change another's instances (a drain); a few rounds settle it. */
	for (int round = 0; round < 3; round++) {
		bool any = false;
		for (size_t i = 0; i < a->apps.n; i++) {
			struct app *app = a->apps.v[i];
			if (!app->dirty)
				continue;
			if (app->converging && app->backlog.n) {
				/* A batch a round: the nodes get the pass's while the next are
				 * made. */
				app->dirty = false;
				any = true;
				app_backlog_run(a, app, now);
				continue;
			}
			/*
			 * A large app's pass reads all its instances: it takes the changes of
			 * many passes at once (the loop's timer comes back for it).
			 */
			if (app->nslots >= APPS_LARGE && now < app->next_pass_ms)
				continue;
			if (app->nslots >= APPS_LARGE) {
				/* The larger, the rarer: 100 ms at 40,000 instances, 250 at
				 * 100,000. */
				int64_t every = (int64_t)app->nslots / 400;
				app->next_pass_ms =
					now + (every < APPS_LARGE_EVERY_MS ? APPS_LARGE_EVERY_MS
					       : every > 500		   ? 500
									   : every);
			}
			app->dirty = false;
			any = true;
			app_reconcile(a, app, now);
			if (i < a->apps.n && a->apps.v[i] != app)
				i--; /* it was removed: the next one moved here */
		}
		if (!any)
			break;
	}
}

bool apps_busy(const struct apps *a)
{
	for (size_t i = 0; i < a->apps.n; i++)
		if (a->apps.v[i]->converging && a->apps.v[i]->backlog.n)
			return true;
	return false;
}

/* Drains end when their node is uncordoned or gone. */
static void drains_trim(struct apps *a)
{
	size_t k = 0;
	for (size_t i = 0; i < a->drains.n; i++) {
		if (apps_node_draining(a, a->drains.v[i])) {
			a->drains.v[k++] = a->drains.v[i];
			continue;
		}
		acre_log(ACRE_LOG_INFO, "event=node_drain_ended node=%s", a->drains.v[i]);
		free(a->drains.v[i]);
		a->drains_dirty = true;
	}
	a->drains.n = k;
}

void apps_tick(struct apps *a)
{
	drains_trim(a);
	/*
	 * Back-off timers, deadlines and retries each app asked for; while a
	 * node drains, every app (its instances there move as others come up).
	 */
	int64_t now = acre_now_ms();
	for (size_t i = 0; i < a->apps.n; i++) {
		struct app *app = a->apps.v[i];
		if (a->drains.n || (app->wake_ms && app->wake_ms <= now))
			app_touch(app);
	}
}
