/*
 * The pool's changes into the durable event log (eventlog.h), and
 * GET /v1/events.  The log is a subscriber of the pool: every change an
 * event reports is staged as it happens, written in the pass's own
 * transaction, and delivered to the streams only once that transaction
 * is committed.  The log keeps its table in the store's SQLite file, so
 * events and the state they describe reach the disk together.
 *
 * Trimming to the bounds happens with each pass that writes events; a
 * timer trims by age too, so that old events go when nothing happens.
 */
#include "internal.h"

#include <event2/event.h>

#include "controller/store/store.h"

#define TRIM_INTERVAL_S 60

static void write_data(struct acre_jsonw *w, const void *ch)
{
	pool_change_write(w, ch);
}

static void write_labels(struct acre_jsonw *w, const void *ch)
{
	pool_change_write_labels(w, ch);
}

/*
 * A change an event reports, staged as it is now: written straight from
 * the pool's structs into the one text the row and the streams share.
 */
static void changed(void *ud, const struct pool_change *ch)
{
	struct api *a = ud;
	if (ch->quiet)
		return;
	struct acre_error err = {0};
	if (eventlog_append_with(a->eventlog, pool_change_type(ch), ch->event, write_data,
				 write_labels, ch, NULL, &err) < 0)
		acre_log(ACRE_LOG_ERROR,
			 "event=eventlog_append_failed type=%s name=%s error=\"%s\"",
			 pool_change_type(ch), ch->event, err.message);
}

/* Inside the pass's transaction; a pass that wrote nothing else opens it only for events. */
static int committing(void *ud, struct acre_error *err)
{
	struct api *a = ud;
	struct store *st = pool_store(a->pool);
	if (!eventlog_staged(a->eventlog) && !store_in_transaction(st))
		return 0;
	int rc = store_begin(st, err);
	return rc < 0 ? rc : eventlog_write_staged(a->eventlog, err);
}

static void committed(void *ud)
{
	struct api *a = ud;
	eventlog_committed(a->eventlog);
}

/*
 * Trims by age when no pass does.  Not while events wait for their pass's
 * commit: a transaction of its own would commit them before the changes
 * they report, and that pass trims anyway.
 */
static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct api *a = arg;
	struct acre_error err = {0};
	if (eventlog_staged(a->eventlog) || store_in_transaction(pool_store(a->pool)))
		return;
	if (eventlog_flush(a->eventlog, &err) < 0)
		acre_log(ACRE_LOG_ERROR, "event=eventlog_trim_failed error=\"%s\"", err.message);
}

API_HANDLER(api_events_subscribe)
{
	(void)p;
	(void)q;
	struct acre_error err = {0};
	int rc = eventlog_http_serve(req, a->eventlog, a->base, &err);
	if (rc < 0) {
		api_reply_error(a, req, api_status_for(rc), &err);
		return;
	}
	api_count(a, 200);
}

int api_events_start(struct api *a, struct acre_error *err)
{
	struct store *st = pool_store(a->pool);
	if (!st)
		return acre_error_set(err, EINVAL, NULL, "the event log needs the pool's store");
	int rc = eventlog_open(store_sqlite(st), &a->opt.events, &a->eventlog, err);
	if (rc < 0)
		return rc;
	struct pool_subscriber sub = {
		.changed = changed, .committing = committing, .committed = committed, .ud = a};
	if (pool_subscribe(a->pool, &sub) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	a->events_trim = event_new(a->base, -1, EV_PERSIST, on_trim, a);
	struct timeval tv = {TRIM_INTERVAL_S, 0};
	if (!a->events_trim || event_add(a->events_trim, &tv) < 0)
		return acre_error_set(err, ENOMEM, NULL, "creating the event log's timer");
	return 0;
}

void api_events_stop(struct api *a)
{
	/* api_stop unsubscribes a from the pool: the log's subscription with the rest */
	if (a->events_trim)
		event_free(a->events_trim);
	a->events_trim = NULL;
	eventlog_close(a->eventlog);
	a->eventlog = NULL;
}
