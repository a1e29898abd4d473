/*
 * The CLI's side of the controller's HTTP API, through libevent's evhttp
 * client (no HTTP parsing of our own): one request, its JSON reply, and an
 * error that says what the controller said, or why it could not be
 * reached.  The bearer token comes from --token, $ACRE_TOKEN,
 * --token-file, $ACRE_TOKEN_FILE or /etc/acre/api-token, in that order.
 */
#include "cli.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>

#define DEFAULT_TOKEN_FILE "/etc/acre/api-token"

struct call {
	struct event_base *base;
	int status;
	enum evhttp_request_error error;
	bool failed;
	struct evbuffer *body;
};

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct call *c = arg;
	c->failed = true;
	c->error = e;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	if (req && evhttp_request_get_response_code(req) > 0) {
		c->status = evhttp_request_get_response_code(req);
		evbuffer_add_buffer(c->body, evhttp_request_get_input_buffer(req));
	} else {
		c->failed = true;
	}
	event_base_loopexit(c->base, NULL);
}

const char *cli_http_error_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid reply";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection refused or reset";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "reply too long";
	default:
		return "failed";
	}
}

int cli_token(struct cli *cli, struct acre_error *err)
{
	if (cli->token && *cli->token)
		return 0;
	const char *env = getenv("ACRE_TOKEN");
	if (env && *env) {
		cli->token = env;
		return 0;
	}
	const char *file = cli->token_file;
	if (!file || !*file)
		file = getenv("ACRE_TOKEN_FILE");
	bool explicit = file && *file;
	if (!explicit)
		file = DEFAULT_TOKEN_FILE;
	static char *text;
	size_t len;
	int rc = acre_file_read(AT_FDCWD, file, &text, &len, 4096);
	if (rc < 0) {
		if (!explicit)
			return acre_error_set(err, EACCES, "--token",
					      "the controller needs an API token: --token, "
					      "$ACRE_TOKEN or --token-file");
		return acre_error_set(err, -rc, "--token-file", "--token-file %s: %s", file,
				      strerror(-rc));
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	cli->token = text;
	return 0;
}

struct evhttp_uri *cli_controller_uri(const char *url, struct acre_error *err)
{
	_cleanup_free_ char *full = NULL;
	if (!strstr(url, "://") && asprintf(&full, "http://%s", url) < 0)
		return NULL;
	struct evhttp_uri *u = evhttp_uri_parse(full ? full : url);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
	if (!u || !evhttp_uri_get_host(u) || !scheme || strcmp(scheme, "http") != 0) {
		if (u)
			evhttp_uri_free(u);
		acre_error_set(err, EINVAL, "--controller",
			       "--controller %s: expected http://HOST:PORT", url);
		return NULL;
	}
	return u;
}

static json_t *error_from(int status, const char *body, size_t len, struct acre_error *err)
{
	_cleanup_json_ json_t *j = json_loadb(body, len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	if (json_is_object(e)) {
		_cleanup_json_ json_t *wrapped = json_pack("{s:O}", "error", e);
		acre_proto_error_from_json(wrapped, err);
	} else {
		acre_error_set(err, EIO, NULL, "the controller answered %d", status);
	}
	return NULL;
}

/* One request; a 2xx reply's body parsed as JSON, or with raw_fd >= 0 written there (json_true). */
static json_t *request(struct cli *cli, enum cli_method method, const char *path,
		       const json_t *body, int raw_fd, struct acre_error *err)
{
	if (cli_token(cli, err) < 0)
		return NULL;
	struct evhttp_uri *u = cli_controller_uri(cli->controller, err);
	if (!u)
		return NULL;
	const char *host = evhttp_uri_get_host(u);
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
	struct call c = {.base = event_base_new(), .body = evbuffer_new()};
	struct evhttp_connection *evcon =
		c.base ? evhttp_connection_base_new(c.base, NULL, host, (ev_uint16_t)port) : NULL;
	struct evhttp_request *req = evcon ? evhttp_request_new(on_done, &c) : NULL;
	json_t *result = NULL;
	if (!req || !c.body) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	/* Whole seconds for libevent; 0 (forever) leaves its default. */
	int timeout_s = (int)((cli->timeout_ms + 999) / 1000);
	if (timeout_s > 0)
		evhttp_connection_set_timeout(evcon, timeout_s);
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char auth[4200];
	snprintf(auth, sizeof(auth), "Bearer %s", cli->token);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Authorization", auth);
	evhttp_add_header(h, "Accept", "application/json");
	if (body) {
		_cleanup_free_ char *s = json_dumps(body, JSON_COMPACT);
		evhttp_add_header(h, "Content-Type", "application/json");
		if (s)
			evbuffer_add(evhttp_request_get_output_buffer(req), s, strlen(s));
	}
	enum evhttp_cmd_type m = method == CLI_POST	? EVHTTP_REQ_POST
				 : method == CLI_PUT	? EVHTTP_REQ_PUT
				 : method == CLI_DELETE ? EVHTTP_REQ_DELETE
							: EVHTTP_REQ_GET;
	if (evhttp_make_request(evcon, req, m, path) < 0) {
		acre_error_set(err, EIO, NULL, "sending to the controller at %s", cli->controller);
		goto out;
	}
	uint64_t t0 = acre_monotonic_ns();
	event_base_dispatch(c.base);
	if (c.failed || c.status == 0) {
		/* libevent reports a refused connection as a timeout: tell them apart by
		 * the clock (a refusal is at once; with no timeout, within a second). */
		uint64_t half_ms = cli->timeout_ms ? cli->timeout_ms / 2 : 1000;
		bool quick = acre_monotonic_ns() - t0 < half_ms * 1000000ULL;
		if (c.error == EVREQ_HTTP_TIMEOUT && !quick && timeout_s > 0)
			acre_error_set(err, ETIMEDOUT, NULL,
				       "no reply from the controller at %s within %ds (--timeout): "
				       "is it hung?",
				       cli->controller, timeout_s);
		else
			acre_error_set(
				err, ECONNREFUSED, NULL,
				"reaching the controller at %s: %s (is acre-controller running?)",
				cli->controller,
				quick && c.error == EVREQ_HTTP_TIMEOUT
					? "connection refused"
					: cli_http_error_name(c.error));
		goto out;
	}
	size_t len = evbuffer_get_length(c.body);
	const char *text = (const char *)evbuffer_pullup(c.body, -1);
	if (c.status < 200 || c.status > 299) {
		error_from(c.status, text ? text : "", len, err);
		goto out;
	}
	if (raw_fd >= 0) {
		if (evbuffer_write(c.body, raw_fd) < 0)
			acre_error_set(err, errno, NULL, "writing the reply: %s", strerror(errno));
		while (evbuffer_get_length(c.body) && !err->message[0])
			if (evbuffer_write(c.body, raw_fd) < 0)
				acre_error_set(err, errno, NULL, "writing the reply: %s",
					       strerror(errno));
		result = err->message[0] ? NULL : json_true();
		goto out;
	}
	json_error_t jerr;
	result = json_loadb(text ? text : "", len, 0, &jerr);
	if (!result)
		acre_error_set(err, EPROTO, NULL, "malformed reply from the controller: %s",
			       jerr.text);
out:
	if (evcon)
		evhttp_connection_free(evcon);
	if (c.body)
		evbuffer_free(c.body);
	if (c.base)
		event_base_free(c.base);
	evhttp_uri_free(u);
	return result;
}

json_t *cli_api(struct cli *cli, enum cli_method method, const char *path, const json_t *body,
		struct acre_error *err)
{
	return request(cli, method, path, body, -1, err);
}

int cli_api_to_fd(struct cli *cli, enum cli_method method, const char *path, const json_t *body,
		  int fd, struct acre_error *err)
{
	_cleanup_json_ json_t *ok = request(cli, method, path, body, fd, err);
	return ok ? 0 : -(err->code ? err->code : EIO);
}

char *cli_uri_escape(const char *s)
{
	return evhttp_uriencode(s, -1, 0);
}

json_t *cli_api_on(struct cli *cli, enum cli_method method, const char *prefix, const char *name,
		   const char *suffix, const json_t *body, struct acre_error *err)
{
	_cleanup_free_ char *escaped = cli_uri_escape(name);
	_cleanup_free_ char *path = NULL;
	if (!escaped || asprintf(&path, "%s%s%s", prefix, escaped, suffix ? suffix : "") < 0) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
		return NULL;
	}
	return cli_api(cli, method, path, body, err);
}

bool cli_unreachable(const struct acre_error *err)
{
	return err->code == ECONNREFUSED || err->code == ETIMEDOUT || err->code == ECONNRESET;
}
