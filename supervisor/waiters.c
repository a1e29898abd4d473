/*
 * Requests that finish later than they arrive: a foreground run waits for
 * the task to start and then to end, a detached run for the task to start,
 * an rm --force for the slice to be gone.  Each waiter sits on two lists,
 * its slice's and its connection's, so whichever goes first can let go.
 */
#include "supervisor.h"

struct waiter *waiter_add(struct slice *s, struct conn *c, json_t *id, enum waiter_kind kind)
{
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->kind = kind;
	w->conn = c;
	w->id = json_incref(id);
	w->slice = s;
	w->next_in_slice = s->waiters;
	if (s->waiters)
		s->waiters->prev_in_slice = w;
	s->waiters = w;
	conn_add_waiter(c, w);
	return w;
}

void waiter_free(struct waiter *w)
{
	struct slice *s = w->slice;
	if (w->prev_in_slice)
		w->prev_in_slice->next_in_slice = w->next_in_slice;
	else if (s && s->waiters == w)
		s->waiters = w->next_in_slice;
	if (w->next_in_slice)
		w->next_in_slice->prev_in_slice = w->prev_in_slice;
	if (w->conn)
		conn_remove_waiter(w->conn, w);
	json_decref(w->id);
	free(w);
}

/* The connection is going away: its foreground slices end (design: the client was killed). */
void waiters_detach_conn(struct waiter *list)
{
	while (list) {
		struct waiter *next = list->next_in_conn;
		list->conn = NULL;
		list->prev_in_conn = list->next_in_conn = NULL;
		if (list->kind == WAIT_RUN_FOREGROUND && slice_is_active(list->slice)) {
			acre_log(ACRE_LOG_INFO, "slice=%s event=client_gone action=stop",
				 list->slice->rec.spec.name);
			slice_stop(list->slice);
		}
		waiter_free(list);
		list = next;
	}
}

static void reply_and_free(struct waiter *w, json_t *result)
{
	if (w->conn)
		conn_reply_ok(w->conn, w->id, result);
	waiter_free(w);
}

void waiters_notify_started(struct slice *s)
{
	for (struct waiter *w = s->waiters, *next; w; w = next) {
		next = w->next_in_slice;
		if (w->kind == WAIT_RUN_FOREGROUND && w->conn) {
			json_t *ev = acre_proto_event(w->id, "started",
						      json_pack("{s:s,s:i}", "name",
								s->rec.spec.name, "pid",
								(int)s->rec.pid));
			conn_send(w->conn, ev);
			json_decref(ev);
		} else if (w->kind == WAIT_RUN_DETACHED) {
			reply_and_free(w, view_slice_summary(s));
		}
	}
}

static void notify(struct slice *s, bool removed)
{
	for (struct waiter *w = s->waiters, *next; w; w = next) {
		next = w->next_in_slice;
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

void waiters_notify_ended(struct slice *s)
{
	notify(s, false);
}

void waiters_notify_removed(struct slice *s)
{
	notify(s, true);
}

void waiters_fail(struct slice *s, const struct acre_error *err)
{
	for (struct waiter *w = s->waiters, *next; w; w = next) {
		next = w->next_in_slice;
		if (w->conn)
			conn_reply_error(w->conn, w->id, err);
		waiter_free(w);
	}
}
