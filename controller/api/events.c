/*
 * GET /v1/events: a long-lived chunked response, one JSON object per line,
 * for every change of a node or a slice (optionally only one kind:
 * ?type=node or ?type=slice).  Events are published after the commit that
 * made them true, in order.  An empty line every 15 seconds keeps idle
 * streams (and the proxies on their way) alive; a client that stops
 * reading is dropped rather than buffered without bound.
 */
#include "api.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define KEEPALIVE_SECONDS 15
#define MAX_BACKLOG (64u << 20)

struct subscriber {
	struct subscriber *next;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	bool nodes, slices;
};

struct line {
	struct line *next;
	bool node;
	size_t len;
	char text[];
};

struct events {
	struct subscriber *subs;
	size_t nsubs;
	struct line *head, *tail;
	struct event *keepalive;
	uint64_t seq;
};

bool events_wanted(const struct ctl *c)
{
	return c->events && c->events->nsubs > 0;
}

size_t events_subscribers(const struct ctl *c)
{
	return c->events ? c->events->nsubs : 0;
}

static void queue(struct ctl *c, bool node, json_t *j)
{
	struct events *e = c->events;
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
	l->next = NULL;
	if (e->tail)
		e->tail->next = l;
	else
		e->head = l;
	e->tail = l;
}

void events_node(struct ctl *c, const struct ctl_node *n, const char *event)
{
	if (!events_wanted(c))
		return;
	queue(c, true,
	      json_pack("{s:I,s:I,s:s,s:s,s:{s:s,s:s,s:b,s:s}}", "seq",
			(json_int_t)++c->events->seq, "time", (json_int_t)acre_now_ms(), "type",
			"node", "event", event, "node", "id", n->id, "state",
			node_state_name(n->state), "connected", n->conn != NULL, "hostname",
			n->hostname));
}

void events_slice(struct ctl *c, const struct ctl_slice *sl, const char *event)
{
	if (!events_wanted(c))
		return;
	queue(c, false,
	      json_pack("{s:I,s:I,s:s,s:s,s:o}", "seq", (json_int_t)++c->events->seq, "time",
			(json_int_t)acre_now_ms(), "type", "slice", "event", event, "slice",
			view_slice(sl)));
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
static void drop_slow(struct ctl *c)
{
	for (;;) {
		struct subscriber *s = c->events->subs;
		while (s && backlog(s) <= MAX_BACKLOG)
			s = s->next;
		if (!s)
			return;
		acre_log(ACRE_LOG_WARN, "event=subscriber_dropped reason=\"not reading\"");
		c->m.subscribers_dropped++;
		evhttp_connection_free(s->evcon); /* its close callback unlists it */
	}
}

void events_flush(struct ctl *c)
{
	struct events *e = c->events;
	if (!e || !e->head)
		return;
	struct line *l = e->head;
	e->head = e->tail = NULL;
	while (l) {
		struct line *next = l->next;
		for (struct subscriber *s = e->subs; s; s = s->next) {
			if (l->node ? s->nodes : s->slices) {
				send_line(s, l->text, l->len);
				c->m.events_sent++;
			}
		}
		free(l);
		l = next;
	}
	drop_slow(c);
}

void events_conn_closed(struct ctl *c, struct evhttp_connection *evcon)
{
	struct events *e = c->events;
	for (struct subscriber **p = &e->subs; *p;) {
		struct subscriber *s = *p;
		if (s->evcon != evcon) {
			p = &s->next;
			continue;
		}
		*p = s->next;
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
	struct ctl *c = arg;
	for (struct subscriber *s = c->events->subs; s; s = s->next)
		send_line(s, "\n", 1);
	drop_slow(c);
}

void api_events_subscribe(struct ctl *c, struct evhttp_request *req, struct evkeyvalq *q)
{
	const char *type = api_query(q, "type");
	if (type && strcmp(type, "node") && strcmp(type, "slice")) {
		struct acre_error err;
		acre_error_set(&err, EINVAL, "type", "type: node or slice");
		api_reply_error(c, req, 400, &err);
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
	c->m.api_requests[2]++;
	evhttp_send_reply_start(req, 200, "OK");
	api_watch_close(c, req);
	s->next = c->events->subs;
	c->events->subs = s;
	c->events->nsubs++;
	_cleanup_json_ json_t *hello = json_pack("{s:I,s:I,s:s,s:s}", "seq",
						 (json_int_t)c->events->seq, "time",
						 (json_int_t)acre_now_ms(), "type", "stream",
						 "event", "start");
	_cleanup_free_ char *text = hello ? json_dumps(hello, JSON_COMPACT) : NULL;
	if (text) {
		size_t n = strlen(text);
		text[n] = '\0';
		send_line(s, text, n);
		send_line(s, "\n", 1);
	}
}

int events_init(struct ctl *c)
{
	c->events = calloc(1, sizeof(*c->events));
	if (!c->events)
		return -ENOMEM;
	c->events->keepalive = event_new(c->base, -1, EV_PERSIST, on_keepalive, c);
	if (!c->events->keepalive)
		return -ENOMEM;
	struct timeval tv = {KEEPALIVE_SECONDS, 0};
	event_add(c->events->keepalive, &tv);
	return 0;
}

void events_free(struct ctl *c)
{
	struct events *e = c->events;
	if (!e)
		return;
	while (e->head) {
		struct line *l = e->head;
		e->head = l->next;
		free(l);
	}
	while (e->subs) {
		struct subscriber *s = e->subs;
		e->subs = s->next;
		free(s);
	}
	if (e->keepalive)
		event_free(e->keepalive);
	free(e);
	c->events = NULL;
}
