/*
 * Apps as the API shows them: an app in brief and in full, its
 * instances, its versions, why its instances do not run, and its
 * deployments.  Shapes are documented in controller/README.md ("Apps").
 */
#include "runtime.h"

const char *app_health_name(struct apps *a, struct app *app)
{
	(void)a;
	if (app->removing)
		return "removing";
	if (app->dep && app->dep->state == DEPLOY_PAUSED)
		return "paused";
	if (app->dep)
		return "deploying";
	if (!app->spec.instances)
		return "stopped";
	return app->healthy >= app->spec.instances ? "running" : "degraded";
}

static json_t *opt_int(bool present, int64_t v)
{
	return present ? json_integer(v) : json_null();
}

json_t *app_brief_json(struct apps *a, const struct app *app)
{
	char dep[32] = "";
	if (app->dep)
		snprintf(dep, sizeof(dep), "d-%lld", (long long)app->dep->id);
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:s,s:o,s:o,s:I,s:I}", "name", app->name, "version",
			 (int)app->version, "instances", (int)app->spec.instances, "running",
			 (int)app->running, "healthy", (int)app->healthy, "state",
			 app_health_name(a, (struct app *)app), "deployment",
			 dep[0] ? json_string(dep) : json_null(), "stopped_instances",
			 opt_int(app->stopped_instances >= 0, app->stopped_instances), "created_at",
			 (json_int_t)app->created_at, "updated_at", (json_int_t)app->updated_at);
}

static const char *instance_state(const struct pool_slice *sl)
{
	enum app_instance_state st;
	if (!app_instance_state_from_slice(sl->state, sl->desired != POOL_DESIRED_RUN,
					   sl->checked ? sl->health : ACRE_HEALTH_NONE, &st))
		return sl->state == ACRE_SLICE_LOST ? "unreachable" : "gone";
	return app_instance_state_name(st);
}

json_t *app_instance_json(const struct app *app, const struct app_instance_view *v)
{
	const struct pool_slice *sl = v->slice;
	json_t *ports = json_object();
	const struct app_slot *slot = v->index < app->nslots ? &app->slots[v->index] : NULL;
	for (size_t k = 0; ports && k < app->spec.nports; k++) {
		unsigned port = app->spec.ports[k].port;
		/* Picked on its node: the slice holds it; else the one it had and asks for. */
		if (!port)
			port = pool_slice_host_port(sl, app->spec.ports[k].name);
		if (!port && slot)
			port = slot->host_ports[k];
		json_object_set_new(ports, app->spec.ports[k].name, json_integer(port));
	}
	const struct pool_node *n = sl->node ? sl->node : sl->last_node;
	return json_pack(
		"{s:i,s:s,s:I,s:o,s:o,s:o,s:s,s:s,s:s,s:b,s:i,s:I,s:i}", "index", (int)v->index,
		"name", sl->name, "slice_id", (json_int_t)sl->id, "node",
		n ? json_string(n->id) : json_null(), "address",
		sl->address ? json_string(sl->address) : json_null(), "ports", ports, "state",
		instance_state(sl), "slice_state", acre_slice_state_name(sl->state), "health",
		acre_health_name(sl->checked ? sl->health : ACRE_HEALTH_NONE), "ready",
		!sl->unready, "version", (int)v->version, "started_at", (json_int_t)sl->created_at,
		"restarts", (int)(slot ? slot->restarts.n : 0));
}

static int by_index(const void *x, const void *y)
{
	const struct app_instance_view *a = x, *b = y;
	return a->index < b->index ? -1 : a->index > b->index;
}

static json_t *instances_of(struct apps *a, const struct app *app)
{
	struct app_instance_view *views = NULL;
	size_t n = 0;
	if (app_instances_collect(a, app, &views, &n) < 0)
		return NULL;
	if (n)
		qsort(views, n, sizeof(*views), by_index);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, app_instance_json(app, &views[i]));
	free(views);
	return arr;
}

json_t *apps_list_json(struct apps *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < a->apps.n; i++)
		json_array_append_new(arr, app_brief_json(a, a->apps.v[i]));
	return json_pack("{s:o}", "apps", arr);
}

static struct app *find(struct apps *a, const char *name, struct acre_error *err)
{
	struct app *app = apps_find(a, name);
	if (!app)
		acre_error_set(err, ENOENT, "name", "no app named %s", name);
	return app;
}

int apps_show(struct apps *a, const char *name, json_t **out, struct acre_error *err)
{
	struct app *app = find(a, name, err);
	if (!app)
		return -ENOENT;
	json_t *j = app_brief_json(a, app);
	struct deploy *d = app->dep	    ? app->dep
			   : app->deploys.n ? app->deploys.v[app->deploys.n - 1]
					    : NULL;
	json_t *spec = app_spec_to_json(&app->spec);
	app_spec_json_redact(spec);
	json_object_set_new(j, "spec", spec);
	json_object_set_new(j, "instances_detail", instances_of(a, app));
	json_object_set_new(j, "deployment_detail", d ? deploy_view(a, app, d) : json_null());
	*out = j;
	return 0;
}

int apps_versions_json(struct apps *a, const char *name, json_t **out, struct acre_error *err)
{
	struct app *app = find(a, name, err);
	if (!app)
		return -ENOENT;
	json_t *v = app_versions_to_json(&app->versions);
	/* A copy: the versions' specs are the app's own, kept with their secrets. */
	json_t *shown = json_deep_copy(json_object_get(v, "versions"));
	json_decref(v);
	size_t i;
	json_t *one;
	json_array_foreach (shown, i, one)
		app_spec_json_redact(json_object_get(one, "spec"));
	*out = json_pack("{s:o}", "versions", shown);
	return *out ? 0 : acre_error_set(err, ENOMEM, NULL, "out of memory");
}

int apps_instances_json(struct apps *a, const char *name, json_t **out, struct acre_error *err)
{
	struct app *app = find(a, name, err);
	if (!app)
		return -ENOENT;
	*out = json_pack("{s:o}", "instances", instances_of(a, app));
	return 0;
}

int apps_why(struct apps *a, const char *name, json_t **out, struct acre_error *err)
{
	struct app *app = find(a, name, err);
	if (!app)
		return -ENOENT;
	struct app_instance_view *views = NULL;
	size_t n = 0;
	if (app_instances_collect(a, app, &views, &n) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	unsigned pending = 0;
	json_t *names = json_array();
	for (size_t i = 0; i < n; i++) {
		if (views[i].slice->state == ACRE_SLICE_PENDING) {
			pending++;
			json_array_append_new(names, json_string(views[i].slice->name));
		}
	}
	free(views);
	const struct app_spec *s = &app->target_spec;
	struct pool_why_request r = {.cpus = s->slice.resources.cpus_milli,
				     .mem = s->slice.resources.memory,
				     .net = s->slice.resources.net_rate,
				     .ports = app_ports_picked(s),
				     .placement = &s->placement,
				     .group = app->name};
	json_t *j = pool_why(a->pool, &r);
	if (!j) {
		json_decref(names);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	json_object_set_new(j, "kind", json_string("app"));
	json_object_set_new(j, "name", json_string(app->name));
	json_object_set_new(j, "state", json_string(app_health_name(a, app)));
	json_object_set_new(j, "pending", json_integer(pending));
	json_object_set_new(j, "pending_instances", names);
	json_object_set_new(j, "instances", json_integer(app->spec.instances));
	json_object_set_new(j, "healthy", json_integer(app->healthy));
	if (app->dep && app->dep->waiting[0])
		json_object_set_new(j, "waiting_for", json_string(app->dep->waiting));
	*out = j;
	return 0;
}

#define PLAN_STEPS_MAX	 50 /* steps a deployment's plan shows ahead */
#define PLAN_ACTIONS_MAX 16 /* actions a step lists; "more" counts the rest */

static json_t *step_json(const struct app *app, const struct app_forecast_step *s, unsigned number,
			 const char *state)
{
	json_t *actions = json_array();
	for (size_t i = 0; i < s->nactions && i < PLAN_ACTIONS_MAX; i++) {
		char name[ACRE_NAME_MAX + 1];
		app_instance_name(&app->spec, s->actions[i].index, name, sizeof(name));
		json_array_append_new(
			actions,
			json_pack("{s:s,s:s,s:i}", "action",
				  s->actions[i].kind == APP_ACTION_START ? "start" : "stop",
				  "instance", name, "version", (int)s->actions[i].version));
	}
	unsigned starts = 0;
	for (size_t i = 0; i < s->nactions; i++)
		starts += s->actions[i].kind == APP_ACTION_START;
	return json_pack("{s:i,s:s,s:o,s:i,s:i,s:i}", "step", (int)number, "state", state,
			 "actions", actions, "more",
			 (int)(s->nactions > PLAN_ACTIONS_MAX ? s->nactions - PLAN_ACTIONS_MAX : 0),
			 "starts", (int)starts, "stops", (int)(s->nactions - starts));
}

/*
 * The running deployment's plan: the step under way (with its deadline and
 * what it waits for) and the steps ahead, from the planner and the
 * instances as they are now (forecast.c).
 */
static json_t *plan_json(struct apps *a, const struct app *app, const struct deploy *d)
{
	struct app_instance_view *views = NULL;
	size_t n = 0;
	if (app_instances_collect(a, app, &views, &n) < 0)
		return json_null();
	struct app_instance *inst = calloc(n + 1, sizeof(*inst));
	size_t ninst = 0;
	for (size_t i = 0; inst && i < n; i++) {
		const struct pool_slice *sl = views[i].slice;
		enum app_instance_state st;
		if (!app_instance_state_from_slice(sl->state, sl->desired != POOL_DESIRED_RUN,
						   sl->checked ? sl->health : ACRE_HEALTH_NONE,
						   &st))
			continue;
		inst[ninst++] = (struct app_instance){.index = views[i].index,
						      .version = views[i].version,
						      .state = st,
						      .ready = !sl->unready,
						      .started_at = sl->created_at,
						      .id = sl->id};
	}
	free(views);
	struct app_rollout r = {
		.wanted = app->removing ? 0 : app->spec.instances,
		.target = app->target,
		.rollback_to = app->rollback_to,
		.auto_rollback = app->spec.auto_rollback,
		.ordered = app->spec.ordered,
		.bound = app->spec.nvolumes > 0,
		.min_healthy = app->spec.min_healthy,
		.max_surge = app->spec.max_surge,
		.instances = inst,
		.ninstances = ninst,
	};
	struct app_forecast f;
	struct acre_error err = {0};
	int rc = inst ? app_rollout_forecast(&r, PLAN_STEPS_MAX, &f, &err) : -ENOMEM;
	free(inst);
	if (rc < 0)
		return json_null();
	json_t *steps = json_array();
	for (size_t i = 0; i < f.nsteps; i++) {
		bool now = i == 0 && (f.now == APP_PLAN_WAITING || f.now == APP_PLAN_ACTING);
		json_t *s = step_json(app, &f.steps[i], (unsigned)i + 1,
				      now ? "in progress" : "planned");
		if (now) {
			json_object_set_new(s, "deadline", json_integer(d->deadline));
			if (f.now_reason[0])
				json_object_set_new(s, "waiting_for", json_string(f.now_reason));
		}
		json_array_append_new(steps, s);
	}
	json_t *j = json_pack("{s:o,s:s,s:b}", "steps", steps, "ends", app_plan_state_name(f.end),
			      "truncated", f.truncated);
	if (f.reason[0])
		json_object_set_new(j, "ends_because", json_string(f.reason));
	app_forecast_free(&f);
	return j;
}

/*
 * The deployment, and while it runs its plan ahead: made again at most
 * every second, or every nslots/20 ms for a large app (5 s at 100,000),
 * since it reads every instance and runs the planner ahead.
 */
json_t *deploy_view(struct apps *a, const struct app *app, struct deploy *d)
{
	json_t *j = deploy_json(d);
	if (!j || !app || app->dep != d || d->state != DEPLOY_RUNNING)
		return j;
	int64_t now = acre_now_ms(), every = (int64_t)app->nslots / 20;
	if (!d->plan || now - d->plan_at >= (every > 1000 ? every : 1000)) {
		json_decref(d->plan);
		d->plan = plan_json(a, app, d);
		d->plan_at = now;
	}
	json_object_set(j, "plan", d->plan);
	json_object_set_new(json_object_get(j, "plan"), "made_at", json_integer(d->plan_at));
	return j;
}

static int newest_first(const void *x, const void *y)
{
	const struct deploy *a = *(const struct deploy *const *)x;
	const struct deploy *b = *(const struct deploy *const *)y;
	return a->id > b->id ? -1 : a->id < b->id;
}

json_t *apps_deployments_json(struct apps *a, const char *name, bool active_only)
{
	ACRE_VEC(struct deploy *) all = {0};
	for (size_t i = 0; i < a->apps.n; i++) {
		const struct app *app = a->apps.v[i];
		if (name && strcmp(app->name, name))
			continue;
		for (size_t k = 0; k < app->deploys.n; k++) {
			struct deploy *d = app->deploys.v[k];
			if ((!active_only || d->state == DEPLOY_RUNNING) &&
			    acre_vec_push(&all, d) < 0)
				break;
		}
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), newest_first);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < all.n; i++)
		json_array_append_new(arr, deploy_json(all.v[i]));
	acre_vec_free(&all);
	return json_pack("{s:o}", "deployments", arr);
}

int apps_deployment_show(struct apps *a, const char *id, json_t **out, struct acre_error *err)
{
	char *end = NULL;
	int64_t n = id && !strncmp(id, "d-", 2) ? strtoll(id + 2, &end, 10) : 0;
	struct app *owner = NULL;
	struct deploy *d = n > 0 && end && !*end ? apps_deploy_find(a, n, &owner) : NULL;
	if (!d)
		return acre_error_set(err, ENOENT, "id", "no deployment %s", id ? id : "");
	*out = deploy_view(a, owner, d);
	return 0;
}
