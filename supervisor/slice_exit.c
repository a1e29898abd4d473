/*
 * How a slice's run ends: messages from the launch child and acre-init
 * (started, or why the launch failed), the exit of acre-init seen through
 * its pidfd, the exit record that says how the task itself ended, the OOM
 * counter that says whether the kernel killed it, and then the restart
 * policy with its back-off, or the final state.
 */
#include "slice.h"
#include "checkpoint.h"
#include "prelaunch.h"

#include <signal.h>
#include <sys/wait.h>

#define BACKOFF_MAX_MS	       30000
#define BACKOFF_RESET_AFTER_MS 10000

static void on_checkpoint_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct slice *s = arg;
	checkpoint_write(s->sv, &s->rec);
}

/*
 * "running" is written a moment later: a task that ends within it gets only
 * its final record, and a short foreground run pays for no fsync at all.
 * A crash before the write loses nothing: "starting" is adopted the same way.
 */
static void checkpoint_soon(struct slice *s)
{
	if (!s->checkpoint_timer)
		s->checkpoint_timer = evtimer_new(s->sv->base, on_checkpoint_timer, s);
	struct timeval tv = {0, 50 * 1000};
	if (s->checkpoint_timer)
		evtimer_add(s->checkpoint_timer, &tv);
}

static void handle_event(struct slice *s, enum acre_launch_event ev, pid_t task,
			 const struct acre_error *err)
{
	if (ev == ACRE_LAUNCH_STARTED) {
		s->rec.task_pid = task;
		slice_set_state(s, ACRE_SLICE_RUNNING, NULL);
		checkpoint_soon(s);
		slice_publish(s);
		prelaunch_launch_under_way(s->sv);
	} else if (ev == ACRE_LAUNCH_FAILED) {
		snprintf(s->launch_error, sizeof(s->launch_error), "%s", err->message);
		s->launch_errno = err->code;
		acre_log(ACRE_LOG_WARN, "slice=%s event=launch_failed error=\"%s\"",
			 s->rec.spec.name, err->message);
	}
}

static void close_status(struct slice *s)
{
	if (s->status_ev) {
		event_free(s->status_ev);
		s->status_ev = NULL;
	}
	if (s->status_fd >= 0) {
		close(s->status_fd);
		s->status_fd = -1;
	}
}

static void drain_status(struct slice *s)
{
	while (s->status_fd >= 0) {
		struct acre_error err = {0};
		pid_t task = 0;
		enum acre_launch_event ev = acre_launch_read_event(s->status_fd, &task, &err);
		if (ev == ACRE_LAUNCH_AGAIN)
			return;
		if (ev == ACRE_LAUNCH_CLOSED) {
			close_status(s);
			return;
		}
		handle_event(s, ev, task, &err);
	}
}

void slice_on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_status(arg);
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct slice *s = arg;
	struct acre_error err = {0};
	s->rec.restarts++;
	if (slice_launch(s, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=restart_failed error=\"%s\"",
			 s->rec.spec.name, err.message);
		snprintf(s->rec.exit.launch_failed, sizeof(s->rec.exit.launch_failed), "%s",
			 err.message);
		s->rec.exit.known = true;
		slice_set_state(s, ACRE_SLICE_FAILED, err.message);
		checkpoint_write(s->sv, &s->rec);
		slice_publish(s);
	}
}

static bool should_restart(const struct slice *s)
{
	const struct acre_slice_spec *spec = &s->rec.spec;
	if (s->rec.killed_by_user || s->removing || s->sv->stopping)
		return false;
	switch (spec->restart) {
	case ACRE_RESTART_ALWAYS:
		return true;
	case ACRE_RESTART_ON_FAILURE:
		return s->rec.state == ACRE_SLICE_FAILED &&
		       (spec->restart_max == 0 || s->rec.restarts < spec->restart_max);
	default:
		return false;
	}
}

static void schedule_restart(struct slice *s)
{
	uint64_t ran = (uint64_t)(s->rec.finished_at - s->rec.started_at);
	if (ran >= BACKOFF_RESET_AFTER_MS)
		s->backoff_ms = 100;
	if (!s->restart_timer)
		s->restart_timer = evtimer_new(s->sv->base, on_restart_timer, s);
	struct timeval tv = {.tv_sec = (time_t)(s->backoff_ms / 1000),
			     .tv_usec = (suseconds_t)(s->backoff_ms % 1000) * 1000};
	acre_log(ACRE_LOG_INFO, "slice=%s event=restart_scheduled in_ms=%llu restarts=%u",
		 s->rec.spec.name, (unsigned long long)s->backoff_ms, s->rec.restarts);
	if (s->restart_timer)
		evtimer_add(s->restart_timer, &tv);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Fills rec.exit from the best source there is: the record, the launch error, the wait status. */
static void determine_exit(struct slice *s, int wait_code, int wait_status, bool have_status)
{
	struct acre_exit *e = &s->rec.exit;
	if (checkpoint_read_exit(s->sv, s->rec.spec.name, e) == 0) {
		/* acre-init's own account. */
	} else if (s->launch_error[0]) {
		memset(e, 0, sizeof(*e));
		e->known = true;
		snprintf(e->launch_failed, sizeof(e->launch_failed), "%s", s->launch_error);
		e->exit_code = 125;
	} else if (have_status) {
		/* acre-init itself died without a word: killed, most likely by us or the OOM
		 * killer. */
		memset(e, 0, sizeof(*e));
		e->known = true;
		if (wait_code == CLD_EXITED)
			e->exit_code = wait_status;
		else
			e->signal = wait_status;
	} else if (s->rec.killed_by_user) {
		/*
		 * Ended while no supervisor watched, after one sent it an ending
		 * signal: acre-init records every end but its own SIGKILL.
		 */
		memset(e, 0, sizeof(*e));
		e->known = true;
		e->signal = SIGKILL;
	} else {
		memset(e, 0, sizeof(*e));
	}
	/*
	 * The kernel killed something in the slice for memory, and the task
	 * died of SIGKILL, or exited as a shell does when its child did (137).
	 */
	bool killed = e->signal == SIGKILL || (!e->signal && e->exit_code == 128 + SIGKILL);
	if (e->known && !e->launch_failed[0] && killed &&
	    acre_cgroup_oom_kills(s->cgroup) > s->oom_base)
		e->oom = true;
}

static enum acre_slice_state final_state(const struct slice *s)
{
	const struct acre_exit *e = &s->rec.exit;
	if (!e->known)
		return ACRE_SLICE_LOST;
	if (e->launch_failed[0])
		return ACRE_SLICE_FAILED;
	if (s->rec.killed_by_user)
		return ACRE_SLICE_KILLED;
	if (e->oom || e->signal || e->exit_code != 0)
		return ACRE_SLICE_FAILED;
	return ACRE_SLICE_EXITED;
}

static void settle(struct slice *s, int wait_code, int wait_status, bool have_status)
{
	drain_status(s);
	close_status(s);
	if (s->pid_ev) {
		event_free(s->pid_ev);
		s->pid_ev = NULL;
	}
	if (s->kill_timer)
		event_del(s->kill_timer);
	if (s->checkpoint_timer)
		event_del(s->checkpoint_timer);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->rec.finished_at = acre_now_ms();
	if (s->from_prelaunch && s->launch_errno == ESTALE) {
		/* The prelaunched view of the root was outdated: launch afresh, as if new. */
		struct acre_error err = {0};
		s->launch_errno = 0;
		s->launch_error[0] = '\0';
		if (slice_launch(s, &err) == 0)
			return;
		snprintf(s->launch_error, sizeof(s->launch_error), "%s", err.message);
	}
	determine_exit(s, wait_code, wait_status, have_status);
	char reason[300], exit[200];
	if (s->rec.exit.known)
		acre_exit_reason(&s->rec.exit, exit, sizeof(exit));
	else
		snprintf(exit, sizeof(exit), "lost: acre-init left no exit record");
	if (s->stop_reason[0])
		snprintf(reason, sizeof(reason), "%s (%s)", s->stop_reason, exit);
	else
		snprintf(reason, sizeof(reason), "%s", exit);
	slice_set_state(s, final_state(s), reason);
	if (should_restart(s)) {
		checkpoint_write(s->sv, &s->rec);
		schedule_restart(s);
		slice_publish(s); /* with the next run pending: not the end */
		return;
	}
	if (s->removing || s->rec.remove_on_exit) {
		slice_publish(s);
		slice_destroy(s);
		return;
	}
	checkpoint_write(s->sv, &s->rec);
	slice_publish(s);
	for (int i = 0; i < 3; i++) {
		if (s->stdio[i] >= 0)
			close(s->stdio[i]);
		s->stdio[i] = -1;
	}
}

void slice_on_exit(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct slice *s = arg;
	siginfo_t si = {0};
	bool have = false;
	if (s->is_child && waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
		have = true;
	settle(s, si.si_code, si.si_status, have);
}

void slice_settle_ended(struct slice *s)
{
	settle(s, 0, 0, false);
}

void slice_resume_policy(struct slice *s)
{
	if (should_restart(s))
		schedule_restart(s);
	else if (s->rec.remove_on_exit)
		slice_destroy(s);
}
