/*
 * Deployments: every change of an app is one, with its steps as they
 * happen (each also an event), what it waits for, and how it ended.  An
 * app has at most one running; the newest deployments_kept of each app
 * are kept, in the store and in memory.
 */
#include "runtime.h"

#include <stdarg.h>

static const char *const state_names[] = {"running",	 "succeeded", "failed",
					  "rolled_back", "cancelled", "paused"};

const char *deploy_state_name(enum deploy_state s)
{
	return (size_t)s < ACRE_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

int deploy_state_parse(const char *s, enum deploy_state *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(state_names); i++) {
		if (!strcmp(s, state_names[i])) {
			*out = (enum deploy_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

void deploy_free(struct deploy *d)
{
	if (!d)
		return;
	json_decref(d->steps);
	json_decref(d->plan);
	free(d);
}

static json_t *nullable_int(int64_t v, bool present)
{
	return present ? json_integer(v) : json_null();
}

json_t *deploy_json(const struct deploy *d)
{
	char id[32];
	snprintf(id, sizeof(id), "d-%lld", (long long)d->id);
	return json_pack("{s:s,s:s,s:s,s:o,s:i,s:s,s:s,s:I,s:o,s:o,s:i,s:i,s:i,s:O,s:s}", "id", id,
			 "app", d->app, "kind", d->kind, "from_version",
			 nullable_int(d->from_version, d->from_version != 0), "to_version",
			 (int)d->to_version, "state", deploy_state_name(d->state), "reason",
			 d->reason, "started_at", (json_int_t)d->started_at, "ended_at",
			 nullable_int(d->ended_at, d->ended_at != 0), "deadline",
			 nullable_int(d->deadline, d->state == DEPLOY_RUNNING), "wanted",
			 (int)d->wanted, "at_target", (int)d->at_target, "available",
			 (int)d->available, "steps", d->steps, "waiting_for", d->waiting);
}

static int64_t get_int(const json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

static void get_str(const json_t *j, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(j, key));
	snprintf(buf, len, "%s", s ? s : "");
}

int deploy_from_json(const json_t *j, struct deploy *d, struct acre_error *err)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	if (!id || strncmp(id, "d-", 2) != 0 ||
	    deploy_state_parse(json_string_value(json_object_get(j, "state")), &d->state) < 0)
		return acre_error_set(err, EINVAL, "deployment",
				      "a stored deployment is unreadable");
	d->id = strtoll(id + 2, NULL, 10);
	get_str(j, "app", d->app, sizeof(d->app));
	get_str(j, "kind", d->kind, sizeof(d->kind));
	get_str(j, "reason", d->reason, sizeof(d->reason));
	get_str(j, "waiting_for", d->waiting, sizeof(d->waiting));
	d->from_version = (uint32_t)get_int(j, "from_version");
	d->to_version = (uint32_t)get_int(j, "to_version");
	d->target = (uint32_t)get_int(j, "target");
	d->started_at = get_int(j, "started_at");
	d->ended_at = get_int(j, "ended_at");
	d->progress_at = get_int(j, "progress_at");
	d->deadline = get_int(j, "deadline");
	d->wanted = (unsigned)get_int(j, "wanted");
	d->at_target = (unsigned)get_int(j, "at_target");
	d->available = (unsigned)get_int(j, "available");
	json_t *steps = json_object_get(j, "steps");
	d->steps = json_is_array(steps) ? json_incref(steps) : json_array();
	return d->steps ? 0 : acre_error_set(err, ENOMEM, NULL, "out of memory");
}

/*
 * The deployment as an event; a step's carries that step alone ("step", no
 * "steps"): with up to APPS_STEPS_MAX of them, the whole list on each of an
 * instance's steps made a scale to 100,000 write gigabytes of events.
 */
static void publish(struct apps *a, const struct deploy *d, const char *event, json_t *step)
{
	_cleanup_json_ json_t *j = deploy_json(d);
	_cleanup_json_ json_t *labels = json_pack("{s:s}", APP_LABEL_APP, d->app);
	if (j && step) {
		json_object_del(j, "steps");
		json_object_set(j, "step", step);
	}
	if (j && labels)
		pool_publish_object(a->pool, "deployment", event, j, labels);
}

/* Keeps the newest deployments_kept of the app (and the running one). */
static void trim(struct apps *a, struct app *app)
{
	while (app->deploys.n > a->opt.deployments_kept && app->deploys.v[0] != app->dep) {
		deploy_free(app->deploys.v[0]);
		memmove(&app->deploys.v[0], &app->deploys.v[1],
			(app->deploys.n - 1) * sizeof(*app->deploys.v));
		app->deploys.n--;
		app->row_dirty = true; /* the store trims with the app's row */
	}
}

struct deploy *deploy_start(struct apps *a, struct app *app, const char *kind, uint32_t from)
{
	struct deploy *d = calloc(1, sizeof(*d));
	if (!d || !(d->steps = json_array()) || acre_vec_push(&app->deploys, d) < 0) {
		deploy_free(d);
		acre_log(ACRE_LOG_ERROR, "event=apps_failed action=exit error=\"out of memory\"");
		_exit(1);
	}
	d->id = a->next_deploy_id++;
	snprintf(d->app, sizeof(d->app), "%s", app->name);
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	d->from_version = from;
	d->to_version = app->version;
	d->target = app->target;
	d->state = DEPLOY_RUNNING;
	d->started_at = d->progress_at = acre_now_ms();
	d->deadline = d->progress_at + (int64_t)a->opt.step_deadline_ms;
	d->wanted = app->spec.instances;
	d->dirty = true;
	app->dep = d;
	publish(a, d, "started", NULL);
	trim(a, app);
	app_touch(app);
	return d;
}

void deploy_step(struct apps *a, struct deploy *d, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!d) {
		acre_log(ACRE_LOG_INFO, "event=app_step text=\"%s\"", text);
		return;
	}
	/* The first steps and the newest: a crash loop of a week does not grow it without end. */
	if (json_array_size(d->steps) >= APPS_STEPS_MAX)
		json_array_remove(d->steps, APPS_STEPS_MAX / 2);
	json_t *step = json_pack("{s:I,s:s,s:i,s:i}", "at", (json_int_t)acre_now_ms(), "text", text,
				 "at_target", (int)d->at_target, "available", (int)d->available);
	json_array_append(d->steps, step);
	d->dirty = true;
	acre_log(ACRE_LOG_INFO, "event=deployment_step deployment=d-%lld app=%s text=\"%s\"",
		 (long long)d->id, d->app, text);
	publish(a, d, "step", step);
	json_decref(step);
}

void deploy_end(struct apps *a, struct app *app, enum deploy_state st, const char *reason)
{
	struct deploy *d = app->dep;
	if (!d)
		return;
	d->state = st;
	d->ended_at = acre_now_ms();
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	d->waiting[0] = '\0';
	d->dirty = true;
	app->dep = NULL;
	acre_log(st == DEPLOY_SUCCEEDED ? ACRE_LOG_INFO : ACRE_LOG_WARN,
		 "event=deployment_%s deployment=d-%lld app=%s reason=\"%s\"",
		 deploy_state_name(st), (long long)d->id, d->app, d->reason);
	publish(a, d, deploy_state_name(st), NULL);
	app->row_dirty = true;
}

struct deploy *apps_deploy_find(struct apps *a, int64_t id, struct app **owner)
{
	for (size_t i = 0; i < a->apps.n; i++) {
		struct app *app = a->apps.v[i];
		for (size_t k = 0; k < app->deploys.n; k++) {
			if (app->deploys.v[k]->id == id) {
				if (owner)
					*owner = app;
				return app->deploys.v[k];
			}
		}
	}
	return NULL;
}
