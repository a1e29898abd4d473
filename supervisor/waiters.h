/*
 * Socket requests that finish later than they arrive (waiters.c): a
 * foreground run, a detached run, an rm --force, a wait.  Each waits on one
 * slice, and hears of it as an observer of the slice's changes.
 */
#ifndef ACRE_SUPERVISOR_WAITERS_H
#define ACRE_SUPERVISOR_WAITERS_H

#include "slice.h"
#include "server.h"

enum waiter_kind {
	WAIT_RUN_FOREGROUND, /* "started" event, then the final reply when it ends */
	WAIT_RUN_DETACHED,   /* the reply once the task runs (or failed to) */
	WAIT_END,	     /* the reply once the slice has ended */
	WAIT_REMOVED,	     /* the reply once the slice is gone */
};

/* Registers the waiters' observer of slice changes. */
int waiters_init(struct supervisor *sv, struct acre_error *err);
void waiters_free(struct supervisor *sv);
/* Request `id` of `c` is answered when `s` gets where `kind` says. */
int waiter_add(struct slice *s, struct conn *c, json_t *id, enum waiter_kind kind);
/* The connection is going away: its waiters go, and its foreground slices end. */
void waiters_detach_conn(struct conn *c);

#endif
