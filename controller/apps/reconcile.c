/*
 * One app's instances towards what it wants, through the pool's verbs.
 * Called at the end of every pass that changed one of its instances (and
 * a few times a second), it reads the instances from the pool's label
 * index, asks the rollout planner for the next actions, and takes them:
 * a start is a new slice APP-N, a stop a kill and then a removal (which
 * frees the name for the replacement).  Around the planner it keeps what
 * the planner leaves to it: restarts with their back-off, instances lost
 * with their node (replaced, or kept waiting by --on-partition wait), a
 * node whose checks all fail at once (suspect: nothing killed), drains,
 * and the deployment's steps, progress and deadline.
 */
#include "runtime.h"

#include <stdarg.h>

/* ---- the instances --------------------------------------------------------------------------- */

struct collect {
	ACRE_VEC(struct app_instance_view) v;
	bool oom;
};

bool app_instance_labels(const struct pool_slice *sl, unsigned *index, uint32_t *version)
{
	const char *i = pool_slice_label(sl, APP_LABEL_INSTANCE);
	const char *v = pool_slice_label(sl, APP_LABEL_VERSION);
	char *end = NULL;
	unsigned long n = i ? strtoul(i, &end, 10) : 0;
	if (!i || *end || n >= 2 * APP_INSTANCES_MAX)
		return false; /* labelled by hand, not one of ours */
	*index = (unsigned)n;
	*version = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
	return true;
}

static int collect_one(struct pool_slice *sl, void *ud)
{
	struct collect *c = ud;
	struct app_instance_view view = {.slice = sl};
	if (sl->removed || !app_instance_labels(sl, &view.index, &view.version))
		return 0;
	if (acre_vec_push(&c->v, view) < 0) {
		c->oom = true;
		return 1;
	}
	return 0;
}

int app_instances_collect(struct apps *a, const struct app *app, struct app_instance_view **out,
			  size_t *n)
{
	char text[sizeof(APP_LABEL_APP) + APP_NAME_MAX + 2];
	snprintf(text, sizeof(text), "%s=%s", APP_LABEL_APP, app->name);
	struct pool_label_filter f = {0};
	struct collect c = {0};
	if (pool_label_filter_add(&f, text, NULL) < 0)
		return -EINVAL;
	pool_slices_labelled(a->pool, &f, collect_one, &c);
	if (c.oom) {
		acre_vec_free(&c.v);
		return -ENOMEM;
	}
	*out = c.v.v;
	*n = c.v.n;
	return 0;
}

uint8_t app_instance_level(const struct pool_slice *sl)
{
	if (sl->state != ACRE_SLICE_RUNNING || sl->desired != POOL_DESIRED_RUN)
		return 0;
	bool healthy =
		!sl->checked || sl->health == ACRE_HEALTH_NONE || sl->health == ACRE_HEALTH_HEALTHY;
	return healthy && !sl->unready ? 2 : 1;
}

/* ---- what one pass sees and does ---------------------------------------------------------- */

struct pass {
	struct apps *a;
	struct app *app;
	int64_t now;
	struct app_instance_view *views;
	size_t nviews;
	struct app_instance *inst; /* what the planner is given, one per view listed */
	size_t ninst;
	struct app_instance_view **listed; /* the view of each inst */
	struct app_instance_view **at;	   /* the first listed by index (view_at); NULL: not yet */
	size_t nat;
	bool settled; /* no change this pass: the deployment may judge */
	/*
	 * Many actions at once (a scale to thousands): one step says them all
	 * rather than a step (and an event) each.
	 */
	bool batch;
	unsigned started, waiting, stopping;
	bool twice;    /* two instances listed at one index */
	bool scale_up; /* every action starts a free index below instances at the target */
};

/* Something of this app's own is due at `at` (a back-off, a deadline): the tick comes back. */
static void wake_at(struct pass *p, int64_t at)
{
	if (!p->app->wake_ms || at < p->app->wake_ms)
		p->app->wake_ms = at;
}

static bool ended(enum acre_slice_state st)
{
	return st == ACRE_SLICE_EXITED || st == ACRE_SLICE_FAILED || st == ACRE_SLICE_KILLED;
}

static struct app_slot *slot_of(struct app *app, unsigned index)
{
	if (app_slots_reserve(app, (size_t)index + 1) < 0)
		return NULL;
	return &app->slots[index];
}

/* Says something about one instance once, until it says something else. */
static void say_once(struct pass *p, unsigned index, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say_once(struct pass *p, unsigned index, const char *key, const char *fmt, ...)
{
	struct app_slot *slot = slot_of(p->app, index);
	if (!slot || !strcmp(slot->last_event, key))
		return;
	snprintf(slot->last_event, sizeof(slot->last_event), "%s", key);
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (p->app->dep)
		deploy_step(p->a, p->app->dep, "%s", text);
	else
		acre_log(ACRE_LOG_INFO, "event=app_instance app=%s index=%u text=\"%s\"",
			 p->app->name, index, text);
}

/*
 * A view as the planner sees it, or not at all (its index is free): lost
 * instances are removed for their replacement unless the app waits for
 * them; stopped ones that ended are removed.
 */
static void admit(struct pass *p, struct app_instance_view *v)
{
	struct pool_slice *sl = v->slice;
	struct app *app = p->app;
	bool stopping = sl->desired != POOL_DESIRED_RUN;
	struct app_slot *slot = slot_of(app, v->index);
	if (!slot)
		return;
	if (sl->node && app->spec.nvolumes && !slot->volume_node[0]) {
		snprintf(slot->volume_node, sizeof(slot->volume_node), "%s", sl->node->id);
		app->row_dirty = true;
	}
	enum app_instance_state st;
	bool present = app_instance_state_from_slice(
		sl->state, stopping, sl->checked ? sl->health : ACRE_HEALTH_NONE, &st);
	struct acre_error err = {0};
	if (!present) {
		const char *where = sl->last_node ? sl->last_node->id : "?";
		if (sl->state == ACRE_SLICE_LOST && !stopping &&
		    app->spec.on_partition == APP_PARTITION_WAIT) {
			say_once(p, v->index, "unreachable",
				 "%s unreachable with node %s: kept, not replaced (on_partition "
				 "wait)",
				 sl->name, where);
			st = APP_INSTANCE_UNHEALTHY;
		} else {
			say_once(p, v->index, "lost", "%s lost with node %s: replacing it",
				 sl->name, where);
			pool_slice_remove(p->a->pool, sl, true, &err);
			p->settled = false;
			return;
		}
	} else if (stopping && ended(sl->state)) {
		int rc = pool_slice_remove(p->a->pool, sl, true, &err);
		p->settled = false;
		if (rc == 0)
			return; /* gone now: its index is free */
		st = APP_INSTANCE_STOPPING;
	} else if (ended(sl->state) && slot->failed_id == sl->id) {
		/* Counted, waiting for its back-off: the planner sees its index free. */
		if (!app->removing && v->index < app->spec.instances)
			return;
		/* Not to start again (the app goes, or shrank): it goes now. */
		int rc = pool_slice_remove(p->a->pool, sl, true, &err);
		p->settled = false;
		if (rc == 0)
			return;
		st = APP_INSTANCE_STOPPING;
	}
	if (st == APP_INSTANCE_HEALTHY)
		app_restarts_healthy(&slot->restarts, p->now);
	p->twice |= slot->listed;
	slot->listed = true;
	slot->level = app_instance_level(sl);
	p->listed[p->ninst] = v;
	p->inst[p->ninst++] = (struct app_instance){
		.index = v->index,
		.version = v->version,
		.state = st,
		.ready = !sl->unready,
		.started_at = sl->created_at,
		.id = sl->id,
	};
}

/* Restarts of what failed at its version: an ended slice goes (its index starts again after
 * the back-off), a running unhealthy one is killed, unless its whole node is suspect. */
static void restart_failed(struct pass *p)
{
	struct app *app = p->app;
	struct acre_error err = {0};
	for (size_t i = 0; i < p->ninst; i++) {
		struct app_instance_view *v = p->listed[i];
		struct pool_slice *sl = v->slice;
		if (p->inst[i].state != APP_INSTANCE_UNHEALTHY || sl->state == ACRE_SLICE_LOST ||
		    sl->removed || v->index >= app->spec.instances)
			continue;
		struct app_slot *slot = slot_of(app, v->index);
		if (!slot)
			continue;
		if (ended(sl->state)) {
			/* Kept until its restart, so that its log says why (start() removes it). */
			uint64_t delay =
				app_restarts_failed(&app->spec.backoff, &slot->restarts, p->now);
			app->row_dirty = true;
			say_once(p, v->index, "restart",
				 "%s ended (%s%s%s): starting it again in %.1f s (restart %u; its "
				 "output: acre app logs %s --instance %u)",
				 sl->name, acre_slice_state_name(sl->state), sl->reason ? ": " : "",
				 sl->reason ? sl->reason : "", (double)delay / 1000.0,
				 slot->restarts.n, app->name, v->index);
			if (app->dep)
				snprintf(app->dep->last_failure, sizeof(app->dep->last_failure),
					 "%s %s%s%s", sl->name, acre_slice_state_name(sl->state),
					 sl->reason ? ": " : "", sl->reason ? sl->reason : "");
			slot->last_event[0] = '\0';
			app_slot_note_ports(app, slot, &app->spec, sl); /* asked for again */
			slot->failed_id = sl->id;
			p->settled = false;
		} else if (pool_node_suspect(sl->node)) {
			say_once(p, v->index, "suspect",
				 "%s unhealthy, but every checked slice on node %s fails at once: "
				 "the node is suspect, nothing is killed until it is judged lost",
				 sl->name, sl->node->id);
		} else if (pool_slice_kill(p->a->pool, sl, 0, &err) >= 0) {
			say_once(p, v->index, "unhealthy",
				 "%s failed its health checks on %s: replacing it", sl->name,
				 sl->node ? sl->node->id : "-");
			p->settled = false;
		}
	}
}

/* ---- the actions ------------------------------------------------------------------------------
 */

static int pin_to_node(struct acre_placement *pl, const char *node, struct acre_error *err)
{
	if (pl->nconstraints >= ACRE_PLACEMENT_MAX_CONSTRAINTS)
		return acre_error_set(err, E2BIG, "placement.constraints",
				      "no room for the constraint node.id==%s", node);
	char text[ACRE_NAME_MAX + 16];
	snprintf(text, sizeof(text), "node.id==%s", node);
	return acre_proto_constraint_parse(text, &pl->constraints[pl->nconstraints++], "placement",
					   err);
}

/* The first app this one depends on that is not all healthy yet; NULL: none. */
static const char *dependency_waited(struct apps *a, const struct app *app)
{
	for (char **dep = app->spec.dependencies; dep && *dep; dep++) {
		const struct app *other = apps_find(a, *dep);
		if (!other || other->removing || other->healthy < other->spec.instances)
			return *dep;
	}
	return NULL;
}

static void start(struct pass *p, unsigned index, uint32_t version)
{
	struct app *app = p->app;
	struct app_slot *slot = slot_of(app, index);
	if (!slot)
		return;
	char name[ACRE_NAME_MAX + 1];
	app_instance_name(&app->spec, index, name, sizeof(name));
	const char *dep = dependency_waited(p->a, app);
	if (dep) {
		say_once(p, index, "dependency", "%s waits for app %s to be healthy", name, dep);
		wake_at(p, p->now + APPS_RETRY_MS);
		return;
	}
	if (slot->restarts.not_before_ms > p->now) {
		say_once(p, index, "backoff", "%s waits for its restart back-off (%.1f s)", name,
			 (double)(slot->restarts.not_before_ms - p->now) / 1000.0);
		wake_at(p, slot->restarts.not_before_ms);
		return;
	}
	struct app_spec other = {0}, *spec = &app->target_spec;
	struct acre_error err = {0};
	/* The failed run kept for its log goes now; its name is free once its node says so. */
	struct pool_slice *old = pool_slice_find(p->a->pool, name);
	if (old && !old->removed && ended(old->state) && old->id == slot->failed_id)
		pool_slice_remove(p->a->pool, old, true, &err);
	if (old && pool_slice_find(p->a->pool, name)) {
		wake_at(p, p->now + APPS_RETRY_MS);
		return;
	}
	if (version != app->target) {
		if (app_spec_for_instances(app, version, &other, &err) < 0)
			goto fail;
		spec = &other;
	}
	struct acre_placement pl = spec->placement;
	const char *pin = slot->move_to[0]			   ? slot->move_to
			  : spec->nvolumes && slot->volume_node[0] ? slot->volume_node
								   : NULL;
	json_t *json = NULL;
	struct pool_slice *sl = NULL;
	int rc;
	if ((pin && (rc = pin_to_node(&pl, pin, &err)) < 0) ||
	    (rc = app_instance_spec(spec, index, version, slot->host_ports, &json, &err)) < 0)
		goto fail;
	/*
	 * The template was checked with the app and the instance adds only what
	 * the app made: the pool takes it as the template says, not parsed again.
	 */
	struct acre_slice_spec known = spec->slice; /* a view: nothing of it is freed here */
	app_instance_name(spec, index, known.name, sizeof(known.name));
	known.restart = ACRE_RESTART_NEVER;
	known.restart_max = 0;
	known.labels = json_object_get(json, "labels");
	rc = pool_slice_create_known(p->a->pool, json, &known, &pl, &sl, &err);
	json_decref(json);
	if (rc < 0)
		goto fail;
	/* A scale up's new instances are listed from here: the app counts them coming up. */
	if (!p->scale_up)
		p->settled = false;
	slot->listed = true;
	slot->level = 0;
	app_slot_note_ports(app, slot, spec, sl);
	slot->move_to[0] = '\0';
	slot->restarts.not_before_ms = 0;
	if (p->batch)
		*(sl->node ? &p->started : &p->waiting) += 1;
	else if (sl->node)
		say_once(p, index, "started", "started %s (version %u) on %s", name, version,
			 sl->node->id);
	else
		say_once(p, index, "pending", "%s (version %u) waits for room: %s", name, version,
			 sl->reason ? sl->reason : "no node fits now");
	app_spec_free(&other);
	return;
fail:
	say_once(p, index, "cannot", "cannot start %s (version %u): %s", name, version,
		 err.message);
	wake_at(p, p->now + APPS_RETRY_MS);
	app_spec_free(&other);
}

/*
 * The first view listed at index.  By an array made on the first call, not
 * a scan per call: a rolling update of 10,000 stops up to max_surge at a
 * time, and a scan each spent 15% of the controller's time.
 */
static struct app_instance_view *view_at(struct pass *p, unsigned index)
{
	if (!p->at && p->ninst) {
		unsigned top = 0;
		for (size_t i = 0; i < p->ninst; i++)
			top = p->listed[i]->index > top ? p->listed[i]->index : top;
		p->at = calloc((size_t)top + 1, sizeof(*p->at));
		if (p->at) {
			p->nat = (size_t)top + 1;
			for (size_t i = p->ninst; i-- > 0;)
				p->at[p->listed[i]->index] = p->listed[i];
		}
	}
	if (p->at)
		return index < p->nat ? p->at[index] : NULL;
	for (size_t i = 0; i < p->ninst; i++) /* out of memory for the array */
		if (p->listed[i]->index == index)
			return p->listed[i];
	return NULL;
}

static void stop(struct pass *p, unsigned index)
{
	struct app_instance_view *v = view_at(p, index);
	if (!v || v->slice->removed)
		return;
	struct acre_error err = {0};
	int rc = pool_slice_kill(p->a->pool, v->slice, 0, &err);
	if (rc == 0 || rc == -ESRCH)
		pool_slice_remove(p->a->pool, v->slice, true, &err);
	p->settled = false;
	if (p->batch)
		p->stopping++;
	else
		say_once(p, index, "stopping", "stopping %s (version %u)", v->slice->name,
			 v->version);
}

/* ---- drains ------------------------------------------------------------------------------------
 */

/* Instances on draining nodes stop, at most max_unavailable of the app down at once. */
static void drain(struct pass *p)
{
	struct app *app = p->app;
	unsigned down = 0, budget = app_amount_resolve(&app->spec.max_unavailable,
						       app->spec.instances, false, true);
	if (budget < 1)
		budget = 1;
	for (size_t i = 0; i < p->ninst; i++)
		down += p->inst[i].state != APP_INSTANCE_HEALTHY || !p->inst[i].ready;
	for (size_t i = 0; i < p->ninst && down < budget; i++) {
		struct pool_slice *sl = p->listed[i]->slice;
		if (!sl->node || p->inst[i].state == APP_INSTANCE_STOPPING ||
		    !apps_node_draining(p->a, sl->node->id) || app->spec.nvolumes)
			continue;
		say_once(p, p->listed[i]->index, "drain", "moving %s off %s (drain)", sl->name,
			 sl->node->id);
		stop(p, p->listed[i]->index);
		down++;
	}
}

/* ---- the deployment ---------------------------------------------------------------------------
 */

/* "web-2 pending: 2 nodes: cpus ..." for a step past its deadline. */
static void why_text(struct pass *p, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < p->ninst; i++) {
		struct pool_slice *sl = p->listed[i]->slice;
		if (sl->state != ACRE_SLICE_PENDING)
			continue;
		_cleanup_json_ json_t *why = pool_why_slice(p->a->pool, sl);
		int used = snprintf(buf, len, "%s pending:", sl->name);
		size_t k;
		json_t *r;
		json_array_foreach (json_object_get(why, "reasons"), k, r) {
			if (k >= 3 || used < 0 || (size_t)used >= len)
				break;
			json_t *ex = json_array_get(json_object_get(r, "examples"), 0);
			const char *detail = json_string_value(json_object_get(ex, "detail"));
			used += snprintf(buf + used, len - (size_t)used, "%s %lld node%s: %s%s%s",
					 k ? ";" : "",
					 (long long)json_integer_value(json_object_get(r, "nodes")),
					 json_integer_value(json_object_get(r, "nodes")) == 1 ? ""
											      : "s",
					 json_string_value(json_object_get(r, "reason")),
					 detail ? " — " : "", detail ? detail : "");
		}
		return;
	}
}

static void roll_back(struct pass *p, const char *reason)
{
	struct app *app = p->app;
	struct apps *a = p->a;
	const struct app_version *to = app_versions_rollback_target(&app->versions, app->target);
	struct acre_error err = {0};
	struct app_spec spec = {0};
	uint32_t number = 0, from = app->version;
	if (!to || app_spec_parse(to->spec, &spec, &err) < 0 ||
	    app_versions_add(&app->versions, &spec, p->now, &number, &err) < 0) {
		deploy_end(a, app, DEPLOY_FAILED, reason);
		app_spec_free(&spec);
		return;
	}
	app_spec_free(&app->spec);
	app->spec = spec;
	app->version = number;
	app->target = app_versions_latest(&app->versions)->instance_version;
	app_spec_free(&app->target_spec);
	if (app_spec_for_instances(app, app->target, &app->target_spec, &err) < 0)
		acre_log(ACRE_LOG_ERROR, "event=app_rollback_failed app=%s error=\"%s\"", app->name,
			 err.message);
	app->rollback_to = 0;
	char text[600];
	snprintf(text, sizeof(text), "%s; back to version %u (as version %u)", reason, to->number,
		 number);
	deploy_end(a, app, DEPLOY_ROLLED_BACK, text);
	deploy_start(a, app, "rollback", from);
	app_changed(a, app, "updated");
}

/* The deployment's counts as the plan found them: a change is progress, and its deadline moves. */
static void progress(struct pass *p, const struct app_plan *plan)
{
	struct deploy *d = p->app->dep;
	unsigned wanted = p->app->removing ? 0 : p->app->spec.instances;
	if (!d || (d->at_target == plan->at_target && d->available == plan->available &&
		   d->wanted == wanted))
		return;
	d->at_target = plan->at_target;
	d->available = plan->available;
	d->wanted = wanted;
	d->progress_at = p->now;
	d->deadline = p->now + (int64_t)p->a->opt.step_deadline_ms;
	d->stalled = false;
	d->dirty = true;
}

static void judge(struct pass *p, const struct app_plan *plan)
{
	struct app *app = p->app;
	struct deploy *d = app->dep;
	if (plan->state == APP_PLAN_DONE)
		app_versions_mark_healthy(&app->versions, app->version);
	if (!d)
		return;
	switch (plan->state) {
	case APP_PLAN_DONE:
		if (!app->removing) {
			app->row_dirty = true;
			deploy_step(p->a, d, "%u of %u instances at version %u, healthy and ready",
				    plan->at_target, app->spec.instances, app->version);
			deploy_end(p->a, app, DEPLOY_SUCCEEDED, "");
		}
		return;
	case APP_PLAN_STUCK:
		deploy_end(p->a, app, DEPLOY_FAILED, plan->reason);
		return;
	case APP_PLAN_WAITING:
		if (strcmp(d->waiting, plan->reason)) {
			snprintf(d->waiting, sizeof(d->waiting), "%s", plan->reason);
			d->dirty = true;
		}
		break;
	default:
		break;
	}
	if (!d->stalled)
		wake_at(p, d->deadline);
	if (p->now < d->deadline || d->stalled)
		return;
	d->stalled = true;
	char why[400];
	why_text(p, why, sizeof(why));
	/* Nothing pending: the instances fail as they start, and the last one says why. */
	if (!why[0] && d->last_failure[0])
		snprintf(why, sizeof(why), "the last to end: %s", d->last_failure);
	char reason[1024];
	snprintf(reason, sizeof(reason), "no progress for %llu s: %s%s%s",
		 (unsigned long long)(p->a->opt.step_deadline_ms / 1000),
		 d->waiting[0] ? d->waiting : "instances do not become healthy", why[0] ? "; " : "",
		 why);
	deploy_step(p->a, d, "%s", reason);
	if (app->rollback_to && app->rollback_to != app->target)
		roll_back(p, reason);
	else
		deploy_end(p->a, app, DEPLOY_FAILED, reason);
}

/*
 * The app is gone without --keep-volumes: each instance's volumes on the
 * node that holds them are removed too.  A node away keeps them, and the
 * deployment says which and where.
 */
static void remove_volumes(struct pass *p)
{
	struct app *app = p->app;
	for (size_t i = 0; i < app->nslots; i++) {
		const char *node = app->slots[i].volume_node;
		struct pool_node *n = node[0] ? pool_node_find(p->a->pool, node) : NULL;
		for (size_t k = 0; node[0] && k < app->spec.nvolumes; k++) {
			char name[ACRE_NAME_MAX + 1];
			struct acre_error err = {0};
			if (app_volume_name(&app->spec, k, (unsigned)i, name, sizeof(name)) < 0)
				continue;
			if (!n)
				acre_error_set(&err, ENOENT, NULL, "node %s left the pool", node);
			if (n && pool_node_volume_remove(p->a->pool, n, name, &err) == 0)
				deploy_step(p->a, app->dep, "removing volume %s on %s", name, node);
			else
				deploy_step(p->a, app->dep,
					    "volume %s stays on %s: %s (acre volume rm %s there)",
					    name, node, err.message, name);
		}
	}
}

/*
 * Being removed, the instances that still hold it up.  One on a node away
 * (disconnected, unreachable or down) is given to the pool to remove, which
 * its node does when it is back (the pool's reconciliation of the node),
 * and holds nothing up: a removal, and an uninstall, ends with nodes away,
 * and the deployment says which instances wait for which node.
 */
static size_t removal_left(struct pass *p)
{
	size_t left = 0;
	for (size_t i = 0; i < p->ninst; i++) {
		struct pool_slice *sl = p->listed[i]->slice;
		const struct pool_node *n = sl->node;
		if (!n || (n->conn && n->state == POOL_NODE_READY)) {
			left++;
			continue;
		}
		if (sl->desired == POOL_DESIRED_REMOVE)
			continue;
		struct acre_error err = {0};
		if (pool_slice_remove(p->a->pool, sl, true, &err) < 0) {
			left++;
			continue;
		}
		deploy_step(p->a, p->app->dep,
			    "%s stays on node %s (%s) until it is back, which removes it", sl->name,
			    n->id, n->conn ? pool_node_state_name(n->state) : "disconnected");
	}
	return left;
}

static void count_health(struct pass *p)
{
	struct app *app = p->app;
	unsigned running = 0, healthy = 0;
	for (size_t i = 0; i < p->ninst; i++) {
		running += p->listed[i]->slice->state == ACRE_SLICE_RUNNING;
		healthy += p->inst[i].state == APP_INSTANCE_HEALTHY && p->inst[i].ready &&
			   p->inst[i].index < app->spec.instances;
	}
	app->running = running;
	app->healthy = healthy;
	const char *h = app_health_name(p->a, app);
	if (strcmp(app->health, h)) {
		bool first = !app->health[0];
		snprintf(app->health, sizeof(app->health), "%s", h);
		if (!first)
			app_changed(p->a, app, "health");
	}
}

/*
 * A scale up (every action a start of a free index below instances, at the
 * target) takes its first APPS_STARTS_PER_PASS starts now and keeps the
 * rest for the passes that follow: returns how many actions to take now.
 */
static size_t plan_scale_up(struct pass *p, const struct app_plan *plan)
{
	struct app *app = p->app;
	for (size_t i = 0; i < plan->nactions; i++) {
		const struct app_action *act = &plan->actions[i];
		if (act->kind != APP_ACTION_START || act->version != app->target ||
		    act->index >= app->spec.instances ||
		    (act->index < app->nslots && app->slots[act->index].listed))
			return plan->nactions;
	}
	p->scale_up = plan->nactions > 0;
	if (plan->nactions <= APPS_STARTS_PER_PASS ||
	    acre_vec_reserve(&app->backlog, plan->nactions - APPS_STARTS_PER_PASS) < 0)
		return plan->nactions;
	for (size_t i = APPS_STARTS_PER_PASS; i < plan->nactions; i++)
		app->backlog.v[app->backlog.n++] = plan->actions[i].index;
	return APPS_STARTS_PER_PASS;
}

void app_backlog_run(struct apps *a, struct app *app, int64_t now)
{
	struct pass p = {
		.a = a, .app = app, .now = now, .settled = true, .batch = true, .scale_up = true};
	size_t n = app->backlog.n < APPS_STARTS_PER_PASS ? app->backlog.n : APPS_STARTS_PER_PASS;
	app->reconciling = true;
	for (size_t i = 0; i < n; i++)
		start(&p, app->backlog.v[i], app->target);
	app->reconciling = false;
	memmove(app->backlog.v, app->backlog.v + n, (app->backlog.n - n) * sizeof(*app->backlog.v));
	app->backlog.n -= n;
	if (p.started || p.waiting)
		deploy_step(a, app->dep,
			    "started %u more instances at version %u, %u waiting for room; %zu "
			    "more to start",
			    p.started, app->target, p.waiting, app->backlog.n);
	if (app->backlog.n)
		app->dirty = true;
}

/*
 * Nothing to do but wait for its instances to come up: each listed one at
 * the target, below instances, neither failing nor stopping, one per index.
 * Until that changes, apps.c counts their progress instead of a pass.
 */
static bool converging(const struct pass *p, const struct app_plan *plan)
{
	const struct app *app = p->app;
	if (!p->settled || p->twice || (plan->nactions && !p->scale_up) || app->removing ||
	    p->a->drains.n || (app->dep && app->dep->state == DEPLOY_PAUSED))
		return false;
	for (size_t i = 0; i < p->ninst; i++) {
		const struct app_instance *in = &p->inst[i];
		if (in->version != app->target || in->index >= app->spec.instances ||
		    in->state == APP_INSTANCE_STOPPING || in->state == APP_INSTANCE_UNHEALTHY)
			return false;
	}
	/*
	 * Every wanted index has its instance, or its start now: a planner that
	 * holds starts back (ordered instances, one after the other healthy)
	 * acts on each instance up, so each is reconciled, not counted.
	 */
	return p->ninst + plan->nactions == (size_t)app->spec.instances;
}

void app_reconcile(struct apps *a, struct app *app, int64_t now)
{
	struct pass p = {.a = a, .app = app, .now = now, .settled = true};
	bool conv = false;
	app->converging = false;
	app->wake_ms = 0;
	app->backlog.n = 0;
	for (size_t i = 0; i < app->nslots; i++) {
		app->slots[i].level = 0;
		app->slots[i].listed = false;
	}
	if (app_instances_collect(a, app, &p.views, &p.nviews) < 0)
		return;
	app->reconciling = true;
	p.inst = calloc(p.nviews + 1, sizeof(*p.inst));
	p.listed = calloc(p.nviews + 1, sizeof(*p.listed));
	if (!p.inst || !p.listed)
		goto out;
	for (size_t i = 0; i < p.nviews; i++)
		admit(&p, &p.views[i]);
	if (app->dep && app->dep->state == DEPLOY_PAUSED)
		goto health; /* kept as it is for inspection, until the next change */
	struct app_rollout r = {
		.wanted = app->removing ? 0 : app->spec.instances,
		.target = app->target,
		.rollback_to = app->dep ? app->rollback_to : 0,
		.auto_rollback = app->spec.auto_rollback,
		.ordered = app->spec.ordered,
		.bound = app->spec.nvolumes > 0,
		.min_healthy = app->spec.min_healthy,
		.max_surge = app->spec.max_surge,
		.instances = p.inst,
		.ninstances = p.ninst,
	};
	struct app_plan plan;
	struct acre_error err = {0};
	if (app_rollout_plan(&r, &plan, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=app_plan_failed app=%s error=\"%s\"", app->name,
			 err.message);
		goto health;
	}
	if (plan.state == APP_PLAN_ROLLBACK) {
		roll_back(&p, plan.reason);
	} else if (plan.state == APP_PLAN_PAUSED) {
		if (app->dep) {
			deploy_step(a, app->dep, "%s", plan.reason);
			app->dep->state = DEPLOY_PAUSED;
			snprintf(app->dep->reason, sizeof(app->dep->reason), "%s", plan.reason);
			app->dep->dirty = true;
		}
	} else {
		progress(&p, &plan);
		restart_failed(&p);
		size_t nactions = plan_scale_up(&p, &plan);
		p.batch = nactions > APPS_STEP_BATCH;
		for (size_t i = 0; i < nactions; i++) {
			const struct app_action *act = &plan.actions[i];
			if (act->kind == APP_ACTION_START)
				start(&p, act->index, act->version);
			else
				stop(&p, act->index);
		}
		if (p.batch && (p.started || p.waiting || p.stopping))
			deploy_step(a, app->dep,
				    "started %u instances at version %u, %u waiting for room; "
				    "stopping %u%s",
				    p.started, app->target, p.waiting, p.stopping,
				    app->backlog.n ? "; more to start" : "");
		drain(&p);
		if (p.settled)
			judge(&p, &plan);
		conv = app->dep == NULL || app->dep->state == DEPLOY_RUNNING;
		conv = conv && converging(&p, &plan);
	}
	app_plan_free(&plan);
	if (app->removing && p.settled && removal_left(&p) == 0) {
		if (!app->keep_volumes)
			remove_volumes(&p);
		else
			app_kept_volumes_record(a, app);
		deploy_end(a, app, DEPLOY_SUCCEEDED, "");
		app_changed(a, app, "removed");
		goto out;
	}
health:
	count_health(&p);
	app->converging = conv;
out:
	free(p.inst);
	free(p.listed);
	free(p.at);
	free(p.views);
	app->reconciling = false;
	if (!p.settled || app->backlog.n)
		app->dirty = true; /* what it did changes what it sees: once more */
}
