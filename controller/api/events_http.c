/*
 * GET /v1/events: the event log as Server-Sent Events over libevent's
 * evhttp, one long-lived chunked response per client.
 *
 *	id: 42
 *	event: slice
 *	data: {"seq":42,"time":...,"type":"slice","event":"state","labels":{...},"slice":{...}}
 *
 * The stream resumes after the Last-Event-ID header's seq, or ?since=N
 * (the header wins: it is what a reconnecting EventSource sends), and
 * without either starts from now.  ?type= (repeatable, or comma-separated)
 * and ?label=K=V (repeatable, all must match) filter on the server.  Two
 * notices come without a type of their own: `lagged` (events the log
 * dropped before this client read them) and `live` (the stored events
 * asked for are all sent); both carry an id, so a reconnect resumes past
 * them.  A comment line every keep-alive interval keeps idle streams and
 * the proxies on their way open.
 *
 * A client that stops reading is never cut off and never loses events
 * quietly: once its unsent bytes pass the bound it is paused, and when
 * its socket drains it catches up from the table, page by page.  A client
 * that takes nothing for four keep-alive intervals is disconnected (its
 * next connection resumes with Last-Event-ID).
 */
#include "eventlog_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#define MAX_FILTERS	16
#define RETRY_MS	2000
#define STALL_INTERVALS 4

struct stream {
	struct eventlog *log;
	struct eventlog_sub *sub;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *keepalive;
	struct event *pump; /* the catch-up's next step, on the loop's next turn */
	bool waiting_drain; /* paused until the client's socket takes what it was sent */
};

static bool full(struct stream *st)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
	size_t len = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
	return len > eventlog_options(st->log)->stream_max_bytes;
}

static void pump(struct stream *st);

/* The client's socket took everything: a paused stream goes on. */
static void on_drained(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct stream *st = arg;
	if (!st->waiting_drain)
		return;
	st->waiting_drain = false;
	pump(st);
}

/* Sends b as one chunk; false when the client is now past its bound. */
static bool send_buffer(struct stream *st, struct evbuffer *b)
{
	evhttp_send_reply_chunk_with_cb(st->req, b, on_drained, st);
	if (!full(st))
		return true;
	st->waiting_drain = true;
	return false;
}

static bool send_event(struct stream *st, int64_t id, const char *name, const char *json,
		       size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return true; /* nothing sent; the next event tries again */
	if (id >= 0)
		evbuffer_add_printf(b, "id: %lld\n", (long long)id);
	evbuffer_add_printf(b, "event: %s\ndata: ", name);
	evbuffer_add(b, json, len);
	evbuffer_add(b, "\n\n", 2);
	bool more = send_buffer(st, b);
	evbuffer_free(b);
	return more;
}

static bool send_notice(struct stream *st, int64_t id, const char *name, json_t *data)
{
	_cleanup_json_ json_t *j = data;
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return true;
	return send_event(st, id, name, text, strlen(text));
}

static bool on_event(const struct eventlog_event *ev, void *ud)
{
	return send_event(ud, ev->seq, ev->type, ev->json, ev->json_len);
}

static bool on_lagged(int64_t first, int64_t last, void *ud)
{
	return send_notice(ud, last, "lagged",
			   json_pack("{s:s,s:I,s:I}", "type", "lagged", "first", (json_int_t)first,
				     "last", (json_int_t)last));
}

static bool on_live(int64_t seq, void *ud)
{
	return send_notice(ud, seq, "live",
			   json_pack("{s:s,s:I}", "type", "live", "seq", (json_int_t)seq));
}

static void stream_free(struct stream *st)
{
	if (st->keepalive)
		event_free(st->keepalive);
	if (st->pump)
		event_free(st->pump);
	free(st);
}

/* The server ends the stream (the log closes, or reading it failed). */
static void stream_end(struct stream *st)
{
	evhttp_connection_set_closecb(st->evcon, NULL, NULL);
	evhttp_send_reply_end(st->req);
	stream_free(st);
}

static void on_closed(void *ud)
{
	stream_end(ud); /* the log already let go of the subscription */
}

static const struct eventlog_sub_ops stream_ops = {
	.event = on_event,
	.lagged = on_lagged,
	.live = on_live,
	.closed = on_closed,
};

/* The client went away (or evhttp is being freed). */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct stream *st = arg;
	acre_log(ACRE_LOG_DEBUG, "event=events_stream_closed");
	eventlog_unsubscribe(st->sub);
	/*
	 * A client gone in the middle of the reply: libevent unhooks the
	 * request from the connection and leaves it to us; still hooked, the
	 * connection frees it itself.
	 */
	if (!evhttp_request_get_connection(st->req))
		evhttp_request_free(st->req);
	stream_free(st);
}

static void pump(struct stream *st)
{
	struct acre_error err = {0};
	int rc = eventlog_pump(st->sub, &err);
	if (rc < 0) {
		acre_log(ACRE_LOG_ERROR, "event=events_stream_failed error=\"%s\"", err.message);
		eventlog_unsubscribe(st->sub);
		stream_end(st);
	} else if (rc == EVENTLOG_MORE && !full(st)) {
		event_active(st->pump, 0, 0);
	} else if (rc == EVENTLOG_MORE) {
		st->waiting_drain = true;
	}
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct stream *st = arg;
	if (st->waiting_drain)
		return; /* bytes are queued already; the write timeout watches them */
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add(b, ": keep-alive\n\n", 14);
	send_buffer(st, b);
	evbuffer_free(b);
}

/* ---- the request ----------------------------------------------------------- */

struct request {
	int64_t since;
	char **types;
	char **labels;
};

static void request_free(struct request *r)
{
	acre_strv_free(r->types);
	acre_strv_free(r->labels);
}

static int parse_seq(const char *s, const char *field, int64_t *out, struct acre_error *err)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v < 0)
		return acre_error_set(err, EINVAL, field,
				      "%s %.40s: expected an event's seq (0 or more)", field, s);
	*out = v;
	return 0;
}

static bool word(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

static int add_types(struct request *r, const char *value, struct acre_error *err)
{
	for (const char *p = value;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!word(p, n))
			return acre_error_set(err, EINVAL, "type",
					      "type %.80s: expected a type name", value);
		if (acre_strv_length(r->types) >= MAX_FILTERS)
			return acre_error_set(err, EINVAL, "type", "at most %d types", MAX_FILTERS);
		_cleanup_free_ char *t = strndup(p, n);
		if (!t || acre_strv_push(&r->types, t) < 0)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int add_label(struct request *r, const char *value, struct acre_error *err)
{
	const char *eq = strchr(value, '=');
	if (!eq || eq == value || strlen(value) > 512)
		return acre_error_set(err, EINVAL, "label", "label %.80s: expected KEY=VALUE",
				      value);
	if (acre_strv_length(r->labels) >= MAX_FILTERS)
		return acre_error_set(err, EINVAL, "label", "at most %d labels", MAX_FILTERS);
	if (acre_strv_push(&r->labels, value) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

static int parse_query(struct evhttp_request *req, struct request *r, struct acre_error *err)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;
	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0)
		return acre_error_set(err, EINVAL, NULL, "malformed query string");
	int rc = 0;
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, &q, next)
	{
		if (!strcmp(kv->key, "since"))
			rc = parse_seq(kv->value, "since", &r->since, err);
		else if (!strcmp(kv->key, "type"))
			rc = add_types(r, kv->value, err);
		else if (!strcmp(kv->key, "label"))
			rc = add_label(r, kv->value, err);
		else
			rc = acre_error_set(err, EINVAL, kv->key,
					    "unknown parameter %.40s (since, type, label)",
					    kv->key);
		if (rc < 0)
			break;
	}
	evhttp_clear_headers(&q);
	if (rc < 0)
		return rc;
	const char *last =
		evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	if (last && *last)
		rc = parse_seq(last, "Last-Event-ID", &r->since, err);
	return rc;
}

/* Reading is only there to notice a client that leaves: no read timeout, a write timeout. */
static void set_timeouts(struct stream *st)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
	int64_t ms = eventlog_options(st->log)->keepalive_ms * STALL_INTERVALS;
	struct timeval wr = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	if (bev)
		bufferevent_set_timeouts(bev, NULL, &wr);
}

static int start_timers(struct stream *st, struct event_base *base)
{
	int64_t ms = eventlog_options(st->log)->keepalive_ms;
	struct timeval iv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	/* Every stream has the same period: one common timeout queue for all of them. */
	const struct timeval *tv = event_base_init_common_timeout(base, &iv);
	st->keepalive = event_new(base, -1, EV_PERSIST, on_keepalive, st);
	st->pump = event_new(base, -1, 0, on_pump, st);
	if (!st->keepalive || !st->pump || event_add(st->keepalive, tv ? tv : &iv) < 0)
		return -ENOMEM;
	return 0;
}

int eventlog_http_serve(struct evhttp_request *req, struct eventlog *log, struct event_base *base,
			struct acre_error *err)
{
	struct request r = {.since = -1};
	int rc = parse_query(req, &r, err);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (rc == 0 && !evcon)
		rc = acre_error_set(err, ENOTCONN, NULL, "the client has gone");
	struct stream *st = rc == 0 ? calloc(1, sizeof(*st)) : NULL;
	if (rc == 0 && !st)
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc == 0) {
		st->log = log;
		st->req = req;
		st->evcon = evcon;
		struct eventlog_filter f = {.types = r.types, .labels = r.labels};
		if (start_timers(st, base) < 0)
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		else
			rc = eventlog_subscribe(log, r.since, &f, &stream_ops, st, &st->sub, err);
	}
	request_free(&r);
	if (rc < 0) {
		if (st)
			stream_free(st);
		return rc;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Accel-Buffering", "no"); /* proxies: pass each event at once */
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(evcon, on_conn_close, st);
	set_timeouts(st);
	struct evbuffer *b = evbuffer_new();
	if (b) {
		evbuffer_add_printf(b, "retry: %d\n\n", RETRY_MS);
		send_buffer(st, b);
		evbuffer_free(b);
	}
	acre_log(ACRE_LOG_DEBUG, "event=events_stream_open since=%lld", (long long)r.since);
	pump(st);
	return 0;
}
