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

/* An appended event until its pass is committed or rolled back. */
struct eventlog_staged {
	int64_t seq, time;
	char *type, *event;
	json_t *data, *labels;
	char *json; /* the envelope, built when a subscriber first needs it */
	size_t json_len;
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
	size_t written; /* staged[0..written) are in the open transaction */
	bool in_txn;	/* write_staged ran and neither commit nor rollback followed */
	struct eventlog_saved saved;
	struct eventlog_sub *subs;
	size_t nsubs;
	uint64_t delivered, lagged;
};

/* An SQLite failure as an acre_error: "event log: WHAT: sqlite's message". */
int eventlog_db_error(struct eventlog *log, struct acre_error *err, const char *what);
/* The envelope text of an event: {"seq","time","type","event","labels",TYPE: data}. */
char *eventlog_envelope(int64_t seq, int64_t time, const char *type, const char *event,
			const json_t *data, const json_t *labels, size_t *len);
/* eventlog_sub.c: the committed events staged[0..n) to the live subscribers. */
void eventlog_deliver(struct eventlog *log, struct eventlog_staged *ev, size_t n);
/* eventlog_sub.c: every subscriber told and freed (the log closes). */
void eventlog_close_subs(struct eventlog *log);

#endif
