/*
 * The metrics endpoint: evhttp on the supervisor's event base, off unless
 * --metrics-listen is given.  One route, GET (or HEAD) /metrics; any other
 * path is 404 and any other method 405.  A scrape is built whole in one
 * pass of the loop from the counters the kernel keeps, so it never waits
 * on a slice; evhttp's limits and timeout keep a slow or malformed client
 * from holding more than its own connection.
 */
#include "metrics.h"
#include "metrics_text.h"
#include "slice.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct metrics {
	struct evhttp *http;
	struct acre_cgroup *subtree; /* the slices together; its stat files stay open */
	/* What removed slices counted, so that the node's totals never go back. */
	struct metrics_gone gone;
	struct slice_observer observer;
};

static void on_slice_changed(void *ud, struct slice *s)
{
	struct metrics *m = ud;
	if (s->rec.state == ACRE_SLICE_DESTROYED)
		metrics_gone_add(&m->gone, s->has_final_net ? &s->final_net : NULL,
				 s->has_final_runq ? &s->final_runq : NULL);
}

/* HOST and PORT of ADDR:PORT, the brackets of [V6]:PORT taken off. */
static int split_listen(const char *listen, char host[256], uint16_t *port, struct acre_error *err)
{
	const char *colon = strrchr(listen, ':');
	char *end;
	long p = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || colon == listen || (size_t)(colon - listen) >= 256 || *end ||
	    colon[1] == '\0' || p <= 0 || p > 65535)
		return acre_error_set(err, EINVAL, "--metrics-listen",
				      "--metrics-listen %s: expected ADDR:PORT (a port 1 to 65535)",
				      listen);
	snprintf(host, 256, "%.*s", (int)(colon - listen), listen);
	size_t n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	*port = (uint16_t)p;
	return 0;
}

int metrics_listen_check(const char *listen, struct acre_error *err)
{
	char host[256];
	uint16_t port;
	return split_listen(listen, host, &port, err);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	if (b)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, b);
	if (b)
		evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct supervisor *sv = arg;
	struct metrics *m = sv->metrics;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (!path || strcmp(path, "/metrics") != 0) {
		reply_text(req, 404, "Not Found", "not found: only /metrics is served here");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed", "/metrics: only GET");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	char node[256];
	metrics_node_write(sv, m->subtree, metrics_node_name(sv, node), b);
	metrics_slices_write(sv, &m->gone, node, b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

int metrics_init(struct supervisor *sv, struct acre_error *err)
{
	const char *listen = sv->opt.metrics_listen;
	char host[256];
	uint16_t port;
	if (!listen)
		return 0;
	int rc = split_listen(listen, host, &port, err);
	if (rc < 0)
		return rc;
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m || !(m->http = evhttp_new(sv->base))) {
		free(m);
		return acre_error_set(err, ENOMEM, NULL, "creating the metrics server");
	}
	sv->metrics = m;
	m->observer = (struct slice_observer){.changed = on_slice_changed, .ud = m};
	slice_observer_add(sv, &m->observer);
	struct acre_error ignored = {0};
	if (acre_cgroup_open_subtree(sv->cgroups, &m->subtree, &ignored) < 0)
		m->subtree = NULL; /* out of memory: the node's families go without it */
	/* A scrape is a GET without a body: anything larger is not one. */
	evhttp_set_max_body_size(m->http, 4096);
	evhttp_set_max_headers_size(m->http, 16 * 1024);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_timeout(m->http, 30);
	evhttp_set_gencb(m->http, on_request, sv);
	errno = 0;
	if (!evhttp_bind_socket_with_handle(m->http, host, port)) {
		int e = errno ? errno : EADDRINUSE;
		return acre_error_set(err, e, "--metrics-listen", "--metrics-listen %s: %s", listen,
				      strerror(e));
	}
	acre_log(ACRE_LOG_INFO, "event=metrics_listening listen=%s", listen);
	return 0;
}

void metrics_free(struct supervisor *sv)
{
	struct metrics *m = sv->metrics;
	if (!m)
		return;
	slice_observer_remove(sv, &m->observer);
	evhttp_free(m->http);
	acre_cgroup_free(m->subtree);
	free(m);
	sv->metrics = NULL;
}
