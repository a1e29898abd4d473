/*
 * The checks of each running slice, on the event loop: every check has a
 * timer, and each run is a child (health_run.c) whose pidfd the loop
 * watches, so a slow or stuck slice never holds the loop.  A run still
 * going when the next is due is left to its watcher, which ends it at the
 * timeout (no two runs of a check at once); one that outlives the timeout
 * by HEALTH_STUCK_MS is killed from here and counts as failed.
 *
 * What the results add up to is health_verdict.c's.
 * Only transitions are told (logged, and to the health observers: the
 * names, VIPs and the pool follow them); checks start with each run of the
 * slice and stop when it ends.
 */
#include "health.h"
#include "health_verdict.h"

#include <event2/event.h>

#define HEALTH_STUCK_MS 1000
/*
 * A check that has not passed yet, within its grace period, runs again
 * after this rather than its interval: a daemon that listens 300 ms after
 * its start is seen healthy then, not a whole interval (5 s by default)
 * later, which was most of the time a package install took.
 */
#define HEALTH_STARTING_RETRY_MS 250

struct probe {
	struct health_probes *hp;
	const struct acre_check *check;
	struct health_standing st; /* the verdict's input */
	struct event *timer;
	struct event *exit_ev;
	struct health_child child;
	uint64_t run_ns; /* when the present run of the check started */
};

struct health_probes {
	struct slice *s;
	uint64_t started_ns; /* the slice's run, for grace */
	size_t n;
	struct probe p[];
};

struct health {
	struct slice_observer observer;
};

static void ms_timeval(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

static const char *check_text(const struct acre_check *c, char *buf, size_t len)
{
	if (c->kind == ACRE_CHECK_COMMAND)
		snprintf(buf, len, "command:%s", c->command[0]);
	else if (c->kind == ACRE_CHECK_TCP)
		snprintf(buf, len, "tcp:%u", c->port);
	else
		snprintf(buf, len, "http:%u%s", c->port, c->path);
	return buf;
}

static void set_health(struct slice *s, enum acre_health h, bool ready, unsigned failures,
		       const char *check, const char *reason)
{
	struct slice_health *sh = &s->health;
	bool changed = sh->health != h || sh->ready != ready;
	sh->failures = failures;
	snprintf(sh->reason, sizeof(sh->reason), "%s", reason);
	if (!changed)
		return;
	sh->health = h;
	sh->ready = ready;
	sh->changed_at = acre_now_ms();
	acre_log(ACRE_LOG_INFO,
		 "slice=%s event=health health=%s ready=%s failures=%u check=%s reason=\"%s\"",
		 s->rec.spec.name, acre_health_name(h), ready ? "true" : "false", failures, check,
		 reason);
	slice_publish_health(s);
}

static void settle(struct probe *p, bool ok, const char *reason)
{
	struct health_probes *hp = p->hp;
	health_standing_record(&p->st, ok, (acre_monotonic_ns() - hp->started_ns) / 1000000);
	struct health_standing st[ACRE_CHECKS_MAX * 2];
	for (size_t i = 0; i < hp->n; i++)
		st[i] = hp->p[i].st;
	enum acre_health h;
	bool ready;
	unsigned failures;
	health_verdict(st, hp->n, &h, &ready, &failures);
	char what[64];
	check_text(p->check, what, sizeof(what));
	set_health(hp->s, h, ready, failures, what, reason);
}

static void on_run_ended(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct probe *p = arg;
	char reason[256];
	event_del(p->exit_ev);
	event_free(p->exit_ev);
	p->exit_ev = NULL;
	bool ok = health_run_finish(p->check, &p->child, reason, sizeof(reason));
	settle(p, ok, reason);
}

/* A run still going: killed and reaped (whether it counts is the caller's to say). */
static void abandon(struct probe *p)
{
	if (p->child.pidfd < 0)
		return;
	health_run_kill(&p->child);
	if (p->exit_ev) {
		event_free(p->exit_ev);
		p->exit_ev = NULL;
	}
	char reason[256];
	health_run_finish(p->check, &p->child, reason, sizeof(reason));
}

/* From this run's start to the next: sooner while the check waits for its first pass. */
static uint64_t next_run_ms(const struct probe *p)
{
	uint64_t age_ms = (acre_monotonic_ns() - p->hp->started_ns) / 1000000;
	if (!p->st.passed_once && age_ms < p->check->grace_ms &&
	    p->check->interval_ms > HEALTH_STARTING_RETRY_MS)
		return HEALTH_STARTING_RETRY_MS;
	return p->check->interval_ms;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct probe *p = arg;
	struct slice *s = p->hp->s;
	struct timeval tv;
	ms_timeval(next_run_ms(p), &tv);
	evtimer_add(p->timer, &tv);
	if (p->child.pidfd >= 0) {
		/* Its watcher ends it at the timeout; past a second more, the watcher is stuck. */
		uint64_t ran_ms = (acre_monotonic_ns() - p->run_ns) / 1000000;
		if (ran_ms < p->check->timeout_ms + HEALTH_STUCK_MS)
			return;
		char reason[96];
		abandon(p);
		snprintf(reason, sizeof(reason), "still running after %llums: killed",
			 (unsigned long long)ran_ms);
		settle(p, false, reason);
	}
	struct acre_error err = {0};
	if (health_run_start(s, p->check, &p->child, &err) < 0) {
		settle(p, false, err.message);
		return;
	}
	p->run_ns = acre_monotonic_ns();
	p->exit_ev = event_new(s->sv->base, p->child.pidfd, EV_READ, on_run_ended, p);
	if (!p->exit_ev || event_add(p->exit_ev, NULL) < 0) {
		abandon(p);
		settle(p, false, "out of memory");
	}
}

static void probes_stop(struct slice *s)
{
	struct health_probes *hp = s->probes;
	if (!hp)
		return;
	for (size_t i = 0; i < hp->n; i++) {
		abandon(&hp->p[i]);
		if (hp->p[i].timer)
			event_free(hp->p[i].timer);
	}
	free(hp);
	s->probes = NULL;
}

static void probes_start(struct slice *s)
{
	const struct acre_slice_spec *spec = &s->rec.spec;
	size_t n = spec->nchecks + spec->nreadiness;
	struct health_probes *hp = calloc(1, sizeof(*hp) + n * sizeof(hp->p[0]));
	if (!hp) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=health_failed error=\"out of memory\"",
			 spec->name);
		return;
	}
	*hp = (struct health_probes){.s = s, .started_ns = acre_monotonic_ns(), .n = n};
	s->probes = hp;
	for (size_t i = 0; i < n; i++) {
		struct probe *p = &hp->p[i];
		bool ready = i >= spec->nchecks;
		const struct acre_check *c =
			ready ? &spec->readiness[i - spec->nchecks] : &spec->checks[i];
		*p = (struct probe){.hp = hp,
				    .check = c,
				    .st = {.check = c, .readiness = ready},
				    .child = {.pidfd = -1, .out_fd = -1}};
		p->timer = evtimer_new(s->sv->base, on_timer, p);
		/* The first run at once: a passing check need not wait out an interval. */
		struct timeval now = {0, 0};
		if (p->timer)
			evtimer_add(p->timer, &now);
	}
	set_health(s, spec->nchecks ? ACRE_HEALTH_STARTING : ACRE_HEALTH_NONE,
		   spec->nreadiness == 0, 0, "-", "run started");
}

/* Checks run while the slice runs, from each run's start. */
static void on_slice_changed(void *ud, struct slice *s)
{
	(void)ud;
	const struct acre_slice_spec *spec = &s->rec.spec;
	bool runs = s->rec.state == ACRE_SLICE_RUNNING && s->pidfd >= 0;
	if (runs && !s->probes && spec->nchecks + spec->nreadiness > 0)
		probes_start(s);
	else if (!runs && s->probes) {
		probes_stop(s);
		/* An ended run is neither healthy nor starting: no health until the next. */
		set_health(s, ACRE_HEALTH_NONE, false, 0, "-", "run ended");
	}
}

void health_adopted(struct slice *s)
{
	on_slice_changed(NULL, s);
}

int health_init(struct supervisor *sv, struct acre_error *err)
{
	struct health *h = calloc(1, sizeof(*h));
	if (!h)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	h->observer = (struct slice_observer){.changed = on_slice_changed, .ud = h};
	/*
	 * Added last, told first: a run's health is "starting" before the
	 * pool's update of it is made, so no slice is named on its way up.
	 */
	slice_observer_add(sv, &h->observer);
	sv->health = h;
	return 0;
}

static void stop_cb(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	probes_stop(value);
}

void health_free(struct supervisor *sv)
{
	if (!sv->health)
		return;
	acre_map_foreach(sv->slices, stop_cb, NULL);
	slice_observer_remove(sv, &sv->health->observer);
	free(sv->health);
	sv->health = NULL;
}
