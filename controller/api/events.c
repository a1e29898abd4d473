/*
 * GET /v1/events: a long-lived chunked response, one JSON object per line,
 * for every change of a node or a slice (optionally only one kind:
 * ?type=node or ?type=slice).  The lines come from a subscriber of the
 * pool's changes: each change is written down as it happens (when anyone
 * listens), and sent once the commit that made it true is done, in order.
 * An empty line every 15 seconds keeps idle streams (and the proxies on
 * their way) alive; a client that stops reading is dropped rather than
 * buffered without bound.
 */
#include "internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define KEEPALIVE_SECONDS 15
#define MAX_BACKLOG	  (64u << 20)

struct subscriber {
	ACRE_LIST_FIELDS(struct subscriber, sub);
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	bool nodes, slices;
};

struct line {
	ACRE_LIST_FIELDS(struct line, line);
	bool node;
	size_t len;
	char text[];
};

struct events {
	struct api *a;
	struct subscriber *subs;
	size_t nsubs;
	struct line *head, *tail;
	struct event *keepalive;
	uint64_t seq;
};

size_t api_events_subscribers(const struct api *a)
{
	return a->events ? a->events->nsubs : 0;
}

static void queue(struct events *e, bool node, json_t *j)
{
	_cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return;
	size_t n = strlen(s);
	struct line *l = malloc(sizeof(*l) + n + 2);
	if (!l)
		return;
	memcpy(l->text, s, n);
	l->text[n] = '\n';
	l->text[n + 1] = '\0';
	l->len = n + 1;
	l->node = node;
	ACRE_QUEUE_APPEND(line, e->head, e->tail, l);
}

/* A change of the pool, written down now (as it is now) and sent after the commit. */
static void changed(void *ud, const struct pool_change *ch)
{
	struct events *e = ud;
	if (ch->quiet || !e->nsubs)
		return;
	const char *type = pool_change_type(ch);
	queue(e, ch->kind == POOL_CHANGE_NODE,
	      json_pack("{s:I,s:I,s:s,s:s,s:o}", "seq", (json_int_t)++e->seq, "time",
			(json_int_t)acre_now_ms(), "type", type, "event", ch->event, type,
			pool_change_json(ch)));
}

static size_t backlog(struct subscriber *s)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void send_line(struct subscriber *s, const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
}

/* Slow readers are cut off after the loop over subscribers, which the close would change. */
static void drop_slow(struct events *e)
{
	for (;;) {
		struct subscriber *s = e->subs;
		while (s && backlog(s) <= MAX_BACKLOG)
			s = s->sub_next;
		if (!s)
			return;
		acre_log(ACRE_LOG_WARN, "event=subscriber_dropped reason=\"not reading\"");
		e->a->m.subscribers_dropped++;
		evhttp_connection_free(s->evcon); /* its close callback unlists it */
	}
}

/* The pass is committed: what it changed goes out. */
static void committed(void *ud)
{
	struct events *e = ud;
	if (!e->head)
		return;
	struct line *l = e->head;
	e->head = e->tail = NULL;
	while (l) {
		struct line *next = l->line_next;
		struct subscriber *s;
		ACRE_LIST_FOREACH(sub, s, e->subs)
		{
			if (l->node ? s->nodes : s->slices) {
				send_line(s, l->text, l->len);
				e->a->m.events_sent++;
			}
		}
		free(l);
		l = next;
	}
	drop_slow(e);
}

void api_events_conn_closed(struct api *a, struct evhttp_connection *evcon)
{
	struct events *e = a->events;
	struct subscriber *s, *next;
	ACRE_LIST_FOREACH_SAFE(sub, s, next, e->subs)
	{
		if (s->evcon != evcon)
			continue;
		ACRE_LIST_REMOVE(sub, e->subs, s);
		e->nsubs--;
		api_forget_request(s->req);
		free(s);
		acre_log(ACRE_LOG_DEBUG, "event=subscriber_gone subscribers=%zu", e->nsubs);
	}
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct events *e = arg;
	struct subscriber *s;
	ACRE_LIST_FOREACH(sub, s, e->subs)
	send_line(s, "\n", 1);
	drop_slow(e);
}

API_HANDLER(api_events_subscribe)
{
	(void)p;
	struct events *e = a->events;
	const char *type = api_query(q, "type");
	if (type && strcmp(type, "node") && strcmp(type, "slice")) {
		struct acre_error err;
		acre_error_set(&err, EINVAL, "type", "type: node or slice");
		api_reply_error(a, req, 400, &err);
		return;
	}
	struct subscriber *s = calloc(1, sizeof(*s));
	if (!s) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	s->nodes = !type || !strcmp(type, "node");
	s->slices = !type || !strcmp(type, "slice");
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/x-ndjson");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	api_count(a, 200);
	evhttp_send_reply_start(req, 200, "OK");
	api_watch_close(a, req);
	ACRE_LIST_PREPEND(sub, e->subs, s);
	e->nsubs++;
	_cleanup_json_ json_t *hello =
	    json_pack("{s:I,s:I,s:s,s:s}", "seq", (json_int_t)e->seq, "time",
		      (json_int_t)acre_now_ms(), "type", "stream", "event", "start");
	_cleanup_free_ char *text = hello ? json_dumps(hello, JSON_COMPACT) : NULL;
	if (text) {
		send_line(s, text, strlen(text));
		send_line(s, "\n", 1);
	}
}

int api_events_start(struct api *a)
{
	struct events *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	a->events = e;
	e->a = a;
	e->keepalive = event_new(a->base, -1, EV_PERSIST, on_keepalive, e);
	if (!e->keepalive)
		return -ENOMEM;
	struct timeval tv = {KEEPALIVE_SECONDS, 0};
	event_add(e->keepalive, &tv);
	struct pool_subscriber sub = {.changed = changed, .committed = committed, .ud = e};
	return pool_subscribe(a->pool, &sub);
}

void api_events_stop(struct api *a)
{
	struct events *e = a->events;
	if (!e)
		return;
	pool_unsubscribe(a->pool, e);
	while (e->head) {
		struct line *l = e->head;
		e->head = l->line_next;
		free(l);
	}
	while (e->subs) {
		struct subscriber *s = e->subs;
		ACRE_LIST_REMOVE(sub, e->subs, s);
		free(s);
	}
	if (e->keepalive)
		event_free(e->keepalive);
	free(e);
	a->events = NULL;
}
