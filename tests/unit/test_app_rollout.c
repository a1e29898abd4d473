/*
 * The rollout planner, step by step and as a whole.  A small simulated app
 * takes each plan's actions (a stop makes an instance stopping, a start a
 * new starting one), and between plans its instances move on — some of
 * them at a time, chosen by a fixed pseudo-random sequence, as real ones
 * would.  Every plan is checked against the two promises: never fewer than
 * min_healthy healthy and ready (once that many were), never a start that
 * takes the app past wanted + max_surge; and every rollout must end, with
 * exactly the wanted instances at the target.  For 1, 3, 10 and 100
 * instances, scaling up and down, ordered apps, rollbacks, and the edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "controller/apps/apps.h"

#define MAX_INST 512

struct sim {
	struct app_instance inst[MAX_INST];
	size_t n;
	uint32_t bad;	   /* instances of this version turn unhealthy */
	uint64_t seed;	   /* 0: every instance moves on at each round */
	unsigned max_live; /* the most instances not stopping at once */
	unsigned starts, stops;
	int64_t clock;
};

static const struct app_amount all = {100, true}, none = {0, true};

static struct app_amount count_of(unsigned n)
{
	return (struct app_amount){n, false};
}

static struct app_amount pct(unsigned n)
{
	return (struct app_amount){n, true};
}

static bool available(const struct app_instance *in)
{
	return in->state == APP_INSTANCE_HEALTHY && in->ready;
}

static unsigned count_available(const struct sim *s)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += available(&s->inst[i]);
	return n;
}

static unsigned count_live(const struct sim *s)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->inst[i].state != APP_INSTANCE_STOPPING;
	return n;
}

/* n healthy instances 0..n-1 at version v. */
static void sim_init(struct sim *s, unsigned n, uint32_t v)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < n; i++)
		s->inst[s->n++] = (struct app_instance){i, v, APP_INSTANCE_HEALTHY, true, i, i + 1};
}

static struct app_instance *find(struct sim *s, unsigned index)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->inst[i].index == index)
			return &s->inst[i];
	return NULL;
}

static void apply(struct sim *s, const struct app_plan *p)
{
	for (size_t a = 0; a < p->nactions; a++) {
		const struct app_action *x = &p->actions[a];
		struct app_instance *in = find(s, x->index);
		if (x->kind == APP_ACTION_STOP) {
			assert_non_null(in);
			assert_int_not_equal(in->state, APP_INSTANCE_STOPPING);
			assert_int_equal(in->version, x->version);
			in->state = APP_INSTANCE_STOPPING;
			s->stops++;
		} else {
			/* A name never runs twice: a start needs its index free. */
			assert_null(in);
			assert_true(s->n < MAX_INST);
			s->inst[s->n++] =
				(struct app_instance){x->index, x->version, APP_INSTANCE_STARTING,
						      false,	++s->clock, (int64_t)s->n + 1000};
			s->starts++;
		}
	}
	if (count_live(s) > s->max_live)
		s->max_live = count_live(s);
}

static bool moves(struct sim *s)
{
	if (!s->seed)
		return true;
	s->seed = s->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (s->seed >> 33) % 3 != 0;
}

/* Time passes: stopping instances go, starting ones pass or fail their checks. */
static void advance(struct sim *s)
{
	size_t out = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct app_instance in = s->inst[i];
		if (moves(s)) {
			if (in.state == APP_INSTANCE_STOPPING)
				continue;
			if (in.state == APP_INSTANCE_STARTING) {
				in.state = in.version == s->bad ? APP_INSTANCE_UNHEALTHY
								: APP_INSTANCE_HEALTHY;
				in.ready = in.state == APP_INSTANCE_HEALTHY;
			}
		}
		s->inst[out++] = in;
	}
	s->n = out;
}

struct run {
	unsigned wanted;
	uint32_t target, rollback_to;
	bool ordered, auto_rollback, bound;
	struct app_amount min, surge;
};

static struct app_rollout rollout_of(const struct sim *s, const struct run *r)
{
	return (struct app_rollout){
		.wanted = r->wanted,
		.target = r->target,
		.rollback_to = r->rollback_to,
		.auto_rollback = r->auto_rollback,
		.ordered = r->ordered,
		.bound = r->bound,
		.min_healthy = r->min,
		.max_surge = r->surge,
		.instances = s->inst,
		.ninstances = s->n,
	};
}

static void plan(struct sim *s, const struct run *r, struct app_plan *p)
{
	struct app_rollout ro = rollout_of(s, r);
	struct acre_error err = {0};
	unsigned before = count_available(s), live = count_live(s);
	if (app_rollout_plan(&ro, p, &err) < 0)
		fail_msg("plan refused: %s", err.message);
	bool starts = false;
	for (size_t a = 0; a < p->nactions; a++)
		starts |= p->actions[a].kind == APP_ACTION_START;
	apply(s, p);
	/* Stops never take the app below min_healthy, unless it already was (then not lower). */
	unsigned floor = before < p->min_healthy ? before : p->min_healthy;
	if (!r->ordered && count_available(s) < floor)
		fail_msg("%u available after the plan, below %u (min_healthy %u, %u before)",
			 count_available(s), floor, p->min_healthy, before);
	if (r->ordered && p->nactions > 1)
		fail_msg("ordered: %zu actions at once", p->nactions);
	if (starts && count_live(s) > r->wanted + p->max_surge && count_live(s) > live)
		fail_msg("%u running after starts, above %u + %u", count_live(s), r->wanted,
			 p->max_surge);
}

/* Plans and advances until the plan is not acting or waiting; returns its last state. */
static enum app_plan_state run_until_settled(struct sim *s, const struct run *r,
					     unsigned max_rounds, struct app_plan *last)
{
	for (unsigned round = 0; round < max_rounds; round++) {
		struct app_plan p;
		plan(s, r, &p);
		if (p.state != APP_PLAN_ACTING && p.state != APP_PLAN_WAITING) {
			*last = p;
			return p.state;
		}
		app_plan_free(&p);
		advance(s);
	}
	fail_msg("no end after %u rounds", max_rounds);
	return APP_PLAN_STUCK;
}

static void assert_settled(const struct sim *s, unsigned wanted, uint32_t v)
{
	assert_int_equal(s->n, wanted);
	for (unsigned i = 0; i < wanted; i++) {
		bool found = false;
		for (size_t k = 0; k < s->n; k++)
			if (s->inst[k].index == i) {
				assert_int_equal(s->inst[k].version, v);
				assert_true(available(&s->inst[k]));
				found = true;
			}
		assert_true(found);
	}
}

static void rollout(unsigned from, unsigned to, struct app_amount min, struct app_amount surge,
		    bool ordered, uint64_t seed)
{
	struct sim s;
	struct app_plan p;
	struct run r = {.wanted = to, .target = 2, .min = min, .surge = surge, .ordered = ordered};
	sim_init(&s, from, 1);
	s.seed = seed;
	unsigned surge_n = ordered ? 0 : app_amount_resolve(&surge, to, true, false);
	/* No room either way (as 90% of 1 or of 3, rounded up, with no surge): said, not hung. */
	if (!ordered && to && from && surge_n == 0 &&
	    app_amount_resolve(&min, to, true, true) == to) {
		assert_int_equal(run_until_settled(&s, &r, 20, &p), APP_PLAN_STUCK);
		assert_non_null(strstr(p.reason, "allow a surge or lower min_healthy"));
		app_plan_free(&p);
		return;
	}
	if (run_until_settled(&s, &r, 20 * (from + to) + 50, &p) != APP_PLAN_DONE)
		fail_msg("%u -> %u (min %u%s, surge %u%s, %s, seed %llu): %s: %s", from, to,
			 min.value, min.percent ? "%" : "", surge.value, surge.percent ? "%" : "",
			 ordered ? "ordered" : "unordered", (unsigned long long)seed,
			 app_plan_state_name(p.state), p.reason);
	assert_int_equal(p.at_target, to);
	app_plan_free(&p);
	assert_settled(&s, to, 2);
	unsigned bound = (from > to + surge_n ? from : to + surge_n);
	if (s.max_live > bound)
		fail_msg("%u -> %u: %u running at once, above %u", from, to, s.max_live, bound);
}

static void test_first_steps_three(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	struct run r = {.wanted = 3, .target = 2, .min = all, .surge = count_of(1)};
	sim_init(&s, 3, 1);
	/* Nothing may stop yet: a stand-in above the wanted ones starts first. */
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_ACTING);
	assert_int_equal(p.min_healthy, 3);
	assert_int_equal(p.max_surge, 1);
	assert_int_equal(p.nactions, 1);
	assert_int_equal(p.actions[0].kind, APP_ACTION_START);
	assert_int_equal(p.actions[0].index, 3);
	assert_int_equal(p.actions[0].version, 2);
	app_plan_free(&p);
	/* Still starting: wait, and say for what. */
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_WAITING);
	assert_non_null(strstr(p.reason, "instance 3 (version 2) to become healthy"));
	app_plan_free(&p);
	advance(&s);
	/* Healthy: the highest old one stops, in place. */
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 1);
	assert_int_equal(p.actions[0].kind, APP_ACTION_STOP);
	assert_int_equal(p.actions[0].index, 2);
	assert_int_equal(p.actions[0].version, 1);
	app_plan_free(&p);
	advance(&s);
	/* Gone: instance 2 starts again, at the new version, under its own name. */
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 1);
	assert_int_equal(p.actions[0].kind, APP_ACTION_START);
	assert_int_equal(p.actions[0].index, 2);
	app_plan_free(&p);
	assert_int_equal(run_until_settled(&s, &r, 100, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	assert_settled(&s, 3, 2);
	/* 3 replaced in place, and the stand-in started and stopped. */
	assert_int_equal(s.starts, 4);
	assert_int_equal(s.stops, 4);
}

static void test_create(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	struct run r = {.wanted = 100, .target = 1, .min = all, .surge = count_of(1)};
	sim_init(&s, 0, 1);
	/* A new app starts every instance at once: the surge bounds extras, not the start. */
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 100);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(p.actions[i].kind, APP_ACTION_START);
		assert_int_equal(p.actions[i].index, i);
	}
	app_plan_free(&p);
	assert_int_equal(run_until_settled(&s, &r, 10, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	/* Nothing wanted, nothing there: done at once. */
	sim_init(&s, 0, 1);
	r.wanted = 0;
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_DONE);
	app_plan_free(&p);
}

static void test_rolling_sizes(void **state)
{
	(void)state;
	static const unsigned sizes[] = {1, 3, 10, 100};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(sizes); i++) {
		unsigned n = sizes[i];
		for (uint64_t seed = 0; seed < 4; seed++) {
			rollout(n, n, all, count_of(1), false, seed);
			rollout(n, n, all, pct(10), false, seed);
			rollout(n, n, all, pct(50), false, seed);
			rollout(n, n, pct(90), count_of(0), false, seed);
			rollout(n, n, pct(50), count_of(2), false, seed);
			rollout(n, n, none, count_of(0), false, seed);
			rollout(n, n, count_of(n > 1 ? n - 1 : 0), count_of(0), false, seed);
		}
	}
}

static void test_surge_arithmetic(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	/* 10 instances, min 100%, surge 10% = 1: one stand-in; 3 stand-ins at 25% (rounded up). */
	struct run r = {.wanted = 10, .target = 2, .min = all, .surge = pct(10)};
	sim_init(&s, 10, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.max_surge, 1);
	assert_int_equal(p.nactions, 1);
	app_plan_free(&p);
	r.surge = pct(25);
	sim_init(&s, 10, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.max_surge, 3);
	assert_int_equal(p.nactions, 3);
	assert_int_equal(p.actions[2].index, 12);
	app_plan_free(&p);
	/* 100 instances, min 90% (90), no surge: 10 stop at once, and nothing more. */
	r = (struct run){.wanted = 100, .target = 2, .min = pct(90), .surge = none};
	sim_init(&s, 100, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.min_healthy, 90);
	assert_int_equal(p.nactions, 10);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(p.actions[i].kind, APP_ACTION_STOP);
		assert_int_equal(p.actions[i].index, 99 - i);
	}
	app_plan_free(&p);
	/* min_healthy 95% of 3 rounds up to 3: it keeps more, never fewer. */
	r = (struct run){.wanted = 3, .target = 2, .min = pct(95), .surge = count_of(1)};
	sim_init(&s, 3, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.min_healthy, 3);
	app_plan_free(&p);
	/* A count above the instances is all of them. */
	r.min = count_of(7);
	plan(&s, &r, &p);
	assert_int_equal(p.min_healthy, 3);
	app_plan_free(&p);
}

static void test_scale(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	struct run r = {.wanted = 10, .target = 1, .min = all, .surge = count_of(1)};
	/* Up, at the same version: only the new indexes start. */
	sim_init(&s, 3, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 7);
	assert_int_equal(p.actions[0].index, 3);
	app_plan_free(&p);
	assert_int_equal(run_until_settled(&s, &r, 10, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	assert_int_equal(s.stops, 0);
	/* Down: the highest go, all at once (the ones kept are all healthy). */
	r.wanted = 2;
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(p.actions[i].kind, APP_ACTION_STOP);
		assert_int_equal(p.actions[i].index, 9 - i);
	}
	app_plan_free(&p);
	assert_int_equal(run_until_settled(&s, &r, 10, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	assert_settled(&s, 2, 1);
	/* 3 -> 10 -> 2 with a new version on the way, and randomly slow instances. */
	for (uint64_t seed = 0; seed < 8; seed++) {
		rollout(3, 10, all, count_of(1), false, seed);
		rollout(10, 2, all, count_of(1), false, seed);
		rollout(100, 10, pct(90), pct(10), false, seed);
		rollout(10, 100, all, pct(25), false, seed);
		rollout(5, 0, all, count_of(1), false, seed);
	}
}

static void test_ordered(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	struct run r = {
		.wanted = 3, .target = 1, .min = all, .surge = count_of(1), .ordered = true};
	/* Created one at a time, each healthy and ready before the next. */
	sim_init(&s, 0, 1);
	for (unsigned i = 0; i < 3; i++) {
		plan(&s, &r, &p);
		assert_int_equal(p.nactions, 1);
		assert_int_equal(p.actions[0].kind, APP_ACTION_START);
		assert_int_equal(p.actions[0].index, i);
		app_plan_free(&p);
		plan(&s, &r, &p);
		assert_int_equal(p.state, APP_PLAN_WAITING);
		app_plan_free(&p);
		advance(&s);
	}
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_DONE);
	app_plan_free(&p);
	/* Updated from the highest index down, in place, no stand-in. */
	r.target = 2;
	unsigned order[3], k = 0;
	for (unsigned round = 0; round < 30 && k < 3; round++) {
		plan(&s, &r, &p);
		assert_int_equal(p.max_surge, 0);
		if (p.nactions && p.actions[0].kind == APP_ACTION_STOP)
			order[k++] = p.actions[0].index;
		if (p.nactions)
			assert_true(p.actions[0].index < 3);
		app_plan_free(&p);
		advance(&s);
	}
	assert_int_equal(k, 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	assert_int_equal(run_until_settled(&s, &r, 30, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	for (uint64_t seed = 0; seed < 4; seed++) {
		rollout(1, 1, all, count_of(1), true, seed);
		rollout(3, 3, all, count_of(1), true, seed);
		rollout(10, 10, all, count_of(1), true, seed);
		rollout(10, 3, all, count_of(1), true, seed);
		rollout(3, 10, all, count_of(1), true, seed);
	}
	/* Scaled down from the highest, one at a time. */
	sim_init(&s, 5, 1);
	r = (struct run){.wanted = 2, .target = 1, .min = all, .ordered = true};
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 1);
	assert_int_equal(p.actions[0].index, 4);
	app_plan_free(&p);
}

/*
 * Instances bound to their volumes are replaced in place, one at a time:
 * no stand-in (it would serve volumes of its own, empty), whatever
 * max_surge and min_healthy say.
 */
static void test_bound(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 3; n += 2) {
		struct sim s;
		struct app_plan p;
		struct run r = {
			.wanted = n, .target = 2, .min = all, .surge = count_of(1), .bound = true};
		sim_init(&s, n, 1);
		plan(&s, &r, &p);
		assert_int_equal(p.max_surge, 0);
		assert_int_equal(p.nactions, 1);
		assert_int_equal(p.actions[0].kind, APP_ACTION_STOP);
		app_plan_free(&p);
		for (unsigned round = 0; round < 40; round++) {
			for (size_t k = 0; k < s.n; k++)
				assert_true(s.inst[k].index < n);
			plan(&s, &r, &p);
			bool end = p.state == APP_PLAN_DONE;
			app_plan_free(&p);
			if (end)
				break;
			advance(&s);
		}
		assert_settled(&s, n, 2);
		assert_true(s.max_live <= n);
	}
}

static void test_rollback(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	/* Version 2 fails its checks: the rollout stops and goes back to 1. */
	struct run r = {.wanted = 10,
			.target = 2,
			.rollback_to = 1,
			.auto_rollback = true,
			.min = all,
			.surge = count_of(2)};
	sim_init(&s, 10, 1);
	s.bad = 2;
	assert_int_equal(run_until_settled(&s, &r, 50, &p), APP_PLAN_ROLLBACK);
	assert_int_equal(p.rollback_to, 1);
	assert_non_null(strstr(p.reason, "of version 2 failed its health checks: rolling back"));
	assert_int_equal(p.nactions, 0);
	app_plan_free(&p);
	/* The old instances never went below min_healthy, and going back ends where it began. */
	assert_true(count_available(&s) >= 10);
	r.target = 1;
	r.rollback_to = 0;
	assert_int_equal(run_until_settled(&s, &r, 50, &p), APP_PLAN_DONE);
	app_plan_free(&p);
	assert_settled(&s, 10, 1);
	/* Without auto_rollback it is kept as it is, and says so. */
	r = (struct run){
		.wanted = 3, .target = 2, .rollback_to = 1, .min = all, .surge = count_of(1)};
	sim_init(&s, 3, 1);
	s.bad = 2;
	assert_int_equal(run_until_settled(&s, &r, 50, &p), APP_PLAN_PAUSED);
	assert_non_null(strstr(p.reason, "kept as it is for inspection"));
	app_plan_free(&p);
	/* A first deployment has nothing to go back to: it waits on the failing instance. */
	r = (struct run){
		.wanted = 2, .target = 1, .min = all, .surge = count_of(1), .auto_rollback = true};
	sim_init(&s, 0, 1);
	s.bad = 1;
	plan(&s, &r, &p);
	app_plan_free(&p);
	advance(&s);
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_WAITING);
	assert_non_null(strstr(p.reason, "to recover or be restarted"));
	app_plan_free(&p);
}

static void test_no_progress(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	/* min_healthy 100% and no surge: nothing may stop, nothing may start. */
	struct run r = {.wanted = 3, .target = 2, .min = all, .surge = none};
	sim_init(&s, 3, 1);
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_STUCK);
	assert_non_null(strstr(p.reason, "no instance may stop (min_healthy 3 of 3"));
	assert_non_null(strstr(p.reason, "none may start (max_surge 0"));
	app_plan_free(&p);
	/* The same app at its target is simply done: nothing needs to move. */
	r.target = 1;
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_DONE);
	app_plan_free(&p);
}

static void test_edges(void **state)
{
	(void)state;
	struct sim s;
	struct app_plan p;
	struct acre_error err = {0};
	struct run r = {.wanted = 3, .target = 2, .min = all, .surge = count_of(1)};
	/* Two instances of one index are the surplus chooser's to settle first. */
	sim_init(&s, 3, 1);
	s.inst[2].index = 1;
	struct app_rollout ro = {.wanted = 3,
				 .target = 2,
				 .min_healthy = all,
				 .instances = s.inst,
				 .ninstances = s.n};
	assert_int_equal(app_rollout_plan(&ro, &p, &err), -EINVAL);
	assert_non_null(strstr(err.message, "instance 1 is listed twice"));
	assert_null(p.actions);
	/* Unhealthy old instances cost nothing to stop: they go first, with no stand-in. */
	sim_init(&s, 3, 1);
	s.inst[0].state = APP_INSTANCE_UNHEALTHY;
	s.inst[0].ready = false;
	plan(&s, &r, &p);
	assert_int_equal(p.available, 2);
	assert_true(p.nactions >= 1);
	assert_int_equal(p.actions[0].kind, APP_ACTION_STOP);
	assert_int_equal(p.actions[0].index, 0);
	app_plan_free(&p);
	/* Healthy but not ready does not count for min_healthy. */
	sim_init(&s, 3, 1);
	s.inst[1].ready = false;
	r.target = 1;
	plan(&s, &r, &p);
	assert_int_equal(p.state, APP_PLAN_WAITING);
	assert_int_equal(p.available, 2);
	assert_int_equal(p.at_target, 2);
	app_plan_free(&p);
	/* A lost instance (gone from the list) is started again under its index. */
	sim_init(&s, 3, 1);
	s.inst[1] = s.inst[2];
	s.n = 2;
	plan(&s, &r, &p);
	assert_int_equal(p.nactions, 1);
	assert_int_equal(p.actions[0].kind, APP_ACTION_START);
	assert_int_equal(p.actions[0].index, 1);
	app_plan_free(&p);
	/* An index still stopping keeps its name: nothing starts there until it is gone. */
	sim_init(&s, 3, 1);
	s.inst[2].state = APP_INSTANCE_STOPPING;
	r.target = 2;
	r.min = pct(0);
	plan(&s, &r, &p);
	for (size_t i = 0; i < p.nactions; i++)
		assert_false(p.actions[i].kind == APP_ACTION_START && p.actions[i].index == 2);
	app_plan_free(&p);
	assert_string_equal(app_plan_state_name(APP_PLAN_STUCK), "stuck");
	assert_string_equal(app_instance_state_name(APP_INSTANCE_STOPPING), "stopping");
}

static void test_from_slice(void **state)
{
	(void)state;
	enum app_instance_state st;
	assert_true(
		app_instance_state_from_slice(ACRE_SLICE_PENDING, false, ACRE_HEALTH_NONE, &st));
	assert_int_equal(st, APP_INSTANCE_STARTING);
	/* Running without checks serves; with checks, their verdict says. */
	assert_true(
		app_instance_state_from_slice(ACRE_SLICE_RUNNING, false, ACRE_HEALTH_NONE, &st));
	assert_int_equal(st, APP_INSTANCE_HEALTHY);
	app_instance_state_from_slice(ACRE_SLICE_RUNNING, false, ACRE_HEALTH_STARTING, &st);
	assert_int_equal(st, APP_INSTANCE_STARTING);
	app_instance_state_from_slice(ACRE_SLICE_RUNNING, false, ACRE_HEALTH_HEALTHY, &st);
	assert_int_equal(st, APP_INSTANCE_HEALTHY);
	app_instance_state_from_slice(ACRE_SLICE_RUNNING, false, ACRE_HEALTH_UNHEALTHY, &st);
	assert_int_equal(st, APP_INSTANCE_UNHEALTHY);
	/* Ended but still holding its name: to be restarted, unless it is being removed. */
	assert_true(app_instance_state_from_slice(ACRE_SLICE_FAILED, false, ACRE_HEALTH_NONE, &st));
	assert_int_equal(st, APP_INSTANCE_UNHEALTHY);
	app_instance_state_from_slice(ACRE_SLICE_EXITED, true, ACRE_HEALTH_NONE, &st);
	assert_int_equal(st, APP_INSTANCE_STOPPING);
	app_instance_state_from_slice(ACRE_SLICE_RUNNING, true, ACRE_HEALTH_HEALTHY, &st);
	assert_int_equal(st, APP_INSTANCE_STOPPING);
	/* Lost or gone: its index is free for a replacement under the same name. */
	assert_false(app_instance_state_from_slice(ACRE_SLICE_LOST, false, ACRE_HEALTH_NONE, &st));
	assert_false(
		app_instance_state_from_slice(ACRE_SLICE_DESTROYED, true, ACRE_HEALTH_NONE, &st));
}

/* The rolling update of the benchmark's size: 10,000 instances, max_surge 10%. */
static void test_ten_thousand(void **state)
{
	(void)state;
	enum { N = 10000, SURGE = 1000 };
	struct app_instance *v = calloc(N + SURGE, sizeof(*v));
	struct acre_error err = {0};
	struct app_plan p;
	assert_non_null(v);
	for (unsigned i = 0; i < N; i++)
		v[i] = (struct app_instance){i, 1, APP_INSTANCE_HEALTHY, true, i, i + 1};
	struct app_rollout r = {.wanted = N,
				.target = 2,
				.min_healthy = all,
				.max_surge = pct(10),
				.instances = v,
				.ninstances = N};
	/* A thousand stand-ins start, above the wanted indexes. */
	assert_int_equal(app_rollout_plan(&r, &p, &err), 0);
	assert_int_equal(p.max_surge, SURGE);
	assert_int_equal(p.nactions, SURGE);
	assert_int_equal(p.actions[0].index, N);
	assert_int_equal(p.actions[SURGE - 1].index, N + SURGE - 1);
	app_plan_free(&p);
	/* Once they serve, a thousand old ones stop, from the highest. */
	for (unsigned i = 0; i < SURGE; i++)
		v[N + i] =
			(struct app_instance){N + i, 2, APP_INSTANCE_HEALTHY, true, N + i, N + i};
	r.ninstances = N + SURGE;
	assert_int_equal(app_rollout_plan(&r, &p, &err), 0);
	assert_int_equal(p.nactions, SURGE);
	for (unsigned i = 0; i < SURGE; i++) {
		assert_int_equal(p.actions[i].kind, APP_ACTION_STOP);
		assert_int_equal(p.actions[i].index, N - 1 - i);
	}
	app_plan_free(&p);
	free(v);
}

/* The forecast of a run from the sim's instances as they are. */
static void forecast(struct sim *s, const struct run *r, struct app_forecast *f)
{
	struct app_rollout ro = rollout_of(s, r);
	struct acre_error err = {0};
	assert_int_equal(app_rollout_forecast(&ro, 50, f, &err), 0);
}

static void count_actions(const struct app_forecast *f, unsigned *starts, unsigned *stops)
{
	*starts = *stops = 0;
	for (size_t i = 0; i < f->nsteps; i++)
		for (size_t k = 0; k < f->steps[i].nactions; k++)
			*(f->steps[i].actions[k].kind == APP_ACTION_START ? starts : stops) += 1;
}

/*
 * The plan ahead agrees with the planner run for real: a rolling update of
 * 3 with a surge of 1 is 4 starts and 4 stops, one at a time, ending done;
 * once under way, its first step is what is starting; a scale 0 -> 10 is
 * one step; an ordered app of 3, three steps of one start; a forecast
 * stops at its step limit and says so.
 */
static void test_forecast(void **state)
{
	(void)state;
	struct sim s;
	struct app_forecast f;
	unsigned starts, stops;
	struct run r = {.wanted = 3, .target = 2, .min = all, .surge = count_of(1)};
	sim_init(&s, 3, 1);
	forecast(&s, &r, &f);
	assert_int_equal(f.now, APP_PLAN_ACTING);
	assert_int_equal(f.end, APP_PLAN_DONE);
	count_actions(&f, &starts, &stops);
	assert_int_equal(starts, 4);
	assert_int_equal(stops, 4);
	assert_int_equal(f.steps[0].nactions, 1);
	assert_int_equal(f.steps[0].actions[0].kind, APP_ACTION_START);
	assert_int_equal(f.steps[0].actions[0].index, 3);
	assert_false(f.truncated);
	app_forecast_free(&f);
	/* The stand-in started: the step under way is its start, waiting for it. */
	struct app_plan p;
	plan(&s, &r, &p);
	app_plan_free(&p);
	forecast(&s, &r, &f);
	assert_int_equal(f.now, APP_PLAN_WAITING);
	assert_non_null(strstr(f.now_reason, "instance 3"));
	assert_int_equal(f.steps[0].nactions, 1);
	assert_int_equal(f.steps[0].actions[0].index, 3);
	count_actions(&f, &starts, &stops);
	assert_int_equal(starts, 4);
	assert_int_equal(stops, 4);
	app_forecast_free(&f);

	struct run up = {.wanted = 10, .target = 1, .min = all, .surge = count_of(1)};
	sim_init(&s, 0, 1);
	forecast(&s, &up, &f);
	assert_int_equal(f.nsteps, 1);
	assert_int_equal(f.steps[0].nactions, 10);
	assert_int_equal(f.end, APP_PLAN_DONE);
	app_forecast_free(&f);

	struct run ord = {.wanted = 3, .target = 1, .ordered = true, .min = all, .surge = none};
	forecast(&s, &ord, &f);
	assert_int_equal(f.nsteps, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(f.steps[i].nactions, 1);
		assert_int_equal(f.steps[i].actions[0].index, i);
	}
	app_forecast_free(&f);

	struct run many = {.wanted = 100, .target = 2, .min = all, .surge = count_of(1)};
	sim_init(&s, 100, 1);
	forecast(&s, &many, &f);
	assert_true(f.truncated);
	assert_int_equal(f.nsteps, 50);
	app_forecast_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_steps_three),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_rolling_sizes),
		cmocka_unit_test(test_surge_arithmetic),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_ordered),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_no_progress),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_ten_thousand),
		cmocka_unit_test(test_from_slice),
		cmocka_unit_test(test_forecast),
	};
	return cmocka_run_group_tests_name("app rollout", tests, NULL, NULL);
}
