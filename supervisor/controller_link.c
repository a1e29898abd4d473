/*
 * The supervisor's connection to the controller: libevent bufferevents
 * over OpenSSL (the controller's certificate checked against --tls-ca, ours
 * presented with --tls-cert/--tls-key), or plain TCP to a loopback address
 * with --insecure.  On connecting: register, resend the outbox, then sync
 * (the list of our slices, reconciled by the controller); from then on
 * heartbeats and updates.  Any failure — refused, silent, closed — ends
 * the connection and the next attempt follows after a back-off that
 * doubles up to 30 s, with jitter so that a thousand nodes do not return
 * in step.
 */
#include "controller_link.h"
#include "pool_net.h"
#include "slice_ops.h"
#include "volume.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <sys/random.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* Updates per message: well under the 1 MiB line. */
#define UPDATES_PER_MESSAGE 1000

static void schedule_reconnect(struct controller_link *l);
static void send_register(struct controller_link *l);

void link_send(struct controller_link *l, const json_t *msg)
{
	if (!l->bev || l->state == LINK_CONNECTING)
		return;
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	if (line)
		bufferevent_write(l->bev, line, len);
}

static void drop(struct controller_link *l, const char *why)
{
	if (l->bev) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (l->state != LINK_IDLE)
		acre_log(l->state == LINK_READY ? ACRE_LOG_WARN : ACRE_LOG_INFO,
			 "event=controller_disconnected controller=%s:%s reason=\"%s\"", l->host,
			 l->port, why);
	l->state = LINK_IDLE;
	l->discarding = false;
	link_logs_drop_all(l);
	outbox_unsend_all(l);
	schedule_reconnect(l);
}

static uint64_t jitter(uint64_t ms)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)acre_monotonic_ns();
	return ms * 3 / 4 + r % (ms / 2 + 1); /* 75% to 125% */
}

static void arm_timer(struct controller_link *l, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(l->timer, &tv);
}

static void schedule_reconnect(struct controller_link *l)
{
	if (l->sv->stopping)
		return;
	arm_timer(l, jitter(l->backoff_ms));
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

/* The outbox: updates not yet sent on this connection, in order, in bounded messages. */
static void send_outbox(struct controller_link *l)
{
	json_t *list = NULL;
	int64_t last = 0;
	struct outbox_entry *v = l->ob.entries.v;
	size_t n = l->ob.entries.n;
	for (size_t i = 0; i <= n; i++) {
		if (list && (i == n || json_array_size(list) == UPDATES_PER_MESSAGE)) {
			int64_t id = ++l->next_id;
			l->inflight[l->inflight_next % 64].id = id;
			l->inflight[l->inflight_next++ % 64].seq = last;
			_cleanup_json_ json_t *msg =
				json_pack("{s:s,s:I,s:o}", "op", ACRE_OP_UPDATE, "id",
					  (json_int_t)id, "updates", list);
			link_send(l, msg);
			list = NULL;
		}
		if (i == n)
			break;
		if (v[i].sent)
			continue;
		if (!list)
			list = json_array();
		json_array_append(list, v[i].update);
		v[i].sent = true;
		last = v[i].seq;
	}
}

static void send_sync(struct controller_link *l)
{
	uint32_t cpus;
	uint64_t mem;
	json_t *slices = link_snapshot(l->sv, &cpus, &mem);
	l->sync_id = ++l->next_id;
	_cleanup_json_ json_t *msg =
		json_pack("{s:s,s:I,s:I,s:o,s:{s:f,s:I}}", "op", ACRE_OP_SYNC, "id",
			  (json_int_t)l->sync_id, "seq", (json_int_t)(l->ob.next_seq - 1), "slices",
			  slices, "local", "cpus", cpus / 1000.0, "memory", (json_int_t)mem);
	link_send(l, msg);
	l->state = LINK_SYNCING;
}

static void send_heartbeat(struct controller_link *l)
{
	uint32_t cpus;
	uint64_t mem;
	size_t managed;
	link_local_usage(l->sv, &cpus, &mem, &managed);
	double load[1] = {0};
	getloadavg(load, 1);
	_cleanup_json_ json_t *msg = json_pack(
		"{s:s,s:I,s:{s:I,s:I,s:f},s:{s:f,s:I}}", "op", ACRE_OP_HEARTBEAT, "id",
		(json_int_t)++l->next_id, "usage", "slices",
		(json_int_t)acre_map_size(l->sv->slices), "managed", (json_int_t)managed, "load1",
		load[0], "local", "cpus", cpus / 1000.0, "memory", (json_int_t)mem);
	/* Room for volumes, which the pool weighs before it gives an instance one here. */
	uint64_t disk_total, disk_free;
	if (msg && volumes_disk(l->sv, &disk_total, &disk_free) == 0)
		json_object_set_new(json_object_get(msg, "usage"), "disk_free",
				    json_integer((json_int_t)disk_free));
	link_send(l, msg);
}

static void on_registered(struct controller_link *l, json_t *result)
{
	/* The version the controller chose: one of ours, or it is not a controller we know. */
	json_t *proto = json_object_get(result, "protocol");
	json_int_t chosen = json_is_integer(proto) ? json_integer_value(proto) : 1;
	if (chosen < ACRE_PROTOCOL_MIN || chosen > ACRE_PROTOCOL_MAX) {
		char why[128];
		snprintf(why, sizeof(why),
			 "the controller chose protocol %lld; this node speaks %d to %d",
			 (long long)chosen, ACRE_PROTOCOL_MIN, ACRE_PROTOCOL_MAX);
		acre_log(ACRE_LOG_ERROR, "event=controller_error controller=%s:%s error=\"%s\"",
			 l->host, l->port, why);
		l->backoff_ms = BACKOFF_MAX_MS;
		drop(l, why);
		return;
	}
	l->protocol = (int)chosen;
	json_t *acked = json_object_get(result, "acked");
	json_t *hb = json_object_get(result, "heartbeat_ms");
	if (json_is_integer(hb) && json_integer_value(hb) >= 100)
		l->heartbeat_ms = (uint64_t)json_integer_value(hb);
	/* A controller that says no grace (an older one) asks for no stops. */
	json_t *grace = json_object_get(result, "disconnect_grace_ms");
	partition_set_grace(l, json_is_integer(grace) && json_integer_value(grace) > 0
				       ? (uint64_t)json_integer_value(grace)
				       : 0);
	if (json_is_integer(acked))
		outbox_ack(l, json_integer_value(acked));
	pool_net_registered(l->sv, json_object_get(result, "network"));
	acre_log(ACRE_LOG_INFO,
		 "event=controller_registered controller=%s:%s node=%s protocol=%d resend=%zu",
		 l->host, l->port, l->node_id, l->protocol, l->ob.entries.n);
	/* Resent updates first, then the list: the list is the present, applied last. */
	send_outbox(l);
	send_sync(l);
	arm_timer(l, l->heartbeat_ms);
}

static void on_reply(struct controller_link *l, json_t *msg)
{
	json_t *jid = json_object_get(msg, "id");
	json_int_t id = json_is_integer(jid) ? json_integer_value(jid) : -1;
	bool ok = json_is_true(json_object_get(msg, "ok"));
	json_t *result = json_object_get(msg, "result");
	if (link_logs_reply(l, id, msg))
		return;
	if (!ok) {
		struct acre_error err = {0};
		acre_proto_error_from_json(msg, &err);
		acre_log(ACRE_LOG_ERROR, "event=controller_error controller=%s:%s error=\"%s\"",
			 l->host, l->port, err.message);
		if (id == l->register_id || id == l->sync_id) {
			/* Refused (a token, an identity): retrying soon would not help. */
			l->backoff_ms = BACKOFF_MAX_MS;
			drop(l, err.message);
		}
		/* Rejected updates were malformed: resent, they would be rejected forever. */
		for (unsigned k = 0; k < 64; k++) {
			if (l->inflight[k].id == id && id > 0) {
				acre_log(ACRE_LOG_ERROR, "event=updates_dropped up_to_seq=%lld",
					 (long long)l->inflight[k].seq);
				outbox_ack(l, l->inflight[k].seq);
			}
		}
		return;
	}
	json_t *acked = json_object_get(result, "acked");
	if (id == l->register_id && l->state == LINK_REGISTERING) {
		on_registered(l, result);
	} else if (id == l->sync_id && l->state == LINK_SYNCING) {
		l->state = LINK_READY;
		l->backoff_ms = BACKOFF_MIN_MS;
		acre_log(ACRE_LOG_INFO, "event=controller_synced controller=%s:%s", l->host,
			 l->port);
		send_outbox(l); /* what changed while syncing */
	} else if (json_is_integer(acked)) {
		outbox_ack(l, json_integer_value(acked));
	}
}

static void handle_line(struct controller_link *l, const char *line, size_t len)
{
	struct acre_error err = {0};
	_cleanup_(acre_proto_msg_free) struct acre_proto_msg m = {0};
	int rc = acre_proto_parse(line, len, ACRE_PROTO_REQUEST | ACRE_PROTO_REPLY, &m, &err);
	if (!m.json || (rc < 0 && m.kind == ACRE_PROTO_REPLY)) {
		/* Logged, never answered: the controller would only answer back. */
		acre_log(ACRE_LOG_WARN, "event=controller_protocol_error error=\"%s\"",
			 err.message);
		return;
	}
	l->last_rx_ns = acre_monotonic_ns();
	if (m.kind == ACRE_PROTO_REPLY) {
		on_reply(l, m.json);
		if (l->state == LINK_READY || l->state == LINK_SYNCING)
			partition_heard(l); /* registered (maybe by this very reply) */
		return;
	}
	if (l->state == LINK_READY || l->state == LINK_SYNCING)
		partition_heard(l);
	if (rc < 0) {
		_cleanup_json_ json_t *reply = acre_proto_error(m.id, &err);
		link_send(l, reply);
		return;
	}
	if (l->state != LINK_READY && l->state != LINK_SYNCING)
		return; /* nothing is asked of a node before it registered */
	link_handle_request(l, m.op, m.json, m.id);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct controller_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (l->bev == bev) {
		char *line;
		size_t len;
		enum acre_proto_line r = acre_proto_line_next(in, &l->discarding, &line, &len);
		if (r == ACRE_PROTO_LINE_WAIT)
			return;
		if (r != ACRE_PROTO_LINE)
			continue; /* the controller's own lines are never too long: nothing to
				     answer */
		handle_line(l, line, len);
		if (l->bev != bev)
			return; /* dropped meanwhile: the buffer is gone */
		evbuffer_drain(in, len + 1);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct controller_link *l = arg;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		send_register(l);
		return;
	}
	char why[256] = "closed by the controller";
	if (what & BEV_EVENT_ERROR)
		acre_proto_wire_error(bev, why, sizeof(why));
	drop(l, why);
}

static void send_register(struct controller_link *l)
{
	struct supervisor *sv = l->sv;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	json_t *attrs = json_object();
	for (char **a = sv->opt.link.attrs; a && *a; a++) {
		const char *eq = strchr(*a, '=');
		_cleanup_free_ char *k = strndup(*a, (size_t)(eq - *a));
		json_object_set_new(attrs, k, json_string(eq + 1));
	}
	l->state = LINK_REGISTERING;
	l->register_id = ++l->next_id;
	l->last_rx_ns = acre_monotonic_ns();
	_cleanup_json_ json_t *msg = json_pack(
		"{s:s,s:I,s:s,s:i,s:i,s:{s:s,s:s,s:s,s:{s:i,s:I},s:o,s:s}}", "op", ACRE_OP_REGISTER,
		"id", (json_int_t)l->register_id, "token", sv->opt.link.join_token, "protocol",
		ACRE_PROTOCOL_MAX, "protocol_min", ACRE_PROTOCOL_MIN, "node", "id", l->node_id,
		"secret", l->secret, "hostname", host, "capacity", "cpus", (int)sv->ncpus, "memory",
		(json_int_t)sv->memory_total, "attributes", attrs, "version", ACRE_VERSION);
	json_t *node = json_object_get(msg, "node");
	/* Older controllers ignore it; a controller that gets none gives the default. */
	json_object_set_new(node, "port_range",
			    json_pack("[i,i]", (int)sv->opt.port_first, (int)sv->opt.port_last));
	uint64_t disk_total, disk_free;
	if (node && volumes_disk(sv, &disk_total, &disk_free) == 0) {
		json_object_set_new(json_object_get(node, "capacity"), "disk",
				    json_integer((json_int_t)disk_total));
		json_object_set_new(node, "disk_free", json_integer((json_int_t)disk_free));
	}
	pool_net_register(sv, l->node_id, bufferevent_getfd(l->bev), node);
	link_send(l, msg);
	arm_timer(l, 10000); /* an answer within 10 s, or another attempt */
}

static void connect_now(struct controller_link *l)
{
	struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM},
			       *res = NULL;
	int rc = evutil_getaddrinfo(l->host, l->port, &hints, &res);
	if (rc != 0) {
		acre_log(ACRE_LOG_WARN, "event=controller_unresolved controller=%s:%s error=\"%s\"",
			 l->host, l->port, evutil_gai_strerror(rc));
		schedule_reconnect(l);
		return;
	}
	if (l->ssl_ctx) {
		SSL *ssl = SSL_new(l->ssl_ctx);
		if (ssl && acre_proto_tls_expect_peer(ssl, l->host) == 0)
			l->bev = bufferevent_openssl_socket_new(l->sv->base, -1, ssl,
								BUFFEREVENT_SSL_CONNECTING,
								BEV_OPT_CLOSE_ON_FREE);
		if (!l->bev && ssl)
			SSL_free(ssl);
		if (l->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(l->bev, 1);
	} else {
		l->bev = bufferevent_socket_new(l->sv->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!l->bev) {
		evutil_freeaddrinfo(res);
		schedule_reconnect(l);
		return;
	}
	bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	l->state = LINK_CONNECTING;
	rc = bufferevent_socket_connect(l->bev, res->ai_addr, (int)res->ai_addrlen);
	evutil_freeaddrinfo(res);
	if (rc < 0) {
		drop(l, strerror(errno));
		return;
	}
	arm_timer(l, 10000); /* connected and past TLS within 10 s, or another attempt */
}

/* One timer: the next attempt while disconnected, the heartbeat while connected. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct controller_link *l = arg;
	if (l->state == LINK_IDLE) {
		connect_now(l);
		return;
	}
	if (l->state == LINK_CONNECTING || l->state == LINK_REGISTERING) {
		drop(l, l->state == LINK_CONNECTING ? "could not connect within 10 s"
						    : "no answer to the registration");
		return;
	}
	/* Heartbeats are answered: silence for three of them means the link is dead. */
	uint64_t silent = acre_monotonic_ns() - l->last_rx_ns;
	if (silent > (3 * l->heartbeat_ms + 2000) * 1000000ULL) {
		drop(l, "the controller stopped answering");
		return;
	}
	send_heartbeat(l);
	arm_timer(l, l->heartbeat_ms);
}

/* Once per loop pass: the outbox reaches the disk, then the controller. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct controller_link *l = arg;
	outbox_write(l, false);
	if (l->state == LINK_READY)
		send_outbox(l);
}

/* The observer of slice changes: each of a pool slice becomes an update in the outbox. */
static void on_slice_changed(void *ud, struct slice *s)
{
	struct controller_link *l = ud;
	if (!slice_ops_managed(s))
		return;
	json_t *u = link_slice_update(s);
	if (!u || outbox_push(l, u) < 0) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=update_lost error=\"out of memory\"",
			 s->rec.spec.name);
		return;
	}
	event_active(l->flush_ev, EV_TIMEOUT, 0);
}

/*
 * A health transition of a pool slice goes out at once, after the updates
 * made before it (so the controller sees them in the order they happened).
 * Not kept while the link is down: the sync after reconnecting carries the
 * present health of every slice.
 */
static void on_slice_health(void *ud, struct slice *s)
{
	struct controller_link *l = ud;
	if (!slice_ops_managed(s) || l->state != LINK_READY)
		return;
	outbox_write(l, false);
	send_outbox(l);
	json_t *msg = link_slice_health(s);
	if (!msg)
		return;
	json_object_set_new(msg, "op", json_string(ACRE_OP_HEALTH));
	json_object_set_new(msg, "id", json_integer(++l->next_id));
	link_send(l, msg);
	json_decref(msg);
}

static int split_address(struct controller_link *l, const char *addr, struct acre_error *err)
{
	const char *colon = strrchr(addr, ':');
	size_t hlen = colon ? (size_t)(colon - addr) : 0;
	if (!colon || hlen == 0 || hlen >= sizeof(l->host) || !colon[1] ||
	    strlen(colon + 1) >= sizeof(l->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return acre_error_set(err, EINVAL, "--controller",
				      "--controller %s: expected HOST:PORT", addr);
	const char *h = addr;
	if (addr[0] == '[' && colon[-1] == ']') {
		h++;
		hlen -= 2;
	}
	snprintf(l->host, sizeof(l->host), "%.*s", (int)hlen, h);
	snprintf(l->port, sizeof(l->port), "%s", colon + 1);
	return 0;
}

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return !strcmp(host, "localhost");
}

static int check_options(const struct controller_link_options *o, struct acre_error *err)
{
	if (!o->join_token || !*o->join_token)
		return acre_error_set(err, EINVAL, "--join-token",
				      "--controller needs --join-token (or --join-token-file)");
	if (!!o->tls_cert != !!o->tls_key)
		return acre_error_set(err, EINVAL, "--tls-cert",
				      "--tls-cert and --tls-key go together");
	for (char **a = o->attrs; a && *a; a++) {
		const char *eq = strchr(*a, '=');
		_cleanup_free_ char *k = eq ? strndup(*a, (size_t)(eq - *a)) : NULL;
		if (!k || !acre_proto_attr_key_valid(k) || !strncmp(k, "node.", 5) ||
		    !strncmp(k, "bin:", 4) || !acre_proto_attr_value_valid(eq + 1))
			return acre_error_set(
				err, EINVAL, "--attr",
				"--attr %s: expected KEY=VALUE, KEY of letters, "
				"digits, '.', '-', '_', '/', ':' (node.* and bin:* are "
				"the pool's)",
				*a);
	}
	return 0;
}

int controller_link_new(struct supervisor *sv, struct acre_error *err)
{
	const struct controller_link_options *o = &sv->opt.link;
	struct controller_link *l = calloc(1, sizeof(*l));
	if (!l)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	sv->link = l;
	l->sv = sv;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->heartbeat_ms = 1000;
	int rc = check_options(o, err);
	if (rc == 0)
		rc = split_address(l, o->controller, err);
	if (rc == 0 && o->insecure && !host_is_loopback(l->host))
		rc = acre_error_set(
			err, EACCES, "--insecure",
			"--insecure: plain TCP is only allowed to a loopback controller, "
			"not %s",
			l->host);
	if (rc == 0 && !o->insecure) {
		const struct acre_proto_tls_files tls = {o->tls_cert, o->tls_key, o->tls_ca};
		rc = acre_proto_tls_client_ctx(&tls, &l->ssl_ctx, err);
	}
	if (rc == 0)
		rc = outbox_identity(l, err);
	if (rc == 0)
		rc = outbox_load(l, err);
	if (rc < 0)
		return rc;
	l->timer = evtimer_new(sv->base, on_timer, l);
	l->flush_ev = event_new(sv->base, -1, 0, on_flush, l);
	if (!l->timer || !l->flush_ev)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if ((rc = partition_init(l, err)) < 0)
		return rc;
	l->observer = (struct slice_observer){.changed = on_slice_changed, .ud = l};
	slice_observer_add(sv, &l->observer);
	l->health_observer = (struct slice_observer){.changed = on_slice_health, .ud = l};
	slice_health_observer_add(sv, &l->health_observer);
	l->observing = true;
	return 0;
}

void controller_link_start(struct controller_link *l)
{
	if (!l)
		return;
	acre_log(ACRE_LOG_INFO, "event=controller_link controller=%s:%s node=%s tls=%s", l->host,
		 l->port, l->node_id, l->ssl_ctx ? "on" : "off");
	connect_now(l);
}

void controller_link_free(struct controller_link *l)
{
	if (!l)
		return;
	if (l->observing) {
		slice_observer_remove(l->sv, &l->observer);
		slice_health_observer_remove(l->sv, &l->health_observer);
	}
	link_logs_drop_all(l);
	if (l->bev)
		bufferevent_free(l->bev);
	outbox_write(l, true);
	outbox_free(l);
	if (l->timer)
		event_free(l->timer);
	if (l->flush_ev)
		event_free(l->flush_ev);
	partition_free(l);
	acre_proto_tls_ctx_free(l->ssl_ctx);
	free(l);
}
