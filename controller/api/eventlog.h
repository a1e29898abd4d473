/*
 * The controller's durable event log: every change of a pool object, with
 * a sequence number that never goes back and never names two events,
 * stored in SQLite beside the rest of the controller's state, bounded by
 * count and age, and read by subscribers that resume from any sequence
 * number with no gap and no duplicate.  GET /v1/events (events_http.c)
 * serves it as Server-Sent Events.
 *
 * The life of an event follows the controller's pass (README "Durability"):
 *
 *	eventlog_append()          during the pass: staged, given its seq
 *	BEGIN                      the pass's one transaction (the caller's)
 *	eventlog_write_staged()    rows written, the log trimmed to its bounds
 *	COMMIT
 *	eventlog_committed()       delivered to live subscribers
 *	(or ROLLBACK, then eventlog_rollback(): dropped, never delivered)
 *
 * Only committed events are ever delivered.  A subscriber first reads the
 * stored events after its starting point from SQLite, a page at a time, as
 * fast as it can take them; then it receives each committed event as it
 * comes.  One cursor per subscriber (the last sequence number it has
 * passed) joins the two phases, so nothing is seen twice or skipped.  A
 * subscriber that stops taking events (its buffer is past its bound) is
 * paused and reads from SQLite again once it drains; only if the log was
 * trimmed past its cursor meanwhile does it lose events, and then it is
 * told which, with a `lagged` notice, never silently.
 *
 * Everything runs on the controller's one loop thread.  Callbacks must not
 * unsubscribe, append or close the log from inside.
 */
#ifndef ACRE_CONTROLLER_API_EVENTLOG_H
#define ACRE_CONTROLLER_API_EVENTLOG_H

#include "common/common.h"

#include <sqlite3.h>

struct event_base;
struct evhttp_request;

#define EVENTLOG_DEFAULT_MAX_EVENTS   100000
#define EVENTLOG_DEFAULT_MAX_AGE_MS   (7LL * 24 * 3600 * 1000)
#define EVENTLOG_DEFAULT_PAGE_ROWS    256
#define EVENTLOG_DEFAULT_KEEPALIVE_MS 15000
#define EVENTLOG_DEFAULT_STREAM_MAX   (1u << 20)

/* Bounds and tuning; a field left 0 takes its default (above). */
struct eventlog_options {
	int64_t max_events;	 /* events kept, at most (--events-max) */
	int64_t max_age_ms;	 /* events older than this are dropped (--events-max-age) */
	size_t page_rows;	 /* rows a catching-up subscriber reads per query */
	int64_t keepalive_ms;	 /* GET /v1/events: a comment line when idle this long */
	size_t stream_max_bytes; /* GET /v1/events: a client's unsent bytes before it is paused */
};

/*
 * Sets the option a controller flag names: "--events-max" (a count, at
 * least 1) or "--events-max-age" (a duration: 500ms, 10s, 2m, 1h, 7d).
 */
int eventlog_options_set(struct eventlog_options *o, const char *flag, const char *value,
			 struct acre_error *err);

/*
 * One event as subscribers see it; valid during the callback only.  An
 * event is encoded once, when it is appended: the row, the live streams
 * and the catch-up all use that text, and none of them parses it again.
 */
struct eventlog_event {
	int64_t seq;
	int64_t time;	   /* unix ms, when it was appended */
	const char *type;  /* "slice", "node", ... */
	const char *event; /* "created", "state", "removed", "registered", ... */
	/*
	 * The whole event as one compact JSON object, what /v1/events sends:
	 * {"seq", "time", "type", "event", "labels", TYPE: data}.
	 */
	const char *json;
	size_t json_len;
	/* Its parts, inside json (not NUL-terminated there): */
	const char *data; /* the object as the API shows it */
	size_t data_len;
	const char *labels; /* an object of strings, maybe empty */
	size_t labels_len;
};

/*
 * What a subscriber wants: events of any of `types` (NULL or empty: all)
 * whose labels hold every "KEY=VALUE" of `labels` (NULL or empty: any).
 * Both NULL-terminated; the log keeps copies.
 */
struct eventlog_filter {
	char **types;
	char **labels;
};

bool eventlog_filter_match(const struct eventlog_filter *f, const char *type, const json_t *labels);

/*
 * A subscriber's callbacks.  `event` and `lagged` return false when the
 * subscriber can take no more for now (what was passed was taken):
 * delivery pauses until its owner calls eventlog_pump.
 */
struct eventlog_sub_ops {
	bool (*event)(const struct eventlog_event *ev, void *ud);
	/*
	 * Events first..last (inclusive; some numbers may never have been
	 * used) were dropped from the log before this subscriber read them.
	 * Delivery goes on with the events after `last`.
	 */
	bool (*lagged)(int64_t first, int64_t last, void *ud);
	/*
	 * Called once, when the stored events asked for are all delivered:
	 * everything up to `seq` was passed, what follows is live.
	 */
	bool (*live)(int64_t seq, void *ud);
	/* The log closes: the subscription is gone (do not unsubscribe). */
	void (*closed)(void *ud);
};

struct eventlog;
struct eventlog_sub;

/*
 * Opens the log in `db` (which the caller keeps open while the log is):
 * creates its tables if missing and reads where it stopped.  The next
 * event's seq follows the last committed one, whatever was trimmed.
 */
int eventlog_open(sqlite3 *db, const struct eventlog_options *o, struct eventlog **out,
		  struct acre_error *err);
/* Tells every subscriber (`closed`), drops staged events, frees the log; before closing db. */
void eventlog_close(struct eventlog *log);

/*
 * Stages an event and gives it the next sequence number (in *seq if not
 * NULL).  `type` and `event` are short lower-case words ([a-z][a-z0-9_.-]*);
 * `data` a JSON object, `labels` an object of strings or NULL; both are
 * encoded at once (the caller keeps them).  The event is stored by the
 * next eventlog_write_staged.
 */
int eventlog_append(struct eventlog *log, const char *type, const char *event, const json_t *data,
		    const json_t *labels, int64_t *seq, struct acre_error *err);

struct acre_jsonw;

/*
 * The same for a caller that writes an event's parts itself, straight
 * from its own structs (common/jsonw.h), with no jansson tree on the way:
 * write_labels writes an object of strings (NULL: no labels), write_data
 * an object; both get `obj`.  What they write is trusted to have those
 * shapes; a failed writer (bad UTF-8, no memory) fails the append.
 */
typedef void (*eventlog_write_fn)(struct acre_jsonw *w, const void *obj);
int eventlog_append_with(struct eventlog *log, const char *type, const char *event,
			 eventlog_write_fn write_data, eventlog_write_fn write_labels,
			 const void *obj, int64_t *seq, struct acre_error *err);
/* Events staged and not yet committed. */
size_t eventlog_staged(const struct eventlog *log);

/*
 * Inside the caller's open transaction: writes the staged events, then
 * trims the log to its bounds (also with nothing staged, so a pass may
 * call it only to trim by age).  -EINVAL if no transaction is open.
 */
int eventlog_write_staged(struct eventlog *log, struct acre_error *err);
/* After the commit: the written events go to the live subscribers. */
void eventlog_committed(struct eventlog *log);
/*
 * After a rollback: staged events are dropped and never delivered.  Their
 * numbers are skipped for the rest of the run (the stream may skip
 * numbers, it never repeats one); after a restart numbering follows the
 * newest committed event, so a number nobody was ever sent may come back.
 * What the rolled-back trim removed is back.
 */
void eventlog_rollback(struct eventlog *log);
/*
 * write_staged and committed in a transaction of its own, for a caller
 * with nothing else to write (a timer that trims by age, tests).
 */
int eventlog_flush(struct eventlog *log, struct acre_error *err);

/*
 * Subscribes from `since`: the subscriber gets the stored events after
 * seq `since` that match `filter` (NULL: all), then live ones.  since < 0
 * means from now (nothing stored); a since past the newest event means
 * the newest.  Nothing is delivered before the first eventlog_pump.
 */
int eventlog_subscribe(struct eventlog *log, int64_t since, const struct eventlog_filter *filter,
		       const struct eventlog_sub_ops *ops, void *ud, struct eventlog_sub **out,
		       struct acre_error *err);
void eventlog_unsubscribe(struct eventlog_sub *sub);

enum eventlog_pump_result {
	EVENTLOG_LIVE = 0, /* caught up: events now come as they are committed */
	EVENTLOG_PAUSED,   /* a callback returned false: pump again once it drains */
	EVENTLOG_MORE,	   /* a bounded amount was read; pump again soon */
};

/*
 * Moves a subscriber that is not live forward: a `lagged` notice if the
 * log was trimmed past it, then stored events a page at a time (a bounded
 * number of pages per call), then `live`.  An enum eventlog_pump_result,
 * or -errno with err filled when SQLite fails.
 */
int eventlog_pump(struct eventlog_sub *sub, struct acre_error *err);

struct eventlog_stats {
	int64_t last_seq;	 /* the newest committed event's, 0 if none ever */
	int64_t trimmed_through; /* every event up to this seq was dropped */
	int64_t stored;		 /* rows in the table */
	size_t subscribers;
	uint64_t delivered; /* events passed to subscribers */
	uint64_t lagged;    /* lagged notices */
};
void eventlog_stats(const struct eventlog *log, struct eventlog_stats *out);

/*
 * GET /v1/events as Server-Sent Events (events_http.c).  Takes the request
 * over and returns 0 once the stream is started; on bad input (since,
 * Last-Event-ID, type, label) returns -errno with err filled and leaves
 * the request to the caller, which answers it (400 for -EINVAL).  The
 * caller has checked the method and the token.  The stream sets the
 * connection's close callback for itself.
 */
int eventlog_http_serve(struct evhttp_request *req, struct eventlog *log, struct event_base *base,
			struct acre_error *err);
/* For events_http.c: the options the log was opened with (defaults filled in). */
const struct eventlog_options *eventlog_options(const struct eventlog *log);

#endif
