/*
 * A long-lived GET on the controller through libevent's evhttp client:
 * the response body passed on chunk by chunk (evhttp de-chunks it), the
 * end reported once with the reason — the controller's JSON error for a
 * non-2xx answer, or what happened to the connection.
 */
#include "http_stream.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct cli_stream {
	struct evhttp_uri *uri;
	struct evhttp_connection *evcon;
	struct evbuffer *error_body; /* a non-2xx answer's body */
	const struct cli_stream_ops *ops;
	void *ud;
	const char *controller;
	int status;
	enum evhttp_request_error error;
	bool failed, ended;
};

static bool success(int status)
{
	return status >= 200 && status <= 299;
}

static int on_headers(struct evhttp_request *req, void *arg)
{
	struct cli_stream *s = arg;
	s->status = evhttp_request_get_response_code(req);
	return 0;
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
	struct cli_stream *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	if (success(s->status))
		s->ops->body(in, s->ud);
	else
		evbuffer_add_buffer(s->error_body, in);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct cli_stream *s = arg;
	s->failed = true;
	s->error = e;
}

/* What the controller said in its {"error": {...}} body, or its status. */
static void answer_error(struct cli_stream *s, struct acre_error *err)
{
	size_t len = evbuffer_get_length(s->error_body);
	const char *text = (const char *)evbuffer_pullup(s->error_body, -1);
	_cleanup_json_ json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
	if (json_is_object(json_object_get(j, "error")))
		acre_proto_error_from_json(j, err);
	else
		acre_error_set(err, EIO, NULL, "the controller answered %d", s->status);
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct cli_stream *s = arg;
	if (s->ended)
		return;
	s->ended = true;
	struct acre_error err = {0};
	if (req && evhttp_request_get_response_code(req) > 0)
		s->status = evhttp_request_get_response_code(req);
	if (!s->status && !s->failed)
		acre_error_set(&err, ECONNREFUSED, NULL,
			       "reaching the controller at %s: connection refused or timed out "
			       "(is acre-controller running?)",
			       s->controller);
	else if (!s->status || (s->failed && success(s->status)))
		acre_error_set(&err, ECONNRESET, NULL, "the event stream from %s: %s",
			       s->controller,
			       s->error == EVREQ_HTTP_TIMEOUT ? "no data within the idle timeout"
							      : cli_http_error_name(s->error));
	else if (!success(s->status))
		answer_error(s, &err);
	else
		acre_error_set(&err, ECONNRESET, NULL, "the controller at %s ended the stream",
			       s->controller);
	s->ops->end(s->status, &err, s->ud);
}

static int make_request(struct cli *cli, struct cli_stream *s, const char *path,
			const char *last_event_id, struct acre_error *err)
{
	struct evhttp_request *req = evhttp_request_new(on_done, s);
	if (!req)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	evhttp_request_set_header_cb(req, on_headers);
	evhttp_request_set_chunked_cb(req, on_chunk);
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	_cleanup_free_ char *auth = NULL;
	if (asprintf(&auth, "Bearer %s", cli->token) < 0) {
		evhttp_request_free(req);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	evhttp_add_header(h, "Host", evhttp_uri_get_host(s->uri));
	evhttp_add_header(h, "Authorization", auth);
	evhttp_add_header(h, "Accept", "text/event-stream");
	if (last_event_id)
		evhttp_add_header(h, "Last-Event-ID", last_event_id);
	/* on failure libevent has freed or dropped the request; the caller exits */
	if (evhttp_make_request(s->evcon, req, EVHTTP_REQ_GET, path) < 0)
		return acre_error_set(err, EIO, NULL, "sending to the controller at %s",
				      cli->controller);
	return 0;
}

int cli_stream_open(struct cli *cli, struct event_base *base, const char *path,
		    const char *last_event_id, int idle_s, const struct cli_stream_ops *ops,
		    void *ud, struct cli_stream **out, struct acre_error *err)
{
	*out = NULL;
	int rc = cli_token(cli, err);
	if (rc < 0)
		return rc;
	struct cli_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	s->ops = ops;
	s->ud = ud;
	s->controller = cli->controller;
	if (!(s->uri = cli_controller_uri(cli->controller, err))) {
		cli_stream_free(s);
		return -EINVAL;
	}
	int port = evhttp_uri_get_port(s->uri);
	s->error_body = evbuffer_new();
	s->evcon = evhttp_connection_base_new(base, NULL, evhttp_uri_get_host(s->uri),
					      (ev_uint16_t)(port > 0 ? port : 80));
	if (!s->error_body || !s->evcon) {
		cli_stream_free(s);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	evhttp_connection_set_timeout(s->evcon, idle_s);
	if ((rc = make_request(cli, s, path, last_event_id, err)) < 0) {
		cli_stream_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void cli_stream_free(struct cli_stream *s)
{
	if (!s)
		return;
	/* a request still under way is freed with its connection, without its callback */
	if (s->evcon)
		evhttp_connection_free(s->evcon);
	if (s->error_body)
		evbuffer_free(s->error_body);
	if (s->uri)
		evhttp_uri_free(s->uri);
	free(s);
}
