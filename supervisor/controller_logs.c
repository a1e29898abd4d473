/*
 * A slice's log, read for the controller (logs.open, logs.data,
 * logs.close): the file the slice writes (STATE-DIR/slices/NAME/log),
 * from its start or its last `tail` lines, sent in logs.data messages of
 * at most ACRE_LOGS_CHUNK bytes (base64).  Each logs.data is a request the
 * controller answers when it has passed the bytes on; at most
 * ACRE_LOGS_WINDOW are unanswered per stream, so a slow reader at the far
 * end pauses this stream's reading, never the link, and a chatty slice
 * costs bounded memory on both sides.  Following, the file is read again
 * every quarter second until the slice has ended and everything is sent;
 * then logs.data with "eof".  Streams end with the link.
 */
#include "controller_link.h"
#include "log_tail.h"
#include "slice_ops.h"

#include <event2/event.h>
#include <fcntl.h>

#define MAX_STREAMS    64
#define FOLLOW_POLL_MS 250

struct log_stream {
	ACRE_LIST_FIELDS(struct log_stream, stream);
	struct controller_link *l;
	int64_t stream; /* the controller's number for it */
	char slice[ACRE_NAME_MAX + 1];
	int fd;
	bool follow;
	int64_t unanswered[ACRE_LOGS_WINDOW]; /* ids of logs.data awaiting their answer; 0: free */
	unsigned nunanswered;
	struct event *poll; /* following: the next look at the file */
};

static void stream_free(struct log_stream *st)
{
	struct controller_link *l = st->l;
	ACRE_LIST_REMOVE(stream, l->log_streams, st);
	l->nlog_streams--;
	if (st->poll)
		event_free(st->poll);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

static struct log_stream *stream_find(struct controller_link *l, int64_t stream)
{
	struct log_stream *st;
	ACRE_LIST_FOREACH (stream, st, l->log_streams)
		if (st->stream == stream)
			return st;
	return NULL;
}

static void send_data(struct log_stream *st, const void *buf, size_t n, bool eof)
{
	struct controller_link *l = st->l;
	_cleanup_free_ char *text = acre_proto_base64_encode(buf, n, NULL);
	int64_t id = ++l->next_id;
	_cleanup_json_ json_t *msg =
		text ? json_pack("{s:s,s:I,s:I,s:s,s:b}", "op", ACRE_OP_LOGS_DATA, "id",
				 (json_int_t)id, "stream", (json_int_t)st->stream, "data", text,
				 "eof", eof)
		     : NULL;
	if (!msg)
		return;
	link_send(l, msg);
	for (unsigned i = 0; i < ACRE_LOGS_WINDOW; i++) {
		if (st->unanswered[i] == 0) {
			st->unanswered[i] = id;
			st->nunanswered++;
			break;
		}
	}
}

/* Whether everything the slice will ever write is in the file. */
static bool slice_done(struct log_stream *st)
{
	struct slice *s = slice_find(st->l->sv, st->slice);
	return !s || slice_has_ended(s);
}

/* Sends what the window allows; at the end of the file, waits (following) or ends. */
static void pump(struct log_stream *st)
{
	static char buf[ACRE_LOGS_CHUNK];
	while (st->nunanswered < ACRE_LOGS_WINDOW) {
		/* Looked at before reading: an end seen first means the read gets the last bytes.
		 */
		bool done = !st->follow || slice_done(st);
		ssize_t n = read(st->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			send_data(st, buf, (size_t)n, false);
			continue;
		}
		if (n < 0)
			acre_log(ACRE_LOG_WARN, "slice=%s event=log_read_failed error=\"%s\"",
				 st->slice, strerror(errno));
		if (n < 0 || done) {
			send_data(st, "", 0, true);
			acre_log(ACRE_LOG_DEBUG, "slice=%s event=log_stream_end stream=%lld",
				 st->slice, (long long)st->stream);
			stream_free(st);
			return;
		}
		struct timeval tv = {0, FOLLOW_POLL_MS * 1000};
		evtimer_add(st->poll, &tv);
		return;
	}
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

static int open_args(json_t *req, const char **name, int64_t *stream, bool *follow, int64_t *tail,
		     struct acre_error *err)
{
	json_error_t jerr;
	json_int_t s = 0, t = -1;
	int f = 0;
	if (json_unpack_ex(req, &jerr, 0, "{s:s,s:I,s?b,s?I}", "slice", name, "stream", &s,
			   "follow", &f, "tail", &t) < 0)
		return acre_error_set(err, EINVAL, NULL,
				      "logs.open: %s (slice: a name, stream: an integer, follow: "
				      "a boolean, tail: an integer)",
				      jerr.text);
	if (!acre_slice_name_valid(*name))
		return acre_error_set(err, EINVAL, "slice", "slice: not a slice name");
	if (s <= 0)
		return acre_error_set(err, EINVAL, "stream", "stream: a positive integer");
	if (t < -1 || t > ACRE_LOGS_TAIL_MAX)
		return acre_error_set(err, EINVAL, "tail", "tail: from 0 to %d lines",
				      ACRE_LOGS_TAIL_MAX);
	*stream = s;
	*follow = f;
	*tail = t;
	return 0;
}

static int stream_open(struct controller_link *l, json_t *req, struct log_stream **out,
		       struct acre_error *err)
{
	const char *name = NULL;
	int64_t stream = 0, tail = -1;
	bool follow = false;
	struct slice *s;
	_cleanup_close_ int fd = -1;
	int rc = open_args(req, &name, &stream, &follow, &tail, err);
	if (rc < 0)
		return rc;
	if (stream_find(l, stream))
		return acre_error_set(err, EEXIST, "stream", "stream %lld is open already",
				      (long long)stream);
	if (l->nlog_streams >= MAX_STREAMS)
		return acre_error_set(err, EBUSY, NULL,
				      "%d logs are being read on this node already: try again "
				      "later",
				      MAX_STREAMS);
	if ((rc = slice_ops_logs(l->sv, SLICE_CALLER_POOL, name, &s, &fd, err)) < 0)
		return rc;
	off_t at = 0;
	if (tail >= 0 && (rc = log_tail_offset(fd, tail, &at)) == 0 && lseek(fd, at, SEEK_SET) < 0)
		rc = -errno;
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "reading the log of %s: %s", name,
				      strerror(-rc));
	struct log_stream *st = calloc(1, sizeof(*st));
	if (!st || !(st->poll = evtimer_new(l->sv->base, on_poll, st))) {
		free(st);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	st->l = l;
	st->stream = stream;
	st->follow = follow;
	st->fd = TAKE_FD(fd);
	snprintf(st->slice, sizeof(st->slice), "%s", name);
	ACRE_LIST_PREPEND(stream, l->log_streams, st);
	l->nlog_streams++;
	*out = st;
	return 0;
}

static void reply_ok(struct controller_link *l, json_t *id, json_t *result)
{
	_cleanup_json_ json_t *msg = acre_proto_ok(id, result);
	link_send(l, msg);
}

static void reply_error(struct controller_link *l, json_t *id, const struct acre_error *err)
{
	acre_log(ACRE_LOG_INFO, "event=log_stream_refused error=\"%s\"", err->message);
	_cleanup_json_ json_t *msg = acre_proto_error(id, err);
	link_send(l, msg);
}

bool link_logs_owns(const char *op)
{
	return !strcmp(op, ACRE_OP_LOGS_OPEN) || !strcmp(op, ACRE_OP_LOGS_CLOSE);
}

void link_logs_request(struct controller_link *l, const char *op, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	if (!strcmp(op, ACRE_OP_LOGS_CLOSE)) {
		json_t *s = json_object_get(req, "stream");
		if (!json_is_integer(s)) {
			acre_error_set(&err, EINVAL, "stream", "stream: an integer");
			reply_error(l, id, &err);
			return;
		}
		struct log_stream *st = stream_find(l, json_integer_value(s));
		if (st) {
			acre_log(ACRE_LOG_DEBUG, "slice=%s event=log_stream_closed stream=%lld",
				 st->slice, (long long)st->stream);
			stream_free(st);
		}
		reply_ok(l, id, json_object());
		return;
	}
	struct log_stream *st = NULL;
	if (stream_open(l, req, &st, &err) < 0) {
		reply_error(l, id, &err);
		return;
	}
	acre_log(ACRE_LOG_DEBUG, "slice=%s event=log_stream_open stream=%lld follow=%d", st->slice,
		 (long long)st->stream, st->follow);
	/* The answer first: the controller starts its reply on it, then the bytes follow. */
	reply_ok(l, id, json_pack("{s:I}", "stream", (json_int_t)st->stream));
	pump(st);
}

bool link_logs_reply(struct controller_link *l, int64_t id, const json_t *msg)
{
	bool ok = json_is_true(json_object_get(msg, "ok"));
	struct log_stream *st;
	ACRE_LIST_FOREACH (stream, st, l->log_streams) {
		for (unsigned i = 0; i < ACRE_LOGS_WINDOW; i++) {
			if (st->unanswered[i] != id)
				continue;
			st->unanswered[i] = 0;
			st->nunanswered--;
			if (!ok) /* the controller no longer has this stream */
				stream_free(st);
			else if (!evtimer_pending(st->poll, NULL))
				pump(st);
			return true;
		}
	}
	/* A logs.data of a stream closed meanwhile (its reader left): nothing more to do. */
	json_t *e = json_object_get(msg, "error");
	const char *field = json_string_value(json_object_get(e, "field"));
	const char *code = json_string_value(json_object_get(e, "code"));
	return !ok && field && code && !strcmp(field, "stream") && !strcmp(code, "not_found");
}

void link_logs_drop_all(struct controller_link *l)
{
	while (l->log_streams)
		stream_free(l->log_streams);
}
