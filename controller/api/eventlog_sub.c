/*
 * The event log's subscribers: filters, the catch-up from SQLite a page at
 * a time, and the hand-over to live delivery after each commit.
 *
 * A subscriber's cursor is the newest seq it has passed (delivered or
 * filtered out).  Catching up reads rows with cursor < seq <= the newest
 * committed, so rows of a transaction still open are never read; live
 * delivery starts only once a read finds nothing newer, and both phases
 * move the same cursor: no event twice, none skipped.  A subscriber that
 * cannot take more leaves live delivery and catches up again from its
 * cursor, reading from the table what it would have been sent.  Only
 * trimming can take events from under it, and then `lagged` says which.
 */
#include "eventlog_internal.h"

/* Pages one pump reads at most, so one subscriber's backlog never stalls the loop. */
#define PUMP_PAGES 4

static bool type_wanted(const struct eventlog_filter *f, const char *type)
{
	if (!f->types || !f->types[0])
		return true;
	for (char **t = f->types; *t; t++)
		if (!strcmp(*t, type))
			return true;
	return false;
}

static bool labels_wanted(const struct eventlog_filter *f, const json_t *labels)
{
	if (!f->labels)
		return true;
	for (char **l = f->labels; *l; l++) {
		const char *eq = strchr(*l, '=');
		if (!eq)
			return false;
		char key[256];
		size_t n = (size_t)(eq - *l);
		if (n >= sizeof(key))
			return false;
		memcpy(key, *l, n);
		key[n] = '\0';
		const char *v = json_string_value(json_object_get(labels, key));
		if (!v || strcmp(v, eq + 1) != 0)
			return false;
	}
	return true;
}

bool eventlog_filter_match(const struct eventlog_filter *f, const char *type, const json_t *labels)
{
	return !f || (type_wanted(f, type) && labels_wanted(f, labels));
}

static bool labels_filtered(const struct eventlog_sub *s)
{
	return s->filter.labels && s->filter.labels[0];
}

static int filter_check(const struct eventlog_filter *f, struct acre_error *err)
{
	for (char **t = f->types; t && *t; t++)
		if (!**t)
			return acre_error_set(err, EINVAL, "type", "an empty event type");
	for (char **l = f->labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		if (!eq || eq == *l || eq - *l >= 256)
			return acre_error_set(err, EINVAL, "label",
					      "label %.200s: expected KEY=VALUE", *l);
	}
	return 0;
}

int eventlog_subscribe(struct eventlog *log, int64_t since, const struct eventlog_filter *filter,
		       const struct eventlog_sub_ops *ops, void *ud, struct eventlog_sub **out,
		       struct acre_error *err)
{
	*out = NULL;
	if (!ops || !ops->event || !ops->lagged || !ops->live || !ops->closed)
		return acre_error_set(err, EINVAL, NULL,
				      "event log: a subscriber needs every callback");
	int rc = filter ? filter_check(filter, err) : 0;
	if (rc < 0)
		return rc;
	struct eventlog_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "event log: out of memory");
	if (filter && ((filter->types && !(s->filter.types = acre_strv_copy(filter->types))) ||
		       (filter->labels && !(s->filter.labels = acre_strv_copy(filter->labels))))) {
		acre_strv_free(s->filter.types);
		free(s);
		return acre_error_set(err, ENOMEM, NULL, "event log: out of memory");
	}
	s->log = log;
	s->ops = *ops;
	s->ud = ud;
	s->cursor = since < 0 || since > log->committed_seq ? log->committed_seq : since;
	ACRE_LIST_PREPEND(subs, log->subs, s);
	log->nsubs++;
	*out = s;
	return 0;
}

static void sub_free(struct eventlog_sub *s)
{
	acre_strv_free(s->filter.types);
	acre_strv_free(s->filter.labels);
	free(s);
}

void eventlog_unsubscribe(struct eventlog_sub *s)
{
	if (!s)
		return;
	ACRE_LIST_REMOVE(subs, s->log->subs, s);
	s->log->nsubs--;
	sub_free(s);
}

void eventlog_close_subs(struct eventlog *log)
{
	while (log->subs) {
		struct eventlog_sub *s = log->subs;
		ACRE_LIST_REMOVE(subs, log->subs, s);
		log->nsubs--;
		s->ops.closed(s->ud);
		sub_free(s);
	}
}

static bool pass(struct eventlog_sub *s, const struct eventlog_event *ev)
{
	s->log->delivered++;
	return s->ops.event(ev, s->ud);
}

/* A staged event's labels as JSON, parsed once, for subscribers that filter by them. */
static const json_t *staged_labels(struct eventlog_staged *e, const struct eventlog_event *ev)
{
	if (!e->labels)
		e->labels = json_loadb(ev->labels, ev->labels_len, 0, NULL);
	return e->labels;
}

void eventlog_deliver(struct eventlog *log, struct eventlog_staged *v, size_t n)
{
	struct eventlog_sub *s;
	ACRE_LIST_FOREACH (subs, s, log->subs) {
		if (!s->live)
			continue;
		for (size_t i = 0; i < n; i++) {
			struct eventlog_staged *e = &v[i];
			struct eventlog_event ev; /* the text encoded when it was appended */
			eventlog_staged_event(log, e, &ev);
			s->cursor = e->seq;
			if (!type_wanted(&s->filter, ev.type) ||
			    (labels_filtered(s) &&
			     !labels_wanted(&s->filter, staged_labels(e, &ev))))
				continue;
			if (!pass(s, &ev)) {
				/* the rest of the batch is committed: the catch-up reads it */
				s->live = false;
				break;
			}
		}
	}
}

static const char *column_text(sqlite3_stmt *q, int i, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	*len = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
	return t ? (const char *)t : "";
}

/*
 * One stored row to the subscriber, if its filter takes it; false when it
 * is full.  The row's texts go out as they were stored: only a label
 * filter parses anything (the labels).
 */
static bool pass_row(struct eventlog_sub *s, sqlite3_stmt *q)
{
	size_t n, data_len, labels_len;
	struct eventlog_event ev = {
		.seq = sqlite3_column_int64(q, 0),
		.time = sqlite3_column_int64(q, 1),
		.type = column_text(q, 2, &n),
		.event = column_text(q, 3, &n),
	};
	if (!type_wanted(&s->filter, ev.type))
		return true;
	const char *data = column_text(q, 4, &data_len);
	const char *labels = column_text(q, 5, &labels_len);
	if (labels_filtered(s)) {
		_cleanup_json_ json_t *l = json_loadb(labels, labels_len, 0, NULL);
		if (!labels_wanted(&s->filter, l))
			return true;
	}
	_cleanup_free_ char *json = eventlog_envelope(&ev, labels, labels_len, data, data_len);
	if (!json) {
		acre_log(ACRE_LOG_ERROR, "event=eventlog_row_unreadable seq=%lld",
			 (long long)ev.seq);
		return true;
	}
	return pass(s, &ev);
}

/*
 * One page of stored events after the cursor.  0 with *rows read, or
 * EVENTLOG_PAUSED when the subscriber filled up, or -errno.
 */
static int read_page(struct eventlog_sub *s, size_t *rows, struct acre_error *err)
{
	struct eventlog *log = s->log;
	sqlite3_stmt *q = log->stmt[EL_PAGE];
	sqlite3_bind_int64(q, 1, s->cursor);
	sqlite3_bind_int64(q, 2, log->committed_seq);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)log->opt.page_rows);
	int rc, result = 0;
	*rows = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		(*rows)++;
		s->cursor = sqlite3_column_int64(q, 0);
		if (!pass_row(s, q)) {
			result = EVENTLOG_PAUSED;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		result = eventlog_db_error(log, err, "reading stored events");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return result;
}

static int go_live(struct eventlog_sub *s)
{
	s->cursor = s->log->committed_seq; /* what is left below were numbers never committed */
	s->live = true;
	if (s->announced)
		return EVENTLOG_LIVE;
	s->announced = true;
	if (s->ops.live(s->cursor, s->ud))
		return EVENTLOG_LIVE;
	/* full: it is live only once it drained, and nothing may reach it before */
	s->live = false;
	return EVENTLOG_PAUSED;
}

int eventlog_pump(struct eventlog_sub *s, struct acre_error *err)
{
	struct eventlog *log = s->log;
	if (s->live)
		return EVENTLOG_LIVE;
	if (s->cursor < log->trimmed_through) {
		int64_t first = s->cursor + 1;
		s->cursor = log->trimmed_through;
		log->lagged++;
		acre_log(ACRE_LOG_INFO, "event=eventlog_lagged first=%lld last=%lld",
			 (long long)first, (long long)log->trimmed_through);
		if (!s->ops.lagged(first, log->trimmed_through, s->ud))
			return EVENTLOG_PAUSED;
	}
	for (int page = 0; page < PUMP_PAGES; page++) {
		if (s->cursor >= log->committed_seq)
			return go_live(s);
		size_t rows;
		int rc = read_page(s, &rows, err);
		if (rc != 0)
			return rc;
		if (rows < log->opt.page_rows)
			return go_live(s);
	}
	return EVENTLOG_MORE;
}
