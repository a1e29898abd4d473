/*
 * The node's side of `on_partition: replace`: cut off from the controller
 * for its disconnect grace, the node stops the pool's slices labelled
 * acre.on-partition=replace itself (as Nomad's max_client_disconnect does),
 * so that when the controller runs them elsewhere after its --lost-after,
 * a name never runs on two nodes at once.  Slices labelled wait (or not
 * labelled) run on; slices started on the node's own socket are never
 * touched.
 *
 * The grace is the controller's to say, at each registration
 * (disconnect_grace_ms: half its --lost-after); it is kept in the state
 * directory (controller-grace.json) so that a supervisor restarted while
 * cut off still knows it.  "Cut off" counts from the last line heard from
 * the controller while registered — not from when the link notices it is
 * dead, which takes a few heartbeats — or from the start of the process.
 * A line heard before the grace runs out cancels it.
 *
 * The stops are a normal kill (TERM, then KILL after the stop timeout),
 * and each slice ends with the reason "partition: ...": its update waits
 * in the outbox and reaches the controller when the link is back, so the
 * controller sees it ended, not lost.
 */
#include "controller_link.h"
#include "slice_ops.h"

#define GRACE_FILE "controller-grace.json"

static uint64_t since_heard_ms(const struct partition *pt)
{
	return (acre_monotonic_ns() - pt->heard_ns) / 1000000ULL;
}

static void arm(struct partition *pt, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(pt->timer, &tv);
}

static bool replaced_on_partition(const struct slice *s)
{
	const char *v =
		json_string_value(json_object_get(s->rec.spec.labels, ACRE_LABEL_ON_PARTITION));
	return v && !strcmp(v, ACRE_ON_PARTITION_REPLACE);
}

static void stop_replaced(struct controller_link *l, uint64_t after_ms)
{
	_cleanup_free_ struct slice **all = slice_ops_list(l->sv);
	if (!all) {
		acre_log(ACRE_LOG_ERROR, "event=partition_stop_failed error=\"out of memory\"");
		return;
	}
	for (struct slice **p = all; *p; p++) {
		struct slice *s = *p;
		if (!slice_ops_managed(s) || !replaced_on_partition(s) ||
		    (!slice_is_active(s) && !slice_restart_pending(s)))
			continue;
		snprintf(s->stop_reason, sizeof(s->stop_reason),
			 "partition: cut off from the controller for %llu ms",
			 (unsigned long long)after_ms);
		acre_log(ACRE_LOG_WARN, "event=partition_stop slice=%s after_ms=%llu",
			 s->rec.spec.name, (unsigned long long)after_ms);
		struct acre_error err = {0};
		if (slice_kill(s, 0, &err) < 0)
			acre_log(ACRE_LOG_ERROR,
				 "event=partition_stop_failed slice=%s error=\"%s\"",
				 s->rec.spec.name, err.message);
	}
}

static void on_grace_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct controller_link *l = arg;
	struct partition *pt = &l->part;
	if (!pt->grace_ms || pt->stopped || l->sv->stopping)
		return;
	uint64_t since = since_heard_ms(pt);
	if (since < pt->grace_ms) {
		arm(pt, pt->grace_ms - since); /* heard meanwhile */
		return;
	}
	pt->stopped = true;
	stop_replaced(l, since);
}

void partition_heard(struct controller_link *l)
{
	struct partition *pt = &l->part;
	pt->heard_ns = acre_monotonic_ns();
	if (pt->stopped) {
		pt->stopped = false;
		acre_log(ACRE_LOG_INFO, "event=partition_healed");
	}
	if (pt->grace_ms && !evtimer_pending(pt->timer, NULL))
		arm(pt, pt->grace_ms);
}

static void save_grace(struct controller_link *l)
{
	_cleanup_json_ json_t *j =
		json_pack("{s:I}", "disconnect_grace_ms", (json_int_t)l->part.grace_ms);
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct acre_error err = {0};
	if (!text ||
	    acre_file_write_atomic(l->sv->state_fd, GRACE_FILE, text, strlen(text), &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=partition_grace_unsaved error=\"%s\"",
			 text ? err.message : "out of memory");
}

void partition_set_grace(struct controller_link *l, uint64_t grace_ms)
{
	struct partition *pt = &l->part;
	if (grace_ms == pt->grace_ms)
		return;
	acre_log(ACRE_LOG_INFO, "event=partition_grace grace_ms=%llu",
		 (unsigned long long)grace_ms);
	pt->grace_ms = grace_ms;
	save_grace(l);
	event_del(pt->timer);
	if (grace_ms)
		arm(pt, grace_ms > since_heard_ms(pt) ? grace_ms - since_heard_ms(pt) : 0);
}

/* The grace the controller last told; 0 (nothing stopped) when it never did. */
static uint64_t load_grace(struct controller_link *l)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (acre_file_read(l->sv->state_fd, GRACE_FILE, &text, &len, 4096) < 0)
		return 0;
	_cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
	json_t *v = json_object_get(j, "disconnect_grace_ms");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		acre_log(ACRE_LOG_WARN, "event=partition_grace_ignored file=%s reason=\"damaged\"",
			 GRACE_FILE);
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

int partition_init(struct controller_link *l, struct acre_error *err)
{
	struct partition *pt = &l->part;
	pt->timer = evtimer_new(l->sv->base, on_grace_timer, l);
	if (!pt->timer)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	/* Not heard since the process started: cut off from now until registered. */
	pt->heard_ns = acre_monotonic_ns();
	pt->grace_ms = load_grace(l);
	if (pt->grace_ms)
		arm(pt, pt->grace_ms);
	return 0;
}

void partition_free(struct controller_link *l)
{
	if (l->part.timer)
		event_free(l->part.timer);
	l->part.timer = NULL;
}
