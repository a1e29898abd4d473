/*
 * What the event log's files share (eventlog.c keeps the table,
 * eventlog_sub.c the subscribers, events_http.c the stream): the log's
 * state and its prepared statements.  Not for use outside controller/api/.
 */
#ifndef ACRE_CONTROLLER_API_EVENTLOG_INTERNAL_H
#define ACRE_CONTROLLER_API_EVENTLOG_INTERNAL_H

#include "eventlog.h"

enum eventlog_stmt {
	EL_INSERT,
	EL_STATE,
	EL_NTH,
	EL_AGED,
	EL_DELETE,
	EL_OLDEST,
	EL_PAGE,
	EL_STMT_COUNT,
};

#include "common/jsonw.h"

/* Type and event names: short plain words. */
#define EVENTLOG_NAME_MAX 63

/*
 * An appended event until its pass is committed or rolled back.  Its text
 * is in the log's pass buffer (log->text, offsets, for it grows): the
 * envelope, encoded once, whose parts are the row's data and labels; then
 * its type and its event name, each NUL-terminated.
 */
struct eventlog_staged {
	int64_t seq, time;
	size_t off, json_len;	       /* the envelope */
	size_t labels_off, labels_len; /* inside it */
	size_t data_off, data_len;     /* inside it */
	size_t type_off, event_off;    /* after it */
	json_t *labels;		       /* parsed when a live subscriber filters by label */
};

struct eventlog_sub {
	ACRE_LIST_FIELDS(struct eventlog_sub, subs);
	struct eventlog *log;
	struct eventlog_filter filter;
	struct eventlog_sub_ops ops;
	void *ud;
	int64_t cursor; /* every event up to this seq was passed to it (or filtered out) */
	bool live;	/* takes committed events as they come */
	bool announced; /* `live` was called */
};

/* What a transaction changed, to be put back if it is rolled back. */
struct eventlog_saved {
	int64_t trimmed_through, stored, oldest_seq, oldest_time;
};

struct eventlog {
	sqlite3 *db;
	struct eventlog_options opt;
	sqlite3_stmt *stmt[EL_STMT_COUNT];
	int64_t next_seq;		 /* the next append's */
	int64_t committed_seq;		 /* the newest committed event's */
	int64_t trimmed_through;	 /* every event up to here was dropped */
	int64_t stored;			 /* rows in the table */
	int64_t oldest_seq, oldest_time; /* the first row's, when stored > 0 */
	ACRE_VEC(struct eventlog_staged) staged;
	struct acre_jsonw w; /* where an appended event is encoded */
	/* The staged events' texts, one after another: no allocation per event. */
	char *text;
	size_t text_len, text_cap;
	size_t written; /* staged[0..written) are in the open transaction */
	bool in_txn;	/* write_staged ran and neither commit nor rollback followed */
	struct eventlog_saved saved;
	struct eventlog_sub *subs;
	size_t nsubs;
	uint64_t delivered, lagged;
};

/* An SQLite failure as an acre_error: "event log: WHAT: sqlite's message". */
int eventlog_db_error(struct eventlog *log, struct acre_error *err, const char *what);
/*
 * An event's envelope, {"seq","time","type","event","labels",TYPE: data},
 * joined from the texts of its parts (no parsing, no escaping: names are
 * plain words), into ev->json with ev->data and ev->labels pointing into
 * it.  The text is the caller's to free; NULL when out of memory or a
 * name is not a plain word.
 */
char *eventlog_envelope(struct eventlog_event *ev, const char *labels, size_t labels_len,
			const char *data, size_t data_len);
/* A staged event as subscribers see it (pointing into log->text). */
void eventlog_staged_event(const struct eventlog *log, const struct eventlog_staged *s,
			   struct eventlog_event *ev);
/* eventlog_sub.c: the committed events staged[0..n) to the live subscribers. */
void eventlog_deliver(struct eventlog *log, struct eventlog_staged *ev, size_t n);
/* eventlog_sub.c: every subscriber told and freed (the log closes). */
void eventlog_close_subs(struct eventlog *log);

#endif
