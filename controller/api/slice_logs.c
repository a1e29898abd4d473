/*
 * GET /v1/slices/{id}/logs[?follow=1][&tail=N]: a slice's log as
 * text/plain, relayed from the node that runs (or last ran) it over that
 * node's connection (nodeport's logs stream).  The status is sent once
 * the node has opened the log, so a refusal is a JSON error like any
 * other: 404 for a slice the pool or its node does not have, 409 for one
 * never placed, 503 when its node is not connected.  The body is chunked,
 * passed on as the node sends it; past STREAM_MAX_BYTES unsent to this
 * client the node's answers are held (the node pauses this log only), and
 * a client that takes nothing for WRITE_TIMEOUT_S is dropped.  A log that
 * breaks off (its node goes) ends with the connection and no final chunk,
 * which the client sees as a broken stream, never as the log's end.  The
 * client's going away closes the stream on the node.
 */
#include "internal.h"
#include "controller/nodeport/nodeport.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define STREAM_MAX_BYTES (256u * 1024)
#define WRITE_TIMEOUT_S	 60

struct log_reply {
	struct api *a;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct nodeport_logs *lg; /* NULL once the stream ended */
	char slice[ACRE_NAME_MAX + 1];
	bool started, waiting_drain;
};

static bool full(struct log_reply *r)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(r->evcon);
	return bev && evbuffer_get_length(bufferevent_get_output(bev)) > STREAM_MAX_BYTES;
}

static int status_of(const struct acre_error *err)
{
	return err->code == ENOTCONN ? 503 : api_status_for(err->code);
}

/* The client went away (or the server is stopping): the node stops reading. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct log_reply *r = arg;
	acre_log(ACRE_LOG_DEBUG, "slice=%s event=log_reader_gone", r->slice);
	nodeport_logs_close(r->lg);
	api_forget_request(r->req);
	free(r);
}

static void on_drained(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct log_reply *r = arg;
	if (!r->waiting_drain || !r->lg)
		return;
	r->waiting_drain = false;
	nodeport_logs_resume(r->lg);
}

static void on_opened(void *ud)
{
	struct log_reply *r = ud;
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Type", "text/plain");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Accel-Buffering", "no"); /* proxies: pass each line at once */
	api_count(r->a, 200);
	evhttp_send_reply_start(r->req, 200, "OK");
	r->started = true;
	/* Reading only notices a client that leaves: no read timeout; a write timeout. */
	struct bufferevent *bev = evhttp_connection_get_bufferevent(r->evcon);
	struct timeval wr = {WRITE_TIMEOUT_S, 0};
	if (bev)
		bufferevent_set_timeouts(bev, NULL, &wr);
}

static bool on_data(void *ud, const void *buf, size_t len)
{
	struct log_reply *r = ud;
	struct evbuffer *b = evbuffer_new();
	if (b) {
		evbuffer_add(b, buf, len);
		evhttp_send_reply_chunk_with_cb(r->req, b, on_drained, r);
		evbuffer_free(b);
	}
	if (!full(r))
		return true;
	r->waiting_drain = true;
	return false;
}

static void on_end(void *ud, const struct acre_error *err)
{
	struct log_reply *r = ud;
	r->lg = NULL;
	evhttp_connection_set_closecb(r->evcon, NULL, NULL);
	if (!r->started) {
		api_reply_error(r->a, r->req, status_of(err), err);
	} else if (!err) {
		evhttp_send_reply_end(r->req);
	} else {
		acre_log(ACRE_LOG_INFO, "slice=%s event=log_broken error=\"%s\"", r->slice,
			 err->message);
		evhttp_connection_free(r->evcon); /* no final chunk: the client sees a break */
	}
	free(r);
}

static const struct nodeport_logs_sink sink = {
	.opened = on_opened,
	.data = on_data,
	.end = on_end,
};

static int parse_query(struct evkeyvalq *q, bool *follow, int64_t *tail, struct acre_error *err)
{
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, q, next)
	{
		const char *v = kv->value;
		if (!strcmp(kv->key, "follow")) {
			if (!strcmp(v, "1") || !strcmp(v, "true"))
				*follow = true;
			else if (!strcmp(v, "0") || !strcmp(v, "false"))
				*follow = false;
			else
				return acre_error_set(err, EINVAL, "follow",
						      "follow %.40s: expected 1 or 0", v);
		} else if (!strcmp(kv->key, "tail")) {
			char *end;
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (!*v || *end || errno || n < 0 || n > ACRE_LOGS_TAIL_MAX)
				return acre_error_set(err, EINVAL, "tail",
						      "tail %.40s: expected a number of lines from "
						      "0 to %d",
						      v, ACRE_LOGS_TAIL_MAX);
			*tail = n;
		} else if (!strcmp(kv->key, "stream")) {
			return acre_error_set(err, EINVAL, "stream",
					      "stream %.40s: a slice's stdout and stderr go to one "
					      "log on its node, in the order written; ask without "
					      "stream",
					      v);
		} else {
			return acre_error_set(err, EINVAL, kv->key,
					      "unknown parameter %.40s (follow, tail)", kv->key);
		}
	}
	return 0;
}

API_HANDLER(api_slice_logs)
{
	struct acre_error err = {0};
	const char *name = api_param(p, "id");
	bool follow = false;
	int64_t tail = -1;
	if (parse_query(q, &follow, &tail, &err) < 0) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	struct pool_slice *sl = pool_slice_find(a->pool, name);
	if (!sl) {
		acre_error_set(&err, ENOENT, "name", "no slice named %s in the pool", name);
		api_reply_error(a, req, 404, &err);
		return;
	}
	struct pool_node *node = sl->node ? sl->node : sl->last_node;
	if (!node) {
		acre_error_set(&err, ESRCH, NULL,
			       "slice %s has not run on any node yet (%s%s%s): it has no log", name,
			       acre_slice_state_name(sl->state), sl->reason ? ": " : "",
			       sl->reason ? sl->reason : "");
		api_reply_error(a, req, 409, &err);
		return;
	}
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (!evcon || !a->opt.nodeport) {
		acre_error_set(&err, ENOTCONN, NULL, "no node port to reach node %s by", node->id);
		api_reply_error(a, req, 503, &err);
		return;
	}
	struct log_reply *r = calloc(1, sizeof(*r));
	if (!r) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		api_reply_error(a, req, 500, &err);
		return;
	}
	*r = (struct log_reply){.a = a, .req = req, .evcon = evcon};
	snprintf(r->slice, sizeof(r->slice), "%s", name);
	if (nodeport_logs_open(a->opt.nodeport, node, name, follow, tail, &sink, r, &r->lg, &err) <
	    0) {
		free(r);
		api_reply_error(a, req, status_of(&err), &err);
		return;
	}
	evhttp_connection_set_closecb(evcon, on_conn_close, r);
}
