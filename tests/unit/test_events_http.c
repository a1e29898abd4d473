/*
 * GET /v1/events end to end: a real evhttp server on 127.0.0.1 (an
 * ephemeral port) serving a real event log in a temporary SQLite file, and
 * raw TCP clients reading the bytes on the wire.  The server's loop and
 * the clients' reads take turns in this one thread.  Checked: the SSE
 * framing and headers, backlog then live with no gap and no duplicate,
 * Last-Event-ID over ?since=, filters, 400 for bad input, keep-alive
 * comments past the server's read timeout, `lagged` for a trimmed since
 * and for a client too slow to keep up, a stalled client disconnected and
 * every stream's resources released (the sanitizer build checks leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "controller/api/eventlog.h"
#include "tmpdir.h"

struct srv {
	struct tmp *tmp;
	char path[128];
	sqlite3 *db;
	struct eventlog *log;
	struct eventlog_options opt;
	struct event_base *base;
	struct evhttp *http;
	int port;
	int sndbuf; /* > 0: the send buffer of each accepted connection, to fill it fast */
	int seq;    /* names of appended slices */
	struct evhttp_connection *evcon; /* the last stream's */
};

/* One SSE event as the client read it. */
struct sse {
	long long id; /* -1 when the event had none */
	char event[32];
	char data[4096];
};

struct client {
	int fd;
	char *raw;
	size_t len, cap;
	bool eof;
	/* parsed from raw by parse() */
	int status;
	char headers[2048];
	struct sse *ev;
	size_t nev, comments;
	bool ended; /* the last chunk came */
};

static void reply_error(struct evhttp_request *req, const struct acre_error *err)
{
	struct evbuffer *b = evbuffer_new();
	_cleanup_json_ json_t *j =
		json_pack("{s:{s:s,s:s,s:s}}", "error", "code", acre_error_code_name(err->code),
			  "message", err->message, "field", err->field);
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
	evbuffer_add(b, s, strlen(s));
	evhttp_send_reply(req, 400, "Bad Request", b);
	evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	if (strncmp(evhttp_request_get_uri(req), "/v1/events", 10) != 0) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	if (s->sndbuf > 0) {
		struct bufferevent *bev =
			evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
		int fd = bufferevent_getfd(bev);
		assert_int_equal(
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof(s->sndbuf)), 0);
	}
	struct acre_error err = {0};
	s->evcon = evhttp_request_get_connection(req);
	if (eventlog_http_serve(req, s->log, s->base, &err) < 0)
		reply_error(req, &err);
}

static void srv_start(struct srv *s)
{
	struct acre_error err = {0};
	assert_int_equal(
		sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	if (eventlog_open(s->db, &s->opt, &s->log, &err) < 0)
		fail_msg("eventlog_open: %s", err.message);
	s->base = event_base_new();
	s->http = evhttp_new(s->base);
	assert_non_null(s->http);
	/* As the controller does; a stream must outlive the read timeout. */
	evhttp_set_timeout(s->http, 1);
	evhttp_set_gencb(s->http, on_request, s);
	struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	assert_non_null(h);
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&a, &alen),
			 0);
	s->port = ntohs(a.sin_port);
}

/* evhttp first, as the controller stops: its connections' close callbacks free the streams. */
static void srv_stop(struct srv *s)
{
	if (s->http)
		evhttp_free(s->http);
	s->http = NULL;
	eventlog_close(s->log);
	s->log = NULL;
	if (s->db)
		assert_int_equal(sqlite3_close(s->db), SQLITE_OK);
	s->db = NULL;
	if (s->base)
		event_base_free(s->base);
	s->base = NULL;
}

static int setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	if (!s || tmp_setup((void **)&s->tmp, "events-http") < 0)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/controller.db", s->tmp->path);
	s->opt.keepalive_ms = 1000;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct srv *s = *state;
	srv_stop(s);
	void *t = s->tmp;
	int rc = tmp_teardown(&t);
	free(s);
	return rc;
}

/* ---- the log's side ---------------------------------------------------------- */

static void append(struct srv *s, const char *type, const char *app, size_t pad)
{
	char name[32];
	snprintf(name, sizeof(name), "s%d", ++s->seq);
	_cleanup_free_ char *filler = calloc(1, pad + 1);
	assert_non_null(filler);
	memset(filler, 'x', pad);
	_cleanup_json_ json_t *data =
		json_pack("{s:s,s:s,s:s}", "name", name, "state", "running", "pad", filler);
	_cleanup_json_ json_t *labels = json_pack("{s:s}", "app", app);
	struct acre_error err = {0};
	if (eventlog_append(s->log, type, "created", data, labels, NULL, &err) < 0)
		fail_msg("append: %s", err.message);
}

static void commit(struct srv *s)
{
	struct acre_error err = {0};
	if (eventlog_flush(s->log, &err) < 0)
		fail_msg("flush: %s", err.message);
}

static void commit_slices(struct srv *s, int n)
{
	for (int i = 0; i < n; i++)
		append(s, "slice", "web", 0);
	commit(s);
}

/* ---- the client's side ------------------------------------------------------- */

static struct client *client_new(struct srv *s, int rcvbuf)
{
	struct client *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
				 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return c;
}

static void client_free(struct client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->raw);
	free(c->ev);
	free(c);
}

static void client_send(struct client *c, const char *target, const char *extra)
{
	char req[1024];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", target,
			 extra ? extra : "");
	assert_int_equal(write(c->fd, req, (size_t)n), n);
}

/* The SSE body's events, from the de-chunked body text. */
static void parse_sse(struct client *c, const char *body, size_t len)
{
	c->nev = c->comments = 0;
	const char *p = body, *end = body + len;
	struct sse cur = {.id = -1};
	bool any = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* an incomplete line: more is coming */
		size_t n = (size_t)(nl - p);
		if (n == 0) {
			if (any && cur.event[0]) {
				c->ev = realloc(c->ev, (c->nev + 1) * sizeof(*c->ev));
				c->ev[c->nev++] = cur;
			}
			cur = (struct sse){.id = -1};
			any = false;
		} else if (p[0] == ':') {
			c->comments++;
		} else if (n > 4 && !strncmp(p, "id: ", 4)) {
			cur.id = strtoll(p + 4, NULL, 10);
			any = true;
		} else if (n > 7 && !strncmp(p, "event: ", 7)) {
			snprintf(cur.event, sizeof(cur.event), "%.*s", (int)(n - 7), p + 7);
			any = true;
		} else if (n > 6 && !strncmp(p, "data: ", 6)) {
			snprintf(cur.data, sizeof(cur.data), "%.*s", (int)(n - 6), p + 6);
			any = true;
		}
		p = nl + 1;
	}
}

/* Status, headers and the de-chunked body of what came so far. */
static void parse(struct client *c)
{
	c->status = 0;
	c->ended = false;
	const char *hend = c->len ? memmem(c->raw, c->len, "\r\n\r\n", 4) : NULL;
	if (!hend)
		return;
	c->status = atoi(c->raw + 9);
	snprintf(c->headers, sizeof(c->headers), "%.*s", (int)(hend - c->raw), c->raw);
	const char *p = hend + 4, *end = c->raw + c->len;
	char *body = malloc(c->len + 1);
	size_t blen = 0;
	if (!strcasestr(c->headers, "Transfer-Encoding: chunked")) {
		blen = (size_t)(end - p);
		memcpy(body, p, blen);
	} else {
		while (p < end) {
			const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
			if (!crlf)
				break;
			size_t n = strtoul(p, NULL, 16);
			if (n == 0) {
				c->ended = true;
				break;
			}
			if ((size_t)(end - (crlf + 2)) < n + 2)
				break;
			memcpy(body + blen, crlf + 2, n);
			blen += n;
			p = crlf + 2 + n + 2;
		}
	}
	parse_sse(c, body, blen);
	free(body);
}

/* One turn of the server's loop, then whatever the client can read. */
static void turn(struct srv *s, struct client *c, bool reading)
{
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	if (!c || !reading || c->eof)
		return;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, 2) <= 0)
		return;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 1 << 16;
		c->raw = realloc(c->raw, c->cap);
		assert_non_null(c->raw);
	}
	ssize_t n = recv(c->fd, c->raw + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
	if (n == 0)
		c->eof = true;
	if (n > 0) {
		c->len += (size_t)n;
		c->raw[c->len] = '\0';
		parse(c);
	}
}

/* Runs both sides until the client holds `n` events (or eof), within a few seconds. */
static void read_events(struct srv *s, struct client *c, size_t n)
{
	int64_t deadline = acre_now_ms() + 5000;
	while (c->nev < n && !c->eof && acre_now_ms() < deadline)
		turn(s, c, true);
	if (c->nev < n)
		fail_msg("got %zu events of %zu; raw:\n%.2000s", c->nev, n, c->raw ? c->raw : "");
}

static void run_for(struct srv *s, struct client *c, int ms, bool reading)
{
	int64_t until = acre_now_ms() + ms;
	while (acre_now_ms() < until) {
		turn(s, c, reading);
		if (!reading)
			poll(NULL, 0, 2);
	}
}

static size_t subscribers(struct srv *s)
{
	struct eventlog_stats st;
	eventlog_stats(s->log, &st);
	return st.subscribers;
}

/* The events from index `from` on are the seqs first..last, each once, in order. */
static void assert_seqs(const struct client *c, size_t from, long long first, long long last)
{
	size_t want = (size_t)(last - first + 1);
	size_t got = 0;
	for (size_t i = from; i < c->nev && got < want; i++) {
		if (strcmp(c->ev[i].event, "slice") && strcmp(c->ev[i].event, "node") &&
		    strcmp(c->ev[i].event, "app"))
			continue;
		assert_int_equal(c->ev[i].id, first + (long long)got);
		_cleanup_json_ json_t *j = json_loads(c->ev[i].data, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), c->ev[i].id);
		assert_string_equal(json_string_value(json_object_get(j, "type")), c->ev[i].event);
		got++;
	}
	assert_int_equal(got, want);
}

static long long json_int(const char *text, const char *key)
{
	_cleanup_json_ json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return json_integer_value(json_object_get(j, key));
}

/* ---- tests --------------------------------------------------------------------- */

static void test_backlog_then_live(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	commit_slices(s, 3);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events?since=1", NULL);
	read_events(s, c, 3); /* 2, 3, live */
	assert_int_equal(c->status, 200);
	assert_non_null(strcasestr(c->headers, "Content-Type: text/event-stream"));
	assert_non_null(strcasestr(c->headers, "Cache-Control: no-cache"));
	assert_non_null(strcasestr(c->headers, "Transfer-Encoding: chunked"));
	assert_seqs(c, 0, 2, 3);
	assert_string_equal(c->ev[2].event, "live");
	assert_int_equal(c->ev[2].id, 3);
	assert_int_equal(json_int(c->ev[2].data, "seq"), 3);

	/* The envelope: the object under its type's name, its labels beside it. */
	_cleanup_json_ json_t *j = json_loads(c->ev[0].data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "created");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "slice"), "name")),
			    "s2");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "labels"), "app")),
			    "web");

	commit_slices(s, 2);
	read_events(s, c, 5);
	assert_seqs(c, 0, 2, 5);
	assert_int_equal(subscribers(s), 1);

	/* Without since or Last-Event-ID: from now on. */
	struct client *d = client_new(s, 0);
	client_send(d, "/v1/events", NULL);
	read_events(s, d, 1);
	assert_string_equal(d->ev[0].event, "live");
	assert_int_equal(d->ev[0].id, 5);
	commit_slices(s, 1);
	read_events(s, d, 2);
	assert_seqs(d, 1, 6, 6);
	read_events(s, c, 6);
	assert_seqs(c, 0, 2, 6);
	client_free(c);
	client_free(d);
}

static void test_last_event_id_wins(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	commit_slices(s, 6);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events?since=0", "Last-Event-ID: 4\r\n");
	read_events(s, c, 3);
	assert_seqs(c, 0, 5, 6);
	assert_string_equal(c->ev[2].event, "live");
	client_free(c);
}

/* A controller restart between two connections: the second resumes where the first stopped. */
static void test_resume_after_restart(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	commit_slices(s, 4);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events?since=0", NULL);
	read_events(s, c, 5);
	long long last = c->ev[3].id;
	assert_int_equal(last, 4);
	client_free(c);
	srv_stop(s);

	srv_start(s);
	commit_slices(s, 3);
	char hdr[64];
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %lld\r\n", last);
	c = client_new(s, 0);
	client_send(c, "/v1/events", hdr);
	read_events(s, c, 4);
	assert_seqs(c, 0, 5, 7);
	client_free(c);
}

static void test_filters(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	append(s, "slice", "web", 0); /* 1 */
	append(s, "node", "web", 0);  /* 2 */
	append(s, "slice", "db", 0);  /* 3 */
	append(s, "app", "web", 0);   /* 4 */
	commit(s);
	struct client *a = client_new(s, 0), *b = client_new(s, 0), *c = client_new(s, 0);
	client_send(a, "/v1/events?since=0&type=node,app", NULL);
	client_send(b, "/v1/events?since=0&type=slice&type=app&label=app=web", NULL);
	client_send(c, "/v1/events?since=0&label=app=db&label=tier=x", NULL);
	read_events(s, a, 3);
	read_events(s, b, 3);
	read_events(s, c, 1);
	assert_int_equal(a->ev[0].id, 2);
	assert_int_equal(a->ev[1].id, 4);
	assert_string_equal(a->ev[2].event, "live");
	assert_int_equal(b->ev[0].id, 1);
	assert_int_equal(b->ev[1].id, 4);
	assert_string_equal(c->ev[0].event, "live");
	assert_int_equal(c->ev[0].id, 4); /* a resume point past what it was not sent */
	client_free(a);
	client_free(b);
	client_free(c);
}

static void expect_400(struct srv *s, const char *target, const char *extra, const char *field)
{
	struct client *c = client_new(s, 0);
	client_send(c, target, extra);
	int64_t deadline = acre_now_ms() + 5000;
	while (!strstr(c->raw ? c->raw : "", "}") && !c->eof && acre_now_ms() < deadline)
		turn(s, c, true);
	assert_int_equal(c->status, 400);
	const char *body = strstr(c->raw, "\r\n\r\n") + 4;
	_cleanup_json_ json_t *j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")), field);
	client_free(c);
}

static void test_bad_requests(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	expect_400(s, "/v1/events?since=-1", NULL, "since");
	expect_400(s, "/v1/events?since=12abc", NULL, "since");
	expect_400(s, "/v1/events", "Last-Event-ID: nope\r\n", "Last-Event-ID");
	expect_400(s, "/v1/events?type=Slice", NULL, "type");
	expect_400(s, "/v1/events?type=slice,", NULL, "type");
	expect_400(s, "/v1/events?label=app", NULL, "label");
	expect_400(s, "/v1/events?label==web", NULL, "label");
	expect_400(s, "/v1/events?types=slice", NULL, "types");
	run_for(s, NULL, 50, false);
	assert_int_equal(subscribers(s), 0);
}

/*
 * Idle far past the server's 1 s read timeout, with keep-alives further
 * apart than it: the stream stays open, comments come, events still come.
 */
static void test_keepalive(void **state)
{
	struct srv *s = *state;
	s->opt.keepalive_ms = 1500;
	srv_start(s);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events", NULL);
	read_events(s, c, 1);
	run_for(s, c, 3500, true);
	assert_false(c->eof);
	assert_int_equal(c->comments, 2);
	assert_non_null(strstr(c->raw, "\n: keep-alive\n\n"));
	commit_slices(s, 1);
	read_events(s, c, 2);
	assert_seqs(c, 1, 1, 1);
	client_free(c);
}

static void test_lagged_since_trimmed(void **state)
{
	struct srv *s = *state;
	s->opt.max_events = 3;
	srv_start(s);
	commit_slices(s, 4);
	commit_slices(s, 3); /* keeps 5..7 */
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events?since=2", NULL);
	read_events(s, c, 5);
	assert_string_equal(c->ev[0].event, "lagged");
	assert_int_equal(c->ev[0].id, 4);
	assert_int_equal(json_int(c->ev[0].data, "first"), 3);
	assert_int_equal(json_int(c->ev[0].data, "last"), 4);
	assert_seqs(c, 1, 5, 7);
	assert_string_equal(c->ev[4].event, "live");
	client_free(c);
}

/*
 * A client that stops reading while events pour in: the server stops at
 * its bound instead of buffering, the log is trimmed past the client
 * meanwhile, and when it reads again it gets what it was sent, one
 * `lagged` naming exactly the events that are gone, then everything
 * after: every seq either received once or named as lost.
 */
static void test_slow_client_lagged(void **state)
{
	struct srv *s = *state;
	s->opt.max_events = 40;
	s->opt.stream_max_bytes = 8192;
	s->opt.keepalive_ms = 2000; /* the client may stall up to 8 s */
	s->sndbuf = 4096;
	srv_start(s);
	struct client *c = client_new(s, 4096);
	client_send(c, "/v1/events", NULL);
	read_events(s, c, 1); /* live */
	for (int pass = 0; pass < 30; pass++) {
		for (int i = 0; i < 10; i++)
			append(s, "slice", "web", 1500);
		commit(s);
		run_for(s, c, 5, false);
	}
	/* What the server holds for it is bounded (one event past the bound), whatever came. */
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
	assert_true(evbuffer_get_length(bufferevent_get_output(bev)) < 8192 + 2048);
	assert_int_equal(subscribers(s), 1);
	read_events(s, c, 2);
	int64_t deadline = acre_now_ms() + 5000;
	while (acre_now_ms() < deadline && (c->nev == 0 || c->ev[c->nev - 1].id < 300))
		turn(s, c, true);

	/* Every seq from 1 to 300: received once, or inside the one lagged range. */
	size_t lagged = 0;
	long long next = 1;
	for (size_t i = 1; i < c->nev; i++) {
		struct sse *e = &c->ev[i];
		if (!strcmp(e->event, "lagged")) {
			lagged++;
			assert_int_equal(json_int(e->data, "first"), next);
			next = json_int(e->data, "last") + 1;
			assert_int_equal(e->id, next - 1);
			continue;
		}
		assert_string_equal(e->event, "slice");
		assert_int_equal(e->id, next);
		next++;
	}
	assert_int_equal(next, 301);
	assert_int_equal(lagged, 1);
	/* It was paused early: far fewer events came before the notice than were committed. */
	assert_true(c->nev < 300);
	client_free(c);
}

/* A client that takes nothing for four keep-alive intervals is let go, and nothing leaks. */
static void test_stalled_client_disconnected(void **state)
{
	struct srv *s = *state;
	s->opt.stream_max_bytes = 4096;
	s->opt.keepalive_ms = 100;
	s->sndbuf = 4096;
	srv_start(s);
	struct client *c = client_new(s, 4096);
	client_send(c, "/v1/events", NULL);
	read_events(s, c, 1);
	for (int i = 0; i < 100; i++)
		append(s, "slice", "web", 1500);
	commit(s);
	int64_t deadline = acre_now_ms() + 5000;
	while (subscribers(s) > 0 && acre_now_ms() < deadline)
		run_for(s, c, 20, false);
	assert_int_equal(subscribers(s), 0);
	client_free(c);
}

static void test_client_leaves(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events", NULL);
	read_events(s, c, 1);
	assert_int_equal(subscribers(s), 1);
	client_free(c);
	int64_t deadline = acre_now_ms() + 3000;
	while (subscribers(s) > 0 && acre_now_ms() < deadline)
		turn(s, NULL, false);
	assert_int_equal(subscribers(s), 0);
	commit_slices(s, 2); /* nobody to send to, nothing to trip over */
}

/* The log closing first (before evhttp): streams end with the last chunk. */
static void test_log_close_ends_streams(void **state)
{
	struct srv *s = *state;
	srv_start(s);
	struct client *c = client_new(s, 0);
	client_send(c, "/v1/events", NULL);
	read_events(s, c, 1);
	eventlog_close(s->log);
	s->log = NULL;
	int64_t deadline = acre_now_ms() + 3000;
	while (!c->ended && acre_now_ms() < deadline)
		turn(s, c, true);
	assert_true(c->ended);
	client_free(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	acre_log_set_level(ACRE_LOG_WARN);
	const struct CMUnitTest tests[] = {
		T(test_backlog_then_live),
		T(test_last_event_id_wins),
		T(test_resume_after_restart),
		T(test_filters),
		T(test_bad_requests),
		T(test_keepalive),
		T(test_lagged_since_trimmed),
		T(test_slow_client_lagged),
		T(test_stalled_client_disconnected),
		T(test_client_leaves),
		T(test_log_close_ends_streams),
	};
	return cmocka_run_group_tests_name("events_http", tests, NULL, NULL);
}
