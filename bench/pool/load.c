/*
 * The API load: POST /v1/slices with batches of slices (the API takes
 * {"slices": [...]}), one batch in flight per connection over several
 * connections, each answered once the controller has placed and committed
 * the whole batch.  Each slice carries its batch's send time in a label,
 * for the simulators to measure the time to acknowledged launch.
 */
#include "bench.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct loader;

struct lconn {
	struct loader *l;
	struct evhttp_connection *evcon;
};

struct loader {
	const struct bench_options *o;
	struct event_base *base;
	struct lconn *conns;
	int next_slice, answered_batches, total_batches, inflight;
	struct load_result *r;
	char auth[512];
	bool failed;
};

static void send_batch(struct lconn *c);

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct lconn *c = arg;
	struct loader *l = c->l;
	l->inflight--;
	l->answered_batches++;
	l->r->requests++;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code != 200) {
		fprintf(stderr, "load: POST /v1/slices answered %d\n", code);
		l->failed = true;
		event_base_loopexit(l->base, NULL);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	json_t *j =
		json_loadb((const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in), 0, NULL);
	l->r->created += (uint64_t)json_integer_value(json_object_get(j, "created"));
	json_int_t failed = json_integer_value(json_object_get(j, "failed"));
	if (failed && !l->r->failed) {
		json_t *first = json_array_get(json_object_get(j, "slices"), 0);
		fprintf(stderr, "load: %lld slices refused, e.g. %s\n", (long long)failed,
			json_string_value(
				json_object_get(json_object_get(first, "error"), "message")));
	}
	l->r->failed += (uint64_t)failed;
	json_decref(j);
	if (l->next_slice < l->o->slices) {
		send_batch(c);
	} else if (l->inflight == 0) {
		l->r->end_ns = acre_monotonic_ns();
		event_base_loopexit(l->base, NULL);
	}
}

static void send_batch(struct lconn *c)
{
	struct loader *l = c->l;
	const struct bench_options *o = l->o;
	struct evhttp_request *req = evhttp_request_new(on_reply, c);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	unsigned long long t0 = acre_monotonic_ns();
	int n = o->slices - l->next_slice < o->batch ? o->slices - l->next_slice : o->batch;
	evbuffer_add(body, "{\"slices\":[", 11);
	for (int i = 0; i < n; i++) {
		int id = l->next_slice++;
		evbuffer_add_printf(body,
				    "%s{\"spec\":{\"name\":\"b-%07d\",\"command\":[\"sleep\","
				    "\"3600\"],\"resources\":{\"cpus\":0.1,\"memory\":\"64M\"},"
				    "\"labels\":{\"t0\":\"%llu\"}}}",
				    i ? "," : "", id, t0);
	}
	evbuffer_add(body, "]}", 2);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", o->api_host);
	evhttp_add_header(h, "Authorization", l->auth);
	evhttp_add_header(h, "Content-Type", "application/json");
	l->inflight++;
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, "/v1/slices") < 0) {
		fprintf(stderr, "load: sending a request failed\n");
		l->failed = true;
		event_base_loopexit(l->base, NULL);
	}
}

int load_run(const struct bench_options *o, struct load_result *r)
{
	struct loader l = {.o = o, .r = r};
	snprintf(l.auth, sizeof(l.auth), "Bearer %s", o->api_token);
	l.base = event_base_new();
	l.conns = calloc((size_t)o->conns, sizeof(*l.conns));
	if (!l.base || !l.conns)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < o->conns; i++) {
		l.conns[i].l = &l;
		l.conns[i].evcon = evhttp_connection_base_new(l.base, NULL, o->api_host,
							      (ev_uint16_t)o->api_port);
		if (!l.conns[i].evcon)
			return -ENOMEM;
		evhttp_connection_set_timeout(l.conns[i].evcon, 600);
	}
	r->start_ns = acre_monotonic_ns();
	for (int i = 0; i < o->conns && l.next_slice < o->slices; i++)
		send_batch(&l.conns[i]);
	event_base_dispatch(l.base);
	for (int i = 0; i < o->conns; i++)
		evhttp_connection_free(l.conns[i].evcon);
	free(l.conns);
	event_base_free(l.base);
	return l.failed ? -EIO : 0;
}
