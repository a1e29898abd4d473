/*
 * The event log's table: opening it where the last run stopped, staging
 * appended events with their sequence numbers, writing them in the
 * caller's transaction, trimming to the bounds in the same transaction,
 * and handing them to the subscribers after the commit (eventlog_sub.c).
 *
 * Two tables: `events`, one row per stored event, and `events_state`, one
 * row holding the newest sequence number written and the newest trimmed.
 * The latter is why numbers continue after every stored event was trimmed
 * away, and why a subscriber that resumes after a restart can be told
 * exactly which events it lost.
 */
#include "eventlog_internal.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS events ("
	" seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL,"
	" event TEXT NOT NULL, data TEXT NOT NULL, labels TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS events_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL,"
	" trimmed_through INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO events_state (id, last_seq, trimmed_through) VALUES (1, 0, 0);";

static const char *const stmt_sql[EL_STMT_COUNT] = {
	[EL_INSERT] = "INSERT INTO events (seq, time, type, event, data, labels) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[EL_STATE] = "UPDATE events_state SET last_seq = ?1, trimmed_through = ?2 WHERE id = 1",
	[EL_NTH] = "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET ?1",
	/*
	 * The last of the oldest rows that are past the bound: a walk from the
	 * oldest row, as long as the rows it will delete (no index on time to
	 * keep up on every insert).
	 */
	[EL_AGED] = "SELECT COALESCE((SELECT seq FROM events WHERE time >= ?1 ORDER BY seq LIMIT 1)"
		    " - 1, (SELECT MAX(seq) FROM events))",
	[EL_DELETE] = "DELETE FROM events WHERE seq <= ?1",
	[EL_OLDEST] = "SELECT seq, time FROM events ORDER BY seq LIMIT 1",
	[EL_PAGE] = "SELECT seq, time, type, event, data, labels FROM events "
		    "WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
};

/* Type and event names are also SSE field values and JSON keys: keep them plain words. */
static bool name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > EVENTLOG_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* The envelope's own keys, and the stream's notices, cannot be types. */
static bool type_reserved(const char *type)
{
	static const char *const reserved[] = {"seq",	 "time",   "type", "event",
					       "labels", "lagged", "live"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(reserved); i++)
		if (!strcmp(type, reserved[i]))
			return true;
	return false;
}

int eventlog_db_error(struct eventlog *log, struct acre_error *err, const char *what)
{
	int code = sqlite3_errcode(log->db);
	int e = code == SQLITE_FULL ? ENOSPC : code == SQLITE_BUSY ? EBUSY : EIO;
	return acre_error_set(err, e, NULL, "event log: %s: %s", what, sqlite3_errmsg(log->db));
}

char *eventlog_envelope(struct eventlog_event *ev, const char *labels, size_t labels_len,
			const char *data, size_t data_len)
{
	if (!name_valid(ev->type) || !name_valid(ev->event))
		return NULL;
	/* Two names of at most 63 bytes, two numbers of at most 20: the heads fit. */
	char head[256], mid[80];
	int h = snprintf(head, sizeof(head),
			 "{\"seq\":%lld,\"time\":%lld,\"type\":\"%s\",\"event\":\"%s\",\"labels\":",
			 (long long)ev->seq, (long long)ev->time, ev->type, ev->event);
	int m = snprintf(mid, sizeof(mid), ",\"%s\":", ev->type);
	if (h < 0 || (size_t)h >= sizeof(head) || m < 0 || (size_t)m >= sizeof(mid))
		return NULL;
	size_t len = (size_t)h + labels_len + (size_t)m + data_len + 1;
	char *t = malloc(len + 1);
	if (!t)
		return NULL;
	char *p = t;
	memcpy(p, head, (size_t)h);
	p += h;
	memcpy(p, labels, labels_len);
	ev->labels = p;
	ev->labels_len = labels_len;
	p += labels_len;
	memcpy(p, mid, (size_t)m);
	p += m;
	memcpy(p, data, data_len);
	ev->data = p;
	ev->data_len = data_len;
	p += data_len;
	*p++ = '}';
	*p = '\0';
	ev->json = t;
	ev->json_len = len;
	return t;
}

int eventlog_options_set(struct eventlog_options *o, const char *flag, const char *value,
			 struct acre_error *err)
{
	if (!strcmp(flag, "--events-max")) {
		char *end;
		errno = 0;
		long long n = value ? strtoll(value, &end, 10) : 0;
		if (!value || !*value || *end || errno || n < 1)
			return acre_error_set(err, EINVAL, flag,
					      "%s %s: expected a count of at least 1", flag,
					      value ? value : "");
		o->max_events = n;
		return 0;
	}
	if (!strcmp(flag, "--events-max-age")) {
		const char *given = value ? value : "";
		size_t n = strlen(given);
		uint64_t ms, mult = 1;
		char buf[64];
		/* Days on top of the usual units: a week is the default bound. */
		if (n > 1 && n < sizeof(buf) && given[n - 1] == 'd' &&
		    strspn(given, "0123456789.") == n - 1) {
			snprintf(buf, sizeof(buf), "%.*ss", (int)(n - 1), given);
			mult = 24 * 3600; /* the number read as seconds, times a day's */
			value = buf;
		}
		struct acre_error ignored;
		if (!value || acre_parse_duration(value, &ms, &ignored, flag) < 0)
			return acre_error_set(err, EINVAL, flag,
					      "%s %s: expected a duration (500ms, 10s, 2m, 1h, 7d)",
					      flag, given);
		if (ms == 0 || ms > INT64_MAX / 1000 / mult)
			return acre_error_set(err, EINVAL, flag, "%s: must be above 0", flag);
		o->max_age_ms = (int64_t)(ms * mult);
		return 0;
	}
	return acre_error_set(err, EINVAL, flag, "%s: not an event log option", flag);
}

const struct eventlog_options *eventlog_options(const struct eventlog *log)
{
	return &log->opt;
}

static void fill_defaults(struct eventlog_options *o)
{
	if (o->max_events <= 0)
		o->max_events = EVENTLOG_DEFAULT_MAX_EVENTS;
	if (o->max_age_ms <= 0)
		o->max_age_ms = EVENTLOG_DEFAULT_MAX_AGE_MS;
	if (!o->page_rows)
		o->page_rows = EVENTLOG_DEFAULT_PAGE_ROWS;
	if (o->keepalive_ms <= 0)
		o->keepalive_ms = EVENTLOG_DEFAULT_KEEPALIVE_MS;
	if (!o->stream_max_bytes)
		o->stream_max_bytes = EVENTLOG_DEFAULT_STREAM_MAX;
}

/* One integer from a one-row query; *out untouched when the row or the value is missing. */
static int query_int(struct eventlog *log, const char *sql, int64_t *out, struct acre_error *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(log->db, sql, -1, &q, NULL) != SQLITE_OK)
		return eventlog_db_error(log, err, "reading where it stopped");
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eventlog_db_error(log, err, "reading where it stopped");
	return 0;
}

static int read_oldest(struct eventlog *log, struct acre_error *err)
{
	sqlite3_stmt *q = log->stmt[EL_OLDEST];
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		log->oldest_seq = sqlite3_column_int64(q, 0);
		log->oldest_time = sqlite3_column_int64(q, 1);
	} else {
		log->oldest_seq = log->oldest_time = 0;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eventlog_db_error(log, err, "reading the oldest event");
	return 0;
}

static int load_position(struct eventlog *log, struct acre_error *err)
{
	int64_t last = 0, max = 0;
	const struct {
		const char *sql;
		int64_t *out;
	} reads[] = {
		{"SELECT last_seq FROM events_state WHERE id = 1", &last},
		{"SELECT trimmed_through FROM events_state WHERE id = 1", &log->trimmed_through},
		{"SELECT MAX(seq) FROM events", &max},
		{"SELECT COUNT(*) FROM events", &log->stored},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(reads); i++) {
		int rc = query_int(log, reads[i].sql, reads[i].out, err);
		if (rc < 0)
			return rc;
	}
	log->committed_seq = last > max ? last : max;
	log->next_seq = log->committed_seq + 1;
	return read_oldest(log, err);
}

int eventlog_open(sqlite3 *db, const struct eventlog_options *o, struct eventlog **out,
		  struct acre_error *err)
{
	*out = NULL;
	struct eventlog *log = calloc(1, sizeof(*log));
	if (!log)
		return acre_error_set(err, ENOMEM, NULL, "event log: out of memory");
	log->db = db;
	if (o)
		log->opt = *o;
	fill_defaults(&log->opt);
	char *msg = NULL;
	int rc = 0;
	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		rc = acre_error_set(err, EIO, NULL, "event log: creating its tables: %s",
				    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		goto fail;
	}
	for (int i = 0; i < EL_STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &log->stmt[i], NULL) != SQLITE_OK) {
			rc = eventlog_db_error(log, err, "preparing statements");
			goto fail;
		}
	}
	if ((rc = load_position(log, err)) < 0)
		goto fail;
	*out = log;
	return 0;
fail:
	eventlog_close(log);
	return rc;
}

static void staged_free(struct eventlog_staged *s)
{
	json_decref(s->labels);
}

/* Drops staged[0..n) and moves the rest to the front. */
static void staged_drop(struct eventlog *log, size_t n)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		staged_free(&log->staged.v[i]);
	memmove(log->staged.v, log->staged.v + n, (log->staged.n - n) * sizeof(*log->staged.v));
	log->staged.n -= n;
	if (log->staged.n == 0)
		log->text_len = 0; /* the buffer stays, for the next pass */
}

void eventlog_staged_event(const struct eventlog *log, const struct eventlog_staged *s,
			   struct eventlog_event *ev)
{
	const char *json = log->text + s->off;
	*ev = (struct eventlog_event){
		.seq = s->seq,
		.time = s->time,
		.type = log->text + s->type_off,
		.event = log->text + s->event_off,
		.json = json,
		.json_len = s->json_len,
		.data = json + s->data_off,
		.data_len = s->data_len,
		.labels = json + s->labels_off,
		.labels_len = s->labels_len,
	};
}

/* Appends n bytes and a NUL to the pass buffer; their offset, or -1 when out of memory. */
static ssize_t text_add(struct eventlog *log, const char *s, size_t n)
{
	if (log->text_len + n + 1 > log->text_cap) {
		size_t cap = log->text_cap ? log->text_cap : 64 * 1024;
		while (cap < log->text_len + n + 1)
			cap *= 2;
		char *t = realloc(log->text, cap);
		if (!t)
			return -1;
		log->text = t;
		log->text_cap = cap;
	}
	size_t off = log->text_len;
	memcpy(log->text + off, s, n);
	log->text[off + n] = '\0';
	log->text_len += n + 1;
	return (ssize_t)off;
}

void eventlog_close(struct eventlog *log)
{
	if (!log)
		return;
	eventlog_close_subs(log);
	staged_drop(log, log->staged.n);
	acre_vec_free(&log->staged);
	acre_jsonw_free(&log->w);
	free(log->text);
	for (int i = 0; i < EL_STMT_COUNT; i++)
		sqlite3_finalize(log->stmt[i]);
	free(log);
}

static bool labels_valid(const json_t *labels)
{
	const char *k;
	json_t *v;
	if (!json_is_object(labels))
		return false;
	json_object_foreach ((json_t *)labels, k, v) {
		if (!*k || !json_is_string(v))
			return false;
	}
	return true;
}

static int names_check(const char *type, const char *event, struct acre_error *err)
{
	if (!name_valid(type) || type_reserved(type))
		return acre_error_set(err, EINVAL, "type",
				      "event type %.80s: not a plain word or reserved",
				      type ? type : "(none)");
	if (!name_valid(event))
		return acre_error_set(err, EINVAL, "event", "event name %.80s: not a plain word",
				      event ? event : "(none)");
	return 0;
}

/* How an appended event's parts are written: from jansson values, or by the caller's writers. */
struct parts {
	const json_t *data, *labels;
	eventlog_write_fn write_data, write_labels;
	const void *obj;
};

/*
 * Stages an event: its envelope is written now, once, by one writer, and
 * is all the row (its parts are spans of it) and the streams will need.
 */
static int stage(struct eventlog *log, const char *type, const char *event, const struct parts *pt,
		 int64_t *seq, struct acre_error *err)
{
	struct acre_jsonw *w = &log->w;
	struct eventlog_staged s = {.seq = log->next_seq, .time = acre_now_ms()};
	acre_jsonw_reset(w);
	acre_jsonw_object(w);
	acre_jsonw_key(w, "seq");
	acre_jsonw_int(w, s.seq);
	acre_jsonw_key(w, "time");
	acre_jsonw_int(w, s.time);
	acre_jsonw_key(w, "type");
	acre_jsonw_string(w, type);
	acre_jsonw_key(w, "event");
	acre_jsonw_string(w, event);
	acre_jsonw_key(w, "labels");
	s.labels_off = w->len;
	if (pt->write_labels) {
		pt->write_labels(w, pt->obj);
	} else if (pt->labels) {
		acre_jsonw_json(w, pt->labels);
	} else {
		acre_jsonw_object(w);
		acre_jsonw_end_object(w);
	}
	s.labels_len = w->len - s.labels_off;
	acre_jsonw_key(w, type);
	s.data_off = w->len;
	if (pt->write_data)
		pt->write_data(w, pt->obj);
	else
		acre_jsonw_json(w, pt->data);
	s.data_len = w->len - s.data_off;
	acre_jsonw_end_object(w);
	if (!acre_jsonw_text(w)) {
		int e = w->error ? w->error : ENOMEM;
		return acre_error_set(err, e, NULL, "event %s.%s: encoding it: %s", type, event,
				      strerror(e));
	}
	s.json_len = w->len;
	size_t mark = log->text_len;
	ssize_t off = text_add(log, w->buf, w->len);
	ssize_t type_off = off < 0 ? -1 : text_add(log, type, strlen(type));
	ssize_t event_off = type_off < 0 ? -1 : text_add(log, event, strlen(event));
	s.off = (size_t)off;
	s.type_off = (size_t)type_off;
	s.event_off = (size_t)event_off;
	if (event_off < 0 || acre_vec_push(&log->staged, s) < 0) {
		log->text_len = mark;
		return acre_error_set(err, ENOMEM, NULL, "event log: out of memory");
	}
	log->next_seq++;
	if (seq)
		*seq = s.seq;
	return 0;
}

int eventlog_append(struct eventlog *log, const char *type, const char *event, const json_t *data,
		    const json_t *labels, int64_t *seq, struct acre_error *err)
{
	int rc = names_check(type, event, err);
	if (rc < 0)
		return rc;
	if (!json_is_object(data))
		return acre_error_set(err, EINVAL, "data",
				      "event %s.%s: data must be a JSON object", type, event);
	if (labels && !labels_valid(labels))
		return acre_error_set(err, EINVAL, "labels",
				      "event %s.%s: labels must be an object of strings", type,
				      event);
	struct parts pt = {.data = data, .labels = labels};
	return stage(log, type, event, &pt, seq, err);
}

int eventlog_append_with(struct eventlog *log, const char *type, const char *event,
			 eventlog_write_fn write_data, eventlog_write_fn write_labels,
			 const void *obj, int64_t *seq, struct acre_error *err)
{
	int rc = names_check(type, event, err);
	if (rc < 0)
		return rc;
	struct parts pt = {.write_data = write_data, .write_labels = write_labels, .obj = obj};
	return stage(log, type, event, &pt, seq, err);
}

size_t eventlog_staged(const struct eventlog *log)
{
	return log->staged.n;
}

static int step_done(struct eventlog *log, sqlite3_stmt *q, struct acre_error *err,
		     const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? 0 : eventlog_db_error(log, err, what);
}

static int insert(struct eventlog *log, const struct eventlog_staged *s, struct acre_error *err)
{
	sqlite3_stmt *q = log->stmt[EL_INSERT];
	sqlite3_bind_int64(q, 1, s->seq);
	sqlite3_bind_int64(q, 2, s->time);
	struct eventlog_event ev;
	eventlog_staged_event(log, s, &ev);
	sqlite3_bind_text(q, 3, ev.type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, ev.event, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, ev.data, (int)ev.data_len, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, ev.labels, (int)ev.labels_len, SQLITE_STATIC);
	return step_done(log, q, err, "writing an event");
}

/* The seq that a one-integer query on q finds, or 0. */
static int64_t step_int(struct eventlog *log, sqlite3_stmt *q, int *rc, struct acre_error *err)
{
	int64_t v = 0;
	int s = sqlite3_step(q);
	if (s == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	else if (s != SQLITE_ROW && s != SQLITE_DONE)
		*rc = eventlog_db_error(log, err, "trimming");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return v;
}

/*
 * The newest seq to drop so that at most max_events rows stay and none is
 * older than max_age_ms.  Trimming always drops a prefix of the sequence,
 * so "everything up to trimmed_through is gone" stays exact.
 */
static int64_t trim_point(struct eventlog *log, int *rc, struct acre_error *err)
{
	int64_t through = 0;
	if (log->stored > log->opt.max_events) {
		sqlite3_stmt *q = log->stmt[EL_NTH];
		sqlite3_bind_int64(q, 1, log->stored - log->opt.max_events - 1);
		through = step_int(log, q, rc, err);
	}
	int64_t cutoff = acre_now_ms() - log->opt.max_age_ms;
	if (*rc == 0 && log->stored > 0 && log->oldest_time < cutoff) {
		sqlite3_stmt *q = log->stmt[EL_AGED];
		sqlite3_bind_int64(q, 1, cutoff);
		int64_t aged = step_int(log, q, rc, err);
		if (aged > through)
			through = aged;
	}
	return through;
}

static int trim(struct eventlog *log, bool *changed, struct acre_error *err)
{
	int rc = 0;
	int64_t through = trim_point(log, &rc, err);
	if (rc < 0 || through <= log->trimmed_through)
		return rc;
	sqlite3_stmt *q = log->stmt[EL_DELETE];
	sqlite3_bind_int64(q, 1, through);
	if ((rc = step_done(log, q, err, "trimming")) < 0)
		return rc;
	log->stored -= sqlite3_changes(log->db);
	log->trimmed_through = through;
	*changed = true;
	return read_oldest(log, err);
}

int eventlog_write_staged(struct eventlog *log, struct acre_error *err)
{
	if (sqlite3_get_autocommit(log->db))
		return acre_error_set(err, EINVAL, NULL,
				      "event log: writing needs the caller's open transaction");
	if (!log->in_txn) {
		log->saved = (struct eventlog_saved){log->trimmed_through, log->stored,
						     log->oldest_seq, log->oldest_time};
		log->in_txn = true;
	}
	bool changed = false;
	int rc;
	for (; log->written < log->staged.n; log->written++) {
		struct eventlog_staged *s = &log->staged.v[log->written];
		if ((rc = insert(log, s, err)) < 0)
			return rc;
		if (log->stored++ == 0) {
			log->oldest_seq = s->seq;
			log->oldest_time = s->time;
		}
		changed = true;
	}
	if ((rc = trim(log, &changed, err)) < 0 || !changed)
		return rc;
	sqlite3_stmt *q = log->stmt[EL_STATE];
	int64_t last = log->written ? log->staged.v[log->written - 1].seq : log->committed_seq;
	sqlite3_bind_int64(q, 1, last);
	sqlite3_bind_int64(q, 2, log->trimmed_through);
	return step_done(log, q, err, "recording its position");
}

void eventlog_committed(struct eventlog *log)
{
	if (!log->in_txn)
		return;
	log->in_txn = false;
	size_t n = log->written;
	log->written = 0;
	if (n == 0)
		return;
	log->committed_seq = log->staged.v[n - 1].seq;
	eventlog_deliver(log, log->staged.v, n);
	staged_drop(log, n);
}

void eventlog_rollback(struct eventlog *log)
{
	if (log->in_txn) {
		log->trimmed_through = log->saved.trimmed_through;
		log->stored = log->saved.stored;
		log->oldest_seq = log->saved.oldest_seq;
		log->oldest_time = log->saved.oldest_time;
		log->in_txn = false;
	}
	log->written = 0;
	/* next_seq stays: within a run, a number handed out is never handed out again */
	staged_drop(log, log->staged.n);
}

static int exec(struct eventlog *log, const char *sql, struct acre_error *err)
{
	if (sqlite3_exec(log->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return eventlog_db_error(log, err, sql);
	return 0;
}

int eventlog_flush(struct eventlog *log, struct acre_error *err)
{
	int rc = exec(log, "BEGIN IMMEDIATE", err);
	if (rc < 0)
		return rc;
	if ((rc = eventlog_write_staged(log, err)) < 0 || (rc = exec(log, "COMMIT", err)) < 0) {
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		eventlog_rollback(log);
		return rc;
	}
	eventlog_committed(log);
	return 0;
}

void eventlog_stats(const struct eventlog *log, struct eventlog_stats *out)
{
	*out = (struct eventlog_stats){
		.last_seq = log->committed_seq,
		.trimmed_through = log->trimmed_through,
		.stored = log->stored,
		.subscribers = log->nsubs,
		.delivered = log->delivered,
		.lagged = log->lagged,
	};
}
