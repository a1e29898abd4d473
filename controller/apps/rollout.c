/*
 * The rollout planner: from the instances an app has and the ones it
 * wants, the actions to take now.  It is a pure function, called again
 * whenever an instance changes state, and it never lets fewer than
 * min_healthy instances be healthy and ready (once they were) nor more
 * than wanted + max_surge run.  Instance N keeps its name across versions,
 * so a new version replaces it in place (stop, then start); the surge is
 * spent on temporary instances above the wanted ones, at the target
 * version, which stand in while the old ones stop, and go when every
 * wanted index runs the target.  When it can do nothing, it says whether
 * it waits for an instance (and which) or can never move (and why).
 */
#include "internal.h"

/* What one step sees: the instance of each index, and the counts that bound it. */
struct step {
	const struct app_rollout *r;
	struct app_plan *plan;
	const struct app_instance **slot; /* by index; NULL: none */
	unsigned nslots;
	unsigned min, surge;
	unsigned live;	  /* not stopping, after this step's actions */
	long budget;	  /* available instances that may still stop in this step */
	unsigned work;	  /* wanted indexes not yet at the target, healthy and ready */
	unsigned blocked; /* old instances below wanted that could not stop for min_healthy */
};

static const char *const state_names[] = {"starting", "healthy", "unhealthy", "stopping"};
static const char *const plan_names[] = {"done",  "acting",   "waiting",
					 "stuck", "rollback", "paused"};

const char *app_instance_state_name(enum app_instance_state s)
{
	return (size_t)s < ACRE_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

bool app_instance_state_from_slice(enum acre_slice_state st, bool stopping, enum acre_health health,
				   enum app_instance_state *out)
{
	switch (st) {
	case ACRE_SLICE_LOST:
	case ACRE_SLICE_DESTROYED:
		return false;
	case ACRE_SLICE_EXITED:
	case ACRE_SLICE_FAILED:
	case ACRE_SLICE_KILLED:
		*out = stopping ? APP_INSTANCE_STOPPING : APP_INSTANCE_UNHEALTHY;
		return true;
	case ACRE_SLICE_RUNNING:
		*out = health == ACRE_HEALTH_NONE || health == ACRE_HEALTH_HEALTHY
			       ? APP_INSTANCE_HEALTHY
		       : health == ACRE_HEALTH_UNHEALTHY ? APP_INSTANCE_UNHEALTHY
							 : APP_INSTANCE_STARTING;
		break;
	default: /* pending, starting */
		*out = APP_INSTANCE_STARTING;
		break;
	}
	if (stopping)
		*out = APP_INSTANCE_STOPPING;
	return true;
}

const char *app_plan_state_name(enum app_plan_state s)
{
	return (size_t)s < ACRE_ARRAY_SIZE(plan_names) ? plan_names[s] : "?";
}

static bool available(const struct app_instance *in)
{
	return in->state == APP_INSTANCE_HEALTHY && in->ready;
}

static void act(struct step *s, enum app_action_kind kind, unsigned index, uint32_t version)
{
	s->plan->actions[s->plan->nactions++] = (struct app_action){kind, index, version};
	if (kind == APP_ACTION_START)
		s->live++;
	else
		s->live--;
}

/* Stops in, if it may: a stop that takes an available instance away spends the budget. */
static bool stop(struct step *s, const struct app_instance *in)
{
	if (available(in)) {
		if (s->budget <= 0)
			return false;
		s->budget--;
	}
	act(s, APP_ACTION_STOP, in->index, in->version);
	return true;
}

static int build_slots(struct step *s, struct acre_error *err)
{
	const struct app_rollout *r = s->r;
	unsigned top = r->wanted;
	for (size_t i = 0; i < r->ninstances; i++) {
		if (r->instances[i].index >= 2 * APP_INSTANCES_MAX)
			return acre_error_set(err, EINVAL, "instances", "instance %u: out of range",
					      r->instances[i].index);
		if (r->instances[i].index + 1 > top)
			top = r->instances[i].index + 1;
	}
	s->nslots = top + s->surge + 1;
	if (!(s->slot = calloc(s->nslots, sizeof(*s->slot))))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < r->ninstances; i++) {
		const struct app_instance *in = &r->instances[i];
		if (s->slot[in->index])
			return acre_error_set(err, EINVAL, "instances",
					      "instance %u is listed twice (keep one with "
					      "app_surplus_choose)",
					      in->index);
		s->slot[in->index] = in;
	}
	return 0;
}

static void count(struct step *s)
{
	const struct app_rollout *r = s->r;
	unsigned avail = 0;
	for (size_t i = 0; i < r->ninstances; i++) {
		const struct app_instance *in = &r->instances[i];
		avail += available(in);
		s->live += in->state != APP_INSTANCE_STOPPING;
		if (in->index < r->wanted && in->version == r->target && available(in))
			s->plan->at_target++;
	}
	s->plan->available = avail;
	s->budget = (long)avail - (long)s->min;
	s->work = r->wanted - s->plan->at_target;
}

/* New instances that fail their checks stop the rollout, to go back or to be looked at. */
static bool failed(struct step *s)
{
	const struct app_rollout *r = s->r;
	if (!r->rollback_to || r->rollback_to == r->target)
		return false;
	for (size_t i = 0; i < r->ninstances; i++) {
		const struct app_instance *in = &r->instances[i];
		if (in->version != r->target || in->state != APP_INSTANCE_UNHEALTHY)
			continue;
		struct app_plan *p = s->plan;
		p->state = r->auto_rollback ? APP_PLAN_ROLLBACK : APP_PLAN_PAUSED;
		p->rollback_to = r->rollback_to;
		snprintf(p->reason, sizeof(p->reason),
			 "instance %u of version %u failed its health checks: %s", in->index,
			 in->version,
			 r->auto_rollback ? "rolling back" : "kept as it is for inspection");
		return true;
	}
	return false;
}

/*
 * While wanted indexes still wait for the target, the first max_surge
 * surplus instances at the target stay as stand-ins; returns the index
 * from which surplus instances at the target are in excess.
 */
static unsigned standins_end(const struct step *s)
{
	const struct app_rollout *r = s->r;
	unsigned keep = s->work ? s->surge : 0, seen = 0, i = r->wanted;
	for (; i < s->nslots && seen < keep; i++) {
		const struct app_instance *in = s->slot[i];
		seen += in && in->version == r->target && in->state != APP_INSTANCE_STOPPING;
	}
	return seen < keep ? s->nslots : i;
}

/*
 * Unordered: stops that cost nothing first (instances not available that
 * are to go anyway), then old instances below wanted within the budget,
 * then surplus ones; then starts of missing indexes and of stand-ins for
 * the old instances that could not stop.
 */
static void plan_unordered(struct step *s)
{
	const struct app_rollout *r = s->r;
	unsigned excess = standins_end(s);
	for (unsigned i = s->nslots; i-- > 0;) {
		const struct app_instance *in = s->slot[i];
		bool old = in && in->version != r->target;
		if (in && in->state != APP_INSTANCE_STOPPING && !available(in) &&
		    (old || (i >= r->wanted && i >= excess)))
			stop(s, in);
	}
	for (unsigned i = r->wanted; i-- > 0;) {
		const struct app_instance *in = s->slot[i];
		if (in && in->state != APP_INSTANCE_STOPPING && in->version != r->target &&
		    available(in) && !stop(s, in))
			s->blocked++;
	}
	/* Surplus: old ones first, then stand-ins no longer needed, highest first. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = s->nslots; i-- > r->wanted;) {
			const struct app_instance *in = s->slot[i];
			bool old = in && in->version != r->target;
			if (in && in->state != APP_INSTANCE_STOPPING && available(in) &&
			    (pass == 0 ? old : !old && i >= excess))
				stop(s, in);
		}
	}
	for (unsigned i = 0; i < r->wanted && s->live < r->wanted + s->surge; i++)
		if (!s->slot[i])
			act(s, APP_ACTION_START, i, r->target);
	/* The room of wanted indexes still stopping is their replacements', not a stand-in's. */
	unsigned reserved = 0;
	for (unsigned i = 0; i < r->wanted; i++)
		reserved += s->slot[i] && s->slot[i]->state == APP_INSTANCE_STOPPING;
	for (size_t a = 0; a < s->plan->nactions; a++)
		reserved += s->plan->actions[a].kind == APP_ACTION_STOP &&
			    s->plan->actions[a].index < r->wanted;
	for (unsigned i = r->wanted, started = 0;
	     i < s->nslots && started < s->blocked && s->live + reserved < r->wanted + s->surge;
	     i++) {
		if (!s->slot[i]) {
			act(s, APP_ACTION_START, i, r->target);
			started++;
		}
	}
}

static const struct app_instance *in_transition(const struct step *s)
{
	for (unsigned i = 0; i < s->nslots; i++) {
		const struct app_instance *in = s->slot[i];
		if (in &&
		    (in->state == APP_INSTANCE_STARTING || in->state == APP_INSTANCE_STOPPING ||
		     (in->state == APP_INSTANCE_HEALTHY && !in->ready)))
			return in;
	}
	return NULL;
}

/* Ordered apps bound themselves to one instance down at a time, whatever min_healthy says. */
static void stop_one(struct step *s, const struct app_instance *in)
{
	s->budget = 1;
	stop(s, in);
}

/*
 * Ordered: one action at a time, none while an instance starts or stops:
 * surplus from the highest index, then failed old ones, then the lowest
 * missing index once all below it are healthy and ready, then old ones
 * from the highest.
 */
static void plan_ordered(struct step *s)
{
	const struct app_rollout *r = s->r;
	if (in_transition(s))
		return;
	for (unsigned i = s->nslots; i-- > r->wanted;) {
		if (s->slot[i]) {
			stop_one(s, s->slot[i]);
			return;
		}
	}
	for (unsigned i = r->wanted; i-- > 0;) {
		const struct app_instance *in = s->slot[i];
		if (in && in->version != r->target && !available(in)) {
			stop_one(s, in);
			return;
		}
	}
	for (unsigned i = 0; i < r->wanted; i++) {
		if (!s->slot[i]) {
			act(s, APP_ACTION_START, i, r->target);
			return;
		}
		if (!available(s->slot[i]))
			return;
	}
	for (unsigned i = r->wanted; i-- > 0;) {
		if (s->slot[i]->version != r->target) {
			stop_one(s, s->slot[i]);
			return;
		}
	}
}

static bool done(const struct step *s)
{
	const struct app_rollout *r = s->r;
	return s->plan->at_target == r->wanted && r->ninstances == r->wanted;
}

/* Nothing to do now: for what the rollout waits, or why it never can move. */
static void explain(struct step *s)
{
	const struct app_rollout *r = s->r;
	struct app_plan *p = s->plan;
	const struct app_instance *in = in_transition(s);
	for (unsigned i = 0; !in && i < s->nslots; i++)
		if (s->slot[i] && s->slot[i]->state == APP_INSTANCE_UNHEALTHY)
			in = s->slot[i];
	if (in) {
		p->state = APP_PLAN_WAITING;
		snprintf(p->reason, sizeof(p->reason),
			 "waiting for instance %u (version %u) to %s; %u of %u at version %u "
			 "healthy and ready",
			 in->index, in->version,
			 in->state == APP_INSTANCE_STOPPING    ? "stop"
			 : in->state == APP_INSTANCE_UNHEALTHY ? "recover or be restarted"
							       : "become healthy and ready",
			 p->at_target, r->wanted, r->target);
		return;
	}
	p->state = APP_PLAN_STUCK;
	snprintf(p->reason, sizeof(p->reason),
		 "no instance may stop (min_healthy %u of %u, %u healthy and ready) and none may "
		 "start (max_surge %u, %u running): allow a surge or lower min_healthy",
		 s->min, r->wanted, p->available, s->surge, s->live);
}

int app_rollout_plan(const struct app_rollout *r, struct app_plan *plan, struct acre_error *err)
{
	struct step s = {.r = r, .plan = plan};
	memset(plan, 0, sizeof(*plan));
	if (r->wanted > APP_INSTANCES_MAX)
		return acre_error_set(err, EINVAL, "instances", "instances: at most %d",
				      APP_INSTANCES_MAX);
	s.min = plan->min_healthy = app_amount_resolve(&r->min_healthy, r->wanted, true, true);
	s.surge = plan->max_surge =
		r->ordered || r->bound ? 0
				       : app_amount_resolve(&r->max_surge, r->wanted, true, false);
	if (r->bound && !r->ordered && r->wanted && s.min >= r->wanted)
		s.min = plan->min_healthy = r->wanted - 1; /* one down at a time, no stand-in */
	int rc = build_slots(&s, err);
	if (rc < 0)
		goto out;
	count(&s);
	if (failed(&s))
		goto out;
	if (!(plan->actions =
		      calloc(r->ninstances + r->wanted + s.surge + 1, sizeof(*plan->actions)))) {
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (r->ordered)
		plan_ordered(&s);
	else
		plan_unordered(&s);
	if (plan->nactions)
		plan->state = APP_PLAN_ACTING;
	else if (done(&s))
		plan->state = APP_PLAN_DONE;
	else
		explain(&s);
out:
	free(s.slot);
	if (rc < 0)
		app_plan_free(plan);
	return rc;
}

void app_plan_free(struct app_plan *plan)
{
	free(plan->actions);
	plan->actions = NULL;
	plan->nactions = 0;
}
