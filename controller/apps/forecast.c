/*
 * A deployment's plan ahead: from the instances as they are, the rollout
 * planner run again and again, each step's starts taken as healthy and
 * ready and its stops as done, until the app is where it goes (or where
 * the planner says it cannot go on).  The first step is what is under way
 * now: the instances starting and stopping, and the planner's actions of
 * this moment.  It is a forecast of a rollout that goes well: a step that
 * fails changes the plan, and the plan is made again at every look.
 */
#include "internal.h"

struct sim {
	ACRE_VEC(struct app_instance) cur;
	struct app_forecast *f;
};

static int push_action(struct app_forecast_step *s, enum app_action_kind kind, unsigned index,
		       uint32_t version)
{
	/* By doubling: the step under way of a scale to 100,000 has as many actions. */
	if (s->nactions == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct app_action *a = realloc(s->actions, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		s->actions = a;
		s->cap = cap;
	}
	s->actions[s->nactions++] = (struct app_action){kind, index, version};
	return 0;
}

static struct app_forecast_step *new_step(struct app_forecast *f)
{
	struct app_forecast_step *s = realloc(f->steps, (f->nsteps + 1) * sizeof(*s));
	if (!s)
		return NULL;
	f->steps = s;
	s = &f->steps[f->nsteps++];
	*s = (struct app_forecast_step){0};
	return s;
}

/* The plan's actions taken: a start is an instance starting, a stop one stopping. */
static int apply(struct sim *m, const struct app_plan *plan, struct app_forecast_step *s)
{
	for (size_t i = 0; i < plan->nactions; i++) {
		const struct app_action *a = &plan->actions[i];
		if (push_action(s, a->kind, a->index, a->version) < 0)
			return -ENOMEM;
		if (a->kind == APP_ACTION_START) {
			struct app_instance in = {.index = a->index,
						  .version = a->version,
						  .state = APP_INSTANCE_STARTING};
			if (acre_vec_push(&m->cur, in) < 0)
				return -ENOMEM;
			continue;
		}
		for (size_t k = 0; k < m->cur.n; k++) {
			struct app_instance *in = &m->cur.v[k];
			if (in->index == a->index && in->state != APP_INSTANCE_STOPPING) {
				in->state = APP_INSTANCE_STOPPING;
				break;
			}
		}
	}
	return 0;
}

/* What was under way is done: the starting are healthy and ready, the stopping gone. */
static void complete(struct sim *m)
{
	size_t k = 0;
	for (size_t i = 0; i < m->cur.n; i++) {
		struct app_instance in = m->cur.v[i];
		if (in.state == APP_INSTANCE_STOPPING)
			continue;
		if (in.state == APP_INSTANCE_STARTING || !in.ready) {
			in.state =
				in.state == APP_INSTANCE_STARTING ? APP_INSTANCE_HEALTHY : in.state;
			in.ready = true;
		}
		m->cur.v[k++] = in;
	}
	m->cur.n = k;
}

static int plan_now(const struct app_rollout *r, struct sim *m, struct app_plan *plan,
		    struct acre_error *err)
{
	struct app_rollout now = *r;
	now.instances = m->cur.v;
	now.ninstances = m->cur.n;
	return app_rollout_plan(&now, plan, err);
}

static void end_with(struct app_forecast *f, const struct app_plan *plan)
{
	f->end = plan->state;
	snprintf(f->reason, sizeof(f->reason), "%s", plan->reason);
}

int app_rollout_forecast(const struct app_rollout *r, size_t max_steps, struct app_forecast *f,
			 struct acre_error *err)
{
	*f = (struct app_forecast){0};
	struct sim m = {.f = f};
	int rc = -ENOMEM;
	if (acre_vec_reserve(&m.cur, r->ninstances + 1) < 0)
		goto out;
	for (size_t i = 0; i < r->ninstances; i++)
		m.cur.v[m.cur.n++] = r->instances[i];
	/* The step under way: what is starting or stopping, and what the planner does now. */
	struct app_forecast_step *s = new_step(f);
	if (!s)
		goto out;
	for (size_t i = 0; i < m.cur.n; i++) {
		const struct app_instance *in = &m.cur.v[i];
		if ((in->state == APP_INSTANCE_STARTING &&
		     push_action(s, APP_ACTION_START, in->index, in->version) < 0) ||
		    (in->state == APP_INSTANCE_STOPPING &&
		     push_action(s, APP_ACTION_STOP, in->index, in->version) < 0))
			goto out;
	}
	struct app_plan plan;
	if ((rc = plan_now(r, &m, &plan, err)) < 0)
		goto out;
	if (plan.state == APP_PLAN_ACTING)
		rc = apply(&m, &plan, s);
	else if (plan.state != APP_PLAN_WAITING)
		end_with(f, &plan);
	bool ended = plan.state != APP_PLAN_ACTING && plan.state != APP_PLAN_WAITING;
	f->now = plan.state;
	snprintf(f->now_reason, sizeof(f->now_reason), "%s", plan.reason);
	app_plan_free(&plan);
	if (rc < 0 || ended)
		goto out;
	if (!s->nactions)
		f->nsteps--; /* nothing under way: the plan starts with the next step */
	for (;;) {
		complete(&m);
		if ((rc = plan_now(r, &m, &plan, err)) < 0)
			goto out;
		if (plan.state != APP_PLAN_ACTING) {
			end_with(f, &plan);
			app_plan_free(&plan);
			break;
		}
		if (f->nsteps >= max_steps) {
			f->truncated = true;
			app_plan_free(&plan);
			break;
		}
		s = new_step(f);
		rc = s ? apply(&m, &plan, s) : -ENOMEM;
		app_plan_free(&plan);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	acre_vec_free(&m.cur);
	if (rc == -ENOMEM) {
		app_forecast_free(f);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	if (rc < 0)
		app_forecast_free(f);
	return rc;
}

void app_forecast_free(struct app_forecast *f)
{
	for (size_t i = 0; i < f->nsteps; i++)
		free(f->steps[i].actions);
	free(f->steps);
	*f = (struct app_forecast){0};
}
