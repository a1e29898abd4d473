/*
 * Requests that finish later than they arrive: a foreground run waits for
 * the task to start and then to end, a detached run for the task to start,
 * an rm --force for the slice to be gone, a wait for its end.  Each waiter
 * sits on two lists, its slice's and its connection's, so whichever goes
 * first can let go; the slice's changes reach them through an observer.
 */
#include "waiters.h"
#include "view.h"

struct waiter {
	enum waiter_kind kind;
	struct conn *conn; /* NULL once the client went away */
	json_t *id;
	struct slice *slice;
	ACRE_LIST_FIELDS(struct waiter, in_slice);
	ACRE_LIST_FIELDS(struct waiter, in_conn);
};

struct waiters {
	struct slice_observer observer;
};

int waiter_add(struct slice *s, struct conn *c, json_t *id, enum waiter_kind kind)
{
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->kind = kind;
	w->conn = c;
	w->id = json_incref(id);
	w->slice = s;
	ACRE_LIST_PREPEND(in_slice, s->waiters, w);
	ACRE_LIST_PREPEND(in_conn, *conn_waiters(c), w);
	return 0;
}

static void waiter_free(struct waiter *w)
{
	ACRE_LIST_REMOVE(in_slice, w->slice->waiters, w);
	if (w->conn)
		ACRE_LIST_REMOVE(in_conn, *conn_waiters(w->conn), w);
	json_decref(w->id);
	free(w);
}

/* The client was killed, or went away: its foreground slice ends (DESIGN.md). */
void waiters_detach_conn(struct conn *c)
{
	struct waiter *w, *next;
	ACRE_LIST_FOREACH_SAFE (in_conn, w, next, *conn_waiters(c)) {
		ACRE_LIST_REMOVE(in_conn, *conn_waiters(c), w);
		w->conn = NULL;
		if (w->kind == WAIT_RUN_FOREGROUND && slice_is_active(w->slice)) {
			acre_log(ACRE_LOG_INFO, "slice=%s event=client_gone action=stop",
				 w->slice->rec.spec.name);
			slice_stop(w->slice);
		}
		waiter_free(w);
	}
}

static void reply_and_free(struct waiter *w, json_t *result)
{
	if (w->conn)
		conn_reply_ok(w->conn, w->id, result);
	else
		json_decref(result);
	waiter_free(w);
}

static void notify_started(struct slice *s)
{
	struct waiter *w, *next;
	ACRE_LIST_FOREACH_SAFE (in_slice, w, next, s->waiters) {
		if (w->kind == WAIT_RUN_FOREGROUND && w->conn) {
			json_t *ev =
				acre_proto_event(w->id, "started",
						 json_pack("{s:s,s:i}", "name", s->rec.spec.name,
							   "pid", (int)s->rec.pid));
			conn_send(w->conn, ev);
			json_decref(ev);
		} else if (w->kind == WAIT_RUN_DETACHED) {
			reply_and_free(w, view_slice_summary(s));
		}
	}
}

static void notify_ended(struct slice *s, bool removed)
{
	struct waiter *w, *next;
	ACRE_LIST_FOREACH_SAFE (in_slice, w, next, s->waiters) {
		if (!removed && w->kind == WAIT_REMOVED)
			continue;
		/* A run that will be removed on exit answers once it is gone. */
		if (!removed && w->kind == WAIT_RUN_FOREGROUND && s->rec.remove_on_exit)
			continue;
		if (w->kind == WAIT_RUN_DETACHED && !removed && s->rec.exit.launch_failed[0]) {
			struct acre_error err;
			acre_error_set(&err, EIO, NULL, "launching slice %s: %s", s->rec.spec.name,
				       s->rec.exit.launch_failed);
			if (w->conn)
				conn_reply_error(w->conn, w->id, &err);
			waiter_free(w);
			continue;
		}
		reply_and_free(w, view_slice_result(s));
	}
}

static void on_slice_changed(void *ud, struct slice *s)
{
	(void)ud;
	if (!s->waiters)
		return;
	if (s->rec.state == ACRE_SLICE_RUNNING)
		notify_started(s);
	else if (s->rec.state == ACRE_SLICE_DESTROYED)
		notify_ended(s, true);
	else if (acre_slice_state_is_final(s->rec.state) && slice_has_ended(s))
		notify_ended(s, false);
}

int waiters_init(struct supervisor *sv, struct acre_error *err)
{
	struct waiters *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	ws->observer = (struct slice_observer){.changed = on_slice_changed, .ud = ws};
	slice_observer_add(sv, &ws->observer);
	sv->waiters = ws;
	return 0;
}

void waiters_free(struct supervisor *sv)
{
	if (!sv->waiters)
		return;
	slice_observer_remove(sv, &sv->waiters->observer);
	free(sv->waiters);
	sv->waiters = NULL;
}
