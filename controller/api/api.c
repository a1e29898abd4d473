/*
 * The HTTP API on --api-listen (libevent's evhttp): the route table,
 * bearer-token authentication, JSON replies and errors.
 * A request that changes the pool is answered only after the pass's
 * commit, so a 2xx means the change is on disk; its reply waits in a list
 * that forgets a client gone meanwhile.
 */
#include "internal.h"

#include "controller/packages/packages.h"

#include <event2/buffer.h>
#include <openssl/crypto.h>

#define MAX_BODY (256u << 20)

struct api_reply {
	ACRE_LIST_FIELDS(struct api_reply, reply);
	struct evhttp_request *req; /* NULL once the client went away */
	struct evhttp_connection *evcon;
	int status;
	char *body;
	size_t len;
};

int api_status_for(int code)
{
	switch (code < 0 ? -code : code) {
	case EINVAL:
	case EPROTO:
		return 400;
	case EACCES:
	case EPERM:
		return 403;
	case ENOENT:
		return 404;
	case EEXIST:
	case EBUSY:
	case ESRCH:
	case EALREADY:
		return 409;
	case EMSGSIZE:
		return 413;
	case E2BIG:
	case EOPNOTSUPP:
	case EBADMSG: /* what a repository served does not match its sum */
		return 422;
	case ENOSPC:
		return 507;
	case EAGAIN:
	case ENOTCONN:
		return 503;
	default:
		return 500;
	}
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "OK";
	}
}

void api_count(struct api *a, int status)
{
	int cls = status / 100;
	a->m.requests[cls >= 1 && cls <= 5 ? cls : 0]++;
}

static void send_body(struct api *a, struct evhttp_request *req, int status, const char *body,
		      size_t len)
{
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(out, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	api_count(a, status);
	evhttp_send_reply(req, status, reason_phrase(status), out);
	evbuffer_free(out);
}

static char *encode(json_t *body, size_t *len)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!s)
		s = strdup("{\"error\":{\"code\":\"no_memory\",\"message\":\"out of memory\"}}");
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return t;
}

void api_reply_json(struct api *a, struct evhttp_request *req, int status, json_t *body)
{
	size_t len;
	_cleanup_free_ char *s = encode(body, &len);
	json_decref(body);
	if (!s) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	send_body(a, req, status, s, len);
}

json_t *api_error_json(const struct acre_error *err)
{
	json_t *e = json_pack("{s:s,s:s}", "code", acre_error_code_name(err->code), "message",
			      err->message);
	if (!e) /* a message cut inside a character: say less rather than nothing */
		e = json_pack("{s:s,s:s}", "code", acre_error_code_name(err->code), "message",
			      "(message not valid UTF-8)");
	if (e && err->field[0])
		json_object_set_new(e, "field", json_string(err->field));
	return json_pack("{s:o}", "error", e);
}

void api_reply_error(struct api *a, struct evhttp_request *req, int status,
		     const struct acre_error *err)
{
	acre_log(status >= 500 ? ACRE_LOG_ERROR : ACRE_LOG_INFO,
		 "event=api_error status=%d method=%s path=\"%.200s\" error=\"%s\"", status,
		 api_method_name((int)evhttp_request_get_command(req)), evhttp_request_get_uri(req),
		 err->message);
	api_reply_json(a, req, status, api_error_json(err));
}

void api_forget_request(struct evhttp_request *req)
{
	/*
	 * A client gone before its answer: libevent unhooks the request from
	 * the connection and leaves it to us (evhttp_connection_incoming_fail);
	 * still hooked, the connection frees it itself.
	 */
	if (req && !evhttp_request_get_connection(req))
		evhttp_request_free(req);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct api *a = arg;
	struct api_reply *r;
	ACRE_LIST_FOREACH (reply, r, a->head) {
		if (r->evcon == evcon) {
			api_forget_request(r->req);
			r->req = NULL;
		}
	}
	api_park_forget(a, evcon);
}

void api_watch_close(struct api *a, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_set_closecb(evcon, on_conn_close, a);
}

void api_defer_text(struct api *a, struct evhttp_request *req, int status, char *body, size_t len)
{
	struct api_reply *r = calloc(1, sizeof(*r));
	if (!r || !body) {
		free(body);
		free(r);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	r->body = body;
	r->len = len;
	r->req = req;
	r->status = status;
	r->evcon = evhttp_request_get_connection(req);
	api_watch_close(a, req);
	ACRE_QUEUE_APPEND(reply, a->head, a->tail, r);
}

void api_defer_json(struct api *a, struct evhttp_request *req, int status, json_t *body)
{
	size_t len = 0;
	char *text = encode(body, &len);
	json_decref(body);
	api_defer_text(a, req, status, text, len);
}

void api_flush(struct api *a)
{
	struct api_reply *r = a->head;
	a->head = a->tail = NULL;
	while (r) {
		struct api_reply *next = r->reply_next;
		if (r->req)
			send_body(a, r->req, r->status, r->body, r->len);
		free(r->body);
		free(r);
		r = next;
	}
}

json_t *api_read_body(struct evhttp_request *req, bool optional, struct acre_error *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len == 0) {
		if (optional)
			return json_object();
		acre_error_set(err, EINVAL, NULL, "the request needs a JSON body");
		return NULL;
	}
	const char *data = (const char *)evbuffer_pullup(in, -1);
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		acre_error_set(err, EINVAL, NULL, "invalid JSON body at line %d column %d: %s",
			       jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		acre_error_set(err, EINVAL, NULL, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

const char *api_query(struct evkeyvalq *q, const char *key)
{
	return evhttp_find_header(q, key);
}

/* "Authorization: Bearer <token>", compared in constant time. */
static bool authorized(struct api *a, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *t = h + 7;
	while (*t == ' ')
		t++;
	size_t given = strlen(t), want = strlen(a->opt.token);
	return given == want && CRYPTO_memcmp(t, a->opt.token, given) == 0;
}

static void unauthorized(struct api *a, struct evhttp_request *req)
{
	struct acre_error err;
	char peer[64] = "?";
	const char *host = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon) {
		evhttp_connection_get_peer(evcon, (char **)&host, &port);
		snprintf(peer, sizeof(peer), "%s:%u", host ? host : "?", port);
	}
	a->m.unauthorized++;
	acre_log(ACRE_LOG_WARN, "event=api_unauthorized peer=%s path=%s", peer,
		 evhttp_request_get_uri(req));
	acre_error_set(&err, EACCES, NULL,
		       "missing or wrong API token (Authorization: Bearer <token>)");
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  "Bearer realm=\"acre\"");
	api_reply_error(a, req, 401, &err);
}

const struct api_route api_routes[] = {
	{EVHTTP_REQ_GET, "/healthz", api_healthz, true},
	{EVHTTP_REQ_GET, "/v1/nodes", api_nodes_list, false},
	{EVHTTP_REQ_GET, "/v1/nodes/{id}", api_node_show, false},
	{EVHTTP_REQ_DELETE, "/v1/nodes/{id}", api_node_delete, false},
	{EVHTTP_REQ_POST, "/v1/nodes/{id}/cordon", api_node_cordon, false},
	{EVHTTP_REQ_POST, "/v1/nodes/{id}/uncordon", api_node_uncordon, false},
	{EVHTTP_REQ_POST, "/v1/nodes/{id}/drain", api_node_drain, false},
	{EVHTTP_REQ_DELETE, "/v1/nodes/{id}/volumes/{name}", api_node_volume_delete, false},
	{EVHTTP_REQ_GET, "/v1/pool", api_pool_show, false},
	{EVHTTP_REQ_GET, "/v1/network", api_network_show, false},
	{EVHTTP_REQ_GET, "/v1/join", api_join_show, false},
	{EVHTTP_REQ_GET, "/v1/slices", api_slices_list, false},
	{EVHTTP_REQ_POST, "/v1/slices", api_slices_create, false},
	{EVHTTP_REQ_GET, "/v1/slices/{id}", api_slice_show, false},
	{EVHTTP_REQ_DELETE, "/v1/slices/{id}", api_slice_delete, false},
	{EVHTTP_REQ_POST, "/v1/slices/{id}/kill", api_slice_kill, false},
	{EVHTTP_REQ_GET, "/v1/slices/{id}/logs", api_slice_logs, false},
	{EVHTTP_REQ_GET, "/v1/why/{kind}/{name}", api_why, false},
	{EVHTTP_REQ_GET, "/v1/apps", api_apps_list, false},
	{EVHTTP_REQ_POST, "/v1/apps", api_apps_create, false},
	{EVHTTP_REQ_GET, "/v1/apps/{name}", api_app_show, false},
	{EVHTTP_REQ_PUT, "/v1/apps/{name}", api_app_put, false},
	{EVHTTP_REQ_DELETE, "/v1/apps/{name}", api_app_delete, false},
	{EVHTTP_REQ_GET, "/v1/apps/{name}/versions", api_app_versions, false},
	{EVHTTP_REQ_GET, "/v1/apps/{name}/instances", api_app_instances, false},
	{EVHTTP_REQ_POST, "/v1/apps/{name}/{verb}", api_app_verb, false},
	{EVHTTP_REQ_GET, "/v1/deployments", api_deployments_list, false},
	{EVHTTP_REQ_GET, "/v1/deployments/{id}", api_deployment_show, false},
	{EVHTTP_REQ_DELETE, "/v1/deployments/{id}", api_deployment_cancel, false},
	{EVHTTP_REQ_GET, "/v1/packages", api_packages_list, false},
	{EVHTTP_REQ_GET, "/v1/packages/{name}", api_package_show, false},
	{EVHTTP_REQ_GET, "/v1/repos", api_repos_list, false},
	{EVHTTP_REQ_POST, "/v1/repos", api_repos_add, false},
	{EVHTTP_REQ_DELETE, "/v1/repos/{name}", api_repo_delete, false},
	{EVHTTP_REQ_POST, "/v1/repos/{name}/refresh", api_repo_refresh, false},
	{EVHTTP_REQ_POST, "/v1/bundles", api_bundles_create, false},
	/* Public: nodes fetch bundled artifacts by their sum, which they verify. */
	{EVHTTP_REQ_GET, "/v1/artifacts/{sha256}", api_artifact_get, true},
	{EVHTTP_REQ_GET, "/v1/installs", api_installs_list, false},
	{EVHTTP_REQ_POST, "/v1/installs", api_installs_create, false},
	{EVHTTP_REQ_GET, "/v1/installs/{name}", api_install_show, false},
	{EVHTTP_REQ_PUT, "/v1/installs/{name}", api_install_put, false},
	{EVHTTP_REQ_DELETE, "/v1/installs/{name}", api_install_delete, false},
	{EVHTTP_REQ_POST, "/v1/installs/{name}/rollback", api_install_rollback, false},
	{EVHTTP_REQ_GET, "/v1/events", api_events_subscribe, false},
	{EVHTTP_REQ_GET, "/metrics", api_metrics, false},
};
const size_t api_nroutes = ACRE_ARRAY_SIZE(api_routes);

/* For load balancers and tests: alive, and nothing else, without a token. */
API_HANDLER(api_healthz)
{
	(void)p;
	(void)q;
	api_reply_json(a, req, 200, json_pack("{s:s}", "status", "ok"));
}

/* 404 for a path no route has; 405 and Allow for a method the path does not take. */
static void no_route(struct api *a, struct evhttp_request *req, int rc, const char *path,
		     const char *allow)
{
	struct acre_error err;
	if (rc == -ENOENT) {
		acre_error_set(&err, ENOENT, NULL, "no such resource: %.200s", path);
		api_reply_error(a, req, 404, &err);
		return;
	}
	acre_error_set(&err, EINVAL, NULL, "method %s not allowed here (allowed: %s)",
		       api_method_name((int)evhttp_request_get_command(req)), allow);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	api_reply_error(a, req, 405, &err);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	api_dispatch(arg, req);
}

void api_dispatch(struct api *a, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !*path)
		path = "/";
	const struct api_route *route;
	struct api_params params;
	char allow[64];
	int rc = api_route_match(api_routes, api_nroutes, (int)evhttp_request_get_command(req),
				 path, &route, &params, allow, sizeof(allow));
	if (!(rc == 0 && route->public) && !authorized(a, req)) {
		unauthorized(a, req);
		return;
	}
	if (rc < 0) {
		no_route(a, req, rc, path, allow);
		return;
	}
	struct evkeyvalq q;
	TAILQ_INIT(&q);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		struct acre_error err;
		acre_error_set(&err, EINVAL, NULL, "malformed query string");
		api_reply_error(a, req, 400, &err);
		return;
	}
	route->handler(a, req, &params, &q);
	evhttp_clear_headers(&q);
}

static int listen_on(struct api *a, struct acre_error *err)
{
	char host[256];
	const char *addr = a->opt.listen;
	const char *colon = strrchr(addr, ':');
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host) || *end ||
	    port <= 0 || port > 65535)
		return acre_error_set(err, EINVAL, "--api-listen",
				      "--api-listen %s: expected HOST:PORT", addr);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (!(a->http = evhttp_new(a->base)))
		return acre_error_set(err, ENOMEM, NULL, "creating the HTTP server");
	struct evhttp *h = a->http;
	evhttp_set_max_body_size(h, MAX_BODY);
	evhttp_set_max_headers_size(h, 64 * 1024);
	/* Every method reaches the route table, which answers 405 with Allow where it must. */
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
					      EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD |
					      EVHTTP_REQ_OPTIONS);
	evhttp_set_timeout(h, 120);
	evhttp_set_gencb(h, on_request, a);
	if (!evhttp_bind_socket_with_handle(h, host, (ev_uint16_t)port))
		return acre_error_set(err, errno ? errno : EADDRINUSE, "--api-listen",
				      "--api-listen %s: %s", addr,
				      strerror(errno ? errno : EADDRINUSE));
	return 0;
}

int api_start(struct event_base *base, struct pool *pool, const struct api_options *o,
	      struct api **out, struct acre_error *err)
{
	*out = NULL;
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	a->opt = *o;
	a->base = base;
	a->pool = pool;
	a->started_ns = acre_monotonic_ns();
	int rc = api_events_start(a, err);
	if (rc == 0 && api_metrics_start(a) < 0)
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc == 0)
		rc = listen_on(a, err);
	if (rc < 0) {
		api_stop(a);
		return rc;
	}
	if (o->installs)
		installs_on_fetched(o->installs, api_unpark, a);
	*out = a;
	return 0;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	api_flush(a);
	if (a->opt.installs)
		installs_on_fetched(a->opt.installs, NULL, NULL);
	api_park_stop(a);
	/* The streams end with their connections, before the log closes. */
	if (a->http)
		evhttp_free(a->http);
	pool_unsubscribe(a->pool, a);
	api_events_stop(a);
	free(a);
}
