/*
 * The node simulator: many supervisors in one process, each a real TCP
 * connection speaking the real protocol — register with a node id, secret,
 * capacity and attributes; sync; heartbeat at the interval the controller
 * asks; answer assign (and kill, remove) and report every slice as
 * starting, then running, in sequenced updates; take the controller's
 * acknowledgements.  Nothing is launched: the slices are bookkeeping, which
 * is the point — the controller is what is measured.
 *
 * The time from request to acknowledged launch is measured here: the load
 * generator puts its send time (CLOCK_MONOTONIC, shared by all processes)
 * in each slice's labels, and the simulator takes the difference when the
 * controller acknowledges the update that reports the slice running.
 */
#include "bench.h"
#include "proto/proto.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

/* Connections being set up at once: the listen backlog stays short. */
#define CONNECTING_MAX 256

struct waiting {
	int64_t seq;
	uint64_t t0;
};

struct simnode {
	struct sim *sim;
	struct bufferevent *bev;
	int index;
	char id[32], secret[65];
	int64_t next_id, next_seq, register_id, sync_id;
	bool registered, synced, dirty;
	struct evbuffer *pending; /* update entries of this pass, comma-separated */
	size_t npending;
	struct waiting *wait; /* running-updates awaiting their acknowledgement */
	size_t whead, wlen, wcap;
	struct event *heartbeat;
	uint64_t heartbeat_ms;
	size_t slices;
	struct simnode *dirty_next;
};

struct sim {
	const struct bench_options *o;
	int k;
	struct event_base *base;
	struct sockaddr_storage addr;
	int addrlen;
	struct simnode *nodes;
	int count, next_connect, connecting, synced;
	struct simnode *dirty;
	struct event *flush_ev, *progress, *dump;
	uint32_t *lat;
	size_t nlat, caplat;
	SSL_CTX *ssl; /* NULL: plain TCP */
	char host[64];
	int report_fd;
	bool reported;
};

static void connect_more(struct sim *s);

static void report(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct sim *s, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(s->report_fd, line, (size_t)n) < 0)
		_exit(3);
}

static void send_line(struct simnode *n, const char *line, size_t len)
{
	bufferevent_write(n->bev, line, len);
}

static void mark_dirty(struct simnode *n)
{
	if (n->dirty)
		return;
	n->dirty = true;
	n->dirty_next = n->sim->dirty;
	n->sim->dirty = n;
	event_active(n->sim->flush_ev, EV_TIMEOUT, 0);
}

static void add_update(struct simnode *n, const char *name, const char *state)
{
	evbuffer_add_printf(n->pending,
			    "%s{\"seq\":%lld,\"slice\":\"%s\",\"state\":\"%s\",\"reason\":\"\","
			    "\"restarts\":0}",
			    n->npending ? "," : "", (long long)++n->next_seq, name, state);
	n->npending++;
	mark_dirty(n);
}

static void wait_ack(struct simnode *n, uint64_t t0)
{
	if (n->wlen == n->wcap) {
		size_t cap = n->wcap ? n->wcap * 2 : 64;
		struct waiting *w = malloc(cap * sizeof(*w));
		if (!w)
			abort();
		for (size_t i = 0; i < n->wlen; i++)
			w[i] = n->wait[(n->whead + i) % n->wcap];
		free(n->wait);
		n->wait = w;
		n->wcap = cap;
		n->whead = 0;
	}
	n->wait[(n->whead + n->wlen++) % n->wcap] = (struct waiting){n->next_seq, t0};
}

static void record_latency(struct sim *s, uint64_t us)
{
	if (s->nlat == s->caplat) {
		size_t cap = s->caplat ? s->caplat * 2 : 65536;
		uint32_t *l = realloc(s->lat, cap * sizeof(*l));
		if (!l)
			abort();
		s->lat = l;
		s->caplat = cap;
	}
	s->lat[s->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void on_acked(struct simnode *n, int64_t acked)
{
	uint64_t now = acre_monotonic_ns();
	while (n->wlen && n->wait[n->whead].seq <= acked) {
		record_latency(n->sim, (now - n->wait[n->whead].t0) / 1000);
		n->whead = (n->whead + 1) % n->wcap;
		n->wlen--;
	}
}

static void on_assign(struct simnode *n, json_t *msg, json_int_t id)
{
	char reply[256];
	size_t i, count = 0;
	json_t *item;
	json_array_foreach (json_object_get(msg, "slices"), i, item) {
		const char *name = json_string_value(json_object_get(item, "slice"));
		json_t *labels = json_object_get(json_object_get(item, "spec"), "labels");
		const char *t0 = json_string_value(json_object_get(labels, "t0"));
		if (!name)
			continue;
		count++;
		n->slices++;
		add_update(n, name, "starting");
		add_update(n, name, "running");
		if (t0)
			wait_ack(n, strtoull(t0, NULL, 10));
	}
	int len =
		snprintf(reply, sizeof(reply),
			 "{\"id\":%lld,\"ok\":true,\"result\":{\"assigned\":%zu,\"failed\":[]}}\n",
			 (long long)id, count);
	send_line(n, reply, (size_t)len);
}

/* kill and remove: done at once, as a node with nothing to stop would. */
static void on_other(struct simnode *n, const char *op, json_t *msg, json_int_t id)
{
	const char *name = json_string_value(json_object_get(msg, "slice"));
	char reply[128];
	int len = snprintf(reply, sizeof(reply), "{\"id\":%lld,\"ok\":true,\"result\":{}}\n",
			   (long long)id);
	send_line(n, reply, (size_t)len);
	if (name && !strcmp(op, "kill"))
		add_update(n, name, "killed");
	else if (name && !strcmp(op, "remove"))
		add_update(n, name, "destroyed");
}

static void send_sync(struct simnode *n)
{
	char line[256];
	n->sync_id = ++n->next_id;
	int len = snprintf(line, sizeof(line),
			   "{\"op\":\"sync\",\"id\":%lld,\"seq\":%lld,\"slices\":[],\"local\":{"
			   "\"cpus\":0,\"memory\":0}}\n",
			   (long long)n->sync_id, (long long)n->next_seq);
	send_line(n, line, (size_t)len);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct simnode *n = arg;
	char line[256];
	int len = snprintf(line, sizeof(line),
			   "{\"op\":\"heartbeat\",\"id\":%lld,\"usage\":{\"slices\":%zu},"
			   "\"local\":{\"cpus\":0,\"memory\":0}}\n",
			   (long long)++n->next_id, n->slices);
	send_line(n, line, (size_t)len);
}

static void on_reply(struct simnode *n, json_t *msg, json_int_t id)
{
	struct sim *s = n->sim;
	json_t *result = json_object_get(msg, "result");
	if (!json_is_true(json_object_get(msg, "ok"))) {
		fprintf(stderr, "sim: node %s: error: %s\n", n->id,
			json_string_value(
				json_object_get(json_object_get(msg, "error"), "message")));
		return;
	}
	if (id == n->register_id && !n->registered) {
		n->registered = true;
		json_t *hb = json_object_get(result, "heartbeat_ms");
		n->heartbeat_ms = json_is_integer(hb) ? (uint64_t)json_integer_value(hb) : 1000;
		send_sync(n);
		return;
	}
	if (id == n->sync_id && !n->synced) {
		n->synced = true;
		s->connecting--;
		s->synced++;
		/* Heartbeats spread over the interval, not all nodes at once. */
		struct timeval tv = {.tv_sec = (time_t)(n->heartbeat_ms / 1000),
				     .tv_usec = (suseconds_t)(n->heartbeat_ms % 1000) * 1000};
		n->heartbeat = event_new(s->base, -1, EV_PERSIST, on_heartbeat, n);
		event_add(n->heartbeat, &tv);
		if (s->synced == s->count && !s->reported) {
			s->reported = true;
			report(s, "R %llu\n", (unsigned long long)acre_monotonic_ns());
		}
		connect_more(s);
		return;
	}
	json_t *acked = json_object_get(result, "acked");
	if (json_is_integer(acked))
		on_acked(n, json_integer_value(acked));
}

static void on_line(struct simnode *n, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, 0, &jerr);
	if (!msg) {
		fprintf(stderr, "sim: node %s: bad message: %s\n", n->id, jerr.text);
		return;
	}
	json_int_t id = json_integer_value(json_object_get(msg, "id"));
	const char *op = json_string_value(json_object_get(msg, "op"));
	if (!op)
		on_reply(n, msg, id);
	else if (!strcmp(op, "assign"))
		on_assign(n, msg, id);
	else
		on_other(n, op, msg, id);
	json_decref(msg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct simnode *n = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t eol;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos < 0)
			return;
		char *line = (char *)evbuffer_pullup(in, p.pos + 1);
		on_line(n, line, (size_t)p.pos);
		evbuffer_drain(in, (size_t)p.pos + 1);
	}
}

static void send_register(struct simnode *n)
{
	const struct bench_options *o = n->sim->o;
	char line[1024];
	n->register_id = ++n->next_id;
	int len = snprintf(
		line, sizeof(line),
		"{\"op\":\"register\",\"id\":%lld,\"token\":\"%s\",\"protocol\":1,\"node\":{"
		"\"id\":\"%s\",\"secret\":\"%s\",\"hostname\":\"sim-%d\",\"capacity\":{\"cpus\":"
		"%g,\"memory\":%llu},\"attributes\":{\"zone\":\"z%d\",\"rack\":\"r%d\"},"
		"\"version\":\"bench\"}}\n",
		(long long)n->register_id, o->join_token, n->id, n->secret, n->index, o->node_cpus,
		(unsigned long long)o->node_memory, n->index % 4, n->index / 40);
	send_line(n, line, (size_t)len);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct simnode *n = arg;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		send_register(n);
		return;
	}
	unsigned long e = bufferevent_get_openssl_error(bev);
	char tls[256] = "";
	if (e)
		ERR_error_string_n(e, tls, sizeof(tls));
	fprintf(stderr, "sim: node %s: connection %s\n", n->id,
		e		       ? tls
		: what & BEV_EVENT_EOF ? "closed"
				       : strerror(EVUTIL_SOCKET_ERROR()));
	_exit(4); /* a benchmark with a node gone is no benchmark */
}

static void connect_more(struct sim *s)
{
	while (s->next_connect < s->count && s->connecting < CONNECTING_MAX) {
		struct simnode *n = &s->nodes[s->next_connect++];
		if (s->ssl) {
			/* As a supervisor does: the controller's certificate checked, for its
			 * address. */
			SSL *ssl = SSL_new(s->ssl);
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), s->host);
			n->bev = bufferevent_openssl_socket_new(s->base, -1, ssl,
								BUFFEREVENT_SSL_CONNECTING,
								BEV_OPT_CLOSE_ON_FREE);
		} else {
			n->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
		}
		n->pending = evbuffer_new();
		if (!n->bev || !n->pending)
			abort();
		bufferevent_setcb(n->bev, on_read, NULL, on_event, n);
		bufferevent_enable(n->bev, EV_READ | EV_WRITE);
		s->connecting++;
		if (bufferevent_socket_connect(n->bev, (struct sockaddr *)&s->addr, s->addrlen) <
		    0) {
			fprintf(stderr, "sim: connect: %s\n", strerror(errno));
			_exit(4);
		}
	}
}

/* Once per pass: each node's updates of the pass in one message. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim *s = arg;
	while (s->dirty) {
		struct simnode *n = s->dirty;
		s->dirty = n->dirty_next;
		n->dirty = false;
		char head[96];
		int len =
			snprintf(head, sizeof(head), "{\"op\":\"update\",\"id\":%lld,\"updates\":[",
				 (long long)++n->next_id);
		struct evbuffer *out = bufferevent_get_output(n->bev);
		evbuffer_add(out, head, (size_t)len);
		evbuffer_add_buffer(out, n->pending);
		evbuffer_add(out, "]}\n", 3);
		n->npending = 0;
	}
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim *s = arg;
	report(s, "P %zu\n", s->nlat);
}

static void on_dump(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim *s = arg;
	char path[4096];
	snprintf(path, sizeof(path), "%s/lat.%d", s->o->work_dir, s->k);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0, total = s->nlat * sizeof(uint32_t);
	while (out >= 0 && off < total) {
		ssize_t w = write(out, (char *)s->lat + off, total - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (out >= 0)
		close(out);
	if (off != total)
		_exit(5);
	report(s, "D %zu\n", s->nlat); /* and it goes on: the pool stays for what follows */
}

int sim_run(const struct bench_options *o, int k, int first, int count, int report_fd)
{
	struct sim s = {.o = o, .k = k, .count = count, .report_fd = report_fd};
	s.addrlen = sizeof(s.addr);
	if (evutil_parse_sockaddr_port(o->node_addr, (struct sockaddr *)&s.addr, &s.addrlen) < 0)
		return -EINVAL;
	s.base = event_base_new();
	s.nodes = calloc((size_t)count, sizeof(*s.nodes));
	if (o->tls_ca) {
		const char *colon = strrchr(o->node_addr, ':');
		snprintf(s.host, sizeof(s.host), "%.*s", (int)(colon - o->node_addr), o->node_addr);
		const struct acre_proto_tls_files tls = {.ca = o->tls_ca};
		struct acre_error err = {0};
		void *ctx;
		int rc = acre_proto_tls_client_ctx(&tls, &ctx, &err);
		if (rc < 0) {
			fprintf(stderr, "sim: %s\n", err.message);
			return rc;
		}
		s.ssl = ctx;
	}
	if (!s.base || !s.nodes)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		struct simnode *n = &s.nodes[i];
		n->sim = &s;
		n->index = first + i;
		snprintf(n->id, sizeof(n->id), "sim-%05d", n->index);
		/* Fixed per node: a rerun against the same data directory is the same node. */
		snprintf(n->secret, sizeof(n->secret), "%064x", (unsigned)(n->index * 2654435761u));
	}
	s.flush_ev = event_new(s.base, -1, 0, on_flush, &s);
	s.progress = event_new(s.base, -1, EV_PERSIST, on_progress, &s);
	s.dump = evsignal_new(s.base, SIGUSR1, on_dump, &s);
	struct timeval tv = {0, 100 * 1000};
	event_add(s.progress, &tv);
	event_add(s.dump, NULL);
	connect_more(&s);
	event_base_dispatch(s.base);
	return 0;
}
